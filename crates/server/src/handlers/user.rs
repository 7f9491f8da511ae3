//! The User tag: the requester's own record and preferences, user administration and user
//! groups. Administration needs `elevate=true`; listing users and groups does not.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde_json::Value;
use stigward_domain::Role;
use stigward_storage::collections::NameFilter;
use stigward_storage::user_groups::{GroupChange, GroupProjection};
use stigward_storage::users::{ClaimNames, UserChange, UserFilter, UserProjection};
use stigward_storage::StoreError;
use stigward_wire::user::{
    CollectionGrantWrite, Privileges, User, UserGroup, UserGroupWrite, UserWrite,
    WebPreferencesPatch,
};

use crate::auth::{scope, Authenticated, Caller};
use crate::error::{ApiError, ApiResult};
use crate::extract::{parse_id, ApiJson, Params, Path};
use crate::state::AppState;

const USER_PROJECTIONS: &[&str] =
    &["collectionGrants", "statistics", "userGroups", "webPreferences"];
const GROUP_PROJECTIONS: &[&str] = &["users", "collections", "collectionGrants", "attributions"];

fn claim_names(state: &AppState) -> ClaimNames {
    ClaimNames {
        name: state.claims.name.clone(),
        email: state.claims.email.clone(),
        privileges: state.claims.privileges.clone(),
    }
}

pub async fn get_user(
    caller: Caller<scope::UserRead>,
    State(state): State<AppState>,
    mut params: Params,
) -> ApiResult<Json<User>> {
    let with_prefs = params.choice("projection", &["webPreferences"])?.is_some();
    params.flag("elevate")?;
    params.finish()?;
    let mut user = state.store.user_info(caller.user_id, &claim_names(&state), with_prefs).await?;
    user.privileges = Privileges {
        create_collection: caller.privileges.create_collection,
        admin: caller.privileges.admin,
    };
    Ok(Json(user))
}

pub async fn get_user_web_preferences(
    caller: Caller<scope::UserRead>,
    State(state): State<AppState>,
    params: Params,
) -> ApiResult<Json<Value>> {
    params.finish()?;
    Ok(Json(state.store.web_preferences(caller.user_id).await?))
}

pub async fn patch_user_web_preferences(
    caller: Caller<scope::UserRead>,
    State(state): State<AppState>,
    params: Params,
    ApiJson(body): ApiJson<WebPreferencesPatch>,
) -> ApiResult<Json<Value>> {
    params.finish()?;
    if body == WebPreferencesPatch::default() {
        return Err(no_properties());
    }
    let mut prefs = state.store.web_preferences(caller.user_id).await?;
    if let Some(map) = prefs.as_object_mut() {
        if let Some(dark) = body.dark_mode {
            map.insert("darkMode".into(), Value::Bool(dark));
        }
        if let Some(date) = body.last_whats_new {
            if chrono::NaiveDate::parse_from_str(&date, "%Y-%m-%d").is_err() {
                return Err(ApiError::Validation(
                    "request/body/lastWhatsNew must be a date".into(),
                ));
            }
            map.insert("lastWhatsNew".into(), Value::String(date));
        }
    }
    state.store.set_web_preferences(caller.user_id, &prefs).await?;
    Ok(Json(prefs))
}

fn user_projection(names: &[String]) -> UserProjection {
    let has = |p: &str| names.iter().any(|n| n == p);
    UserProjection {
        collection_grants: has("collectionGrants"),
        statistics: has("statistics"),
        user_groups: has("userGroups"),
        web_preferences: has("webPreferences"),
    }
}

fn require_elevation(caller: &Authenticated) -> ApiResult<()> {
    match caller.elevate {
        true => Ok(()),
        false => Err(ApiError::Privilege(None)),
    }
}

pub async fn get_users(
    caller: Caller<scope::UserRead>,
    State(state): State<AppState>,
    mut params: Params,
) -> ApiResult<Json<Vec<User>>> {
    let projections = params.choices("projection", USER_PROJECTIONS)?;
    let username = params.one("username")?;
    let matching =
        params.choice("username-match", &["exact", "startsWith", "endsWith", "contains"])?;
    let filter = UserFilter {
        username: username
            .map(|name| NameFilter { name, matching: matching.unwrap_or_else(|| "exact".into()) }),
        privilege: params.choice("privilege", &["admin", "create_collection"])?,
        status: params.choice("status", &["available", "unavailable"])?,
    };
    params.flag("elevate")?;
    params.finish()?;
    // projections show grants and claims: elevated callers only
    if !projections.is_empty() {
        require_elevation(&caller)?;
    }
    let names = claim_names(&state);
    Ok(Json(state.store.users(&filter, &names, user_projection(&projections)).await?))
}

pub async fn get_user_by_user_id(
    caller: Caller<scope::UserRead>,
    State(state): State<AppState>,
    Path(user_id): Path<String>,
    mut params: Params,
) -> ApiResult<Json<User>> {
    let user_id = parse_id(&user_id, "params/userId")?;
    let projection = user_projection(&params.choices("projection", USER_PROJECTIONS)?);
    params.flag("elevate")?;
    params.finish()?;
    require_elevation(&caller)?;
    Ok(Json(found_user(state.store.user_view(user_id, &claim_names(&state), projection).await)?))
}

fn found_user<T>(read: Result<T, StoreError>) -> ApiResult<T> {
    match read {
        Err(StoreError::NotFound) => Err(ApiError::NotFound(Some("UserId not found.".into()))),
        other => Ok(other?),
    }
}

/// Checks a user body against the status rules and the data; returns the change to apply.
async fn user_change(
    state: &AppState,
    body: UserWrite,
    current_status: Option<&str>,
) -> ApiResult<UserChange> {
    if let Some(name) = &body.username {
        if !(1..=255).contains(&name.chars().count()) {
            return Err(ApiError::Validation(
                "request/body/username must be 1 to 255 characters".into(),
            ));
        }
    }
    if let Some(status) = &body.status {
        if !["available", "unavailable"].contains(&status.as_str()) {
            return Err(ApiError::Validation(
                "request/body/status must be available or unavailable".into(),
            ));
        }
    }
    let grants = body.collection_grants.map(|g| grant_pairs(&g)).transpose()?;
    let groups: Option<Vec<i64>> = body.user_groups.map(|g| g.iter().map(|id| id.0).collect());
    let intended = body.status.as_deref().or(current_status).unwrap_or("available");
    let unavailable = intended == "unavailable";
    let nonempty = grants.as_ref().is_some_and(|g| !g.is_empty())
        || groups.as_ref().is_some_and(|g| !g.is_empty());
    if unavailable && nonempty {
        return Err(ApiError::UserInconsistent);
    }
    if let Some(grants) = &grants {
        let ids: Vec<i64> = grants.iter().map(|(c, _)| *c).collect();
        if state.store.invalid_collections(&ids).await? {
            return Err(ApiError::unprocessable("One or more collectionIds are invalid."));
        }
    }
    if let Some(groups) = &groups {
        if !state.store.user_groups_exist(groups).await? {
            return Err(ApiError::unprocessable("One or more userGroupIds are invalid."));
        }
    }
    Ok(UserChange { username: body.username, status: body.status, grants, groups })
}

/// (collection id, role id) pairs; a collection named twice is refused, as a collection's
/// grants refuse a user named twice.
fn grant_pairs(grants: &[CollectionGrantWrite]) -> ApiResult<Vec<(i64, i64)>> {
    let mut seen = std::collections::HashSet::new();
    if grants.iter().any(|g| !seen.insert(g.collection_id)) {
        return Err(ApiError::unprocessable("Duplicate collectionId in collectionGrants array"));
    }
    grants
        .iter()
        .enumerate()
        .map(|(i, g)| {
            Role::try_from(g.role_id).map(|r| (g.collection_id, r.id())).map_err(|e| {
                ApiError::Validation(format!("request/body/collectionGrants/{i}/roleId: {e}"))
            })
        })
        .collect()
}

pub async fn create_user(
    caller: Caller<scope::User>,
    State(state): State<AppState>,
    mut params: Params,
    ApiJson(body): ApiJson<UserWrite>,
) -> ApiResult<(StatusCode, Json<User>)> {
    let projection = user_projection(&params.choices("projection", USER_PROJECTIONS)?);
    params.flag("elevate")?;
    params.finish()?;
    if body.username.is_none() || body.collection_grants.is_none() {
        return Err(ApiError::Validation(
            "request/body must have required properties 'username' and 'collectionGrants'".into(),
        ));
    }
    if body.status.is_some() {
        return Err(ApiError::Validation(
            "request/body must NOT have additional property 'status'".into(),
        ));
    }
    require_elevation(&caller)?;
    let change = user_change(&state, body, None).await?;
    let user_id = state.store.create_user(&change, caller.now).await?;
    let user = state.store.user_view(user_id, &claim_names(&state), projection).await?;
    Ok((StatusCode::CREATED, Json(user)))
}

pub async fn update_user(
    caller: Caller<scope::User>,
    State(state): State<AppState>,
    Path(user_id): Path<String>,
    params: Params,
    ApiJson(body): ApiJson<UserWrite>,
) -> ApiResult<Json<User>> {
    if body == UserWrite::default() {
        return Err(no_properties());
    }
    change_user(caller, state, user_id, params, body, true).await
}

/// The PATCH schemas (`UserPatch`, `UserGroupPatch`, `WebPreferencesPatch`) have
/// `minProperties: 1`.
fn no_properties() -> ApiError {
    ApiError::Validation("request/body must NOT have fewer than 1 properties".into())
}

pub async fn replace_user(
    caller: Caller<scope::User>,
    State(state): State<AppState>,
    Path(user_id): Path<String>,
    params: Params,
    ApiJson(body): ApiJson<UserWrite>,
) -> ApiResult<Json<User>> {
    if body.collection_grants.is_none() {
        return Err(ApiError::Validation(
            "request/body must have required property 'collectionGrants'".into(),
        ));
    }
    change_user(caller, state, user_id, params, body, false).await
}

async fn change_user(
    caller: Caller<scope::User>,
    state: AppState,
    user_id: String,
    mut params: Params,
    body: UserWrite,
    patch: bool,
) -> ApiResult<Json<User>> {
    let user_id = parse_id(&user_id, "params/userId")?;
    let projection = user_projection(&params.choices("projection", USER_PROJECTIONS)?);
    params.flag("elevate")?;
    params.finish()?;
    require_elevation(&caller)?;
    let names = claim_names(&state);
    let current =
        found_user(state.store.user_view(user_id, &names, UserProjection::default()).await)?;
    let mut change = user_change(&state, body, Some(&current.status)).await?;
    let unavailable = change.status.as_deref().unwrap_or(&current.status) == "unavailable";
    if patch && unavailable {
        // an unavailable user keeps no grants and no group memberships
        change.grants = Some(Vec::new());
        change.groups = Some(Vec::new());
    }
    state.store.update_user(user_id, &change, caller.user_id, caller.now).await?;
    Ok(Json(state.store.user_view(user_id, &names, projection).await?))
}

pub async fn delete_user(
    caller: Caller<scope::User>,
    State(state): State<AppState>,
    Path(user_id): Path<String>,
    mut params: Params,
) -> ApiResult<Json<User>> {
    let user_id = parse_id(&user_id, "params/userId")?;
    let projection = user_projection(&params.choices("projection", USER_PROJECTIONS)?);
    params.flag("elevate")?;
    params.finish()?;
    require_elevation(&caller)?;
    let before =
        found_user(state.store.user_view(user_id, &claim_names(&state), projection).await)?;
    if before.last_access.is_some() {
        return Err(ApiError::unprocessable("User has accessed the system. Use PATCH to remove collection grants or configure Authentication provider to reject user entirely."));
    }
    state.store.delete_user(user_id).await?;
    Ok(Json(before))
}

// ---- user groups

fn group_projection(caller: &Authenticated, names: &[String]) -> ApiResult<GroupProjection> {
    let has = |p: &str| names.iter().any(|n| n == p);
    if has("collections") && !caller.elevate {
        return Err(ApiError::privilege("collections projection requires elevation"));
    }
    Ok(GroupProjection {
        users: has("users"),
        collection_grants: has("collections") || has("collectionGrants"),
        attributions: has("attributions"),
    })
}

pub async fn get_user_groups(
    caller: Caller<scope::UserRead>,
    State(state): State<AppState>,
    mut params: Params,
) -> ApiResult<Json<Vec<UserGroup>>> {
    let names = params.choices("projection", GROUP_PROJECTIONS)?;
    params.flag("elevate")?;
    params.finish()?;
    let projection = group_projection(&caller, &names)?;
    Ok(Json(state.store.user_groups(&claim_names(&state), projection).await?))
}

pub async fn get_user_group(
    caller: Caller<scope::UserRead>,
    State(state): State<AppState>,
    Path(group_id): Path<String>,
    mut params: Params,
) -> ApiResult<Json<UserGroup>> {
    let group_id = parse_id(&group_id, "params/userGroupId")?;
    let names = params.choices("projection", GROUP_PROJECTIONS)?;
    params.flag("elevate")?;
    params.finish()?;
    let projection = group_projection(&caller, &names)?;
    let group = state.store.user_group(group_id, &claim_names(&state), projection).await?;
    group.map(Json).ok_or_else(|| ApiError::NotFound(Some("UserGroup not found.".into())))
}

/// Members must exist and be available, then collections must be enabled.
async fn group_change(state: &AppState, body: UserGroupWrite) -> ApiResult<GroupChange> {
    if body.name.as_ref().is_some_and(|n| !(1..=255).contains(&n.chars().count())) {
        return Err(ApiError::Validation("request/body/name must be 1 to 255 characters".into()));
    }
    let user_ids: Option<Vec<i64>> = body.user_ids.map(|ids| ids.iter().map(|id| id.0).collect());
    if let Some(ids) = &user_ids {
        super::check_grantee_users(state, ids).await?;
    }
    let grants = body.collection_grants.map(|g| grant_pairs(&g)).transpose()?;
    if let Some(grants) = &grants {
        let ids: Vec<i64> = grants.iter().map(|(c, _)| *c).collect();
        if state.store.invalid_collections(&ids).await? {
            return Err(ApiError::unprocessable("One or more collectionIds are invalid."));
        }
    }
    Ok(GroupChange { name: body.name, description: body.description, user_ids, grants })
}

pub async fn create_user_group(
    caller: Caller<scope::User>,
    State(state): State<AppState>,
    mut params: Params,
    ApiJson(body): ApiJson<UserGroupWrite>,
) -> ApiResult<(StatusCode, Json<UserGroup>)> {
    let names = params.choices("projection", GROUP_PROJECTIONS)?;
    params.flag("elevate")?;
    params.finish()?;
    if body.name.is_none() {
        return Err(ApiError::Validation("request/body must have required property 'name'".into()));
    }
    require_elevation(&caller)?;
    let projection = group_projection(&caller, &names)?;
    let change = group_change(&state, body).await?;
    let id = state.store.create_user_group(&change, caller.user_id, caller.now).await?;
    let group = state.store.user_group(id, &claim_names(&state), projection).await?;
    let group = group.ok_or_else(|| ApiError::Internal("group vanished".into()))?;
    Ok((StatusCode::CREATED, Json(group)))
}

pub async fn patch_user_group(
    caller: Caller<scope::User>,
    State(state): State<AppState>,
    Path(group_id): Path<String>,
    params: Params,
    ApiJson(body): ApiJson<UserGroupWrite>,
) -> ApiResult<Json<UserGroup>> {
    if body == UserGroupWrite::default() {
        return Err(no_properties());
    }
    change_user_group(caller, state, group_id, params, body).await
}

pub async fn put_user_group(
    caller: Caller<scope::User>,
    State(state): State<AppState>,
    Path(group_id): Path<String>,
    params: Params,
    ApiJson(body): ApiJson<UserGroupWrite>,
) -> ApiResult<Json<UserGroup>> {
    change_user_group(caller, state, group_id, params, body).await
}

/// PUT and PATCH both merge, as upstream does.
async fn change_user_group(
    caller: Caller<scope::User>,
    state: AppState,
    group_id: String,
    mut params: Params,
    body: UserGroupWrite,
) -> ApiResult<Json<UserGroup>> {
    let group_id = parse_id(&group_id, "params/userGroupId")?;
    let names = params.choices("projection", GROUP_PROJECTIONS)?;
    params.flag("elevate")?;
    params.finish()?;
    require_elevation(&caller)?;
    let projection = group_projection(&caller, &names)?;
    let change = group_change(&state, body).await?;
    match state.store.update_user_group(group_id, &change, caller.user_id, caller.now).await {
        Err(StoreError::NotFound) => {
            return Err(ApiError::NotFound(Some("UserGroup not found.".into())))
        }
        other => other?,
    }
    let group = state.store.user_group(group_id, &claim_names(&state), projection).await?;
    group.map(Json).ok_or_else(|| ApiError::NotFound(Some("UserGroup not found.".into())))
}

pub async fn delete_user_group(
    caller: Caller<scope::User>,
    State(state): State<AppState>,
    Path(group_id): Path<String>,
    mut params: Params,
) -> ApiResult<Json<Option<UserGroup>>> {
    let group_id = parse_id(&group_id, "params/userGroupId")?;
    let names = params.choices("projection", GROUP_PROJECTIONS)?;
    params.flag("elevate")?;
    params.finish()?;
    require_elevation(&caller)?;
    let projection = group_projection(&caller, &names)?;
    // upstream answers 200 even for an unknown group, with an empty body
    let before = state.store.user_group(group_id, &claim_names(&state), projection).await?;
    state.store.delete_user_group(group_id).await?;
    Ok(Json(before))
}
