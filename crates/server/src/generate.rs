//! `stigward generate`: a synthetic installation of a chosen size over the benchmarks already
//! imported, for benchmarks and demonstrations.

use anyhow::{bail, Context};
use clap::Args;
use serde_json::json;
use stigward_storage::generate::{GenerateReport, GenerateSpec};
use stigward_storage::Store;

use crate::config::StoreConfig;

#[derive(Args, Debug, Clone)]
pub struct GenerateArgs {
    /// Collections to create.
    #[arg(long, default_value_t = 1)]
    pub collections: i64,
    /// Assets in each collection.
    #[arg(long, default_value_t = 1000)]
    pub assets: i64,
    /// STIGs assigned to each asset.
    #[arg(long, default_value_t = 4)]
    pub stigs_per_asset: i64,
    /// Labels in each collection.
    #[arg(long, default_value_t = 6)]
    pub labels: i64,
    /// Percentage of each checklist's rules with a review.
    #[arg(long, default_value_t = 90)]
    pub review_percent: i64,
    /// Percentage of reviews with an earlier history entry.
    #[arg(long, default_value_t = 25)]
    pub history_percent: i64,
    /// Benchmark ids to assign; default: the largest imported ones.
    #[arg(long, value_delimiter = ',')]
    pub benchmarks: Vec<String>,
    /// User (created if needed) granted the owner role in every generated collection.
    #[arg(long, default_value = "admin")]
    pub owner: String,
    /// Prefix of the generated collections' names.
    #[arg(long, default_value = "Generated ")]
    pub prefix: String,
    #[command(flatten)]
    pub store: StoreConfig,
}

/// Builds the installation described by `args` in `store`.
pub async fn generate_into(store: &Store, args: &GenerateArgs) -> anyhow::Result<GenerateReport> {
    let now = chrono::Utc::now().timestamp();
    let benchmarks = match args.benchmarks.is_empty() {
        false => args.benchmarks.clone(),
        true => {
            let wanted = usize::try_from(args.stigs_per_asset).unwrap_or(0);
            let sizes = store.benchmarks_by_size().await?;
            sizes.into_iter().take(wanted).map(|(id, _)| id).collect()
        }
    };
    if benchmarks.is_empty() {
        bail!("no benchmarks: import some first (stigward import FILE...)");
    }
    let claims = json!({"preferred_username": args.owner});
    let owner = store.create_user_from_token(&args.owner, now, &claims).await?;
    let spec = GenerateSpec {
        collections: args.collections,
        assets_per_collection: args.assets,
        stigs_per_asset: args.stigs_per_asset,
        labels_per_collection: args.labels,
        review_percent: args.review_percent,
        history_percent: args.history_percent,
        owner_user_id: Some(owner),
        name_prefix: args.prefix.clone(),
    };
    let total = (args.collections * args.assets).max(1) as u64;
    let bar = indicatif::ProgressBar::new(total);
    let report = store
        .generate(&spec, &benchmarks, now, |r| bar.set_position(r.assets as u64))
        .await
        .context("generating")?;
    bar.finish_and_clear();
    Ok(report)
}

pub async fn generate(args: GenerateArgs) -> anyhow::Result<()> {
    let store = crate::startup::open_store(&args.store, 1).await?;
    let started = std::time::Instant::now();
    let report = generate_into(&store, &args).await?;
    println!(
        "generated {} collections, {} assets, {} assignments, {} reviews, {} history entries in {:.1}s",
        report.collections,
        report.assets,
        report.assignments,
        report.reviews,
        report.history,
        started.elapsed().as_secs_f64()
    );
    store.close().await;
    Ok(())
}
