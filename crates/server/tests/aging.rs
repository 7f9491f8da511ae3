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
