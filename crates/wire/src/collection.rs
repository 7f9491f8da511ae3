//! Collections: the create body and the projected read shape.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct CollectionRef {
    #[serde(with = "crate::id_string")]
    pub collection_id: i64,
    pub name: String,
}

/// One grant in a create or replace body: to a user or to a user group.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GrantWrite {
    #[serde(default, with = "crate::opt_id_string")]
    pub user_id: Option<i64>,
    #[serde(default, with = "crate::opt_id_string")]
    pub user_group_id: Option<i64>,
    pub role_id: i64,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LabelWrite {
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    pub color: String,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CollectionCreate {
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub settings: Option<Map<String, Value>>,
    #[serde(default)]
    pub metadata: Option<Map<String, Value>>,
    pub grants: Vec<GrantWrite>,
    #[serde(default)]
    pub labels: Option<Vec<LabelWrite>>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct UserSummary {
    #[serde(with = "crate::id_string")]
    pub user_id: i64,
    pub username: String,
    pub display_name: Option<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct GroupSummary {
    #[serde(with = "crate::id_string")]
    pub user_group_id: i64,
    pub name: String,
    pub description: Option<String>,
}

/// A grant as the `grants` projection shows it.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(untagged)]
pub enum GrantRead {
    #[serde(rename_all = "camelCase")]
    User {
        #[serde(with = "crate::id_string")]
        grant_id: i64,
        user: UserSummary,
        role_id: i64,
    },
    #[serde(rename_all = "camelCase")]
    Group {
        #[serde(with = "crate::id_string")]
        grant_id: i64,
        user_group: GroupSummary,
        role_id: i64,
    },
}

/// An owner in the `owners` projection.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(untagged)]
pub enum Owner {
    User(UserSummary),
    Group(GroupSummary),
}

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Label {
    pub label_id: String,
    pub name: String,
    pub description: Option<String>,
    pub color: String,
    pub uses: i64,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct AssetRef {
    #[serde(with = "crate::id_string")]
    pub asset_id: i64,
    pub name: String,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct CollectionStig {
    pub benchmark_id: String,
    pub revision_str: String,
    pub benchmark_date: Option<String>,
    pub revision_pinned: bool,
    pub rule_count: i64,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct CollectionStatistics {
    pub created: String,
    pub user_count: i64,
    pub asset_count: i64,
    pub checklist_count: i64,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Collection {
    #[serde(with = "crate::id_string")]
    pub collection_id: i64,
    pub name: String,
    pub description: Option<String>,
    pub settings: Value,
    pub metadata: Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub assets: Option<Vec<AssetRef>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub grants: Option<Vec<GrantRead>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owners: Option<Vec<Owner>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub statistics: Option<CollectionStatistics>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stigs: Option<Vec<CollectionStig>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub labels: Option<Vec<Label>>,
}
