//! PostgreSQL: Passport's data on a server every node of a cluster shares.
//!
//! Two pools, as on SQLite: readers, and a few writers. Every write transaction first
//! takes one transaction-scoped advisory lock ([`WRITE_LOCK`]), so write transactions
//! run one at a time across the whole cluster, exactly as on SQLite's single writer:
//! a refresh token is rotated once even if two nodes see it at the same moment, and
//! two people adding each other at once become contacts instead of leaving two
//! requests. Lone statements need no lock (each is atomic by itself). Passport's
//! transactions are a few short statements, so one lock is not the limit — password
//! hashing is.
//!
//! When the server cannot be reached, a request waits at most [`CONNECT_WAIT`] for a
//! connection and then fails with [`PassportError::StorageUnavailable`]; the pools
//! reconnect by themselves once it is back (each connection is checked before use).

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{PgPool, Postgres, Transaction};

use crate::PassportError;
use crate::error::StorageProblem;
use crate::store::DatabaseUrl;
use crate::store::url::PLAIN_OPTIONS;

pub(crate) struct PgDb {
    pub read: PgPool,
    pub write: PgPool,
}

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// The advisory lock key every Passport write transaction holds ("mocha" in ASCII).
/// Advisory locks belong to one database, so other databases on the server are not
/// affected.
pub(crate) const WRITE_LOCK: i64 = 0x6d_6f_63_68_61;

/// The session-level advisory lock a node holds on the database while it runs
/// ("mochanod" in ASCII): shared by the nodes of a cluster, exclusive for a node on its own, so
/// a second node cannot join the database without the bus (and be an island), nor a
/// cluster node join a database a lone node is using.
const NODE_LOCK: i64 = 0x6d6f_6368_616e_6f64;

/// How long a request waits for a connection before it is told to try again.
pub(crate) const CONNECT_WAIT: Duration = Duration::from_secs(5);

/// Connections per node. PostgreSQL allows 100 by default: room for a dozen nodes.
const READERS: u32 = 6;
const WRITERS: u32 = 2;

/// Whether sqlx can connect with `text`, for [`DatabaseUrl::parse`]: its errors never
/// quote the URL.
pub(crate) fn check_url(text: &str) -> Result<(), String> {
    connect_options(text).map(drop)
}

/// sqlx's options for `text`. sqlx logs an option it does not know *with its value*, which
/// may be a password under a mistyped name, so such a URL is refused before sqlx sees it.
fn connect_options(text: &str) -> Result<PgConnectOptions, String> {
    let url = url::Url::parse(text).map_err(|e| e.to_string())?;
    let known = |key: &str| key == "password" || PLAIN_OPTIONS.contains(&key);
    if let Some((key, _)) = url.query_pairs().find(|(key, _)| !known(key)) {
        // What reads as an option may be the tail of a password holding `?`: only a
        // name-like one is quoted.
        let name_like = key.len() <= 24 && key.bytes().all(|b| b.is_ascii_lowercase() || b == b'_');
        let which = if name_like { format!("`{key}`") } else { "an option".to_string() };
        return Err(format!(
            "{which} is not a PostgreSQL connection option (known: password, {})",
            PLAIN_OPTIONS.join(", ")
        ));
    }
    PgConnectOptions::from_str(text).map_err(|e| e.to_string())
}

impl PgDb {
    pub async fn open(url: &DatabaseUrl) -> Result<Self, PassportError> {
        let DatabaseUrl::Postgres(text) = url else {
            return Err(PassportError::Internal(format!("{url} is not a PostgreSQL URL")));
        };
        let options = connect_options(text)
            .map_err(|e| PassportError::Internal(format!("the database URL {url} is not valid: {e}")))?
            .application_name("mocha-passport");
        let pool = |size: u32| {
            PgPoolOptions::new().max_connections(size).acquire_timeout(CONNECT_WAIT).test_before_acquire(true)
        };
        let unreachable = |e: sqlx::Error| match PassportError::from(e) {
            PassportError::StorageUnavailable(detail) => {
                PassportError::StorageUnavailable(format!("PostgreSQL at {url} cannot be reached: {detail}"))
            }
            other => other,
        };
        let write = pool(WRITERS).connect_with(options.clone()).await.map_err(unreachable)?;
        MIGRATOR.run(&write).await.map_err(|e| match e {
            sqlx::migrate::MigrateError::Execute(e) | sqlx::migrate::MigrateError::ExecuteMigration(e, _)
                if StorageProblem::of(&e).is_some() =>
            {
                unreachable(e)
            }
            e => PassportError::Internal(format!("migrating PostgreSQL at {url} failed: {e}")),
        })?;
        let read = pool(READERS).connect_with(options).await.map_err(unreachable)?;
        tracing::info!(database = %url, "Passport's data is in PostgreSQL");
        Ok(Self { read, write })
    }

    /// Claims the database for this node (see [`NODE_LOCK`]) on a connection of its own,
    /// held until it is closed; `None` when another node's claim conflicts. A node that
    /// has just stopped releases its claim as its connection ends: a short wait covers it.
    pub async fn claim(&self, shared: bool) -> Result<Option<sqlx::PgConnection>, PassportError> {
        let mut conn = self.write.acquire().await?.detach();
        let query =
            if shared { "SELECT pg_try_advisory_lock_shared($1)" } else { "SELECT pg_try_advisory_lock($1)" };
        for _ in 0..20 {
            if sqlx::query_scalar::<_, bool>(query).bind(NODE_LOCK).fetch_one(&mut conn).await? {
                return Ok(Some(conn));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Ok(None)
    }

    /// Starts a write transaction holding [`WRITE_LOCK`] until it ends.
    pub async fn begin_write(&self) -> Result<Transaction<'static, Postgres>, PassportError> {
        let mut tx = self.write.begin().await?;
        sqlx::query("SELECT pg_advisory_xact_lock($1)").bind(WRITE_LOCK).execute(&mut *tx).await?;
        Ok(tx)
    }

    pub async fn close(&self) {
        self.read.close().await;
        self.write.close().await;
    }
}
