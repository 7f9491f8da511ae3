//! Logging: one span per request and exactly one summary line when it completes.

use std::time::Instant;

use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;
use tracing::Instrument;

use crate::error::ErrorCause;
use crate::state::AppState;

/// Builds the request's span (method, matched route, client, request id), runs the request in
/// it, and writes the summary line with status and latency. Errors are logged here, once, with
/// the cause the error response carries; credentials are never part of the line.
/// With `STIGMAN_LOG_MODE=split` a line is also written when the request arrives.
pub async fn request_span(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let started = Instant::now();
    let request_id = uuid::Uuid::new_v4().to_string();
    let client = req
        .extensions()
        .get::<ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0.ip().to_string())
        .unwrap_or_default();
    let span = tracing::info_span!("request", method = %req.method(),
        route = tracing::field::Empty, client, request_id = %request_id);
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        req.headers_mut().insert("x-request-id", value.clone());
    }
    if state.config.log_mode == "split" {
        span.in_scope(|| tracing::info!("request received"));
    }
    let mut response = next.run(req).instrument(span.clone()).await;
    let status = response.status().as_u16();
    let latency_ms = started.elapsed().as_millis() as u64;
    let cause = response.extensions().get::<ErrorCause>().map(|c| c.0.clone());
    span.in_scope(|| match (status, cause) {
        (500.., Some(cause)) => tracing::error!(status, latency_ms, cause, "request failed"),
        (_, Some(cause)) => tracing::info!(status, latency_ms, cause, "request refused"),
        _ => tracing::info!(status, latency_ms, "request served"),
    });
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        response.headers_mut().insert("x-request-id", value);
    }
    response
}

/// Records the matched route (the path pattern, not the raw URL) on the request's span.
pub async fn record_route(req: Request, next: Next) -> Response {
    if let Some(path) = req.extensions().get::<MatchedPath>() {
        tracing::Span::current().record("route", path.as_str());
    }
    next.run(req).await
}
