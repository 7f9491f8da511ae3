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
    #[serde(deserialize_with = "crate::required_nullable::deserialize")]
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
    #[serde(skip_serializing_if = "Option::is_none")]
    pub users: Option<Vec<CollectionUser>>,
}

/// Distinguishes an absent key (`None`) from an explicit `null` (`Some(None)`) in bodies.
pub mod double_option {
    use serde::{Deserialize, Deserializer};

    pub fn deserialize<'de, T, D>(d: D) -> Result<Option<Option<T>>, D::Error>
    where
        T: Deserialize<'de>,
        D: Deserializer<'de>,
    {
        Option::<T>::deserialize(d).map(Some)
    }
}

/// The `PATCH /collections/{id}` body: any subset; `settings` must then be complete.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CollectionUpdate {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default, with = "double_option")]
    pub description: Option<Option<String>>,
    #[serde(default)]
    pub settings: Option<Map<String, Value>>,
    #[serde(default)]
    pub metadata: Option<Map<String, Value>>,
    #[serde(default)]
    pub grants: Option<Vec<GrantWrite>>,
    #[serde(default)]
    pub labels: Option<Vec<LabelWrite>>,
}

impl From<CollectionCreate> for CollectionUpdate {
    fn from(body: CollectionCreate) -> Self {
        CollectionUpdate {
            name: Some(body.name),
            description: body.description.map(Some),
            settings: body.settings,
            metadata: body.metadata,
            grants: Some(body.grants),
            labels: body.labels,
        }
    }
}

/// The `PATCH …/labels/{labelId}` body.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LabelUpdate {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default, with = "double_option")]
    pub description: Option<Option<String>>,
    #[serde(default)]
    pub color: Option<String>,
}

/// A user in the `users` projection: the effective role and who it comes from.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct CollectionUser {
    pub user: UserSummary,
    pub role_id: i64,
    pub grantees: Vec<crate::user::Grantee>,
}

/// One rule of a `PUT …/grants/{grantId}/acl` body. `labelId` and `assetId` exclude each other.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AclRulePut {
    #[serde(default, with = "crate::opt_id_string", skip_serializing_if = "Option::is_none")]
    pub asset_id: Option<i64>,
    #[serde(default)]
    pub label_id: Option<String>,
    #[serde(default)]
    pub benchmark_id: Option<String>,
    pub access: String,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct LabelSummary {
    pub label_id: String,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub color: Option<String>,
}

/// One ACL rule as reads show it: absent resource parts are left out.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct AclRuleRead {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub benchmark_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub asset: Option<AssetRef>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<LabelSummary>,
    pub access: String,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct GrantAcl {
    pub default_access: String,
    pub acl: Vec<AclRuleRead>,
}

/// Who an ACL rule in `effective-acl` belongs to.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(untagged)]
pub enum AclGrantee {
    #[serde(rename_all = "camelCase")]
    User {
        #[serde(with = "crate::id_string")]
        user_id: i64,
        username: String,
        role_id: i64,
    },
    #[serde(rename_all = "camelCase")]
    Group {
        #[serde(with = "crate::id_string")]
        user_group_id: i64,
        name: String,
        role_id: i64,
    },
}

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct AclSource {
    pub grantee: AclGrantee,
    pub acl_rule: AclRuleRead,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct EffectiveAcl {
    pub access: String,
    pub asset: AssetRef,
    pub benchmark_id: String,
    pub acl_sources: Vec<AclSource>,
}

/// A STIG of a collection with the number of assets it is assigned to.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct CollectionStigAssets {
    pub benchmark_id: String,
    pub revision_str: String,
    pub benchmark_date: Option<String>,
    pub revision_pinned: bool,
    pub rule_count: i64,
    pub asset_count: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub assets: Option<Vec<AssetRef>>,
}

/// The `POST /collections/{id}/stigs/{benchmarkId}` body.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StigProps {
    #[serde(default)]
    pub default_revision_str: Option<String>,
    #[serde(default)]
    pub asset_ids: Option<Vec<crate::IdString>>,
}

/// An asset mapped to a STIG, as `PUT …/stigs/{benchmarkId}/assets` returns it.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct StigAsset {
    #[serde(with = "crate::id_string")]
    pub asset_id: i64,
    pub name: String,
    pub access: String,
    pub asset_label_ids: Vec<String>,
    pub asset_labels: Vec<crate::asset::LabelRef>,
    #[serde(with = "crate::id_string")]
    pub collection_id: i64,
}
