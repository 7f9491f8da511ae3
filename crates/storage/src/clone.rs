//! Cloning a collection inside one transaction, reporting each step as it starts, in the step
//! vocabulary STIG Manager's clients follow. Copies are mapped onto the source by natural keys
//! (asset and label names, grantee ids), which are unique within a collection, so no scratch
//! tables are needed; the steps that built them upstream are still reported, as no-ops.

use serde::Serialize;
use sqlx::{Any, Row, Transaction};

use crate::{conflict_on_unique, Cancellation, Result, Store, StoreError};

/// Reviews are copied, and progress reported, this many at a time.
const REVIEW_CHUNK: usize = 10_000;

pub const NAME_UNAVAILABLE: &str = "The requested Collection name is unavailable";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StigMappings {
    WithReviews,
    WithoutReviews,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PinRevisions {
    MatchSource,
    SourceDefaults,
}

/// What to clone, and for whom.
#[derive(Debug, Clone)]
pub struct ClonePlan {
    pub source_id: i64,
    pub name: String,
    pub description: Option<String>,
    pub grants: bool,
    pub stig_mappings: StigMappings,
    pub pin_revisions: PinRevisions,
    pub user_id: i64,
    pub now: i64,
}

/// One progress line of a clone.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CloneProgress {
    pub stage: &'static str,
    pub step_count: u32,
    pub step: u32,
    pub step_name: &'static str,
    pub status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reviews_total: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reviews_copied: Option<usize>,
}

/// Reports progress to the caller, and ends the clone with `Cancelled` once `cancel` is set
/// (nobody is listening any more), which rolls it back.
struct Steps<'r, F> {
    report: &'r mut F,
    cancel: &'r Cancellation,
    stage: &'static str,
    count: u32,
    step: u32,
}

impl<F: FnMut(&CloneProgress)> Steps<'_, F> {
    fn line(
        &mut self,
        name: &'static str,
        status: &'static str,
        message: Option<&'static str>,
    ) -> CloneProgress {
        CloneProgress {
            stage: self.stage,
            step_count: self.count,
            step: self.step,
            step_name: name,
            status,
            message,
            reviews_total: None,
            reviews_copied: None,
        }
    }

    /// Reports a line, unless the clone has been cancelled: nobody would read it.
    fn send(&mut self, progress: CloneProgress) -> Result<()> {
        self.cancel.check()?;
        (self.report)(&progress);
        Ok(())
    }

    /// Starts the next step.
    fn start(&mut self, name: &'static str, message: &'static str) -> Result<()> {
        self.step += 1;
        let line = self.line(name, "running", Some(message));
        self.send(line)
    }
}

impl Store {
    /// Clones `plan.source_id`; returns the new collection's id once committed. `report` sees
    /// each step as it starts; `cancel`, set at any time before the commit, rolls it back.
    pub async fn clone_collection<F>(
        &self,
        plan: &ClonePlan,
        report: &mut F,
        cancel: &Cancellation,
    ) -> Result<i64>
    where
        F: FnMut(&CloneProgress) + Send,
    {
        let count = if plan.grants { 18 } else { 14 };
        let mut steps = Steps { report, cancel, stage: "collection", count, step: 0 };
        // reported before the write lock is taken, so a client sees the clone under way even
        // while another writer holds it
        steps.start("cloneCollection", "Creating core properties")?;
        let mut write = self.begin_write().await?;
        let tx = &mut write.tx;
        let new_id = clone_core(tx, plan, &mut steps).await?;
        clone_members(tx, plan, new_id, &mut steps).await?;
        clone_content(tx, plan, new_id, &mut steps).await?;
        steps.step += 1;
        let saving = steps.line("commit", "running", Some("Saving Collection"));
        steps.send(saving)?;
        let saved = steps.line("commit", "finished", Some("Saved Collection"));
        steps.send(saved)?;

        clone_reviews(tx, plan, new_id, steps.report, cancel).await?;
        sqlx::query("UPDATE collection SET state = 'enabled' WHERE collection_id = $1")
            .bind(new_id)
            .execute(&mut **tx)
            .await?;
        write.commit_unless(cancel).await?;
        Ok(new_id)
    }
}

pub(crate) type Tx = Transaction<'static, Any>;

async fn clone_core<F>(tx: &mut Tx, plan: &ClonePlan, steps: &mut Steps<'_, F>) -> Result<i64>
where
    F: FnMut(&CloneProgress),
{
    let row = sqlx::query(
        "INSERT INTO collection (name, description, settings, metadata, created, created_user_id,
             state, state_date, state_user_id)
         SELECT $1, $2, settings, metadata, $3, $4, 'cloning', $3, $4
         FROM collection WHERE collection_id = $5
         RETURNING collection_id",
    )
    .bind(&plan.name)
    .bind(&plan.description)
    .bind(plan.now)
    .bind(plan.user_id)
    .bind(plan.source_id)
    .fetch_optional(&mut **tx)
    .await
    .map_err(|e| conflict_on_unique(e, NAME_UNAVAILABLE))?
    .ok_or(StoreError::NotFound)?;
    steps.start("selectLastInsertId", "Creating core properties")?;
    Ok(row.try_get("collection_id")?)
}

/// Grants (when asked), the requester's Owner grant, labels and assets.
async fn clone_members<F>(
    tx: &mut Tx,
    plan: &ClonePlan,
    new_id: i64,
    steps: &mut Steps<'_, F>,
) -> Result<()>
where
    F: FnMut(&CloneProgress),
{
    if plan.grants {
        steps.start("cloneGrants", "Creating Grants")?;
        // the requester's own grant is replaced by the Owner grant below
        sqlx::query(
            "INSERT INTO collection_grant (collection_id, user_id, user_group_id, role_id)
             SELECT $1, user_id, user_group_id, role_id FROM collection_grant
             WHERE collection_id = $2 AND (user_id IS NULL OR user_id <> $3)",
        )
        .bind(new_id)
        .bind(plan.source_id)
        .bind(plan.user_id)
        .execute(&mut **tx)
        .await?;
        steps.start("dropGrantMap", "Creating Grants")?;
        steps.start("createGrantMap", "Creating Grants")?;
    }
    steps.start("insertOwnerGrant", "Creating Grants")?;
    sqlx::query(
        "INSERT INTO collection_grant (collection_id, user_id, role_id) VALUES ($1, $2, 4)",
    )
    .bind(new_id)
    .bind(plan.user_id)
    .execute(&mut **tx)
    .await?;

    steps.start("cloneLabels", "Creating Labels")?;
    clone_labels(tx, plan.source_id, new_id).await?;

    steps.start("cloneAssets", "Creating Assets")?;
    sqlx::query(
        "INSERT INTO asset (collection_id, name, fqdn, ip, mac, description, noncomputing, metadata)
         SELECT $1, name, fqdn, ip, mac, description, noncomputing, metadata
         FROM asset WHERE collection_id = $2 AND state = 'enabled'",
    )
    .bind(new_id)
    .bind(plan.source_id)
    .execute(&mut **tx)
    .await?;
    steps.start("dropAssetMap", "Creating Assets")?;
    steps.start("createAssetMap", "Creating Assets")?;
    Ok(())
}

/// Labels get new UUIDs, so they are copied one by one; collections hold few.
async fn clone_labels(tx: &mut Tx, source_id: i64, new_id: i64) -> Result<()> {
    let labels = sqlx::query(
        "SELECT name, description, color FROM collection_label WHERE collection_id = $1",
    )
    .bind(source_id)
    .fetch_all(&mut **tx)
    .await?;
    for label in &labels {
        sqlx::query(
            "INSERT INTO collection_label (collection_id, uuid, name, description, color)
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(new_id)
        .bind(uuid::Uuid::new_v4().to_string())
        .bind(label.try_get::<String, _>("name")?)
        .bind(label.try_get::<Option<String>, _>("description")?)
        .bind(label.try_get::<String, _>("color")?)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// Label and STIG mappings, grant ACLs and revision pins.
async fn clone_content<F>(
    tx: &mut Tx,
    plan: &ClonePlan,
    new_id: i64,
    steps: &mut Steps<'_, F>,
) -> Result<()>
where
    F: FnMut(&CloneProgress),
{
    const MAPPING: &str = "Creating Asset/Label mappings";
    steps.start("dropLabelMap", MAPPING)?;
    steps.start("createLabelMap", MAPPING)?;
    steps.start("cloneAssetLabels", MAPPING)?;
    execute(
        tx,
        "INSERT INTO collection_label_asset_map (label_id, asset_id)
         SELECT dl.label_id, da.asset_id
         FROM collection_label_asset_map m
         JOIN collection_label sl ON sl.label_id = m.label_id AND sl.collection_id = $2
         JOIN asset sa ON sa.asset_id = m.asset_id AND sa.state = 'enabled'
         JOIN collection_label dl ON dl.collection_id = $1 AND dl.name = sl.name
         JOIN asset da ON da.collection_id = $1 AND da.name = sa.name AND da.state = 'enabled'",
        new_id,
        plan.source_id,
    )
    .await?;

    match plan.stig_mappings {
        StigMappings::WithReviews => steps
            .start("cloneStigMappingsWithReviews", "Creating Asset/STIG mappings with Metrics")?,
        StigMappings::WithoutReviews => {
            steps.start("cloneStigMappingsWithoutReviews", "Creating Asset/STIG mappings")?
        }
    }
    execute(
        tx,
        "INSERT INTO stig_asset_map (benchmark_id, asset_id)
         SELECT m.benchmark_id, da.asset_id
         FROM stig_asset_map m
         JOIN asset sa ON sa.asset_id = m.asset_id AND sa.collection_id = $2
             AND sa.state = 'enabled'
         JOIN asset da ON da.collection_id = $1 AND da.name = sa.name AND da.state = 'enabled'",
        new_id,
        plan.source_id,
    )
    .await?;

    if plan.grants {
        steps.start("cloneGrantAcls", "Creating Collection Grant ACLs")?;
        clone_acls(tx, plan, new_id).await?;
    }

    const PINS: &str = "Creating Revision pins";
    let pins = match plan.pin_revisions {
        PinRevisions::MatchSource => {
            steps.start("cloneRevisionsMatchSource", PINS)?;
            "INSERT INTO collection_rev_map (collection_id, benchmark_id, rev_id)
             SELECT $1, benchmark_id, rev_id FROM collection_rev_map WHERE collection_id = $2"
        }
        PinRevisions::SourceDefaults => {
            steps.start("cloneRevisionsSourceDefaults", PINS)?;
            "INSERT INTO collection_rev_map (collection_id, benchmark_id, rev_id)
             SELECT $1, benchmark_id, rev_id FROM default_rev WHERE collection_id = $2"
        }
    };
    execute(tx, pins, new_id, plan.source_id).await?;
    // default revisions are a view over mappings and pins, so there is nothing to insert
    steps.start("insertDefaultRev", PINS)?;
    Ok(())
}

/// ACL rules follow their grant (same user or group) and are remapped to the new assets and
/// labels; the requester's new Owner grant takes none.
async fn clone_acls(tx: &mut Tx, plan: &ClonePlan, new_id: i64) -> Result<()> {
    sqlx::query(
        "INSERT INTO collection_grant_acl (grant_id, benchmark_id, asset_id, label_id, access,
             modified_user_id, modified_date)
         SELECT ng.grant_id, acl.benchmark_id, da.asset_id, dl.label_id, acl.access,
             acl.modified_user_id, acl.modified_date
         FROM collection_grant_acl acl
         JOIN collection_grant og ON og.grant_id = acl.grant_id AND og.collection_id = $2
         JOIN collection_grant ng ON ng.collection_id = $1
             AND (ng.user_id = og.user_id OR ng.user_group_id = og.user_group_id)
         LEFT JOIN asset sa ON sa.asset_id = acl.asset_id
         LEFT JOIN asset da ON da.collection_id = $1 AND da.name = sa.name
             AND da.state = 'enabled'
         LEFT JOIN collection_label sl ON sl.label_id = acl.label_id
         LEFT JOIN collection_label dl ON dl.collection_id = $1 AND dl.name = sl.name
         WHERE (ng.user_id IS NULL OR ng.user_id <> $3)
           AND (acl.asset_id IS NULL OR da.asset_id IS NOT NULL)
           AND (acl.label_id IS NULL OR dl.label_id IS NOT NULL)",
    )
    .bind(new_id)
    .bind(plan.source_id)
    .bind(plan.user_id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Every review of the source's enabled assets, in chunks, with its original values.
async fn clone_reviews<F>(
    tx: &mut Tx,
    plan: &ClonePlan,
    new_id: i64,
    report: &mut F,
    cancel: &Cancellation,
) -> Result<()>
where
    F: FnMut(&CloneProgress),
{
    if plan.stig_mappings == StigMappings::WithoutReviews {
        let mut steps = Steps { report, cancel, stage: "reviews", count: 1, step: 1 };
        let running = steps.line("commit", "running", None);
        steps.send(running)?;
        let finished = steps.line("commit", "finished", None);
        return steps.send(finished);
    }
    const MESSAGE: &str = "Creating Reviews";
    let mut steps = Steps { report, cancel, stage: "reviews", count: 4, step: 0 };
    steps.start("dropReviewIdList", MESSAGE)?;
    steps.start("createReviewIdList", MESSAGE)?;
    let ids: Vec<i64> = sqlx::query_scalar(
        "SELECT r.review_id FROM review r
         JOIN asset a ON a.asset_id = r.asset_id
         WHERE a.collection_id = $1 AND a.state = 'enabled'
         ORDER BY r.review_id",
    )
    .bind(plan.source_id)
    .fetch_all(&mut **tx)
    .await?;

    steps.step += 1;
    let mut copied = 0;
    for chunk in std::iter::once(&ids[..0]).chain(ids.chunks(REVIEW_CHUNK)) {
        if let (Some(first), Some(last)) = (chunk.first(), chunk.last()) {
            copy_reviews(tx, plan.source_id, new_id, *first, *last).await?;
            copied += chunk.len();
        }
        let mut line = steps.line("cloneReviews", "running", Some(MESSAGE));
        line.reviews_total = Some(ids.len());
        line.reviews_copied = Some(copied);
        steps.send(line)?;
    }
    steps.step += 1;
    let running = steps.line("commit", "running", Some(MESSAGE));
    steps.send(running)?;
    let finished = steps.line("commit", "finished", Some(MESSAGE));
    steps.send(finished)
}

async fn copy_reviews(
    tx: &mut Tx,
    source_id: i64,
    new_id: i64,
    first: i64,
    last: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO review (asset_id, rule_id, version, check_digest, result_id, detail, comment,
             auto_result, result_engine, metadata, user_id, ts, status_id, status_text,
             status_user_id, status_ts, touch_ts)
         SELECT da.asset_id, r.rule_id, r.version, r.check_digest, r.result_id, r.detail,
             r.comment, r.auto_result, r.result_engine, r.metadata, r.user_id, r.ts, r.status_id,
             r.status_text, r.status_user_id, r.status_ts, r.touch_ts
         FROM review r
         JOIN asset sa ON sa.asset_id = r.asset_id AND sa.collection_id = $2
             AND sa.state = 'enabled'
         JOIN asset da ON da.collection_id = $1 AND da.name = sa.name AND da.state = 'enabled'
         WHERE r.review_id BETWEEN $3 AND $4",
    )
    .bind(new_id)
    .bind(source_id)
    .bind(first)
    .bind(last)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

async fn execute(tx: &mut Tx, sql: &str, new_id: i64, source_id: i64) -> Result<()> {
    sqlx::query(sql).bind(new_id).bind(source_id).execute(&mut **tx).await?;
    Ok(())
}
