//! Reviews over the API: carry-over across revisions, the single-review routes, metadata, the
//! batch write, ACL narrowing, bad input, and parallel writers. Expected values come from the
//! benchmark files (rule ids, STIG ids and check-text digests computed here with sha2).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::xccdf::BenchmarkFile;
use common::TestServer;
use serde_json::{json, Value};

const VPN_V1R0: &str = "U_VPN_SRG_V1R0_Manual-xccdf.xml";
const VPN_V1R1: &str = "U_VPN_SRG_V1R1_Manual-xccdf.xml";
const VPN_V2R0_DRAFT: &str = "U_VPN_SRG_V2R0_Manual-xccdf-draft.xml";
const OTHER: &str = "U_VPN_SRG-OTHER_V1R1_Manual-xccdf.xml";

/// A server with benchmarks loaded, one collection owned by `admin`, and named assets.
struct Fixture {
    server: TestServer,
    admin: String,
    cid: String,
    assets: BTreeMap<String, String>,
}

impl Fixture {
    async fn start(files: &[&str], settings: Value, assets: &[(&str, &[&str])]) -> Fixture {
        let server = TestServer::start().await;
        let admin = server.token("admin", &["admin", "create_collection"]);
        for file in files {
            Self::import(&server, &admin, file).await;
        }
        let (_, me) = server.get(&admin, "/user").await;
        let body = json!({"name": "Reviews", "settings": settings,
            "grants": [{"userId": me["userId"], "roleId": 4}]});
        let (status, collection) = server.send("POST", &admin, "/collections", body).await;
        assert_eq!(status, 201, "{collection}");
        let cid = collection["collectionId"].as_str().unwrap().to_string();
        let mut ids = BTreeMap::new();
        for (name, stigs) in assets {
            let asset = json!({"name": name, "collectionId": cid, "description": null,
                "ip": null, "noncomputing": false, "metadata": {}, "stigs": stigs});
            let (status, body) = server.send("POST", &admin, "/assets", asset).await;
            assert_eq!(status, 201, "{body}");
            ids.insert(name.to_string(), body["assetId"].as_str().unwrap().to_string());
        }
        Fixture { server, admin, cid, assets: ids }
    }

    async fn import(server: &TestServer, token: &str, file: &str) {
        let bytes = BenchmarkFile::bytes(file);
        let (status, body) = server.upload(token, "/stigs?elevate=true", file, bytes).await;
        assert_eq!(status, 200, "{body}");
    }

    fn asset(&self, name: &str) -> &str {
        &self.assets[name]
    }

    fn path(&self, rest: &str) -> String {
        format!("/collections/{}{rest}", self.cid)
    }

    /// Gives `username` a grant with `role` in the collection; returns its token and grant id.
    async fn grant(&self, username: &str, role: i64) -> (String, i64) {
        self.server.grant_in(self.cid.parse().unwrap(), username, role).await
    }

    async fn acl(&self, grant_id: i64, asset: &str, benchmark_id: &str, access: &str) {
        let asset_id = self.asset(asset).parse().unwrap();
        self.server.acl_on(grant_id, asset_id, benchmark_id, access).await;
    }
}

fn rule_ids_of(reviews: &Value) -> BTreeSet<String> {
    reviews.as_array().unwrap().iter().map(|r| r["ruleId"].as_str().unwrap().to_string()).collect()
}

#[tokio::test]
async fn reviews_follow_rules_across_revisions_by_version_and_check_digest() {
    let old = BenchmarkFile::read(VPN_V1R0);
    let new = BenchmarkFile::read(VPN_V1R1);
    let fx = Fixture::start(&[VPN_V1R0], json!({}), &[("gw", &[old.benchmark_id.as_str()])]).await;
    let items: Vec<Value> = old
        .rules
        .iter()
        .map(|r| json!({"ruleId": r.rule_id, "result": "pass", "detail": "checked"}))
        .collect();
    let path = fx.path(&format!("/reviews/{}", fx.asset("gw")));
    let (status, body) = fx.server.send("POST", &fx.admin, &path, json!(items)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["affected"]["inserted"], old.rules.len());

    Fixture::import(&fx.server, &fx.admin, VPN_V1R1).await;
    // a review follows a rule into V1R1 when some V1R1 rule has the same STIG id and check text
    let new_keys: BTreeMap<(&str, &str), &str> = new
        .rules
        .iter()
        .map(|r| ((r.version.as_str(), r.check_digest.as_str()), r.rule_id.as_str()))
        .collect();
    let (carried, left): (Vec<_>, Vec<_>) = old
        .rules
        .iter()
        .partition(|r| new_keys.contains_key(&(r.version.as_str(), r.check_digest.as_str())));
    assert!(!carried.is_empty() && !left.is_empty(), "the two revisions exercise both cases");
    let changed_text = left.iter().find(|r| new.rules.iter().any(|n| n.version == r.version));
    let changed_text = changed_text.expect("a rule whose STIG id stayed but check text changed");
    let successor = new.rules.iter().find(|n| n.version == changed_text.version).unwrap();
    assert_ne!(changed_text.check_digest, successor.check_digest);

    let (status, reviews) = fx.server.get(&fx.admin, &fx.path("/reviews")).await;
    assert_eq!(status, 200, "{reviews}");
    let reviews = reviews.as_array().unwrap();
    assert_eq!(reviews.len(), carried.len());
    for review in reviews {
        let written = old.rule(review["ruleId"].as_str().unwrap());
        let key = (written.version.as_str(), written.check_digest.as_str());
        let aliases: Vec<&str> =
            review["ruleIds"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
        assert!(aliases.contains(&new_keys[&key]), "{aliases:?} lacks the V1R1 rule id");
    }
    let path = fx.path(&format!("/reviews?rules=not-default&assetId={}", fx.asset("gw")));
    let (_, hidden) = fx.server.get(&fx.admin, &path).await;
    let left_ids: BTreeSet<String> = left.iter().map(|r| r.rule_id.clone()).collect();
    assert_eq!(rule_ids_of(&hidden), left_ids);
    let (_, all) = fx.server.get(&fx.admin, &fx.path("/reviews?rules=all")).await;
    assert_eq!(all.as_array().unwrap().len(), old.rules.len(), "reviews are never dropped");

    let one = &successor.rule_id;
    let path = fx.path(&format!("/reviews/{}/{one}", fx.asset("gw")));
    let (status, _) = fx.server.get(&fx.admin, &path).await;
    assert_eq!(status, 204, "the changed check text hides the old review from {one}");
    fx.server.stop().await;
}

/// A collection pinned to the VPN SRG V2R0 draft shows the reviews written under V1R1 for the
/// rules whose STIG id and check text the draft kept, each under the draft's rule id, and not a
/// review written under V1R0 for a rule whose check text differs from the draft's. Re-importing
/// the draft answers `preserved`, and with `clobber=true` `replaced`, in the contract's
/// RevisionPost shape.
#[tokio::test]
async fn a_collection_pinned_to_the_draft_shows_the_reviews_its_unchanged_rules_carry() {
    let v1r0 = BenchmarkFile::read(VPN_V1R0);
    let v1r1 = BenchmarkFile::read(VPN_V1R1);
    let draft = BenchmarkFile::read(VPN_V2R0_DRAFT);
    assert_eq!(draft.status, "draft");
    let b = v1r1.benchmark_id.as_str();
    let files = [VPN_V1R0, VPN_V1R1, VPN_V2R0_DRAFT];
    let fx = Fixture::start(&files, json!({}), &[("gw", &[b])]).await;
    let s = &fx.server;
    let key = |r: &common::xccdf::RuleFacts| (r.version.clone(), r.check_digest.clone());
    // every V1R1 rule, and the V1R0 rules whose review key V1R1 does not hold
    let v1r1_keys: BTreeSet<(String, String)> = v1r1.rules.iter().map(key).collect();
    let older: Vec<&common::xccdf::RuleFacts> =
        v1r0.rules.iter().filter(|r| !v1r1_keys.contains(&key(r))).collect();
    assert!(!older.is_empty(), "V1R0 has a rule whose check text V1R1 changed");
    let written: Vec<(&common::xccdf::RuleFacts, &str)> = v1r1
        .rules
        .iter()
        .map(|r| (r, "under V1R1"))
        .chain(older.iter().map(|r| (*r, "under V1R0")))
        .collect();
    let items: Vec<Value> = written
        .iter()
        .map(|(r, detail)| json!({"ruleId": r.rule_id, "result": "pass", "detail": detail}))
        .collect();
    let path = fx.path(&format!("/reviews/{}", fx.asset("gw")));
    let (status, body) = s.send("POST", &fx.admin, &path, json!(items)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["affected"], json!({"inserted": written.len(), "updated": 0}), "{body}");

    let pin = json!({"defaultRevisionStr": draft.revision_str});
    let (status, stig) = s.send("POST", &fx.admin, &fx.path(&format!("/stigs/{b}")), pin).await;
    assert_eq!(status, 200, "{stig}");
    assert_eq!(
        (&stig["revisionStr"], &stig["revisionPinned"]),
        (&json!(draft.revision_str), &json!(true))
    );

    // which written reviews the draft holds a rule for: the draft's rule id per review key
    let in_draft: BTreeMap<(String, String), &str> =
        draft.rules.iter().map(|r| (key(r), r.rule_id.as_str())).collect();
    let carried: BTreeMap<&str, &str> = written
        .iter()
        .filter_map(|(r, _)| in_draft.get(&key(r)).map(|id| (r.rule_id.as_str(), *id)))
        .collect();
    let left: BTreeSet<String> = written
        .iter()
        .filter(|(r, _)| !in_draft.contains_key(&key(r)))
        .map(|(r, _)| r.rule_id.clone())
        .collect();
    assert_eq!(carried.len(), v1r1.rules.len(), "the draft keeps every V1R1 check text");
    assert!(!left.is_empty(), "and not V1R0's changed one");

    let (status, reviews) = s.get(&fx.admin, &fx.path("/reviews?projection=stigs")).await;
    assert_eq!(status, 200, "{reviews}");
    let expected: BTreeSet<String> = carried.keys().map(|r| r.to_string()).collect();
    assert_eq!(rule_ids_of(&reviews), expected, "exactly the reviews of unchanged rules show");
    let draft_stig = json!({"benchmarkId": b, "revisionStr": draft.revision_str,
        "isDefault": true, "revisionPinned": true});
    for review in reviews.as_array().unwrap() {
        let rule = review["ruleId"].as_str().unwrap();
        let aliases: Vec<&str> =
            review["ruleIds"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
        assert!(aliases.contains(&carried[rule]), "{rule}: {aliases:?}");
        let shown = review["stigs"].as_array().unwrap().iter().any(|s| {
            ["benchmarkId", "revisionStr", "isDefault", "revisionPinned"]
                .iter()
                .all(|k| s[*k] == draft_stig[*k])
        });
        assert!(shown, "{rule} under the pinned draft: {}", review["stigs"]);
    }
    let path = fx.path(&format!("/reviews?rules=not-default&assetId={}", fx.asset("gw")));
    let (_, hidden) = s.get(&fx.admin, &path).await;
    assert_eq!(rule_ids_of(&hidden), left, "the changed rule's review is not the draft's");
    // the draft rule sharing that STIG id reads the V1R1 review, not the V1R0 one
    let changed = older[0];
    let successor = draft.rules.iter().find(|r| r.version == changed.version).unwrap();
    let path = fx.path(&format!("/reviews/{}/{}", fx.asset("gw"), successor.rule_id));
    let (status, review) = s.get(&fx.admin, &path).await;
    assert_eq!((status, review["detail"].as_str()), (200, Some("under V1R1")), "{review}");

    // importing the draft again keeps it, or with clobber replaces it
    let bytes = BenchmarkFile::bytes(VPN_V2R0_DRAFT);
    let answer = |action: &str| {
        json!({"benchmarkId": b, "revisionStr": draft.revision_str, "action": action,
            "marking": "U"})
    };
    let (status, body) =
        s.upload(&fx.admin, "/stigs?elevate=true", VPN_V2R0_DRAFT, bytes.clone()).await;
    assert_eq!((status, body), (200, answer("preserved")));
    let path = "/stigs?elevate=true&clobber=true";
    let (status, body) = s.upload(&fx.admin, path, VPN_V2R0_DRAFT, bytes).await;
    assert_eq!((status, body), (200, answer("replaced")));
    let (_, all) = s.get(&fx.admin, &fx.path("/reviews?rules=all")).await;
    assert_eq!(all.as_array().unwrap().len(), written.len(), "no review is lost");
    fx.server.stop().await;
}

#[tokio::test]
async fn one_review_is_written_read_patched_and_deleted_with_history_capped() {
    let facts = BenchmarkFile::read(VPN_V1R1);
    let b = facts.benchmark_id.as_str();
    let settings = json!({"history": {"maxReviews": 2}});
    let fx = Fixture::start(&[VPN_V1R1], settings, &[("gw", &[b])]).await;
    let rule = &facts.rules[0].rule_id;
    let path = fx.path(&format!("/reviews/{}/{rule}", fx.asset("gw")));
    let s = &fx.server;

    let (status, _) = s.get(&fx.admin, &path).await;
    assert_eq!(status, 204);
    let put = json!({"result": "fail", "detail": "  open port\n ", "comment": "ticket 7"});
    let (status, review) = s.send("PUT", &fx.admin, &path, put.clone()).await;
    assert_eq!(status, 201, "{review}");
    assert_eq!(review["detail"], "open port\n", "spaces are trimmed, newlines kept");
    assert_eq!(
        (review["status"]["label"].as_str(), review["access"].as_str()),
        (Some("saved"), Some("rw"))
    );
    let (status, _) = s.send("PUT", &fx.admin, &path, put).await;
    assert_eq!(status, 200);

    let submit = json!({"status": "submitted"});
    let (status, review) = s.send("PATCH", &fx.admin, &path, submit).await;
    assert_eq!((status, review["status"]["label"].as_str()), (200, Some("submitted")));
    let (status, review) = s.send("PATCH", &fx.admin, &path, json!({"result": "pass"})).await;
    assert_eq!(status, 200, "{review}");
    assert_eq!(review["status"]["label"], "saved");
    assert_eq!(review["status"]["text"], "Review change triggered status update");

    let (_, review) = s.get(&fx.admin, &format!("{path}?projection=history&projection=rule")).await;
    assert_eq!(review["history"].as_array().unwrap().len(), 2, "maxReviews caps history");
    assert_eq!(review["history"][1]["status"]["label"], "submitted");
    assert_eq!(review["rule"]["version"], facts.rules[0].version.as_str());

    let (status, body) =
        s.send("PATCH", &fx.admin, &path, json!({"resultEngine": {"type": "scap"}})).await;
    assert_eq!(
        (status, body["detail"].as_str()),
        (422, Some("Request body with resultEngine must include a result"))
    );
    let missing = fx.path(&format!("/reviews/{}/{}", fx.asset("gw"), facts.rules[1].rule_id));
    let (status, body) = s.send("PATCH", &fx.admin, &missing, json!({"comment": "x"})).await;
    assert_eq!((status, body["detail"].as_str()), (404, Some("Review must exist to be patched")));
    let informational = json!({"result": "informational", "detail": "d", "comment": "c",
        "status": {"label": "submitted", "text": "please"}});
    let (status, body) = s.send("PUT", &fx.admin, &path, informational).await;
    assert_eq!(
        (status, body["detail"].as_str()),
        (403, Some("status is not allowed for the result"))
    );

    let (status, deleted) = s.send("DELETE", &fx.admin, &path, json!(null)).await;
    assert_eq!((status, deleted["result"].as_str()), (200, Some("pass")));
    let (status, _) = s.send("DELETE", &fx.admin, &path, json!(null)).await;
    assert_eq!(status, 204);
    let (status, _) = s.get(&fx.admin, &path).await;
    assert_eq!(status, 204);
    fx.server.stop().await;
}

#[tokio::test]
async fn review_metadata_is_read_merged_replaced_and_keyed() {
    let facts = BenchmarkFile::read(VPN_V1R1);
    let fx =
        Fixture::start(&[VPN_V1R1], json!({}), &[("gw", &[facts.benchmark_id.as_str()])]).await;
    let rule = &facts.rules[0].rule_id;
    let base = fx.path(&format!("/reviews/{}/{rule}", fx.asset("gw")));
    let s = &fx.server;
    let (_, empty) = s.get(&fx.admin, &format!("{base}/metadata")).await;
    assert_eq!(empty, json!({}));
    let put = json!({"result": "pass", "detail": "d", "comment": "", "metadata": {"a": "1"}});
    s.send("PUT", &fx.admin, &base, put).await;
    let (_, merged) =
        s.send("PATCH", &fx.admin, &format!("{base}/metadata"), json!({"b": "2"})).await;
    assert_eq!(merged, json!({"a": "1", "b": "2"}));
    let (status, _) =
        s.send("PUT", &fx.admin, &format!("{base}/metadata/keys/c"), json!("3")).await;
    assert_eq!(status, 204);
    let (_, keys) = s.get(&fx.admin, &format!("{base}/metadata/keys")).await;
    assert_eq!(keys, json!(["a", "b", "c"]));
    let (status, value) = s.get(&fx.admin, &format!("{base}/metadata/keys/c")).await;
    assert_eq!((status, value), (200, json!("3")));
    s.send("DELETE", &fx.admin, &format!("{base}/metadata/keys/c"), json!(null)).await;
    let (status, _) = s.get(&fx.admin, &format!("{base}/metadata/keys/c")).await;
    assert_eq!(status, 404);
    let (_, replaced) =
        s.send("PUT", &fx.admin, &format!("{base}/metadata"), json!({"z": "9"})).await;
    assert_eq!(replaced, json!({"z": "9"}));
    let (_, review) = s.get(&fx.admin, &format!("{base}?projection=history")).await;
    assert_eq!(review["history"], json!([]), "metadata writes leave no history");
    let path = fx.path("/reviews?metadata=z:9&projection=metadata");
    let (_, found) = s.get(&fx.admin, &path).await;
    assert_eq!(found[0]["metadata"], json!({"z": "9"}));
    let (_, none) = s.get(&fx.admin, &fx.path("/reviews?metadata=z:8")).await;
    assert_eq!(none, json!([]));
    let (status, _) =
        s.send("PATCH", &fx.admin, &format!("{base}/metadata"), json!({"n": 1})).await;
    assert_eq!(status, 400, "metadata values are strings");
    fx.server.stop().await;
}

#[tokio::test]
async fn a_batch_selects_targets_filters_updates_and_dry_runs() {
    let facts = BenchmarkFile::read(VPN_V1R1);
    let other = BenchmarkFile::read(OTHER);
    let b = facts.benchmark_id.as_str();
    let fx = Fixture::start(
        &[VPN_V1R1, OTHER],
        json!({}),
        &[("a1", &[b]), ("a2", &[b]), ("a3", &[other.benchmark_id.as_str()])],
    )
    .await;
    let s = &fx.server;
    let path = fx.path("/reviews");
    let rules = facts.rules.len();
    let by_stig = json!({"benchmarkIds": [b]});
    let batch = |source: Value, extra: Value| {
        let mut body = json!({"source": {"review": source}, "assets": by_stig, "rules": by_stig});
        body.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        body
    };

    let dry = batch(json!({"result": "pass", "detail": "ok"}), json!({"dryRun": true}));
    let (status, body) = s.send("POST", &fx.admin, &path, dry).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body,
        json!({"willInsert": 2 * rules, "willUpdate": 0, "willFailValidation": 0,
        "validationErrors": []})
    );
    let (_, none) = s.get(&fx.admin, &path).await;
    assert_eq!(none, json!([]), "a dry run writes nothing");

    let (_, body) = s
        .send("POST", &fx.admin, &path, batch(json!({"result": "pass", "detail": "ok"}), json!({})))
        .await;
    assert_eq!(
        (body["inserted"].as_u64(), body["updated"].as_u64()),
        (Some(2 * rules as u64), Some(0))
    );
    let (_, body) = s
        .send(
            "POST",
            &fx.admin,
            &path,
            batch(json!({"result": "fail", "detail": "x"}), json!({"action": "insert"})),
        )
        .await;
    assert_eq!(body["inserted"], 0, "insert skips existing reviews");

    let first = &facts.rules[0].rule_id;
    let one_rule = json!({"source": {"review": {"result": "fail", "comment": "c"}},
        "assets": {"assetIds": [fx.asset("a1")]}, "rules": {"ruleIds": [first]}});
    let (_, body) = s.send("POST", &fx.admin, &path, one_rule).await;
    assert_eq!(body["updated"], 1, "{body}");
    let only_failed = batch(
        json!({"comment": "seen"}),
        json!({"action": "update",
        "updateFilters": [{"field": "result", "condition": "equals", "value": "fail"}]}),
    );
    let (_, body) = s.send("POST", &fx.admin, &path, only_failed).await;
    assert_eq!((body["updated"].as_u64(), body["inserted"].as_u64()), (Some(1), Some(0)), "{body}");
    let path_one = fx.path(&format!("/reviews/{}/{first}?projection=history", fx.asset("a1")));
    let (_, review) = s.get(&fx.admin, &path_one).await;
    assert_eq!(
        (review["comment"].as_str(), review["result"].as_str()),
        (Some("seen"), Some("fail"))
    );
    assert_eq!(review["history"].as_array().unwrap().len(), 2);

    let foreign = json!({"source": {"review": {"result": "pass", "detail": "d"}},
        "assets": {"assetIds": [fx.asset("a3"), "999999"]}, "rules": {"ruleIds": [first]}});
    let (_, body) = s.send("POST", &fx.admin, &path, foreign).await;
    assert_eq!(body["failedValidation"], 2, "{body}");
    assert_eq!(body["validationErrors"][0]["error"], "no grant for this asset/ruleId");

    let submit = batch(json!({"status": "submitted"}), json!({}));
    let (_, body) = s.send("POST", &fx.admin, &path, submit).await;
    assert_eq!(body["updated"], 2 * rules, "{body}");
    let uncommented_finding = json!({"source": {"review": {"result": "fail", "comment": "",
        "status": "submitted"}}, "assets": {"assetIds": [fx.asset("a2")]},
        "rules": {"ruleIds": [first]}});
    let (_, body) = s.send("POST", &fx.admin, &path, uncommented_finding).await;
    assert_eq!(body["failedValidation"], 1, "{body}");
    assert_eq!(
        body["validationErrors"][0]["error"],
        "comment is empty and comment.required = findings "
    );

    let (full, _) = fx.grant("fuller", 2).await;
    let accept = batch(json!({"status": "accepted"}), json!({}));
    let (status, body) = s.send("POST", &full, &path, accept).await;
    assert_eq!(
        (status, body["detail"].as_str()),
        (403, Some("User cannot accept/reject Reviews in this Collection"))
    );
    let no_result = batch(json!({"detail": "d"}), json!({"action": "merge"}));
    let (status, body) = s.send("POST", &fx.admin, &path, no_result).await;
    assert_eq!((status, body["detail"].as_str()), (422, Some("Cannot insert a NULL result")));
    fx.server.stop().await;
}

#[tokio::test]
async fn restricted_users_read_and_write_only_what_their_acl_covers() {
    let facts = BenchmarkFile::read(VPN_V1R1);
    let b = facts.benchmark_id.as_str();
    let fx =
        Fixture::start(&[VPN_V1R1], json!({}), &[("a1", &[b]), ("a2", &[b]), ("a3", &[b])]).await;
    let s = &fx.server;
    let all = json!({"benchmarkIds": [b]});
    let batch = json!({"source": {"review": {"result": "pass", "detail": "ok"}}, "assets": all, "rules": all});
    s.send("POST", &fx.admin, &fx.path("/reviews"), batch).await;
    let (token, grant_id) = fx.grant("restricted", 1).await;
    fx.acl(grant_id, "a1", b, "rw").await;
    fx.acl(grant_id, "a2", b, "r").await;

    let (status, reviews) = s.get(&token, &fx.path("/reviews")).await;
    assert_eq!(status, 200, "{reviews}");
    let mut seen: BTreeMap<String, (usize, BTreeSet<String>)> = BTreeMap::new();
    for r in reviews.as_array().unwrap() {
        let entry = seen.entry(r["assetName"].as_str().unwrap().to_string()).or_default();
        entry.0 += 1;
        entry.1.insert(r["access"].as_str().unwrap().to_string());
    }
    let rules = facts.rules.len();
    let expected = BTreeMap::from([
        ("a1".to_string(), (rules, BTreeSet::from(["rw".to_string()]))),
        ("a2".to_string(), (rules, BTreeSet::from(["r".to_string()]))),
    ]);
    assert_eq!(seen, expected);

    let rule = &facts.rules[0].rule_id;
    let put = json!({"result": "fail", "detail": "d", "comment": "c"});
    let writable = fx.path(&format!("/reviews/{}/{rule}", fx.asset("a1")));
    let (status, _) = s.send("PUT", &token, &writable, put.clone()).await;
    assert_eq!(status, 200);
    let read_only = fx.path(&format!("/reviews/{}/{rule}", fx.asset("a2")));
    let (status, body) = s.send("PUT", &token, &read_only, put).await;
    assert_eq!((status, body["detail"].as_str()), (403, Some("no grant for this asset/ruleId")));
    let (status, _) = s.send("DELETE", &token, &read_only, json!(null)).await;
    assert_eq!(status, 403);
    fx.server.stop().await;
}

/// Reviews of a collection, every one, with metadata, and its review history, as its owner
/// reads them.
async fn all_reviews(server: &TestServer, token: &str, cid: &str) -> (Value, Value) {
    let path = format!("/collections/{cid}/reviews?rules=all&projection=metadata");
    let (status, reviews) = server.get(token, &path).await;
    assert_eq!(status, 200, "{reviews}");
    let (status, history) = server.get(token, &format!("/collections/{cid}/review-history")).await;
    assert_eq!(status, 200, "{history}");
    (reviews, history)
}

/// Review writes on collection A naming a real asset of collection B: the batch counts each
/// such target as `no grant for this asset/ruleId` and writes the rest, the per-asset and
/// single-review routes refuse with 403, and B's reviews stay as they were. Tried by the owner
/// of both collections, whose B grant would allow the write on B's own paths, and by a full
/// grant of A alone.
#[tokio::test]
async fn review_writes_naming_another_collections_asset_write_nothing() {
    let facts = BenchmarkFile::read(VPN_V1R1);
    let b = facts.benchmark_id.as_str();
    let fx = Fixture::start(&[VPN_V1R1], json!({}), &[("a1", &[b])]).await;
    let s = &fx.server;
    let (_, me) = s.get(&fx.admin, "/user").await;
    let body = json!({"name": "Other", "grants": [{"userId": me["userId"], "roleId": 4}]});
    let (status, other) = s.send("POST", &fx.admin, "/collections", body).await;
    assert_eq!(status, 201, "{other}");
    let other = other["collectionId"].as_str().unwrap().to_string();
    let asset = json!({"name": "b1", "collectionId": other, "description": null, "ip": null,
        "noncomputing": false, "metadata": {}, "stigs": [b]});
    let (status, b1) = s.send("POST", &fx.admin, "/assets", asset).await;
    assert_eq!(status, 201, "{b1}");
    let b1 = b1["assetId"].as_str().unwrap().to_string();
    let (reviewed, unreviewed) = (&facts.rules[0].rule_id, &facts.rules[1].rule_id);
    let own = format!("/collections/{other}/reviews/{b1}/{reviewed}");
    let review = json!({"result": "pass", "detail": "B's own", "comment": "",
        "metadata": {"owner": "B"}});
    assert_eq!(s.send("PUT", &fx.admin, &own, review.clone()).await.0, 201);
    assert_eq!(s.send("PUT", &fx.admin, &own, review).await.0, 200, "a history entry");
    let before = all_reviews(s, &fx.admin, &other).await;
    assert_eq!(before.0.as_array().unwrap().len(), 1);
    assert_eq!(before.1[0]["reviewHistories"][0]["history"].as_array().unwrap().len(), 1);
    let (full, _) = fx.grant("full-in-a", 2).await;

    let a1 = fx.asset("a1");
    let planted = json!({"result": "fail", "detail": "planted", "comment": "planted"});
    let rules = json!([reviewed, unreviewed]);
    for (who, token) in [("owner of both", &fx.admin), ("full in A", &full)] {
        // the batch: B's asset alone, B's asset beside A's, and an update of B's review
        let batches = [
            (
                json!({"source": {"review": planted}, "assets": {"assetIds": [b1]},
                "rules": {"ruleIds": rules}}),
                0,
            ),
            (
                json!({"source": {"review": planted}, "assets": {"assetIds": [a1, b1]},
                "rules": {"ruleIds": rules}}),
                2,
            ),
            (
                json!({"source": {"review": {"comment": "planted"}}, "action": "update",
                "assets": {"assetIds": [b1]}, "rules": {"ruleIds": [reviewed]}}),
                0,
            ),
        ];
        for (batch, written) in batches {
            let (status, reply) = s.send("POST", token, &fx.path("/reviews"), batch).await;
            assert_eq!(status, 200, "{who}: {reply}");
            assert_eq!(
                reply["inserted"].as_u64().unwrap() + reply["updated"].as_u64().unwrap(),
                written
            );
            let refused: BTreeSet<(String, String)> = reply["validationErrors"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| {
                    assert_eq!(e["error"], "no grant for this asset/ruleId", "{who}: {reply}");
                    (e["assetId"].as_str().unwrap().into(), e["ruleId"].as_str().unwrap().into())
                })
                .collect();
            assert!(!refused.is_empty() && refused.iter().all(|(a, _)| *a == b1), "{who}: {reply}");
            assert_eq!(reply["failedValidation"], refused.len(), "{who}: {reply}");
        }

        // the per-asset and single-review routes: B's asset is no member of A
        let one = |rule: &str| fx.path(&format!("/reviews/{b1}/{rule}"));
        let put = json!({"result": "fail", "detail": "planted", "comment": "planted"});
        let attempts = [
            (
                "POST",
                fx.path(&format!("/reviews/{b1}")),
                json!([{"ruleId": reviewed,
                "result": "fail", "detail": "planted", "comment": "planted"}]),
            ),
            ("PUT", one(reviewed), put.clone()),
            ("PUT", one(unreviewed), put),
            ("PATCH", one(reviewed), json!({"comment": "planted"})),
            ("DELETE", one(reviewed), Value::Null),
            ("PATCH", format!("{}/metadata", one(reviewed)), json!({"owner": "A"})),
            ("PUT", format!("{}/metadata", one(reviewed)), json!({"owner": "A"})),
            ("PUT", format!("{}/metadata/keys/owner", one(reviewed)), json!("A")),
            ("DELETE", format!("{}/metadata/keys/owner", one(reviewed)), Value::Null),
        ];
        for (method, path, body) in attempts {
            let (status, reply) = s.send(method, token, &path, body).await;
            assert_eq!(status, 403, "{who} {method} {path}: {reply}");
            assert!(reply["error"].is_string(), "{who} {method} {path}: {reply}");
        }
    }
    assert_eq!(all_reviews(s, &fx.admin, &other).await, before, "B's reviews changed");
    // A holds what the mixed batches wrote on its own asset, nothing of B's
    let (written, _) = all_reviews(s, &fx.admin, &fx.cid).await;
    let assets: BTreeSet<&str> =
        written.as_array().unwrap().iter().map(|r| r["assetId"].as_str().unwrap()).collect();
    assert_eq!(assets, BTreeSet::from([a1]));
    assert_eq!(rule_ids_of(&written), BTreeSet::from([reviewed.clone(), unreviewed.clone()]));
    fx.server.stop().await;
}

#[tokio::test]
async fn bad_review_input_gets_the_api_error_body() {
    let facts = BenchmarkFile::read(VPN_V1R1);
    let other = BenchmarkFile::read(OTHER);
    let b = facts.benchmark_id.as_str();
    let fx = Fixture::start(&[VPN_V1R1, OTHER], json!({}), &[("gw", &[b])]).await;
    let s = &fx.server;
    let rule = &facts.rules[0].rule_id;
    let path = fx.path(&format!("/reviews/{}/{rule}", fx.asset("gw")));
    let long = "x".repeat(32768);
    let cases = [
        (json!({"result": "great", "detail": "", "comment": ""}), 400, "result outside the enum"),
        (
            json!({"result": "pass", "detail": "", "comment": "", "status": "done"}),
            400,
            "status outside the enum",
        ),
        (json!({"result": "pass", "comment": ""}), 400, "detail missing"),
        (json!({"result": "pass", "detail": long, "comment": ""}), 400, "oversized detail"),
        (
            json!({"result": "pass", "detail": "", "comment": "",
                "status": {"label": "saved", "text": "y".repeat(512)}}),
            400,
            "status text over 511 characters",
        ),
        (
            json!({"result": "pass", "detail": "", "comment": "", "extra": 1}),
            400,
            "unknown property",
        ),
        (
            json!({"result": "pass", "detail": "", "comment": "",
                "status": {"label": "saved", "text": null, "extra": 1}}),
            400,
            "unknown status property",
        ),
        (
            json!({"result": "pass", "detail": "", "comment": "", "resultEngine": {}}),
            400,
            "engine without type and product",
        ),
        (
            json!({"result": "pass", "detail": "", "comment": "",
                "resultEngine": {"type": "robot", "product": "p"}}),
            400,
            "engine type outside the enum",
        ),
        (
            json!({"result": "pass", "detail": "", "comment": "",
                "resultEngine": {"type": "script", "product": "p", "extra": 1}}),
            400,
            "unknown engine property",
        ),
        (
            json!({"result": "pass", "detail": "", "comment": "",
                "resultEngine": {"type": "script", "product": "p", "time": "yesterday"}}),
            400,
            "engine time not a date-time",
        ),
        (
            json!({"result": "pass", "detail": "", "comment": "",
                "resultEngine": {"type": "script", "product": "p",
                    "overrides": [{"authority": "a", "oldResult": "fail", "newResult": "great"}]}}),
            400,
            "override result outside the enum",
        ),
        (
            json!({"result": "pass", "detail": "", "comment": "",
                "resultEngine": {"type": "scap", "product": "p", "version": "1.2",
                    "time": "2023-12-11T12:56:14.3576272-05:00",
                    "checkContent": {"location": "oval.xml", "component": "c"},
                    "overrides": [{"authority": "a", "oldResult": "fail", "newResult": "pass",
                        "remark": "r", "time": "2024-01-01T00:00:00Z"}]}}),
            200,
            "a complete engine",
        ),
        (
            json!({"result": "pass", "detail": "", "comment": "", "status": "submitted"}),
            403,
            "detail required to submit",
        ),
        (
            json!({"result": "fail", "detail": "d", "comment": "", "status": "submitted"}),
            403,
            "comment required for a finding",
        ),
        (
            json!({"result": "pass", "detail": "d", "comment": "", "status": "accepted"}),
            200,
            "an owner may accept",
        ),
    ];
    for (body, expected, why) in cases {
        let (status, reply) = s.send("PUT", &fx.admin, &path, body).await;
        let status = if status == 201 { 200 } else { status };
        assert_eq!(status, expected, "{why}: {reply}");
        if expected != 200 {
            assert!(reply["error"].is_string(), "{why}: {reply}");
        }
    }
    let long_status = json!({"status": {"label": "submitted", "text": "y".repeat(512)}});
    let (status, reply) = s.send("PATCH", &fx.admin, &path, long_status).await;
    assert_eq!(status, 400, "{reply}");
    let (full, _) = fx.grant("fuller", 2).await;
    let accept = json!({"result": "pass", "detail": "d", "comment": "", "status": "accepted"});
    let (status, body) = s.send("PUT", &full, &path, accept).await;
    assert_eq!(
        (status, body["detail"].as_str()),
        (403, Some("status = accepted, rejected not allowed for this User"))
    );

    let foreign_rule = fx.path(&format!("/reviews/{}/{}", fx.asset("gw"), other.rules[0].rule_id));
    let body = json!({"result": "pass", "detail": "d", "comment": ""});
    let (status, reply) = s.send("PUT", &fx.admin, &foreign_rule, body.clone()).await;
    assert_eq!(
        (status, reply["detail"].as_str()),
        (403, Some("no grant for this asset/ruleId")),
        "a rule of a STIG the asset lacks"
    );
    let unknown = fx.path(&format!("/reviews/{}/SV-0r0_rule", fx.asset("gw")));
    let (status, _) = s.send("PUT", &fx.admin, &unknown, body.clone()).await;
    assert_eq!(status, 403);
    let bad_asset = fx.path(&format!("/reviews/12x/{rule}"));
    let (status, _) = s.send("PUT", &fx.admin, &bad_asset, body.clone()).await;
    assert_eq!(status, 400);
    let (status, _) =
        s.send("PUT", &fx.admin, &fx.path(&format!("/reviews/999999/{rule}")), body).await;
    assert_eq!(status, 403);
    let (status, _) = s.get(&fx.admin, &fx.path("/reviews?result=great")).await;
    assert_eq!(status, 400);
    let (status, _) = s.get(&fx.admin, &fx.path("/reviews?projection=history")).await;
    assert_eq!(status, 400, "history is a single-review projection");
    let batches = [
        json!({"source": {"review": {}}, "assets": {"assetIds": []}, "rules": {"ruleIds": []}}),
        json!({"source": {"review": {"result": "pass"}}, "assets": {"ruleIds": []}, "rules": {"ruleIds": []}}),
        json!({"source": {"review": {"result": "pass"}}, "assets": {"assetIds": []}, "rules": {"ruleIds": []}, "action": "upsert"}),
        json!({"source": {"review": {"result": "pass"}}, "assets": {"assetIds": []}, "rules": {"ruleIds": []},
            "updateFilters": [{"field": "ts", "condition": "lessThan", "value": "yesterday"}]}),
    ];
    for batch in batches {
        let (status, reply) = s.send("POST", &fx.admin, &fx.path("/reviews"), batch.clone()).await;
        assert_eq!(status, 400, "{batch}: {reply}");
    }
    fx.server.stop().await;
}

#[tokio::test]
async fn collection_review_history_lists_counts_and_prunes() {
    let facts = BenchmarkFile::read(VPN_V1R1);
    let b = facts.benchmark_id.as_str();
    let fx = Fixture::start(&[VPN_V1R1], json!({}), &[("gw", &[b])]).await;
    let s = &fx.server;
    let rule = &facts.rules[0].rule_id;
    let path = fx.path(&format!("/reviews/{}/{rule}", fx.asset("gw")));
    for result in ["pass", "fail", "notapplicable"] {
        s.send("PUT", &fx.admin, &path, json!({"result": result, "detail": "d", "comment": "c"}))
            .await;
    }
    let today = chrono::Utc::now().date_naive();
    let tomorrow = today.succ_opt().unwrap();

    let (status, history) = s.get(&fx.admin, &fx.path("/review-history")).await;
    assert_eq!(status, 200, "{history}");
    assert_eq!(history[0]["assetId"], fx.asset("gw"));
    let entries = &history[0]["reviewHistories"][0];
    assert_eq!(entries["ruleId"], rule.as_str());
    let results: Vec<&str> = entries["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["result"].as_str().unwrap())
        .collect();
    assert_eq!(results, ["pass", "fail"], "each update snapshots the review as it was");
    assert!(entries["history"][0].get("resultEngine").is_none());

    let (_, later) =
        s.get(&fx.admin, &fx.path(&format!("/review-history?startDate={tomorrow}"))).await;
    assert_eq!(later, json!([]));
    let (_, stats) = s.get(&fx.admin, &fx.path("/review-history/stats?projection=asset")).await;
    assert_eq!(stats["collectionHistoryEntryCount"], 2, "{stats}");
    assert_eq!(stats["assetHistoryEntryCounts"][0]["historyEntryCount"], 2);

    let (restricted, _) = fx.grant("restricted", 1).await;
    let (status, _) = s.get(&restricted, &fx.path("/review-history")).await;
    assert_eq!(status, 403);
    let (status, _) = s.send("DELETE", &fx.admin, &fx.path("/review-history"), json!(null)).await;
    assert_eq!(status, 400, "retentionDate is required");
    let prune = fx.path(&format!("/review-history?retentionDate={today}"));
    let (_, kept) = s.send("DELETE", &fx.admin, &prune, json!(null)).await;
    assert_eq!(kept, json!({"HistoryEntriesDeleted": 0}));
    let prune = fx.path(&format!("/review-history?retentionDate={tomorrow}"));
    let (_, gone) = s.send("DELETE", &fx.admin, &prune, json!(null)).await;
    assert_eq!(gone, json!({"HistoryEntriesDeleted": 2}));
    let (_, stats) = s.get(&fx.admin, &fx.path("/review-history/stats")).await;
    assert_eq!(stats, json!({"collectionHistoryEntryCount": 0, "oldestHistoryEntryDate": null}));
    fx.server.stop().await;
}

/// Batch posts, single PUTs, benchmark imports and STIG detach/re-attach run together. Each
/// accepted write leaves a unique detail; afterwards every target's current review and history
/// must hold exactly the accepted details, each once, and every asset must be back on both
/// STIGs under one default revision per STIG.
#[tokio::test]
async fn parallel_writers_lose_no_accepted_write_and_no_assignment() {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    use std::time::{Duration, Instant};

    let facts = BenchmarkFile::read(VPN_V1R1);
    let other = BenchmarkFile::read(OTHER);
    let b = facts.benchmark_id.clone();
    let settings = json!({"history": {"maxReviews": 15}});
    let names = ["n1", "n2", "n3"];
    let stigs = [b.as_str()];
    let assets: Vec<(&str, &[&str])> = names.iter().map(|n| (*n, &stigs[..])).collect();
    let fx = Arc::new(Fixture::start(&[VPN_V1R1, OTHER], settings, &assets).await);
    let asset_ids: Vec<String> = names.iter().map(|n| fx.asset(n).to_string()).collect();
    let batch_rules: Vec<String> = facts.rules[..5].iter().map(|r| r.rule_id.clone()).collect();
    let put_rules: Vec<String> = facts.rules[5..10].iter().map(|r| r.rule_id.clone()).collect();
    // at most 14 writes reach one target, so a history of 15 keeps every one of them
    const ROUNDS: usize = 7;
    let deadline = Instant::now() + Duration::from_secs(20);
    type Accepted = Vec<((String, String), String)>;

    let mut writers: Vec<tokio::task::JoinHandle<Accepted>> = Vec::new();
    for w in 0..2 {
        let (fx, assets, rules) = (fx.clone(), asset_ids.clone(), batch_rules.clone());
        writers.push(tokio::spawn(async move {
            let mut accepted = Vec::new();
            for n in 0..ROUNDS {
                if Instant::now() > deadline {
                    break;
                }
                let detail = format!("batch-{w}-{n}");
                let body = json!({"source": {"review": {"result": "pass", "detail": detail}},
                    "assets": {"assetIds": assets}, "rules": {"ruleIds": rules}});
                let (status, reply) =
                    fx.server.send("POST", &fx.admin, &fx.path("/reviews"), body).await;
                assert_eq!(status, 200, "{reply}");
                let refused: BTreeSet<(String, String)> = reply["validationErrors"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|e| {
                        (
                            e["assetId"].as_str().unwrap().into(),
                            e["ruleId"].as_str().unwrap().into(),
                        )
                    })
                    .collect();
                for a in &assets {
                    for r in &rules {
                        if !refused.contains(&(a.clone(), r.clone())) {
                            accepted.push(((a.clone(), r.clone()), detail.clone()));
                        }
                    }
                }
            }
            accepted
        }));
    }
    for w in 0..2 {
        let (fx, assets, rules) = (fx.clone(), asset_ids.clone(), put_rules.clone());
        writers.push(tokio::spawn(async move {
            let mut accepted = Vec::new();
            for n in 0..ROUNDS {
                for a in &assets {
                    for r in &rules {
                        if Instant::now() > deadline {
                            return accepted;
                        }
                        let detail = format!("put-{w}-{n}");
                        let path = fx.path(&format!("/reviews/{a}/{r}"));
                        let body = json!({"result": "fail", "detail": detail, "comment": "c"});
                        let (status, reply) = fx.server.send("PUT", &fx.admin, &path, body).await;
                        match status {
                            200 | 201 => accepted.push(((a.clone(), r.clone()), detail)),
                            // a rule briefly unknown while its revision is re-imported or
                            // its STIG detached
                            403 => {}
                            _ => panic!("PUT answered {status}: {reply}"),
                        }
                    }
                }
            }
            accepted
        }));
    }
    let writing = Arc::new(AtomicBool::new(true));
    let (importer, assigner) = {
        let fx1 = fx.clone();
        let importer = tokio::spawn(async move {
            let files = [VPN_V1R1, "U_VPN_SRG_V1R0_Manual-xccdf.xml"];
            for n in 0..6 {
                let file = files[n % 2];
                let path = "/stigs?elevate=true&clobber=true";
                let (status, body) =
                    fx1.server.upload(&fx1.admin, path, file, BenchmarkFile::bytes(file)).await;
                assert_eq!(status, 200, "{body}");
            }
        });
        let (fx2, assets, writing) = (fx.clone(), asset_ids.clone(), writing.clone());
        let stigs = [b.clone(), other.benchmark_id.clone()];
        // detaches and re-attaches both STIGs, asset by asset and for the whole collection,
        // for as long as the writers run
        let assigner = tokio::spawn(async move {
            let s = &fx2.server;
            let mut round = 0;
            while round < 2 || writing.load(Ordering::SeqCst) {
                for a in &assets {
                    for stig in &stigs {
                        let path = format!("/assets/{a}/stigs/{stig}");
                        let (status, body) = s.send("DELETE", &fx2.admin, &path, json!(null)).await;
                        assert_eq!(status, 200, "{body}");
                        let (status, body) = s.send("PUT", &fx2.admin, &path, json!(null)).await;
                        assert_eq!(status, 200, "{body}");
                    }
                }
                let stig = &stigs[round % 2];
                let path = fx2.path(&format!("/stigs/{stig}/assets"));
                for set in [json!([]), json!(assets)] {
                    let (status, body) = s.send("PUT", &fx2.admin, &path, set).await;
                    assert_eq!(status, 200, "{body}");
                }
                round += 1;
            }
        });
        (importer, assigner)
    };
    let mut accepted: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    for writer in writers {
        for (target, detail) in writer.await.unwrap() {
            accepted.entry(target).or_default().push(detail);
        }
    }
    writing.store(false, Ordering::SeqCst);
    importer.await.unwrap();
    assigner.await.unwrap();

    for ((asset, rule), mut expected) in accepted {
        let path = fx.path(&format!("/reviews/{asset}/{rule}?projection=history"));
        let (status, review) = fx.server.get(&fx.admin, &path).await;
        assert_eq!(status, 200, "{asset}/{rule}");
        let mut found: Vec<String> = review["history"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| h["detail"].as_str().unwrap().to_string())
            .collect();
        found.push(review["detail"].as_str().unwrap().to_string());
        found.sort();
        expected.sort();
        assert_eq!(found, expected, "{asset}/{rule}");
    }
    let (_, all) = fx.server.get(&fx.admin, &fx.path("/reviews?rules=all")).await;
    assert_eq!(all.as_array().unwrap().len(), names.len() * 10, "one review per target");
    // one default revision per mapped STIG, the current one (nothing is pinned), and every
    // asset back on both STIGs under that revision
    let (_, mapped) = fx.server.get(&fx.admin, &fx.path("/stigs")).await;
    let mut defaults = BTreeMap::new();
    for stig in mapped.as_array().unwrap() {
        let id = stig["benchmarkId"].as_str().unwrap().to_string();
        let (_, library) = fx.server.get(&fx.admin, &format!("/stigs/{id}")).await;
        assert_eq!(stig["revisionStr"], library["lastRevisionStr"], "{id}");
        assert_eq!(stig["revisionPinned"], false, "{id}");
        let earlier = defaults.insert(id.clone(), stig["revisionStr"].clone());
        assert!(earlier.is_none(), "{id} listed twice");
    }
    let both = BTreeSet::from([b.clone(), other.benchmark_id.clone()]);
    assert_eq!(defaults.keys().cloned().collect::<BTreeSet<_>>(), both);
    for a in &asset_ids {
        let (_, asset) = fx.server.get(&fx.admin, &format!("/assets/{a}?projection=stigs")).await;
        let stigs: BTreeMap<String, Value> = asset["stigs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| (s["benchmarkId"].as_str().unwrap().to_string(), s["revisionStr"].clone()))
            .collect();
        assert_eq!(stigs, defaults, "{asset}");
    }
    let fx = Arc::try_unwrap(fx).ok().unwrap();
    fx.server.stop().await;
}
