//! Effective access to asset/STIG pairs: the ACL rules of a grant applied to every STIG
//! assignment of a collection. The most specific matching rule wins (asset+STIG 3, label+STIG
//! 2, asset, STIG or label 1, collection-wide 0); on a tie the most restrictive wins. Without a
//! matching rule a restricted grant has no access and every other role has read-write.

use std::collections::{HashMap, HashSet};

use sqlx::Row;
use stigward_domain::Role;

use crate::grants::EffectiveGrant;
use crate::{Result, Store, StoreError};

/// Access to one asset/STIG pair, ordered from most to least restrictive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Access {
    None,
    Read,
    ReadWrite,
}

impl Access {
    pub fn parse(text: &str) -> Option<Access> {
        match text {
            "none" => Some(Access::None),
            "r" => Some(Access::Read),
            "rw" => Some(Access::ReadWrite),
            _ => None,
        }
    }

    pub fn api(self) -> &'static str {
        match self {
            Access::None => "none",
            Access::Read => "r",
            Access::ReadWrite => "rw",
        }
    }
}

/// One stored ACL rule; absent parts match everything.
#[derive(Debug, Clone, PartialEq)]
pub struct AclRule {
    pub asset_id: Option<i64>,
    pub benchmark_id: Option<String>,
    pub label_id: Option<i64>,
    pub access: Access,
}

impl AclRule {
    pub fn specificity(&self) -> u8 {
        let asset = u8::from(self.asset_id.is_some());
        let benchmark = u8::from(self.benchmark_id.is_some());
        benchmark + asset + (asset & benchmark) + u8::from(self.label_id.is_some())
    }

    pub fn matches(&self, pair: &Assignment) -> bool {
        self.asset_id.is_none_or(|a| a == pair.asset_id)
            && self.benchmark_id.as_ref().is_none_or(|b| *b == pair.benchmark_id)
            && self.label_id.is_none_or(|l| pair.label_ids.contains(&l))
    }
}

/// A STIG assigned to an enabled asset, with the asset's labels.
#[derive(Debug, Clone)]
pub struct Assignment {
    pub asset_id: i64,
    pub benchmark_id: String,
    pub label_ids: HashSet<i64>,
}

/// The outcome of resolving rules for one pair.
pub fn resolve(role: Role, rules: &[AclRule], pair: &Assignment) -> Access {
    let matching: Vec<&AclRule> = rules.iter().filter(|r| r.matches(pair)).collect();
    let Some(top) = matching.iter().map(|r| r.specificity()).max() else {
        return if role == Role::Restricted { Access::None } else { Access::ReadWrite };
    };
    matching
        .iter()
        .filter(|r| r.specificity() == top)
        .map(|r| r.access)
        .min()
        .unwrap_or(Access::None)
}

/// A caller's access to every STIG assignment of one collection.
#[derive(Debug, Clone, Default)]
pub struct AccessMap {
    pairs: HashMap<(i64, String), Access>,
}

impl AccessMap {
    pub fn access(&self, asset_id: i64, benchmark_id: &str) -> Access {
        self.pairs.get(&(asset_id, benchmark_id.to_string())).copied().unwrap_or(Access::None)
    }

    /// Pairs the caller may at least read.
    pub fn readable(&self) -> impl Iterator<Item = (i64, &str, Access)> {
        self.pairs
            .iter()
            .filter(|(_, a)| **a > Access::None)
            .map(|((asset, benchmark), access)| (*asset, benchmark.as_str(), *access))
    }

    /// Assets with at least one readable STIG.
    pub fn readable_assets(&self) -> HashSet<i64> {
        self.readable().map(|(asset, _, _)| asset).collect()
    }
}

type Query<'q> = sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>;

fn bind_asset(query: Query<'_>, asset_id: Option<i64>) -> Query<'_> {
    match asset_id {
        Some(id) => query.bind(id),
        None => query,
    }
}

impl Store {
    /// The ACL rules behind an effective grant (the union over its grants).
    pub async fn acl_rules(&self, grant_ids: &[i64]) -> Result<Vec<AclRule>> {
        let mut rules = Vec::new();
        for grant_id in grant_ids {
            let rows = sqlx::query(
                "SELECT asset_id, benchmark_id, label_id, access FROM collection_grant_acl
                 WHERE grant_id = $1",
            )
            .bind(grant_id)
            .fetch_all(&self.pool)
            .await?;
            for row in &rows {
                let text: String = row.try_get("access")?;
                rules.push(AclRule {
                    asset_id: row.try_get("asset_id")?,
                    benchmark_id: row.try_get("benchmark_id")?,
                    label_id: row.try_get("label_id")?,
                    access: Access::parse(&text)
                        .ok_or_else(|| StoreError::Corrupt(format!("ACL access '{text}'")))?,
                });
            }
        }
        Ok(rules)
    }

    /// Every STIG assignment of the collection's enabled assets (or of one of them), with
    /// their labels.
    pub async fn assignments(
        &self,
        collection_id: i64,
        asset_id: Option<i64>,
    ) -> Result<Vec<Assignment>> {
        // one asset's pairs are found by its id; a plan for "this asset or all" would scan
        let one_asset = if asset_id.is_some() { "AND a.asset_id = $2" } else { "" };
        let sql = format!(
            "SELECT sa.asset_id, sa.benchmark_id FROM stig_asset_map sa
             JOIN asset a ON a.asset_id = sa.asset_id
             WHERE a.collection_id = $1 AND a.state = 'enabled' {one_asset}"
        );
        let rows = bind_asset(sqlx::query(&sql).bind(collection_id), asset_id)
            .fetch_all(&self.pool)
            .await?;
        let one_asset = if asset_id.is_some() { "AND m.asset_id = $2" } else { "" };
        let sql = format!(
            "SELECT m.asset_id, m.label_id FROM collection_label_asset_map m
             JOIN collection_label l ON l.label_id = m.label_id
             WHERE l.collection_id = $1 {one_asset}"
        );
        let label_rows = bind_asset(sqlx::query(&sql).bind(collection_id), asset_id)
            .fetch_all(&self.pool)
            .await?;
        let mut labels: HashMap<i64, HashSet<i64>> = HashMap::new();
        for row in &label_rows {
            labels.entry(row.try_get(0)?).or_default().insert(row.try_get(1)?);
        }
        rows.iter()
            .map(|row| {
                let asset_id: i64 = row.try_get(0)?;
                Ok(Assignment {
                    asset_id,
                    benchmark_id: row.try_get(1)?,
                    label_ids: labels.get(&asset_id).cloned().unwrap_or_default(),
                })
            })
            .collect()
    }

    /// Read-write access to every STIG assignment of a collection, for the command line, which
    /// acts with the database's authority.
    pub async fn full_access_map(&self, collection_id: i64) -> Result<AccessMap> {
        let pairs = self
            .assignments(collection_id, None)
            .await?
            .into_iter()
            .map(|pair| ((pair.asset_id, pair.benchmark_id), Access::ReadWrite))
            .collect();
        Ok(AccessMap { pairs })
    }

    /// A grant's access to every STIG assignment of its collection.
    pub async fn access_map(&self, grant: &EffectiveGrant) -> Result<AccessMap> {
        self.access_map_of(grant, None).await
    }

    /// A grant's access to the STIG assignments of its collection, or of one of its assets
    /// (a per-asset write need not resolve the whole collection).
    pub async fn access_map_of(
        &self,
        grant: &EffectiveGrant,
        asset_id: Option<i64>,
    ) -> Result<AccessMap> {
        let rules = self.acl_rules(&grant.grant_ids).await?;
        let pairs = self
            .assignments(grant.collection_id, asset_id)
            .await?
            .into_iter()
            .map(|pair| {
                let access = resolve(grant.role, &rules, &pair);
                ((pair.asset_id, pair.benchmark_id), access)
            })
            .collect();
        Ok(AccessMap { pairs })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn rule(asset: Option<i64>, benchmark: Option<&str>, label: Option<i64>, a: Access) -> AclRule {
        AclRule {
            asset_id: asset,
            benchmark_id: benchmark.map(str::to_string),
            label_id: label,
            access: a,
        }
    }

    fn pair(asset: i64, benchmark: &str, labels: &[i64]) -> Assignment {
        Assignment {
            asset_id: asset,
            benchmark_id: benchmark.to_string(),
            label_ids: labels.iter().copied().collect(),
        }
    }

    #[test]
    fn without_rules_only_restricted_is_shut_out() {
        assert_eq!(resolve(Role::Restricted, &[], &pair(1, "X", &[])), Access::None);
        assert_eq!(resolve(Role::Full, &[], &pair(1, "X", &[])), Access::ReadWrite);
    }

    #[test]
    fn the_most_specific_rule_wins() {
        let rules = [
            rule(None, None, None, Access::ReadWrite),
            rule(Some(1), None, None, Access::Read),
            rule(Some(1), Some("X"), None, Access::ReadWrite),
        ];
        assert_eq!(resolve(Role::Restricted, &rules, &pair(1, "X", &[])), Access::ReadWrite);
        assert_eq!(resolve(Role::Restricted, &rules, &pair(1, "Y", &[])), Access::Read);
        assert_eq!(resolve(Role::Restricted, &rules, &pair(2, "Y", &[])), Access::ReadWrite);
    }

    #[test]
    fn on_a_tie_the_most_restrictive_wins() {
        let rules = [
            rule(None, None, Some(7), Access::ReadWrite),
            rule(None, Some("X"), None, Access::None),
        ];
        assert_eq!(resolve(Role::Restricted, &rules, &pair(1, "X", &[7])), Access::None);
        assert_eq!(resolve(Role::Restricted, &rules, &pair(1, "Y", &[7])), Access::ReadWrite);
        let label_stig = [rule(None, Some("X"), Some(7), Access::Read), rules[1].clone()];
        assert_eq!(resolve(Role::Full, &label_stig, &pair(1, "X", &[7])), Access::Read);
    }
}
