//! User accounts: lookup by name, creation on first sight of a token, and the `GET /user` view.

use serde_json::Value;
use sqlx::Row;
use stigward_wire::user::{CollectionGrantInfo, User, UserGroupRef, UserStatistics};

use crate::{json_column, Result, Store, StoreError};

/// What the request pipeline needs to know about a token's user.
#[derive(Debug, Clone, PartialEq)]
pub struct UserRow {
    pub user_id: i64,
    pub username: String,
    pub last_access: Option<i64>,
    pub last_claims: Value,
    pub available: bool,
}

/// The names under which a user's display name and email are read from the stored claims.
#[derive(Debug, Clone)]
pub struct ClaimNames {
    pub name: String,
    pub email: String,
}

impl Store {
    pub async fn user_by_name(&self, username: &str) -> Result<Option<UserRow>> {
        let row = sqlx::query(
            "SELECT user_id, username, last_access, last_claims, status FROM user_data
             WHERE lower(username) = lower($1)",
        )
        .bind(username)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|row| {
            let claims: String = row.try_get("last_claims")?;
            let status: String = row.try_get("status")?;
            Ok(UserRow {
                user_id: row.try_get("user_id")?,
                username: row.try_get("username")?,
                last_access: row.try_get("last_access")?,
                last_claims: json_column(&claims, "user_data.last_claims")?,
                available: status == "available",
            })
        })
        .transpose()
    }

    /// Creates a user first seen in a token. A concurrent request may have created the same user;
    /// then that row is returned.
    pub async fn create_user_from_token(
        &self,
        username: &str,
        now: i64,
        claims: &Value,
    ) -> Result<i64> {
        let inserted = sqlx::query(
            "INSERT INTO user_data (username, created, last_access, last_claims, status_date)
             VALUES ($1, $2, $2, $3, $2) ON CONFLICT DO NOTHING RETURNING user_id",
        )
        .bind(username)
        .bind(now)
        .bind(claims.to_string())
        .fetch_optional(&self.pool)
        .await?;
        match inserted {
            Some(row) => Ok(row.try_get("user_id")?),
            None => {
                self.user_by_name(username).await?.map(|u| u.user_id).ok_or(StoreError::NotFound)
            }
        }
    }

    /// Records a later visit: the access time and, when the token is a new one, its claims.
    pub async fn record_user_visit(
        &self,
        user_id: i64,
        last_access: Option<i64>,
        claims: Option<&Value>,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE user_data SET last_access = COALESCE($2, last_access),
                 last_claims = COALESCE($3, last_claims)
             WHERE user_id = $1",
        )
        .bind(user_id)
        .bind(last_access)
        .bind(claims.map(Value::to_string))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The requester's own record with grants, statistics and groups.
    pub async fn user_info(
        &self,
        user_id: i64,
        names: &ClaimNames,
        with_web_preferences: bool,
    ) -> Result<User> {
        let row = sqlx::query(
            "SELECT user_id, username, last_access, last_claims, status, status_date,
                    status_user_id, created, web_preferences
             FROM user_data WHERE user_id = $1",
        )
        .bind(user_id)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)?;
        let claims = json_column(&row.try_get::<String, _>("last_claims")?, "last_claims")?;
        let username: String = row.try_get("username")?;
        let grants = self.effective_grants(user_id).await?;
        let grant_infos: Vec<CollectionGrantInfo> = grants.iter().map(|g| g.info()).collect();
        let prefs = json_column(&row.try_get::<String, _>("web_preferences")?, "web_preferences")?;
        Ok(User {
            user_id,
            display_name: claim_text(&claims, &names.name).unwrap_or_else(|| username.clone()),
            email: claim_text(&claims, &names.email),
            username,
            last_access: row.try_get("last_access")?,
            privileges: stored_privileges(&claims),
            status: row.try_get("status")?,
            status_date: stigward_domain::iso_seconds(row.try_get("status_date")?),
            status_user: row.try_get("status_user_id")?,
            statistics: Some(UserStatistics {
                created: stigward_domain::iso_seconds(row.try_get("created")?),
                collection_grant_count: grant_infos.len(),
                last_claims: claims,
            }),
            collection_grants: Some(grant_infos),
            user_groups: Some(self.user_groups_of(user_id).await?),
            web_preferences: with_web_preferences.then_some(prefs),
        })
    }

    async fn user_groups_of(&self, user_id: i64) -> Result<Vec<UserGroupRef>> {
        let rows = sqlx::query(
            "SELECT g.user_group_id, g.name FROM user_group g
             JOIN user_group_user_map m ON m.user_group_id = g.user_group_id
             WHERE m.user_id = $1 ORDER BY g.name",
        )
        .bind(user_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| Ok(UserGroupRef { user_group_id: r.try_get(0)?, name: r.try_get(1)? }))
            .collect()
    }
}

fn claim_text(claims: &Value, name: &str) -> Option<String> {
    claims.get(name).and_then(Value::as_str).map(str::to_string)
}

/// Privileges as the stored claims of the default provider layout show them; `GET /user`
/// replaces these with the ones in the current token.
fn stored_privileges(claims: &Value) -> stigward_wire::user::Privileges {
    let roles = claims.pointer("/realm_access/roles");
    let has = |p: &str| match roles {
        Some(Value::Array(items)) => items.iter().any(|v| v.as_str() == Some(p)),
        Some(Value::String(s)) => s.contains(p),
        _ => false,
    };
    stigward_wire::user::Privileges {
        create_collection: has("create_collection"),
        admin: has("admin"),
    }
}
