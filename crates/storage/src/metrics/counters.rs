//! The per-checklist counters kept in `stig_asset_map` (DOMAIN-2 §4.1) and their upkeep.
//! (Its `user_ids` column is upstream's list of restricted users, kept as imported.)
//!
//! Triggers (migration 0500) note in `metrics_stale` / `metrics_stale_rev` which checklists a
//! change touches: review writes and deletes, assignments, asset transfers, pins, current
//! revisions, revision rules and review keys. [`recount_stale`] runs in every write transaction
//! just before it commits ([`crate::WriteTx::commit`]) and recounts only those checklists, so
//! no writer has to remember it and stored counters always equal a recount.
//! [`Store::repair_metrics`] compares every stored counter with a fresh recount.

use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};

use super::counts::{RESULTS, STATUSES};
use crate::{Dialect, Result, Store};

const SEVERITIES: [&str; 3] = ["high", "medium", "low"];

/// Columns that are NULL, not zero, when no review matches.
pub(crate) const TIMES: [&str; 3] = ["min_ts", "max_ts", "max_touch_ts"];

/// Every counter column with the aggregate over matched reviews (`rv`, with the rule `rgr`)
/// that recounts it, in the order of the migration.
pub(crate) fn counter_columns() -> Vec<(String, String)> {
    let mut cols = Vec::new();
    let engine = "AND rv.result_engine IS NOT NULL";
    for (i, name) in RESULTS.iter().enumerate() {
        let id = i + 1;
        cols.push((name.to_string(), format!("COUNT(*) FILTER (WHERE rv.result_id = {id})")));
        cols.push((
            format!("{name}_result_engine"),
            format!("COUNT(*) FILTER (WHERE rv.result_id = {id} {engine})"),
        ));
    }
    for (id, name) in STATUSES.iter().enumerate() {
        cols.push((name.to_string(), format!("COUNT(*) FILTER (WHERE rv.status_id = {id})")));
        cols.push((
            format!("{name}_result_engine"),
            format!("COUNT(*) FILTER (WHERE rv.status_id = {id} {engine})"),
        ));
    }
    for severity in SEVERITIES {
        let rule = format!("rgr.severity = '{severity}'");
        cols.push((
            format!("{severity}_count"),
            format!("COUNT(*) FILTER (WHERE rv.result_id = 4 AND {rule})"),
        ));
        cols.push((
            format!("assessed_{severity}_count"),
            format!("COUNT(*) FILTER (WHERE rv.result_id IN (2, 3, 4) AND {rule})"),
        ));
    }
    cols.push(("min_ts".into(), "MIN(rv.ts)".into()));
    cols.push(("max_ts".into(), "MAX(rv.ts)".into()));
    cols.push(("max_touch_ts".into(), "MAX(rv.touch_ts)".into()));
    cols
}

/// The value of a column for a checklist no review matches.
fn empty_value(column: &str) -> &'static str {
    match TIMES.contains(&column) {
        true => "NULL",
        false => "0",
    }
}

/// The counters of the checklists `sa` that `checklists` (a `WHERE` clause, or nothing) selects,
/// one row per checklist with a matched review: the reviews matched, through the review key, to
/// the rules of its default revision (the pin, else the current revision).
///
/// The checklists' rules are listed first, then looked up in `review` by asset and key. Joined
/// in one statement, PostgreSQL estimated a review key (version, check digest) to match about
/// one review, as if the two were independent, when it matches one per asset holding the rule:
/// it read every review of each key, across the installation, to recount a few checklists.
fn counted_reviews(checklists: &str) -> String {
    let counted: Vec<String> =
        counter_columns().iter().map(|(c, e)| format!("{e} AS {c}")).collect();
    format!(
        "WITH checklist_rule AS MATERIALIZED (
             SELECT sa.asset_id, sa.benchmark_id, rgr.severity, k.version, k.check_digest
             FROM stig_asset_map sa
             JOIN asset a ON a.asset_id = sa.asset_id
             JOIN current_rev cr ON cr.benchmark_id = sa.benchmark_id
             LEFT JOIN collection_rev_map p
                 ON p.collection_id = a.collection_id AND p.benchmark_id = sa.benchmark_id
             JOIN rev_group_rule_map rgr ON rgr.rev_id = COALESCE(p.rev_id, cr.rev_id)
             JOIN rule_version_check_digest k ON k.rule_id = rgr.rule_id
             {checklists})
         SELECT rgr.asset_id, rgr.benchmark_id, {}
         FROM checklist_rule rgr
         JOIN review rv ON rv.asset_id = rgr.asset_id AND rv.version = rgr.version
             AND rv.check_digest = rgr.check_digest
         GROUP BY rgr.asset_id, rgr.benchmark_id",
        counted.join(",\n")
    )
}

/// Which stale marks a recount takes: the current transaction's, or every one (at start-up,
/// for marks left by a migration).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Marks {
    Mine,
    All,
}

/// The condition selecting the marks taken, on the mark table named (or aliased) `table`.
fn mine(dialect: Dialect, marks: Marks, table: &str) -> String {
    match (dialect, marks) {
        (Dialect::Postgres, Marks::Mine) => format!("{table}.xact = txid_current()"),
        _ => "1 = 1".into(),
    }
}

/// Recounts every checklist marked stale (by triggers or [`recount_checklists`]) and clears
/// the marks.
pub(crate) async fn recount_stale(
    tx: &mut Transaction<'static, Any>,
    dialect: Dialect,
    marks: Marks,
) -> Result<()> {
    let stale = mine(dialect, marks, "metrics_stale");
    let stale_rev = mine(dialect, marks, "metrics_stale_rev");
    let pending: i64 = sqlx::query_scalar(&format!(
        "SELECT (SELECT COUNT(*) FROM (SELECT 1 FROM metrics_stale WHERE {stale} LIMIT 1) s)
              + (SELECT COUNT(*) FROM (SELECT 1 FROM metrics_stale_rev WHERE {stale_rev} LIMIT 1) r)"
    ))
    .fetch_one(&mut **tx)
    .await?;
    if pending == 0 {
        return advance_sequence(tx, dialect, marks, false).await;
    }
    expand_marks(tx, dialect, marks).await?;
    if dialect == Dialect::Postgres {
        // Lock the rows in one order before counting, so that the count (a later statement)
        // sees every review committed by a writer that held them.
        sqlx::query(&format!(
            "SELECT sa.sa_id FROM stig_asset_map sa
             WHERE (sa.asset_id, sa.benchmark_id) IN
                 (SELECT asset_id, benchmark_id FROM metrics_stale WHERE {stale})
             ORDER BY sa.sa_id FOR UPDATE"
        ))
        .fetch_all(&mut **tx)
        .await?;
    }
    let columns = counter_columns();
    let reset: Vec<String> =
        columns.iter().map(|(c, _)| format!("{c} = {}", empty_value(c))).collect();
    sqlx::query(&format!(
        "UPDATE stig_asset_map SET {}
         WHERE (asset_id, benchmark_id) IN
             (SELECT asset_id, benchmark_id FROM metrics_stale WHERE {stale})",
        reset.join(", ")
    ))
    .execute(&mut **tx)
    .await?;
    let in_s = mine(dialect, marks, "s");
    let set: Vec<String> = columns.iter().map(|(c, _)| format!("{c} = c.{c}")).collect();
    let counted = counted_reviews(&format!(
        "WHERE (sa.asset_id, sa.benchmark_id) IN
             (SELECT s.asset_id, s.benchmark_id FROM metrics_stale s WHERE {in_s})"
    ));
    sqlx::query(&format!(
        "UPDATE stig_asset_map SET {}
         FROM ({counted}) c
         WHERE stig_asset_map.asset_id = c.asset_id
             AND stig_asset_map.benchmark_id = c.benchmark_id",
        set.join(", ")
    ))
    .execute(&mut **tx)
    .await?;
    advance_sequence(tx, dialect, marks, true).await?;
    sqlx::query(&format!("DELETE FROM metrics_stale WHERE {stale}")).execute(&mut **tx).await?;
    sqlx::query(&format!("DELETE FROM metrics_stale_rev WHERE {stale_rev}"))
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Moves `metrics_seq` when the transaction recounted checklists or changed what the metrics
/// list (marked in `metrics_structure_stale`), and stamps the recounted checklists with the new
/// number, for the readers' kept copies ([`super::cache`]). On PostgreSQL the update locks the
/// row until commit, so numbers follow the order of the commits.
async fn advance_sequence(
    tx: &mut Transaction<'static, Any>,
    dialect: Dialect,
    marks: Marks,
    recounted: bool,
) -> Result<()> {
    let structure_marks = mine(dialect, marks, "metrics_structure_stale");
    let structure: i64 = sqlx::query_scalar(&format!(
        "SELECT COUNT(*) FROM metrics_structure_stale WHERE {structure_marks}"
    ))
    .fetch_one(&mut **tx)
    .await?;
    if !recounted && structure == 0 {
        return Ok(());
    }
    let n: i64 = sqlx::query_scalar(
        "UPDATE metrics_seq
         SET n = n + 1, structure_n = CASE WHEN $1 > 0 THEN n + 1 ELSE structure_n END
         RETURNING n",
    )
    .bind(structure)
    .fetch_one(&mut **tx)
    .await?;
    if recounted {
        let stale = mine(dialect, marks, "metrics_stale");
        sqlx::query(&format!(
            "UPDATE stig_asset_map SET counted_seq = $1
             WHERE (asset_id, benchmark_id) IN
                 (SELECT asset_id, benchmark_id FROM metrics_stale WHERE {stale})"
        ))
        .bind(n)
        .execute(&mut **tx)
        .await?;
    }
    if structure > 0 {
        sqlx::query(&format!("DELETE FROM metrics_structure_stale WHERE {structure_marks}"))
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

/// Turns the wildcard marks (every checklist of an asset, every checklist on a revision) into
/// one mark per checklist. The marks drive each statement (`IN`), so that SQLite, which has no
/// statistics to plan with, does not scan every assignment to find the few marked.
async fn expand_marks(
    tx: &mut Transaction<'static, Any>,
    dialect: Dialect,
    marks: Marks,
) -> Result<()> {
    let in_s = mine(dialect, marks, "s");
    sqlx::query(&format!(
        "INSERT INTO metrics_stale (asset_id, benchmark_id)
         SELECT sa.asset_id, sa.benchmark_id FROM stig_asset_map sa
         WHERE sa.asset_id IN
             (SELECT s.asset_id FROM metrics_stale s WHERE s.benchmark_id = '*' AND {in_s})
         ON CONFLICT DO NOTHING"
    ))
    .execute(&mut **tx)
    .await?;
    let revisions: i64 = sqlx::query_scalar(&format!(
        "SELECT COUNT(*) FROM (SELECT 1 FROM metrics_stale_rev s WHERE {in_s} LIMIT 1) r"
    ))
    .fetch_one(&mut **tx)
    .await?;
    if revisions == 0 {
        return Ok(());
    }
    sqlx::query(&format!(
        "INSERT INTO metrics_stale (asset_id, benchmark_id)
         SELECT sa.asset_id, sa.benchmark_id FROM stig_asset_map sa
         JOIN asset a ON a.asset_id = sa.asset_id
         JOIN current_rev cr ON cr.benchmark_id = sa.benchmark_id
         LEFT JOIN collection_rev_map p
             ON p.collection_id = a.collection_id AND p.benchmark_id = sa.benchmark_id
         WHERE sa.benchmark_id IN
                 (SELECT r.benchmark_id FROM metrics_stale_rev s
                  JOIN revision r ON r.rev_id = s.rev_id WHERE {in_s})
             AND COALESCE(p.rev_id, cr.rev_id) IN
                 (SELECT s.rev_id FROM metrics_stale_rev s WHERE {in_s})
         ON CONFLICT DO NOTHING"
    ))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Recounts the counters of these (asset id, benchmark id) checklists inside the caller's
/// transaction. Writers going through [`Store::begin_write`] need not call it: triggers mark
/// what they touch and the commit recounts it; this is for forcing a recount (repair).
pub async fn recount_checklists(
    tx: &mut Transaction<'static, Any>,
    dialect: Dialect,
    checklists: &[(i64, String)],
) -> Result<()> {
    for (asset_id, benchmark_id) in checklists {
        sqlx::query(
            "INSERT INTO metrics_stale (asset_id, benchmark_id) VALUES ($1, $2)
             ON CONFLICT DO NOTHING",
        )
        .bind(asset_id)
        .bind(benchmark_id)
        .execute(&mut **tx)
        .await?;
    }
    recount_stale(tx, dialect, Marks::Mine).await
}

/// What [`Store::repair_metrics`] found.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RepairReport {
    /// Checklists compared.
    pub checklists: usize,
    pub drift: Vec<Drift>,
}

/// A stored counter that differs from a recount.
#[derive(Debug, Clone, PartialEq)]
pub struct Drift {
    pub asset_id: i64,
    pub benchmark_id: String,
    /// Upstream's name of the column (camelCase).
    pub column: String,
    pub stored: String,
    pub recounted: String,
}

/// A counter value as text.
fn counter_text(row: &AnyRow, column: &str) -> Result<String> {
    Ok(match row.try_get::<Option<i64>, _>(column)? {
        Some(v) => v.to_string(),
        None => "null".into(),
    })
}

/// `assessed_high_count` → `assessedHighCount`.
pub(crate) fn upstream_name(column: &str) -> String {
    let mut out = String::new();
    for (i, part) in column.split('_').enumerate() {
        let mut chars = part.chars();
        match (i, chars.next()) {
            (0, Some(c)) => out.push(c),
            (_, Some(c)) => out.push(c.to_ascii_uppercase()),
            _ => {}
        }
        out.extend(chars);
    }
    out
}

impl Store {
    /// Recounts every checklist from the reviews, returns each stored counter that differed
    /// and stores the recount, in one write transaction.
    pub async fn repair_metrics(&self) -> Result<RepairReport> {
        let columns = counter_columns();
        let names: Vec<&str> = columns.iter().map(|(c, _)| c.as_str()).collect();
        let mut write = self.begin_write().await?;
        let stored = sqlx::query(&format!(
            "SELECT asset_id, benchmark_id, {} FROM stig_asset_map ORDER BY asset_id, benchmark_id",
            names.join(", ")
        ))
        .fetch_all(&mut *write.tx)
        .await?;
        let fresh = sqlx::query(&counted_reviews("")).fetch_all(&mut *write.tx).await?;
        let mut recounted = std::collections::HashMap::new();
        for row in &fresh {
            let key: (i64, String) = (row.try_get("asset_id")?, row.try_get("benchmark_id")?);
            recounted.insert(key, row);
        }
        let mut drift = Vec::new();
        let mut drifted = Vec::new();
        for row in &stored {
            let key: (i64, String) = (row.try_get("asset_id")?, row.try_get("benchmark_id")?);
            let before = drift.len();
            for column in &names {
                let stored = counter_text(row, column)?;
                let recount = match recounted.get(&key) {
                    Some(fresh) => counter_text(fresh, column)?,
                    None => empty_text(column),
                };
                if stored != recount {
                    drift.push(Drift {
                        asset_id: key.0,
                        benchmark_id: key.1.clone(),
                        column: upstream_name(column),
                        stored,
                        recounted: recount,
                    });
                }
            }
            if drift.len() > before {
                drifted.push(key);
            }
        }
        recount_checklists(&mut write.tx, self.dialect, &drifted).await?;
        write.commit().await?;
        Ok(RepairReport { checklists: stored.len(), drift })
    }
}

/// [`counter_text`] of a checklist no review matches.
fn empty_text(column: &str) -> String {
    match empty_value(column) {
        "NULL" => "null".into(),
        v => v.into(),
    }
}
