//! Operational behaviour over real sockets: the API state and its 503 gate, Server-Sent
//! Events, health endpoints, streamed collection clones and graceful shutdown. SQLite by
//! default, PostgreSQL with `STIGWARD_TEST_BACKEND=postgres`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant};

use common::TestServer;
use serde_json::Value;
use stigward::ops::state::Dependency;

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
        let reader = SseReader {
            response,
            buffer: String::new(),
        };
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
    assert_eq!(
        body["dependencies"],
        serde_json::json!({"db": true, "oidc": true})
    );
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

    // keep-alives: more state reports, roughly at the configured interval
    let before = Instant::now();
    for _ in 0..3 {
        let (name, data) = events.within(Duration::from_secs(5)).await;
        assert_eq!(name, "state-report");
        assert_eq!(data["currentState"], "available");
    }
    let three = before.elapsed();
    println!("three keep-alives at 200 ms took {three:?}");
    assert!(three >= Duration::from_millis(3 * 200 - 50), "{three:?}");
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
    assert_eq!(
        (status, body["currentState"].clone()),
        (503, "unavailable".into())
    );
    let (status, body) = server.get("", "/op/state").await;
    assert_eq!(
        (status, body["currentState"].clone()),
        (200, "unavailable".into())
    );
    let ready = reqwest::get(format!("{}/health/ready", server.root))
        .await
        .unwrap();
    assert_eq!(ready.status(), 503);
    let live = reqwest::get(format!("{}/health/live", server.root))
        .await
        .unwrap();
    assert_eq!(live.status(), 200);

    server.state.status.set_dependency(Dependency::Oidc, true);
    assert_eq!(
        events.within(Duration::from_secs(1)).await.0,
        "dependency-changed"
    );
    let (name, data) = events.within(Duration::from_secs(1)).await;
    assert_eq!(
        (name.as_str(), &data["currentState"]),
        ("state-changed", &"available".into())
    );
    let (status, _) = server.get(&admin, "/user").await;
    assert_eq!(status, 200);
    let ready = reqwest::get(format!("{}/health/ready", server.root))
        .await
        .unwrap();
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
        assert_eq!(
            reader.within(Duration::from_secs(2)).await.0,
            "dependency-changed"
        );
        assert_eq!(
            reader.within(Duration::from_secs(2)).await.0,
            "state-changed"
        );
    }

    // graceful shutdown tells every stream `stop` and ends it, then the server returns
    tokio::time::timeout(Duration::from_secs(5), server.shut_down())
        .await
        .expect("shutdown is not held up by open streams");
    for reader in clients.iter_mut() {
        let (name, data) = reader.within(Duration::from_secs(2)).await;
        assert_eq!(
            (name.as_str(), &data["currentState"]),
            ("state-changed", &"stop".into())
        );
        assert!(reader.next().await.is_none());
    }
    assert_eq!(
        stalled.within(Duration::from_secs(2)).await.0,
        "dependency-changed"
    );
    server.stop().await;
}
