//! The HTTP application: `app` assembles the router, `serve` runs it on a bound listener until
//! the shutdown future completes.

use std::future::Future;
use std::net::SocketAddr;

use axum::extract::{DefaultBodyLimit, State};
use axum::middleware::{from_fn, from_fn_with_state};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::Value;
use tokio::net::TcpListener;

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::{auth, routes, telemetry};

pub fn app(state: AppState) -> Router {
    let api = routes::api_routes(state.config.max_upload)
        .route_layer(from_fn(telemetry::record_route))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(from_fn_with_state(state.clone(), auth::authenticate))
        .layer(DefaultBodyLimit::max(state.config.max_json_body));
    Router::new()
        .nest("/api", api)
        .route("/oidc/.well-known/openid-configuration", get(oidc_discovery))
        .route("/oidc/jwks", get(oidc_jwks))
        .layer(from_fn_with_state(state.clone(), telemetry::request_span))
        .with_state(state)
}

pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let service = app(state).into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, service).with_graceful_shutdown(shutdown).await
}

async fn not_found() -> ApiError {
    ApiError::NotFound(Some("No such endpoint.".into()))
}

async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed
}

/// The built-in issuer's discovery document; 404 when an external provider is configured.
async fn oidc_discovery(State(state): State<AppState>) -> ApiResult<Json<Value>> {
    let issuer = state.issuer.as_ref().ok_or(ApiError::NotFound(None))?;
    Ok(Json(issuer.discovery()))
}

async fn oidc_jwks(State(state): State<AppState>) -> ApiResult<Json<Value>> {
    let issuer = state.issuer.as_ref().ok_or(ApiError::NotFound(None))?;
    Ok(Json(issuer.jwks()))
}
