//! The Asset tag: creating and reading assets and assigning STIGs to them, one asset at a
//! time or one STIG across a collection.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use stigward_domain::Role;
use stigward_storage::StoreError;
use stigward_wire::asset::{Asset, AssetCreate, AssetStig};
use stigward_wire::collection::StigAsset;
use stigward_wire::IdString;

use crate::auth::{scope, Authenticated, Caller};
use crate::error::{ApiError, ApiResult};
use crate::extract::{parse_id, ApiJson, Params};
use crate::state::AppState;

const PROJECTIONS: &[&str] = &["statusStats", "stigs"];

pub async fn create_asset(
    caller: Caller<scope::Collection>,
    State(state): State<AppState>,
    mut params: Params,
    ApiJson(body): ApiJson<AssetCreate>,
) -> ApiResult<(StatusCode, Json<Asset>)> {
    // Known shortcoming: the `statusStats` projection is accepted but not yet filled.
    let with_stigs = params.choices("projection", PROJECTIONS)?.iter().any(|p| p == "stigs");
    params.flag("elevate")?;
    params.finish()?;
    let name_len = body.name.chars().count();
    if !(1..=255).contains(&name_len) {
        return Err(ApiError::Validation("request/body/name must be 1 to 255 characters".into()));
    }
    caller.collection_access(&state, body.collection_id, Role::Manage).await?;
    let asset_id = state.store.create_asset(&body).await?;
    Ok((StatusCode::CREATED, Json(state.store.asset(asset_id, with_stigs).await?)))
}

pub async fn get_asset(
    caller: Caller<scope::CollectionRead>,
    State(state): State<AppState>,
    Path(asset_id): Path<String>,
    mut params: Params,
) -> ApiResult<Json<Asset>> {
    let asset_id = parse_id(&asset_id, "params/assetId")?;
    let with_stigs = params.choices("projection", PROJECTIONS)?.iter().any(|p| p == "stigs");
    params.finish()?;
    asset_access(&state, &caller, asset_id, Role::Restricted).await?;
    Ok(Json(state.store.asset(asset_id, with_stigs).await?))
}

pub async fn attach_stig_to_asset(
    caller: Caller<scope::Collection>,
    State(state): State<AppState>,
    Path((asset_id, benchmark_id)): Path<(String, String)>,
    params: Params,
) -> ApiResult<Json<Vec<AssetStig>>> {
    let asset_id = parse_id(&asset_id, "params/assetId")?;
    params.finish()?;
    asset_access(&state, &caller, asset_id, Role::Manage).await?;
    match state.store.attach_stig(asset_id, &benchmark_id).await {
        Err(StoreError::NotFound) => {
            Err(ApiError::NotFound(Some(format!("No benchmark with id {benchmark_id}"))))
        }
        other => Ok(Json(other?)),
    }
}

/// A missing or deleted asset is refused like one the caller may not touch: 403.
pub async fn asset_access(
    state: &AppState,
    caller: &Authenticated,
    asset_id: i64,
    minimum: Role,
) -> ApiResult<i64> {
    let collection_id =
        state.store.asset_collection(asset_id).await?.ok_or(ApiError::Privilege(None))?;
    caller.collection_access(state, collection_id, minimum).await?;
    Ok(collection_id)
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
