//! Runs an export-to in a spawned task, writing its progress, then the counts or an error
//! line, to an NDJSON stream; one transaction, so a failure or a departed client leaves the
//! destination as it was.

use serde::Serialize;
use stigward_storage::export::{ExportCounts, ExportPlan, ExportProgress};
use stigward_storage::{Store, StoreError};

use super::ndjson::Lines;

#[derive(Serialize)]
struct ResultLine {
    stage: &'static str,
    counts: ExportCounts,
}

/// Upstream wraps its error line in `progressJson`; clients look for `status` there or for
/// the missing `result`, so the same shape is sent.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ErrorLine {
    progress_json: FailedStep,
}

#[derive(Serialize)]
struct FailedStep {
    #[serde(flatten)]
    progress: ExportProgress,
    error: ErrorDetail,
}

#[derive(Serialize)]
struct ErrorDetail {
    message: String,
}

pub async fn run(store: Store, plan: ExportPlan, lines: Lines) {
    let mut last = ExportProgress::default();
    let mut report = |progress: &ExportProgress| {
        last = progress.clone();
        lines.send(progress);
    };
    match store.export_reviews(&plan, &mut report, lines.cancellation()).await {
        Ok(counts) => {
            lines.send(&ResultLine { stage: "result", counts });
        }
        Err(StoreError::Cancelled) => {
            tracing::info!(source = plan.source_id, "export abandoned by its client, rolled back")
        }
        Err(err) => {
            tracing::warn!(error = %err, "export failed, rolled back");
            last.status = "error";
            last.message = Some("Unhandled error");
            let error = ErrorDetail { message: err.to_string() };
            lines.send(&ErrorLine { progress_json: FailedStep { progress: last, error } });
        }
    }
}
