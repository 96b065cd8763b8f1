//! The embedded SQLite database: one writer connection (SQLite allows one writer anyway,
//! and a single connection makes every write transaction serial and free of
//! `SQLITE_BUSY`), and a small pool of readers working beside it in WAL mode.
//!
//! A write that fails must leave the writer as it found it. SQLite rolls a whole
//! transaction back by itself on some errors (`SQLITE_FULL` at `COMMIT`, I/O errors;
//! see "Response To Errors Within A Transaction" in its documentation), but sqlx 0.9
//! still counts that transaction as open: its `ROLLBACK` then fails, and on the next
//! `begin()` sqlx issues a `SAVEPOINT`, which opens a transaction that its `RELEASE`
//! never commits and that holds the write lock — every later write looked accepted and
//! was lost (issue 19). So the writer pool checks the connection each time it comes
//! back ([`writer_is_clean`]) and replaces it unless it is outside any transaction,
//! both by sqlx's count and by SQLite's own answer; and write transactions start with
//! a plain `BEGIN IMMEDIATE`, which sqlx refuses to nest.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::migrate::MigrateError;
use sqlx::pool::PoolConnectionMetadata;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Connection, Sqlite, SqliteConnection, SqlitePool, Transaction};

use crate::PassportError;
use crate::error::StorageProblem;

pub(crate) struct SqliteDb {
    pub read: SqlitePool,
    pub write: SqlitePool,
}

pub(crate) static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

impl SqliteDb {
    /// Opens the database; `max_bytes` caps how large the writer may make it.
    pub async fn open(path: &Path, max_bytes: Option<u64>) -> Result<Self, PassportError> {
        let options = SqliteConnectOptions::from_str(&format!("sqlite://{}", path.display()))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        let write = SqlitePoolOptions::new()
            .max_connections(1)
            .after_connect(move |conn, _| Box::pin(limit_size(conn, max_bytes)))
            .after_release(|conn, meta| Box::pin(writer_is_clean(conn, meta)))
            .connect_with(options.clone())
            .await?;
        MIGRATOR.run(&write).await.map_err(|e| match e {
            MigrateError::Execute(e) | MigrateError::ExecuteMigration(e, _)
                if StorageProblem::of(&e) == Some(StorageProblem::Full) =>
            {
                e.into()
            }
            e => PassportError::Internal(format!("migration failed: {e}")),
        })?;
        let read = SqlitePoolOptions::new().max_connections(4).connect_with(options.read_only(true)).await?;
        Ok(Self { read, write })
    }

    /// Starts a write transaction on the writer connection. It takes the write lock at
    /// once (`IMMEDIATE`), so a writer outside this process makes it wait (up to the
    /// busy timeout) rather than fail halfway. Dropping it uncommitted rolls it back.
    pub async fn begin_write(&self) -> Result<Transaction<'static, Sqlite>, PassportError> {
        Ok(self.write.begin_with("BEGIN IMMEDIATE").await?)
    }

    pub async fn close(&self) {
        self.read.close().await;
        self.write.close().await;
    }
}

/// Applies the size cap (`PRAGMA max_page_count`, which holds per connection) to
/// every writer connection the pool opens. Past it, writes that need room fail with
/// `SQLITE_FULL`, exactly as on a full disk.
async fn limit_size(conn: &mut SqliteConnection, max_bytes: Option<u64>) -> Result<(), sqlx::Error> {
    let Some(max_bytes) = max_bytes else { return Ok(()) };
    let page_size: i64 = sqlx::query_scalar("PRAGMA page_size").fetch_one(&mut *conn).await?;
    let pages = max_bytes / u64::try_from(page_size.max(512)).unwrap_or(4096);
    // SQLite keeps the cap at the current size if the file is already larger.
    let pages: i64 =
        sqlx::query_scalar(sqlx::AssertSqlSafe(format!("PRAGMA max_page_count = {}", pages.max(1))))
            .fetch_one(&mut *conn)
            .await?;
    tracing::debug!(pages, page_size, "database size cap applied");
    Ok(())
}

/// Decides whether the writer connection may go back to the pool: only if it is
/// outside any transaction. Runs after the rollback that dropping an uncommitted
/// transaction queued, since the connection handles commands in order.
async fn writer_is_clean(
    conn: &mut SqliteConnection,
    _: PoolConnectionMetadata,
) -> Result<bool, sqlx::Error> {
    // SQLite's own answer: `BEGIN` fails inside a transaction. (Deferred, it takes no lock.)
    if let Err(error) = sqlx::raw_sql("BEGIN").execute(&mut *conn).await {
        tracing::warn!(%error, "the database writer was left inside a transaction; replacing it");
        return Ok(false);
    }
    sqlx::raw_sql("ROLLBACK").execute(&mut *conn).await?;
    if conn.is_in_transaction() {
        tracing::warn!(
            "a failed write left sqlx counting a transaction SQLite had already rolled back; replacing the database writer"
        );
        return Ok(false);
    }
    Ok(true)
}
