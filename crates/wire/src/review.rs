//! Reviews: per-asset write bodies and responses, and the read shape.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// A status in a write: a bare label or `{label, text}`.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(untagged)]
pub enum StatusWrite {
    Label(String),
    Object {
        label: String,
        #[serde(default)]
        text: Option<String>,
    },
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
}
