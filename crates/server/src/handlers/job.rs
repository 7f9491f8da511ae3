//! The Job tag: jobs of built-in tasks, their schedules, runs and output. Every operation but
//! `getAllTasks` needs an admin acting with `elevate=true`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use stigward_storage::jobs::{interval_seconds, EventWrite, JobPatch, JobWrite, FIRST_USER_JOB};
use stigward_storage::StoreError;
use stigward_wire::job::{
    EventCreate, Job, JobCreate, JobRun, JobUpdate, RunOutput, RunStarted, Task,
};

use crate::auth::{scope, Authenticated, Caller};
use crate::error::{ApiError, ApiResult};
use crate::extract::{parse_id, ApiJson, Params, Path};
use crate::ops::jobs::start_run;
use crate::state::AppState;

/// Takes `elevate` and refuses callers who did not elevate.
fn elevated(caller: &Authenticated, params: &mut Params) -> ApiResult<()> {
    params.flag("elevate")?;
    match caller.elevate {
        true => Ok(()),
        false => Err(ApiError::ElevationRequired),
    }
}

fn job_not_found(job_id: i64) -> ApiError {
    ApiError::NotFound(Some(format!("Job with ID [{job_id}] not found.")))
}

fn run_not_found(run_id: &str) -> ApiError {
    ApiError::NotFound(Some(format!("Run with ID [{run_id}] not found.")))
}

pub async fn get_jobs(
    caller: Caller<scope::OpRead>,
    State(state): State<AppState>,
    mut params: Params,
) -> ApiResult<Json<Vec<Job>>> {
    elevated(&caller, &mut params)?;
    params.finish()?;
    Ok(Json(state.store.jobs().await?))
}

pub async fn post_job(
    caller: Caller<scope::Op>,
    State(state): State<AppState>,
    mut params: Params,
    ApiJson(body): ApiJson<JobCreate>,
) -> ApiResult<(StatusCode, Json<Job>)> {
    elevated(&caller, &mut params)?;
    params.finish()?;
    let job = JobWrite {
        name: job_name(&body.name)?,
        description: description(body.description)?,
        tasks: task_ids(&body.tasks)?,
        event: body.event.map(|e| event(e, caller.now)).transpose()?,
    };
    let job_id = state.store.create_job(&job, caller.user_id, caller.now).await?;
    let created = state.store.job(job_id).await?.ok_or_else(|| job_not_found(job_id))?;
    Ok((StatusCode::CREATED, Json(created)))
}

pub async fn get_job(
    caller: Caller<scope::OpRead>,
    State(state): State<AppState>,
    Path(job_id): Path<String>,
    mut params: Params,
) -> ApiResult<Json<Job>> {
    let job_id = parse_id(&job_id, "params/jobId")?;
    elevated(&caller, &mut params)?;
    params.finish()?;
    let job = state.store.job(job_id).await?;
    Ok(Json(job.ok_or_else(|| job_not_found(job_id))?))
}

pub async fn patch_job(
    caller: Caller<scope::Op>,
    State(state): State<AppState>,
    Path(job_id): Path<String>,
    mut params: Params,
    ApiJson(body): ApiJson<JobUpdate>,
) -> ApiResult<Json<Job>> {
    let job_id = parse_id(&job_id, "params/jobId")?;
    elevated(&caller, &mut params)?;
    params.finish()?;
    let patch = JobPatch {
        name: body.name.as_deref().map(job_name).transpose()?,
        description: body.description.map(description).transpose()?,
        tasks: body.tasks.as_deref().map(task_ids).transpose()?,
        event: body.event.map(|e| e.map(|e| event(e, caller.now)).transpose()).transpose()?,
    };
    let content = patch.name.is_some() || patch.description.is_some() || patch.tasks.is_some();
    if !content && patch.event.is_none() {
        return Err(ApiError::Validation(
            "request/body must NOT have fewer than 1 properties".into(),
        ));
    }
    if job_id < FIRST_USER_JOB && content {
        return Err(ApiError::unprocessable(
            "System jobs can only be modified with event properties.",
        ));
    }
    match state.store.update_job(job_id, &patch, caller.user_id, caller.now).await {
        Err(StoreError::NotFound) => return Err(job_not_found(job_id)),
        other => other?,
    }
    let job = state.store.job(job_id).await?;
    Ok(Json(job.ok_or_else(|| job_not_found(job_id))?))
}

pub async fn delete_job(
    caller: Caller<scope::Op>,
    State(state): State<AppState>,
    Path(job_id): Path<String>,
    mut params: Params,
) -> ApiResult<StatusCode> {
    let job_id = parse_id(&job_id, "params/jobId")?;
    elevated(&caller, &mut params)?;
    params.finish()?;
    if job_id < FIRST_USER_JOB {
        return Err(ApiError::unprocessable("Job is a system job and cannot be deleted."));
    }
    match state.store.delete_job(job_id).await? {
        true => Ok(StatusCode::NO_CONTENT),
        false => Err(job_not_found(job_id)),
    }
}

pub async fn get_runs_by_job(
    caller: Caller<scope::OpRead>,
    State(state): State<AppState>,
    Path(job_id): Path<String>,
    mut params: Params,
) -> ApiResult<Json<Vec<JobRun>>> {
    let job_id = parse_id(&job_id, "params/jobId")?;
    elevated(&caller, &mut params)?;
    params.finish()?;
    if state.store.job(job_id).await?.is_none() {
        return Err(job_not_found(job_id));
    }
    Ok(Json(state.store.job_runs(job_id).await?))
}

/// Starts a run and answers at once with its id (200, as upstream does, not the contract's 201).
pub async fn run_immediate_job(
    caller: Caller<scope::Op>,
    State(state): State<AppState>,
    Path(job_id): Path<String>,
    mut params: Params,
) -> ApiResult<Json<RunStarted>> {
    let job_id = parse_id(&job_id, "params/jobId")?;
    elevated(&caller, &mut params)?;
    params.finish()?;
    if state.store.job(job_id).await?.is_none() {
        return Err(job_not_found(job_id));
    }
    let run_id = start_run(&state.store, job_id, state.clock).await?;
    Ok(Json(RunStarted { run_id }))
}

pub async fn get_run_by_id(
    caller: Caller<scope::OpRead>,
    State(state): State<AppState>,
    Path(run_id): Path<String>,
    mut params: Params,
) -> ApiResult<Json<JobRun>> {
    let run_id = run_uuid(&run_id)?;
    elevated(&caller, &mut params)?;
    params.finish()?;
    let run = state.store.job_run(&run_id).await?;
    Ok(Json(run.ok_or_else(|| run_not_found(&run_id))?))
}

pub async fn delete_run_by_id(
    caller: Caller<scope::Op>,
    State(state): State<AppState>,
    Path(run_id): Path<String>,
    mut params: Params,
) -> ApiResult<StatusCode> {
    let run_id = run_uuid(&run_id)?;
    elevated(&caller, &mut params)?;
    params.finish()?;
    match state.store.delete_job_run(&run_id).await? {
        true => Ok(StatusCode::NO_CONTENT),
        false => Err(run_not_found(&run_id)),
    }
}

pub async fn get_output_by_run(
    caller: Caller<scope::OpRead>,
    State(state): State<AppState>,
    Path(run_id): Path<String>,
    mut params: Params,
) -> ApiResult<Json<Vec<RunOutput>>> {
    let run_id = run_uuid(&run_id)?;
    elevated(&caller, &mut params)?;
    let after = params
        .one("after-seq")?
        .map(|v| {
            v.parse::<i64>()
                .map_err(|_| ApiError::Validation("request/query/after-seq must be integer".into()))
        })
        .transpose()?;
    params.finish()?;
    match state.store.job_run_output(&run_id, after).await {
        Err(StoreError::NotFound) => Err(run_not_found(&run_id)),
        other => Ok(Json(other?)),
    }
}

/// The only Job operation that needs no elevation: without it, only the tasks that have a
/// per-collection configuration.
pub async fn get_all_tasks(
    caller: Caller<scope::OpRead>,
    State(state): State<AppState>,
    mut params: Params,
) -> ApiResult<Json<Vec<Task>>> {
    params.flag("elevate")?;
    let with_config = params.flag("hasCollectionConfig")?;
    params.finish()?;
    let only_configurable = !caller.elevate || with_config;
    Ok(Json(state.store.tasks(only_configurable).await?))
}

fn job_name(name: &str) -> ApiResult<String> {
    match name.chars().count() {
        1..=45 => Ok(name.to_string()),
        _ => Err(ApiError::Validation("request/body/name must be 1 to 45 characters".into())),
    }
}

fn description(text: Option<String>) -> ApiResult<Option<String>> {
    match &text {
        Some(t) if t.chars().count() > 255 => Err(ApiError::Validation(
            "request/body/description must NOT have more than 255 characters".into(),
        )),
        _ => Ok(text),
    }
}

fn task_ids(tasks: &[String]) -> ApiResult<Vec<i64>> {
    if tasks.is_empty() {
        return Err(ApiError::Validation(
            "request/body/tasks must NOT have fewer than 1 items".into(),
        ));
    }
    tasks.iter().map(|t| parse_id(t, "body/tasks")).collect()
}

fn run_uuid(text: &str) -> ApiResult<String> {
    uuid::Uuid::parse_str(text)
        .map(|u| u.to_string())
        .map_err(|_| ApiError::Validation("request/params/runId must match format \"uuid\"".into()))
}

fn timestamp(text: &str, place: &str) -> ApiResult<i64> {
    chrono::DateTime::parse_from_rfc3339(text).map(|t| t.timestamp()).map_err(|_| {
        ApiError::Validation(format!("request/body/event/{place} must match format \"date-time\""))
    })
}

fn event(event: EventCreate, now: i64) -> ApiResult<EventWrite> {
    match event {
        EventCreate::Once { starts, enabled } => Ok(EventWrite {
            recurring: false,
            starts: timestamp(&starts, "starts")?,
            ends: None,
            interval: None,
            enabled: enabled.unwrap_or(true),
        }),
        EventCreate::Recurring { interval, starts, ends, enabled } => {
            let value = match &interval.value {
                serde_json::Value::Number(n) => n.as_i64(),
                serde_json::Value::String(s) => s.parse().ok(),
                _ => None,
            }
            .filter(|v| *v >= 1)
            .ok_or_else(|| {
                ApiError::Validation(
                    "request/body/event/interval/value must be a positive integer".into(),
                )
            })?;
            if interval_seconds(&interval.field).is_none() {
                return Err(ApiError::Validation(
                    "request/body/event/interval/field must be one of: minute, hour, day, week, month".into(),
                ));
            }
            Ok(EventWrite {
                recurring: true,
                starts: starts
                    .as_deref()
                    .map(|s| timestamp(s, "starts"))
                    .transpose()?
                    .unwrap_or(now),
                ends: ends.as_deref().map(|s| timestamp(s, "ends")).transpose()?,
                interval: Some((value, interval.field)),
                enabled: enabled.unwrap_or(true),
            })
        }
    }
}
