//! The review-aging task configuration of a collection: an ordered list of rules, replaced as a
//! whole, whose targets (asset, label, STIG) must belong to the collection or be installed.

use sqlx::Row;

pub use stigward_domain::review_aging::{AgingRuleWrite, AgingTarget};

use crate::{flag, Result, Store};

/// One stored rule with its target expanded.
#[derive(Debug, Clone, PartialEq)]
pub struct AgingRule {
    pub title: Option<String>,
    pub enabled: bool,
    pub trigger_field: String,
    pub trigger_interval: i64,
    pub trigger_action: String,
    pub update_field: Option<String>,
    pub update_value: Option<String>,
    /// (asset id, asset name)
    pub asset: Option<(i64, String)>,
    /// (uuid, name, color)
    pub label: Option<(String, String, String)>,
    pub benchmark_id: Option<String>,
}

/// Why a target was refused, per STIG Manager's `validity` strings.
#[derive(Debug, Clone, PartialEq)]
pub struct InvalidTarget {
    pub idx: usize,
    pub target: AgingTarget,
    pub validity: &'static str,
}

impl Store {
    /// The collection's rules in execution order.
    pub async fn aging_rules(&self, collection_id: i64) -> Result<Vec<AgingRule>> {
        let rows = sqlx::query(
            "SELECT r.title, r.enabled, r.trigger_field, r.trigger_interval, r.trigger_action,
                    r.update_field, r.update_value, r.asset_id, a.name AS asset_name,
                    l.uuid, l.name AS label_name, l.color, r.benchmark_id
             FROM review_aging_rule r
             LEFT JOIN asset a ON a.asset_id = r.asset_id
             LEFT JOIN collection_label l ON l.label_id = r.label_id
             WHERE r.collection_id = $1 ORDER BY r.ordinal",
        )
        .bind(collection_id)
        .fetch_all(&self.pool)
        .await?;
        let mut out = Vec::new();
        for row in &rows {
            let asset_id: Option<i64> = row.try_get("asset_id")?;
            let asset = match asset_id {
                Some(id) => Some((id, row.try_get::<String, _>("asset_name")?)),
                None => None,
            };
            let uuid: Option<String> = row.try_get("uuid")?;
            let label = match uuid {
                Some(uuid) => Some((uuid, row.try_get("label_name")?, row.try_get("color")?)),
                None => None,
            };
            out.push(AgingRule {
                title: row.try_get("title")?,
                enabled: flag(row, "enabled")?,
                trigger_field: row.try_get("trigger_field")?,
                trigger_interval: row.try_get("trigger_interval")?,
                trigger_action: row.try_get("trigger_action")?,
                update_field: row.try_get("update_field")?,
                update_value: row.try_get("update_value")?,
                asset,
                label,
                benchmark_id: row.try_get("benchmark_id")?,
            });
        }
        Ok(out)
    }

    /// Targets naming an asset or label outside the collection, or a STIG not installed.
    pub async fn invalid_aging_targets(
        &self,
        collection_id: i64,
        rules: &[AgingRuleWrite],
    ) -> Result<Vec<InvalidTarget>> {
        let mut out = Vec::new();
        for (idx, rule) in rules.iter().enumerate() {
            let Some(target) = &rule.target else { continue };
            let validity = if let Some(asset_id) = target.asset_id {
                let found =
                    sqlx::query("SELECT 1 FROM asset WHERE asset_id = $1 AND collection_id = $2")
                        .bind(asset_id)
                        .bind(collection_id)
                        .fetch_optional(&self.pool)
                        .await?;
                found.is_none().then_some("asset not found in collection")
            } else {
                None
            };
            let validity = match (validity, &target.label_id) {
                (None, Some(uuid)) => self
                    .aging_label_key(collection_id, uuid)
                    .await?
                    .is_none()
                    .then_some("label not found in collection"),
                (v, _) => v,
            };
            let validity = match (validity, &target.benchmark_id) {
                (None, Some(benchmark_id)) => {
                    let found = sqlx::query("SELECT 1 FROM stig WHERE benchmark_id = $1")
                        .bind(benchmark_id)
                        .fetch_optional(&self.pool)
                        .await?;
                    found.is_none().then_some("stig not installed")
                }
                (v, _) => v,
            };
            if let Some(validity) = validity {
                out.push(InvalidTarget { idx, target: target.clone(), validity });
            }
        }
        Ok(out)
    }

    async fn aging_label_key(&self, collection_id: i64, uuid: &str) -> Result<Option<i64>> {
        let row = sqlx::query(
            "SELECT label_id FROM collection_label WHERE uuid = $1 AND collection_id = $2",
        )
        .bind(uuid)
        .bind(collection_id)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| r.try_get::<i64, _>(0)).transpose().map_err(Into::into)
    }

    /// Replaces the collection's rules; array order is execution order. Targets must have been
    /// checked with [`Store::invalid_aging_targets`].
    pub async fn replace_aging_rules(
        &self,
        collection_id: i64,
        rules: &[AgingRuleWrite],
    ) -> Result<()> {
        let mut label_keys = Vec::new();
        for rule in rules {
            let uuid = rule.target.as_ref().and_then(|t| t.label_id.as_deref());
            label_keys.push(match uuid {
                Some(uuid) => self.aging_label_key(collection_id, uuid).await?,
                None => None,
            });
        }
        let mut write = self.begin_write().await?;
        sqlx::query("DELETE FROM review_aging_rule WHERE collection_id = $1")
            .bind(collection_id)
            .execute(&mut *write.tx)
            .await?;
        for (ordinal, (rule, label_key)) in rules.iter().zip(label_keys).enumerate() {
            let target = rule.target.clone().unwrap_or_default();
            sqlx::query(
                "INSERT INTO review_aging_rule (collection_id, ordinal, title, enabled,
                     trigger_field, trigger_interval, trigger_action, update_field, update_value,
                     asset_id, label_id, benchmark_id)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
            )
            .bind(collection_id)
            .bind(i64::try_from(ordinal).unwrap_or(i64::MAX))
            .bind(rule.title.as_deref())
            .bind(i64::from(rule.enabled))
            .bind(&rule.trigger_field)
            .bind(rule.trigger_interval)
            .bind(&rule.trigger_action)
            .bind(rule.update_field.as_deref())
            .bind(rule.update_value.as_deref())
            .bind(target.asset_id)
            .bind(label_key)
            .bind(target.benchmark_id.as_deref())
            .execute(&mut *write.tx)
            .await?;
        }
        write.commit().await
    }

    /// Removes the collection's rules; the number removed.
    pub async fn delete_aging_rules(&self, collection_id: i64) -> Result<u64> {
        let mut write = self.begin_write().await?;
        let done = sqlx::query("DELETE FROM review_aging_rule WHERE collection_id = $1")
            .bind(collection_id)
            .execute(&mut *write.tx)
            .await?;
        write.commit().await?;
        Ok(done.rows_affected())
    }
}
