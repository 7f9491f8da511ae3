//! The batch review write: one incoming review applied to every (asset, rule) target, filtered
//! by action and update filters, validated by the same engine as per-asset writes, and written
//! set-based (bulk loads, multi-row inserts, bulk history snapshots) in one transaction.

use std::collections::{HashMap, HashSet};

use sqlx::Row;
use stigward_domain::review::{build_candidate, Candidate, Incoming, Rejection, Stored, Writer};
use stigward_domain::{CollectionSettings, ReviewResult, ReviewStatus};
use stigward_wire::review::BatchValidationError;

use crate::access::{Access, AccessMap};
use crate::reviews::{engine_text, row_lock, stored_from_row, Key};
use crate::{Result, Store, StoreError};

/// At most this many validation errors are listed in a batch response.
const MAX_ERRORS_LISTED: usize = 50;
/// Ids per `IN (...)` list.
pub(crate) const CHUNK: usize = 500;
/// Rows per multi-row insert (16 parameters each): SQLite statements with thousands of
/// parameters cost more to prepare than they save (500 rows ran 3.5 times slower than 50).
const INSERT_ROWS: usize = 50;
/// A write that loses a race on PostgreSQL (deadlock, serialization failure, or a concurrent
/// insert of the same review) is retried from the start this many times.
pub(crate) const WRITE_ATTEMPTS: usize = 8;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BatchAction {
    Insert,
    Update,
    Merge,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextMatch {
    Equals,
    Contains,
    BeginsWith,
    EndsWith,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeMatch {
    Equals,
    LessThan,
    GreaterThan,
}

/// One `updateFilters` item, applied to the stored review; all must hold.
#[derive(Debug, Clone, PartialEq)]
pub enum UpdateFilter {
    Detail(TextMatch, String),
    Comment(TextMatch, String),
    StatusText(TextMatch, String),
    Result { equals: bool, value: ReviewResult },
    Status { equals: bool, value: ReviewStatus },
    Ts(TimeMatch, i64),
    StatusTs(TimeMatch, i64),
    TouchTs(TimeMatch, i64),
    UserId { equals: bool, value: i64 },
    StatusUserId { equals: bool, value: i64 },
}

impl UpdateFilter {
    fn matches(&self, s: &Stored) -> bool {
        use UpdateFilter::*;
        let same = |equals: bool, hit: bool| hit == equals;
        match self {
            Detail(m, v) => text_matches(*m, &s.detail, v),
            Comment(m, v) => text_matches(*m, &s.comment, v),
            StatusText(m, v) => text_matches(*m, s.status_text.as_deref().unwrap_or(""), v),
            Result { equals, value } => same(*equals, s.result == *value),
            Status { equals, value } => same(*equals, s.status == *value),
            Ts(m, v) => time_matches(*m, s.ts, *v),
            StatusTs(m, v) => time_matches(*m, s.status_ts, *v),
            TouchTs(m, v) => time_matches(*m, s.ts.max(s.status_ts), *v),
            UserId { equals, value } => same(*equals, s.user_id == Some(*value)),
            StatusUserId { equals, value } => same(*equals, s.status_user_id == Some(*value)),
        }
    }
}

/// Text conditions are SQL LIKE patterns, as upstream builds them without escaping the value:
/// `contains` is `%value%`, `beginsWith` `value%`, `endsWith` `%value`, `equals` the value
/// alone. So `%` in the value matches any run of characters, `_` any one character, and a
/// backslash makes the next character literal (MySQL's default LIKE escape). Case is ignored
/// for ASCII, like the MySQL collation upstream uses.
fn text_matches(m: TextMatch, stored: &str, value: &str) -> bool {
    let (open_start, open_end) = match m {
        TextMatch::Equals => (false, false),
        TextMatch::Contains => (true, true),
        TextMatch::BeginsWith => (false, true),
        TextMatch::EndsWith => (true, false),
    };
    let mut pattern = Vec::new();
    if open_start {
        pattern.push(Like::Any);
    }
    let mut chars = value.chars();
    while let Some(c) = chars.next() {
        pattern.push(match c {
            '%' => Like::Any,
            '_' => Like::One,
            '\\' => Like::Char(chars.next().unwrap_or('\\')),
            c => Like::Char(c),
        });
    }
    if open_end {
        pattern.push(Like::Any);
    }
    let stored: Vec<char> = stored.chars().collect();
    like(&pattern, &stored)
}

#[derive(Debug, Clone, Copy)]
enum Like {
    Any,
    One,
    Char(char),
}

/// Whether `text` matches the whole pattern. `reach[i]` says the pattern read so far can end
/// just before `text[i]`; each pattern item moves that set forward once, so the work is
/// pattern length times text length whatever the number of `%`.
fn like(pattern: &[Like], text: &[char]) -> bool {
    let mut reach = vec![false; text.len() + 1];
    reach[0] = true;
    for item in pattern {
        let mut next = vec![false; text.len() + 1];
        for i in 0..=text.len() {
            match item {
                Like::Any => next[i] = reach[i] || (i > 0 && next[i - 1]),
                Like::One => next[i] = i > 0 && reach[i - 1],
                Like::Char(c) => {
                    next[i] = i > 0 && reach[i - 1] && text[i - 1].eq_ignore_ascii_case(c)
                }
            }
        }
        reach = next;
    }
    reach[text.len()]
}

fn time_matches(m: TimeMatch, stored: i64, value: i64) -> bool {
    match m {
        TimeMatch::Equals => stored == value,
        TimeMatch::LessThan => stored < value,
        TimeMatch::GreaterThan => stored > value,
    }
}

/// What a batch targets and how.
#[derive(Debug, Clone)]
pub struct BatchPlan {
    pub asset_ids: Vec<i64>,
    pub rule_ids: Vec<String>,
    /// Targets chosen by the same STIGs on both sides are writable by construction.
    pub skip_grant_check: bool,
    pub action: BatchAction,
    pub filters: Vec<UpdateFilter>,
    pub dry_run: bool,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct BatchOutcome {
    pub inserted: usize,
    pub updated: usize,
    pub failed: usize,
    pub errors: Vec<BatchValidationError>,
}

impl BatchOutcome {
    fn fail(&mut self, asset_id: i64, rule_id: &str, why: Rejection) {
        self.failed += 1;
        if self.errors.len() < MAX_ERRORS_LISTED {
            self.errors.push(BatchValidationError {
                asset_id,
                rule_id: rule_id.to_string(),
                error: why.reason(true).to_string(),
            });
        }
    }
}

/// The targets' surroundings, read before the write transaction.
struct Scene {
    keys: HashMap<String, Key>,
    enabled: HashSet<i64>,
    assigned: HashMap<i64, HashSet<String>>,
    rule_benchmarks: HashMap<String, HashSet<String>>,
}

/// A review a write will insert (no `review_id`) or update, with what it becomes.
pub(crate) struct Pending {
    pub(crate) asset_id: i64,
    pub(crate) rule_id: String,
    pub(crate) key: Key,
    pub(crate) candidate: Candidate,
    pub(crate) review_id: Option<i64>,
}

impl Store {
    /// Enabled assets of the collection assigned any of `benchmark_ids` that the caller may
    /// write for that STIG.
    pub async fn batch_assets_by_benchmarks(
        &self,
        collection_id: i64,
        benchmark_ids: &[String],
        access: &AccessMap,
    ) -> Result<Vec<i64>> {
        let rows = sqlx::query(
            "SELECT sa.asset_id, sa.benchmark_id FROM stig_asset_map sa
             JOIN asset a ON a.asset_id = sa.asset_id AND a.state = 'enabled'
             WHERE a.collection_id = $1 ORDER BY sa.asset_id",
        )
        .bind(collection_id)
        .fetch_all(&self.pool)
        .await?;
        let mut out = Vec::new();
        for row in &rows {
            let (asset_id, benchmark_id): (i64, String) = (row.try_get(0)?, row.try_get(1)?);
            let writable = access.access(asset_id, &benchmark_id) == Access::ReadWrite;
            if writable && benchmark_ids.contains(&benchmark_id) && out.last() != Some(&asset_id) {
                out.push(asset_id);
            }
        }
        Ok(out)
    }

    /// Rule ids of the collection's default revision of each of `benchmark_ids`.
    pub async fn batch_rules_by_benchmarks(
        &self,
        collection_id: i64,
        benchmark_ids: &[String],
    ) -> Result<Vec<String>> {
        let mut out = Vec::new();
        for benchmark_id in benchmark_ids {
            let rows = sqlx::query(
                "SELECT rgr.rule_id FROM default_rev dr
                 JOIN rev_group_rule_map rgr ON rgr.rev_id = dr.rev_id
                 WHERE dr.collection_id = $1 AND dr.benchmark_id = $2
                 ORDER BY rgr.rule_num, rgr.rule_id",
            )
            .bind(collection_id)
            .bind(benchmark_id)
            .fetch_all(&self.pool)
            .await?;
            for row in &rows {
                out.push(row.try_get(0)?);
            }
        }
        Ok(out)
    }

    /// Applies one incoming review to every target of the plan.
    pub async fn write_review_batch(
        &self,
        collection_id: i64,
        plan: &BatchPlan,
        incoming: &Incoming,
        settings: &CollectionSettings,
        writer: Writer,
        access: &AccessMap,
    ) -> Result<BatchOutcome> {
        let scene = self.batch_scene(collection_id, plan).await?;
        let mut attempt = 1;
        loop {
            let run = self.batch_attempt(plan, &scene, incoming, settings, writer, access).await;
            match run {
                Err(err) if attempt < WRITE_ATTEMPTS && is_retryable(&err) => attempt += 1,
                other => return other,
            }
        }
    }

    async fn batch_scene(&self, collection_id: i64, plan: &BatchPlan) -> Result<Scene> {
        let mut keys = HashMap::new();
        let mut rule_benchmarks: HashMap<String, HashSet<String>> = HashMap::new();
        let unique: Vec<&String> =
            plan.rule_ids.iter().collect::<HashSet<_>>().into_iter().collect();
        for chunk in unique.chunks(CHUNK) {
            let list = placeholders(1, chunk.len());
            let sql = format!(
                "SELECT rule_id, version, check_digest FROM rule_version_check_digest
                 WHERE rule_id IN ({list})"
            );
            let mut query = sqlx::query(&sql);
            for rule_id in chunk {
                query = query.bind(rule_id.as_str());
            }
            for row in &query.fetch_all(&self.pool).await? {
                keys.insert(row.try_get(0)?, (row.try_get(1)?, row.try_get(2)?));
            }
            let sql = format!(
                "SELECT DISTINCT rgr.rule_id, r.benchmark_id FROM rev_group_rule_map rgr
                 JOIN revision r ON r.rev_id = rgr.rev_id WHERE rgr.rule_id IN ({list})"
            );
            let mut query = sqlx::query(&sql);
            for rule_id in chunk {
                query = query.bind(rule_id.as_str());
            }
            for row in &query.fetch_all(&self.pool).await? {
                rule_benchmarks.entry(row.try_get(0)?).or_default().insert(row.try_get(1)?);
            }
        }
        let rows = sqlx::query(
            "SELECT a.asset_id, sa.benchmark_id FROM asset a
             LEFT JOIN stig_asset_map sa ON sa.asset_id = a.asset_id
             WHERE a.collection_id = $1 AND a.state = 'enabled'",
        )
        .bind(collection_id)
        .fetch_all(&self.pool)
        .await?;
        let mut enabled = HashSet::new();
        let mut assigned: HashMap<i64, HashSet<String>> = HashMap::new();
        for row in &rows {
            let asset_id: i64 = row.try_get(0)?;
            enabled.insert(asset_id);
            if let Some(benchmark_id) = row.try_get::<Option<String>, _>(1)? {
                assigned.entry(asset_id).or_default().insert(benchmark_id);
            }
        }
        Ok(Scene { keys, enabled, assigned, rule_benchmarks })
    }

    async fn batch_attempt(
        &self,
        plan: &BatchPlan,
        scene: &Scene,
        incoming: &Incoming,
        settings: &CollectionSettings,
        writer: Writer,
        access: &AccessMap,
    ) -> Result<BatchOutcome> {
        let mut write = self.begin_write().await?;
        let targets: Vec<i64> =
            plan.asset_ids.iter().copied().filter(|a| scene.enabled.contains(a)).collect();
        let existing = load_reviews(&mut write.tx, &targets, self.dialect()).await?;
        let mut outcome = BatchOutcome::default();
        let mut chosen: Vec<Pending> = Vec::new();
        let mut seen: HashMap<(i64, Key), usize> = HashMap::new();
        for &asset_id in &plan.asset_ids {
            for rule_id in &plan.rule_ids {
                let key = match scene.keys.get(rule_id) {
                    Some(key)
                        if plan.skip_grant_check || writable(scene, access, asset_id, rule_id) =>
                    {
                        key
                    }
                    _ => {
                        outcome.fail(asset_id, rule_id, Rejection::NoGrant);
                        continue;
                    }
                };
                let stored = existing.get(&(asset_id, key.clone()));
                let keep = match (plan.action, stored) {
                    (BatchAction::Insert, Some(_)) | (BatchAction::Update, None) => false,
                    (_, Some((_, s))) => plan.filters.iter().all(|f| f.matches(s)),
                    (_, None) => true,
                };
                if !keep {
                    continue;
                }
                let stored_state = stored.map(|(_, s)| s);
                match build_candidate(incoming, stored_state, settings, writer) {
                    Err(why) => outcome.fail(asset_id, rule_id, why),
                    Ok(candidate) => {
                        let pending = Pending {
                            asset_id,
                            rule_id: rule_id.clone(),
                            key: key.clone(),
                            candidate,
                            review_id: stored.map(|(id, _)| *id),
                        };
                        // two rule ids with one key are one review: the later target wins
                        match seen.get(&(asset_id, key.clone())) {
                            Some(&i) => chosen[i] = pending,
                            None => {
                                seen.insert((asset_id, key.clone()), chosen.len());
                                chosen.push(pending);
                            }
                        }
                    }
                }
            }
        }
        let (mut updates, inserts): (Vec<Pending>, Vec<Pending>) =
            chosen.into_iter().partition(|p| p.review_id.is_some());
        outcome.updated = updates.len();
        outcome.inserted = inserts.len();
        if plan.dry_run {
            return Ok(outcome);
        }
        // rows are locked in review id order so concurrent batches cannot deadlock each other
        updates.sort_by_key(|p| p.review_id);
        let ids: Vec<i64> = updates.iter().filter_map(|p| p.review_id).collect();
        snapshot_histories(&mut write.tx, &ids, settings.history.max_reviews).await?;
        update_contents(&mut write.tx, &updates).await?;
        insert_reviews(&mut write.tx, &inserts).await?;
        write.commit().await?;
        Ok(outcome)
    }
}

/// The rule is in a revision of a STIG assigned to the asset, and the caller may write that
/// asset/STIG pair.
fn writable(scene: &Scene, access: &AccessMap, asset_id: i64, rule_id: &str) -> bool {
    let (Some(assigned), Some(holders)) =
        (scene.assigned.get(&asset_id), scene.rule_benchmarks.get(rule_id))
    else {
        return false;
    };
    holders.iter().any(|b| assigned.contains(b) && access.access(asset_id, b) == Access::ReadWrite)
}

/// Whether a failed write lost a race that a fresh attempt can win.
pub(crate) fn is_retryable(err: &StoreError) -> bool {
    let StoreError::Database(sqlx::Error::Database(db)) = err else { return false };
    db.is_unique_violation() || matches!(db.code().as_deref(), Some("40001" | "40P01"))
}

pub(crate) fn placeholders(first: usize, count: usize) -> String {
    (first..first + count).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ")
}

type Existing = HashMap<(i64, Key), (i64, Stored)>;

/// Reads (and on PostgreSQL locks, in review id order) every review of the target assets.
async fn load_reviews(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    assets: &[i64],
    dialect: crate::Dialect,
) -> Result<Existing> {
    let mut out = HashMap::new();
    for chunk in assets.chunks(CHUNK) {
        let sql = format!(
            "SELECT review_id, asset_id, version, check_digest, result_id, detail, comment,
                    result_engine, metadata, status_id, status_text, status_ts, status_user_id,
                    user_id, ts
             FROM review WHERE asset_id IN ({}) ORDER BY review_id{}",
            placeholders(1, chunk.len()),
            row_lock(dialect)
        );
        let mut query = sqlx::query(&sql);
        for asset_id in chunk {
            query = query.bind(*asset_id);
        }
        for row in &query.fetch_all(&mut **tx).await? {
            let key: Key = (row.try_get("version")?, row.try_get("check_digest")?);
            let review_id: i64 = row.try_get("review_id")?;
            out.insert((row.try_get("asset_id")?, key), (review_id, stored_from_row(row)?));
        }
    }
    Ok(out)
}

/// Prunes each review's history to `max_reviews - 1` rows and records the review as it is now.
pub(crate) async fn snapshot_histories(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    review_ids: &[i64],
    max_reviews: i64,
) -> Result<()> {
    for chunk in review_ids.chunks(CHUNK) {
        let list = placeholders(2, chunk.len());
        let prune = format!(
            "DELETE FROM review_history WHERE review_id IN ({list}) AND history_id NOT IN (
                 SELECT h.history_id FROM review_history h
                 WHERE h.review_id = review_history.review_id
                 ORDER BY h.history_id DESC LIMIT $1)"
        );
        let mut query = sqlx::query(&prune).bind((max_reviews - 1).max(0));
        for id in chunk {
            query = query.bind(*id);
        }
        query.execute(&mut **tx).await?;
        if max_reviews <= 0 {
            continue;
        }
        let list = placeholders(1, chunk.len());
        let snapshot = format!(
            "INSERT INTO review_history (review_id, rule_id, result_id, detail, comment,
                 auto_result, result_engine, user_id, ts, status_id, status_text, status_user_id,
                 status_ts, touch_ts)
             SELECT review_id, rule_id, result_id, detail, comment, auto_result, result_engine,
                    user_id, ts, status_id, status_text, status_user_id, status_ts, touch_ts
             FROM review WHERE review_id IN ({list}) ORDER BY review_id"
        );
        let mut query = sqlx::query(&snapshot);
        for id in chunk {
            query = query.bind(*id);
        }
        query.execute(&mut **tx).await?;
    }
    Ok(())
}

/// Updates reviews with multi-row `UPDATE .. FROM (VALUES ..)` statements. A batch update
/// keeps the review's written rule id; only per-asset writes change it. The casts give every
/// VALUES column one type on PostgreSQL even where a chunk holds only NULLs.
pub(crate) async fn update_contents(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    rows: &[Pending],
) -> Result<()> {
    const TYPES: [&str; 13] = [
        "BIGINT", "BIGINT", "TEXT", "TEXT", "TEXT", "TEXT", "BIGINT", "BIGINT", "BIGINT", "TEXT",
        "BIGINT", "BIGINT", "BIGINT",
    ];
    for chunk in rows.chunks(INSERT_ROWS) {
        let values: Vec<String> = (0..chunk.len())
            .map(|i| {
                let cells: Vec<String> = TYPES
                    .iter()
                    .enumerate()
                    .map(|(c, t)| format!("CAST(${} AS {t})", i * TYPES.len() + c + 1))
                    .collect();
                format!("({})", cells.join(", "))
            })
            .collect();
        let sql = format!(
            "UPDATE review SET result_id = v.column2, detail = v.column3, comment = v.column4,
                 result_engine = v.column5, metadata = v.column6, user_id = v.column7,
                 ts = v.column8, status_id = v.column9, status_text = v.column10,
                 status_user_id = v.column11, status_ts = v.column12, touch_ts = v.column13
             FROM (VALUES {}) AS v WHERE review.review_id = v.column1",
            values.join(", ")
        );
        let mut query = sqlx::query(&sql);
        for p in chunk {
            let c = &p.candidate;
            query = query
                .bind(p.review_id)
                .bind(c.result.id())
                .bind(c.detail.as_str())
                .bind(c.comment.as_str())
                .bind(engine_text(c))
                .bind(c.metadata.to_string())
                .bind(c.user_id)
                .bind(c.ts)
                .bind(c.status.id())
                .bind(c.status_text.clone())
                .bind(c.status_user_id)
                .bind(c.status_ts)
                .bind(c.touch_ts());
        }
        query.execute(&mut **tx).await?;
    }
    Ok(())
}

/// Inserts new reviews with multi-row statements.
async fn insert_reviews(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    rows: &[Pending],
) -> Result<()> {
    const COLUMNS: usize = 16;
    for chunk in rows.chunks(INSERT_ROWS) {
        let values: Vec<String> = (0..chunk.len())
            .map(|i| format!("({})", placeholders(i * COLUMNS + 1, COLUMNS)))
            .collect();
        let sql = format!(
            "INSERT INTO review (asset_id, rule_id, version, check_digest, result_id, detail,
                 comment, result_engine, metadata, user_id, ts, status_id, status_text,
                 status_user_id, status_ts, touch_ts)
             VALUES {}",
            values.join(", ")
        );
        let mut query = sqlx::query(&sql);
        for p in chunk {
            let c = &p.candidate;
            query = query
                .bind(p.asset_id)
                .bind(p.rule_id.as_str())
                .bind(p.key.0.as_str())
                .bind(p.key.1.clone())
                .bind(c.result.id())
                .bind(c.detail.as_str())
                .bind(c.comment.as_str())
                .bind(engine_text(c))
                .bind(c.metadata.to_string())
                .bind(c.user_id)
                .bind(c.ts)
                .bind(c.status.id())
                .bind(c.status_text.clone())
                .bind(c.status_user_id)
                .bind(c.status_ts)
                .bind(c.touch_ts());
        }
        query.execute(&mut **tx).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{text_matches, TextMatch};

    #[test]
    fn text_filters_are_like_patterns() {
        let cases = [
            (TextMatch::Contains, "visible to LVL1", "lvl_", true),
            (TextMatch::Contains, "visible to lvl", "lvl_", false),
            (TextMatch::Equals, "test\nlvl2", "test_lvl2", true),
            (TextMatch::Equals, "test lvl2", "test%", true),
            (TextMatch::Equals, "test lvl2", "test", false),
            (TextMatch::BeginsWith, "100 percent", "100%percent", true),
            (TextMatch::BeginsWith, "x100 percent", "100%", false),
            (TextMatch::EndsWith, "done 50%", "50\\%", true),
            (TextMatch::EndsWith, "done 500", "50\\%", false),
            (TextMatch::EndsWith, "done 500", "50%", true),
            (TextMatch::Contains, "a_b", "a\\_b", true),
            (TextMatch::Contains, "axb", "a\\_b", false),
            (TextMatch::Contains, "", "", true),
            (TextMatch::Equals, "", "%", true),
            (TextMatch::Equals, "", "_", false),
        ];
        for (m, stored, value, hit) in cases {
            assert_eq!(text_matches(m, stored, value), hit, "{m:?} {stored:?} {value:?}");
        }
    }
}
