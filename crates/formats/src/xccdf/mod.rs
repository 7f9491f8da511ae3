//! DISA XCCDF benchmarks ("Manual" STIGs and SRGs) read into revisions, groups and rules.

mod description;
mod read;
mod results;

use serde::Serialize;

pub use read::parse_benchmark;
pub use results::{parse_results, XccdfResults, XccdfRuleResult};

/// One revision of a STIG, as found in one XCCDF document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Benchmark {
    pub benchmark_id: String,
    pub title: String,
    /// `Benchmark/version` text, e.g. `"2"`.
    pub version: String,
    /// The release from the first `plain-text`, e.g. `"8"` or `"0.3"`.
    pub release: String,
    /// The date text as written, e.g. `"27 Oct 2022"`.
    pub benchmark_date: Option<String>,
    /// The same date as `YYYY-MM-DD`, when it can be read.
    pub benchmark_date_sql: Option<String>,
    pub status: Option<String>,
    pub status_date: Option<String>,
    pub description: Option<String>,
    pub groups: Vec<Group>,
}

/// The counters stored on a revision.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub groups: usize,
    pub checks: usize,
    pub fixes: usize,
    pub low: usize,
    pub medium: usize,
    pub high: usize,
}

/// An XCCDF `Group` (a "Vuln ID") with its rules.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Group {
    pub group_id: String,
    pub title: String,
    pub rules: Vec<Rule>,
}

/// An XCCDF `Rule`, with the check and fix text joined and digested as upstream does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Rule {
    pub rule_id: String,
    /// The "STIG ID", e.g. `SRG-NET-000019-VPN-000040`.
    pub version: String,
    pub title: String,
    /// `Rule@severity`; empty when the attribute is absent (upstream stores NULL then).
    pub severity: String,
    pub weight: Option<String>,
    pub vuln_discussion: Option<String>,
    pub false_positives: Option<String>,
    pub false_negatives: Option<String>,
    pub documentable: Option<String>,
    pub mitigations: Option<String>,
    pub severity_override_guidance: Option<String>,
    pub potential_impacts: Option<String>,
    pub third_party_tools: Option<String>,
    pub mitigation_control: Option<String>,
    pub responsibility: Option<String>,
    pub check_system: String,
    pub check_content: String,
    pub check_digest: [u8; 32],
    /// Number of `check` elements (feeds the revision's `checkCount`).
    pub check_count: usize,
    pub fixref: Option<String>,
    pub fix_text: String,
    pub fix_digest: [u8; 32],
    /// Number of `fixtext` elements (feeds the revision's `fixCount`).
    pub fix_count: usize,
    /// CCI numbers without the `CCI-` prefix, in document order, without repeats.
    pub ccis: Vec<String>,
}

impl Benchmark {
    /// `V{version}R{release}`, e.g. `V1R23` or `V3R0.3`.
    pub fn revision_str(&self) -> String {
        format!("V{}R{}", self.version, self.release)
    }

    /// `{benchmarkId}-{version}-{release}`, the revision's primary key.
    pub fn rev_id(&self) -> String {
        format!("{}-{}-{}", self.benchmark_id, self.version, self.release)
    }

    /// Rules whose severity is low, medium or high; others are stored but not counted.
    pub fn rule_count(&self) -> usize {
        let counts = self.counts();
        counts.low + counts.medium + counts.high
    }

    /// Every rule of every group, in document order.
    pub fn rules(&self) -> impl Iterator<Item = &Rule> {
        self.groups.iter().flat_map(|group| group.rules.iter())
    }

    pub fn counts(&self) -> Counts {
        let mut counts = Counts { groups: self.groups.len(), ..Counts::default() };
        for rule in self.rules() {
            counts.checks += rule.check_count;
            counts.fixes += rule.fix_count;
            match rule.severity.as_str() {
                "low" => counts.low += 1,
                "medium" => counts.medium += 1,
                "high" => counts.high += 1,
                _ => {}
            }
        }
        counts
    }
}
