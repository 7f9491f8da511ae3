//! Metrics on STIG Manager's own test installation, ../shared/data/appdata/appdata.jsonl, loaded
//! through `POST /op/appdata`: all 16 operations, JSON and CSV, with filters, for every user of
//! the file (admins, owners, a manager, a full grant, a restricted grant with an ACL, a grant
//! reached only through a user group, users without a grant). The expected rows are recounted
//! here from the file's rows as DOMAIN-2 §4 defines them: reviews reach a rule of the default
//! revision through (rule version, check digest), the default is the pin or else the current
//! revision, and grants and ACL rules decide which asset/STIG pairs count.
//! SQLite by default, PostgreSQL with `STIGWARD_TEST_BACKEND=postgres`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::{BTreeMap, BTreeSet};

use base64::Engine;
use common::xccdf::BenchmarkFile;
use common::{shared, TestServer};
use serde_json::{json, Map, Value};

type Row = Map<String, Value>;
/// The review key: rule version and check digest.
type Key = (String, Vec<u8>);
/// An asset/STIG pair.
type Pair = (i64, String);

const RESULTS: [&str; 9] = [
    "notchecked",
    "notapplicable",
    "pass",
    "fail",
    "unknown",
    "error",
    "notselected",
    "informational",
    "fixed",
];
const STATUSES: [&str; 4] = ["saved", "submitted", "rejected", "accepted"];
const SEVERITIES: [&str; 3] = ["low", "medium", "high"];

// ---------------------------------------------------------------------------------------------
// The file

/// The file's tables by name, each row as a column → value map.
struct Dump(BTreeMap<String, Vec<Row>>);

impl Dump {
    fn parse(text: &str) -> Dump {
        let mut tables = BTreeMap::new();
        let mut lines = text.lines();
        while let Some(line) = lines.next() {
            let head: Value = serde_json::from_str(line).unwrap();
            let Some(columns) = head["columns"].as_str() else { continue };
            let columns: Vec<&str> = columns.split(',').map(|c| c.trim_matches('`')).collect();
            let count = head["rowCount"].as_u64().unwrap();
            let rows: Vec<Row> = (0..count)
                .map(|_| {
                    let values: Vec<Value> = serde_json::from_str(lines.next().unwrap()).unwrap();
                    assert_eq!(values.len(), columns.len(), "{line}");
                    columns.iter().map(|c| c.to_string()).zip(values).collect()
                })
                .collect();
            tables.insert(head["table"].as_str().unwrap().to_string(), rows);
        }
        Dump(tables)
    }

    fn rows(&self, table: &str) -> &[Row] {
        &self.0[table]
    }
}

fn int(row: &Row, column: &str) -> i64 {
    row[column].as_i64().unwrap_or_else(|| panic!("{column} of {row:?}"))
}

fn text(row: &Row, column: &str) -> String {
    row[column].as_str().unwrap_or_else(|| panic!("{column} of {row:?}")).to_string()
}

/// A binary column: `{"type":"Buffer","data":"base64:…"}`, a byte array or a plain string.
fn bytes(value: &Value) -> Vec<u8> {
    match &value["data"] {
        Value::String(s) => match s.strip_prefix("base64:") {
            Some(b64) => base64::engine::general_purpose::STANDARD.decode(b64).unwrap(),
            None => s.as_bytes().to_vec(),
        },
        Value::Array(items) => items.iter().map(|b| b.as_u64().unwrap() as u8).collect(),
        other => panic!("not a buffer: {other}"),
    }
}

/// A label uuid stored as MySQL's `UUID_TO_BIN(uuid, 1)`: time-high, time-mid, time-low, rest.
fn label_uuid(value: &Value) -> String {
    let b = bytes(value);
    let h = hex::encode([&b[4..8], &b[2..4], &b[0..2], &b[8..16]].concat());
    format!("{}-{}-{}-{}-{}", &h[0..8], &h[8..12], &h[12..16], &h[16..20], &h[20..32])
}

/// A MySQL DATETIME as the metrics write it (second precision, `Z`).
fn api_time(value: &Value) -> String {
    format!("{}Z", value.as_str().unwrap().replacen(' ', "T", 1))
}

// ---------------------------------------------------------------------------------------------
// What the file holds, as the metrics see it

struct Rule {
    /// Index into SEVERITIES. A revision's `ruleCount` is upstream's generated column over
    /// `lowCount + mediumCount + highCount` (the dump leaves it out as generated), so rules
    /// without a severity (three in the file's RHEL draft) count neither there nor in
    /// `assessments`.
    severity: Option<usize>,
    rule_id: String,
}

struct Revision {
    benchmark_id: String,
    /// what "current" orders by: not a draft, version, release
    currency: (bool, i64, f64),
    revision_str: String,
    date: Value,
    marking: Value,
    rules: Vec<Rule>,
}

impl Revision {
    fn rule_count(&self) -> usize {
        self.rules.iter().filter(|r| r.severity.is_some()).count()
    }
}

struct Review {
    asset: i64,
    key: Key,
    /// resultId − 1, an index into RESULTS
    result: usize,
    /// statusId, an index into STATUSES
    status: usize,
    engine: bool,
    ts: String,
    touch_ts: String,
}

struct Label {
    uuid: String,
    name: String,
    color: String,
    description: Value,
}

struct Asset {
    id: i64,
    collection: i64,
    name: String,
    ip: Value,
    fqdn: Value,
    mac: Value,
    noncomputing: bool,
    /// label ids (clId), by label name
    labels: Vec<i64>,
    stigs: BTreeSet<String>,
}

struct Model {
    dump: Dump,
    /// enabled collections: id → name
    collections: BTreeMap<i64, String>,
    /// enabled assets of enabled collections
    assets: BTreeMap<i64, Asset>,
    labels: BTreeMap<i64, Label>,
    titles: BTreeMap<String, String>,
    revisions: BTreeMap<String, Revision>,
    /// rule id → review key, as `rule_version_check_digest` holds it: the content of the
    /// newest-dated revision holding the rule
    keys: BTreeMap<String, Key>,
    /// rule id → benchmark date of the revision its key comes from
    key_dates: BTreeMap<String, String>,
    /// (collection, benchmark) → pinned revId
    pins: BTreeMap<(i64, String), String>,
    /// (collection, benchmark) → (default revId, pinned)
    defaults: BTreeMap<(i64, String), (String, bool)>,
    reviews: Vec<Review>,
}

/// Orders revisions for "current": non-draft first, then version and release, highest first.
fn currency(row: &Row) -> (bool, i64, f64) {
    let release: f64 = text(row, "release").parse().unwrap();
    (row["status"] != "draft", int(row, "version"), release)
}

/// Enabled assets of enabled collections, with their labels (by name) and STIGs.
fn read_assets(
    dump: &Dump,
    collections: &BTreeMap<i64, String>,
    labels: &BTreeMap<i64, Label>,
) -> BTreeMap<i64, Asset> {
    let mut assets: BTreeMap<i64, Asset> = dump
        .rows("asset")
        .iter()
        .filter(|a| a["state"] == "enabled" && collections.contains_key(&int(a, "collectionId")))
        .map(|a| {
            let asset = Asset {
                id: int(a, "assetId"),
                collection: int(a, "collectionId"),
                name: text(a, "name"),
                ip: a["ip"].clone(),
                fqdn: a["fqdn"].clone(),
                mac: a["mac"].clone(),
                noncomputing: a["noncomputing"] == true || a["noncomputing"] == 1,
                labels: Vec::new(),
                stigs: BTreeSet::new(),
            };
            (asset.id, asset)
        })
        .collect();
    for m in dump.rows("collection_label_asset_map") {
        if let Some(asset) = assets.get_mut(&int(m, "assetId")) {
            asset.labels.push(int(m, "clId"));
        }
    }
    for asset in assets.values_mut() {
        asset.labels.sort_by(|a, b| labels[a].name.cmp(&labels[b].name));
    }
    for m in dump.rows("stig_asset_map") {
        if let Some(asset) = assets.get_mut(&int(m, "assetId")) {
            asset.stigs.insert(text(m, "benchmarkId"));
        }
    }
    assets
}

fn read_labels(dump: &Dump) -> BTreeMap<i64, Label> {
    dump.rows("collection_label")
        .iter()
        .map(|l| {
            let label = Label {
                uuid: label_uuid(&l["uuid"]),
                name: text(l, "name"),
                color: text(l, "color"),
                description: l["description"].clone(),
            };
            (int(l, "clId"), label)
        })
        .collect()
}

/// Revisions with their rules, and per rule the date of the newest revision holding it.
fn read_revisions(dump: &Dump) -> (BTreeMap<String, Revision>, BTreeMap<String, String>) {
    let mut revisions: BTreeMap<String, Revision> = dump
        .rows("revision")
        .iter()
        .map(|r| {
            let revision = Revision {
                benchmark_id: text(r, "benchmarkId"),
                currency: currency(r),
                revision_str: format!("V{}R{}", int(r, "version"), text(r, "release")),
                date: r["benchmarkDateSql"].clone(),
                marking: r["marking"].clone(),
                rules: Vec::new(),
            };
            (text(r, "revId"), revision)
        })
        .collect();
    let mut key_dates: BTreeMap<String, String> = BTreeMap::new();
    for r in dump.rows("rev_group_rule_map") {
        let severity = SEVERITIES.iter().position(|s| r["severity"] == *s);
        let rule_id = text(r, "ruleId");
        let revision = revisions.get_mut(&text(r, "revId")).unwrap();
        let date = revision.date.as_str().unwrap().to_string();
        let newest = key_dates.entry(rule_id.clone()).or_insert(date.clone());
        *newest = date.max(newest.clone());
        revision.rules.push(Rule { severity, rule_id });
    }
    (revisions, key_dates)
}

fn read_reviews(dump: &Dump) -> Vec<Review> {
    dump.rows("review")
        .iter()
        .map(|r| {
            let ts = api_time(&r["ts"]);
            let status_ts = api_time(&r["statusTs"]);
            Review {
                asset: int(r, "assetId"),
                key: (text(r, "version"), bytes(&r["checkDigest"])),
                result: int(r, "resultId") as usize - 1,
                status: int(r, "statusId") as usize,
                engine: !r["resultEngine"].is_null(),
                touch_ts: ts.clone().max(status_ts),
                ts,
            }
        })
        .collect()
}

impl Model {
    fn build(dump: Dump) -> Model {
        let collections: BTreeMap<i64, String> = dump
            .rows("collection")
            .iter()
            .filter(|c| c["state"] == "enabled")
            .map(|c| (int(c, "collectionId"), text(c, "name")))
            .collect();
        let labels = read_labels(&dump);
        let assets = read_assets(&dump, &collections, &labels);
        let titles =
            dump.rows("stig").iter().map(|s| (text(s, "benchmarkId"), text(s, "title"))).collect();
        let keys = dump
            .rows("rule_version_check_digest")
            .iter()
            .map(|r| (text(r, "ruleId"), (text(r, "version"), bytes(&r["checkDigest"]))))
            .collect();
        let (revisions, key_dates) = read_revisions(&dump);
        let pins = dump
            .rows("collection_rev_map")
            .iter()
            .map(|p| ((int(p, "collectionId"), text(p, "benchmarkId")), text(p, "revId")))
            .collect();
        let reviews = read_reviews(&dump);
        let mut model = Model {
            dump,
            collections,
            assets,
            labels,
            titles,
            revisions,
            keys,
            key_dates,
            pins,
            defaults: BTreeMap::new(),
            reviews,
        };
        model.check_derived_tables();
        model.defaults = model.default_revisions();
        model.check_upstream_counters();
        model
    }

    /// The file's own counts and materialised revisions agree with what this model derives,
    /// so a misreading of the file shows here rather than as a server bug.
    fn check_derived_tables(&self) {
        for r in self.dump.rows("revision") {
            let rules = &self.revisions[&text(r, "revId")].rules;
            for (i, severity) in SEVERITIES.iter().enumerate() {
                let count = rules.iter().filter(|rule| rule.severity == Some(i)).count();
                assert_eq!(int(r, &format!("{severity}Count")) as usize, count);
            }
        }
        let current: BTreeMap<String, String> = self
            .dump
            .rows("current_rev")
            .iter()
            .map(|r| (text(r, "benchmarkId"), text(r, "revId")))
            .collect();
        assert_eq!(current, self.current_revisions());
        let defaults: BTreeMap<(i64, String), (String, bool)> = self
            .dump
            .rows("default_rev")
            .iter()
            .map(|r| {
                let key = (int(r, "collectionId"), text(r, "benchmarkId"));
                (key, (text(r, "revId"), int(r, "revisionPinned") == 1))
            })
            .collect();
        assert_eq!(defaults, self.default_revisions());
    }

    /// Upstream's own counters in `stig_asset_map` equal this model's recount wherever upstream
    /// computed them (mappings it never recounted hold nulls and must have no reviews).
    fn check_upstream_counters(&self) {
        for row in self.dump.rows("stig_asset_map") {
            let pair = (int(row, "assetId"), text(row, "benchmarkId"));
            if !self.assets.contains_key(&pair.0) {
                continue;
            }
            let counts = self.count(&pair);
            if row["assessedLowCount"].is_null() {
                assert_eq!(counts.min_ts, None, "{pair:?}");
                continue;
            }
            let at = |c: &str| int(row, c);
            for (i, severity) in ["Low", "Medium", "High"].iter().enumerate() {
                assert_eq!(counts.assessed[i], at(&format!("assessed{severity}Count")), "{pair:?}");
                assert_eq!(counts.findings[i], at(&format!("{}Count", severity.to_lowercase())));
            }
            for (i, result) in RESULTS.iter().enumerate() {
                assert_eq!(counts.results[i], [at(result), at(&format!("{result}ResultEngine"))]);
            }
            for (i, status) in STATUSES.iter().enumerate() {
                assert_eq!(counts.statuses[i], [at(status), at(&format!("{status}ResultEngine"))]);
            }
            let time = |c: &str| row[c].as_str().map(|_| api_time(&row[c]));
            assert_eq!(counts.min_ts, time("minTs"), "{pair:?}");
            assert_eq!(counts.max_ts, time("maxTs"), "{pair:?}");
            assert_eq!(counts.max_touch_ts, time("maxTouchTs"), "{pair:?}");
        }
    }

    fn current_revisions(&self) -> BTreeMap<String, String> {
        let mut best: BTreeMap<&str, (&str, &Revision)> = BTreeMap::new();
        for (rev_id, r) in &self.revisions {
            let entry = best.entry(&r.benchmark_id).or_insert((rev_id, r));
            if r.currency.partial_cmp(&entry.1.currency) == Some(std::cmp::Ordering::Greater) {
                *entry = (rev_id, r);
            }
        }
        best.into_iter().map(|(b, (rev_id, _))| (b.to_string(), rev_id.to_string())).collect()
    }

    /// The pin, else the current revision, for every (collection, STIG) with an enabled
    /// mapped asset.
    fn default_revisions(&self) -> BTreeMap<(i64, String), (String, bool)> {
        let current = self.current_revisions();
        let mut defaults = BTreeMap::new();
        for asset in self.assets.values() {
            for benchmark in &asset.stigs {
                let key = (asset.collection, benchmark.clone());
                let value = match self.pins.get(&key) {
                    Some(rev_id) => (rev_id.clone(), true),
                    None => (current[benchmark].clone(), false),
                };
                defaults.insert(key, value);
            }
        }
        defaults
    }

    /// Adds a revision imported from a benchmark file dated `date` (`YYYY-MM-DD`); its rules'
    /// review keys replace older-dated ones, as the server's index does.
    fn add_revision(&mut self, file: &BenchmarkFile, date: &str, marking: Value) {
        let (version, release) = file.revision_str[1..].split_once('R').unwrap();
        let rules = file
            .rules
            .iter()
            .map(|rule| {
                let key = (rule.version.clone(), hex::decode(&rule.check_digest).unwrap());
                if self.key_dates.get(&rule.rule_id).is_none_or(|d| d.as_str() < date) {
                    self.keys.insert(rule.rule_id.clone(), key);
                    self.key_dates.insert(rule.rule_id.clone(), date.to_string());
                }
                let severity = SEVERITIES.iter().position(|s| *s == rule.severity);
                Rule { severity, rule_id: rule.rule_id.clone() }
            })
            .collect();
        let revision = Revision {
            benchmark_id: file.benchmark_id.clone(),
            currency: (file.status != "draft", version.parse().unwrap(), release.parse().unwrap()),
            revision_str: file.revision_str.clone(),
            date: json!(date),
            marking,
            rules,
        };
        self.revisions.insert(format!("{}-{version}-{release}", file.benchmark_id), revision);
        self.defaults = self.default_revisions();
    }

    fn pin(&mut self, collection: i64, benchmark: &str, rev_id: &str) {
        self.pins.insert((collection, benchmark.to_string()), rev_id.to_string());
        self.defaults = self.default_revisions();
    }

    fn default_of(&self, collection: i64, benchmark: &str) -> &Revision {
        &self.revisions[&self.defaults[&(collection, benchmark.to_string())].0]
    }

    /// The counters of one asset/STIG pair at its collection's default revision; a review
    /// matched by two rules of the revision counts twice.
    fn count(&self, (asset_id, benchmark): &Pair) -> Counts {
        let asset = &self.assets[asset_id];
        let revision = self.default_of(asset.collection, benchmark);
        let mut c = Counts::default();
        for rule in &revision.rules {
            if let Some(s) = rule.severity {
                c.rules[s] += 1;
            }
            let key = &self.keys[&rule.rule_id];
            for review in self.reviews.iter().filter(|r| r.asset == *asset_id && r.key == *key) {
                c.add_review(review, rule.severity);
            }
        }
        c
    }

    fn sum<'a>(&self, pairs: impl IntoIterator<Item = &'a Pair>) -> Counts {
        let mut total = Counts::default();
        for pair in pairs {
            total.add(&self.count(pair));
        }
        total
    }
}

// ---------------------------------------------------------------------------------------------
// Counters

#[derive(Default, Clone, Debug)]
struct Counts {
    rules: [i64; 3],
    results: [[i64; 2]; 9],
    statuses: [[i64; 2]; 4],
    findings: [i64; 3],
    assessed: [i64; 3],
    min_ts: Option<String>,
    max_ts: Option<String>,
    max_touch_ts: Option<String>,
}

fn min_of(a: &Option<String>, b: &Option<String>) -> Option<String> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b).clone()),
        _ => a.clone().or(b.clone()),
    }
}

fn max_of(a: &Option<String>, b: &Option<String>) -> Option<String> {
    a.clone().max(b.clone())
}

impl Counts {
    fn add_review(&mut self, review: &Review, severity: Option<usize>) {
        let engine = i64::from(review.engine);
        self.results[review.result][0] += 1;
        self.results[review.result][1] += engine;
        self.statuses[review.status][0] += 1;
        self.statuses[review.status][1] += engine;
        if let Some(s) = severity {
            if RESULTS[review.result] == "fail" {
                self.findings[s] += 1;
            }
            if ["pass", "fail", "notapplicable"].contains(&RESULTS[review.result]) {
                self.assessed[s] += 1;
            }
        }
        self.min_ts = min_of(&self.min_ts, &Some(review.ts.clone()));
        self.max_ts = max_of(&self.max_ts, &Some(review.ts.clone()));
        self.max_touch_ts = max_of(&self.max_touch_ts, &Some(review.touch_ts.clone()));
    }

    fn add(&mut self, other: &Counts) {
        for i in 0..3 {
            self.rules[i] += other.rules[i];
            self.findings[i] += other.findings[i];
            self.assessed[i] += other.assessed[i];
        }
        for i in 0..9 {
            self.results[i][0] += other.results[i][0];
            self.results[i][1] += other.results[i][1];
        }
        for i in 0..4 {
            self.statuses[i][0] += other.statuses[i][0];
            self.statuses[i][1] += other.statuses[i][1];
        }
        self.min_ts = min_of(&self.min_ts, &other.min_ts);
        self.max_ts = max_of(&self.max_ts, &other.max_ts);
        self.max_touch_ts = max_of(&self.max_touch_ts, &other.max_touch_ts);
    }

    fn by_severity(values: [i64; 3]) -> Value {
        json!({"low": values[0], "medium": values[1], "high": values[2]})
    }

    fn result(&self, name: &str) -> [i64; 2] {
        self.results[RESULTS.iter().position(|r| *r == name).unwrap()]
    }

    fn json(&self, detail: bool) -> Value {
        let assessed: i64 =
            ["pass", "fail", "notapplicable"].iter().map(|r| self.result(r)[0]).sum();
        let mut metrics = json!({
            "assessments": self.rules.iter().sum::<i64>(),
            "assessmentsBySeverity": Self::by_severity(self.rules),
            "assessed": assessed,
            "assessedBySeverity": Self::by_severity(self.assessed),
            "minTs": self.min_ts,
            "maxTs": self.max_ts,
            "maxTouchTs": self.max_touch_ts,
            "findings": Self::by_severity(self.findings),
        });
        if detail {
            let pair = |c: [i64; 2]| json!({"total": c[0], "resultEngine": c[1]});
            let results: Map<String, Value> =
                RESULTS.iter().zip(self.results).map(|(r, c)| (r.to_string(), pair(c))).collect();
            let statuses: Map<String, Value> =
                STATUSES.iter().zip(self.statuses).map(|(s, c)| (s.to_string(), pair(c))).collect();
            metrics["results"] = Value::Object(results);
            metrics["statuses"] = Value::Object(statuses);
        } else {
            let other: i64 = RESULTS
                .iter()
                .filter(|r| !["pass", "fail", "notapplicable"].contains(r))
                .map(|r| self.result(r)[0])
                .sum();
            metrics["results"] = json!({"pass": self.result("pass")[0],
                "fail": self.result("fail")[0], "notapplicable": self.result("notapplicable")[0],
                "other": other});
            let statuses: Map<String, Value> = STATUSES
                .iter()
                .zip(self.statuses)
                .map(|(s, c)| (s.to_string(), json!(c[0])))
                .collect();
            metrics["statuses"] = Value::Object(statuses);
        }
        metrics
    }
}

// ---------------------------------------------------------------------------------------------
// Who sees what

/// A user's effective grant in one collection: its role and the grant ids whose ACL rules
/// apply (several when groups with the same top role merge).
struct Grant {
    role: i64,
    grant_ids: Vec<i64>,
}

/// What a user reads in one collection.
struct Scope {
    collection: i64,
    role: i64,
    /// whether assets without a counted pair still show (non-restricted, no STIG filter)
    bare_assets: bool,
    pairs: BTreeSet<Pair>,
}

struct User {
    id: i64,
    name: String,
    token: String,
    privileges: Vec<String>,
    scopes: Vec<Scope>,
}

impl User {
    fn scope(&self, collection: i64) -> Option<&Scope> {
        self.scopes.iter().find(|s| s.collection == collection)
    }
}

impl Model {
    /// DOMAIN-1 §4.3: a direct grant wins; else the highest role among the user's groups,
    /// whose grants then merge.
    fn effective_grant(&self, user_id: i64, collection: i64) -> Option<Grant> {
        let groups: BTreeSet<i64> = self
            .dump
            .rows("user_group_user_map")
            .iter()
            .filter(|m| int(m, "userId") == user_id)
            .map(|m| int(m, "userGroupId"))
            .collect();
        let grants: Vec<&Row> = self
            .dump
            .rows("collection_grant")
            .iter()
            .filter(|g| int(g, "collectionId") == collection)
            .collect();
        if let Some(direct) = grants.iter().find(|g| g["userId"].as_i64() == Some(user_id)) {
            return Some(Grant {
                role: int(direct, "roleId"),
                grant_ids: vec![int(direct, "grantId")],
            });
        }
        let via_groups: Vec<&&Row> = grants
            .iter()
            .filter(|g| g["userGroupId"].as_i64().is_some_and(|id| groups.contains(&id)))
            .collect();
        let role = via_groups.iter().map(|g| int(g, "roleId")).max()?;
        let grant_ids = via_groups
            .iter()
            .filter(|g| int(g, "roleId") == role)
            .map(|g| int(g, "grantId"))
            .collect();
        Some(Grant { role, grant_ids })
    }

    /// DOMAIN-1 §4.4: the most specific matching ACL rule decides, the most restrictive on a
    /// tie; without one, restricted grants read nothing and the others everything.
    fn readable(&self, grant: &Grant, asset: &Asset, benchmark: &str) -> bool {
        let mut best: Option<(i64, usize)> = None;
        for rule in self.dump.rows("collection_grant_acl") {
            if !grant.grant_ids.contains(&int(rule, "grantId")) {
                continue;
            }
            let on_asset = rule["assetId"].as_i64();
            let on_stig = rule["benchmarkId"].as_str();
            let on_label = rule["clId"].as_i64();
            if on_asset.is_some_and(|a| a != asset.id)
                || on_stig.is_some_and(|b| b != benchmark)
                || on_label.is_some_and(|l| !asset.labels.contains(&l))
            {
                continue;
            }
            let specificity = i64::from(on_stig.is_some())
                + i64::from(on_asset.is_some())
                + i64::from(on_asset.is_some() && on_stig.is_some())
                + i64::from(on_label.is_some());
            let access = ["none", "r", "rw"].iter().position(|a| rule["access"] == *a).unwrap();
            best = match best {
                Some((s, a)) if s > specificity || (s == specificity && a <= access) => {
                    Some((s, a))
                }
                _ => Some((specificity, access)),
            };
        }
        match best {
            Some((_, access)) => access > 0,
            None => grant.role > 1,
        }
    }

    /// What one user reads in each enabled collection where it holds a grant.
    fn scopes(&self, user_id: i64) -> Vec<Scope> {
        self.collections
            .keys()
            .filter_map(|c| {
                let grant = self.effective_grant(user_id, *c)?;
                let pairs = self
                    .assets
                    .values()
                    .filter(|a| a.collection == *c)
                    .flat_map(|a| a.stigs.iter().map(move |b| (a, b)))
                    .filter(|(a, b)| self.readable(&grant, a, b))
                    .map(|(a, b)| (a.id, b.clone()))
                    .collect();
                let bare_assets = grant.role > 1;
                Some(Scope { collection: *c, role: grant.role, bare_assets, pairs })
            })
            .collect()
    }

    /// The file's available users, each with a token carrying the privileges of its last
    /// recorded claims.
    fn users(&self, server: &TestServer) -> Vec<User> {
        let people = self.dump.rows("user_data").iter();
        people
            .filter(|u| u["taskId"].is_null() && u["status"] == "available")
            .map(|u| {
                let claims: Value = serde_json::from_str(&text(u, "lastClaims")).unwrap();
                let privileges: Vec<String> = claims["realm_access"]["roles"]
                    .as_array()
                    .map(|roles| roles.iter().map(|r| r.as_str().unwrap().to_string()).collect())
                    .unwrap_or_default();
                let name = text(u, "username");
                let privilege_refs: Vec<&str> = privileges.iter().map(String::as_str).collect();
                let token = server.token(&name, &privilege_refs);
                let id = int(u, "userId");
                User { id, name, token, privileges, scopes: self.scopes(id) }
            })
            .collect()
    }
}

// ---------------------------------------------------------------------------------------------
// Expected rows

/// Collection-form filters as the API takes them.
#[derive(Default, Clone, Debug)]
struct Filter {
    asset_ids: Vec<i64>,
    benchmark_ids: Vec<String>,
    label_ids: Vec<String>,
    label_names: Vec<String>,
    unlabeled: bool,
}

impl Filter {
    fn query(&self) -> String {
        let mut q = Vec::new();
        q.extend(self.asset_ids.iter().map(|v| format!("assetId={v}")));
        q.extend(self.benchmark_ids.iter().map(|v| format!("benchmarkId={v}")));
        q.extend(self.label_ids.iter().map(|v| format!("labelId={v}")));
        q.extend(self.label_names.iter().map(|v| format!("labelName={v}")));
        if self.unlabeled {
            q.push("labelMatch=null".into());
        }
        q.join("&")
    }

    fn by_label(&self) -> bool {
        !self.label_ids.is_empty() || !self.label_names.is_empty() || self.unlabeled
    }

    fn names_label(&self, label: &Label) -> bool {
        self.label_ids.contains(&label.uuid) || self.label_names.contains(&label.name)
    }

    fn benchmark_passes(&self, benchmark: &str) -> bool {
        self.benchmark_ids.is_empty() || self.benchmark_ids.iter().any(|b| b == benchmark)
    }
}

/// Meta-form filters.
#[derive(Default, Clone, Debug)]
struct MetaFilter {
    collection_ids: Vec<i64>,
    benchmark_ids: Vec<String>,
    rev_ids: Vec<String>,
}

impl MetaFilter {
    fn query(&self) -> String {
        let mut q = Vec::new();
        q.extend(self.collection_ids.iter().map(|v| format!("collectionId={v}")));
        q.extend(self.benchmark_ids.iter().map(|v| format!("benchmarkId={v}")));
        q.extend(self.rev_ids.iter().map(|v| format!("revisionId={v}")));
        q.join("&")
    }

    fn narrows_stigs(&self) -> bool {
        !self.benchmark_ids.is_empty() || !self.rev_ids.is_empty()
    }
}

impl Model {
    fn asset_passes(&self, asset: &Asset, filter: &Filter) -> bool {
        let by_id = filter.asset_ids.is_empty() || filter.asset_ids.contains(&asset.id);
        let by_label = !filter.by_label()
            || (filter.unlabeled && asset.labels.is_empty())
            || asset.labels.iter().any(|l| filter.names_label(&self.labels[l]));
        by_id && by_label
    }

    fn pairs(&self, scope: &Scope, filter: &Filter) -> BTreeSet<Pair> {
        scope
            .pairs
            .iter()
            .filter(|(a, b)| {
                self.asset_passes(&self.assets[a], filter) && filter.benchmark_passes(b)
            })
            .cloned()
            .collect()
    }

    /// Assets with a counted pair, and for non-restricted grants assets without STIGs unless
    /// a STIG filter applies; by name.
    fn visible_assets(&self, scope: &Scope, filter: &Filter) -> Vec<&Asset> {
        let pairs = self.pairs(scope, filter);
        let mut assets: Vec<&Asset> = self
            .assets
            .values()
            .filter(|a| a.collection == scope.collection && self.asset_passes(a, filter))
            .filter(|a| {
                pairs.iter().any(|(id, _)| *id == a.id)
                    || (a.stigs.is_empty() && scope.bare_assets && filter.benchmark_ids.is_empty())
            })
            .collect();
        assets.sort_by(|a, b| (&a.name, a.id).cmp(&(&b.name, b.id)));
        assets
    }

    fn label_refs(&self, asset: &Asset) -> Value {
        asset
            .labels
            .iter()
            .map(|l| {
                let label = &self.labels[l];
                json!({"labelId": label.uuid, "name": label.name, "color": label.color})
            })
            .collect()
    }

    fn unaggregated(&self, scope: &Scope, filter: &Filter, detail: bool) -> Vec<Value> {
        self.pairs(scope, filter)
            .iter()
            .map(|pair| {
                let asset = &self.assets[&pair.0];
                let revision = self.default_of(asset.collection, &pair.1);
                json!({
                    "assetId": asset.id.to_string(),
                    "name": asset.name,
                    "labels": self.label_refs(asset),
                    "benchmarkId": pair.1,
                    "title": self.titles[&pair.1],
                    "marking": revision.marking,
                    "revisionStr": revision.revision_str,
                    "revisionPinned": self.defaults[&(asset.collection, pair.1.clone())].1,
                    "revisionDate": revision.date,
                    "metrics": self.count(pair).json(detail),
                })
            })
            .collect()
    }

    fn by_asset(&self, scope: &Scope, filter: &Filter, detail: bool) -> Vec<Value> {
        let pairs = self.pairs(scope, filter);
        self.visible_assets(scope, filter)
            .into_iter()
            .map(|asset| {
                let mine: Vec<&Pair> = pairs.iter().filter(|(a, _)| *a == asset.id).collect();
                json!({
                    "assetId": asset.id.to_string(),
                    "name": asset.name,
                    "labels": self.label_refs(asset),
                    "ip": asset.ip,
                    "fqdn": asset.fqdn,
                    "mac": asset.mac,
                    "noncomputing": asset.noncomputing,
                    "benchmarkIds": mine.iter().map(|(_, b)| b).collect::<Vec<_>>(),
                    "metrics": self.sum(mine).json(detail),
                })
            })
            .collect()
    }

    fn by_collection(&self, scope: &Scope, filter: &Filter, detail: bool) -> Value {
        let pairs = self.pairs(scope, filter);
        let stigs: BTreeSet<&String> = pairs.iter().map(|(_, b)| b).collect();
        json!({
            "collectionId": scope.collection.to_string(),
            "name": self.collections[&scope.collection],
            "assets": self.visible_assets(scope, filter).len(),
            "stigs": stigs.len(),
            "checklists": pairs.len(),
            "metrics": self.sum(&pairs).json(detail),
        })
    }

    /// A row per label of a visible asset (only the named labels when the filter names
    /// some) and one for unlabeled assets, by name with the unlabeled row first.
    fn by_label(&self, scope: &Scope, filter: &Filter, detail: bool) -> Vec<Value> {
        let pairs = self.pairs(scope, filter);
        let mut groups: BTreeMap<(Option<&str>, i64), Vec<&Asset>> = BTreeMap::new();
        for asset in self.visible_assets(scope, filter) {
            if asset.labels.is_empty() && (!filter.by_label() || filter.unlabeled) {
                groups.entry((None, 0)).or_default().push(asset);
            }
            for l in &asset.labels {
                let label = &self.labels[l];
                if !filter.by_label() || filter.names_label(label) {
                    groups.entry((Some(&label.name), *l)).or_default().push(asset);
                }
            }
        }
        groups
            .into_iter()
            .map(|((_, l), members)| {
                let mine = pairs.iter().filter(|(a, _)| members.iter().any(|m| m.id == *a));
                let label = self.labels.get(&l);
                json!({
                    "labelId": label.map(|l| &l.uuid),
                    "name": label.map(|l| &l.name),
                    "color": label.map(|l| &l.color),
                    "description": label.map_or(Value::Null, |l| l.description.clone()),
                    "assets": members.len(),
                    "metrics": self.sum(mine).json(detail),
                })
            })
            .collect()
    }

    fn by_stig(&self, scope: &Scope, filter: &Filter, detail: bool) -> Vec<Value> {
        let pairs = self.pairs(scope, filter);
        let stigs: BTreeSet<&String> = pairs.iter().map(|(_, b)| b).collect();
        stigs
            .into_iter()
            .map(|benchmark| {
                let mine: Vec<&Pair> = pairs.iter().filter(|(_, b)| b == benchmark).collect();
                let (rev_id, pinned) = &self.defaults[&(scope.collection, benchmark.clone())];
                let revision = &self.revisions[rev_id];
                json!({
                    "benchmarkId": benchmark,
                    "title": self.titles[benchmark],
                    "marking": revision.marking,
                    "revisionStr": revision.revision_str,
                    "revisionPinned": pinned,
                    "revisionDate": revision.date,
                    "assets": mine.len(),
                    "ruleCount": revision.rule_count(),
                    "metrics": self.sum(mine).json(detail),
                })
            })
            .collect()
    }

    /// The user's scopes the meta filter keeps, each with its pairs narrowed by STIG and
    /// revision.
    fn meta_scopes(&self, user: &User, filter: &MetaFilter) -> Vec<Scope> {
        user.scopes
            .iter()
            .filter(|s| {
                filter.collection_ids.is_empty() || filter.collection_ids.contains(&s.collection)
            })
            .map(|s| Scope {
                collection: s.collection,
                role: s.role,
                bare_assets: s.bare_assets && !filter.narrows_stigs(),
                pairs: s
                    .pairs
                    .iter()
                    .filter(|(a, b)| {
                        let rev_id = &self.defaults[&(self.assets[a].collection, b.clone())].0;
                        (filter.benchmark_ids.is_empty() || filter.benchmark_ids.contains(b))
                            && (filter.rev_ids.is_empty() || filter.rev_ids.contains(rev_id))
                    })
                    .cloned()
                    .collect(),
            })
            .filter(|s| !filter.narrows_stigs() || !s.pairs.is_empty())
            .collect()
    }

    /// Collections in scope by name; with a STIG or revision filter only those it matches.
    fn meta_by_collection(&self, user: &User, filter: &MetaFilter, detail: bool) -> Vec<Value> {
        let mut scopes = self.meta_scopes(user, filter);
        scopes.sort_by_key(|s| (self.collections[&s.collection].clone(), s.collection));
        scopes.iter().map(|s| self.by_collection(s, &Filter::default(), detail)).collect()
    }

    fn meta(&self, user: &User, filter: &MetaFilter, detail: bool) -> Value {
        let rows = self.meta_by_collection(user, filter, detail);
        let scopes = self.meta_scopes(user, filter);
        let pairs: Vec<&Pair> = scopes.iter().flat_map(|s| s.pairs.iter()).collect();
        let stigs: BTreeSet<&String> = pairs.iter().map(|(_, b)| b).collect();
        json!({
            "collections": rows.len(),
            "assets": rows.iter().map(|r| r["assets"].as_i64().unwrap()).sum::<i64>(),
            "stigs": stigs.len(),
            "checklists": pairs.len(),
            "metrics": self.sum(pairs).json(detail),
        })
    }

    /// One row per default revision across the scopes, by benchmark id.
    fn meta_by_stig(&self, user: &User, filter: &MetaFilter, detail: bool) -> Vec<Value> {
        let scopes = self.meta_scopes(user, filter);
        let mut groups: BTreeMap<(String, String), Vec<&Pair>> = BTreeMap::new();
        for scope in &scopes {
            for pair in &scope.pairs {
                let rev_id = &self.defaults[&(scope.collection, pair.1.clone())].0;
                groups.entry((pair.1.clone(), rev_id.clone())).or_default().push(pair);
            }
        }
        groups
            .into_iter()
            .map(|((benchmark, rev_id), mine)| {
                let revision = &self.revisions[&rev_id];
                let collections: BTreeSet<i64> =
                    mine.iter().map(|(a, _)| self.assets[a].collection).collect();
                json!({
                    "benchmarkId": benchmark,
                    "title": self.titles[&benchmark],
                    "marking": revision.marking,
                    "revisionStr": revision.revision_str,
                    "revisionDate": revision.date,
                    "collections": collections.len(),
                    "assets": mine.len(),
                    "ruleCount": revision.rule_count(),
                    "metrics": self.sum(mine).json(detail),
                })
            })
            .collect()
    }
}

// ---------------------------------------------------------------------------------------------
// CSV

const SUMMARY_COLUMNS: &str = "assessments,assessmentsLow,assessmentsMedium,assessmentsHigh,assessed,assessedLow,assessedMedium,assessedHigh,minTs,maxTs,maxTouchTs,findingsLow,findingsMedium,findingsHigh,pass,fail,notapplicable,other,saved,submitted,accepted,rejected";
const DETAIL_COLUMNS: &str = "assessments,assessmentsLow,assessmentsMedium,assessmentsHigh,assessed,assessedLow,assessedMedium,assessedHigh,minTs,maxTs,maxTouchTs,findingsLow,findingsMedium,findingsHigh,saved,savedResultEngine,submitted,submittedResultEngine,accepted,acceptedResultEngine,rejected,rejectedResultEngine,pass,passResultEngine,fail,failResultEngine,notapplicable,notapplicableResultEngine,notchecked,notcheckedResultEngine,unknown,unknownResultEngine,error,errorResultEngine,notselected,notselectedResultEngine,informational,informationalResultEngine,fixed,fixedResultEngine";

/// Where a flattened metrics column lives in the JSON metrics object.
fn metric_pointer(column: &str, detail: bool) -> String {
    for (prefix, object) in [
        ("assessments", "assessmentsBySeverity"),
        ("assessed", "assessedBySeverity"),
        ("findings", "findings"),
    ] {
        if let Some(severity) = column.strip_prefix(prefix).filter(|s| !s.is_empty()) {
            return format!("/{object}/{}", severity.to_lowercase());
        }
    }
    if ["assessments", "assessed", "minTs", "maxTs", "maxTouchTs"].contains(&column) {
        return format!("/{column}");
    }
    let (name, part) = match column.strip_suffix("ResultEngine") {
        Some(name) => (name, "/resultEngine"),
        None => (column, if detail { "/total" } else { "" }),
    };
    let group = if STATUSES.contains(&name) { "statuses" } else { "results" };
    format!("/{group}/{name}{part}")
}

fn csv_quote(text: &str) -> String {
    match text.contains([',', '"', '\n', '\r']) {
        true => format!("\"{}\"", text.replace('"', "\"\"")),
        false => text.to_string(),
    }
}

/// A JSON value as a CSV cell: labels and id lists joined by commas, true as `1`, false and
/// null empty.
fn csv_cell(value: &Value) -> String {
    match value {
        Value::Null | Value::Bool(false) => String::new(),
        Value::Bool(true) => "1".into(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => csv_quote(s),
        Value::Array(items) => {
            let parts: Vec<&str> =
                items.iter().map(|i| i["name"].as_str().or(i.as_str()).unwrap()).collect();
            csv_quote(&parts.join(","))
        }
        Value::Object(_) => panic!("no object goes into a CSV cell: {value}"),
    }
}

/// The CSV of expected JSON rows: header, one line per row, `\n` after each.
fn csv_of(rows: &[Value], base: &str, detail: bool) -> String {
    let metrics = if detail { DETAIL_COLUMNS } else { SUMMARY_COLUMNS };
    let mut out = format!("{base},{metrics}\n");
    for row in rows {
        let mut cells: Vec<String> = base.split(',').map(|c| csv_cell(&row[c])).collect();
        cells.extend(
            metrics
                .split(',')
                .map(|c| csv_cell(row["metrics"].pointer(&metric_pointer(c, detail)).unwrap())),
        );
        out.push_str(&cells.join(","));
        out.push('\n');
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Requests and checks

/// The five collection forms: path suffix and CSV base columns.
const COLLECTION_FORMS: [(&str, &str); 5] = [
    ("", "assetId,name,labels,benchmarkId,title,marking,revisionStr,revisionPinned,revisionDate"),
    ("/asset", "assetId,name,labels,benchmarkIds"),
    ("/collection", "collectionId,name,assets,checklists"),
    ("/label", "labelId,name,assets"),
    ("/stig", "benchmarkId,title,marking,revisionStr,revisionPinned,revisionDate,assets,ruleCount"),
];

const META_FORMS: [(&str, &str); 3] = [
    ("", "collections,assets,stigs,checklists"),
    ("/collection", "collectionId,name,assets,checklists"),
    ("/stig", "benchmarkId,title,marking,revisionStr,revisionDate,collections,assets,ruleCount"),
];

async fn get(s: &TestServer, token: &str, path: &str) -> (u16, Value) {
    s.get(token, path).await
}

async fn get_csv(s: &TestServer, token: &str, path: &str) -> String {
    let response = s.client.get(s.url(path)).bearer_auth(token).send().await.unwrap();
    assert_eq!(response.status(), 200, "{path}");
    let kind = response.headers()["content-type"].to_str().unwrap().to_string();
    assert_eq!(kind, "text/csv; charset=utf-8", "{path}");
    response.text().await.unwrap()
}

/// Rows whose order the contract leaves open, in a fixed order.
fn by_pair(rows: &Value) -> Vec<Value> {
    let mut rows = rows.as_array().unwrap_or_else(|| panic!("not an array: {rows}")).clone();
    rows.sort_by_key(|r| (r["assetId"].to_string(), r["benchmarkId"].to_string()));
    rows
}

/// The JSON pointers at which two values differ, with both sides.
fn differences(actual: &Value, expected: &Value, at: String, out: &mut Vec<String>) {
    match (actual, expected) {
        (Value::Object(a), Value::Object(e)) => {
            let keys: BTreeSet<&String> = a.keys().chain(e.keys()).collect();
            for k in keys {
                let (x, y) = (a.get(k).unwrap_or(&Value::Null), e.get(k).unwrap_or(&Value::Null));
                if !a.contains_key(k) || !e.contains_key(k) {
                    out.push(format!(
                        "{at}/{k}: present {} vs {}",
                        a.contains_key(k),
                        e.contains_key(k)
                    ));
                } else {
                    differences(x, y, format!("{at}/{k}"), out);
                }
            }
        }
        (Value::Array(a), Value::Array(e)) if a.len() != e.len() => {
            out.push(format!(
                "{at}: {} rows, want {}: got {actual}, want {expected}",
                a.len(),
                e.len()
            ));
        }
        (Value::Array(a), Value::Array(e)) => {
            for (i, (x, y)) in a.iter().zip(e).enumerate() {
                differences(x, y, format!("{at}/{i}"), out);
            }
        }
        _ if actual != expected => out.push(format!("{at}: got {actual}, want {expected}")),
        _ => {}
    }
}

fn assert_same(actual: &Value, expected: &Value, context: &str) {
    let mut out = Vec::new();
    differences(actual, expected, String::new(), &mut out);
    assert!(out.is_empty(), "{context}:\n{}", out.join("\n"));
}

fn lines_sorted(text: &str) -> Vec<&str> {
    let mut lines: Vec<&str> = text.lines().collect();
    lines[1..].sort();
    lines
}

fn by_revision(rows: &Value) -> Value {
    let mut rows = rows.as_array().unwrap_or_else(|| panic!("not an array: {rows}")).clone();
    rows.sort_by_key(|r| (r["benchmarkId"].to_string(), r["revisionStr"].to_string()));
    Value::Array(rows)
}

fn with_query(path: &str, query: &str) -> String {
    match query.is_empty() {
        true => path.to_string(),
        false => format!("{path}?{query}"),
    }
}

fn with_csv(path: &str) -> String {
    let sep = if path.contains('?') { '&' } else { '?' };
    format!("{path}{sep}format=csv")
}

struct Check<'a> {
    s: &'a TestServer,
    model: &'a Model,
}

impl Check<'_> {
    /// The expected JSON of one collection form.
    fn collection_form(&self, form: &str, scope: &Scope, filter: &Filter, detail: bool) -> Value {
        let m = self.model;
        match form {
            "" => Value::Array(m.unaggregated(scope, filter, detail)),
            "/asset" => Value::Array(m.by_asset(scope, filter, detail)),
            "/collection" => m.by_collection(scope, filter, detail),
            "/label" => Value::Array(m.by_label(scope, filter, detail)),
            "/stig" => Value::Array(m.by_stig(scope, filter, detail)),
            _ => unreachable!(),
        }
    }

    /// Every collection form of one collection, both styles, against the recount; with
    /// `csv`, the CSV of each too. Without a grant every form is 403.
    async fn collection(&self, user: &User, collection: i64, filter: &Filter, csv: bool) {
        let q = filter.query();
        let Some(scope) = user.scope(collection) else {
            for style in ["summary", "detail"] {
                for (form, _) in COLLECTION_FORMS {
                    let path =
                        with_query(&format!("/collections/{collection}/metrics/{style}{form}"), &q);
                    let (status, body) = get(self.s, &user.token, &path).await;
                    assert_eq!(status, 403, "{} {path}: {body}", user.name);
                    assert!(body["error"].is_string(), "{} {path}: {body}", user.name);
                }
            }
            return;
        };
        for (style, detail) in [("summary", false), ("detail", true)] {
            for (form, base) in COLLECTION_FORMS {
                let path =
                    with_query(&format!("/collections/{collection}/metrics/{style}{form}"), &q);
                let expected = self.collection_form(form, scope, filter, detail);
                let (status, actual) = get(self.s, &user.token, &path).await;
                assert_eq!(status, 200, "{} {path}: {actual}", user.name);
                match form {
                    "" => assert_same(
                        &Value::Array(by_pair(&actual)),
                        &Value::Array(by_pair(&expected)),
                        &format!("{} {path}", user.name),
                    ),
                    _ => assert_same(&actual, &expected, &format!("{} {path}", user.name)),
                }
                if !csv {
                    continue;
                }
                let rows = match &expected {
                    Value::Array(rows) => rows.clone(),
                    one => vec![one.clone()],
                };
                let text = get_csv(self.s, &user.token, &with_csv(&path)).await;
                let want = csv_of(&rows, base, detail);
                match form {
                    "" => {
                        assert_eq!(lines_sorted(&text), lines_sorted(&want), "{} {path}", user.name)
                    }
                    _ => assert_eq!(text, want, "{} {path}", user.name),
                }
            }
        }
    }

    /// The three meta forms, both styles, against the recount (and their CSV with `csv`).
    async fn meta(&self, user: &User, filter: &MetaFilter, csv: bool) {
        let m = self.model;
        for (style, detail) in [("summary", false), ("detail", true)] {
            for (form, base) in META_FORMS {
                // revisionId exists on the collection form only
                let filter = match form {
                    "/collection" => filter.clone(),
                    _ => MetaFilter { rev_ids: Vec::new(), ..filter.clone() },
                };
                let path = with_query(
                    &format!("/collections/meta/metrics/{style}{form}"),
                    &filter.query(),
                );
                let expected = match form {
                    "" => m.meta(user, &filter, detail),
                    "/collection" => Value::Array(m.meta_by_collection(user, &filter, detail)),
                    _ => Value::Array(m.meta_by_stig(user, &filter, detail)),
                };
                let (status, actual) = get(self.s, &user.token, &path).await;
                assert_eq!(status, 200, "{} {path}: {actual}", user.name);
                let context = format!("{} {path}", user.name);
                if form != "/stig" {
                    assert_same(&actual, &expected, &context);
                } else {
                    // by benchmark id; the order of one STIG's revisions is left open
                    let ids: Vec<&Value> =
                        actual.as_array().unwrap().iter().map(|r| &r["benchmarkId"]).collect();
                    assert!(ids.windows(2).all(|w| w[0].as_str() <= w[1].as_str()), "{context}");
                    assert_same(&by_revision(&actual), &by_revision(&expected), &context);
                }
                if csv {
                    let rows = match &expected {
                        Value::Array(rows) => rows.clone(),
                        one => vec![one.clone()],
                    };
                    let text = get_csv(self.s, &user.token, &with_csv(&path)).await;
                    let want = csv_of(&rows, base, detail);
                    assert_eq!(lines_sorted(&text), lines_sorted(&want), "{context}");
                }
            }
        }
    }
}

async fn post_appdata(s: &TestServer, token: &str, body: &str) {
    let response = s
        .client
        .post(s.url("/op/appdata?elevate=true"))
        .bearer_auth(token)
        .header("content-type", "application/jsonl")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let reply = response.text().await.unwrap();
    let last: Value = serde_json::from_str(reply.lines().last().unwrap()).unwrap();
    assert_eq!(last, json!({"status": "success"}), "{reply}");
}

/// A server holding the file's installation (as given, or as `edit` leaves the file's text),
/// and the model of the file as given.
async fn installation_with(edit: impl FnOnce(&str) -> String) -> (TestServer, Model) {
    let s = TestServer::start_with(&["--experimental-appdata", "true"]).await;
    let text = std::fs::read_to_string(shared("data/appdata/appdata.jsonl")).unwrap();
    let loader = s.token("appdata-loader", &["admin"]);
    post_appdata(&s, &loader, &edit(&text)).await;
    (s, Model::build(Dump::parse(&text)))
}

async fn installation() -> (TestServer, Model) {
    installation_with(str::to_string).await
}

/// The file with upstream's materialised metrics counters in `stig_asset_map` and the
/// `revisionPinned` flags of `default_rev` replaced by wrong values.
fn with_wrong_derived_tables(text: &str) -> String {
    let kept = ["assetId", "benchmarkId", "saId", "userIds"];
    let mut table = String::new();
    let mut columns: Vec<String> = Vec::new();
    let mut out = Vec::new();
    for line in text.lines() {
        let value: Value = serde_json::from_str(line).unwrap();
        if let Some(list) = value["columns"].as_str() {
            table = value["table"].as_str().unwrap().to_string();
            columns = list.split(',').map(|c| c.trim_matches('`').to_string()).collect();
        }
        let Value::Array(mut row) = value else {
            out.push(line.to_string());
            continue;
        };
        for (column, cell) in columns.iter().zip(row.iter_mut()) {
            match (table.as_str(), column.as_str()) {
                ("stig_asset_map", c) if c.ends_with("Ts") => *cell = json!("1999-09-09 09:09:09"),
                ("stig_asset_map", c) if !kept.contains(&c) => *cell = json!(77),
                ("default_rev", "revisionPinned") => *cell = json!(1),
                _ => {}
            }
        }
        out.push(Value::Array(row).to_string());
    }
    out.join("\n")
}

/// The kinds of user the issue names, each of which the file must supply.
fn kinds(model: &Model, users: &[User]) -> BTreeSet<&'static str> {
    let grants = model.dump.rows("collection_grant");
    let mut kinds = BTreeSet::new();
    for user in users {
        if user.privileges.iter().any(|p| p == "admin") {
            kinds.insert("admin");
        }
        if user.scopes.is_empty() {
            kinds.insert("no grant");
        } else if !grants.iter().any(|g| g["userId"].as_i64() == Some(user.id)) {
            kinds.insert("group only");
        }
        for scope in &user.scopes {
            kinds.insert(["restricted", "full", "manage", "owner"][scope.role as usize - 1]);
            if scope.role == 1 && !scope.pairs.is_empty() {
                kinds.insert("restricted with ACL");
            }
        }
    }
    kinds
}

#[tokio::test]
async fn every_operation_agrees_with_a_recount_for_every_user_of_the_file() {
    let (s, model) = installation().await;
    let users = model.users(&s);
    let expected_kinds = BTreeSet::from([
        "admin",
        "owner",
        "manage",
        "full",
        "restricted",
        "restricted with ACL",
        "group only",
        "no grant",
    ]);
    assert_eq!(kinds(&model, &users), expected_kinds);
    // disabled collections are in the list too: nobody reads their metrics
    let all_collections: Vec<i64> =
        model.dump.rows("collection").iter().map(|c| int(c, "collectionId")).collect();
    assert!(all_collections.len() > model.collections.len(), "the file has a disabled collection");
    let check = Check { s: &s, model: &model };
    for user in &users {
        for collection in &all_collections {
            check.collection(user, *collection, &Filter::default(), true).await;
        }
        check.meta(user, &MetaFilter::default(), true).await;
    }
    s.stop().await;
}

/// A benchmark file's date (`Benchmark Date: 19 Jul 2010` in its release info) as `YYYY-MM-DD`.
fn benchmark_date(file: &str) -> String {
    let bytes = BenchmarkFile::bytes(file);
    let text = String::from_utf8_lossy(&bytes);
    let date = common::xccdf::between(&text, "Benchmark Date: ", "<")[0];
    let parts: Vec<&str> = date.split_whitespace().collect();
    let months =
        ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    let month = months.iter().position(|m| *m == parts[1]).unwrap() + 1;
    format!("{}-{month:02}-{:0>2}", parts[2], parts[0])
}

/// Users whose grants and pairs are the same read the same rows; one of each is enough where
/// many requests per user are made.
fn distinct_views(users: &[User]) -> Vec<&User> {
    let mut seen = BTreeSet::new();
    users
        .iter()
        .filter(|u| {
            let view: Vec<(i64, i64, BTreeSet<Pair>)> =
                u.scopes.iter().map(|s| (s.collection, s.role, s.pairs.clone())).collect();
            seen.insert(view)
        })
        .collect()
}

/// Filters built from one collection's labels, assets and STIGs, plus filters naming another
/// collection's label and asset and a STIG nothing is assigned, which select nothing.
fn filters(model: &Model, collection: i64) -> Vec<Filter> {
    let assets: Vec<&Asset> =
        model.assets.values().filter(|a| a.collection == collection).collect();
    let elsewhere = model.assets.values().find(|a| a.collection != collection).unwrap();
    let foreign_label =
        model.labels.iter().find(|(id, _)| !assets.iter().any(|a| a.labels.contains(id)));
    let stigs: BTreeSet<&String> = assets.iter().flat_map(|a| a.stigs.iter()).collect();
    let mut out = vec![Filter { unlabeled: true, ..Filter::default() }];
    let labels: BTreeSet<i64> = assets.iter().flat_map(|a| a.labels.iter().copied()).collect();
    for l in &labels {
        let label = &model.labels[l];
        out.push(Filter { label_ids: vec![label.uuid.clone()], ..Filter::default() });
        out.push(Filter { label_names: vec![label.name.clone()], ..Filter::default() });
        out.push(Filter {
            label_ids: vec![label.uuid.clone()],
            unlabeled: true,
            ..Filter::default()
        });
    }
    if let Some((_, label)) = foreign_label {
        out.push(Filter { label_ids: vec![label.uuid.clone()], ..Filter::default() });
        out.push(Filter { label_names: vec![label.name.clone()], ..Filter::default() });
    }
    for asset in &assets {
        out.push(Filter { asset_ids: vec![asset.id], ..Filter::default() });
    }
    out.push(Filter {
        asset_ids: assets.iter().take(2).map(|a| a.id).collect(),
        ..Filter::default()
    });
    out.push(Filter { asset_ids: vec![elsewhere.id], ..Filter::default() });
    for stig in &stigs {
        out.push(Filter { benchmark_ids: vec![stig.to_string()], ..Filter::default() });
        let holder = assets.iter().find(|a| a.stigs.contains(*stig)).unwrap();
        out.push(Filter {
            benchmark_ids: vec![stig.to_string()],
            asset_ids: vec![holder.id],
            label_ids: holder.labels.iter().map(|l| model.labels[l].uuid.clone()).collect(),
            unlabeled: holder.labels.is_empty(),
            ..Filter::default()
        });
    }
    out.push(Filter {
        benchmark_ids: stigs.iter().map(|s| s.to_string()).collect(),
        ..Filter::default()
    });
    let unassigned = model.titles.keys().find(|b| !stigs.contains(b)).unwrap();
    out.push(Filter { benchmark_ids: vec![unassigned.clone()], ..Filter::default() });
    out
}

/// Meta filters from the file: each collection alone, an ungranted and a missing id beside a
/// granted one, each STIG, each revision, and a mix.
fn meta_filters(model: &Model) -> Vec<MetaFilter> {
    let mut out = Vec::new();
    let collections: Vec<i64> = model.collections.keys().copied().collect();
    for c in &collections {
        out.push(MetaFilter { collection_ids: vec![*c], ..MetaFilter::default() });
    }
    out.push(MetaFilter { collection_ids: vec![collections[0], 999_999], ..MetaFilter::default() });
    for benchmark in model.titles.keys() {
        out.push(MetaFilter { benchmark_ids: vec![benchmark.clone()], ..MetaFilter::default() });
    }
    for rev_id in model.revisions.keys() {
        out.push(MetaFilter { rev_ids: vec![rev_id.clone()], ..MetaFilter::default() });
    }
    let (first_rev, first) = model.revisions.iter().next().unwrap();
    out.push(MetaFilter {
        collection_ids: collections.iter().take(2).copied().collect(),
        benchmark_ids: vec![first.benchmark_id.clone()],
        rev_ids: vec![first_rev.clone()],
    });
    out
}

#[tokio::test]
async fn filters_agree_with_a_recount_for_every_kind_of_user() {
    let (s, model) = installation().await;
    let users = model.users(&s);
    let check = Check { s: &s, model: &model };
    // every collection with an assignment (the file's reviews are in two of them)
    let assigned: BTreeSet<i64> =
        model.defaults.keys().map(|(collection, _)| *collection).collect();
    for user in distinct_views(&users) {
        for collection in &assigned {
            for (i, filter) in filters(&model, *collection).iter().enumerate() {
                check.collection(user, *collection, filter, i == 0).await;
            }
        }
        for (i, filter) in meta_filters(&model).iter().enumerate() {
            check.meta(user, filter, i == 0).await;
        }
    }
    s.stop().await;
}

#[tokio::test]
async fn a_pin_to_an_older_revision_moves_what_counts() {
    let (s, mut model) = installation().await;
    let file = "U_VPN_SRG_V1R0_Manual-xccdf.xml";
    let loader = s.token("appdata-loader", &["admin"]);
    let (status, body) =
        s.upload(&loader, "/stigs?elevate=true", file, BenchmarkFile::bytes(file)).await;
    assert_eq!(status, 200, "{body}");
    let older = BenchmarkFile::read(file);
    // the file has no marking; the server's importer records its own default (library content,
    // not a metric, so it is read back rather than guessed)
    let path = format!("/stigs/{}/revisions/{}", older.benchmark_id, older.revision_str);
    let (status, revision) = s.get(&loader, &path).await;
    assert_eq!(status, 200, "{revision}");
    model.add_revision(&older, &benchmark_date(file), revision["marking"].clone());

    // the collection whose assignments of this STIG hold the most reviews is pinned
    let reviewed = |c: i64| {
        let holders = model
            .assets
            .values()
            .filter(|a| a.collection == c && a.stigs.contains(&older.benchmark_id));
        holders.map(|a| model.reviews.iter().filter(|r| r.asset == a.id).count()).sum::<usize>()
    };
    let collection = *model
        .defaults
        .keys()
        .filter(|(_, b)| *b == older.benchmark_id)
        .map(|(c, _)| c)
        .max_by_key(|c| reviewed(**c))
        .unwrap();
    let users = model.users(&s);
    let owner = users.iter().find(|u| u.scope(collection).is_some_and(|s| s.role == 4)).unwrap();
    let scope = owner.scope(collection).unwrap();
    let before = model.by_collection(scope, &Filter::default(), true);
    let path = format!("/collections/{collection}/stigs/{}", older.benchmark_id);
    let pin = json!({"defaultRevisionStr": older.revision_str});
    let (status, body) = s.send("POST", &owner.token, &path, pin).await;
    assert_eq!(status, 200, "{body}");
    model.pin(collection, &older.benchmark_id, &format!("{}-1-0", older.benchmark_id));
    let after = model.by_collection(scope, &Filter::default(), true);
    assert_ne!(before["metrics"], after["metrics"], "the pin must change what counts");

    let check = Check { s: &s, model: &model };
    for user in distinct_views(&users) {
        for c in model.collections.keys() {
            check.collection(user, *c, &Filter::default(), false).await;
        }
        for filter in meta_filters(&model) {
            check.meta(user, &filter, false).await;
        }
    }
    s.stop().await;
}

#[tokio::test]
async fn counts_follow_the_reviews_not_the_counters_stored_in_the_file() {
    let text = std::fs::read_to_string(shared("data/appdata/appdata.jsonl")).unwrap();
    let (given, edited) = (Dump::parse(&text), Dump::parse(&with_wrong_derived_tables(&text)));
    assert_eq!(given.0.keys().collect::<Vec<_>>(), edited.0.keys().collect::<Vec<_>>());
    assert_ne!(given.rows("stig_asset_map"), edited.rows("stig_asset_map"));
    assert_eq!(given.rows("review"), edited.rows("review"));

    let (s, model) = installation_with(with_wrong_derived_tables).await;
    let users = model.users(&s);
    let check = Check { s: &s, model: &model };
    for user in distinct_views(&users) {
        for collection in model.collections.keys() {
            check.collection(user, *collection, &Filter::default(), false).await;
        }
        check.meta(user, &MetaFilter::default(), false).await;
    }
    s.stop().await;
}

#[tokio::test]
async fn a_review_two_rules_of_a_revision_share_counts_twice() {
    let (s, mut model) = installation().await;
    // the file's revision in which two rules share one review key
    let (rev_id, rule_ids) = model
        .revisions
        .iter()
        .find_map(|(rev_id, revision)| {
            let mut by_key: BTreeMap<&Key, Vec<&str>> = BTreeMap::new();
            for rule in &revision.rules {
                by_key.entry(&model.keys[&rule.rule_id]).or_default().push(&rule.rule_id);
            }
            let shared = by_key.into_values().find(|ids| ids.len() == 2)?;
            Some((rev_id.clone(), shared.iter().map(|id| id.to_string()).collect::<Vec<_>>()))
        })
        .unwrap();
    let benchmark = model.revisions[&rev_id].benchmark_id.clone();
    let users = model.users(&s);
    let (owner, scope) = users
        .iter()
        .find_map(|u| u.scopes.iter().find(|s| s.role == 4 && !s.pairs.is_empty()).map(|s| (u, s)))
        .unwrap();
    let asset = model.assets[&scope.pairs.first().unwrap().0].id;

    let path = format!("/assets/{asset}/stigs/{benchmark}");
    let (status, body) = s.send("PUT", &owner.token, &path, json!({})).await;
    assert_eq!(status, 200, "{body}");
    let path = format!("/collections/{}/reviews/{asset}/{}", scope.collection, rule_ids[0]);
    let review = json!({"result": "fail", "detail": "seen twice", "comment": "one review"});
    let (status, written) = s.send("PUT", &owner.token, &path, review).await;
    assert_eq!(status, 201, "{written}");

    model.assets.get_mut(&asset).unwrap().stigs.insert(benchmark.clone());
    model.defaults = model.default_revisions();
    model.reviews.push(Review {
        asset,
        key: model.keys[&rule_ids[0]].clone(),
        result: RESULTS.iter().position(|r| *r == "fail").unwrap(),
        status: 0,
        engine: false,
        // the review's times are the server's clock; the metrics must repeat them
        ts: written["ts"].as_str().unwrap().to_string(),
        touch_ts: written["touchTs"].as_str().unwrap().to_string(),
    });
    assert_eq!(model.count(&(asset, benchmark.clone())).result("fail"), [2, 0]);

    let users = model.users(&s);
    let check = Check { s: &s, model: &model };
    for user in distinct_views(&users) {
        check.collection(user, scope.collection, &Filter::default(), true).await;
        check.meta(user, &MetaFilter::default(), false).await;
    }
    s.stop().await;
}
