//! Assets: the create body, the projected read shape and STIG assignments.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::collection::CollectionRef;

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AssetCreate {
    pub name: String,
    #[serde(with = "crate::id_string")]
    pub collection_id: i64,
    pub description: Option<String>,
    pub ip: Option<String>,
    #[serde(default)]
    pub fqdn: Option<String>,
    #[serde(default)]
    pub mac: Option<String>,
    pub noncomputing: bool,
    pub metadata: Map<String, Value>,
    pub stigs: Vec<String>,
    #[serde(default)]
    pub label_names: Option<Vec<String>>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct LabelRef {
    pub label_id: String,
    pub name: String,
    pub color: String,
}

/// A STIG assigned to an asset, at the collection's default revision.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct AssetStig {
    pub benchmark_id: String,
    pub revision_str: String,
    pub revision_date: Option<String>,
    pub rule_count: i64,
    pub revision_pinned: bool,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Asset {
    #[serde(with = "crate::id_string")]
    pub asset_id: i64,
    pub name: String,
    pub fqdn: Option<String>,
    pub description: Option<String>,
    pub ip: Option<String>,
    pub mac: Option<String>,
    pub noncomputing: bool,
    pub collection: CollectionRef,
    pub metadata: Value,
    pub label_ids: Vec<String>,
    pub labels: Vec<LabelRef>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stigs: Option<Vec<AssetStig>>,
}
