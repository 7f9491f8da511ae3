//! Prints import and review-write throughput:
//! - XCCDF import in MB/s and rules/s on the largest benchmark in ../shared/data/stigs,
//!   parsing alone and parsing plus storing;
//! - review writes in reviews/s for a 300-rule checklist written to one asset.
//!
//! Runs on a temporary SQLite file, and on PostgreSQL too when `STIGWARD_BENCH_POSTGRES_URL`
//! names a server (e.g. `postgres://postgres@127.0.0.1:5432`); a scratch database is created
//! and dropped there. Run with `cargo bench -p stigward --bench throughput`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde_json::json;
use stigward_domain::review::{Incoming, Writer};
use stigward_domain::{CollectionSettings, ReviewResult, Role};
use stigward_formats::xccdf::{parse_benchmark, Benchmark};
use stigward_storage::reviews::ReviewWrite;
use stigward_storage::Store;
use stigward_wire::asset::AssetCreate;
use stigward_wire::collection::CollectionCreate;

const ROUNDS: usize = 5;
const CHECKLIST_RULES: usize = 300;

fn stigs_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/stigs")
}

fn largest_benchmark() -> (String, Vec<u8>) {
    let mut files: Vec<_> = std::fs::read_dir(stigs_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "xml"))
        .collect();
    files.sort_by_key(|p| std::fs::metadata(p).unwrap().len());
    let path = files.pop().unwrap();
    (path.file_name().unwrap().to_string_lossy().into(), std::fs::read(&path).unwrap())
}

fn per_second(count: f64, elapsed: Duration) -> f64 {
    count / elapsed.as_secs_f64()
}

fn bench_parse(name: &str, bytes: &[u8]) {
    let started = Instant::now();
    let mut rules = 0;
    for _ in 0..ROUNDS {
        rules += parse_benchmark(bytes).unwrap().rules().count();
    }
    let elapsed = started.elapsed();
    let mb = (bytes.len() * ROUNDS) as f64 / 1_048_576.0;
    println!(
        "parse  {name}: {:.1} MB/s, {:.0} rules/s",
        per_second(mb, elapsed),
        per_second(rules as f64, elapsed)
    );
}

async fn bench_import(label: &str, store: &Store, bytes: &[u8]) {
    let started = Instant::now();
    let mut rules = 0;
    for _ in 0..ROUNDS {
        let benchmark = parse_benchmark(bytes).unwrap();
        rules += benchmark.rules().count();
        store.import_benchmark(&benchmark, Some("U"), true, 0).await.unwrap();
    }
    let elapsed = started.elapsed();
    let mb = (bytes.len() * ROUNDS) as f64 / 1_048_576.0;
    println!(
        "import [{label}]: {:.1} MB/s, {:.0} rules/s (parse and store, replacing the revision)",
        per_second(mb, elapsed),
        per_second(rules as f64, elapsed)
    );
}

async fn bench_reviews(label: &str, store: &Store, benchmark: &Benchmark) {
    let collection = CollectionCreate {
        name: "bench".into(),
        description: None,
        settings: None,
        metadata: None,
        grants: vec![],
        labels: None,
    };
    let settings_json = stigward_domain::settings::merge_over_defaults(None);
    let collection_id = store.create_collection(&collection, &settings_json, 0).await.unwrap();
    let user_id = store.create_user_from_token("bench", 0, &json!({})).await.unwrap();
    let asset = AssetCreate {
        name: "host".into(),
        collection_id,
        description: None,
        ip: None,
        fqdn: None,
        mac: None,
        noncomputing: false,
        metadata: Default::default(),
        stigs: vec![benchmark.benchmark_id.clone()],
        label_names: None,
    };
    let asset_id = store.create_asset(&asset).await.unwrap();
    let access = store.full_access_map(collection_id).await.unwrap();
    let settings = CollectionSettings::from_stored(&settings_json);
    let rule_ids: Vec<String> =
        benchmark.rules().take(CHECKLIST_RULES).map(|r| r.rule_id.clone()).collect();
    let results = [ReviewResult::Pass, ReviewResult::Fail, ReviewResult::NotApplicable];
    let started = Instant::now();
    for round in 0..ROUNDS {
        let items = rule_ids
            .iter()
            .enumerate()
            .map(|(i, rule_id)| ReviewWrite {
                rule_id: rule_id.clone(),
                incoming: Incoming {
                    result: Some(results[(i + round) % 3]),
                    detail: Some(format!("finding detail {round}")),
                    comment: Some(String::new()),
                    ..Default::default()
                },
            })
            .collect();
        let writer = Writer { user_id, role: Role::Owner, now: round as i64, batch: false };
        let written =
            store.write_asset_reviews(asset_id, items, &settings, writer, &access).await.unwrap();
        assert!(written.rejected.is_empty(), "{:?}", written.rejected);
    }
    let elapsed = started.elapsed();
    println!(
        "reviews [{label}]: {:.0} reviews/s ({CHECKLIST_RULES}-rule checklist, {ROUNDS} writes: \
         one insert round, then updates with history)",
        per_second((CHECKLIST_RULES * ROUNDS) as f64, elapsed)
    );
}

async fn run(label: &str, url: &str, name: &str, bytes: &[u8]) {
    let store = Store::connect(url, 5).await.unwrap();
    bench_import(label, &store, bytes).await;
    let windows =
        std::fs::read(stigs_dir().join("U_MS_Windows_Server_2019_STIG_V2R2_Manual-xccdf.xml"))
            .unwrap();
    let benchmark = parse_benchmark(&windows).unwrap();
    store.import_benchmark(&benchmark, Some("U"), false, 0).await.unwrap();
    println!("  ({label} imports replaced {name} {ROUNDS} times)");
    bench_reviews(label, &store, &benchmark).await;
    store.close().await;
}

#[tokio::main]
async fn main() {
    let (name, bytes) = largest_benchmark();
    println!("largest benchmark: {name} ({:.2} MB)", bytes.len() as f64 / 1_048_576.0);
    bench_parse(&name, &bytes);

    let dir = tempfile::tempdir().unwrap();
    let sqlite = format!("sqlite:{}?mode=rwc", dir.path().join("bench.db").display());
    run("sqlite", &sqlite, &name, &bytes).await;

    if let Ok(server) = std::env::var("STIGWARD_BENCH_POSTGRES_URL") {
        let db = format!("stigward_bench_{}", std::process::id());
        let admin = sqlx::PgPool::connect(&format!("{server}/postgres")).await.unwrap();
        sqlx::query(&format!("CREATE DATABASE {db}")).execute(&admin).await.unwrap();
        run("postgres", &format!("{server}/{db}"), &name, &bytes).await;
        sqlx::query(&format!("DROP DATABASE {db} WITH (FORCE)")).execute(&admin).await.unwrap();
    }
}
