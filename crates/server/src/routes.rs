//! The route table: every operation Stigward serves, under `/api`, in the contract's tag order,
//! plus the built-in issuer's discovery document and keys.

use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post, put};
use axum::Router;

use crate::handlers::{
    asset, collection, collection_stream, job, metrics, operation, operation_info, review, stig,
    user,
};
use crate::state::AppState;

/// The `/api` routes. Multipart uploads get the upload limit; everything else the JSON limit.
pub fn api_routes(max_upload: usize) -> Router<AppState> {
    let upload = DefaultBodyLimit::max(max_upload);
    Router::new()
        // Collection
        .route(
            "/collections",
            get(collection::get_collections).post(collection::create_collection),
        )
        .route(
            "/collections/{collectionId}",
            get(collection::get_collection),
        )
        .route(
            "/collections/{collectionId}/clone",
            post(collection_stream::clone_collection),
        )
        .route(
            "/collections/{collectionId}/export-to/{dstCollectionId}",
            post(collection_stream::export_to_collection),
        )
        .route(
            "/collections/{collectionId}/metrics/summary/asset",
            get(metrics::get_metrics_summary_by_collection_agg_asset),
        )
        .route(
            "/collections/{collectionId}/reviews",
            get(review::get_reviews_by_collection),
        )
        .route(
            "/collections/{collectionId}/reviews/{assetId}",
            post(review::post_reviews_by_asset),
        )
        // Asset
        .route("/assets", post(asset::create_asset))
        .route("/assets/{assetId}", get(asset::get_asset))
        .route(
            "/assets/{assetId}/stigs/{benchmarkId}",
            put(asset::attach_stig_to_asset),
        )
        // STIG
        .route(
            "/stigs",
            get(stig::get_stigs)
                .post(stig::import_benchmark)
                .layer(upload),
        )
        .route(
            "/stigs/{benchmarkId}/revisions",
            get(stig::get_revisions_by_benchmark_id),
        )
        .route(
            "/stigs/{benchmarkId}/revisions/{revisionStr}/rules",
            get(stig::get_rules_by_revision),
        )
        // User
        .route("/user", get(user::get_user))
        // Job
        .route("/jobs", get(job::get_jobs).post(job::post_job))
        .route(
            "/jobs/{jobId}",
            get(job::get_job)
                .patch(job::patch_job)
                .delete(job::delete_job),
        )
        .route(
            "/jobs/{jobId}/runs",
            get(job::get_runs_by_job).post(job::run_immediate_job),
        )
        .route(
            "/jobs/runs/{runId}",
            get(job::get_run_by_id).delete(job::delete_run_by_id),
        )
        .route("/jobs/runs/{runId}/output", get(job::get_output_by_run))
        .route("/jobs/tasks", get(job::get_all_tasks))
        // Operation
        .route(
            "/op/appdata/tables",
            get(operation_info::get_app_data_tables),
        )
        .route("/op/appinfo", get(operation_info::get_app_info))
        .route("/op/configuration", get(operation::get_configuration))
        .route("/op/definition", get(operation::get_definition))
        .route("/op/details", get(operation_info::get_details))
        .route("/op/state", get(operation::get_state))
        .route("/op/state/sse", get(operation::stream_state_sse))
        .route("/op/ccis", post(operation::import_ccis).layer(upload))
}

/// The operation ids of the contract that Stigward serves, for the coverage test and the
/// definition document.
pub const OPERATIONS: &[&str] = &[
    "getCollections",
    "createCollection",
    "getCollection",
    "cloneCollection",
    "exportToCollection",
    "getMetricsSummaryByCollectionAggAsset",
    "getReviewsByCollection",
    "postReviewsByAsset",
    "createAsset",
    "getAsset",
    "attachStigToAsset",
    "getSTIGs",
    "importBenchmark",
    "getRevisionsByBenchmarkId",
    "getRulesByRevision",
    "getUser",
    "getJobs",
    "postJob",
    "getJob",
    "patchJob",
    "deleteJob",
    "getRunsByJob",
    "runImmediateJob",
    "getRunById",
    "deleteRunById",
    "getOutputByRun",
    "getAllTasks",
    "getAppDataTables",
    "getAppInfo",
    "getConfiguration",
    "getDefinition",
    "getDetails",
    "getState",
    "streamStateSse",
];
