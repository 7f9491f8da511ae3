//! The STIG library: importing benchmark revisions, and reading benchmarks, revisions and rules.

use std::collections::{BTreeMap, HashMap, HashSet};

use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};
use stigward_formats::xccdf::{Benchmark, Group, Rule as XccdfRule};
use stigward_wire::stig::{
    Check, Fix, Revision, RevisionBasic, RevisionPost, Rule, RuleCci, RuleDetail, Stig,
};

use crate::review_batch::{is_retryable, WRITE_ATTEMPTS};
use crate::{Result, Store, StoreError};

/// Which revision a path names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RevisionSelector {
    Latest,
    Exact { version: String, release: String },
}

/// Optional parts of a rule in rule listings.
#[derive(Debug, Clone, Copy, Default)]
pub struct RuleProjection {
    pub detail: bool,
    pub ccis: bool,
    pub check: bool,
    pub fix: bool,
    pub rule_ids: bool,
    pub stigs: bool,
}

impl Store {
    /// Imports one benchmark revision. An existing revision is kept as it is unless `clobber`.
    pub async fn import_benchmark(
        &self,
        benchmark: &Benchmark,
        marking: Option<&str>,
        clobber: bool,
        now: i64,
    ) -> Result<RevisionPost> {
        let mut attempt = 1;
        loop {
            match self.import_once(benchmark, marking, clobber, now).await {
                Err(err) if attempt < WRITE_ATTEMPTS && is_retryable(&err) => attempt += 1,
                other => return other,
            }
        }
    }

    /// One attempt at an import; concurrent imports of one benchmark on PostgreSQL can collide.
    async fn import_once(
        &self,
        benchmark: &Benchmark,
        marking: Option<&str>,
        clobber: bool,
        now: i64,
    ) -> Result<RevisionPost> {
        let rev_id = benchmark.rev_id();
        let mut write = self.begin_write().await?;
        let exists = sqlx::query("SELECT 1 FROM revision WHERE rev_id = $1")
            .bind(&rev_id)
            .fetch_optional(&mut *write.tx)
            .await?
            .is_some();
        let action = match (exists, clobber) {
            (true, false) => "preserved",
            (true, true) => "replaced",
            (false, _) => "inserted",
        };
        let reply = RevisionPost {
            benchmark_id: benchmark.benchmark_id.clone(),
            revision_str: benchmark.revision_str(),
            action: action.to_string(),
            marking: marking.map(str::to_string),
        };
        if action == "preserved" {
            return Ok(reply);
        }
        if exists {
            sqlx::query("DELETE FROM revision WHERE rev_id = $1")
                .bind(&rev_id)
                .execute(&mut *write.tx)
                .await?;
        }
        insert_revision(&mut write.tx, benchmark, marking, now).await?;
        refresh_review_keys(&mut write.tx, &benchmark.benchmark_id).await?;
        refresh_current_rev(&mut write.tx, &benchmark.benchmark_id).await?;
        write.commit().await?;
        Ok(reply)
    }

    /// Every benchmark, with `collectionIds` limited to `visible` collections (`None`: all).
    pub async fn stigs(
        &self,
        title: Option<&str>,
        visible: Option<&LibraryView>,
        with_revisions: bool,
    ) -> Result<Vec<Stig>> {
        self.stig_list(title, None, visible, with_revisions).await
    }

    /// One benchmark with its revisions; `NotFound` when there is no such benchmark.
    pub async fn stig(&self, benchmark_id: &str, visible: Option<&LibraryView>) -> Result<Stig> {
        let mut found = self.stig_list(None, Some(benchmark_id), visible, true).await?;
        found.pop().ok_or(StoreError::NotFound)
    }

    async fn stig_list(
        &self,
        title: Option<&str>,
        benchmark_id: Option<&str>,
        visible: Option<&LibraryView>,
        with_revisions: bool,
    ) -> Result<Vec<Stig>> {
        let rows = sqlx::query(
            "SELECT s.benchmark_id, s.title, r.status, r.marking, r.version, r.release,
                    r.benchmark_date_sql, r.low_count + r.medium_count + r.high_count AS rule_count
             FROM stig s
             JOIN current_rev cr ON cr.benchmark_id = s.benchmark_id
             JOIN revision r ON r.rev_id = cr.rev_id
             WHERE ($1 IS NULL OR lower(s.title) LIKE '%' || lower($1) || '%')
               AND ($2 IS NULL OR s.benchmark_id = $2)
             ORDER BY s.benchmark_id",
        )
        .bind(title)
        .bind(benchmark_id)
        .fetch_all(&self.pool)
        .await?;
        let mut revisions = self.revisions_by_benchmark(benchmark_id, visible).await?;
        let mapped = self.mapped_collections(visible).await?;
        rows.iter()
            .map(|row| {
                let benchmark_id: String = row.try_get("benchmark_id")?;
                let revs = revisions.remove(&benchmark_id).unwrap_or_default();
                Ok(Stig {
                    title: row.try_get("title")?,
                    status: row.try_get("status")?,
                    marking: row.try_get("marking")?,
                    last_revision_str: revision_str(row)?,
                    last_revision_date: row.try_get("benchmark_date_sql")?,
                    rule_count: row.try_get("rule_count")?,
                    revision_strs: revs.iter().map(|r| r.revision_str.clone()).collect(),
                    collection_ids: mapped.get(&benchmark_id).cloned().unwrap_or_default(),
                    revisions: with_revisions.then_some(revs),
                    benchmark_id,
                })
            })
            .collect()
    }

    /// The revisions of one benchmark, newest benchmark date first; `NotFound` if it has none.
    pub async fn revisions(
        &self,
        benchmark_id: &str,
        visible: Option<&LibraryView>,
    ) -> Result<Vec<Revision>> {
        let mut all = self.revisions_by_benchmark(Some(benchmark_id), visible).await?;
        all.remove(benchmark_id).ok_or(StoreError::NotFound)
    }

    /// One revision; `NotFound` when the selector names none.
    pub async fn revision(
        &self,
        benchmark_id: &str,
        selector: &RevisionSelector,
        visible: Option<&LibraryView>,
    ) -> Result<Revision> {
        let rev_id = self.rev_id(benchmark_id, selector).await?;
        let all = self.revisions(benchmark_id, visible).await?;
        let found = all
            .into_iter()
            .find(|r| format!("{}-{}-{}", r.benchmark_id, r.version, r.release) == rev_id);
        found.ok_or(StoreError::NotFound)
    }

    async fn revisions_by_benchmark(
        &self,
        benchmark_id: Option<&str>,
        visible: Option<&LibraryView>,
    ) -> Result<BTreeMap<String, Vec<Revision>>> {
        let rows = sqlx::query(
            "SELECT rev_id, benchmark_id, version, release, benchmark_date_sql, status,
                    status_date, marking, low_count + medium_count + high_count AS rule_count
             FROM revision WHERE $1 IS NULL OR benchmark_id = $1
             ORDER BY benchmark_date_sql DESC, version DESC, release_num DESC",
        )
        .bind(benchmark_id)
        .fetch_all(&self.pool)
        .await?;
        let pins = self.pinned_collections(visible).await?;
        let mut out: BTreeMap<String, Vec<Revision>> = BTreeMap::new();
        for row in &rows {
            let rev_id: String = row.try_get("rev_id")?;
            let version: i64 = row.try_get("version")?;
            let revision = Revision {
                benchmark_id: row.try_get("benchmark_id")?,
                revision_str: revision_str(row)?,
                version: version.to_string(),
                release: row.try_get("release")?,
                benchmark_date: row.try_get("benchmark_date_sql")?,
                status: row.try_get("status")?,
                status_date: row.try_get("status_date")?,
                marking: row.try_get("marking")?,
                rule_count: row.try_get("rule_count")?,
                collection_ids: pins.get(&rev_id).cloned().unwrap_or_default(),
            };
            out.entry(revision.benchmark_id.clone()).or_default().push(revision);
        }
        Ok(out)
    }

    /// Collections (as id strings) with an enabled asset mapped to each benchmark.
    async fn mapped_collections(
        &self,
        visible: Option<&LibraryView>,
    ) -> Result<BTreeMap<String, Vec<String>>> {
        let rows = sqlx::query(
            "SELECT DISTINCT sa.benchmark_id, a.collection_id, sa.benchmark_id
             FROM stig_asset_map sa
             JOIN asset a ON a.asset_id = sa.asset_id AND a.state = 'enabled'
             JOIN collection c ON c.collection_id = a.collection_id AND c.state = 'enabled'
             ORDER BY a.collection_id",
        )
        .fetch_all(&self.pool)
        .await?;
        group_visible(&rows, visible)
    }

    async fn pinned_collections(
        &self,
        visible: Option<&LibraryView>,
    ) -> Result<BTreeMap<String, Vec<String>>> {
        let rows = sqlx::query(
            "SELECT p.rev_id, p.collection_id, p.benchmark_id FROM collection_rev_map p
             JOIN collection c ON c.collection_id = p.collection_id AND c.state = 'enabled'
             ORDER BY p.collection_id",
        )
        .fetch_all(&self.pool)
        .await?;
        group_visible(&rows, visible)
    }

    /// Resolves a revision selector to a `rev_id`; `NotFound` when there is no such revision.
    pub async fn rev_id(&self, benchmark_id: &str, selector: &RevisionSelector) -> Result<String> {
        let row = match selector {
            RevisionSelector::Latest => {
                sqlx::query("SELECT rev_id FROM current_rev WHERE benchmark_id = $1")
                    .bind(benchmark_id)
                    .fetch_optional(&self.pool)
                    .await?
            }
            RevisionSelector::Exact { version, release } => {
                sqlx::query(
                    "SELECT rev_id FROM revision
                     WHERE benchmark_id = $1 AND CAST(version AS TEXT) = $2 AND release = $3",
                )
                .bind(benchmark_id)
                .bind(version)
                .bind(release)
                .fetch_optional(&self.pool)
                .await?
            }
        };
        Ok(row.ok_or(StoreError::NotFound)?.try_get("rev_id")?)
    }

    pub async fn benchmark_exists(&self, benchmark_id: &str) -> Result<bool> {
        let row = sqlx::query("SELECT 1 FROM stig WHERE benchmark_id = $1")
            .bind(benchmark_id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.is_some())
    }

    /// Every rule id in any revision of a benchmark.
    pub async fn benchmark_rule_ids(&self, benchmark_id: &str) -> Result<HashSet<String>> {
        let rows = sqlx::query(
            "SELECT DISTINCT rgr.rule_id FROM rev_group_rule_map rgr
             JOIN revision r ON r.rev_id = rgr.rev_id WHERE r.benchmark_id = $1",
        )
        .bind(benchmark_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|r| r.try_get(0).map_err(StoreError::from)).collect()
    }

    /// The rules of one revision in DISA's order.
    pub async fn rules(&self, rev_id: &str, projection: RuleProjection) -> Result<Vec<Rule>> {
        self.rules_of(rev_id, None, projection).await
    }

    /// One rule of one revision; `NotFound` when the revision does not hold it.
    pub async fn rule_in_revision(
        &self,
        rev_id: &str,
        rule_id: &str,
        projection: RuleProjection,
    ) -> Result<Rule> {
        let mut rules = self.rules_of(rev_id, Some(rule_id), projection).await?;
        rules.pop().ok_or(StoreError::NotFound)
    }

    /// A rule by id alone, as the newest-dated revision holding it states it (the same
    /// revision its review key comes from).
    pub async fn rule_by_id(&self, rule_id: &str, projection: RuleProjection) -> Result<Rule> {
        let row = sqlx::query(
            "SELECT rgr.rev_id FROM rev_group_rule_map rgr JOIN revision r ON r.rev_id = rgr.rev_id
             WHERE rgr.rule_id = $1
             ORDER BY r.benchmark_date_sql DESC, r.imported DESC LIMIT 1",
        )
        .bind(rule_id)
        .fetch_optional(&self.pool)
        .await?;
        let rev_id: String = row.ok_or(StoreError::NotFound)?.try_get(0)?;
        self.rule_in_revision(&rev_id, rule_id, projection).await
    }

    async fn rules_of(
        &self,
        rev_id: &str,
        rule_id: Option<&str>,
        projection: RuleProjection,
    ) -> Result<Vec<Rule>> {
        let rows = sqlx::query(
            "SELECT rgr.rgr_id, rgr.rule_id, rgr.version, rgr.title, rgr.severity, rgr.group_id,
                    rgr.group_title, rgr.weight, rgr.vuln_discussion, rgr.false_positives,
                    rgr.false_negatives, rgr.documentable, rgr.mitigations,
                    rgr.severity_override_guidance, rgr.potential_impacts, rgr.third_party_tools,
                    rgr.mitigation_control, rgr.responsibility, rgr.check_system,
                    cc.content AS check_content, rgr.fixref, ft.text AS fix_text
             FROM rev_group_rule_map rgr
             JOIN check_content cc ON cc.digest = rgr.check_digest
             JOIN fix_text ft ON ft.digest = rgr.fix_digest
             WHERE rgr.rev_id = $1 AND ($2 IS NULL OR rgr.rule_id = $2)
             ORDER BY rgr.rule_num, rgr.rule_id",
        )
        .bind(rev_id)
        .bind(rule_id)
        .fetch_all(&self.pool)
        .await?;
        let mut ccis = match projection.ccis {
            true => self.rule_ccis(rev_id).await?,
            false => BTreeMap::new(),
        };
        let mut aliases = match projection.rule_ids {
            true => self.rule_id_aliases(rev_id, rule_id).await?,
            false => BTreeMap::new(),
        };
        let mut stigs = match projection.stigs {
            true => self.revisions_holding_rules(rev_id, rule_id).await?,
            false => BTreeMap::new(),
        };
        rows.iter()
            .map(|row| {
                let rgr_id: i64 = row.try_get("rgr_id")?;
                let mut rule = rule_from_row(row, projection)?;
                if projection.ccis {
                    rule.ccis = Some(ccis.remove(&rgr_id).unwrap_or_default());
                }
                if projection.rule_ids {
                    rule.rule_ids = Some(aliases.remove(&rule.rule_id).unwrap_or_default());
                }
                if projection.stigs {
                    rule.stigs = Some(stigs.remove(&rule.rule_id).unwrap_or_default());
                }
                Ok(rule)
            })
            .collect()
    }

    /// For each rule of a revision, every rule id sharing its review key.
    async fn rule_id_aliases(
        &self,
        rev_id: &str,
        rule_id: Option<&str>,
    ) -> Result<BTreeMap<String, Vec<String>>> {
        let rows = sqlx::query(
            "SELECT DISTINCT rgr.rule_id, k2.rule_id AS alias FROM rev_group_rule_map rgr
             JOIN rule_version_check_digest k ON k.rule_id = rgr.rule_id
             JOIN rule_version_check_digest k2
                 ON k2.version = k.version AND k2.check_digest = k.check_digest
             WHERE rgr.rev_id = $1 AND ($2 IS NULL OR rgr.rule_id = $2)
             ORDER BY rgr.rule_id, alias",
        )
        .bind(rev_id)
        .bind(rule_id)
        .fetch_all(&self.pool)
        .await?;
        let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for row in &rows {
            out.entry(row.try_get(0)?).or_default().push(row.try_get(1)?);
        }
        Ok(out)
    }

    /// For each rule of a revision, every revision (of any benchmark) that holds its rule id.
    async fn revisions_holding_rules(
        &self,
        rev_id: &str,
        rule_id: Option<&str>,
    ) -> Result<BTreeMap<String, Vec<RevisionBasic>>> {
        let rows = sqlx::query(
            "SELECT DISTINCT rgr.rule_id, r.benchmark_id, r.version, r.release
             FROM rev_group_rule_map rgr
             JOIN rev_group_rule_map o ON o.rule_id = rgr.rule_id
             JOIN revision r ON r.rev_id = o.rev_id
             WHERE rgr.rev_id = $1 AND ($2 IS NULL OR rgr.rule_id = $2)",
        )
        .bind(rev_id)
        .bind(rule_id)
        .fetch_all(&self.pool)
        .await?;
        let mut out: BTreeMap<String, Vec<RevisionBasic>> = BTreeMap::new();
        for row in &rows {
            let basic = RevisionBasic {
                benchmark_id: row.try_get("benchmark_id")?,
                revision_str: revision_str(row)?,
            };
            out.entry(row.try_get(0)?).or_default().push(basic);
        }
        out.values_mut().for_each(|v| v.sort());
        Ok(out)
    }

    pub(crate) async fn rule_ccis(&self, rev_id: &str) -> Result<BTreeMap<i64, Vec<RuleCci>>> {
        let rows = sqlx::query(
            "SELECT m.rgr_id, m.cci, c.ap_acronym, c.definition, c.control
             FROM rev_group_rule_cci_map m
             JOIN rev_group_rule_map rgr ON rgr.rgr_id = m.rgr_id
             LEFT JOIN cci c ON c.cci = m.cci
             WHERE rgr.rev_id = $1 ORDER BY m.cci",
        )
        .bind(rev_id)
        .fetch_all(&self.pool)
        .await?;
        let mut out: BTreeMap<i64, Vec<RuleCci>> = BTreeMap::new();
        for row in &rows {
            out.entry(row.try_get("rgr_id")?).or_default().push(RuleCci {
                cci: row.try_get("cci")?,
                ap_acronym: row.try_get("ap_acronym")?,
                definition: row.try_get("definition")?,
                control: row.try_get("control")?,
            });
        }
        Ok(out)
    }
}

fn rule_from_row(row: &AnyRow, projection: RuleProjection) -> Result<Rule> {
    let detail = projection.detail.then(|| rule_detail(row)).transpose()?;
    let check = projection
        .check
        .then(|| -> Result<Check> {
            Ok(Check {
                system: row.try_get("check_system")?,
                content: row.try_get("check_content")?,
            })
        })
        .transpose()?;
    let fix = projection
        .fix
        .then(|| -> Result<Fix> {
            Ok(Fix { fixref: row.try_get("fixref")?, text: row.try_get("fix_text")? })
        })
        .transpose()?;
    Ok(Rule {
        rule_id: row.try_get("rule_id")?,
        version: row.try_get("version")?,
        title: row.try_get("title")?,
        severity: row.try_get("severity")?,
        group_id: row.try_get("group_id")?,
        group_title: row.try_get("group_title")?,
        detail,
        ccis: None,
        check,
        fix,
        rule_ids: None,
        stigs: None,
    })
}

fn rule_detail(row: &AnyRow) -> Result<RuleDetail> {
    Ok(RuleDetail {
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
    })
}

pub(crate) fn revision_str(row: &AnyRow) -> Result<String> {
    let version: i64 = row.try_get("version")?;
    let release: String = row.try_get("release")?;
    Ok(format!("V{version}R{release}"))
}

/// Which collections a reader may see in library listings.
#[derive(Debug, Clone, Default)]
pub struct LibraryView {
    /// Collections seen whole: every grant but a restricted one.
    pub collections: HashSet<i64>,
    /// Restricted grants show a collection only under the benchmarks their ACL reaches.
    pub benchmarks: HashMap<i64, HashSet<String>>,
}

impl LibraryView {
    pub fn shows(&self, collection_id: i64, benchmark_id: &str) -> bool {
        self.collections.contains(&collection_id)
            || self.benchmarks.get(&collection_id).is_some_and(|b| b.contains(benchmark_id))
    }
}

/// Groups (key, collection id, benchmark id) rows by key, keeping only visible collections.
fn group_visible(
    rows: &[AnyRow],
    visible: Option<&LibraryView>,
) -> Result<BTreeMap<String, Vec<String>>> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for row in rows {
        let key: String = row.try_get(0)?;
        let collection_id: i64 = row.try_get(1)?;
        let benchmark_id: String = row.try_get(2)?;
        if visible.is_none_or(|v| v.shows(collection_id, &benchmark_id)) {
            out.entry(key).or_default().push(collection_id.to_string());
        }
    }
    Ok(out)
}

async fn insert_revision(
    tx: &mut Transaction<'static, Any>,
    b: &Benchmark,
    marking: Option<&str>,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO stig (benchmark_id, title) VALUES ($1, $2)
         ON CONFLICT (benchmark_id) DO UPDATE SET title = excluded.title",
    )
    .bind(&b.benchmark_id)
    .bind(&b.title)
    .execute(&mut **tx)
    .await?;
    let version: i64 = b.version.trim().parse().map_err(|_| {
        StoreError::Conflict(format!("benchmark version '{}' is not a number", b.version))
    })?;
    let counts = b.counts();
    sqlx::query(
        "INSERT INTO revision (rev_id, benchmark_id, version, release, release_num,
             benchmark_date, benchmark_date_sql, status, status_date, marking, description,
             group_count, check_count, fix_count, low_count, medium_count, high_count, imported)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)",
    )
    .bind(b.rev_id())
    .bind(&b.benchmark_id)
    .bind(version)
    .bind(&b.release)
    .bind(b.release.parse::<f64>().unwrap_or(0.0))
    .bind(&b.benchmark_date)
    .bind(&b.benchmark_date_sql)
    .bind(&b.status)
    .bind(&b.status_date)
    .bind(marking)
    .bind(&b.description)
    .bind(counts.groups as i64)
    .bind(counts.checks as i64)
    .bind(counts.fixes as i64)
    .bind(counts.low as i64)
    .bind(counts.medium as i64)
    .bind(counts.high as i64)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    insert_rules(tx, &b.rev_id(), b).await
}

/// Rules go in several rows per statement: one round trip per row made imports slow on
/// PostgreSQL. 200 rules × 25 values stays far below both databases' parameter limits.
const RULES_PER_STATEMENT: usize = 200;

/// `($1, $2, ..), ($k, ..)`: placeholders for `rows` rows of `columns` values.
fn placeholders(rows: usize, columns: usize) -> String {
    let row = |r: usize| {
        let cells: Vec<String> = (1..=columns).map(|c| format!("${}", r * columns + c)).collect();
        format!("({})", cells.join(", "))
    };
    (0..rows).map(row).collect::<Vec<_>>().join(", ")
}

/// Stores check or fix texts by digest, skipping those already stored.
async fn insert_texts(
    tx: &mut Transaction<'static, Any>,
    table: &str,
    column: &str,
    texts: &[(&[u8; 32], &str)],
) -> Result<()> {
    for chunk in texts.chunks(RULES_PER_STATEMENT) {
        let sql = format!(
            "INSERT INTO {table} (digest, {column}) VALUES {} ON CONFLICT DO NOTHING",
            placeholders(chunk.len(), 2)
        );
        let mut query = sqlx::query(&sql);
        for (digest, text) in chunk {
            query = query.bind(digest.to_vec()).bind(*text);
        }
        query.execute(&mut **tx).await?;
    }
    Ok(())
}

async fn insert_rules(
    tx: &mut Transaction<'static, Any>,
    rev_id: &str,
    benchmark: &Benchmark,
) -> Result<()> {
    let rules: Vec<(&Group, &XccdfRule)> =
        benchmark.groups.iter().flat_map(|g| g.rules.iter().map(move |r| (g, r))).collect();
    let checks: Vec<_> =
        rules.iter().map(|(_, r)| (&r.check_digest, r.check_content.as_str())).collect();
    insert_texts(tx, "check_content", "content", &checks).await?;
    let fixes: Vec<_> = rules.iter().map(|(_, r)| (&r.fix_digest, r.fix_text.as_str())).collect();
    insert_texts(tx, "fix_text", "text", &fixes).await?;
    for chunk in rules.chunks(RULES_PER_STATEMENT) {
        insert_rule_rows(tx, rev_id, chunk).await?;
    }
    Ok(())
}

async fn insert_rule_rows(
    tx: &mut Transaction<'static, Any>,
    rev_id: &str,
    rules: &[(&Group, &XccdfRule)],
) -> Result<()> {
    let sql = format!(
        "INSERT INTO rev_group_rule_map (rev_id, group_id, group_title, group_severity, group_num,
             rule_num, rule_id, version, title, severity, weight, vuln_discussion, false_positives,
             false_negatives, documentable, mitigations, severity_override_guidance,
             potential_impacts, third_party_tools, mitigation_control, responsibility,
             check_system, check_digest, fixref, fix_digest)
         VALUES {}
         ON CONFLICT (rev_id, group_id, rule_id) DO NOTHING
         RETURNING rgr_id, group_id, rule_id",
        placeholders(rules.len(), 25)
    );
    let mut query = sqlx::query(&sql);
    for (group, rule) in rules {
        query = query
            .bind(rev_id)
            .bind(&group.group_id)
            .bind(&group.title)
            .bind(&rule.severity)
            .bind(number_after(&group.group_id, 2))
            .bind(number_after(&rule.rule_id, 3))
            .bind(&rule.rule_id)
            .bind(&rule.version)
            .bind(&rule.title)
            .bind(&rule.severity)
            .bind(&rule.weight)
            .bind(&rule.vuln_discussion)
            .bind(&rule.false_positives)
            .bind(&rule.false_negatives)
            .bind(&rule.documentable)
            .bind(&rule.mitigations)
            .bind(&rule.severity_override_guidance)
            .bind(&rule.potential_impacts)
            .bind(&rule.third_party_tools)
            .bind(&rule.mitigation_control)
            .bind(&rule.responsibility)
            .bind(&rule.check_system)
            .bind(rule.check_digest.to_vec())
            .bind(&rule.fixref)
            .bind(rule.fix_digest.to_vec());
    }
    let rows = query.fetch_all(&mut **tx).await?;
    let mut ids = HashMap::new();
    for row in &rows {
        let key: (String, String) = (row.try_get("group_id")?, row.try_get("rule_id")?);
        ids.insert(key, row.try_get::<i64, _>("rgr_id")?);
    }
    let mut ccis: Vec<(i64, &str)> = Vec::new();
    for (group, rule) in rules {
        if let Some(id) = ids.get(&(group.group_id.clone(), rule.rule_id.clone())) {
            ccis.extend(rule.ccis.iter().map(|cci| (*id, cci.as_str())));
        }
    }
    for chunk in ccis.chunks(RULES_PER_STATEMENT) {
        let sql = format!(
            "INSERT INTO rev_group_rule_cci_map (rgr_id, cci) VALUES {} ON CONFLICT DO NOTHING",
            placeholders(chunk.len(), 2)
        );
        let mut query = sqlx::query(&sql);
        for (rgr_id, cci) in chunk {
            query = query.bind(*rgr_id).bind(*cci);
        }
        query.execute(&mut **tx).await?;
    }
    Ok(())
}

/// The number in an id after a fixed prefix (`V-1234` → 1234, `SV-106179r1_rule` → 106179).
fn number_after(id: &str, skip: usize) -> i64 {
    let digits: String = id.chars().skip(skip).take_while(|c| c.is_ascii_digit()).collect();
    digits.parse().unwrap_or(0)
}

/// Points every rule id of the benchmark at its (version, check digest) in the newest-dated
/// revision that holds it: that pair is the key reviews are stored under.
pub(crate) async fn refresh_review_keys(
    tx: &mut Transaction<'static, Any>,
    benchmark_id: &str,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO rule_version_check_digest (rule_id, version, check_digest)
         SELECT rule_id, version, check_digest FROM (
             SELECT rgr.rule_id, rgr.version, rgr.check_digest,
                    ROW_NUMBER() OVER (PARTITION BY rgr.rule_id
                        ORDER BY r.benchmark_date_sql DESC, r.imported DESC) AS rn
             FROM rev_group_rule_map rgr JOIN revision r ON r.rev_id = rgr.rev_id
             WHERE r.benchmark_id = $1) ranked
         WHERE rn = 1
         ON CONFLICT (rule_id) DO UPDATE
             SET version = excluded.version, check_digest = excluded.check_digest",
    )
    .bind(benchmark_id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Recomputes the benchmark's "latest" revision: drafts last, then version and release.
pub(crate) async fn refresh_current_rev(
    tx: &mut Transaction<'static, Any>,
    benchmark_id: &str,
) -> Result<()> {
    sqlx::query("DELETE FROM current_rev WHERE benchmark_id = $1")
        .bind(benchmark_id)
        .execute(&mut **tx)
        .await?;
    sqlx::query(
        "INSERT INTO current_rev (benchmark_id, rev_id)
         SELECT benchmark_id, rev_id FROM revision WHERE benchmark_id = $1
         ORDER BY CASE WHEN status = 'draft' THEN 1 ELSE 0 END, version DESC, release_num DESC
         LIMIT 1",
    )
    .bind(benchmark_id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}
