//! Metrics, derived on read from the reviews matched to each assignment's default revision.

use std::collections::HashMap;

use sqlx::any::AnyRow;
use sqlx::Row;
use stigward_wire::metrics::{AssetSummary, BySeverity, SummaryMetrics, SummaryResults};

use crate::{flag, Result, Store};

/// Filters shared by the collection metrics operations. Label filters are OR-ed.
#[derive(Debug, Clone, Default)]
pub struct MetricsFilter {
    pub asset_ids: Vec<i64>,
    pub benchmark_ids: Vec<String>,
    pub label_ids: Vec<String>,
    pub label_names: Vec<String>,
    pub unlabeled: bool,
}

impl MetricsFilter {
    fn by_label(&self) -> bool {
        !self.label_ids.is_empty() || !self.label_names.is_empty() || self.unlabeled
    }
}

/// Per asset/STIG assignment: rule counts of the default revision and counts of the reviews
/// matched to its rules through the review key.
const ASSIGNMENT_COUNTS: &str = "
    WITH assigned AS (
        SELECT a.asset_id, sa.benchmark_id, dr.rev_id
        FROM asset a
        JOIN stig_asset_map sa ON sa.asset_id = a.asset_id
        JOIN default_rev dr
            ON dr.collection_id = a.collection_id AND dr.benchmark_id = sa.benchmark_id
        WHERE a.collection_id = $1 AND a.state = 'enabled'
    ), counts AS (
        SELECT s.asset_id, s.benchmark_id,
               COUNT(*) FILTER (WHERE rv.result_id = 3) AS pass,
               COUNT(*) FILTER (WHERE rv.result_id = 4) AS fail,
               COUNT(*) FILTER (WHERE rv.result_id = 2) AS notapplicable,
               COUNT(*) FILTER (WHERE rv.result_id NOT IN (2, 3, 4)) AS other,
               COUNT(*) FILTER (WHERE rv.status_id = 0) AS saved,
               COUNT(*) FILTER (WHERE rv.status_id = 1) AS submitted,
               COUNT(*) FILTER (WHERE rv.status_id = 2) AS rejected,
               COUNT(*) FILTER (WHERE rv.status_id = 3) AS accepted,
               COUNT(*) FILTER (WHERE rv.result_id = 4 AND rgr.severity = 'low') AS findings_low,
               COUNT(*) FILTER (WHERE rv.result_id = 4 AND rgr.severity = 'medium') AS findings_medium,
               COUNT(*) FILTER (WHERE rv.result_id = 4 AND rgr.severity = 'high') AS findings_high,
               COUNT(*) FILTER (WHERE rv.result_id IN (2, 3, 4) AND rgr.severity = 'low') AS assessed_low,
               COUNT(*) FILTER (WHERE rv.result_id IN (2, 3, 4) AND rgr.severity = 'medium') AS assessed_medium,
               COUNT(*) FILTER (WHERE rv.result_id IN (2, 3, 4) AND rgr.severity = 'high') AS assessed_high,
               MIN(rv.ts) AS min_ts, MAX(rv.ts) AS max_ts, MAX(rv.touch_ts) AS max_touch_ts
        FROM assigned s
        JOIN rev_group_rule_map rgr ON rgr.rev_id = s.rev_id
        JOIN rule_version_check_digest k ON k.rule_id = rgr.rule_id
        JOIN review rv ON rv.asset_id = s.asset_id AND rv.version = k.version
            AND rv.check_digest = k.check_digest
        GROUP BY s.asset_id, s.benchmark_id
    )
    SELECT s.asset_id, s.benchmark_id, r.low_count, r.medium_count, r.high_count,
           COALESCE(c.pass, 0) AS pass,
           COALESCE(c.fail, 0) AS fail,
           COALESCE(c.notapplicable, 0) AS notapplicable,
           COALESCE(c.other, 0) AS other,
           COALESCE(c.saved, 0) AS saved,
           COALESCE(c.submitted, 0) AS submitted,
           COALESCE(c.rejected, 0) AS rejected,
           COALESCE(c.accepted, 0) AS accepted,
           COALESCE(c.findings_low, 0) AS findings_low,
           COALESCE(c.findings_medium, 0) AS findings_medium,
           COALESCE(c.findings_high, 0) AS findings_high,
           COALESCE(c.assessed_low, 0) AS assessed_low,
           COALESCE(c.assessed_medium, 0) AS assessed_medium,
           COALESCE(c.assessed_high, 0) AS assessed_high,
           c.min_ts, c.max_ts, c.max_touch_ts
    FROM assigned s
    JOIN revision r ON r.rev_id = s.rev_id
    LEFT JOIN counts c ON c.asset_id = s.asset_id AND c.benchmark_id = s.benchmark_id";

/// Counters of one assignment, or sums over several.
#[derive(Debug, Clone, Default)]
struct Counts {
    metrics: SummaryMetrics,
    min_ts: Option<i64>,
    max_ts: Option<i64>,
    max_touch_ts: Option<i64>,
}

impl Counts {
    fn add(&mut self, row: &AnyRow) -> Result<()> {
        let get = |c: &str| -> Result<i64> { Ok(row.try_get::<i64, _>(c)?) };
        let m = &mut self.metrics;
        let (low, medium, high) = (get("low_count")?, get("medium_count")?, get("high_count")?);
        m.assessments += low + medium + high;
        add_severity(&mut m.assessments_by_severity, low, medium, high);
        let results = SummaryResults {
            pass: get("pass")?,
            fail: get("fail")?,
            notapplicable: get("notapplicable")?,
            other: get("other")?,
        };
        m.assessed += results.pass + results.fail + results.notapplicable;
        m.results.pass += results.pass;
        m.results.fail += results.fail;
        m.results.notapplicable += results.notapplicable;
        m.results.other += results.other;
        m.statuses.saved += get("saved")?;
        m.statuses.submitted += get("submitted")?;
        m.statuses.rejected += get("rejected")?;
        m.statuses.accepted += get("accepted")?;
        add_severity(
            &mut m.findings,
            get("findings_low")?,
            get("findings_medium")?,
            get("findings_high")?,
        );
        add_severity(
            &mut m.assessed_by_severity,
            get("assessed_low")?,
            get("assessed_medium")?,
            get("assessed_high")?,
        );
        self.min_ts = min_opt(self.min_ts, row.try_get("min_ts")?);
        self.max_ts = max_opt(self.max_ts, row.try_get("max_ts")?);
        self.max_touch_ts = max_opt(self.max_touch_ts, row.try_get("max_touch_ts")?);
        Ok(())
    }

    fn finish(mut self) -> SummaryMetrics {
        self.metrics.min_ts = self.min_ts.map(stigward_domain::iso_seconds);
        self.metrics.max_ts = self.max_ts.map(stigward_domain::iso_seconds);
        self.metrics.max_touch_ts = self.max_touch_ts.map(stigward_domain::iso_seconds);
        self.metrics
    }
}

fn add_severity(total: &mut BySeverity, low: i64, medium: i64, high: i64) {
    total.low += low;
    total.medium += medium;
    total.high += high;
}

fn min_opt(a: Option<i64>, b: Option<i64>) -> Option<i64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

fn max_opt(a: Option<i64>, b: Option<i64>) -> Option<i64> {
    a.max(b)
}

impl Store {
    /// Summary metrics per asset of a collection, ordered by asset name. Assets without STIGs
    /// are listed unless a benchmark filter applies.
    pub async fn metrics_summary_by_asset(
        &self,
        collection_id: i64,
        filter: &MetricsFilter,
    ) -> Result<Vec<AssetSummary>> {
        let rows = sqlx::query(ASSIGNMENT_COUNTS).bind(collection_id).fetch_all(&self.pool).await?;
        let mut per_asset: HashMap<i64, (Counts, Vec<String>)> = HashMap::new();
        for row in &rows {
            let benchmark_id: String = row.try_get("benchmark_id")?;
            if !filter.benchmark_ids.is_empty() && !filter.benchmark_ids.contains(&benchmark_id) {
                continue;
            }
            let entry = per_asset.entry(row.try_get("asset_id")?).or_default();
            entry.0.add(row)?;
            entry.1.push(benchmark_id);
        }
        let assets = sqlx::query(
            "SELECT asset_id, name, ip, fqdn, mac, noncomputing FROM asset
             WHERE collection_id = $1 AND state = 'enabled' ORDER BY name",
        )
        .bind(collection_id)
        .fetch_all(&self.pool)
        .await?;
        let mut out = Vec::new();
        for asset in &assets {
            let asset_id: i64 = asset.try_get("asset_id")?;
            if !filter.asset_ids.is_empty() && !filter.asset_ids.contains(&asset_id) {
                continue;
            }
            let labels = self.asset_labels(asset_id).await?;
            if filter.by_label() && !label_match(filter, &labels) {
                continue;
            }
            let (counts, mut benchmark_ids) = match per_asset.remove(&asset_id) {
                Some(found) => found,
                None if !filter.benchmark_ids.is_empty() => continue,
                None => Default::default(),
            };
            benchmark_ids.sort();
            out.push(AssetSummary {
                asset_id,
                name: asset.try_get("name")?,
                labels,
                ip: asset.try_get("ip")?,
                fqdn: asset.try_get("fqdn")?,
                mac: asset.try_get("mac")?,
                noncomputing: flag(asset, "noncomputing")?,
                benchmark_ids,
                metrics: counts.finish(),
            });
        }
        Ok(out)
    }
}

fn label_match(filter: &MetricsFilter, labels: &[stigward_wire::asset::LabelRef]) -> bool {
    (filter.unlabeled && labels.is_empty())
        || labels
            .iter()
            .any(|l| filter.label_ids.contains(&l.label_id) || filter.label_names.contains(&l.name))
}
