//! The SQLite database: one writer connection (SQLite allows one writer anyway,
//! and a single connection makes every write transaction serial and free of
//! `SQLITE_BUSY`), and a small pool of readers working beside it in WAL mode.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Sqlite, SqlitePool, Transaction};

use crate::PassportError;

pub(crate) struct Db {
    pub read: SqlitePool,
    pub write: SqlitePool,
}

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

impl Db {
    pub async fn open(path: &Path) -> Result<Self, PassportError> {
        let options = SqliteConnectOptions::from_str(&format!("sqlite://{}", path.display()))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        let write = SqlitePoolOptions::new().max_connections(1).connect_with(options.clone()).await?;
        MIGRATOR.run(&write).await.map_err(|e| PassportError::Internal(format!("migration failed: {e}")))?;
        let read = SqlitePoolOptions::new().max_connections(4).connect_with(options.read_only(true)).await?;
        Ok(Self { read, write })
    }

    pub async fn begin_write(&self) -> Result<Transaction<'static, Sqlite>, PassportError> {
        Ok(self.write.begin().await?)
    }

    pub async fn close(&self) {
        self.read.close().await;
        self.write.close().await;
    }
}
