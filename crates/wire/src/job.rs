//! Jobs, their schedules, runs and output, and the built-in tasks they run.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::review::double_option;

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Job {
    pub job_id: String,
    pub name: String,
    pub description: Option<String>,
    pub created_by: UserBasic,
    pub created: String,
    pub updated_by: Option<UserBasic>,
    pub updated: Option<String>,
    pub tasks: Vec<TaskBasic>,
    pub run_count: i64,
    pub last_run: Option<JobRun>,
    pub event: Option<JobEvent>,
}

/// `{userId, username}`; both null for system jobs.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct UserBasic {
    pub user_id: Option<String>,
    pub username: Option<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct TaskBasic {
    pub task_id: String,
    pub name: String,
    pub description: Option<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Task {
    pub task_id: String,
    pub name: String,
    pub description: Option<String>,
    pub command: String,
    pub collection_config: Option<String>,
    pub events: Vec<JobEvent>,
}

/// A schedule as read: `once` at `starts`, or `recurring` every `interval` from `starts`.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct JobEvent {
    pub event_id: String,
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub interval: Option<Interval>,
    pub starts: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ends: Option<Option<String>>,
    pub enabled: bool,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Interval {
    /// A string on the wire, as upstream reports it.
    pub value: String,
    pub field: String,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct JobRun {
    pub run_id: String,
    pub state: String,
    pub created: String,
    pub updated: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub job_id: Option<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct RunStarted {
    pub run_id: String,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct RunOutput {
    pub seq: i64,
    pub ts: String,
    pub task_id: Option<String>,
    pub task: Option<String>,
    #[serde(rename = "type")]
    pub kind: String,
    pub message: String,
}

/// A collection-scoped output line (`getCollectionTaskOutput`): unlike a run's output, `seq`
/// is the global sequence and the collection id is a number.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct CollectionTaskOutput {
    pub seq: i64,
    pub ts: String,
    pub task_id: String,
    pub task: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub message: String,
    pub collection_id: i64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct JobCreate {
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    pub tasks: Vec<String>,
    #[serde(default)]
    pub event: Option<EventCreate>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct JobUpdate {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    pub description: Option<Option<String>>,
    #[serde(default)]
    pub tasks: Option<Vec<String>>,
    /// Absent: unchanged; `null`: schedule removed.
    #[serde(default, deserialize_with = "double_option")]
    pub event: Option<Option<EventCreate>>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase", deny_unknown_fields)]
pub enum EventCreate {
    Once {
        starts: String,
        #[serde(default)]
        enabled: Option<bool>,
    },
    Recurring {
        interval: IntervalCreate,
        #[serde(default)]
        starts: Option<String>,
        #[serde(default)]
        ends: Option<String>,
        #[serde(default)]
        enabled: Option<bool>,
    },
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IntervalCreate {
    /// A positive number, sent as a number or a string.
    pub value: Value,
    pub field: String,
}

/// A review-aging rule of a collection as read back: the optional parts only when set.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ReviewAgingRule {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    pub trigger_field: String,
    pub trigger_interval: i64,
    pub trigger_action: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub update_field: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub update_value: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<ReviewAgingTarget>,
    pub enabled: bool,
}

/// What a review-aging rule applies to; every part narrows it.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ReviewAgingTarget {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub asset: Option<AgingAsset>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<AgingLabel>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub benchmark_id: Option<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct AgingAsset {
    #[serde(with = "crate::id_string")]
    pub asset_id: i64,
    pub name: String,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct AgingLabel {
    /// The label's uuid.
    pub label_id: String,
    pub name: String,
    pub color: String,
}

/// A review-aging target the collection does not hold, at its index in the request.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct InvalidAgingTarget {
    pub idx: usize,
    #[serde(with = "crate::opt_id_string")]
    pub asset_id: Option<i64>,
    pub label_id: Option<String>,
    pub benchmark_id: Option<String>,
    pub validity: &'static str,
}
