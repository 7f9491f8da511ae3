//! What checklist exports read: one asset's reviews laid over every rule of one revision, the
//! per-rule summary of a collection's checklists, and the failed reviews behind findings.

use std::collections::{BTreeMap, HashMap};

use sqlx::any::AnyRow;
use sqlx::Row;
use stigward_domain::{ReviewResult, ReviewStatus};
use stigward_formats::export::{ExportAsset, ExportReview, ExportRule, ExportStig};

use crate::access::{Access, AccessMap};
use crate::{json_column, Result, Store, StoreError};

/// A revision's identity and texts, the header of an exported STIG.
#[derive(Debug, Clone)]
pub struct RevisionHead {
    pub rev_id: String,
    pub benchmark_id: String,
    pub revision_str: String,
    pub marking: Option<String>,
    pub stig: ExportStig,
}

/// One rule of an asset's checklist with the review state the JSON form shows.
#[derive(Debug, Clone)]
pub struct ChecklistRow {
    pub rule: ExportRule,
    pub auto_result: bool,
    pub status: Option<ReviewStatus>,
    pub status_ts: Option<i64>,
}

const ASSET_CHECKLIST: &str = "
SELECT r.rgr_id, r.group_id, r.group_title, r.rule_id, r.version, r.title, r.severity, r.weight,
       r.vuln_discussion, r.false_positives, r.false_negatives, r.documentable, r.mitigations,
       r.severity_override_guidance, r.potential_impacts, r.third_party_tools,
       r.mitigation_control, r.responsibility, r.ia_controls, r.check_system,
       cc.content AS check_content, ft.text AS fix_text,
       rv.result_id, rv.detail, rv.comment, rv.auto_result, rv.result_engine, rv.ts,
       rv.status_id, rv.status_ts, rv.touch_ts
FROM rev_group_rule_map r
LEFT JOIN check_content cc ON cc.digest = r.check_digest
LEFT JOIN fix_text ft ON ft.digest = r.fix_digest
LEFT JOIN review rv
    ON rv.asset_id = $2 AND rv.version = r.version AND rv.check_digest = r.check_digest
WHERE r.rev_id = $1
ORDER BY r.group_num, r.rule_num, r.rule_id";

impl Store {
    /// The header of a revision; `NotFound` when it does not exist.
    pub async fn revision_head(&self, rev_id: &str) -> Result<RevisionHead> {
        let row = sqlx::query(
            "SELECT r.benchmark_id, s.title, r.version, r.release, r.benchmark_date,
                    r.status_date, r.description, r.marking
             FROM revision r JOIN stig s ON s.benchmark_id = r.benchmark_id
             WHERE r.rev_id = $1",
        )
        .bind(rev_id)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)?;
        let version: i64 = row.try_get("version")?;
        let stig = ExportStig {
            benchmark_id: row.try_get("benchmark_id")?,
            title: row.try_get("title")?,
            version: version.to_string(),
            release: row.try_get("release")?,
            benchmark_date: row.try_get("benchmark_date")?,
            status_date: row.try_get("status_date")?,
            description: row.try_get("description")?,
            rules: Vec::new(),
        };
        Ok(RevisionHead {
            rev_id: rev_id.to_string(),
            benchmark_id: stig.benchmark_id.clone(),
            revision_str: stig.revision_str(),
            marking: row.try_get("marking")?,
            stig,
        })
    }

    /// An asset as exports describe it; `NotFound` for a missing or deleted asset.
    pub async fn export_asset(&self, asset_id: i64) -> Result<ExportAsset> {
        let asset = self.asset(asset_id, false).await?;
        let metadata = asset
            .metadata
            .as_object()
            .into_iter()
            .flatten()
            .map(|(key, value)| {
                let text = value.as_str().map_or_else(|| value.to_string(), str::to_string);
                (key.clone(), text)
            })
            .collect();
        Ok(ExportAsset {
            name: asset.name,
            description: asset.description,
            ip: asset.ip,
            fqdn: asset.fqdn,
            mac: asset.mac,
            noncomputing: asset.noncomputing,
            metadata,
        })
    }

    /// Every rule of a revision in DISA's order, each with the asset's review of it.
    pub async fn asset_checklist(&self, asset_id: i64, rev_id: &str) -> Result<Vec<ChecklistRow>> {
        let rows =
            sqlx::query(ASSET_CHECKLIST).bind(rev_id).bind(asset_id).fetch_all(&self.pool).await?;
        let mut ccis = self.rule_ccis(rev_id).await?;
        rows.iter()
            .map(|row| {
                let rgr_id: i64 = row.try_get("rgr_id")?;
                let rule_ccis = ccis.remove(&rgr_id).unwrap_or_default();
                checklist_row(row, rule_ccis.into_iter().map(|c| c.cci).collect())
            })
            .collect()
    }

    /// A revision with every rule and the asset's reviews, ready for a writer.
    pub async fn export_stig(&self, asset_id: i64, head: &RevisionHead) -> Result<ExportStig> {
        let rows = self.asset_checklist(asset_id, &head.rev_id).await?;
        let mut stig = head.stig.clone();
        stig.rules = rows.into_iter().map(|row| row.rule).collect();
        Ok(stig)
    }

    /// The STIGs mapped to an asset with each one's current revision id.
    pub async fn asset_current_revisions(&self, asset_id: i64) -> Result<Vec<(String, String)>> {
        let rows = sqlx::query(
            "SELECT sa.benchmark_id, cr.rev_id FROM stig_asset_map sa
             JOIN current_rev cr ON cr.benchmark_id = sa.benchmark_id
             WHERE sa.asset_id = $1 ORDER BY sa.benchmark_id",
        )
        .bind(asset_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|r| Ok((r.try_get(0)?, r.try_get(1)?))).collect()
    }

    /// The collection default revision of each STIG mapped to an asset.
    pub async fn asset_default_revisions(&self, asset_id: i64) -> Result<Vec<(String, String)>> {
        let rows = sqlx::query(
            "SELECT sa.benchmark_id, dr.rev_id FROM stig_asset_map sa
             JOIN asset a ON a.asset_id = sa.asset_id
             JOIN default_rev dr
                 ON dr.collection_id = a.collection_id AND dr.benchmark_id = sa.benchmark_id
             WHERE sa.asset_id = $1 ORDER BY sa.benchmark_id",
        )
        .bind(asset_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|r| Ok((r.try_get(0)?, r.try_get(1)?))).collect()
    }
}

fn checklist_row(row: &AnyRow, ccis: Vec<String>) -> Result<ChecklistRow> {
    let result_id: Option<i64> = row.try_get("result_id")?;
    let review = match result_id {
        None => None,
        Some(id) => {
            let result = ReviewResult::from_id(id)
                .ok_or_else(|| StoreError::Corrupt(format!("review result_id {id}")))?;
            let engine: Option<String> = row.try_get("result_engine")?;
            Some(ExportReview {
                result: result.api().to_string(),
                detail: row.try_get("detail")?,
                comment: row.try_get("comment")?,
                ts: row.try_get("ts")?,
                touch_ts: row.try_get("touch_ts")?,
                result_engine: engine
                    .map(|text| json_column(&text, "review.result_engine"))
                    .transpose()?,
            })
        }
    };
    let status = match row.try_get::<Option<i64>, _>("status_id")? {
        None => None,
        Some(id) => Some(
            ReviewStatus::from_id(id)
                .ok_or_else(|| StoreError::Corrupt(format!("review status_id {id}")))?,
        ),
    };
    let auto_result: Option<i64> = row.try_get("auto_result")?;
    Ok(ChecklistRow {
        rule: ExportRule {
            group_id: row.try_get("group_id")?,
            group_title: row.try_get("group_title")?,
            rule_id: row.try_get("rule_id")?,
            version: row.try_get("version")?,
            title: row.try_get("title")?,
            severity: row.try_get("severity")?,
            weight: row.try_get("weight")?,
            vuln_discussion: row.try_get("vuln_discussion")?,
            false_positives: row.try_get("false_positives")?,
            false_negatives: row.try_get("false_negatives")?,
            documentable: row.try_get("documentable")?,
            mitigations: row.try_get("mitigations")?,
            severity_override_guidance: row.try_get("severity_override_guidance")?,
            potential_impacts: row.try_get("potential_impacts")?,
            third_party_tools: row.try_get("third_party_tools")?,
            mitigation_control: row.try_get("mitigation_control")?,
            responsibility: row.try_get("responsibility")?,
            ia_controls: row.try_get("ia_controls")?,
            check_system: row.try_get("check_system")?,
            check_content: row.try_get::<Option<String>, _>("check_content")?.unwrap_or_default(),
            fix_text: row.try_get::<Option<String>, _>("fix_text")?.unwrap_or_default(),
            ccis,
            review,
        },
        auto_result: auto_result.is_some_and(|v| v != 0),
        status,
        status_ts: row.try_get("status_ts")?,
    })
}

/// Per-rule tallies of a collection's checklists of one revision.
#[derive(Debug, Clone, Default)]
pub struct RuleSummary {
    pub rule_id: String,
    pub title: String,
    pub severity: String,
    pub version: String,
    pub group_id: String,
    pub group_title: Option<String>,
    pub pass: i64,
    pub fail: i64,
    pub notapplicable: i64,
    /// Every other result, and assets without a review.
    pub other: i64,
    /// Counts by status id (saved, submitted, rejected, accepted).
    pub statuses: [i64; 4],
    pub ts: MinMax,
    pub status_ts: MinMax,
    pub touch_ts: MinMax,
}

/// The range of a timestamp over reviews; `None` when there is no review.
#[derive(Debug, Clone, Copy, Default)]
pub struct MinMax {
    pub min: Option<i64>,
    pub max: Option<i64>,
}

impl MinMax {
    fn add(&mut self, value: i64) {
        self.min = Some(self.min.map_or(value, |m| m.min(value)));
        self.max = Some(self.max.map_or(value, |m| m.max(value)));
    }
}

impl Store {
    /// Per rule of a revision, the reviews of the collection's enabled assets mapped to its
    /// STIG; rules no asset has reviewed count those assets as `other`. A restricted caller's
    /// `acl` counts only the assets it may read.
    pub async fn collection_checklist(
        &self,
        collection_id: i64,
        head: &RevisionHead,
        acl: Option<&AccessMap>,
    ) -> Result<Vec<RuleSummary>> {
        let rules = sqlx::query(
            "SELECT rule_id, title, severity, version, group_id, group_title
             FROM rev_group_rule_map WHERE rev_id = $1 ORDER BY group_num, rule_num, rule_id",
        )
        .bind(&head.rev_id)
        .fetch_all(&self.pool)
        .await?;
        let mut out = Vec::with_capacity(rules.len());
        let mut index = HashMap::new();
        for row in &rules {
            let rule_id: String = row.try_get("rule_id")?;
            index.insert(rule_id.clone(), out.len());
            out.push(RuleSummary {
                rule_id,
                title: row.try_get("title")?,
                severity: row.try_get("severity")?,
                version: row.try_get("version")?,
                group_id: row.try_get("group_id")?,
                group_title: row.try_get("group_title")?,
                ..RuleSummary::default()
            });
        }
        let rows = sqlx::query(
            "SELECT a.asset_id, r.rule_id, rv.result_id, rv.status_id, rv.ts, rv.status_ts,
                    rv.touch_ts
             FROM rev_group_rule_map r
             JOIN stig_asset_map sa ON sa.benchmark_id = $2
             JOIN asset a ON a.asset_id = sa.asset_id
             LEFT JOIN review rv ON rv.asset_id = a.asset_id AND rv.version = r.version
                 AND rv.check_digest = r.check_digest
             WHERE r.rev_id = $1 AND a.collection_id = $3 AND a.state = 'enabled'",
        )
        .bind(&head.rev_id)
        .bind(&head.benchmark_id)
        .bind(collection_id)
        .fetch_all(&self.pool)
        .await?;
        for row in &rows {
            let asset_id: i64 = row.try_get("asset_id")?;
            if acl.is_some_and(|m| m.access(asset_id, &head.benchmark_id) == Access::None) {
                continue;
            }
            let rule_id: String = row.try_get("rule_id")?;
            if let Some(summary) = index.get(&rule_id).and_then(|at| out.get_mut(*at)) {
                tally(summary, row)?;
            }
        }
        Ok(out)
    }

    /// The name of a collection; `NotFound` when there is none.
    pub async fn collection_name(&self, collection_id: i64) -> Result<String> {
        let row = sqlx::query("SELECT name FROM collection WHERE collection_id = $1")
            .bind(collection_id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound)?;
        Ok(row.try_get("name")?)
    }
}

fn tally(summary: &mut RuleSummary, row: &AnyRow) -> Result<()> {
    match row.try_get::<Option<i64>, _>("result_id")? {
        Some(3) => summary.pass += 1,
        Some(4) => summary.fail += 1,
        Some(2) => summary.notapplicable += 1,
        _ => summary.other += 1,
    }
    if let Some(status) = row.try_get::<Option<i64>, _>("status_id")? {
        let slot = usize::try_from(status).ok().and_then(|s| summary.statuses.get_mut(s));
        *slot.ok_or_else(|| StoreError::Corrupt(format!("review status_id {status}")))? += 1;
        summary.ts.add(row.try_get("ts")?);
        summary.status_ts.add(row.try_get("status_ts")?);
        summary.touch_ts.add(row.try_get("touch_ts")?);
    }
    Ok(())
}

/// Filters of a findings report.
#[derive(Debug, Clone, Default)]
pub struct FindingFilter {
    pub asset_id: Option<i64>,
    pub benchmark_id: Option<String>,
    pub accepted_only: bool,
}

/// A CCI as findings show it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct FindingCci {
    pub cci: String,
    pub definition: String,
    pub ap_acronym: Option<String>,
    pub control: Option<String>,
}

/// One failed review on a rule of its STIG's default revision.
#[derive(Debug, Clone)]
pub struct FindingRow {
    pub asset_id: i64,
    pub asset_name: String,
    pub benchmark_id: String,
    pub revision_str: String,
    pub benchmark_date: Option<String>,
    pub revision_pinned: bool,
    pub rule_count: i64,
    pub rule_id: String,
    pub version: String,
    pub group_id: String,
    pub group_title: Option<String>,
    pub title: String,
    pub severity: String,
    pub vuln_discussion: Option<String>,
    /// Known CCIs of the rule, ascending; never empty.
    pub ccis: Vec<FindingCci>,
}

const FINDINGS: &str = "
SELECT a.asset_id, a.name AS asset_name, sa.benchmark_id, rev.version AS rev_version,
       rev.release, rev.benchmark_date_sql, dr.revision_pinned,
       rev.low_count + rev.medium_count + rev.high_count AS rule_count, r.rgr_id, r.rule_id,
       r.version, r.group_id, r.group_title, r.title, r.severity, r.vuln_discussion
FROM asset a
JOIN stig_asset_map sa ON sa.asset_id = a.asset_id
JOIN default_rev dr ON dr.collection_id = a.collection_id AND dr.benchmark_id = sa.benchmark_id
JOIN revision rev ON rev.rev_id = dr.rev_id
JOIN rev_group_rule_map r ON r.rev_id = dr.rev_id
JOIN review rv ON rv.asset_id = a.asset_id AND rv.version = r.version
    AND rv.check_digest = r.check_digest
WHERE a.collection_id = $1 AND a.state = 'enabled' AND rv.result_id = 4
  AND ($2 IS NULL OR a.asset_id = $2)
  AND ($3 IS NULL OR sa.benchmark_id = $3)
  AND ($4 = 0 OR rv.status_id = 3)
ORDER BY r.rule_id, a.name, a.asset_id";

impl Store {
    /// Failed reviews of the collection's default revisions whose rules have a known CCI. A
    /// restricted caller's `acl` keeps only the pairs it may read.
    pub async fn findings(
        &self,
        collection_id: i64,
        filter: &FindingFilter,
        acl: Option<&AccessMap>,
    ) -> Result<Vec<FindingRow>> {
        let rows = sqlx::query(FINDINGS)
            .bind(collection_id)
            .bind(filter.asset_id)
            .bind(filter.benchmark_id.as_deref())
            .bind(i64::from(filter.accepted_only))
            .fetch_all(&self.pool)
            .await?;
        let ccis = self.default_revision_ccis(collection_id).await?;
        let mut out = Vec::new();
        for row in &rows {
            let asset_id: i64 = row.try_get("asset_id")?;
            let benchmark_id: String = row.try_get("benchmark_id")?;
            if acl.is_some_and(|m| m.access(asset_id, &benchmark_id) == Access::None) {
                continue;
            }
            let rgr_id: i64 = row.try_get("rgr_id")?;
            let Some(rule_ccis) = ccis.get(&rgr_id) else { continue };
            let version: i64 = row.try_get("rev_version")?;
            let release: String = row.try_get("release")?;
            let pinned: i64 = row.try_get("revision_pinned")?;
            out.push(FindingRow {
                asset_id,
                asset_name: row.try_get("asset_name")?,
                benchmark_id,
                revision_str: format!("V{version}R{release}"),
                benchmark_date: row.try_get("benchmark_date_sql")?,
                revision_pinned: pinned != 0,
                rule_count: row.try_get("rule_count")?,
                rule_id: row.try_get("rule_id")?,
                version: row.try_get("version")?,
                group_id: row.try_get("group_id")?,
                group_title: row.try_get("group_title")?,
                title: row.try_get("title")?,
                severity: row.try_get("severity")?,
                vuln_discussion: row.try_get("vuln_discussion")?,
                ccis: rule_ccis.clone(),
            });
        }
        Ok(out)
    }

    /// Known CCIs of the rules of a collection's default revisions, by `rgr_id`.
    async fn default_revision_ccis(
        &self,
        collection_id: i64,
    ) -> Result<BTreeMap<i64, Vec<FindingCci>>> {
        let rows = sqlx::query(
            "SELECT DISTINCT m.rgr_id, c.cci, c.definition, c.ap_acronym, c.control
             FROM default_rev dr
             JOIN rev_group_rule_map r ON r.rev_id = dr.rev_id
             JOIN rev_group_rule_cci_map m ON m.rgr_id = r.rgr_id
             JOIN cci c ON c.cci = m.cci
             WHERE dr.collection_id = $1 ORDER BY m.rgr_id, c.cci",
        )
        .bind(collection_id)
        .fetch_all(&self.pool)
        .await?;
        let mut out: BTreeMap<i64, Vec<FindingCci>> = BTreeMap::new();
        for row in &rows {
            out.entry(row.try_get("rgr_id")?).or_default().push(FindingCci {
                cci: row.try_get("cci")?,
                definition: row.try_get("definition")?,
                ap_acronym: row.try_get("ap_acronym")?,
                control: row.try_get("control")?,
            });
        }
        Ok(out)
    }
}
