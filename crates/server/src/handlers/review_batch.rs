//! `POST /collections/{collectionId}/reviews` (`postReviewBatch`): checking the batch body in the
//! order upstream does, choosing targets, and shaping the (dry-run) response.

use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::Value;
use stigward_domain::review::Writer;
use stigward_domain::{ReviewResult, ReviewStatus, Role};
use stigward_storage::review_batch::{BatchAction, BatchPlan, TextMatch, TimeMatch, UpdateFilter};
use stigward_wire::review::{
    BatchCriteria, BatchFilter, ReviewBatch, ReviewBatchDryRun, ReviewBatchResponse,
};

use super::review::{body_incoming, collection_settings};
use crate::auth::Authenticated;
use crate::error::{ApiError, ApiResult};
use crate::extract::parse_id;
use crate::state::AppState;

/// The two ways a batch names its assets or rules.
enum Criteria {
    Ids(Vec<String>),
    Benchmarks(Vec<String>),
}

pub async fn post(
    caller: &Authenticated,
    state: &AppState,
    collection_id: i64,
    body: ReviewBatch,
) -> ApiResult<Response> {
    let assets = criteria(body.assets, "assets", "assetIds")?;
    let rules = criteria(body.rules, "rules", "ruleIds")?;
    let filters = body
        .update_filters
        .unwrap_or_default()
        .iter()
        .enumerate()
        .map(|(i, f)| update_filter(f).map_err(|e| bad(&format!("updateFilters/{i} {e}"))))
        .collect::<ApiResult<Vec<_>>>()?;
    let action = body.action.as_deref().map(parse_action).transpose()?;
    let source = body.source.review;
    if source == Default::default() {
        return Err(bad("source/review must NOT have fewer than 1 properties"));
    }
    if matches!(source.detail, Some(None)) || matches!(source.comment, Some(None)) {
        return Err(bad("source/review detail and comment must be strings"));
    }
    let incoming = body_incoming(source, "request/body/source/review")?;

    let access = caller.collection_access(state, collection_id, Role::Restricted).await?;
    let settings = collection_settings(state, collection_id).await?;
    if incoming
        .status
        .as_ref()
        .is_some_and(|(s, _)| matches!(s, ReviewStatus::Accepted | ReviewStatus::Rejected))
    {
        if !settings.status.can_accept {
            return Err(ApiError::privilege(
                "Reviews cannot be accepted/rejected in this Collection",
            ));
        }
        if access.role.id() < settings.status.min_accept_grant {
            return Err(ApiError::privilege(
                "User cannot accept/reject Reviews in this Collection",
            ));
        }
    }
    let action = action.unwrap_or(match incoming.result {
        Some(_) => BatchAction::Merge,
        None => BatchAction::Update,
    });
    if incoming.result.is_none() && action != BatchAction::Update {
        return Err(ApiError::unprocessable("Cannot insert a NULL result"));
    }

    let acl = access.access_map(state).await?;
    // Upstream skips the per-pair grant check whenever both sides name the same STIGs; with
    // several STIGs that would let a rule of one reach an asset assigned only another, so the
    // check is skipped only when a single STIG chose both the assets and the rules.
    let same_stigs = match (&assets, &rules) {
        (Criteria::Benchmarks(a), Criteria::Benchmarks(r)) => {
            sorted(a) == sorted(r) && sorted(a).len() == 1
        }
        _ => false,
    };
    let asset_ids = match &assets {
        Criteria::Ids(ids) => ids
            .iter()
            .map(|id| parse_id(id, "body/assets/assetIds"))
            .collect::<ApiResult<Vec<_>>>()?,
        Criteria::Benchmarks(b) => {
            state.store.batch_assets_by_benchmarks(collection_id, b, &acl).await?
        }
    };
    let rule_ids = match rules {
        Criteria::Ids(ids) => ids,
        Criteria::Benchmarks(b) => state.store.batch_rules_by_benchmarks(collection_id, &b).await?,
    };
    let dry_run = body.dry_run.unwrap_or(false);
    let plan =
        BatchPlan { asset_ids, rule_ids, skip_grant_check: same_stigs, action, filters, dry_run };
    let writer =
        Writer { user_id: caller.user_id, role: access.role, now: caller.now, batch: true };
    let outcome =
        state.store.write_review_batch(collection_id, &plan, &incoming, &settings, writer, &acl);
    let outcome = outcome.await?;
    if dry_run {
        return Ok(Json(ReviewBatchDryRun {
            will_insert: outcome.inserted,
            will_update: outcome.updated,
            will_fail_validation: outcome.failed,
            validation_errors: outcome.errors,
        })
        .into_response());
    }
    Ok(Json(ReviewBatchResponse {
        inserted: outcome.inserted,
        updated: outcome.updated,
        failed_validation: outcome.failed,
        validation_errors: outcome.errors,
    })
    .into_response())
}

fn bad(what: &str) -> ApiError {
    ApiError::Validation(format!("request/body/{what}"))
}

fn sorted(list: &[String]) -> Vec<&String> {
    let mut out: Vec<&String> = list.iter().collect();
    out.sort();
    out.dedup();
    out
}

/// `assets` takes `assetIds` or `benchmarkIds`; `rules` takes `ruleIds` or `benchmarkIds`.
fn criteria(c: BatchCriteria, name: &str, ids_name: &str) -> ApiResult<Criteria> {
    let (ids, stray) = match ids_name {
        "assetIds" => (c.asset_ids, c.rule_ids.is_some()),
        _ => (c.rule_ids, c.asset_ids.is_some()),
    };
    match (ids, c.benchmark_ids, stray) {
        (Some(ids), None, false) => Ok(Criteria::Ids(ids)),
        (None, Some(b), false) => Ok(Criteria::Benchmarks(b)),
        _ => Err(bad(&format!("{name} must have exactly one of {ids_name} or benchmarkIds"))),
    }
}

fn parse_action(text: &str) -> ApiResult<BatchAction> {
    match text {
        "insert" => Ok(BatchAction::Insert),
        "update" => Ok(BatchAction::Update),
        "merge" => Ok(BatchAction::Merge),
        _ => Err(bad("action must be equal to one of the allowed values: insert, update, merge")),
    }
}

fn update_filter(f: &BatchFilter) -> Result<UpdateFilter, String> {
    let condition = f.condition.as_deref().unwrap_or("equals");
    let text = || f.value.as_str().map(str::to_string).ok_or("value must be string".to_string());
    let text_match = || match condition {
        "equals" => Ok(TextMatch::Equals),
        "contains" => Ok(TextMatch::Contains),
        "beginsWith" => Ok(TextMatch::BeginsWith),
        "endsWith" => Ok(TextMatch::EndsWith),
        other => Err(format!("condition '{other}' is not allowed for {}", f.field)),
    };
    let equals = || match condition {
        "equals" => Ok(true),
        "notequal" => Ok(false),
        other => Err(format!("condition '{other}' is not allowed for {}", f.field)),
    };
    let time = || -> Result<(TimeMatch, i64), String> {
        let m = match condition {
            "equals" => TimeMatch::Equals,
            "lessThan" => TimeMatch::LessThan,
            "greaterThan" => TimeMatch::GreaterThan,
            other => return Err(format!("condition '{other}' is not allowed for {}", f.field)),
        };
        Ok((m, date_time(&f.value)?))
    };
    let id = || -> Result<i64, String> {
        let text = text()?;
        stigward_wire::id_string::parse(&text)
    };
    Ok(match f.field.as_str() {
        "detail" => UpdateFilter::Detail(text_match()?, text()?),
        "comment" => UpdateFilter::Comment(text_match()?, text()?),
        "statusText" => UpdateFilter::StatusText(text_match()?, text()?),
        "result" => {
            let value = ReviewResult::from_api(&text()?).ok_or("value is not a result")?;
            UpdateFilter::Result { equals: equals()?, value }
        }
        "status" | "statusLabel" => {
            let label = text()?;
            let value = ReviewStatus::ALL
                .into_iter()
                .find(|s| s.api() == label)
                .ok_or("value is not a status")?;
            UpdateFilter::Status { equals: equals()?, value }
        }
        "ts" => {
            let (m, v) = time()?;
            UpdateFilter::Ts(m, v)
        }
        "statusTs" => {
            let (m, v) = time()?;
            UpdateFilter::StatusTs(m, v)
        }
        "touchTs" => {
            let (m, v) = time()?;
            UpdateFilter::TouchTs(m, v)
        }
        "userId" => UpdateFilter::UserId { equals: equals()?, value: id()? },
        "statusUserId" => UpdateFilter::StatusUserId { equals: equals()?, value: id()? },
        other => return Err(format!("field '{other}' is not a filterable field")),
    })
}

/// An ISO date-time (`2024-05-01T12:00:00Z`, offsets and fractions allowed) as epoch seconds.
fn date_time(value: &Value) -> Result<i64, String> {
    let text = value.as_str().ok_or("value must be a date-time string")?;
    chrono::DateTime::parse_from_rfc3339(text)
        .map(|t| t.timestamp())
        .map_err(|e| format!("value '{text}' is not a date-time: {e}"))
}
