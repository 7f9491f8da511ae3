//! Unreviewed reports: rules of the current revision of each STIG mapped to an enabled asset
//! where no review exists or its result is not pass, fail or notapplicable.

use std::collections::HashMap;

use sqlx::Row;
use stigward_domain::ReviewResult;

use crate::access::{Access, AccessMap};
use crate::{Result, Store, StoreError};

/// Filters of an unreviewed report.
#[derive(Debug, Clone, Default)]
pub struct UnreviewedFilter {
    pub asset_id: Option<i64>,
    pub benchmark_id: Option<String>,
    pub rule_id: Option<String>,
    /// Label uuids; an asset matches when it carries any of them (or any named label).
    pub label_ids: Vec<String>,
    pub label_names: Vec<String>,
    pub severities: Vec<String>,
}

pub use stigward_wire::unreviewed::UnreviewedLabel;

/// One unreviewed asset/rule pair.
#[derive(Debug, Clone)]
pub struct UnreviewedItem {
    pub asset_id: i64,
    pub asset_name: String,
    pub labels: Vec<UnreviewedLabel>,
    pub benchmark_id: String,
    pub rule_id: String,
    pub group_id: String,
    pub group_title: Option<String>,
    pub rule_title: String,
    pub severity: String,
    pub result: Option<ReviewResult>,
}

const UNREVIEWED: &str = "
SELECT a.asset_id, a.name AS asset_name, sa.benchmark_id, r.rule_id, r.group_id, r.group_title,
       r.title, r.severity, rv.result_id
FROM asset a
JOIN stig_asset_map sa ON sa.asset_id = a.asset_id
JOIN current_rev cr ON cr.benchmark_id = sa.benchmark_id
JOIN rev_group_rule_map r ON r.rev_id = cr.rev_id
LEFT JOIN review rv
    ON rv.asset_id = a.asset_id AND rv.version = r.version AND rv.check_digest = r.check_digest
WHERE a.collection_id = $1 AND a.state = 'enabled'
  AND (rv.review_id IS NULL OR rv.result_id NOT IN (2, 3, 4))
  AND ($2 IS NULL OR a.asset_id = $2)
  AND ($3 IS NULL OR sa.benchmark_id = $3)
  AND ($4 IS NULL OR r.rule_id = $4)
ORDER BY a.name, a.asset_id, sa.benchmark_id, r.rule_id";

impl Store {
    /// Unreviewed pairs of a collection, ordered by asset name, STIG and rule. A restricted
    /// caller's `acl` keeps only the pairs it may read.
    pub async fn unreviewed(
        &self,
        collection_id: i64,
        filter: &UnreviewedFilter,
        acl: Option<&AccessMap>,
    ) -> Result<Vec<UnreviewedItem>> {
        let rows = sqlx::query(UNREVIEWED)
            .bind(collection_id)
            .bind(filter.asset_id)
            .bind(filter.benchmark_id.as_deref())
            .bind(filter.rule_id.as_deref())
            .fetch_all(&self.pool)
            .await?;
        let labels = self.unreviewed_labels(collection_id).await?;
        let mut out = Vec::new();
        for row in &rows {
            let asset_id: i64 = row.try_get("asset_id")?;
            let benchmark_id: String = row.try_get("benchmark_id")?;
            if acl.is_some_and(|map| map.access(asset_id, &benchmark_id) == Access::None) {
                continue;
            }
            let severity: String = row.try_get("severity")?;
            if !filter.severities.is_empty() && !filter.severities.contains(&severity) {
                continue;
            }
            let asset_labels = labels.get(&asset_id).cloned().unwrap_or_default();
            let by_label = !filter.label_ids.is_empty() || !filter.label_names.is_empty();
            if by_label
                && !asset_labels.iter().any(|l| {
                    filter.label_ids.contains(&l.label_id) || filter.label_names.contains(&l.name)
                })
            {
                continue;
            }
            let result = match row.try_get::<Option<i64>, _>("result_id")? {
                None => None,
                Some(id) => Some(
                    ReviewResult::from_id(id)
                        .ok_or_else(|| StoreError::Corrupt(format!("review result_id {id}")))?,
                ),
            };
            out.push(UnreviewedItem {
                asset_id,
                asset_name: row.try_get("asset_name")?,
                labels: asset_labels,
                benchmark_id,
                rule_id: row.try_get("rule_id")?,
                group_id: row.try_get("group_id")?,
                group_title: row.try_get("group_title")?,
                rule_title: row.try_get("title")?,
                severity,
                result,
            });
        }
        Ok(out)
    }

    async fn unreviewed_labels(
        &self,
        collection_id: i64,
    ) -> Result<HashMap<i64, Vec<UnreviewedLabel>>> {
        let rows = sqlx::query(
            "SELECT m.asset_id, l.uuid, l.name FROM collection_label_asset_map m
             JOIN collection_label l ON l.label_id = m.label_id
             WHERE l.collection_id = $1 ORDER BY l.name",
        )
        .bind(collection_id)
        .fetch_all(&self.pool)
        .await?;
        let mut out: HashMap<i64, Vec<UnreviewedLabel>> = HashMap::new();
        for row in &rows {
            out.entry(row.try_get(0)?)
                .or_default()
                .push(UnreviewedLabel { label_id: row.try_get(1)?, name: row.try_get(2)? });
        }
        Ok(out)
    }
}
