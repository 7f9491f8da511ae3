//! CKL (STIG Viewer 2, XML) and CKLB (STIG Viewer 3, JSON) checklists read into one shape:
//! the target asset and, per STIG, the reviews the file carries.
//!
//! The reader keeps every reviewable rule; the application applies the collection's import
//! options (unreviewed, empty detail, auto status) afterwards.

mod ckl;
mod cklb;
mod engine;

use std::collections::BTreeMap;

use serde::Serialize;

pub use ckl::parse_ckl;
pub use cklb::parse_cklb;

use crate::text::{non_empty, release_token, truncate_chars};
use crate::FormatError;

const MAX_NAME: usize = 255;
const MAX_FIELD: usize = 255;
const MAX_RULE_ID: usize = 45;
const MAX_COMMENTARY: usize = 32767;
const BENCHMARK_PREFIX: &str = "xccdf_mil.disa.stig_benchmark_";

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Checklist {
    pub target: Target,
    pub stigs: Vec<ChecklistStig>,
    pub format: ChecklistFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ChecklistFormat {
    Ckl,
    Cklb,
}

/// The asset a checklist describes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Target {
    /// `None` when the file has no host name; the caller picks a fallback.
    pub name: Option<String>,
    pub description: Option<String>,
    pub ip: Option<String>,
    pub fqdn: Option<String>,
    pub mac: Option<String>,
    pub noncomputing: bool,
    /// `cklRole`, `cklTechArea`, and for web/database targets `cklWebOrDatabase`,
    /// `cklHostName`, `cklWebDbSite`, `cklWebDbInstance`.
    pub metadata: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ChecklistStig {
    pub benchmark_id: String,
    /// `V{version}R{release}`, or `None` when the file does not say which release it is.
    pub revision_str: Option<String>,
    pub reviews: Vec<ChecklistReview>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ChecklistReview {
    pub rule_id: String,
    pub result: ChecklistResult,
    pub detail: String,
    pub comment: String,
    /// The API's `resultEngine` object, for reviews written by a tool (Evaluate-STIG).
    pub result_engine: Option<serde_json::Value>,
}

/// A review result a checklist can express; serialised as the API names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ChecklistResult {
    Pass,
    Fail,
    NotApplicable,
    NotChecked,
}

impl ChecklistResult {
    /// The API's `result` value.
    pub fn api_str(&self) -> &'static str {
        match self {
            ChecklistResult::Pass => "pass",
            ChecklistResult::Fail => "fail",
            ChecklistResult::NotApplicable => "notapplicable",
            ChecklistResult::NotChecked => "notchecked",
        }
    }

    /// A CKL `STATUS`; anything else means the rule is not imported.
    pub fn from_ckl(status: &str) -> Option<Self> {
        match status {
            "NotAFinding" => Some(ChecklistResult::Pass),
            "Open" => Some(ChecklistResult::Fail),
            "Not_Applicable" => Some(ChecklistResult::NotApplicable),
            "Not_Reviewed" => Some(ChecklistResult::NotChecked),
            _ => None,
        }
    }

    /// A CKLB `status`; anything else means the rule is not imported.
    pub fn from_cklb(status: &str) -> Option<Self> {
        match status {
            "not_a_finding" => Some(ChecklistResult::Pass),
            "open" => Some(ChecklistResult::Fail),
            "not_applicable" => Some(ChecklistResult::NotApplicable),
            "not_reviewed" => Some(ChecklistResult::NotChecked),
            _ => None,
        }
    }
}

/// Asset fields as both formats carry them, before names, limits and metadata are applied.
#[derive(Debug, Default)]
struct RawTarget {
    host_name: String,
    ip: String,
    fqdn: String,
    mac: String,
    comment: String,
    asset_type: String,
    role: String,
    tech_area: String,
    web_or_database: bool,
    web_db_site: String,
    web_db_instance: String,
}

impl RawTarget {
    fn into_target(self) -> Result<Target, FormatError> {
        let metadata = self.metadata();
        let name = self.name();
        if name.as_ref().is_some_and(|name| name.chars().count() > MAX_NAME) {
            let message = format!("the host name is longer than {MAX_NAME} characters");
            return Err(FormatError::Invalid(message));
        }
        let field = |value: String| non_empty(truncate_chars(value, MAX_FIELD));
        Ok(Target {
            name,
            description: field(self.comment),
            ip: field(self.ip),
            fqdn: field(self.fqdn),
            mac: field(self.mac),
            noncomputing: self.asset_type == "Non-Computing",
            metadata,
        })
    }

    /// Web and database checklists name the asset `{host}-{site or NA}-{instance or NA}`.
    fn name(&self) -> Option<String> {
        let host = non_empty(self.host_name.clone())?;
        if !self.web_or_database {
            return Some(host);
        }
        let or_na = |value: &str| {
            if value.is_empty() {
                "NA".to_string()
            } else {
                value.to_string()
            }
        };
        Some(format!("{host}-{}-{}", or_na(&self.web_db_site), or_na(&self.web_db_instance)))
    }

    fn metadata(&self) -> BTreeMap<String, String> {
        let mut metadata = BTreeMap::new();
        let mut put = |key: &str, value: &str| {
            if !value.is_empty() && value != "None" {
                metadata.insert(key.to_string(), value.to_string());
            }
        };
        put("cklRole", &self.role);
        put("cklTechArea", &self.tech_area);
        if self.web_or_database {
            put("cklWebOrDatabase", "true");
            put("cklHostName", &self.host_name);
            put("cklWebDbSite", &self.web_db_site);
            put("cklWebDbInstance", &self.web_db_instance);
        }
        metadata
    }
}

/// A STIG's identity as a checklist states it; `None` when there is no usable benchmark id.
fn stig_header(
    stig_id: &str,
    version: &str,
    release_info: &str,
) -> Option<(String, Option<String>)> {
    let id = stig_id.strip_prefix(BENCHMARK_PREFIX).unwrap_or(stig_id);
    let id = non_empty(truncate_chars(id.to_string(), MAX_FIELD))?;
    Some((id, revision_str(version, release_info)))
}

/// `V{digits of version}R{token after "Release:"}` when both parts are present and well formed.
fn revision_str(version: &str, release_info: &str) -> Option<String> {
    let digits_at = version.find(|c: char| c.is_ascii_digit())?;
    let digits = &version[digits_at..];
    let digits = &digits[..digits.find(|c: char| !c.is_ascii_digit()).unwrap_or(digits.len())];
    let release = release_token(release_info)?;
    is_release(release).then(|| format!("V{digits}R{release}"))
}

/// `\d+(\.\d+)?`, the release part of a revision string.
fn is_release(release: &str) -> bool {
    let mut parts = release.splitn(2, '.');
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    parts.next().is_some_and(digits) && parts.next().is_none_or(digits)
}

fn review(
    rule_id: &str,
    result: ChecklistResult,
    detail: String,
    comment: String,
    result_engine: Option<serde_json::Value>,
) -> ChecklistReview {
    ChecklistReview {
        rule_id: truncate_chars(rule_id.to_string(), MAX_RULE_ID),
        result,
        detail: truncate_chars(detail, MAX_COMMENTARY),
        comment: truncate_chars(comment, MAX_COMMENTARY),
        result_engine,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn revision_strings_need_a_release() {
        let rel = "Release: 8 Benchmark Date: 26 Jan 2023";
        assert_eq!(revision_str("2", rel).as_deref(), Some("V2R8"));
        assert_eq!(revision_str("Version 3", "Release: 0.3").as_deref(), Some("V3R0.3"));
        assert_eq!(revision_str("1", "Thu Jun 08 2023 00:40:51 GMT-0400"), None);
        assert_eq!(revision_str("", rel), None);
        assert_eq!(revision_str("1", "Release: x"), None);
    }

    #[test]
    fn web_targets_get_composite_names_and_metadata() {
        let raw = RawTarget {
            host_name: "db1".into(),
            web_or_database: true,
            web_db_instance: "orcl".into(),
            role: "Member Server".into(),
            tech_area: "None".into(),
            ..RawTarget::default()
        };
        let target = raw.into_target().unwrap();
        assert_eq!(target.name.as_deref(), Some("db1-NA-orcl"));
        let keys: Vec<&str> = target.metadata.keys().map(String::as_str).collect();
        assert_eq!(keys, ["cklHostName", "cklRole", "cklWebDbInstance", "cklWebOrDatabase"]);
    }

    #[test]
    fn results_serialise_as_api_names() {
        let all = [
            ChecklistResult::Pass,
            ChecklistResult::Fail,
            ChecklistResult::NotApplicable,
            ChecklistResult::NotChecked,
        ];
        for result in all {
            assert_eq!(serde_json::to_value(result).unwrap(), result.api_str());
        }
    }

    #[test]
    fn long_host_names_are_rejected() {
        let raw = RawTarget { host_name: "h".repeat(256), ..RawTarget::default() };
        assert!(matches!(raw.into_target(), Err(FormatError::Invalid(_))));
        let raw = RawTarget { host_name: "h".repeat(255), ..RawTarget::default() };
        assert!(raw.into_target().is_ok());
    }
}
