//! The Operation tag's deployment reports: `getAppInfo`, its deprecated alias `getDetails`,
//! and `getAppDataTables`. All need an admin acting with `elevate=true`.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::Json;
use stigward_storage::appinfo::{iso, UserStats};
use stigward_wire::appinfo::{
    AppDataTable, AppInfo, AppInfoDatabase, AppInfoRuntime, AppInfoUser, AppInfoUsers,
};

use crate::auth::{scope, Caller};
use crate::error::{ApiError, ApiResult};
use crate::extract::Params;
use crate::state::AppState;

const SCHEMA: &str = "stig-manager-appinfo-v1.1";

pub async fn get_app_info(
    caller: Caller<scope::OpRead>,
    State(state): State<AppState>,
    mut params: Params,
) -> ApiResult<Json<AppInfo>> {
    params.flag("elevate")?;
    let exact = params.flag("includeRowCounts")?;
    params.finish()?;
    require_elevation(&caller)?;
    Ok(Json(app_info(&state, exact).await?))
}

/// Deprecated upstream in favour of `/op/appinfo`, and answered the same way.
pub async fn get_details(
    caller: Caller<scope::OpRead>,
    State(state): State<AppState>,
    mut params: Params,
) -> ApiResult<Json<AppInfo>> {
    params.flag("elevate")?;
    params.finish()?;
    require_elevation(&caller)?;
    Ok(Json(app_info(&state, false).await?))
}

pub async fn get_app_data_tables(
    caller: Caller<scope::OpRead>,
    State(state): State<AppState>,
    mut params: Params,
) -> ApiResult<Json<Vec<AppDataTable>>> {
    params.flag("elevate")?;
    params.finish()?;
    require_elevation(&caller)?;
    Ok(Json(state.store.appdata_tables().await?))
}

fn require_elevation(caller: &Caller<scope::OpRead>) -> ApiResult<()> {
    match caller.elevate {
        true => Ok(()),
        false => Err(ApiError::privilege("Requires elevate=true.")),
    }
}

// Known shortcoming: the database `variables`/`status` sections are empty.
async fn app_info(state: &AppState, exact: bool) -> ApiResult<AppInfo> {
    let store = &state.store;
    let version = env!("CARGO_PKG_VERSION").to_string();
    Ok(AppInfo {
        date: iso((state.clock)()),
        schema: SCHEMA,
        version: version.clone(),
        collections: store.appinfo_collections().await?,
        requests: state.requests.snapshot(),
        users: users(state, store.appinfo_users().await?),
        groups: store.appinfo_groups().await?,
        mysql: AppInfoDatabase {
            version: store.database_version().await?,
            tables: store.appinfo_tables(exact).await?,
            variables: BTreeMap::new(),
            status: BTreeMap::new(),
        },
        nodejs: AppInfoRuntime { version, runtime: "stigward (Rust)" },
    })
}

fn users(state: &AppState, stats: Vec<UserStats>) -> AppInfoUsers {
    let mut user_info = BTreeMap::new();
    let mut overall: BTreeMap<String, i64> = BTreeMap::new();
    for user in stats {
        let claims = user.last_claims.as_object().cloned().unwrap_or_default();
        let held = stigward_auth::privileges(&claims, &state.claims);
        let mut privileges = Vec::new();
        if held.admin {
            privileges.push("admin".to_string());
        }
        if held.create_collection {
            privileges.push("create_collection".to_string());
        }
        for privilege in privileges.iter().map(String::as_str).chain(["users"]) {
            *overall.entry(privilege.to_string()).or_default() += 1;
        }
        let info = AppInfoUser {
            username: user.username,
            created: iso(user.created),
            last_access: user.last_access,
            privileges,
            roles: user.roles,
        };
        user_info.insert(user.user_id.to_string(), info);
    }
    AppInfoUsers {
        user_info,
        user_privilege_counts: BTreeMap::from([("overall".to_string(), overall)]),
    }
}
