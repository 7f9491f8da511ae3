//! The Collection tag: collections, their metadata, labels, STIGs, grants and ACLs.

use std::collections::{BTreeSet, HashSet};

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{Map, Value};
use stigward_domain::collection_rules::{
    check_label, check_metadata, check_settings, grantee_token,
};
use stigward_domain::settings::merge_over_defaults;
use stigward_domain::Role;
use stigward_storage::collection_stigs::LabelFilter;
use stigward_storage::collections::{
    CollectionChange, CollectionFilter, CollectionProjection, NameFilter,
};
use stigward_storage::grants::GrantRecord;
use stigward_storage::StoreError;
use stigward_wire::collection::AssetRef;
use stigward_wire::collection::{
    AclRulePut, Collection, CollectionCreate, CollectionStigAssets, CollectionUpdate, EffectiveAcl,
    GrantAcl, GrantRead, GrantWrite, Label, LabelUpdate, LabelWrite, StigProps,
};

use crate::auth::{scope, Authenticated, Caller, CollectionAccess};
use crate::error::{ApiError, ApiResult};
use crate::extract::{parse_id, ApiJson, Params, Path};
use crate::state::AppState;

pub(crate) const PROJECTIONS: &[&str] =
    &["assets", "grants", "users", "owners", "statistics", "stigs", "labels"];
const ELEVATED_EXTRAS: &str =
    "Elevated requests cannot set collection settings, labels, or metadata.";
const NOT_MEMBER: &str = "One or more assetId is not a Collection member.";
const NAME_MATCH: &[&str] = &["exact", "startsWith", "endsWith", "contains"];

pub async fn get_collections(
    caller: Caller<scope::CollectionRead>,
    State(state): State<AppState>,
    mut params: Params,
) -> ApiResult<Json<Vec<Collection>>> {
    let name = params.one("name")?;
    let matching = params.choice("name-match", NAME_MATCH)?;
    let projection = projection(params.choices("projection", &["owners", "statistics"])?);
    let metadata = metadata_filter(params.all("metadata"))?;
    params.flag("elevate")?;
    params.finish()?;
    let name = name
        .map(|name| NameFilter { name, matching: matching.unwrap_or_else(|| "exact".to_string()) });
    let filter = CollectionFilter { name, metadata };
    let grants = match caller.elevate {
        true => None,
        false => Some(state.store.effective_grants(caller.user_id).await?),
    };
    let collections = state.store.collections_for(grants.as_deref(), &filter, projection);
    Ok(Json(collections.await?))
}

/// `key:value` pairs; the first colon splits key from value.
pub(crate) fn metadata_filter(values: Vec<String>) -> ApiResult<Vec<(String, String)>> {
    values
        .into_iter()
        .map(|v| match v.split_once(':') {
            Some((key, value)) if !key.is_empty() => Ok((key.to_string(), value.to_string())),
            _ => Err(ApiError::Validation(format!(
                "request/query/metadata '{v}' must match \"^([\\w\\.]+:.*?)$\""
            ))),
        })
        .collect()
}

pub async fn create_collection(
    caller: Caller<scope::Collection>,
    State(state): State<AppState>,
    mut params: Params,
    ApiJson(body): ApiJson<CollectionCreate>,
) -> ApiResult<(StatusCode, Json<Collection>)> {
    let projection = projection(params.choices("projection", PROJECTIONS)?);
    params.flag("elevate")?;
    params.finish()?;
    if !caller.privileges.create_collection && !caller.elevate {
        return Err(ApiError::Privilege(None));
    }
    let extras = body.settings.is_some() || body.labels.is_some() || body.metadata.is_some();
    if caller.elevate && extras {
        return Err(ApiError::privilege(ELEVATED_EXTRAS));
    }
    let body_update = CollectionUpdate::from(body.clone());
    validate_update(&body_update, false)?;
    check_grants(&state, &body.grants, "Duplicate user or user group in grant array").await?;
    let settings = merge_over_defaults(body.settings.as_ref());
    let id = state.store.create_collection(&body, &settings, caller.now).await?;
    Ok((StatusCode::CREATED, Json(state.store.collection(id, projection).await?)))
}

pub async fn get_collection(
    caller: Caller<scope::CollectionRead>,
    State(state): State<AppState>,
    Path(collection_id): Path<String>,
    mut params: Params,
) -> ApiResult<Json<Collection>> {
    let collection_id = parse_id(&collection_id, "params/collectionId")?;
    let projection = projection(params.choices("projection", PROJECTIONS)?);
    params.flag("elevate")?;
    params.finish()?;
    let access = caller.collection_access(&state, collection_id, Role::Restricted).await?;
    let read = state.store.collection_for(collection_id, projection, access.viewer()).await;
    Ok(Json(collection_found(read)?))
}

/// Only an elevated caller can reach a missing collection; it gets 404.
fn collection_found<T>(read: Result<T, StoreError>) -> ApiResult<T> {
    match read {
        Err(StoreError::NotFound) => Err(ApiError::NotFound(Some("Collection not found".into()))),
        other => Ok(other?),
    }
}

pub async fn update_collection(
    caller: Caller<scope::Collection>,
    State(state): State<AppState>,
    Path(collection_id): Path<String>,
    params: Params,
    ApiJson(body): ApiJson<CollectionUpdate>,
) -> ApiResult<Json<Collection>> {
    let empty = body == CollectionUpdate::default();
    if empty {
        return Err(ApiError::Validation(
            "request/body must NOT have fewer than 1 properties".into(),
        ));
    }
    // PATCH stores complete settings as sent
    let settings = body.settings.clone().map(Value::Object);
    change_collection(caller, state, collection_id, params, body, settings, true).await
}

pub async fn replace_collection(
    caller: Caller<scope::Collection>,
    State(state): State<AppState>,
    Path(collection_id): Path<String>,
    params: Params,
    ApiJson(body): ApiJson<CollectionCreate>,
) -> ApiResult<Json<Collection>> {
    // PUT merges supplied settings over the defaults; absent settings are kept
    let settings = body.settings.as_ref().map(|s| merge_over_defaults(Some(s)));
    let mut body = CollectionUpdate::from(body);
    // a replace that omits metadata empties it, as upstream does on every write
    body.metadata.get_or_insert_with(Map::new);
    change_collection(caller, state, collection_id, params, body, settings, false).await
}

async fn change_collection(
    caller: Caller<scope::Collection>,
    state: AppState,
    collection_id: String,
    mut params: Params,
    body: CollectionUpdate,
    settings: Option<Value>,
    settings_complete: bool,
) -> ApiResult<Json<Collection>> {
    let collection_id = parse_id(&collection_id, "params/collectionId")?;
    let projection = projection(params.choices("projection", PROJECTIONS)?);
    params.flag("elevate")?;
    params.finish()?;
    validate_update(&body, settings_complete)?;
    let access = caller.collection_access(&state, collection_id, Role::Manage).await?;
    collection_found(state.store.collection(collection_id, Default::default()).await)?;
    // a replace stores `{}` for omitted metadata, which an elevated caller may do
    let metadata = body.metadata.as_ref().is_some_and(|m| !m.is_empty());
    let extras = body.settings.is_some() || body.labels.is_some() || metadata;
    if caller.elevate && extras {
        return Err(ApiError::privilege(ELEVATED_EXTRAS));
    }
    if let Some(grants) = &body.grants {
        check_grants(&state, grants, "Duplicate user in grant array").await?;
        check_owner_set(&state, &access, grants).await?;
    }
    let change = CollectionChange { body, settings };
    state.store.update_collection(collection_id, &change).await?;
    Ok(Json(state.store.collection(collection_id, projection).await?))
}

fn validate_update(body: &CollectionUpdate, settings_complete: bool) -> ApiResult<()> {
    let bad = |e: String| ApiError::Validation(format!("request/body/{e}"));
    if body.name.as_ref().is_some_and(|n| !(1..=45).contains(&n.chars().count())) {
        return Err(bad("name must be 1 to 45 characters".into()));
    }
    if let Some(Some(d)) = &body.description {
        if d.chars().count() > 255 {
            return Err(bad("description must be at most 255 characters".into()));
        }
    }
    if let Some(settings) = &body.settings {
        check_settings(settings, settings_complete).map_err(bad)?;
    }
    if let Some(metadata) = &body.metadata {
        check_metadata(metadata).map_err(bad)?;
    }
    for label in body.labels.iter().flatten() {
        validate_label(label)?;
    }
    for (i, grant) in body.grants.iter().flatten().enumerate() {
        validate_grant(grant, &format!("grants/{i}"))?;
    }
    Ok(())
}

fn validate_grant(grant: &GrantWrite, at: &str) -> ApiResult<()> {
    if grant.user_id.is_some() == grant.user_group_id.is_some() {
        return Err(ApiError::Validation(format!(
            "request/body/{at} must have exactly one of userId and userGroupId"
        )));
    }
    Role::try_from(grant.role_id)
        .map_err(|e| ApiError::Validation(format!("request/body/{at}/roleId: {e}")))?;
    Ok(())
}

fn validate_label(label: &LabelWrite) -> ApiResult<()> {
    check_label(Some(&label.name), Some(&label.color), label.description.as_deref())
        .map_err(|e| ApiError::Validation(format!("request/body/{e}")))
}

/// Grantees must be distinct, users available and groups known.
async fn check_grants(state: &AppState, grants: &[GrantWrite], duplicate: &str) -> ApiResult<()> {
    let mut seen = HashSet::new();
    if grants.iter().any(|g| !seen.insert((g.user_id, g.user_group_id))) {
        return Err(ApiError::unprocessable(duplicate));
    }
    let users: Vec<i64> = grants.iter().filter_map(|g| g.user_id).collect();
    super::check_grantee_users(state, &users).await?;
    let groups: Vec<i64> = grants.iter().filter_map(|g| g.user_group_id).collect();
    if !state.store.user_groups_exist(&groups).await? {
        return Err(ApiError::unprocessable("no such grantee"));
    }
    Ok(())
}

/// A manager must send back exactly the current owners.
async fn check_owner_set(
    state: &AppState,
    access: &CollectionAccess,
    grants: &[GrantWrite],
) -> ApiResult<()> {
    if access.may_manage_owners() {
        return Ok(());
    }
    let current: BTreeSet<String> = state
        .store
        .grant_records(access.collection_id)
        .await?
        .iter()
        .filter(|g| g.role == Role::Owner)
        .map(|g| grantee_token(g.user_id, g.user_group_id))
        .collect();
    let sent: BTreeSet<String> = grants
        .iter()
        .filter(|g| g.role_id == Role::Owner.id())
        .map(|g| grantee_token(g.user_id, g.user_group_id))
        .collect();
    match current == sent {
        true => Ok(()),
        false => Err(ApiError::privilege("Cannot create or modify owner grants.")),
    }
}

pub async fn delete_collection(
    caller: Caller<scope::Collection>,
    State(state): State<AppState>,
    Path(collection_id): Path<String>,
    mut params: Params,
) -> ApiResult<Json<Collection>> {
    let collection_id = parse_id(&collection_id, "params/collectionId")?;
    let projection = projection(params.choices("projection", PROJECTIONS)?);
    params.flag("elevate")?;
    params.finish()?;
    caller.collection_access(&state, collection_id, Role::Owner).await?;
    let before = collection_found(state.store.collection(collection_id, projection).await)?;
    state.store.delete_collection(collection_id, caller.user_id, caller.now).await?;
    Ok(Json(before))
}

pub(crate) fn projection(names: Vec<String>) -> CollectionProjection {
    let has = |p: &str| names.iter().any(|n| n == p);
    CollectionProjection {
        assets: has("assets"),
        grants: has("grants"),
        owners: has("owners"),
        statistics: has("statistics"),
        stigs: has("stigs"),
        labels: has("labels"),
        users: has("users"),
    }
}

// ---- metadata: every operation needs a Manage grant, reads included

async fn metadata_access(
    caller: &Authenticated,
    state: &AppState,
    collection_id: &str,
    params: Params,
) -> ApiResult<i64> {
    let collection_id = parse_id(collection_id, "params/collectionId")?;
    params.finish()?;
    caller.granted_access(state, collection_id, Role::Manage).await?;
    Ok(collection_id)
}

pub async fn get_collection_metadata(
    caller: Caller<scope::CollectionRead>,
    State(state): State<AppState>,
    Path(collection_id): Path<String>,
    params: Params,
) -> ApiResult<Json<Map<String, Value>>> {
    let id = metadata_access(&caller, &state, &collection_id, params).await?;
    Ok(Json(state.store.collection_metadata(id).await?))
}

pub async fn patch_collection_metadata(
    caller: Caller<scope::Collection>,
    State(state): State<AppState>,
    Path(collection_id): Path<String>,
    params: Params,
    ApiJson(body): ApiJson<Map<String, Value>>,
) -> ApiResult<Json<Map<String, Value>>> {
    check_metadata(&body).map_err(|e| ApiError::Validation(format!("request/body/{e}")))?;
    let id = metadata_access(&caller, &state, &collection_id, params).await?;
    let mut metadata = state.store.collection_metadata(id).await?;
    metadata.extend(body);
    state.store.set_collection_metadata(id, &metadata).await?;
    Ok(Json(metadata))
}

pub async fn put_collection_metadata(
    caller: Caller<scope::Collection>,
    State(state): State<AppState>,
    Path(collection_id): Path<String>,
    params: Params,
    ApiJson(body): ApiJson<Map<String, Value>>,
) -> ApiResult<Json<Map<String, Value>>> {
    check_metadata(&body).map_err(|e| ApiError::Validation(format!("request/body/{e}")))?;
    let id = metadata_access(&caller, &state, &collection_id, params).await?;
    state.store.set_collection_metadata(id, &body).await?;
    Ok(Json(body))
}

pub async fn get_collection_metadata_keys(
    caller: Caller<scope::CollectionRead>,
    State(state): State<AppState>,
    Path(collection_id): Path<String>,
    params: Params,
) -> ApiResult<Json<Vec<String>>> {
    let id = metadata_access(&caller, &state, &collection_id, params).await?;
    Ok(Json(state.store.collection_metadata(id).await?.keys().cloned().collect()))
}

/// Metadata keys are word characters and dots, as the contract's pattern says.
pub(crate) fn metadata_key(key: &str) -> ApiResult<()> {
    let ok = !key.is_empty() && key.chars().all(|c| c.is_alphanumeric() || c == '_' || c == '.');
    match ok {
        true => Ok(()),
        false => Err(ApiError::Validation(format!("request/params/key '{key}' is not a key"))),
    }
}

pub async fn get_collection_metadata_value(
    caller: Caller<scope::CollectionRead>,
    State(state): State<AppState>,
    Path((collection_id, key)): Path<(String, String)>,
    params: Params,
) -> ApiResult<Json<Value>> {
    metadata_key(&key)?;
    let id = metadata_access(&caller, &state, &collection_id, params).await?;
    let metadata = state.store.collection_metadata(id).await?;
    let value = metadata.get(&key).cloned();
    value.map(Json).ok_or_else(|| ApiError::NotFound(Some("metadata key not found".into())))
}

pub async fn put_collection_metadata_value(
    caller: Caller<scope::Collection>,
    State(state): State<AppState>,
    Path((collection_id, key)): Path<(String, String)>,
    params: Params,
    ApiJson(value): ApiJson<String>,
) -> ApiResult<StatusCode> {
    metadata_key(&key)?;
    let id = metadata_access(&caller, &state, &collection_id, params).await?;
    let mut metadata = state.store.collection_metadata(id).await?;
    metadata.insert(key, Value::String(value));
    state.store.set_collection_metadata(id, &metadata).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn delete_collection_metadata_key(
    caller: Caller<scope::Collection>,
    State(state): State<AppState>,
    Path((collection_id, key)): Path<(String, String)>,
    params: Params,
) -> ApiResult<StatusCode> {
    metadata_key(&key)?;
    let id = metadata_access(&caller, &state, &collection_id, params).await?;
    let mut metadata = state.store.collection_metadata(id).await?;
    if metadata.remove(&key).is_some() {
        state.store.set_collection_metadata(id, &metadata).await?;
    }
    Ok(StatusCode::NO_CONTENT)
}

// ---- labels

/// The assets a restricted reader can reach; `None` for every other role.
async fn visible_assets(
    state: &AppState,
    access: &CollectionAccess,
) -> ApiResult<Option<HashSet<i64>>> {
    match access.viewer() {
        Some(grant) => Ok(Some(state.store.access_map(grant).await?.readable_assets())),
        None => Ok(None),
    }
}

fn label_uuid(text: &str) -> ApiResult<String> {
    uuid::Uuid::parse_str(text)
        .map(|_| text.to_string())
        .map_err(|_| ApiError::Validation(format!("request/params/labelId '{text}' is not a UUID")))
}

pub async fn get_collection_labels(
    caller: Caller<scope::CollectionRead>,
    State(state): State<AppState>,
    Path(collection_id): Path<String>,
    params: Params,
) -> ApiResult<Json<Vec<Label>>> {
    let collection_id = parse_id(&collection_id, "params/collectionId")?;
    params.finish()?;
    let access = caller.granted_access(&state, collection_id, Role::Restricted).await?;
    let visible = visible_assets(&state, &access).await?;
    Ok(Json(state.store.labels_of(collection_id, visible.as_ref()).await?))
}

pub async fn create_collection_label(
    caller: Caller<scope::CollectionRead>,
    State(state): State<AppState>,
    Path(collection_id): Path<String>,
    params: Params,
    ApiJson(body): ApiJson<LabelWrite>,
) -> ApiResult<(StatusCode, Json<Label>)> {
    let (status, Json(mut labels)) = create_collection_labels(
        caller,
        State(state),
        Path(collection_id),
        params,
        ApiJson(vec![body]),
    )
    .await?;
    let label = labels.pop().ok_or_else(|| ApiError::Internal("no label created".into()))?;
    Ok((status, Json(label)))
}

pub async fn create_collection_labels(
    caller: Caller<scope::CollectionRead>,
    State(state): State<AppState>,
    Path(collection_id): Path<String>,
    params: Params,
    ApiJson(body): ApiJson<Vec<LabelWrite>>,
) -> ApiResult<(StatusCode, Json<Vec<Label>>)> {
    let collection_id = parse_id(&collection_id, "params/collectionId")?;
    params.finish()?;
    if body.is_empty() {
        return Err(ApiError::Validation("request/body must NOT have fewer than 1 items".into()));
    }
    body.iter().try_for_each(validate_label)?;
    caller.granted_access(&state, collection_id, Role::Manage).await?;
    let uuids = state.store.create_labels(collection_id, &body).await?;
    let mut labels = Vec::new();
    for uuid in uuids {
        if let Some(record) = state.store.label_by_uuid(collection_id, &uuid, None).await? {
            labels.push(record.label);
        }
    }
    Ok((StatusCode::CREATED, Json(labels)))
}

/// A label of the collection as the caller may see it, or 404.
async fn find_label(
    state: &AppState,
    access: &CollectionAccess,
    label_id: &str,
) -> ApiResult<stigward_storage::labels::LabelRecord> {
    let uuid = label_uuid(label_id)?;
    let visible = visible_assets(state, access).await?;
    let found = state.store.label_by_uuid(access.collection_id, &uuid, visible.as_ref()).await?;
    found.ok_or_else(|| ApiError::NotFound(Some("label not found in collection".into())))
}

pub async fn get_collection_label_by_id(
    caller: Caller<scope::CollectionRead>,
    State(state): State<AppState>,
    Path((collection_id, label_id)): Path<(String, String)>,
    params: Params,
) -> ApiResult<Json<Label>> {
    let collection_id = parse_id(&collection_id, "params/collectionId")?;
    params.finish()?;
    let access = caller.granted_access(&state, collection_id, Role::Restricted).await?;
    Ok(Json(find_label(&state, &access, &label_id).await?.label))
}

pub async fn patch_collection_label_by_id(
    caller: Caller<scope::Collection>,
    State(state): State<AppState>,
    Path((collection_id, label_id)): Path<(String, String)>,
    params: Params,
    ApiJson(body): ApiJson<LabelUpdate>,
) -> ApiResult<Json<Label>> {
    let collection_id = parse_id(&collection_id, "params/collectionId")?;
    params.finish()?;
    let description = body.description.clone().flatten();
    check_label(body.name.as_deref(), body.color.as_deref(), description.as_deref())
        .map_err(|e| ApiError::Validation(format!("request/body/{e}")))?;
    let access = caller.granted_access(&state, collection_id, Role::Manage).await?;
    let label = find_label(&state, &access, &label_id).await?;
    state.store.update_label(label.key, &body).await?;
    Ok(Json(find_label(&state, &access, &label_id).await?.label))
}

pub async fn delete_collection_label_by_id(
    caller: Caller<scope::Collection>,
    State(state): State<AppState>,
    Path((collection_id, label_id)): Path<(String, String)>,
    params: Params,
) -> ApiResult<StatusCode> {
    let collection_id = parse_id(&collection_id, "params/collectionId")?;
    params.finish()?;
    let access = caller.granted_access(&state, collection_id, Role::Manage).await?;
    let label = find_label(&state, &access, &label_id).await?;
    state.store.delete_label(label.key).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn get_assets_by_collection_label_id(
    caller: Caller<scope::CollectionRead>,
    State(state): State<AppState>,
    Path((collection_id, label_id)): Path<(String, String)>,
    params: Params,
) -> ApiResult<Json<Vec<AssetRef>>> {
    let collection_id = parse_id(&collection_id, "params/collectionId")?;
    params.finish()?;
    let access = caller.granted_access(&state, collection_id, Role::Restricted).await?;
    let label = find_label(&state, &access, &label_id).await?;
    let visible = visible_assets(&state, &access).await?;
    Ok(Json(state.store.label_assets(label.key, visible.as_ref()).await?))
}

pub async fn put_assets_by_collection_label_id(
    caller: Caller<scope::Collection>,
    State(state): State<AppState>,
    Path((collection_id, label_id)): Path<(String, String)>,
    params: Params,
    ApiJson(body): ApiJson<Vec<stigward_wire::IdString>>,
) -> ApiResult<Json<Vec<AssetRef>>> {
    let collection_id = parse_id(&collection_id, "params/collectionId")?;
    let uuid = label_uuid(&label_id)?;
    params.finish()?;
    caller.granted_access(&state, collection_id, Role::Manage).await?;
    let Some(label) = state.store.label_by_uuid(collection_id, &uuid, None).await? else {
        return Err(ApiError::privilege("The labelId is not associated with this Collection."));
    };
    let asset_ids: Vec<i64> = body.iter().map(|id| id.0).collect();
    if !state.store.all_collection_members(collection_id, &asset_ids).await? {
        return Err(ApiError::privilege(NOT_MEMBER));
    }
    state.store.set_label_assets(label.key, &asset_ids).await?;
    Ok(Json(state.store.label_assets(label.key, None).await?))
}

// ---- STIGs of a collection

pub(crate) fn label_filter(params: &mut Params) -> ApiResult<LabelFilter> {
    let label_ids =
        params.all("labelId").iter().map(|l| label_uuid(l)).collect::<ApiResult<_>>()?;
    Ok(LabelFilter {
        label_ids,
        label_names: params.all("labelName"),
        unlabeled: params.choice("labelMatch", &["null"])?.is_some(),
    })
}

async fn stig_list(
    state: &AppState,
    access: &CollectionAccess,
    benchmark_id: Option<&str>,
    labels: &LabelFilter,
    with_assets: bool,
) -> ApiResult<Vec<CollectionStigAssets>> {
    let map = match access.viewer() {
        Some(grant) => Some(state.store.access_map(grant).await?),
        None => None,
    };
    let id = access.collection_id;
    let list =
        state.store.collection_stig_list(id, benchmark_id, labels, map.as_ref(), with_assets);
    Ok(list.await?)
}

/// One STIG of the collection, or 204 when it is not assigned there.
async fn one_stig(
    state: &AppState,
    access: &CollectionAccess,
    benchmark_id: &str,
    with_assets: bool,
) -> ApiResult<Response> {
    let none = LabelFilter::default();
    let found = stig_list(state, access, Some(benchmark_id), &none, with_assets).await?;
    Ok(match found.into_iter().next() {
        Some(stig) => Json(stig).into_response(),
        None => StatusCode::NO_CONTENT.into_response(),
    })
}

pub async fn get_stigs_by_collection(
    caller: Caller<scope::CollectionRead>,
    State(state): State<AppState>,
    Path(collection_id): Path<String>,
    mut params: Params,
) -> ApiResult<Json<Vec<CollectionStigAssets>>> {
    let collection_id = parse_id(&collection_id, "params/collectionId")?;
    let labels = label_filter(&mut params)?;
    let with_assets = !params.choices("projection", &["assets"])?.is_empty();
    params.finish()?;
    let access = caller.granted_access(&state, collection_id, Role::Restricted).await?;
    Ok(Json(stig_list(&state, &access, None, &labels, with_assets).await?))
}

pub async fn get_stig_by_collection(
    caller: Caller<scope::CollectionRead>,
    State(state): State<AppState>,
    Path((collection_id, benchmark_id)): Path<(String, String)>,
    mut params: Params,
) -> ApiResult<Response> {
    let collection_id = parse_id(&collection_id, "params/collectionId")?;
    let with_assets = !params.choices("projection", &["assets"])?.is_empty();
    params.finish()?;
    let access = caller.granted_access(&state, collection_id, Role::Restricted).await?;
    one_stig(&state, &access, &benchmark_id, with_assets).await
}

pub async fn write_stig_props_by_collection_stig(
    caller: Caller<scope::Collection>,
    State(state): State<AppState>,
    Path((collection_id, benchmark_id)): Path<(String, String)>,
    mut params: Params,
    ApiJson(body): ApiJson<StigProps>,
) -> ApiResult<Response> {
    let collection_id = parse_id(&collection_id, "params/collectionId")?;
    let with_assets = !params.choices("projection", &["assets"])?.is_empty();
    params.finish()?;
    if body.default_revision_str.is_none() && body.asset_ids.is_none() {
        return Err(ApiError::Validation(
            "request/body must NOT have fewer than 1 properties".into(),
        ));
    }
    let access = caller.granted_access(&state, collection_id, Role::Manage).await?;
    let rev_id = match &body.default_revision_str {
        Some(rev) => Some(pin_target(&state, &benchmark_id, rev).await?),
        None => None,
    };
    if let Some(ids) = &body.asset_ids {
        if ids.is_empty() && rev_id.is_some() {
            return Err(ApiError::unprocessable(
                "Cannot set the default revision of a benchmarkId that has no mapped Assets",
            ));
        }
        let asset_ids: Vec<i64> = ids.iter().map(|id| id.0).collect();
        if !state.store.all_collection_members(collection_id, &asset_ids).await? {
            return Err(ApiError::privilege(NOT_MEMBER));
        }
        if !state.store.benchmark_exists(&benchmark_id).await? {
            return Err(ApiError::unprocessable("Unknown benchmarkId."));
        }
        state.store.set_stig_assets(collection_id, &benchmark_id, &asset_ids).await?;
    }
    if let Some(rev_id) = rev_id {
        let mapped = one_stig(&state, &access, &benchmark_id, false).await?;
        if mapped.status() == StatusCode::NO_CONTENT {
            return Err(ApiError::unprocessable(
                "Cannot set the default revision of a benchmarkId that has no mapped Assets",
            ));
        }
        state.store.pin_revision(collection_id, &benchmark_id, rev_id.as_deref()).await?;
    }
    one_stig(&state, &access, &benchmark_id, with_assets).await
}

/// `latest` unpins (`None`); a revision string must name an installed revision.
async fn pin_target(state: &AppState, benchmark_id: &str, rev: &str) -> ApiResult<Option<String>> {
    use stigward_storage::stigs::RevisionSelector;
    let invalid =
        || ApiError::unprocessable("The revisionStr is is not valid for the specified benchmarkId");
    if rev == "latest" {
        return match state.store.benchmark_exists(benchmark_id).await? {
            true => Ok(None),
            false => Err(invalid()),
        };
    }
    let parsed: stigward_domain::RevisionStr = rev.parse().map_err(|_| invalid())?;
    let selector = RevisionSelector::Exact { version: parsed.version, release: parsed.release };
    match state.store.rev_id(benchmark_id, &selector).await {
        Ok(rev_id) => Ok(Some(rev_id)),
        Err(StoreError::NotFound) => Err(invalid()),
        Err(other) => Err(other.into()),
    }
}

// ---- grants: Manage (or elevate); only owners touch owner grants

async fn grant_access(
    caller: &Authenticated,
    state: &AppState,
    collection_id: &str,
    mut params: Params,
) -> ApiResult<CollectionAccess> {
    let collection_id = parse_id(collection_id, "params/collectionId")?;
    params.flag("elevate")?;
    params.finish()?;
    let access = caller.collection_access(state, collection_id, Role::Manage).await?;
    collection_found(state.store.collection(collection_id, Default::default()).await)?;
    Ok(access)
}

async fn find_grant(
    state: &AppState,
    collection_id: i64,
    grant_id: &str,
) -> ApiResult<GrantRecord> {
    let grant_id = parse_id(grant_id, "params/grantId")?;
    let found = state.store.grant_record(collection_id, grant_id).await?;
    found.ok_or_else(|| ApiError::NotFound(Some("no such grant in collection".into())))
}

async fn grant_read(state: &AppState, collection_id: i64, grant_id: i64) -> ApiResult<GrantRead> {
    let grants = state.store.collection_grants(collection_id).await?;
    let found = grants.into_iter().find(|g| match g {
        GrantRead::User { grant_id: id, .. } | GrantRead::Group { grant_id: id, .. } => {
            *id == grant_id
        }
    });
    found.ok_or_else(|| ApiError::NotFound(Some("no such grant in collection".into())))
}

pub async fn get_grants_by_collection(
    caller: Caller<scope::CollectionRead>,
    State(state): State<AppState>,
    Path(collection_id): Path<String>,
    params: Params,
) -> ApiResult<Json<Vec<GrantRead>>> {
    let access = grant_access(&caller, &state, &collection_id, params).await?;
    Ok(Json(state.store.collection_grants(access.collection_id).await?))
}

pub async fn post_grants_by_collection(
    caller: Caller<scope::Collection>,
    State(state): State<AppState>,
    Path(collection_id): Path<String>,
    params: Params,
    ApiJson(body): ApiJson<Vec<GrantWrite>>,
) -> ApiResult<(StatusCode, Json<Vec<GrantRead>>)> {
    for (i, grant) in body.iter().enumerate() {
        validate_grant(grant, &i.to_string())?;
    }
    let access = grant_access(&caller, &state, &collection_id, params).await?;
    if body.iter().any(|g| g.role_id == Role::Owner.id()) && !access.may_manage_owners() {
        return Err(ApiError::privilege("cannot create owner grants"));
    }
    check_grants(&state, &body, "grantee has a conflicting grant").await?;
    let ids = state.store.insert_grants(access.collection_id, &body).await?;
    let mut created = Vec::new();
    for id in ids {
        created.push(grant_read(&state, access.collection_id, id).await?);
    }
    Ok((StatusCode::CREATED, Json(created)))
}

pub async fn get_grant_by_collection_grant(
    caller: Caller<scope::CollectionRead>,
    State(state): State<AppState>,
    Path((collection_id, grant_id)): Path<(String, String)>,
    params: Params,
) -> ApiResult<Json<GrantRead>> {
    let access = grant_access(&caller, &state, &collection_id, params).await?;
    let grant = find_grant(&state, access.collection_id, &grant_id).await?;
    Ok(Json(grant_read(&state, access.collection_id, grant.grant_id).await?))
}

pub async fn put_grant_by_collection_grant(
    caller: Caller<scope::Collection>,
    State(state): State<AppState>,
    Path((collection_id, grant_id)): Path<(String, String)>,
    params: Params,
    ApiJson(body): ApiJson<GrantWrite>,
) -> ApiResult<Json<GrantRead>> {
    validate_grant(&body, "")?;
    // the grantee is checked before the caller's permission, as upstream does
    let users: Vec<i64> = body.user_id.into_iter().collect();
    super::check_grantee_users(&state, &users).await?;
    let access = grant_access(&caller, &state, &collection_id, params).await?;
    let grant = find_grant(&state, access.collection_id, &grant_id).await?;
    if !access.may_manage_owners() {
        if grant.role == Role::Owner {
            return Err(ApiError::privilege("cannot modify owner grants"));
        }
        if body.role_id == Role::Owner.id() {
            return Err(ApiError::privilege("cannot create owner grants"));
        }
    }
    let groups: Vec<i64> = body.user_group_id.into_iter().collect();
    if !state.store.user_groups_exist(&groups).await? {
        return Err(ApiError::unprocessable("no such grantee"));
    }
    state.store.update_grant(&grant, &body).await?;
    Ok(Json(grant_read(&state, access.collection_id, grant.grant_id).await?))
}

pub async fn delete_grant_by_collection_grant(
    caller: Caller<scope::Collection>,
    State(state): State<AppState>,
    Path((collection_id, grant_id)): Path<(String, String)>,
    params: Params,
) -> ApiResult<Json<GrantRead>> {
    let access = grant_access(&caller, &state, &collection_id, params).await?;
    let grant = find_grant(&state, access.collection_id, &grant_id).await?;
    if grant.role == Role::Owner && !access.may_manage_owners() {
        return Err(ApiError::privilege("cannot remove owner grants"));
    }
    let before = grant_read(&state, access.collection_id, grant.grant_id).await?;
    state.store.delete_grant(grant.grant_id).await?;
    Ok(Json(before))
}

// ---- ACLs: a Manage grant; elevation is no substitute

pub async fn get_acl_rules_by_collection_grant(
    caller: Caller<scope::CollectionRead>,
    State(state): State<AppState>,
    Path((collection_id, grant_id)): Path<(String, String)>,
    params: Params,
) -> ApiResult<Json<GrantAcl>> {
    let collection_id = parse_id(&collection_id, "params/collectionId")?;
    params.finish()?;
    caller.granted_access(&state, collection_id, Role::Manage).await?;
    let grant = find_grant(&state, collection_id, &grant_id).await?;
    Ok(Json(state.store.grant_acl(&grant).await?))
}

pub async fn put_acl_rules_by_collection_grant(
    caller: Caller<scope::Collection>,
    State(state): State<AppState>,
    Path((collection_id, grant_id)): Path<(String, String)>,
    params: Params,
    ApiJson(body): ApiJson<Vec<Value>>,
) -> ApiResult<Json<GrantAcl>> {
    let collection_id = parse_id(&collection_id, "params/collectionId")?;
    params.finish()?;
    let items = acl_items(body)?;
    caller.granted_access(&state, collection_id, Role::Manage).await?;
    let grant = find_grant(&state, collection_id, &grant_id).await?;
    let rules = match state.store.check_acl(collection_id, grant.role, &items).await? {
        Ok(rules) => rules,
        Err(failures) => return Err(ApiError::Unprocessable(failures)),
    };
    state.store.replace_acl(grant.grant_id, &rules, caller.user_id, caller.now).await?;
    Ok(Json(state.store.grant_acl(&grant).await?))
}

/// Reads each ACL item, keeping the item as sent for the 422 report.
fn acl_items(body: Vec<Value>) -> ApiResult<Vec<(Value, AclRulePut)>> {
    body.into_iter()
        .enumerate()
        .map(|(i, value)| {
            let bad = |e: String| ApiError::Validation(format!("request/body/{i} {e}"));
            let rule: AclRulePut =
                serde_json::from_value(value.clone()).map_err(|e| bad(e.to_string()))?;
            if rule.asset_id.is_some() && rule.label_id.is_some() {
                return Err(bad("must not have both assetId and labelId".into()));
            }
            if !["r", "rw", "none"].contains(&rule.access.as_str()) {
                return Err(bad("access must be one of: r, rw, none".into()));
            }
            if let Some(label) = &rule.label_id {
                label_uuid(label)?;
            }
            Ok((value, rule))
        })
        .collect()
}

pub async fn get_effective_acl_by_collection_user(
    caller: Caller<scope::CollectionRead>,
    State(state): State<AppState>,
    Path((collection_id, user_id)): Path<(String, String)>,
    params: Params,
) -> ApiResult<Json<Vec<EffectiveAcl>>> {
    let collection_id = parse_id(&collection_id, "params/collectionId")?;
    let user_id = parse_id(&user_id, "params/userId")?;
    params.finish()?;
    caller.granted_access(&state, collection_id, Role::Manage).await?;
    match state.store.effective_acl(collection_id, user_id).await? {
        Some(acl) => Ok(Json(acl)),
        None => Err(ApiError::unprocessable("user has no direct or group grant in collection")),
    }
}
