//! Writers for what STIG Manager exports: CKL and CKLB checklists and XCCDF results, built from
//! one model of an asset and its STIGs with the asset's reviews. The readers in
//! [`crate::checklist`] and [`crate::xccdf::parse_results`] read these files back.

mod ckl;
mod cklb;
pub(crate) mod xccdf;

use std::collections::BTreeMap;

pub use ckl::write_ckl;
pub use cklb::write_cklb;
pub use xccdf::write_xccdf;

/// The asset a checklist describes, as stored.
#[derive(Debug, Clone, Default)]
pub struct ExportAsset {
    pub name: String,
    pub description: Option<String>,
    pub ip: Option<String>,
    pub fqdn: Option<String>,
    pub mac: Option<String>,
    pub noncomputing: bool,
    /// String-valued metadata; the `ckl*` keys shape the CKL `ASSET` element.
    pub metadata: BTreeMap<String, String>,
}

impl ExportAsset {
    fn meta(&self, key: &str) -> Option<&str> {
        self.metadata.get(key).map(String::as_str)
    }

    /// `cklHostName` when set, else the asset name.
    fn host_name(&self) -> &str {
        self.meta("cklHostName").unwrap_or(&self.name)
    }
}

/// One STIG revision of a checklist with a row per rule.
#[derive(Debug, Clone, Default)]
pub struct ExportStig {
    pub benchmark_id: String,
    pub title: String,
    pub version: String,
    pub release: String,
    /// The benchmark date as the XCCDF wrote it (`27 Oct 2022`).
    pub benchmark_date: Option<String>,
    pub status_date: Option<String>,
    pub description: Option<String>,
    pub rules: Vec<ExportRule>,
}

impl ExportStig {
    pub fn revision_str(&self) -> String {
        format!("V{}R{}", self.version, self.release)
    }

    /// `Release: {release} Benchmark Date: {date}`.
    fn release_info(&self) -> String {
        let date = self.benchmark_date.as_deref().unwrap_or_default();
        format!("Release: {} Benchmark Date: {date}", self.release)
    }
}

/// A rule of the revision and the asset's review of it, if any.
#[derive(Debug, Clone, Default)]
pub struct ExportRule {
    pub group_id: String,
    pub group_title: Option<String>,
    pub rule_id: String,
    /// The "STIG ID".
    pub version: String,
    pub title: String,
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
    pub ia_controls: Option<String>,
    pub check_system: Option<String>,
    pub check_content: String,
    pub fix_text: String,
    /// CCI numbers without the `CCI-` prefix, ascending.
    pub ccis: Vec<String>,
    pub review: Option<ExportReview>,
}

/// A stored review as exports need it.
#[derive(Debug, Clone, Default)]
pub struct ExportReview {
    /// The API's result name (`pass`, `fail`, `fixed`, ...).
    pub result: String,
    pub detail: String,
    pub comment: String,
    /// Epoch seconds.
    pub ts: i64,
    pub touch_ts: i64,
    pub result_engine: Option<serde_json::Value>,
}

/// CKL `STATUS` of an API result; no review and results without a CKL form are unreviewed.
fn ckl_status(review: Option<&ExportReview>) -> &'static str {
    match review.map(|r| r.result.as_str()) {
        Some("pass" | "fixed") => "NotAFinding",
        Some("fail") => "Open",
        Some("notapplicable") => "Not_Applicable",
        _ => "Not_Reviewed",
    }
}

/// CKLB `status` of an API result, by the same mapping as [`ckl_status`].
fn cklb_status(review: Option<&ExportReview>) -> &'static str {
    match ckl_status(review) {
        "NotAFinding" => "not_a_finding",
        "Open" => "open",
        "Not_Applicable" => "not_applicable",
        _ => "not_reviewed",
    }
}

fn iso_millis(epoch: i64) -> String {
    chrono::DateTime::from_timestamp(epoch, 0)
        .unwrap_or_default()
        .format("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_map_to_checklist_statuses() {
        let review = |result: &str| ExportReview { result: result.into(), ..Default::default() };
        let cases = [
            ("pass", "NotAFinding", "not_a_finding"),
            ("fixed", "NotAFinding", "not_a_finding"),
            ("fail", "Open", "open"),
            ("notapplicable", "Not_Applicable", "not_applicable"),
            ("informational", "Not_Reviewed", "not_reviewed"),
            ("notchecked", "Not_Reviewed", "not_reviewed"),
        ];
        for (result, ckl, cklb) in cases {
            assert_eq!(ckl_status(Some(&review(result))), ckl, "{result}");
            assert_eq!(cklb_status(Some(&review(result))), cklb, "{result}");
        }
        assert_eq!(ckl_status(None), "Not_Reviewed");
    }
}
