//! The STIG library over the API: benchmarks, revisions (drafts and "latest"), groups, rules,
//! CCIs and deletion, with expected values read from the benchmark files themselves.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::xccdf::BenchmarkFile;
use common::{shared, TestServer};
use serde_json::{json, Value};

const VPN_V1R0: &str = "U_VPN_SRG_V1R0_Manual-xccdf.xml";
const VPN_V1R1: &str = "U_VPN_SRG_V1R1_Manual-xccdf.xml";
const VPN_V2R0_DRAFT: &str = "U_VPN_SRG_V2R0_Manual-xccdf-draft.xml";

async fn import(server: &TestServer, token: &str, file: &str) -> Value {
    let (status, body) =
        server.upload(token, "/stigs?elevate=true", file, BenchmarkFile::bytes(file)).await;
    assert_eq!(status, 200, "{file}: {body}");
    body
}

fn ids(list: &Value, key: &str) -> Vec<String> {
    list.as_array().unwrap().iter().map(|v| v[key].as_str().unwrap().to_string()).collect()
}

#[tokio::test]
async fn drafts_never_become_latest_and_every_revision_reads_back() {
    let server = TestServer::start().await;
    let admin = server.token("admin", &["admin"]);
    let files = [VPN_V1R0, VPN_V2R0_DRAFT, VPN_V1R1];
    for file in files {
        import(&server, &admin, file).await;
    }
    let facts: Vec<BenchmarkFile> = files.iter().map(|f| BenchmarkFile::read(f)).collect();
    let benchmark_id = &facts[0].benchmark_id;
    let draft = facts.iter().find(|f| f.status == "draft").unwrap();
    let latest = facts
        .iter()
        .filter(|f| f.status != "draft")
        .max_by_key(|f| f.revision_str.clone())
        .unwrap();
    assert_ne!(draft.revision_str, latest.revision_str);

    let (status, stig) = server.get(&admin, &format!("/stigs/{benchmark_id}")).await;
    assert_eq!(status, 200, "{stig}");
    assert_eq!(stig["lastRevisionStr"], latest.revision_str.as_str());
    let strs: BTreeSet<&str> =
        stig["revisionStrs"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
    let expected: BTreeSet<&str> = facts.iter().map(|f| f.revision_str.as_str()).collect();
    assert_eq!(strs, expected);
    assert_eq!(stig["revisions"].as_array().unwrap().len(), facts.len());

    let (status, rev) =
        server.get(&admin, &format!("/stigs/{benchmark_id}/revisions/latest")).await;
    assert_eq!((status, rev["revisionStr"].as_str()), (200, Some(latest.revision_str.as_str())));
    let path = format!("/stigs/{benchmark_id}/revisions/{}", draft.revision_str);
    let (status, rev) = server.get(&admin, &path).await;
    assert_eq!((status, rev["status"].as_str()), (200, Some("draft")));

    for f in &facts {
        let base = format!("/stigs/{benchmark_id}/revisions/{}", f.revision_str);
        let (status, rules) = server.get(&admin, &format!("{base}/rules")).await;
        assert_eq!(status, 200);
        let expected: BTreeSet<String> = f.rules.iter().map(|r| r.rule_id.clone()).collect();
        assert_eq!(ids(&rules, "ruleId").into_iter().collect::<BTreeSet<_>>(), expected);

        let (status, groups) = server.get(&admin, &format!("{base}/groups?projection=rules")).await;
        assert_eq!(status, 200);
        let mut by_group: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for r in &f.rules {
            by_group.entry(r.group_id.clone()).or_default().insert(r.rule_id.clone());
        }
        let got: BTreeMap<String, BTreeSet<String>> = groups
            .as_array()
            .unwrap()
            .iter()
            .map(|g| {
                let rules = ids(&g["rules"], "ruleId").into_iter().collect();
                (g["groupId"].as_str().unwrap().to_string(), rules)
            })
            .collect();
        assert_eq!(got, by_group, "{}", f.revision_str);

        let (status, ccis) = server.get(&admin, &format!("{base}/ccis")).await;
        assert_eq!(status, 200);
        let expected: BTreeSet<String> = f.rules.iter().flat_map(|r| r.ccis.clone()).collect();
        assert_eq!(ids(&ccis, "cci").into_iter().collect::<BTreeSet<_>>(), expected);
    }

    let one = &latest.rules[0];
    let path =
        format!("/stigs/{benchmark_id}/revisions/latest/groups/{}?projection=rules", one.group_id);
    let (status, group) = server.get(&admin, &path).await;
    assert_eq!((status, &group["rules"][0]["ruleId"]), (200, &json!(one.rule_id)));
    let path =
        format!("/stigs/{benchmark_id}/revisions/latest/rules/{}?projection=ccis", one.rule_id);
    let (status, rule) = server.get(&admin, &path).await;
    assert_eq!(status, 200, "{rule}");
    assert_eq!(rule["version"], one.version.as_str());
    assert_eq!(rule["severity"], one.severity.as_str());
    assert_eq!(ids(&rule["ccis"], "cci"), one.ccis);

    for (path, why) in [
        (format!("/stigs/{benchmark_id}/revisions/V9R9"), "no such revision"),
        (format!("/stigs/{benchmark_id}/revisions/latest/groups/V-0"), "no such group"),
        (format!("/stigs/{benchmark_id}/revisions/latest/rules/SV-0r1_rule"), "no such rule"),
        ("/stigs/NOPE".to_string(), "no such benchmark"),
        ("/stigs/rules/SV-0r1_rule".to_string(), "no such rule id"),
    ] {
        let (status, body) = server.get(&admin, &path).await;
        assert_eq!((status, body["error"].as_str()), (404, Some("Resource not found.")), "{why}");
    }
    let (status, _) = server.get(&admin, &format!("/stigs/{benchmark_id}/revisions/V1")).await;
    assert_eq!(status, 400);
    server.stop().await;
}

#[tokio::test]
async fn a_rule_by_id_lists_its_revisions_and_the_rule_ids_sharing_its_review_key() {
    let server = TestServer::start().await;
    let admin = server.token("admin", &["admin"]);
    let files = [VPN_V1R0, VPN_V1R1, VPN_V2R0_DRAFT];
    for file in files {
        import(&server, &admin, file).await;
    }
    let facts: Vec<BenchmarkFile> = files.iter().map(|f| BenchmarkFile::read(f)).collect();
    // the key of a rule id is its (version, digest) in the newest-dated revision holding it;
    // the files are imported oldest first and their dates ascend with their revisions
    let mut key_of: BTreeMap<&str, (&str, &str)> = BTreeMap::new();
    let mut holders: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
    for f in &facts {
        for r in &f.rules {
            key_of.insert(&r.rule_id, (&r.version, &r.check_digest));
            holders.entry(&r.rule_id).or_default().insert(f.revision_str.clone());
        }
    }
    for rule_id in ["SV-106179r123456789_rule", "SV-106181r1_rule"] {
        let path = format!("/stigs/rules/{rule_id}?projection=ruleIds&projection=stigs");
        let (status, rule) = server.get(&admin, &path).await;
        assert_eq!(status, 200, "{rule}");
        let revisions: BTreeSet<String> = ids(&rule["stigs"], "revisionStr").into_iter().collect();
        assert_eq!(revisions, holders[rule_id], "{rule_id}");
        let sharing: Vec<String> = key_of
            .iter()
            .filter(|(_, key)| **key == key_of[rule_id])
            .map(|(id, _)| id.to_string())
            .collect();
        let listed: Vec<String> = rule["ruleIds"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_string())
            .collect();
        assert_eq!(listed, sharing, "{rule_id}");
    }
    server.stop().await;
}

#[tokio::test]
async fn a_cci_reads_back_from_the_loaded_list() {
    let server = TestServer::start().await;
    let admin = server.token("admin", &["admin"]);
    let list = std::fs::read(shared("data/cci/U_CCI_List.xml")).unwrap();
    let (status, body) =
        server.upload(&admin, "/op/ccis?elevate=true", "U_CCI_List.xml", list).await;
    assert_eq!(status, 200, "{body}");
    import(&server, &admin, VPN_V1R1).await;
    let facts = BenchmarkFile::read(VPN_V1R1);
    let cci = facts.rules[0].ccis[0].clone();
    let text = std::fs::read_to_string(shared("data/cci/U_CCI_List.xml")).unwrap();
    let item =
        common::xccdf::between(&text, &format!("<cci_item id=\"CCI-{cci}\">"), "</cci_item>")[0];
    let definition = common::xccdf::between(item, "<definition>", "</definition>")[0];

    let path = format!("/stigs/ccis/{cci}?projection=stigs&projection=references");
    let (status, body) = server.get(&admin, &path).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["definition"], common::xccdf::unescape(definition).as_str());
    assert_eq!(
        body["stigs"],
        json!([{"benchmarkId": facts.benchmark_id, "revisionStr": facts.revision_str}])
    );
    let references = item.matches("<reference ").count();
    assert_eq!(body["references"].as_array().unwrap().len(), references);

    let (status, _) = server.get(&admin, "/stigs/ccis/12345").await;
    assert_eq!(status, 400, "a CCI is six digits");
    let (status, _) = server.get(&admin, "/stigs/ccis/999999").await;
    assert_eq!(status, 404);
    let (status, maps) = server.get(&admin, "/stigs/scap-maps").await;
    assert_eq!((status, maps.as_array().unwrap().len()), (200, 6));
    server.stop().await;
}

#[tokio::test]
async fn revisions_and_benchmarks_in_use_are_deleted_only_with_force() {
    let server = TestServer::start().await;
    let admin = server.token("admin", &["admin", "create_collection"]);
    import(&server, &admin, VPN_V1R0).await;
    import(&server, &admin, VPN_V1R1).await;
    let other = BenchmarkFile::read("U_VPN_SRG-OTHER_V1R1_Manual-xccdf.xml");
    import(&server, &admin, "U_VPN_SRG-OTHER_V1R1_Manual-xccdf.xml").await;
    let vpn = BenchmarkFile::read(VPN_V1R0);
    let (b, v1r0) = (&vpn.benchmark_id, &vpn.revision_str);

    let (_, me) = server.get(&admin, "/user").await;
    let body = json!({"name": "C", "grants": [{"userId": me["userId"], "roleId": 4}]});
    let (_, collection) = server.send("POST", &admin, "/collections", body).await;
    let cid = collection["collectionId"].as_str().unwrap().to_string();
    let asset = json!({"name": "a", "collectionId": cid, "description": "", "ip": "",
        "noncomputing": false, "metadata": {}, "stigs": [b, other.benchmark_id]});
    let (status, body) = server.send("POST", &admin, "/assets", asset).await;
    assert_eq!(status, 201, "{body}");
    let store = stigward_storage::Store::connect(&server.database_url, 1).await.unwrap();
    let rev_id = format!("{b}-{}", v1r0.trim_start_matches('V').replacen('R', "-", 1));
    store.insert_revision_pin(cid.parse().unwrap(), b, &rev_id).await.unwrap();
    store.close().await;

    let pinned = format!("/stigs/{b}/revisions/{v1r0}?elevate=true");
    let (status, body) = server.send("DELETE", &admin, &pinned, json!(null)).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(
        body["detail"],
        "The revisionStr is pinned to one or more Collections. Set force=true to force the delete"
    );
    let (status, _) =
        server.send("DELETE", &admin, &format!("/stigs/{b}/revisions/{v1r0}"), json!(null)).await;
    assert_eq!(status, 403, "deleting needs elevate=true");
    let (status, _) = server
        .send("DELETE", &admin, &format!("/stigs/{b}/revisions/latest?elevate=true"), json!(null))
        .await;
    assert_eq!(status, 400);
    let (status, body) =
        server.send("DELETE", &admin, &format!("{pinned}&force=true"), json!(null)).await;
    assert_eq!((status, body["revisionStr"].as_str()), (200, Some(v1r0.as_str())), "{body}");
    let (status, _) = server.send("DELETE", &admin, &pinned, json!(null)).await;
    assert_eq!(status, 404);
    let (_, stig) = server.get(&admin, &format!("/stigs/{b}")).await;
    assert_eq!(stig["revisionStrs"].as_array().unwrap().len(), 1);

    let other_id = &other.benchmark_id;
    let last = format!("/stigs/{other_id}/revisions/{}?elevate=true", other.revision_str);
    let (status, body) = server.send("DELETE", &admin, &last, json!(null)).await;
    assert_eq!(status, 422, "{body}");
    assert!(body["detail"].as_str().unwrap().starts_with("The revisionStr is the last remaining"));
    let (status, body) =
        server.send("DELETE", &admin, &format!("/stigs/{b}?elevate=true"), json!(null)).await;
    assert_eq!(status, 422, "{body}");
    let (status, body) = server
        .send("DELETE", &admin, &format!("/stigs/{b}?elevate=true&force=true"), json!(null))
        .await;
    assert_eq!((status, body["benchmarkId"].as_str()), (200, Some(b.as_str())), "{body}");
    let (status, _) = server.get(&admin, &format!("/stigs/{b}")).await;
    assert_eq!(status, 404);
    let (status, body) =
        server.send("DELETE", &admin, &format!("{last}&force=true"), json!(null)).await;
    assert_eq!(status, 200, "{body}");
    let (_, stigs) = server.get(&admin, "/stigs").await;
    assert_eq!(stigs, json!([]), "the last revision takes its benchmark with it");
    server.stop().await;
}
