//! Metrics, served from the per-checklist counters that writers keep in `stig_asset_map`
//! ([`counters`]), limited to what each caller may read. Loading ([`Store::metrics_data`])
//! gathers the visible checklists with their counters; [`group`] folds them into each form.
//! ACL rules apply to whole asset/STIG pairs, so a checklist is either visible with all its
//! counters or not at all.

mod cache;
pub mod counters;
mod counts;
pub mod group;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, OnceLock};

use sqlx::any::AnyArguments;
use sqlx::{Any, AnyConnection, Row};

pub use counts::{Counts, RESULTS, STATUSES};
use stigward_wire::asset::LabelRef;
use stigward_wire::metrics::BySeverity;

use stigward_domain::Role;

pub(crate) use cache::MetricsCache;
/// Checklists metrics reads keep between requests unless [`Store::limit_metrics_cache`] says.
pub use cache::DEFAULT_LIMIT as CACHE_DEFAULT_CHECKLISTS;
use cache::{Kept, Seq};

use crate::access::AccessMap;
use crate::grants::EffectiveGrant;
use crate::{flag, Dialect, Result, Store, StoreError};

/// Filters of the metrics operations. Label filters (ids, names, unlabeled) are OR-ed.
#[derive(Debug, Clone, Default)]
pub struct MetricsFilter {
    pub asset_ids: Vec<i64>,
    pub benchmark_ids: Vec<String>,
    /// Label uuids, as the API names labels.
    pub label_ids: Vec<String>,
    pub label_names: Vec<String>,
    pub unlabeled: bool,
    /// Default revisions (`benchmarkId-version-release`), meta by collection only.
    pub rev_ids: Vec<String>,
}

impl MetricsFilter {
    pub fn by_label(&self) -> bool {
        !self.label_ids.is_empty() || !self.label_names.is_empty() || self.unlabeled
    }

    /// A STIG or revision filter hides assets without a matching checklist.
    fn by_stig(&self) -> bool {
        !self.benchmark_ids.is_empty() || !self.rev_ids.is_empty()
    }

    fn label_matches(&self, label: &LabelInfo) -> bool {
        self.label_ids.contains(&label.uuid) || self.label_names.contains(&label.name)
    }

    fn asset_matches(&self, asset: &AssetInfo) -> bool {
        let by_id = self.asset_ids.is_empty() || self.asset_ids.contains(&asset.asset_id);
        let by_label = !self.by_label()
            || (self.unlabeled && asset.labels.is_empty())
            || asset.labels.iter().any(|l| self.label_matches(l));
        by_id && by_label
    }
}

/// Which of a collection's checklists a caller may read.
#[derive(Debug, Clone)]
pub enum Visibility {
    /// Every one: a grant above restricted that no ACL rule narrows.
    All,
    /// The pairs the access map lets the caller read.
    Pairs(Arc<AccessMap>),
}

impl Visibility {
    fn readable(&self, asset_id: i64, benchmark_id: &str) -> bool {
        match self {
            Visibility::All => true,
            Visibility::Pairs(map) => {
                map.access(asset_id, benchmark_id) > crate::access::Access::None
            }
        }
    }
}

/// A collection in a metrics request and what the caller may read of it.
#[derive(Debug, Clone)]
pub struct ScopedCollection {
    pub collection_id: i64,
    pub access: Visibility,
    /// Whether assets without any STIG are listed: they carry no ACL-covered pair, so
    /// restricted grants never see them.
    pub bare_assets: bool,
}

#[derive(Debug, Clone)]
pub struct LabelInfo {
    pub label_id: i64,
    pub uuid: String,
    pub name: String,
    pub color: String,
    pub description: Option<String>,
}

#[derive(Debug, Clone)]
pub struct AssetInfo {
    pub asset_id: i64,
    pub collection_id: i64,
    pub name: String,
    pub ip: Option<String>,
    pub fqdn: Option<String>,
    pub mac: Option<String>,
    pub noncomputing: bool,
    /// By name.
    pub labels: Vec<LabelInfo>,
    /// The labels as rows list them.
    pub label_refs: Vec<LabelRef>,
    stig_count: i64,
}

#[derive(Debug, Clone)]
pub struct RevisionInfo {
    pub benchmark_id: String,
    pub title: String,
    pub marking: Option<String>,
    pub revision_str: String,
    pub revision_date: Option<String>,
    pub rules: BySeverity,
}

/// Which metrics object rows carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    Summary,
    Detail,
}

/// One visible asset/STIG assignment at its collection's default revision.
#[derive(Debug)]
pub struct Checklist {
    pub collection_id: i64,
    pub asset_id: i64,
    pub benchmark_id: String,
    pub rev_id: String,
    pub pinned: bool,
    pub counts: Counts,
    /// Its row of the unaggregated form as JSON, by [`Style`], written by the first read of
    /// this copy ([`MetricsData::by_checklist_json`]). A recount makes a new copy.
    rendered: [OnceLock<Box<[u8]>>; 2],
}

/// Everything the metrics forms are folded from.
#[derive(Debug, Default)]
pub struct MetricsData {
    /// Collections in scope, by name.
    pub collections: Vec<(i64, String)>,
    /// Visible assets.
    pub assets: BTreeMap<i64, Arc<AssetInfo>>,
    pub revisions: Arc<HashMap<String, RevisionInfo>>,
    /// Visible checklists.
    pub checklists: Vec<Arc<Checklist>>,
    pub filter: MetricsFilter,
}

impl MetricsData {
    /// Adds what the caller may read of one collection and the filter selects.
    fn add_visible(
        &mut self,
        counts: &CollectionCounts,
        scoped: &ScopedCollection,
        filter: &MetricsFilter,
    ) {
        let readable = |c: &Checklist| scoped.access.readable(c.asset_id, &c.benchmark_id);
        let selected = |c: &Checklist| {
            (filter.benchmark_ids.is_empty() || filter.benchmark_ids.contains(&c.benchmark_id))
                && (filter.rev_ids.is_empty() || filter.rev_ids.contains(&c.rev_id))
        };
        let assets: BTreeMap<i64, &Arc<AssetInfo>> = counts
            .assets
            .iter()
            .filter(|(_, a)| filter.asset_matches(a))
            .map(|(id, a)| (*id, a))
            .collect();
        let mut with_checklists = HashSet::new();
        for checklist in &counts.checklists {
            if assets.contains_key(&checklist.asset_id)
                && selected(checklist)
                && readable(checklist)
            {
                with_checklists.insert(checklist.asset_id);
                self.checklists.push(checklist.clone());
            }
        }
        for (id, asset) in assets {
            let bare = asset.stig_count == 0 && !filter.by_stig() && scoped.bare_assets;
            if with_checklists.contains(&id) || bare {
                self.assets.insert(id, asset.clone());
            }
        }
    }
}

/// One collection's assets and checklists with their counters, before the ACL; kept between
/// reads ([`cache`]).
#[derive(Debug)]
pub(crate) struct CollectionCounts {
    name: String,
    assets: Arc<BTreeMap<i64, Arc<AssetInfo>>>,
    /// By asset name, asset id and benchmark id, the order of the unaggregated forms.
    checklists: Vec<Arc<Checklist>>,
    /// Position of each (asset id, benchmark id) in `checklists`.
    index: Arc<HashMap<(i64, String), usize>>,
}

impl CollectionCounts {
    fn new(name: String, assets: BTreeMap<i64, AssetInfo>, checklists: Vec<Checklist>) -> Self {
        let assets: BTreeMap<i64, Arc<AssetInfo>> =
            assets.into_iter().map(|(id, a)| (id, Arc::new(a))).collect();
        let mut checklists: Vec<Arc<Checklist>> = checklists.into_iter().map(Arc::new).collect();
        let name_of = |c: &Checklist| assets.get(&c.asset_id).map(|a| a.name.clone());
        checklists.sort_by_cached_key(|c| (name_of(c), c.asset_id, c.benchmark_id.clone()));
        let index = checklists
            .iter()
            .enumerate()
            .map(|(i, c)| ((c.asset_id, c.benchmark_id.clone()), i))
            .collect();
        CollectionCounts { name, assets: Arc::new(assets), checklists, index: Arc::new(index) }
    }

    /// A copy with these recounted checklists replaced; `None` if one of them is not listed
    /// (the listing changed, so the collection must be loaded again).
    fn patched(&self, recounted: Vec<Checklist>) -> Option<CollectionCounts> {
        let mut checklists = self.checklists.clone();
        for checklist in recounted {
            let at = *self.index.get(&(checklist.asset_id, checklist.benchmark_id.clone()))?;
            checklists[at] = Arc::new(checklist);
        }
        Some(CollectionCounts {
            name: self.name.clone(),
            assets: self.assets.clone(),
            checklists,
            index: self.index.clone(),
        })
    }
}

/// A value bound to a placeholder of a dynamically built statement.
enum Bind {
    Int(i64),
    Text(String),
}

/// `WHERE` conditions with their bound values, numbered from `$1`.
#[derive(Default)]
struct Conditions {
    clauses: Vec<String>,
    binds: Vec<Bind>,
}

impl Conditions {
    fn placeholders(&self, n: usize) -> String {
        let first = self.binds.len() + 1;
        (first..first + n).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ")
    }

    /// Binds one text value and returns its placeholder.
    fn text(&mut self, value: String) -> String {
        self.binds.push(Bind::Text(value));
        format!("${}", self.binds.len())
    }

    fn ints(&mut self, column: &str, values: &[i64]) {
        if !values.is_empty() {
            self.clauses.push(format!("{column} IN ({})", self.placeholders(values.len())));
            self.binds.extend(values.iter().map(|v| Bind::Int(*v)));
        }
    }

    fn greater_than(&mut self, column: &str, value: i64) {
        self.binds.push(Bind::Int(value));
        self.clauses.push(format!("{column} > ${}", self.binds.len()));
    }

    fn sql(&self) -> String {
        self.clauses.join(" AND ")
    }

    fn bind<'q>(
        &'q self,
        mut query: sqlx::query::Query<'q, Any, AnyArguments<'q>>,
    ) -> sqlx::query::Query<'q, Any, AnyArguments<'q>> {
        for value in &self.binds {
            query = match value {
                Bind::Int(v) => query.bind(*v),
                Bind::Text(v) => query.bind(v.as_str()),
            };
        }
        query
    }
}

/// Separates the values of a list of ids in [`Store::checklists`]: a control character no id
/// holds.
const TEXT_SEPARATOR: char = '\u{1f}';

/// A value aggregated into a list over every checklist of a metrics read.
enum ListOf {
    Int(String),
    /// An integer that may be NULL, listed as an empty item.
    NullableInt(String),
    Text(String),
}

impl ListOf {
    /// The aggregate listing the value; SQLite's one-argument `group_concat` (comma-separated)
    /// costs far less per row than a call naming its separator, so integers use it.
    fn aggregate(&self, dialect: Dialect, text_separator: &str) -> String {
        match (self, dialect) {
            (ListOf::Int(v), Dialect::Sqlite) => format!("group_concat({v})"),
            (ListOf::NullableInt(v), Dialect::Sqlite) => format!("group_concat(COALESCE({v}, ''))"),
            (ListOf::Int(v), Dialect::Postgres) => format!("string_agg(CAST({v} AS TEXT), ',')"),
            (ListOf::NullableInt(v), Dialect::Postgres) => {
                format!("string_agg(COALESCE(CAST({v} AS TEXT), ''), ',')")
            }
            (ListOf::Text(v), _) => format!("string_agg({v}, {text_separator})"),
        }
    }

    fn separator(&self) -> char {
        match self {
            ListOf::Text(_) => TEXT_SEPARATOR,
            _ => ',',
        }
    }
}

fn parse_int(text: &str) -> Result<i64> {
    text.parse().map_err(|e| StoreError::Corrupt(format!("metrics value '{text}': {e}")))
}

fn short_list() -> StoreError {
    StoreError::Corrupt("metrics lists of unequal length".into())
}

/// Assignments of enabled assets with their default revision: the pin, else the current one.
const CHECKLISTS_FROM: &str = "
    FROM asset a
    JOIN stig_asset_map sa ON sa.asset_id = a.asset_id
    JOIN current_rev cr ON cr.benchmark_id = sa.benchmark_id
    LEFT JOIN collection_rev_map p
        ON p.collection_id = a.collection_id AND p.benchmark_id = sa.benchmark_id";

impl Store {
    /// Bounds the checklists that metrics reads keep between requests, over all collections
    /// ([`CACHE_DEFAULT_CHECKLISTS`] unless set).
    pub fn limit_metrics_cache(&self, checklists: usize) {
        self.metrics_cache.set_limit(checklists);
    }

    /// What a grant may read of its collection's checklists. The access map (every pair
    /// resolved) is built only when an ACL rule or the restricted role narrows the grant.
    pub async fn metrics_visibility(&self, grant: &EffectiveGrant) -> Result<Visibility> {
        if grant.role > Role::Restricted && self.acl_rules(&grant.grant_ids).await?.is_empty() {
            return Ok(Visibility::All);
        }
        Ok(Visibility::Pairs(Arc::new(self.access_map(grant).await?)))
    }

    /// The visible checklists of the collections in scope, with their counters.
    pub async fn metrics_data(
        &self,
        scope: &[ScopedCollection],
        filter: &MetricsFilter,
    ) -> Result<MetricsData> {
        let mut data = MetricsData { filter: filter.clone(), ..MetricsData::default() };
        if scope.is_empty() {
            return Ok(data);
        }
        let mut snapshot = self.read_snapshot().await?;
        let seq = metrics_seq(&mut snapshot).await?;
        let revisions = match self.metrics_cache.revisions(seq) {
            Some(revisions) => revisions,
            None => {
                let revisions = Arc::new(metrics_revisions(&mut snapshot).await?);
                self.metrics_cache.keep_revisions(seq, revisions.clone());
                revisions
            }
        };
        for scoped in scope {
            let id = scoped.collection_id;
            let counts = self.collection_counts(&mut snapshot, id, seq, &revisions).await?;
            data.collections.push((id, counts.name.clone()));
            data.add_visible(&counts, scoped, filter);
        }
        snapshot.commit().await?;
        data.collections.sort_by(|a, b| a.1.cmp(&b.1).then(a.0.cmp(&b.0)));
        data.revisions = revisions;
        Ok(data)
    }

    /// One collection's enabled assets and the counters of their checklists: the kept copy,
    /// brought up to `seq` ([`cache`]).
    async fn collection_counts(
        &self,
        conn: &mut AnyConnection,
        collection_id: i64,
        seq: Seq,
        revisions: &HashMap<String, RevisionInfo>,
    ) -> Result<Arc<CollectionCounts>> {
        let counts = match self.metrics_cache.collection(collection_id, seq) {
            Kept::Current(counts) => return Ok(counts),
            Kept::Behind { n, counts } => {
                let recounted = checklists(conn, self.dialect, collection_id, n, revisions).await?;
                counts.patched(recounted)
            }
            Kept::Missing => None,
        };
        let counts = match counts {
            Some(counts) => counts,
            None => {
                let ids = [collection_id];
                let name = collection_names(conn, &ids).await?.pop().map(|(_, n)| n);
                let assets = metrics_assets(conn, self.dialect, &ids).await?;
                let checklists =
                    checklists(conn, self.dialect, collection_id, 0, revisions).await?;
                CollectionCounts::new(name.unwrap_or_default(), assets, checklists)
            }
        };
        let counts = Arc::new(counts);
        self.metrics_cache.keep(collection_id, seq, counts.clone());
        Ok(counts)
    }
}

/// `metrics_seq` in the reader's snapshot.
async fn metrics_seq(conn: &mut AnyConnection) -> Result<Seq> {
    let row = sqlx::query("SELECT n, structure_n FROM metrics_seq").fetch_one(&mut *conn).await?;
    Ok(Seq { n: row.try_get(0)?, structure_n: row.try_get(1)? })
}
async fn collection_names(conn: &mut AnyConnection, ids: &[i64]) -> Result<Vec<(i64, String)>> {
    let mut c = Conditions::default();
    c.ints("collection_id", ids);
    let sql = format!("SELECT collection_id, name FROM collection WHERE {} ORDER BY name", c.sql());
    let rows = c.bind(sqlx::query(&sql)).fetch_all(&mut *conn).await?;
    rows.iter().map(|r| Ok((r.try_get(0)?, r.try_get(1)?))).collect()
}

/// Enabled assets of the collections, with their labels.
async fn metrics_assets(
    conn: &mut AnyConnection,
    dialect: Dialect,
    ids: &[i64],
) -> Result<BTreeMap<i64, AssetInfo>> {
    let mut c = Conditions::default();
    c.ints("a.collection_id", ids);
    let sql = format!(
        "SELECT a.asset_id, a.collection_id, a.name, a.ip, a.fqdn, a.mac, a.noncomputing,
                (SELECT COUNT(*) FROM stig_asset_map sa WHERE sa.asset_id = a.asset_id)
                    AS stig_count
         FROM asset a WHERE {} AND a.state = 'enabled'",
        c.sql()
    );
    let rows = c.bind(sqlx::query(&sql)).fetch_all(&mut *conn).await?;
    let mut assets = BTreeMap::new();
    for row in &rows {
        let asset = AssetInfo {
            asset_id: row.try_get("asset_id")?,
            collection_id: row.try_get("collection_id")?,
            name: row.try_get("name")?,
            ip: row.try_get("ip")?,
            fqdn: row.try_get("fqdn")?,
            mac: row.try_get("mac")?,
            noncomputing: flag(row, "noncomputing")?,
            labels: Vec::new(),
            label_refs: Vec::new(),
            stig_count: row.try_get("stig_count")?,
        };
        assets.insert(asset.asset_id, asset);
    }
    let mut c = Conditions::default();
    c.ints("collection_id", ids);
    let sql = format!(
        "SELECT label_id, uuid, name, color, description FROM collection_label WHERE {}",
        c.sql()
    );
    let mut labels = HashMap::new();
    for row in &c.bind(sqlx::query(&sql)).fetch_all(&mut *conn).await? {
        let label = LabelInfo {
            label_id: row.try_get("label_id")?,
            uuid: row.try_get("uuid")?,
            name: row.try_get("name")?,
            color: row.try_get("color")?,
            description: row.try_get("description")?,
        };
        labels.insert(label.label_id, label);
    }
    // an asset/label pair per row would cost more than the rest of the read; see checklists
    let mut c = Conditions::default();
    c.ints("l.collection_id", ids);
    let lists = [ListOf::Int("m.asset_id".into()), ListOf::Int("m.label_id".into())];
    let aggregates: Vec<String> = lists.iter().map(|l| l.aggregate(dialect, "")).collect();
    let sql = format!(
        "SELECT {} FROM collection_label_asset_map m
         JOIN collection_label l ON l.label_id = m.label_id
         WHERE {}",
        aggregates.join(", "),
        c.sql()
    );
    let row = c.bind(sqlx::query(&sql)).fetch_one(&mut *conn).await?;
    let (asset_ids, label_ids): (Option<String>, Option<String>) =
        (row.try_get(0)?, row.try_get(1)?);
    let (asset_ids, label_ids) = (asset_ids.unwrap_or_default(), label_ids.unwrap_or_default());
    let mut label_ids = label_ids.split(',').filter(|l| !l.is_empty());
    for asset_id in asset_ids.split(',').filter(|a| !a.is_empty()) {
        let label_id = parse_int(label_ids.next().ok_or_else(short_list)?)?;
        let (Some(asset), Some(label)) =
            (assets.get_mut(&parse_int(asset_id)?), labels.get(&label_id))
        else {
            continue;
        };
        asset.labels.push(label.clone());
    }
    for asset in assets.values_mut() {
        asset.labels.sort_by(|a, b| a.name.cmp(&b.name));
        asset.label_refs = asset
            .labels
            .iter()
            .map(|l| LabelRef {
                label_id: l.uuid.clone(),
                name: l.name.clone(),
                color: l.color.clone(),
            })
            .collect();
    }
    Ok(assets)
}

/// The assignments of a collection's enabled assets with their stored counters: every one,
/// or those recounted after `since` (`counted_seq`), with the rule counts of their revision.
///
/// A collection can hold tens of thousands of checklists, and the drivers spend far more
/// per row and per value than the database does (SQLite's hands every row across a
/// thread), so the statement returns one row: each value aggregated into a list over
/// every checklist, all lists in the same row order.
async fn checklists(
    conn: &mut AnyConnection,
    dialect: Dialect,
    collection_id: i64,
    since: i64,
    revisions: &HashMap<String, RevisionInfo>,
) -> Result<Vec<Checklist>> {
    let mut c = Conditions::default();
    let separator = c.text(TEXT_SEPARATOR.to_string());
    c.ints("a.collection_id", &[collection_id]);
    if since > 0 {
        c.greater_than("sa.counted_seq", since);
    }
    let mut values = vec![
        ListOf::Int("a.collection_id".to_string()),
        ListOf::Int("a.asset_id".to_string()),
        ListOf::Text("sa.benchmark_id".to_string()),
        ListOf::Text("COALESCE(p.rev_id, cr.rev_id)".to_string()),
        ListOf::Int("CASE WHEN p.rev_id IS NULL THEN 0 ELSE 1 END".to_string()),
    ];
    for (column, _) in counters::counter_columns() {
        values.push(match counters::TIMES.contains(&column.as_str()) {
            true => ListOf::NullableInt(format!("sa.{column}")),
            false => ListOf::Int(format!("sa.{column}")),
        });
    }
    let lists: Vec<String> = values.iter().map(|v| v.aggregate(dialect, &separator)).collect();
    let sql = format!(
        "SELECT {} {CHECKLISTS_FROM} WHERE {} AND a.state = 'enabled'",
        lists.join(", "),
        c.sql()
    );
    let row = c.bind(sqlx::query(&sql)).fetch_one(&mut *conn).await?;
    let lists: Vec<Option<String>> =
        (0..values.len()).map(|i| row.try_get(i)).collect::<sqlx::Result<_>>()?;
    let mut lists: Vec<std::str::Split<'_, char>> = lists
        .iter()
        .zip(&values)
        .filter_map(|(list, of)| list.as_deref().map(|l| l.split(of.separator())))
        .collect();
    let mut checklists = Vec::new();
    if lists.len() < values.len() {
        return Ok(checklists); // no checklist: every aggregate is NULL
    }
    let (fixed, counter_lists) = lists.split_at_mut(5);
    while let Some(collection_id) = fixed[0].next() {
        let mut text = |i: usize| fixed[i].next().ok_or_else(short_list);
        let collection_id = parse_int(collection_id)?;
        let asset_id = parse_int(text(1)?)?;
        let benchmark_id = text(2)?.to_string();
        let rev_id = text(3)?.to_string();
        let pinned = text(4)? == "1";
        let mut column = counter_lists.iter_mut();
        let mut counts = Counts::from_values(|| match column.next().and_then(|l| l.next()) {
            Some("") => Ok(None),
            Some(value) => parse_int(value).map(Some),
            None => Err(short_list()),
        })?;
        if let Some(rev) = revisions.get(&rev_id) {
            counts.rules = rev.rules;
        }
        checklists.push(Checklist {
            collection_id,
            asset_id,
            benchmark_id,
            rev_id,
            pinned,
            counts,
            rendered: Default::default(),
        });
    }
    Ok(checklists)
}

/// Every revision with its benchmark's title; the library is small next to the reviews.
async fn metrics_revisions(conn: &mut AnyConnection) -> Result<HashMap<String, RevisionInfo>> {
    let rows = sqlx::query(
        "SELECT r.rev_id, r.benchmark_id, s.title, r.marking, r.version, r.release,
                r.benchmark_date_sql, r.low_count, r.medium_count, r.high_count
         FROM revision r JOIN stig s ON s.benchmark_id = r.benchmark_id",
    )
    .fetch_all(&mut *conn)
    .await?;
    let mut out = HashMap::new();
    for row in &rows {
        let version: i64 = row.try_get("version")?;
        let release: String = row.try_get("release")?;
        out.insert(
            row.try_get("rev_id")?,
            RevisionInfo {
                benchmark_id: row.try_get("benchmark_id")?,
                title: row.try_get("title")?,
                marking: row.try_get("marking")?,
                revision_str: format!("V{version}R{release}"),
                revision_date: row.try_get("benchmark_date_sql")?,
                rules: BySeverity {
                    low: row.try_get("low_count")?,
                    medium: row.try_get("medium_count")?,
                    high: row.try_get("high_count")?,
                },
            },
        );
    }
    Ok(out)
}
