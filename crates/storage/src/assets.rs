//! Assets: creation, reads and STIG assignment.

use serde_json::Value;
use sqlx::Row;
use stigward_wire::asset::{Asset, AssetCreate, AssetStig, LabelRef};
use stigward_wire::collection::CollectionRef;

use crate::{conflict_on_unique, flag, json_column, Result, Store, StoreError};

impl Store {
    /// Creates an asset with its STIG assignments and labels. Unknown benchmark ids and label
    /// names are refused with `Conflict` before anything is written.
    pub async fn create_asset(&self, body: &AssetCreate) -> Result<i64> {
        for benchmark_id in &body.stigs {
            if !self.benchmark_exists(benchmark_id).await? {
                return Err(StoreError::Conflict(format!("Unknown benchmarkId: {benchmark_id}")));
            }
        }
        let label_ids =
            self.label_ids_by_name(body.collection_id, body.label_names.as_deref()).await?;
        let mut write = self.begin_write().await?;
        let row = sqlx::query(
            "INSERT INTO asset (collection_id, name, fqdn, ip, mac, description, noncomputing,
                 metadata)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING asset_id",
        )
        .bind(body.collection_id)
        .bind(&body.name)
        .bind(&body.fqdn)
        .bind(&body.ip)
        .bind(&body.mac)
        .bind(&body.description)
        .bind(i64::from(body.noncomputing))
        .bind(Value::Object(body.metadata.clone()).to_string())
        .fetch_one(&mut *write.tx)
        .await
        .map_err(|e| conflict_on_unique(e, "Duplicate name"))?;
        let asset_id: i64 = row.try_get("asset_id")?;
        for benchmark_id in &body.stigs {
            sqlx::query(
                "INSERT INTO stig_asset_map (benchmark_id, asset_id) VALUES ($1, $2)
                 ON CONFLICT DO NOTHING",
            )
            .bind(benchmark_id)
            .bind(asset_id)
            .execute(&mut *write.tx)
            .await?;
        }
        for label_id in label_ids {
            sqlx::query(
                "INSERT INTO collection_label_asset_map (label_id, asset_id) VALUES ($1, $2)",
            )
            .bind(label_id)
            .bind(asset_id)
            .execute(&mut *write.tx)
            .await?;
        }
        write.commit().await?;
        Ok(asset_id)
    }

    async fn label_ids_by_name(
        &self,
        collection_id: i64,
        names: Option<&[String]>,
    ) -> Result<Vec<i64>> {
        let mut ids = Vec::new();
        for name in names.unwrap_or_default() {
            let row = sqlx::query(
                "SELECT label_id FROM collection_label WHERE collection_id = $1 AND name = $2",
            )
            .bind(collection_id)
            .bind(name)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::Conflict(format!("Unknown label name: {name}")))?;
            ids.push(row.try_get("label_id")?);
        }
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
