//! Passport's storage: the embedded SQLite file (the default) or a PostgreSQL server
//! (shared by every node of a cluster), chosen by the [`DatabaseUrl`].
//!
//! Each query is written once, in SQL both engines read (`$1` placeholders,
//! `ON CONFLICT`, `RETURNING`), and compiled for each engine's own sqlx types by the
//! [`on_read!`], [`on_write!`] and [`on_tx!`] macros: each expands its body once per engine,
//! so both stay checked by the compiler and neither goes through a dynamic driver.
//! Where the dialects really differ, [`Dialect`] names the piece.
//!
//! Both engines give writes the same order: SQLite has one writer connection, and a
//! PostgreSQL write transaction first takes one advisory lock (see
//! [`postgres::WRITE_LOCK`]), so read-then-write transactions (token rotation, mutual
//! contact requests) behave alike on both.

pub(crate) mod postgres;
pub(crate) mod sqlite;
mod url;

use sqlx::{Postgres, Sqlite, Transaction};

pub use url::{DatabaseUrl, DatabaseUrlError};

use crate::PassportError;

pub(crate) enum Db {
    Sqlite(sqlite::SqliteDb),
    Postgres(postgres::PgDb),
}

/// A write transaction on either engine. Dropping it uncommitted rolls it back.
pub(crate) enum WriteTx {
    Sqlite(Transaction<'static, Sqlite>),
    Postgres(Transaction<'static, Postgres>),
}

/// The few places where the two SQL dialects differ.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Dialect {
    Sqlite,
    Postgres,
}

impl Dialect {
    /// `username` matched case-insensitively against `$1`. SQLite's column is
    /// `COLLATE NOCASE`; PostgreSQL's unique index is on `lower(username)`, which this
    /// uses. Usernames are ASCII, so both fold exactly alike.
    pub fn username_is_param(self) -> &'static str {
        match self {
            Dialect::Sqlite => "username = $1",
            Dialect::Postgres => "lower(username) = lower($1)",
        }
    }

    /// The case-insensitive `LIKE` (SQLite's `LIKE` already ignores ASCII case).
    pub fn like(self) -> &'static str {
        match self {
            Dialect::Sqlite => "LIKE",
            Dialect::Postgres => "ILIKE",
        }
    }

    /// The column that orders alerts filed in the same second: SQLite's `rowid`,
    /// PostgreSQL's identity column `seq`.
    pub fn alert_order(self) -> &'static str {
        match self {
            Dialect::Sqlite => "rowid",
            Dialect::Postgres => "seq",
        }
    }
}

impl Db {
    /// Opens (creating if needed) and migrates the database; `max_bytes` caps how
    /// large a SQLite file may grow (PostgreSQL's size is its operator's business).
    pub async fn open(url: &DatabaseUrl, max_bytes: Option<u64>) -> Result<Self, PassportError> {
        match url {
            DatabaseUrl::Sqlite(path) => Ok(Db::Sqlite(sqlite::SqliteDb::open(path, max_bytes).await?)),
            DatabaseUrl::Postgres(_) => Ok(Db::Postgres(postgres::PgDb::open(url).await?)),
        }
    }

    pub fn dialect(&self) -> Dialect {
        match self {
            Db::Sqlite(_) => Dialect::Sqlite,
            Db::Postgres(_) => Dialect::Postgres,
        }
    }

    /// Starts a write transaction; see the module's note on write order.
    pub async fn begin_write(&self) -> Result<WriteTx, PassportError> {
        let started = std::time::Instant::now();
        let tx = match self {
            Db::Sqlite(db) => WriteTx::Sqlite(db.begin_write().await?),
            Db::Postgres(db) => WriteTx::Postgres(db.begin_write().await?),
        };
        // How long writers queue for the writer connection (and its lock).
        metrics::histogram!("mocha_database_write_wait_seconds").record(started.elapsed().as_secs_f64());
        Ok(tx)
    }

    /// Each pool's open and idle connections, for `/metrics`.
    pub fn pools(&self) -> [crate::DatabasePool; 2] {
        let of = |name, size: u32, idle: usize| crate::DatabasePool { name, size: size as usize, idle };
        match self {
            Db::Sqlite(db) => [
                of("read", db.read.size(), db.read.num_idle()),
                of("write", db.write.size(), db.write.num_idle()),
            ],
            Db::Postgres(db) => [
                of("read", db.read.size(), db.read.num_idle()),
                of("write", db.write.size(), db.write.num_idle()),
            ],
        }
    }

    /// This node's claim on a shared database (PostgreSQL; a SQLite file is claimed by
    /// its data folder's lock instead): `None` when another node's claim conflicts.
    pub async fn claim(&self, cluster: bool) -> Result<Option<crate::DatabaseClaim>, PassportError> {
        match self {
            Db::Sqlite(_) => Ok(Some(crate::DatabaseClaim(None))),
            Db::Postgres(db) => Ok(db.claim(cluster).await?.map(|conn| crate::DatabaseClaim(Some(conn)))),
        }
    }

    pub async fn close(&self) {
        match self {
            Db::Sqlite(db) => db.close().await,
            Db::Postgres(db) => db.close().await,
        }
    }
}

impl WriteTx {
    pub async fn commit(self) -> Result<(), PassportError> {
        match self {
            WriteTx::Sqlite(tx) => tx.commit().await?,
            WriteTx::Postgres(tx) => tx.commit().await?,
        }
        Ok(())
    }
}

/// Runs `$body` with `$e` bound to the engine's `$pool` (`read` or `write`). The body
/// is compiled once per engine.
macro_rules! on_pool {
    ($db:expr, $pool:ident, |$e:ident| $body:expr) => {
        match &$db {
            $crate::store::Db::Sqlite(engine) => {
                let $e = &engine.$pool;
                $body
            }
            $crate::store::Db::Postgres(engine) => {
                let $e = &engine.$pool;
                $body
            }
        }
    };
}

/// Runs `$body` with `$e` bound to the engine's reader pool.
macro_rules! on_read {
    ($db:expr, |$e:ident| $body:expr) => {
        $crate::store::on_pool!($db, read, |$e| $body)
    };
}

/// Runs one writing statement `$body` with `$e` bound to the engine's writer pool
/// (SQLite's single connection; on PostgreSQL one statement is its own transaction).
macro_rules! on_write {
    ($db:expr, |$e:ident| $body:expr) => {
        $crate::store::on_pool!($db, write, |$e| $body)
    };
}

/// Runs the writing statement `$query` (a `sqlx::query(…)` with its binds) on the
/// writer; if it touched no row, that is [`PassportError::NotFound`]`($what)`.
macro_rules! on_write_found {
    ($db:expr, $what:expr, $query:expr) => {{
        let rows =
            $crate::store::on_write!($db, |e| $query.execute(e).await.map(|done| done.rows_affected()))?;
        if rows == 0 { Err($crate::PassportError::NotFound($what)) } else { Ok(()) }
    }};
}

/// Runs `$body` inside the write transaction `$tx` (a `&mut WriteTx`), with `$e`
/// bound to its connection.
macro_rules! on_tx {
    ($tx:expr, |$e:ident| $body:expr) => {
        match $tx {
            $crate::store::WriteTx::Sqlite(tx) => {
                let $e = &mut **tx;
                $body
            }
            $crate::store::WriteTx::Postgres(tx) => {
                let $e = &mut **tx;
                $body
            }
        }
    };
}

pub(crate) use {on_pool, on_read, on_tx, on_write, on_write_found};
