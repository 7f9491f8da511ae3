//! Reading, checking and replacing a grant's ACL rules, and explaining a user's effective access
//! rule by rule. The resolution itself lives in `access`.

use std::collections::BTreeMap;

use serde_json::{json, Value};
use sqlx::Row;
use stigward_domain::Role;
use stigward_wire::collection::{
    AclGrantee, AclRulePut, AclRuleRead, AclSource, AssetRef, EffectiveAcl, GrantAcl, LabelSummary,
};
use stigward_wire::user::Grantee;

use crate::access::{resolve, Access, AclRule};
use crate::grants::GrantRecord;
use crate::{Result, Store, StoreError};

/// A rule checked against the collection, ready to store.
#[derive(Debug, Clone)]
pub struct CheckedRule {
    pub asset_id: Option<i64>,
    pub benchmark_id: Option<String>,
    pub label_key: Option<i64>,
    pub access: Access,
}

struct StoredRule {
    grant_id: i64,
    rule: AclRule,
    read: AclRuleRead,
}

impl Store {
    /// `GET …/grants/{grantId}/acl`.
    pub async fn grant_acl(&self, grant: &GrantRecord) -> Result<GrantAcl> {
        let rules = self.stored_rules(&[grant.grant_id], true).await?;
        let default_access = if grant.role == Role::Restricted { "none" } else { "rw" };
        Ok(GrantAcl {
            default_access: default_access.to_string(),
            acl: rules.into_iter().map(|r| r.read).collect(),
        })
    }

    async fn stored_rules(&self, grant_ids: &[i64], with_color: bool) -> Result<Vec<StoredRule>> {
        let mut out = Vec::new();
        for grant_id in grant_ids {
            let rows = sqlx::query(
                "SELECT r.asset_id, a.name AS asset_name, r.benchmark_id, r.label_id, l.uuid,
                        l.name AS label_name, l.color, r.access
                 FROM collection_grant_acl r
                 LEFT JOIN asset a ON a.asset_id = r.asset_id
                 LEFT JOIN collection_label l ON l.label_id = r.label_id
                 WHERE r.grant_id = $1 ORDER BY r.acl_id",
            )
            .bind(grant_id)
            .fetch_all(&self.pool)
            .await?;
            for row in &rows {
                let text: String = row.try_get("access")?;
                let access = Access::parse(&text)
                    .ok_or_else(|| StoreError::Corrupt(format!("ACL access '{text}'")))?;
                let asset_id: Option<i64> = row.try_get("asset_id")?;
                let label_id: Option<i64> = row.try_get("label_id")?;
                let benchmark_id: Option<String> = row.try_get("benchmark_id")?;
                let asset = match asset_id {
                    Some(asset_id) => Some(AssetRef { asset_id, name: row.try_get("asset_name")? }),
                    None => None,
                };
                let label = match label_id {
                    Some(_) => Some(LabelSummary {
                        label_id: row.try_get("uuid")?,
                        name: row.try_get("label_name")?,
                        color: if with_color { row.try_get("color")? } else { None },
                    }),
                    None => None,
                };
                out.push(StoredRule {
                    grant_id: *grant_id,
                    rule: AclRule {
                        asset_id,
                        benchmark_id: benchmark_id.clone(),
                        label_id,
                        access,
                    },
                    read: AclRuleRead { benchmark_id, asset, label, access: text },
                });
            }
        }
        Ok(out)
    }

    /// Checks every rule of an ACL body against the collection. Returns the stored form, or the
    /// failures as the API's 422 `detail` (1-based `itemNum`, reasons joined by commas).
    pub async fn check_acl(
        &self,
        collection_id: i64,
        role: Role,
        items: &[(Value, AclRulePut)],
    ) -> Result<std::result::Result<Vec<CheckedRule>, Value>> {
        let mut checked = Vec::new();
        let mut reasons: Vec<Vec<&str>> = Vec::new();
        for (_, item) in items {
            let mut why = Vec::new();
            let access = Access::parse(&item.access).unwrap_or(Access::None);
            if access == Access::None && role != Role::Restricted {
                why.push("roleId prohibits access:none");
            }
            if let Some(asset_id) = item.asset_id {
                if !self.all_collection_members(collection_id, &[asset_id]).await? {
                    why.push("asset not found in collection");
                }
            }
            if let Some(benchmark_id) = &item.benchmark_id {
                if !self.benchmark_exists(benchmark_id).await? {
                    why.push("stig not installed");
                }
            }
            let mut label_key = None;
            if let Some(uuid) = &item.label_id {
                match self.label_by_uuid(collection_id, uuid, None).await? {
                    Some(label) => label_key = Some(label.key),
                    None => why.push("label not found in collection"),
                }
            }
            reasons.push(why);
            checked.push(CheckedRule {
                asset_id: item.asset_id,
                benchmark_id: item.benchmark_id.clone(),
                label_key,
                access,
            });
        }
        let failures = acl_failures(items, &reasons);
        Ok(if failures.is_empty() { Ok(checked) } else { Err(Value::Array(failures)) })
    }

    pub async fn replace_acl(
        &self,
        grant_id: i64,
        rules: &[CheckedRule],
        user_id: i64,
        now: i64,
    ) -> Result<()> {
        let mut write = self.begin_write().await?;
        sqlx::query("DELETE FROM collection_grant_acl WHERE grant_id = $1")
            .bind(grant_id)
            .execute(&mut *write.tx)
            .await?;
        for rule in rules {
            sqlx::query(
                "INSERT INTO collection_grant_acl
                     (grant_id, benchmark_id, asset_id, label_id, access, modified_user_id,
                      modified_date)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(grant_id)
            .bind(&rule.benchmark_id)
            .bind(rule.asset_id)
            .bind(rule.label_key)
            .bind(rule.access.api())
            .bind(user_id)
            .bind(now)
            .execute(&mut *write.tx)
            .await?;
        }
        write.commit().await
    }

    /// The asset/STIG pairs a user reaches through ACL rules, with the rules that decided each;
    /// `None` when the user has no direct or group grant in the collection.
    pub async fn effective_acl(
        &self,
        collection_id: i64,
        user_id: i64,
    ) -> Result<Option<Vec<EffectiveAcl>>> {
        let Some(grant) = self.effective_grant(user_id, collection_id).await? else {
            return Ok(None);
        };
        let stored = self.stored_rules(&grant.grant_ids, false).await?;
        let rules: Vec<AclRule> = stored.iter().map(|s| s.rule.clone()).collect();
        let names = self.asset_names(collection_id).await?;
        let mut out = Vec::new();
        for pair in self.assignments(collection_id, None).await? {
            let matching: Vec<&StoredRule> =
                stored.iter().filter(|s| s.rule.matches(&pair)).collect();
            let Some(top) = matching.iter().map(|s| s.rule.specificity()).max() else {
                continue;
            };
            let access = resolve(grant.role, &rules, &pair);
            if access == Access::None {
                continue;
            }
            let sources = matching
                .iter()
                .filter(|s| s.rule.specificity() == top && s.rule.access == access)
                .map(|s| AclSource {
                    grantee: acl_grantee(&grant.grant_ids, &grant.grantees, s.grant_id, grant.role),
                    acl_rule: s.read.clone(),
                })
                .collect();
            out.push(EffectiveAcl {
                access: access.api().to_string(),
                asset: AssetRef {
                    asset_id: pair.asset_id,
                    name: names.get(&pair.asset_id).cloned().unwrap_or_default(),
                },
                benchmark_id: pair.benchmark_id,
                acl_sources: sources,
            });
        }
        out.sort_by(|a, b| (&a.asset.name, &a.benchmark_id).cmp(&(&b.asset.name, &b.benchmark_id)));
        Ok(Some(out))
    }

    async fn asset_names(&self, collection_id: i64) -> Result<BTreeMap<i64, String>> {
        let rows = sqlx::query("SELECT asset_id, name FROM asset WHERE collection_id = $1")
            .bind(collection_id)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(|r| Ok((r.try_get(0)?, r.try_get(1)?))).collect()
    }
}

fn acl_grantee(grant_ids: &[i64], grantees: &[Grantee], grant_id: i64, role: Role) -> AclGrantee {
    let role_id = role.id();
    let grantee = grant_ids.iter().position(|g| *g == grant_id).and_then(|i| grantees.get(i));
    match grantee {
        Some(Grantee::User { user_id, username }) => {
            AclGrantee::User { user_id: *user_id, username: username.clone(), role_id }
        }
        Some(Grantee::Group { user_group_id, name }) => {
            AclGrantee::Group { user_group_id: *user_group_id, name: name.clone(), role_id }
        }
        None => AclGrantee::Group { user_group_id: 0, name: String::new(), role_id },
    }
}

/// Failed items, and items naming the same resource more than once (reported together).
fn acl_failures(items: &[(Value, AclRulePut)], reasons: &[Vec<&str>]) -> Vec<Value> {
    let resource = |r: &AclRulePut| (r.asset_id, r.label_id.clone(), r.benchmark_id.clone());
    let mut groups: BTreeMap<_, Vec<usize>> = BTreeMap::new();
    for (i, (_, item)) in items.iter().enumerate() {
        groups.entry(resource(item)).or_default().push(i);
    }
    let mut failures: Vec<(usize, Value)> = Vec::new();
    for indexes in groups.values() {
        let mut why: Vec<&str> = indexes.iter().flat_map(|i| reasons[*i].iter().copied()).collect();
        why.dedup();
        if indexes.len() > 1 {
            why.push("duplicate resource definition");
            let nums: Vec<String> = indexes.iter().map(|i| (i + 1).to_string()).collect();
            let dupes: Vec<Value> = indexes.iter().map(|i| items[*i].0.clone()).collect();
            let failure =
                json!({"itemNum": nums.join(","), "item": dupes, "validity": why.join(",")});
            failures.push((indexes[0], failure));
        } else if !why.is_empty() {
            let i = indexes[0];
            let failure = json!({
                "itemNum": (i + 1).to_string(),
                "item": items[i].0,
                "validity": why.join(","),
            });
            failures.push((i, failure));
        }
    }
    failures.sort_by_key(|(i, _)| *i);
    failures.into_iter().map(|(_, f)| f).collect()
}
