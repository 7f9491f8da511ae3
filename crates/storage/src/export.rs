//! Exporting reviews from one collection to another (`export-to`) inside one transaction:
//! destination assets are matched by name and created when missing, STIG mappings added, and
//! each selected review inserted or overwritten under the destination's settings.

use std::collections::{BTreeMap, HashSet};

use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};
use stigward_domain::review::{ReviewResult, ReviewStatus};
use stigward_domain::settings::{CollectionSettings, Required, ResetCriteria};

use crate::reviews::snapshot_history;
use crate::stigs::RevisionSelector;
use crate::{Cancellation, Result, Store, StoreError};

const REVIEW_CHUNK: usize = 10_000;
const METRICS_CHUNK: usize = 1_000;
pub const RESET_TEXT: &str = "Status reset due to a Review change or Collection setting";

/// Which revision of a STIG an export reads reviews for.
#[derive(Debug, Clone)]
pub enum RevisionChoice {
    /// The source collection's default revision.
    Default,
    /// A revision named in the request; `latest` is taken literally and matches no reviews.
    Named(RevisionSelector),
}

/// One asset of the request: its STIGs, or every STIG mapped to it when `None`.
#[derive(Debug, Clone)]
pub struct ExportSelection {
    pub asset_id: i64,
    pub stigs: Option<Vec<(String, RevisionChoice)>>,
}

/// A resolved (source asset, benchmark, revision) triple.
#[derive(Debug, Clone)]
pub struct ExportTarget {
    pub asset_id: i64,
    pub benchmark_id: String,
    pub rev_id: Option<String>,
}

#[derive(Debug, Clone)]
pub struct ExportPlan {
    pub source_id: i64,
    pub destination_id: i64,
    pub targets: Vec<ExportTarget>,
    pub user_id: i64,
    pub now: i64,
}

/// One progress line of an export; fields absent from a stage are left out.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ExportProgress {
    pub stage: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub step_count: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub step: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub step_name: Option<&'static str>,
    pub status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reviews_total: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reviews_exported: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metrics_total: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metrics_updated: Option<usize>,
}

#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ExportCounts {
    pub assets_created: usize,
    pub stigs_mapped: usize,
    pub reviews_inserted: usize,
    pub reviews_updated: usize,
}

type Tx = Transaction<'static, Any>;

/// Reports progress to the caller, and ends the export with `Cancelled` once `cancel` is set.
struct Reporter<'r, F> {
    report: &'r mut F,
    cancel: &'r Cancellation,
}

impl<F: FnMut(&ExportProgress)> Reporter<'_, F> {
    /// Reports a line, unless the export has been cancelled: nobody would read it.
    fn send(&mut self, progress: ExportProgress) -> Result<()> {
        self.cancel.check()?;
        (self.report)(&progress);
        Ok(())
    }

    /// Reports steps `range` of a stage whose statements upstream runs one by one.
    fn steps(
        &mut self,
        stage: &'static str,
        message: &'static str,
        names: &[&'static str],
        range: std::ops::Range<usize>,
    ) -> Result<()> {
        for i in range {
            self.send(ExportProgress {
                stage,
                step_count: Some(names.len() as u32),
                step: Some(i as u32 + 1),
                step_name: names.get(i).copied(),
                status: "running",
                message: Some(message),
                ..Default::default()
            })?;
        }
        Ok(())
    }
}

const PREPARE_STEPS: [&str; 6] = [
    "dropArg",
    "createArg",
    "dropCollectionSetting",
    "createCollectionSetting",
    "dropSrcReviewId",
    "createSrcReviewId",
];
const ASSET_STEPS: [&str; 6] = [
    "insertAsset",
    "dropAssetIdMap",
    "createAssetIdMap",
    "insertStigAssetMap",
    "deleteDefaultRev",
    "insertDefaultRev",
];

impl Store {
    /// Resolves the request's selections; `Conflict` names what does not fit.
    pub async fn resolve_export(
        &self,
        source_id: i64,
        selections: &[ExportSelection],
    ) -> Result<Vec<ExportTarget>> {
        let mut targets = Vec::new();
        for selection in selections {
            let mapped: Vec<(String, String)> = sqlx::query(
                "SELECT sa.benchmark_id, d.rev_id FROM stig_asset_map sa
                 JOIN asset a ON a.asset_id = sa.asset_id AND a.state = 'enabled'
                 JOIN default_rev d ON d.collection_id = a.collection_id
                     AND d.benchmark_id = sa.benchmark_id
                 WHERE sa.asset_id = $1 AND a.collection_id = $2 ORDER BY sa.benchmark_id",
            )
            .bind(selection.asset_id)
            .bind(source_id)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
            .collect::<Result<_>>()?;
            let defaults: BTreeMap<String, String> = mapped.into_iter().collect();
            let wanted = match &selection.stigs {
                None => defaults.keys().map(|b| (b.clone(), RevisionChoice::Default)).collect(),
                Some(stigs) => stigs.clone(),
            };
            for (benchmark_id, choice) in wanted {
                let Some(default) = defaults.get(&benchmark_id) else {
                    return Err(StoreError::Conflict(format!(
                        "asset {} has no STIG {benchmark_id} in the source collection",
                        selection.asset_id
                    )));
                };
                let rev_id = match choice {
                    RevisionChoice::Default => Some(default.clone()),
                    RevisionChoice::Named(RevisionSelector::Latest) => None,
                    RevisionChoice::Named(selector) => {
                        Some(self.rev_id(&benchmark_id, &selector).await.map_err(|e| match e {
                            StoreError::NotFound => {
                                StoreError::Conflict(format!("no such revision of {benchmark_id}"))
                            }
                            other => other,
                        })?)
                    }
                };
                targets.push(ExportTarget { asset_id: selection.asset_id, benchmark_id, rev_id });
            }
        }
        Ok(targets)
    }

    /// Runs the export; `report` sees each stage as it happens; `cancel`, set at any time
    /// before the commit, rolls it back.
    pub async fn export_reviews<F>(
        &self,
        plan: &ExportPlan,
        report: &mut F,
        cancel: &Cancellation,
    ) -> Result<ExportCounts>
    where
        F: FnMut(&ExportProgress) + Send,
    {
        let mut reporter = Reporter { report, cancel };
        // reported before the write lock is taken, so a client sees the export under way even
        // while another writer holds it
        reporter.steps("prepare", "Preparing data", &PREPARE_STEPS, 0..6)?;
        let mut write = self.begin_write().await?;
        let tx = &mut write.tx;
        let mut counts = ExportCounts::default();
        let settings: String =
            sqlx::query_scalar("SELECT settings FROM collection WHERE collection_id = $1")
                .bind(plan.destination_id)
                .fetch_one(&mut **tx)
                .await?;
        let settings = CollectionSettings::from_stored(&crate::json_column(&settings, "settings")?);

        const ASSETS: &str = "Preparing Assets";
        reporter.steps("assets", ASSETS, &ASSET_STEPS, 0..1)?;
        let assets = destination_assets(tx, plan, &mut counts).await?;
        reporter.steps("assets", ASSETS, &ASSET_STEPS, 1..4)?;
        let mappings = map_stigs(tx, plan, &assets, &mut counts).await?;
        // default revisions are a view over mappings and pins: nothing to rebuild
        reporter.steps("assets", ASSETS, &ASSET_STEPS, 4..6)?;

        let reviews = source_reviews(tx, plan, &assets).await?;
        let total = reviews.len();
        let line = |done| ExportProgress {
            stage: "reviews",
            status: "running",
            reviews_total: Some(total),
            reviews_exported: Some(done),
            ..Default::default()
        };
        reporter.send(line(0))?;
        for (i, (destination, review)) in reviews.iter().enumerate() {
            write_review(tx, plan, &settings, *destination, review, &mut counts).await?;
            if (i + 1) % REVIEW_CHUNK == 0 || i + 1 == total {
                reporter.send(line(i + 1))?;
            }
        }

        // the commit recounts the metrics of every checklist written, so these lines only keep
        // the step sequence clients follow
        let metrics = |done| ExportProgress {
            stage: "metrics",
            status: "running",
            metrics_total: Some(mappings),
            metrics_updated: Some(done),
            ..Default::default()
        };
        reporter.send(metrics(0))?;
        for done in (METRICS_CHUNK..mappings).step_by(METRICS_CHUNK).chain([mappings]) {
            reporter.send(metrics(done))?;
        }
        reporter.send(ExportProgress {
            stage: "commit",
            status: "running",
            ..Default::default()
        })?;
        write.commit_unless(cancel).await?;
        Ok(counts)
    }
}

/// Source asset id → destination asset id, creating destination assets that are missing.
async fn destination_assets(
    tx: &mut Tx,
    plan: &ExportPlan,
    counts: &mut ExportCounts,
) -> Result<BTreeMap<i64, i64>> {
    let mut map = BTreeMap::new();
    for target in &plan.targets {
        if map.contains_key(&target.asset_id) {
            continue;
        }
        let existing: Option<i64> = sqlx::query_scalar(
            "SELECT d.asset_id FROM asset s
             JOIN asset d ON d.name = s.name AND d.collection_id = $2 AND d.state = 'enabled'
             WHERE s.asset_id = $1",
        )
        .bind(target.asset_id)
        .bind(plan.destination_id)
        .fetch_optional(&mut **tx)
        .await?;
        let id = match existing {
            Some(id) => id,
            None => {
                counts.assets_created += 1;
                sqlx::query_scalar(
                    "INSERT INTO asset (collection_id, name, fqdn, ip, mac, description,
                         noncomputing, metadata)
                     SELECT $2, name, fqdn, ip, mac, description, noncomputing, metadata
                     FROM asset WHERE asset_id = $1 RETURNING asset_id",
                )
                .bind(target.asset_id)
                .bind(plan.destination_id)
                .fetch_one(&mut **tx)
                .await?
            }
        };
        map.insert(target.asset_id, id);
    }
    Ok(map)
}

/// Adds the missing STIG mappings; returns how many (asset, STIG) pairs the export touches.
async fn map_stigs(
    tx: &mut Tx,
    plan: &ExportPlan,
    assets: &BTreeMap<i64, i64>,
    counts: &mut ExportCounts,
) -> Result<usize> {
    let mut pairs = HashSet::new();
    for target in &plan.targets {
        let Some(destination) = assets.get(&target.asset_id) else {
            continue;
        };
        if !pairs.insert((*destination, target.benchmark_id.clone())) {
            continue;
        }
        let added = sqlx::query(
            "INSERT INTO stig_asset_map (benchmark_id, asset_id) VALUES ($1, $2)
             ON CONFLICT (asset_id, benchmark_id) DO NOTHING",
        )
        .bind(&target.benchmark_id)
        .bind(destination)
        .execute(&mut **tx)
        .await?;
        counts.stigs_mapped += added.rows_affected() as usize;
    }
    Ok(pairs.len())
}

/// The source reviews of each target's revision, paired with their destination asset.
async fn source_reviews(
    tx: &mut Tx,
    plan: &ExportPlan,
    assets: &BTreeMap<i64, i64>,
) -> Result<Vec<(i64, AnyRow)>> {
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for target in &plan.targets {
        let (Some(rev_id), Some(destination)) = (&target.rev_id, assets.get(&target.asset_id))
        else {
            continue;
        };
        let rows = sqlx::query(
            "SELECT r.review_id, r.rule_id, r.version, r.check_digest, r.result_id, r.detail,
                 r.comment, r.result_engine, r.metadata
             FROM review r WHERE r.asset_id = $1 AND EXISTS (
                 SELECT 1 FROM rev_group_rule_map m WHERE m.rev_id = $2
                     AND m.version = r.version AND m.check_digest = r.check_digest)
             ORDER BY r.review_id",
        )
        .bind(target.asset_id)
        .bind(rev_id)
        .fetch_all(&mut **tx)
        .await?;
        for row in rows {
            if seen.insert(row.try_get::<i64, _>("review_id")?) {
                out.push((*destination, row));
            }
        }
    }
    Ok(out)
}

async fn write_review(
    tx: &mut Tx,
    plan: &ExportPlan,
    settings: &CollectionSettings,
    destination: i64,
    source: &AnyRow,
    counts: &mut ExportCounts,
) -> Result<()> {
    let version: String = source.try_get("version")?;
    let digest: Vec<u8> = source.try_get("check_digest")?;
    let existing = sqlx::query(
        "SELECT review_id, result_id, detail, comment, status_id FROM review
         WHERE asset_id = $1 AND version = $2 AND check_digest = $3",
    )
    .bind(destination)
    .bind(&version)
    .bind(&digest)
    .fetch_optional(&mut **tx)
    .await?;
    let Some(existing) = existing else {
        counts.reviews_inserted += 1;
        return insert_review(tx, plan, destination, source).await;
    };
    counts.reviews_updated += 1;
    let review_id: i64 = existing.try_get("review_id")?;
    snapshot_history(tx, review_id, settings.history.max_reviews).await?;
    let reset = needs_reset(settings, &existing, source)?;
    sqlx::query(
        "UPDATE review SET rule_id = $2, result_id = $3, detail = $4, comment = $5,
             result_engine = $6, metadata = $7, user_id = $8, ts = $9, touch_ts = $9,
             status_id = CASE WHEN $10 = 1 THEN $11 ELSE status_id END,
             status_text = CASE WHEN $10 = 1 THEN $12 ELSE status_text END,
             status_user_id = CASE WHEN $10 = 1 THEN $8 ELSE status_user_id END,
             status_ts = CASE WHEN $10 = 1 THEN $9 ELSE status_ts END
         WHERE review_id = $1",
    )
    .bind(review_id)
    .bind(source.try_get::<String, _>("rule_id")?)
    .bind(source.try_get::<i64, _>("result_id")?)
    .bind(source.try_get::<String, _>("detail")?)
    .bind(source.try_get::<String, _>("comment")?)
    .bind(source.try_get::<Option<String>, _>("result_engine")?)
    .bind(source.try_get::<String, _>("metadata")?)
    .bind(plan.user_id)
    .bind(plan.now)
    .bind(i64::from(reset))
    .bind(ReviewStatus::Saved.id())
    .bind(RESET_TEXT)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

async fn insert_review(
    tx: &mut Tx,
    plan: &ExportPlan,
    destination: i64,
    source: &AnyRow,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO review (asset_id, rule_id, version, check_digest, result_id, detail, comment,
             result_engine, metadata, user_id, ts, status_id, status_text, status_user_id,
             status_ts, touch_ts)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, '', $10, $11, $11)",
    )
    .bind(destination)
    .bind(source.try_get::<String, _>("rule_id")?)
    .bind(source.try_get::<String, _>("version")?)
    .bind(source.try_get::<Vec<u8>, _>("check_digest")?)
    .bind(source.try_get::<i64, _>("result_id")?)
    .bind(source.try_get::<String, _>("detail")?)
    .bind(source.try_get::<String, _>("comment")?)
    .bind(source.try_get::<Option<String>, _>("result_engine")?)
    .bind(source.try_get::<String, _>("metadata")?)
    .bind(plan.user_id)
    .bind(plan.now)
    .bind(ReviewStatus::Saved.id())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The destination's reset criteria saw a change, or the incoming text breaks its
/// requirements for detail and comment.
fn needs_reset(settings: &CollectionSettings, existing: &AnyRow, source: &AnyRow) -> Result<bool> {
    let result: i64 = source.try_get("result_id")?;
    let detail: String = source.try_get("detail")?;
    let comment: String = source.try_get("comment")?;
    let result_changed = existing.try_get::<i64, _>("result_id")? != result;
    let changed = match settings.status.reset_criteria {
        ResetCriteria::Result => result_changed,
        ResetCriteria::Any => {
            result_changed
                || existing.try_get::<String, _>("detail")? != detail
                || existing.try_get::<String, _>("comment")? != comment
        }
    };
    let fail = ReviewResult::from_id(result) == Some(ReviewResult::Fail);
    let breaks = |required: Required, text: &str| {
        text.is_empty()
            && (required == Required::Always || (required == Required::Findings && fail))
    };
    let violates = breaks(settings.fields.detail.required, &detail)
        || breaks(settings.fields.comment.required, &comment);
    Ok(changed || violates)
}
