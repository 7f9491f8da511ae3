//! API tests against a real server on a real socket, on SQLite by default and on PostgreSQL
//! with `STIGWARD_TEST_BACKEND=postgres`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;

use common::{shared, TestServer};
use serde_json::{json, Value};

/// Text between `open` and `close` after each occurrence of `open`.
fn all_between<'a>(text: &'a str, open: &str, close: &str) -> Vec<&'a str> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find(open) {
        let after = &rest[start + open.len()..];
        let Some(end) = after.find(close) else { break };
        out.push(&after[..end]);
        rest = &after[end..];
    }
    out
}

/// Facts about a benchmark file, read from its text without the product's parser.
struct BenchmarkFacts {
    benchmark_id: String,
    revision_str: String,
    rule_ids: Vec<String>,
    groups: usize,
    cci_refs: usize,
}

fn benchmark_facts(file: &str) -> BenchmarkFacts {
    let text = std::fs::read_to_string(shared(&format!("data/stigs/{file}"))).unwrap();
    let root = &text[text.find("<Benchmark").unwrap()..];
    let benchmark_id = all_between(root, " id=\"", "\"")[0].to_string();
    let version = all_between(root, "<version>", "</version>")[0].trim().to_string();
    let release_info = all_between(root, "<plain-text id=\"release-info\">", "<")[0];
    let release = release_info.split_whitespace().nth(1).unwrap().to_string();
    let rule_ids = all_between(&text, "<Rule id=\"", "\"").iter().map(|s| s.to_string()).collect();
    let cci_refs = all_between(&text, "<ident system=\"http://cyber.mil/cci\">", "<").len()
        + all_between(&text, "<ident system=\"http://iase.disa.mil/cci\">", "<").len();
    BenchmarkFacts {
        benchmark_id,
        revision_str: format!("V{version}R{release}"),
        rule_ids,
        groups: all_between(&text, "<Group id=\"", "\"").len(),
        cci_refs,
    }
}

/// Rule id → (STATUS, commented) of each VULN of a CKL, read from its text.
fn ckl_results(file: &str) -> BTreeMap<String, (String, bool)> {
    let text = std::fs::read_to_string(shared(&format!("data/checklists/{file}"))).unwrap();
    let mut out = BTreeMap::new();
    for vuln in all_between(&text, "<VULN>", "</VULN>") {
        let rule_id = vuln
            .split("<VULN_ATTRIBUTE>Rule_ID</VULN_ATTRIBUTE>")
            .nth(1)
            .map(|rest| all_between(rest, "<ATTRIBUTE_DATA>", "</ATTRIBUTE_DATA>")[0])
            .unwrap();
        let status = all_between(vuln, "<STATUS>", "</STATUS>")[0].to_string();
        let text_of = |tag: &str| {
            let open = format!("<{tag}>");
            let close = format!("</{tag}>");
            all_between(vuln, &open, &close)
                .first()
                .map(|s| s.trim().to_string())
                .unwrap_or_default()
        };
        let commented = !text_of("FINDING_DETAILS").is_empty() || !text_of("COMMENTS").is_empty();
        out.insert(rule_id.trim().to_string(), (status, commented));
    }
    out
}

/// What the metrics of an asset must say after importing `ckl` against `benchmark`.
fn expected_metrics(benchmark: &BenchmarkFacts, ckl: &str) -> (Value, Vec<String>) {
    let results = ckl_results(ckl);
    let loaded: BTreeSet<&String> = benchmark.rule_ids.iter().collect();
    let count = |status: &str| {
        results.iter().filter(|(id, (s, _))| loaded.contains(id) && s == status).count()
    };
    let other = results
        .iter()
        .filter(|(id, (s, commented))| loaded.contains(id) && s == "Not_Reviewed" && *commented)
        .count();
    let unmatched = results.keys().filter(|id| !loaded.contains(id)).cloned().collect();
    let expected = json!({
        "pass": count("NotAFinding"),
        "fail": count("Open"),
        "notapplicable": count("Not_Applicable"),
        "other": other,
    });
    (expected, unmatched)
}

#[tokio::test]
async fn library_collection_checklists_and_metrics_end_to_end() {
    let server = TestServer::start().await;
    let admin = server.token_cli("admin", "admin,create_collection").await;

    let mut files: Vec<String> = std::fs::read_dir(shared("data/stigs"))
        .unwrap()
        .map(|e| e.unwrap().path().display().to_string())
        .collect();
    files.sort();
    let args: Vec<&str> = files.iter().map(String::as_str).collect();
    let out = server.import_cli(&args).await;
    assert_eq!(out.matches(" inserted").count(), files.len(), "{out}");

    let (status, stigs) = server.get(&admin, "/stigs").await;
    assert_eq!(status, 200);
    let file_names: Vec<String> = std::fs::read_dir(shared("data/stigs"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    let ids: BTreeSet<String> =
        file_names.iter().map(|f| benchmark_facts(f).benchmark_id).collect();
    let listed: BTreeSet<String> = stigs
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["benchmarkId"].as_str().unwrap().into())
        .collect();
    assert_eq!(listed, ids);

    let (_, me) = server.get(&admin, "/user").await;
    let collection = json!({"name": "Fleet", "grants": [{"userId": me["userId"], "roleId": 4}]});
    let (status, created) = server.send("POST", &admin, "/collections", collection).await;
    assert_eq!(status, 201, "{created}");
    let cid = created["collectionId"].as_str().unwrap().to_string();
    for name in ["chrome-host", "k8s-host"] {
        let asset = json!({"name": name, "collectionId": cid, "description": null, "ip": null,
            "noncomputing": false, "metadata": {}, "stigs": []});
        let (status, body) = server.send("POST", &admin, "/assets", asset).await;
        assert_eq!(status, 201, "{body}");
    }

    let chrome_ckl = shared("data/checklists/evalstig_chrome_V2R8_win.ckl");
    let k8s_ckl = shared("data/checklists/stigviewer2_17_kubernetes_empty_hostname.ckl");
    let chrome_out = server
        .import_cli(&[
            "--collection",
            "Fleet",
            "--asset",
            "chrome-host",
            chrome_ckl.to_str().unwrap(),
        ])
        .await;
    let k8s_out = server
        .import_cli(&["--collection", "Fleet", "--asset", "k8s-host", k8s_ckl.to_str().unwrap()])
        .await;

    let chrome = benchmark_facts("U_Google_Chrome_STIG_V2R8_Manual-xccdf.xml");
    let k8s = benchmark_facts("U_Kubernetes_STIG_V1R2_Manual-xccdf.xml");
    let (chrome_expected, chrome_unmatched) =
        expected_metrics(&chrome, "evalstig_chrome_V2R8_win.ckl");
    let (k8s_expected, k8s_unmatched) =
        expected_metrics(&k8s, "stigviewer2_17_kubernetes_empty_hostname.ckl");
    assert!(chrome_unmatched.is_empty(), "{chrome_out}");
    assert!(!k8s_unmatched.is_empty(), "the checklist comes from a later Kubernetes release");
    let report: Value = serde_json::from_str(k8s_out.split_once(": ").unwrap().1).unwrap();
    let reported: BTreeSet<String> = report["stigs"][0]["notMatched"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    assert_eq!(reported, k8s_unmatched.into_iter().collect());

    let path = format!("/collections/{cid}/metrics/summary/asset");
    let (status, metrics) = server.get(&admin, &path).await;
    assert_eq!(status, 200, "{metrics}");
    let by_name: BTreeMap<&str, &Value> =
        metrics.as_array().unwrap().iter().map(|m| (m["name"].as_str().unwrap(), m)).collect();
    for (name, facts, expected) in
        [("chrome-host", &chrome, chrome_expected), ("k8s-host", &k8s, k8s_expected)]
    {
        let m = &by_name[name]["metrics"];
        assert_eq!(m["results"], expected, "{name}");
        assert_eq!(m["assessments"], facts.rule_ids.len(), "{name}");
        let assessed = ["pass", "fail", "notapplicable"]
            .iter()
            .map(|k| expected[k].as_u64().unwrap())
            .sum::<u64>();
        assert_eq!(m["assessed"], assessed, "{name}");
        assert_eq!(by_name[name]["benchmarkIds"], json!([facts.benchmark_id]));
    }
    server.stop().await;
}

#[tokio::test]
async fn rules_groups_and_ccis_match_the_benchmark_files() {
    let server = TestServer::start().await;
    let admin = server.token("admin", &["admin"]);
    let files = [
        "U_ASD_STIG_V5R1_Manual-xccdf.xml",
        "U_Google_Chrome_STIG_V2R8_Manual-xccdf.xml",
        "U_VPN_SRG_V1R1_Manual-xccdf.xml",
        "U_MS_Windows_Server_2019_STIG_V2R2_Manual-xccdf.xml",
    ];
    for file in files {
        let bytes = std::fs::read(shared(&format!("data/stigs/{file}"))).unwrap();
        let (status, body) = server.upload(&admin, "/stigs?elevate=true", file, bytes).await;
        assert_eq!(status, 200, "{body}");
        let facts = benchmark_facts(file);
        assert_eq!(body["benchmarkId"], facts.benchmark_id.as_str());
        assert_eq!(body["revisionStr"], facts.revision_str.as_str());
        assert_eq!(body["action"], "inserted");
        assert_eq!(body["marking"], "U");

        let path = format!(
            "/stigs/{}/revisions/{}/rules?projection=ccis",
            facts.benchmark_id, facts.revision_str
        );
        let (status, rules) = server.get(&admin, &path).await;
        assert_eq!(status, 200);
        let rules = rules.as_array().unwrap();
        let ids: BTreeSet<&str> = rules.iter().map(|r| r["ruleId"].as_str().unwrap()).collect();
        let expected: BTreeSet<&str> = facts.rule_ids.iter().map(String::as_str).collect();
        assert_eq!(ids, expected, "{file}");
        let groups: BTreeSet<&str> = rules.iter().map(|r| r["groupId"].as_str().unwrap()).collect();
        assert_eq!(groups.len(), facts.groups, "{file}");
        let ccis: usize = rules.iter().map(|r| r["ccis"].as_array().unwrap().len()).sum();
        assert_eq!(ccis, facts.cci_refs, "{file}");
    }
    let (_, again) = server
        .upload(
            &admin,
            "/stigs?elevate=true",
            files[1],
            std::fs::read(shared(&format!("data/stigs/{}", files[1]))).unwrap(),
        )
        .await;
    assert_eq!(again["action"], "preserved");
    server.stop().await;
}

#[tokio::test]
async fn bad_uploads_are_refused_and_leave_nothing_behind() {
    let server = TestServer::start().await;
    let admin = server.token("admin", &["admin"]);
    let chrome =
        std::fs::read(shared("data/stigs/U_Google_Chrome_STIG_V2R8_Manual-xccdf.xml")).unwrap();

    let truncated = chrome[..chrome.len() / 2].to_vec();
    let (status, body) = server.upload(&admin, "/stigs?elevate=true", "U_cut.xml", truncated).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("Incorrect request.")), "{body}");

    let (status, _) =
        server.upload(&admin, "/stigs?elevate=true", "x.xml", b"not xml".to_vec()).await;
    assert_eq!(status, 400);

    let notes = zip_of(&[("notes.txt", b"hello".to_vec())]);
    let (status, body) = server.upload(&admin, "/stigs?elevate=true", "lib.zip", notes).await;
    assert_eq!(status, 400, "{body}");

    let ckl = std::fs::read(shared("data/checklists/evalstig_chrome_V2R8_win.ckl")).unwrap();
    let (status, _) =
        server.upload(&admin, "/stigs?elevate=true", "lib.zip", zip_of(&[("a.ckl", ckl)])).await;
    assert_eq!(status, 400);

    let bomb = zip_of(&[("U_big-xccdf.xml", vec![b' '; 64 * 1024 * 1024])]);
    assert!(bomb.len() < 1024 * 1024, "the bomb is small on the wire");
    let (status, body) = server.upload(&admin, "/stigs?elevate=true", "bomb.zip", bomb).await;
    assert_eq!(status, 400, "{body}");

    let (status, stigs) = server.get(&admin, "/stigs").await;
    assert_eq!((status, stigs), (200, json!([])));

    let (status, _) = server.upload(&admin, "/stigs", "U_x.xml", chrome).await;
    assert_eq!(status, 403, "importing needs elevate=true");
    server.stop().await;
}

fn zip_of(members: &[(&str, Vec<u8>)]) -> Vec<u8> {
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, bytes) in members {
        writer.start_file(*name, options).unwrap();
        writer.write_all(bytes).unwrap();
    }
    writer.finish().unwrap().into_inner()
}

#[tokio::test]
async fn unknown_benchmarks_get_404() {
    let server = TestServer::start().await;
    let admin = server.token("admin", &["admin", "create_collection"]);
    let (status, body) = server.get(&admin, "/stigs/NO_SUCH_STIG/revisions").await;
    assert_eq!((status, body["error"].as_str()), (404, Some("Resource not found.")));
    let (status, _) = server.get(&admin, "/stigs/NO_SUCH_STIG/revisions/latest/rules").await;
    assert_eq!(status, 404);
    let (status, _) = server.get(&admin, "/stigs/NO_SUCH_STIG/revisions/V1X/rules").await;
    assert_eq!(status, 400);

    let (_, me) = server.get(&admin, "/user").await;
    let body = json!({"name": "C", "grants": [{"userId": me["userId"], "roleId": 4}]});
    let (_, collection) = server.send("POST", &admin, "/collections", body).await;
    let asset = json!({"name": "a", "collectionId": collection["collectionId"], "description": "",
        "ip": "", "noncomputing": false, "metadata": {}, "stigs": []});
    let (_, asset) = server.send("POST", &admin, "/assets", asset).await;
    let path = format!("/assets/{}/stigs/NO_SUCH_STIG", asset["assetId"].as_str().unwrap());
    let (status, _) = server.send("PUT", &admin, &path, json!(null)).await;
    assert_eq!(status, 404);
    let stigged = json!({"name": "b", "collectionId": collection["collectionId"], "description": "",
        "ip": "", "noncomputing": false, "metadata": {}, "stigs": ["NO_SUCH_STIG"]});
    let (status, body) = server.send("POST", &admin, "/assets", stigged).await;
    assert_eq!(status, 422, "{body}");
    server.stop().await;
}

#[tokio::test]
async fn tokens_that_are_missing_expired_forged_or_unsigned_get_401() {
    let server = TestServer::start().await;
    let now = chrono::Utc::now().timestamp();
    let claims =
        |exp: i64| json!({"preferred_username": "eve", "scope": "stig-manager", "exp": exp});

    let response = server.client.get(server.url("/user")).send().await.unwrap();
    assert_eq!(response.status(), 401);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body, json!({"error": "Request requires an access token."}));

    let (status, body) = server.get(&server.sign(claims(now - 10)), "/user").await;
    assert_eq!((status, &body["detail"]), (401, &json!("jwt expired")));

    let other = TestServer::start().await;
    let forged = {
        let mut parts: Vec<String> =
            other.sign(claims(now + 600)).split('.').map(String::from).collect();
        let ours: Vec<String> =
            server.sign(claims(now + 600)).split('.').map(String::from).collect();
        parts[0] = ours[0].clone();
        parts.join(".")
    };
    let (status, body) = server.get(&forged, "/user").await;
    assert_eq!(status, 401, "{body}");
    let (status, body) = server.get(&other.token("eve", &[]), "/user").await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("Unknown signing key, unable to validate token."))
    );

    use base64::Engine;
    let b64 = |v: Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
    let unsigned =
        format!("{}.{}.", b64(json!({"alg": "none", "typ": "JWT"})), b64(claims(now + 600)));
    let (status, _) = server.get(&unsigned, "/user").await;
    assert_eq!(status, 401);

    let (status, _) = server.get("not-a-jwt", "/op/configuration").await;
    assert_eq!(status, 401, "a bad token is refused even where none is needed");

    let anonymous = server.sign(json!({"scope": "stig-manager", "exp": now + 600}));
    let (status, body) = server.get(&anonymous, "/user").await;
    assert_eq!(
        (status, &body["detail"]),
        (401, &json!("No token claim mappable to username found"))
    );
    let store = stigward_storage::Store::connect(&server.database_url, 1).await.unwrap();
    assert_eq!(store.user_by_name("null").await.unwrap(), None);
    assert_eq!(store.user_by_name("eve").await.unwrap(), None, "refused tokens create no user");
    store.close().await;

    let reader = server.sign(json!({"preferred_username": "r", "scope": "stig-manager:stig:read",
        "exp": now + 600}));
    let (status, body) = server.get(&reader, "/user").await;
    assert_eq!(
        (status, body["error"].as_str()),
        (403, Some("Required scopes were not found in token."))
    );
    other.stop().await;
    server.stop().await;
}

#[tokio::test]
async fn import_through_a_running_server_loads_the_library_ccis_and_a_checklist() {
    let server = TestServer::start().await;
    let admin = server.token("admin", &["admin", "create_collection"]);
    let root = server.base.trim_end_matches("/api").to_string();
    let remote = ["--server", root.as_str(), "--token", admin.as_str()];
    let chrome_file = shared("data/stigs/U_Google_Chrome_STIG_V2R8_Manual-xccdf.xml");
    let cci_file = shared("data/cci/U_CCI_List.xml");
    let mut args = remote.to_vec();
    args.extend([chrome_file.to_str().unwrap(), cci_file.to_str().unwrap()]);
    let out = server.import_cli(&args).await;
    assert!(out.contains("\"action\":\"inserted\""), "{out}");
    assert!(out.contains("cciCount"), "{out}");

    let chrome = benchmark_facts("U_Google_Chrome_STIG_V2R8_Manual-xccdf.xml");
    let path = format!("/stigs/{}/revisions/latest/rules?projection=ccis", chrome.benchmark_id);
    let (_, rules) = server.get(&admin, &path).await;
    let ccis: Vec<&Value> =
        rules.as_array().unwrap().iter().flat_map(|r| r["ccis"].as_array().unwrap()).collect();
    assert!(!ccis.is_empty());
    assert!(ccis.iter().all(|c| c["definition"].is_string() && c["apAcronym"].is_string()));

    let (_, me) = server.get(&admin, "/user").await;
    let body = json!({"name": "Remote", "grants": [{"userId": me["userId"], "roleId": 4}]});
    let (_, collection) = server.send("POST", &admin, "/collections", body).await;
    let ckl = shared("data/checklists/evalstig_chrome_V2R8_win.ckl");
    let mut args = remote.to_vec();
    args.extend(["--collection", "Remote", "--asset", "web01", "--create-asset"]);
    args.push(ckl.to_str().unwrap());
    let out = server.import_cli(&args).await;
    assert!(out.contains("\"assetCreated\": true"), "{out}");
    let report: Value = serde_json::from_str(out.split_once(": ").unwrap().1).unwrap();
    assert!(report["assetId"].is_string(), "ids are strings, as the API writes them: {out}");

    let (expected, _) = expected_metrics(&chrome, "evalstig_chrome_V2R8_win.ckl");
    let written: u64 = ["pass", "fail", "notapplicable", "other"]
        .iter()
        .map(|k| expected[k].as_u64().unwrap())
        .sum();
    let cid = collection["collectionId"].as_str().unwrap();
    let (status, reviews) = server.get(&admin, &format!("/collections/{cid}/reviews")).await;
    assert_eq!(status, 200);
    assert_eq!(reviews.as_array().unwrap().len() as u64, written);
    let passes = reviews.as_array().unwrap().iter().filter(|r| r["result"] == "pass").count();
    assert_eq!(passes as u64, expected["pass"].as_u64().unwrap());
    server.stop().await;
}

#[tokio::test]
async fn the_definition_lists_every_served_operation() {
    let server = TestServer::start().await;
    let response = server.client.get(server.url("/op/definition")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let doc: Value = response.json().await.unwrap();
    let mut documented = BTreeSet::new();
    for item in doc["paths"].as_object().unwrap().values() {
        for op in item.as_object().unwrap().values() {
            documented.extend(op["operationId"].as_str().map(str::to_string));
        }
    }
    for op in stigward::routes::OPERATIONS {
        assert!(documented.contains(*op), "{op} is served but not documented");
    }

    // jsonpath selects nodes of the document and answers them as an array
    let get = |query: &str| server.client.get(server.url(&format!("/op/definition?{query}")));
    let response = get("jsonpath=$.paths['/op/state'].get.operationId").send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.json::<Value>().await.unwrap(), serde_json::json!(["getState"]));
    let response = get("jsonpath=$.paths.*.*.operationId").send().await.unwrap();
    let ids: BTreeSet<String> = serde_json::from_value(response.json().await.unwrap()).unwrap();
    assert_eq!(ids, documented);
    let response = get("jsonpath=$.nothing.here").send().await.unwrap();
    assert_eq!(response.json::<Value>().await.unwrap(), serde_json::json!([]));
    let response = get("jsonpath=paths[").send().await.unwrap();
    assert_eq!(response.status(), 400);
    assert!(response.json::<Value>().await.unwrap()["error"].is_string());
    server.stop().await;

    let url = "https://stigs.example/api";
    let server = TestServer::start_with(&["--swagger-server", url]).await;
    let response = server.client.get(server.url("/op/definition?jsonpath=$.servers")).send();
    let servers: Value = response.await.unwrap().json().await.unwrap();
    assert_eq!(servers, serde_json::json!([[{"url": url}]]));
    server.stop().await;
}

#[tokio::test]
async fn reviews_carry_their_assets_labels() {
    let server = TestServer::start().await;
    let admin = server.token("admin", &["admin", "create_collection"]);
    let file = "U_Google_Chrome_STIG_V2R8_Manual-xccdf.xml";
    let bytes = std::fs::read(shared(&format!("data/stigs/{file}"))).unwrap();
    server.upload(&admin, "/stigs?elevate=true", file, bytes).await;
    let facts = benchmark_facts(file);
    let (_, me) = server.get(&admin, "/user").await;
    let body = json!({"name": "Labelled", "grants": [{"userId": me["userId"], "roleId": 4}],
        "labels": [{"name": "prod", "color": "FF0000", "description": "production"}]});
    let (_, collection) = server.send("POST", &admin, "/collections?projection=labels", body).await;
    let label = &collection["labels"][0];
    let cid = collection["collectionId"].as_str().unwrap();
    let asset = json!({"name": "web", "collectionId": cid, "description": null, "ip": null,
        "noncomputing": false, "metadata": {}, "stigs": [facts.benchmark_id],
        "labelNames": ["prod"]});
    let (_, asset) = server.send("POST", &admin, "/assets", asset).await;
    let path = format!("/collections/{cid}/reviews/{}", asset["assetId"].as_str().unwrap());
    let review = json!([{"ruleId": facts.rule_ids[0], "result": "pass", "detail": "ok",
        "comment": ""}]);
    let (status, _) = server.send("POST", &admin, &path, review).await;
    assert_eq!(status, 200);
    let (_, reviews) = server.get(&admin, &format!("/collections/{cid}/reviews")).await;
    assert_eq!(reviews[0]["assetLabelIds"], json!([label["labelId"]]));
    assert_eq!(
        reviews[0]["assetLabels"],
        json!([{"labelId": label["labelId"], "name": "prod", "color": "FF0000"}])
    );
    server.stop().await;
}

#[tokio::test]
async fn a_restricted_grant_reveals_its_collection_only_under_benchmarks_its_acl_reads() {
    let server = TestServer::start().await;
    let admin = server.token("admin", &["admin", "create_collection"]);
    let reader = server.token("reader", &[]);
    let files = ["U_Google_Chrome_STIG_V2R8_Manual-xccdf.xml", "U_VPN_SRG_V1R1_Manual-xccdf.xml"];
    let ids: Vec<String> = files.iter().map(|f| benchmark_facts(f).benchmark_id).collect();
    for file in files {
        let bytes = std::fs::read(shared(&format!("data/stigs/{file}"))).unwrap();
        server.upload(&admin, "/stigs?elevate=true", file, bytes).await;
    }
    let (_, me) = server.get(&admin, "/user").await;
    let (_, them) = server.get(&reader, "/user").await;
    let body = json!({"name": "Mixed", "grants": [{"userId": me["userId"], "roleId": 4},
        {"userId": them["userId"], "roleId": 1}]});
    let (_, collection) = server.send("POST", &admin, "/collections?projection=grants", body).await;
    let cid = collection["collectionId"].as_str().unwrap().to_string();
    let asset = json!({"name": "both", "collectionId": cid, "description": null, "ip": null,
        "noncomputing": false, "metadata": {}, "stigs": ids});
    let (status, _) = server.send("POST", &admin, "/assets", asset).await;
    assert_eq!(status, 201);
    let grant = collection["grants"].as_array().unwrap().iter().find(|g| g["roleId"] == 1).unwrap()
        ["grantId"]
        .as_str()
        .unwrap()
        .to_string();
    let acl = json!([{"benchmarkId": ids[0], "access": "r"}]);
    let path = format!("/collections/{cid}/grants/{grant}/acl");
    let (status, body) = server.send("PUT", &admin, &path, acl).await;
    assert_eq!(status, 200, "{body}");

    let (_, stigs) = server.get(&reader, "/stigs").await;
    let shown: BTreeMap<&str, &Value> = stigs
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["benchmarkId"].as_str().unwrap(), &s["collectionIds"]))
        .collect();
    assert_eq!(shown[ids[0].as_str()], &json!([cid]));
    assert_eq!(shown[ids[1].as_str()], &json!([]));
    let (_, owner_view) = server.get(&admin, "/stigs").await;
    assert!(owner_view.as_array().unwrap().iter().all(|s| s["collectionIds"] == json!([cid])));
    server.stop().await;
}

#[tokio::test]
async fn uploads_that_are_not_multipart_and_nul_characters_get_the_error_body() {
    let server = TestServer::start().await;
    let admin = server.token("admin", &["admin", "create_collection"]);
    let (status, body) = server.send("POST", &admin, "/stigs?elevate=true", json!({})).await;
    assert_eq!(status, 415, "{body}");
    assert_eq!(body["error"], "Unsupported media type.");

    // PostgreSQL cannot store NUL in text, SQLite can: both refuse it alike
    let (_, me) = server.get(&admin, "/user").await;
    let body = json!({"name": "a\u{0}b", "grants": [{"userId": me["userId"], "roleId": 4}]});
    let (status, body) = server.send("POST", &admin, "/collections", body).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"], "request/body text values must not contain NUL characters");
    // a backslash followed by u0000 is text, not NUL
    let body = json!({"name": "a\\u0000b", "grants": [{"userId": me["userId"], "roleId": 4}]});
    let (status, body) = server.send("POST", &admin, "/collections", body).await;
    assert_eq!((status, &body["name"]), (201, &json!("a\\u0000b")), "{body}");
    let (status, body) = server.get(&admin, "/stigs/a%00b").await;
    assert!(status == 404 || status == 400, "{status} {body}");
    server.stop().await;
}

#[tokio::test]
async fn a_json_body_declared_too_large_is_refused_before_it_is_sent() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let server = TestServer::start().await;
    let admin = server.token("admin", &["admin", "create_collection"]);
    let port = server.root.rsplit(':').next().unwrap();
    let mut stream = tokio::net::TcpStream::connect(format!("127.0.0.1:{port}")).await.unwrap();
    // the body never follows: the answer must come from the declared length alone
    let request = format!(
        "POST /api/collections HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {admin}\r\n\
         Content-Type: application/json\r\nContent-Length: 99999999999\r\n\r\n{{"
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut received = Vec::new();
    let mut buffer = [0u8; 4096];
    let read = async {
        while !String::from_utf8_lossy(&received).contains("Payload too large.") {
            let n = stream.read(&mut buffer).await.unwrap();
            if n == 0 {
                break;
            }
            received.extend_from_slice(&buffer[..n]);
        }
    };
    tokio::time::timeout(std::time::Duration::from_secs(5), read).await.ok();
    let text = String::from_utf8_lossy(&received);
    assert!(text.starts_with("HTTP/1.1 413"), "{text}");
    assert!(text.contains("\"error\":\"Payload too large.\""), "{text}");
    server.stop().await;
}

#[tokio::test]
async fn the_api_root_with_a_trailing_slash_answers_with_the_error_body() {
    let server = TestServer::start().await;
    let admin = server.token("admin", &["admin"]);
    for path in ["", "/"] {
        let (status, body) = server.get(&admin, path).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (404, Some("Resource not found.")),
            "{path:?}"
        );
    }
    let refused = reqwest::Client::new()
        .get(format!("{}/", server.base))
        .bearer_auth("not-a-token")
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 401, "a bad token is refused before routing, as everywhere");
    server.stop().await;
}

#[tokio::test]
async fn path_ids_that_do_not_decode_get_the_error_body() {
    let server = TestServer::start().await;
    let admin = server.token("admin", &["admin"]);
    for path in
        ["/collections/%FF", "/assets/%C3%28", "/stigs/%FF", "/collections/%FF/metrics/summary"]
    {
        let (status, body) = server.get(&admin, path).await;
        assert_eq!(status, 400, "{path}: {body}");
        assert!(body["error"].is_string(), "{path}: {body}");
    }
    server.stop().await;
}
