//! Metrics latency and server memory on a synthetic installation.
//!
//! Builds (once per data directory) N assets x K STIGs from the largest benchmarks in
//! `shared/data/stigs`, starts the `stigward` binary on it, calls every metrics operation
//! repeatedly and prints the median and p99 latency of each, then the server's peak RSS.
//!
//! `cargo bench -p stigward --bench metrics`, sized by environment variables:
//! `STIGWARD_BENCH_ASSETS` (10000), `STIGWARD_BENCH_COLLECTIONS` (1), `STIGWARD_BENCH_STIGS` (4),
//! `STIGWARD_BENCH_SAMPLES` (20), `STIGWARD_BENCH_DIR` (a data directory kept between runs;
//! default: a temporary one) and `STIGWARD_BENCH_PG_URL` (also run on this PostgreSQL
//! database, which must be empty or hold an earlier run's data).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Map};
use stigward::config::StoreConfig;
use stigward::generate::{generate_into, GenerateArgs};

fn env_i64(name: &str, default: i64) -> i64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn stig_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/stigs")
}

/// Imports the library and generates the installation unless the database already has it.
async fn prepare(url: &str, data_dir: &Path) -> String {
    let store = stigward_storage::Store::connect(url, 4).await.unwrap();
    let assets = env_i64("STIGWARD_BENCH_ASSETS", 10_000);
    let collections = env_i64("STIGWARD_BENCH_COLLECTIONS", 1);
    let existing: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM asset").fetch_one(store.pool()).await.unwrap();
    if existing == 0 {
        let started = Instant::now();
        for entry in std::fs::read_dir(stig_dir()).unwrap() {
            let path = entry.unwrap().path();
            let bytes = std::fs::read(&path).unwrap();
            let name = path.file_name().unwrap().to_string_lossy().to_string();
            let parsed = stigward::library::parse_upload(&name, &bytes).unwrap();
            stigward::library::import_benchmarks(&store, &parsed, false, 0).await.unwrap();
        }
        let args = GenerateArgs {
            collections,
            assets: assets / collections,
            stigs_per_asset: env_i64("STIGWARD_BENCH_STIGS", 4),
            labels: 6,
            review_percent: 100,
            history_percent: 25,
            benchmarks: Vec::new(),
            owner: "admin".into(),
            prefix: "Bench ".into(),
            store: StoreConfig {
                data_dir: data_dir.to_path_buf(),
                database_url: Some(url.into()),
                db_max_connections: 4,
            },
        };
        let report = generate_into(&store, &args).await.unwrap();
        println!(
            "generated {} assets, {} checklists, {} reviews, {} history entries in {:.0}s",
            report.assets,
            report.assignments,
            report.reviews,
            report.history,
            started.elapsed().as_secs_f64()
        );
    }
    let reviews: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM review").fetch_one(store.pool()).await.unwrap();
    let checklists: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM stig_asset_map")
        .fetch_one(store.pool())
        .await
        .unwrap();
    let collection: i64 = sqlx::query_scalar("SELECT MIN(collection_id) FROM collection")
        .fetch_one(store.pool())
        .await
        .unwrap();
    println!("installation: {checklists} checklists, {reviews} reviews");
    store.close().await;
    collection.to_string()
}

/// The `stigward` binary serving `url` on a free port; killed on drop.
struct Server {
    child: Child,
    base: String,
}

impl Server {
    fn start(url: &str, data_dir: &Path) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_stigward"))
            .args(["serve", "--address", "127.0.0.1", "--port", "0", "--database-url", url])
            .arg("--data-dir")
            .arg(data_dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let mut lines = BufReader::new(stdout).lines();
        let base = loop {
            let line = lines.next().expect("server output").unwrap();
            if let Some(rest) = line.strip_prefix("Stigward is listening on ") {
                break rest.trim().to_string();
            }
        };
        std::thread::spawn(move || lines.for_each(drop));
        Server { child, base }
    }

    /// Peak resident set size (VmHWM) in MiB.
    fn peak_rss_mib(&self) -> f64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap();
        let kib: f64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
        kib / 1024.0
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn token(data_dir: &Path) -> String {
    let store =
        StoreConfig { data_dir: data_dir.to_path_buf(), database_url: None, db_max_connections: 1 };
    let issuer = stigward::startup::local_issuer(&store, "http://localhost/oidc".into()).unwrap();
    let mut claims = Map::new();
    claims.insert("preferred_username".into(), json!("admin"));
    claims.insert(
        "scope".into(),
        json!("stig-manager:collection stig-manager:stig:read stig-manager:user"),
    );
    issuer.issue(claims, Duration::from_secs(24 * 3600)).unwrap()
}

/// Reads a response to its last byte, as a client saving it would, without gathering the
/// chunks into one buffer (which would add a copy of tens of megabytes to each sample).
async fn received(mut response: reqwest::Response) -> usize {
    let mut bytes = 0;
    while let Some(chunk) = response.chunk().await.unwrap() {
        bytes += chunk.len();
    }
    bytes
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

async fn measure(server: &Server, token: &str, collection: &str) {
    let client = reqwest::Client::new();
    let samples = env_i64("STIGWARD_BENCH_SAMPLES", 20).max(1) as usize;
    let mut paths = Vec::new();
    for style in ["detail", "summary"] {
        for agg in ["", "/asset", "/collection", "/label", "/stig"] {
            paths.push(format!("/collections/{collection}/metrics/{style}{agg}"));
        }
        for agg in ["", "/collection", "/stig"] {
            paths.push(format!("/collections/meta/metrics/{style}{agg}"));
        }
    }
    println!(
        "{:<52} {:>10} {:>10} {:>10} {:>10}",
        "operation", "first ms", "median ms", "p99 ms", "bytes"
    );
    for path in paths {
        let mut times = Vec::with_capacity(samples);
        let mut bytes = 0;
        for _ in 0..samples {
            let started = Instant::now();
            let response = client
                .get(format!("{}{path}", server.base))
                .bearer_auth(token)
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 200, "{path}");
            bytes = received(response).await;
            times.push(started.elapsed().as_secs_f64() * 1000.0);
        }
        // the first call also warms the database's page cache
        let first = times[0];
        times.sort_by(f64::total_cmp);
        let (median, p99) = (percentile(&times, 50.0), percentile(&times, 99.0));
        println!("{path:<52} {first:>10.1} {median:>10.1} {p99:>10.1} {bytes:>10}");
    }
    println!("server peak RSS: {:.0} MiB", server.peak_rss_mib());
    after_write(server, token, collection, &client).await;
}

/// Latency of a review write (which recounts its checklists) and of a read right after it.
async fn after_write(server: &Server, token: &str, collection: &str, client: &reqwest::Client) {
    let assets = client
        .get(format!("{}/collections/{collection}/metrics/summary/asset", server.base))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json::<serde_json::Value>()
        .await
        .unwrap();
    let asset = assets[0]["assetId"].as_str().unwrap().to_string();
    let benchmark = assets[0]["benchmarkIds"][0].as_str().unwrap().to_string();
    // a rule from the library, not from the review listing, so that only metrics reads
    // weigh on the server's peak memory
    let rules = client
        .get(format!("{}/stigs/{benchmark}/revisions/latest/rules", server.base))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json::<serde_json::Value>()
        .await
        .unwrap();
    let rule = rules[0]["ruleId"].as_str().unwrap().to_string();
    let (mut writes, mut times) = (Vec::new(), Vec::new());
    for i in 0..3 {
        let body = json!([{"ruleId": rule, "result": "pass", "detail": format!("touch {i}"),
            "comment": "", "status": "saved"}]);
        let url = format!("{}/collections/{collection}/reviews/{asset}", server.base);
        let started = Instant::now();
        let written = client.post(url).bearer_auth(token).json(&body).send().await.unwrap();
        assert_eq!(written.status(), 200);
        writes.push(started.elapsed().as_secs_f64() * 1000.0);
        let started = Instant::now();
        let url = format!("{}/collections/{collection}/metrics/summary/collection", server.base);
        let response = client.get(url).bearer_auth(token).send().await.unwrap();
        assert_eq!(response.status(), 200);
        response.bytes().await.unwrap();
        times.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    times.sort_by(f64::total_cmp);
    writes.sort_by(f64::total_cmp);
    println!("one-review write (median of 3): {:.1} ms", writes[1]);
    println!("summary/collection right after a review write (median of 3): {:.1} ms", times[1]);
    println!("server peak RSS at the end: {:.0} MiB", server.peak_rss_mib());
}

async fn run(label: &str, url: &str, data_dir: &Path) {
    println!("== {label}");
    let collection = prepare(url, data_dir).await;
    let server = Server::start(url, data_dir);
    measure(&server, &token(data_dir), &collection).await;
}

#[tokio::main]
async fn main() {
    let temp = tempfile::tempdir().unwrap();
    let data_dir =
        std::env::var("STIGWARD_BENCH_DIR").map(PathBuf::from).unwrap_or(temp.path().into());
    std::fs::create_dir_all(&data_dir).unwrap();
    let sqlite = format!("sqlite:{}?mode=rwc", data_dir.join("bench.db").display());
    run("SQLite", &sqlite, &data_dir).await;
    if let Ok(url) = std::env::var("STIGWARD_BENCH_PG_URL") {
        run("PostgreSQL", &url, &data_dir).await;
    }
}
