//! Application data over a real socket: the import's progress lines arrive while its
//! transaction is still open, a failure half way leaves the previous data, and the asset
//! `statusStats` projection on the data of appdata.jsonl, with expected figures computed from
//! the file's rules and reviews. SQLite by default, PostgreSQL with
//! `STIGWARD_TEST_BACKEND=postgres`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use common::{shared, TestServer};
use serde_json::{json, Map, Value};

fn fixture() -> String {
    std::fs::read_to_string(shared("data/appdata/appdata.jsonl")).unwrap()
}

/// The rows of one table of an application data file as column → value maps.
fn rows(text: &str, table: &str) -> Vec<Map<String, Value>> {
    let lines: Vec<&str> = text.lines().collect();
    for (i, line) in lines.iter().enumerate() {
        let head: Value = serde_json::from_str(line).unwrap_or(Value::Null);
        if head["table"] == table && head.get("columns").is_some() {
            let columns: Vec<String> = head["columns"]
                .as_str()
                .unwrap()
                .split(',')
                .map(|c| c.trim_matches('`').to_string())
                .collect();
            let count = head["rowCount"].as_u64().unwrap() as usize;
            return lines[i + 1..=i + count]
                .iter()
                .map(|row| {
                    let values: Vec<Value> = serde_json::from_str(row).unwrap();
                    columns.iter().cloned().zip(values).collect()
                })
                .collect();
        }
    }
    panic!("no table {table}");
}

/// The file with `extra` more review_history rows (copies of its first, renumbered), and,
/// when `break_first` is set, that table's first row made unreadable.
fn with_history(text: &str, extra: usize, break_first: bool) -> String {
    let mut out = Vec::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        let head: Value = serde_json::from_str(line).unwrap_or(Value::Null);
        if head["table"] != "review_history" || head.get("columns").is_none() {
            out.push(line.to_string());
            continue;
        }
        let columns: Vec<&str> =
            head["columns"].as_str().unwrap().split(',').map(|c| c.trim_matches('`')).collect();
        let id_at = columns.iter().position(|c| *c == "historyId").unwrap();
        let count = head["rowCount"].as_u64().unwrap() as usize;
        let mut head = head.clone();
        head["rowCount"] = json!(count + extra);
        out.push(head.to_string());
        let existing: Vec<String> = lines.by_ref().take(count).map(str::to_string).collect();
        let first: Vec<Value> = serde_json::from_str(&existing[0]).unwrap();
        for (i, row) in existing.iter().enumerate() {
            match (i, break_first) {
                (0, true) => {
                    let mut broken = first.clone();
                    broken[id_at] = json!("not a number");
                    out.push(Value::Array(broken).to_string());
                }
                _ => out.push(row.clone()),
            }
        }
        for n in 0..extra {
            let mut copy = first.clone();
            copy[id_at] = json!(1_000_000 + n);
            out.push(Value::Array(copy).to_string());
        }
    }
    out.join("\n") + "\n"
}

/// What a connection of its own sees of the collections' names: committed data only.
async fn committed_names(database_url: &str) -> BTreeSet<String> {
    sqlx::any::install_default_drivers();
    let db = sqlx::AnyPool::connect(database_url).await.unwrap();
    let names: Vec<String> =
        sqlx::query_scalar("SELECT name FROM collection").fetch_all(&db).await.unwrap();
    db.close().await;
    names.into_iter().collect()
}

/// Posts an import and reads its reply line by line as it arrives; `on_first_step` runs when
/// the first step line is in, before any further line is read.
async fn import_streamed<F, Fut>(
    s: &TestServer,
    token: &str,
    body: String,
    on_first_step: F,
) -> Vec<(Duration, Value)>
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let started = Instant::now();
    let mut response = s
        .client
        .post(s.url("/op/appdata?elevate=true"))
        .bearer_auth(token)
        .header("content-type", "application/jsonl")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(response.headers()["content-type"], "application/jsonl; charset=utf-8");
    let mut lines = Vec::new();
    let mut pending = String::new();
    let mut on_first_step = Some(on_first_step);
    while let Some(chunk) = response.chunk().await.unwrap() {
        pending.push_str(std::str::from_utf8(&chunk).unwrap());
        while let Some(end) = pending.find('\n') {
            let line: Value = serde_json::from_str(&pending[..end]).unwrap();
            pending.drain(..=end);
            if line.get("seq").is_some() {
                if let Some(check) = on_first_step.take() {
                    check().await;
                }
            }
            lines.push((started.elapsed(), line));
        }
    }
    assert!(pending.is_empty(), "a partial last line: {pending}");
    lines
}

#[tokio::test]
async fn appdata_import_streams_progress_while_its_transaction_is_open() {
    let s = TestServer::start_with(&["--experimental-appdata", "true"]).await;
    let admin = s.token("admin", &["admin", "create_collection"]);
    let (status, _) = s
        .send("POST", &admin, "/collections?elevate=true", json!({"name": "Keep me", "grants": []}))
        .await;
    assert_eq!(status, 201);
    let before = BTreeSet::from(["Keep me".to_string()]);
    let text = fixture();
    let extra = 30_000;
    let history = rows(&text, "review_history").len() + extra;

    let url = s.database_url.clone();
    let lines = import_streamed(&s, &admin, with_history(&text, extra, false), || async {
        // the first step is reported before the load commits: only the old data is visible
        assert_eq!(committed_names(&url).await, before);
    })
    .await;
    let file_names: BTreeSet<String> =
        rows(&text, "collection").iter().map(|c| c["name"].as_str().unwrap().into()).collect();
    assert_eq!(committed_names(&s.database_url).await, file_names);

    let (_, last) = lines.last().unwrap();
    assert_eq!(last, &json!({"status": "success"}));
    let listed: Value = serde_json::from_str(text.lines().nth(1).unwrap()).unwrap();
    assert_eq!(lines[0].1, listed, "the table list is echoed first");
    // review_history is written, and reported, 10 000 rows at a time
    let chunks: Vec<u64> = lines
        .iter()
        .filter(|(_, l)| l["table"] == "review_history")
        .map(|(_, l)| l["valueCount"].as_u64().unwrap())
        .collect();
    let mut expected = vec![0];
    let mut left = history as u64;
    while left > 0 {
        expected.push(left.min(10_000));
        left -= left.min(10_000);
    }
    assert_eq!(chunks, expected);
    let seqs: Vec<u64> = lines.iter().filter_map(|(_, l)| l["seq"].as_u64()).collect();
    assert_eq!(seqs, (1..=seqs.len() as u64).collect::<Vec<_>>());
    // the lines came as the work went, not together at the end
    let first_step = lines.iter().find(|(_, l)| l.get("seq").is_some()).unwrap().0;
    let (done, _) = lines.last().unwrap();
    eprintln!("first step after {first_step:?}, outcome after {done:?}");
    assert!(first_step < *done);

    // a file that fails half way: the steps before it stream, then the failure; nothing changes
    let url = s.database_url.clone();
    let names = file_names.clone();
    let admin = s.token("admin", &["admin", "create_collection"]);
    let lines = import_streamed(&s, &admin, with_history(&text, 0, true), || async {
        assert_eq!(committed_names(&url).await, names);
    })
    .await;
    let (_, last) = lines.last().unwrap();
    assert_eq!(last["status"], "fail", "{last}");
    assert!(last["error"].as_str().unwrap().contains("review_history row 1"), "{last}");
    let written: Vec<&str> = lines
        .iter()
        .filter(|(_, l)| l["valueCount"].as_u64().is_some_and(|n| n > 0))
        .map(|(_, l)| l["table"].as_str().unwrap())
        .collect();
    assert!(written.contains(&"review"), "steps before the failure were reported: {written:?}");
    assert_eq!(committed_names(&s.database_url).await, file_names);
    s.stop().await;
}

#[tokio::test]
async fn appdata_export_streams_without_a_length() {
    let s = TestServer::start_with(&["--experimental-appdata", "true"]).await;
    let admin = s.token("admin", &["admin"]);
    let response = s
        .client
        .get(s.url("/op/appdata?elevate=true&format=jsonl"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    // a body written as it is read cannot announce its length
    assert!(response.headers().get("content-length").is_none());
    let text = response.text().await.unwrap();
    let list: Value = serde_json::from_str(text.lines().nth(1).unwrap()).unwrap();
    let total: u64 =
        list["tables"].as_array().unwrap().iter().map(|t| t["rowCount"].as_u64().unwrap()).sum();
    assert_eq!(list["totalRows"].as_u64().unwrap(), total);
    let heads = text.lines().filter(|l| l.starts_with("{\"table\"")).count();
    assert_eq!(heads, list["tables"].as_array().unwrap().len());
    assert_eq!(text.lines().count() as u64, 2 + heads as u64 + total);
    s.stop().await;
}

/// Loads appdata.jsonl into a fresh server.
async fn loaded() -> (TestServer, String) {
    let s = TestServer::start_with(&["--experimental-appdata", "true"]).await;
    let text = fixture();
    let admin = s.token("admin", &["admin"]);
    let reply = s
        .client
        .post(s.url("/op/appdata?elevate=true"))
        .bearer_auth(&admin)
        .header("content-type", "application/jsonl")
        .body(text.clone())
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(reply.ends_with("{\"status\":\"success\"}\n"), "{reply}");
    (s, text)
}

/// The revision each collection assesses a benchmark against, from the file: its pin, else
/// the current revision (drafts last, then version and release, numerically, descending).
fn default_revision(text: &str, collection_id: &Value, benchmark_id: &Value) -> String {
    if let Some(pin) = rows(text, "collection_rev_map")
        .iter()
        .find(|p| &p["collectionId"] == collection_id && &p["benchmarkId"] == benchmark_id)
    {
        return pin["revId"].as_str().unwrap().to_string();
    }
    let mut revisions: Vec<Map<String, Value>> =
        rows(text, "revision").into_iter().filter(|r| &r["benchmarkId"] == benchmark_id).collect();
    let rank = |r: &Map<String, Value>| {
        (
            r["status"] == "draft",
            -r["version"].as_i64().unwrap(),
            -r["release"].as_str().unwrap().parse::<f64>().unwrap(),
        )
    };
    revisions.sort_by(|a, b| rank(a).partial_cmp(&rank(b)).unwrap());
    revisions[0]["revId"].as_str().unwrap().to_string()
}

/// The expected `statusStats` of an asset, over the benchmarks `counted` lets through.
fn expected_stats(text: &str, asset: &Map<String, Value>, counted: impl Fn(&str) -> bool) -> Value {
    let benchmarks: Vec<Value> = rows(text, "stig_asset_map")
        .into_iter()
        .filter(|m| m["assetId"] == asset["assetId"] && counted(m["benchmarkId"].as_str().unwrap()))
        .map(|m| m["benchmarkId"].clone())
        .collect();
    if benchmarks.is_empty() {
        return json!({"stigCount": 0, "ruleCount": null, "acceptedCount": null,
            "rejectedCount": null, "submittedCount": null, "savedCount": null,
            "minTs": null, "maxTs": null});
    }
    let (mut rules, mut statuses, mut times) = (0, [0; 4], Vec::new());
    for benchmark in &benchmarks {
        let rev_id = default_revision(text, &asset["collectionId"], benchmark);
        let keys: Vec<(Value, Value)> = rows(text, "rev_group_rule_map")
            .into_iter()
            .filter(|r| r["revId"] == rev_id.as_str())
            .map(|r| (r["version"].clone(), r["checkDigest"]["data"].clone()))
            .collect();
        rules += keys.len();
        for review in rows(text, "review").iter().filter(|r| r["assetId"] == asset["assetId"]) {
            let key = (review["version"].clone(), review["checkDigest"]["data"].clone());
            // a review matched by two rules of the revision counts twice
            for _ in keys.iter().filter(|k| **k == key) {
                statuses[review["statusId"].as_u64().unwrap() as usize] += 1;
                times.push(review["ts"].as_str().unwrap().replace(' ', "T") + "Z");
            }
        }
    }
    times.sort();
    json!({"stigCount": benchmarks.len(), "ruleCount": rules, "savedCount": statuses[0],
        "submittedCount": statuses[1], "rejectedCount": statuses[2], "acceptedCount": statuses[3],
        "minTs": times.first(), "maxTs": times.last()})
}

#[tokio::test]
async fn asset_status_stats_count_the_reviews_of_each_default_revision() {
    let (s, text) = loaded().await;
    let assets = rows(&text, "asset");
    let collections: BTreeSet<i64> = rows(&text, "collection")
        .iter()
        .filter(|c| c["state"] == "enabled")
        .map(|c| c["collectionId"].as_i64().unwrap())
        .collect();
    let mut with_reviews = 0;
    for collection in collections {
        let (token, _) = s.grant_in(collection, "stats-owner", 4).await;
        let path = format!("/assets?collectionId={collection}&projection=statusStats");
        let (status, listed) = s.get(&token, &path).await;
        assert_eq!(status, 200, "{listed}");
        for item in listed.as_array().unwrap() {
            let id: i64 = item["assetId"].as_str().unwrap().parse().unwrap();
            let asset = assets.iter().find(|a| a["assetId"] == id).unwrap();
            let expected = expected_stats(&text, asset, |_| true);
            assert_eq!(item["statusStats"], expected, "asset {id}");
            with_reviews += usize::from(expected["minTs"].is_string());
            let (_, one) = s.get(&token, &format!("/assets/{id}?projection=statusStats")).await;
            assert_eq!(one["statusStats"], expected, "asset {id} alone");
        }
    }
    assert!(with_reviews >= 2, "the file's reviews are counted on several assets");

    // a restricted grant counts only the STIG its ACL reads
    let maps = rows(&text, "stig_asset_map");
    let asset = assets
        .iter()
        .filter(|a| a["state"] == "enabled")
        .find(|a| {
            maps.iter().filter(|m| m["assetId"] == a["assetId"]).count() >= 2
                && expected_stats(&text, a, |_| true)["minTs"].is_string()
        })
        .unwrap();
    let asset_id = asset["assetId"].as_i64().unwrap();
    let collection = asset["collectionId"].as_i64().unwrap();
    let readable = maps.iter().find(|m| m["assetId"] == asset_id).unwrap()["benchmarkId"]
        .as_str()
        .unwrap()
        .to_string();
    let (token, grant) = s.grant_in(collection, "stats-restricted", 1).await;
    s.acl_on(grant, asset_id, &readable, "r").await;
    let expected = expected_stats(&text, asset, |b| b == readable);
    assert_eq!(expected["stigCount"], 1);
    let (_, one) = s.get(&token, &format!("/assets/{asset_id}?projection=statusStats")).await;
    assert_eq!(one["statusStats"], expected);
    let path = format!("/assets?collectionId={collection}&projection=statusStats");
    let (_, listed) = s.get(&token, &path).await;
    let listed = listed.as_array().unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["statusStats"], expected);
    s.stop().await;
}

/// The values of `column` in `table` of an application data file.
fn ids(text: &str, table: &str, column: &str) -> Vec<i64> {
    rows(text, table).iter().map(|r| r[column].as_i64().unwrap()).collect()
}

#[tokio::test]
async fn appdata_keeps_surrogate_ids_and_numbers_new_rows_after_them() {
    let (s, text) = loaded().await;
    s.grant_in(21, "keeper", 4).await;
    s.grant_in(83, "keeper", 4).await;
    let token = s.token("keeper", &["admin"]);
    // new rows in each table with a kept id: content, a label mapping, a pin, a new default
    let xccdf = std::fs::read(shared("data/stigs/U_Google_Chrome_STIG_V2R8_Manual-xccdf.xml"));
    let (status, reply) =
        s.upload(&token, "/stigs?elevate=true", "chrome.xml", xccdf.unwrap()).await;
    assert_eq!(status, 200, "{reply}");
    let (_, labels) = s.get(&token, "/collections/21/labels").await;
    let label = labels[0]["labelId"].as_str().unwrap();
    let path = format!("/collections/21/labels/{label}/assets");
    let (status, reply) = s.send("PUT", &token, &path, json!(["62", "154"])).await;
    assert_eq!(status, 200, "{reply}");
    let pin = json!({"defaultRevisionStr": "V1R1"});
    let (status, reply) = s.send("POST", &token, "/collections/21/stigs/VPN_SRG_TEST", pin).await;
    assert_eq!(status, 200, "{reply}");
    let (status, reply) =
        s.send("PUT", &token, "/assets/153/stigs/RHEL_7_STIG_TEST", json!(null)).await;
    assert_eq!(status, 200, "{reply}");
    // a comment upstream left NULL reads back as NULL until it is written, even as ""
    let null_comments: Vec<i64> = rows(&text, "review")
        .iter()
        .filter(|r| r["comment"].is_null())
        .map(|r| r["reviewId"].as_i64().unwrap())
        .collect();
    let written = null_comments[0];
    sqlx::any::install_default_drivers();
    let db = sqlx::AnyPool::connect(&s.database_url).await.unwrap();
    sqlx::query("UPDATE review SET comment = '' WHERE review_id = $1")
        .bind(written)
        .execute(&db)
        .await
        .unwrap();
    db.close().await;

    let admin = s.token("admin", &["admin"]);
    let response = s
        .client
        .get(s.url("/op/appdata?elevate=true&format=jsonl"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    let exported = response.text().await.unwrap();
    for (table, column, grows) in [
        ("check_content", "ccId", true),
        ("fix_text", "ftId", true),
        ("rev_group_rule_cci_map", "rgrccId", true),
        ("collection_label_asset_map", "claId", true),
        ("collection_rev_map", "crId", true),
        ("default_rev", "vdId", true),
        ("user_group_user_map", "ugumId", false),
    ] {
        let before = ids(&text, table, column);
        let after = ids(&exported, table, column);
        let unique: BTreeSet<i64> = after.iter().copied().collect();
        assert_eq!(unique.len(), after.len(), "{table}.{column} ids are unique");
        let largest = before.iter().copied().max().unwrap_or(0);
        let new: Vec<i64> = after.iter().copied().filter(|id| !before.contains(id)).collect();
        assert!(new.iter().all(|id| *id > largest), "{table}.{column}: {new:?} after {largest}");
        assert_eq!(!new.is_empty(), grows, "{table}.{column} new ids: {new:?}");
    }
    for review in rows(&exported, "review") {
        let id = review["reviewId"].as_i64().unwrap();
        if null_comments.contains(&id) {
            let expected = if id == written { json!("") } else { Value::Null };
            assert_eq!(review["comment"], expected, "review {id}");
        }
    }
    // the pinned default keeps its id; the new one takes the next
    let defaults = rows(&exported, "default_rev");
    let find = |c: i64, b: &str| {
        defaults.iter().find(|d| d["collectionId"] == c && d["benchmarkId"] == b).unwrap().clone()
    };
    let file_default = rows(&text, "default_rev")
        .into_iter()
        .find(|d| d["collectionId"] == 21 && d["benchmarkId"] == "VPN_SRG_TEST")
        .unwrap();
    assert_eq!(find(21, "VPN_SRG_TEST")["vdId"], file_default["vdId"]);
    assert_eq!(find(21, "VPN_SRG_TEST")["revisionPinned"], 1);
    let largest = ids(&text, "default_rev", "vdId").into_iter().max().unwrap();
    assert_eq!(find(83, "RHEL_7_STIG_TEST")["vdId"], largest + 1);
    s.stop().await;
}
