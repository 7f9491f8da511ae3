//! More of the STIG library: groups and CCIs of a revision, single CCIs, and deleting revisions
//! and benchmarks with the conflict rules that protect collections using them.

use std::collections::BTreeMap;

use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};
use stigward_wire::stig::{
    Cci, CciListItem, CciReference, EmassAp, Group, Revision, RevisionBasic, RuleAbbr, Stig,
};

use crate::stigs::{refresh_current_rev, revision_str, RevisionSelector};
use crate::{Result, Store, StoreError};

/// Which optional parts a CCI read includes.
#[derive(Debug, Clone, Copy, Default)]
pub struct CciProjection {
    pub emass_ap: bool,
    pub references: bool,
    pub stigs: bool,
}

impl Store {
    /// The groups of a revision in DISA's order, optionally only `group_id`.
    pub async fn groups(
        &self,
        rev_id: &str,
        group_id: Option<&str>,
        with_rules: bool,
    ) -> Result<Vec<Group>> {
        let rows = sqlx::query(
            "SELECT group_id, group_title, group_severity, rule_id, version, title, severity
             FROM rev_group_rule_map WHERE rev_id = $1 AND ($2 IS NULL OR group_id = $2)
             ORDER BY group_num, group_id, rule_num, rule_id",
        )
        .bind(rev_id)
        .bind(group_id)
        .fetch_all(&self.pool)
        .await?;
        let mut groups: Vec<Group> = Vec::new();
        for row in &rows {
            let id: String = row.try_get("group_id")?;
            if groups.last().is_none_or(|g| g.group_id != id) {
                groups.push(Group {
                    group_id: id,
                    title: row.try_get("group_title")?,
                    severity: row.try_get("group_severity")?,
                    rules: with_rules.then(Vec::new),
                });
            }
            if let Some(rules) = groups.last_mut().and_then(|g| g.rules.as_mut()) {
                rules.push(RuleAbbr {
                    rule_id: row.try_get("rule_id")?,
                    version: row.try_get("version")?,
                    title: row.try_get("title")?,
                    severity: row.try_get("severity")?,
                });
            }
        }
        Ok(groups)
    }

    /// The CCIs referenced by a revision's rules, with their references.
    pub async fn revision_ccis(&self, rev_id: &str) -> Result<Vec<CciListItem>> {
        let rows = sqlx::query(
            "SELECT DISTINCT m.cci, c.type FROM rev_group_rule_cci_map m
             JOIN rev_group_rule_map rgr ON rgr.rgr_id = m.rgr_id
             LEFT JOIN cci c ON c.cci = m.cci
             WHERE rgr.rev_id = $1 ORDER BY m.cci",
        )
        .bind(rev_id)
        .fetch_all(&self.pool)
        .await?;
        let ref_rows = sqlx::query(
            "SELECT cci, creator, title, version, location, idx FROM cci_reference
             WHERE cci IN (SELECT m.cci FROM rev_group_rule_cci_map m
                 JOIN rev_group_rule_map rgr ON rgr.rgr_id = m.rgr_id WHERE rgr.rev_id = $1)
             ORDER BY cci, creator, title, version, idx",
        )
        .bind(rev_id)
        .fetch_all(&self.pool)
        .await?;
        let mut references = references_by_cci(&ref_rows)?;
        rows.iter()
            .map(|row| {
                let cci: String = row.try_get("cci")?;
                Ok(CciListItem {
                    references: references.remove(&cci).unwrap_or_default(),
                    cci_type: row.try_get("type")?,
                    cci,
                })
            })
            .collect()
    }

    /// One CCI of DISA's list; `NotFound` when the list does not hold it.
    pub async fn cci(&self, cci: &str, projection: CciProjection) -> Result<Cci> {
        let row = sqlx::query(
            "SELECT cci, definition, type, status, publish_date, contributor, ap_acronym
             FROM cci WHERE cci = $1",
        )
        .bind(cci)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)?;
        let references = match projection.references {
            true => {
                let rows = sqlx::query(
                    "SELECT cci, creator, title, version, location, idx FROM cci_reference
                     WHERE cci = $1 ORDER BY creator, title, version, idx",
                )
                .bind(cci)
                .fetch_all(&self.pool)
                .await?;
                Some(references_by_cci(&rows)?.remove(cci).unwrap_or_default())
            }
            false => None,
        };
        let stigs = match projection.stigs {
            true => Some(self.revisions_with_cci(cci).await?),
            false => None,
        };
        let ap_acronym: Option<String> = row.try_get("ap_acronym")?;
        Ok(Cci {
            cci: row.try_get("cci")?,
            definition: row.try_get("definition")?,
            cci_type: row.try_get("type")?,
            status: row.try_get("status")?,
            publishdate: row.try_get("publish_date")?,
            contributor: row.try_get("contributor")?,
            emass_ap: projection
                .emass_ap
                .then(|| ap_acronym.map(|a| EmassAp { ap_acronym: Some(a) })),
            references,
            stigs,
        })
    }

    async fn revisions_with_cci(&self, cci: &str) -> Result<Vec<RevisionBasic>> {
        let rows = sqlx::query(
            "SELECT DISTINCT r.benchmark_id, r.version, r.release FROM rev_group_rule_cci_map m
             JOIN rev_group_rule_map rgr ON rgr.rgr_id = m.rgr_id
             JOIN revision r ON r.rev_id = rgr.rev_id
             WHERE m.cci = $1",
        )
        .bind(cci)
        .fetch_all(&self.pool)
        .await?;
        let mut out = rows
            .iter()
            .map(|row| {
                Ok(RevisionBasic {
                    benchmark_id: row.try_get("benchmark_id")?,
                    revision_str: revision_str(row)?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        out.sort();
        Ok(out)
    }

    /// Deletes one revision and answers it as it was. Without `force`, a revision pinned by a
    /// collection, or the last revision of a benchmark assigned in a collection, is kept.
    pub async fn delete_revision(
        &self,
        benchmark_id: &str,
        selector: &RevisionSelector,
        force: bool,
    ) -> Result<Revision> {
        let before = self.revision(benchmark_id, selector, None).await?;
        let rev_id = self.rev_id(benchmark_id, selector).await?;
        let mut write = self.begin_write().await?;
        let tx = &mut write.tx;
        let revisions =
            count(tx, "SELECT COUNT(*) FROM revision WHERE benchmark_id = $1", benchmark_id)
                .await?;
        if !force && revisions == 1 && assigned(tx, benchmark_id).await? {
            return Err(StoreError::Conflict(
                "The revisionStr is the last remaining revision for this benchmark, which is assigned to one or more Collections. Set force=true to force the delete".into(),
            ));
        }
        let pins =
            count(tx, "SELECT COUNT(*) FROM collection_rev_map WHERE rev_id = $1", &rev_id).await?;
        if !force && pins > 0 {
            return Err(StoreError::Conflict(
                "The revisionStr is pinned to one or more Collections. Set force=true to force the delete".into(),
            ));
        }
        for sql in [
            "DELETE FROM collection_rev_map WHERE rev_id = $1",
            "DELETE FROM revision WHERE rev_id = $1",
        ] {
            sqlx::query(sql).bind(&rev_id).execute(&mut **tx).await?;
        }
        if revisions == 1 {
            sqlx::query("DELETE FROM stig WHERE benchmark_id = $1")
                .bind(benchmark_id)
                .execute(&mut **tx)
                .await?;
        } else {
            refresh_current_rev(tx, benchmark_id).await?;
        }
        delete_orphans(tx).await?;
        write.commit().await?;
        Ok(before)
    }

    /// Deletes a benchmark with every revision, pin and asset assignment, and answers it as it
    /// was. Without `force`, a benchmark assigned in any collection is kept.
    pub async fn delete_stig(&self, benchmark_id: &str, force: bool) -> Result<Stig> {
        let before = self.stig(benchmark_id, None).await?;
        let mut write = self.begin_write().await?;
        if !force && assigned(&mut write.tx, benchmark_id).await? {
            return Err(StoreError::Conflict(
                "The benchmarkId is assigned to one or more Collections. Set force=true to force the delete".into(),
            ));
        }
        // assignments, pins, current and default revisions and ACL rules cascade from `stig`
        sqlx::query("DELETE FROM stig WHERE benchmark_id = $1")
            .bind(benchmark_id)
            .execute(&mut *write.tx)
            .await?;
        delete_orphans(&mut write.tx).await?;
        write.commit().await?;
        Ok(before)
    }
}

fn references_by_cci(rows: &[AnyRow]) -> Result<BTreeMap<String, Vec<CciReference>>> {
    let mut out: BTreeMap<String, Vec<CciReference>> = BTreeMap::new();
    for row in rows {
        out.entry(row.try_get("cci")?).or_default().push(CciReference {
            creator: row.try_get("creator")?,
            title: row.try_get("title")?,
            version: row.try_get("version")?,
            location: row.try_get("location")?,
            index_disa: row.try_get("idx")?,
        });
    }
    Ok(out)
}

async fn count(tx: &mut Transaction<'static, Any>, sql: &str, key: &str) -> Result<i64> {
    Ok(sqlx::query(sql).bind(key).fetch_one(&mut **tx).await?.try_get(0)?)
}

/// Whether an asset of an enabled collection is assigned the benchmark.
async fn assigned(tx: &mut Transaction<'static, Any>, benchmark_id: &str) -> Result<bool> {
    let row = sqlx::query(
        "SELECT 1 FROM stig_asset_map sa
         JOIN asset a ON a.asset_id = sa.asset_id AND a.state = 'enabled'
         JOIN collection c ON c.collection_id = a.collection_id AND c.state = 'enabled'
         WHERE sa.benchmark_id = $1 LIMIT 1",
    )
    .bind(benchmark_id)
    .fetch_optional(&mut **tx)
    .await?;
    Ok(row.is_some())
}

/// Removes texts no rule uses any more and review keys of rule ids no revision holds. Keys of
/// surviving rule ids are left as they are, as upstream does; reviews are never deleted here.
async fn delete_orphans(tx: &mut Transaction<'static, Any>) -> Result<()> {
    for sql in [
        "DELETE FROM check_content WHERE NOT EXISTS
             (SELECT 1 FROM rev_group_rule_map rgr WHERE rgr.check_digest = check_content.digest)",
        "DELETE FROM fix_text WHERE NOT EXISTS
             (SELECT 1 FROM rev_group_rule_map rgr WHERE rgr.fix_digest = fix_text.digest)",
        "DELETE FROM rule_version_check_digest WHERE NOT EXISTS
             (SELECT 1 FROM rev_group_rule_map rgr
              WHERE rgr.rule_id = rule_version_check_digest.rule_id)",
    ] {
        sqlx::query(sql).execute(&mut **tx).await?;
    }
    Ok(())
}

impl Store {
    /// Pins a collection to a revision. The collection STIG endpoint that sets pins lives with the
    /// collection routes; this is the same row, for the library's own tests and tools.
    pub async fn insert_revision_pin(
        &self,
        collection_id: i64,
        benchmark_id: &str,
        rev_id: &str,
    ) -> Result<()> {
        let mut write = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO collection_rev_map (collection_id, benchmark_id, rev_id) VALUES ($1, $2, $3)
             ON CONFLICT (collection_id, benchmark_id) DO UPDATE SET rev_id = excluded.rev_id",
        )
        .bind(collection_id)
        .bind(benchmark_id)
        .bind(rev_id)
        .execute(&mut *write.tx)
        .await?;
        write.commit().await
    }
}
