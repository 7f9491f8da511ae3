//! The Collection tag's streamed operations: clone and export-to. Preconditions are checked
//! here and refused with ordinary JSON errors; after that the answer is a `200` NDJSON stream of
//! progress lines written by the work as it runs (see `ops::clone`).

use axum::extract::State;
use axum::response::Response;
use stigward_domain::Role;
use stigward_storage::access::Access;
use stigward_storage::clone::{ClonePlan, PinRevisions, StigMappings};
use stigward_storage::export::{ExportPlan, ExportSelection, RevisionChoice};
use stigward_storage::StoreError;
use stigward_wire::clone::{
    AssetStigSelection, CollectionCloneRequest, PinRevisionsOption, StigMappingsOption,
    StigSelection,
};

use super::collection::{projection, PROJECTIONS};
use super::stig::revision_selector;
use crate::auth::{scope, Authenticated, Caller};
use crate::error::{ApiError, ApiResult};
use crate::extract::{parse_id, ApiJson, Params, Path};
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
    params.finish()?;
    let plan = clone_plan(&caller, source_id, body)?;
    if !caller.privileges.create_collection {
        return Err(ApiError::privilege("User has not been granted createCollection privilege"));
    }
    // the contract declares no `elevate` here: an admin needs a real grant, as upstream
    caller.granted_access(&state, source_id, Role::Manage).await?;

    let (lines, response) = ops::ndjson::stream();
    tokio::spawn(ops::clone::run(state.store.clone(), plan, projection, lines));
    Ok(response)
}

fn clone_plan(
    caller: &Authenticated,
    source_id: i64,
    body: CollectionCloneRequest,
) -> ApiResult<ClonePlan> {
    let length = body.name.chars().count();
    if !(1..=45).contains(&length) {
        return Err(ApiError::Validation("request/body/name must be 1 to 45 characters".into()));
    }
    let Some(description) = body.description else {
        return Err(ApiError::Validation(
            "request/body must have required property 'description'".into(),
        ));
    };
    if description.as_ref().is_some_and(|d| d.chars().count() > 255) {
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

pub async fn export_to_collection(
    caller: Caller<scope::CollectionRead>,
    State(state): State<AppState>,
    Path((source, destination)): Path<(String, String)>,
    params: Params,
    ApiJson(body): ApiJson<Vec<AssetStigSelection>>,
) -> ApiResult<Response> {
    let source_id = parse_id(&source, "params/collectionId")?;
    let destination_id = parse_id(&destination, "params/dstCollectionId")?;
    params.finish()?;
    let selections = export_selections(&body)?;
    // no `elevate` either: both ends need a real grant
    let source = caller.granted_access(&state, source_id, Role::Restricted).await?;
    caller.granted_access(&state, destination_id, Role::Manage).await?;
    for selection in &selections {
        let owner = state.store.asset_collection(selection.asset_id).await?;
        if owner != Some(source_id) {
            return Err(ApiError::privilege(format!(
                "Asset {} is not in the source collection",
                selection.asset_id
            )));
        }
    }
    let targets = match state.store.resolve_export(source_id, &selections).await {
        Err(StoreError::Conflict(detail)) => return Err(ApiError::unprocessable(detail)),
        other => other?,
    };
    // a Restricted caller exports only the asset/STIG pairs its ACL lets it read
    let targets = match source.viewer() {
        Some(grant) => {
            let acl = state.store.access_map(grant).await?;
            targets
                .into_iter()
                .filter(|t| acl.access(t.asset_id, &t.benchmark_id) > Access::None)
                .collect()
        }
        None => targets,
    };

    let plan =
        ExportPlan { source_id, destination_id, targets, user_id: caller.user_id, now: caller.now };
    let (lines, response) = ops::ndjson::stream();
    tokio::spawn(ops::export::run(state.store.clone(), plan, lines));
    Ok(response)
}

fn export_selections(body: &[AssetStigSelection]) -> ApiResult<Vec<ExportSelection>> {
    if !(1..=100).contains(&body.len()) {
        return Err(ApiError::Validation("request/body must have 1 to 100 items".into()));
    }
    let distinct: std::collections::HashSet<_> = body.iter().collect();
    if distinct.len() != body.len() {
        return Err(ApiError::Validation("request/body must NOT have duplicate items".into()));
    }
    body.iter()
        .map(|item| {
            let stigs = item
                .stigs
                .as_ref()
                .map(|stigs| stigs.iter().map(stig_choice).collect::<ApiResult<Vec<_>>>())
                .transpose()?;
            Ok(ExportSelection { asset_id: item.asset_id, stigs })
        })
        .collect()
}

fn stig_choice(stig: &StigSelection) -> ApiResult<(String, RevisionChoice)> {
    Ok(match stig {
        StigSelection::Benchmark(id) => (id.clone(), RevisionChoice::Default),
        StigSelection::Revision(r) => {
            (r.benchmark_id.clone(), RevisionChoice::Named(revision_selector(&r.revision_str)?))
        }
    })
}
