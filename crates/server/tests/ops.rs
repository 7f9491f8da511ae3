//! Operational behaviour over real sockets: the API state and its 503 gate, Server-Sent
//! Events, health endpoints, streamed collection clones and graceful shutdown. SQLite by
//! default, PostgreSQL with `STIGWARD_TEST_BACKEND=postgres`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant};

use common::TestServer;
use serde_json::Value;
use stigward::ops::state::Dependency;

/// The projections of `GET /collections/{id}`, which a clone's result line carries too.
const PROJECTIONS: [&str; 7] =
    ["assets", "grants", "users", "owners", "statistics", "stigs", "labels"];

/// A Server-Sent Events reader over a live response.
struct SseReader {
    response: reqwest::Response,
    buffer: String,
}

impl SseReader {
    async fn open(url: &str) -> (reqwest::header::HeaderMap, SseReader) {
        let response = reqwest::get(url).await.unwrap();
        assert_eq!(response.status(), 200);
        let headers = response.headers().clone();
        let reader = SseReader { response, buffer: String::new() };
        (headers, reader)
    }

    /// The next event's name and data, or `None` when the stream ends.
    async fn next(&mut self) -> Option<(String, Value)> {
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                let field = |name: &str| {
                    block
                        .lines()
                        .find_map(|l| l.strip_prefix(name))
                        .map(|v| v.trim_start().to_string())
                };
                let data = serde_json::from_str(&field("data:").unwrap()).unwrap();
                return Some((field("event:").unwrap(), data));
            }
            let chunk = self.response.chunk().await.unwrap()?;
            self.buffer.push_str(std::str::from_utf8(&chunk).unwrap());
        }
    }

    /// The next event, failing the test if none arrives within `limit`.
    async fn within(&mut self, limit: Duration) -> (String, Value) {
        tokio::time::timeout(limit, self.next())
            .await
            .expect("an event in time")
            .expect("an open stream")
    }
}

#[tokio::test]
async fn state_is_anonymous_and_available() {
    let server = TestServer::start().await;
    let response = reqwest::get(server.url("/op/state")).await.unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["currentState"], "available");
    assert_eq!(body["dependencies"], serde_json::json!({"db": true, "oidc": true}));
    assert_eq!(body["endpoints"]["ui"]["current"], "/");
    assert!(body["since"].as_str().unwrap().ends_with('Z'));

    let (status, body) = server.get("", "/op/state?bogus=1").await;
    assert_eq!((status, body["error"].is_string()), (400, true));
    server.stop().await;
}

#[tokio::test]
async fn sse_reports_at_once_with_streaming_headers_and_keeps_alive() {
    let server = TestServer::start_with(&["--sse-keepalive-ms", "200"]).await;
    let started = Instant::now();
    let (headers, mut events) = SseReader::open(&server.url("/op/state/sse")).await;
    assert_eq!(headers["content-type"], "text/event-stream");
    assert_eq!(headers["cache-control"], "no-cache");
    assert_eq!(headers["x-accel-buffering"], "no");

    let (name, data) = events.within(Duration::from_secs(1)).await;
    assert!(started.elapsed() < Duration::from_secs(1));
    assert_eq!(name, "state-report");
    assert_eq!(data["currentState"], "available");

    // keep-alives: more state reports, roughly at the configured interval (the slack above it
    // is generous, for a loaded machine)
    let before = Instant::now();
    for _ in 0..3 {
        let (name, data) = events.within(Duration::from_secs(5)).await;
        assert_eq!(name, "state-report");
        assert_eq!(data["currentState"], "available");
    }
    let three = before.elapsed();
    println!("three keep-alives at 200 ms took {three:?}");
    assert!(three >= Duration::from_millis(3 * 200 - 50), "{three:?}");
    assert!(three <= Duration::from_millis(3 * 200 + 600), "{three:?}");
    server.stop().await;
}

#[tokio::test]
async fn lost_dependency_is_streamed_and_gates_the_api_with_503() {
    let server = TestServer::start().await;
    let admin = server.token("admin", &["admin"]);
    let (_, mut events) = SseReader::open(&server.url("/op/state/sse")).await;
    events.within(Duration::from_secs(1)).await;

    server.state.status.set_dependency(Dependency::Oidc, false);
    let (name, data) = events.within(Duration::from_secs(1)).await;
    assert_eq!(name, "dependency-changed");
    assert_eq!(data["dependencies"]["oidc"], false);
    let (name, data) = events.within(Duration::from_secs(1)).await;
    assert_eq!(name, "state-changed");
    assert_eq!(data["currentState"], "unavailable");

    // every /api route, even with a bad token or none, gets the state object
    let (status, body) = server.get(&admin, "/user").await;
    assert_eq!((status, body.clone()), (503, data.clone()));
    let (status, body) = server.get("not-a-token", "/collections").await;
    assert_eq!((status, body["currentState"].clone()), (503, "unavailable".into()));
    let (status, body) = server.get("", "/op/state").await;
    assert_eq!((status, body["currentState"].clone()), (200, "unavailable".into()));
    let ready = reqwest::get(format!("{}/health/ready", server.root)).await.unwrap();
    assert_eq!(ready.status(), 503);
    let live = reqwest::get(format!("{}/health/live", server.root)).await.unwrap();
    assert_eq!(live.status(), 200);

    server.state.status.set_dependency(Dependency::Oidc, true);
    assert_eq!(events.within(Duration::from_secs(1)).await.0, "dependency-changed");
    let (name, data) = events.within(Duration::from_secs(1)).await;
    assert_eq!((name.as_str(), &data["currentState"]), ("state-changed", &"available".into()));
    let (status, _) = server.get(&admin, "/user").await;
    assert_eq!(status, 200);
    let ready = reqwest::get(format!("{}/health/ready", server.root)).await.unwrap();
    assert_eq!(ready.status(), 200);
    server.stop().await;
}

#[tokio::test]
async fn database_outage_is_detected_by_the_probe() {
    let server = TestServer::start_with(&["--db-probe-ms", "50"]).await;
    let (_, mut events) = SseReader::open(&server.url("/op/state/sse")).await;
    events.within(Duration::from_secs(1)).await;

    // a closed pool fails every query, as a database that went away does
    server.state.store.close().await;
    let (name, data) = events.within(Duration::from_secs(5)).await;
    assert_eq!(name, "dependency-changed");
    assert_eq!(data["dependencies"]["db"], false);
    let (_, data) = events.within(Duration::from_secs(1)).await;
    assert_eq!(data["currentState"], "unavailable");
    let (status, _) = server.get("", "/op/configuration").await;
    assert_eq!(status, 503);
    server.stop().await;
}

#[tokio::test]
async fn many_sse_clients_follow_changes_and_end_at_shutdown() {
    let mut server = TestServer::start().await;
    let mut clients = Vec::new();
    for _ in 0..50 {
        let (_, mut reader) = SseReader::open(&server.url("/op/state/sse")).await;
        reader.within(Duration::from_secs(1)).await;
        clients.push(reader);
    }
    // one client never reads again; the others must not wait for it
    let mut stalled = clients.pop().unwrap();
    server.state.status.set_dependency(Dependency::Db, false);
    for reader in clients.iter_mut() {
        assert_eq!(reader.within(Duration::from_secs(2)).await.0, "dependency-changed");
        assert_eq!(reader.within(Duration::from_secs(2)).await.0, "state-changed");
    }

    // graceful shutdown tells every stream `stop` and ends it, then the server returns
    tokio::time::timeout(Duration::from_secs(5), server.shut_down())
        .await
        .expect("shutdown is not held up by open streams");
    for reader in clients.iter_mut() {
        let (name, data) = reader.within(Duration::from_secs(2)).await;
        assert_eq!((name.as_str(), &data["currentState"]), ("state-changed", &"stop".into()));
        assert!(reader.next().await.is_none());
    }
    assert_eq!(stalled.within(Duration::from_secs(2)).await.0, "dependency-changed");
    server.stop().await;
}

// ---------------------------------------------------------------------------------------------
// Clone

/// A streamed NDJSON response, read line by line as it arrives.
struct LineReader {
    response: reqwest::Response,
    buffer: Vec<u8>,
}

impl LineReader {
    async fn next(&mut self) -> Option<Value> {
        loop {
            if let Some(end) = self.buffer.iter().position(|b| *b == b'\n') {
                let line: Vec<u8> = self.buffer.drain(..=end).collect();
                return Some(serde_json::from_slice(&line).unwrap());
            }
            let chunk = self.response.chunk().await.unwrap()?;
            self.buffer.extend_from_slice(&chunk);
        }
    }

    async fn rest(&mut self) -> Vec<Value> {
        let mut lines = Vec::new();
        while let Some(line) = self.next().await {
            lines.push(line);
        }
        lines
    }
}

async fn post_stream(server: &TestServer, token: &str, path: &str, body: Value) -> LineReader {
    let response =
        server.client.post(server.url(path)).bearer_auth(token).json(&body).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/x-ndjson; charset=utf-8");
    assert_eq!(response.headers()["x-accel-buffering"], "no");
    LineReader { response, buffer: Vec::new() }
}

struct Source {
    admin: String,
    bob: String,
    bob_id: String,
    collection_id: String,
    benchmark_id: String,
}

fn id_of(value: &Value, key: &str) -> String {
    value[key].as_str().unwrap().to_string()
}

/// A source collection: a benchmark, two grants (one with an ACL rule), a label, `assets`
/// assets mapped to the benchmark with half of them labelled, and no reviews yet.
async fn seed_source(server: &TestServer, assets: usize) -> Source {
    let admin = server.token("admin", &["admin", "create_collection"]);
    let bob = server.token("bob", &[]);
    let file = "U_Google_Chrome_STIG_V2R8_Manual-xccdf.xml";
    let bytes = std::fs::read(common::shared(&format!("data/stigs/{file}"))).unwrap();
    let (status, body) = server.upload(&admin, "/stigs?elevate=true", file, bytes).await;
    assert_eq!(status, 200, "{body}");
    let (_, stigs) = server.get(&admin, "/stigs").await;
    let benchmark_id = id_of(&stigs[0], "benchmarkId");

    let (_, me) = server.get(&admin, "/user").await;
    let (_, bob_user) = server.get(&bob, "/user").await;
    let collection = serde_json::json!({
        "name": "Source", "description": "the original",
        "metadata": {"owner": "ops"},
        "labels": [{"name": "web", "description": null, "color": "aabbcc"}],
        "grants": [{"userId": me["userId"], "roleId": 4}, {"userId": bob_user["userId"], "roleId": 2}],
    });
    let (status, created) = server.send("POST", &admin, "/collections", collection).await;
    assert_eq!(status, 201, "{created}");
    let collection_id = id_of(&created, "collectionId");
    for i in 0..assets {
        let labels: Vec<&str> = if i % 2 == 0 { vec!["web"] } else { vec![] };
        let asset = serde_json::json!({"name": format!("host-{i:03}"), "collectionId": collection_id,
            "description": null, "ip": "10.0.0.1", "noncomputing": false,
            "metadata": {"rack": i.to_string()}, "stigs": [benchmark_id], "labelNames": labels});
        let (status, body) = server.send("POST", &admin, "/assets", asset).await;
        assert_eq!(status, 201, "{body}");
    }
    sqlx::query(
        "INSERT INTO collection_grant_acl (grant_id, asset_id, access)
         SELECT g.grant_id, a.asset_id, 'r' FROM collection_grant g
         JOIN asset a ON a.collection_id = g.collection_id AND a.name = 'host-000'
         WHERE g.collection_id = $1 AND g.user_id = $2",
    )
    .bind(collection_id.parse::<i64>().unwrap())
    .bind(id_of(&bob_user, "userId").parse::<i64>().unwrap())
    .execute(server.state.store.pool())
    .await
    .unwrap();
    Source { admin, bob, bob_id: id_of(&bob_user, "userId"), collection_id, benchmark_id }
}

/// Writes `per_asset` reviews straight into the database for every asset of the collection:
/// one per rule when the benchmark has enough rules, else synthetic ones that match no rule
/// (which a clone copies too).
async fn insert_reviews(server: &TestServer, collection_id: &str, per_asset: i64) {
    let sql = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $2)
        INSERT INTO review (asset_id, rule_id, version, check_digest, result_id, detail, comment,
            metadata, ts, status_id, status_ts, touch_ts)
        SELECT a.asset_id, 'SV-' || n.i || 'r1_rule', 'V-' || n.i,
            (SELECT check_digest FROM rev_group_rule_map ORDER BY rgr_id LIMIT 1), 1 + n.i % 9,
            'detail ' || n.i, 'comment', '{}', 1700000000 + n.i, 0, 1700000000, 1700000000
        FROM asset a CROSS JOIN n WHERE a.collection_id = $1";
    sqlx::query(sql)
        .bind(collection_id.parse::<i64>().unwrap())
        .bind(per_asset)
        .execute(server.state.store.pool())
        .await
        .unwrap();
}

/// The reviews of a collection as (asset name, version, result, detail, ts, status), sorted.
async fn review_rows(
    server: &TestServer,
    collection_id: &str,
) -> Vec<(String, String, i64, String, i64, i64)> {
    use sqlx::Row;
    let rows = sqlx::query(
        "SELECT a.name, r.version, r.result_id, r.detail, r.ts, r.status_id FROM review r
         JOIN asset a ON a.asset_id = r.asset_id WHERE a.collection_id = $1
         ORDER BY a.name, r.version",
    )
    .bind(collection_id.parse::<i64>().unwrap())
    .fetch_all(server.state.store.pool())
    .await
    .unwrap();
    rows.iter().map(|r| (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4), r.get(5))).collect()
}

async fn count(server: &TestServer, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(server.state.store.pool()).await.unwrap()
}

/// Holds the database's write lock from a connection of its own until dropped or released. On
/// PostgreSQL it locks the tables whose rows a clone (collection) and an export-to (asset)
/// write first, so either waits at its first write.
struct WriteBlocker(sqlx::AnyConnection);

impl WriteBlocker {
    async fn hold(server: &TestServer) -> WriteBlocker {
        use sqlx::Connection;
        let mut conn = sqlx::AnyConnection::connect(&server.database_url).await.unwrap();
        let statements: &[&str] = if common::backend_is_postgres() {
            &["BEGIN", "LOCK TABLE collection, asset IN EXCLUSIVE MODE"]
        } else {
            &["BEGIN IMMEDIATE"]
        };
        for sql in statements {
            sqlx::query(sql).execute(&mut conn).await.unwrap();
        }
        WriteBlocker(conn)
    }

    async fn release(mut self) {
        sqlx::query("ROLLBACK").execute(&mut self.0).await.unwrap();
    }
}

#[tokio::test]
async fn clone_streams_each_step_and_ends_with_the_clone() {
    let server = TestServer::start().await;
    let source = seed_source(&server, 4).await;
    insert_reviews(&server, &source.collection_id, 25).await;

    // the clone's first write waits for this lock, so its first line can only have been
    // sent while the work was still under way
    let blocker = WriteBlocker::hold(&server).await;
    let path = format!(
        "/collections/{}/clone?projection=assets&projection=grants&projection=labels&projection=stigs",
        source.collection_id
    );
    let body = serde_json::json!({"name": "Copy", "description": "the copy"});
    let mut lines = post_stream(&server, &source.admin, &path, body).await;
    let first = lines.next().await.unwrap();
    assert_eq!(
        first,
        serde_json::json!({"stage": "collection", "stepCount": 18, "step": 1,
            "stepName": "cloneCollection", "status": "running", "message": "Creating core properties"})
    );
    blocker.release().await;

    let rest = lines.rest().await;
    let names: Vec<String> = std::iter::once(&first)
        .chain(rest.iter())
        .map(|l| {
            format!(
                "{}:{}:{}",
                l["stage"],
                l["stepName"].as_str().unwrap_or(""),
                l["status"].as_str().unwrap_or("")
            )
        })
        .collect();
    let expected = [
        "cloneCollection",
        "selectLastInsertId",
        "cloneGrants",
        "dropGrantMap",
        "createGrantMap",
        "insertOwnerGrant",
        "cloneLabels",
        "cloneAssets",
        "dropAssetMap",
        "createAssetMap",
        "dropLabelMap",
        "createLabelMap",
        "cloneAssetLabels",
        "cloneStigMappingsWithReviews",
        "cloneGrantAcls",
        "cloneRevisionsMatchSource",
        "insertDefaultRev",
    ];
    let mut want: Vec<String> =
        expected.iter().map(|s| format!("\"collection\":{s}:running")).collect();
    want.push("\"collection\":commit:running".into());
    want.push("\"collection\":commit:finished".into());
    // cloneReviews: once before the first chunk, once after it
    for step in ["dropReviewIdList", "createReviewIdList", "cloneReviews", "cloneReviews"] {
        want.push(format!("\"reviews\":{step}:running"));
    }
    want.push("\"reviews\":commit:running".into());
    want.push("\"reviews\":commit:finished".into());
    want.push("\"result\"::".into());
    assert_eq!(names, want);
    let copied = &rest[rest.len() - 4];
    assert_eq!(
        (copied["reviewsTotal"].as_i64(), copied["reviewsCopied"].as_i64()),
        (Some(100), Some(100))
    );

    // the result is what a fresh read of the clone says
    let result = &rest.last().unwrap()["collection"];
    let clone_id = id_of(result, "collectionId");
    let get = format!("/collections/{clone_id}?projection=assets&projection=grants&projection=labels&projection=stigs");
    let (status, fresh) = server.get(&source.admin, &get).await;
    assert_eq!(status, 200);
    assert_eq!(result, &fresh);
    assert_eq!(fresh["name"], "Copy");
    assert_eq!(fresh["description"], "the copy");
    assert_eq!(fresh["metadata"], serde_json::json!({"owner": "ops"}));
    assert_eq!(fresh["assets"].as_array().unwrap().len(), 4);
    assert_eq!(fresh["labels"][0]["name"], "web");
    assert_eq!(fresh["labels"][0]["uses"], 2);
    assert_eq!(fresh["stigs"][0]["benchmarkId"], source.benchmark_id.as_str());
    let roles: Vec<(String, i64)> = fresh["grants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            (g["user"]["username"].as_str().unwrap().to_string(), g["roleId"].as_i64().unwrap())
        })
        .collect();
    assert!(
        roles.contains(&("admin".into(), 4)) && roles.contains(&("bob".into(), 2)),
        "{roles:?}"
    );

    // every review, with its original values, and bob's ACL rule on the copied asset
    assert_eq!(
        review_rows(&server, &clone_id).await,
        review_rows(&server, &source.collection_id).await
    );
    let acl = format!(
        "SELECT COUNT(*) FROM collection_grant_acl acl JOIN collection_grant g ON g.grant_id = acl.grant_id
         JOIN asset a ON a.asset_id = acl.asset_id
         WHERE g.collection_id = {clone_id} AND g.user_id = {} AND a.collection_id = {clone_id}
           AND a.name = 'host-000'",
        source.bob_id
    );
    assert_eq!(count(&server, &acl).await, 1);
    server.stop().await;
}

#[tokio::test]
async fn clone_to_a_taken_name_reports_an_error_line_and_leaves_nothing() {
    let server = TestServer::start().await;
    let source = seed_source(&server, 2).await;
    insert_reviews(&server, &source.collection_id, 5).await;
    let before = (
        count(&server, "SELECT COUNT(*) FROM collection").await,
        count(&server, "SELECT COUNT(*) FROM asset").await,
        count(&server, "SELECT COUNT(*) FROM review").await,
        count(&server, "SELECT COUNT(*) FROM collection_grant").await,
    );
    let path = format!("/collections/{}/clone", source.collection_id);
    let body = serde_json::json!({"name": "Source", "description": null,
        "options": {"grants": false, "stigMappings": "withoutReviews"}});
    let lines = post_stream(&server, &source.admin, &path, body).await.rest().await;
    assert_eq!(
        lines,
        vec![
            serde_json::json!({"stage": "collection", "stepCount": 14, "step": 1,
                "stepName": "cloneCollection", "status": "running", "message": "Creating core properties"}),
            serde_json::json!({"stage": "collection", "stepCount": 14, "step": 1,
                "stepName": "cloneCollection", "status": "error",
                "message": "The requested Collection name is unavailable"}),
        ]
    );
    let after = (
        count(&server, "SELECT COUNT(*) FROM collection").await,
        count(&server, "SELECT COUNT(*) FROM asset").await,
        count(&server, "SELECT COUNT(*) FROM review").await,
        count(&server, "SELECT COUNT(*) FROM collection_grant").await,
    );
    assert_eq!(before, after);
    server.stop().await;
}

/// Makes every insert into `stig_asset_map` fail, as a database error in the middle of a
/// clone would.
async fn refuse_stig_mappings(server: &TestServer) {
    let statements: &[&str] = if common::backend_is_postgres() {
        &[
            "CREATE FUNCTION refuse_mapping() RETURNS trigger AS $$
             BEGIN RAISE EXCEPTION 'mapping refused'; END $$ LANGUAGE plpgsql",
            "CREATE TRIGGER refuse_mappings BEFORE INSERT ON stig_asset_map
             FOR EACH ROW EXECUTE FUNCTION refuse_mapping()",
        ]
    } else {
        &["CREATE TRIGGER refuse_mappings BEFORE INSERT ON stig_asset_map
           BEGIN SELECT RAISE(ABORT, 'mapping refused'); END"]
    };
    for sql in statements {
        sqlx::query(sql).execute(server.state.store.pool()).await.unwrap();
    }
}

#[tokio::test]
async fn a_clone_that_fails_midway_reports_the_step_and_rolls_everything_back() {
    let server = TestServer::start().await;
    let source = seed_source(&server, 3).await;
    insert_reviews(&server, &source.collection_id, 5).await;
    refuse_stig_mappings(&server).await;
    let tables = [
        "collection",
        "collection_grant",
        "collection_label",
        "asset",
        "collection_label_asset_map",
        "review",
    ];
    let mut before = Vec::new();
    for table in tables {
        before.push(count(&server, &format!("SELECT COUNT(*) FROM {table}")).await);
    }

    let path = format!("/collections/{}/clone", source.collection_id);
    let body = serde_json::json!({"name": "Doomed", "description": null});
    let lines = post_stream(&server, &source.admin, &path, body).await.rest().await;
    let last = lines.last().unwrap();
    assert_eq!(last["stepName"], "cloneStigMappingsWithReviews", "{last}");
    assert_eq!(
        (last["status"].as_str(), last["message"].as_str()),
        (Some("error"), Some("Unhandled error"))
    );
    assert!(last["error"]["message"].as_str().unwrap().contains("mapping refused"), "{last}");
    assert!(lines.iter().all(|l| l["stage"] != "result"));
    // every earlier step ran, yet nothing of it remains
    assert_eq!(lines.len(), 15);
    let mut after = Vec::new();
    for table in tables {
        after.push(count(&server, &format!("SELECT COUNT(*) FROM {table}")).await);
    }
    assert_eq!(before, after);
    server.stop().await;
}

#[tokio::test]
async fn clone_preconditions_answer_with_json_errors() {
    let server = TestServer::start().await;
    let source = seed_source(&server, 1).await;
    let path = format!("/collections/{}/clone", source.collection_id);
    let ok = serde_json::json!({"name": "C2", "description": null});

    // bob has a Full grant but neither Manage nor the create_collection privilege
    let (status, body) = server.send("POST", &source.bob, &path, ok.clone()).await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["detail"], "User has not been granted createCollection privilege");
    let creator = server.token("bob", &["create_collection"]);
    let (status, body) = server.send("POST", &creator, &path, ok.clone()).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (403, Some("User has insufficient privilege to complete this request."))
    );

    for bad in [
        serde_json::json!({"name": "C2"}),
        serde_json::json!({"name": "", "description": null}),
        serde_json::json!({"name": "C2", "description": null, "options": {"assets": false}}),
        serde_json::json!({"name": "C2", "description": null, "options": {"stigMappings": "some"}}),
        serde_json::json!({"name": "C2", "description": null, "extra": 1}),
    ] {
        let (status, body) = server.send("POST", &source.admin, &path, bad.clone()).await;
        assert_eq!(status, 400, "{bad} -> {body}");
        assert!(body["error"].is_string());
    }
    let (status, _) = server.send("POST", &source.admin, "/collections/x1/clone", ok.clone()).await;
    assert_eq!(status, 400);
    let (status, _) = server.send("POST", &source.admin, "/collections/99999/clone", ok).await;
    assert_eq!(status, 403);
    server.stop().await;
}

#[tokio::test]
async fn elevation_is_no_grant_for_clone_or_export_to() {
    let server = TestServer::start().await;
    let source = seed_source(&server, 1).await;
    let destination = create_destination(&server, &source, false).await;
    // an administrator with no grant anywhere
    let root = server.token("root", &["admin", "create_collection"]);
    let clone = serde_json::json!({"name": "C2", "description": null});
    let (_, assets) = server
        .get(&source.admin, &format!("/collections/{}?projection=assets", source.collection_id))
        .await;
    let selection = serde_json::json!([{"assetId": assets["assets"][0]["assetId"]}]);

    for path in [
        format!("/collections/{}/clone", source.collection_id),
        "/collections/99999/clone".to_string(),
    ] {
        let (status, body) = server.send("POST", &root, &path, clone.clone()).await;
        assert_eq!(status, 403, "{path} -> {body}");
        let elevated = format!("{path}?elevate=true");
        let (status, body) = server.send("POST", &root, &elevated, clone.clone()).await;
        assert_eq!(status, 400, "{elevated} -> {body}");
    }
    // the owner of the source, elevated, still needs a grant in the destination
    let (_, outsider) = server.get(&root, "/user").await;
    let path = format!("/collections/{}/export-to/{destination}", source.collection_id);
    let grant = serde_json::json!([{"userId": outsider["userId"], "roleId": 1}]);
    let grants = format!("/collections/{}/grants", source.collection_id);
    let (status, body) = server.send("POST", &source.admin, &grants, grant).await;
    assert_eq!(status, 201, "{body}");
    let (status, body) = server.send("POST", &root, &path, selection.clone()).await;
    assert_eq!(status, 403, "{body}");
    let (status, body) =
        server.send("POST", &root, &format!("{path}?elevate=true"), selection).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(count(&server, "SELECT COUNT(*) FROM collection").await, 2);
    server.stop().await;
}

/// Imports a STIG from the shared data; returns its benchmark id.
async fn import_stig(server: &TestServer, token: &str, file: &str) -> String {
    let benchmarks = || async {
        let sql = "SELECT benchmark_id FROM stig";
        let ids: Vec<String> =
            sqlx::query_scalar(sql).fetch_all(server.state.store.pool()).await.unwrap();
        ids
    };
    let before = benchmarks().await;
    let bytes = std::fs::read(common::shared(&format!("data/stigs/{file}"))).unwrap();
    let (status, body) = server.upload(token, "/stigs?elevate=true", file, bytes).await;
    assert_eq!(status, 200, "{body}");
    let mut added: Vec<String> =
        benchmarks().await.into_iter().filter(|b| !before.contains(b)).collect();
    assert_eq!(added.len(), 1, "{body}");
    added.remove(0)
}

/// Adds `assets` assets to the collection straight in the database, each mapped to the given
/// STIGs, with a pass or fail review of every rule of each STIG's default revision.
async fn add_reviewed_assets(
    server: &TestServer,
    collection_id: &str,
    assets: i64,
    benchmarks: &[&str],
) {
    let pool = server.state.store.pool();
    let id: i64 = collection_id.parse().unwrap();
    sqlx::query(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $2)
         INSERT INTO asset (collection_id, name, ip) SELECT $1, 'bulk-' || n.i, '10.1.0.1' FROM n",
    )
    .bind(id)
    .bind(assets)
    .execute(pool)
    .await
    .unwrap();
    for benchmark in benchmarks {
        sqlx::query(
            "INSERT INTO stig_asset_map (benchmark_id, asset_id)
             SELECT $2, asset_id FROM asset WHERE collection_id = $1 AND name LIKE 'bulk-%'",
        )
        .bind(id)
        .bind(*benchmark)
        .execute(pool)
        .await
        .unwrap();
    }
    sqlx::query(
        "INSERT INTO review (asset_id, rule_id, version, check_digest, result_id, detail,
             comment, metadata, ts, status_id, status_ts, touch_ts)
         SELECT a.asset_id, m.rule_id, m.version, m.check_digest, 3 + (a.asset_id + m.rgr_id) % 2,
             'checked', '', '{}', 1700000000 + m.rgr_id, 0, 1700000000, 1700000000
         FROM asset a
         JOIN stig_asset_map sa ON sa.asset_id = a.asset_id
         JOIN default_rev d ON d.collection_id = a.collection_id
             AND d.benchmark_id = sa.benchmark_id
         JOIN rev_group_rule_map m ON m.rev_id = d.rev_id
         WHERE a.collection_id = $1 AND a.name LIKE 'bulk-%'",
    )
    .bind(id)
    .execute(pool)
    .await
    .unwrap();
}

/// How many reviews of the source have no review in the clone with the same copied values
/// (an asset's reviews are unique by rule, so equal counts and no difference mean the same).
async fn reviews_missing_from(server: &TestServer, source_id: &str, clone_id: &str) -> i64 {
    let reviews = |id: &str| {
        format!(
            "SELECT a.name, r.rule_id, r.version, r.check_digest, r.result_id, r.detail, r.ts,
                 r.status_id
             FROM review r JOIN asset a ON a.asset_id = r.asset_id WHERE a.collection_id = {id}"
        )
    };
    let sql = format!(
        "SELECT COUNT(*) FROM ({} EXCEPT {}) missing",
        reviews(source_id),
        reviews(clone_id)
    );
    count(server, &sql).await
}

#[tokio::test]
async fn clone_of_100_000_reviews_completes() {
    let server = TestServer::start().await;
    let source = seed_source(&server, 0).await;
    // STIGs of 304, 113 and 83 rules: 200 assets with a review of each rule make 100,000
    let mut benchmarks = Vec::new();
    for file in [
        "U_MS_Windows_Server_2019_STIG_V2R2_Manual-xccdf.xml",
        "U_CD_PGSQL_STIG_V1R1_Manual-xccdf.xml",
        "U_Apache_Tomcat_Application_Server_9_STIG_V2R3_Manual-xccdf.xml",
    ] {
        benchmarks.push(import_stig(&server, &source.admin, file).await);
    }
    let benchmarks: Vec<&str> = benchmarks.iter().map(String::as_str).collect();
    add_reviewed_assets(&server, &source.collection_id, 200, &benchmarks).await;
    let reviews_of = |id: &str| {
        format!(
            "SELECT COUNT(*) FROM review r JOIN asset a ON a.asset_id = r.asset_id
             WHERE a.collection_id = {id}"
        )
    };
    assert_eq!(count(&server, &reviews_of(&source.collection_id)).await, 100_000);

    let projections = PROJECTIONS.map(|p| format!("projection={p}")).join("&");
    let started = Instant::now();
    let path = format!("/collections/{}/clone?{projections}", source.collection_id);
    let body = serde_json::json!({"name": "Big copy", "description": null});
    let lines = post_stream(&server, &source.admin, &path, body).await.rest().await;
    println!("cloned 100 000 reviews in {:?}", started.elapsed());

    let copied: Vec<(i64, i64)> = lines
        .iter()
        .filter(|l| l["stepName"] == "cloneReviews")
        .map(|l| (l["reviewsCopied"].as_i64().unwrap(), l["reviewsTotal"].as_i64().unwrap()))
        .collect();
    assert_eq!(copied, (0..=10).map(|i| (i * 10_000, 100_000)).collect::<Vec<_>>());
    let result = lines.last().unwrap();
    assert_eq!(result["stage"], "result", "{result}");

    // the result line is what a fresh read of the committed clone says
    let clone_id = id_of(&result["collection"], "collectionId");
    let (status, fresh) =
        server.get(&source.admin, &format!("/collections/{clone_id}?{projections}")).await;
    assert_eq!(status, 200, "{fresh}");
    assert_eq!(result["collection"], fresh);
    assert_eq!(fresh["assets"].as_array().unwrap().len(), 200);
    let stigs: Vec<(&str, i64)> = fresh["stigs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["benchmarkId"].as_str().unwrap(), s["ruleCount"].as_i64().unwrap()))
        .collect();
    assert_eq!(stigs.iter().map(|s| s.1).sum::<i64>(), 500, "{stigs:?}");

    // every review arrived with its values, and the clone's own metrics count them all
    assert_eq!(count(&server, &reviews_of(&clone_id)).await, 100_000);
    assert_eq!(reviews_missing_from(&server, &source.collection_id, &clone_id).await, 0);
    let metrics = format!("/collections/{clone_id}/metrics/summary/collection");
    let (status, summary) = server.get(&source.admin, &metrics).await;
    assert_eq!(status, 200, "{summary}");
    let shape = (&summary["assets"], &summary["stigs"], &summary["checklists"]);
    assert_eq!(shape, (&200.into(), &3.into(), &600.into()), "{summary}");
    let metrics = &summary["metrics"];
    assert_eq!((&metrics["assessments"], &metrics["assessed"]), (&100_000.into(), &100_000.into()));
    let results = &metrics["results"];
    let pass_fail = results["pass"].as_i64().unwrap() + results["fail"].as_i64().unwrap();
    assert_eq!(pass_fail, 100_000, "{results}");
    server.stop().await;
}

/// Sends a streamed POST over a raw socket, reads until the first NDJSON line has arrived, then
/// drops the connection; returns that line.
async fn post_then_hang_up(server: &TestServer, token: &str, path: &str, body: Value) -> Value {
    let (stream, line) = post_raw(server, token, path, body).await;
    drop(stream);
    line
}

/// The same, but the client half-closes its side and reads on until the server has closed the
/// connection. Hyper does that when it sees the client's end of input in the middle of a
/// response, and it drops the response body with the connection; the server runs on this
/// test's single-threaded runtime, so that drop has happened before this returns.
async fn post_then_hang_up_seen(
    server: &TestServer,
    token: &str,
    path: &str,
    body: Value,
) -> Value {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let (mut stream, line) = post_raw(server, token, path, body).await;
    stream.shutdown().await.unwrap();
    let closed = async {
        let mut buffer = [0u8; 4096];
        while let Ok(n) = stream.read(&mut buffer).await {
            if n == 0 {
                break;
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(30), closed)
        .await
        .expect("the server closes a connection whose client hung up");
    line
}

/// Sends a streamed POST over a raw socket and reads until its first NDJSON line has arrived.
async fn post_raw(
    server: &TestServer,
    token: &str,
    path: &str,
    body: Value,
) -> (tokio::net::TcpStream, Value) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let port = server.root.rsplit(':').next().unwrap();
    let mut stream = tokio::net::TcpStream::connect(format!("127.0.0.1:{port}")).await.unwrap();
    let body = body.to_string();
    let request = format!(
        "POST /api{path} HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut received = Vec::new();
    let mut buffer = [0u8; 4096];
    let line = loop {
        let n = stream.read(&mut buffer).await.unwrap();
        assert!(n > 0, "the server closed the stream: {}", String::from_utf8_lossy(&received));
        received.extend_from_slice(&buffer[..n]);
        let text = String::from_utf8_lossy(&received).to_string();
        let Some(head) = text.find("\r\n\r\n") else { continue };
        assert!(text.starts_with("HTTP/1.1 200"), "{text}");
        let rest = &text[head..];
        // the body is chunked: a size line, then the JSON line itself
        if let (Some(start), Some(end)) = (rest.find('{'), rest.find("}\n")) {
            break serde_json::from_str::<Value>(&rest[start..=end]).unwrap();
        }
    };
    (stream, line)
}

/// Waits until the server's streamed work has ended: on SQLite it holds the store's writer
/// turn from before its first line to its end; on PostgreSQL its transaction shows in
/// `pg_stat_activity` until it commits or rolls back.
async fn wait_for_writers(server: &TestServer) {
    drop(server.state.store.begin_write().await.unwrap());
    if !common::backend_is_postgres() {
        return;
    }
    let deadline = Instant::now() + Duration::from_secs(120);
    let busy = "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database()
        AND pid <> pg_backend_pid() AND xact_start IS NOT NULL";
    while count(server, busy).await > 0 {
        assert!(Instant::now() < deadline, "a transaction is still open");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Row counts of the tables a clone or an export writes.
async fn table_counts(server: &TestServer) -> Vec<i64> {
    let mut out = Vec::new();
    for table in [
        "collection",
        "collection_grant",
        "collection_grant_acl",
        "collection_label",
        "asset",
        "collection_label_asset_map",
        "stig_asset_map",
        "review",
        "review_history",
    ] {
        out.push(count(server, &format!("SELECT COUNT(*) FROM {table}")).await);
    }
    out
}

#[tokio::test]
async fn a_clone_whose_client_hangs_up_mid_stream_leaves_nothing() {
    let server = TestServer::start().await;
    let source = seed_source(&server, 5).await;
    insert_reviews(&server, &source.collection_id, 10_000).await;
    let before = table_counts(&server).await;

    let path = format!("/collections/{}/clone", source.collection_id);
    let body = serde_json::json!({"name": "Interrupted", "description": null});
    let first = post_then_hang_up(&server, &source.admin, &path, body).await;
    assert_eq!((&first["step"], &first["stepName"]), (&1.into(), &"cloneCollection".into()));
    wait_for_writers(&server).await;

    assert_eq!(table_counts(&server).await, before);
    let named = "SELECT COUNT(*) FROM collection WHERE name = 'Interrupted'";
    assert_eq!(count(&server, named).await, 0);
    // the server is fine: the same clone over a connection that stays completes
    let body = serde_json::json!({"name": "Interrupted", "description": null});
    let lines = post_stream(&server, &source.admin, &path, body).await.rest().await;
    assert_eq!(lines.last().unwrap()["stage"], "result");
    server.stop().await;
}

#[tokio::test]
async fn a_small_clone_whose_client_hangs_up_leaves_nothing() {
    let server = TestServer::start().await;
    let source = seed_source(&server, 2).await;
    insert_reviews(&server, &source.collection_id, 5).await;
    let before = table_counts(&server).await;

    // the clone waits at its first write while its client hangs up and the server drops the
    // response; let go, it must roll back instead of finishing its few remaining steps
    let blocker = WriteBlocker::hold(&server).await;
    let path = format!("/collections/{}/clone", source.collection_id);
    let body = serde_json::json!({"name": "Abandoned", "description": null});
    let first = post_then_hang_up_seen(&server, &source.admin, &path, body).await;
    assert_eq!((&first["step"], &first["stepName"]), (&1.into(), &"cloneCollection".into()));
    blocker.release().await;
    wait_for_writers(&server).await;

    assert_eq!(table_counts(&server).await, before);
    let named = "SELECT COUNT(*) FROM collection WHERE name = 'Abandoned'";
    assert_eq!(count(&server, named).await, 0);
    server.stop().await;
}

/// The user id behind a token.
async fn user_id(server: &TestServer, token: &str) -> i64 {
    let (_, user) = server.get(token, "/user").await;
    id_of(&user, "userId").parse().unwrap()
}

#[tokio::test]
async fn a_clone_cancelled_after_its_last_progress_line_is_not_committed() {
    use stigward_storage::clone::{ClonePlan, CloneProgress, PinRevisions, StigMappings};
    use stigward_storage::{Cancellation, StoreError};
    let server = TestServer::start().await;
    let source = seed_source(&server, 2).await;
    insert_reviews(&server, &source.collection_id, 5).await;
    let before = table_counts(&server).await;
    let plan = ClonePlan {
        source_id: source.collection_id.parse().unwrap(),
        name: "Late".into(),
        description: None,
        grants: true,
        stig_mappings: StigMappings::WithReviews,
        pin_revisions: PinRevisions::MatchSource,
        user_id: user_id(&server, &source.admin).await,
        now: 1_700_000_000,
    };

    // the client is found gone only once the last line has been handed over, as when hyper
    // drops the body after the work has written everything but the result
    let cancel = Cancellation::default();
    let mut seen = Vec::new();
    let mut report = |progress: &CloneProgress| {
        seen.push(format!("{}:{}:{}", progress.stage, progress.step_name, progress.status));
        if (progress.stage, progress.step_name, progress.status)
            == ("reviews", "commit", "finished")
        {
            cancel.cancel();
        }
    };
    let outcome = server.state.store.clone_collection(&plan, &mut report, &cancel).await;
    assert!(matches!(outcome, Err(StoreError::Cancelled)), "{outcome:?}");
    assert_eq!(seen.last().map(String::as_str), Some("reviews:commit:finished"));
    assert_eq!(seen.len(), 25);
    wait_for_writers(&server).await;
    assert_eq!(table_counts(&server).await, before);
    server.stop().await;
}

// ---------------------------------------------------------------------------------------------
// Export-to

/// Writes a review of each of the benchmark's first `rules` rules for every asset of the
/// collection, with result `result_id` and the given status.
async fn insert_rule_reviews(
    server: &TestServer,
    collection_id: &str,
    rules: i64,
    result_id: i64,
    status_id: i64,
) {
    let sql = "INSERT INTO review (asset_id, rule_id, version, check_digest, result_id, detail,
            comment, metadata, ts, status_id, status_text, status_ts, touch_ts)
        SELECT a.asset_id, m.rule_id, m.version, m.check_digest, $3, 'found it', 'noted', '{}',
            1700000000, $4, 'as it was', 1700000000, 1700000000
        FROM asset a CROSS JOIN (SELECT rule_id, version, check_digest FROM rev_group_rule_map
            ORDER BY rgr_id LIMIT $2) m
        WHERE a.collection_id = $1";
    sqlx::query(sql)
        .bind(collection_id.parse::<i64>().unwrap())
        .bind(rules)
        .bind(result_id)
        .bind(status_id)
        .execute(server.state.store.pool())
        .await
        .unwrap();
}

async fn create_destination(server: &TestServer, source: &Source, with_asset: bool) -> String {
    let (_, me) = server.get(&source.admin, "/user").await;
    let body = serde_json::json!({"name": "Destination", "grants": [{"userId": me["userId"], "roleId": 4}]});
    let (status, created) = server.send("POST", &source.admin, "/collections", body).await;
    assert_eq!(status, 201, "{created}");
    let id = id_of(&created, "collectionId");
    if with_asset {
        let asset = serde_json::json!({"name": "host-000", "collectionId": id, "description": "kept",
            "ip": null, "noncomputing": false, "metadata": {}, "stigs": []});
        let (status, body) = server.send("POST", &source.admin, "/assets", asset).await;
        assert_eq!(status, 201, "{body}");
    }
    id
}

#[tokio::test]
async fn export_to_creates_assets_copies_reviews_and_resets_changed_statuses() {
    let server = TestServer::start().await;
    let source = seed_source(&server, 2).await;
    insert_rule_reviews(&server, &source.collection_id, 5, 4, 0).await;
    let destination = create_destination(&server, &source, true).await;
    // one accepted review already in the destination, with another result
    insert_rule_reviews(&server, &destination, 1, 3, 3).await;

    let (_, assets) = server
        .get(&source.admin, &format!("/collections/{}?projection=assets", source.collection_id))
        .await;
    let selection: Vec<Value> = assets["assets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| serde_json::json!({"assetId": a["assetId"]}))
        .collect();
    let path = format!("/collections/{}/export-to/{destination}", source.collection_id);
    let lines =
        post_stream(&server, &source.admin, &path, Value::Array(selection)).await.rest().await;

    let stages: Vec<String> = lines
        .iter()
        .map(|l| {
            format!("{}:{}", l["stage"].as_str().unwrap(), l["stepName"].as_str().unwrap_or(""))
        })
        .collect();
    let mut want: Vec<String> = [
        "dropArg",
        "createArg",
        "dropCollectionSetting",
        "createCollectionSetting",
        "dropSrcReviewId",
        "createSrcReviewId",
    ]
    .iter()
    .map(|s| format!("prepare:{s}"))
    .collect();
    want.extend(
        [
            "insertAsset",
            "dropAssetIdMap",
            "createAssetIdMap",
            "insertStigAssetMap",
            "deleteDefaultRev",
            "insertDefaultRev",
        ]
        .iter()
        .map(|s| format!("assets:{s}")),
    );
    want.extend(
        ["reviews:", "reviews:", "metrics:", "metrics:", "commit:", "result:"]
            .iter()
            .map(|s| s.to_string()),
    );
    assert_eq!(stages, want);
    assert_eq!(
        (lines[13]["reviewsTotal"].as_i64(), lines[13]["reviewsExported"].as_i64()),
        (Some(10), Some(10))
    );
    assert_eq!(lines[15]["metricsTotal"], 2);
    assert_eq!(
        lines.last().unwrap()["counts"],
        serde_json::json!({"assetsCreated": 1, "stigsMapped": 2, "reviewsInserted": 9, "reviewsUpdated": 1})
    );

    use sqlx::Row;
    let rows = sqlx::query(
        "SELECT a.name, r.result_id, r.detail, r.status_id, r.status_text FROM review r
         JOIN asset a ON a.asset_id = r.asset_id WHERE a.collection_id = $1 ORDER BY a.name, r.rule_id",
    )
    .bind(destination.parse::<i64>().unwrap())
    .fetch_all(server.state.store.pool())
    .await
    .unwrap();
    assert_eq!(rows.len(), 10);
    let statuses: Vec<(i64, i64, Option<String>)> = rows
        .iter()
        .map(|r| (r.get::<i64, _>(1), r.get::<i64, _>(3), r.get::<Option<String>, _>(4)))
        .collect();
    let reset = "Status reset due to a Review change or Collection setting";
    assert_eq!(
        statuses.iter().filter(|s| s == &&(4, 0, Some(reset.to_string()))).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| s == &&(4, 0, Some(String::new()))).count(),
        9,
        "{statuses:?}"
    );
    assert_eq!(count(&server, "SELECT COUNT(*) FROM review_history").await, 1);
    // the existing destination asset kept its own properties
    let kept = format!(
        "SELECT COUNT(*) FROM asset WHERE collection_id = {destination} AND description = 'kept'"
    );
    assert_eq!(count(&server, &kept).await, 1);
    server.stop().await;
}

#[tokio::test]
async fn export_to_needs_manage_on_the_destination() {
    let server = TestServer::start().await;
    let source = seed_source(&server, 1).await;
    let destination = create_destination(&server, &source, false).await;
    let (_, assets) = server
        .get(&source.admin, &format!("/collections/{}?projection=assets", source.collection_id))
        .await;
    let body = serde_json::json!([{"assetId": assets["assets"][0]["assetId"]}]);
    let path = format!("/collections/{}/export-to/{destination}", source.collection_id);

    // bob holds Full on the source and nothing on the destination
    let (status, reply) = server.send("POST", &source.bob, &path, body.clone()).await;
    assert_eq!(status, 403, "{reply}");
    let grant = format!(
        "INSERT INTO collection_grant (collection_id, user_id, role_id) VALUES ({destination}, {}, 2)",
        source.bob_id
    );
    sqlx::query(&grant).execute(server.state.store.pool()).await.unwrap();
    let (status, _) = server.send("POST", &source.bob, &path, body.clone()).await;
    assert_eq!(status, 403);

    for bad in [
        serde_json::json!([]),
        serde_json::json!([{"assetId": "x"}]),
        serde_json::json!([{"assetId": "1", "stigs": [{"benchmarkId": "A"}]}]),
        serde_json::json!({"assetId": "1"}),
    ] {
        let (status, reply) = server.send("POST", &source.admin, &path, bad.clone()).await;
        assert_eq!(status, 400, "{bad} -> {reply}");
    }
    let unmapped =
        serde_json::json!([{"assetId": assets["assets"][0]["assetId"], "stigs": ["NOT_MAPPED"]}]);
    let (status, _) = server.send("POST", &source.admin, &path, unmapped).await;
    assert_eq!(status, 422);
    server.stop().await;
}

/// Every asset of the source as an export selection.
async fn all_assets(server: &TestServer, source: &Source) -> Value {
    let path = format!("/collections/{}?projection=assets", source.collection_id);
    let (_, collection) = server.get(&source.admin, &path).await;
    let items = collection["assets"].as_array().unwrap().iter();
    Value::Array(items.map(|a| serde_json::json!({"assetId": a["assetId"]})).collect())
}

#[tokio::test]
async fn an_export_whose_client_hangs_up_mid_stream_leaves_the_destination_as_it_was() {
    let server = TestServer::start().await;
    let source = seed_source(&server, 30).await;
    insert_rule_reviews(&server, &source.collection_id, 43, 4, 0).await;
    let destination = create_destination(&server, &source, false).await;
    let before = table_counts(&server).await;

    let path = format!("/collections/{}/export-to/{destination}", source.collection_id);
    let body = all_assets(&server, &source).await;
    let first = post_then_hang_up(&server, &source.admin, &path, body).await;
    assert_eq!((&first["stage"], &first["stepName"]), (&"prepare".into(), &"dropArg".into()));
    wait_for_writers(&server).await;

    assert_eq!(table_counts(&server).await, before);
    let assets = format!("SELECT COUNT(*) FROM asset WHERE collection_id = {destination}");
    assert_eq!(count(&server, &assets).await, 0);
    server.stop().await;
}

#[tokio::test]
async fn a_small_export_whose_client_hangs_up_leaves_the_destination_as_it_was() {
    let server = TestServer::start().await;
    let source = seed_source(&server, 2).await;
    insert_rule_reviews(&server, &source.collection_id, 5, 4, 0).await;
    let destination = create_destination(&server, &source, false).await;
    let before = table_counts(&server).await;

    // the export waits at its first write (a destination asset) until the hang-up is seen
    let blocker = WriteBlocker::hold(&server).await;
    let path = format!("/collections/{}/export-to/{destination}", source.collection_id);
    let body = all_assets(&server, &source).await;
    let first = post_then_hang_up_seen(&server, &source.admin, &path, body).await;
    assert_eq!((&first["stage"], &first["stepName"]), (&"prepare".into(), &"dropArg".into()));
    blocker.release().await;
    wait_for_writers(&server).await;

    assert_eq!(table_counts(&server).await, before);
    let assets = format!("SELECT COUNT(*) FROM asset WHERE collection_id = {destination}");
    assert_eq!(count(&server, &assets).await, 0);
    server.stop().await;
}

#[tokio::test]
async fn an_export_cancelled_after_its_last_progress_line_is_not_committed() {
    use stigward_storage::export::{ExportPlan, ExportProgress, ExportSelection};
    use stigward_storage::{Cancellation, StoreError};
    let server = TestServer::start().await;
    let source = seed_source(&server, 2).await;
    insert_rule_reviews(&server, &source.collection_id, 5, 4, 0).await;
    let destination = create_destination(&server, &source, false).await;
    let before = table_counts(&server).await;
    let source_id: i64 = source.collection_id.parse().unwrap();
    let selections: Vec<ExportSelection> = all_assets(&server, &source)
        .await
        .as_array()
        .unwrap()
        .iter()
        .map(|a| ExportSelection { asset_id: id_of(a, "assetId").parse().unwrap(), stigs: None })
        .collect();
    let store = &server.state.store;
    let plan = ExportPlan {
        source_id,
        destination_id: destination.parse().unwrap(),
        targets: store.resolve_export(source_id, &selections).await.unwrap(),
        user_id: user_id(&server, &source.admin).await,
        now: 1_700_000_000,
    };

    // cancelled as the last line (the commit's) is handed over
    let cancel = Cancellation::default();
    let mut seen = Vec::new();
    let mut report = |progress: &ExportProgress| {
        seen.push(progress.stage);
        if progress.stage == "commit" {
            cancel.cancel();
        }
    };
    let outcome = store.export_reviews(&plan, &mut report, &cancel).await;
    assert!(matches!(outcome, Err(StoreError::Cancelled)), "{outcome:?}");
    assert_eq!(seen.iter().filter(|s| **s == "reviews").count(), 2, "{seen:?}");
    assert_eq!(seen.last(), Some(&"commit"));
    wait_for_writers(&server).await;
    assert_eq!(table_counts(&server).await, before);
    server.stop().await;
}

#[tokio::test]
async fn export_to_streams_its_progress_before_it_ends() {
    let server = TestServer::start().await;
    let source = seed_source(&server, 30).await;
    insert_rule_reviews(&server, &source.collection_id, 43, 4, 0).await;
    let destination = create_destination(&server, &source, false).await;
    let body = all_assets(&server, &source).await;
    let assets = format!("SELECT COUNT(*) FROM asset WHERE collection_id = {destination}");

    let path = format!("/collections/{}/export-to/{destination}", source.collection_id);
    let mut lines = post_stream(&server, &source.admin, &path, body).await;
    let first = lines.next().await.unwrap();
    assert_eq!((&first["stage"], &first["stepName"]), (&"prepare".into(), &"dropArg".into()));
    // nothing is committed yet: the line came while the export was still at work
    assert_eq!(count(&server, &assets).await, 0);

    let started = Instant::now();
    let rest = lines.rest().await;
    println!("the export ended {:?} after its first line", started.elapsed());
    let exported: Vec<i64> = rest
        .iter()
        .filter(|l| l["stage"] == "reviews")
        .map(|l| l["reviewsExported"].as_i64().unwrap())
        .collect();
    assert_eq!(exported, [0, 30 * 43]);
    let last = rest.last().unwrap();
    assert_eq!(last["stage"], "result", "{last}");
    assert_eq!(last["counts"]["reviewsInserted"], 30 * 43);
    assert_eq!(count(&server, &assets).await, 30);
    server.stop().await;
}

#[tokio::test]
async fn a_restricted_caller_exports_only_the_reviews_its_acl_reads() {
    let server = TestServer::start().await;
    let source = seed_source(&server, 3).await;
    insert_rule_reviews(&server, &source.collection_id, 4, 3, 0).await;
    let destination = create_destination(&server, &source, false).await;
    let source_id: i64 = source.collection_id.parse().unwrap();
    let (carol, grant_id) = server.grant_in(source_id, "carol", 1).await;
    server.grant_in(destination.parse().unwrap(), "carol", 3).await;
    let readable = "SELECT asset_id FROM asset WHERE name = 'host-001' AND collection_id = $1";
    let readable: i64 = sqlx::query_scalar(readable)
        .bind(source_id)
        .fetch_one(server.state.store.pool())
        .await
        .unwrap();
    server.acl_on(grant_id, readable, &source.benchmark_id, "r").await;

    // carol asks for every asset; her ACL reads host-001's STIG only
    let path = format!("/collections/{}/export-to/{destination}", source.collection_id);
    let body = all_assets(&server, &source).await;
    let lines = post_stream(&server, &carol, &path, body).await.rest().await;
    assert_eq!(
        lines.last().unwrap()["counts"],
        serde_json::json!({"assetsCreated": 1, "stigsMapped": 1, "reviewsInserted": 4, "reviewsUpdated": 0})
    );
    let exported = review_rows(&server, &destination).await;
    let expected: Vec<_> = review_rows(&server, &source.collection_id)
        .await
        .into_iter()
        .filter(|r| r.0 == "host-001")
        .map(|r| (r.0, r.1, r.2, r.3))
        .collect();
    assert_eq!(exported.into_iter().map(|r| (r.0, r.1, r.2, r.3)).collect::<Vec<_>>(), expected);
    assert_eq!(expected.len(), 4);

    // an asset with no readable pair exports nothing; without a grant the source is refused
    let hidden = "SELECT asset_id FROM asset WHERE name = 'host-000' AND collection_id = $1";
    let hidden: i64 = sqlx::query_scalar(hidden)
        .bind(source_id)
        .fetch_one(server.state.store.pool())
        .await
        .unwrap();
    let none = serde_json::json!([{"assetId": hidden.to_string()}]);
    let lines = post_stream(&server, &carol, &path, none.clone()).await.rest().await;
    assert_eq!(
        lines.last().unwrap()["counts"],
        serde_json::json!({"assetsCreated": 0, "stigsMapped": 0, "reviewsInserted": 0, "reviewsUpdated": 0})
    );
    assert_eq!(review_rows(&server, &destination).await.len(), 4);
    let stranger = server.token("stranger", &[]);
    let (status, _) = server.send("POST", &stranger, &path, none).await;
    assert_eq!(status, 403);
    server.stop().await;
}

// ---------------------------------------------------------------------------------------------
// TLS and proxies

/// A test CA and a server certificate for localhost and 127.0.0.1, made with openssl.
struct Certificates {
    dir: tempfile::TempDir,
}

impl Certificates {
    fn make() -> Certificates {
        let dir = tempfile::tempdir().unwrap();
        let run = |args: &[&str]| {
            let out = std::process::Command::new("openssl")
                .args(args)
                .current_dir(dir.path())
                .output()
                .expect("openssl on PATH");
            assert!(
                out.status.success(),
                "openssl {args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        };
        let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
        run(&[
            &["req", "-x509"][..],
            &ec,
            &[
                "-keyout",
                "ca.key",
                "-out",
                "ca.pem",
                "-days",
                "2",
                "-subj",
                "/CN=Stigward Test CA",
                "-addext",
                "basicConstraints=critical,CA:TRUE",
                "-addext",
                "keyUsage=critical,keyCertSign,cRLSign",
            ],
        ]
        .concat());
        run(&[
            &["req"][..],
            &ec,
            &["-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost"],
        ]
        .concat());
        std::fs::write(
            dir.path().join("ext.cnf"),
            "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n",
        )
        .unwrap();
        run(&[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "server.pem",
            "-days",
            "2",
            "-extfile",
            "ext.cnf",
        ]);
        Certificates { dir }
    }

    fn path(&self, name: &str) -> String {
        self.dir.path().join(name).display().to_string()
    }

    fn client(&self) -> reqwest::Client {
        let ca = std::fs::read(self.path("ca.pem")).unwrap();
        reqwest::Client::builder()
            .add_root_certificate(reqwest::Certificate::from_pem(&ca).unwrap())
            .build()
            .unwrap()
    }
}

#[tokio::test]
async fn native_tls_serves_the_api_and_sse_and_shuts_down_cleanly() {
    let certs = Certificates::make();
    let (cert, key) = (certs.path("server.pem"), certs.path("server.key"));
    let mut server =
        TestServer::start_with(&["--tls-cert-file", &cert, "--tls-key-file", &key]).await;
    assert!(server.base.starts_with("https://localhost:"));
    let client = certs.client();

    let state: Value =
        client.get(server.url("/op/state")).send().await.unwrap().json().await.unwrap();
    assert_eq!(state["currentState"], "available");
    let definition: Value =
        client.get(server.url("/op/definition")).send().await.unwrap().json().await.unwrap();
    assert!(definition["servers"][0]["url"].as_str().unwrap().starts_with("https://"));

    let response = client.get(server.url("/op/state/sse")).send().await.unwrap();
    let mut events = SseReader { response, buffer: String::new() };
    assert_eq!(events.within(Duration::from_secs(1)).await.0, "state-report");

    // a client that does not trust the test CA is refused
    assert!(reqwest::get(server.url("/op/state")).await.is_err());

    tokio::time::timeout(Duration::from_secs(5), server.shut_down())
        .await
        .expect("shutdown is not held up by the open stream");
    let (name, data) = events.within(Duration::from_secs(2)).await;
    assert_eq!((name.as_str(), &data["currentState"]), ("state-changed", &"stop".into()));
    assert!(events.next().await.is_none());
    server.stop().await;
}

impl Certificates {
    /// The server key encrypted as PKCS#8 (AES-256-CBC, PBKDF2) under `passphrase`.
    fn encrypted_key(&self, passphrase: &str) -> String {
        let out = std::process::Command::new("openssl")
            .args(["pkcs8", "-topk8", "-v2", "aes-256-cbc", "-in", "server.key"])
            .args(["-out", "server-encrypted.key", "-passout", &format!("pass:{passphrase}")])
            .current_dir(self.dir.path())
            .output()
            .expect("openssl on PATH");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let path = self.path("server-encrypted.key");
        let pem = std::fs::read_to_string(&path).unwrap();
        assert!(pem.starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----"), "{pem}");
        path
    }
}

#[tokio::test]
async fn an_encrypted_tls_key_is_opened_with_its_passphrase() {
    let certs = Certificates::make();
    let cert = certs.path("server.pem");
    let key = certs.encrypted_key("correct horse");
    let server = TestServer::start_with(&[
        "--tls-cert-file",
        &cert,
        "--tls-key-file",
        &key,
        "--tls-key-passphrase",
        "correct horse",
    ])
    .await;
    let state: Value =
        certs.client().get(server.url("/op/state")).send().await.unwrap().json().await.unwrap();
    assert_eq!(state["currentState"], "available");
    server.stop().await;

    // a wrong or missing passphrase, or one given for a clear key, is refused with the reason
    let (cert, clear) = (std::path::Path::new(&cert), certs.path("server.key"));
    let key = std::path::Path::new(&key);
    for (key, passphrase, reason) in [
        (key, Some("wrong"), "could not be decrypted"),
        (key, None, "set STIGMAN_API_TLS_KEY_PASSPHRASE"),
        (std::path::Path::new(&clear), Some("correct horse"), "the key is not encrypted"),
    ] {
        let err = stigward::tls::load(cert, key, passphrase).await.err().unwrap().to_string();
        assert!(err.contains(reason), "{err}");
        assert!(err.contains(&key.display().to_string()), "{err}");
    }
}

#[tokio::test]
async fn a_client_slow_to_send_its_headers_is_disconnected() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let server = TestServer::start_with(&["--header-read-timeout-ms", "300"]).await;
    let address = format!("127.0.0.1:{}", server.root.rsplit(':').next().unwrap());

    // a slowloris client: a header line every 100 ms, never the blank line that ends them
    let mut slow = tokio::net::TcpStream::connect(&address).await.unwrap();
    let started = Instant::now();
    slow.write_all(b"GET /api/op/state HTTP/1.1\r\nHost: localhost\r\n").await.unwrap();
    let dribble = async {
        for i in 0.. {
            tokio::time::sleep(Duration::from_millis(100)).await;
            if slow.write_all(format!("X-Slow-{i}: 1\r\n").as_bytes()).await.is_err() {
                break;
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(5), dribble)
        .await
        .expect("the server closes the connection of a client that never ends its headers");
    assert!(started.elapsed() >= Duration::from_millis(250), "{:?}", started.elapsed());

    // a connection that sends nothing at all is closed too
    let mut idle = tokio::net::TcpStream::connect(&address).await.unwrap();
    let mut buffer = [0u8; 64];
    let read = tokio::time::timeout(Duration::from_secs(5), idle.read(&mut buffer)).await;
    assert!(matches!(read, Ok(Ok(0)) | Ok(Err(_))), "{read:?}");

    // a client that sends its request promptly is served
    let (status, state) = server.get("", "/op/state").await;
    assert_eq!((status, &state["currentState"]), (200, &"available".into()));
    server.stop().await;
}

/// Sends the head of a POST announcing 100 body bytes and 4 of them, then waits for the
/// server to answer and close the connection.
async fn post_stalled_body(server: &TestServer, token: &str, path: &str, kind: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let address = format!("127.0.0.1:{}", server.root.rsplit(':').next().unwrap());
    let mut stalled = tokio::net::TcpStream::connect(&address).await.unwrap();
    let request = format!(
        "POST /api{path} HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: {kind}\r\nContent-Length: 100\r\n\r\n{{\"na"
    );
    stalled.write_all(request.as_bytes()).await.unwrap();
    let started = Instant::now();
    let mut answer = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(5), stalled.read_to_end(&mut answer)).await;
    assert!(read.is_ok(), "{path}: the server answers and closes the connection");
    assert!(started.elapsed() >= Duration::from_millis(250), "{:?}", started.elapsed());
    String::from_utf8_lossy(&answer).to_string()
}

#[tokio::test]
async fn a_client_that_stops_sending_its_body_is_answered_and_disconnected() {
    let args = ["--body-read-timeout-ms", "300", "--experimental-appdata", "true"];
    let server = TestServer::start_with(&args).await;
    let token = server.token("admin", &["admin", "create_collection"]);
    for (path, kind) in
        [("/collections", "application/json"), ("/op/appdata?elevate=true", "application/jsonl")]
    {
        let answer = post_stalled_body(&server, &token, path, kind).await;
        assert!(answer.starts_with("HTTP/1.1 400"), "{path}: {answer}");
        assert!(answer.contains("\"error\""), "{path}: {answer}");
    }
    // nothing was created or replaced, and a prompt client is served
    let (status, all) = server.get(&token, "/collections?elevate=true").await;
    assert_eq!((status, all), (200, serde_json::json!([])));
    server.stop().await;

    // a body over the upload limit is still 413
    let args = ["--experimental-appdata", "true", "--max-upload", "64"];
    let server = TestServer::start_with(&args).await;
    let token = server.token("admin", &["admin"]);
    let response = server
        .client
        .post(server.url("/op/appdata?elevate=true"))
        .bearer_auth(&token)
        .header("Content-Type", "application/jsonl")
        .body(vec![b' '; 1000])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 413);
    server.stop().await;
}

#[tokio::test]
async fn urls_in_documents_follow_the_forwarding_headers() {
    let server = TestServer::start().await;
    let proxied = |path: &str| {
        server
            .client
            .get(format!("{}{path}", server.root))
            .header("x-forwarded-proto", "https")
            .header("x-forwarded-host", "stig.example.org")
            .header("x-forwarded-prefix", "/stigman")
    };
    let definition: Value =
        proxied("/api/op/definition").send().await.unwrap().json().await.unwrap();
    assert_eq!(definition["servers"][0]["url"], "https://stig.example.org/stigman/api");
    let discovery: Value = proxied("/oidc/.well-known/openid-configuration")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(discovery["jwks_uri"], "https://stig.example.org/stigman/oidc/jwks");

    let direct: Value =
        server.client.get(server.url("/op/definition")).send().await.unwrap().json().await.unwrap();
    assert!(direct["servers"][0]["url"].as_str().unwrap().starts_with("http://127.0.0.1:"));
    server.stop().await;
}

// ---------------------------------------------------------------------------------------------
// Deployment reports

#[tokio::test]
async fn appinfo_counts_collections_assets_reviews_and_tables() {
    let server = TestServer::start().await;
    let source = seed_source(&server, 3).await;
    insert_reviews(&server, &source.collection_id, 7).await;
    let disable = "UPDATE asset SET state = 'disabled' WHERE name = 'host-002'";
    sqlx::query(disable).execute(server.state.store.pool()).await.unwrap();

    let (status, info) = server.get(&source.admin, "/op/appinfo?elevate=true").await;
    assert_eq!(status, 200, "{info}");
    assert_eq!(info["schema"], "stig-manager-appinfo-v1.1");
    let collection = &info["collections"][source.collection_id.as_str()];
    assert_eq!(collection["name"], "Source");
    assert_eq!(collection["state"], "enabled");
    assert_eq!(collection["assets"], 2);
    assert_eq!(collection["assetsDisabled"], 1);
    assert_eq!(collection["reviews"], 14);
    assert_eq!(collection["reviewsDisabled"], 7);
    assert_eq!(collection["uniqueStigs"], 1);
    assert_eq!(collection["stigAssignments"], 2);
    assert_eq!(collection["assetStigRanges"]["range01to05"], 2);
    assert_eq!(
        collection["roleCounts"],
        serde_json::json!({"restricted": 0, "full": 1, "manage": 0, "owner": 1})
    );
    assert_eq!(collection["labelCounts"]["collectionLabels"], 1);
    let tables = info["mysql"]["tables"].as_object().unwrap();
    assert!(tables.contains_key("review") && tables.contains_key("collection"));
    assert!(tables.values().all(|t| t["rowCount"].is_null()));
    // the database's own settings and figures, read from it
    let database = &info["mysql"];
    let (setting, figure) = match common::backend_is_postgres() {
        true => ("shared_buffers", "xact_commit"),
        false => ("page_size", "page_count"),
    };
    assert!(database["variables"][setting].as_str().is_some_and(|v| !v.is_empty()), "{database}");
    let figure: i64 = database["status"][figure].as_str().unwrap().parse().unwrap();
    assert!(figure > 0, "{database}");
    let bob = info["users"]["userInfo"][source.bob_id.as_str()].clone();
    assert_eq!((bob["username"].as_str(), bob["roles"]["full"].as_i64()), (Some("bob"), Some(1)));

    // what each grant reaches: Owner and Full every assignment (bob's ACL rule only narrows
    // his access to read), a Restricted grant what its ACL reads
    let cid: i64 = source.collection_id.parse().unwrap();
    let (_, carol_grant) = server.grant_in(cid, "carol", 1).await;
    let host = "SELECT asset_id FROM asset WHERE name = 'host-001'";
    let host: i64 = sqlx::query_scalar(host).fetch_one(server.state.store.pool()).await.unwrap();
    server.acl_on(carol_grant, host, &source.benchmark_id, "r").await;
    let (_, info) = server.get(&source.admin, "/op/appinfo?elevate=true").await;
    let grants = info["collections"][source.collection_id.as_str()]["grants"].as_object().unwrap();
    let mut reach: Vec<(String, i64, i64, i64, i64)> = grants
        .values()
        .map(|g| {
            let n = |key: &str| g[key].as_i64().unwrap();
            let role = g["role"].as_str().unwrap().to_string();
            (
                role,
                n("uniqueStigs"),
                n("uniqueAssets"),
                n("uniqueStigsDisabled"),
                n("uniqueAssetsDisabled"),
            )
        })
        .collect();
    reach.sort();
    let expected = [("full", 1, 2, 1, 1), ("owner", 1, 2, 1, 1), ("restricted", 1, 1, 0, 0)];
    let expected: Vec<_> =
        expected.iter().map(|(r, a, b, c, d)| (r.to_string(), *a, *b, *c, *d)).collect();
    assert_eq!(reach, expected);

    let (_, counted) =
        server.get(&source.admin, "/op/appinfo?elevate=true&includeRowCounts=true").await;
    assert_eq!(counted["mysql"]["tables"]["review"]["rowCount"], 21);
    let (status, details) = server.get(&source.admin, "/op/details?elevate=true").await;
    assert_eq!((status, &details["schema"]), (200, &info["schema"]));

    let (status, tables) = server.get(&source.admin, "/op/appdata/tables?elevate=true").await;
    assert_eq!(status, 200);
    let review = tables.as_array().unwrap().iter().find(|t| t["name"] == "review").unwrap();
    assert!(review["rows"].is_number() && review["dataLength"].is_number());

    for path in ["/op/appinfo", "/op/details", "/op/appdata/tables"] {
        let (status, _) = server.get(&source.admin, path).await;
        assert_eq!(status, 403, "{path} without elevate");
        let (status, _) = server.get(&source.bob, &format!("{path}?elevate=true")).await;
        assert_eq!(status, 403, "{path} by a non-admin");
        let (status, _) = server.get(&source.admin, &format!("{path}?elevate=true&bogus=1")).await;
        assert_eq!(status, 400);
    }
    server.stop().await;
}

#[tokio::test]
async fn appinfo_counts_requests_per_operation() {
    let server = TestServer::start().await;
    let admin = server.token("admin", &["admin", "create_collection"]);
    let now = chrono::Utc::now().timestamp();
    let web = server.sign(serde_json::json!({"preferred_username": "webuser", "azp": "web-client",
        "scope": "stig-manager:user:read stig-manager:collection", "exp": now + 600}));
    let (_, me) = server.get(&admin, "/user").await;
    let (_, web_user) = server.get(&web, "/user").await;
    let (admin_id, web_id) = (id_of(&me, "userId"), id_of(&web_user, "userId"));
    server.get(&web, "/user").await;
    let (status, _) =
        server.get(&web, "/collections?projection=owners&projection=statistics").await;
    assert_eq!(status, 200);
    let (status, _) = server.get(&web, "/collections/99999").await;
    assert_eq!(status, 403);
    let (status, _) = server.get(&admin, "/collections?elevate=true&projection=owners").await;
    assert_eq!(status, 200);
    let health = server.client.get(format!("{}/health/live", server.root)).send().await.unwrap();
    assert_eq!(health.status(), 200);
    let body =
        serde_json::json!({"name": "Counted", "grants": [{"userId": admin_id, "roleId": 4}]});
    let length = body.to_string().len() as i64;
    let (status, _) = server.send("POST", &admin, "/collections", body).await;
    assert_eq!(status, 201);

    // eight requests so far, seven of them under /api; this one is counted after it answers
    let (status, info) = server.get(&admin, "/op/appinfo?elevate=true").await;
    assert_eq!(status, 200, "{info}");
    let requests = &info["requests"];
    assert_eq!((&requests["totalRequests"], &requests["totalApiRequests"]), (&8.into(), &7.into()));
    let operations = requests["operationIds"].as_object().unwrap();
    let mut called: Vec<&str> = operations.keys().map(String::as_str).collect();
    called.sort();
    assert_eq!(called, ["createCollection", "getCollection", "getCollections", "getUser"]);

    let user = &operations["getUser"];
    assert_eq!(user["totalRequests"], 3);
    assert_eq!(user["users"], serde_json::json!({admin_id.clone(): 1, web_id.clone(): 2}));
    assert_eq!(user["clients"], serde_json::json!({"web-client": 2}));
    assert_eq!((&user["errors"], &user["elevatedRequests"]), (&serde_json::json!({}), &0.into()));
    let collections = &operations["getCollections"];
    assert_eq!(
        (&collections["totalRequests"], &collections["elevatedRequests"]),
        (&2.into(), &1.into())
    );
    assert_eq!(collections["projections"]["owners"]["totalRequests"], 2);
    assert_eq!(collections["projections"]["statistics"]["totalRequests"], 1);
    assert_eq!(operations["getCollection"]["errors"], serde_json::json!({"403": 1}));
    let created = &operations["createCollection"];
    assert_eq!(
        (&created["totalReqLength"], &created["maxReqLength"]),
        (&length.into(), &length.into())
    );
    assert!(created["totalResLength"].as_i64().unwrap() > 0);
    let mut summed = 0;
    for (id, op) in operations {
        let n = |key: &str| op[key].as_i64().unwrap();
        assert!(
            n("minDuration") <= n("maxDuration") && n("maxDuration") <= n("totalDuration"),
            "{id}"
        );
        assert!(n("maxDurationUpdates") >= 1 && n("maxDurationUpdates") <= n("totalRequests"));
        assert!(n("minResLength") <= n("maxResLength"), "{id}");
        summed += n("totalDuration");
    }
    assert!(requests["totalRequestDuration"].as_i64().unwrap() >= summed);

    let (_, info) = server.get(&admin, "/op/appinfo?elevate=true").await;
    let appinfo = &info["requests"]["operationIds"]["getAppInfo"];
    assert_eq!((&appinfo["totalRequests"], &appinfo["elevatedRequests"]), (&1.into(), &1.into()));
    server.stop().await;
}

// ---------------------------------------------------------------------------------------------
// Web client

/// Reads the generated `Env.js` back as JSON (its `STIGMAN.Env` member).
fn parse_env_js(script: &str) -> Value {
    let body = script
        .strip_prefix("const STIGMAN = {\n  Env: ")
        .and_then(|rest| rest.strip_suffix("\n};\n"))
        .unwrap_or_else(|| panic!("unexpected Env.js shape:\n{script}"));
    serde_json::from_str(body).unwrap()
}

#[tokio::test]
async fn web_client_files_and_generated_env_js_are_served() {
    let client_dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(client_dir.path().join("js")).unwrap();
    std::fs::write(client_dir.path().join("index.html"), "<html>client</html>").unwrap();
    std::fs::write(client_dir.path().join("js/Env.js"), "stale file").unwrap();
    let dir = client_dir.path().display().to_string();
    let docs_dir = tempfile::tempdir().unwrap();
    std::fs::write(docs_dir.path().join("index.html"), "<html>docs</html>").unwrap();
    let docs = docs_dir.path().display().to_string();
    let server = TestServer::start_with(&[
        "--docs-directory",
        &docs,
        "--client-directory",
        &dir,
        "--client-state-events",
        "false",
        "--client-welcome-message",
        "Say \"hi\"",
        "--client-user-timeout",
        "15",
        "--client-admin-timeout",
        "soon",
        "--experimental-appdata",
        "true",
    ])
    .await;

    let page = reqwest::get(format!("{}/index.html", server.root)).await.unwrap();
    assert_eq!(page.status(), 200);
    assert_eq!(page.text().await.unwrap(), "<html>client</html>");
    let page = reqwest::get(format!("{}/docs/index.html", server.root)).await.unwrap();
    assert_eq!(page.text().await.unwrap(), "<html>docs</html>");

    let response = reqwest::get(format!("{}/js/Env.js", server.root)).await.unwrap();
    assert_eq!(response.headers()["content-type"], "application/javascript");
    let script = response.text().await.unwrap();
    assert!(script.contains("\"stateEvents\": false"), "{script}");
    let env = parse_env_js(&script);
    assert_eq!(env["stateEvents"], false);
    assert_eq!(env["displayAppManagers"], true);
    assert_eq!(env["apiBase"], "api");
    assert_eq!(env["consoleMode"], "production");
    assert_eq!(env["welcome"]["message"], "Say \"hi\"");
    assert_eq!(env["commit"]["sha"], "na");
    assert_eq!(env["experimental"], serde_json::json!({"appData": "true", "logStream": "true"}));
    let oauth = &env["oauth"];
    assert_eq!(oauth["clientId"], "stig-manager");
    assert_eq!(oauth["strictPkce"], true);
    assert_eq!(
        (oauth["idleTimeoutUser"].as_i64(), oauth["idleTimeoutAdmin"].as_i64()),
        (Some(15), Some(0))
    );
    assert!(oauth["authority"].as_str().unwrap().ends_with("/oidc"));
    assert_eq!(oauth["claims"]["privileges"], "\"realm_access\".\"roles\"");
    assert_eq!(oauth["claims"]["privilegesChain"], "['realm_access']?.['roles']");
    assert_eq!(oauth["claims"]["privilegesRaw"], "realm_access.roles");
    assert_eq!(oauth["claims"]["username"], "preferred_username");

    // the API's own 404 is untouched by the static files
    let (status, body) = server.get("", "/no/such/endpoint").await;
    assert_eq!((status, body["error"].as_str()), (404, Some("Resource not found.")));
    server.stop().await;

    let disabled = TestServer::start_with(&[
        "--client-directory",
        &dir,
        "--client-disabled",
        "true",
        "--docs-directory",
        &docs,
        "--docs-disabled",
        "true",
    ])
    .await;
    for path in ["/index.html", "/js/Env.js", "/docs/index.html"] {
        let response = reqwest::get(format!("{}{path}", disabled.root)).await.unwrap();
        assert_eq!(response.status(), 404, "{path}");
    }
    disabled.stop().await;
}

// ---------------------------------------------------------------------------------------------
// Jobs and tasks

/// Polls a run until it leaves `running` (the work happens in a background task).
async fn finished_run(server: &TestServer, token: &str, run_id: &str) -> Value {
    let path = format!("/jobs/runs/{run_id}?elevate=true");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (status, run) = server.get(token, &path).await;
        assert_eq!(status, 200, "{run}");
        if run["state"] != "running" {
            return run;
        }
        assert!(Instant::now() < deadline, "run {run_id} still running");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn jobs_need_elevation_and_system_jobs_are_protected() {
    let server = TestServer::start().await;
    let admin = server.token("admin", &["admin"]);
    let user = server.token("user", &[]);

    let (status, body) = server.get(&admin, "/jobs").await;
    assert_eq!(
        (status, body["error"].as_str()),
        (403, Some("Request requires parameter elevate=true."))
    );
    let (status, body) = server.get(&user, "/jobs?elevate=true").await;
    assert_eq!(
        (status, body["error"].as_str()),
        (403, Some("Invalid use of parameter elevate=true."))
    );

    let (status, jobs) = server.get(&admin, "/jobs?elevate=true").await;
    assert_eq!(status, 200);
    let names: Vec<&str> =
        jobs.as_array().unwrap().iter().map(|j| j["name"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        [
            "Cleanup Database",
            "Delete Unmapped Reviews",
            "Delete Unmapped Asset Reviews",
            "Update Aged Reviews"
        ]
    );
    let cleanup = &jobs[0];
    assert_eq!(cleanup["jobId"], "1");
    assert_eq!(cleanup["createdBy"], serde_json::json!({"userId": null, "username": null}));
    assert_eq!(cleanup["tasks"].as_array().unwrap().len(), 2);
    assert_eq!(cleanup["event"]["eventId"], "job-1-stigman");
    assert_eq!(cleanup["event"]["interval"], serde_json::json!({"value": "1", "field": "day"}));
    assert_eq!(cleanup["event"]["enabled"], false);
    assert_eq!((cleanup["runCount"].as_i64(), cleanup["lastRun"].is_null()), (Some(0), true));

    let (status, body) = server
        .send("PATCH", &admin, "/jobs/1?elevate=true", serde_json::json!({"name": "x"}))
        .await;
    assert_eq!(
        (status, body["detail"].as_str()),
        (422, Some("System jobs can only be modified with event properties."))
    );
    let enable = serde_json::json!({"event": {"type": "recurring", "interval": {"value": 2, "field": "hour"}, "enabled": true}});
    let (status, body) = server.send("PATCH", &admin, "/jobs/1?elevate=true", enable).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        (body["event"]["interval"]["value"].as_str(), body["event"]["enabled"].as_bool()),
        (Some("2"), Some(true))
    );
    let (status, body) = server.send("DELETE", &admin, "/jobs/2?elevate=true", Value::Null).await;
    assert_eq!(
        (status, body["detail"].as_str()),
        (422, Some("Job is a system job and cannot be deleted."))
    );

    let (status, tasks) = server.get(&user, "/jobs/tasks").await;
    assert_eq!(status, 200);
    let names: Vec<&str> =
        tasks.as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["ReviewAging"]);
    let (_, tasks) = server.get(&admin, "/jobs/tasks?elevate=true").await;
    assert_eq!(tasks.as_array().unwrap().len(), 5);
    let cleanup_task =
        tasks.as_array().unwrap().iter().find(|t| t["name"] == "WipeDeletedObjects").unwrap();
    assert_eq!(cleanup_task["events"][0]["eventId"], "job-1-stigman");
    server.stop().await;
}

#[tokio::test]
async fn a_user_job_runs_its_tasks_and_records_output() {
    let server = TestServer::start().await;
    let source = seed_source(&server, 2).await;
    let admin = &source.admin;
    insert_reviews(&server, &source.collection_id, 3).await;
    sqlx::query("UPDATE asset SET state = 'disabled' WHERE name = 'host-001'")
        .execute(server.state.store.pool())
        .await
        .unwrap();

    let body =
        serde_json::json!({"name": "Sweep", "description": "test job", "tasks": ["1", "2", "4"]});
    let (status, job) = server.send("POST", admin, "/jobs?elevate=true", body).await;
    assert_eq!(status, 201, "{job}");
    assert_eq!(job["jobId"], "100");
    assert_eq!(job["createdBy"]["username"], "admin");
    assert!(job["created"].as_str().unwrap().ends_with(".000Z"));
    let (status, body) = server
        .send(
            "POST",
            admin,
            "/jobs?elevate=true",
            serde_json::json!({"name": "Sweep", "tasks": ["1"]}),
        )
        .await;
    assert_eq!((status, body["detail"].as_str()), (422, Some("Job name already exists")));
    let (status, body) = server
        .send(
            "POST",
            admin,
            "/jobs?elevate=true",
            serde_json::json!({"name": "Other", "tasks": ["99"]}),
        )
        .await;
    assert_eq!((status, body["detail"].as_str()), (422, Some("Unknown taskId in list")));
    let (status, _) = server
        .send(
            "POST",
            admin,
            "/jobs?elevate=true",
            serde_json::json!({"name": "Other", "tasks": []}),
        )
        .await;
    assert_eq!(status, 400);

    let (status, started) =
        server.send("POST", admin, "/jobs/100/runs?elevate=true", Value::Null).await;
    assert_eq!(status, 200, "{started}");
    let run_id = started["runId"].as_str().unwrap().to_string();
    let run = finished_run(&server, admin, &run_id).await;
    assert_eq!((run["state"].as_str(), run["jobId"].as_str()), (Some("completed"), Some("100")));

    // the disabled asset and its reviews are gone; the synthetic reviews matched no rule
    assert_eq!(count(&server, "SELECT COUNT(*) FROM asset WHERE state = 'disabled'").await, 0);
    assert_eq!(count(&server, "SELECT COUNT(*) FROM review").await, 0);

    let (status, output) =
        server.get(admin, &format!("/jobs/runs/{run_id}/output?elevate=true")).await;
    assert_eq!(status, 200);
    let lines = output.as_array().unwrap();
    assert_eq!(lines.len(), 6, "{output}");
    let seqs: Vec<i64> = lines.iter().map(|l| l["seq"].as_i64().unwrap()).collect();
    assert_eq!(seqs, [6, 5, 4, 3, 2, 1]);
    assert_eq!(lines[5]["task"], "WipeDeletedObjects");
    assert_eq!(lines[4]["message"], "deleted 0 collections, deleted 1 assets");
    let (_, later) =
        server.get(admin, &format!("/jobs/runs/{run_id}/output?elevate=true&after-seq=4")).await;
    assert_eq!(later.as_array().unwrap().len(), 2);

    let (_, job) = server.get(admin, "/jobs/100?elevate=true").await;
    assert_eq!(
        (job["runCount"].as_i64(), job["lastRun"]["runId"].as_str()),
        (Some(1), Some(run_id.as_str()))
    );
    assert!(job["lastRun"]["created"].as_str().unwrap().ends_with('Z'));
    let (_, runs) = server.get(admin, "/jobs/100/runs?elevate=true").await;
    assert_eq!(runs.as_array().unwrap().len(), 1);

    let (status, job) = server
        .send("PATCH", admin, "/jobs/100?elevate=true", serde_json::json!({"tasks": []}))
        .await;
    assert_eq!(status, 400, "{job}");
    let (status, job) = server
        .send("PATCH", admin, "/jobs/100?elevate=true", serde_json::json!({"description": null}))
        .await;
    assert_eq!(
        (status, &job["description"], job["updatedBy"]["username"].as_str()),
        (200, &Value::Null, Some("admin"))
    );

    let (status, _) = server
        .send("DELETE", admin, &format!("/jobs/runs/{run_id}?elevate=true"), Value::Null)
        .await;
    assert_eq!(status, 204);
    let (status, body) = server.get(admin, &format!("/jobs/runs/{run_id}?elevate=true")).await;
    assert_eq!(
        (status, body["detail"].as_str()),
        (404, Some(format!("Run with ID [{run_id}] not found.").as_str()))
    );
    let (status, _) = server.get(admin, "/jobs/runs/not-a-uuid?elevate=true").await;
    assert_eq!(status, 400);
    let (status, _) = server.send("DELETE", admin, "/jobs/100?elevate=true", Value::Null).await;
    assert_eq!(status, 204);
    let (status, body) = server.get(admin, "/jobs/100?elevate=true").await;
    assert_eq!((status, body["detail"].as_str()), (404, Some("Job with ID [100] not found.")));
    server.stop().await;
}

#[tokio::test]
async fn delete_unmapped_asset_reviews_keeps_only_reviews_of_each_assets_stigs() {
    let server = TestServer::start().await;
    let source = seed_source(&server, 2).await;
    let admin = &source.admin;
    let iis = "U_MS_IIS_10-0_Server_STIG_V2R5_Manual-xccdf.xml";
    let iis = import_stig(&server, admin, iis).await;
    // both assets: reviews of 5 Chrome rules and 3 reviews that match no rule at all
    insert_rule_reviews(&server, &source.collection_id, 5, 3, 0).await;
    insert_reviews(&server, &source.collection_id, 3).await;
    // host-000 also reviews a rule of IIS, a STIG installed but not assigned to it
    sqlx::query(
        "INSERT INTO review (asset_id, rule_id, version, check_digest, result_id, detail, comment,
             metadata, ts, status_id, status_ts, touch_ts)
         SELECT a.asset_id, m.rule_id, m.version, m.check_digest, 3, '', '', '{}', 1700000000, 0,
             1700000000, 1700000000
         FROM asset a CROSS JOIN (SELECT m.rule_id, m.version, m.check_digest
             FROM rev_group_rule_map m JOIN revision rv ON rv.rev_id = m.rev_id
             WHERE rv.benchmark_id = $2 ORDER BY m.rgr_id LIMIT 1) m
         WHERE a.collection_id = $1 AND a.name = 'host-000'",
    )
    .bind(source.collection_id.parse::<i64>().unwrap())
    .bind(&iis)
    .execute(server.state.store.pool())
    .await
    .unwrap();
    // host-001 loses its STIG; unassigning leaves its reviews in place
    let (_, collection) = server
        .get(admin, &format!("/collections/{}?projection=assets", source.collection_id))
        .await;
    let host_001 = collection["assets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == "host-001")
        .map(|a| id_of(a, "assetId"))
        .unwrap();
    let unassign = format!("/assets/{host_001}/stigs/{}", source.benchmark_id);
    let (status, body) = server.send("DELETE", admin, &unassign, Value::Null).await;
    assert_eq!(status, 200, "{body}");
    let rows = review_rows(&server, &source.collection_id).await;
    assert_eq!(rows.len(), 2 * 8 + 1);
    let chrome_rules: Vec<String> =
        sqlx::query_scalar("SELECT version FROM rev_group_rule_map ORDER BY rgr_id LIMIT 5")
            .fetch_all(server.state.store.pool())
            .await
            .unwrap();
    let kept: Vec<_> =
        rows.iter().filter(|r| r.0 == "host-000" && chrome_rules.contains(&r.1)).cloned().collect();
    assert_eq!(kept.len(), 5);

    // the system job "Delete Unmapped Asset Reviews" runs the task, then analyzes the tables
    let (status, started) =
        server.send("POST", admin, "/jobs/3/runs?elevate=true", Value::Null).await;
    assert_eq!(status, 200, "{started}");
    let run_id = started["runId"].as_str().unwrap().to_string();
    let run = finished_run(&server, admin, &run_id).await;
    assert_eq!(run["state"], "completed", "{run}");

    // gone: every review of host-001, and host-000's unmatched and IIS reviews
    assert_eq!(review_rows(&server, &source.collection_id).await, kept);
    let (_, output) = server.get(admin, &format!("/jobs/runs/{run_id}/output?elevate=true")).await;
    let reports: Vec<(&str, &str)> = output
        .as_array()
        .unwrap()
        .iter()
        .rev()
        .map(|l| (l["task"].as_str().unwrap(), l["message"].as_str().unwrap()))
        .collect();
    assert_eq!(
        reports,
        [
            ("DeleteUnmappedAssetReviews", "task started"),
            ("DeleteUnmappedAssetReviews", "deleted 12 reviews"),
            ("AnalyzeReviewTables", "task started"),
            ("AnalyzeReviewTables", "analyzed the review tables"),
        ]
    );
    server.stop().await;
}

#[tokio::test]
async fn the_scheduler_runs_a_job_when_its_schedule_comes_due() {
    let server = TestServer::start_with(&["--scheduler-tick-ms", "50"]).await;
    let admin = server.token("admin", &["admin"]);
    let starts = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string();
    let body = serde_json::json!({"name": "Soon", "tasks": ["4"], "event": {"type": "once", "starts": starts}});
    let (status, job) = server.send("POST", &admin, "/jobs?elevate=true", body).await;
    assert_eq!(status, 201, "{job}");
    assert_eq!(job["event"]["type"], "once");

    let deadline = Instant::now() + Duration::from_secs(10);
    let run_id = loop {
        let (_, runs) = server.get(&admin, "/jobs/100/runs?elevate=true").await;
        if let Some(run) = runs.as_array().unwrap().first() {
            break run["runId"].as_str().unwrap().to_string();
        }
        assert!(Instant::now() < deadline, "the schedule never fired");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(finished_run(&server, &admin, &run_id).await["state"], "completed");
    server.stop().await;
}

// ---------------------------------------------------------------------------------------------
// Log socket

mod log_socket {
    use super::*;
    use futures::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::Message;

    type Socket = tokio_tungstenite::WebSocketStream<
        tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
    >;

    async fn open(server: &TestServer) -> Socket {
        let url = format!("{}/socket/log-socket", server.root.replacen("http", "ws", 1));
        let (socket, _) = tokio_tungstenite::connect_async(url).await.unwrap();
        socket
    }

    async fn send(socket: &mut Socket, text: &str) {
        socket.send(Message::Text(text.into())).await.unwrap();
    }

    /// The next JSON message, skipping pings; fails after 5 s.
    async fn next(socket: &mut Socket) -> Value {
        loop {
            let message = tokio::time::timeout(Duration::from_secs(5), socket.next())
                .await
                .expect("a message in time")
                .expect("an open socket")
                .unwrap();
            if let Message::Text(text) = message {
                return serde_json::from_str(text.as_str()).unwrap();
            }
        }
    }

    #[tokio::test]
    async fn admins_authorize_in_band_and_stream_filtered_log_records() {
        use tracing_subscriber::layer::SubscriberExt;
        use tracing_subscriber::util::SubscriberInitExt;
        let _ =
            tracing_subscriber::registry().with(stigward::log_socket::LogStreamLayer).try_init();
        let server = TestServer::start().await;
        let mut socket = open(&server).await;
        let unauthorized =
            serde_json::json!({"type": "authorize", "data": {"state": "unauthorized"}});
        assert_eq!(next(&mut socket).await, unauthorized);

        // commands before authorization are ignored; the next reply answers the bad JSON
        send(&mut socket, r#"{"type":"command","data":{"command":"stream-start"}}"#).await;
        send(&mut socket, "not json").await;
        assert_eq!(
            next(&mut socket).await,
            serde_json::json!({"type": "error", "data": "Invalid JSON message"})
        );
        send(&mut socket, r#"{"type":"bogus","data":1}"#).await;
        assert_eq!(next(&mut socket).await["data"], "Unexpected message type");
        send(&mut socket, r#"{"data":1}"#).await;
        assert!(next(&mut socket).await["data"]
            .as_str()
            .unwrap()
            .starts_with("Message validation failed: "));

        let user = server.token("someone", &[]);
        send(
            &mut socket,
            &serde_json::json!({"type": "authorize", "data": {"token": user}}).to_string(),
        )
        .await;
        let refused = next(&mut socket).await;
        assert_eq!(refused["data"]["state"], "unauthorized");
        assert!(refused["data"]["reason"].as_str().unwrap().starts_with("Authorization failed: "));

        let admin = server.token("admin", &["admin"]);
        send(
            &mut socket,
            &serde_json::json!({"type": "authorize", "data": {"token": admin}}).to_string(),
        )
        .await;
        assert_eq!(
            next(&mut socket).await,
            serde_json::json!({"type": "authorize", "data": {"state": "authorized"}})
        );

        let start =
            serde_json::json!({"command": "stream-start", "filter": {"component": ["rest"]}});
        send(&mut socket, &serde_json::json!({"type": "command", "data": start}).to_string()).await;
        assert_eq!(
            next(&mut socket).await,
            serde_json::json!({"type": "info", "data": {"success": true, "command": start}})
        );
        let (status, _) = server.get("", "/op/state").await;
        assert_eq!(status, 200);
        let record = loop {
            let message = next(&mut socket).await;
            assert_eq!(message["type"], "log");
            if message["data"]["type"] == "request served" {
                break message["data"].clone();
            }
        };
        assert_eq!(
            (record["component"].as_str(), record["level"].as_i64()),
            (Some("rest"), Some(3))
        );
        assert!(record["data"]["status"].is_number(), "{record}");

        send(&mut socket, r#"{"type":"command","data":{"command":"dance"}}"#).await;
        assert_eq!(next(&mut socket).await["data"], "Unknown command");
        assert_eq!(next(&mut socket).await["type"], "info");
        send(&mut socket, r#"{"type":"command","data":{"command":"stream-stop"}}"#).await;
        let stopped = loop {
            let message = next(&mut socket).await;
            if message["type"] == "info" {
                break message;
            }
        };
        assert_eq!(stopped["data"]["command"]["command"], "stream-stop");
        server.stop().await;
    }

    #[tokio::test]
    async fn an_unauthorized_session_is_closed_when_its_timer_runs_out() {
        let server = TestServer::start_with(&["--log-socket-authorize-ms", "1000"]).await;
        // opened first, so its timer runs out no later than the idle session's
        let mut authorized = open(&server).await;
        next(&mut authorized).await;
        let opened = Instant::now();
        let mut idle = open(&server).await;
        assert_eq!(next(&mut idle).await["data"]["state"], "unauthorized");
        let admin = server.token("admin", &["admin"]);
        let authorize = serde_json::json!({"type": "authorize", "data": {"token": admin}});
        send(&mut authorized, &authorize.to_string()).await;
        assert_eq!(next(&mut authorized).await["data"]["state"], "authorized");

        assert_eq!(
            next(&mut idle).await,
            serde_json::json!({"type": "close", "data": "Session ending"})
        );
        let waited = opened.elapsed();
        assert!(waited >= Duration::from_millis(1000), "closed after {waited:?}");
        let frame = tokio::time::timeout(Duration::from_secs(5), idle.next()).await.unwrap();
        assert!(matches!(frame, Some(Ok(Message::Close(_)))), "{frame:?}");

        // the authorized session outlives the timer
        send(&mut authorized, r#"{"type":"command","data":{"command":"stream-stop"}}"#).await;
        let reply = next(&mut authorized).await;
        assert_eq!((&reply["type"], &reply["data"]["success"]), (&"info".into(), &true.into()));
        server.stop().await;
    }

    #[tokio::test]
    async fn authorization_ends_when_the_token_expires() {
        let server = TestServer::start().await;
        let mut socket = open(&server).await;
        next(&mut socket).await;
        let exp = chrono::Utc::now().timestamp() + 1;
        let token = server.sign(serde_json::json!({"preferred_username": "admin", "exp": exp,
            "scope": "stig-manager:op", "realm_access": {"roles": ["admin"]}}));
        send(
            &mut socket,
            &serde_json::json!({"type": "authorize", "data": {"token": token}}).to_string(),
        )
        .await;
        assert_eq!(next(&mut socket).await["data"]["state"], "authorized");
        let expired = next(&mut socket).await;
        assert_eq!(
            expired,
            serde_json::json!({"type": "authorize",
            "data": {"state": "unauthorized", "reason": "jwt expired"}})
        );
        server.stop().await;
    }
}
