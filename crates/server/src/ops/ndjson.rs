//! Streamed NDJSON responses: work running in a spawned task writes one JSON object per line
//! into a channel, and the response body sends each line as soon as it is written. Hyper drops
//! the body when its client goes away; that sets the stream's [`Cancellation`], which the work
//! checks between its steps and right before it commits.

use std::convert::Infallible;

use axum::body::{Body, Bytes};
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use stigward_storage::Cancellation;
use tokio::sync::mpsc;

/// The writing end. Lines are few (one per step or per 10 000 rows), so the channel is
/// unbounded and a write never waits for the client.
pub struct Lines {
    tx: mpsc::UnboundedSender<Bytes>,
    cancel: Cancellation,
}

impl Lines {
    /// Writes one line; `false` once the client has gone away.
    pub fn send<T: Serialize>(&self, value: &T) -> bool {
        let mut line = match serde_json::to_vec(value) {
            Ok(line) => line,
            Err(err) => format!("{{\"error\":\"{err}\"}}").into_bytes(),
        };
        line.push(b'\n');
        self.tx.send(Bytes::from(line)).is_ok() && !self.cancel.is_cancelled()
    }

    /// Set once the response body is dropped: its client has gone away, or the server is
    /// shutting the connection down.
    pub fn cancellation(&self) -> &Cancellation {
        &self.cancel
    }
}

/// Owned by the response body, so that dropping the body cancels the work behind it.
struct CancelOnDrop(Cancellation);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.cancel();
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
    let cancel = Cancellation::default();
    let guard = CancelOnDrop(cancel.clone());
    let body = futures::stream::unfold((rx, guard), |(mut rx, guard)| async move {
        let line = rx.recv().await?;
        Some((Ok::<_, Infallible>(line), (rx, guard)))
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
    (Lines { tx, cancel }, response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dropping_the_response_cancels_the_work() {
        let (lines, response) = stream();
        assert!(lines.send(&"first"));
        assert!(!lines.cancellation().is_cancelled());
        drop(response);
        assert!(lines.cancellation().is_cancelled());
        assert!(!lines.send(&"second"));
    }
}
