//! Application data in and out as streams. An import runs in a spawned task and writes the
//! echoed table list, each step as it completes and then its outcome as JSONL lines, all
//! before the single transaction commits or rolls back; a client that goes away cancels it, as
//! it does a clone. An export writes its lines (gzip on request) as the rows are read, through
//! a bounded channel, so it never sits whole in memory.

use std::io::Write;

use axum::body::{Body, Bytes};
use flate2::write::GzEncoder;
use serde::Serialize;
use stigward_storage::appdata::{AppData, ExportItem, ExportSink, LoadProgress};
use stigward_storage::{Store, StoreError};
use tokio::sync::mpsc;

use super::ndjson::Lines;

/// The last line of an import.
#[derive(Serialize)]
struct Outcome {
    status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

impl Outcome {
    fn fail(error: String) -> Outcome {
        Outcome { status: "fail", error: Some(error) }
    }
}

/// Imports `parsed` (or reports why it could not be read).
pub async fn import(store: Store, parsed: Result<AppData, String>, lines: Lines) {
    let data = match parsed {
        Ok(data) => data,
        Err(why) => {
            lines.send(&Outcome::fail(why));
            return;
        }
    };
    lines.send(&data.table_list);
    let mut report = |step: &LoadProgress| lines.send(step);
    match store.replace_app_data(&data, &mut report, lines.cancellation()).await {
        Ok(()) => {
            lines.send(&Outcome { status: "success", error: None });
        }
        Err(StoreError::Cancelled) => {
            tracing::info!("application data import abandoned by its client, rolled back")
        }
        Err(StoreError::Conflict(why)) => {
            lines.send(&Outcome::fail(why));
        }
        Err(err) => {
            tracing::warn!(error = %err, "application data import failed, rolled back");
            lines.send(&Outcome::fail(err.to_string()));
        }
    }
}

/// The first line of an export.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ExportHeader {
    pub version: &'static str,
    pub commit: Commit,
    pub date: String,
    pub last_migration: i64,
}

#[derive(Serialize)]
pub struct Commit {
    pub branch: &'static str,
    pub sha: &'static str,
    pub tag: &'static str,
    pub describe: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct TableCount {
    table: &'static str,
    row_count: i64,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct TableList {
    tables: Vec<TableCount>,
    total_rows: i64,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct TableLine {
    table: &'static str,
    columns: String,
    row_count: i64,
}

/// Lines are sent once this many bytes (before compression) have gathered.
const CHUNK: usize = 64 * 1024;

type Chunk = Result<Bytes, std::io::Error>;

/// Writes export lines into the response body's channel, gzipped or plain.
struct JsonlSink {
    tx: mpsc::Sender<Chunk>,
    header: Option<ExportHeader>,
    plain: Vec<u8>,
    gzip: Option<GzEncoder<Vec<u8>>>,
}

impl JsonlSink {
    fn line<T: Serialize>(&mut self, value: &T) {
        if let Err(err) = serde_json::to_writer(&mut self.plain, value) {
            // JSON values and plain structs always serialize; should one not, say so
            tracing::error!(error = %err, "application data line cannot be written");
        }
        self.plain.push(b'\n');
    }

    /// Sends what has gathered once it is large enough, or at the end; `false` once the
    /// client has gone away.
    async fn flush(&mut self, end: bool) -> bool {
        if !end && self.plain.len() < CHUNK {
            return true;
        }
        let bytes = match self.gzip.as_mut() {
            Some(gz) => {
                let written = gz.write_all(&self.plain);
                self.plain.clear();
                let finished = match (end, written) {
                    (_, Err(err)) => Err(err),
                    (true, Ok(())) => gz.try_finish(),
                    (false, Ok(())) => Ok(()),
                };
                if let Err(err) = finished {
                    let _ = self.tx.send(Err(err)).await;
                    return false;
                }
                std::mem::take(gz.get_mut())
            }
            None => std::mem::take(&mut self.plain),
        };
        bytes.is_empty() || self.tx.send(Ok(Bytes::from(bytes))).await.is_ok()
    }
}

impl ExportSink for JsonlSink {
    async fn write(&mut self, item: ExportItem<'_>) -> bool {
        match item {
            ExportItem::Tables(heads) => {
                if let Some(header) = self.header.take() {
                    self.line(&header);
                }
                let tables: Vec<TableCount> = heads
                    .iter()
                    .map(|h| TableCount { table: h.name, row_count: h.row_count })
                    .collect();
                let total_rows = heads.iter().map(|h| h.row_count).sum();
                self.line(&TableList { tables, total_rows });
            }
            ExportItem::Table(head) => {
                let columns: Vec<String> = head.columns.iter().map(|c| format!("`{c}`")).collect();
                let columns = columns.join(",");
                self.line(&TableLine { table: head.name, columns, row_count: head.row_count });
            }
            ExportItem::Row(values) => self.line(&values),
        }
        self.flush(false).await
    }
}

/// The response body of an export and the task that fills it.
pub fn export(store: Store, header: ExportHeader, gzip: bool) -> Body {
    let (tx, rx) = mpsc::channel::<Chunk>(4);
    let gzip = gzip.then(|| GzEncoder::new(Vec::new(), flate2::Compression::default()));
    let mut sink = JsonlSink { tx, header: Some(header), plain: Vec::new(), gzip };
    tokio::spawn(async move {
        match store.export_app_data(&mut sink).await {
            Ok(()) => {
                sink.flush(true).await;
            }
            Err(StoreError::Cancelled) => {
                tracing::info!("application data export abandoned by its client")
            }
            Err(err) => {
                // the status line has gone; breaking off the body tells the client
                tracing::warn!(error = %err, "application data export failed");
                let _ = sink.tx.send(Err(std::io::Error::other(err.to_string()))).await;
            }
        }
    });
    let chunks = futures::stream::unfold(rx, |mut rx| async move {
        let chunk = rx.recv().await?;
        Some((chunk, rx))
    });
    Body::from_stream(chunks)
}
