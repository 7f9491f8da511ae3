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
