//! The route table: every operation Stigward serves, under `/api`, in the contract's tag order,
//! plus the built-in issuer's discovery document and keys.

use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post, put};
use axum::Router;

use crate::handlers::{
    appdata, asset, checklist, collection, collection_archive, collection_report,
    collection_stream, collection_task, finding, job, metrics, operation, operation_info, review,
    review_history, stig, user,
};
use crate::state::AppState;

/// The `/api` routes. Multipart uploads get the upload limit; everything else the JSON limit.
pub fn api_routes(max_upload: usize) -> Router<AppState> {
    let upload = DefaultBodyLimit::max(max_upload);
    Router::new()
        // Collection
        .route("/collections", get(collection::get_collections).post(collection::create_collection))
        .route(
            "/collections/{collectionId}",
            get(collection::get_collection)
                .patch(collection::update_collection)
                .put(collection::replace_collection)
                .delete(collection::delete_collection),
        )
        .route(
            "/collections/{collectionId}/grants",
            get(collection::get_grants_by_collection).post(collection::post_grants_by_collection),
        )
        .route(
            "/collections/{collectionId}/grants/{grantId}",
            get(collection::get_grant_by_collection_grant)
                .put(collection::put_grant_by_collection_grant)
                .delete(collection::delete_grant_by_collection_grant),
        )
        .route(
            "/collections/{collectionId}/grants/{grantId}/acl",
            get(collection::get_acl_rules_by_collection_grant)
                .put(collection::put_acl_rules_by_collection_grant),
        )
        .route(
            "/collections/{collectionId}/labels",
            get(collection::get_collection_labels).post(collection::create_collection_label),
        )
        .route(
            "/collections/{collectionId}/labels/batch",
            post(collection::create_collection_labels),
        )
        .route(
            "/collections/{collectionId}/labels/{labelId}",
            get(collection::get_collection_label_by_id)
                .patch(collection::patch_collection_label_by_id)
                .delete(collection::delete_collection_label_by_id),
        )
        .route(
            "/collections/{collectionId}/labels/{labelId}/assets",
            get(collection::get_assets_by_collection_label_id)
                .put(collection::put_assets_by_collection_label_id),
        )
        .route(
            "/collections/{collectionId}/metadata",
            get(collection::get_collection_metadata)
                .patch(collection::patch_collection_metadata)
                .put(collection::put_collection_metadata),
        )
        .route(
            "/collections/{collectionId}/metadata/keys",
            get(collection::get_collection_metadata_keys),
        )
        .route(
            "/collections/{collectionId}/metadata/keys/{key}",
            get(collection::get_collection_metadata_value)
                .put(collection::put_collection_metadata_value)
                .delete(collection::delete_collection_metadata_key),
        )
        .route(
            "/collections/{collectionId}/archive/ckl",
            post(collection_archive::post_ckl_archive_by_collection),
        )
        .route(
            "/collections/{collectionId}/archive/cklb",
            post(collection_archive::post_cklb_archive_by_collection),
        )
        .route(
            "/collections/{collectionId}/archive/xccdf",
            post(collection_archive::post_xccdf_archive_by_collection),
        )
        .route(
            "/collections/{collectionId}/checklists/{benchmarkId}/{revisionStr}",
            get(checklist::get_checklist_by_collection_stig),
        )
        .route("/collections/{collectionId}/clone", post(collection_stream::clone_collection))
        .route(
            "/collections/{collectionId}/export-to/{dstCollectionId}",
            post(collection_stream::export_to_collection),
        )
        .route("/collections/{collectionId}/findings", get(finding::get_findings_by_collection))
        .route("/collections/{collectionId}/poam", get(finding::get_poam_by_collection))
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
            "/collections/{collectionId}/review-history",
            get(review_history::get_review_history_by_collection)
                .delete(review_history::delete_review_history_by_collection),
        )
        .route(
            "/collections/{collectionId}/review-history/stats",
            get(review_history::get_review_history_stats_by_collection),
        )
        .route(
            "/collections/{collectionId}/reviews",
            get(review::get_reviews_by_collection).post(review::post_review_batch),
        )
        .route(
            "/collections/{collectionId}/reviews/{assetId}",
            get(review::get_reviews_by_asset).post(review::post_reviews_by_asset),
        )
        .route(
            "/collections/{collectionId}/reviews/{assetId}/{ruleId}",
            get(review::get_review_by_asset_rule)
                .patch(review::patch_review_by_asset_rule)
                .put(review::put_review_by_asset_rule)
                .delete(review::delete_review_by_asset_rule),
        )
        .route(
            "/collections/{collectionId}/reviews/{assetId}/{ruleId}/metadata",
            get(review::get_review_metadata)
                .patch(review::patch_review_metadata)
                .put(review::put_review_metadata),
        )
        .route(
            "/collections/{collectionId}/reviews/{assetId}/{ruleId}/metadata/keys",
            get(review::get_review_metadata_keys),
        )
        .route(
            "/collections/{collectionId}/reviews/{assetId}/{ruleId}/metadata/keys/{key}",
            get(review::get_review_metadata_value)
                .put(review::put_review_metadata_value)
                .delete(review::delete_review_metadata_key),
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
        .route("/collections/{collectionId}/stigs", get(collection::get_stigs_by_collection))
        .route(
            "/collections/{collectionId}/stigs/{benchmarkId}",
            get(collection::get_stig_by_collection)
                .post(collection::write_stig_props_by_collection_stig),
        )
        .route(
            "/collections/{collectionId}/stigs/{benchmarkId}/assets",
            get(asset::get_assets_by_stig).put(asset::attach_assets_to_stig),
        )
        .route(
            "/collections/{collectionId}/tasks/review-aging/config",
            get(collection_task::get_collection_task_config_review_aging)
                .put(collection_task::put_collection_task_config_review_aging)
                .delete(collection_task::delete_collection_task_config_review_aging),
        )
        .route(
            "/collections/{collectionId}/tasks/{taskName}/output",
            get(collection_task::get_collection_task_output),
        )
        .route(
            "/collections/{collectionId}/unreviewed/assets",
            get(collection_report::get_unreviewed_assets_by_collection),
        )
        .route(
            "/collections/{collectionId}/unreviewed/rules",
            get(collection_report::get_unreviewed_rules_by_collection),
        )
        .route(
            "/collections/{collectionId}/users/{userId}/effective-acl",
            get(collection::get_effective_acl_by_collection_user),
        )
        // Asset
        .route(
            "/assets",
            get(asset::get_assets).post(asset::create_asset).patch(asset::patch_assets),
        )
        .route(
            "/assets/{assetId}",
            get(asset::get_asset)
                .patch(asset::update_asset)
                .put(asset::replace_asset)
                .delete(asset::delete_asset),
        )
        .route("/assets/{assetId}/checklists", get(checklist::get_checklist_by_asset))
        .route(
            "/assets/{assetId}/checklists/{benchmarkId}/{revisionStr}",
            get(checklist::get_checklist_by_asset_stig),
        )
        .route(
            "/assets/{assetId}/metadata",
            get(asset::get_asset_metadata)
                .patch(asset::patch_asset_metadata)
                .put(asset::put_asset_metadata),
        )
        .route("/assets/{assetId}/metadata/keys", get(asset::get_asset_metadata_keys))
        .route(
            "/assets/{assetId}/metadata/keys/{key}",
            get(asset::get_asset_metadata_value)
                .put(asset::put_asset_metadata_value)
                .delete(asset::delete_asset_metadata_key),
        )
        .route(
            "/assets/{assetId}/stigs",
            get(asset::get_stigs_by_asset).delete(asset::remove_stigs_from_asset),
        )
        .route(
            "/assets/{assetId}/stigs/{benchmarkId}",
            put(asset::attach_stig_to_asset).delete(asset::remove_stig_from_asset),
        )
        .route("/collections/{collectionId}/assets", post(asset::create_assets))
        // STIG
        .route("/stigs", get(stig::get_stigs).post(stig::import_benchmark).layer(upload))
        .route("/stigs/ccis/{cci}", get(stig::get_cci))
        .route("/stigs/rules/{ruleId}", get(stig::get_rule_by_rule_id))
        .route("/stigs/scap-maps", get(stig::get_scap_map))
        .route("/stigs/{benchmarkId}", get(stig::get_stig_by_id).delete(stig::delete_stig_by_id))
        .route("/stigs/{benchmarkId}/revisions", get(stig::get_revisions_by_benchmark_id))
        .route(
            "/stigs/{benchmarkId}/revisions/{revisionStr}",
            get(stig::get_revision_by_string).delete(stig::delete_revision_by_string),
        )
        .route("/stigs/{benchmarkId}/revisions/{revisionStr}/ccis", get(stig::get_ccis_by_revision))
        .route(
            "/stigs/{benchmarkId}/revisions/{revisionStr}/groups",
            get(stig::get_groups_by_revision),
        )
        .route(
            "/stigs/{benchmarkId}/revisions/{revisionStr}/groups/{groupId}",
            get(stig::get_group_by_revision),
        )
        .route(
            "/stigs/{benchmarkId}/revisions/{revisionStr}/rules",
            get(stig::get_rules_by_revision),
        )
        .route(
            "/stigs/{benchmarkId}/revisions/{revisionStr}/rules/{ruleId}",
            get(stig::get_rule_by_revision),
        )
        // User
        .route("/user", get(user::get_user))
        .route(
            "/user/web-preferences",
            get(user::get_user_web_preferences).patch(user::patch_user_web_preferences),
        )
        .route("/users", get(user::get_users).post(user::create_user))
        .route(
            "/users/{userId}",
            get(user::get_user_by_user_id)
                .patch(user::update_user)
                .put(user::replace_user)
                .delete(user::delete_user),
        )
        .route("/user-groups", get(user::get_user_groups).post(user::create_user_group))
        .route(
            "/user-groups/{userGroupId}",
            get(user::get_user_group)
                .patch(user::patch_user_group)
                .put(user::put_user_group)
                .delete(user::delete_user_group),
        )
        // Job
        .route("/jobs", get(job::get_jobs).post(job::post_job))
        .route("/jobs/{jobId}", get(job::get_job).patch(job::patch_job).delete(job::delete_job))
        .route("/jobs/{jobId}/runs", get(job::get_runs_by_job).post(job::run_immediate_job))
        .route("/jobs/runs/{runId}", get(job::get_run_by_id).delete(job::delete_run_by_id))
        .route("/jobs/runs/{runId}/output", get(job::get_output_by_run))
        .route("/jobs/tasks", get(job::get_all_tasks))
        // Operation
        .route(
            "/op/appdata",
            get(appdata::get_app_data).post(appdata::replace_app_data).layer(upload),
        )
        .route("/op/appdata/tables", get(operation_info::get_app_data_tables))
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
    "postCklArchiveByCollection",
    "postCklbArchiveByCollection",
    "postXccdfArchiveByCollection",
    "getChecklistByCollectionStig",
    "cloneCollection",
    "exportToCollection",
    "updateCollection",
    "replaceCollection",
    "deleteCollection",
    "getFindingsByCollection",
    "getPoamByCollection",
    "getGrantsByCollection",
    "postGrantsByCollection",
    "getGrantByCollectionGrant",
    "putGrantByCollectionGrant",
    "deleteGrantByCollectionGrant",
    "getAclRulesByCollectionGrant",
    "putAclRulesByCollectionGrant",
    "getCollectionLabels",
    "createCollectionLabel",
    "createCollectionLabels",
    "getCollectionLabelById",
    "patchCollectionLabelById",
    "deleteCollectionLabelById",
    "getAssetsByCollectionLabelId",
    "putAssetsByCollectionLabelId",
    "getCollectionMetadata",
    "patchCollectionMetadata",
    "putCollectionMetadata",
    "getCollectionMetadataKeys",
    "getCollectionMetadataValue",
    "putCollectionMetadataValue",
    "deleteCollectionMetadataKey",
    "getMetricsSummaryByCollectionAggAsset",
    "getReviewHistoryByCollection",
    "deleteReviewHistoryByCollection",
    "getReviewHistoryStatsByCollection",
    "getReviewsByCollection",
    "postReviewBatch",
    "getReviewsByAsset",
    "postReviewsByAsset",
    "getReviewByAssetRule",
    "patchReviewByAssetRule",
    "putReviewByAssetRule",
    "deleteReviewByAssetRule",
    "getReviewMetadata",
    "patchReviewMetadata",
    "putReviewMetadata",
    "getReviewMetadataKeys",
    "getReviewMetadataValue",
    "putReviewMetadataValue",
    "deleteReviewMetadataKey",
    "getMetricsDetailByCollection",
    "getMetricsDetailByCollectionAggAsset",
    "getMetricsDetailByCollectionAgg",
    "getMetricsDetailByCollectionAggLabel",
    "getMetricsDetailByCollectionAggStig",
    "getMetricsSummaryByCollection",
    "getMetricsSummaryByCollectionAgg",
    "getMetricsSummaryByCollectionAggLabel",
    "getMetricsSummaryByCollectionAggStig",
    "getMetricsDetailByMeta",
    "getMetricsDetailByMetaAggCollection",
    "getMetricsDetailByMetaAggStig",
    "getMetricsSummaryByMeta",
    "getMetricsSummaryByMetaAggCollection",
    "getMetricsSummaryByMetaAggStig",
    "getStigsByCollection",
    "getStigByCollection",
    "writeStigPropsByCollectionStig",
    "getCollectionTaskConfigReviewAging",
    "putCollectionTaskConfigReviewAging",
    "deleteCollectionTaskConfigReviewAging",
    "getCollectionTaskOutput",
    "getUnreviewedAssetsByCollection",
    "getUnreviewedRulesByCollection",
    "getEffectiveAclByCollectionUser",
    "getAssets",
    "createAsset",
    "patchAssets",
    "getAsset",
    "updateAsset",
    "replaceAsset",
    "deleteAsset",
    "getChecklistByAsset",
    "getChecklistByAssetStig",
    "getAssetMetadata",
    "patchAssetMetadata",
    "putAssetMetadata",
    "getAssetMetadataKeys",
    "getAssetMetadataValue",
    "putAssetMetadataValue",
    "deleteAssetMetadataKey",
    "getStigsByAsset",
    "removeStigsFromAsset",
    "attachStigToAsset",
    "removeStigFromAsset",
    "createAssets",
    "getAssetsByStig",
    "attachAssetsToStig",
    "getSTIGs",
    "importBenchmark",
    "getCci",
    "getRuleByRuleId",
    "getScapMap",
    "getStigById",
    "deleteStigById",
    "getRevisionsByBenchmarkId",
    "getRevisionByString",
    "deleteRevisionByString",
    "getCcisByRevision",
    "getGroupsByRevision",
    "getGroupByRevision",
    "getRulesByRevision",
    "getRuleByRevision",
    "getUser",
    "getUserWebPreferences",
    "patchUserWebPreferences",
    "getUsers",
    "createUser",
    "getUserByUserId",
    "updateUser",
    "replaceUser",
    "deleteUser",
    "createUserGroup",
    "getUserGroups",
    "getUserGroup",
    "patchUserGroup",
    "putUserGroup",
    "deleteUserGroup",
    "getAppData",
    "replaceAppData",
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
