//! User accounts: lookup by name, creation on first sight of a token, and the `GET /user` view.

use serde_json::Value;
use sqlx::Row;
use stigward_wire::user::{CollectionGrantInfo, User, UserGroupRef, UserStatistics};

use crate::{conflict_on_unique, json_column, Result, Store, StoreError};

/// What the request pipeline needs to know about a token's user.
#[derive(Debug, Clone, PartialEq)]
pub struct UserRow {
    pub user_id: i64,
    pub username: String,
    pub last_access: Option<i64>,
    pub last_claims: Value,
    pub available: bool,
}

/// Optional parts of a user in reads.
#[derive(Debug, Clone, Copy, Default)]
pub struct UserProjection {
    pub collection_grants: bool,
    pub statistics: bool,
    pub user_groups: bool,
    pub web_preferences: bool,
}

/// Filters of `GET /users`.
#[derive(Debug, Clone, Default)]
pub struct UserFilter {
    pub username: Option<crate::collections::NameFilter>,
    pub privilege: Option<String>,
    pub status: Option<String>,
}

/// A user write: creation or a change of name, status, direct grants and groups.
#[derive(Debug, Clone, Default)]
pub struct UserChange {
    pub username: Option<String>,
    pub status: Option<String>,
    /// `(collectionId, roleId)` pairs replacing the user's direct grants.
    pub grants: Option<Vec<(i64, i64)>>,
    pub groups: Option<Vec<i64>>,
}

/// The names under which a user's display name and email are read from the stored claims.
#[derive(Debug, Clone)]
pub struct ClaimNames {
    pub name: String,
    pub email: String,
    /// Dotted path of the privileges (`STIGMAN_JWT_PRIVILEGES_CLAIM`).
    pub privileges: String,
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
        let projection = UserProjection {
            collection_grants: true,
            statistics: true,
            user_groups: true,
            web_preferences: with_web_preferences,
        };
        self.user_view(user_id, names, projection).await
    }

    /// One user with the requested projections; `NotFound` when absent.
    pub async fn user_view(
        &self,
        user_id: i64,
        names: &ClaimNames,
        p: UserProjection,
    ) -> Result<User> {
        let row = sqlx::query(
            "SELECT user_id, username, last_access, last_claims, status, status_date,
                    status_user_id, created, web_preferences
             FROM user_data WHERE user_id = $1 AND task_id IS NULL",
        )
        .bind(user_id)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)?;
        let claims = json_column(&row.try_get::<String, _>("last_claims")?, "last_claims")?;
        let username: String = row.try_get("username")?;
        let grants = match p.collection_grants || p.statistics {
            true => self.effective_grants(user_id).await?,
            false => Vec::new(),
        };
        let grant_infos: Vec<CollectionGrantInfo> = grants.iter().map(|g| g.info()).collect();
        let prefs = json_column(&row.try_get::<String, _>("web_preferences")?, "web_preferences")?;
        Ok(User {
            user_id,
            display_name: claim_text(&claims, &names.name).unwrap_or_else(|| username.clone()),
            email: claim_text(&claims, &names.email),
            username,
            last_access: row.try_get("last_access")?,
            privileges: stored_privileges(&claims, &names.privileges),
            status: row.try_get("status")?,
            status_date: stigward_domain::iso_seconds(row.try_get("status_date")?),
            status_user: row.try_get("status_user_id")?,
            statistics: match p.statistics {
                true => Some(UserStatistics {
                    created: stigward_domain::iso_seconds(row.try_get("created")?),
                    collection_grant_count: grant_infos.len(),
                    last_claims: claims,
                }),
                false => None,
            },
            collection_grants: p.collection_grants.then_some(grant_infos),
            user_groups: match p.user_groups {
                true => Some(self.user_groups_of(user_id).await?),
                false => None,
            },
            web_preferences: p.web_preferences.then_some(prefs),
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

/// Privileges as the stored claims show them at the configured dotted path; `GET /user`
/// replaces these with the ones in the current token.
fn stored_privileges(claims: &Value, path: &str) -> stigward_wire::user::Privileges {
    let roles = path.split('.').try_fold(claims, |value, segment| value.get(segment));
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

impl Store {
    /// Users by username, filtered; task accounts are never listed.
    pub async fn users(
        &self,
        filter: &UserFilter,
        names: &ClaimNames,
        p: UserProjection,
    ) -> Result<Vec<User>> {
        let rows = sqlx::query(
            "SELECT user_id, username, status, last_claims FROM user_data WHERE task_id IS NULL
             ORDER BY username",
        )
        .fetch_all(&self.pool)
        .await?;
        let mut out = Vec::new();
        for row in &rows {
            let username: String = row.try_get("username")?;
            let status: String = row.try_get("status")?;
            let claims = json_column(&row.try_get::<String, _>("last_claims")?, "last_claims")?;
            let privileges = stored_privileges(&claims, &names.privileges);
            let privileged = match filter.privilege.as_deref() {
                Some("admin") => privileges.admin,
                Some("create_collection") => privileges.create_collection,
                _ => true,
            };
            let wanted = filter.username.as_ref().is_none_or(|f| f.matches(&username))
                && filter.status.as_ref().is_none_or(|s| *s == status)
                && privileged;
            if wanted {
                out.push(self.user_view(row.try_get("user_id")?, names, p).await?);
            }
        }
        Ok(out)
    }

    /// Collection ids that are not enabled collections.
    pub async fn invalid_collections(&self, ids: &[i64]) -> Result<bool> {
        for id in ids {
            let row = sqlx::query(
                "SELECT 1 FROM collection WHERE collection_id = $1 AND state = 'enabled'",
            )
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
            if row.is_none() {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Creates a pre-registered user (never logged in: no last access, empty claims).
    pub async fn create_user(&self, change: &UserChange, now: i64) -> Result<i64> {
        let mut write = self.begin_write().await?;
        let row = sqlx::query(
            "INSERT INTO user_data (username, created, status_date) VALUES ($1, $2, $2)
             RETURNING user_id",
        )
        .bind(&change.username)
        .bind(now)
        .fetch_one(&mut *write.tx)
        .await
        .map_err(|e| conflict_on_unique(e, "Duplicate name exists."))?;
        let user_id: i64 = row.try_get("user_id")?;
        apply_user_links(&mut write.tx, user_id, change).await?;
        write.commit().await?;
        Ok(user_id)
    }

    /// Changes a user; a status change records who made it and when.
    pub async fn update_user(
        &self,
        user_id: i64,
        change: &UserChange,
        by: i64,
        now: i64,
    ) -> Result<()> {
        let mut write = self.begin_write().await?;
        if let Some(username) = &change.username {
            sqlx::query("UPDATE user_data SET username = $2 WHERE user_id = $1")
                .bind(user_id)
                .bind(username)
                .execute(&mut *write.tx)
                .await
                .map_err(|e| conflict_on_unique(e, "Duplicate name exists."))?;
        }
        if let Some(status) = &change.status {
            sqlx::query(
                "UPDATE user_data SET status = $2, status_user_id = $3, status_date = $4
                 WHERE user_id = $1",
            )
            .bind(user_id)
            .bind(status)
            .bind(by)
            .bind(now)
            .execute(&mut *write.tx)
            .await?;
        }
        apply_user_links(&mut write.tx, user_id, change).await?;
        write.commit().await
    }

    pub async fn delete_user(&self, user_id: i64) -> Result<()> {
        let mut write = self.begin_write().await?;
        sqlx::query("DELETE FROM user_data WHERE user_id = $1")
            .bind(user_id)
            .execute(&mut *write.tx)
            .await?;
        write.commit().await
    }

    pub async fn web_preferences(&self, user_id: i64) -> Result<Value> {
        let row = sqlx::query("SELECT web_preferences FROM user_data WHERE user_id = $1")
            .bind(user_id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound)?;
        json_column(&row.try_get::<String, _>(0)?, "web_preferences")
    }

    pub async fn set_web_preferences(&self, user_id: i64, prefs: &Value) -> Result<()> {
        let mut write = self.begin_write().await?;
        sqlx::query("UPDATE user_data SET web_preferences = $2 WHERE user_id = $1")
            .bind(user_id)
            .bind(prefs.to_string())
            .execute(&mut *write.tx)
            .await?;
        write.commit().await
    }
}

/// Replaces a user's direct grants (keeping the ids of collections that stay) and groups.
async fn apply_user_links(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    user_id: i64,
    change: &UserChange,
) -> Result<()> {
    if let Some(grants) = &change.grants {
        let rows =
            sqlx::query("SELECT grant_id, collection_id FROM collection_grant WHERE user_id = $1")
                .bind(user_id)
                .fetch_all(&mut **tx)
                .await?;
        for row in &rows {
            let collection: i64 = row.try_get("collection_id")?;
            if !grants.iter().any(|(c, _)| *c == collection) {
                sqlx::query("DELETE FROM collection_grant WHERE grant_id = $1")
                    .bind(row.try_get::<i64, _>("grant_id")?)
                    .execute(&mut **tx)
                    .await?;
            }
        }
        for (collection_id, role_id) in grants {
            sqlx::query(
                "INSERT INTO collection_grant (collection_id, user_id, role_id) VALUES ($1, $2, $3)
                 ON CONFLICT (collection_id, user_id) WHERE user_id IS NOT NULL
                 DO UPDATE SET role_id = excluded.role_id",
            )
            .bind(collection_id)
            .bind(user_id)
            .bind(role_id)
            .execute(&mut **tx)
            .await?;
            crate::grants::drop_none_rules_of_unrestricted(tx, *collection_id).await?;
        }
    }
    if let Some(groups) = &change.groups {
        sqlx::query("DELETE FROM user_group_user_map WHERE user_id = $1")
            .bind(user_id)
            .execute(&mut **tx)
            .await?;
        for group in groups.iter().collect::<std::collections::BTreeSet<_>>() {
            sqlx::query("INSERT INTO user_group_user_map (user_group_id, user_id) VALUES ($1, $2)")
                .bind(group)
                .bind(user_id)
                .execute(&mut **tx)
                .await?;
        }
    }
    Ok(())
}
