//! The Collection tag's tasks: the review-aging rules of a collection and the output the
//! tasks wrote for it.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde_json::Value;
use stigward_domain::review_aging::parse_rules;
use stigward_domain::Role;
use stigward_storage::review_aging::AgingRule;
use stigward_wire::job::{
    AgingAsset, AgingLabel, CollectionTaskOutput, InvalidAgingTarget, ReviewAgingRule,
    ReviewAgingTarget,
};

use crate::auth::{scope, Caller};
use crate::error::{ApiError, ApiResult};
use crate::extract::{parse_id, ApiJson, Params, Path};
use crate::state::AppState;

const NO_CONFIG: &str = "No config found for this collection/task.";

pub async fn get_collection_task_config_review_aging(
    caller: Caller<scope::CollectionRead>,
    State(state): State<AppState>,
    Path(collection_id): Path<String>,
    params: Params,
) -> ApiResult<Json<Vec<ReviewAgingRule>>> {
    let collection_id = parse_id(&collection_id, "params/collectionId")?;
    params.finish()?;
    caller.granted_access(&state, collection_id, Role::Manage).await?;
    let rules = state.store.aging_rules(collection_id).await?;
    if rules.is_empty() {
        return Err(ApiError::NotFound(Some(NO_CONFIG.into())));
    }
    Ok(Json(rules.iter().map(rule_view).collect()))
}

pub async fn put_collection_task_config_review_aging(
    caller: Caller<scope::Collection>,
    State(state): State<AppState>,
    Path(collection_id): Path<String>,
    params: Params,
    ApiJson(body): ApiJson<Value>,
) -> ApiResult<Json<Vec<ReviewAgingRule>>> {
    let collection_id = parse_id(&collection_id, "params/collectionId")?;
    params.finish()?;
    let rules = parse_rules(&body).map_err(ApiError::Validation)?;
    caller.granted_access(&state, collection_id, Role::Owner).await?;
    let invalid = state.store.invalid_aging_targets(collection_id, &rules).await?;
    if !invalid.is_empty() {
        let detail = invalid
            .iter()
            .map(|i| InvalidAgingTarget {
                idx: i.idx,
                asset_id: i.target.asset_id,
                label_id: i.target.label_id.clone(),
                benchmark_id: i.target.benchmark_id.clone(),
                validity: i.validity,
            })
            .collect::<Vec<_>>();
        let detail = serde_json::to_value(detail)
            .map_err(|e| ApiError::Internal(format!("aging targets: {e}")))?;
        return Err(ApiError::Unprocessable(detail));
    }
    state.store.replace_aging_rules(collection_id, &rules).await?;
    let stored = state.store.aging_rules(collection_id).await?;
    Ok(Json(stored.iter().map(rule_view).collect()))
}

pub async fn delete_collection_task_config_review_aging(
    caller: Caller<scope::Collection>,
    State(state): State<AppState>,
    Path(collection_id): Path<String>,
    params: Params,
) -> ApiResult<StatusCode> {
    let collection_id = parse_id(&collection_id, "params/collectionId")?;
    params.finish()?;
    caller.granted_access(&state, collection_id, Role::Owner).await?;
    match state.store.delete_aging_rules(collection_id).await? {
        0 => Err(ApiError::NotFound(Some(NO_CONFIG.into()))),
        _ => Ok(StatusCode::NO_CONTENT),
    }
}

pub async fn get_collection_task_output(
    caller: Caller<scope::CollectionRead>,
    State(state): State<AppState>,
    Path((collection_id, task_name)): Path<(String, String)>,
    mut params: Params,
) -> ApiResult<Json<Vec<CollectionTaskOutput>>> {
    let collection_id = parse_id(&collection_id, "params/collectionId")?;
    let start = params.one("start")?.map(|t| epoch_seconds(&t, "start")).transpose()?;
    let end = params.one("end")?.map(|t| epoch_seconds(&t, "end")).transpose()?;
    params.finish()?;
    let task =
        match task_name.as_str() {
            "review-aging" => "ReviewAging",
            _ => return Err(ApiError::Validation(
                "request/params/taskName must be equal to one of the allowed values: review-aging"
                    .into(),
            )),
        };
    caller.granted_access(&state, collection_id, Role::Manage).await?;
    let lines = state.store.collection_task_output(collection_id, task, start, end).await?;
    Ok(Json(lines))
}

/// An ISO 8601 date-time query bound, compared at the second precision output is kept in.
fn epoch_seconds(text: &str, name: &str) -> ApiResult<i64> {
    chrono::DateTime::parse_from_rfc3339(text).map(|t| t.timestamp()).map_err(|_| {
        ApiError::Validation(format!("request/query/{name} must match format \"date-time\""))
    })
}

fn rule_view(rule: &AgingRule) -> ReviewAgingRule {
    let (update_field, update_value) = match (&rule.update_field, &rule.update_value) {
        (Some(field), Some(value)) => (Some(field.clone()), Some(value.clone())),
        _ => (None, None),
    };
    let target = ReviewAgingTarget {
        asset: rule
            .asset
            .as_ref()
            .map(|(asset_id, name)| AgingAsset { asset_id: *asset_id, name: name.clone() }),
        label: rule.label.as_ref().map(|(label_id, name, color)| AgingLabel {
            label_id: label_id.clone(),
            name: name.clone(),
            color: color.clone(),
        }),
        benchmark_id: rule.benchmark_id.clone(),
    };
    let targeted =
        target.asset.is_some() || target.label.is_some() || target.benchmark_id.is_some();
    ReviewAgingRule {
        title: rule.title.clone(),
        trigger_field: rule.trigger_field.clone(),
        trigger_interval: rule.trigger_interval,
        trigger_action: rule.trigger_action.clone(),
        update_field,
        update_value,
        target: targeted.then_some(target),
        enabled: rule.enabled,
    }
}
