//! Collections: creation, replacement, soft deletion, metadata, and the projected reads. A read
//! is rendered for a viewer: a restricted grant sees only what its ACL lets it read.

use std::collections::{BTreeSet, HashSet};

use serde_json::{Map, Value};
use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};
use stigward_domain::Role;
use stigward_wire::collection::{
    AssetRef, Collection, CollectionCreate, CollectionStatistics, CollectionStig, CollectionUpdate,
    CollectionUser, GrantRead, GrantWrite, GroupSummary, LabelWrite, Owner, UserSummary,
};

use crate::access::AccessMap;
use crate::grants::EffectiveGrant;
use crate::{conflict_on_unique, json_column, Result, Store, StoreError};

/// What a restricted viewer may read of a collection; `None` reads everything.
struct Visible {
    assets: HashSet<i64>,
    pairs: HashSet<(i64, String)>,
}

impl Visible {
    fn of(map: &AccessMap) -> Visible {
        Visible {
            assets: map.readable_assets(),
            pairs: map.readable().map(|(a, b, _)| (a, b.to_string())).collect(),
        }
    }
}

/// Filters of `GET /collections`.
#[derive(Debug, Clone, Default)]
pub struct CollectionFilter {
    pub name: Option<NameFilter>,
    /// `key:value` pairs that must all be present in the metadata.
    pub metadata: Vec<(String, String)>,
}

/// Optional parts of a collection in reads.
#[derive(Debug, Clone, Copy, Default)]
pub struct CollectionProjection {
    pub assets: bool,
    pub grants: bool,
    pub owners: bool,
    pub statistics: bool,
    pub stigs: bool,
    pub labels: bool,
    pub users: bool,
}

/// What [`Store::grantee_users`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GranteeUsers {
    Available,
    Unavailable,
    Missing,
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
        insert_labels(&mut write.tx, collection_id, body.labels.as_deref().unwrap_or_default())
            .await?;
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
        let filter = CollectionFilter { name: name.cloned(), metadata: Vec::new() };
        let mut out = Vec::new();
        for row in self.collection_rows(&filter).await? {
            let id: i64 = row.try_get("collection_id")?;
            if ids.is_none_or(|ids| ids.contains(&id)) {
                out.push(self.project(&row, projection, None).await?);
            }
        }
        Ok(out)
    }

    /// The collections a user's grants reach (`None`: every enabled collection, elevated),
    /// each rendered for its grant.
    pub async fn collections_for(
        &self,
        grants: Option<&[EffectiveGrant]>,
        filter: &CollectionFilter,
        projection: CollectionProjection,
    ) -> Result<Vec<Collection>> {
        let mut out = Vec::new();
        for row in self.collection_rows(filter).await? {
            let id: i64 = row.try_get("collection_id")?;
            let grant = grants.map(|gs| gs.iter().find(|g| g.collection_id == id));
            match grant {
                None => out.push(self.project(&row, projection, None).await?),
                Some(Some(grant)) => out.push(self.project(&row, projection, Some(grant)).await?),
                Some(None) => {}
            }
        }
        Ok(out)
    }

    async fn collection_rows(&self, filter: &CollectionFilter) -> Result<Vec<AnyRow>> {
        let rows = sqlx::query(
            "SELECT collection_id, name, description, settings, metadata, created
             FROM collection WHERE state = 'enabled' ORDER BY name",
        )
        .fetch_all(&self.pool)
        .await?;
        let mut out = Vec::new();
        for row in rows {
            let name: String = row.try_get("name")?;
            let metadata = json_column(&row.try_get::<String, _>("metadata")?, "metadata")?;
            let metadata_ok = filter.metadata.iter().all(|(key, value)| {
                metadata.get(key).and_then(Value::as_str) == Some(value.as_str())
            });
            if filter.name.as_ref().is_none_or(|f| f.matches(&name)) && metadata_ok {
                out.push(row);
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
        self.collection_for(id, projection, None).await
    }

    /// One enabled collection as `viewer` sees it (`None`: everything).
    pub async fn collection_for(
        &self,
        id: i64,
        projection: CollectionProjection,
        viewer: Option<&EffectiveGrant>,
    ) -> Result<Collection> {
        let row = sqlx::query(
            "SELECT collection_id, name, description, settings, metadata, created
             FROM collection WHERE collection_id = $1 AND state = 'enabled'",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)?;
        self.project(&row, projection, viewer).await
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

    async fn project(
        &self,
        row: &AnyRow,
        p: CollectionProjection,
        viewer: Option<&EffectiveGrant>,
    ) -> Result<Collection> {
        let id: i64 = row.try_get("collection_id")?;
        let created: i64 = row.try_get("created")?;
        let visible = match viewer {
            Some(grant)
                if grant.role == Role::Restricted
                    && (p.assets || p.statistics || p.stigs || p.labels) =>
            {
                Some(Visible::of(&self.access_map(grant).await?))
            }
            _ => None,
        };
        let visible = visible.as_ref();
        Ok(Collection {
            collection_id: id,
            name: row.try_get("name")?,
            description: row.try_get("description")?,
            settings: json_column(&row.try_get::<String, _>("settings")?, "settings")?,
            metadata: json_column(&row.try_get::<String, _>("metadata")?, "metadata")?,
            assets: if p.assets { Some(self.collection_assets(id, visible).await?) } else { None },
            grants: if p.grants { Some(self.collection_grants(id).await?) } else { None },
            owners: if p.owners { Some(self.collection_owners(id).await?) } else { None },
            statistics: match p.statistics {
                true => Some(self.collection_statistics(id, created, visible).await?),
                false => None,
            },
            stigs: if p.stigs { Some(self.collection_stigs(id, visible).await?) } else { None },
            labels: match p.labels {
                true => Some(self.labels_of(id, visible.map(|v| &v.assets)).await?),
                false => None,
            },
            users: if p.users { Some(self.collection_users(id).await?) } else { None },
        })
    }

    async fn collection_assets(&self, id: i64, visible: Option<&Visible>) -> Result<Vec<AssetRef>> {
        let rows = sqlx::query(
            "SELECT asset_id, name FROM asset WHERE collection_id = $1 AND state = 'enabled'
             ORDER BY name",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await?;
        let mut out = Vec::new();
        for r in &rows {
            let asset = AssetRef { asset_id: r.try_get(0)?, name: r.try_get(1)? };
            if visible.is_none_or(|v| v.assets.contains(&asset.asset_id)) {
                out.push(asset);
            }
        }
        Ok(out)
    }

    /// The raw grants of a collection: user grants first, then group grants.
    pub async fn collection_grants(&self, id: i64) -> Result<Vec<GrantRead>> {
        let rows = sqlx::query(GRANTS_OF_COLLECTION).bind(id).fetch_all(&self.pool).await?;
        rows.iter()
            .map(|r| {
                let grant_id: i64 = r.try_get("grant_id")?;
                let role_id: i64 = r.try_get("role_id")?;
                Ok(match grantee(r)? {
                    Owner::User(mut user) => {
                        // grant reads fall back to the username; owner lists keep the raw claim
                        user.display_name.get_or_insert_with(|| user.username.clone());
                        GrantRead::User { grant_id, user, role_id }
                    }
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

    async fn collection_statistics(
        &self,
        id: i64,
        created: i64,
        visible: Option<&Visible>,
    ) -> Result<CollectionStatistics> {
        let row = sqlx::query(
            "SELECT
                (SELECT COUNT(*) FROM asset WHERE collection_id = $1 AND state = 'enabled')
                    AS asset_count,
                (SELECT COUNT(*) FROM stig_asset_map sa JOIN asset a ON a.asset_id = sa.asset_id
                    WHERE a.collection_id = $1 AND a.state = 'enabled') AS checklist_count",
        )
        .bind(id)
        .fetch_one(&self.pool)
        .await?;
        let (asset_count, checklist_count) = match visible {
            Some(v) => (v.assets.len() as i64, v.pairs.len() as i64),
            None => (row.try_get("asset_count")?, row.try_get("checklist_count")?),
        };
        Ok(CollectionStatistics {
            created: stigward_domain::iso_seconds(created),
            user_count: self.users_with_grants(id).await?.len() as i64,
            asset_count,
            checklist_count,
        })
    }

    async fn collection_stigs(
        &self,
        id: i64,
        visible: Option<&Visible>,
    ) -> Result<Vec<CollectionStig>> {
        let rows = sqlx::query(
            "SELECT dr.benchmark_id, r.version, r.release, r.benchmark_date_sql,
                    dr.revision_pinned, r.low_count + r.medium_count + r.high_count AS rule_count
             FROM default_rev dr JOIN revision r ON r.rev_id = dr.rev_id
             WHERE dr.collection_id = $1 ORDER BY dr.benchmark_id",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await?;
        let reachable: Option<HashSet<&str>> =
            visible.map(|v| v.pairs.iter().map(|(_, b)| b.as_str()).collect());
        let mut out = Vec::new();
        for r in &rows {
            let version: i64 = r.try_get("version")?;
            let release: String = r.try_get("release")?;
            let pinned: i64 = r.try_get("revision_pinned")?;
            let benchmark_id: String = r.try_get("benchmark_id")?;
            if reachable.as_ref().is_some_and(|b| !b.contains(benchmark_id.as_str())) {
                continue;
            }
            out.push(CollectionStig {
                benchmark_id,
                revision_str: format!("V{version}R{release}"),
                benchmark_date: r.try_get("benchmark_date_sql")?,
                revision_pinned: pinned != 0,
                rule_count: r.try_get("rule_count")?,
            });
        }
        Ok(out)
    }

    /// Users holding a direct or group grant in the collection, by username.
    pub async fn users_with_grants(&self, id: i64) -> Result<Vec<i64>> {
        let rows = sqlx::query(
            "SELECT u.user_id FROM user_data u WHERE u.task_id IS NULL AND u.user_id IN (
                 SELECT g.user_id FROM collection_grant g
                     WHERE g.collection_id = $1 AND g.user_id IS NOT NULL
                 UNION SELECT m.user_id FROM collection_grant g
                     JOIN user_group_user_map m ON m.user_group_id = g.user_group_id
                     WHERE g.collection_id = $1)
             ORDER BY u.username",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|r| Ok(r.try_get(0)?)).collect()
    }

    /// The `users` projection: every user's effective role and where it comes from.
    async fn collection_users(&self, id: i64) -> Result<Vec<CollectionUser>> {
        let mut out = Vec::new();
        for user_id in self.users_with_grants(id).await? {
            let Some(grant) = self.effective_grant(user_id, id).await? else { continue };
            out.push(CollectionUser {
                user: self.user_summary(user_id).await?,
                role_id: grant.role.id(),
                grantees: grant.grantees,
            });
        }
        Ok(out)
    }

    /// `{userId, username, displayName}` with the display name from the stored `name` claim.
    pub async fn user_summary(&self, user_id: i64) -> Result<UserSummary> {
        let row =
            sqlx::query("SELECT user_id, username, last_claims FROM user_data WHERE user_id = $1")
                .bind(user_id)
                .fetch_optional(&self.pool)
                .await?
                .ok_or(StoreError::NotFound)?;
        match grantee(&row)? {
            Owner::User(mut user) => {
                user.display_name.get_or_insert_with(|| user.username.clone());
                Ok(user)
            }
            Owner::Group(_) => Err(StoreError::Corrupt("user row without user_id".into())),
        }
    }

    /// Checks that every user granted in a body exists and is available.
    /// Whether these users may be given grants or group memberships: all exist and are
    /// available, one does not exist, or one is unavailable.
    pub async fn grantee_users(&self, user_ids: &[i64]) -> Result<GranteeUsers> {
        let mut found = GranteeUsers::Available;
        for id in user_ids {
            let row = sqlx::query("SELECT status FROM user_data WHERE user_id = $1")
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
            match row {
                None => return Ok(GranteeUsers::Missing),
                Some(row) if row.try_get::<String, _>("status")? != "available" => {
                    found = GranteeUsers::Unavailable;
                }
                Some(_) => {}
            }
        }
        Ok(found)
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
    pub fn matches(&self, candidate: &str) -> bool {
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

/// A change to a collection, its settings already merged or checked by the caller.
#[derive(Debug, Clone, Default)]
pub struct CollectionChange {
    pub body: CollectionUpdate,
    /// The settings to store, when they change.
    pub settings: Option<Value>,
}

impl Store {
    /// Applies a replace or update. Present grants replace the grants of their kind (users,
    /// groups) and keep the ids (and so the ACLs) of grantees that stay; present labels are all
    /// recreated with new ids.
    pub async fn update_collection(&self, id: i64, change: &CollectionChange) -> Result<()> {
        let body = &change.body;
        let mut write = self.begin_write().await?;
        if let Some(name) = &body.name {
            sqlx::query("UPDATE collection SET name = $2 WHERE collection_id = $1")
                .bind(id)
                .bind(name)
                .execute(&mut *write.tx)
                .await
                .map_err(|e| conflict_on_unique(e, "Duplicate name exists."))?;
        }
        if let Some(description) = &body.description {
            sqlx::query("UPDATE collection SET description = $2 WHERE collection_id = $1")
                .bind(id)
                .bind(description)
                .execute(&mut *write.tx)
                .await?;
        }
        if let Some(settings) = &change.settings {
            sqlx::query("UPDATE collection SET settings = $2 WHERE collection_id = $1")
                .bind(id)
                .bind(settings.to_string())
                .execute(&mut *write.tx)
                .await?;
        }
        if let Some(metadata) = &body.metadata {
            write_metadata(&mut write.tx, id, metadata).await?;
        }
        if let Some(grants) = &body.grants {
            replace_grants(&mut write.tx, id, grants).await?;
        }
        if let Some(labels) = &body.labels {
            sqlx::query("DELETE FROM collection_label WHERE collection_id = $1")
                .bind(id)
                .execute(&mut *write.tx)
                .await?;
            insert_labels(&mut write.tx, id, labels).await?;
        }
        write.commit().await
    }

    /// Soft delete: the collection and everything in it disappears from every read.
    pub async fn delete_collection(&self, id: i64, user_id: i64, now: i64) -> Result<()> {
        let mut write = self.begin_write().await?;
        sqlx::query(
            "UPDATE collection SET state = 'disabled', state_date = $2, state_user_id = $3
             WHERE collection_id = $1 AND state = 'enabled'",
        )
        .bind(id)
        .bind(now)
        .bind(user_id)
        .execute(&mut *write.tx)
        .await?;
        write.commit().await
    }

    pub async fn collection_metadata(&self, id: i64) -> Result<Map<String, Value>> {
        let row = sqlx::query(
            "SELECT metadata FROM collection WHERE collection_id = $1 AND state = 'enabled'",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)?;
        match json_column(&row.try_get::<String, _>("metadata")?, "collection.metadata")? {
            Value::Object(map) => Ok(map),
            _ => Err(StoreError::Corrupt("collection.metadata is not an object".into())),
        }
    }

    pub async fn set_collection_metadata(
        &self,
        id: i64,
        metadata: &Map<String, Value>,
    ) -> Result<()> {
        let mut write = self.begin_write().await?;
        write_metadata(&mut write.tx, id, metadata).await?;
        write.commit().await
    }
}

async fn write_metadata(
    tx: &mut Transaction<'static, Any>,
    id: i64,
    metadata: &Map<String, Value>,
) -> Result<()> {
    sqlx::query("UPDATE collection SET metadata = $2 WHERE collection_id = $1")
        .bind(id)
        .bind(Value::Object(metadata.clone()).to_string())
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Replaces a collection's grants, keeping the ids of grantees that stay.
async fn replace_grants(
    tx: &mut Transaction<'static, Any>,
    id: i64,
    grants: &[GrantWrite],
) -> Result<()> {
    let users: BTreeSet<i64> = grants.iter().filter_map(|g| g.user_id).collect();
    let groups: BTreeSet<i64> = grants.iter().filter_map(|g| g.user_group_id).collect();
    let rows = sqlx::query(
        "SELECT grant_id, user_id, user_group_id FROM collection_grant WHERE collection_id = $1",
    )
    .bind(id)
    .fetch_all(&mut **tx)
    .await?;
    for row in &rows {
        let user: Option<i64> = row.try_get("user_id")?;
        let group: Option<i64> = row.try_get("user_group_id")?;
        let stays =
            user.is_some_and(|u| users.contains(&u)) || group.is_some_and(|g| groups.contains(&g));
        if !stays {
            sqlx::query("DELETE FROM collection_grant WHERE grant_id = $1")
                .bind(row.try_get::<i64, _>("grant_id")?)
                .execute(&mut **tx)
                .await?;
        }
    }
    for grant in grants {
        let statement = match grant.user_id {
            Some(_) => {
                "INSERT INTO collection_grant (collection_id, user_id, user_group_id, role_id)
                 VALUES ($1, $2, $3, $4)
                 ON CONFLICT (collection_id, user_id) WHERE user_id IS NOT NULL
                 DO UPDATE SET role_id = excluded.role_id"
            }
            None => {
                "INSERT INTO collection_grant (collection_id, user_id, user_group_id, role_id)
                 VALUES ($1, $2, $3, $4)
                 ON CONFLICT (collection_id, user_group_id) WHERE user_group_id IS NOT NULL
                 DO UPDATE SET role_id = excluded.role_id"
            }
        };
        sqlx::query(statement)
            .bind(id)
            .bind(grant.user_id)
            .bind(grant.user_group_id)
            .bind(grant.role_id)
            .execute(&mut **tx)
            .await?;
    }
    crate::grants::drop_none_rules_of_unrestricted(tx, id).await
}

pub(crate) async fn insert_labels(
    tx: &mut Transaction<'static, Any>,
    id: i64,
    labels: &[LabelWrite],
) -> Result<Vec<String>> {
    let mut ids = Vec::new();
    for label in labels {
        let uuid = uuid::Uuid::new_v4().to_string();
        sqlx::query(
            "INSERT INTO collection_label (collection_id, uuid, name, description, color)
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(id)
        .bind(&uuid)
        .bind(&label.name)
        .bind(&label.description)
        .bind(&label.color)
        .execute(&mut **tx)
        .await
        .map_err(|e| conflict_on_unique(e, "Duplicate label name exists."))?;
        ids.push(uuid);
    }
    Ok(ids)
}
