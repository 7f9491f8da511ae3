//! Building installations without the API: grants, ACL rules and pins for tests (whose API is
//! written elsewhere), and synthetic collections, assets, assignments and reviews in bulk for
//! benchmarks.

use sqlx::Row;
use stigward_domain::Role;

use crate::access::Access;
use crate::{Result, Store, StoreError};

impl Store {
    /// Grants a user a role in a collection; returns the grant id.
    pub async fn insert_grant(&self, collection_id: i64, user_id: i64, role: Role) -> Result<i64> {
        let mut write = self.begin_write().await?;
        let row = sqlx::query(
            "INSERT INTO collection_grant (collection_id, user_id, role_id) VALUES ($1, $2, $3)
             RETURNING grant_id",
        )
        .bind(collection_id)
        .bind(user_id)
        .bind(role.id())
        .fetch_one(&mut *write.tx)
        .await?;
        write.commit().await?;
        Ok(row.try_get("grant_id")?)
    }

    /// Adds an ACL rule to a grant; absent parts match everything.
    pub async fn insert_acl_rule(
        &self,
        grant_id: i64,
        asset_id: Option<i64>,
        benchmark_id: Option<&str>,
        label_id: Option<i64>,
        access: Access,
    ) -> Result<()> {
        let mut write = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO collection_grant_acl (grant_id, asset_id, benchmark_id, label_id, access)
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(grant_id)
        .bind(asset_id)
        .bind(benchmark_id)
        .bind(label_id)
        .bind(access.api())
        .execute(&mut *write.tx)
        .await?;
        write.commit().await?;
        Ok(())
    }

    /// The internal id of a label known by its uuid.
    pub async fn label_id_by_uuid(&self, uuid: &str) -> Result<i64> {
        let row = sqlx::query("SELECT label_id FROM collection_label WHERE uuid = $1")
            .bind(uuid)
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound)?;
        Ok(row.try_get("label_id")?)
    }
}

/// The size and mix of a synthetic installation.
#[derive(Debug, Clone)]
pub struct GenerateSpec {
    pub collections: i64,
    pub assets_per_collection: i64,
    /// STIGs assigned to each asset, taken in turn from the benchmarks given.
    pub stigs_per_asset: i64,
    pub labels_per_collection: i64,
    /// Percentage of each checklist's rules that carry a review.
    pub review_percent: i64,
    /// Percentage of reviews with one earlier history entry.
    pub history_percent: i64,
    /// Granted the owner role in every generated collection.
    pub owner_user_id: Option<i64>,
    /// Prefix of collection names, so repeated runs do not collide.
    pub name_prefix: String,
}

/// What [`Store::generate`] wrote.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GenerateReport {
    pub collections: i64,
    pub assets: i64,
    pub assignments: i64,
    pub reviews: i64,
    pub history: i64,
}

/// Assets are written and reviewed in batches of this many, each in its own transaction, so
/// memory and WAL stay bounded whatever the size.
const ASSET_BATCH: i64 = 250;

/// Reviews for a batch of assets straight from the rules of each assignment's current
/// revision. `h` is a per-review pseudo-random number (from asset and rule ids) that picks
/// whether the rule is reviewed and its result, status, result engine and age: roughly 45%
/// pass, 20% fail, 20% notapplicable, 5% notchecked and 10% other results; assessed results
/// are saved, submitted, accepted or rejected 4:3:2:1.
const GENERATE_REVIEWS: &str = "
    INSERT INTO review (asset_id, rule_id, version, check_digest, result_id, detail, comment,
                        auto_result, result_engine, metadata, user_id, ts, status_id, status_ts,
                        touch_ts)
    SELECT asset_id, rule_id, version, check_digest, result_id, 'Generated review', '',
           0, CASE WHEN h % 7 = 0 THEN '{\"type\":\"script\",\"product\":\"stigward-generate\"}' END,
           '{}', $4, $5 - (h * 37) % 31536000,
           CASE WHEN result_id NOT IN (2, 3, 4) THEN 0
                WHEN (h / 100) % 10 < 4 THEN 0
                WHEN (h / 100) % 10 < 7 THEN 1
                WHEN (h / 100) % 10 < 9 THEN 3
                ELSE 2 END,
           $5 - (h * 37) % 31536000, $5 - (h * 37) % 31536000
    FROM (
        SELECT asset_id, rule_id, version, check_digest, h,
               CASE WHEN h % 100 < 45 THEN 3
                    WHEN h % 100 < 65 THEN 4
                    WHEN h % 100 < 85 THEN 2
                    WHEN h % 100 < 90 THEN 1
                    ELSE 5 + h % 5 END AS result_id
        FROM (
            SELECT a.asset_id, rgr.rule_id, k.version, k.check_digest,
                   (a.asset_id * 7919 + rgr.rgr_id * 104729) % 1000003 AS h
            FROM asset a
            JOIN stig_asset_map sa ON sa.asset_id = a.asset_id
            JOIN current_rev cr ON cr.benchmark_id = sa.benchmark_id
            JOIN rev_group_rule_map rgr ON rgr.rev_id = cr.rev_id
            JOIN rule_version_check_digest k ON k.rule_id = rgr.rule_id
            WHERE a.collection_id = $1 AND a.asset_id BETWEEN $2 AND $3
        ) hashed
    ) s
    WHERE (h / 10000) % 100 < $6
    ON CONFLICT (asset_id, version, check_digest) DO NOTHING";

impl Store {
    /// Builds a synthetic installation over already imported `benchmark_ids`, with set-based
    /// inserts. `progress` hears about each finished batch.
    pub async fn generate(
        &self,
        spec: &GenerateSpec,
        benchmark_ids: &[String],
        now: i64,
        mut progress: impl FnMut(&GenerateReport),
    ) -> Result<GenerateReport> {
        let mut report = GenerateReport::default();
        for index in 0..spec.collections {
            let collection_id = self.generate_collection(spec, index, now).await?;
            report.collections += 1;
            let mut done = 0;
            while done < spec.assets_per_collection {
                let count = ASSET_BATCH.min(spec.assets_per_collection - done);
                let batch = self
                    .generate_assets(spec, collection_id, done, count, benchmark_ids, now)
                    .await?;
                report.assets += count;
                report.assignments += batch.assignments;
                report.reviews += batch.reviews;
                report.history += batch.history;
                done += count;
                self.refresh_statistics().await?;
                progress(&report);
            }
        }
        Ok(report)
    }

    /// PostgreSQL plans each batch's metrics recount from table statistics, which autovacuum
    /// refreshes long after a bulk load has grown the tables many times over; with stale ones
    /// it scans every assignment of a STIG for each marked checklist.
    async fn refresh_statistics(&self) -> Result<()> {
        if self.dialect == crate::Dialect::Postgres {
            sqlx::query("ANALYZE asset, stig_asset_map, review, collection_label_asset_map")
                .execute(&self.pool)
                .await?;
        }
        Ok(())
    }

    async fn generate_collection(&self, spec: &GenerateSpec, index: i64, now: i64) -> Result<i64> {
        let mut write = self.begin_write().await?;
        let row = sqlx::query(
            "INSERT INTO collection (name, description, settings, metadata, created)
             VALUES ($1, 'Generated', $2, '{}', $3) RETURNING collection_id",
        )
        .bind(format!("{}{:04}", spec.name_prefix, index + 1))
        .bind(stigward_domain::settings::default_settings().to_string())
        .bind(now)
        .fetch_one(&mut *write.tx)
        .await?;
        let collection_id: i64 = row.try_get("collection_id")?;
        if let Some(user_id) = spec.owner_user_id {
            sqlx::query(
                "INSERT INTO collection_grant (collection_id, user_id, role_id) VALUES ($1, $2, 4)",
            )
            .bind(collection_id)
            .bind(user_id)
            .execute(&mut *write.tx)
            .await?;
        }
        for label in 0..spec.labels_per_collection {
            sqlx::query(
                "INSERT INTO collection_label (collection_id, uuid, name, description, color)
                 VALUES ($1, $2, $3, NULL, $4)",
            )
            .bind(collection_id)
            .bind(uuid::Uuid::new_v4().to_string())
            .bind(format!("label-{:02}", label + 1))
            .bind(format!("{:06x}", (label * 0x3a5f17) % 0xffffff))
            .execute(&mut *write.tx)
            .await?;
        }
        write.commit().await?;
        Ok(collection_id)
    }

    /// Writes `count` assets numbered from `first`, their labels, STIGs, reviews and history.
    async fn generate_assets(
        &self,
        spec: &GenerateSpec,
        collection_id: i64,
        first: i64,
        count: i64,
        benchmark_ids: &[String],
        now: i64,
    ) -> Result<GenerateReport> {
        let mut report = GenerateReport::default();
        let mut write = self.begin_write().await?;
        let rows = sqlx::query(
            "WITH RECURSIVE n(i) AS (
                 SELECT CAST($2 AS BIGINT) UNION ALL SELECT i + 1 FROM n WHERE i + 1 < $3
             )
             INSERT INTO asset (collection_id, name, fqdn, ip, noncomputing, metadata)
             SELECT $1, 'asset-' || CAST(i + 1 AS TEXT), 'asset-' || CAST(i + 1 AS TEXT) || '.example',
                    '10.' || CAST((i / 65536) % 256 AS TEXT) || '.' || CAST((i / 256) % 256 AS TEXT)
                        || '.' || CAST(i % 256 AS TEXT),
                    CASE WHEN i % 50 = 0 THEN 1 ELSE 0 END, '{}'
             FROM n
             RETURNING asset_id",
        )
        .bind(collection_id)
        .bind(first)
        .bind(first + count)
        .fetch_all(&mut *write.tx)
        .await?;
        let ids: Vec<i64> = rows.iter().map(|r| r.try_get(0)).collect::<Result<_, _>>()?;
        let (Some(low), Some(high)) = (ids.iter().min(), ids.iter().max()) else {
            return Ok(report);
        };
        let stigs = spec.stigs_per_asset.min(benchmark_ids.len() as i64);
        for (offset, benchmark_id) in benchmark_ids.iter().enumerate() {
            let done = sqlx::query(
                "INSERT INTO stig_asset_map (benchmark_id, asset_id)
                 SELECT $1, asset_id FROM asset
                 WHERE collection_id = $2 AND asset_id BETWEEN $3 AND $4 AND (asset_id + $5) % $6 < $7",
            )
            .bind(benchmark_id)
            .bind(collection_id)
            .bind(low)
            .bind(high)
            .bind(offset as i64)
            .bind(benchmark_ids.len() as i64)
            .bind(stigs)
            .execute(&mut *write.tx)
            .await?;
            report.assignments += done.rows_affected() as i64;
        }
        sqlx::query(
            "INSERT INTO collection_label_asset_map (label_id, asset_id)
             SELECT l.label_id, a.asset_id FROM asset a
             JOIN collection_label l ON l.collection_id = a.collection_id
             WHERE a.collection_id = $1 AND a.asset_id BETWEEN $2 AND $3
                 AND (a.asset_id * 7 + l.label_id * 3) % 5 = 0",
        )
        .bind(collection_id)
        .bind(low)
        .bind(high)
        .execute(&mut *write.tx)
        .await?;
        let done = sqlx::query(GENERATE_REVIEWS)
            .bind(collection_id)
            .bind(low)
            .bind(high)
            .bind(spec.owner_user_id)
            .bind(now)
            .bind(spec.review_percent)
            .execute(&mut *write.tx)
            .await?;
        report.reviews = done.rows_affected() as i64;
        let done = sqlx::query(
            "INSERT INTO review_history (review_id, rule_id, result_id, detail, comment,
                 auto_result, user_id, ts, status_id, status_ts, touch_ts)
             SELECT review_id, rule_id, CASE WHEN result_id = 3 THEN 4 ELSE 1 END, detail, '',
                    0, user_id, ts - 86400, 0, ts - 86400, ts - 86400
             FROM review WHERE asset_id BETWEEN $1 AND $2 AND review_id % 100 < $3",
        )
        .bind(low)
        .bind(high)
        .bind(spec.history_percent)
        .execute(&mut *write.tx)
        .await?;
        report.history = done.rows_affected() as i64;
        write.commit().await?;
        Ok(report)
    }
}

impl Store {
    /// Imported benchmarks with the rule count of their current revision, largest first.
    pub async fn benchmarks_by_size(&self) -> Result<Vec<(String, i64)>> {
        let rows = sqlx::query(
            "SELECT cr.benchmark_id, r.low_count + r.medium_count + r.high_count AS rules
             FROM current_rev cr JOIN revision r ON r.rev_id = cr.rev_id
             ORDER BY rules DESC, cr.benchmark_id",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|r| Ok((r.try_get("benchmark_id")?, r.try_get("rules")?))).collect()
    }
}
