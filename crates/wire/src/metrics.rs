//! Metrics: the summary and detail objects, and the base columns of each aggregation.

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

/// A count of reviews, and how many of them carry a result engine.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct EngineCount {
    pub total: i64,
    pub result_engine: i64,
}

#[derive(Debug, Clone, Copy, Serialize, PartialEq, Default)]
pub struct DetailStatuses {
    pub saved: EngineCount,
    pub submitted: EngineCount,
    pub rejected: EngineCount,
    pub accepted: EngineCount,
}

#[derive(Debug, Clone, Copy, Serialize, PartialEq, Default)]
pub struct DetailResults {
    pub notchecked: EngineCount,
    pub notapplicable: EngineCount,
    pub pass: EngineCount,
    pub fail: EngineCount,
    pub unknown: EngineCount,
    pub error: EngineCount,
    pub notselected: EngineCount,
    pub informational: EngineCount,
    pub fixed: EngineCount,
}

/// Upstream lists `statuses` before `results` in the detail object.
#[derive(Debug, Clone, Serialize, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct DetailMetrics {
    pub assessments: i64,
    pub assessments_by_severity: BySeverity,
    pub assessed: i64,
    pub assessed_by_severity: BySeverity,
    pub min_ts: Option<String>,
    pub max_ts: Option<String>,
    pub max_touch_ts: Option<String>,
    pub statuses: DetailStatuses,
    pub results: DetailResults,
    pub findings: BySeverity,
}

/// A row of any metrics form: its base columns followed by `metrics`.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct WithMetrics<B, M> {
    #[serde(flatten)]
    pub base: B,
    pub metrics: M,
}

impl<B, M> WithMetrics<B, M> {
    pub fn map_metrics<N>(self, f: impl FnOnce(M) -> N) -> WithMetrics<B, N> {
        WithMetrics { base: self.base, metrics: f(self.metrics) }
    }
}

/// One asset/STIG assignment (the unaggregated forms).
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ChecklistBase {
    #[serde(with = "crate::id_string")]
    pub asset_id: i64,
    pub name: String,
    pub labels: Vec<LabelRef>,
    pub benchmark_id: String,
    pub title: String,
    pub marking: Option<String>,
    pub revision_str: String,
    pub revision_pinned: bool,
    pub revision_date: Option<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct AssetBase {
    #[serde(with = "crate::id_string")]
    pub asset_id: i64,
    pub name: String,
    pub labels: Vec<LabelRef>,
    pub ip: Option<String>,
    pub fqdn: Option<String>,
    pub mac: Option<String>,
    pub noncomputing: bool,
    pub benchmark_ids: Vec<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct CollectionBase {
    #[serde(with = "crate::id_string")]
    pub collection_id: i64,
    pub name: String,
    pub assets: i64,
    pub stigs: i64,
    pub checklists: i64,
}

/// A label, or the row of unlabeled assets (every field but `assets` null).
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct LabelBase {
    pub label_id: Option<String>,
    pub name: Option<String>,
    pub color: Option<String>,
    pub description: Option<String>,
    pub assets: i64,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct StigBase {
    pub benchmark_id: String,
    pub title: String,
    pub marking: Option<String>,
    pub revision_str: String,
    pub revision_pinned: bool,
    pub revision_date: Option<String>,
    pub assets: i64,
    pub rule_count: i64,
}

/// The unaggregated meta form: totals over every collection in scope.
#[derive(Debug, Clone, Serialize, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct MetaBase {
    pub collections: i64,
    pub assets: i64,
    pub stigs: i64,
    pub checklists: i64,
}

/// A default revision across collections (meta by STIG).
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct MetaStigBase {
    pub benchmark_id: String,
    pub title: String,
    pub marking: Option<String>,
    pub revision_str: String,
    pub revision_date: Option<String>,
    pub collections: i64,
    pub assets: i64,
    pub rule_count: i64,
}
