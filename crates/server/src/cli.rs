//! The command line: `serve` (the default), `import`, `token`, `generate` and `repair-metrics`.

use std::collections::HashSet;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{bail, Context};
use clap::{Args, Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::{json, Map, Value};
use stigward_domain::review::Writer;
use stigward_domain::{CollectionSettings, Role};
use stigward_formats::checklist::Checklist;
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
    /// Recount every checklist's metrics counters from the reviews, print each stored counter
    /// that differed and store the recount. Exits with 1 when something had drifted.
    RepairMetrics(RepairArgs),
}

#[derive(Args)]
pub struct RepairArgs {
    #[command(flatten)]
    pub store: StoreConfig,
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
    /// Load into a running server at this URL (e.g. http://localhost:54000) through its API,
    /// instead of into the configured database.
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
    /// Lifetime in hours (1 to 8760).
    #[arg(long, default_value_t = 24, value_parser = clap::value_parser!(u64).range(1..=8760))]
    pub hours: u64,
    /// Port of the server, for the token's issuer URL.
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
        return import_remote(&args, server, token).await;
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

/// Repairs the metrics counters of the configured database; true when any had drifted.
pub async fn repair_metrics(args: RepairArgs) -> anyhow::Result<bool> {
    let store = crate::startup::open_store(&args.store, 1).await?;
    let report = store.repair_metrics().await?;
    store.close().await;
    for d in &report.drift {
        println!(
            "asset {} {} {}: stored {}, recounted {}",
            d.asset_id, d.benchmark_id, d.column, d.stored, d.recounted
        );
    }
    let checklists: HashSet<(i64, &str)> =
        report.drift.iter().map(|d| (d.asset_id, d.benchmark_id.as_str())).collect();
    match report.drift.len() {
        0 => println!("{} checklists checked, no counter drifted", report.checklists),
        n => println!(
            "{} checklists checked, {n} counters drifted in {}; repaired",
            report.checklists,
            checklists.len()
        ),
    }
    Ok(!report.drift.is_empty())
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
    let checklist = read_checklist(name, bytes)?;
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

/// Loads files into a running server through its API, as STIG Manager's own clients do.
async fn import_remote(args: &ImportArgs, server: &str, token: &str) -> anyhow::Result<()> {
    let api = Remote {
        client: reqwest::Client::new(),
        base: format!("{}/api", server.trim_end_matches('/')),
        token: token.to_string(),
    };
    for path in &args.files {
        let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
        let name = path.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default();
        let line = match detect(&bytes) {
            Kind::CciList => api.upload("/op/ccis?elevate=true", &name, bytes).await?,
            Kind::Benchmark | Kind::Zip => api.upload("/stigs?elevate=true", &name, bytes).await?,
            Kind::Ckl | Kind::Cklb => {
                let checklist = read_checklist(&name, &bytes)?;
                let report = remote_checklist(&api, args, &checklist).await?;
                serde_json::to_string_pretty(&report)?
            }
            _ => bail!("{name}: not a benchmark, zip, CCI list or checklist"),
        };
        println!("{name}: {line}");
    }
    Ok(())
}

struct Remote {
    client: reqwest::Client,
    base: String,
    token: String,
}

impl Remote {
    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> anyhow::Result<(u16, Value)> {
        let mut request =
            self.client.request(method, format!("{}{path}", self.base)).bearer_auth(&self.token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await?;
        let status = response.status().as_u16();
        let text = response.text().await?;
        Ok((status, serde_json::from_str(&text).unwrap_or(Value::String(text))))
    }

    async fn expect(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> anyhow::Result<Value> {
        let (status, value) = self.call(method.clone(), path, body).await?;
        if !(200..300).contains(&status) {
            bail!("{method} {path}: {status} {value}");
        }
        Ok(value)
    }

    async fn upload(&self, path: &str, name: &str, bytes: Vec<u8>) -> anyhow::Result<String> {
        let part = reqwest::multipart::Part::bytes(bytes).file_name(name.to_string());
        let form = reqwest::multipart::Form::new().part("importFile", part);
        let url = format!("{}{path}", self.base);
        let response =
            self.client.post(url).bearer_auth(&self.token).multipart(form).send().await?;
        let status = response.status();
        let body = response.text().await?;
        if !status.is_success() {
            bail!("{name}: {status} {body}");
        }
        Ok(body)
    }
}

fn read_checklist(name: &str, bytes: &[u8]) -> anyhow::Result<Checklist> {
    match detect(bytes) {
        Kind::Ckl => stigward_formats::checklist::parse_ckl(bytes),
        _ => stigward_formats::checklist::parse_cklb(bytes),
    }
    .with_context(|| format!("reading checklist {name}"))
}

async fn remote_checklist(
    api: &Remote,
    args: &ImportArgs,
    checklist: &Checklist,
) -> anyhow::Result<library::ChecklistReport> {
    let wanted = args.collection.as_deref().context("checklists need --collection NAME")?;
    let get = reqwest::Method::GET;
    let query: String = form_urlencoded::Serializer::new(String::new())
        .append_pair("name", wanted)
        .append_pair("name-match", "exact")
        .finish();
    let found = api.expect(get.clone(), &format!("/collections?{query}"), None).await?;
    let collection = found.get(0).with_context(|| {
        format!("no collection named {wanted} in which the token's user holds a grant")
    })?;
    let cid = collection["collectionId"].as_str().context("collection without id")?.to_string();
    let settings = CollectionSettings::from_stored(&collection["settings"]);
    let options = library::import_options(&collection["settings"]);
    let role = remote_role(api, &cid).await?;
    let (asset_id, asset_name, asset_created) = remote_asset(api, args, checklist, &cid).await?;
    let mut stigs = Vec::new();
    for stig in &checklist.stigs {
        let known = remote_rule_ids(api, &stig.benchmark_id).await?;
        let plan = library::plan_stig(stig, known.as_ref(), &options, &settings, role);
        let mut report = plan.report;
        if report.benchmark_loaded {
            let attach = format!("/assets/{asset_id}/stigs/{}", stig.benchmark_id);
            api.expect(reqwest::Method::PUT, &attach, None).await?;
        }
        if !plan.items.is_empty() {
            let body: Vec<Value> = plan.items.iter().map(review_body).collect();
            let path = format!("/collections/{cid}/reviews/{asset_id}");
            let written =
                api.expect(reqwest::Method::POST, &path, Some(Value::Array(body))).await?;
            let count = |k: &str| written["affected"][k].as_u64().unwrap_or(0) as usize;
            report.inserted = count("inserted");
            report.updated = count("updated");
            report.rejected =
                serde_json::from_value(written["rejected"].clone()).unwrap_or_default();
        }
        stigs.push(report);
    }
    let asset_id = asset_id.parse().context("asset id")?;
    Ok(library::ChecklistReport { asset_id, asset_name, asset_created, stigs })
}

async fn remote_role(api: &Remote, collection_id: &str) -> anyhow::Result<Role> {
    let me = api.expect(reqwest::Method::GET, "/user", None).await?;
    let grants = me["collectionGrants"].as_array().cloned().unwrap_or_default();
    let role_id = grants
        .iter()
        .find(|g| g["collection"]["collectionId"] == collection_id)
        .and_then(|g| g["roleId"].as_i64())
        .context("the token's user holds no grant in the collection")?;
    Role::try_from(role_id).map_err(anyhow::Error::msg)
}

async fn remote_asset(
    api: &Remote,
    args: &ImportArgs,
    checklist: &Checklist,
    collection_id: &str,
) -> anyhow::Result<(String, String, bool)> {
    let name = args
        .asset
        .clone()
        .or_else(|| checklist.target.name.clone())
        .context("the checklist names no host; give --asset")?;
    let path = format!("/collections/{collection_id}?projection=assets");
    let collection = api.expect(reqwest::Method::GET, &path, None).await?;
    let assets = collection["assets"].as_array().cloned().unwrap_or_default();
    if let Some(asset) = assets.iter().find(|a| a["name"] == name.as_str()) {
        let id = asset["assetId"].as_str().context("asset without id")?.to_string();
        return Ok((id, name, false));
    }
    if !args.create_asset {
        bail!("no asset named {name} in the collection; add --create-asset");
    }
    let t = &checklist.target;
    let body = json!({"name": name, "collectionId": collection_id, "description": t.description,
        "ip": t.ip, "fqdn": t.fqdn, "mac": t.mac, "noncomputing": t.noncomputing,
        "metadata": t.metadata, "stigs": []});
    let created = api.expect(reqwest::Method::POST, "/assets", Some(body)).await?;
    let id = created["assetId"].as_str().context("asset without id")?.to_string();
    Ok((id, name, true))
}

/// Rule ids of every loaded revision of a benchmark; `None` when it is not in the library.
async fn remote_rule_ids(
    api: &Remote,
    benchmark_id: &str,
) -> anyhow::Result<Option<HashSet<String>>> {
    let (status, revisions) =
        api.call(reqwest::Method::GET, &format!("/stigs/{benchmark_id}/revisions"), None).await?;
    if status == 404 {
        return Ok(None);
    }
    let mut known = HashSet::new();
    for revision in revisions.as_array().cloned().unwrap_or_default() {
        let rev = revision["revisionStr"].as_str().unwrap_or_default();
        let path = format!("/stigs/{benchmark_id}/revisions/{rev}/rules");
        let rules = api.expect(reqwest::Method::GET, &path, None).await?;
        for rule in rules.as_array().cloned().unwrap_or_default() {
            known.extend(rule["ruleId"].as_str().map(str::to_string));
        }
    }
    Ok(Some(known))
}

/// A planned write as the body item of `POST /collections/{id}/reviews/{assetId}`.
fn review_body(item: &stigward_storage::reviews::ReviewWrite) -> Value {
    let incoming = &item.incoming;
    let mut body = json!({"ruleId": item.rule_id});
    let fields = [
        ("result", incoming.result.map(|r| json!(r.api()))),
        ("detail", incoming.detail.clone().map(Value::String)),
        ("comment", incoming.comment.clone().map(Value::String)),
        ("resultEngine", incoming.result_engine.clone().map(|e| e.unwrap_or(Value::Null))),
        ("status", incoming.status.as_ref().map(|(s, _)| json!(s.api()))),
    ];
    for (key, value) in fields {
        if let Some(value) = value {
            body[key] = value;
        }
    }
    body
}
