//! The `statusStats` projection of assets: per asset, the review statuses over the rules of
//! each assigned STIG's default revision (reviews matched through the review key, as metrics
//! count them), summed over the STIGs the caller may read.

use std::collections::HashMap;

use sqlx::Row;
use stigward_wire::asset::AssetStatusStats;

use crate::access::{Access, AccessMap};
use crate::{Result, Store};

/// One asset/STIG assignment's figures.
struct StigStats {
    asset_id: i64,
    benchmark_id: String,
    rules: i64,
    /// Indexed by status id: saved, submitted, rejected, accepted.
    statuses: [i64; 4],
    min_ts: Option<i64>,
    max_ts: Option<i64>,
}

impl Store {
    /// The projection for the enabled assets of `collection_id` (or only `asset_id`) that have
    /// STIGs; with `acl`, only the STIGs it lets the caller read count.
    pub async fn asset_status_stats(
        &self,
        collection_id: i64,
        asset_id: Option<i64>,
        acl: Option<&AccessMap>,
    ) -> Result<HashMap<i64, AssetStatusStats>> {
        let mut sums: HashMap<i64, (AssetStatusStats, Option<i64>, Option<i64>)> = HashMap::new();
        for stig in self.stig_stats(collection_id, asset_id).await? {
            if acl.is_some_and(|map| map.access(stig.asset_id, &stig.benchmark_id) == Access::None)
            {
                continue;
            }
            let (stats, min_ts, max_ts) = sums.entry(stig.asset_id).or_default();
            stats.stig_count += 1;
            let add = |sum: &mut Option<i64>, n: i64| *sum = Some(sum.unwrap_or(0) + n);
            add(&mut stats.rule_count, stig.rules);
            add(&mut stats.saved_count, stig.statuses[0]);
            add(&mut stats.submitted_count, stig.statuses[1]);
            add(&mut stats.rejected_count, stig.statuses[2]);
            add(&mut stats.accepted_count, stig.statuses[3]);
            *min_ts = fold_time(*min_ts, stig.min_ts, i64::min);
            *max_ts = fold_time(*max_ts, stig.max_ts, i64::max);
        }
        let stamp = |t: Option<i64>| {
            t.and_then(|t| chrono::DateTime::from_timestamp(t, 0))
                .map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
        };
        Ok(sums
            .into_iter()
            .map(|(id, (stats, min_ts, max_ts))| {
                (id, AssetStatusStats { min_ts: stamp(min_ts), max_ts: stamp(max_ts), ..stats })
            })
            .collect())
    }

    async fn stig_stats(
        &self,
        collection_id: i64,
        asset_id: Option<i64>,
    ) -> Result<Vec<StigStats>> {
        let rows = sqlx::query(
            "SELECT sa.asset_id, sa.benchmark_id,
                    COUNT(DISTINCT rgr.rgr_id) AS rules,
                    COUNT(rv.review_id) FILTER (WHERE rv.status_id = 0) AS s0,
                    COUNT(rv.review_id) FILTER (WHERE rv.status_id = 1) AS s1,
                    COUNT(rv.review_id) FILTER (WHERE rv.status_id = 2) AS s2,
                    COUNT(rv.review_id) FILTER (WHERE rv.status_id = 3) AS s3,
                    MIN(rv.ts) AS min_ts, MAX(rv.ts) AS max_ts
             FROM stig_asset_map sa
             JOIN asset a ON a.asset_id = sa.asset_id AND a.state = 'enabled'
             JOIN default_rev d
                 ON d.collection_id = a.collection_id AND d.benchmark_id = sa.benchmark_id
             LEFT JOIN rev_group_rule_map rgr ON rgr.rev_id = d.rev_id
             LEFT JOIN review rv ON rv.asset_id = sa.asset_id
                 AND rv.version = rgr.version AND rv.check_digest = rgr.check_digest
             WHERE a.collection_id = $1 AND ($2 IS NULL OR sa.asset_id = $2)
             GROUP BY sa.asset_id, sa.benchmark_id",
        )
        .bind(collection_id)
        .bind(asset_id)
        .fetch_all(&self.pool)
        .await?;
        let mut out = Vec::with_capacity(rows.len());
        for row in &rows {
            out.push(StigStats {
                asset_id: row.try_get("asset_id")?,
                benchmark_id: row.try_get("benchmark_id")?,
                rules: row.try_get("rules")?,
                statuses: [
                    row.try_get("s0")?,
                    row.try_get("s1")?,
                    row.try_get("s2")?,
                    row.try_get("s3")?,
                ],
                min_ts: row.try_get("min_ts")?,
                max_ts: row.try_get("max_ts")?,
            });
        }
        Ok(out)
    }
}

/// Folds two optional times with `pick`.
fn fold_time(a: Option<i64>, b: Option<i64>, pick: fn(i64, i64) -> i64) -> Option<i64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(pick(a, b)),
        (a, b) => a.or(b),
    }
}
