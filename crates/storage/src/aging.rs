//! The ReviewAging task: each enabled collection's review-aging rules applied in their order,
//! one transaction per collection, through the review writers' own update and delete paths
//! (write engine, history snapshots), with one output line per rule scoped to the collection.

use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};
use stigward_domain::review::{build_candidate, Incoming, Rejection, Writer};
use stigward_domain::{CollectionSettings, ReviewResult, ReviewStatus, Role};

use crate::review_aging::AgingRule;
use crate::review_batch::{is_retryable, snapshot_histories, update_contents, Pending};
use crate::reviews::{delete_reviews, row_lock, stored_from_row};
use crate::{json_column, Dialect, Result, Store, StoreError};

/// The run a task reports to.
#[derive(Debug, Clone, Copy)]
pub struct TaskRun {
    pub run_id: i64,
    pub task_id: i64,
    pub now: i64,
}

/// What aging did, summed over rules and collections.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AgingTotals {
    pub collections: usize,
    pub deleted: usize,
    pub updated: usize,
    /// Reviews a rule selected but the write engine refused (a status they cannot take).
    pub refused: usize,
}

impl AgingTotals {
    fn add(&mut self, other: AgingTotals) {
        self.collections += other.collections;
        self.deleted += other.deleted;
        self.updated += other.updated;
        self.refused += other.refused;
    }
}

/// What an update rule sets.
#[derive(Debug, Clone, Copy)]
enum Change {
    Result(ReviewResult),
    Status(ReviewStatus),
}

impl Change {
    fn of(rule: &AgingRule) -> Result<Change> {
        let value = rule.update_value.as_deref().unwrap_or_default();
        let change = match rule.update_field.as_deref() {
            Some("result") => ReviewResult::from_api(value).map(Change::Result),
            Some("status") => {
                ReviewStatus::ALL.into_iter().find(|s| s.api() == value).map(Change::Status)
            }
            _ => None,
        };
        change.ok_or_else(|| {
            StoreError::Corrupt(format!("review aging update {:?} = {value}", rule.update_field))
        })
    }

    fn incoming(self) -> Incoming {
        match self {
            Change::Result(result) => Incoming { result: Some(result), ..Default::default() },
            Change::Status(status) => {
                Incoming { status: Some((status, None)), ..Default::default() }
            }
        }
    }

    /// The column a review already holding the value is recognised by, and that value.
    fn column(self) -> (&'static str, i64) {
        match self {
            Change::Result(result) => ("result_id", result.id()),
            Change::Status(status) => ("status_id", status.id()),
        }
    }

    fn describe(self) -> String {
        match self {
            Change::Result(result) => format!("result {}", result.api()),
            Change::Status(status) => format!("status {}", status.api()),
        }
    }
}

enum Bind {
    Int(i64),
    Text(String),
}

impl Store {
    /// Applies every enabled collection's rules; returns the run's summary line. A collection
    /// whose transaction fails stops the task; the collections before it stay aged.
    pub async fn age_reviews(&self, task_name: &str, run: TaskRun) -> Result<String> {
        let user_id = self.task_user(task_name, run).await?;
        let collections: Vec<i64> = sqlx::query_scalar(
            "SELECT c.collection_id FROM collection c WHERE c.state = 'enabled'
                 AND EXISTS (SELECT 1 FROM review_aging_rule r
                     WHERE r.collection_id = c.collection_id)
             ORDER BY c.collection_id",
        )
        .fetch_all(&self.pool)
        .await?;
        let mut totals = AgingTotals::default();
        for collection_id in collections {
            let rules = self.aging_rules(collection_id).await?;
            let mut attempt = 1;
            let done = loop {
                match self.age_collection(collection_id, &rules, user_id, run).await {
                    Err(err)
                        if attempt < crate::review_batch::WRITE_ATTEMPTS && is_retryable(&err) =>
                    {
                        attempt += 1
                    }
                    other => break other?,
                }
            };
            totals.add(done);
        }
        Ok(format!(
            "aged the reviews of {} collections: {} deleted, {} updated, {} left unchanged",
            totals.collections, totals.deleted, totals.updated, totals.refused
        ))
    }

    /// The account the task acts as (`_task_<name>`, unavailable, hidden from user lists),
    /// created on first use so it survives an application data import that lacks it.
    async fn task_user(&self, task_name: &str, run: TaskRun) -> Result<i64> {
        let existing: Option<i64> =
            sqlx::query_scalar("SELECT user_id FROM user_data WHERE task_id = $1")
                .bind(run.task_id)
                .fetch_optional(&self.pool)
                .await?;
        if let Some(user_id) = existing {
            return Ok(user_id);
        }
        let mut write = self.begin_write().await?;
        let user_id = sqlx::query_scalar(
            "INSERT INTO user_data (username, created, status, status_date, task_id)
             VALUES ($1, $2, 'unavailable', $2, $3) RETURNING user_id",
        )
        .bind(format!("_task_{task_name}"))
        .bind(run.now)
        .bind(run.task_id)
        .fetch_one(&mut *write.tx)
        .await
        .map_err(|e| crate::conflict_on_unique(e, "the task's user name is taken"))?;
        write.commit().await?;
        Ok(user_id)
    }

    async fn age_collection(
        &self,
        collection_id: i64,
        rules: &[AgingRule],
        user_id: i64,
        run: TaskRun,
    ) -> Result<AgingTotals> {
        let mut write = self.begin_write().await?;
        let tx = &mut write.tx;
        let settings: String =
            sqlx::query_scalar("SELECT settings FROM collection WHERE collection_id = $1")
                .bind(collection_id)
                .fetch_one(&mut **tx)
                .await?;
        let settings = CollectionSettings::from_stored(&json_column(&settings, "settings")?);
        let writer = Writer { user_id, role: Role::Owner, now: run.now, batch: true };
        let mut totals = AgingTotals { collections: 1, ..Default::default() };
        for (i, rule) in rules.iter().enumerate().filter(|(_, r)| r.enabled) {
            let (done, what) = match rule.trigger_action.as_str() {
                "delete" => {
                    let rows = select(tx, collection_id, rule, None, run.now, self.dialect).await?;
                    let ids = rows
                        .iter()
                        .map(|r| r.try_get("review_id"))
                        .collect::<std::result::Result<Vec<i64>, _>>()?;
                    delete_reviews(tx, &ids).await?;
                    let done = AgingTotals { deleted: ids.len(), ..Default::default() };
                    (done, format!("deleted {} reviews", ids.len()))
                }
                _ => {
                    let change = Change::of(rule)?;
                    let rows = select(tx, collection_id, rule, Some(change), run.now, self.dialect)
                        .await?;
                    update(tx, &rows, change, &settings, writer).await?
                }
            };
            totals.add(done);
            let title = rule.title.as_deref().map(|t| format!(" \"{t}\"")).unwrap_or_default();
            let message = format!("rule {}{title}: {what}", i + 1);
            write_output(tx, run, collection_id, &message).await?;
        }
        write.commit().await?;
        Ok(totals)
    }
}

/// The reviews a rule selects: on enabled assets of the collection, with the trigger time
/// older than the interval, inside the target, and (for an update) not already at the value.
/// On PostgreSQL they stay locked until the collection's transaction ends.
async fn select(
    tx: &mut Transaction<'static, Any>,
    collection_id: i64,
    rule: &AgingRule,
    change: Option<Change>,
    now: i64,
    dialect: Dialect,
) -> Result<Vec<AnyRow>> {
    let column = match rule.trigger_field.as_str() {
        "ts" => "ts",
        "statusTs" => "status_ts",
        "touchTs" => "touch_ts",
        other => return Err(StoreError::Corrupt(format!("review aging trigger {other}"))),
    };
    let mut binds = vec![Bind::Int(collection_id), Bind::Int(now - rule.trigger_interval)];
    let mut sql = format!(
        "SELECT r.review_id, r.asset_id, r.rule_id, r.version, r.check_digest, r.result_id,
             r.detail, r.comment, r.result_engine, r.metadata, r.status_id, r.status_text,
             r.status_ts, r.status_user_id, r.user_id, r.ts
         FROM review r
         JOIN asset a ON a.asset_id = r.asset_id AND a.collection_id = $1
             AND a.state = 'enabled'
         WHERE r.{column} < $2"
    );
    let mut clause = |bind: Bind, text: &str| {
        binds.push(bind);
        sql.push_str(&text.replace("$N", &format!("${}", binds.len())));
    };
    if let Some((asset_id, _)) = &rule.asset {
        clause(Bind::Int(*asset_id), " AND r.asset_id = $N");
    }
    if let Some((uuid, _, _)) = &rule.label {
        clause(
            Bind::Text(uuid.clone()),
            " AND EXISTS (SELECT 1 FROM collection_label_asset_map m
                 JOIN collection_label l ON l.label_id = m.label_id
                 WHERE m.asset_id = r.asset_id AND l.uuid = $N)",
        );
    }
    if let Some(benchmark_id) = &rule.benchmark_id {
        // the STIG must be assigned to the asset and hold the review's rule in a revision
        clause(
            Bind::Text(benchmark_id.clone()),
            " AND EXISTS (SELECT 1 FROM stig_asset_map sa
                 JOIN revision rv ON rv.benchmark_id = sa.benchmark_id
                 JOIN rev_group_rule_map g ON g.rev_id = rv.rev_id
                 WHERE sa.asset_id = r.asset_id AND sa.benchmark_id = $N
                   AND g.version = r.version AND g.check_digest = r.check_digest)",
        );
    }
    if let Some(change) = change {
        let (column, value) = change.column();
        clause(Bind::Int(value), &format!(" AND r.{column} <> $N"));
    }
    sql.push_str(" ORDER BY r.review_id");
    sql.push_str(row_lock(dialect));
    let mut query = sqlx::query(&sql);
    for bind in &binds {
        query = match bind {
            Bind::Int(value) => query.bind(*value),
            Bind::Text(value) => query.bind(value.as_str()),
        };
    }
    Ok(query.fetch_all(&mut **tx).await?)
}

/// Runs each selected review through the write engine as if the task user had sent the change,
/// then writes the accepted ones the way a batch write does (history snapshot, then update).
async fn update(
    tx: &mut Transaction<'static, Any>,
    rows: &[AnyRow],
    change: Change,
    settings: &CollectionSettings,
    writer: Writer,
) -> Result<(AgingTotals, String)> {
    let incoming = change.incoming();
    let mut updates = Vec::new();
    let mut refused: Option<(usize, Rejection)> = None;
    for row in rows {
        let stored = stored_from_row(row)?;
        match build_candidate(&incoming, Some(&stored), settings, writer) {
            Ok(candidate) => updates.push(Pending {
                asset_id: row.try_get("asset_id")?,
                rule_id: row.try_get("rule_id")?,
                key: (row.try_get("version")?, row.try_get("check_digest")?),
                candidate,
                review_id: Some(row.try_get("review_id")?),
            }),
            Err(why) => {
                let (count, _) = refused.get_or_insert((0, why));
                *count += 1;
            }
        }
    }
    let ids: Vec<i64> = updates.iter().filter_map(|p| p.review_id).collect();
    snapshot_histories(tx, &ids, settings.history.max_reviews).await?;
    update_contents(tx, &updates).await?;

    let mut what = format!("set {} on {} reviews", change.describe(), updates.len());
    if let Some((count, why)) = refused {
        what.push_str(&format!(", left {count} unchanged ({})", why.reason(true)));
    }
    let refused = refused.map_or(0, |(count, _)| count);
    Ok((AgingTotals { updated: updates.len(), refused, ..Default::default() }, what))
}

async fn write_output(
    tx: &mut Transaction<'static, Any>,
    run: TaskRun,
    collection_id: i64,
    message: &str,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO task_output (run_id, ts, task_id, type, message, collection_id)
         VALUES ($1, $2, $3, 'info', $4, $5)",
    )
    .bind(run.run_id)
    .bind(run.now)
    .bind(run.task_id)
    .bind(message)
    .bind(collection_id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}
