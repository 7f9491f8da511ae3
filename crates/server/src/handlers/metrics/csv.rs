//! The CSV form of metrics: base columns flattened (labels and benchmark ids comma-joined,
//! booleans `1` or empty), then the summary or detail counters, RFC 4180 quoting.

use stigward_storage::metrics::{Counts, Style, RESULTS};
use stigward_wire::asset::LabelRef;
use stigward_wire::metrics::{
    AssetBase, ChecklistBase, CollectionBase, IsoSeconds, LabelBase, MetaBase, MetaStigBase,
    StigBase, WithMetrics,
};

/// Base columns of one metrics form.
pub trait CsvBase {
    const HEADER: &'static str;
    fn fields(&self) -> Vec<String>;
}

fn labels(labels: &[LabelRef]) -> String {
    labels.iter().map(|l| l.name.as_str()).collect::<Vec<_>>().join(",")
}

fn flag(value: bool) -> String {
    if value { "1" } else { "" }.to_string()
}

fn opt(value: &Option<String>) -> String {
    value.clone().unwrap_or_default()
}

impl CsvBase for ChecklistBase<'_> {
    const HEADER: &'static str =
        "assetId,name,labels,benchmarkId,title,marking,revisionStr,revisionPinned,revisionDate";
    fn fields(&self) -> Vec<String> {
        vec![
            self.asset_id.to_string(),
            self.name.to_string(),
            labels(self.labels),
            self.benchmark_id.to_string(),
            self.title.to_string(),
            self.marking.unwrap_or_default().to_string(),
            self.revision_str.to_string(),
            flag(self.revision_pinned),
            self.revision_date.unwrap_or_default().to_string(),
        ]
    }
}

impl CsvBase for AssetBase<'_> {
    const HEADER: &'static str = "assetId,name,labels,benchmarkIds";
    fn fields(&self) -> Vec<String> {
        vec![
            self.asset_id.to_string(),
            self.name.to_string(),
            labels(self.labels),
            self.benchmark_ids.join(","),
        ]
    }
}

/// Upstream leaves `stigs` out of the collection CSV.
impl CsvBase for CollectionBase {
    const HEADER: &'static str = "collectionId,name,assets,checklists";
    fn fields(&self) -> Vec<String> {
        vec![
            self.collection_id.to_string(),
            self.name.clone(),
            self.assets.to_string(),
            self.checklists.to_string(),
        ]
    }
}

impl CsvBase for LabelBase {
    const HEADER: &'static str = "labelId,name,assets";
    fn fields(&self) -> Vec<String> {
        vec![opt(&self.label_id), opt(&self.name), self.assets.to_string()]
    }
}

impl CsvBase for StigBase {
    const HEADER: &'static str =
        "benchmarkId,title,marking,revisionStr,revisionPinned,revisionDate,assets,ruleCount";
    fn fields(&self) -> Vec<String> {
        vec![
            self.benchmark_id.clone(),
            self.title.clone(),
            opt(&self.marking),
            self.revision_str.clone(),
            flag(self.revision_pinned),
            opt(&self.revision_date),
            self.assets.to_string(),
            self.rule_count.to_string(),
        ]
    }
}

impl CsvBase for MetaBase {
    const HEADER: &'static str = "collections,assets,stigs,checklists";
    fn fields(&self) -> Vec<String> {
        [self.collections, self.assets, self.stigs, self.checklists]
            .iter()
            .map(i64::to_string)
            .collect()
    }
}

impl CsvBase for MetaStigBase {
    const HEADER: &'static str =
        "benchmarkId,title,marking,revisionStr,revisionDate,collections,assets,ruleCount";
    fn fields(&self) -> Vec<String> {
        vec![
            self.benchmark_id.clone(),
            self.title.clone(),
            opt(&self.marking),
            self.revision_str.clone(),
            opt(&self.revision_date),
            self.collections.to_string(),
            self.assets.to_string(),
            self.rule_count.to_string(),
        ]
    }
}

const COMMON: &str = "assessments,assessmentsLow,assessmentsMedium,assessmentsHigh,assessed,\
assessedLow,assessedMedium,assessedHigh,minTs,maxTs,maxTouchTs,findingsLow,findingsMedium,\
findingsHigh";

const SUMMARY: &str = "pass,fail,notapplicable,other,saved,submitted,accepted,rejected";

/// Statuses in the detail CSV's order, with their status ids.
const DETAIL_STATUSES: [(&str, usize); 4] =
    [("saved", 0), ("submitted", 1), ("accepted", 3), ("rejected", 2)];

/// Results in the detail CSV's order.
const DETAIL_RESULTS: [&str; 9] = [
    "pass",
    "fail",
    "notapplicable",
    "notchecked",
    "unknown",
    "error",
    "notselected",
    "informational",
    "fixed",
];

fn metrics_header(style: Style) -> String {
    match style {
        Style::Summary => format!("{COMMON},{SUMMARY}"),
        Style::Detail => {
            let statuses = DETAIL_STATUSES.iter().map(|(name, _)| *name);
            let names: Vec<String> = statuses
                .chain(DETAIL_RESULTS)
                .map(|name| format!("{name},{name}ResultEngine"))
                .collect();
            format!("{COMMON},{}", names.join(","))
        }
    }
}

fn metrics_fields(counts: &Counts, style: Style) -> Vec<String> {
    let s = counts.summary();
    let ts = |t: &Option<IsoSeconds>| t.map(|t| t.to_string()).unwrap_or_default();
    let mut out: Vec<String> = [
        s.assessments,
        s.assessments_by_severity.low,
        s.assessments_by_severity.medium,
        s.assessments_by_severity.high,
        s.assessed,
        s.assessed_by_severity.low,
        s.assessed_by_severity.medium,
        s.assessed_by_severity.high,
    ]
    .iter()
    .map(i64::to_string)
    .collect();
    out.extend([ts(&s.min_ts), ts(&s.max_ts), ts(&s.max_touch_ts)]);
    out.extend([s.findings.low, s.findings.medium, s.findings.high].iter().map(i64::to_string));
    let numbers: Vec<i64> = match style {
        Style::Summary => vec![
            s.results.pass,
            s.results.fail,
            s.results.notapplicable,
            s.results.other,
            s.statuses.saved,
            s.statuses.submitted,
            s.statuses.accepted,
            s.statuses.rejected,
        ],
        Style::Detail => {
            let statuses = DETAIL_STATUSES.iter().map(|(_, id)| counts.statuses[*id]);
            let results = DETAIL_RESULTS.iter().map(|name| {
                let index = RESULTS.iter().position(|r| r == name).unwrap_or_default();
                counts.results[index]
            });
            statuses.chain(results).flat_map(|c| [c.total, c.result_engine]).collect()
        }
    };
    out.extend(numbers.iter().map(i64::to_string));
    out
}

/// RFC 4180 quoting: fields holding a comma, quote or line break are quoted.
fn field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

pub fn render<B: CsvBase>(rows: &[WithMetrics<B, Counts>], style: Style) -> String {
    let mut out = format!("{},{}\n", B::HEADER, metrics_header(style));
    for row in rows {
        let mut fields = row.base.fields();
        fields.extend(metrics_fields(&row.metrics, style));
        let quoted: Vec<String> = fields.iter().map(|f| field(f)).collect();
        out.push_str(&quoted.join(","));
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_follow_the_upstream_column_lists() {
        let detail = metrics_header(Style::Detail);
        assert!(detail.contains(
            "findingsHigh,saved,savedResultEngine,submitted,submittedResultEngine,accepted,\
             acceptedResultEngine,rejected,rejectedResultEngine,pass,passResultEngine"
        ));
        assert!(detail.ends_with("fixed,fixedResultEngine"));
        assert_eq!(detail.split(',').count(), 14 + 26);
        assert_eq!(metrics_header(Style::Summary).split(',').count(), 22);
        let row = metrics_fields(&Counts::default(), Style::Detail);
        assert_eq!(row.len(), 40);
    }

    #[test]
    fn fields_with_commas_or_quotes_are_quoted() {
        assert_eq!(field("a,b"), "\"a,b\"");
        assert_eq!(field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(field("plain"), "plain");
    }
}
