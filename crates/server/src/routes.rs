//! The route table: every operation Stigward serves, under `/api`, in the contract's tag order,
//! plus the built-in issuer's discovery document and keys.

use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post, put};
use axum::Router;

use crate::handlers::{asset, collection, metrics, operation, review, stig, user};
use crate::state::AppState;

/// The `/api` routes. Multipart uploads get the upload limit; everything else the JSON limit.
pub fn api_routes(max_upload: usize) -> Router<AppState> {
    let upload = DefaultBodyLimit::max(max_upload);
    Router::new()
        // Collection
        .route("/collections", get(collection::get_collections).post(collection::create_collection))
        .route("/collections/{collectionId}", get(collection::get_collection))
        .route("/collections/{collectionId}/reviews", get(review::get_reviews_by_collection))
        .route("/collections/{collectionId}/reviews/{assetId}", post(review::post_reviews_by_asset))
        // Metrics (the static `meta` segment wins over `{collectionId}`)
        .route(
            "/collections/{collectionId}/metrics/detail",
            get(metrics::get_metrics_detail_by_collection),
        )
        .route(
            "/collections/{collectionId}/metrics/detail/asset",
            get(metrics::get_metrics_detail_by_collection_agg_asset),
        )
        .route(
            "/collections/{collectionId}/metrics/detail/collection",
            get(metrics::get_metrics_detail_by_collection_agg),
        )
        .route(
            "/collections/{collectionId}/metrics/detail/label",
            get(metrics::get_metrics_detail_by_collection_agg_label),
        )
        .route(
            "/collections/{collectionId}/metrics/detail/stig",
            get(metrics::get_metrics_detail_by_collection_agg_stig),
        )
        .route(
            "/collections/{collectionId}/metrics/summary",
            get(metrics::get_metrics_summary_by_collection),
        )
        .route(
            "/collections/{collectionId}/metrics/summary/asset",
            get(metrics::get_metrics_summary_by_collection_agg_asset),
        )
        .route(
            "/collections/{collectionId}/metrics/summary/collection",
            get(metrics::get_metrics_summary_by_collection_agg),
        )
        .route(
            "/collections/{collectionId}/metrics/summary/label",
            get(metrics::get_metrics_summary_by_collection_agg_label),
        )
        .route(
            "/collections/{collectionId}/metrics/summary/stig",
            get(metrics::get_metrics_summary_by_collection_agg_stig),
        )
        .route("/collections/meta/metrics/detail", get(metrics::get_metrics_detail_by_meta))
        .route(
            "/collections/meta/metrics/detail/collection",
            get(metrics::get_metrics_detail_by_meta_agg_collection),
        )
        .route(
            "/collections/meta/metrics/detail/stig",
            get(metrics::get_metrics_detail_by_meta_agg_stig),
        )
        .route("/collections/meta/metrics/summary", get(metrics::get_metrics_summary_by_meta))
        .route(
            "/collections/meta/metrics/summary/collection",
            get(metrics::get_metrics_summary_by_meta_agg_collection),
        )
        .route(
            "/collections/meta/metrics/summary/stig",
            get(metrics::get_metrics_summary_by_meta_agg_stig),
        )
        // Asset
        .route("/assets", post(asset::create_asset))
        .route("/assets/{assetId}", get(asset::get_asset))
        .route("/assets/{assetId}/stigs/{benchmarkId}", put(asset::attach_stig_to_asset))
        // STIG
        .route("/stigs", get(stig::get_stigs).post(stig::import_benchmark).layer(upload))
        .route("/stigs/{benchmarkId}/revisions", get(stig::get_revisions_by_benchmark_id))
        .route(
            "/stigs/{benchmarkId}/revisions/{revisionStr}/rules",
            get(stig::get_rules_by_revision),
        )
        // User
        .route("/user", get(user::get_user))
        // Operation
        .route("/op/configuration", get(operation::get_configuration))
        .route("/op/definition", get(operation::get_definition))
        .route("/op/ccis", post(operation::import_ccis).layer(upload))
}

/// The operation ids of the contract that Stigward serves, for the coverage test and the
/// definition document.
pub const OPERATIONS: &[&str] = &[
    "getCollections",
    "createCollection",
    "getCollection",
    "getReviewsByCollection",
    "postReviewsByAsset",
    "getMetricsDetailByCollection",
    "getMetricsDetailByCollectionAggAsset",
    "getMetricsDetailByCollectionAgg",
    "getMetricsDetailByCollectionAggLabel",
    "getMetricsDetailByCollectionAggStig",
    "getMetricsSummaryByCollection",
    "getMetricsSummaryByCollectionAggAsset",
    "getMetricsSummaryByCollectionAgg",
    "getMetricsSummaryByCollectionAggLabel",
    "getMetricsSummaryByCollectionAggStig",
    "getMetricsDetailByMeta",
    "getMetricsDetailByMetaAggCollection",
    "getMetricsDetailByMetaAggStig",
    "getMetricsSummaryByMeta",
    "getMetricsSummaryByMetaAggCollection",
    "getMetricsSummaryByMetaAggStig",
    "createAsset",
    "getAsset",
    "attachStigToAsset",
    "getSTIGs",
    "importBenchmark",
    "getRevisionsByBenchmarkId",
    "getRulesByRevision",
    "getUser",
    "getConfiguration",
    "getDefinition",
];
