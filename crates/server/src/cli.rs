//! The command line: `serve` (the default), `import` and `token`.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{bail, Context};
use clap::{Args, Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::{json, Map, Value};
use stigward_domain::review::Writer;
use stigward_domain::Role;
use stigward_formats::detect::{detect, Kind};
use stigward_storage::Store;

use crate::config::{ClaimConfig, ServeConfig, StoreConfig};
use crate::library::{self, ChecklistTarget};

#[derive(Parser)]
#[command(
    name = "stigward",
    version,
    about = "A STIG Manager compatible API server",
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub serve: ServeConfig,
}

#[derive(Subcommand)]
pub enum Command {
    /// Run the API server (the default).
    Serve(Box<ServeConfig>),
    /// Load benchmarks, DISA library zips, the CCI list and checklists.
    Import(ImportArgs),
    /// Print a token signed by the built-in issuer.
    Token(TokenArgs),
    /// Build a synthetic installation (collections, assets, reviews) for benchmarks.
    Generate(crate::generate::GenerateArgs),
}

#[derive(Args)]
pub struct ImportArgs {
    /// Files to load; each is recognised by its content.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Collection (by name) that checklists are written to.
    #[arg(long)]
    pub collection: Option<String>,
    /// Asset (by name) that checklists are written to; default: the checklist's host name.
    #[arg(long)]
    pub asset: Option<String>,
    /// Create the asset when the collection has none by that name.
    #[arg(long)]
    pub create_asset: bool,
    /// Replace benchmark revisions that are already loaded.
    #[arg(long)]
    pub clobber: bool,
    /// Name of the user recorded as the author of imported reviews.
    #[arg(long, default_value = "stigward-import")]
    pub user: String,
    /// Load into a running server at this URL (e.g. http://localhost:54000) instead of the
    /// configured database. Benchmarks, zips and the CCI list only.
    #[arg(long, env = "STIGWARD_SERVER")]
    pub server: Option<String>,
    /// Bearer token for --server (needs the admin privilege).
    #[arg(long, env = "STIGWARD_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    #[command(flatten)]
    pub store: StoreConfig,
}

#[derive(Args)]
pub struct TokenArgs {
    /// Username the token is for.
    #[arg(long)]
    pub user: String,
    /// Privileges: admin, create_collection (comma separated).
    #[arg(long, value_delimiter = ',')]
    pub privileges: Vec<String>,
    /// Scopes granted (space separated). Default: all of STIG Manager's.
    #[arg(
        long,
        default_value = "stig-manager:stig stig-manager:collection stig-manager:user stig-manager:op openid"
    )]
    pub scope: String,
    /// Lifetime in hours.
    #[arg(long, default_value_t = 24)]
    pub hours: u64,
    /// Address and port of the server, for the token's issuer URL.
    #[arg(long, env = "STIGMAN_API_PORT", default_value_t = 54000)]
    pub port: u16,
    #[command(flatten)]
    pub store: StoreConfig,
    #[command(flatten)]
    pub claims: ClaimConfig,
}

/// Prints a token for the built-in issuer, creating its key on first use.
pub fn token(args: TokenArgs) -> anyhow::Result<()> {
    let issuer_url = format!("http://localhost:{}/oidc", args.port);
    let issuer = crate::startup::local_issuer(&args.store, issuer_url)?;
    let mut claims = Map::new();
    claims.insert(args.claims.jwt_username_claim.clone(), json!(args.user));
    claims.insert(args.claims.jwt_scope_claim.clone(), json!(args.scope));
    claims.insert(args.claims.jwt_name_claim.clone(), json!(args.user));
    set_path(&mut claims, &args.claims.jwt_privileges_claim, json!(args.privileges));
    let token = issuer.issue(claims, Duration::from_secs(args.hours * 3600))?;
    println!("{token}");
    Ok(())
}

/// Sets a value at a dotted path, creating the objects on the way.
fn set_path(claims: &mut Map<String, Value>, path: &str, value: Value) {
    let mut parts: Vec<&str> = path.split('.').collect();
    let Some(last) = parts.pop() else { return };
    let mut node = claims;
    for part in parts {
        let entry = node.entry(part.to_string()).or_insert_with(|| json!({}));
        if !entry.is_object() {
            *entry = json!({});
        }
        let Value::Object(next) = entry else { return };
        node = next;
    }
    node.insert(last.to_string(), value);
}

pub async fn import(args: ImportArgs) -> anyhow::Result<()> {
    if let Some(server) = &args.server {
        let token = args.token.as_deref().context("--server needs --token")?;
        return import_remote(server, token, &args.files).await;
    }
    let store = crate::startup::open_store(&args.store, 1).await?;
    let bar = progress(args.files.len());
    for path in &args.files {
        bar.set_message(path.display().to_string());
        let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
        let line = import_local(&store, &args, path, &bytes).await?;
        bar.suspend(|| println!("{line}"));
        bar.inc(1);
    }
    bar.finish_and_clear();
    store.close().await;
    Ok(())
}

fn progress(len: usize) -> ProgressBar {
    let bar = ProgressBar::new(len as u64);
    if let Ok(style) = ProgressStyle::with_template("{bar:30} {pos}/{len} {wide_msg}") {
        bar.set_style(style);
    }
    bar
}

async fn import_local(
    store: &Store,
    args: &ImportArgs,
    path: &std::path::Path,
    bytes: &[u8],
) -> anyhow::Result<String> {
    let name = path.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default();
    let now = chrono::Utc::now().timestamp();
    match detect(bytes) {
        Kind::Benchmark | Kind::Zip | Kind::ScapDataStream => {
            let parsed = library::parse_upload(&name, bytes).map_err(api_error)?;
            let results = library::import_benchmarks(store, &parsed, args.clobber, now)
                .await
                .map_err(api_error)?;
            let lines: Vec<String> = results
                .iter()
                .map(|r| format!("{name}: {} {} {}", r.benchmark_id, r.revision_str, r.action))
                .collect();
            Ok(lines.join("\n"))
        }
        Kind::CciList => {
            let loaded = library::import_cci_list(store, bytes).await.map_err(api_error)?;
            Ok(format!("{name}: {} CCIs, {} references", loaded.cci_count, loaded.reference_count))
        }
        Kind::Ckl | Kind::Cklb => import_checklist_file(store, args, &name, bytes, now).await,
        Kind::XccdfResults => bail!("{name}: XCCDF result files are not imported yet"),
        Kind::Unknown => bail!("{name}: not a benchmark, zip, CCI list or checklist"),
    }
}

async fn import_checklist_file(
    store: &Store,
    args: &ImportArgs,
    name: &str,
    bytes: &[u8],
    now: i64,
) -> anyhow::Result<String> {
    let checklist = match detect(bytes) {
        Kind::Ckl => stigward_formats::checklist::parse_ckl(bytes),
        _ => stigward_formats::checklist::parse_cklb(bytes),
    }
    .with_context(|| format!("reading checklist {name}"))?;
    let collection = args.collection.as_deref().context("checklists need --collection NAME")?;
    let collection_id = store
        .collections(None, None, Default::default())
        .await?
        .into_iter()
        .find(|c| c.name == collection)
        .map(|c| c.collection_id)
        .with_context(|| format!("no collection named {collection}"))?;
    let user_id = match store.user_by_name(&args.user).await? {
        Some(user) => user.user_id,
        None => store.create_user_from_token(&args.user, now, &json!({})).await?,
    };
    let writer = Writer { user_id, role: Role::Owner, now, batch: false };
    let target = ChecklistTarget {
        collection_id,
        asset_name: args.asset.as_deref(),
        create_asset: args.create_asset,
    };
    let report =
        library::import_checklist(store, &checklist, target, writer).await.map_err(api_error)?;
    Ok(format!("{name}: {}", serde_json::to_string_pretty(&report)?))
}

fn api_error(err: crate::error::ApiError) -> anyhow::Error {
    anyhow::anyhow!("{err}")
}

/// Uploads benchmark files, zips and the CCI list to a running server.
async fn import_remote(server: &str, token: &str, files: &[PathBuf]) -> anyhow::Result<()> {
    let client = reqwest::Client::new();
    let base = server.trim_end_matches('/');
    for path in files {
        let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
        let name = path.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default();
        let url = match detect(&bytes) {
            Kind::CciList => format!("{base}/api/op/ccis?elevate=true"),
            Kind::Benchmark | Kind::Zip => format!("{base}/api/stigs?elevate=true"),
            _ => bail!("{name}: only benchmarks, zips and the CCI list go to a server"),
        };
        let part = reqwest::multipart::Part::bytes(bytes).file_name(name.clone());
        let form = reqwest::multipart::Form::new().part("importFile", part);
        let response = client.post(url).bearer_auth(token).multipart(form).send().await?;
        let status = response.status();
        let body = response.text().await?;
        if !status.is_success() {
            bail!("{name}: {status} {body}");
        }
        println!("{name}: {body}");
    }
    Ok(())
}
