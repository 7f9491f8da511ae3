//! Review history across a collection: listing snapshots by asset and rule, counting them, and
//! pruning those older than a retention date.

use std::collections::BTreeMap;

use sqlx::Row;
use stigward_domain::ReviewStatus;
use stigward_wire::review::{AssetHistory, AssetHistoryStats, HistoryStats, RuleHistory};

use crate::review_read::history_from_row;
use crate::{Result, Store};

/// Filters of the history reads; times are epoch seconds, both ends inclusive.
#[derive(Debug, Clone, Default)]
pub struct HistoryFilter {
    pub start: Option<i64>,
    pub end: Option<i64>,
    pub asset_id: Option<i64>,
    pub rule_id: Option<String>,
    pub status: Option<ReviewStatus>,
}

/// History rows of the collection's enabled assets. Rows whose user no longer exists are left
/// out, as upstream's inner join does.
const HISTORY_OF_COLLECTION: &str = "
    SELECT h.*, rv.asset_id, rv.rule_id AS review_rule_id, u.username,
           su.username AS status_username
    FROM review_history h
    JOIN review rv ON rv.review_id = h.review_id
    JOIN asset a ON a.asset_id = rv.asset_id AND a.state = 'enabled'
    JOIN user_data u ON u.user_id = h.user_id
    LEFT JOIN user_data su ON su.user_id = h.status_user_id
    WHERE a.collection_id = $1
      AND ($2 IS NULL OR h.touch_ts >= $2)
      AND ($3 IS NULL OR h.touch_ts <= $3)
      AND ($4 IS NULL OR rv.asset_id = $4)
      AND ($5 IS NULL OR rv.rule_id = $5)
      AND ($6 IS NULL OR h.status_id = $6)
    ORDER BY rv.asset_id, rv.rule_id, h.history_id";

impl Store {
    pub async fn collection_history(
        &self,
        collection_id: i64,
        filter: &HistoryFilter,
    ) -> Result<Vec<AssetHistory>> {
        let rows = sqlx::query(HISTORY_OF_COLLECTION)
            .bind(collection_id)
            .bind(filter.start)
            .bind(filter.end)
            .bind(filter.asset_id)
            .bind(filter.rule_id.as_deref())
            .bind(filter.status.map(ReviewStatus::id))
            .fetch_all(&self.pool)
            .await?;
        let mut by_asset: BTreeMap<i64, BTreeMap<String, Vec<_>>> = BTreeMap::new();
        for row in &rows {
            let asset_id: i64 = row.try_get("asset_id")?;
            let rule_id: String = row.try_get("review_rule_id")?;
            let entry = history_from_row(row, false)?;
            by_asset.entry(asset_id).or_default().entry(rule_id).or_default().push(entry);
        }
        Ok(by_asset
            .into_iter()
            .map(|(asset_id, rules)| AssetHistory {
                asset_id,
                review_histories: rules
                    .into_iter()
                    .map(|(rule_id, history)| RuleHistory { rule_id, history })
                    .collect(),
            })
            .collect())
    }

    pub async fn collection_history_stats(
        &self,
        collection_id: i64,
        filter: &HistoryFilter,
        per_asset: bool,
    ) -> Result<HistoryStats> {
        let rows = sqlx::query(&format!(
            "SELECT asset_id, COUNT(*) AS n, MIN(touch_ts) AS oldest
             FROM ({HISTORY_OF_COLLECTION}) hist GROUP BY asset_id ORDER BY asset_id"
        ))
        .bind(collection_id)
        .bind(filter.start)
        .bind(filter.end)
        .bind(filter.asset_id)
        .bind(filter.rule_id.as_deref())
        .bind(filter.status.map(ReviewStatus::id))
        .fetch_all(&self.pool)
        .await?;
        let mut assets = Vec::new();
        for row in &rows {
            let oldest: i64 = row.try_get("oldest")?;
            assets.push(AssetHistoryStats {
                asset_id: row.try_get("asset_id")?,
                history_entry_count: row.try_get("n")?,
                oldest_history_entry: Some(stigward_domain::iso_millis(oldest)),
            });
        }
        let oldest = rows
            .iter()
            .map(|r| r.try_get::<i64, _>("oldest"))
            .collect::<std::result::Result<Vec<_>, _>>()?
            .into_iter()
            .min();
        Ok(HistoryStats {
            collection_history_entry_count: assets.iter().map(|a| a.history_entry_count).sum(),
            oldest_history_entry_date: oldest.map(stigward_domain::iso_millis),
            asset_history_entry_counts: per_asset.then_some(assets),
        })
    }

    /// Deletes history rows touched before `before` (epoch seconds); returns how many.
    pub async fn delete_collection_history(
        &self,
        collection_id: i64,
        before: i64,
        asset_id: Option<i64>,
    ) -> Result<u64> {
        let mut write = self.begin_write().await?;
        let done = sqlx::query(
            "DELETE FROM review_history WHERE touch_ts < $2 AND review_id IN (
                 SELECT rv.review_id FROM review rv JOIN asset a ON a.asset_id = rv.asset_id
                 WHERE a.collection_id = $1 AND ($3 IS NULL OR rv.asset_id = $3))",
        )
        .bind(collection_id)
        .bind(before)
        .bind(asset_id)
        .execute(&mut *write.tx)
        .await?;
        write.commit().await?;
        Ok(done.rows_affected())
    }
}
