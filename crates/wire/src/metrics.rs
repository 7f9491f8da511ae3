//! Metrics: the summary object and its per-asset aggregation.

use serde::Serialize;

use crate::asset::LabelRef;

#[derive(Debug, Clone, Copy, Serialize, PartialEq, Default)]
pub struct BySeverity {
    pub low: i64,
    pub medium: i64,
    pub high: i64,
}

#[derive(Debug, Clone, Copy, Serialize, PartialEq, Default)]
pub struct SummaryResults {
    pub pass: i64,
    pub fail: i64,
    pub notapplicable: i64,
    pub other: i64,
}

#[derive(Debug, Clone, Copy, Serialize, PartialEq, Default)]
pub struct SummaryStatuses {
    pub saved: i64,
    pub submitted: i64,
    pub accepted: i64,
    pub rejected: i64,
}

#[derive(Debug, Clone, Serialize, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct SummaryMetrics {
    pub assessments: i64,
    pub assessments_by_severity: BySeverity,
    pub assessed: i64,
    pub assessed_by_severity: BySeverity,
    pub min_ts: Option<String>,
    pub max_ts: Option<String>,
    pub max_touch_ts: Option<String>,
    pub results: SummaryResults,
    pub statuses: SummaryStatuses,
    pub findings: BySeverity,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct AssetSummary {
    #[serde(with = "crate::id_string")]
    pub asset_id: i64,
    pub name: String,
    pub labels: Vec<LabelRef>,
    pub ip: Option<String>,
    pub fqdn: Option<String>,
    pub mac: Option<String>,
    pub noncomputing: bool,
    pub benchmark_ids: Vec<String>,
    pub metrics: SummaryMetrics,
}
