//! The STIG tag: importing benchmarks and reading the library.

use axum::extract::{Multipart, Path, State};
use axum::response::{IntoResponse, Response};
use axum::Json;
use stigward_domain::RevisionStr;
use stigward_storage::stigs::{RevisionSelector, RuleProjection};
use stigward_storage::StoreError;
use stigward_wire::stig::{Revision, Rule, Stig};

use crate::auth::{scope, Caller};
use crate::error::{ApiError, ApiResult};
use crate::extract::Params;
use crate::state::AppState;

/// Imports one XCCDF file (answered with one `RevisionPost`) or a zip of them (answered with
/// an array, one per benchmark, in the zip's order).
pub async fn import_benchmark(
    caller: Caller<scope::Stig>,
    State(state): State<AppState>,
    mut params: Params,
    form: Multipart,
) -> ApiResult<Response> {
    let clobber = params.flag("clobber")?;
    params.flag("elevate")?;
    params.finish()?;
    if !caller.elevate {
        return Err(ApiError::Privilege(None));
    }
    let upload = super::read_upload(form).await?;
    let parsed = crate::library::parse_upload(&upload.file_name, &upload.bytes)?;
    let was_zip = stigward_formats::library::is_zip(&upload.bytes);
    let mut results =
        crate::library::import_benchmarks(&state.store, &parsed, clobber, caller.now).await?;
    if was_zip {
        return Ok(Json(results).into_response());
    }
    let single = results.pop().ok_or_else(|| ApiError::Internal("no benchmark imported".into()))?;
    Ok(Json(single).into_response())
}

pub async fn get_stigs(
    caller: Caller<scope::StigRead>,
    State(state): State<AppState>,
    mut params: Params,
) -> ApiResult<Json<Vec<Stig>>> {
    let title = params.one("title")?;
    let revisions = !params.choices("projection", &["revisions"])?.is_empty();
    params.flag("elevate")?;
    params.finish()?;
    let visible = visible_collections(&state, &caller).await?;
    Ok(Json(state.store.stigs(title.as_deref(), visible.as_deref(), revisions).await?))
}

pub async fn get_revisions_by_benchmark_id(
    caller: Caller<scope::StigRead>,
    State(state): State<AppState>,
    Path(benchmark_id): Path<String>,
    mut params: Params,
) -> ApiResult<Json<Vec<Revision>>> {
    params.flag("elevate")?;
    params.finish()?;
    let visible = visible_collections(&state, &caller).await?;
    match state.store.revisions(&benchmark_id, visible.as_deref()).await {
        Ok(revisions) => Ok(Json(revisions)),
        Err(StoreError::NotFound) => Err(unknown_benchmark(&benchmark_id)),
        Err(other) => Err(other.into()),
    }
}

pub async fn get_rules_by_revision(
    _caller: Caller<scope::StigRead>,
    State(state): State<AppState>,
    Path((benchmark_id, revision_str)): Path<(String, String)>,
    mut params: Params,
) -> ApiResult<Json<Vec<Rule>>> {
    let projections =
        params.choices("projection", &["detail", "ccis", "check", "fix", "ruleIds", "stigs"])?;
    params.finish()?;
    // Known shortcoming: the `ruleIds` and `stigs` projections are accepted but not yet filled.
    let has = |p: &str| projections.iter().any(|x| x == p);
    let projection = RuleProjection {
        detail: has("detail"),
        ccis: has("ccis"),
        check: has("check"),
        fix: has("fix"),
    };
    let selector = revision_selector(&revision_str)?;
    let rev_id = match state.store.rev_id(&benchmark_id, &selector).await {
        Ok(rev_id) => rev_id,
        Err(StoreError::NotFound) => {
            return Err(ApiError::NotFound(Some(format!(
                "No revision {revision_str} of benchmark {benchmark_id}"
            ))))
        }
        Err(other) => return Err(other.into()),
    };
    Ok(Json(state.store.rules(&rev_id, projection).await?))
}

pub fn revision_selector(text: &str) -> ApiResult<RevisionSelector> {
    if text == "latest" {
        return Ok(RevisionSelector::Latest);
    }
    let parsed: RevisionStr = text
        .parse()
        .map_err(|e: String| ApiError::Validation(format!("request/params/revisionStr {e}")))?;
    Ok(RevisionSelector::Exact { version: parsed.version, release: parsed.release })
}

fn unknown_benchmark(benchmark_id: &str) -> ApiError {
    ApiError::NotFound(Some(format!("No benchmark with id {benchmark_id}")))
}

/// Collections whose ids a caller may see in library listings; `None` when elevated (all).
async fn visible_collections(
    state: &AppState,
    caller: &crate::auth::Authenticated,
) -> ApiResult<Option<Vec<i64>>> {
    if caller.elevate {
        return Ok(None);
    }
    let grants = state.store.effective_grants(caller.user_id).await?;
    Ok(Some(grants.iter().map(|g| g.collection_id).collect()))
}
