//! The Collection tag's review-history operations: listing, counting and pruning snapshots.

use axum::extract::State;
use axum::Json;
use stigward_domain::{ReviewStatus, Role};
use stigward_storage::review_history::HistoryFilter;
use stigward_wire::review::{AssetHistory, HistoryDeleted, HistoryStats};

use crate::auth::{scope, Caller};
use crate::error::{ApiError, ApiResult};
use crate::extract::{parse_id, Params, Path};
use crate::state::AppState;

const DAY: i64 = 24 * 60 * 60;

pub async fn get_review_history_by_collection(
    caller: Caller<scope::CollectionRead>,
    State(state): State<AppState>,
    Path(collection_id): Path<String>,
    mut params: Params,
) -> ApiResult<Json<Vec<AssetHistory>>> {
    let collection_id = parse_id(&collection_id, "params/collectionId")?;
    let filter = history_filter(&mut params)?;
    params.finish()?;
    caller.collection_access(&state, collection_id, Role::Full).await?;
    Ok(Json(state.store.collection_history(collection_id, &filter).await?))
}

pub async fn delete_review_history_by_collection(
    caller: Caller<scope::Collection>,
    State(state): State<AppState>,
    Path(collection_id): Path<String>,
    mut params: Params,
) -> ApiResult<Json<HistoryDeleted>> {
    let collection_id = parse_id(&collection_id, "params/collectionId")?;
    let retention = params.one("retentionDate")?.ok_or_else(|| {
        ApiError::Validation("request/query must have required property 'retentionDate'".into())
    })?;
    let before = date(&retention, "retentionDate")?;
    let asset_id = params.id("assetId")?;
    params.finish()?;
    caller.collection_access(&state, collection_id, Role::Manage).await?;
    let deleted = state.store.delete_collection_history(collection_id, before, asset_id).await?;
    Ok(Json(HistoryDeleted { history_entries_deleted: deleted }))
}

pub async fn get_review_history_stats_by_collection(
    caller: Caller<scope::CollectionRead>,
    State(state): State<AppState>,
    Path(collection_id): Path<String>,
    mut params: Params,
) -> ApiResult<Json<HistoryStats>> {
    let collection_id = parse_id(&collection_id, "params/collectionId")?;
    let filter = history_filter(&mut params)?;
    let per_asset = !params.choices("projection", &["asset"])?.is_empty();
    params.finish()?;
    caller.collection_access(&state, collection_id, Role::Full).await?;
    let stats = state.store.collection_history_stats(collection_id, &filter, per_asset);
    Ok(Json(stats.await?))
}

fn history_filter(params: &mut Params) -> ApiResult<HistoryFilter> {
    let statuses: Vec<&str> = ReviewStatus::ALL.iter().map(|s| s.api()).collect();
    let start = params.one("startDate")?.map(|d| date(&d, "startDate")).transpose()?;
    // the end date is inclusive: everything touched that day counts
    let end = params.one("endDate")?.map(|d| date(&d, "endDate").map(|t| t + DAY - 1));
    Ok(HistoryFilter {
        start,
        end: end.transpose()?,
        asset_id: params.id("assetId")?,
        rule_id: params.one("ruleId")?,
        status: params
            .choice("status", &statuses)?
            .and_then(|s| ReviewStatus::ALL.into_iter().find(|x| x.api() == s)),
    })
}

/// A `YYYY-MM-DD` date as the epoch second it starts at (UTC).
fn date(text: &str, name: &str) -> ApiResult<i64> {
    let day = chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| {
        ApiError::Validation(format!("request/query/{name} must match format \"date\""))
    })?;
    Ok(day.and_hms_opt(0, 0, 0).map(|t| t.and_utc().timestamp()).unwrap_or_default())
}
