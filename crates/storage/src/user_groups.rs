//! User groups: their members, their own collection grants and who made or changed them.

use sqlx::{Any, Row, Transaction};
use stigward_wire::user::{
    Attribution, Attributions, GroupCollection, GroupGrant, GroupMember, UserGroup,
};

use crate::users::ClaimNames;
use crate::{conflict_on_unique, json_column, Result, Store, StoreError};

/// Optional parts of a group in reads.
#[derive(Debug, Clone, Copy, Default)]
pub struct GroupProjection {
    pub users: bool,
    pub collection_grants: bool,
    pub attributions: bool,
}

/// A group write; absent parts are kept.
#[derive(Debug, Clone, Default)]
pub struct GroupChange {
    pub name: Option<String>,
    pub description: Option<Option<String>>,
    pub user_ids: Option<Vec<i64>>,
    pub grants: Option<Vec<(i64, i64)>>,
}

impl Store {
    pub async fn user_groups(
        &self,
        names: &ClaimNames,
        p: GroupProjection,
    ) -> Result<Vec<UserGroup>> {
        let rows = sqlx::query("SELECT user_group_id FROM user_group ORDER BY name")
            .fetch_all(&self.pool)
            .await?;
        let mut out = Vec::new();
        for row in &rows {
            out.extend(self.user_group(row.try_get(0)?, names, p).await?);
        }
        Ok(out)
    }

    pub async fn user_group(
        &self,
        id: i64,
        names: &ClaimNames,
        p: GroupProjection,
    ) -> Result<Option<UserGroup>> {
        let row = sqlx::query(
            "SELECT g.user_group_id, g.name, g.description, g.created_user_id, g.created_date,
                    g.modified_user_id, g.modified_date,
                    cu.username AS created_name, mu.username AS modified_name
             FROM user_group g
             LEFT JOIN user_data cu ON cu.user_id = g.created_user_id
             LEFT JOIN user_data mu ON mu.user_id = g.modified_user_id
             WHERE g.user_group_id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let attribution = |user: &str, name: &str, ts: &str| -> Result<Attribution> {
            Ok(Attribution {
                user_id: row.try_get(user)?,
                username: row.try_get(name)?,
                ts: stigward_domain::iso_seconds(row.try_get(ts)?),
            })
        };
        Ok(Some(UserGroup {
            user_group_id: id,
            name: row.try_get("name")?,
            description: row.try_get("description")?,
            users: if p.users { Some(self.group_members(id, names).await?) } else { None },
            collection_grants: match p.collection_grants {
                true => Some(self.group_grants(id).await?),
                false => None,
            },
            attributions: match p.attributions {
                true => Some(Attributions {
                    created: attribution("created_user_id", "created_name", "created_date")?,
                    modified: attribution("modified_user_id", "modified_name", "modified_date")?,
                }),
                false => None,
            },
        }))
    }

    async fn group_members(&self, id: i64, names: &ClaimNames) -> Result<Vec<GroupMember>> {
        let rows = sqlx::query(
            "SELECT u.user_id, u.username, u.last_claims FROM user_data u
             JOIN user_group_user_map m ON m.user_id = u.user_id
             WHERE m.user_group_id = $1 ORDER BY u.username",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let username: String = r.try_get("username")?;
                let claims = json_column(&r.try_get::<String, _>("last_claims")?, "last_claims")?;
                let display = claims.get(&names.name).and_then(|v| v.as_str()).map(str::to_string);
                Ok(GroupMember {
                    user_id: r.try_get("user_id")?,
                    display_name: display.unwrap_or_else(|| username.clone()),
                    username,
                })
            })
            .collect()
    }

    async fn group_grants(&self, id: i64) -> Result<Vec<GroupGrant>> {
        let rows = sqlx::query(
            "SELECT g.role_id, g.collection_id,
                    CASE WHEN c.state = 'enabled' THEN c.name ELSE NULL END AS name
             FROM collection_grant g JOIN collection c ON c.collection_id = g.collection_id
             WHERE g.user_group_id = $1 ORDER BY g.collection_id",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(GroupGrant {
                    role_id: r.try_get("role_id")?,
                    collection: GroupCollection {
                        collection_id: r.try_get("collection_id")?,
                        name: r.try_get("name")?,
                    },
                })
            })
            .collect()
    }

    pub async fn create_user_group(&self, change: &GroupChange, by: i64, now: i64) -> Result<i64> {
        let mut write = self.begin_write().await?;
        let row = sqlx::query(
            "INSERT INTO user_group (name, description, created_user_id, created_date,
                 modified_user_id, modified_date)
             VALUES ($1, $2, $3, $4, $3, $4) RETURNING user_group_id",
        )
        .bind(&change.name)
        .bind(change.description.clone().flatten())
        .bind(by)
        .bind(now)
        .fetch_one(&mut *write.tx)
        .await
        .map_err(|e| conflict_on_unique(e, "Group name is already in use."))?;
        let id: i64 = row.try_get(0)?;
        apply_group_links(&mut write.tx, id, change).await?;
        write.commit().await?;
        Ok(id)
    }

    /// Merges a change into a group (PUT and PATCH alike, as upstream).
    pub async fn update_user_group(
        &self,
        id: i64,
        change: &GroupChange,
        by: i64,
        now: i64,
    ) -> Result<()> {
        let mut write = self.begin_write().await?;
        let done = sqlx::query(
            "UPDATE user_group SET name = COALESCE($2, name), modified_user_id = $3,
                 modified_date = $4 WHERE user_group_id = $1",
        )
        .bind(id)
        .bind(&change.name)
        .bind(by)
        .bind(now)
        .execute(&mut *write.tx)
        .await
        .map_err(|e| conflict_on_unique(e, "Group name is already in use."))?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        if let Some(description) = &change.description {
            sqlx::query("UPDATE user_group SET description = $2 WHERE user_group_id = $1")
                .bind(id)
                .bind(description)
                .execute(&mut *write.tx)
                .await?;
        }
        apply_group_links(&mut write.tx, id, change).await?;
        write.commit().await
    }

    pub async fn delete_user_group(&self, id: i64) -> Result<()> {
        let mut write = self.begin_write().await?;
        sqlx::query("DELETE FROM user_group WHERE user_group_id = $1")
            .bind(id)
            .execute(&mut *write.tx)
            .await?;
        write.commit().await
    }
}

async fn apply_group_links(
    tx: &mut Transaction<'static, Any>,
    id: i64,
    change: &GroupChange,
) -> Result<()> {
    if let Some(users) = &change.user_ids {
        sqlx::query("DELETE FROM user_group_user_map WHERE user_group_id = $1")
            .bind(id)
            .execute(&mut **tx)
            .await?;
        for user in users.iter().collect::<std::collections::BTreeSet<_>>() {
            sqlx::query("INSERT INTO user_group_user_map (user_group_id, user_id) VALUES ($1, $2)")
                .bind(id)
                .bind(user)
                .execute(&mut **tx)
                .await?;
        }
    }
    if let Some(grants) = &change.grants {
        let rows = sqlx::query(
            "SELECT grant_id, collection_id FROM collection_grant WHERE user_group_id = $1",
        )
        .bind(id)
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
                "INSERT INTO collection_grant (collection_id, user_group_id, role_id)
                 VALUES ($1, $2, $3)
                 ON CONFLICT (collection_id, user_group_id) WHERE user_group_id IS NOT NULL
                 DO UPDATE SET role_id = excluded.role_id",
            )
            .bind(collection_id)
            .bind(id)
            .bind(role_id)
            .execute(&mut **tx)
            .await?;
            crate::grants::drop_none_rules_of_unrestricted(tx, *collection_id).await?;
        }
    }
    Ok(())
}
