//! Reviews: the per-asset write (one transaction for the whole request) and collection reads.
//! A review is stored under (asset, rule version, check digest), so it follows its rule into
//! later revisions whose check text did not change.

use std::collections::{HashMap, HashSet};

use serde_json::Value;
use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};
use stigward_domain::review::{build_candidate, Candidate, Incoming, Rejection, Stored, Writer};
use stigward_domain::{CollectionSettings, ReviewResult, ReviewStatus};
use stigward_wire::review::{RejectedReview, Review, ReviewPostResponse, StatusRead, UserRef};

use crate::{flag, json_column, Result, Store, StoreError};

/// At most this many rejections are listed in a write response.
const MAX_REJECTIONS_LISTED: usize = 50;

/// One item of a per-asset write.
#[derive(Debug, Clone)]
pub struct ReviewWrite {
    pub rule_id: String,
    pub incoming: Incoming,
}

/// Which reviews a collection read returns, by the rules they belong to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RulesFilter {
    #[default]
    DefaultMapped,
    Default,
    Mapped,
    NotDefaultMapped,
    NotDefault,
    NotMapped,
    All,
}

impl RulesFilter {
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "default-mapped" => Self::DefaultMapped,
            "default" => Self::Default,
            "mapped" => Self::Mapped,
            "not-default-mapped" => Self::NotDefaultMapped,
            "not-default" => Self::NotDefault,
            "not-mapped" => Self::NotMapped,
            "all" => Self::All,
            _ => return None,
        })
    }

    fn keeps(self, default: bool, mapped: bool, default_mapped: bool) -> bool {
        match self {
            Self::DefaultMapped => default_mapped,
            Self::Default => default,
            Self::Mapped => mapped,
            Self::NotDefaultMapped => !default && !mapped,
            Self::NotDefault => !default,
            Self::NotMapped => !mapped,
            Self::All => true,
        }
    }
}

/// Filters of a collection review read.
#[derive(Debug, Clone, Default)]
pub struct ReviewFilter {
    pub asset_id: Option<i64>,
    pub benchmark_id: Option<String>,
    pub rule_id: Option<String>,
    pub result: Option<ReviewResult>,
    pub status: Option<ReviewStatus>,
    pub user_id: Option<i64>,
    pub rules: RulesFilter,
    pub with_metadata: bool,
}

type Key = (String, Vec<u8>);

impl Store {
    /// Writes reviews of one asset. Items whose rule is not writable for the asset, or whose
    /// candidate breaks a rule, are reported and skipped; the rest commit together.
    pub async fn write_asset_reviews(
        &self,
        asset_id: i64,
        items: Vec<ReviewWrite>,
        settings: &CollectionSettings,
        writer: Writer,
    ) -> Result<ReviewPostResponse> {
        let writable = self.writable_rule_ids(asset_id).await?;
        let keys = self
            .review_keys(items.iter().map(|i| i.rule_id.as_str()))
            .await?;
        let mut response = ReviewPostResponse::default();
        let mut pending: Vec<(Key, ReviewWrite)> = Vec::new();
        for item in items {
            match keys
                .get(&item.rule_id)
                .filter(|_| writable.contains(&item.rule_id))
            {
                Some(key) => {
                    pending.retain(|(k, _)| k != key);
                    pending.push((key.clone(), item));
                }
                None => reject(
                    &mut response,
                    &item.rule_id,
                    Rejection::NoGrant,
                    writer.batch,
                ),
            }
        }
        let mut write = self.begin_write().await?;
        for (key, item) in pending {
            let stored = load_review(&mut write.tx, asset_id, &key).await?;
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
                        insert_review(&mut write.tx, asset_id, &item.rule_id, &key, &candidate)
                            .await?;
                        response.affected.inserted += 1;
                    }
                },
            }
        }
        write.commit().await?;
        Ok(response)
    }

    /// Rule ids of every revision of every STIG assigned to the asset.
    async fn writable_rule_ids(&self, asset_id: i64) -> Result<HashSet<String>> {
        let rows = sqlx::query(
            "SELECT DISTINCT rgr.rule_id FROM rev_group_rule_map rgr
             JOIN revision r ON r.rev_id = rgr.rev_id
             JOIN stig_asset_map sa ON sa.benchmark_id = r.benchmark_id
             WHERE sa.asset_id = $1",
        )
        .bind(asset_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| r.try_get(0).map_err(StoreError::from))
            .collect()
    }

    /// The review key of each known rule id.
    async fn review_keys<'a>(
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

    /// Reviews of enabled assets of a collection, ordered by asset and rule.
    pub async fn reviews(&self, collection_id: i64, filter: &ReviewFilter) -> Result<Vec<Review>> {
        let rows = sqlx::query(REVIEWS_OF_COLLECTION)
            .bind(collection_id)
            .bind(filter.asset_id)
            .bind(filter.result.map(ReviewResult::id))
            .bind(filter.status.map(ReviewStatus::id))
            .bind(filter.user_id)
            .bind(filter.benchmark_id.as_deref())
            .bind(filter.rule_id.as_deref())
            .fetch_all(&self.pool)
            .await?;
        let aliases = self.rule_aliases(collection_id).await?;
        let labels = self.label_ids_by_asset(collection_id).await?;
        let mut out = Vec::new();
        for row in &rows {
            let default: i64 = row.try_get("is_default")?;
            let mapped: i64 = row.try_get("is_mapped")?;
            let default_mapped: i64 = row.try_get("is_default_mapped")?;
            if filter
                .rules
                .keeps(default != 0, mapped != 0, default_mapped != 0)
            {
                out.push(review_from_row(
                    row,
                    &aliases,
                    &labels,
                    filter.with_metadata,
                )?);
            }
        }
        Ok(out)
    }

    /// Every rule id sharing each review's key, keyed by review id.
    async fn rule_aliases(&self, collection_id: i64) -> Result<HashMap<i64, Vec<String>>> {
        let rows = sqlx::query(
            "SELECT rv.review_id, k.rule_id FROM review rv
             JOIN asset a ON a.asset_id = rv.asset_id
             JOIN rule_version_check_digest k
                 ON k.version = rv.version AND k.check_digest = rv.check_digest
             WHERE a.collection_id = $1 ORDER BY k.rule_id",
        )
        .bind(collection_id)
        .fetch_all(&self.pool)
        .await?;
        let mut out: HashMap<i64, Vec<String>> = HashMap::new();
        for row in &rows {
            out.entry(row.try_get(0)?)
                .or_default()
                .push(row.try_get(1)?);
        }
        Ok(out)
    }

    async fn label_ids_by_asset(&self, collection_id: i64) -> Result<HashMap<i64, Vec<String>>> {
        let rows = sqlx::query(
            "SELECT m.asset_id, l.uuid FROM collection_label_asset_map m
             JOIN collection_label l ON l.label_id = m.label_id
             WHERE l.collection_id = $1 ORDER BY l.name",
        )
        .bind(collection_id)
        .fetch_all(&self.pool)
        .await?;
        let mut out: HashMap<i64, Vec<String>> = HashMap::new();
        for row in &rows {
            out.entry(row.try_get(0)?)
                .or_default()
                .push(row.try_get(1)?);
        }
        Ok(out)
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

/// Reviews joined with their asset and users, and three flags for the `rules` filter: whether a
/// rule carrying the review's key is in a default revision of the collection, in a revision of a
/// STIG assigned to the asset, and both at once.
const REVIEWS_OF_COLLECTION: &str = "
    SELECT rv.review_id, rv.asset_id, a.name AS asset_name, rv.rule_id, rv.result_id,
           rv.result_engine, rv.detail, rv.comment, rv.auto_result, rv.metadata, rv.user_id,
           u.username, rv.ts, rv.touch_ts, rv.status_id, rv.status_text, rv.status_user_id,
           su.username AS status_username, rv.status_ts,
           CASE WHEN EXISTS (
               SELECT 1 FROM rule_version_check_digest k
               JOIN rev_group_rule_map rgr ON rgr.rule_id = k.rule_id
               JOIN default_rev dr ON dr.rev_id = rgr.rev_id AND dr.collection_id = a.collection_id
               WHERE k.version = rv.version AND k.check_digest = rv.check_digest
           ) THEN 1 ELSE 0 END AS is_default,
           CASE WHEN EXISTS (
               SELECT 1 FROM rule_version_check_digest k
               JOIN rev_group_rule_map rgr ON rgr.rule_id = k.rule_id
               JOIN revision r ON r.rev_id = rgr.rev_id
               JOIN stig_asset_map sa
                   ON sa.benchmark_id = r.benchmark_id AND sa.asset_id = rv.asset_id
               WHERE k.version = rv.version AND k.check_digest = rv.check_digest
           ) THEN 1 ELSE 0 END AS is_mapped,
           CASE WHEN EXISTS (
               SELECT 1 FROM rule_version_check_digest k
               JOIN rev_group_rule_map rgr ON rgr.rule_id = k.rule_id
               JOIN default_rev dr ON dr.rev_id = rgr.rev_id AND dr.collection_id = a.collection_id
               JOIN stig_asset_map sa
                   ON sa.benchmark_id = dr.benchmark_id AND sa.asset_id = rv.asset_id
               WHERE k.version = rv.version AND k.check_digest = rv.check_digest
           ) THEN 1 ELSE 0 END AS is_default_mapped
    FROM review rv
    JOIN asset a ON a.asset_id = rv.asset_id AND a.state = 'enabled'
    LEFT JOIN user_data u ON u.user_id = rv.user_id
    LEFT JOIN user_data su ON su.user_id = rv.status_user_id
    WHERE a.collection_id = $1
      AND ($2 IS NULL OR rv.asset_id = $2)
      AND ($3 IS NULL OR rv.result_id = $3)
      AND ($4 IS NULL OR rv.status_id = $4)
      AND ($5 IS NULL OR rv.user_id = $5)
      AND ($6 IS NULL OR EXISTS (
          SELECT 1 FROM rule_version_check_digest k
          JOIN rev_group_rule_map rgr ON rgr.rule_id = k.rule_id
          JOIN revision r ON r.rev_id = rgr.rev_id AND r.benchmark_id = $6
          WHERE k.version = rv.version AND k.check_digest = rv.check_digest))
      AND ($7 IS NULL OR EXISTS (
          SELECT 1 FROM rule_version_check_digest k
          WHERE k.rule_id = $7 AND k.version = rv.version AND k.check_digest = rv.check_digest))
    ORDER BY a.name, rv.rule_id";

fn review_from_row(
    row: &AnyRow,
    aliases: &HashMap<i64, Vec<String>>,
    labels: &HashMap<i64, Vec<String>>,
    with_metadata: bool,
) -> Result<Review> {
    let review_id: i64 = row.try_get("review_id")?;
    let asset_id: i64 = row.try_get("asset_id")?;
    let result_id: i64 = row.try_get("result_id")?;
    let status_id: i64 = row.try_get("status_id")?;
    let result = ReviewResult::from_id(result_id)
        .ok_or_else(|| StoreError::Corrupt(format!("review result id {result_id}")))?;
    let status = ReviewStatus::from_id(status_id)
        .ok_or_else(|| StoreError::Corrupt(format!("review status id {status_id}")))?;
    let engine: Option<String> = row.try_get("result_engine")?;
    let metadata: String = row.try_get("metadata")?;
    Ok(Review {
        asset_id,
        asset_name: row.try_get("asset_name")?,
        asset_label_ids: labels.get(&asset_id).cloned().unwrap_or_default(),
        rule_id: row.try_get("rule_id")?,
        rule_ids: aliases.get(&review_id).cloned().unwrap_or_default(),
        result: result.api().to_string(),
        result_engine: engine
            .map(|e| json_column(&e, "review.result_engine"))
            .transpose()?,
        detail: row.try_get("detail")?,
        comment: row.try_get("comment")?,
        auto_result: flag(row, "auto_result")?,
        status: StatusRead {
            label: status.api().to_string(),
            text: row.try_get("status_text")?,
            user: UserRef {
                user_id: row.try_get("status_user_id")?,
                username: row.try_get("status_username")?,
            },
            ts: stigward_domain::iso_seconds(row.try_get("status_ts")?),
        },
        user_id: row.try_get("user_id")?,
        username: row.try_get("username")?,
        ts: stigward_domain::iso_seconds(row.try_get("ts")?),
        touch_ts: stigward_domain::iso_seconds(row.try_get("touch_ts")?),
        access: "rw".to_string(),
        metadata: with_metadata
            .then(|| json_column(&metadata, "review.metadata"))
            .transpose()?,
    })
}

async fn load_review(
    tx: &mut Transaction<'static, Any>,
    asset_id: i64,
    key: &Key,
) -> Result<Option<(i64, Stored)>> {
    let row = sqlx::query(
        "SELECT review_id, result_id, detail, comment, result_engine, metadata, status_id,
                status_text, status_ts, status_user_id, user_id, ts
         FROM review WHERE asset_id = $1 AND version = $2 AND check_digest = $3",
    )
    .bind(asset_id)
    .bind(&key.0)
    .bind(&key.1)
    .fetch_optional(&mut **tx)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let result_id: i64 = row.try_get("result_id")?;
    let status_id: i64 = row.try_get("status_id")?;
    let engine: Option<String> = row.try_get("result_engine")?;
    let stored = Stored {
        result: ReviewResult::from_id(result_id)
            .ok_or_else(|| StoreError::Corrupt(format!("review result id {result_id}")))?,
        detail: row.try_get("detail")?,
        comment: row.try_get("comment")?,
        result_engine: engine
            .map(|e| json_column(&e, "review.result_engine"))
            .transpose()?,
        metadata: json_column(&row.try_get::<String, _>("metadata")?, "review.metadata")?,
        status: ReviewStatus::from_id(status_id)
            .ok_or_else(|| StoreError::Corrupt(format!("review status id {status_id}")))?,
        status_text: row.try_get("status_text")?,
        status_ts: row.try_get("status_ts")?,
        status_user_id: row.try_get("status_user_id")?,
        user_id: row.try_get("user_id")?,
        ts: row.try_get("ts")?,
    };
    Ok(Some((row.try_get("review_id")?, stored)))
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

fn engine_text(candidate: &Candidate) -> Option<String> {
    candidate
        .result_engine
        .as_ref()
        .filter(|e| !e.is_null())
        .map(Value::to_string)
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
