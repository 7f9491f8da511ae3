//! Metrics: the summary and detail objects, and the base columns of each aggregation. The
//! unaggregated forms run to tens of thousands of rows, so their bases borrow from the data
//! they are folded from and times are written as they are serialized.

use std::fmt;

use chrono::{Datelike, Timelike};
use serde::{Serialize, Serializer};

use crate::asset::LabelRef;

/// Epoch seconds, written as `2021-07-16T03:34:02Z`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IsoSeconds(pub i64);

impl fmt::Display for IsoSeconds {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let t = chrono::DateTime::from_timestamp(self.0, 0).unwrap_or_default();
        let (date, time) = (t.date_naive(), t.time());
        write!(
            f,
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
            date.year(),
            date.month(),
            date.day(),
            time.hour(),
            time.minute(),
            time.second()
        )
    }
}

impl Serialize for IsoSeconds {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

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
    pub min_ts: Option<IsoSeconds>,
    pub max_ts: Option<IsoSeconds>,
    pub max_touch_ts: Option<IsoSeconds>,
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
    pub min_ts: Option<IsoSeconds>,
    pub max_ts: Option<IsoSeconds>,
    pub max_touch_ts: Option<IsoSeconds>,
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
pub struct ChecklistBase<'a> {
    #[serde(with = "crate::id_string")]
    pub asset_id: i64,
    pub name: &'a str,
    pub labels: &'a [LabelRef],
    pub benchmark_id: &'a str,
    pub title: &'a str,
    pub marking: Option<&'a str>,
    pub revision_str: &'a str,
    pub revision_pinned: bool,
    pub revision_date: Option<&'a str>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct AssetBase<'a> {
    #[serde(with = "crate::id_string")]
    pub asset_id: i64,
    pub name: &'a str,
    pub labels: &'a [LabelRef],
    pub ip: Option<&'a str>,
    pub fqdn: Option<&'a str>,
    pub mac: Option<&'a str>,
    pub noncomputing: bool,
    pub benchmark_ids: Vec<&'a str>,
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
