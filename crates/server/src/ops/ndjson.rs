//! Streamed NDJSON responses: work running in a spawned task writes one JSON object per line
//! into a channel, and the response body sends each line as soon as it is written.

use std::convert::Infallible;

use axum::body::{Body, Bytes};
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use tokio::sync::mpsc;

/// The writing end. Lines are few (one per step or per 10 000 rows), so the channel is
/// unbounded and a write never waits for the client.
// Known shortcoming: because writes never wait, a client that disconnects is only noticed at
// the first line written after hyper has dropped the body; work that finishes before then
// commits even though nobody reads its result.
pub struct Lines {
    tx: mpsc::UnboundedSender<Bytes>,
}

impl Lines {
    /// Writes one line; `false` once the client has gone away.
    pub fn send<T: Serialize>(&self, value: &T) -> bool {
        let mut line = match serde_json::to_vec(value) {
            Ok(line) => line,
            Err(err) => format!("{{\"error\":\"{err}\"}}").into_bytes(),
        };
        line.push(b'\n');
        self.tx.send(Bytes::from(line)).is_ok()
    }
}

/// A channel and the `200 application/x-ndjson` response that streams what is written to it;
/// the response ends when the `Lines` are dropped.
pub fn stream() -> (Lines, Response) {
    stream_as("application/x-ndjson; charset=utf-8")
}

/// The same, answered with another content type (upstream's application data import says
/// `application/jsonl`).
pub fn stream_as(content_type: &'static str) -> (Lines, Response) {
    let (tx, rx) = mpsc::unbounded_channel::<Bytes>();
    let body = futures::stream::unfold(rx, |mut rx| async move {
        let line = rx.recv().await?;
        Some((Ok::<_, Infallible>(line), rx))
    });
    let response = (
        [
            (CONTENT_TYPE, content_type),
            (CACHE_CONTROL, "no-cache"),
            // proxies such as nginx must pass each line on as it comes
            (axum::http::HeaderName::from_static("x-accel-buffering"), "no"),
        ],
        Body::from_stream(body),
    )
        .into_response();
    (Lines { tx }, response)
}
