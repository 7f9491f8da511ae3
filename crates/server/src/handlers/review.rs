//! The Review tag: per-asset writes and collection reads.

use axum::extract::{Path, State};
use axum::Json;
use stigward_domain::review::{Incoming, Writer};
use stigward_domain::{CollectionSettings, ReviewResult, ReviewStatus, Role};
use stigward_storage::reviews::{ReviewFilter, ReviewWrite, RulesFilter};
use stigward_wire::review::{Review, ReviewAssetPost, ReviewPostResponse, StatusWrite};

use crate::auth::{scope, Caller};
use crate::error::{ApiError, ApiResult};
use crate::extract::{parse_id, ApiJson, Params};
use crate::state::AppState;

const MAX_TEXT: usize = 32767;

pub async fn post_reviews_by_asset(
    caller: Caller<scope::Collection>,
    State(state): State<AppState>,
    Path((collection_id, asset_id)): Path<(String, String)>,
    params: Params,
    ApiJson(body): ApiJson<Vec<ReviewAssetPost>>,
) -> ApiResult<Json<ReviewPostResponse>> {
    let collection_id = parse_id(&collection_id, "params/collectionId")?;
    let asset_id = parse_id(&asset_id, "params/assetId")?;
    params.finish()?;
    if body.is_empty() {
        return Err(ApiError::Validation("request/body must NOT have fewer than 1 items".into()));
    }
    let items = body.into_iter().enumerate().map(review_write).collect::<ApiResult<Vec<_>>>()?;
    let access = caller.collection_access(&state, collection_id, Role::Restricted).await?;
    if state.store.asset_collection(asset_id).await? != Some(collection_id) {
        return Err(ApiError::Privilege(None));
    }
    let settings =
        CollectionSettings::from_stored(&state.store.collection_settings(collection_id).await?);
    let writer =
        Writer { user_id: caller.user_id, role: access.role, now: caller.now, batch: false };
    let acl = access.access_map(&state).await?;
    let written = state.store.write_asset_reviews(asset_id, items, &settings, writer, &acl);
    Ok(Json(written.await?))
}

/// Checks one body item against the schema and turns it into the engine's input.
pub fn review_write((i, item): (usize, ReviewAssetPost)) -> ApiResult<ReviewWrite> {
    let bad = |what: &str| ApiError::Validation(format!("request/body/{i}/{what}"));
    let result = item
        .result
        .as_deref()
        .map(|r| {
            ReviewResult::from_api(r)
                .ok_or_else(|| bad("result must be equal to one of the allowed values"))
        })
        .transpose()?;
    let status = item
        .status
        .map(|s| status_write(s).ok_or_else(|| bad("status is not valid")))
        .transpose()?;
    for (name, text) in [("detail", &item.detail), ("comment", &item.comment)] {
        if text.as_ref().is_some_and(|t| t.chars().count() > MAX_TEXT) {
            return Err(bad(&format!("{name} must NOT have more than {MAX_TEXT} characters")));
        }
    }
    if item.rule_id.is_empty() || item.rule_id.len() > 255 {
        return Err(bad("ruleId must be 1 to 255 characters"));
    }
    Ok(ReviewWrite {
        rule_id: item.rule_id,
        incoming: Incoming {
            result,
            detail: item.detail,
            comment: item.comment,
            result_engine: item.result_engine,
            metadata: item.metadata.map(serde_json::Value::Object),
            status,
        },
    })
}

fn status_write(status: StatusWrite) -> Option<(ReviewStatus, Option<String>)> {
    let (label, text) = match status {
        StatusWrite::Label(label) => (label, None),
        StatusWrite::Object { label, text } => (label, text),
    };
    let status = ReviewStatus::ALL.into_iter().find(|s| s.api() == label)?;
    Some((status, text))
}

pub async fn get_reviews_by_collection(
    caller: Caller<scope::CollectionRead>,
    State(state): State<AppState>,
    Path(collection_id): Path<String>,
    mut params: Params,
) -> ApiResult<Json<Vec<Review>>> {
    let collection_id = parse_id(&collection_id, "params/collectionId")?;
    let filter = review_filter(&mut params)?;
    params.finish()?;
    caller.collection_access(&state, collection_id, Role::Restricted).await?;
    Ok(Json(state.store.reviews(collection_id, &filter).await?))
}

fn review_filter(params: &mut Params) -> ApiResult<ReviewFilter> {
    let rules = params.choice(
        "rules",
        &[
            "default-mapped",
            "default",
            "mapped",
            "not-default-mapped",
            "not-default",
            "not-mapped",
            "all",
        ],
    )?;
    let results: Vec<&str> = ReviewResult::ALL.iter().map(|r| r.api()).collect();
    let statuses: Vec<&str> = ReviewStatus::ALL.iter().map(|s| s.api()).collect();
    let projections = params.choices("projection", &["metadata", "rule", "stigs"])?;
    // Known shortcoming: the `groupId`, `cci` and `metadata` filters and the `rule` and `stigs`
    // projections are accepted but not applied yet.
    params.one("groupId")?;
    params.one("cci")?;
    params.all("metadata");
    Ok(ReviewFilter {
        asset_id: params.id("assetId")?,
        benchmark_id: params.one("benchmarkId")?,
        rule_id: params.one("ruleId")?,
        result: params.choice("result", &results)?.as_deref().and_then(ReviewResult::from_api),
        status: params
            .choice("status", &statuses)?
            .and_then(|s| ReviewStatus::ALL.into_iter().find(|x| x.api() == s)),
        user_id: params.id("userId")?,
        rules: rules.as_deref().and_then(RulesFilter::parse).unwrap_or_default(),
        with_metadata: projections.iter().any(|p| p == "metadata"),
    })
}
