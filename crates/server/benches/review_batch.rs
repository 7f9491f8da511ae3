//! Batch review write throughput: 100,000 reviews written by one `POST /collections/{id}/reviews`
//! (inserts), then rewritten by a second one (updates with history), through a real server.
//! Runs on SQLite, and also on PostgreSQL (127.0.0.1:5432, as the tests use) when
//! `STIGWARD_BENCH_POSTGRES=1`. Prints figures; asserts nothing about time.
//!
//! `cargo bench -p stigward --bench review_batch`

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::Instant;

use common::xccdf::BenchmarkFile;
use common::TestServer;
use serde_json::json;

const FILE: &str = "U_MS_Windows_Server_2019_STIG_V2R2_Manual-xccdf.xml";
const REVIEWS: usize = 100_000;

#[tokio::main]
async fn main() {
    run("sqlite").await;
    if std::env::var("STIGWARD_BENCH_POSTGRES").is_ok_and(|v| v == "1") {
        // the shared test fixture picks its backend from this variable
        std::env::set_var("STIGWARD_TEST_BACKEND", "postgres");
        run("postgres").await;
    }
}

async fn run(backend: &str) {
    let server = TestServer::start().await;
    let admin = server.token("admin", &["admin", "create_collection"]);
    let facts = BenchmarkFile::read(FILE);
    let (status, body) =
        server.upload(&admin, "/stigs?elevate=true", FILE, BenchmarkFile::bytes(FILE)).await;
    assert_eq!(status, 200, "{body}");
    let (_, me) = server.get(&admin, "/user").await;
    let collection = json!({"name": "Bench", "grants": [{"userId": me["userId"], "roleId": 4}]});
    let (_, collection) = server.send("POST", &admin, "/collections", collection).await;
    let cid = collection["collectionId"].as_str().unwrap().to_string();
    let assets = REVIEWS.div_ceil(facts.rules.len());
    for i in 0..assets {
        let asset = json!({"name": format!("asset-{i:05}"), "collectionId": cid,
            "description": null, "ip": null, "noncomputing": false, "metadata": {},
            "stigs": [facts.benchmark_id]});
        let (status, body) = server.send("POST", &admin, "/assets", asset).await;
        assert_eq!(status, 201, "{body}");
    }
    let total = assets * facts.rules.len();
    let by_stig = json!({"benchmarkIds": [facts.benchmark_id]});
    let path = format!("/collections/{cid}/reviews");
    for (phase, review) in [
        ("insert", json!({"result": "pass", "detail": "first pass"})),
        ("update", json!({"result": "fail", "detail": "second look", "comment": "open"})),
    ] {
        let body = json!({"source": {"review": review}, "assets": by_stig, "rules": by_stig});
        let started = Instant::now();
        let (status, reply) = server.send("POST", &admin, &path, body).await;
        let seconds = started.elapsed().as_secs_f64();
        assert_eq!(status, 200, "{reply}");
        let written = reply["inserted"].as_u64().unwrap() + reply["updated"].as_u64().unwrap();
        assert_eq!(written as usize, total, "{reply}");
        println!(
            "{backend:8} batch {phase}: {written} reviews ({assets} assets x {} rules) in \
             {seconds:.2} s = {:.0} reviews/s",
            facts.rules.len(),
            written as f64 / seconds
        );
    }
    server.stop().await;
}
