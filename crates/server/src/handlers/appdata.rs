//! The Operation tag's application data: exporting all of it, or replacing all of it with a
//! STIG Manager JSONL file (plain or gzip). Behind `STIGMAN_EXPERIMENTAL_APPDATA` and
//! `elevate=true`, as upstream.

use std::io::Read;

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::auth::{scope, Authenticated, Caller};
use crate::error::{ApiError, ApiResult};
use crate::extract::Params;
use crate::ops;
use crate::ops::appdata::{Commit, ExportHeader};
use crate::state::AppState;

fn gate(state: &AppState, caller: &Authenticated) -> ApiResult<()> {
    if !state.config.experimental_appdata {
        return Err(ApiError::NotFound(Some(
            "endpoint disabled, to enable set STIGMAN_EXPERIMENTAL_APPDATA=true".into(),
        )));
    }
    match caller.elevate {
        true => Ok(()),
        false => Err(ApiError::Privilege(None)),
    }
}

/// Replaces all application data. Like upstream, the reply is 200 JSONL whatever happens: the
/// echoed table list, one record per step as the load runs, and a final `{"status": ...}` line
/// (see `ops::appdata`). The file's `lastMigration` is not compared: Stigward's schema is its own.
pub async fn replace_app_data(
    caller: Caller<scope::Op>,
    State(state): State<AppState>,
    mut params: Params,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Response> {
    params.flag("elevate")?;
    params.finish()?;
    gate(&state, &caller)?;
    let bytes = axum::body::to_bytes(body, state.config.max_upload).await.map_err(body_error)?;
    let text = decode(&headers, &bytes)?;
    let parsed = stigward_storage::appdata::parse(&text);

    let (lines, response) = ops::ndjson::stream_as("application/jsonl; charset=utf-8");
    tokio::spawn(ops::appdata::import(state.store.clone(), parsed, lines));
    Ok(response)
}

/// 413 for a body over the upload limit; 400 for one that broke off or stalled.
fn body_error(err: axum::Error) -> ApiError {
    let mut cause = std::error::Error::source(&err);
    while let Some(inner) = cause {
        if inner.is::<http_body_util::LengthLimitError>() {
            return ApiError::PayloadTooLarge(err.to_string());
        }
        cause = inner.source();
    }
    ApiError::client(format!("the body cannot be read: {err}"))
}

/// The body as text: gzip when the content type or the magic bytes say so.
fn decode(headers: &HeaderMap, bytes: &[u8]) -> ApiResult<String> {
    let content_type =
        headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let gzip = content_type.contains("gzip") || bytes.starts_with(&[0x1f, 0x8b]);
    let raw = if gzip {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(bytes)
            .read_to_end(&mut out)
            .map_err(|e| ApiError::client(format!("gzip body cannot be read: {e}")))?;
        out
    } else {
        bytes.to_vec()
    };
    String::from_utf8(raw).map_err(|_| ApiError::client("the application data is not UTF-8"))
}

/// Exports all application data as STIG Manager's JSONL: a header, the table list, then each
/// table's column line and rows, streamed as read. Gzip unless `format=jsonl`.
pub async fn get_app_data(
    caller: Caller<scope::OpRead>,
    State(state): State<AppState>,
    mut params: Params,
) -> ApiResult<Response> {
    let format = params.choice("format", &["gzip", "jsonl"])?;
    params.flag("elevate")?;
    params.finish()?;
    gate(&state, &caller)?;
    let first_line = ExportHeader {
        version: env!("CARGO_PKG_VERSION"),
        commit: Commit { branch: "na", sha: "na", tag: "na", describe: "na" },
        date: stigward_domain::iso_millis(caller.now),
        last_migration: state.store.last_migration(),
    };

    let date =
        chrono::DateTime::from_timestamp(caller.now, 0).unwrap_or_default().format("%Y-%m-%d");
    let name = format!("appdata-v{}_{date}", state.store.last_migration());
    let (gzip, kind, file) = match format.as_deref() {
        Some("jsonl") => (false, "application/jsonl", format!("{name}.jsonl")),
        _ => (true, "application/gzip", format!("{name}.jsonl.gz")),
    };
    let body = ops::appdata::export(state.store.clone(), first_line, gzip);
    let disposition = format!("attachment; filename=\"{file}\"");
    let headers =
        [(header::CONTENT_TYPE, kind.to_string()), (header::CONTENT_DISPOSITION, disposition)];
    Ok((StatusCode::OK, headers, body).into_response())
}
