//! Reading reviews: the collection and asset listings with their filters and projections, one
//! review with its history, and the narrowing of both to what the caller's ACL lets it read.

use std::collections::HashMap;

use sqlx::any::AnyRow;
use sqlx::Row;
use stigward_domain::{ReviewResult, ReviewStatus};
use stigward_wire::asset::LabelRef;
use stigward_wire::review::{HistoryEntry, Review, ReviewRule, ReviewStig, StatusRead, UserRef};

use crate::access::{Access, AccessMap};
use crate::stigs::revision_str;
use crate::{flag, json_column, Result, Store, StoreError};

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
    pub const NAMES: [&'static str; 7] = [
        "default-mapped",
        "default",
        "mapped",
        "not-default-mapped",
        "not-default",
        "not-mapped",
        "all",
    ];

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

/// Filters and projections of a review read.
#[derive(Debug, Clone, Default)]
pub struct ReviewFilter {
    pub asset_id: Option<i64>,
    pub benchmark_id: Option<String>,
    pub rule_id: Option<String>,
    pub group_id: Option<String>,
    pub cci: Option<String>,
    pub result: Option<ReviewResult>,
    pub status: Option<ReviewStatus>,
    pub user_id: Option<i64>,
    /// `metadata=key:value` pairs, all of which must hold.
    pub metadata: Vec<(String, String)>,
    pub rules: RulesFilter,
    pub with_metadata: bool,
    pub with_rule: bool,
    pub with_stigs: bool,
    pub with_history: bool,
}

/// Whose eyes a read is for. Without an ACL (the command line) every review is read-write.
#[derive(Debug, Clone, Copy, Default)]
pub struct ReadScope<'a> {
    pub acl: Option<&'a AccessMap>,
    /// Restricted grants read only reviews their ACL covers.
    pub restricted: bool,
}

/// A revision holding a rule with the review's key, of a benchmark assigned to its asset.
struct Reach {
    benchmark_id: String,
    stig: ReviewStig,
}

impl Store {
    /// Reviews of enabled assets of a collection, ordered by asset name and rule id.
    pub async fn reviews(
        &self,
        collection_id: i64,
        filter: &ReviewFilter,
        scope: ReadScope<'_>,
    ) -> Result<Vec<Review>> {
        let rows = sqlx::query(REVIEWS_OF_COLLECTION)
            .bind(collection_id)
            .bind(filter.asset_id)
            .bind(filter.result.map(ReviewResult::id))
            .bind(filter.status.map(ReviewStatus::id))
            .bind(filter.user_id)
            .bind(filter.benchmark_id.as_deref())
            .bind(filter.rule_id.as_deref())
            .bind(filter.group_id.as_deref())
            .bind(filter.cci.as_deref())
            .fetch_all(&self.pool)
            .await?;
        let aliases = self.rule_aliases(collection_id, filter.asset_id).await?;
        let labels = self.labels_by_asset(collection_id).await?;
        let mut reach = self.reach(collection_id, filter.asset_id).await?;
        let rules = match filter.with_rule {
            true => self.review_rules(collection_id).await?,
            false => HashMap::new(),
        };
        let mut out = Vec::new();
        for row in &rows {
            let default: i64 = row.try_get("is_default")?;
            let mapped: i64 = row.try_get("is_mapped")?;
            let default_mapped: i64 = row.try_get("is_default_mapped")?;
            if !filter.rules.keeps(default != 0, mapped != 0, default_mapped != 0) {
                continue;
            }
            let review_id: i64 = row.try_get("review_id")?;
            let asset_id: i64 = row.try_get("asset_id")?;
            let reached = reach.remove(&review_id).unwrap_or_default();
            let Some(access) = read_access(asset_id, &reached, scope) else { continue };
            let mut review = review_from_row(row, &aliases, &labels)?;
            let metadata = json_column(&row.try_get::<String, _>("metadata")?, "review.metadata")?;
            if !metadata_matches(&metadata, &filter.metadata) {
                continue;
            }
            review.access = access.api().to_string();
            review.metadata = filter.with_metadata.then_some(metadata);
            review.rule = filter.with_rule.then(|| rules.get(&review.rule_id).cloned()).flatten();
            review.stigs = filter.with_stigs.then(|| reached.into_iter().map(|r| r.stig).collect());
            if filter.with_history {
                review.history = Some(self.review_history(review_id).await?);
            }
            out.push(review);
        }
        Ok(out)
    }

    /// One review of an asset, found through any rule id sharing its key, whatever revisions
    /// are the collection's defaults.
    pub async fn review(
        &self,
        collection_id: i64,
        asset_id: i64,
        rule_id: &str,
        filter: &ReviewFilter,
        scope: ReadScope<'_>,
    ) -> Result<Option<Review>> {
        let filter = ReviewFilter {
            asset_id: Some(asset_id),
            rule_id: Some(rule_id.to_string()),
            rules: RulesFilter::All,
            ..filter.clone()
        };
        Ok(self.reviews(collection_id, &filter, scope).await?.into_iter().next())
    }

    /// Every rule id sharing each review's key, keyed by review id.
    async fn rule_aliases(
        &self,
        collection_id: i64,
        asset_id: Option<i64>,
    ) -> Result<HashMap<i64, Vec<String>>> {
        let rows = sqlx::query(
            "SELECT rv.review_id, k.rule_id FROM review rv
             JOIN asset a ON a.asset_id = rv.asset_id
             JOIN rule_version_check_digest k
                 ON k.version = rv.version AND k.check_digest = rv.check_digest
             WHERE a.collection_id = $1 AND ($2 IS NULL OR rv.asset_id = $2)
             ORDER BY k.rule_id",
        )
        .bind(collection_id)
        .bind(asset_id)
        .fetch_all(&self.pool)
        .await?;
        let mut out: HashMap<i64, Vec<String>> = HashMap::new();
        for row in &rows {
            out.entry(row.try_get(0)?).or_default().push(row.try_get(1)?);
        }
        Ok(out)
    }

    async fn labels_by_asset(&self, collection_id: i64) -> Result<HashMap<i64, Vec<LabelRef>>> {
        let rows = sqlx::query(
            "SELECT m.asset_id, l.uuid, l.name, l.color FROM collection_label_asset_map m
             JOIN collection_label l ON l.label_id = m.label_id
             WHERE l.collection_id = $1 ORDER BY l.name",
        )
        .bind(collection_id)
        .fetch_all(&self.pool)
        .await?;
        let mut out: HashMap<i64, Vec<LabelRef>> = HashMap::new();
        for row in &rows {
            let label = LabelRef {
                label_id: row.try_get(1)?,
                name: row.try_get(2)?,
                color: row.try_get(3)?,
            };
            out.entry(row.try_get(0)?).or_default().push(label);
        }
        Ok(out)
    }

    /// For each review, the revisions it shows up in through its asset's STIG assignments.
    async fn reach(
        &self,
        collection_id: i64,
        asset_id: Option<i64>,
    ) -> Result<HashMap<i64, Vec<Reach>>> {
        let rows = sqlx::query(
            "SELECT DISTINCT rv.review_id, r.benchmark_id, r.version, r.release,
                    r.benchmark_date_sql, r.low_count + r.medium_count + r.high_count AS rule_count,
                    CAST(CASE WHEN dr.rev_id IS NULL THEN 0 ELSE 1 END AS BIGINT) AS is_default,
                    CAST(COALESCE(dr.revision_pinned, 0) AS BIGINT) AS revision_pinned
             FROM review rv
             JOIN asset a ON a.asset_id = rv.asset_id AND a.state = 'enabled'
             JOIN rule_version_check_digest k
                 ON k.version = rv.version AND k.check_digest = rv.check_digest
             JOIN rev_group_rule_map rgr ON rgr.rule_id = k.rule_id
             JOIN revision r ON r.rev_id = rgr.rev_id
             JOIN stig_asset_map sa ON sa.benchmark_id = r.benchmark_id AND sa.asset_id = rv.asset_id
             LEFT JOIN default_rev dr ON dr.collection_id = a.collection_id AND dr.rev_id = r.rev_id
             WHERE a.collection_id = $1 AND ($2 IS NULL OR rv.asset_id = $2)
             ORDER BY r.benchmark_id, r.benchmark_date_sql DESC",
        )
        .bind(collection_id)
        .bind(asset_id)
        .fetch_all(&self.pool)
        .await?;
        let mut out: HashMap<i64, Vec<Reach>> = HashMap::new();
        for row in &rows {
            let benchmark_id: String = row.try_get("benchmark_id")?;
            let is_default = flag(row, "is_default")?;
            let stig = ReviewStig {
                benchmark_id: benchmark_id.clone(),
                revision_str: revision_str(row)?,
                benchmark_date: row.try_get("benchmark_date_sql")?,
                revision_pinned: is_default && flag(row, "revision_pinned")?,
                is_default,
                rule_count: row.try_get("rule_count")?,
            };
            out.entry(row.try_get("review_id")?).or_default().push(Reach { benchmark_id, stig });
        }
        Ok(out)
    }

    /// The `rule` projection: each written rule id as its newest-dated revision states it.
    async fn review_rules(&self, collection_id: i64) -> Result<HashMap<String, ReviewRule>> {
        let rows = sqlx::query(
            "SELECT rgr.rule_id, rgr.title, rgr.version, rgr.severity
             FROM rev_group_rule_map rgr JOIN revision r ON r.rev_id = rgr.rev_id
             WHERE rgr.rule_id IN (SELECT rv.rule_id FROM review rv
                 JOIN asset a ON a.asset_id = rv.asset_id WHERE a.collection_id = $1)
             ORDER BY r.benchmark_date_sql, r.imported",
        )
        .bind(collection_id)
        .fetch_all(&self.pool)
        .await?;
        let mut out = HashMap::new();
        for row in &rows {
            let rule = ReviewRule {
                rule_id: row.try_get("rule_id")?,
                title: row.try_get("title")?,
                version: row.try_get("version")?,
                severity: row.try_get("severity")?,
            };
            out.insert(rule.rule_id.clone(), rule);
        }
        Ok(out)
    }

    /// A review's history, oldest first.
    pub async fn review_history(&self, review_id: i64) -> Result<Vec<HistoryEntry>> {
        let rows = sqlx::query(
            "SELECT h.*, u.username, su.username AS status_username FROM review_history h
             LEFT JOIN user_data u ON u.user_id = h.user_id
             LEFT JOIN user_data su ON su.user_id = h.status_user_id
             WHERE h.review_id = $1 ORDER BY h.history_id",
        )
        .bind(review_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|row| history_from_row(row, true)).collect()
    }
}

/// The caller's access to a review: the most restrictive over the readable assignments that
/// reach it. `None` hides the review.
fn read_access(asset_id: i64, reached: &[Reach], scope: ReadScope<'_>) -> Option<Access> {
    let Some(acl) = scope.acl else { return Some(Access::ReadWrite) };
    let readable = reached
        .iter()
        .map(|r| acl.access(asset_id, &r.benchmark_id))
        .filter(|a| *a > Access::None)
        .min();
    match (readable, reached.is_empty(), scope.restricted) {
        (Some(access), _, _) => Some(access),
        // a review no assignment reaches is covered by no ACL rule: only unrestricted roles
        // see it
        (None, true, false) => Some(Access::ReadWrite),
        _ => None,
    }
}

fn metadata_matches(metadata: &serde_json::Value, wanted: &[(String, String)]) -> bool {
    wanted.iter().all(|(k, v)| metadata.get(k).and_then(|x| x.as_str()) == Some(v.as_str()))
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
      AND ($8 IS NULL OR EXISTS (
          SELECT 1 FROM rule_version_check_digest k
          JOIN rev_group_rule_map rgr ON rgr.rule_id = k.rule_id AND rgr.group_id = $8
          WHERE k.version = rv.version AND k.check_digest = rv.check_digest))
      AND ($9 IS NULL OR EXISTS (
          SELECT 1 FROM rule_version_check_digest k
          JOIN rev_group_rule_map rgr ON rgr.rule_id = k.rule_id
          JOIN rev_group_rule_cci_map c ON c.rgr_id = rgr.rgr_id AND c.cci = $9
          WHERE k.version = rv.version AND k.check_digest = rv.check_digest))
    ORDER BY a.name, rv.rule_id";

fn review_from_row(
    row: &AnyRow,
    aliases: &HashMap<i64, Vec<String>>,
    labels: &HashMap<i64, Vec<LabelRef>>,
) -> Result<Review> {
    let review_id: i64 = row.try_get("review_id")?;
    let asset_id: i64 = row.try_get("asset_id")?;
    let engine: Option<String> = row.try_get("result_engine")?;
    Ok(Review {
        asset_id,
        asset_name: row.try_get("asset_name")?,
        asset_label_ids: labels
            .get(&asset_id)
            .into_iter()
            .flatten()
            .map(|l| l.label_id.clone())
            .collect(),
        asset_labels: labels.get(&asset_id).cloned().unwrap_or_default(),
        rule_id: row.try_get("rule_id")?,
        rule_ids: aliases.get(&review_id).cloned().unwrap_or_default(),
        result: result_of(row)?.api().to_string(),
        result_engine: engine.map(|e| json_column(&e, "review.result_engine")).transpose()?,
        detail: row.try_get("detail")?,
        comment: row.try_get("comment")?,
        auto_result: flag(row, "auto_result")?,
        status: status_of(row)?,
        user_id: row.try_get("user_id")?,
        username: row.try_get("username")?,
        ts: stigward_domain::iso_seconds(row.try_get("ts")?),
        touch_ts: stigward_domain::iso_seconds(row.try_get("touch_ts")?),
        access: Access::ReadWrite.api().to_string(),
        metadata: None,
        rule: None,
        stigs: None,
        history: None,
    })
}

pub(crate) fn result_of(row: &AnyRow) -> Result<ReviewResult> {
    let result_id: i64 = row.try_get("result_id")?;
    ReviewResult::from_id(result_id)
        .ok_or_else(|| StoreError::Corrupt(format!("review result id {result_id}")))
}

/// The status object of a review or history row (needs `status_username` selected).
pub(crate) fn status_of(row: &AnyRow) -> Result<StatusRead> {
    let status_id: i64 = row.try_get("status_id")?;
    let status = ReviewStatus::from_id(status_id)
        .ok_or_else(|| StoreError::Corrupt(format!("review status id {status_id}")))?;
    Ok(StatusRead {
        label: status.api().to_string(),
        text: row.try_get("status_text")?,
        user: UserRef {
            user_id: row.try_get("status_user_id")?,
            username: row.try_get("status_username")?,
        },
        ts: stigward_domain::iso_seconds(row.try_get("status_ts")?),
    })
}

/// A history row (needs `username` and `status_username` selected).
pub(crate) fn history_from_row(row: &AnyRow, with_engine: bool) -> Result<HistoryEntry> {
    let engine: Option<String> = row.try_get("result_engine")?;
    let engine = engine.map(|e| json_column(&e, "review_history.result_engine")).transpose()?;
    let detail: Option<String> = row.try_get("detail")?;
    let comment: Option<String> = row.try_get("comment")?;
    Ok(HistoryEntry {
        ts: stigward_domain::iso_seconds(row.try_get("ts")?),
        rule_id: row.try_get("rule_id")?,
        result: result_of(row)?.api().to_string(),
        result_engine: with_engine.then_some(engine),
        detail: detail.unwrap_or_default(),
        comment: comment.unwrap_or_default(),
        auto_result: flag(row, "auto_result")?,
        user_id: row.try_get("user_id")?,
        username: row.try_get("username")?,
        status: status_of(row)?,
        touch_ts: stigward_domain::iso_seconds(row.try_get("touch_ts")?),
    })
}
