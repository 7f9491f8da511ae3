//! The Review tag: collection and asset reads, per-asset and single-review writes, review
//! metadata and the batch write.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{Map, Value};
use stigward_domain::review::{Incoming, Writer};
use stigward_domain::{CollectionSettings, ReviewResult, ReviewStatus, Role};
use stigward_storage::access::{Access, AccessMap};
use stigward_storage::review_read::{ReadScope, ReviewFilter, RulesFilter};
use stigward_storage::reviews::ReviewWrite;
use stigward_wire::review::{
    ResultEngineCheck, Review, ReviewAssetPost, ReviewBatch, ReviewBody, ReviewPostResponse,
    StatusObject, StatusWrite,
};

use crate::auth::{scope, Authenticated, Caller, CollectionAccess};
use crate::error::{ApiError, ApiResult};
use crate::extract::{parse_id, ApiJson, Params, Path};
use crate::state::AppState;

const MAX_TEXT: usize = 32767;
/// The contract's `StatusText` (`String511Nullable`).
const MAX_STATUS_TEXT: usize = 511;

pub async fn get_reviews_by_collection(
    caller: Caller<scope::CollectionRead>,
    State(state): State<AppState>,
    Path(collection_id): Path<String>,
    mut params: Params,
) -> ApiResult<Json<Vec<Review>>> {
    let collection_id = parse_id(&collection_id, "params/collectionId")?;
    let mut filter = review_filter(&mut params, &["metadata", "rule", "stigs"])?;
    filter.asset_id = params.id("assetId")?;
    filter.rule_id = params.one("ruleId")?;
    filter.group_id = params.one("groupId")?;
    filter.cci = params.one("cci")?;
    filter.user_id = params.id("userId")?;
    params.finish()?;
    let access = caller.collection_access(&state, collection_id, Role::Restricted).await?;
    let acl = access.access_map(&state).await?;
    let reviews = state.store.reviews(collection_id, &filter, read_scope(&access, &acl));
    Ok(Json(reviews.await?))
}

pub async fn post_review_batch(
    caller: Caller<scope::Collection>,
    State(state): State<AppState>,
    Path(collection_id): Path<String>,
    params: Params,
    ApiJson(body): ApiJson<ReviewBatch>,
) -> ApiResult<Response> {
    let collection_id = parse_id(&collection_id, "params/collectionId")?;
    params.finish()?;
    crate::handlers::review_batch::post(&caller, &state, collection_id, body).await
}

pub async fn get_reviews_by_asset(
    caller: Caller<scope::CollectionRead>,
    State(state): State<AppState>,
    Path((collection_id, asset_id)): Path<(String, String)>,
    mut params: Params,
) -> ApiResult<Json<Vec<Review>>> {
    let collection_id = parse_id(&collection_id, "params/collectionId")?;
    let asset_id = parse_id(&asset_id, "params/assetId")?;
    let mut filter = review_filter(&mut params, &["metadata", "rule", "stigs"])?;
    filter.asset_id = Some(asset_id);
    params.finish()?;
    let access = caller.collection_access(&state, collection_id, Role::Restricted).await?;
    // an asset of another collection reads as empty; a missing or disabled one is refused
    if state.store.asset_collection(asset_id).await?.is_none() {
        return Err(ApiError::Privilege(None));
    }
    let acl = access.access_map(&state).await?;
    let reviews = state.store.reviews(collection_id, &filter, read_scope(&access, &acl));
    Ok(Json(reviews.await?))
}

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
    let target = ReviewTarget::load(&caller, &state, collection_id, asset_id).await?;
    Ok(Json(target.write(&caller, &state, items).await?))
}

pub async fn get_review_by_asset_rule(
    caller: Caller<scope::CollectionRead>,
    State(state): State<AppState>,
    Path((collection_id, asset_id, rule_id)): Path<(String, String, String)>,
    mut params: Params,
) -> ApiResult<Response> {
    let collection_id = parse_id(&collection_id, "params/collectionId")?;
    let asset_id = parse_id(&asset_id, "params/assetId")?;
    let filter = review_filter(&mut params, &["metadata", "rule", "stigs", "history"])?;
    params.finish()?;
    let access = caller.collection_access(&state, collection_id, Role::Restricted).await?;
    if state.store.asset_collection(asset_id).await?.is_none() {
        return Err(ApiError::Privilege(None));
    }
    let acl = access.access_map(&state).await?;
    let scope = read_scope(&access, &acl);
    match state.store.review(collection_id, asset_id, &rule_id, &filter, scope).await? {
        Some(review) => Ok(Json(review).into_response()),
        None => Ok(StatusCode::NO_CONTENT.into_response()),
    }
}

pub async fn patch_review_by_asset_rule(
    caller: Caller<scope::Collection>,
    State(state): State<AppState>,
    Path((collection_id, asset_id, rule_id)): Path<(String, String, String)>,
    mut params: Params,
    ApiJson(body): ApiJson<ReviewBody>,
) -> ApiResult<Json<Review>> {
    let collection_id = parse_id(&collection_id, "params/collectionId")?;
    let asset_id = parse_id(&asset_id, "params/assetId")?;
    let filter = review_filter(&mut params, &["metadata", "rule", "stigs", "history"])?;
    params.finish()?;
    if body == ReviewBody::default() {
        return Err(ApiError::Validation(
            "request/body must NOT have fewer than 1 properties".into(),
        ));
    }
    if body.result_engine.is_some() && body.result.is_none() {
        return Err(ApiError::unprocessable(
            "Request body with resultEngine must include a result",
        ));
    }
    for (name, value) in [("detail", &body.detail), ("comment", &body.comment)] {
        if matches!(value, Some(None)) {
            return Err(ApiError::Validation(format!("request/body/{name} must be string")));
        }
    }
    let incoming = body_incoming(body, "request/body")?;
    let target = ReviewTarget::load(&caller, &state, collection_id, asset_id).await?;
    if state.store.review_metadata(asset_id, &rule_id).await?.is_none() {
        return Err(ApiError::NotFound(Some("Review must exist to be patched".into())));
    }
    let item = ReviewWrite { rule_id: rule_id.clone(), incoming };
    target.write_one(&caller, &state, item).await?;
    Ok(Json(target.read(&state, &rule_id, &filter).await?))
}

pub async fn put_review_by_asset_rule(
    caller: Caller<scope::Collection>,
    State(state): State<AppState>,
    Path((collection_id, asset_id, rule_id)): Path<(String, String, String)>,
    mut params: Params,
    ApiJson(body): ApiJson<ReviewBody>,
) -> ApiResult<(StatusCode, Json<Review>)> {
    let collection_id = parse_id(&collection_id, "params/collectionId")?;
    let asset_id = parse_id(&asset_id, "params/assetId")?;
    let filter = review_filter(&mut params, &["metadata", "rule", "stigs", "history"])?;
    params.finish()?;
    for (name, present) in [
        ("result", body.result.is_some()),
        ("detail", body.detail.is_some()),
        ("comment", body.comment.is_some()),
    ] {
        if !present {
            return Err(ApiError::Validation(format!(
                "request/body must have required property '{name}'"
            )));
        }
    }
    let incoming = body_incoming(body, "request/body")?;
    let target = ReviewTarget::load(&caller, &state, collection_id, asset_id).await?;
    let item = ReviewWrite { rule_id: rule_id.clone(), incoming };
    let written = target.write_one(&caller, &state, item).await?;
    let status = match written.affected.inserted {
        0 => StatusCode::OK,
        _ => StatusCode::CREATED,
    };
    Ok((status, Json(target.read(&state, &rule_id, &filter).await?)))
}

pub async fn delete_review_by_asset_rule(
    caller: Caller<scope::Collection>,
    State(state): State<AppState>,
    Path((collection_id, asset_id, rule_id)): Path<(String, String, String)>,
    mut params: Params,
) -> ApiResult<Response> {
    let collection_id = parse_id(&collection_id, "params/collectionId")?;
    let asset_id = parse_id(&asset_id, "params/assetId")?;
    let filter = review_filter(&mut params, &["metadata", "rule", "stigs", "history"])?;
    params.finish()?;
    let target = ReviewTarget::load(&caller, &state, collection_id, asset_id).await?;
    target.require(&state, &rule_id, Access::ReadWrite).await?;
    let before = target.read_optional(&state, &rule_id, &filter).await?;
    state.store.delete_review(asset_id, &rule_id).await?;
    match before {
        Some(review) => Ok(Json(review).into_response()),
        None => Ok(StatusCode::NO_CONTENT.into_response()),
    }
}

pub async fn get_review_metadata(
    caller: Caller<scope::CollectionRead>,
    State(state): State<AppState>,
    Path((collection_id, asset_id, rule_id)): Path<(String, String, String)>,
    params: Params,
) -> ApiResult<Json<Value>> {
    let target = metadata_target(&caller, &state, (collection_id, asset_id), params).await?;
    target.require(&state, &rule_id, Access::Read).await?;
    let metadata = state.store.review_metadata(target.asset_id, &rule_id).await?;
    Ok(Json(metadata.unwrap_or_else(|| Value::Object(Map::new()))))
}

pub async fn patch_review_metadata(
    caller: Caller<scope::Collection>,
    State(state): State<AppState>,
    Path((collection_id, asset_id, rule_id)): Path<(String, String, String)>,
    params: Params,
    ApiJson(body): ApiJson<Map<String, Value>>,
) -> ApiResult<Json<Value>> {
    check_metadata(&body)?;
    let target = metadata_target(&caller, &state, (collection_id, asset_id), params).await?;
    target.require(&state, &rule_id, Access::ReadWrite).await?;
    let merged = state.store.update_review_metadata(target.asset_id, &rule_id, |stored| {
        stored.extend(body.clone());
    });
    Ok(Json(merged.await?.unwrap_or(Value::Object(body))))
}

pub async fn put_review_metadata(
    caller: Caller<scope::Collection>,
    State(state): State<AppState>,
    Path((collection_id, asset_id, rule_id)): Path<(String, String, String)>,
    params: Params,
    ApiJson(body): ApiJson<Map<String, Value>>,
) -> ApiResult<Json<Value>> {
    check_metadata(&body)?;
    let target = metadata_target(&caller, &state, (collection_id, asset_id), params).await?;
    target.require(&state, &rule_id, Access::ReadWrite).await?;
    let replaced = state.store.update_review_metadata(target.asset_id, &rule_id, |stored| {
        *stored = body.clone();
    });
    Ok(Json(replaced.await?.unwrap_or(Value::Object(body))))
}

pub async fn get_review_metadata_keys(
    caller: Caller<scope::CollectionRead>,
    State(state): State<AppState>,
    Path((collection_id, asset_id, rule_id)): Path<(String, String, String)>,
    params: Params,
) -> ApiResult<Json<Vec<String>>> {
    let target = metadata_target(&caller, &state, (collection_id, asset_id), params).await?;
    target.require(&state, &rule_id, Access::Read).await?;
    let metadata = state.store.review_metadata(target.asset_id, &rule_id).await?;
    let keys = metadata.as_ref().and_then(Value::as_object).map(|m| m.keys().cloned().collect());
    Ok(Json(keys.unwrap_or_default()))
}

pub async fn get_review_metadata_value(
    caller: Caller<scope::CollectionRead>,
    State(state): State<AppState>,
    Path((collection_id, asset_id, rule_id, key)): Path<(String, String, String, String)>,
    params: Params,
) -> ApiResult<Json<Value>> {
    check_key(&key)?;
    let target = metadata_target(&caller, &state, (collection_id, asset_id), params).await?;
    target.require(&state, &rule_id, Access::Read).await?;
    let metadata = state.store.review_metadata(target.asset_id, &rule_id).await?;
    let value = metadata.as_ref().and_then(|m| m.get(&key)).and_then(Value::as_str);
    match value {
        Some(v) if !v.is_empty() => Ok(Json(Value::String(v.to_string()))),
        _ => Err(ApiError::NotFound(Some("metadata key not found".into()))),
    }
}

pub async fn put_review_metadata_value(
    caller: Caller<scope::Collection>,
    State(state): State<AppState>,
    Path((collection_id, asset_id, rule_id, key)): Path<(String, String, String, String)>,
    params: Params,
    ApiJson(value): ApiJson<String>,
) -> ApiResult<StatusCode> {
    check_key(&key)?;
    let target = metadata_target(&caller, &state, (collection_id, asset_id), params).await?;
    target.require(&state, &rule_id, Access::ReadWrite).await?;
    let set = state.store.update_review_metadata(target.asset_id, &rule_id, |stored| {
        stored.insert(key, Value::String(value));
    });
    set.await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn delete_review_metadata_key(
    caller: Caller<scope::Collection>,
    State(state): State<AppState>,
    Path((collection_id, asset_id, rule_id, key)): Path<(String, String, String, String)>,
    params: Params,
) -> ApiResult<StatusCode> {
    check_key(&key)?;
    let target = metadata_target(&caller, &state, (collection_id, asset_id), params).await?;
    target.require(&state, &rule_id, Access::ReadWrite).await?;
    let removed = state.store.update_review_metadata(target.asset_id, &rule_id, |stored| {
        stored.remove(&key);
    });
    removed.await?;
    Ok(StatusCode::NO_CONTENT)
}

/// An asset of a collection the caller holds a grant in, with the caller's ACL.
pub struct ReviewTarget {
    pub collection_id: i64,
    pub asset_id: i64,
    pub access: CollectionAccess,
    pub acl: AccessMap,
}

impl ReviewTarget {
    /// 403 unless the caller has a grant in the collection and the asset is an enabled member.
    pub async fn load(
        caller: &Authenticated,
        state: &AppState,
        collection_id: i64,
        asset_id: i64,
    ) -> ApiResult<ReviewTarget> {
        let access = caller.collection_access(state, collection_id, Role::Restricted).await?;
        if state.store.asset_collection(asset_id).await? != Some(collection_id) {
            return Err(ApiError::Privilege(None));
        }
        let acl = access.access_map_of(state, Some(asset_id)).await?;
        Ok(ReviewTarget { collection_id, asset_id, access, acl })
    }

    async fn write(
        &self,
        caller: &Authenticated,
        state: &AppState,
        items: Vec<ReviewWrite>,
    ) -> ApiResult<ReviewPostResponse> {
        let settings = collection_settings(state, self.collection_id).await?;
        let writer = Writer {
            user_id: caller.user_id,
            role: self.access.role,
            now: caller.now,
            batch: false,
        };
        let written =
            state.store.write_asset_reviews(self.asset_id, items, &settings, writer, &self.acl);
        Ok(written.await?)
    }

    /// Writes one review; a refused candidate is a 403 carrying the reason.
    async fn write_one(
        &self,
        caller: &Authenticated,
        state: &AppState,
        item: ReviewWrite,
    ) -> ApiResult<ReviewPostResponse> {
        let written = self.write(caller, state, vec![item]).await?;
        match written.rejected.first() {
            Some(rejected) => Err(ApiError::privilege(rejected.reason.clone())),
            None => Ok(written),
        }
    }

    /// 403 unless the caller's access to the rule on this asset is at least `needed`.
    async fn require(&self, state: &AppState, rule_id: &str, needed: Access) -> ApiResult<()> {
        let access = state.store.rule_access(self.asset_id, rule_id, &self.acl).await?;
        if access >= needed {
            return Ok(());
        }
        let what = if needed == Access::Read { "get" } else { "modify" };
        Err(ApiError::privilege(format!(
            "User has insufficient privilege to {what} the review of this rule."
        )))
    }

    async fn read_optional(
        &self,
        state: &AppState,
        rule_id: &str,
        filter: &ReviewFilter,
    ) -> ApiResult<Option<Review>> {
        let scope = read_scope(&self.access, &self.acl);
        Ok(state.store.review(self.collection_id, self.asset_id, rule_id, filter, scope).await?)
    }

    async fn read(
        &self,
        state: &AppState,
        rule_id: &str,
        filter: &ReviewFilter,
    ) -> ApiResult<Review> {
        let review = self.read_optional(state, rule_id, filter).await?;
        review.ok_or_else(|| ApiError::Internal("a written review did not read back".into()))
    }
}

async fn metadata_target(
    caller: &Authenticated,
    state: &AppState,
    (collection_id, asset_id): (String, String),
    params: Params,
) -> ApiResult<ReviewTarget> {
    let collection_id = parse_id(&collection_id, "params/collectionId")?;
    let asset_id = parse_id(&asset_id, "params/assetId")?;
    params.finish()?;
    ReviewTarget::load(caller, state, collection_id, asset_id).await
}

pub async fn collection_settings(
    state: &AppState,
    collection_id: i64,
) -> ApiResult<CollectionSettings> {
    let stored = state.store.collection_settings(collection_id).await?;
    Ok(CollectionSettings::from_stored(&stored))
}

/// Restricted grants read only what their ACL covers; other roles read everything their ACL
/// does not shut them out of.
pub fn read_scope<'a>(access: &CollectionAccess, acl: &'a AccessMap) -> ReadScope<'a> {
    ReadScope { acl: Some(acl), restricted: access.role == Role::Restricted }
}

fn check_metadata(metadata: &Map<String, Value>) -> ApiResult<()> {
    match metadata.iter().find(|(_, v)| !v.is_string()) {
        Some((key, _)) => Err(ApiError::Validation(format!("request/body/{key} must be string"))),
        None => Ok(()),
    }
}

fn check_key(key: &str) -> ApiResult<()> {
    let ok = !key.is_empty() && key.chars().all(|c| c.is_alphanumeric() || c == '_' || c == '.');
    match ok {
        true => Ok(()),
        false => {
            Err(ApiError::Validation("request/params/key must match pattern ^([\\w\\.]+)$".into()))
        }
    }
}

/// Checks one POST item against the schema and turns it into the engine's input.
pub fn review_write((i, item): (usize, ReviewAssetPost)) -> ApiResult<ReviewWrite> {
    if item.rule_id.is_empty() || item.rule_id.len() > 255 {
        return Err(ApiError::Validation(format!(
            "request/body/{i}/ruleId must be 1 to 255 characters"
        )));
    }
    let body = ReviewBody {
        result: item.result.map(Some),
        detail: item.detail.map(Some),
        comment: item.comment.map(Some),
        result_engine: item.result_engine,
        auto_result: item.auto_result,
        metadata: item.metadata,
        status: item.status,
    };
    Ok(ReviewWrite {
        rule_id: item.rule_id,
        incoming: body_incoming(body, &format!("request/body/{i}"))?,
    })
}

/// Checks a review body's values (enums, lengths, metadata strings) and turns it into the
/// write engine's input. `null` detail and comment count as absent.
pub fn body_incoming(body: ReviewBody, place: &str) -> ApiResult<Incoming> {
    let bad = |what: &str| ApiError::Validation(format!("{place}/{what}"));
    let result = match body.result {
        None => None,
        Some(Some(r)) => Some(
            ReviewResult::from_api(&r)
                .ok_or_else(|| bad("result must be equal to one of the allowed values"))?,
        ),
        Some(None) => return Err(bad("result must be equal to one of the allowed values")),
    };
    let status = body
        .status
        .map(|s| {
            status_write(s).ok_or_else(|| bad("status must be equal to one of the allowed values"))
        })
        .transpose()?;
    if let Some((_, Some(text))) = &status {
        if text.chars().count() > MAX_STATUS_TEXT {
            let limit = format!("status/text must NOT have more than {MAX_STATUS_TEXT} characters");
            return Err(bad(&limit));
        }
    }
    let (detail, comment) = (body.detail.flatten(), body.comment.flatten());
    for (name, text) in [("detail", &detail), ("comment", &comment)] {
        if text.as_ref().is_some_and(|t| t.chars().count() > MAX_TEXT) {
            return Err(bad(&format!("{name} must NOT have more than {MAX_TEXT} characters")));
        }
    }
    if let Some(metadata) = &body.metadata {
        if metadata.values().any(|v| !v.is_string()) {
            return Err(bad("metadata values must be strings"));
        }
    }
    if let Some(Some(engine)) = &body.result_engine {
        check_result_engine(engine).map_err(|why| bad(&format!("resultEngine {why}")))?;
    }
    Ok(Incoming {
        result,
        detail,
        comment,
        result_engine: body.result_engine,
        metadata: body.metadata.map(Value::Object),
        status,
    })
}

/// Checks an engine against the contract's `ResultEngine` schema: the types and keys serde
/// sees, then the enums, lengths and date-times it cannot.
fn check_result_engine(engine: &Value) -> Result<(), String> {
    let engine: ResultEngineCheck = serde_json::from_value(engine.clone())
        .map_err(|e| format!("must match the ResultEngine schema: {e}"))?;
    let long = |text: Option<&str>| text.is_some_and(|t| t.chars().count() > 255);
    let not_time =
        |time: Option<&str>| time.is_some_and(|t| chrono::DateTime::parse_from_rfc3339(t).is_err());
    let not_result = |result: &str| ReviewResult::from_api(result).is_none();
    let component = engine.check_content.as_ref().and_then(|c| c.component.as_deref());
    if long(Some(&engine.product)) || long(engine.version.as_deref()) || long(component) {
        return Err("strings must NOT have more than 255 characters".into());
    }
    if not_time(engine.time.as_deref()) {
        return Err("time must match format \"date-time\"".into());
    }
    if engine.overrides.as_ref().is_some_and(Vec::is_empty) {
        return Err("overrides must NOT have fewer than 1 items".into());
    }
    for o in engine.overrides.iter().flatten() {
        if not_result(&o.old_result) || not_result(&o.new_result) {
            return Err("overrides results must be equal to one of the allowed values".into());
        }
        if long(Some(&o.authority)) || long(o.remark.as_deref()) {
            return Err("overrides strings must NOT have more than 255 characters".into());
        }
        if not_time(o.time.as_deref()) {
            return Err("overrides time must match format \"date-time\"".into());
        }
    }
    Ok(())
}

fn status_write(status: StatusWrite) -> Option<(ReviewStatus, Option<String>)> {
    let (label, text) = match status {
        StatusWrite::Label(label) => (label, None),
        StatusWrite::Object(StatusObject { label, text }) => (label, text),
    };
    let status = ReviewStatus::ALL.into_iter().find(|s| s.api() == label)?;
    Some((status, text))
}

/// The filters every review read shares, and the projections the route allows.
fn review_filter(params: &mut Params, projections: &[&str]) -> ApiResult<ReviewFilter> {
    let rules = params.choice("rules", &RulesFilter::NAMES)?;
    let results: Vec<&str> = ReviewResult::ALL.iter().map(|r| r.api()).collect();
    let statuses: Vec<&str> = ReviewStatus::ALL.iter().map(|s| s.api()).collect();
    let chosen = params.choices("projection", projections)?;
    let has = |p: &str| chosen.iter().any(|x| x == p);
    let metadata = params
        .all("metadata")
        .into_iter()
        .map(|pair| match pair.split_once(':') {
            Some((k, v)) if !k.is_empty() => Ok((k.to_string(), v.to_string())),
            _ => Err(ApiError::Validation(format!(
                "request/query/metadata '{pair}' must be key:value"
            ))),
        })
        .collect::<ApiResult<Vec<_>>>()?;
    Ok(ReviewFilter {
        benchmark_id: params.one("benchmarkId")?,
        result: params.choice("result", &results)?.as_deref().and_then(ReviewResult::from_api),
        status: params
            .choice("status", &statuses)?
            .and_then(|s| ReviewStatus::ALL.into_iter().find(|x| x.api() == s)),
        metadata,
        rules: rules.as_deref().and_then(RulesFilter::parse).unwrap_or_default(),
        with_metadata: has("metadata"),
        with_rule: has("rule"),
        with_stigs: has("stigs"),
        with_history: has("history"),
        ..ReviewFilter::default()
    })
}
