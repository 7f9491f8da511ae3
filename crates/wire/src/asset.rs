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
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_stats: Option<AssetStatusStats>,
}

/// The `statusStats` projection: review statuses over the asset's STIGs at their default
/// revisions. The sums are null when no STIG counts.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct AssetStatusStats {
    pub stig_count: i64,
    pub rule_count: Option<i64>,
    pub accepted_count: Option<i64>,
    pub rejected_count: Option<i64>,
    pub submitted_count: Option<i64>,
    pub saved_count: Option<i64>,
    /// `YYYY-MM-DDTHH:MM:SSZ`
    pub min_ts: Option<String>,
    pub max_ts: Option<String>,
}

/// One asset of a batch create; the collection comes from the path.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AssetBatchItem {
    pub name: String,
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

impl AssetBatchItem {
    pub fn into_create(self, collection_id: i64) -> AssetCreate {
        AssetCreate {
            name: self.name,
            collection_id,
            description: self.description,
            ip: self.ip,
            fqdn: self.fqdn,
            mac: self.mac,
            noncomputing: self.noncomputing,
            metadata: self.metadata,
            stigs: self.stigs,
            label_names: self.label_names,
        }
    }
}

/// The `PATCH /assets/{assetId}` body: any subset. A nullable field sent as `null` clears it.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AssetUpdate {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default, with = "crate::opt_id_string")]
    pub collection_id: Option<i64>,
    #[serde(default, with = "crate::collection::double_option")]
    pub description: Option<Option<String>>,
    #[serde(default, with = "crate::collection::double_option")]
    pub ip: Option<Option<String>>,
    #[serde(default, with = "crate::collection::double_option")]
    pub fqdn: Option<Option<String>>,
    #[serde(default, with = "crate::collection::double_option")]
    pub mac: Option<Option<String>>,
    #[serde(default)]
    pub noncomputing: Option<bool>,
    #[serde(default)]
    pub metadata: Option<Map<String, Value>>,
    #[serde(default)]
    pub stigs: Option<Vec<String>>,
    #[serde(default)]
    pub label_names: Option<Vec<String>>,
}

impl From<AssetCreate> for AssetUpdate {
    fn from(body: AssetCreate) -> Self {
        AssetUpdate {
            name: Some(body.name),
            collection_id: Some(body.collection_id),
            description: Some(body.description),
            ip: Some(body.ip),
            fqdn: Some(body.fqdn),
            mac: Some(body.mac),
            noncomputing: Some(body.noncomputing),
            metadata: Some(body.metadata),
            stigs: Some(body.stigs),
            label_names: body.label_names,
        }
    }
}

/// The `PATCH /assets?collectionId=` body; `delete` is the only operation.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AssetsOperation {
    pub operation: String,
    pub asset_ids: Vec<crate::IdString>,
}

/// The reply to a bulk operation: `{"operation":"deleted","assetIds":[…as sent…]}`.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct AssetsOperationDone {
    pub operation: String,
    pub asset_ids: Vec<String>,
}

/// A STIG of an asset as `GET /assets/{assetId}/stigs` lists it.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct AssetStigRevision {
    pub benchmark_id: String,
    pub revision_str: String,
    pub revision_date: Option<String>,
    pub rule_count: i64,
}
