//! The STIG tag: importing benchmarks and reading the library.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Json;
use stigward_domain::RevisionStr;
use stigward_storage::content::CciProjection;
use stigward_storage::stigs::{LibraryView, RevisionSelector, RuleProjection};
use stigward_storage::StoreError;
use stigward_wire::stig::{Cci, CciListItem, Group, Revision, Rule, ScapMap, Stig};

use crate::auth::{scope, Caller};
use crate::error::{ApiError, ApiResult};
use crate::extract::{Params, Path};
use crate::state::AppState;

/// Imports one XCCDF file (answered with one `RevisionPost`) or a zip of them (answered with
/// an array, one per benchmark, in the zip's order).
pub async fn import_benchmark(
    caller: Caller<scope::Stig>,
    State(state): State<AppState>,
    mut params: Params,
    upload: super::Upload,
) -> ApiResult<Response> {
    let clobber = params.flag("clobber")?;
    params.flag("elevate")?;
    params.finish()?;
    if !caller.elevate {
        return Err(ApiError::Privilege(None));
    }
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
    Ok(Json(state.store.stigs(title.as_deref(), visible.as_ref(), revisions).await?))
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
    match state.store.revisions(&benchmark_id, visible.as_ref()).await {
        Ok(revisions) => Ok(Json(revisions)),
        Err(StoreError::NotFound) => Err(unknown_benchmark(&benchmark_id)),
        Err(other) => Err(other.into()),
    }
}

pub async fn get_stig_by_id(
    caller: Caller<scope::StigRead>,
    State(state): State<AppState>,
    Path(benchmark_id): Path<String>,
    mut params: Params,
) -> ApiResult<Json<Stig>> {
    params.flag("elevate")?;
    params.finish()?;
    let visible = visible_collections(&state, &caller).await?;
    let stig = state.store.stig(&benchmark_id, visible.as_ref()).await;
    Ok(Json(stig.map_err(|e| not_found_as(e, unknown_benchmark(&benchmark_id)))?))
}

pub async fn delete_stig_by_id(
    caller: Caller<scope::Stig>,
    State(state): State<AppState>,
    Path(benchmark_id): Path<String>,
    mut params: Params,
) -> ApiResult<Json<Stig>> {
    params.flag("elevate")?;
    let force = params.flag("force")?;
    params.finish()?;
    require_elevation(&caller)?;
    let deleted = state.store.delete_stig(&benchmark_id, force).await;
    let missing = ApiError::NotFound(Some("No matching benchmarkId found.".into()));
    Ok(Json(deleted.map_err(|e| not_found_as(e, missing))?))
}

pub async fn get_revision_by_string(
    caller: Caller<scope::StigRead>,
    State(state): State<AppState>,
    Path((benchmark_id, revision_str)): Path<(String, String)>,
    mut params: Params,
) -> ApiResult<Json<Revision>> {
    params.flag("elevate")?;
    params.finish()?;
    let selector = revision_selector(&revision_str)?;
    let visible = visible_collections(&state, &caller).await?;
    let revision = state.store.revision(&benchmark_id, &selector, visible.as_ref()).await;
    Ok(Json(revision.map_err(|e| not_found_as(e, unknown_revision(&benchmark_id, &revision_str)))?))
}

pub async fn delete_revision_by_string(
    caller: Caller<scope::Stig>,
    State(state): State<AppState>,
    Path((benchmark_id, revision_str)): Path<(String, String)>,
    mut params: Params,
) -> ApiResult<Json<Revision>> {
    params.flag("elevate")?;
    let force = params.flag("force")?;
    params.finish()?;
    if revision_str == "latest" {
        return Err(ApiError::Validation(
            "request/params/revisionStr must be a revision string like V1R2, not latest".into(),
        ));
    }
    let selector = revision_selector(&revision_str)?;
    require_elevation(&caller)?;
    let deleted = state.store.delete_revision(&benchmark_id, &selector, force).await;
    let missing = ApiError::NotFound(Some("No matching revisionStr found.".into()));
    Ok(Json(deleted.map_err(|e| not_found_as(e, missing))?))
}

pub async fn get_ccis_by_revision(
    _caller: Caller<scope::StigRead>,
    State(state): State<AppState>,
    Path((benchmark_id, revision_str)): Path<(String, String)>,
    params: Params,
) -> ApiResult<Json<Vec<CciListItem>>> {
    params.finish()?;
    let rev_id = resolve_revision(&state, &benchmark_id, &revision_str).await?;
    Ok(Json(state.store.revision_ccis(&rev_id).await?))
}

pub async fn get_groups_by_revision(
    _caller: Caller<scope::StigRead>,
    State(state): State<AppState>,
    Path((benchmark_id, revision_str)): Path<(String, String)>,
    mut params: Params,
) -> ApiResult<Json<Vec<Group>>> {
    let with_rules = !params.choices("projection", &["rules"])?.is_empty();
    params.finish()?;
    let rev_id = resolve_revision(&state, &benchmark_id, &revision_str).await?;
    Ok(Json(state.store.groups(&rev_id, None, with_rules).await?))
}

pub async fn get_group_by_revision(
    _caller: Caller<scope::StigRead>,
    State(state): State<AppState>,
    Path((benchmark_id, revision_str, group_id)): Path<(String, String, String)>,
    mut params: Params,
) -> ApiResult<Json<Group>> {
    let with_rules = !params.choices("projection", &["rules"])?.is_empty();
    params.finish()?;
    let rev_id = resolve_revision(&state, &benchmark_id, &revision_str).await?;
    let mut groups = state.store.groups(&rev_id, Some(&group_id), with_rules).await?;
    let missing = format!("No group {group_id} in revision {revision_str} of {benchmark_id}");
    Ok(Json(groups.pop().ok_or(ApiError::NotFound(Some(missing)))?))
}

pub async fn get_rules_by_revision(
    _caller: Caller<scope::StigRead>,
    State(state): State<AppState>,
    Path((benchmark_id, revision_str)): Path<(String, String)>,
    mut params: Params,
) -> ApiResult<Json<Vec<Rule>>> {
    let projection = rule_projection(&mut params)?;
    params.finish()?;
    let rev_id = resolve_revision(&state, &benchmark_id, &revision_str).await?;
    Ok(Json(state.store.rules(&rev_id, projection).await?))
}

pub async fn get_rule_by_revision(
    _caller: Caller<scope::StigRead>,
    State(state): State<AppState>,
    Path((benchmark_id, revision_str, rule_id)): Path<(String, String, String)>,
    mut params: Params,
) -> ApiResult<Json<Rule>> {
    let projection = rule_projection(&mut params)?;
    params.finish()?;
    let rev_id = resolve_revision(&state, &benchmark_id, &revision_str).await?;
    let rule = state.store.rule_in_revision(&rev_id, &rule_id, projection).await;
    let missing = format!("No rule {rule_id} in revision {revision_str} of {benchmark_id}");
    Ok(Json(rule.map_err(|e| not_found_as(e, ApiError::NotFound(Some(missing))))?))
}

pub async fn get_rule_by_rule_id(
    _caller: Caller<scope::StigRead>,
    State(state): State<AppState>,
    Path(rule_id): Path<String>,
    mut params: Params,
) -> ApiResult<Json<Rule>> {
    let projection = rule_projection(&mut params)?;
    params.finish()?;
    let rule = state.store.rule_by_id(&rule_id, projection).await;
    let missing = ApiError::NotFound(Some(format!("No rule {rule_id}")));
    Ok(Json(rule.map_err(|e| not_found_as(e, missing))?))
}

pub async fn get_cci(
    _caller: Caller<scope::StigRead>,
    State(state): State<AppState>,
    Path(cci): Path<String>,
    mut params: Params,
) -> ApiResult<Json<Cci>> {
    let projections = params.choices("projection", &["emassAp", "stigs", "references"])?;
    params.finish()?;
    if cci.len() != 6 || !cci.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ApiError::Validation(
            "request/params/cci must match pattern ^[0-9]{6}$".into(),
        ));
    }
    let has = |p: &str| projections.iter().any(|x| x == p);
    let projection = CciProjection {
        emass_ap: has("emassAp"),
        references: has("references"),
        stigs: has("stigs"),
    };
    let found = state.store.cci(&cci, projection).await;
    let missing = ApiError::NotFound(Some(format!("No CCI {cci}")));
    Ok(Json(found.map_err(|e| not_found_as(e, missing))?))
}

/// The fixed renames from SCAP benchmark ids to the manual benchmarks they assess.
const SCAP_MAPS: [(&str, &str); 6] = [
    ("CAN_Ubuntu_18-04_STIG", "U_CAN_Ubuntu_18-04_STIG"),
    ("Mozilla_Firefox_RHEL", "Mozilla_Firefox"),
    ("Mozilla_Firefox_Windows", "Mozilla_Firefox"),
    ("MOZ_Firefox_Linux", "MOZ_Firefox_STIG"),
    ("MOZ_Firefox_Windows", "MOZ_Firefox_STIG"),
    ("Solaris_10_X86_STIG", "Solaris_10_X86"),
];

pub async fn get_scap_map(
    _caller: Caller<scope::StigRead>,
    params: Params,
) -> ApiResult<Json<Vec<ScapMap>>> {
    params.finish()?;
    let maps = SCAP_MAPS
        .iter()
        .map(|(scap, manual)| ScapMap { scap_benchmark_id: scap, benchmark_id: manual });
    Ok(Json(maps.collect()))
}

fn rule_projection(params: &mut Params) -> ApiResult<RuleProjection> {
    let projections =
        params.choices("projection", &["detail", "ccis", "check", "fix", "ruleIds", "stigs"])?;
    let has = |p: &str| projections.iter().any(|x| x == p);
    Ok(RuleProjection {
        detail: has("detail"),
        ccis: has("ccis"),
        check: has("check"),
        fix: has("fix"),
        rule_ids: has("ruleIds"),
        stigs: has("stigs"),
    })
}

/// The `rev_id` a path's benchmark and revision string name, or the API's 404.
pub(crate) async fn resolve_revision(
    state: &AppState,
    benchmark_id: &str,
    revision_str: &str,
) -> ApiResult<String> {
    let selector = revision_selector(revision_str)?;
    let rev_id = state.store.rev_id(benchmark_id, &selector).await;
    rev_id.map_err(|e| not_found_as(e, unknown_revision(benchmark_id, revision_str)))
}

fn require_elevation(caller: &crate::auth::Authenticated) -> ApiResult<()> {
    match caller.elevate {
        true => Ok(()),
        false => Err(ApiError::Privilege(None)),
    }
}

/// A store `NotFound` becomes the given error; other failures pass through.
fn not_found_as(err: StoreError, missing: ApiError) -> ApiError {
    match err {
        StoreError::NotFound => missing,
        other => other.into(),
    }
}

fn unknown_revision(benchmark_id: &str, revision_str: &str) -> ApiError {
    ApiError::NotFound(Some(format!("No revision {revision_str} of benchmark {benchmark_id}")))
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

pub(crate) fn unknown_benchmark(benchmark_id: &str) -> ApiError {
    ApiError::NotFound(Some(format!("No benchmark with id {benchmark_id}")))
}

/// Collections whose ids a caller may see in library listings; `None` when elevated (all).
/// A restricted grant reveals its collection only under the benchmarks its ACL can read.
async fn visible_collections(
    state: &AppState,
    caller: &crate::auth::Authenticated,
) -> ApiResult<Option<LibraryView>> {
    if caller.elevate {
        return Ok(None);
    }
    let mut view = LibraryView::default();
    for grant in state.store.effective_grants(caller.user_id).await? {
        if grant.role != stigward_domain::Role::Restricted {
            view.collections.insert(grant.collection_id);
            continue;
        }
        let readable = state.store.access_map(&grant).await?;
        let benchmarks = readable.readable().map(|(_, benchmark, _)| benchmark.to_string());
        view.benchmarks.insert(grant.collection_id, benchmarks.collect());
    }
    Ok(Some(view))
}
