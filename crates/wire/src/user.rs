//! Users as `GET /user` and the user listings show them.

use serde::Serialize;
use serde_json::Value;

use crate::collection::CollectionRef;

/// Privileges keep their claim spelling (`create_collection`) on the wire.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Privileges {
    pub create_collection: bool,
    pub admin: bool,
}

/// Who holds a grant: a user, or one of the groups sharing the top role.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(untagged)]
pub enum Grantee {
    #[serde(rename_all = "camelCase")]
    User {
        #[serde(with = "crate::id_string")]
        user_id: i64,
        username: String,
    },
    #[serde(rename_all = "camelCase")]
    Group {
        #[serde(with = "crate::id_string")]
        user_group_id: i64,
        name: String,
    },
}

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct CollectionGrantInfo {
    pub collection: CollectionRef,
    pub role_id: i64,
    pub grantees: Vec<Grantee>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct UserStatistics {
    pub created: String,
    pub collection_grant_count: usize,
    pub last_claims: Value,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct UserGroupRef {
    #[serde(with = "crate::id_string")]
    pub user_group_id: i64,
    pub name: String,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct User {
    #[serde(with = "crate::id_string")]
    pub user_id: i64,
    pub username: String,
    pub display_name: String,
    pub email: Option<String>,
    pub last_access: Option<i64>,
    pub privileges: Privileges,
    pub status: String,
    pub status_date: String,
    #[serde(with = "crate::opt_id_string")]
    pub status_user: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub collection_grants: Option<Vec<CollectionGrantInfo>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub statistics: Option<UserStatistics>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_groups: Option<Vec<UserGroupRef>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub web_preferences: Option<Value>,
}

/// A grant in user and group bodies: `{collectionId, roleId}`.
#[derive(Debug, Clone, serde::Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CollectionGrantWrite {
    #[serde(with = "crate::id_string")]
    pub collection_id: i64,
    pub role_id: i64,
}

/// `POST /users` and `PUT`/`PATCH /users/{userId}` bodies (PATCH: every key optional).
#[derive(Debug, Clone, Default, serde::Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UserWrite {
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub collection_grants: Option<Vec<CollectionGrantWrite>>,
    #[serde(default)]
    pub user_groups: Option<Vec<crate::IdString>>,
}

/// `PATCH /user/web-preferences`.
#[derive(Debug, Clone, Default, serde::Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WebPreferencesPatch {
    #[serde(default)]
    pub dark_mode: Option<bool>,
    #[serde(default)]
    pub last_whats_new: Option<String>,
}

/// `POST`/`PUT`/`PATCH /user-groups` bodies.
#[derive(Debug, Clone, Default, serde::Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UserGroupWrite {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default, with = "crate::collection::double_option")]
    pub description: Option<Option<String>>,
    #[serde(default)]
    pub user_ids: Option<Vec<crate::IdString>>,
    #[serde(default)]
    pub collection_grants: Option<Vec<CollectionGrantWrite>>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct GroupMember {
    #[serde(with = "crate::id_string")]
    pub user_id: i64,
    pub username: String,
    pub display_name: String,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct GroupGrant {
    pub role_id: i64,
    pub collection: GroupCollection,
}

/// A collection in a group's grants; the name is null for a deleted collection.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct GroupCollection {
    #[serde(with = "crate::id_string")]
    pub collection_id: i64,
    pub name: Option<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Attribution {
    #[serde(with = "crate::opt_id_string")]
    pub user_id: Option<i64>,
    pub username: Option<String>,
    pub ts: String,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Attributions {
    pub created: Attribution,
    pub modified: Attribution,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct UserGroup {
    #[serde(with = "crate::id_string")]
    pub user_group_id: i64,
    pub name: String,
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub users: Option<Vec<GroupMember>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub collection_grants: Option<Vec<GroupGrant>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attributions: Option<Attributions>,
}
