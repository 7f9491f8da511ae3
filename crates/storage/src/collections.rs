//! Collections: creation with grants and labels, and the projected reads.

use serde_json::{Map, Value};
use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};
use stigward_wire::collection::{
    AssetRef, Collection, CollectionCreate, CollectionStatistics, CollectionStig, GrantRead,
    GroupSummary, Label, Owner, UserSummary,
};

use crate::{conflict_on_unique, json_column, Result, Store, StoreError};

/// Optional parts of a collection in reads.
#[derive(Debug, Clone, Copy, Default)]
pub struct CollectionProjection {
    pub assets: bool,
    pub grants: bool,
    pub owners: bool,
    pub statistics: bool,
    pub stigs: bool,
    pub labels: bool,
}

impl Store {
    /// Creates a collection with its grants and labels; `settings` is already merged.
    pub async fn create_collection(
        &self,
        body: &CollectionCreate,
        settings: &Value,
        now: i64,
    ) -> Result<i64> {
        let mut write = self.begin_write().await?;
        let metadata = Value::Object(body.metadata.clone().unwrap_or_default());
        let row = sqlx::query(
            "INSERT INTO collection (name, description, settings, metadata, created)
             VALUES ($1, $2, $3, $4, $5) RETURNING collection_id",
        )
        .bind(&body.name)
        .bind(&body.description)
        .bind(settings.to_string())
        .bind(metadata.to_string())
        .bind(now)
        .fetch_one(&mut *write.tx)
        .await
        .map_err(|e| conflict_on_unique(e, "Duplicate name exists."))?;
        let collection_id: i64 = row.try_get("collection_id")?;
        insert_grants(&mut write.tx, collection_id, body).await?;
        for label in body.labels.iter().flatten() {
            sqlx::query(
                "INSERT INTO collection_label (collection_id, uuid, name, description, color)
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(collection_id)
            .bind(uuid::Uuid::new_v4().to_string())
            .bind(&label.name)
            .bind(&label.description)
            .bind(&label.color)
            .execute(&mut *write.tx)
            .await
            .map_err(|e| conflict_on_unique(e, "Duplicate label name."))?;
        }
        write.commit().await?;
        Ok(collection_id)
    }

    /// Collections by id (`None`: every enabled collection), filtered by name, ordered by name.
    pub async fn collections(
        &self,
        ids: Option<&[i64]>,
        name: Option<&NameFilter>,
        projection: CollectionProjection,
    ) -> Result<Vec<Collection>> {
        let rows = sqlx::query(
            "SELECT collection_id, name, description, settings, metadata, created
             FROM collection WHERE state = 'enabled' ORDER BY name",
        )
        .fetch_all(&self.pool)
        .await?;
        let mut out = Vec::new();
        for row in &rows {
            let id: i64 = row.try_get("collection_id")?;
            let row_name: String = row.try_get("name")?;
            let wanted = ids.is_none_or(|ids| ids.contains(&id))
                && name.is_none_or(|f| f.matches(&row_name));
            if wanted {
                out.push(self.project(row, projection).await?);
            }
        }
        Ok(out)
    }

    /// One enabled collection; `NotFound` when absent or deleted.
    pub async fn collection(
        &self,
        id: i64,
        projection: CollectionProjection,
    ) -> Result<Collection> {
        let row = sqlx::query(
            "SELECT collection_id, name, description, settings, metadata, created
             FROM collection WHERE collection_id = $1 AND state = 'enabled'",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)?;
        self.project(&row, projection).await
    }

    /// The stored settings of an enabled collection.
    pub async fn collection_settings(&self, id: i64) -> Result<Value> {
        let row = sqlx::query(
            "SELECT settings FROM collection WHERE collection_id = $1 AND state = 'enabled'",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)?;
        json_column(&row.try_get::<String, _>("settings")?, "collection.settings")
    }

    async fn project(&self, row: &AnyRow, p: CollectionProjection) -> Result<Collection> {
        let id: i64 = row.try_get("collection_id")?;
        let created: i64 = row.try_get("created")?;
        Ok(Collection {
            collection_id: id,
            name: row.try_get("name")?,
            description: row.try_get("description")?,
            settings: json_column(&row.try_get::<String, _>("settings")?, "settings")?,
            metadata: json_column(&row.try_get::<String, _>("metadata")?, "metadata")?,
            assets: if p.assets { Some(self.collection_assets(id).await?) } else { None },
            grants: if p.grants { Some(self.collection_grants(id).await?) } else { None },
            owners: if p.owners { Some(self.collection_owners(id).await?) } else { None },
            statistics: match p.statistics {
                true => Some(self.collection_statistics(id, created).await?),
                false => None,
            },
            stigs: if p.stigs { Some(self.collection_stigs(id).await?) } else { None },
            labels: if p.labels { Some(self.collection_labels(id).await?) } else { None },
        })
    }

    async fn collection_assets(&self, id: i64) -> Result<Vec<AssetRef>> {
        let rows = sqlx::query(
            "SELECT asset_id, name FROM asset WHERE collection_id = $1 AND state = 'enabled'
             ORDER BY name",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|r| Ok(AssetRef { asset_id: r.try_get(0)?, name: r.try_get(1)? })).collect()
    }

    async fn collection_grants(&self, id: i64) -> Result<Vec<GrantRead>> {
        let rows = sqlx::query(GRANTS_OF_COLLECTION).bind(id).fetch_all(&self.pool).await?;
        rows.iter()
            .map(|r| {
                let grant_id: i64 = r.try_get("grant_id")?;
                let role_id: i64 = r.try_get("role_id")?;
                Ok(match grantee(r)? {
                    Owner::User(user) => GrantRead::User { grant_id, user, role_id },
                    Owner::Group(user_group) => GrantRead::Group { grant_id, user_group, role_id },
                })
            })
            .collect()
    }

    async fn collection_owners(&self, id: i64) -> Result<Vec<Owner>> {
        let rows = sqlx::query(GRANTS_OF_COLLECTION).bind(id).fetch_all(&self.pool).await?;
        let mut owners = Vec::new();
        for row in rows.iter().filter(|r| r.try_get::<i64, _>("role_id").ok() == Some(4)) {
            owners.push(grantee(row)?);
        }
        owners.sort_by_key(|o| match o {
            Owner::User(u) => u.username.clone(),
            Owner::Group(g) => g.name.clone(),
        });
        Ok(owners)
    }

    async fn collection_statistics(&self, id: i64, created: i64) -> Result<CollectionStatistics> {
        let row = sqlx::query(
            "SELECT
                (SELECT COUNT(*) FROM asset WHERE collection_id = $1 AND state = 'enabled')
                    AS asset_count,
                (SELECT COUNT(*) FROM stig_asset_map sa JOIN asset a ON a.asset_id = sa.asset_id
                    WHERE a.collection_id = $1 AND a.state = 'enabled') AS checklist_count,
                (SELECT COUNT(DISTINCT u) FROM (
                    SELECT g.user_id AS u FROM collection_grant g
                        WHERE g.collection_id = $1 AND g.user_id IS NOT NULL
                    UNION SELECT m.user_id FROM collection_grant g
                        JOIN user_group_user_map m ON m.user_group_id = g.user_group_id
                        WHERE g.collection_id = $1) users) AS user_count",
        )
        .bind(id)
        .fetch_one(&self.pool)
        .await?;
        Ok(CollectionStatistics {
            created: stigward_domain::iso_seconds(created),
            user_count: row.try_get("user_count")?,
            asset_count: row.try_get("asset_count")?,
            checklist_count: row.try_get("checklist_count")?,
        })
    }

    async fn collection_stigs(&self, id: i64) -> Result<Vec<CollectionStig>> {
        let rows = sqlx::query(
            "SELECT dr.benchmark_id, r.version, r.release, r.benchmark_date_sql,
                    dr.revision_pinned, r.low_count + r.medium_count + r.high_count AS rule_count
             FROM default_rev dr JOIN revision r ON r.rev_id = dr.rev_id
             WHERE dr.collection_id = $1 ORDER BY dr.benchmark_id",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let version: i64 = r.try_get("version")?;
                let release: String = r.try_get("release")?;
                let pinned: i64 = r.try_get("revision_pinned")?;
                Ok(CollectionStig {
                    benchmark_id: r.try_get("benchmark_id")?,
                    revision_str: format!("V{version}R{release}"),
                    benchmark_date: r.try_get("benchmark_date_sql")?,
                    revision_pinned: pinned != 0,
                    rule_count: r.try_get("rule_count")?,
                })
            })
            .collect()
    }

    async fn collection_labels(&self, id: i64) -> Result<Vec<Label>> {
        let rows = sqlx::query(
            "SELECT l.uuid, l.name, l.description, l.color,
                    (SELECT COUNT(*) FROM collection_label_asset_map m
                     JOIN asset a ON a.asset_id = m.asset_id AND a.state = 'enabled'
                     WHERE m.label_id = l.label_id) AS uses
             FROM collection_label l WHERE l.collection_id = $1 ORDER BY l.name",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(Label {
                    label_id: r.try_get("uuid")?,
                    name: r.try_get("name")?,
                    description: r.try_get("description")?,
                    color: r.try_get("color")?,
                    uses: r.try_get("uses")?,
                })
            })
            .collect()
    }

    /// Checks that every user granted in a body exists and is available.
    pub async fn users_available(&self, user_ids: &[i64]) -> Result<bool> {
        for id in user_ids {
            let row = sqlx::query("SELECT status FROM user_data WHERE user_id = $1")
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
            let available = match row {
                Some(row) => row.try_get::<String, _>("status")? == "available",
                None => false,
            };
            if !available {
                return Ok(false);
            }
        }
        Ok(true)
    }

    pub async fn user_groups_exist(&self, group_ids: &[i64]) -> Result<bool> {
        for id in group_ids {
            let row = sqlx::query("SELECT 1 FROM user_group WHERE user_group_id = $1")
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
            if row.is_none() {
                return Ok(false);
            }
        }
        Ok(true)
    }
}

/// `name` with `name-match`: exact, startsWith, endsWith or contains.
#[derive(Debug, Clone)]
pub struct NameFilter {
    pub name: String,
    pub matching: String,
}

impl NameFilter {
    fn matches(&self, candidate: &str) -> bool {
        let (c, n) = (candidate.to_lowercase(), self.name.to_lowercase());
        match self.matching.as_str() {
            "startsWith" => c.starts_with(&n),
            "endsWith" => c.ends_with(&n),
            "contains" => c.contains(&n),
            _ => c == n,
        }
    }
}

const GRANTS_OF_COLLECTION: &str = "
    SELECT g.grant_id, g.role_id, u.user_id, u.username, u.last_claims,
           ug.user_group_id, ug.name AS group_name, ug.description AS group_description
    FROM collection_grant g
    LEFT JOIN user_data u ON u.user_id = g.user_id
    LEFT JOIN user_group ug ON ug.user_group_id = g.user_group_id
    WHERE g.collection_id = $1
    ORDER BY CASE WHEN g.user_id IS NULL THEN 1 ELSE 0 END, g.grant_id";

fn grantee(row: &AnyRow) -> Result<Owner> {
    let user_id: Option<i64> = row.try_get("user_id")?;
    match user_id {
        Some(user_id) => {
            let claims: String = row.try_get("last_claims")?;
            let claims: Map<String, Value> = serde_json::from_str(&claims).unwrap_or_default();
            Ok(Owner::User(UserSummary {
                user_id,
                username: row.try_get("username")?,
                display_name: claims.get("name").and_then(Value::as_str).map(str::to_string),
            }))
        }
        None => Ok(Owner::Group(GroupSummary {
            user_group_id: row.try_get("user_group_id")?,
            name: row.try_get("group_name")?,
            description: row.try_get("group_description")?,
        })),
    }
}

async fn insert_grants(
    tx: &mut Transaction<'static, Any>,
    collection_id: i64,
    body: &CollectionCreate,
) -> Result<()> {
    for grant in &body.grants {
        sqlx::query(
            "INSERT INTO collection_grant (collection_id, user_id, user_group_id, role_id)
             VALUES ($1, $2, $3, $4)",
        )
        .bind(collection_id)
        .bind(grant.user_id)
        .bind(grant.user_group_id)
        .bind(grant.role_id)
        .execute(&mut **tx)
        .await
        .map_err(|e| conflict_on_unique(e, "Duplicate user or user group in grant array"))?;
    }
    Ok(())
}
