//! Zip archives of a collection's checklists (CKL, CKLB, XCCDF). The request is checked in
//! full before the first byte is sent; then a task writes the members one at a time into the
//! response stream and ends with `_manifest.json`, which records members that failed.

use std::collections::BTreeSet;

use async_zip::base::write::ZipFileWriter;
use async_zip::{Compression, DeflateOption, ZipEntryBuilder};
use axum::body::Body;
use axum::extract::State;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use stigward_domain::{iso_millis, Role};
use stigward_storage::access::{Access, AccessMap};
use stigward_storage::checklists::RevisionHead;
use stigward_storage::StoreError;
use tokio::io::DuplexStream;
use tokio_util::compat::Compat;
use tokio_util::io::ReaderStream;

use crate::auth::{scope, Caller};
use crate::error::{ApiError, ApiResult};
use crate::extract::{parse_id, ApiJson, Params, Path};
use crate::handlers::checklist::{
    download, escape_file_name, file_date, marking, render, ChecklistFile,
};
use crate::handlers::stig::revision_selector;
use crate::state::AppState;

/// How much of the archive may wait in memory for a slow client.
const STREAM_BUFFER: usize = 64 * 1024;
const MAX_STIGS: usize = 30;
const NO_ACCESS: &str = "User has insufficient access to this asset.";

/// One item of the request body: an asset and, optionally, which of its STIGs.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AssetStigSelection {
    asset_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    stigs: Option<Vec<StigSelection>>,
}

/// A STIG at the collection's default revision, or at a named one.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(untagged)]
enum StigSelection {
    Benchmark(String),
    #[serde(rename_all = "camelCase")]
    Revision {
        benchmark_id: String,
        revision_str: String,
    },
}

pub async fn post_ckl_archive_by_collection(
    caller: Caller<scope::CollectionRead>,
    State(state): State<AppState>,
    Path(collection_id): Path<String>,
    mut params: Params,
    ApiJson(body): ApiJson<Vec<AssetStigSelection>>,
) -> ApiResult<Response> {
    let multi = mode(&mut params)?;
    params.finish()?;
    archive(&caller, state, &collection_id, body, ChecklistFile::Ckl, multi).await
}

pub async fn post_cklb_archive_by_collection(
    caller: Caller<scope::CollectionRead>,
    State(state): State<AppState>,
    Path(collection_id): Path<String>,
    mut params: Params,
    ApiJson(body): ApiJson<Vec<AssetStigSelection>>,
) -> ApiResult<Response> {
    let multi = mode(&mut params)?;
    params.finish()?;
    archive(&caller, state, &collection_id, body, ChecklistFile::Cklb, multi).await
}

pub async fn post_xccdf_archive_by_collection(
    caller: Caller<scope::CollectionRead>,
    State(state): State<AppState>,
    Path(collection_id): Path<String>,
    params: Params,
    ApiJson(body): ApiJson<Vec<AssetStigSelection>>,
) -> ApiResult<Response> {
    params.finish()?;
    archive(&caller, state, &collection_id, body, ChecklistFile::Xccdf, false).await
}

/// `mode=multi` puts every STIG of an asset in one file; `mono` (the default) one per file.
fn mode(params: &mut Params) -> ApiResult<bool> {
    Ok(params.choice("mode", &["mono", "multi"])?.is_some_and(|m| m == "multi"))
}

/// What one archive holds: per asset, the revisions to export.
struct Plan {
    collection_id: i64,
    collection_name: String,
    file: ChecklistFile,
    multi: bool,
    now: i64,
    request: Vec<AssetStigSelection>,
    assets: Vec<(i64, Vec<RevisionHead>)>,
}

async fn archive(
    caller: &Caller<scope::CollectionRead>,
    state: AppState,
    collection_id: &str,
    request: Vec<AssetStigSelection>,
    file: ChecklistFile,
    multi: bool,
) -> ApiResult<Response> {
    let collection_id = parse_id(collection_id, "params/collectionId")?;
    check_shape(&request)?;
    let grant = caller.granted_access(&state, collection_id, Role::Restricted).await?;
    let acl = grant.access_map(&state).await?;
    let mut assets = Vec::new();
    for item in &request {
        assets.push(plan_asset(&state, collection_id, &acl, item).await?);
    }
    let collection_name = state.store.collection_name(collection_id).await?;
    let plan =
        Plan { collection_id, collection_name, file, multi, now: caller.now, request, assets };
    let prefix = archive_prefix(&state, &plan);
    let kind = match file {
        ChecklistFile::Ckl => "CKL",
        ChecklistFile::Cklb => "CKLB",
        ChecklistFile::Xccdf => "XCCDF",
    };
    let name = format!("{prefix}_{}-{kind}_{}.zip", plan.collection_name, file_date(plan.now));
    let (writer, reader) = tokio::io::duplex(STREAM_BUFFER);
    tokio::spawn(async move {
        if let Err(err) = write_archive(&state, &plan, writer).await {
            // the client sees a truncated zip; the cause goes to the log
            tracing::warn!(error = %err, "checklist archive stopped");
        }
    });
    let body = Body::from_stream(ReaderStream::new(reader));
    Ok(download(body, "application/zip", &escape_file_name(&name), "attachment"))
}

/// The schema rules of the body: at least one item, no repeats, 1 to 30 STIGs per item.
fn check_shape(request: &[AssetStigSelection]) -> ApiResult<()> {
    if request.is_empty() {
        return Err(ApiError::Validation("request/body must NOT have fewer than 1 items".into()));
    }
    let distinct: BTreeSet<String> =
        request.iter().map(|i| serde_json::to_string(i).unwrap_or_default()).collect();
    if distinct.len() != request.len() {
        return Err(ApiError::Validation("request/body must NOT have duplicate items".into()));
    }
    for (at, item) in request.iter().enumerate() {
        parse_id(&item.asset_id, &format!("body/{at}/assetId"))?;
        let count = item.stigs.as_ref().map(Vec::len);
        if count.is_some_and(|n| n == 0 || n > MAX_STIGS) {
            return Err(ApiError::Validation(format!(
                "request/body/{at}/stigs must have 1 to {MAX_STIGS} items"
            )));
        }
    }
    Ok(())
}

/// Checks one item against the collection and the caller's access and resolves its revisions.
async fn plan_asset(
    state: &AppState,
    collection_id: i64,
    acl: &AccessMap,
    item: &AssetStigSelection,
) -> ApiResult<(i64, Vec<RevisionHead>)> {
    let asset_id = parse_id(&item.asset_id, "body/assetId")?;
    if state.store.asset_collection(asset_id).await? != Some(collection_id) {
        return Err(ApiError::unprocessable(format!(
            "Asset id {asset_id} is not a member of Collection id {collection_id}."
        )));
    }
    let defaults = state.store.asset_default_revisions(asset_id).await?;
    if defaults.is_empty() {
        return Err(ApiError::unprocessable(format!(
            "Asset id {asset_id} has no STIG assignments."
        )));
    }
    let readable = |b: &str| acl.access(asset_id, b) > Access::None;
    if !defaults.iter().any(|(b, _)| readable(b)) {
        return Err(ApiError::privilege(NO_ACCESS));
    }
    let mut rev_ids = Vec::new();
    match &item.stigs {
        None => {
            rev_ids.extend(defaults.iter().filter(|(b, _)| readable(b)).map(|(_, r)| r.clone()))
        }
        Some(stigs) => {
            for stig in stigs {
                rev_ids.push(selected_revision(state, asset_id, &defaults, acl, stig).await?);
            }
        }
    }
    // a STIG named twice at the same revision gives one member, not two of the same name
    let mut heads: Vec<RevisionHead> = Vec::new();
    for rev_id in rev_ids {
        if !heads.iter().any(|h| h.rev_id == rev_id) {
            heads.push(state.store.revision_head(&rev_id).await?);
        }
    }
    Ok((asset_id, heads))
}

/// The revision one STIG selection names: the collection default for a bare benchmark id, else
/// the named revision (`latest` is the current one). Unmapped STIGs and unknown revisions are
/// 422, STIGs the caller may not read 403.
async fn selected_revision(
    state: &AppState,
    asset_id: i64,
    defaults: &[(String, String)],
    acl: &AccessMap,
    stig: &StigSelection,
) -> ApiResult<String> {
    let not_mapped = || {
        let text = serde_json::to_string(stig).unwrap_or_default();
        ApiError::unprocessable(format!("Asset id {asset_id} is not mapped to {text}."))
    };
    let (benchmark_id, revision) = match stig {
        StigSelection::Benchmark(b) => (b, None),
        StigSelection::Revision { benchmark_id, revision_str } => {
            (benchmark_id, Some(revision_str))
        }
    };
    let default = defaults.iter().find(|(b, _)| b == benchmark_id);
    let Some((_, default_rev)) = default else { return Err(not_mapped()) };
    if acl.access(asset_id, benchmark_id) == Access::None {
        return Err(ApiError::privilege(NO_ACCESS));
    }
    let Some(text) = revision else { return Ok(default_rev.clone()) };
    let selector = revision_selector(text).map_err(|_| not_mapped())?;
    state.store.rev_id(benchmark_id, &selector).await.map_err(|e| match e {
        StoreError::NotFound => not_mapped(),
        other => other.into(),
    })
}

/// `CUI` when a revision exported is marked CUI or FOUO, else `U`; a configured classification
/// other than `NONE`, `U` or `CUI` wins.
fn archive_prefix(state: &AppState, plan: &Plan) -> String {
    let configured = state.config.classification.as_str();
    if !matches!(configured, "NONE" | "U" | "CUI") {
        return configured.to_string();
    }
    let heads = plan.assets.iter().flat_map(|(_, heads)| heads);
    let controlled = heads.filter_map(|h| h.marking.as_deref()).any(|m| m == "CUI" || m == "FOUO");
    if controlled { "CUI" } else { "U" }.to_string()
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Manifest<'a> {
    started: String,
    finished: String,
    error_count: usize,
    errors: Vec<MemberError>,
    member_count: usize,
    members: BTreeSet<String>,
    request_params: RequestParams<'a>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct MemberError {
    asset_id: String,
    asset_name: Option<String>,
    stigs: Vec<String>,
    error: Value,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct RequestParams<'a> {
    collection: CollectionRef<'a>,
    asset_stigs: &'a [AssetStigSelection],
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct CollectionRef<'a> {
    collection_id: String,
    name: &'a str,
}

type Zip = ZipFileWriter<Compat<DuplexStream>>;

async fn write_archive(state: &AppState, plan: &Plan, writer: DuplexStream) -> anyhow::Result<()> {
    let mut zip = ZipFileWriter::with_tokio(writer);
    let started = iso_millis(plan.now);
    let mut members = BTreeSet::new();
    let mut errors = Vec::new();
    for (asset_id, heads) in &plan.assets {
        let groups: Vec<&[RevisionHead]> = match plan.multi {
            true => vec![heads.as_slice()],
            false => heads.chunks(1).collect(),
        };
        for group in groups {
            match member(state, plan, *asset_id, group).await {
                Ok((name, bytes)) => {
                    add(&mut zip, &name, &bytes).await?;
                    members.insert(name);
                }
                Err(err) => errors.push(MemberError {
                    asset_id: asset_id.to_string(),
                    asset_name: state.store.export_asset(*asset_id).await.ok().map(|a| a.name),
                    stigs: group
                        .iter()
                        .map(|h| format!("{}-{}", h.benchmark_id, h.revision_str))
                        .collect(),
                    error: serde_json::json!({"message": err.to_string(), "stack": null}),
                }),
            }
        }
    }
    let manifest = Manifest {
        started,
        finished: iso_millis((state.clock)()),
        error_count: errors.len(),
        errors,
        member_count: members.len(),
        members,
        request_params: RequestParams {
            collection: CollectionRef {
                collection_id: plan.collection_id.to_string(),
                name: &plan.collection_name,
            },
            asset_stigs: &plan.request,
        },
    };
    add(&mut zip, "_manifest.json", &serde_json::to_vec_pretty(&manifest)?).await?;
    zip.close().await?;
    Ok(())
}

async fn add(zip: &mut Zip, name: &str, bytes: &[u8]) -> anyhow::Result<()> {
    let entry = ZipEntryBuilder::new(name.to_string().into(), Compression::Deflate)
        .deflate_option(DeflateOption::Maximum);
    zip.write_entry_whole(entry, bytes).await?;
    Ok(())
}

/// One member's name and content: an asset's checklist of the given revisions.
async fn member(
    state: &AppState,
    plan: &Plan,
    asset_id: i64,
    heads: &[RevisionHead],
) -> ApiResult<(String, Vec<u8>)> {
    let asset = state.store.export_asset(asset_id).await?;
    let mut stigs = Vec::new();
    for head in heads {
        stigs.push(state.store.export_stig(asset_id, head).await?);
    }
    let marking = marking(state, heads.iter().map(|h| h.marking.as_deref()));
    let base = match (plan.multi, heads.first()) {
        (false, Some(head)) => {
            format!("{marking}_{}-{}-{}", asset.name, head.benchmark_id, head.revision_str)
        }
        _ => format!("{marking}_{}", asset.name),
    };
    let name = match plan.file {
        ChecklistFile::Ckl => format!("{base}.ckl"),
        ChecklistFile::Cklb => format!("{base}.cklb"),
        ChecklistFile::Xccdf => format!("{base}-xccdf.xml"),
    };
    let bytes = render(state, plan.file, &asset, &stigs, &marking, &base, plan.now)?;
    Ok((escape_file_name(&name), bytes))
}
