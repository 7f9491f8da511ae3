//! The counters of one checklist (asset/STIG assignment) and their sums, with the summary and
//! detail objects built from them.

use stigward_wire::metrics::{
    BySeverity, DetailMetrics, DetailResults, DetailStatuses, EngineCount, IsoSeconds,
    SummaryMetrics, SummaryResults, SummaryStatuses,
};

use crate::Result;

/// Result ids 1..=9 in the order of the API's result names.
pub const RESULTS: [&str; 9] = [
    "notchecked",
    "notapplicable",
    "pass",
    "fail",
    "unknown",
    "error",
    "notselected",
    "informational",
    "fixed",
];

/// Status ids 0..=3.
pub const STATUSES: [&str; 4] = ["saved", "submitted", "rejected", "accepted"];

/// Counters of one checklist, or sums over several.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Counts {
    /// Rules of the default revision, by severity.
    pub rules: BySeverity,
    /// Indexed by result id - 1.
    pub results: [EngineCount; 9],
    /// Indexed by status id.
    pub statuses: [EngineCount; 4],
    /// Fail results by rule severity.
    pub findings: BySeverity,
    /// Pass, fail and notapplicable results by rule severity.
    pub assessed: BySeverity,
    pub min_ts: Option<i64>,
    pub max_ts: Option<i64>,
    pub max_touch_ts: Option<i64>,
}

impl Counts {
    /// Builds a checklist's counters from its stored values, taken one at a time in the order
    /// of `counters::counter_columns` (`None` for NULL).
    pub fn from_values(mut next: impl FnMut() -> Result<Option<i64>>) -> Result<Counts> {
        let mut counts = Counts::default();
        for slot in counts.results.iter_mut().chain(counts.statuses.iter_mut()) {
            let total = next()?.unwrap_or_default();
            *slot = EngineCount { total, result_engine: next()?.unwrap_or_default() };
        }
        for (finding, assessed) in [
            (&mut counts.findings.high, &mut counts.assessed.high),
            (&mut counts.findings.medium, &mut counts.assessed.medium),
            (&mut counts.findings.low, &mut counts.assessed.low),
        ] {
            *finding = next()?.unwrap_or_default();
            *assessed = next()?.unwrap_or_default();
        }
        counts.min_ts = next()?;
        counts.max_ts = next()?;
        counts.max_touch_ts = next()?;
        Ok(counts)
    }

    pub fn add(&mut self, other: &Counts) {
        add_severity(&mut self.rules, &other.rules);
        for (a, b) in self.results.iter_mut().zip(&other.results) {
            add_engine(a, b);
        }
        for (a, b) in self.statuses.iter_mut().zip(&other.statuses) {
            add_engine(a, b);
        }
        add_severity(&mut self.findings, &other.findings);
        add_severity(&mut self.assessed, &other.assessed);
        self.min_ts = match (self.min_ts, other.min_ts) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        self.max_ts = self.max_ts.max(other.max_ts);
        self.max_touch_ts = self.max_touch_ts.max(other.max_touch_ts);
    }

    fn result(&self, name: &str) -> EngineCount {
        let index = RESULTS.iter().position(|r| *r == name).unwrap_or_default();
        self.results[index]
    }

    fn assessed_total(&self) -> i64 {
        ["pass", "fail", "notapplicable"].iter().map(|r| self.result(r).total).sum()
    }

    pub fn summary(&self) -> SummaryMetrics {
        let other = ["notchecked", "unknown", "error", "notselected", "informational", "fixed"];
        SummaryMetrics {
            assessments: self.rules.low + self.rules.medium + self.rules.high,
            assessments_by_severity: self.rules,
            assessed: self.assessed_total(),
            assessed_by_severity: self.assessed,
            min_ts: self.min_ts.map(IsoSeconds),
            max_ts: self.max_ts.map(IsoSeconds),
            max_touch_ts: self.max_touch_ts.map(IsoSeconds),
            results: SummaryResults {
                pass: self.result("pass").total,
                fail: self.result("fail").total,
                notapplicable: self.result("notapplicable").total,
                other: other.iter().map(|r| self.result(r).total).sum(),
            },
            statuses: SummaryStatuses {
                saved: self.statuses[0].total,
                submitted: self.statuses[1].total,
                rejected: self.statuses[2].total,
                accepted: self.statuses[3].total,
            },
            findings: self.findings,
        }
    }

    pub fn detail(&self) -> DetailMetrics {
        let r = |name| self.result(name);
        DetailMetrics {
            assessments: self.rules.low + self.rules.medium + self.rules.high,
            assessments_by_severity: self.rules,
            assessed: self.assessed_total(),
            assessed_by_severity: self.assessed,
            min_ts: self.min_ts.map(IsoSeconds),
            max_ts: self.max_ts.map(IsoSeconds),
            max_touch_ts: self.max_touch_ts.map(IsoSeconds),
            statuses: DetailStatuses {
                saved: self.statuses[0],
                submitted: self.statuses[1],
                rejected: self.statuses[2],
                accepted: self.statuses[3],
            },
            results: DetailResults {
                notchecked: r("notchecked"),
                notapplicable: r("notapplicable"),
                pass: r("pass"),
                fail: r("fail"),
                unknown: r("unknown"),
                error: r("error"),
                notselected: r("notselected"),
                informational: r("informational"),
                fixed: r("fixed"),
            },
            findings: self.findings,
        }
    }
}

fn add_severity(total: &mut BySeverity, other: &BySeverity) {
    total.low += other.low;
    total.medium += other.medium;
    total.high += other.high;
}

fn add_engine(total: &mut EngineCount, other: &EngineCount) {
    total.total += other.total;
    total.result_engine += other.result_engine;
}
