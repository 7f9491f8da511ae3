//! The STIG library: benchmarks, revisions and rules.

use serde::Serialize;

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct RevisionPost {
    pub benchmark_id: String,
    pub revision_str: String,
    pub action: String,
    pub marking: Option<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Revision {
    pub benchmark_id: String,
    pub revision_str: String,
    pub version: String,
    pub release: String,
    pub benchmark_date: Option<String>,
    pub status: Option<String>,
    pub status_date: Option<String>,
    pub marking: Option<String>,
    pub rule_count: i64,
    pub collection_ids: Vec<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Stig {
    pub benchmark_id: String,
    pub title: String,
    pub status: Option<String>,
    pub marking: Option<String>,
    pub last_revision_str: String,
    pub last_revision_date: Option<String>,
    pub rule_count: i64,
    pub revision_strs: Vec<String>,
    pub collection_ids: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revisions: Option<Vec<Revision>>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct RuleDetail {
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
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Check {
    pub system: Option<String>,
    pub content: String,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Fix {
    pub fixref: Option<String>,
    pub text: String,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct RuleCci {
    pub cci: String,
    pub ap_acronym: Option<String>,
    pub definition: Option<String>,
    pub control: Option<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Rule {
    pub rule_id: String,
    pub version: String,
    pub title: String,
    pub severity: String,
    pub group_id: String,
    pub group_title: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<RuleDetail>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ccis: Option<Vec<RuleCci>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub check: Option<Check>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<Fix>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule_ids: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stigs: Option<Vec<RevisionBasic>>,
}

/// A revision named by its benchmark and revision string.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, PartialOrd, Ord)]
#[serde(rename_all = "camelCase")]
pub struct RevisionBasic {
    pub benchmark_id: String,
    pub revision_str: String,
}

/// A rule in a group's `rules` projection.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct RuleAbbr {
    pub rule_id: String,
    pub version: String,
    pub title: String,
    pub severity: String,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Group {
    pub group_id: String,
    pub title: Option<String>,
    pub severity: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rules: Option<Vec<RuleAbbr>>,
}

/// One reference of a CCI to a control catalogue.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct CciReference {
    pub creator: String,
    pub title: String,
    pub version: String,
    pub location: Option<String>,
    pub index_disa: String,
}

/// A CCI of a revision (`GET /stigs/{b}/revisions/{r}/ccis`).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct CciListItem {
    pub cci: String,
    #[serde(rename = "type")]
    pub cci_type: Option<String>,
    pub references: Vec<CciReference>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct EmassAp {
    pub ap_acronym: Option<String>,
}

/// One CCI (`GET /stigs/ccis/{cci}`), with the optional projections.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Cci {
    pub cci: String,
    pub definition: String,
    #[serde(rename = "type")]
    pub cci_type: Option<String>,
    pub status: Option<String>,
    pub publishdate: Option<String>,
    pub contributor: Option<String>,
    #[serde(rename = "emassAp", skip_serializing_if = "Option::is_none")]
    pub emass_ap: Option<Option<EmassAp>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub references: Option<Vec<CciReference>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stigs: Option<Vec<RevisionBasic>>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ScapMap {
    pub scap_benchmark_id: &'static str,
    pub benchmark_id: &'static str,
}

/// What `POST /op/ccis` (Stigward's own) reports after loading a CCI list.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct CciImport {
    pub cci_count: usize,
    pub reference_count: usize,
}
