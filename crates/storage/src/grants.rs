//! Effective grants: what role a user holds in a collection once direct and group grants meet.
//! A direct grant overrides every group grant; among groups the highest role wins.

use std::collections::BTreeMap;

use sqlx::Row;
use stigward_domain::Role;
use stigward_wire::collection::CollectionRef;
use stigward_wire::user::{CollectionGrantInfo, Grantee};

use crate::{Result, Store, StoreError};

/// A user's effective access to one enabled collection.
#[derive(Debug, Clone, PartialEq)]
pub struct EffectiveGrant {
    pub collection_id: i64,
    pub collection_name: String,
    pub role: Role,
    /// The grants that produced the role (one direct grant, or every group grant at the role).
    pub grant_ids: Vec<i64>,
    pub grantees: Vec<Grantee>,
}

impl EffectiveGrant {
    pub fn info(&self) -> CollectionGrantInfo {
        CollectionGrantInfo {
            collection: CollectionRef {
                collection_id: self.collection_id,
                name: self.collection_name.clone(),
            },
            role_id: self.role.id(),
            grantees: self.grantees.clone(),
        }
    }
}

struct GrantRow {
    collection_id: i64,
    collection_name: String,
    role: Role,
    grant_id: i64,
    grantee: Grantee,
    direct: bool,
}

const GRANTS_OF_USER: &str = "
    SELECT g.collection_id, c.name AS collection_name, g.role_id, g.grant_id,
           u.user_id, u.username, NULL AS user_group_id, NULL AS group_name
    FROM collection_grant g
    JOIN collection c ON c.collection_id = g.collection_id AND c.state = 'enabled'
    JOIN user_data u ON u.user_id = g.user_id
    WHERE g.user_id = $1 AND ($2 IS NULL OR g.collection_id = $2)
    UNION ALL
    SELECT g.collection_id, c.name, g.role_id, g.grant_id,
           NULL, NULL, ug.user_group_id, ug.name
    FROM collection_grant g
    JOIN collection c ON c.collection_id = g.collection_id AND c.state = 'enabled'
    JOIN user_group ug ON ug.user_group_id = g.user_group_id
    JOIN user_group_user_map m ON m.user_group_id = g.user_group_id
    WHERE m.user_id = $1 AND ($2 IS NULL OR g.collection_id = $2)";

impl Store {
    /// Every enabled collection the user can reach, ordered by collection name.
    pub async fn effective_grants(&self, user_id: i64) -> Result<Vec<EffectiveGrant>> {
        let mut grants = self.grant_rows(user_id, None).await?;
        grants.sort_by(|a, b| a.collection_name.cmp(&b.collection_name));
        Ok(grants)
    }

    /// The user's effective grant in one collection, if any.
    pub async fn effective_grant(
        &self,
        user_id: i64,
        collection_id: i64,
    ) -> Result<Option<EffectiveGrant>> {
        Ok(self.grant_rows(user_id, Some(collection_id)).await?.into_iter().next())
    }

    async fn grant_rows(
        &self,
        user_id: i64,
        collection_id: Option<i64>,
    ) -> Result<Vec<EffectiveGrant>> {
        let rows = sqlx::query(GRANTS_OF_USER)
            .bind(user_id)
            .bind(collection_id)
            .fetch_all(&self.pool)
            .await?;
        let rows: Vec<GrantRow> = rows.iter().map(grant_row).collect::<Result<_>>()?;
        Ok(resolve(rows))
    }
}

fn grant_row(row: &sqlx::any::AnyRow) -> Result<GrantRow> {
    let role_id: i64 = row.try_get("role_id")?;
    let role = Role::try_from(role_id).map_err(StoreError::Corrupt)?;
    let user_id: Option<i64> = row.try_get("user_id")?;
    let grantee = match user_id {
        Some(user_id) => Grantee::User { user_id, username: row.try_get("username")? },
        None => Grantee::Group {
            user_group_id: row.try_get("user_group_id")?,
            name: row.try_get("group_name")?,
        },
    };
    Ok(GrantRow {
        collection_id: row.try_get("collection_id")?,
        collection_name: row.try_get("collection_name")?,
        role,
        grant_id: row.try_get("grant_id")?,
        direct: user_id.is_some(),
        grantee,
    })
}

/// Folds the raw grants into one effective grant per collection.
fn resolve(rows: Vec<GrantRow>) -> Vec<EffectiveGrant> {
    let mut by_collection: BTreeMap<i64, Vec<GrantRow>> = BTreeMap::new();
    for row in rows {
        by_collection.entry(row.collection_id).or_default().push(row);
    }
    by_collection.into_values().filter_map(effective).collect()
}

fn effective(rows: Vec<GrantRow>) -> Option<EffectiveGrant> {
    let direct = rows.iter().any(|r| r.direct);
    let winners: Vec<&GrantRow> = if direct {
        rows.iter().filter(|r| r.direct).collect()
    } else {
        let top = rows.iter().map(|r| r.role).max()?;
        rows.iter().filter(|r| r.role == top).collect()
    };
    let first = winners.first()?;
    Some(EffectiveGrant {
        collection_id: first.collection_id,
        collection_name: first.collection_name.clone(),
        role: first.role,
        grant_ids: winners.iter().map(|r| r.grant_id).collect(),
        grantees: winners.iter().map(|r| r.grantee.clone()).collect(),
    })
}

/// A raw grant of a collection, as the grant endpoints read and write it.
#[derive(Debug, Clone, PartialEq)]
pub struct GrantRecord {
    pub grant_id: i64,
    pub collection_id: i64,
    pub user_id: Option<i64>,
    pub user_group_id: Option<i64>,
    pub role: Role,
}

impl Store {
    /// One grant of a collection; `None` when the grant is absent or belongs elsewhere.
    pub async fn grant_record(
        &self,
        collection_id: i64,
        grant_id: i64,
    ) -> Result<Option<GrantRecord>> {
        let row = sqlx::query(
            "SELECT grant_id, collection_id, user_id, user_group_id, role_id FROM collection_grant
             WHERE grant_id = $1 AND collection_id = $2",
        )
        .bind(grant_id)
        .bind(collection_id)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|row| {
            Ok(GrantRecord {
                grant_id: row.try_get("grant_id")?,
                collection_id: row.try_get("collection_id")?,
                user_id: row.try_get("user_id")?,
                user_group_id: row.try_get("user_group_id")?,
                role: Role::try_from(row.try_get::<i64, _>("role_id")?)
                    .map_err(StoreError::Corrupt)?,
            })
        })
        .transpose()
    }

    /// Adds grants to a collection; a grantee that already has one is a `Conflict`.
    pub async fn insert_grants(
        &self,
        collection_id: i64,
        grants: &[stigward_wire::collection::GrantWrite],
    ) -> Result<Vec<i64>> {
        let mut write = self.begin_write().await?;
        let mut ids = Vec::new();
        for grant in grants {
            let row = sqlx::query(
                "INSERT INTO collection_grant (collection_id, user_id, user_group_id, role_id)
                 VALUES ($1, $2, $3, $4) RETURNING grant_id",
            )
            .bind(collection_id)
            .bind(grant.user_id)
            .bind(grant.user_group_id)
            .bind(grant.role_id)
            .fetch_one(&mut *write.tx)
            .await
            .map_err(|e| crate::conflict_on_unique(e, "grantee has a conflicting grant"))?;
            ids.push(row.try_get("grant_id")?);
        }
        write.commit().await?;
        Ok(ids)
    }

    /// Moves a grant to another grantee or role, keeping its id and ACL; a role change drops
    /// the grant's `none` rules, which only restricted grants may hold.
    pub async fn update_grant(
        &self,
        grant: &GrantRecord,
        to: &stigward_wire::collection::GrantWrite,
    ) -> Result<()> {
        let mut write = self.begin_write().await?;
        sqlx::query(
            "UPDATE collection_grant SET user_id = $2, user_group_id = $3, role_id = $4
             WHERE grant_id = $1",
        )
        .bind(grant.grant_id)
        .bind(to.user_id)
        .bind(to.user_group_id)
        .bind(to.role_id)
        .execute(&mut *write.tx)
        .await
        .map_err(|e| crate::conflict_on_unique(e, "grantee has a conflicting grant"))?;
        if to.role_id != grant.role.id() {
            sqlx::query("DELETE FROM collection_grant_acl WHERE grant_id = $1 AND access = 'none'")
                .bind(grant.grant_id)
                .execute(&mut *write.tx)
                .await?;
        }
        write.commit().await
    }

    pub async fn delete_grant(&self, grant_id: i64) -> Result<()> {
        let mut write = self.begin_write().await?;
        sqlx::query("DELETE FROM collection_grant WHERE grant_id = $1")
            .bind(grant_id)
            .execute(&mut *write.tx)
            .await?;
        write.commit().await
    }

    /// Every grant of a user or group (`None`) in a collection, for the owner-set checks.
    pub async fn grant_records(&self, collection_id: i64) -> Result<Vec<GrantRecord>> {
        let rows = sqlx::query(
            "SELECT grant_id FROM collection_grant WHERE collection_id = $1 ORDER BY grant_id",
        )
        .bind(collection_id)
        .fetch_all(&self.pool)
        .await?;
        let mut out = Vec::new();
        for row in &rows {
            if let Some(grant) = self.grant_record(collection_id, row.try_get(0)?).await? {
                out.push(grant);
            }
        }
        Ok(out)
    }
}

/// `none` rules are only valid on restricted grants; removes them from every other grant.
pub(crate) async fn drop_none_rules_of_unrestricted(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    collection_id: i64,
) -> Result<()> {
    sqlx::query(
        "DELETE FROM collection_grant_acl WHERE access = 'none' AND grant_id IN (
             SELECT grant_id FROM collection_grant WHERE collection_id = $1 AND role_id <> 1)",
    )
    .bind(collection_id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}
