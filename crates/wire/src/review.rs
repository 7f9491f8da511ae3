//! Reviews: per-asset write bodies and responses, and the read shape.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// A status in a write: a bare label or `{label, text}`.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(untagged)]
pub enum StatusWrite {
    Label(String),
    Object(StatusObject),
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct StatusObject {
    pub label: String,
    #[serde(default)]
    pub text: Option<String>,
}

/// The contract's `ResultEngine`, for checking an incoming engine; the engine itself is kept
/// as the JSON it arrived as.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ResultEngineCheck {
    #[serde(rename = "type")]
    pub kind: EngineType,
    pub product: String,
    #[serde(default)]
    pub version: Option<String>,
    #[serde(default)]
    pub time: Option<String>,
    #[serde(default)]
    pub check_content: Option<EngineCheckContent>,
    #[serde(default)]
    pub overrides: Option<Vec<EngineOverride>>,
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq)]
#[serde(rename_all = "lowercase")]
pub enum EngineType {
    Scap,
    Script,
    Other,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct EngineCheckContent {
    pub location: String,
    #[serde(default)]
    pub component: Option<String>,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EngineOverride {
    pub authority: String,
    pub old_result: String,
    pub new_result: String,
    #[serde(default)]
    pub remark: Option<String>,
    #[serde(default)]
    pub time: Option<String>,
}

/// Distinguishes an absent field from an explicit `null`.
pub fn double_option<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReviewAssetPost {
    pub rule_id: String,
    #[serde(default)]
    pub result: Option<String>,
    #[serde(default)]
    pub detail: Option<String>,
    #[serde(default)]
    pub comment: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    pub result_engine: Option<Option<Value>>,
    #[serde(default)]
    pub auto_result: Option<bool>,
    #[serde(default)]
    pub metadata: Option<Map<String, Value>>,
    #[serde(default)]
    pub status: Option<StatusWrite>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct RejectedReview {
    pub rule_id: String,
    pub reason: String,
}

#[derive(Debug, Clone, Serialize, PartialEq, Default)]
pub struct Affected {
    pub updated: usize,
    pub inserted: usize,
}

#[derive(Debug, Clone, Serialize, PartialEq, Default)]
pub struct ReviewPostResponse {
    pub rejected: Vec<RejectedReview>,
    pub affected: Affected,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct UserRef {
    #[serde(with = "crate::opt_id_string")]
    pub user_id: Option<i64>,
    pub username: Option<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct StatusRead {
    pub label: String,
    pub text: Option<String>,
    pub user: UserRef,
    pub ts: String,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Review {
    #[serde(with = "crate::id_string")]
    pub asset_id: i64,
    pub asset_name: String,
    pub asset_label_ids: Vec<String>,
    pub asset_labels: Vec<crate::asset::LabelRef>,
    pub rule_id: String,
    pub rule_ids: Vec<String>,
    pub result: String,
    pub result_engine: Option<Value>,
    pub detail: String,
    pub comment: String,
    pub auto_result: bool,
    pub status: StatusRead,
    #[serde(with = "crate::opt_id_string")]
    pub user_id: Option<i64>,
    pub username: Option<String>,
    pub ts: String,
    pub touch_ts: String,
    pub access: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<ReviewRule>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stigs: Option<Vec<ReviewStig>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub history: Option<Vec<HistoryEntry>>,
}

/// The `rule` projection of a review.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ReviewRule {
    pub rule_id: String,
    pub title: String,
    pub version: String,
    pub severity: String,
}

/// A revision a review shows up in, for the `stigs` projection.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ReviewStig {
    pub benchmark_id: String,
    pub revision_str: String,
    pub benchmark_date: Option<String>,
    pub revision_pinned: bool,
    pub is_default: bool,
    pub rule_count: i64,
}

/// A review as it was before one update.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct HistoryEntry {
    pub ts: String,
    pub rule_id: String,
    pub result: String,
    /// Absent in the collection history listing, present (maybe null) on a review.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result_engine: Option<Option<Value>>,
    pub detail: String,
    pub comment: String,
    pub auto_result: bool,
    #[serde(with = "crate::opt_id_string")]
    pub user_id: Option<i64>,
    pub username: Option<String>,
    pub status: StatusRead,
    pub touch_ts: String,
}

/// The body of PUT and PATCH on one review, and a batch's source review. Fields distinguish
/// absent from `null` so each operation can apply its own schema.
#[derive(Debug, Clone, Deserialize, PartialEq, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReviewBody {
    #[serde(default, deserialize_with = "double_option")]
    pub result: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    pub detail: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    pub comment: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    pub result_engine: Option<Option<Value>>,
    #[serde(default)]
    pub auto_result: Option<bool>,
    #[serde(default)]
    pub metadata: Option<Map<String, Value>>,
    #[serde(default)]
    pub status: Option<StatusWrite>,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct BatchSource {
    pub review: ReviewBody,
}

/// `assets` or `rules` of a batch: exactly one of the lists.
#[derive(Debug, Clone, Deserialize, PartialEq, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BatchCriteria {
    #[serde(default)]
    pub asset_ids: Option<Vec<String>>,
    #[serde(default)]
    pub benchmark_ids: Option<Vec<String>>,
    #[serde(default)]
    pub rule_ids: Option<Vec<String>>,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct BatchFilter {
    pub field: String,
    #[serde(default)]
    pub condition: Option<String>,
    pub value: Value,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReviewBatch {
    pub source: BatchSource,
    pub assets: BatchCriteria,
    pub rules: BatchCriteria,
    #[serde(default)]
    pub action: Option<String>,
    #[serde(default)]
    pub update_filters: Option<Vec<BatchFilter>>,
    #[serde(default)]
    pub dry_run: Option<bool>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct BatchValidationError {
    #[serde(with = "crate::id_string")]
    pub asset_id: i64,
    pub rule_id: String,
    pub error: String,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ReviewBatchResponse {
    pub inserted: usize,
    pub updated: usize,
    pub failed_validation: usize,
    pub validation_errors: Vec<BatchValidationError>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ReviewBatchDryRun {
    pub will_insert: usize,
    pub will_update: usize,
    pub will_fail_validation: usize,
    pub validation_errors: Vec<BatchValidationError>,
}

/// One asset's history in `GET /collections/{id}/review-history`.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct AssetHistory {
    #[serde(with = "crate::id_string")]
    pub asset_id: i64,
    pub review_histories: Vec<RuleHistory>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct RuleHistory {
    pub rule_id: String,
    pub history: Vec<HistoryEntry>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct HistoryStats {
    pub collection_history_entry_count: i64,
    pub oldest_history_entry_date: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub asset_history_entry_counts: Option<Vec<AssetHistoryStats>>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct AssetHistoryStats {
    #[serde(with = "crate::id_string")]
    pub asset_id: i64,
    pub history_entry_count: i64,
    pub oldest_history_entry: Option<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct HistoryDeleted {
    #[serde(rename = "HistoryEntriesDeleted")]
    pub history_entries_deleted: u64,
}
