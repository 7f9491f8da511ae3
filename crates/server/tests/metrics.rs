//! Metrics API tests on a real server: every form, filter and role, with the expected numbers
//! recounted here from the reviews the test wrote and the rules the library lists, without the
//! server's SQL. SQLite by default, PostgreSQL with `STIGWARD_TEST_BACKEND=postgres`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::{shared, TestServer};
use serde_json::{json, Value};
use stigward_domain::Role;
use stigward_storage::access::Access;
use stigward_storage::Store;

const VPN: &str = "VPN_SRG_TEST";
const CHROME: &str = "Google_Chrome_Current_Windows";
const PGSQL: &str = "Crunchy_Data_PostgreSQL_STIG";

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

/// A rule of a revision: its id, severity and review key (STIG id and check text).
#[derive(Clone)]
struct Rule {
    rule_id: String,
    severity: String,
    key: (String, String),
}

/// A review as the test wrote it.
struct Written {
    asset_id: String,
    key: (String, String),
    result: usize,
    status: usize,
    engine: bool,
}

#[derive(Clone)]
struct AssetModel {
    id: String,
    name: String,
    collection: String,
    /// (uuid, name), by name.
    labels: Vec<(String, String)>,
    stigs: Vec<String>,
}

/// The installation the tests read: two collections, labels, assets, reviews, three users.
struct Fixture {
    server: TestServer,
    store: Store,
    admin: String,
    cid: String,
    other_cid: String,
    assets: Vec<AssetModel>,
    /// label name -> uuid in the main collection
    labels: BTreeMap<String, String>,
    /// rules of every revision, by revId
    revisions: BTreeMap<String, Vec<Rule>>,
    /// (collection id, benchmark id) -> default revId
    defaults: BTreeMap<(String, String), String>,
    /// (collection id, benchmark id) pinned to their default
    pins: BTreeSet<(String, String)>,
    reviews: Vec<Written>,
}

/// A collection's id, visible pairs and visible asset count.
type CollectionView = (String, BTreeSet<(String, String)>, usize);

/// Which asset/STIG pairs a user may read, and whether it sees assets without STIGs.
struct View {
    token: String,
    pairs: BTreeSet<(String, String)>,
    bare_assets: bool,
    collections: Vec<String>,
}

/// Filters as the API takes them.
#[derive(Default, Clone)]
struct Filter {
    asset_ids: Vec<String>,
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

    fn label_shown(&self, (uuid, name): &(String, String)) -> bool {
        !self.by_label() || self.label_ids.contains(uuid) || self.label_names.contains(name)
    }

    fn asset_passes(&self, asset: &AssetModel) -> bool {
        let by_id = self.asset_ids.is_empty() || self.asset_ids.contains(&asset.id);
        let by_label = !self.by_label()
            || (self.unlabeled && asset.labels.is_empty())
            || asset
                .labels
                .iter()
                .any(|l| self.label_ids.contains(&l.0) || self.label_names.contains(&l.1));
        by_id && by_label
    }
}

/// Counters recounted by the test.
#[derive(Default, Clone, Debug)]
struct Expect {
    rules: [i64; 3],
    results: [[i64; 2]; 9],
    statuses: [[i64; 2]; 4],
    findings: [i64; 3],
    assessed: [i64; 3],
    reviews: i64,
}

fn severity_index(severity: &str) -> Option<usize> {
    ["low", "medium", "high"].iter().position(|s| *s == severity)
}

impl Expect {
    fn add(&mut self, other: &Expect) {
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
        self.reviews += other.reviews;
    }

    fn severities(values: [i64; 3]) -> Value {
        json!({"low": values[0], "medium": values[1], "high": values[2]})
    }

    fn assessed_total(&self) -> i64 {
        self.results[1][0] + self.results[2][0] + self.results[3][0]
    }

    fn summary(&self) -> Value {
        let other: i64 = [0, 4, 5, 6, 7, 8].iter().map(|i| self.results[*i][0]).sum();
        json!({
            "assessments": self.rules.iter().sum::<i64>(),
            "assessmentsBySeverity": Self::severities(self.rules),
            "assessed": self.assessed_total(),
            "assessedBySeverity": Self::severities(self.assessed),
            "results": {"pass": self.results[2][0], "fail": self.results[3][0],
                "notapplicable": self.results[1][0], "other": other},
            "statuses": {"saved": self.statuses[0][0], "submitted": self.statuses[1][0],
                "rejected": self.statuses[2][0], "accepted": self.statuses[3][0]},
            "findings": Self::severities(self.findings),
        })
    }

    fn detail(&self) -> Value {
        let pair = |c: [i64; 2]| json!({"total": c[0], "resultEngine": c[1]});
        let results: serde_json::Map<String, Value> = RESULTS
            .iter()
            .enumerate()
            .map(|(i, r)| (r.to_string(), pair(self.results[i])))
            .collect();
        let statuses: serde_json::Map<String, Value> = STATUSES
            .iter()
            .enumerate()
            .map(|(i, s)| (s.to_string(), pair(self.statuses[i])))
            .collect();
        json!({
            "assessments": self.rules.iter().sum::<i64>(),
            "assessmentsBySeverity": Self::severities(self.rules),
            "assessed": self.assessed_total(),
            "assessedBySeverity": Self::severities(self.assessed),
            "results": results,
            "statuses": statuses,
            "findings": Self::severities(self.findings),
        })
    }

    fn json(&self, detail: bool) -> Value {
        if detail {
            self.detail()
        } else {
            self.summary()
        }
    }
}

/// Compares a metrics object with a recount; timestamps are checked for presence only, as
/// the server's clock stamps them.
fn assert_metrics(actual: &Value, expected: &Expect, detail: bool, context: &str) {
    let mut actual = actual.clone();
    let object = actual.as_object_mut().unwrap();
    for ts in ["minTs", "maxTs", "maxTouchTs"] {
        let value = object.remove(ts).unwrap_or_else(|| panic!("{context}: no {ts}"));
        match expected.reviews {
            0 => assert!(value.is_null(), "{context}: {ts} = {value}"),
            _ => assert!(value.as_str().is_some_and(|t| t.ends_with('Z')), "{context}: {ts}"),
        }
    }
    assert_eq!(actual, expected.json(detail), "{context}");
}

async fn import_library(server: &TestServer) {
    let files = [
        "U_VPN_SRG_V1R0_Manual-xccdf.xml",
        "U_VPN_SRG_V1R1_Manual-xccdf.xml",
        "U_Google_Chrome_STIG_V2R8_Manual-xccdf.xml",
        "U_CD_PGSQL_STIG_V1R1_Manual-xccdf.xml",
    ];
    let paths: Vec<String> =
        files.iter().map(|f| shared(&format!("data/stigs/{f}")).display().to_string()).collect();
    let args: Vec<&str> = paths.iter().map(String::as_str).collect();
    server.import_cli(&args).await;
}

async fn rules_of(server: &TestServer, token: &str, benchmark: &str, revision: &str) -> Vec<Rule> {
    let path = format!("/stigs/{benchmark}/revisions/{revision}/rules?projection=check");
    let (status, rules) = server.get(token, &path).await;
    assert_eq!(status, 200, "{rules}");
    rules
        .as_array()
        .unwrap()
        .iter()
        .map(|r| Rule {
            rule_id: r["ruleId"].as_str().unwrap().into(),
            severity: r["severity"].as_str().unwrap().into(),
            key: (
                r["version"].as_str().unwrap().into(),
                r["check"]["content"].as_str().unwrap_or_default().into(),
            ),
        })
        .collect()
}

async fn create_collection(fx: &TestServer, token: &str, name: &str, labels: &[&str]) -> Value {
    let (_, me) = fx.get(token, "/user").await;
    let labels: Vec<Value> =
        labels.iter().map(|l| json!({"name": l, "color": "aa00aa", "description": "d"})).collect();
    let body = json!({"name": name, "grants": [{"userId": me["userId"], "roleId": 4}],
        "labels": labels});
    let (status, created) = fx.send("POST", token, "/collections?projection=labels", body).await;
    assert_eq!(status, 201, "{created}");
    created
}

async fn create_asset(
    server: &TestServer,
    token: &str,
    cid: &str,
    name: &str,
    labels: &[&str],
    stigs: &[&str],
) -> String {
    let body = json!({"name": name, "collectionId": cid, "description": null, "ip": "10.0.0.1",
        "noncomputing": false, "metadata": {}, "stigs": stigs, "labelNames": labels});
    let (status, asset) = server.send("POST", token, "/assets", body).await;
    assert_eq!(status, 201, "{asset}");
    asset["assetId"].as_str().unwrap().to_string()
}

impl Fixture {
    async fn build() -> Fixture {
        let server = TestServer::start().await;
        let admin = server.token("admin", &["admin", "create_collection"]);
        import_library(&server).await;
        let mut revisions = BTreeMap::new();
        for (benchmark, revision, rev_id) in [
            (VPN, "V1R0", "VPN_SRG_TEST-1-0"),
            (VPN, "V1R1", "VPN_SRG_TEST-1-1"),
            (CHROME, "V2R8", "Google_Chrome_Current_Windows-2-8"),
            (PGSQL, "V1R1", "Crunchy_Data_PostgreSQL_STIG-1-1"),
        ] {
            revisions
                .insert(rev_id.to_string(), rules_of(&server, &admin, benchmark, revision).await);
        }
        let created =
            create_collection(&server, &admin, "Metrics Fleet", &["web", "db", "spare"]).await;
        let cid = created["collectionId"].as_str().unwrap().to_string();
        let labels: BTreeMap<String, String> = created["labels"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| (l["name"].as_str().unwrap().into(), l["labelId"].as_str().unwrap().into()))
            .collect();
        let other = create_collection(&server, &admin, "Other Fleet", &["web"]).await;
        let other_cid = other["collectionId"].as_str().unwrap().to_string();

        let plan: [(&str, &str, &[&str], &[&str]); 6] = [
            ("alpha", "main", &["web"], &[VPN, CHROME]),
            ("bravo", "main", &["web", "db"], &[VPN, PGSQL]),
            ("charlie", "main", &[], &[CHROME]),
            ("delta", "main", &["db"], &[]),
            ("echo", "main", &[], &[]),
            ("foxtrot", "other", &["web"], &[CHROME]),
        ];
        let mut assets = Vec::new();
        for (name, which, asset_labels, stigs) in plan {
            let collection = if which == "main" { &cid } else { &other_cid };
            let id = create_asset(&server, &admin, collection, name, asset_labels, stigs).await;
            let mut label_uuids: Vec<(String, String)> = match which {
                "main" => {
                    asset_labels.iter().map(|l| (labels[*l].clone(), l.to_string())).collect()
                }
                _ => vec![(other["labels"][0]["labelId"].as_str().unwrap().into(), "web".into())],
            };
            label_uuids.sort_by(|a, b| a.1.cmp(&b.1));
            assets.push(AssetModel {
                id,
                name: name.into(),
                collection: collection.clone(),
                labels: label_uuids,
                stigs: stigs.iter().map(|s| s.to_string()).collect(),
            });
        }
        let store = Store::connect(&server.database_url, 2).await.unwrap();
        let mut defaults = BTreeMap::new();
        for collection in [&cid, &other_cid] {
            defaults.insert((collection.clone(), VPN.into()), "VPN_SRG_TEST-1-1".into());
            defaults.insert(
                (collection.clone(), CHROME.into()),
                "Google_Chrome_Current_Windows-2-8".into(),
            );
            defaults.insert(
                (collection.clone(), PGSQL.into()),
                "Crunchy_Data_PostgreSQL_STIG-1-1".into(),
            );
        }
        let mut fx = Fixture {
            server,
            store,
            admin,
            cid,
            other_cid,
            assets,
            labels,
            revisions,
            defaults,
            pins: BTreeSet::new(),
            reviews: Vec::new(),
        };
        fx.write_reviews().await;
        fx
    }

    /// Writes a varied mix of results, statuses and result engines to every asset, leaving
    /// some rules unreviewed.
    async fn write_reviews(&mut self) {
        for (seed, asset) in self.assets.clone().iter().enumerate() {
            let mut items = Vec::new();
            for benchmark in &asset.stigs {
                let rev_id = &self.defaults[&(asset.collection.clone(), benchmark.clone())];
                for (i, rule) in self.revisions[rev_id].iter().enumerate() {
                    if (i + seed) % 5 == 0 {
                        continue;
                    }
                    let result = (i * 7 + seed) % 9;
                    let assessed = (1..=3).contains(&result);
                    let status = if assessed { (i + seed) % 4 } else { 0 };
                    let engine = i % 3 == 0;
                    let mut item = json!({"ruleId": rule.rule_id, "result": RESULTS[result],
                        "detail": "seen", "comment": "noted", "status": STATUSES[status]});
                    if engine {
                        item["resultEngine"] = json!({"type": "script", "product": "test"});
                    }
                    items.push(item);
                    self.reviews.push(Written {
                        asset_id: asset.id.clone(),
                        key: rule.key.clone(),
                        result,
                        status,
                        engine,
                    });
                }
            }
            if items.is_empty() {
                continue;
            }
            let path = format!("/collections/{}/reviews/{}", asset.collection, asset.id);
            let (status, reply) = self.server.send("POST", &self.admin, &path, json!(items)).await;
            assert_eq!(status, 200, "{reply}");
            assert_eq!(reply["rejected"], json!([]), "{reply}");
        }
    }

    fn asset(&self, id: &str) -> &AssetModel {
        self.assets.iter().find(|a| a.id == id).unwrap()
    }

    fn asset_named(&self, name: &str) -> &AssetModel {
        self.assets.iter().find(|a| a.name == name).unwrap()
    }

    /// The recount of one asset/STIG pair at its collection's default revision.
    fn pair(&self, asset_id: &str, benchmark: &str) -> Expect {
        let asset = self.asset(asset_id);
        let rev_id = &self.defaults[&(asset.collection.clone(), benchmark.to_string())];
        let mut e = Expect::default();
        for rule in &self.revisions[rev_id] {
            let severity = severity_index(&rule.severity);
            if let Some(s) = severity {
                e.rules[s] += 1;
            }
            for review in
                self.reviews.iter().filter(|r| r.asset_id == asset_id && r.key == rule.key)
            {
                e.reviews += 1;
                let engine = i64::from(review.engine);
                e.results[review.result][0] += 1;
                e.results[review.result][1] += engine;
                e.statuses[review.status][0] += 1;
                e.statuses[review.status][1] += engine;
                if let Some(s) = severity {
                    if review.result == 3 {
                        e.findings[s] += 1;
                    }
                    if (1..=3).contains(&review.result) {
                        e.assessed[s] += 1;
                    }
                }
            }
        }
        e
    }

    fn sum<'a>(&self, pairs: impl Iterator<Item = &'a (String, String)>) -> Expect {
        let mut total = Expect::default();
        for (asset, benchmark) in pairs {
            total.add(&self.pair(asset, benchmark));
        }
        total
    }

    /// Users: the owner, a full grant whose ACL hides charlie, a restricted grant reading
    /// alpha's VPN and everything labelled db, and a user without a grant.
    async fn views(&self) -> (View, View, View, View) {
        let all: BTreeSet<(String, String)> = self
            .assets
            .iter()
            .filter(|a| a.collection == self.cid)
            .flat_map(|a| a.stigs.iter().map(|s| (a.id.clone(), s.clone())))
            .collect();
        let cid: i64 = self.cid.parse().unwrap();
        let full_token = self.server.token("fuller", &[]);
        let full_id = self.user_id(&full_token).await;
        let grant = self.store.insert_grant(cid, full_id, Role::Full).await.unwrap();
        let charlie: i64 = self.asset_named("charlie").id.parse().unwrap();
        self.store.insert_acl_rule(grant, Some(charlie), None, None, Access::None).await.unwrap();
        let restricted_token = self.server.token("rita", &[]);
        let restricted_id = self.user_id(&restricted_token).await;
        let grant = self.store.insert_grant(cid, restricted_id, Role::Restricted).await.unwrap();
        let alpha: i64 = self.asset_named("alpha").id.parse().unwrap();
        self.store
            .insert_acl_rule(grant, Some(alpha), Some(VPN), None, Access::Read)
            .await
            .unwrap();
        let db = self.store.label_id_by_uuid(&self.labels["db"]).await.unwrap();
        self.store.insert_acl_rule(grant, None, None, Some(db), Access::ReadWrite).await.unwrap();
        let charlie_id = self.asset_named("charlie").id.clone();
        let alpha_id = self.asset_named("alpha").id.clone();
        let bravo_id = self.asset_named("bravo").id.clone();
        let mut owner_pairs = all.clone();
        owner_pairs.extend(
            self.assets
                .iter()
                .filter(|a| a.collection == self.other_cid)
                .flat_map(|a| a.stigs.iter().map(|s| (a.id.clone(), s.clone()))),
        );
        let owner = View {
            token: self.admin.clone(),
            pairs: owner_pairs,
            bare_assets: true,
            collections: vec![self.cid.clone(), self.other_cid.clone()],
        };
        let full = View {
            token: full_token,
            pairs: all.iter().filter(|(a, _)| *a != charlie_id).cloned().collect(),
            bare_assets: true,
            collections: vec![self.cid.clone()],
        };
        let restricted = View {
            token: restricted_token,
            pairs: [(alpha_id, VPN), (bravo_id.clone(), VPN), (bravo_id, PGSQL)]
                .into_iter()
                .map(|(a, b)| (a, b.to_string()))
                .collect(),
            bare_assets: false,
            collections: vec![self.cid.clone()],
        };
        let token = self.server.token("nobody", &[]);
        let _ = self.user_id(&token).await;
        let none = View { token, pairs: BTreeSet::new(), bare_assets: false, collections: vec![] };
        (owner, full, restricted, none)
    }

    async fn user_id(&self, token: &str) -> i64 {
        let (status, me) = self.server.get(token, "/user").await;
        assert_eq!(status, 200, "{me}");
        me["userId"].as_str().unwrap().parse().unwrap()
    }

    /// Visible pairs of one collection after the filter.
    fn pairs(&self, view: &View, cid: &str, filter: &Filter) -> BTreeSet<(String, String)> {
        view.pairs
            .iter()
            .filter(|(a, b)| {
                let asset = self.asset(a);
                asset.collection == cid
                    && filter.asset_passes(asset)
                    && (filter.benchmark_ids.is_empty() || filter.benchmark_ids.contains(b))
            })
            .cloned()
            .collect()
    }

    /// Visible assets of one collection after the filter, by name.
    fn visible_assets(&self, view: &View, cid: &str, filter: &Filter) -> Vec<&AssetModel> {
        let pairs = self.pairs(view, cid, filter);
        let mut assets: Vec<&AssetModel> = self
            .assets
            .iter()
            .filter(|a| a.collection == cid && filter.asset_passes(a))
            .filter(|a| {
                pairs.iter().any(|(id, _)| *id == a.id)
                    || (a.stigs.is_empty() && view.bare_assets && filter.benchmark_ids.is_empty())
            })
            .collect();
        assets.sort_by(|a, b| a.name.cmp(&b.name));
        assets
    }

    async fn get(&self, token: &str, path: &str) -> Value {
        let (status, body) = self.server.get(token, path).await;
        assert_eq!(status, 200, "{path}: {body}");
        body
    }

    /// Checks the five collection forms of one style against the recount.
    async fn check_collection_forms(&self, view: &View, filter: &Filter, detail: bool) {
        let style = if detail { "detail" } else { "summary" };
        let base = format!("/collections/{}/metrics/{style}", self.cid);
        let q = filter.query();
        let pairs = self.pairs(view, &self.cid, filter);
        let assets = self.visible_assets(view, &self.cid, filter);
        let ctx = |form: &str| format!("{style}/{form} ?{q}");

        let rows = self.get(&view.token, &format!("{base}?{q}")).await;
        let got: BTreeSet<(String, String)> = rows
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (r["assetId"].as_str().unwrap().into(), r["benchmarkId"].as_str().unwrap().into())
            })
            .collect();
        assert_eq!(got, pairs, "{}", ctx("unaggregated"));
        for row in rows.as_array().unwrap() {
            let (asset, benchmark) =
                (row["assetId"].as_str().unwrap(), row["benchmarkId"].as_str().unwrap());
            assert_metrics(
                &row["metrics"],
                &self.pair(asset, benchmark),
                detail,
                &ctx("unaggregated"),
            );
            assert_eq!(row["name"], json!(self.asset(asset).name));
            let pinned = self.pins.contains(&(self.cid.clone(), benchmark.to_string()));
            assert_eq!(row["revisionPinned"], json!(pinned));
        }

        let rows = self.get(&view.token, &format!("{base}/asset?{q}")).await;
        let names: Vec<&str> =
            rows.as_array().unwrap().iter().map(|r| r["name"].as_str().unwrap()).collect();
        let expected_names: Vec<&str> = assets.iter().map(|a| a.name.as_str()).collect();
        assert_eq!(names, expected_names, "{}", ctx("asset"));
        for (row, asset) in rows.as_array().unwrap().iter().zip(&assets) {
            let mine: Vec<&(String, String)> =
                pairs.iter().filter(|(a, _)| *a == asset.id).collect();
            let ids: Vec<&str> = mine.iter().map(|(_, b)| b.as_str()).collect();
            assert_eq!(row["benchmarkIds"], json!(ids), "{}", ctx("asset"));
            let labels: Vec<&str> = asset.labels.iter().map(|(_, n)| n.as_str()).collect();
            let got: Vec<&str> = row["labels"]
                .as_array()
                .unwrap()
                .iter()
                .map(|l| l["name"].as_str().unwrap())
                .collect();
            assert_eq!(got, labels);
            assert_metrics(&row["metrics"], &self.sum(mine.into_iter()), detail, &ctx("asset"));
        }

        let row = self.get(&view.token, &format!("{base}/collection?{q}")).await;
        let stigs: BTreeSet<&String> = pairs.iter().map(|(_, b)| b).collect();
        assert_eq!(row["collectionId"], json!(self.cid));
        assert_eq!(row["assets"], json!(assets.len()), "{}", ctx("collection"));
        assert_eq!(row["stigs"], json!(stigs.len()), "{}", ctx("collection"));
        assert_eq!(row["checklists"], json!(pairs.len()), "{}", ctx("collection"));
        assert_metrics(&row["metrics"], &self.sum(pairs.iter()), detail, &ctx("collection"));

        let rows = self.get(&view.token, &format!("{base}/label?{q}")).await;
        let mut expected: BTreeMap<Option<String>, Vec<&AssetModel>> = BTreeMap::new();
        for asset in &assets {
            if asset.labels.is_empty() && (!filter.by_label() || filter.unlabeled) {
                expected.entry(None).or_default().push(asset);
            }
            for label in asset.labels.iter().filter(|l| filter.label_shown(l)) {
                expected.entry(Some(label.1.clone())).or_default().push(asset);
            }
        }
        let got: Vec<Value> = rows.as_array().unwrap().iter().map(|r| r["name"].clone()).collect();
        assert_eq!(got, expected.keys().map(|k| json!(k)).collect::<Vec<_>>(), "{}", ctx("label"));
        for (row, members) in rows.as_array().unwrap().iter().zip(expected.values()) {
            assert_eq!(row["assets"], json!(members.len()), "{}", ctx("label"));
            let member_pairs = pairs.iter().filter(|(a, _)| members.iter().any(|m| m.id == *a));
            assert_metrics(&row["metrics"], &self.sum(member_pairs), detail, &ctx("label"));
        }

        let rows = self.get(&view.token, &format!("{base}/stig?{q}")).await;
        let got: Vec<&str> =
            rows.as_array().unwrap().iter().map(|r| r["benchmarkId"].as_str().unwrap()).collect();
        assert_eq!(got, stigs.iter().map(|s| s.as_str()).collect::<Vec<_>>(), "{}", ctx("stig"));
        for row in rows.as_array().unwrap() {
            let benchmark = row["benchmarkId"].as_str().unwrap();
            let mine: Vec<&(String, String)> =
                pairs.iter().filter(|(_, b)| b == benchmark).collect();
            let rev_id = &self.defaults[&(self.cid.clone(), benchmark.to_string())];
            assert_eq!(row["assets"], json!(mine.len()), "{}", ctx("stig"));
            assert_eq!(row["ruleCount"], json!(self.revisions[rev_id].len()), "{}", ctx("stig"));
            assert_metrics(&row["metrics"], &self.sum(mine.into_iter()), detail, &ctx("stig"));
        }
    }

    /// Checks the three meta forms of one style against the recount.
    async fn check_meta_forms(
        &self,
        view: &View,
        query: &str,
        collections: &[String],
        detail: bool,
    ) {
        let style = if detail { "detail" } else { "summary" };
        let base = format!("/collections/meta/metrics/{style}");
        let all = Filter::default();
        let per_collection: Vec<CollectionView> = collections
            .iter()
            .map(|c| {
                (c.clone(), self.pairs(view, c, &all), self.visible_assets(view, c, &all).len())
            })
            .collect();
        let pairs: BTreeSet<(String, String)> =
            per_collection.iter().flat_map(|(_, p, _)| p.iter().cloned()).collect();

        let row = self.get(&view.token, &format!("{base}?{query}")).await;
        let stigs: BTreeSet<&String> = pairs.iter().map(|(_, b)| b).collect();
        assert_eq!(row["collections"], json!(collections.len()), "meta {style}");
        let assets: usize = per_collection.iter().map(|(_, _, n)| n).sum();
        assert_eq!(row["assets"], json!(assets), "meta {style}");
        assert_eq!(row["stigs"], json!(stigs.len()));
        assert_eq!(row["checklists"], json!(pairs.len()));
        assert_metrics(&row["metrics"], &self.sum(pairs.iter()), detail, "meta");

        let rows = self.get(&view.token, &format!("{base}/collection?{query}")).await;
        let ids: BTreeSet<&str> =
            rows.as_array().unwrap().iter().map(|r| r["collectionId"].as_str().unwrap()).collect();
        assert_eq!(ids, collections.iter().map(String::as_str).collect(), "meta/collection");
        for row in rows.as_array().unwrap() {
            let (_, mine, assets) =
                per_collection.iter().find(|(c, _, _)| row["collectionId"] == json!(c)).unwrap();
            assert_eq!(row["assets"], json!(assets));
            assert_eq!(row["checklists"], json!(mine.len()));
            assert_metrics(&row["metrics"], &self.sum(mine.iter()), detail, "meta/collection");
        }

        let rows = self.get(&view.token, &format!("{base}/stig?{query}")).await;
        let got: Vec<&str> =
            rows.as_array().unwrap().iter().map(|r| r["benchmarkId"].as_str().unwrap()).collect();
        assert_eq!(got, stigs.iter().map(|s| s.as_str()).collect::<Vec<_>>(), "meta/stig");
        for row in rows.as_array().unwrap() {
            let benchmark = row["benchmarkId"].as_str().unwrap();
            let mine: Vec<&(String, String)> =
                pairs.iter().filter(|(_, b)| b == benchmark).collect();
            let owners: BTreeSet<&String> =
                mine.iter().map(|(a, _)| &self.asset(a).collection).collect();
            assert_eq!(row["collections"], json!(owners.len()), "meta/stig {benchmark}");
            assert_eq!(row["assets"], json!(mine.len()), "meta/stig {benchmark}");
            assert_metrics(&row["metrics"], &self.sum(mine.into_iter()), detail, "meta/stig");
        }
    }
}

#[tokio::test]
async fn every_form_agrees_with_a_recount_for_each_role() {
    let fx = Fixture::build().await;
    let (owner, full, restricted, none) = fx.views().await;
    for view in [&owner, &full, &restricted] {
        for detail in [false, true] {
            fx.check_collection_forms(view, &Filter::default(), detail).await;
            fx.check_meta_forms(view, "", &view.collections, detail).await;
        }
    }
    for form in ["summary", "detail/asset", "summary/collection", "detail/label", "summary/stig"] {
        let path = format!("/collections/{}/metrics/{form}", fx.cid);
        let (status, body) = fx.server.get(&none.token, &path).await;
        assert_eq!(status, 403, "{body}");
        assert!(body["error"].is_string());
    }
    let meta = fx.get(&none.token, "/collections/meta/metrics/summary").await;
    assert_eq!(meta["collections"], 0);
    assert_eq!(meta["metrics"]["assessments"], 0);
    assert!(meta["metrics"]["minTs"].is_null());
    for form in ["summary/collection", "detail/stig"] {
        assert_eq!(
            fx.get(&none.token, &format!("/collections/meta/metrics/{form}")).await,
            json!([])
        );
    }
    fx.server.stop().await;
}

#[tokio::test]
async fn filters_agree_with_a_recount() {
    let fx = Fixture::build().await;
    let (owner, _, restricted, _) = fx.views().await;
    let alpha = fx.asset_named("alpha").id.clone();
    let bravo = fx.asset_named("bravo").id.clone();
    let filters = [
        Filter { asset_ids: vec![alpha.clone(), bravo], ..Filter::default() },
        Filter { benchmark_ids: vec![VPN.into()], ..Filter::default() },
        Filter { benchmark_ids: vec![CHROME.into(), PGSQL.into()], ..Filter::default() },
        Filter { label_ids: vec![fx.labels["web"].clone()], ..Filter::default() },
        Filter { label_names: vec!["db".into()], ..Filter::default() },
        Filter { unlabeled: true, ..Filter::default() },
        Filter { label_ids: vec![fx.labels["db"].clone()], unlabeled: true, ..Filter::default() },
        Filter { asset_ids: vec![alpha], benchmark_ids: vec![CHROME.into()], ..Filter::default() },
    ];
    for view in [&owner, &restricted] {
        for filter in &filters {
            fx.check_collection_forms(view, filter, false).await;
        }
        fx.check_collection_forms(view, &filters[6], true).await;
    }
    let only_main = format!("collectionId={}", fx.cid);
    fx.check_meta_forms(&owner, &only_main, std::slice::from_ref(&fx.cid), false).await;
    let ungranted = format!("collectionId={}&collectionId=999999", fx.other_cid);
    fx.check_meta_forms(&restricted, &ungranted, &[], true).await;

    let chrome = "/collections/meta/metrics/summary/collection?benchmarkId=".to_string() + CHROME;
    let rows = fx.get(&owner.token, &chrome).await;
    assert_eq!(rows.as_array().unwrap().len(), 2);
    for row in rows.as_array().unwrap() {
        let cid = row["collectionId"].as_str().unwrap();
        let pairs = fx.pairs(
            &owner,
            cid,
            &Filter { benchmark_ids: vec![CHROME.into()], ..Filter::default() },
        );
        assert_metrics(&row["metrics"], &fx.sum(pairs.iter()), false, "meta by benchmark");
    }
    let by_rev =
        "/collections/meta/metrics/detail/collection?revisionId=Crunchy_Data_PostgreSQL_STIG-1-1";
    let rows = fx.get(&owner.token, by_rev).await;
    assert_eq!(rows.as_array().unwrap().len(), 1, "only the main collection assesses PGSQL");
    assert_eq!(rows[0]["checklists"], 1);
    let stale = "/collections/meta/metrics/summary/collection?revisionId=VPN_SRG_TEST-1-0";
    assert_eq!(fx.get(&owner.token, stale).await, json!([]), "V1R0 is nobody's default");
    fx.server.stop().await;
}

async fn csv(fx: &Fixture, token: &str, path: &str) -> String {
    let response =
        fx.server.client.get(fx.server.url(path)).bearer_auth(token).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let kind = response.headers()["content-type"].to_str().unwrap().to_string();
    assert_eq!(kind, "text/csv; charset=utf-8");
    response.text().await.unwrap()
}

#[tokio::test]
async fn csv_flattens_rows_with_the_upstream_columns() {
    let fx = Fixture::build().await;
    let summary = "assessments,assessmentsLow,assessmentsMedium,assessmentsHigh,assessed,assessedLow,assessedMedium,assessedHigh,minTs,maxTs,maxTouchTs,findingsLow,findingsMedium,findingsHigh,pass,fail,notapplicable,other,saved,submitted,accepted,rejected";
    let detail = "assessments,assessmentsLow,assessmentsMedium,assessmentsHigh,assessed,assessedLow,assessedMedium,assessedHigh,minTs,maxTs,maxTouchTs,findingsLow,findingsMedium,findingsHigh,saved,savedResultEngine,submitted,submittedResultEngine,accepted,acceptedResultEngine,rejected,rejectedResultEngine,pass,passResultEngine,fail,failResultEngine,notapplicable,notapplicableResultEngine,notchecked,notcheckedResultEngine,unknown,unknownResultEngine,error,errorResultEngine,notselected,notselectedResultEngine,informational,informationalResultEngine,fixed,fixedResultEngine";
    let cid = &fx.cid;
    let forms = [
        (
            format!("/collections/{cid}/metrics/summary"),
            "assetId,name,labels,benchmarkId,title,marking,revisionStr,revisionPinned,revisionDate",
            summary,
            5,
        ),
        (
            format!("/collections/{cid}/metrics/detail/asset"),
            "assetId,name,labels,benchmarkIds",
            detail,
            5,
        ),
        (
            format!("/collections/{cid}/metrics/summary/collection"),
            "collectionId,name,assets,checklists",
            summary,
            1,
        ),
        (format!("/collections/{cid}/metrics/detail/label"), "labelId,name,assets", detail, 3),
        (
            format!("/collections/{cid}/metrics/summary/stig"),
            "benchmarkId,title,marking,revisionStr,revisionPinned,revisionDate,assets,ruleCount",
            summary,
            3,
        ),
        (
            "/collections/meta/metrics/detail".to_string(),
            "collections,assets,stigs,checklists",
            detail,
            1,
        ),
        (
            "/collections/meta/metrics/summary/collection".to_string(),
            "collectionId,name,assets,checklists",
            summary,
            2,
        ),
        (
            "/collections/meta/metrics/detail/stig".to_string(),
            "benchmarkId,title,marking,revisionStr,revisionDate,collections,assets,ruleCount",
            detail,
            3,
        ),
    ];
    for (path, base, metrics, rows) in forms {
        let sep = if path.contains('?') { '&' } else { '?' };
        let text = csv(&fx, &fx.admin, &format!("{path}{sep}format=csv")).await;
        let mut lines = text.lines();
        assert_eq!(lines.next().unwrap(), format!("{base},{metrics}"), "{path}");
        assert_eq!(lines.count(), rows, "{path}:\n{text}");
        assert!(text.ends_with('\n') && !text.contains('\r'));
    }
    let text =
        csv(&fx, &fx.admin, &format!("/collections/{cid}/metrics/summary/asset?format=csv")).await;
    let json_rows = fx.get(&fx.admin, &format!("/collections/{cid}/metrics/summary/asset")).await;
    let bravo = text.lines().find(|l| l.contains(",bravo,")).unwrap();
    assert!(
        bravo.contains(",\"db,web\",\""),
        "labels and benchmark ids are joined and quoted: {bravo}"
    );
    let row = json_rows.as_array().unwrap().iter().find(|r| r["name"] == "bravo").unwrap();
    let m = &row["metrics"];
    let tail: Vec<String> = ["pass", "fail", "notapplicable", "other"]
        .iter()
        .map(|k| m["results"][k].to_string())
        .chain(
            ["saved", "submitted", "accepted", "rejected"]
                .iter()
                .map(|k| m["statuses"][k].to_string()),
        )
        .collect();
    assert!(bravo.ends_with(&tail.join(",")), "{bravo} vs {tail:?}");
    fx.server.stop().await;
}

#[tokio::test]
async fn a_pinned_revision_decides_what_counts() {
    let mut fx = Fixture::build().await;
    let cid: i64 = fx.cid.parse().unwrap();
    fx.store.pin_revision(cid, VPN, Some("VPN_SRG_TEST-1-0")).await.unwrap();
    fx.defaults.insert((fx.cid.clone(), VPN.into()), "VPN_SRG_TEST-1-0".into());
    fx.pins.insert((fx.cid.clone(), VPN.into()));
    let (owner, _, _, _) = fx.views().await;
    let rows = fx.get(&owner.token, &format!("/collections/{}/metrics/detail/stig", fx.cid)).await;
    let vpn = rows.as_array().unwrap().iter().find(|r| r["benchmarkId"] == VPN).unwrap();
    assert_eq!(vpn["revisionStr"], "V1R0");
    assert_eq!(vpn["revisionPinned"], true);
    fx.check_collection_forms(&owner, &Filter::default(), true).await;
    let rows = fx.get(&owner.token, "/collections/meta/metrics/summary/stig").await;
    let vpn: Vec<&Value> =
        rows.as_array().unwrap().iter().filter(|r| r["benchmarkId"] == VPN).collect();
    assert_eq!(vpn.len(), 1, "only the main collection has VPN");
    assert_eq!(vpn[0]["revisionStr"], "V1R0");
    let by_rev = "/collections/meta/metrics/summary/collection?revisionId=VPN_SRG_TEST-1-0";
    let rows = fx.get(&owner.token, by_rev).await;
    assert_eq!(rows.as_array().unwrap().len(), 1);
    assert_eq!(rows[0]["collectionId"], json!(fx.cid));
    fx.server.stop().await;
}

#[tokio::test]
async fn bad_input_gets_the_error_body() {
    let fx = Fixture::build().await;
    let cid = &fx.cid;
    let refused = [
        (format!("/collections/{cid}/metrics/summary/bogus"), 404),
        (format!("/collections/{cid}/metrics/everything"), 404),
        (format!("/collections/{cid}/metrics/summary?format=xml"), 400),
        (format!("/collections/{cid}/metrics/detail/asset?labelId=not-a-uuid"), 400),
        (format!("/collections/{cid}/metrics/detail?assetId=abc"), 400),
        (format!("/collections/{cid}/metrics/detail?assetId=1&assetId=1"), 400),
        (format!("/collections/{cid}/metrics/summary/label?labelName=seventeen-chars-x"), 400),
        (format!("/collections/{cid}/metrics/summary?bogus=1"), 400),
        (format!("/collections/{cid}/metrics/summary?format=csv&format=json"), 400),
        ("/collections/x1/metrics/summary".to_string(), 400),
        ("/collections/999999/metrics/summary".to_string(), 403),
        ("/collections/meta/metrics/summary?collectionId=abc".to_string(), 400),
        ("/collections/meta/metrics/summary/stig?revisionId=VPN_SRG_TEST-1-1".to_string(), 400),
        ("/collections/meta/metrics/summary?elevate=true".to_string(), 400),
    ];
    for (path, expected) in refused {
        let (status, body) = fx.server.get(&fx.admin, &path).await;
        assert_eq!(status, expected, "{path}: {body}");
        assert!(body["error"].is_string(), "{path}: {body}");
    }

    // Filters naming another collection's assets or labels, or a STIG nothing is assigned,
    // select nothing and reveal nothing.
    let foxtrot = &fx.asset_named("foxtrot").id;
    let other_web = &fx.asset_named("foxtrot").labels[0].0;
    for query in
        [format!("assetId={foxtrot}"), format!("labelId={other_web}"), "benchmarkId=Nope".into()]
    {
        for form in ["summary", "detail/asset", "summary/label", "detail/stig"] {
            let path = format!("/collections/{cid}/metrics/{form}?{query}");
            assert_eq!(fx.get(&fx.admin, &path).await, json!([]), "{path}");
        }
        let path = format!("/collections/{cid}/metrics/summary/collection?{query}");
        let row = fx.get(&fx.admin, &path).await;
        assert_eq!(
            (row["assets"].clone(), row["checklists"].clone()),
            (json!(0), json!(0)),
            "{path}"
        );
        assert_eq!(row["metrics"]["assessments"], 0);
    }
    let unassigned =
        format!("/collections/{}/metrics/summary/asset?benchmarkId={PGSQL}", fx.other_cid);
    assert_eq!(fx.get(&fx.admin, &unassigned).await, json!([]));
    fx.server.stop().await;
}

#[tokio::test]
async fn a_generated_installation_agrees_with_its_review_listing() {
    let server = TestServer::start().await;
    let admin = server.token("admin", &["admin", "create_collection"]);
    import_library(&server).await;
    let (_, me) = server.get(&admin, "/user").await;
    let store = Store::connect(&server.database_url, 2).await.unwrap();
    let spec = stigward_storage::generate::GenerateSpec {
        collections: 2,
        assets_per_collection: 12,
        stigs_per_asset: 2,
        labels_per_collection: 3,
        review_percent: 80,
        history_percent: 30,
        owner_user_id: Some(me["userId"].as_str().unwrap().parse().unwrap()),
        name_prefix: "Gen ".into(),
    };
    let benchmarks: Vec<String> = [VPN, CHROME, PGSQL].iter().map(|b| b.to_string()).collect();
    let report = store.generate(&spec, &benchmarks, 1_700_000_000, |_| {}).await.unwrap();
    assert_eq!((report.collections, report.assets, report.assignments), (2, 24, 48));
    assert!(report.reviews > 0 && report.history > 0, "{report:?}");

    let meta = server.get(&admin, "/collections/meta/metrics/summary").await.1;
    assert_eq!(meta["collections"], 2);
    assert_eq!(meta["assets"], 24);
    assert_eq!(meta["checklists"], 48);
    let collections = server.get(&admin, "/collections/meta/metrics/summary/collection").await.1;
    for collection in collections.as_array().unwrap() {
        let cid = collection["collectionId"].as_str().unwrap();
        let (status, reviews) = server.get(&admin, &format!("/collections/{cid}/reviews")).await;
        assert_eq!(status, 200, "{reviews}");
        let mut expected: BTreeMap<String, BTreeMap<String, i64>> = BTreeMap::new();
        let mut times: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for review in reviews.as_array().unwrap() {
            let asset = review["assetId"].as_str().unwrap().to_string();
            let result = review["result"].as_str().unwrap();
            let bucket =
                if ["pass", "fail", "notapplicable"].contains(&result) { result } else { "other" };
            let counts = expected.entry(asset.clone()).or_default();
            *counts.entry(bucket.to_string()).or_default() += 1;
            *counts.entry(review["status"]["label"].as_str().unwrap().to_string()).or_default() +=
                1;
            times.entry(asset).or_default().push(review["ts"].as_str().unwrap().to_string());
        }
        let rows = server.get(&admin, &format!("/collections/{cid}/metrics/summary/asset")).await.1;
        assert_eq!(rows.as_array().unwrap().len(), 12);
        for row in rows.as_array().unwrap() {
            let asset = row["assetId"].as_str().unwrap();
            let counts = expected.get(asset).cloned().unwrap_or_default();
            let m = &row["metrics"];
            for key in ["pass", "fail", "notapplicable", "other"] {
                assert_eq!(
                    m["results"][key],
                    json!(counts.get(key).copied().unwrap_or(0)),
                    "{key}"
                );
            }
            for key in ["saved", "submitted", "accepted", "rejected"] {
                assert_eq!(
                    m["statuses"][key],
                    json!(counts.get(key).copied().unwrap_or(0)),
                    "{key}"
                );
            }
            let ts = times.get(asset).cloned().unwrap_or_default();
            assert_eq!(m["minTs"], json!(ts.iter().min()));
            assert_eq!(m["maxTs"], json!(ts.iter().max()));
        }
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kept_counts_follow_parallel_writes_assignments_revisions_and_pins() {
    let mut fx = Fixture::build().await;
    let (owner, _, restricted, _) = fx.views().await;
    for view in [&owner, &restricted] {
        fx.check_collection_forms(view, &Filter::default(), false).await;
    }

    // Change reviews, an assignment, the library and a pin at the same time.
    let charlie = fx.asset_named("charlie").clone();
    let alpha = fx.asset_named("alpha").clone();
    let chrome_rules = fx.revisions["Google_Chrome_Current_Windows-2-8"].clone();
    let rewrites: Vec<Value> = chrome_rules
        .iter()
        .take(10)
        .map(|r| {
            json!({"ruleId": r.rule_id, "result": "fail", "detail": "again",
            "comment": "worse", "status": "saved", "resultEngine": null})
        })
        .collect();
    let review_path = format!("/collections/{}/reviews/{}", fx.cid, charlie.id);
    let attach_path = format!("/assets/{}/stigs/{PGSQL}", alpha.id);
    let draft = shared("data/stigs/U_VPN_SRG_V2R0_Manual-xccdf-draft.xml").display().to_string();
    let cid: i64 = fx.cid.parse().unwrap();
    let mut import = std::process::Command::new(env!("CARGO_BIN_EXE_stigward"));
    import
        .args(["import", draft.as_str()])
        .env("STIGWARD_DATA_DIR", fx.server.data_dir.path())
        .env("STIGWARD_DATABASE_URL", &fx.server.database_url);
    let (written, attached, imported, pinned) = tokio::join!(
        fx.server.send("POST", &fx.admin, &review_path, json!(rewrites)),
        fx.server.send("PUT", &fx.admin, &attach_path, json!({})),
        tokio::task::spawn_blocking(move || import.output()),
        fx.store.pin_revision(cid, VPN, Some("VPN_SRG_TEST-1-0")),
    );
    assert!(imported.unwrap().unwrap().status.success());
    assert_eq!(written.0, 200, "{}", written.1);
    assert_eq!(attached.0, 200, "{}", attached.1);
    pinned.unwrap();

    // The model follows: rewritten reviews replace the earlier ones of the same key.
    for rule in chrome_rules.iter().take(10) {
        fx.reviews.retain(|r| !(r.asset_id == charlie.id && r.key == rule.key));
        fx.reviews.push(Written {
            asset_id: charlie.id.clone(),
            key: rule.key.clone(),
            result: 3,
            status: 0,
            engine: false,
        });
    }
    fx.assets.iter_mut().find(|a| a.id == alpha.id).unwrap().stigs.push(PGSQL.into());
    fx.defaults.insert((fx.cid.clone(), VPN.into()), "VPN_SRG_TEST-1-0".into());
    fx.pins.insert((fx.cid.clone(), VPN.into()));
    let mut owner = owner;
    owner.pairs.insert((alpha.id.clone(), PGSQL.into()));
    for detail in [false, true] {
        fx.check_collection_forms(&owner, &Filter::default(), detail).await;
        fx.check_collection_forms(&restricted, &Filter::default(), detail).await;
        fx.check_meta_forms(&owner, "", &owner.collections, detail).await;
    }

    // Every stored counter equals a recount from the reviews.
    let (code, out) = repair_metrics(&fx);
    let checklists: usize = fx.assets.iter().map(|a| a.stigs.len()).sum();
    assert_eq!(code, 0, "{out}");
    assert_eq!(out.trim(), format!("{checklists} checklists checked, no counter drifted"));
    fx.server.stop().await;
}

/// Metrics reads keep each collection's checklists between requests; every kind of write,
/// through this server or another one on the same database, shows in the next read.
#[tokio::test]
async fn kept_collections_follow_writes_of_this_and_other_servers() {
    let mut fx = Fixture::build().await;
    let (owner, _, restricted, _) = fx.views().await;
    let all = Filter::default();
    fx.check_collection_forms(&owner, &all, true).await;

    // A review write through the API: only the recounted checklist is refetched.
    let charlie = fx.asset_named("charlie").clone();
    let rule = fx.revisions["Google_Chrome_Current_Windows-2-8"][0].clone();
    let body = json!([{"ruleId": rule.rule_id, "result": "notapplicable", "detail": "n/a",
        "comment": "", "status": "saved"}]);
    let path = format!("/collections/{}/reviews/{}", fx.cid, charlie.id);
    let (status, out) = fx.server.send("POST", &fx.admin, &path, body).await;
    assert_eq!(status, 200, "{out}");
    fx.reviews.retain(|r| !(r.asset_id == charlie.id && r.key == rule.key));
    let written = Written {
        asset_id: charlie.id.clone(),
        key: rule.key.clone(),
        result: 1,
        status: 0,
        engine: false,
    };
    fx.reviews.push(written);
    fx.check_collection_forms(&owner, &all, true).await;
    fx.check_collection_forms(&restricted, &all, false).await;

    // Another server on the same database deletes that review.
    let asset_id: i64 = charlie.id.parse().unwrap();
    assert!(fx.store.delete_review(asset_id, &rule.rule_id).await.unwrap());
    fx.reviews.retain(|r| !(r.asset_id == charlie.id && r.key == rule.key));
    fx.check_collection_forms(&owner, &all, true).await;

    // A renamed asset changes the listing itself.
    let path = format!("/assets/{}", charlie.id);
    let (status, out) = fx.server.send("PATCH", &fx.admin, &path, json!({"name": "zulu"})).await;
    assert_eq!(status, 200, "{out}");
    fx.assets.iter_mut().find(|a| a.id == charlie.id).unwrap().name = "zulu".into();
    for detail in [false, true] {
        fx.check_collection_forms(&owner, &all, detail).await;
        fx.check_meta_forms(&owner, "", &owner.collections, detail).await;
    }
    fx.server.stop().await;
}

/// Runs `stigward repair-metrics` on the fixture's database: its exit code and output.
fn repair_metrics(fx: &Fixture) -> (i32, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_stigward"))
        .arg("repair-metrics")
        .env("STIGWARD_DATA_DIR", fx.server.data_dir.path())
        .env("STIGWARD_DATABASE_URL", &fx.server.database_url)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    (out.status.code().unwrap(), format!("{}{stderr}", String::from_utf8_lossy(&out.stdout)))
}

#[tokio::test]
async fn repair_metrics_reports_and_fixes_corrupted_counters() {
    let fx = Fixture::build().await;
    let (owner, _, _, _) = fx.views().await;
    let charlie = fx.asset_named("charlie").clone();
    let expected = fx.pair(&charlie.id, CHROME);
    let (pass, fail) = (expected.results[2][0], expected.results[3][0]);
    sqlx::query(
        "UPDATE stig_asset_map SET pass = $1, fail = $2 WHERE asset_id = $3 AND benchmark_id = $4",
    )
    .bind(pass + 5)
    .bind(fail + 1)
    .bind(charlie.id.parse::<i64>().unwrap())
    .bind(CHROME)
    .execute(fx.store.pool())
    .await
    .unwrap();

    // Metrics are served from the counters, so the API shows the corruption.
    let path = format!("/collections/{}/metrics/detail?assetId={}", fx.cid, charlie.id);
    let (status, rows) = fx.server.send("GET", &fx.admin, &path, Value::Null).await;
    assert_eq!(status, 200, "{rows}");
    assert_eq!(rows[0]["metrics"]["results"]["pass"]["total"], json!(pass + 5), "{rows}");

    let (code, out) = repair_metrics(&fx);
    assert_eq!(code, 1, "{out}");
    let checklists: usize = fx.assets.iter().map(|a| a.stigs.len()).sum();
    let id = &charlie.id;
    assert_eq!(
        out.lines().collect::<Vec<_>>(),
        [
            format!("asset {id} {CHROME} pass: stored {}, recounted {pass}", pass + 5),
            format!("asset {id} {CHROME} fail: stored {}, recounted {fail}", fail + 1),
            format!("{checklists} checklists checked, 2 counters drifted in 1; repaired"),
        ]
    );

    // The recount is stored: the API agrees with the test's recount and nothing drifts now.
    for detail in [false, true] {
        fx.check_collection_forms(&owner, &Filter::default(), detail).await;
    }
    let (code, out) = repair_metrics(&fx);
    assert_eq!(code, 0, "{out}");
    fx.server.stop().await;
}
