//! Checklist exports over the API: each format read back with Stigward's own readers and
//! compared with the reviews the API lists, a CKL carried from one asset to another, zip
//! archives, findings and the POA&M workbook, ACL-limited exports and bad input. Expected
//! values are computed here from the reviews and the benchmark file.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Cursor, Read};

use common::xccdf::BenchmarkFile;
use common::{shared, TestServer};
use serde_json::{json, Value};
use stigward_formats::checklist::{parse_ckl, parse_cklb, Checklist};
use stigward_formats::xccdf::parse_results;

const CHROME: &str = "U_Google_Chrome_STIG_V2R8_Manual-xccdf.xml";
const VPN: &str = "U_VPN_SRG_V1R1_Manual-xccdf.xml";
const CHROME_CKL: &str = "evalstig_chrome_V2R8_win.ckl";

/// A collection "Exports" with assets `src` (Chrome and VPN, reviews from a real CKL and a few
/// VPN reviews), `dst` (Chrome, no reviews) and `bare` (no STIG), and a second collection
/// "Other" with asset `stranger`.
struct Fixture {
    server: TestServer,
    admin: String,
    cid: String,
    other_cid: String,
    chrome: BenchmarkFile,
    vpn: BenchmarkFile,
    assets: BTreeMap<&'static str, String>,
}

impl Fixture {
    async fn start() -> Fixture {
        let server = TestServer::start().await;
        let admin = server.token("admin", &["admin", "create_collection"]);
        let (chrome, vpn) = (BenchmarkFile::read(CHROME), BenchmarkFile::read(VPN));
        for file in [CHROME, VPN] {
            let bytes = BenchmarkFile::bytes(file);
            let (status, body) = server.upload(&admin, "/stigs?elevate=true", file, bytes).await;
            assert_eq!(status, 200, "{body}");
        }
        let ccis = shared("data/cci/U_CCI_List.xml");
        server.import_cli(&[ccis.to_str().unwrap()]).await;
        let (_, me) = server.get(&admin, "/user").await;
        let mut cids = Vec::new();
        for name in ["Exports", "Other"] {
            let body = json!({"name": name, "grants": [{"userId": me["userId"], "roleId": 4}]});
            let (status, collection) = server.send("POST", &admin, "/collections", body).await;
            assert_eq!(status, 201, "{collection}");
            cids.push(collection["collectionId"].as_str().unwrap().to_string());
        }
        let both = [chrome.benchmark_id.as_str(), vpn.benchmark_id.as_str()];
        let layout: [(&str, &str, &[&str]); 4] = [
            ("src", &cids[0], &both),
            ("dst", &cids[0], &both[..1]),
            ("bare", &cids[0], &[]),
            ("stranger", &cids[1], &both[..1]),
        ];
        let mut assets = BTreeMap::new();
        for (name, cid, stigs) in layout {
            let asset = json!({"name": name, "collectionId": cid, "description": null,
                "ip": "10.0.0.1", "noncomputing": false, "metadata": {"cklRole": "Member Server"},
                "stigs": stigs});
            let (status, body) = server.send("POST", &admin, "/assets", asset).await;
            assert_eq!(status, 201, "{body}");
            assets.insert(name, body["assetId"].as_str().unwrap().to_string());
        }
        let fx = Fixture {
            server,
            admin,
            cid: cids[0].clone(),
            other_cid: cids[1].clone(),
            chrome,
            vpn,
            assets,
        };
        let ckl = shared(&format!("data/checklists/{CHROME_CKL}"));
        let args = ["--collection", "Exports", "--asset", "src", ckl.to_str().unwrap()];
        fx.server.import_cli(&args).await;
        // the CKL holds passes only; some Chrome rules get other results, as do VPN rules
        let results = ["fail", "notapplicable", "informational", "fail", "pass"];
        let chrome_rules = fx.chrome.rules[..3].iter().zip(&results[..3]);
        let vpn_rules = fx.vpn.rules[..5].iter().zip(&results);
        let reviews: Vec<Value> = chrome_rules
            .chain(vpn_rules)
            .map(|(r, result)| {
                json!({"ruleId": r.rule_id, "result": result,
                "detail": format!("seen {result} & <checked>"), "comment": "by \"hand\""})
            })
            .collect();
        let path = format!("/collections/{}/reviews/{}", fx.cid, fx.asset("src"));
        let (status, body) = fx.server.send("POST", &fx.admin, &path, json!(reviews)).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["rejected"], json!([]), "{body}");
        fx
    }

    fn asset(&self, name: &str) -> &str {
        &self.assets[name]
    }

    /// Reviews of an asset as the API lists them: rule id → (result, detail, comment).
    async fn reviews(&self, asset: &str, benchmark_id: &str) -> BTreeMap<String, Review> {
        let path = format!(
            "/collections/{}/reviews/{}?benchmarkId={benchmark_id}",
            self.cid,
            self.asset(asset)
        );
        let (status, reviews) = self.server.get(&self.admin, &path).await;
        assert_eq!(status, 200, "{reviews}");
        reviews
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                let text = |k: &str| r[k].as_str().unwrap_or_default().to_string();
                (text("ruleId"), (text("result"), text("detail"), text("comment")))
            })
            .collect()
    }

    /// A raw GET: status, headers and body bytes.
    async fn fetch(&self, token: &str, path: &str) -> (u16, reqwest::header::HeaderMap, Vec<u8>) {
        let response =
            self.server.client.get(self.server.url(path)).bearer_auth(token).send().await.unwrap();
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        (status, headers, response.bytes().await.unwrap().to_vec())
    }

    async fn post_raw(
        &self,
        token: &str,
        path: &str,
        body: Value,
    ) -> (u16, reqwest::header::HeaderMap, Vec<u8>) {
        let url = self.server.url(path);
        let response =
            self.server.client.post(url).bearer_auth(token).json(&body).send().await.unwrap();
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        (status, headers, response.bytes().await.unwrap().to_vec())
    }
}

type Review = (String, String, String);

/// The CKL/CKLB form of an API result: what the checklist reader gives back for it.
fn checklist_result(result: &str) -> &'static str {
    match result {
        "pass" | "fixed" => "pass",
        "fail" => "fail",
        "notapplicable" => "notapplicable",
        _ => "notchecked",
    }
}

/// Checks a parsed CKL or CKLB of one STIG against the reviews and the benchmark's rules.
fn assert_checklist(parsed: &Checklist, file: &BenchmarkFile, reviews: &BTreeMap<String, Review>) {
    assert_eq!(parsed.stigs.len(), 1);
    let stig = &parsed.stigs[0];
    assert_eq!(stig.benchmark_id, file.benchmark_id);
    assert_eq!(stig.revision_str.as_deref(), Some(file.revision_str.as_str()));
    let rule_ids: BTreeSet<&str> = stig.reviews.iter().map(|r| r.rule_id.as_str()).collect();
    let expected: BTreeSet<&str> = file.rules.iter().map(|r| r.rule_id.as_str()).collect();
    assert_eq!(rule_ids, expected, "one VULN per rule of the revision");
    for item in &stig.reviews {
        let (result, detail, comment) = reviews
            .get(&item.rule_id)
            .map(|(r, d, c)| (checklist_result(r), d.as_str(), c.as_str()))
            .unwrap_or(("notchecked", "", ""));
        assert_eq!(item.result.api_str(), result, "{}", item.rule_id);
        assert_eq!((item.detail.as_str(), item.comment.as_str()), (detail, comment));
    }
}

fn file_name(headers: &reqwest::header::HeaderMap) -> String {
    let disposition = headers["content-disposition"].to_str().unwrap();
    disposition.split("filename=\"").nth(1).unwrap().trim_end_matches('"').to_string()
}

fn zip_members(bytes: &[u8]) -> BTreeMap<String, Vec<u8>> {
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
    let mut out = BTreeMap::new();
    for i in 0..archive.len() {
        let mut member = archive.by_index(i).unwrap();
        let mut content = Vec::new();
        member.read_to_end(&mut content).unwrap();
        out.insert(member.name().to_string(), content);
    }
    out
}

#[tokio::test]
async fn asset_exports_read_back_as_the_reviews_in_every_format() {
    let fx = Fixture::start().await;
    let chrome = &fx.chrome;
    let reviews = fx.reviews("src", &chrome.benchmark_id).await;
    assert!(reviews.values().any(|r| r.0 == "fail") && reviews.values().any(|r| r.0 == "pass"));
    let base = format!("/assets/{}/checklists/{}", fx.asset("src"), chrome.benchmark_id);

    let (status, headers, ckl) = fx.fetch(&fx.admin, &format!("{base}/latest?format=ckl")).await;
    assert_eq!(status, 200);
    assert_eq!(headers["content-type"], "application/xml");
    let name = file_name(&headers);
    let prefix = format!("U_src-{}-{}_", chrome.benchmark_id, chrome.revision_str);
    assert!(name.starts_with(&prefix) && name.ends_with(".ckl"), "{name}");
    let parsed = parse_ckl(&ckl).unwrap();
    assert_eq!(parsed.target.name.as_deref(), Some("src"));
    assert_eq!(parsed.target.ip.as_deref(), Some("10.0.0.1"));
    assert_eq!(parsed.target.metadata["cklRole"], "Member Server");
    assert_checklist(&parsed, chrome, &reviews);

    let path = format!("{base}/{}?format=cklb", chrome.revision_str);
    let (status, headers, cklb) = fx.fetch(&fx.admin, &path).await;
    assert_eq!(status, 200);
    assert_eq!(headers["content-type"], "application/json");
    assert!(file_name(&headers).ends_with(".cklb"));
    assert_checklist(&parse_cklb(&cklb).unwrap(), chrome, &reviews);

    let (status, headers, xml) = fx.fetch(&fx.admin, &format!("{base}/latest?format=xccdf")).await;
    assert_eq!(status, 200);
    let name = file_name(&headers);
    assert!(name.contains("-xccdf_") && name.ends_with(".xml"), "{name}");
    let results = parse_results(&xml).unwrap();
    assert_eq!(results.benchmark_id.as_deref(), Some(chrome.benchmark_id.as_str()));
    assert_eq!(results.target.as_deref(), Some("src"));
    assert_eq!(results.results.len(), chrome.rules.len());
    for item in &results.results {
        let expected = reviews
            .get(&item.rule_id)
            .cloned()
            .unwrap_or_else(|| ("notchecked".into(), String::new(), String::new()));
        assert_eq!((item.result.clone(), item.detail.clone(), item.comment.clone()), expected);
    }

    let (status, items) =
        fx.server.get(&fx.admin, &format!("{base}/latest?projection=detail")).await;
    assert_eq!(status, 200, "{items}");
    let items = items.as_array().unwrap();
    assert_eq!(items.len(), chrome.rules.len());
    for item in items {
        let review = reviews.get(item["ruleId"].as_str().unwrap());
        assert_eq!(item["result"].as_str(), review.map(|r| r.0.as_str()));
        assert_eq!(item["detail"].as_str(), review.map(|r| r.1.as_str()));
        assert!(item.get("comment").is_none() && item.get("rule").is_none());
        if review.is_some() {
            assert!(item["ts"].as_str().unwrap().ends_with(".000Z"));
        }
    }
    let path = format!("{base}/latest?format=json-access&projection=rule");
    let (status, wrapped) = fx.server.get(&fx.admin, &path).await;
    assert_eq!(status, 200);
    assert_eq!(wrapped["access"], "rw");
    assert_eq!(wrapped["checklist"][0]["rule"]["ruleId"], wrapped["checklist"][0]["ruleId"]);

    // the CKL carried to another asset reproduces the reviews
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("carried.ckl");
    std::fs::write(&file, &ckl).unwrap();
    let args = ["--collection", "Exports", "--asset", "dst", file.to_str().unwrap()];
    fx.server.import_cli(&args).await;
    assert_eq!(fx.reviews("dst", &chrome.benchmark_id).await, reviews);

    // several STIGs in one file, at their current revisions
    let (status, headers, multi) =
        fx.fetch(&fx.admin, &format!("/assets/{}/checklists", fx.asset("src"))).await;
    assert_eq!(status, 200);
    assert!(file_name(&headers).starts_with("U_src_"));
    let parsed = parse_ckl(&multi).unwrap();
    let ids: BTreeSet<&str> = parsed.stigs.iter().map(|s| s.benchmark_id.as_str()).collect();
    assert_eq!(ids, BTreeSet::from([chrome.benchmark_id.as_str(), fx.vpn.benchmark_id.as_str()]));
    let path = format!(
        "/assets/{}/checklists?format=cklb&benchmarkId={}",
        fx.asset("src"),
        fx.vpn.benchmark_id
    );
    let (status, headers, multi) = fx.fetch(&fx.admin, &path).await;
    assert_eq!(status, 200);
    assert!(file_name(&headers).starts_with("src_"), "CKLB multi files carry no marking");
    let parsed = parse_cklb(&multi).unwrap();
    assert_checklist(&parsed, &fx.vpn, &fx.reviews("src", &fx.vpn.benchmark_id).await);
    let (status, _, _) =
        fx.fetch(&fx.admin, &format!("/assets/{}/checklists", fx.asset("bare"))).await;
    assert_eq!(status, 204);

    // the collection summary counts the two assets' reviews per rule
    let path = format!("/collections/{}/checklists/{}/latest", fx.cid, chrome.benchmark_id);
    let (status, summary) = fx.server.get(&fx.admin, &path).await;
    assert_eq!(status, 200, "{summary}");
    let summary = summary.as_array().unwrap();
    assert_eq!(summary.len(), chrome.rules.len());
    for row in summary {
        let review = reviews.get(row["ruleId"].as_str().unwrap());
        let result = review.map(|r| r.0.as_str()).unwrap_or("none");
        let results = &row["counts"]["results"];
        let key = match result {
            "pass" | "fail" | "notapplicable" => result,
            _ => "other",
        };
        assert_eq!(results[key], 2, "both assets carry the same review: {row}");
        let total: i64 = ["pass", "fail", "notapplicable", "other"]
            .iter()
            .map(|k| results[k].as_i64().unwrap())
            .sum();
        assert_eq!(total, 2);
        assert_eq!(row["timestamps"]["ts"]["min"].is_null(), review.is_none());
    }
    fx.server.stop().await;
}

#[tokio::test]
async fn archives_hold_one_parsable_member_per_checklist_and_a_manifest() {
    let fx = Fixture::start().await;
    let (chrome, vpn) = (&fx.chrome, &fx.vpn);
    let chrome_reviews = fx.reviews("src", &chrome.benchmark_id).await;
    let vpn_reviews = fx.reviews("src", &vpn.benchmark_id).await;
    let body = json!([
        {"assetId": fx.asset("src")},
        {"assetId": fx.asset("dst"), "stigs": [{"benchmarkId": chrome.benchmark_id,
            "revisionStr": "latest"}]},
    ]);
    let path = format!("/collections/{}/archive/ckl", fx.cid);
    let (status, headers, bytes) = fx.post_raw(&fx.admin, &path, body.clone()).await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&bytes));
    assert_eq!(headers["content-type"], "application/zip");
    assert!(headers.get("content-length").is_none(), "the archive is streamed, not sized first");
    assert!(file_name(&headers).starts_with("U_Exports-CKL_"), "{}", file_name(&headers));
    let members = zip_members(&bytes);
    let member = |asset: &str, b: &BenchmarkFile| {
        format!("U_{asset}-{}-{}.ckl", b.benchmark_id, b.revision_str)
    };
    let expected: BTreeSet<String> = [
        member("src", chrome),
        member("src", vpn),
        member("dst", chrome),
        "_manifest.json".to_string(),
    ]
    .into();
    assert_eq!(members.keys().cloned().collect::<BTreeSet<_>>(), expected);
    assert_checklist(
        &parse_ckl(&members[&member("src", chrome)]).unwrap(),
        chrome,
        &chrome_reviews,
    );
    assert_checklist(&parse_ckl(&members[&member("src", vpn)]).unwrap(), vpn, &vpn_reviews);
    assert_checklist(
        &parse_ckl(&members[&member("dst", chrome)]).unwrap(),
        chrome,
        &BTreeMap::new(),
    );
    let manifest: Value = serde_json::from_slice(&members["_manifest.json"]).unwrap();
    assert_eq!(manifest["memberCount"], 3);
    assert_eq!(manifest["errorCount"], 0);
    assert_eq!(manifest["requestParams"]["assetStigs"], body);

    // the same STIG named twice (bare and at its default revision) is one member
    let same = json!([{"assetId": fx.asset("dst"), "stigs": [chrome.benchmark_id,
        {"benchmarkId": chrome.benchmark_id, "revisionStr": chrome.revision_str}]}]);
    let (status, _, bytes) = fx.post_raw(&fx.admin, &path, same).await;
    assert_eq!(status, 200);
    assert_eq!(zip_members(&bytes).len(), 2);

    let path = format!("/collections/{}/archive/cklb?mode=multi", fx.cid);
    let (status, _, bytes) =
        fx.post_raw(&fx.admin, &path, json!([{"assetId": fx.asset("src")}])).await;
    assert_eq!(status, 200);
    let members = zip_members(&bytes);
    let names: Vec<&String> = members.keys().collect();
    assert_eq!(names, ["U_src.cklb", "_manifest.json"]);
    assert_eq!(parse_cklb(&members["U_src.cklb"]).unwrap().stigs.len(), 2);

    let path = format!("/collections/{}/archive/xccdf", fx.cid);
    let body = json!([{"assetId": fx.asset("src"), "stigs": [vpn.benchmark_id]}]);
    let (status, _, bytes) = fx.post_raw(&fx.admin, &path, body).await;
    assert_eq!(status, 200);
    let members = zip_members(&bytes);
    let name = format!("U_src-{}-{}-xccdf.xml", vpn.benchmark_id, vpn.revision_str);
    let results = parse_results(&members[&name]).unwrap();
    let fails = results.results.iter().filter(|r| r.result == "fail").count();
    assert_eq!(fails, vpn_reviews.values().filter(|r| r.0 == "fail").count());

    // every bad request is refused before a byte of zip is sent
    let cases = [
        (json!([]), 400, None),
        (
            json!([{"assetId": fx.asset("stranger")}]),
            422,
            Some(format!(
                "Asset id {} is not a member of Collection id {}.",
                fx.asset("stranger"),
                fx.cid
            )),
        ),
        (
            json!([{"assetId": fx.asset("bare")}]),
            422,
            Some(format!("Asset id {} has no STIG assignments.", fx.asset("bare"))),
        ),
        (
            json!([{"assetId": fx.asset("dst"), "stigs": [vpn.benchmark_id]}]),
            422,
            Some(format!(
                "Asset id {} is not mapped to \"{}\".",
                fx.asset("dst"),
                vpn.benchmark_id
            )),
        ),
        (
            json!([{"assetId": fx.asset("src"), "stigs": [{"benchmarkId": vpn.benchmark_id,
            "revisionStr": "V9R9"}]}]),
            422,
            None,
        ),
        (json!([{"assetId": fx.asset("src"), "extra": 1}]), 400, None),
    ];
    let path = format!("/collections/{}/archive/ckl", fx.cid);
    for (body, status, detail) in cases {
        let (got, body_json) = fx.server.send("POST", &fx.admin, &path, body.clone()).await;
        assert_eq!(got, status, "{body}: {body_json}");
        assert!(body_json["error"].is_string(), "{body_json}");
        if let Some(detail) = detail {
            assert_eq!(body_json["detail"], detail.as_str());
        }
    }
    let (status, body) = fx
        .server
        .send(
            "POST",
            &fx.admin,
            &format!("{path}?mode=both"),
            json!([{"assetId": fx.asset("src")}]),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    fx.server.stop().await;
}

/// Expected findings by key: rule id → asset names, over failed reviews of rules with a CCI
/// the CCI list knows.
async fn expected_findings(fx: &Fixture, by: &str) -> BTreeMap<String, BTreeSet<String>> {
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (file, assets) in [(&fx.chrome, &["src", "dst"][..]), (&fx.vpn, &["src"][..])] {
        let path = format!("/stigs/{}/revisions/latest/rules?projection=ccis", file.benchmark_id);
        let (_, rules) = fx.server.get(&fx.admin, &path).await;
        for asset in assets {
            let reviews = fx.reviews(asset, &file.benchmark_id).await;
            for rule in rules.as_array().unwrap() {
                let rule_id = rule["ruleId"].as_str().unwrap();
                if reviews.get(rule_id).is_none_or(|r| r.0 != "fail") {
                    continue;
                }
                let known: Vec<&str> = rule["ccis"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter(|c| c["definition"].is_string())
                    .map(|c| c["cci"].as_str().unwrap())
                    .collect();
                let keys: Vec<String> = match by {
                    "cci" => known.iter().map(|c| c.to_string()).collect(),
                    _ if known.is_empty() => Vec::new(),
                    "groupId" => vec![rule["groupId"].as_str().unwrap().to_string()],
                    _ => vec![rule_id.to_string()],
                };
                for key in keys {
                    out.entry(key).or_default().insert(asset.to_string());
                }
            }
        }
    }
    out
}

#[tokio::test]
async fn findings_and_the_poam_count_failed_reviews() {
    let fx = Fixture::start().await;
    // dst gets one failed Chrome review
    let rule = &fx.chrome.rules[0].rule_id;
    let path = format!("/collections/{}/reviews/{}", fx.cid, fx.asset("dst"));
    let review = json!([{"ruleId": rule, "result": "fail", "detail": "d", "comment": "c"}]);
    let (status, body) = fx.server.send("POST", &fx.admin, &path, review).await;
    assert_eq!(status, 200, "{body}");

    for by in ["ruleId", "groupId", "cci"] {
        let path = format!("/collections/{}/findings?aggregator={by}&projection=assets", fx.cid);
        let (status, findings) = fx.server.get(&fx.admin, &path).await;
        assert_eq!(status, 200, "{findings}");
        let got: BTreeMap<String, BTreeSet<String>> = findings
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                let names: BTreeSet<String> = f["assets"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|a| a["name"].as_str().unwrap().to_string())
                    .collect();
                assert_eq!(f["assetCount"], names.len());
                (f[by].as_str().unwrap().to_string(), names)
            })
            .collect();
        let expected = expected_findings(&fx, by).await;
        assert!(!expected.is_empty());
        assert_eq!(got, expected, "{by}");
    }
    let query = format!(
        "aggregator=ruleId&benchmarkId={}&assetId={}&projection=ccis&projection=stigs",
        fx.vpn.benchmark_id,
        fx.asset("src")
    );
    let path = format!("/collections/{}/findings?{query}", fx.cid);
    let (status, findings) = fx.server.get(&fx.admin, &path).await;
    assert_eq!(status, 200);
    assert!(!findings.as_array().unwrap().is_empty(), "the VPN rules failed on src");
    for f in findings.as_array().unwrap() {
        assert_eq!(f["stigs"][0]["benchmarkId"], fx.vpn.benchmark_id.as_str());
        assert!(!f["ccis"].as_array().unwrap().is_empty());
    }
    let path = format!("/collections/{}/findings?aggregator=ruleId&acceptedOnly=true", fx.cid);
    assert_eq!(fx.server.get(&fx.admin, &path).await.1, json!([]), "nothing is accepted");

    let path = format!(
        "/collections/{}/poam?aggregator=ruleId&date=05/01/2024&office=Ops&status=Ongoing",
        fx.cid
    );
    let (status, headers, bytes) = fx.fetch(&fx.admin, &path).await;
    assert_eq!(status, 200);
    assert!(file_name(&headers).starts_with("POAM-EMASS-Exports_"));
    use calamine::Reader;
    let mut workbook: calamine::Xlsx<_> =
        calamine::open_workbook_from_rs(Cursor::new(bytes)).unwrap();
    let sheet = workbook.worksheet_range_at(0).unwrap().unwrap();
    let rows: Vec<Vec<String>> =
        sheet.rows().map(|r| r.iter().map(|c| c.to_string()).collect()).collect();
    assert_eq!(rows[0][3], "Security Checks");
    let expected = expected_findings(&fx, "ruleId").await;
    assert_eq!(rows.len(), expected.len() + 1);
    for row in &rows[1..] {
        let assets: BTreeSet<String> = row[12].lines().map(str::to_string).collect();
        assert_eq!(assets, expected[&row[3]], "{}", row[3]);
        assert_eq!(
            (row[2].as_str(), row[5].as_str(), row[9].as_str()),
            ("Ops", "05/01/2024", "Ongoing")
        );
        assert!(row[10].starts_with("CCI-"));
    }

    let query = "aggregator=groupId&format=MCCAST&mccastPackageId=P-7&mccastAuthName=Fleet";
    let path = format!("/collections/{}/poam?{query}", fx.cid);
    let (status, headers, bytes) = fx.fetch(&fx.admin, &path).await;
    assert_eq!(status, 200);
    assert!(file_name(&headers).starts_with("POAM-MCCAST-Exports_"));
    let mut workbook: calamine::Xlsx<_> =
        calamine::open_workbook_from_rs(Cursor::new(bytes)).unwrap();
    let sheet = workbook.worksheet_range_at(0).unwrap().unwrap();
    let rows: Vec<Vec<String>> =
        sheet.rows().map(|r| r.iter().map(|c| c.to_string()).collect()).collect();
    assert_eq!(rows[0][0], "Authorization Name: Fleet");
    let groups = expected_findings(&fx, "groupId").await;
    assert_eq!(rows.len(), groups.len() + 2);
    for row in &rows[2..] {
        assert!(groups.contains_key(&row[3]), "{}", row[3]);
        assert!(row[1]
            .lines()
            .all(|l| l.starts_with("DoD RMF-P-7-") && l.ends_with("-CNSSI 1253")));
    }

    let bad = [
        "/findings",
        "/findings?aggregator=stig",
        "/findings?aggregator=ruleId&projection=everything",
        "/findings?aggregator=ruleId&bogus=1",
        "/findings?aggregator=ruleId&acceptedOnly=maybe",
        "/poam?aggregator=cci",
        "/poam?aggregator=ruleId&date=2024-05-01",
        "/poam?aggregator=ruleId&format=PDF",
    ];
    for rest in bad {
        let (status, body) =
            fx.server.get(&fx.admin, &format!("/collections/{}{rest}", fx.cid)).await;
        assert_eq!(status, 400, "{rest}: {body}");
        assert!(body["error"].is_string());
    }
    fx.server.stop().await;
}

#[tokio::test]
async fn restricted_grants_export_only_what_their_acl_reads() {
    let fx = Fixture::start().await;
    let cid: i64 = fx.cid.parse().unwrap();
    let (reader, grant_id) = fx.server.grant_in(cid, "reader", 1).await;
    let src: i64 = fx.asset("src").parse().unwrap();
    fx.server.acl_on(grant_id, src, &fx.chrome.benchmark_id, "r").await;
    let (chrome, vpn) = (&fx.chrome.benchmark_id, &fx.vpn.benchmark_id);

    let base = format!("/assets/{src}/checklists");
    let (status, body) =
        fx.server.get(&reader, &format!("{base}/{chrome}/latest?format=json-access")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["access"], "r");
    let (status, body) = fx.server.get(&reader, &format!("{base}/{vpn}/latest")).await;
    assert_eq!(status, 403, "{body}");
    let (status, _, ckl) = fx.fetch(&reader, &base).await;
    assert_eq!(status, 200);
    let stigs: Vec<String> =
        parse_ckl(&ckl).unwrap().stigs.into_iter().map(|s| s.benchmark_id).collect();
    assert_eq!(stigs, std::slice::from_ref(chrome));
    let (status, _) = fx.server.get(&reader, &format!("{base}?benchmarkId={vpn}")).await;
    assert_eq!(status, 403);

    let path = format!("/collections/{}/archive/ckl", fx.cid);
    let (status, _, bytes) =
        fx.post_raw(&reader, &path, json!([{"assetId": fx.asset("src")}])).await;
    assert_eq!(status, 200);
    let names: Vec<String> = zip_members(&bytes).into_keys().collect();
    assert_eq!(names.len(), 2, "{names:?}");
    assert!(names[0].contains(chrome.as_str()));
    let (status, _) =
        fx.server.send("POST", &reader, &path, json!([{"assetId": fx.asset("dst")}])).await;
    assert_eq!(status, 403, "dst is outside the ACL");

    let path = format!("/collections/{}/findings?aggregator=ruleId&projection=stigs", fx.cid);
    let (_, findings) = fx.server.get(&reader, &path).await;
    let benchmarks: BTreeSet<&str> = findings
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|f| {
            f["stigs"].as_array().unwrap().iter().map(|s| s["benchmarkId"].as_str().unwrap())
        })
        .collect();
    assert_eq!(benchmarks, BTreeSet::from([chrome.as_str()]));
    let path = format!("/collections/{}/checklists/{vpn}/latest", fx.cid);
    let (status, summary) = fx.server.get(&reader, &path).await;
    assert_eq!(status, 200);
    assert!(summary
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["counts"]["results"]["other"] == 0 && r["counts"]["results"]["fail"] == 0));

    let outsider = fx.server.token("outsider", &[]);
    let (status, _) = fx.server.get(&outsider, &format!("{base}/{chrome}/latest")).await;
    assert_eq!(status, 403);
    let (status, _) =
        fx.server.get(&outsider, &format!("/collections/{}/findings?aggregator=cci", fx.cid)).await;
    assert_eq!(status, 403);
    fx.server.stop().await;
}

#[tokio::test]
async fn bad_checklist_requests_get_the_api_error_body() {
    let fx = Fixture::start().await;
    let src = fx.asset("src");
    let chrome = &fx.chrome.benchmark_id;
    let cases = [
        (format!("/assets/{src}/checklists/NO_SUCH_STIG/latest"), 403),
        (format!("/assets/{src}/checklists/{chrome}/V9R9"), 404),
        (format!("/assets/{src}/checklists/{chrome}/nonsense"), 400),
        (format!("/assets/{}/checklists/{}/latest", fx.asset("dst"), fx.vpn.benchmark_id), 403),
        (format!("/assets/{src}/checklists/{chrome}/latest?format=pdf"), 400),
        (format!("/assets/{src}/checklists/{chrome}/latest?projection=everything"), 400),
        (format!("/assets/{src}/checklists/{chrome}/latest?bogus=1"), 400),
        (format!("/assets/{src}/checklists?benchmarkId=NO_SUCH_STIG"), 400),
        (format!("/assets/{src}/checklists?format=xccdf"), 400),
        (format!("/assets/{}/checklists/{chrome}/latest", fx.asset("stranger")), 200),
        ("/assets/99999/checklists".to_string(), 403),
        (format!("/collections/{}/checklists/NO_SUCH_STIG/latest", fx.cid), 404),
        (format!("/collections/{}/checklists/{chrome}/V9R9", fx.cid), 404),
        (format!("/collections/{}/checklists/{chrome}/latest?x=1", fx.cid), 400),
    ];
    for (path, expected) in cases {
        let (status, body) = fx.server.get(&fx.admin, &path).await;
        assert_eq!(status, expected, "{path}: {body}");
        if expected != 200 {
            assert!(body["error"].is_string(), "{path}: {body}");
        }
    }
    // an asset of another collection is readable through its own collection only
    let path = format!("/collections/{}/archive/xccdf", fx.other_cid);
    let (status, _) =
        fx.server.send("POST", &fx.admin, &path, json!([{"assetId": fx.asset("src")}])).await;
    assert_eq!(status, 422);
    fx.server.stop().await;
}
