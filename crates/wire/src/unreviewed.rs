//! The unreviewed reports of a collection: each asset with its unreviewed rules, or each rule
//! with its unreviewed assets.

use serde::Serialize;

/// A label of an asset as the reports show it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UnreviewedLabel {
    /// The label's uuid.
    pub label_id: String,
    pub name: String,
}

/// A rule as both reports list it; the titles only when projected.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UnreviewedRuleBase {
    pub rule_id: String,
    pub group_id: String,
    pub benchmark_id: String,
    pub severity: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule_title: Option<String>,
    /// Projected: the group's title, which may be null.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group_title: Option<Option<String>>,
}

/// An asset with the rules it has not reviewed.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UnreviewedAsset {
    #[serde(with = "crate::id_string")]
    pub asset_id: i64,
    pub name: String,
    pub labels: Vec<UnreviewedLabel>,
    pub unreviewed: Vec<UnreviewedAssetRule>,
}

/// One of an asset's unreviewed rules, with the result of its review if it has one.
#[derive(Debug, Clone, Serialize)]
pub struct UnreviewedAssetRule {
    #[serde(flatten)]
    pub rule: UnreviewedRuleBase,
    pub result: Option<&'static str>,
}

/// A rule with the assets that have not reviewed it.
#[derive(Debug, Clone, Serialize)]
pub struct UnreviewedRule {
    #[serde(flatten)]
    pub rule: UnreviewedRuleBase,
    pub unreviewed: Vec<UnreviewedRuleAsset>,
}

/// One of a rule's unreviewed assets, with the result of its review if it has one.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UnreviewedRuleAsset {
    #[serde(with = "crate::id_string")]
    pub asset_id: i64,
    pub name: String,
    pub labels: Vec<UnreviewedLabel>,
    pub result: Option<&'static str>,
}
