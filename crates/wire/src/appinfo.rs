//! `GET /op/appinfo` (and its deprecated alias `/op/details`) and `GET /op/appdata/tables`:
//! what is deployed and how much data it holds.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

#[derive(Debug, Clone, Serialize)]
pub struct AppInfo {
    pub date: String,
    pub schema: &'static str,
    pub version: String,
    pub collections: BTreeMap<String, AppInfoCollection>,
    pub requests: AppInfoRequests,
    pub users: AppInfoUsers,
    pub groups: BTreeMap<String, AppInfoGroup>,
    /// The database section keeps upstream's name; it describes SQLite or PostgreSQL here.
    pub mysql: AppInfoDatabase,
    /// Upstream reports its Node.js runtime here; Stigward reports its own build.
    pub nodejs: AppInfoRuntime,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AppInfoCollection {
    pub name: String,
    pub state: String,
    pub settings: Value,
    pub assets: i64,
    pub assets_disabled: i64,
    pub unique_stigs: i64,
    pub stig_assignments: i64,
    pub rules: i64,
    pub reviews: i64,
    pub reviews_disabled: i64,
    pub asset_stig_ranges: AssetStigRanges,
    pub grants: BTreeMap<String, AppInfoGrant>,
    pub role_counts: RoleCounts,
    pub label_counts: LabelCounts,
}

#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AssetStigRanges {
    pub range00: i64,
    pub range01to05: i64,
    pub range06to10: i64,
    pub range11to15: i64,
    pub range16plus: i64,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct RoleCounts {
    pub restricted: i64,
    pub full: i64,
    pub manage: i64,
    pub owner: i64,
}

#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LabelCounts {
    pub collection_labels: i64,
    pub labeled_assets: i64,
    pub asset_labels: i64,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AppInfoGrant {
    pub role: &'static str,
    pub grantee: Grantee,
    pub rule_counts: RuleCounts,
    /// STIGs and assets the grant reaches (through its ACL for a Restricted grant), on
    /// enabled and on deleted assets.
    pub unique_stigs: i64,
    pub unique_assets: i64,
    pub unique_stigs_disabled: i64,
    pub unique_assets_disabled: i64,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Grantee {
    pub user_id: Option<i64>,
    pub user_group_id: Option<i64>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct RuleCounts {
    pub r: i64,
    pub rw: i64,
    pub none: i64,
}

#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AppInfoRequests {
    pub total_requests: i64,
    pub total_api_requests: i64,
    pub total_request_duration: i64,
    pub operation_ids: BTreeMap<String, AppInfoOperation>,
}

/// One operation's request statistics; durations in milliseconds, lengths in bytes.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AppInfoOperation {
    pub total_requests: i64,
    pub total_duration: i64,
    pub elevated_requests: i64,
    pub min_duration: i64,
    pub max_duration: i64,
    /// How many times `max_duration` was raised.
    pub max_duration_updates: i64,
    /// Stigward does not retry requests; kept at zero for the shape's sake.
    pub retried: i64,
    pub average_retries: i64,
    pub total_res_length: i64,
    pub min_res_length: i64,
    pub max_res_length: i64,
    pub total_req_length: i64,
    pub min_req_length: i64,
    pub max_req_length: i64,
    /// By `projection` value.
    pub projections: BTreeMap<String, AppInfoProjection>,
    /// Requests by the token's client (`azp`).
    pub clients: BTreeMap<String, i64>,
    /// Requests by user id.
    pub users: BTreeMap<String, i64>,
    /// Responses by error status code.
    pub errors: BTreeMap<String, i64>,
}

#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AppInfoProjection {
    pub total_requests: i64,
    pub min_duration: i64,
    pub max_duration: i64,
    pub total_duration: i64,
    pub retried: i64,
    pub average_retries: i64,
    pub average_duration: i64,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AppInfoUsers {
    pub user_info: BTreeMap<String, AppInfoUser>,
    pub user_privilege_counts: BTreeMap<String, BTreeMap<String, i64>>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AppInfoUser {
    pub username: String,
    pub created: String,
    pub last_access: Option<i64>,
    pub privileges: Vec<String>,
    pub roles: RoleCounts,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AppInfoGroup {
    pub name: String,
    pub members: i64,
    pub created: String,
    pub modified_date: String,
    pub roles: RoleCounts,
}

#[derive(Debug, Clone, Serialize)]
pub struct AppInfoDatabase {
    pub version: String,
    pub tables: BTreeMap<String, AppInfoTable>,
    pub variables: BTreeMap<String, Value>,
    pub status: BTreeMap<String, Value>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AppInfoTable {
    pub table_rows: i64,
    pub table_collation: String,
    pub avg_row_length: Option<i64>,
    pub data_length: Option<i64>,
    pub index_length: Option<i64>,
    pub auto_increment: Option<i64>,
    pub create_time: Option<String>,
    pub update_time: Option<String>,
    /// Exact, and only with `includeRowCounts=true`.
    pub row_count: Option<i64>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AppInfoRuntime {
    pub version: String,
    pub runtime: &'static str,
}

/// One item of `GET /op/appdata/tables`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AppDataTable {
    pub name: String,
    pub rows: i64,
    pub data_length: i64,
}
