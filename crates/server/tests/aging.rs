//! Unreviewed reports and the review-aging task configuration, on a real server. Expected
//! values come from the benchmark files and the reviews the tests write.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeMap;

use common::xccdf::BenchmarkFile;
use common::TestServer;
use serde_json::{json, Value};

const VPN: &str = "U_VPN_SRG_V1R1_Manual-xccdf.xml";
const OTHER: &str = "U_VPN_SRG-OTHER_V1R1_Manual-xccdf.xml";

struct Fixture {
    server: TestServer,
    admin: String,
    cid: String,
    assets: BTreeMap<String, String>,
}

impl Fixture {
    /// Benchmarks, a collection owned by `admin` with the label `web`, and assets with STIGs
    /// and label names.
    async fn start(files: &[&str], assets: &[(&str, &[&str], &[&str])]) -> Fixture {
        let server = TestServer::start().await;
        let admin = server.token("admin", &["admin", "create_collection"]);
        for file in files {
            let bytes = BenchmarkFile::bytes(file);
            let (status, body) = server.upload(&admin, "/stigs?elevate=true", file, bytes).await;
            assert_eq!(status, 200, "{body}");
        }
        let (_, me) = server.get(&admin, "/user").await;
        let body = json!({"name": "Aging", "settings": {}, "metadata": {},
            "labels": [{"name": "web", "description": null, "color": "aa00ff"}],
            "grants": [{"userId": me["userId"], "roleId": 4}]});
        let (status, collection) = server.send("POST", &admin, "/collections", body).await;
        assert_eq!(status, 201, "{collection}");
        let cid = collection["collectionId"].as_str().unwrap().to_string();
        let mut ids = BTreeMap::new();
        for (name, stigs, labels) in assets {
            let asset = json!({"name": name, "collectionId": cid, "description": null,
                "ip": null, "noncomputing": false, "metadata": {}, "stigs": stigs,
                "labelNames": labels});
            let (status, body) = server.send("POST", &admin, "/assets", asset).await;
            assert_eq!(status, 201, "{body}");
            ids.insert(name.to_string(), body["assetId"].as_str().unwrap().to_string());
        }
        Fixture { server, admin, cid, assets: ids }
    }

    fn path(&self, rest: &str) -> String {
        format!("/collections/{}{rest}", self.cid)
    }

    async fn label_id(&self) -> String {
        let (_, labels) = self.server.get(&self.admin, &self.path("/labels")).await;
        labels[0]["labelId"].as_str().unwrap().to_string()
    }

    /// Gives `username` a grant with `role`; returns its token and grant id.
    async fn grant(&self, username: &str, role: i64) -> (String, i64) {
        self.server.grant_in(self.cid.parse().unwrap(), username, role).await
    }

    async fn acl(&self, grant_id: i64, asset: &str, benchmark_id: &str, access: &str) {
        let asset_id = self.assets[asset].parse().unwrap();
        self.server.acl_on(grant_id, asset_id, benchmark_id, access).await;
    }
}

/// (asset name, ruleId) → result (null when unreviewed), from what the server returned.
fn by_asset(body: &Value) -> BTreeMap<(String, String), Value> {
    let mut out = BTreeMap::new();
    for asset in body.as_array().unwrap() {
        for item in asset["unreviewed"].as_array().unwrap() {
            let key =
                (asset["name"].as_str().unwrap().into(), item["ruleId"].as_str().unwrap().into());
            assert!(out.insert(key, item["result"].clone()).is_none());
        }
    }
    out
}

fn by_rule(body: &Value) -> BTreeMap<(String, String), Value> {
    let mut out = BTreeMap::new();
    for rule in body.as_array().unwrap() {
        for item in rule["unreviewed"].as_array().unwrap() {
            let key =
                (item["name"].as_str().unwrap().into(), rule["ruleId"].as_str().unwrap().into());
            assert!(out.insert(key, item["result"].clone()).is_none());
        }
    }
    out
}

#[tokio::test]
async fn unreviewed_reports_list_rules_without_an_assessed_review() {
    let vpn = BenchmarkFile::read(VPN);
    let other = BenchmarkFile::read(OTHER);
    let (v, o) = (vpn.benchmark_id.as_str(), other.benchmark_id.as_str());
    let fx = Fixture::start(&[VPN, OTHER], &[("gw", &[v, o], &["web"]), ("fw", &[v], &[])]).await;
    // gw/VPN: pass, fail, notapplicable (assessed), informational and notchecked (not)
    let results = ["pass", "fail", "notapplicable", "informational", "notchecked"];
    let written: Vec<(&str, &str)> =
        vpn.rules.iter().zip(results).map(|(r, res)| (r.rule_id.as_str(), res)).collect();
    let items: Vec<Value> = written
        .iter()
        .map(|(rule, result)| json!({"ruleId": rule, "result": result, "detail": "d", "comment": "c"}))
        .collect();
    let path = fx.path(&format!("/reviews/{}", fx.assets["gw"]));
    let (status, body) = fx.server.send("POST", &fx.admin, &path, json!(items)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["affected"]["inserted"], written.len(), "{body}");

    let mut expected: BTreeMap<(String, String), Value> = BTreeMap::new();
    for (asset, stigs) in [("gw", vec![&vpn, &other]), ("fw", vec![&vpn])] {
        for stig in stigs {
            for rule in &stig.rules {
                let result = match (asset, written.iter().find(|(r, _)| *r == rule.rule_id)) {
                    ("gw", Some((_, res))) if stig.benchmark_id == vpn.benchmark_id => json!(res),
                    _ => Value::Null,
                };
                if !["pass", "fail", "notapplicable"].contains(&result.as_str().unwrap_or("")) {
                    expected.insert((asset.to_string(), rule.rule_id.clone()), result);
                }
            }
        }
    }
    let (status, assets) = fx.server.get(&fx.admin, &fx.path("/unreviewed/assets")).await;
    assert_eq!(status, 200, "{assets}");
    assert_eq!(by_asset(&assets), expected);
    let gw = assets.as_array().unwrap().iter().find(|a| a["name"] == "gw").unwrap();
    assert_eq!(gw["assetId"], fx.assets["gw"]);
    assert_eq!(gw["labels"], json!([{"labelId": fx.label_id().await, "name": "web"}]));
    assert!(gw["unreviewed"][0].get("ruleTitle").is_none());
    assert!(gw["unreviewed"][0]["groupId"].is_string());
    let (status, rules) = fx.server.get(&fx.admin, &fx.path("/unreviewed/rules")).await;
    assert_eq!(status, 200, "{rules}");
    assert_eq!(by_rule(&rules), expected);

    // filters: STIG, asset, rule, label (by id and name), severity; projections
    let only = |f: &dyn Fn(&(String, String)) -> bool| -> BTreeMap<(String, String), Value> {
        expected.iter().filter(|(k, _)| f(k)).map(|(k, v)| (k.clone(), v.clone())).collect()
    };
    let of_other = |k: &(String, String)| other.rules.iter().any(|r| r.rule_id == k.1);
    let (_, body) =
        fx.server.get(&fx.admin, &fx.path(&format!("/unreviewed/assets?benchmarkId={o}"))).await;
    assert_eq!(by_asset(&body), only(&of_other));
    let q = format!("/unreviewed/assets?assetId={}", fx.assets["fw"]);
    let (_, body) = fx.server.get(&fx.admin, &fx.path(&q)).await;
    assert_eq!(by_asset(&body), only(&|k| k.0 == "fw"));
    let rule = &vpn.rules[4].rule_id;
    let (_, body) =
        fx.server.get(&fx.admin, &fx.path(&format!("/unreviewed/rules?ruleId={rule}"))).await;
    assert_eq!(by_rule(&body), only(&|k| &k.1 == rule));
    let q = format!("/unreviewed/rules?labelId={}", fx.label_id().await);
    let (_, body) = fx.server.get(&fx.admin, &fx.path(&q)).await;
    assert_eq!(by_rule(&body), only(&|k| k.0 == "gw"));
    let (_, body) = fx.server.get(&fx.admin, &fx.path("/unreviewed/assets?labelName=web")).await;
    assert_eq!(by_asset(&body), only(&|k| k.0 == "gw"));
    let severity = vpn.rules[4].severity.clone();
    let severities: BTreeMap<&str, &str> = vpn
        .rules
        .iter()
        .chain(&other.rules)
        .map(|r| (r.rule_id.as_str(), r.severity.as_str()))
        .collect();
    let q = format!(
        "/unreviewed/assets?severity={severity}&projection=ruleTitle&projection=groupTitle"
    );
    let (status, body) = fx.server.get(&fx.admin, &fx.path(&q)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(by_asset(&body), only(&|k| severities[k.1.as_str()] == severity));
    let item = &body[0]["unreviewed"][0];
    assert!(item["ruleTitle"].is_string() && item.get("groupTitle").is_some(), "{item}");
    assert_eq!(item["severity"], json!(severity));

    // a restricted grant sees only its ACL-covered pairs; no grant is 403
    let (restricted, grant_id) = fx.grant("reader", 1).await;
    let (_, body) = fx.server.get(&restricted, &fx.path("/unreviewed/assets")).await;
    assert_eq!(body, json!([]));
    fx.acl(grant_id, "gw", o, "r").await;
    let (_, body) = fx.server.get(&restricted, &fx.path("/unreviewed/rules")).await;
    assert_eq!(by_rule(&body), only(&|k| k.0 == "gw" && of_other(k)));
    let stranger = fx.server.token("stranger", &[]);
    let (status, body) = fx.server.get(&stranger, &fx.path("/unreviewed/assets")).await;
    assert_eq!(status, 403, "{body}");

    // bad input gets the error body
    for q in [
        "/unreviewed/assets?severity=bogus",
        "/unreviewed/assets?projection=bogus",
        "/unreviewed/assets?ruleId=x",
        "/unreviewed/rules?assetId=1",
        "/unreviewed/rules?labelId=notauuid",
        "/unreviewed/assets?assetId=abc",
    ] {
        let (status, body) = fx.server.get(&fx.admin, &fx.path(q)).await;
        assert_eq!(status, 400, "{q}: {body}");
        assert!(body["error"].is_string(), "{q}: {body}");
    }
    let (status, _) = fx.server.get(&fx.admin, "/collections/x/unreviewed/rules").await;
    assert_eq!(status, 400);
    fx.server.stop().await;
}

#[tokio::test]
async fn review_aging_config_is_validated_replaced_and_owner_only() {
    let vpn = BenchmarkFile::read(VPN);
    let v = vpn.benchmark_id.as_str();
    let fx = Fixture::start(&[VPN], &[("gw", &[v], &["web"])]).await;
    let path = fx.path("/tasks/review-aging/config");
    let label = fx.label_id().await;
    let gw = fx.assets["gw"].clone();

    let (status, body) = fx.server.get(&fx.admin, &path).await;
    assert_eq!(
        (status, body["detail"].clone()),
        (404, json!("No config found for this collection/task."))
    );
    let (status, _) = fx.server.send("DELETE", &fx.admin, &path, Value::Null).await;
    assert_eq!(status, 404);

    let rules = json!([
        {"title": "old", "triggerField": "ts", "triggerInterval": 86400, "triggerAction": "delete",
         "enabled": true},
        {"triggerField": "statusTs", "triggerInterval": 0, "triggerAction": "update",
         "updateField": "status", "updateValue": "saved", "enabled": false,
         "target": {"assetId": gw, "benchmarkId": v}},
        {"title": null, "triggerField": "touchTs", "triggerInterval": 2147483647,
         "triggerAction": "update", "updateField": "result", "updateValue": "informational",
         "enabled": true, "target": {"labelId": label}},
        {"triggerField": "ts", "triggerInterval": 5, "triggerAction": "delete", "enabled": true,
         "target": {"benchmarkId": v}},
    ]);
    let expected = json!([
        {"title": "old", "triggerField": "ts", "triggerInterval": 86400, "triggerAction": "delete",
         "enabled": true},
        {"triggerField": "statusTs", "triggerInterval": 0, "triggerAction": "update",
         "updateField": "status", "updateValue": "saved", "enabled": false,
         "target": {"asset": {"assetId": gw, "name": "gw"}, "benchmarkId": v}},
        {"triggerField": "touchTs", "triggerInterval": 2147483647, "triggerAction": "update",
         "updateField": "result", "updateValue": "informational", "enabled": true,
         "target": {"label": {"labelId": label, "name": "web", "color": "aa00ff"}}},
        {"triggerField": "ts", "triggerInterval": 5, "triggerAction": "delete", "enabled": true,
         "target": {"benchmarkId": v}},
    ]);
    let (status, body) = fx.server.send("PUT", &fx.admin, &path, rules.clone()).await;
    assert_eq!((status, &body), (200, &expected));
    let (status, body) = fx.server.get(&fx.admin, &path).await;
    assert_eq!((status, &body), (200, &expected));

    // roles: Manage reads, only Owner writes; Full and no grant are refused
    let (manager, _) = fx.grant("manager", 3).await;
    let (full, _) = fx.grant("full", 2).await;
    let (status, body) = fx.server.get(&manager, &path).await;
    assert_eq!((status, &body), (200, &expected));
    for (token, method) in [(&manager, "PUT"), (&manager, "DELETE"), (&full, "GET")] {
        let body = if method == "PUT" { rules.clone() } else { Value::Null };
        let (status, reply) = fx.server.send(method, token, &path, body).await;
        assert_eq!(status, 403, "{method}: {reply}");
    }

    // schema violations are 400 with the error body
    let base = json!({"triggerField": "ts", "triggerInterval": 1, "triggerAction": "delete", "enabled": true});
    let with = |key: &str, value: Value| {
        let mut rule = base.clone();
        rule[key] = value;
        json!([rule])
    };
    for bad in [
        json!({"triggerField": "ts"}),
        with("triggerField", json!("when")),
        with("triggerInterval", json!(-1)),
        with("triggerInterval", json!(2147483648_i64)),
        with("enabled", json!("yes")),
        with("title", json!("x".repeat(46))),
        with("updateField", json!("status")),
        with("target", json!({})),
        with("target", json!({"assetId": gw, "labelId": label})),
        with("target", json!({"labelId": "nope"})),
        with("extra", json!(1)),
        json!([{"triggerField": "ts", "triggerInterval": 1, "triggerAction": "update",
            "updateField": "result", "updateValue": "saved", "enabled": true}]),
        json!([{"triggerField": "ts", "triggerInterval": 1, "triggerAction": "update",
            "enabled": true}]),
    ] {
        let (status, body) = fx.server.send("PUT", &fx.admin, &path, bad.clone()).await;
        assert_eq!(status, 400, "{bad}: {body}");
        assert!(body["error"].is_string(), "{body}");
    }

    // targets outside the collection are 422 with one detail entry per bad rule
    let unknown_label = "00000000-0000-4000-8000-000000000000";
    let bad = json!([
        base,
        with("target", json!({"assetId": "999999"}))[0],
        with("target", json!({"labelId": unknown_label, "benchmarkId": v}))[0],
        with("target", json!({"benchmarkId": "Not_Installed"}))[0],
    ]);
    let (status, body) = fx.server.send("PUT", &fx.admin, &path, bad).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(
        body["detail"],
        json!([
            {"idx": 1, "assetId": "999999", "labelId": null, "benchmarkId": null,
             "validity": "asset not found in collection"},
            {"idx": 2, "assetId": null, "labelId": unknown_label, "benchmarkId": v,
             "validity": "label not found in collection"},
            {"idx": 3, "assetId": null, "labelId": null, "benchmarkId": "Not_Installed",
             "validity": "stig not installed"},
        ])
    );
    let (_, body) = fx.server.get(&fx.admin, &path).await;
    assert_eq!(body, expected, "a refused PUT changes nothing");

    // an empty array removes every rule; DELETE is 204 then 404
    let (status, body) = fx.server.send("PUT", &fx.admin, &path, json!([])).await;
    assert_eq!((status, body), (200, json!([])));
    let (status, _) = fx.server.get(&fx.admin, &path).await;
    assert_eq!(status, 404);
    let (status, _) = fx.server.send("PUT", &fx.admin, &path, rules).await;
    assert_eq!(status, 200);
    let (status, _) = fx.server.send("DELETE", &fx.admin, &path, Value::Null).await;
    assert_eq!(status, 204);
    let (status, _) = fx.server.get(&fx.admin, &path).await;
    assert_eq!(status, 404);
    let (status, _) = fx.server.send("DELETE", &fx.admin, &path, Value::Null).await;
    assert_eq!(status, 404);
    fx.server.stop().await;
}

#[tokio::test]
async fn unreviewed_reports_use_the_current_revision_not_the_pinned_one() {
    let old = BenchmarkFile::read("U_VPN_SRG_V1R0_Manual-xccdf.xml");
    let new = BenchmarkFile::read(VPN);
    let b = new.benchmark_id.as_str();
    let fx = Fixture::start(&["U_VPN_SRG_V1R0_Manual-xccdf.xml", VPN], &[("gw", &[b], &[])]).await;
    let pin = json!({"defaultRevisionStr": old.revision_str});
    let (status, body) =
        fx.server.send("POST", &fx.admin, &fx.path(&format!("/stigs/{b}")), pin).await;
    assert_eq!(status, 200, "{body}");
    let (_, body) = fx.server.get(&fx.admin, &fx.path("/unreviewed/rules")).await;
    let listed: Vec<&str> =
        body.as_array().unwrap().iter().map(|r| r["ruleId"].as_str().unwrap()).collect();
    let mut current: Vec<&str> = new.rules.iter().map(|r| r.rule_id.as_str()).collect();
    current.sort();
    let mut listed_sorted = listed.clone();
    listed_sorted.sort();
    assert_eq!(listed_sorted, current);
    assert_ne!(
        old.rules.iter().map(|r| r.rule_id.as_str()).collect::<Vec<_>>(),
        new.rules.iter().map(|r| r.rule_id.as_str()).collect::<Vec<_>>(),
        "the two revisions differ"
    );
    fx.server.stop().await;
}

/// Runs the system job "Update Aged Reviews" and waits for it to finish; returns the run id.
async fn run_aging(fx: &Fixture) -> String {
    let (status, started) =
        fx.server.send("POST", &fx.admin, "/jobs/4/runs?elevate=true", Value::Null).await;
    assert_eq!(status, 200, "{started}");
    let run_id = started["runId"].as_str().unwrap().to_string();
    let path = format!("/jobs/runs/{run_id}?elevate=true");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let (_, run) = fx.server.get(&fx.admin, &path).await;
        if run["state"] != "running" {
            assert_eq!(run["state"], "completed", "{run}");
            return run_id;
        }
        assert!(std::time::Instant::now() < deadline, "aging run still running");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// One review as the test sees it: (result, status, status text, username, status username).
type Seen = (String, String, Value, String, String);

async fn review_of(fx: &Fixture, asset: &str, rule_id: &str) -> Option<Seen> {
    let path = fx.path(&format!("/reviews/{}/{rule_id}", fx.assets[asset]));
    let (status, review) = fx.server.get(&fx.admin, &path).await;
    if status == 204 || review.is_null() {
        return None;
    }
    assert_eq!(status, 200, "{review}");
    let text = |v: &Value| v.as_str().unwrap().to_string();
    Some((
        text(&review["result"]),
        text(&review["status"]["label"]),
        review["status"]["text"].clone(),
        text(&review["username"]),
        text(&review["status"]["user"]["username"]),
    ))
}

#[tokio::test]
async fn review_aging_applies_each_rule_in_order_and_reports_per_collection() {
    const CHROME: &str = "U_Google_Chrome_STIG_V2R8_Manual-xccdf.xml";
    let vpn = BenchmarkFile::read(VPN);
    let chrome = BenchmarkFile::read(CHROME);
    let (v, c) = (vpn.benchmark_id.as_str(), chrome.benchmark_id.as_str());
    let fx = Fixture::start(
        &[VPN, CHROME],
        &[("gw", &[v, c], &["web"]), ("fw", &[v], &[]), ("gone", &[v], &["web"])],
    )
    .await;
    let r: Vec<&str> = vpn.rules.iter().map(|r| r.rule_id.as_str()).collect();
    let o: Vec<&str> = chrome.rules.iter().map(|r| r.rule_id.as_str()).collect();
    let now = chrono::Utc::now().timestamp();
    let (recent, old, ancient) = (now - 10, now - 5_000, now - 2_000_000);

    // (asset, rule, result, status, ts, status ts)
    let reviews = [
        ("gw", r[0], "pass", "submitted", old, old),
        ("gw", r[1], "fail", "saved", old, old),
        ("gw", r[2], "pass", "saved", recent, recent),
        ("gw", r[3], "pass", "saved", ancient, ancient),
        ("gw", o[0], "pass", "saved", recent, old),
        ("gw", o[1], "notchecked", "saved", recent, old),
        ("gw", o[2], "notapplicable", "saved", ancient, ancient),
        ("fw", r[0], "pass", "saved", old, old),
        ("fw", r[1], "pass", "saved", recent, recent),
        ("gone", r[0], "pass", "saved", ancient, ancient),
    ];
    for (asset, rule, result, status, ts, status_ts) in reviews {
        let path = fx.path(&format!("/reviews/{}", fx.assets[asset]));
        let item = json!([{"ruleId": rule, "result": result, "detail": "why", "comment": "noted",
            "status": status}]);
        let (code, body) = fx.server.send("POST", &fx.admin, &path, item).await;
        assert_eq!((code, &body["affected"]["inserted"]), (200, &json!(1)), "{body}");
        sqlx::query(
            "UPDATE review SET ts = $1, status_ts = $2, touch_ts = $3
             WHERE asset_id = $4 AND rule_id = $5",
        )
        .bind(ts)
        .bind(status_ts)
        .bind(ts.max(status_ts))
        .bind(fx.assets[asset].parse::<i64>().unwrap())
        .bind(rule)
        .execute(fx.server.state.store.pool())
        .await
        .unwrap();
    }
    let path = format!("/assets/{}", fx.assets["gone"]);
    let (status, _) = fx.server.send("DELETE", &fx.admin, &path, Value::Null).await;
    assert_eq!(status, 200);

    let rules = json!([
        {"title": "fw", "triggerField": "ts", "triggerInterval": 1000, "triggerAction": "delete",
         "enabled": true, "target": {"assetId": fx.assets["fw"]}},
        {"triggerField": "touchTs", "triggerInterval": 1000, "triggerAction": "update",
         "updateField": "result", "updateValue": "informational", "enabled": true,
         "target": {"labelId": fx.label_id().await, "benchmarkId": v}},
        {"triggerField": "statusTs", "triggerInterval": 1000, "triggerAction": "update",
         "updateField": "status", "updateValue": "submitted", "enabled": true,
         "target": {"benchmarkId": c}},
        {"triggerField": "ts", "triggerInterval": 0, "triggerAction": "delete", "enabled": false},
        {"triggerField": "ts", "triggerInterval": 1_000_000, "triggerAction": "delete",
         "enabled": true},
    ]);
    let config = fx.path("/tasks/review-aging/config");
    let (status, body) = fx.server.send("PUT", &fx.admin, &config, rules).await;
    assert_eq!(status, 200, "{body}");
    let before_history: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM review_history")
        .fetch_one(fx.server.state.store.pool())
        .await
        .unwrap();
    let run_id = run_aging(&fx).await;

    // rule 1 removed fw's old review; rule 2 aged gw's VPN results (the submitted one drops to
    // saved); rule 3 submitted the assessed Chrome reviews and could not submit notchecked;
    // rule 4 is disabled; rule 5 removed what was still ancient by ts (not r[3], which rule 2
    // had just touched); the deleted asset's review was left alone
    let task = "_task_ReviewAging";
    let reset = json!("Review change triggered status update");
    let aged = |status: &str, text: Value, status_user: &str| -> Option<Seen> {
        Some(("informational".into(), status.into(), text, task.into(), status_user.into()))
    };
    assert_eq!(review_of(&fx, "fw", r[0]).await, None);
    assert_eq!(review_of(&fx, "fw", r[1]).await.unwrap().0, "pass");
    assert_eq!(review_of(&fx, "gw", r[0]).await, aged("saved", reset.clone(), task));
    assert_eq!(review_of(&fx, "gw", r[1]).await, aged("saved", Value::Null, "admin"));
    assert_eq!(review_of(&fx, "gw", r[2]).await.unwrap().0, "pass");
    assert_eq!(review_of(&fx, "gw", r[3]).await, aged("saved", Value::Null, "admin"));
    let submitted =
        Some(("pass".into(), "submitted".into(), Value::Null, "admin".into(), task.into()));
    assert_eq!(review_of(&fx, "gw", o[0]).await, submitted);
    assert_eq!(review_of(&fx, "gw", o[1]).await.unwrap().1, "saved");
    assert_eq!(review_of(&fx, "gw", o[2]).await, None);
    let gone: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM review WHERE asset_id = $1")
        .bind(fx.assets["gone"].parse::<i64>().unwrap())
        .fetch_one(fx.server.state.store.pool())
        .await
        .unwrap();
    assert_eq!(gone, 1);

    // each update kept the review as it was in its history (gw r0, r1, r3 and o0; o2's went
    // with it)
    let history: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM review_history")
        .fetch_one(fx.server.state.store.pool())
        .await
        .unwrap();
    assert_eq!(history - before_history, 4);
    let path = fx.path(&format!("/reviews/{}/{}?projection=history", fx.assets["gw"], r[0]));
    let (_, review) = fx.server.get(&fx.admin, &path).await;
    let last = review["history"].as_array().unwrap().last().unwrap().clone();
    assert_eq!((&last["result"], &last["status"]["label"]), (&json!("pass"), &json!("submitted")));

    // the collection's output has a line per enabled rule; the run's own output the summary
    let output = fx.path("/tasks/review-aging/output");
    let (status, lines) = fx.server.get(&fx.admin, &output).await;
    assert_eq!(status, 200, "{lines}");
    let messages: Vec<&str> =
        lines.as_array().unwrap().iter().map(|l| l["message"].as_str().unwrap()).collect();
    assert_eq!(
        messages,
        [
            "rule 1 \"fw\": deleted 1 reviews",
            "rule 2: set result informational on 3 reviews",
            "rule 3: set status submitted on 2 reviews, left 1 unchanged (status is not allowed for the result)",
            "rule 5: deleted 1 reviews",
        ]
    );
    let first = &lines[0];
    assert_eq!(first["collectionId"], json!(fx.cid.parse::<i64>().unwrap()));
    assert_eq!(
        (&first["task"], &first["taskId"], &first["type"]),
        (&json!("ReviewAging"), &json!("5"), &json!("info"))
    );
    let seqs: Vec<i64> =
        lines.as_array().unwrap().iter().map(|l| l["seq"].as_i64().unwrap()).collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "{seqs:?}");
    let (_, run_lines) =
        fx.server.get(&fx.admin, &format!("/jobs/runs/{run_id}/output?elevate=true")).await;
    let run_messages: Vec<&str> =
        run_lines.as_array().unwrap().iter().map(|l| l["message"].as_str().unwrap()).collect();
    assert_eq!(
        run_messages,
        [
            "aged the reviews of 1 collections: 2 deleted, 5 updated, 1 left unchanged",
            "task started"
        ]
    );

    // a second run finds only the review it cannot submit
    run_aging(&fx).await;
    let (_, lines) = fx.server.get(&fx.admin, &output).await;
    let messages: Vec<&str> =
        lines.as_array().unwrap()[4..].iter().map(|l| l["message"].as_str().unwrap()).collect();
    assert_eq!(
        messages,
        [
            "rule 1 \"fw\": deleted 0 reviews",
            "rule 2: set result informational on 0 reviews",
            "rule 3: set status submitted on 0 reviews, left 1 unchanged (status is not allowed for the result)",
            "rule 5: deleted 0 reviews",
        ]
    );
    fx.server.stop().await;
}

#[tokio::test]
async fn collection_task_output_needs_manage_and_filters_by_time() {
    let vpn = BenchmarkFile::read(VPN);
    let v = vpn.benchmark_id.as_str();
    let fx = Fixture::start(&[VPN], &[("gw", &[v], &[])]).await;
    let output = fx.path("/tasks/review-aging/output");
    let (status, body) = fx.server.get(&fx.admin, &output).await;
    assert_eq!((status, body), (200, json!([])));

    let rule = json!([{"triggerField": "ts", "triggerInterval": 0, "triggerAction": "delete",
        "enabled": true}]);
    let config = fx.path("/tasks/review-aging/config");
    let (status, _) = fx.server.send("PUT", &fx.admin, &config, rule).await;
    assert_eq!(status, 200);
    let before = chrono::Utc::now() - chrono::Duration::seconds(1);
    run_aging(&fx).await;
    let after = chrono::Utc::now() + chrono::Duration::seconds(1);
    let (status, lines) = fx.server.get(&fx.admin, &output).await;
    assert_eq!(status, 200, "{lines}");
    assert_eq!(lines.as_array().unwrap().len(), 1, "{lines}");
    assert_eq!(lines[0]["message"], "rule 1: deleted 0 reviews");

    // start and end are inclusive bounds on the line's time
    let iso = |t: chrono::DateTime<chrono::Utc>| t.format("%Y-%m-%dT%H:%M:%SZ").to_string();
    let window = |start: String, end: String| format!("{output}?start={start}&end={end}");
    let (_, lines) = fx.server.get(&fx.admin, &window(iso(before), iso(after))).await;
    assert_eq!(lines.as_array().unwrap().len(), 1);
    let ts = lines[0]["ts"].as_str().unwrap().to_string();
    let (_, lines) = fx.server.get(&fx.admin, &window(ts.clone(), ts)).await;
    assert_eq!(lines.as_array().unwrap().len(), 1, "inclusive at both ends");
    let (_, lines) = fx.server.get(&fx.admin, &format!("{output}?end={}", iso(before))).await;
    assert_eq!(lines, json!([]));
    let (_, lines) = fx.server.get(&fx.admin, &format!("{output}?start={}", iso(after))).await;
    assert_eq!(lines, json!([]));

    // Manage reads; Full, no grant and a missing collection are refused
    let (manager, _) = fx.grant("manager", 3).await;
    let (full, _) = fx.grant("full", 2).await;
    let stranger = fx.server.token("stranger", &[]);
    let (status, lines) = fx.server.get(&manager, &output).await;
    assert_eq!((status, lines.as_array().map(Vec::len)), (200, Some(1)));
    for token in [&full, &stranger] {
        let (status, body) = fx.server.get(token, &output).await;
        assert_eq!(status, 403, "{body}");
    }
    let (status, _) =
        fx.server.get(&fx.admin, "/collections/99999/tasks/review-aging/output").await;
    assert_eq!(status, 403);

    // bad input gets the error body
    for path in [
        fx.path("/tasks/other-task/output"),
        format!("{output}?start=yesterday"),
        format!("{output}?end=2024-13-01T00:00:00Z"),
        format!("{output}?bogus=1"),
        "/collections/x/tasks/review-aging/output".to_string(),
    ] {
        let (status, body) = fx.server.get(&fx.admin, &path).await;
        assert_eq!(status, 400, "{path}: {body}");
        assert!(body["error"].is_string(), "{path}: {body}");
    }
    fx.server.stop().await;
}
