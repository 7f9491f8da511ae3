//! Runs a collection clone in a spawned task, writing its progress, then the cloned collection
//! or an error line, to an NDJSON stream. Everything happens in one transaction: an error, or a
//! client that goes away, leaves nothing behind.

use serde::Serialize;
use stigward_storage::clone::{ClonePlan, CloneProgress, NAME_UNAVAILABLE};
use stigward_storage::collections::CollectionProjection;
use stigward_storage::{Store, StoreError};
use stigward_wire::collection::Collection;

use super::ndjson::Lines;

#[derive(Serialize)]
struct ResultLine<'a> {
    stage: &'static str,
    collection: &'a Collection,
}

/// The step that was running, re-sent with `status: error`.
#[derive(Serialize)]
struct ErrorLine {
    #[serde(flatten)]
    progress: CloneProgress,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<ErrorDetail>,
}

#[derive(Serialize)]
struct ErrorDetail {
    message: String,
}

pub async fn run(store: Store, plan: ClonePlan, projection: CollectionProjection, lines: Lines) {
    let mut last: Option<CloneProgress> = None;
    let mut report = |progress: &CloneProgress| {
        last = Some(progress.clone());
        lines.send(progress);
    };
    let outcome = store.clone_collection(&plan, &mut report, lines.cancellation()).await;
    let outcome = match outcome {
        Ok(id) => store.collection(id, projection).await,
        Err(err) => Err(err),
    };
    match outcome {
        Ok(collection) => {
            lines.send(&ResultLine { stage: "result", collection: &collection });
        }
        Err(StoreError::Cancelled) => {
            tracing::info!(source = plan.source_id, "clone abandoned by its client, rolled back")
        }
        Err(err) => send_error(&lines, last, err),
    }
}

fn send_error(lines: &Lines, last: Option<CloneProgress>, err: StoreError) {
    tracing::warn!(error = %err, "clone failed, rolled back");
    let Some(mut progress) = last else {
        return;
    };
    progress.status = "error";
    progress.reviews_total = None;
    progress.reviews_copied = None;
    let error = match err {
        StoreError::Conflict(message) if message == NAME_UNAVAILABLE => {
            progress.message = Some(NAME_UNAVAILABLE);
            None
        }
        other => {
            progress.message = Some("Unhandled error");
            Some(ErrorDetail { message: other.to_string() })
        }
    };
    lines.send(&ErrorLine { progress, error });
}
