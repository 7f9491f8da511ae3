//! Assets: creation (checked, one transaction per batch), reads with filters, replacement,
//! transfer between collections, soft deletion, metadata and STIG assignment.

use std::collections::HashSet;

use serde_json::{json, Map, Value};
use sqlx::{Any, Row, Transaction};
use stigward_wire::asset::{Asset, AssetCreate, AssetStig, AssetUpdate, LabelRef};
use stigward_wire::collection::CollectionRef;

use crate::{conflict_on_unique, flag, json_column, Result, Store, StoreError};

impl Store {
    /// Creates one asset; validation failures come back as a `Conflict` naming the first.
    pub async fn create_asset(&self, body: &AssetCreate) -> Result<i64> {
        let failures = self.check_new_assets(std::slice::from_ref(body)).await?;
        if let Some(first) = failures.first() {
            return Err(StoreError::Conflict(
                first["failure"].as_str().unwrap_or("invalid").into(),
            ));
        }
        let ids = self.create_assets(std::slice::from_ref(body)).await?;
        ids.first().copied().ok_or(StoreError::NotFound)
    }

    /// What would stop these assets from being created, as the API's failure items (indexes
    /// are 1-based). Benchmarks and labels are checked only for assets whose name is free.
    pub async fn check_new_assets(&self, items: &[AssetCreate]) -> Result<Vec<Value>> {
        let mut failures = Vec::new();
        let mut names_in_batch = HashSet::new();
        for (i, item) in items.iter().enumerate() {
            let index = i + 1;
            let taken = self.asset_by_name(item.collection_id, &item.name).await?.is_some();
            // a name repeated inside the batch would break uniqueness just the same
            if taken || !names_in_batch.insert((item.collection_id, item.name.clone())) {
                failures.push(json!({"failure": "name exists",
                    "detail": {"assetIndex": index, "name": item.name}}));
                continue;
            }
            for (j, benchmark_id) in item.stigs.iter().enumerate() {
                if self.canonical_benchmark(benchmark_id).await?.is_none() {
                    failures.push(json!({"failure": "unknown benchmarkId", "detail": {
                        "assetIndex": index, "name": item.name, "benchmarkIdIndex": j + 1,
                        "benchmarkId": benchmark_id}}));
                }
            }
            for (j, label) in item.label_names.iter().flatten().enumerate() {
                if self.label_key_by_name(item.collection_id, label).await?.is_none() {
                    failures.push(json!({"failure": "unknown labelName", "detail": {
                        "assetIndex": index, "name": item.name, "labelIndex": j + 1,
                        "labelName": label}}));
                }
            }
        }
        Ok(failures)
    }

    /// The installed benchmark id matching `id` regardless of case.
    pub async fn canonical_benchmark(&self, id: &str) -> Result<Option<String>> {
        let row =
            sqlx::query("SELECT benchmark_id FROM stig WHERE lower(benchmark_id) = lower($1)")
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
        row.map(|r| r.try_get(0)).transpose().map_err(StoreError::from)
    }

    async fn label_key_by_name(&self, collection_id: i64, name: &str) -> Result<Option<i64>> {
        let row = sqlx::query(
            "SELECT label_id FROM collection_label WHERE collection_id = $1 AND name = $2",
        )
        .bind(collection_id)
        .bind(name)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| r.try_get(0)).transpose().map_err(StoreError::from)
    }

    /// Creates checked assets in one transaction.
    pub async fn create_assets(&self, items: &[AssetCreate]) -> Result<Vec<i64>> {
        let mut resolved = Vec::new();
        for item in items {
            let mut stigs = Vec::new();
            for id in &item.stigs {
                stigs.push(self.canonical_benchmark(id).await?.ok_or(StoreError::NotFound)?);
            }
            let mut labels = Vec::new();
            for name in item.label_names.iter().flatten() {
                labels.extend(self.label_key_by_name(item.collection_id, name).await?);
            }
            resolved.push((stigs, labels));
        }
        let mut write = self.begin_write().await?;
        let mut ids = Vec::new();
        for (item, (stigs, labels)) in items.iter().zip(resolved) {
            let row = sqlx::query(
                "INSERT INTO asset (collection_id, name, fqdn, ip, mac, description, noncomputing,
                     metadata)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING asset_id",
            )
            .bind(item.collection_id)
            .bind(&item.name)
            .bind(&item.fqdn)
            .bind(&item.ip)
            .bind(&item.mac)
            .bind(&item.description)
            .bind(i64::from(item.noncomputing))
            .bind(Value::Object(item.metadata.clone()).to_string())
            .fetch_one(&mut *write.tx)
            .await
            .map_err(|e| conflict_on_unique(e, "Duplicate name exists."))?;
            let asset_id: i64 = row.try_get("asset_id")?;
            set_stigs(&mut write.tx, asset_id, &stigs).await?;
            set_labels(&mut write.tx, asset_id, &labels).await?;
            ids.push(asset_id);
        }
        write.commit().await?;
        Ok(ids)
    }

    /// The collection an enabled asset belongs to; `None` for a missing or deleted asset.
    pub async fn asset_collection(&self, asset_id: i64) -> Result<Option<i64>> {
        let row = sqlx::query(
            "SELECT a.collection_id FROM asset a
             JOIN collection c ON c.collection_id = a.collection_id AND c.state = 'enabled'
             WHERE a.asset_id = $1 AND a.state = 'enabled'",
        )
        .bind(asset_id)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| r.try_get("collection_id")).transpose().map_err(StoreError::from)
    }

    pub async fn asset(&self, asset_id: i64, with_stigs: bool) -> Result<Asset> {
        let row = sqlx::query(
            "SELECT a.asset_id, a.name, a.fqdn, a.description, a.ip, a.mac, a.noncomputing,
                    a.metadata, c.collection_id, c.name AS collection_name
             FROM asset a JOIN collection c ON c.collection_id = a.collection_id
             WHERE a.asset_id = $1 AND a.state = 'enabled'",
        )
        .bind(asset_id)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)?;
        let labels = self.asset_labels(asset_id).await?;
        Ok(Asset {
            asset_id,
            name: row.try_get("name")?,
            fqdn: row.try_get("fqdn")?,
            description: row.try_get("description")?,
            ip: row.try_get("ip")?,
            mac: row.try_get("mac")?,
            noncomputing: flag(&row, "noncomputing")?,
            collection: CollectionRef {
                collection_id: row.try_get("collection_id")?,
                name: row.try_get("collection_name")?,
            },
            metadata: json_column(&row.try_get::<String, _>("metadata")?, "asset.metadata")?,
            label_ids: labels.iter().map(|l| l.label_id.clone()).collect(),
            labels,
            stigs: if with_stigs { Some(self.asset_stigs(asset_id).await?) } else { None },
            status_stats: None,
        })
    }

    pub async fn asset_labels(&self, asset_id: i64) -> Result<Vec<LabelRef>> {
        let rows = sqlx::query(
            "SELECT l.uuid, l.name, l.color FROM collection_label l
             JOIN collection_label_asset_map m ON m.label_id = l.label_id
             WHERE m.asset_id = $1 ORDER BY l.name",
        )
        .bind(asset_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(LabelRef { label_id: r.try_get(0)?, name: r.try_get(1)?, color: r.try_get(2)? })
            })
            .collect()
    }

    /// The asset's STIGs at the collection's default revision, by benchmark id.
    pub async fn asset_stigs(&self, asset_id: i64) -> Result<Vec<AssetStig>> {
        let rows = sqlx::query(
            "SELECT sa.benchmark_id, r.version, r.release, r.benchmark_date_sql,
                    dr.revision_pinned, r.low_count + r.medium_count + r.high_count AS rule_count
             FROM stig_asset_map sa
             JOIN asset a ON a.asset_id = sa.asset_id
             JOIN default_rev dr
                 ON dr.collection_id = a.collection_id AND dr.benchmark_id = sa.benchmark_id
             JOIN revision r ON r.rev_id = dr.rev_id
             WHERE sa.asset_id = $1 ORDER BY sa.benchmark_id",
        )
        .bind(asset_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let version: i64 = r.try_get("version")?;
                let release: String = r.try_get("release")?;
                let pinned: i64 = r.try_get("revision_pinned")?;
                Ok(AssetStig {
                    benchmark_id: r.try_get("benchmark_id")?,
                    revision_str: format!("V{version}R{release}"),
                    revision_date: r.try_get("benchmark_date_sql")?,
                    rule_count: r.try_get("rule_count")?,
                    revision_pinned: pinned != 0,
                })
            })
            .collect()
    }

    /// Assigns a STIG to an asset (idempotent) and returns the asset's STIGs.
    pub async fn attach_stig(&self, asset_id: i64, benchmark_id: &str) -> Result<Vec<AssetStig>> {
        if !self.benchmark_exists(benchmark_id).await? {
            return Err(StoreError::NotFound);
        }
        let mut write = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO stig_asset_map (benchmark_id, asset_id) VALUES ($1, $2)
             ON CONFLICT DO NOTHING",
        )
        .bind(benchmark_id)
        .bind(asset_id)
        .execute(&mut *write.tx)
        .await?;
        write.commit().await?;
        self.asset_stigs(asset_id).await
    }

    /// Finds an enabled asset of a collection by name.
    pub async fn asset_by_name(&self, collection_id: i64, name: &str) -> Result<Option<i64>> {
        let row = sqlx::query(
            "SELECT asset_id FROM asset
             WHERE collection_id = $1 AND name = $2 AND state = 'enabled'",
        )
        .bind(collection_id)
        .bind(name)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| r.try_get("asset_id")).transpose().map_err(StoreError::from)
    }
}

async fn set_stigs(
    tx: &mut Transaction<'static, Any>,
    asset_id: i64,
    stigs: &[String],
) -> Result<()> {
    sqlx::query("DELETE FROM stig_asset_map WHERE asset_id = $1")
        .bind(asset_id)
        .execute(&mut **tx)
        .await?;
    for benchmark_id in stigs {
        sqlx::query(
            "INSERT INTO stig_asset_map (benchmark_id, asset_id) VALUES ($1, $2)
             ON CONFLICT DO NOTHING",
        )
        .bind(benchmark_id)
        .bind(asset_id)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

async fn set_labels(
    tx: &mut Transaction<'static, Any>,
    asset_id: i64,
    labels: &[i64],
) -> Result<()> {
    sqlx::query("DELETE FROM collection_label_asset_map WHERE asset_id = $1")
        .bind(asset_id)
        .execute(&mut **tx)
        .await?;
    for label_id in labels.iter().collect::<HashSet<_>>() {
        sqlx::query("INSERT INTO collection_label_asset_map (label_id, asset_id) VALUES ($1, $2)")
            .bind(label_id)
            .bind(asset_id)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

/// Filters of `GET /assets`.
#[derive(Debug, Clone, Default)]
pub struct AssetFilter {
    pub name: Option<crate::collections::NameFilter>,
    pub benchmark_id: Option<String>,
    pub metadata: Vec<(String, String)>,
    pub labels: crate::collection_stigs::LabelFilter,
}

impl Store {
    /// Enabled assets of a collection by name, filtered; `visible` limits a restricted reader.
    pub async fn assets_of_collection(
        &self,
        collection_id: i64,
        filter: &AssetFilter,
        visible: Option<&HashSet<i64>>,
        with_stigs: bool,
    ) -> Result<Vec<Asset>> {
        let rows = sqlx::query(
            "SELECT asset_id, name, metadata FROM asset
             WHERE collection_id = $1 AND state = 'enabled' ORDER BY asset_id",
        )
        .bind(collection_id)
        .fetch_all(&self.pool)
        .await?;
        let labelled = self.assets_matching(collection_id, &filter.labels).await?;
        let with_benchmark: Option<HashSet<i64>> = match &filter.benchmark_id {
            Some(b) => Some(self.assets_with_stig(collection_id, b).await?),
            None => None,
        };
        let mut out = Vec::new();
        for row in &rows {
            let asset_id: i64 = row.try_get("asset_id")?;
            let name: String = row.try_get("name")?;
            let metadata = json_column(&row.try_get::<String, _>("metadata")?, "asset.metadata")?;
            let wanted = filter.name.as_ref().is_none_or(|f| f.matches(&name))
                && filter
                    .metadata
                    .iter()
                    .all(|(k, v)| metadata.get(k).and_then(Value::as_str) == Some(v))
                && labelled.as_ref().is_none_or(|s| s.contains(&asset_id))
                && with_benchmark.as_ref().is_none_or(|s| s.contains(&asset_id))
                && visible.is_none_or(|s| s.contains(&asset_id));
            if wanted {
                let mut asset = self.asset(asset_id, with_stigs).await?;
                if let (Some(stigs), Some(b)) = (asset.stigs.as_mut(), &filter.benchmark_id) {
                    // as upstream, a benchmark filter narrows the stigs projection too
                    stigs.retain(|s| &s.benchmark_id == b);
                }
                out.push(asset);
            }
        }
        Ok(out)
    }

    async fn assets_with_stig(
        &self,
        collection_id: i64,
        benchmark_id: &str,
    ) -> Result<HashSet<i64>> {
        let rows = sqlx::query(
            "SELECT sa.asset_id FROM stig_asset_map sa JOIN asset a ON a.asset_id = sa.asset_id
             WHERE a.collection_id = $1 AND sa.benchmark_id = $2",
        )
        .bind(collection_id)
        .bind(benchmark_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|r| Ok(r.try_get(0)?)).collect()
    }

    /// Applies a replace or update. A new `collectionId` transfers the asset: its ACL rules go,
    /// and its labels are re-created by name in the destination. Unknown label names are
    /// dropped, as upstream does on update.
    pub async fn update_asset(&self, asset_id: i64, from: i64, change: &AssetUpdate) -> Result<()> {
        let to = change.collection_id.unwrap_or(from);
        let mut stigs = None;
        if let Some(ids) = &change.stigs {
            let mut canonical = Vec::new();
            for id in ids {
                let found = self.canonical_benchmark(id).await?;
                canonical
                    .push(found.ok_or_else(|| {
                        StoreError::Conflict(format!("unknown benchmarkId {id}"))
                    })?);
            }
            stigs = Some(canonical);
        }
        let carried = match (to != from, &change.label_names) {
            (_, Some(names)) => Some(names.clone()),
            (true, None) => {
                Some(self.asset_labels(asset_id).await?.into_iter().map(|l| l.name).collect())
            }
            (false, None) => None,
        };
        let mut write = self.begin_write().await?;
        if to != from {
            transfer(&mut write.tx, asset_id, from, to).await?;
        }
        update_columns(&mut write.tx, asset_id, change).await?;
        if let Some(stigs) = stigs {
            set_stigs(&mut write.tx, asset_id, &stigs).await?;
        }
        if let Some(names) = carried {
            let mut keys = Vec::new();
            for name in &names {
                let row = sqlx::query(
                    "SELECT label_id FROM collection_label WHERE collection_id = $1 AND name = $2",
                )
                .bind(to)
                .bind(name)
                .fetch_optional(&mut *write.tx)
                .await?;
                if let Some(row) = row {
                    keys.push(row.try_get(0)?);
                }
            }
            set_labels(&mut write.tx, asset_id, &keys).await?;
        }
        crate::collection_stigs::prune_pins(&mut write.tx, from).await?;
        crate::collection_stigs::prune_pins(&mut write.tx, to).await?;
        write.commit().await
    }

    /// Soft-deletes assets; their collections' pins of STIGs left unassigned go too.
    pub async fn delete_assets(
        &self,
        collection_id: i64,
        ids: &[i64],
        user_id: i64,
        now: i64,
    ) -> Result<()> {
        let mut write = self.begin_write().await?;
        for asset_id in ids {
            sqlx::query(
                "UPDATE asset SET state = 'disabled', state_date = $2, state_user_id = $3
                 WHERE asset_id = $1 AND state = 'enabled'",
            )
            .bind(asset_id)
            .bind(now)
            .bind(user_id)
            .execute(&mut *write.tx)
            .await?;
        }
        crate::collection_stigs::prune_pins(&mut write.tx, collection_id).await?;
        write.commit().await
    }

    pub async fn asset_metadata(&self, asset_id: i64) -> Result<Map<String, Value>> {
        let row = sqlx::query("SELECT metadata FROM asset WHERE asset_id = $1")
            .bind(asset_id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound)?;
        match json_column(&row.try_get::<String, _>("metadata")?, "asset.metadata")? {
            Value::Object(map) => Ok(map),
            _ => Err(StoreError::Corrupt("asset.metadata is not an object".into())),
        }
    }

    pub async fn set_asset_metadata(
        &self,
        asset_id: i64,
        metadata: &Map<String, Value>,
    ) -> Result<()> {
        let mut write = self.begin_write().await?;
        sqlx::query("UPDATE asset SET metadata = $2 WHERE asset_id = $1")
            .bind(asset_id)
            .bind(Value::Object(metadata.clone()).to_string())
            .execute(&mut *write.tx)
            .await?;
        write.commit().await
    }

    /// Removes one STIG (or all, with `None`) from an asset. Reviews stay, as upstream keeps
    /// them until its clean-up job runs.
    pub async fn detach_stigs(
        &self,
        asset_id: i64,
        collection_id: i64,
        benchmark_id: Option<&str>,
    ) -> Result<()> {
        let mut write = self.begin_write().await?;
        sqlx::query(
            "DELETE FROM stig_asset_map WHERE asset_id = $1 AND ($2 IS NULL OR benchmark_id = $2)",
        )
        .bind(asset_id)
        .bind(benchmark_id)
        .execute(&mut *write.tx)
        .await?;
        crate::collection_stigs::prune_pins(&mut write.tx, collection_id).await?;
        write.commit().await
    }
}

async fn update_columns(
    tx: &mut Transaction<'static, Any>,
    asset_id: i64,
    c: &AssetUpdate,
) -> Result<()> {
    let text = |v: &Option<Option<String>>| v.clone().flatten();
    sqlx::query(
        "UPDATE asset SET
             name = COALESCE($2, name),
             description = CASE WHEN $3 = 1 THEN $4 ELSE description END,
             ip = CASE WHEN $5 = 1 THEN $6 ELSE ip END,
             fqdn = CASE WHEN $7 = 1 THEN $8 ELSE fqdn END,
             mac = CASE WHEN $9 = 1 THEN $10 ELSE mac END,
             noncomputing = COALESCE($11, noncomputing),
             metadata = COALESCE($12, metadata)
         WHERE asset_id = $1",
    )
    .bind(asset_id)
    .bind(&c.name)
    .bind(i64::from(c.description.is_some()))
    .bind(text(&c.description))
    .bind(i64::from(c.ip.is_some()))
    .bind(text(&c.ip))
    .bind(i64::from(c.fqdn.is_some()))
    .bind(text(&c.fqdn))
    .bind(i64::from(c.mac.is_some()))
    .bind(text(&c.mac))
    .bind(c.noncomputing.map(i64::from))
    .bind(c.metadata.as_ref().map(|m| Value::Object(m.clone()).to_string()))
    .execute(&mut **tx)
    .await
    .map_err(|e| conflict_on_unique(e, "Duplicate name exists."))?;
    Ok(())
}

/// Moves an asset: drops the ACL rules naming it and makes sure every label it carries exists
/// by name in the destination (same description and colour).
async fn transfer(
    tx: &mut Transaction<'static, Any>,
    asset_id: i64,
    from: i64,
    to: i64,
) -> Result<()> {
    sqlx::query("DELETE FROM collection_grant_acl WHERE asset_id = $1")
        .bind(asset_id)
        .execute(&mut **tx)
        .await?;
    let labels = sqlx::query(
        "SELECT l.name, l.description, l.color FROM collection_label l
         JOIN collection_label_asset_map m ON m.label_id = l.label_id
         WHERE m.asset_id = $1 AND l.collection_id = $2",
    )
    .bind(asset_id)
    .bind(from)
    .fetch_all(&mut **tx)
    .await?;
    for row in &labels {
        sqlx::query(
            "INSERT INTO collection_label (collection_id, uuid, name, description, color)
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (collection_id, name) DO NOTHING",
        )
        .bind(to)
        .bind(uuid::Uuid::new_v4().to_string())
        .bind(row.try_get::<String, _>("name")?)
        .bind(row.try_get::<Option<String>, _>("description")?)
        .bind(row.try_get::<String, _>("color")?)
        .execute(&mut **tx)
        .await?;
    }
    sqlx::query("UPDATE asset SET collection_id = $2 WHERE asset_id = $1")
        .bind(asset_id)
        .bind(to)
        .execute(&mut **tx)
        .await
        .map_err(|e| conflict_on_unique(e, "Duplicate name exists."))?;
    Ok(())
}
