//! Stigward's storage: one schema on SQLite (embedded, the default) and PostgreSQL, reached
//! through sqlx's `Any` driver so that one set of queries serves both. Statements are written in
//! the SQL the two dialects share (`$N` placeholders, `ON CONFLICT`, `RETURNING`,
//! `FILTER (WHERE ..)`); the few places where they differ branch on [`Dialect`].

pub mod access;
pub mod acl;
pub mod aging;
pub mod appdata;
pub mod appinfo;
pub mod asset_stats;
pub mod assets;
pub mod ccis;
pub mod checklists;
pub mod clone;
pub mod collection_stigs;
pub mod collections;
pub mod content;
pub mod export;
pub mod generate;
pub mod grants;
pub mod jobs;
pub mod labels;
pub mod metrics;
pub mod review_aging;
pub mod review_batch;
pub mod review_history;
pub mod review_read;
pub mod reviews;
pub mod stigs;
pub mod unreviewed;
pub mod user_groups;
pub mod users;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{Any, AnyPool, Executor, Transaction};
use tokio::sync::{Mutex, MutexGuard};

use metrics::counters::Marks;

/// The database behind a [`Store`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    /// A uniqueness or reference rule of the data model was broken by the request.
    #[error("{0}")]
    Conflict(String),
    #[error("unsupported database URL '{0}': use sqlite:PATH or postgres://...")]
    UnsupportedUrl(String),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migration failed: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    #[error("stored data is inconsistent: {0}")]
    Corrupt(String),
    /// A long operation was abandoned because nobody waits for its result any more.
    #[error("cancelled: the client went away")]
    Cancelled,
}

impl StoreError {
    /// Text the database refuses to store: PostgreSQL takes no NUL character in text
    /// (SQLSTATE 22021, `character_not_in_repertoire`), where SQLite stores it.
    pub fn is_unstorable_text(&self) -> bool {
        match self {
            StoreError::Database(sqlx::Error::Database(db)) => {
                db.code().as_deref() == Some("22021")
            }
            _ => false,
        }
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("migrations/postgres");

/// A handle on the database; cheap to clone.
#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    dialect: Dialect,
    /// SQLite allows one writer at a time and does not wait for a lock it must upgrade, so
    /// writers queue here instead of failing with SQLITE_BUSY.
    write_lock: Arc<Mutex<()>>,
    /// Collections as metrics reads last loaded them.
    metrics_cache: Arc<metrics::MetricsCache>,
}

/// A write transaction; on SQLite it also holds the writer's turn.
pub struct WriteTx<'a> {
    pub tx: Transaction<'static, Any>,
    dialect: Dialect,
    _turn: Option<MutexGuard<'a, ()>>,
}

impl WriteTx<'_> {
    /// Recounts the metrics counters of the checklists this transaction touched, then commits.
    pub async fn commit(self) -> Result<()> {
        self.commit_unless(&Cancellation::default()).await
    }

    /// The same, unless `cancel` is set by the time the counters are recounted: then the
    /// transaction is dropped, which rolls it back, and the answer is `Cancelled`.
    pub async fn commit_unless(mut self, cancel: &Cancellation) -> Result<()> {
        metrics::counters::recount_stale(&mut self.tx, self.dialect, Marks::Mine).await?;
        cancel.check()?;
        self.tx.commit().await?;
        Ok(())
    }
}

/// Set when nobody waits for a long operation's result any more (its client went away). The
/// operation checks it between its steps and once more right before it commits, so a
/// cancellation that comes before the commit always rolls the work back.
#[derive(Debug, Clone, Default)]
pub struct Cancellation(Arc<AtomicBool>);

impl Cancellation {
    pub fn cancel(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }

    /// `Err(Cancelled)` once cancelled.
    pub fn check(&self) -> Result<()> {
        match self.is_cancelled() {
            true => Err(StoreError::Cancelled),
            false => Ok(()),
        }
    }
}

impl Store {
    /// Connects to `url` (`sqlite:PATH` or `postgres://...`) and brings the schema up to date.
    pub async fn connect(url: &str, max_connections: u32) -> Result<Store> {
        sqlx::any::install_default_drivers();
        let dialect = dialect_of(url)?;
        let options: AnyConnectOptions = url.parse()?;
        let pool = AnyPoolOptions::new()
            .max_connections(max_connections)
            .acquire_timeout(Duration::from_secs(30))
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if dialect == Dialect::Sqlite {
                        conn.execute("PRAGMA foreign_keys = ON").await?;
                        conn.execute("PRAGMA busy_timeout = 30000").await?;
                        conn.execute("PRAGMA synchronous = NORMAL").await?;
                        // reads map the file instead of copying each page in with a system
                        // call, and every connection shares the mapping rather than each
                        // keeping its own small page cache (metrics reads every checklist)
                        conn.execute("PRAGMA mmap_size = 268435456").await?;
                    }
                    Ok(())
                })
            })
            .connect_with(options)
            .await?;
        if dialect == Dialect::Sqlite {
            sqlx::query("PRAGMA journal_mode = WAL").execute(&pool).await?;
        }
        let migrator = match dialect {
            Dialect::Sqlite => &SQLITE_MIGRATIONS,
            Dialect::Postgres => &POSTGRES_MIGRATIONS,
        };
        migrator.run(&pool).await?;
        let store = Store {
            pool,
            dialect,
            write_lock: Arc::new(Mutex::new(())),
            metrics_cache: Arc::default(),
        };
        store.recount_left_marks().await?;
        Ok(store)
    }

    /// Recounts the checklists a migration marked stale (0500 marks every existing one); a
    /// writer's own marks never outlive its transaction.
    async fn recount_left_marks(&self) -> Result<()> {
        let mut write = self.begin_write().await?;
        metrics::counters::recount_stale(&mut write.tx, self.dialect, Marks::All).await?;
        write.commit().await
    }

    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// The number of the newest migration applied, reported as `lastMigration`.
    pub fn last_migration(&self) -> i64 {
        let migrator = match self.dialect {
            Dialect::Sqlite => &SQLITE_MIGRATIONS,
            Dialect::Postgres => &POSTGRES_MIGRATIONS,
        };
        migrator.iter().map(|m| m.version).max().unwrap_or(0)
    }

    /// A write transaction. On SQLite it takes the database's write lock at once (`BEGIN
    /// IMMEDIATE`): a transaction that read first and wrote later could not wait for a writer
    /// in another process (the CLI, another server) and would fail with SQLITE_BUSY.
    pub async fn begin_write(&self) -> Result<WriteTx<'_>> {
        let (turn, tx) = match self.dialect {
            Dialect::Sqlite => {
                let turn = self.write_lock.lock().await;
                (Some(turn), self.pool.begin_with("BEGIN IMMEDIATE").await?)
            }
            Dialect::Postgres => (None, self.pool.begin().await?),
        };
        Ok(WriteTx { tx, dialect: self.dialect, _turn: turn })
    }

    /// A read-only transaction whose statements all see one snapshot of the database (on
    /// SQLite every transaction does; PostgreSQL needs repeatable read).
    pub async fn read_snapshot(&self) -> Result<Transaction<'static, Any>> {
        let mut tx = self.pool.begin().await?;
        if self.dialect == Dialect::Postgres {
            sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                .execute(&mut *tx)
                .await?;
        }
        Ok(tx)
    }

    /// A cheap round trip, for the health monitor.
    pub async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// Closes every connection; used at shutdown so SQLite checkpoints its WAL.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

fn dialect_of(url: &str) -> Result<Dialect> {
    if url.starts_with("sqlite:") {
        Ok(Dialect::Sqlite)
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Dialect::Postgres)
    } else {
        Err(StoreError::UnsupportedUrl(url.to_string()))
    }
}

/// Maps a unique-constraint violation to a [`StoreError::Conflict`] carrying `message`.
pub(crate) fn conflict_on_unique(err: sqlx::Error, message: &str) -> StoreError {
    match &err {
        sqlx::Error::Database(db) if db.is_unique_violation() => {
            StoreError::Conflict(message.to_string())
        }
        _ => StoreError::Database(err),
    }
}

/// Parses a JSON column, naming the column when the stored text is not JSON.
pub(crate) fn json_column(text: &str, column: &str) -> Result<serde_json::Value> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt(format!("{column}: {e}")))
}

/// Reads a 0/1 flag column as a bool.
pub(crate) fn flag(row: &sqlx::any::AnyRow, column: &str) -> Result<bool> {
    use sqlx::Row;
    Ok(row.try_get::<i64, _>(column)? != 0)
}
