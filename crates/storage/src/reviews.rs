//! Reviews: the per-asset write (one transaction for the whole request) and collection reads.
//! A review is stored under (asset, rule version, check digest), so it follows its rule into
//! later revisions whose check text did not change.

use std::collections::{HashMap, HashSet};

use serde_json::Value;
use sqlx::{Any, Row, Transaction};
use stigward_domain::review::{build_candidate, Candidate, Incoming, Rejection, Stored, Writer};
use stigward_domain::{CollectionSettings, ReviewResult, ReviewStatus};
use stigward_wire::review::{RejectedReview, ReviewPostResponse};

use crate::access::{Access, AccessMap};
use crate::review_batch::{is_retryable, WRITE_ATTEMPTS};
use crate::{json_column, Dialect, Result, Store, StoreError};

/// At most this many rejections are listed in a write response.
const MAX_REJECTIONS_LISTED: usize = 50;

/// One item of a per-asset write.
#[derive(Debug, Clone)]
pub struct ReviewWrite {
    pub rule_id: String,
    pub incoming: Incoming,
}

pub(crate) type Key = (String, Vec<u8>);

impl Store {
    /// Writes reviews of one asset. Items whose rule is not writable for the asset, or whose
    /// candidate breaks a rule, are reported and skipped; the rest commit together.
    pub async fn write_asset_reviews(
        &self,
        asset_id: i64,
        items: Vec<ReviewWrite>,
        settings: &CollectionSettings,
        writer: Writer,
        access: &AccessMap,
    ) -> Result<ReviewPostResponse> {
        let writable = self.writable_rule_ids(asset_id, access).await?;
        let keys = self.review_keys(items.iter().map(|i| i.rule_id.as_str())).await?;
        let mut response = ReviewPostResponse::default();
        let mut pending: Vec<(Key, ReviewWrite)> = Vec::new();
        for item in items {
            match keys.get(&item.rule_id).filter(|_| writable.contains(&item.rule_id)) {
                Some(key) => {
                    pending.retain(|(k, _)| k != key);
                    pending.push((key.clone(), item));
                }
                None => reject(&mut response, &item.rule_id, Rejection::NoGrant, writer.batch),
            }
        }
        let mut attempt = 1;
        loop {
            let run = self.write_pending(asset_id, &pending, response.clone(), settings, writer);
            match run.await {
                Err(err) if attempt < WRITE_ATTEMPTS && is_retryable(&err) => attempt += 1,
                other => return other,
            }
        }
    }

    /// One attempt at writing the checked items of a per-asset write.
    async fn write_pending(
        &self,
        asset_id: i64,
        pending: &[(Key, ReviewWrite)],
        mut response: ReviewPostResponse,
        settings: &CollectionSettings,
        writer: Writer,
    ) -> Result<ReviewPostResponse> {
        let mut write = self.begin_write().await?;
        for (key, item) in pending {
            let stored = load_review(&mut write.tx, asset_id, key, self.dialect).await?;
            let stored_state = stored.as_ref().map(|(_, s)| s);
            match build_candidate(&item.incoming, stored_state, settings, writer) {
                Err(rejection) => reject(&mut response, &item.rule_id, rejection, writer.batch),
                Ok(candidate) => match stored {
                    Some((review_id, _)) => {
                        let max = settings.history.max_reviews;
                        snapshot_history(&mut write.tx, review_id, max).await?;
                        update_review(&mut write.tx, review_id, &item.rule_id, &candidate).await?;
                        response.affected.updated += 1;
                    }
                    None => {
                        insert_review(&mut write.tx, asset_id, &item.rule_id, key, &candidate)
                            .await?;
                        response.affected.inserted += 1;
                    }
                },
            }
        }
        write.commit().await?;
        Ok(response)
    }

    /// The caller's best access to a rule of an asset, over the assigned STIGs holding it.
    pub async fn rule_access(
        &self,
        asset_id: i64,
        rule_id: &str,
        access: &AccessMap,
    ) -> Result<Access> {
        let rows = sqlx::query(
            "SELECT DISTINCT r.benchmark_id FROM rev_group_rule_map rgr
             JOIN revision r ON r.rev_id = rgr.rev_id
             JOIN stig_asset_map sa ON sa.benchmark_id = r.benchmark_id AND sa.asset_id = $1
             WHERE rgr.rule_id = $2",
        )
        .bind(asset_id)
        .bind(rule_id)
        .fetch_all(&self.pool)
        .await?;
        let mut best = Access::None;
        for row in &rows {
            let benchmark_id: String = row.try_get(0)?;
            best = best.max(access.access(asset_id, &benchmark_id));
        }
        Ok(best)
    }

    /// Deletes the review of an asset found through a rule id's key, with its history.
    /// Returns whether there was one.
    pub async fn delete_review(&self, asset_id: i64, rule_id: &str) -> Result<bool> {
        let mut write = self.begin_write().await?;
        let done = sqlx::query(
            "DELETE FROM review WHERE asset_id = $1 AND EXISTS (
                 SELECT 1 FROM rule_version_check_digest k WHERE k.rule_id = $2
                 AND k.version = review.version AND k.check_digest = review.check_digest)",
        )
        .bind(asset_id)
        .bind(rule_id)
        .execute(&mut *write.tx)
        .await?;
        write.commit().await?;
        Ok(done.rows_affected() > 0)
    }

    /// The metadata of the review found through a rule id's key; `None` without a review.
    pub async fn review_metadata(&self, asset_id: i64, rule_id: &str) -> Result<Option<Value>> {
        let row = sqlx::query(
            "SELECT rv.metadata FROM review rv JOIN rule_version_check_digest k
                 ON k.version = rv.version AND k.check_digest = rv.check_digest
             WHERE rv.asset_id = $1 AND k.rule_id = $2",
        )
        .bind(asset_id)
        .bind(rule_id)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| json_column(&r.try_get::<String, _>(0)?, "review.metadata")).transpose()
    }

    /// Changes a review's metadata with `change` (applied to the stored object) in one
    /// transaction; a missing review is left missing. Returns the new metadata, if any.
    pub async fn update_review_metadata(
        &self,
        asset_id: i64,
        rule_id: &str,
        change: impl FnOnce(&mut serde_json::Map<String, Value>),
    ) -> Result<Option<Value>> {
        let Some(key) = self.review_keys(std::iter::once(rule_id)).await?.remove(rule_id) else {
            return Ok(None);
        };
        let mut write = self.begin_write().await?;
        let row = sqlx::query(
            "SELECT review_id, metadata FROM review
             WHERE asset_id = $1 AND version = $2 AND check_digest = $3",
        )
        .bind(asset_id)
        .bind(&key.0)
        .bind(&key.1)
        .fetch_optional(&mut *write.tx)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let review_id: i64 = row.try_get(0)?;
        let mut metadata = match json_column(&row.try_get::<String, _>(1)?, "review.metadata")? {
            Value::Object(map) => map,
            _ => serde_json::Map::new(),
        };
        change(&mut metadata);
        let metadata = Value::Object(metadata);
        sqlx::query("UPDATE review SET metadata = $2 WHERE review_id = $1")
            .bind(review_id)
            .bind(metadata.to_string())
            .execute(&mut *write.tx)
            .await?;
        write.commit().await?;
        Ok(Some(metadata))
    }

    /// Rule ids of every revision of every STIG assigned to the asset that the writer may
    /// change.
    async fn writable_rule_ids(
        &self,
        asset_id: i64,
        access: &AccessMap,
    ) -> Result<HashSet<String>> {
        let rows = sqlx::query(
            "SELECT DISTINCT rgr.rule_id, r.benchmark_id FROM rev_group_rule_map rgr
             JOIN revision r ON r.rev_id = rgr.rev_id
             JOIN stig_asset_map sa ON sa.benchmark_id = r.benchmark_id
             WHERE sa.asset_id = $1",
        )
        .bind(asset_id)
        .fetch_all(&self.pool)
        .await?;
        let mut writable = HashSet::new();
        for row in &rows {
            let benchmark_id: String = row.try_get(1)?;
            if access.access(asset_id, &benchmark_id) == Access::ReadWrite {
                writable.insert(row.try_get(0)?);
            }
        }
        Ok(writable)
    }

    /// The review key of each known rule id.
    pub(crate) async fn review_keys<'a>(
        &self,
        rule_ids: impl Iterator<Item = &'a str>,
    ) -> Result<HashMap<String, Key>> {
        let mut keys = HashMap::new();
        for rule_id in rule_ids.collect::<HashSet<_>>() {
            let row = sqlx::query(
                "SELECT version, check_digest FROM rule_version_check_digest WHERE rule_id = $1",
            )
            .bind(rule_id)
            .fetch_optional(&self.pool)
            .await?;
            if let Some(row) = row {
                keys.insert(rule_id.to_string(), (row.try_get(0)?, row.try_get(1)?));
            }
        }
        Ok(keys)
    }
}

fn reject(response: &mut ReviewPostResponse, rule_id: &str, why: Rejection, batch: bool) {
    if response.rejected.len() < MAX_REJECTIONS_LISTED {
        response.rejected.push(RejectedReview {
            rule_id: rule_id.to_string(),
            reason: why.reason(batch).to_string(),
        });
    }
}

/// Reads a review for update: on PostgreSQL the row stays locked until the transaction ends, so
/// a concurrent writer waits and then builds its candidate (and history) from this write.
async fn load_review(
    tx: &mut Transaction<'static, Any>,
    asset_id: i64,
    key: &Key,
    dialect: Dialect,
) -> Result<Option<(i64, Stored)>> {
    let sql = format!(
        "SELECT review_id, result_id, detail, comment, result_engine, metadata, status_id,
                status_text, status_ts, status_user_id, user_id, ts
         FROM review WHERE asset_id = $1 AND version = $2 AND check_digest = $3{}",
        row_lock(dialect)
    );
    let row = sqlx::query(&sql)
        .bind(asset_id)
        .bind(&key.0)
        .bind(&key.1)
        .fetch_optional(&mut **tx)
        .await?;
    let Some(row) = row else { return Ok(None) };
    Ok(Some((row.try_get("review_id")?, stored_from_row(&row)?)))
}

/// The clause that locks selected rows until commit; SQLite writers are already serialised.
pub(crate) fn row_lock(dialect: Dialect) -> &'static str {
    match dialect {
        Dialect::Postgres => " FOR UPDATE",
        Dialect::Sqlite => "",
    }
}

/// The write engine's view of a stored review row.
pub(crate) fn stored_from_row(row: &sqlx::any::AnyRow) -> Result<Stored> {
    let result_id: i64 = row.try_get("result_id")?;
    let status_id: i64 = row.try_get("status_id")?;
    let engine: Option<String> = row.try_get("result_engine")?;
    Ok(Stored {
        result: ReviewResult::from_id(result_id)
            .ok_or_else(|| StoreError::Corrupt(format!("review result id {result_id}")))?,
        detail: row.try_get("detail")?,
        comment: row.try_get("comment")?,
        result_engine: engine.map(|e| json_column(&e, "review.result_engine")).transpose()?,
        metadata: json_column(&row.try_get::<String, _>("metadata")?, "review.metadata")?,
        status: ReviewStatus::from_id(status_id)
            .ok_or_else(|| StoreError::Corrupt(format!("review status id {status_id}")))?,
        status_text: row.try_get("status_text")?,
        status_ts: row.try_get("status_ts")?,
        status_user_id: row.try_get("status_user_id")?,
        user_id: row.try_get("user_id")?,
        ts: row.try_get("ts")?,
    })
}

/// Keeps the newest `max_reviews - 1` history rows, then records the review as it is now, so
/// at most `max_reviews` remain; zero keeps no history at all.
pub(crate) async fn snapshot_history(
    tx: &mut Transaction<'static, Any>,
    review_id: i64,
    max_reviews: i64,
) -> Result<()> {
    sqlx::query(
        "DELETE FROM review_history WHERE review_id = $1 AND history_id NOT IN (
             SELECT history_id FROM review_history WHERE review_id = $1
             ORDER BY history_id DESC LIMIT $2)",
    )
    .bind(review_id)
    .bind((max_reviews - 1).max(0))
    .execute(&mut **tx)
    .await?;
    if max_reviews <= 0 {
        return Ok(());
    }
    sqlx::query(
        "INSERT INTO review_history (review_id, rule_id, result_id, detail, comment, auto_result,
             result_engine, user_id, ts, status_id, status_text, status_user_id, status_ts,
             touch_ts)
         SELECT review_id, rule_id, result_id, detail, comment, auto_result, result_engine,
                user_id, ts, status_id, status_text, status_user_id, status_ts, touch_ts
         FROM review WHERE review_id = $1",
    )
    .bind(review_id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Deletes reviews by id, with their history (the foreign key cascades); the bulk deletion
/// path of the review writers.
pub(crate) async fn delete_reviews(
    tx: &mut Transaction<'static, Any>,
    review_ids: &[i64],
) -> Result<()> {
    for chunk in review_ids.chunks(crate::review_batch::CHUNK) {
        let sql = format!(
            "DELETE FROM review WHERE review_id IN ({})",
            crate::review_batch::placeholders(1, chunk.len())
        );
        let mut query = sqlx::query(&sql);
        for id in chunk {
            query = query.bind(*id);
        }
        query.execute(&mut **tx).await?;
    }
    Ok(())
}

pub(crate) fn engine_text(candidate: &Candidate) -> Option<String> {
    candidate.result_engine.as_ref().filter(|e| !e.is_null()).map(Value::to_string)
}

async fn update_review(
    tx: &mut Transaction<'static, Any>,
    review_id: i64,
    rule_id: &str,
    c: &Candidate,
) -> Result<()> {
    sqlx::query(
        "UPDATE review SET rule_id = $2, result_id = $3, detail = $4, comment = $5,
             result_engine = $6, metadata = $7, user_id = $8, ts = $9, status_id = $10,
             status_text = $11, status_user_id = $12, status_ts = $13, touch_ts = $14
         WHERE review_id = $1",
    )
    .bind(review_id)
    .bind(rule_id)
    .bind(c.result.id())
    .bind(&c.detail)
    .bind(&c.comment)
    .bind(engine_text(c))
    .bind(c.metadata.to_string())
    .bind(c.user_id)
    .bind(c.ts)
    .bind(c.status.id())
    .bind(&c.status_text)
    .bind(c.status_user_id)
    .bind(c.status_ts)
    .bind(c.touch_ts())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

async fn insert_review(
    tx: &mut Transaction<'static, Any>,
    asset_id: i64,
    rule_id: &str,
    key: &Key,
    c: &Candidate,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO review (asset_id, rule_id, version, check_digest, result_id, detail, comment,
             result_engine, metadata, user_id, ts, status_id, status_text, status_user_id,
             status_ts, touch_ts)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)",
    )
    .bind(asset_id)
    .bind(rule_id)
    .bind(&key.0)
    .bind(&key.1)
    .bind(c.result.id())
    .bind(&c.detail)
    .bind(&c.comment)
    .bind(engine_text(c))
    .bind(c.metadata.to_string())
    .bind(c.user_id)
    .bind(c.ts)
    .bind(c.status.id())
    .bind(&c.status_text)
    .bind(c.status_user_id)
    .bind(c.status_ts)
    .bind(c.touch_ts())
    .execute(&mut **tx)
    .await?;
    Ok(())
}
