//! Jobs: named, ordered lists of the built-in tasks with an optional schedule; their runs and
//! the output lines the tasks write; and the maintenance statements each task executes.

use sqlx::any::AnyRow;
use sqlx::Row;
use stigward_wire::job::{
    CollectionTaskOutput, Interval, Job, JobEvent, JobRun, RunOutput, Task, TaskBasic, UserBasic,
};

use crate::aging::TaskRun;
use crate::{Dialect, Result, Store, StoreError};

/// User jobs are numbered from here; lower ids are system jobs.
pub const FIRST_USER_JOB: i64 = 100;

/// A schedule as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventWrite {
    pub recurring: bool,
    pub starts: i64,
    pub ends: Option<i64>,
    /// A recurring schedule's interval: a count of a unit (`minute` .. `month`).
    pub interval: Option<(i64, String)>,
    pub enabled: bool,
}

#[derive(Debug, Clone)]
pub struct JobWrite {
    pub name: String,
    pub description: Option<String>,
    pub tasks: Vec<i64>,
    pub event: Option<EventWrite>,
}

#[derive(Debug, Clone, Default)]
pub struct JobPatch {
    pub name: Option<String>,
    pub description: Option<Option<String>>,
    pub tasks: Option<Vec<i64>>,
    pub event: Option<Option<EventWrite>>,
}

/// An enabled schedule, for the scheduler.
#[derive(Debug, Clone)]
pub struct Schedule {
    pub event_id: i64,
    pub job_id: i64,
    pub event: EventWrite,
    pub last_fired: Option<i64>,
}

/// A task of a run, in the job's order.
#[derive(Debug, Clone)]
pub struct RunTask {
    pub task_id: i64,
    pub name: String,
    pub command: String,
}

/// Seconds in one unit of a schedule's interval. A month counts as 30 days.
pub fn interval_seconds(field: &str) -> Option<i64> {
    match field {
        "minute" => Some(60),
        "hour" => Some(3600),
        "day" => Some(86_400),
        "week" => Some(7 * 86_400),
        "month" => Some(30 * 86_400),
        _ => None,
    }
}

fn iso_ms(seconds: i64) -> String {
    chrono::DateTime::from_timestamp(seconds, 0)
        .map(|t| t.format("%Y-%m-%dT%H:%M:%S.000Z").to_string())
        .unwrap_or_default()
}

fn iso_s(seconds: i64) -> String {
    chrono::DateTime::from_timestamp(seconds, 0)
        .map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_default()
}

const JOB_SELECT: &str = "SELECT j.job_id, j.name, j.description, j.created, j.updated,
        j.created_user_id, cu.username AS created_username,
        j.updated_user_id, uu.username AS updated_username,
        (SELECT COUNT(*) FROM job_run r WHERE r.job_id = j.job_id) AS run_count
    FROM job j
    LEFT JOIN user_data cu ON cu.user_id = j.created_user_id
    LEFT JOIN user_data uu ON uu.user_id = j.updated_user_id";

impl Store {
    pub async fn jobs(&self) -> Result<Vec<Job>> {
        let rows =
            sqlx::query(&format!("{JOB_SELECT} ORDER BY j.job_id")).fetch_all(&self.pool).await?;
        let mut out = Vec::new();
        for row in &rows {
            out.push(self.job_from_row(row).await?);
        }
        Ok(out)
    }

    pub async fn job(&self, job_id: i64) -> Result<Option<Job>> {
        let row = sqlx::query(&format!("{JOB_SELECT} WHERE j.job_id = $1"))
            .bind(job_id)
            .fetch_optional(&self.pool)
            .await?;
        match row {
            Some(row) => Ok(Some(self.job_from_row(&row).await?)),
            None => Ok(None),
        }
    }

    async fn job_from_row(&self, row: &AnyRow) -> Result<Job> {
        let job_id: i64 = row.try_get("job_id")?;
        let tasks = sqlx::query(
            "SELECT t.task_id, t.name, t.description FROM job_task_map m
             JOIN task t ON t.task_id = m.task_id WHERE m.job_id = $1 ORDER BY m.ordinal",
        )
        .bind(job_id)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|t| {
            Ok(TaskBasic {
                task_id: t.try_get::<i64, _>("task_id")?.to_string(),
                name: t.try_get("name")?,
                description: t.try_get("description")?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
        let last_run = sqlx::query(
            "SELECT run_uuid, state, created, updated FROM job_run WHERE job_id = $1
             ORDER BY created DESC, run_id DESC LIMIT 1",
        )
        .bind(job_id)
        .fetch_optional(&self.pool)
        .await?
        .map(|r| -> Result<JobRun> {
            Ok(JobRun {
                run_id: r.try_get("run_uuid")?,
                state: r.try_get("state")?,
                created: iso_s(r.try_get("created")?),
                updated: Some(iso_s(r.try_get("updated")?)),
                job_id: None,
            })
        })
        .transpose()?;
        let user = |id: &str, name: &str| -> Result<UserBasic> {
            Ok(UserBasic {
                user_id: row.try_get::<Option<i64>, _>(id)?.map(|i| i.to_string()),
                username: row.try_get(name)?,
            })
        };
        let updated_by = user("updated_user_id", "updated_username")?;
        Ok(Job {
            job_id: job_id.to_string(),
            name: row.try_get("name")?,
            description: row.try_get("description")?,
            created_by: user("created_user_id", "created_username")?,
            created: iso_ms(row.try_get("created")?),
            updated_by: updated_by.user_id.is_some().then_some(updated_by),
            updated: row.try_get::<Option<i64>, _>("updated")?.map(iso_ms),
            tasks,
            run_count: row.try_get("run_count")?,
            last_run,
            event: self.job_event(job_id).await?,
        })
    }

    async fn job_event(&self, job_id: i64) -> Result<Option<JobEvent>> {
        let row = sqlx::query(
            "SELECT type, starts, ends, interval_value, interval_field, enabled
             FROM job_event WHERE job_id = $1",
        )
        .bind(job_id)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let kind: String = row.try_get("type")?;
        let recurring = kind == "recurring";
        let value: Option<i64> = row.try_get("interval_value")?;
        let field: Option<String> = row.try_get("interval_field")?;
        Ok(Some(JobEvent {
            event_id: format!("job-{job_id}-stigman"),
            interval: match (value, field) {
                (Some(value), Some(field)) if recurring => {
                    Some(Interval { value: value.to_string(), field })
                }
                _ => None,
            },
            starts: iso_ms(row.try_get("starts")?),
            ends: recurring
                .then(|| row.try_get::<Option<i64>, _>("ends").ok().flatten().map(iso_ms)),
            enabled: crate::flag(&row, "enabled")?,
            kind,
        }))
    }

    /// Creates a user job; `Conflict` for a taken name or an unknown task.
    pub async fn create_job(&self, job: &JobWrite, user_id: i64, now: i64) -> Result<i64> {
        let mut write = self.begin_write().await?;
        let tx = &mut write.tx;
        let job_id: i64 = sqlx::query_scalar(
            "SELECT CASE WHEN MAX(job_id) >= $1 THEN MAX(job_id) + 1 ELSE $1 END FROM job",
        )
        .bind(FIRST_USER_JOB)
        .fetch_one(&mut **tx)
        .await?;
        sqlx::query(
            "INSERT INTO job (job_id, name, description, created_user_id, created)
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(job_id)
        .bind(&job.name)
        .bind(&job.description)
        .bind(user_id)
        .bind(now)
        .execute(&mut **tx)
        .await
        .map_err(|e| crate::conflict_on_unique(e, "Job name already exists"))?;
        set_tasks(tx, job_id, &job.tasks).await?;
        if let Some(event) = &job.event {
            set_event(tx, job_id, Some(event)).await?;
        }
        write.commit().await?;
        Ok(job_id)
    }

    /// Applies a patch; `NotFound` when the job does not exist.
    pub async fn update_job(
        &self,
        job_id: i64,
        patch: &JobPatch,
        user_id: i64,
        now: i64,
    ) -> Result<()> {
        let mut write = self.begin_write().await?;
        let tx = &mut write.tx;
        let exists = sqlx::query("SELECT 1 FROM job WHERE job_id = $1")
            .bind(job_id)
            .fetch_optional(&mut **tx)
            .await?;
        if exists.is_none() {
            return Err(StoreError::NotFound);
        }
        if patch.name.is_some() || patch.description.is_some() || patch.tasks.is_some() {
            sqlx::query(
                "UPDATE job SET name = COALESCE($2, name),
                     description = CASE WHEN $3 = 1 THEN $4 ELSE description END,
                     updated_user_id = $5, updated = $6
                 WHERE job_id = $1",
            )
            .bind(job_id)
            .bind(&patch.name)
            .bind(i64::from(patch.description.is_some()))
            .bind(patch.description.clone().flatten())
            .bind(user_id)
            .bind(now)
            .execute(&mut **tx)
            .await
            .map_err(|e| crate::conflict_on_unique(e, "Job name already exists"))?;
        }
        if let Some(tasks) = &patch.tasks {
            sqlx::query("DELETE FROM job_task_map WHERE job_id = $1")
                .bind(job_id)
                .execute(&mut **tx)
                .await?;
            set_tasks(tx, job_id, tasks).await?;
        }
        if let Some(event) = &patch.event {
            set_event(tx, job_id, event.as_ref()).await?;
        }
        write.commit().await
    }

    /// Deletes a job with its runs and output; `false` when there was none.
    pub async fn delete_job(&self, job_id: i64) -> Result<bool> {
        let mut write = self.begin_write().await?;
        let done = sqlx::query("DELETE FROM job WHERE job_id = $1")
            .bind(job_id)
            .execute(&mut *write.tx)
            .await?;
        write.commit().await?;
        Ok(done.rows_affected() > 0)
    }

    pub async fn job_runs(&self, job_id: i64) -> Result<Vec<JobRun>> {
        let rows = sqlx::query(
            "SELECT run_uuid, state, created, updated, job_id FROM job_run WHERE job_id = $1
             ORDER BY created DESC, run_id DESC",
        )
        .bind(job_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(run_from_row).collect()
    }

    pub async fn job_run(&self, run_uuid: &str) -> Result<Option<JobRun>> {
        let row = sqlx::query(
            "SELECT run_uuid, state, created, updated, job_id FROM job_run WHERE run_uuid = $1",
        )
        .bind(run_uuid)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(run_from_row).transpose()
    }

    pub async fn delete_job_run(&self, run_uuid: &str) -> Result<bool> {
        let mut write = self.begin_write().await?;
        let done = sqlx::query("DELETE FROM job_run WHERE run_uuid = $1")
            .bind(run_uuid)
            .execute(&mut *write.tx)
            .await?;
        write.commit().await?;
        Ok(done.rows_affected() > 0)
    }

    /// Records a new run in state `running`; returns its row id.
    pub async fn start_job_run(&self, job_id: i64, run_uuid: &str, now: i64) -> Result<i64> {
        let mut write = self.begin_write().await?;
        let run_id = sqlx::query_scalar(
            "INSERT INTO job_run (job_id, state, created, updated, run_uuid)
             VALUES ($1, 'running', $2, $2, $3) RETURNING run_id",
        )
        .bind(job_id)
        .bind(now)
        .bind(run_uuid)
        .fetch_one(&mut *write.tx)
        .await?;
        write.commit().await?;
        Ok(run_id)
    }

    pub async fn finish_job_run(&self, run_id: i64, state: &str, now: i64) -> Result<()> {
        let mut write = self.begin_write().await?;
        sqlx::query("UPDATE job_run SET state = $2, updated = $3 WHERE run_id = $1")
            .bind(run_id)
            .bind(state)
            .bind(now)
            .execute(&mut *write.tx)
            .await?;
        write.commit().await
    }

    pub async fn job_tasks(&self, job_id: i64) -> Result<Vec<RunTask>> {
        let rows = sqlx::query(
            "SELECT t.task_id, t.name, t.command FROM job_task_map m
             JOIN task t ON t.task_id = m.task_id WHERE m.job_id = $1 ORDER BY m.ordinal",
        )
        .bind(job_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(RunTask {
                    task_id: r.try_get("task_id")?,
                    name: r.try_get("name")?,
                    command: r.try_get("command")?,
                })
            })
            .collect()
    }

    pub async fn write_task_output(
        &self,
        run_id: i64,
        task_id: Option<i64>,
        kind: &str,
        message: &str,
        now: i64,
    ) -> Result<()> {
        let mut write = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO task_output (run_id, ts, task_id, type, message) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(run_id)
        .bind(now)
        .bind(task_id)
        .bind(kind)
        .bind(message)
        .execute(&mut *write.tx)
        .await?;
        write.commit().await
    }

    /// A run's output lines that are not collection-scoped, numbered 1.. per run, newest
    /// first; `NotFound` when the run does not exist.
    pub async fn job_run_output(
        &self,
        run_uuid: &str,
        after_seq: Option<i64>,
    ) -> Result<Vec<RunOutput>> {
        let run_id: Option<i64> =
            sqlx::query_scalar("SELECT run_id FROM job_run WHERE run_uuid = $1")
                .bind(run_uuid)
                .fetch_optional(&self.pool)
                .await?;
        let run_id = run_id.ok_or(StoreError::NotFound)?;
        let rows = sqlx::query(
            "SELECT o.ts, o.task_id, t.name, o.type, o.message FROM task_output o
             LEFT JOIN task t ON t.task_id = o.task_id
             WHERE o.run_id = $1 AND o.collection_id IS NULL ORDER BY o.seq",
        )
        .bind(run_id)
        .fetch_all(&self.pool)
        .await?;
        let mut out = Vec::new();
        for (i, row) in rows.iter().enumerate() {
            let seq = i as i64 + 1;
            if after_seq.is_some_and(|after| seq <= after) {
                continue;
            }
            out.push(RunOutput {
                seq,
                ts: iso_ms(row.try_get("ts")?),
                task_id: row.try_get::<Option<i64>, _>("task_id")?.map(|i| i.to_string()),
                task: row.try_get("name")?,
                kind: row.try_get("type")?,
                message: row.try_get("message")?,
            });
        }
        out.reverse();
        Ok(out)
    }

    /// The output lines a task wrote for a collection, oldest first, with times (epoch
    /// seconds) between `start` and `end` inclusive.
    pub async fn collection_task_output(
        &self,
        collection_id: i64,
        task_name: &str,
        start: Option<i64>,
        end: Option<i64>,
    ) -> Result<Vec<CollectionTaskOutput>> {
        let rows = sqlx::query(
            "SELECT o.seq, o.ts, o.task_id, t.name, o.type, o.message FROM task_output o
             JOIN task t ON t.task_id = o.task_id
             WHERE o.collection_id = $1 AND t.name = $2 AND o.ts >= $3 AND o.ts <= $4
             ORDER BY o.seq",
        )
        .bind(collection_id)
        .bind(task_name)
        .bind(start.unwrap_or(i64::MIN))
        .bind(end.unwrap_or(i64::MAX))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(CollectionTaskOutput {
                    seq: row.try_get("seq")?,
                    ts: iso_ms(row.try_get("ts")?),
                    task_id: row.try_get::<i64, _>("task_id")?.to_string(),
                    task: row.try_get("name")?,
                    kind: row.try_get("type")?,
                    message: row.try_get("message")?,
                    collection_id,
                })
            })
            .collect()
    }

    /// The built-in tasks by name, each with the schedules of the jobs that run it.
    pub async fn tasks(&self, only_collection_config: bool) -> Result<Vec<Task>> {
        let rows = sqlx::query(
            "SELECT task_id, name, description, command, collection_config FROM task ORDER BY name",
        )
        .fetch_all(&self.pool)
        .await?;
        let mut out = Vec::new();
        for row in &rows {
            let config: Option<String> = row.try_get("collection_config")?;
            if only_collection_config && config.is_none() {
                continue;
            }
            let task_id: i64 = row.try_get("task_id")?;
            let job_ids: Vec<i64> = sqlx::query_scalar(
                "SELECT DISTINCT m.job_id FROM job_task_map m JOIN job_event e ON e.job_id = m.job_id
                 WHERE m.task_id = $1 ORDER BY m.job_id",
            )
            .bind(task_id)
            .fetch_all(&self.pool)
            .await?;
            let mut events = Vec::new();
            for job_id in job_ids {
                events.extend(self.job_event(job_id).await?);
            }
            out.push(Task {
                task_id: task_id.to_string(),
                name: row.try_get("name")?,
                description: row.try_get("description")?,
                command: row.try_get("command")?,
                collection_config: config,
                events,
            });
        }
        Ok(out)
    }

    /// Every enabled schedule.
    pub async fn schedules(&self) -> Result<Vec<Schedule>> {
        let rows = sqlx::query(
            "SELECT event_id, job_id, type, starts, ends, interval_value, interval_field, enabled,
                 last_fired FROM job_event WHERE enabled = 1",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let value: Option<i64> = row.try_get("interval_value")?;
                let field: Option<String> = row.try_get("interval_field")?;
                Ok(Schedule {
                    event_id: row.try_get("event_id")?,
                    job_id: row.try_get("job_id")?,
                    event: EventWrite {
                        recurring: row.try_get::<String, _>("type")? == "recurring",
                        starts: row.try_get("starts")?,
                        ends: row.try_get("ends")?,
                        interval: value.zip(field),
                        enabled: true,
                    },
                    last_fired: row.try_get("last_fired")?,
                })
            })
            .collect()
    }

    pub async fn mark_schedule_fired(&self, event_id: i64, fired: i64) -> Result<()> {
        let mut write = self.begin_write().await?;
        sqlx::query("UPDATE job_event SET last_fired = $2 WHERE event_id = $1")
            .bind(event_id)
            .bind(fired)
            .execute(&mut *write.tx)
            .await?;
        write.commit().await
    }

    /// Runs one built-in task of a run; returns what it did, for the run's output.
    pub async fn run_task_command(&self, task: &RunTask, run: TaskRun) -> Result<String> {
        let statements: &[(&str, &str)] = match task.command.as_str() {
            "wipe-deleted-objects" => &[
                ("collections", "DELETE FROM collection WHERE state = 'disabled'"),
                ("assets", "DELETE FROM asset WHERE state = 'disabled'"),
            ],
            "delete-unmapped-reviews" => &[(
                "reviews",
                "DELETE FROM review WHERE NOT EXISTS (SELECT 1 FROM rev_group_rule_map m
                     WHERE m.version = review.version AND m.check_digest = review.check_digest)",
            )],
            "delete-unmapped-asset-reviews" => &[(
                "reviews",
                "DELETE FROM review WHERE NOT EXISTS (SELECT 1 FROM stig_asset_map sa
                     JOIN revision rv ON rv.benchmark_id = sa.benchmark_id
                     JOIN rev_group_rule_map m ON m.rev_id = rv.rev_id
                     WHERE sa.asset_id = review.asset_id AND m.version = review.version
                       AND m.check_digest = review.check_digest)",
            )],
            "analyze-review-tables" => {
                let sql = match self.dialect {
                    Dialect::Sqlite => "ANALYZE",
                    Dialect::Postgres => "ANALYZE review, review_history",
                };
                sqlx::query(sql).execute(&self.pool).await?;
                return Ok("analyzed the review tables".into());
            }
            "review-aging" => return self.age_reviews(&task.name, run).await,
            other => return Err(StoreError::Corrupt(format!("unknown task command {other}"))),
        };
        let mut write = self.begin_write().await?;
        let mut report = Vec::new();
        for (what, sql) in statements {
            let done = sqlx::query(sql).execute(&mut *write.tx).await?;
            report.push(format!("deleted {} {what}", done.rows_affected()));
        }
        write.commit().await?;
        Ok(report.join(", "))
    }
}

fn run_from_row(row: &AnyRow) -> Result<JobRun> {
    Ok(JobRun {
        run_id: row.try_get("run_uuid")?,
        state: row.try_get("state")?,
        created: iso_ms(row.try_get("created")?),
        updated: Some(iso_ms(row.try_get("updated")?)),
        job_id: Some(row.try_get::<i64, _>("job_id")?.to_string()),
    })
}

async fn set_tasks(tx: &mut crate::clone::Tx, job_id: i64, tasks: &[i64]) -> Result<()> {
    for (ordinal, task_id) in tasks.iter().enumerate() {
        sqlx::query("INSERT INTO job_task_map (job_id, task_id, ordinal) VALUES ($1, $2, $3)")
            .bind(job_id)
            .bind(task_id)
            .bind(ordinal as i64 + 1)
            .execute(&mut **tx)
            .await
            .map_err(|e| match &e {
                sqlx::Error::Database(db) if db.is_foreign_key_violation() => {
                    StoreError::Conflict("Unknown taskId in list".into())
                }
                sqlx::Error::Database(db) if db.is_unique_violation() => {
                    StoreError::Conflict("Duplicate taskId in list".into())
                }
                _ => StoreError::Database(e),
            })?;
    }
    Ok(())
}

async fn set_event(
    tx: &mut crate::clone::Tx,
    job_id: i64,
    event: Option<&EventWrite>,
) -> Result<()> {
    sqlx::query("DELETE FROM job_event WHERE job_id = $1").bind(job_id).execute(&mut **tx).await?;
    let Some(event) = event else { return Ok(()) };
    sqlx::query(
        "INSERT INTO job_event (job_id, type, starts, ends, interval_value, interval_field, enabled)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(job_id)
    .bind(if event.recurring { "recurring" } else { "once" })
    .bind(event.starts)
    .bind(event.ends)
    .bind(event.interval.as_ref().map(|i| i.0))
    .bind(event.interval.as_ref().map(|i| i.1.clone()))
    .bind(i64::from(event.enabled))
    .execute(&mut **tx)
    .await?;
    Ok(())
}
