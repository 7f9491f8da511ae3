//! The Asset tag: creating and reading assets and assigning STIGs to them, one asset at a
//! time or one STIG across a collection.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{Map, Value};
use stigward_domain::Role;
use stigward_storage::access::{Access, AccessMap};
use stigward_storage::assets::AssetFilter;
use stigward_storage::collections::NameFilter;
use stigward_storage::StoreError;
use stigward_wire::asset::{
    Asset, AssetBatchItem, AssetCreate, AssetStigRevision, AssetUpdate, AssetsOperation,
    AssetsOperationDone,
};
use stigward_wire::collection::StigAsset;
use stigward_wire::ErrorBody;
use stigward_wire::IdString;

use crate::auth::{scope, Authenticated, Caller, CollectionAccess};
use crate::error::{ApiError, ApiResult};
use crate::extract::{parse_id, ApiJson, Params, Path};
use crate::state::AppState;

const PROJECTIONS: &[&str] = &["statusStats", "stigs"];
const NO_ACCESS: &str = "Insufficient access to this asset's collection.";
const NOT_MEMBER: &str = "One or more assetId is not a Collection member.";

/// The projections asked for.
#[derive(Clone, Copy)]
struct Projection {
    stigs: bool,
    status_stats: bool,
}

fn projection(params: &mut Params) -> ApiResult<Projection> {
    let chosen = params.choices("projection", PROJECTIONS)?;
    let has = |name: &str| chosen.iter().any(|p| p == name);
    Ok(Projection { stigs: has("stigs"), status_stats: has("statusStats") })
}

/// One asset with its projections; a restricted reader's `acl` limits `statusStats`.
async fn projected(
    state: &AppState,
    asset_id: i64,
    projection: Projection,
    acl: Option<&AccessMap>,
) -> ApiResult<Asset> {
    let mut asset = state.store.asset(asset_id, projection.stigs).await?;
    if projection.status_stats {
        let collection_id = asset.collection.collection_id;
        let mut stats = state.store.asset_status_stats(collection_id, Some(asset_id), acl).await?;
        asset.status_stats = Some(stats.remove(&asset_id).unwrap_or_default());
    }
    Ok(asset)
}

pub async fn get_assets(
    caller: Caller<scope::CollectionRead>,
    State(state): State<AppState>,
    mut params: Params,
) -> ApiResult<Json<Vec<Asset>>> {
    let collection_id = params.id("collectionId")?.ok_or_else(|| {
        ApiError::Validation("request/query must have required property 'collectionId'".into())
    })?;
    let name = params.one("name")?;
    let matching = params.choice("name-match", &["exact", "startsWith", "endsWith", "contains"])?;
    let filter = AssetFilter {
        name: name
            .map(|name| NameFilter { name, matching: matching.unwrap_or_else(|| "exact".into()) }),
        benchmark_id: params.one("benchmarkId")?,
        metadata: super::collection::metadata_filter(params.all("metadata"))?,
        labels: super::collection::label_filter(&mut params)?,
    };
    let projection = projection(&mut params)?;
    params.finish()?;
    let grant = caller.granted_access(&state, collection_id, Role::Restricted).await;
    let access = grant.map_err(|_| ApiError::privilege("No Grant in Collection"))?;
    let acl = match access.viewer() {
        Some(grant) => Some(state.store.access_map(grant).await?),
        None => None,
    };
    let visible = acl.as_ref().map(AccessMap::readable_assets);
    let assets = state.store.assets_of_collection(
        collection_id,
        &filter,
        visible.as_ref(),
        projection.stigs,
    );
    let mut assets = assets.await?;
    if projection.status_stats {
        let mut stats = state.store.asset_status_stats(collection_id, None, acl.as_ref()).await?;
        for asset in &mut assets {
            asset.status_stats = Some(stats.remove(&asset.asset_id).unwrap_or_default());
        }
    }
    Ok(Json(assets))
}

pub async fn create_asset(
    caller: Caller<scope::Collection>,
    State(state): State<AppState>,
    mut params: Params,
    ApiJson(body): ApiJson<AssetCreate>,
) -> ApiResult<(StatusCode, Json<Asset>)> {
    let projection = projection(&mut params)?;
    params.flag("elevate")?;
    params.finish()?;
    validate_asset(&AssetUpdate::from(body.clone()), "")?;
    caller.granted_access(&state, body.collection_id, Role::Manage).await?;
    let failures = state.store.check_new_assets(std::slice::from_ref(&body)).await?;
    if !failures.is_empty() {
        return Err(ApiError::Unprocessable(Value::Array(failures)));
    }
    let ids = state.store.create_assets(std::slice::from_ref(&body)).await?;
    let asset_id = ids.first().copied().ok_or_else(|| ApiError::Internal("no asset".into()))?;
    Ok((StatusCode::CREATED, Json(projected(&state, asset_id, projection, None).await?)))
}

pub async fn create_assets(
    caller: Caller<scope::Collection>,
    State(state): State<AppState>,
    Path(collection_id): Path<String>,
    mut params: Params,
    ApiJson(body): ApiJson<Vec<AssetBatchItem>>,
) -> ApiResult<Response> {
    let collection_id = parse_id(&collection_id, "params/collectionId")?;
    let projection = projection(&mut params)?;
    let dry_run = params.flag("dryRun")?;
    params.finish()?;
    if body.is_empty() {
        return Err(ApiError::Validation("request/body must NOT have fewer than 1 items".into()));
    }
    let items: Vec<AssetCreate> = body.into_iter().map(|i| i.into_create(collection_id)).collect();
    for (i, item) in items.iter().enumerate() {
        validate_asset(&AssetUpdate::from(item.clone()), &format!("{i}/"))?;
    }
    caller.granted_access(&state, collection_id, Role::Manage).await?;
    let failures = state.store.check_new_assets(&items).await?;
    if !failures.is_empty() {
        // upstream answers batch validation failures with 200 and this body
        let report = ErrorBody {
            error: "Validation Error".into(),
            code: None,
            detail: Some(Value::Array(failures)),
        };
        return Ok((StatusCode::OK, Json(report)).into_response());
    }
    if dry_run {
        return Ok(StatusCode::NO_CONTENT.into_response());
    }
    let mut created = Vec::new();
    for asset_id in state.store.create_assets(&items).await? {
        created.push(projected(&state, asset_id, projection, None).await?);
    }
    Ok((StatusCode::CREATED, Json(created)).into_response())
}

fn validate_asset(body: &AssetUpdate, at: &str) -> ApiResult<()> {
    let bad = |e: String| ApiError::Validation(format!("request/body/{at}{e}"));
    if body.name.as_ref().is_some_and(|n| !(1..=255).contains(&n.chars().count())) {
        return Err(bad("name must be 1 to 255 characters".into()));
    }
    for (field, value) in [
        ("description", &body.description),
        ("ip", &body.ip),
        ("fqdn", &body.fqdn),
        ("mac", &body.mac),
    ] {
        if value.as_ref().and_then(Option::as_ref).is_some_and(|v| v.chars().count() > 255) {
            return Err(bad(format!("{field} must be at most 255 characters")));
        }
    }
    if let Some(metadata) = &body.metadata {
        stigward_domain::collection_rules::check_metadata(metadata).map_err(bad)?;
    }
    Ok(())
}

pub async fn patch_assets(
    caller: Caller<scope::Collection>,
    State(state): State<AppState>,
    mut params: Params,
    ApiJson(body): ApiJson<AssetsOperation>,
) -> ApiResult<Json<AssetsOperationDone>> {
    let collection_id = params.id("collectionId")?.ok_or_else(|| {
        ApiError::Validation("request/query must have required property 'collectionId'".into())
    })?;
    params.finish()?;
    if body.operation != "delete" {
        return Err(ApiError::Validation(
            "request/body/operation must be equal to one of the allowed values: delete".into(),
        ));
    }
    caller.granted_access(&state, collection_id, Role::Manage).await?;
    let ids: Vec<i64> = body.asset_ids.iter().map(|id| id.0).collect();
    if !state.store.all_collection_members(collection_id, &ids).await? {
        return Err(ApiError::privilege(NOT_MEMBER));
    }
    state.store.delete_assets(collection_id, &ids, caller.user_id, caller.now).await?;
    let asset_ids = ids.iter().map(i64::to_string).collect();
    Ok(Json(AssetsOperationDone { operation: "deleted".into(), asset_ids }))
}

pub async fn get_asset(
    caller: Caller<scope::CollectionRead>,
    State(state): State<AppState>,
    Path(asset_id): Path<String>,
    mut params: Params,
) -> ApiResult<Json<Asset>> {
    let asset_id = parse_id(&asset_id, "params/assetId")?;
    let projection = projection(&mut params)?;
    params.finish()?;
    let access = asset_access(&state, &caller, asset_id, Role::Restricted).await?;
    let acl = match access.viewer() {
        Some(grant) => Some(state.store.access_map(grant).await?),
        None => None,
    };
    if let Some(map) = &acl {
        // a restricted reader needs at least one readable STIG on the asset
        if !map.readable_assets().contains(&asset_id) {
            return Err(ApiError::privilege(NO_ACCESS));
        }
    }
    let mut asset = projected(&state, asset_id, projection, acl.as_ref()).await?;
    if let (Some(map), Some(stigs)) = (&acl, asset.stigs.as_mut()) {
        stigs.retain(|s| map.access(asset_id, &s.benchmark_id) > Access::None);
    }
    Ok(Json(asset))
}

pub async fn update_asset(
    caller: Caller<scope::Collection>,
    State(state): State<AppState>,
    Path(asset_id): Path<String>,
    params: Params,
    ApiJson(body): ApiJson<AssetUpdate>,
) -> ApiResult<Json<Asset>> {
    let detail =
        "User has insufficient privilege in destination collection to transfer this asset.";
    change_asset(caller, state, asset_id, params, body, detail).await
}

pub async fn replace_asset(
    caller: Caller<scope::Collection>,
    State(state): State<AppState>,
    Path(asset_id): Path<String>,
    params: Params,
    ApiJson(body): ApiJson<AssetCreate>,
) -> ApiResult<Json<Asset>> {
    let detail = "insufficient privilege in destination collection to transfer this asset.";
    change_asset(caller, state, asset_id, params, AssetUpdate::from(body), detail).await
}

async fn change_asset(
    caller: Caller<scope::Collection>,
    state: AppState,
    asset_id: String,
    mut params: Params,
    body: AssetUpdate,
    transfer_refused: &str,
) -> ApiResult<Json<Asset>> {
    let asset_id = parse_id(&asset_id, "params/assetId")?;
    let projection = projection(&mut params)?;
    params.finish()?;
    validate_asset(&body, "")?;
    let access = asset_access(&state, &caller, asset_id, Role::Manage).await?;
    let from = access.collection_id;
    if let Some(to) = body.collection_id.filter(|to| *to != from) {
        let allowed = caller.granted_access(&state, to, Role::Manage).await;
        allowed.map_err(|_| ApiError::privilege(transfer_refused))?;
    }
    for id in body.stigs.iter().flatten() {
        if state.store.canonical_benchmark(id).await?.is_none() {
            return Err(ApiError::unprocessable(format!("Unknown benchmarkId: {id}")));
        }
    }
    state.store.update_asset(asset_id, from, &body).await?;
    Ok(Json(projected(&state, asset_id, projection, None).await?))
}

pub async fn delete_asset(
    caller: Caller<scope::Collection>,
    State(state): State<AppState>,
    Path(asset_id): Path<String>,
    mut params: Params,
) -> ApiResult<Json<Asset>> {
    let asset_id = parse_id(&asset_id, "params/assetId")?;
    let projection = projection(&mut params)?;
    params.finish()?;
    let access = asset_access(&state, &caller, asset_id, Role::Manage).await?;
    let before = projected(&state, asset_id, projection, None).await?;
    state
        .store
        .delete_assets(access.collection_id, &[asset_id], caller.user_id, caller.now)
        .await?;
    Ok(Json(before))
}

// ---- asset metadata: reads need any grant, writes Manage

async fn metadata_asset(
    caller: &Authenticated,
    state: &AppState,
    asset_id: &str,
    params: Params,
    minimum: Role,
) -> ApiResult<i64> {
    let asset_id = parse_id(asset_id, "params/assetId")?;
    params.finish()?;
    asset_access(state, caller, asset_id, minimum).await?;
    Ok(asset_id)
}

fn metadata_body(body: &Map<String, Value>) -> ApiResult<()> {
    stigward_domain::collection_rules::check_metadata(body)
        .map_err(|e| ApiError::Validation(format!("request/body/{e}")))
}

pub async fn get_asset_metadata(
    caller: Caller<scope::CollectionRead>,
    State(state): State<AppState>,
    Path(asset_id): Path<String>,
    params: Params,
) -> ApiResult<Json<Map<String, Value>>> {
    let id = metadata_asset(&caller, &state, &asset_id, params, Role::Restricted).await?;
    Ok(Json(state.store.asset_metadata(id).await?))
}

pub async fn patch_asset_metadata(
    caller: Caller<scope::Collection>,
    State(state): State<AppState>,
    Path(asset_id): Path<String>,
    params: Params,
    ApiJson(body): ApiJson<Map<String, Value>>,
) -> ApiResult<Json<Map<String, Value>>> {
    metadata_body(&body)?;
    let id = metadata_asset(&caller, &state, &asset_id, params, Role::Manage).await?;
    let mut metadata = state.store.asset_metadata(id).await?;
    metadata.extend(body);
    state.store.set_asset_metadata(id, &metadata).await?;
    Ok(Json(metadata))
}

pub async fn put_asset_metadata(
    caller: Caller<scope::Collection>,
    State(state): State<AppState>,
    Path(asset_id): Path<String>,
    params: Params,
    ApiJson(body): ApiJson<Map<String, Value>>,
) -> ApiResult<Json<Map<String, Value>>> {
    metadata_body(&body)?;
    let id = metadata_asset(&caller, &state, &asset_id, params, Role::Manage).await?;
    state.store.set_asset_metadata(id, &body).await?;
    Ok(Json(body))
}

pub async fn get_asset_metadata_keys(
    caller: Caller<scope::CollectionRead>,
    State(state): State<AppState>,
    Path(asset_id): Path<String>,
    params: Params,
) -> ApiResult<Json<Vec<String>>> {
    let id = metadata_asset(&caller, &state, &asset_id, params, Role::Restricted).await?;
    Ok(Json(state.store.asset_metadata(id).await?.keys().cloned().collect()))
}

pub async fn get_asset_metadata_value(
    caller: Caller<scope::CollectionRead>,
    State(state): State<AppState>,
    Path((asset_id, key)): Path<(String, String)>,
    params: Params,
) -> ApiResult<Json<Value>> {
    super::collection::metadata_key(&key)?;
    let id = metadata_asset(&caller, &state, &asset_id, params, Role::Restricted).await?;
    let value = state.store.asset_metadata(id).await?.get(&key).cloned();
    value.map(Json).ok_or_else(|| ApiError::NotFound(Some("metadata key not found".into())))
}

pub async fn put_asset_metadata_value(
    caller: Caller<scope::Collection>,
    State(state): State<AppState>,
    Path((asset_id, key)): Path<(String, String)>,
    params: Params,
    ApiJson(value): ApiJson<String>,
) -> ApiResult<StatusCode> {
    super::collection::metadata_key(&key)?;
    let id = metadata_asset(&caller, &state, &asset_id, params, Role::Manage).await?;
    let mut metadata = state.store.asset_metadata(id).await?;
    metadata.insert(key, Value::String(value));
    state.store.set_asset_metadata(id, &metadata).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn delete_asset_metadata_key(
    caller: Caller<scope::Collection>,
    State(state): State<AppState>,
    Path((asset_id, key)): Path<(String, String)>,
    params: Params,
) -> ApiResult<StatusCode> {
    super::collection::metadata_key(&key)?;
    let id = metadata_asset(&caller, &state, &asset_id, params, Role::Manage).await?;
    let mut metadata = state.store.asset_metadata(id).await?;
    if metadata.remove(&key).is_some() {
        state.store.set_asset_metadata(id, &metadata).await?;
    }
    Ok(StatusCode::NO_CONTENT)
}

// ---- STIG assignment of one asset

async fn stig_list(
    state: &AppState,
    access: &CollectionAccess,
    asset_id: i64,
) -> ApiResult<Vec<AssetStigRevision>> {
    let map = match access.viewer() {
        Some(grant) => Some(state.store.access_map(grant).await?),
        None => None,
    };
    let stigs = state.store.asset_stigs(asset_id).await?;
    Ok(stigs
        .into_iter()
        .filter(|s| map.as_ref().is_none_or(|m| m.access(asset_id, &s.benchmark_id) > Access::None))
        .map(|s| AssetStigRevision {
            benchmark_id: s.benchmark_id,
            revision_str: s.revision_str,
            revision_date: s.benchmark_date,
            rule_count: s.rule_count,
        })
        .collect())
}

pub async fn get_stigs_by_asset(
    caller: Caller<scope::CollectionRead>,
    State(state): State<AppState>,
    Path(asset_id): Path<String>,
    params: Params,
) -> ApiResult<Json<Vec<AssetStigRevision>>> {
    let asset_id = parse_id(&asset_id, "params/assetId")?;
    params.finish()?;
    let access = asset_access(&state, &caller, asset_id, Role::Restricted).await?;
    Ok(Json(stig_list(&state, &access, asset_id).await?))
}

pub async fn remove_stigs_from_asset(
    caller: Caller<scope::Collection>,
    State(state): State<AppState>,
    Path(asset_id): Path<String>,
    params: Params,
) -> ApiResult<Json<Vec<AssetStigRevision>>> {
    let asset_id = parse_id(&asset_id, "params/assetId")?;
    params.finish()?;
    let access = asset_access(&state, &caller, asset_id, Role::Manage).await?;
    state.store.detach_stigs(asset_id, access.collection_id, None).await?;
    Ok(Json(stig_list(&state, &access, asset_id).await?))
}

pub async fn remove_stig_from_asset(
    caller: Caller<scope::Collection>,
    State(state): State<AppState>,
    Path((asset_id, benchmark_id)): Path<(String, String)>,
    params: Params,
) -> ApiResult<Json<Vec<AssetStigRevision>>> {
    let asset_id = parse_id(&asset_id, "params/assetId")?;
    params.finish()?;
    let access = asset_access(&state, &caller, asset_id, Role::Manage).await?;
    state.store.detach_stigs(asset_id, access.collection_id, Some(&benchmark_id)).await?;
    Ok(Json(stig_list(&state, &access, asset_id).await?))
}

pub async fn attach_stig_to_asset(
    caller: Caller<scope::Collection>,
    State(state): State<AppState>,
    Path((asset_id, benchmark_id)): Path<(String, String)>,
    params: Params,
) -> ApiResult<Json<Vec<AssetStigRevision>>> {
    let asset_id = parse_id(&asset_id, "params/assetId")?;
    params.finish()?;
    let access = asset_access(&state, &caller, asset_id, Role::Manage).await?;
    match state.store.attach_stig(asset_id, &benchmark_id).await {
        Err(StoreError::NotFound) => {
            return Err(ApiError::NotFound(Some(format!("No benchmark with id {benchmark_id}"))))
        }
        other => other?,
    }
    Ok(Json(stig_list(&state, &access, asset_id).await?))
}

/// The caller's grant in the collection of an enabled asset. A missing or deleted asset is
/// refused like one the caller may not touch: 403, never 404. Elevation does not apply.
pub async fn asset_access(
    state: &AppState,
    caller: &Authenticated,
    asset_id: i64,
    minimum: Role,
) -> ApiResult<CollectionAccess> {
    let refused = || ApiError::privilege(NO_ACCESS);
    let collection_id = state.store.asset_collection(asset_id).await?.ok_or_else(refused)?;
    caller.granted_access(state, collection_id, minimum).await.map_err(|_| refused())
}

pub async fn get_assets_by_stig(
    caller: Caller<scope::CollectionRead>,
    State(state): State<AppState>,
    Path((collection_id, benchmark_id)): Path<(String, String)>,
    mut params: Params,
) -> ApiResult<Json<Vec<StigAsset>>> {
    let collection_id = parse_id(&collection_id, "params/collectionId")?;
    let labels = super::collection::label_filter(&mut params)?;
    params.finish()?;
    let access = caller.granted_access(&state, collection_id, Role::Restricted).await?;
    let map = access.access_map(&state).await?;
    let allowed = state.store.assets_matching(collection_id, &labels).await?;
    let assets = state.store.stig_assets(collection_id, &benchmark_id, &map).await?;
    let selected =
        assets.into_iter().filter(|a| allowed.as_ref().is_none_or(|s| s.contains(&a.asset_id)));
    Ok(Json(selected.collect()))
}

pub async fn attach_assets_to_stig(
    caller: Caller<scope::Collection>,
    State(state): State<AppState>,
    Path((collection_id, benchmark_id)): Path<(String, String)>,
    params: Params,
    ApiJson(body): ApiJson<Vec<IdString>>,
) -> ApiResult<Json<Vec<StigAsset>>> {
    let collection_id = parse_id(&collection_id, "params/collectionId")?;
    params.finish()?;
    let access = caller.granted_access(&state, collection_id, Role::Manage).await?;
    let asset_ids: Vec<i64> = body.iter().map(|id| id.0).collect();
    if !state.store.all_collection_members(collection_id, &asset_ids).await? {
        return Err(ApiError::privilege("One or more assetId is not a Collection member."));
    }
    if !state.store.benchmark_exists(&benchmark_id).await? {
        return Err(ApiError::unprocessable("Unknown benchmarkId."));
    }
    state.store.set_stig_assets(collection_id, &benchmark_id, &asset_ids).await?;
    let map = access.access_map(&state).await?;
    Ok(Json(state.store.stig_assets(collection_id, &benchmark_id, &map).await?))
}
