//! The STIGs of a collection: which enabled assets each is assigned to, the revision the
//! collection assesses it against, and pins of that revision. A pin lasts only while the STIG
//! stays assigned to some enabled asset of the collection.

use std::collections::{BTreeMap, HashSet};

use sqlx::{Any, Row, Transaction};
use stigward_wire::asset::LabelRef;
use stigward_wire::collection::{AssetRef, CollectionStigAssets, StigAsset};

use crate::access::AccessMap;
use crate::{Result, Store};

/// Which assets a listing considers: label filters are OR-ed, as upstream does.
#[derive(Debug, Clone, Default)]
pub struct LabelFilter {
    pub label_ids: Vec<String>,
    pub label_names: Vec<String>,
    /// `labelMatch=null`: assets without any label.
    pub unlabeled: bool,
}

impl LabelFilter {
    pub fn is_empty(&self) -> bool {
        self.label_ids.is_empty() && self.label_names.is_empty() && !self.unlabeled
    }
}

impl Store {
    /// The collection's STIGs with their asset counts; `visible` limits a restricted reader to
    /// the pairs it can read.
    pub async fn collection_stig_list(
        &self,
        collection_id: i64,
        benchmark_id: Option<&str>,
        labels: &LabelFilter,
        visible: Option<&AccessMap>,
        with_assets: bool,
    ) -> Result<Vec<CollectionStigAssets>> {
        let rows = sqlx::query(
            "SELECT dr.benchmark_id, r.version, r.release, r.benchmark_date_sql,
                    dr.revision_pinned, r.low_count + r.medium_count + r.high_count AS rule_count
             FROM default_rev dr JOIN revision r ON r.rev_id = dr.rev_id
             WHERE dr.collection_id = $1 AND ($2 IS NULL OR dr.benchmark_id = $2)
             ORDER BY dr.benchmark_id",
        )
        .bind(collection_id)
        .bind(benchmark_id)
        .fetch_all(&self.pool)
        .await?;
        let allowed = self.assets_matching(collection_id, labels).await?;
        let mut out = Vec::new();
        for r in &rows {
            let benchmark_id: String = r.try_get("benchmark_id")?;
            let assets: Vec<AssetRef> = self
                .assets_of_stig(collection_id, &benchmark_id)
                .await?
                .into_iter()
                .filter(|a| allowed.as_ref().is_none_or(|s| s.contains(&a.asset_id)))
                .filter(|a| {
                    visible.is_none_or(|m| {
                        m.access(a.asset_id, &benchmark_id) > crate::access::Access::None
                    })
                })
                .collect();
            if assets.is_empty() && (visible.is_some() || allowed.is_some()) {
                continue;
            }
            let version: i64 = r.try_get("version")?;
            let release: String = r.try_get("release")?;
            let pinned: i64 = r.try_get("revision_pinned")?;
            out.push(CollectionStigAssets {
                revision_str: format!("V{version}R{release}"),
                benchmark_date: r.try_get("benchmark_date_sql")?,
                revision_pinned: pinned != 0,
                rule_count: r.try_get("rule_count")?,
                asset_count: assets.len() as i64,
                assets: with_assets.then_some(assets),
                benchmark_id,
            });
        }
        Ok(out)
    }

    /// Enabled assets of the collection the filter selects; `None` when there is no filter.
    pub async fn assets_matching(
        &self,
        collection_id: i64,
        filter: &LabelFilter,
    ) -> Result<Option<HashSet<i64>>> {
        if filter.is_empty() {
            return Ok(None);
        }
        let rows = sqlx::query(
            "SELECT a.asset_id, l.uuid, l.name FROM asset a
             LEFT JOIN collection_label_asset_map m ON m.asset_id = a.asset_id
             LEFT JOIN collection_label l ON l.label_id = m.label_id
             WHERE a.collection_id = $1 AND a.state = 'enabled'",
        )
        .bind(collection_id)
        .fetch_all(&self.pool)
        .await?;
        let mut labels: BTreeMap<i64, Vec<(String, String)>> = BTreeMap::new();
        for row in &rows {
            let entry = labels.entry(row.try_get(0)?).or_default();
            let uuid: Option<String> = row.try_get(1)?;
            if let Some(uuid) = uuid {
                entry.push((uuid, row.try_get(2)?));
            }
        }
        let selected = labels
            .into_iter()
            .filter(|(_, tags)| {
                (filter.unlabeled && tags.is_empty())
                    || tags.iter().any(|(uuid, name)| {
                        filter.label_ids.contains(uuid) || filter.label_names.contains(name)
                    })
            })
            .map(|(asset_id, _)| asset_id)
            .collect();
        Ok(Some(selected))
    }

    async fn assets_of_stig(
        &self,
        collection_id: i64,
        benchmark_id: &str,
    ) -> Result<Vec<AssetRef>> {
        let rows = sqlx::query(
            "SELECT a.asset_id, a.name FROM stig_asset_map sa
             JOIN asset a ON a.asset_id = sa.asset_id AND a.state = 'enabled'
             WHERE a.collection_id = $1 AND sa.benchmark_id = $2 ORDER BY a.name",
        )
        .bind(collection_id)
        .bind(benchmark_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|r| Ok(AssetRef { asset_id: r.try_get(0)?, name: r.try_get(1)? })).collect()
    }

    /// Assigns the STIG to exactly these enabled assets of the collection.
    pub async fn set_stig_assets(
        &self,
        collection_id: i64,
        benchmark_id: &str,
        asset_ids: &[i64],
    ) -> Result<()> {
        let mut write = self.begin_write().await?;
        sqlx::query(
            "DELETE FROM stig_asset_map WHERE benchmark_id = $1 AND asset_id IN (
                 SELECT asset_id FROM asset WHERE collection_id = $2 AND state = 'enabled')",
        )
        .bind(benchmark_id)
        .bind(collection_id)
        .execute(&mut *write.tx)
        .await?;
        for asset_id in asset_ids.iter().collect::<HashSet<_>>() {
            sqlx::query(
                "INSERT INTO stig_asset_map (benchmark_id, asset_id) VALUES ($1, $2)
                 ON CONFLICT DO NOTHING",
            )
            .bind(benchmark_id)
            .bind(asset_id)
            .execute(&mut *write.tx)
            .await?;
        }
        prune_pins(&mut write.tx, collection_id).await?;
        write.commit().await
    }

    /// Pins the collection's revision of a STIG (`None`: follow the latest).
    pub async fn pin_revision(
        &self,
        collection_id: i64,
        benchmark_id: &str,
        rev_id: Option<&str>,
    ) -> Result<()> {
        let mut write = self.begin_write().await?;
        sqlx::query(
            "DELETE FROM collection_rev_map WHERE collection_id = $1 AND benchmark_id = $2",
        )
        .bind(collection_id)
        .bind(benchmark_id)
        .execute(&mut *write.tx)
        .await?;
        if let Some(rev_id) = rev_id {
            sqlx::query(
                "INSERT INTO collection_rev_map (collection_id, benchmark_id, rev_id)
                 VALUES ($1, $2, $3)",
            )
            .bind(collection_id)
            .bind(benchmark_id)
            .bind(rev_id)
            .execute(&mut *write.tx)
            .await?;
        }
        write.commit().await
    }

    /// The assets a STIG is assigned to, with the reader's access and each asset's labels.
    pub async fn stig_assets(
        &self,
        collection_id: i64,
        benchmark_id: &str,
        access: &AccessMap,
    ) -> Result<Vec<StigAsset>> {
        let mut out = Vec::new();
        for asset in self.assets_of_stig(collection_id, benchmark_id).await? {
            let level = access.access(asset.asset_id, benchmark_id);
            if level == crate::access::Access::None {
                continue;
            }
            let labels: Vec<LabelRef> = self.asset_labels(asset.asset_id).await?;
            out.push(StigAsset {
                asset_id: asset.asset_id,
                name: asset.name,
                access: level.api().to_string(),
                asset_label_ids: labels.iter().map(|l| l.label_id.clone()).collect(),
                asset_labels: labels,
                collection_id,
            });
        }
        Ok(out)
    }
}

/// Drops pins of STIGs no longer assigned to any enabled asset of the collection.
pub(crate) async fn prune_pins(
    tx: &mut Transaction<'static, Any>,
    collection_id: i64,
) -> Result<()> {
    sqlx::query(
        "DELETE FROM collection_rev_map WHERE collection_id = $1 AND benchmark_id NOT IN (
             SELECT sa.benchmark_id FROM stig_asset_map sa
             JOIN asset a ON a.asset_id = sa.asset_id AND a.state = 'enabled'
             WHERE a.collection_id = $1)",
    )
    .bind(collection_id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}
