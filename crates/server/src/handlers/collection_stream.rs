//! The Collection tag's streamed operations: clone and export-to. Preconditions are checked
//! here and refused with ordinary JSON errors; after that the answer is a `200` NDJSON stream of
//! progress lines written by the work as it runs (see `ops::clone`).

use axum::extract::{Path, State};
use axum::response::Response;
use stigward_domain::Role;
use stigward_storage::clone::{ClonePlan, PinRevisions, StigMappings};
use stigward_wire::clone::{CollectionCloneRequest, PinRevisionsOption, StigMappingsOption};

use super::collection::{projection, PROJECTIONS};
use crate::auth::{scope, Authenticated, Caller};
use crate::error::{ApiError, ApiResult};
use crate::extract::{parse_id, ApiJson, Params};
use crate::ops;
use crate::state::AppState;

pub async fn clone_collection(
    caller: Caller<scope::Collection>,
    State(state): State<AppState>,
    Path(collection_id): Path<String>,
    mut params: Params,
    ApiJson(body): ApiJson<CollectionCloneRequest>,
) -> ApiResult<Response> {
    let source_id = parse_id(&collection_id, "params/collectionId")?;
    let projection = projection(params.choices("projection", PROJECTIONS)?);
    params.flag("elevate")?;
    params.finish()?;
    let plan = clone_plan(&caller, source_id, body)?;
    if !caller.privileges.create_collection {
        return Err(ApiError::privilege(
            "User has not been granted createCollection privilege",
        ));
    }
    caller
        .collection_access(&state, source_id, Role::Manage)
        .await?;

    let (lines, response) = ops::ndjson::stream();
    tokio::spawn(ops::clone::run(
        state.store.clone(),
        plan,
        projection,
        lines,
    ));
    Ok(response)
}

fn clone_plan(
    caller: &Authenticated,
    source_id: i64,
    body: CollectionCloneRequest,
) -> ApiResult<ClonePlan> {
    let length = body.name.chars().count();
    if !(1..=45).contains(&length) {
        return Err(ApiError::Validation(
            "request/body/name must be 1 to 45 characters".into(),
        ));
    }
    let Some(description) = body.description else {
        return Err(ApiError::Validation(
            "request/body must have required property 'description'".into(),
        ));
    };
    if description
        .as_ref()
        .is_some_and(|d| d.chars().count() > 255)
    {
        return Err(ApiError::Validation(
            "request/body/description must NOT have more than 255 characters".into(),
        ));
    }
    let options = body.options;
    if options.assets == Some(false) || options.labels == Some(false) {
        return Err(ApiError::Validation(
            "request/body/options/assets and labels must be equal to true".into(),
        ));
    }
    let stig_mappings = match options.stig_mappings {
        Some(StigMappingsOption::WithoutReviews) => StigMappings::WithoutReviews,
        _ => StigMappings::WithReviews,
    };
    let pin_revisions = match options.pin_revisions {
        Some(PinRevisionsOption::SourceDefaults) => PinRevisions::SourceDefaults,
        _ => PinRevisions::MatchSource,
    };
    Ok(ClonePlan {
        source_id,
        name: body.name,
        description,
        grants: options.grants.unwrap_or(true),
        stig_mappings,
        pin_revisions,
        user_id: caller.user_id,
        now: caller.now,
    })
}
