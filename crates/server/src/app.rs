//! The HTTP application: `app` assembles the router, `serve` runs it on a bound listener until
//! the shutdown future completes.

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use axum::extract::{DefaultBodyLimit, State};
use axum::http::HeaderMap;
use axum::middleware::{from_fn, from_fn_with_state};
use axum::routing::get;
use axum::{Json, Router};
use axum_server::tls_rustls::RustlsAcceptor;
use axum_server::Handle;
use serde_json::Value;
use tokio::net::TcpListener;

use crate::error::{ApiError, ApiResult};
use crate::ops::state::Phase;
use crate::state::AppState;
use crate::{auth, forwarded, ops, routes, telemetry, tls};

pub fn app(state: AppState) -> Router {
    let api = routes::api_routes(state.config.max_upload)
        .route_layer(from_fn(telemetry::record_route))
        .route_layer(from_fn(ops::request_stats::tag))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(from_fn_with_state(state.clone(), auth::authenticate))
        .layer(from_fn_with_state(state.clone(), ops::state::gate))
        .layer(DefaultBodyLimit::max(state.config.max_json_body));
    let root = crate::client::routes(Router::new(), &state.config.client);
    root.nest("/api", api)
        .route("/oidc/.well-known/openid-configuration", get(oidc_discovery))
        .route("/oidc/jwks", get(oidc_jwks))
        .route("/socket/log-socket", get(crate::log_socket::log_socket))
        .route("/health/live", get(ops::health::live))
        .route("/health/ready", get(ops::health::ready))
        .layer(from_fn_with_state(state.clone(), ops::request_stats::record))
        .layer(from_fn_with_state(state.clone(), telemetry::request_span))
        .with_state(state)
}

/// Serves until `shutdown` completes, with the dependency monitors and the job scheduler
/// running. At shutdown the state becomes `stop`, which ends every SSE stream, so open streams
/// do not hold the graceful shutdown up. A client that is slow to send its request headers is
/// disconnected after `STIGWARD_HEADER_READ_TIMEOUT_MS`.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let probe_every = Duration::from_millis(state.config.db_probe_ms);
    ops::monitor::spawn(&state.status, state.store.clone(), &state.verifier, probe_every);
    let tick = Duration::from_millis(state.config.scheduler_tick_ms);
    ops::jobs::spawn_scheduler(state.store.clone(), &state.status, state.clock, tick);
    let tls = match (&state.config.tls_cert_file, &state.config.tls_key_file) {
        (Some(cert), Some(key)) => {
            let passphrase = state.config.tls_key_passphrase.as_deref();
            Some(tls::load(cert, key, passphrase).await?)
        }
        _ => None,
    };
    let handle = Handle::new();
    let stopper = handle.clone();
    let status = state.status.clone();
    tokio::spawn(async move {
        shutdown.await;
        status.finish(Phase::Stop);
        stopper.graceful_shutdown(None);
    });
    let header_timeout = Duration::from_millis(state.config.header_read_timeout_ms);
    let service = app(state).into_make_service_with_connect_info::<SocketAddr>();
    let mut server =
        axum_server::from_tcp(listener.into_std()?)?.first_request_timeout(header_timeout);
    server.http_builder().http1().header_read_timeout(header_timeout);
    let server = server.handle(handle);
    match tls {
        Some(config) => server.acceptor(RustlsAcceptor::new(config)).serve(service).await,
        None => server.serve(service).await,
    }
}

async fn not_found() -> ApiError {
    ApiError::NotFound(Some("No such endpoint.".into()))
}

async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed
}

/// The built-in issuer's discovery document; 404 when an external provider is configured.
/// Behind a proxy the key URL is the one clients reach (see `forwarded`).
async fn oidc_discovery(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> ApiResult<Json<Value>> {
    let issuer = state.issuer.as_ref().ok_or(ApiError::NotFound(None))?;
    let mut discovery = issuer.discovery();
    let configured = state.config.local_issuer_url();
    let base = forwarded::external_base(&headers, configured.trim_end_matches("/oidc"));
    discovery["jwks_uri"] = Value::String(format!("{base}/oidc/jwks"));
    Ok(Json(discovery))
}

async fn oidc_jwks(State(state): State<AppState>) -> ApiResult<Json<Value>> {
    let issuer = state.issuer.as_ref().ok_or(ApiError::NotFound(None))?;
    Ok(Json(issuer.jwks()))
}
