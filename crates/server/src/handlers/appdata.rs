//! The Operation tag's application data: exporting all of it, or replacing all of it with a
//! STIG Manager JSONL file (plain or gzip). Behind `STIGMAN_EXPERIMENTAL_APPDATA` and
//! `elevate=true`, as upstream.

use std::io::Read;

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};
use stigward_storage::StoreError;

use crate::auth::{scope, Authenticated, Caller};
use crate::error::{ApiError, ApiResult};
use crate::extract::Params;
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
/// echoed table list, one record per table step, and a final `{"status": ...}` line.
// Known shortcoming: the progress lines are sent once the load has committed, not while it
// runs, and the file's `lastMigration` is not compared (Stigward's schema is its own).
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
    let bytes = axum::body::to_bytes(body, state.config.max_upload)
        .await
        .map_err(|e| ApiError::PayloadTooLarge(e.to_string()))?;
    let text = decode(&headers, &bytes)?;
    let mut lines: Vec<Value> = Vec::new();
    match stigward_storage::appdata::parse(&text) {
        Err(why) => lines.push(json!({"status": "fail", "error": why})),
        Ok(data) => {
            lines.push(data.table_list.clone());
            match state.store.replace_app_data(&data).await {
                Ok(progress) => {
                    lines.extend(progress);
                    lines.push(json!({"status": "success"}));
                }
                Err(StoreError::Conflict(why)) => {
                    lines.push(json!({"status": "fail", "error": why}))
                }
                Err(other) => return Err(other.into()),
            }
        }
    }
    let body: String = lines.iter().map(|l| format!("{l}\n")).collect();
    let content_type = [(header::CONTENT_TYPE, "application/jsonl; charset=utf-8")];
    Ok((StatusCode::OK, content_type, body).into_response())
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
/// table's column line and rows. Gzip unless `format=jsonl`.
// Known shortcoming: the export is built in memory before it is sent, not streamed.
pub async fn get_app_data(
    caller: Caller<scope::OpRead>,
    State(state): State<AppState>,
    mut params: Params,
) -> ApiResult<Response> {
    let format = params.choice("format", &["gzip", "jsonl"])?;
    params.flag("elevate")?;
    params.finish()?;
    gate(&state, &caller)?;
    let tables = state.store.export_app_data().await?;
    let mut out = String::new();
    let header = json!({
        "version": env!("CARGO_PKG_VERSION"),
        "commit": {"branch": "na", "sha": "na", "tag": "na", "describe": "na"},
        "date": stigward_domain::iso_millis(caller.now),
        "lastMigration": state.store.last_migration(),
    });
    let list: Vec<Value> =
        tables.iter().map(|t| json!({"table": t.name, "rowCount": t.rows.len()})).collect();
    let total: usize = tables.iter().map(|t| t.rows.len()).sum();
    out.push_str(&format!("{header}\n{}\n", json!({"tables": list, "totalRows": total})));
    for table in &tables {
        let columns: Vec<String> = table.columns.iter().map(|c| format!("`{c}`")).collect();
        let head = json!({
            "table": table.name,
            "columns": columns.join(","),
            "rowCount": table.rows.len(),
        });
        out.push_str(&format!("{head}\n"));
        for row in &table.rows {
            out.push_str(&format!("{}\n", Value::Array(row.clone())));
        }
    }
    let date =
        chrono::DateTime::from_timestamp(caller.now, 0).unwrap_or_default().format("%Y-%m-%d");
    let name = format!("appdata-v{}_{date}", state.store.last_migration());
    let (body, kind, file) = match format.as_deref() {
        Some("jsonl") => (out.into_bytes(), "application/jsonl", format!("{name}.jsonl")),
        _ => {
            let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
            std::io::Write::write_all(&mut gz, out.as_bytes())
                .and_then(|_| gz.finish())
                .map(|bytes| (bytes, "application/gzip", format!("{name}.jsonl.gz")))
                .map_err(|e| ApiError::Internal(format!("gzip: {e}")))?
        }
    };
    let disposition = format!("attachment; filename=\"{file}\"");
    let headers =
        [(header::CONTENT_TYPE, kind.to_string()), (header::CONTENT_DISPOSITION, disposition)];
    Ok((StatusCode::OK, headers, body).into_response())
}
