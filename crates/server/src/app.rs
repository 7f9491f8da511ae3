//! The HTTP application: `app` assembles the router, `serve` runs it on a bound listener until
//! the shutdown future completes.

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{header, HeaderMap};
use axum::middleware::{from_fn, from_fn_with_state, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use axum_server::tls_rustls::RustlsAcceptor;
use axum_server::Handle;
use serde_json::Value;
use tokio::net::TcpListener;
use tower_http::timeout::RequestBodyTimeoutLayer;

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
        .layer(from_fn_with_state(state.clone(), refuse_declared_oversize))
        .layer(DefaultBodyLimit::max(state.config.max_json_body));
    let root = crate::client::routes(Router::new(), &state.config.client);
    let body_read_timeout = Duration::from_millis(state.config.body_read_timeout_ms);
    // `nest` does not take `/api/`; sent through the API router it meets the same token
    // check, state gate and JSON 404 as any other unknown API path
    let api_slash = api.clone().with_state(state.clone());
    root.nest("/api", api)
        .route_service("/api/", api_slash)
        .route("/oidc/.well-known/openid-configuration", get(oidc_discovery))
        .route("/oidc/jwks", get(oidc_jwks))
        .route("/socket/log-socket", get(crate::log_socket::log_socket))
        .route("/health/live", get(ops::health::live))
        .route("/health/ready", get(ops::health::ready))
        .layer(from_fn_with_state(state.clone(), ops::request_stats::record))
        .layer(from_fn_with_state(state.clone(), telemetry::request_span))
        // a client that stops sending its body gets an error instead of holding the
        // connection open
        .layer(RequestBodyTimeoutLayer::new(body_read_timeout))
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

/// Refuses a JSON body whose declared length is over `STIGMAN_API_MAX_JSON_BODY` before any
/// of it is read, as STIG Manager's body parser does. The body limit alone only trips once
/// that much has arrived, so a client announcing a large body it never sends held the request
/// open instead of getting its 413.
async fn refuse_declared_oversize(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let limit = state.config.max_json_body as u64;
    match declared_json_length(request.headers()) {
        Some(length) if length > limit => ApiError::PayloadTooLarge(format!(
            "declared length {length} is over the limit of {limit} bytes"
        ))
        .into_response(),
        _ => next.run(request).await,
    }
}

/// The `Content-Length` of a request with a JSON body (`application/json` or `+json`, what the
/// JSON extractor reads; not `application/jsonl`, which is an upload).
fn declared_json_length(headers: &HeaderMap) -> Option<u64> {
    let text = |name| headers.get(name).and_then(|v| v.to_str().ok());
    let media = text(header::CONTENT_TYPE)?.split(';').next()?.trim().to_ascii_lowercase();
    let json = media == "application/json" || media.ends_with("+json");
    json.then(|| text(header::CONTENT_LENGTH)?.parse().ok()).flatten()
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

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn headers(content_type: &str, length: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::CONTENT_TYPE, content_type.parse().unwrap());
        headers.insert(header::CONTENT_LENGTH, length.parse().unwrap());
        headers
    }

    #[test]
    fn only_json_bodies_are_measured_by_their_declared_length() {
        let length = |t: &str| declared_json_length(&headers(t, "10"));
        assert_eq!(length("application/json"), Some(10));
        assert_eq!(length("Application/JSON; charset=utf-8"), Some(10));
        assert_eq!(length("application/merge-patch+json"), Some(10));
        assert_eq!(length("application/jsonl"), None, "appdata uploads have their own limit");
        assert_eq!(length("multipart/form-data; boundary=x"), None);
        assert_eq!(declared_json_length(&headers("application/json", "x")), None);
    }
}
