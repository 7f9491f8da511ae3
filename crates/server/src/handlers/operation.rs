//! The Operation tag: configuration, the API definition, the API state (plain and as Server-Sent
//! Events), and loading the CCI list.

use std::time::Duration;

use axum::extract::State;
use axum::http::header::{HeaderName, HeaderValue};
use axum::http::HeaderMap;
use axum::response::sse::Sse;
use axum::response::IntoResponse;
use axum::Json;
use serde_json::Value;
use serde_json_path::JsonPath;
use stigward_wire::op::{Commit, Configuration};
use stigward_wire::stig::CciImport;

use crate::auth::{scope, Caller};
use crate::error::{ApiError, ApiResult};
use crate::extract::Params;
use crate::ops::events::state_events;
use crate::ops::state::StateReport;
use crate::state::AppState;

pub async fn get_configuration(
    State(state): State<AppState>,
    params: Params,
) -> ApiResult<Json<Configuration>> {
    params.finish()?;
    let na = || "na".to_string();
    Ok(Json(Configuration {
        version: env!("CARGO_PKG_VERSION").to_string(),
        commit: Commit { branch: na(), sha: na(), tag: na(), describe: na() },
        last_migration: state.store.last_migration(),
        classification: state.config.classification.clone(),
    }))
}

/// Stigward's own OpenAPI document, as JSON, or with `jsonpath` (RFC 9535) the array of the
/// nodes it selects. The server URL is STIGMAN_SWAGGER_SERVER, else the one clients reach
/// (behind a proxy, see `forwarded`).
pub async fn get_definition(
    State(state): State<AppState>,
    headers: HeaderMap,
    mut params: Params,
) -> ApiResult<Json<Value>> {
    let path = params.one("jsonpath")?;
    params.finish()?;
    let path = path
        .map(|p| JsonPath::parse(&p))
        .transpose()
        .map_err(|e| ApiError::Validation(format!("jsonpath: {e}")))?;
    let mut definition = state.definition.as_ref().clone();
    let server = match &state.config.swagger_server {
        Some(url) => url.clone(),
        None => {
            let configured = state.config.local_issuer_url();
            let configured = configured.trim_end_matches("/oidc");
            format!("{}/api", crate::forwarded::external_base(&headers, configured))
        }
    };
    definition["servers"] = serde_json::json!([{ "url": server }]);
    match path {
        None => Ok(Json(definition)),
        Some(path) => Ok(Json(path.query(&definition).all().into_iter().cloned().collect())),
    }
}

/// Stigward's own operation: replaces the CCI list with an uploaded DISA `U_CCI_List.xml`.
pub async fn import_ccis(
    caller: Caller<scope::Op>,
    State(state): State<AppState>,
    mut params: Params,
    upload: super::Upload,
) -> ApiResult<Json<CciImport>> {
    params.flag("elevate")?;
    params.finish()?;
    if !caller.elevate {
        return Err(ApiError::privilege("Loading the CCI list requires elevate=true."));
    }
    Ok(Json(crate::library::import_cci_list(&state.store, &upload.bytes).await?))
}

/// The API state; needs no token and is served whatever the state.
pub async fn get_state(
    State(state): State<AppState>,
    params: Params,
) -> ApiResult<Json<StateReport>> {
    params.finish()?;
    Ok(Json(state.status.report()))
}

/// The API state as Server-Sent Events (see `ops::events`).
pub async fn stream_state_sse(
    State(state): State<AppState>,
    params: Params,
) -> ApiResult<impl IntoResponse> {
    params.finish()?;
    let keepalive = Duration::from_millis(state.config.sse_keepalive_ms);
    let stream = state_events(state.status.clone(), keepalive);
    // proxies such as nginx must pass each event on as it comes
    let unbuffered = (HeaderName::from_static("x-accel-buffering"), HeaderValue::from_static("no"));
    Ok(([unbuffered], Sse::new(stream)))
}
