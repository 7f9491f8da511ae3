//! Running jobs: each run executes its job's tasks in order in a background task and records
//! output lines and a final state; the scheduler starts runs when a job's schedule comes due.

use std::time::Duration;

use stigward_storage::aging::TaskRun;
use stigward_storage::jobs::{interval_seconds, Schedule};
use stigward_storage::Store;

use super::state::{ApiStatus, Phase};
use crate::state::Clock;

/// Records a run of `job_id` and starts it; returns the run's UUID at once.
pub async fn start_run(
    store: &Store,
    job_id: i64,
    clock: Clock,
) -> stigward_storage::Result<String> {
    let run_uuid = uuid::Uuid::new_v4().to_string();
    let run_id = store.start_job_run(job_id, &run_uuid, clock()).await?;
    tokio::spawn(execute(store.clone(), run_id, job_id, clock));
    Ok(run_uuid)
}

async fn execute(store: Store, run_id: i64, job_id: i64, clock: Clock) {
    let state = match run_tasks(&store, run_id, job_id, clock).await {
        Ok(true) => "completed",
        Ok(false) => "failed",
        Err(err) => {
            tracing::error!(job_id, error = %err, "job run could not record its progress");
            "failed"
        }
    };
    if let Err(err) = store.finish_job_run(run_id, state, clock()).await {
        tracing::error!(job_id, error = %err, "job run could not record its end");
    }
}

/// Runs the tasks in order, stopping at the first failure; `Ok(false)` when one failed.
async fn run_tasks(
    store: &Store,
    run_id: i64,
    job_id: i64,
    clock: Clock,
) -> stigward_storage::Result<bool> {
    let tasks = store.job_tasks(job_id).await?;
    if tasks.is_empty() {
        store.write_task_output(run_id, None, "error", "no tasks to run", clock()).await?;
        return Ok(false);
    }
    for task in tasks {
        let id = Some(task.task_id);
        store.write_task_output(run_id, id, "info", "task started", clock()).await?;
        let run = TaskRun { run_id, task_id: task.task_id, now: clock() };
        match store.run_task_command(&task, run).await {
            Ok(report) => {
                store.write_task_output(run_id, id, "info", &report, clock()).await?;
            }
            Err(err) => {
                tracing::warn!(job_id, task = task.name, error = %err, "job task failed");
                let message = format!("task failed: {err}");
                store.write_task_output(run_id, id, "error", &message, clock()).await?;
                return Ok(false);
            }
        }
    }
    Ok(true)
}

/// The scheduled time a schedule should fire for now, if it has not fired for it yet.
pub fn due(schedule: &Schedule, now: i64) -> Option<i64> {
    let event = &schedule.event;
    if event.starts > now {
        return None;
    }
    if !event.recurring {
        return schedule.last_fired.is_none().then_some(event.starts);
    }
    let (value, field) = event.interval.as_ref()?;
    let step = value.checked_mul(interval_seconds(field)?).filter(|s| *s > 0)?;
    let latest = event.starts + (now - event.starts) / step * step;
    let ended = event.ends.is_some_and(|ends| latest > ends);
    let fired = schedule.last_fired.is_some_and(|last| last >= latest);
    (!ended && !fired).then_some(latest)
}

/// Checks the schedules every `tick` until the API stops.
pub fn spawn_scheduler(store: Store, status: &ApiStatus, clock: Clock, tick: Duration) {
    let mut state = status.watch();
    tokio::spawn(async move {
        loop {
            if let Err(err) = fire_due(&store, clock).await {
                tracing::warn!(error = %err, "job scheduler could not read the schedules");
            }
            tokio::select! {
                _ = tokio::time::sleep(tick) => {}
                _ = state.wait_for(|r| matches!(r.current_state, Phase::Stop | Phase::Fail)) => {
                    return
                }
            }
        }
    });
}

async fn fire_due(store: &Store, clock: Clock) -> stigward_storage::Result<()> {
    let now = clock();
    for schedule in store.schedules().await? {
        if let Some(at) = due(&schedule, now) {
            // recorded first, so a slow run is never started twice for one firing
            store.mark_schedule_fired(schedule.event_id, at).await?;
            start_run(store, schedule.job_id, clock).await?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use stigward_storage::jobs::EventWrite;

    fn schedule(recurring: bool, last_fired: Option<i64>) -> Schedule {
        Schedule {
            event_id: 1,
            job_id: 100,
            event: EventWrite {
                recurring,
                starts: 1_000,
                ends: Some(10_000),
                interval: Some((2, "minute".into())),
                enabled: true,
            },
            last_fired,
        }
    }

    #[test]
    fn once_fires_once_after_it_starts() {
        assert_eq!(due(&schedule(false, None), 999), None);
        assert_eq!(due(&schedule(false, None), 5_000), Some(1_000));
        assert_eq!(due(&schedule(false, Some(1_000)), 5_000), None);
    }

    #[test]
    fn recurring_fires_once_per_interval_until_it_ends() {
        assert_eq!(due(&schedule(true, None), 1_000), Some(1_000));
        assert_eq!(due(&schedule(true, Some(1_000)), 1_119), None);
        assert_eq!(due(&schedule(true, Some(1_000)), 1_130), Some(1_120));
        assert_eq!(due(&schedule(true, Some(9_400)), 20_000), None);
    }
}
