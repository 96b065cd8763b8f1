//! Mocha Passport: who people are, who they know, and what they may do.
//!
//! [`Passport`] is the service: accounts, sign-in and tokens, contacts and
//! privacy, activity alerts, moderation, status and update checks. Its HTTP API
//! lives in [`http`]. Other services hold an `Arc<Passport>` and call it
//! directly; it tells them about changes through [`PassportListener`].
//! Only this crate runs SQL.

mod accounts;
mod alerts;
pub mod backup;
pub mod config;
mod contacts;
mod error;
mod events;
mod export;
#[cfg(feature = "bench-fixtures")]
mod fixtures;
pub mod http;
mod moderation;
mod password;
mod rate_limit;
mod sessions;
mod status;
mod store;
#[cfg(any(test, feature = "test-support"))]
pub mod testing;
mod time_util;
mod updates;
mod validate;

use std::sync::Arc;

pub use config::{PassportConfig, RateLimit};
pub use error::{PassportError, RETRY_UNAVAILABLE};
pub use events::{PassportEvent, PassportListener};
#[cfg(feature = "bench-fixtures")]
pub use fixtures::FixtureAccount;
pub use mocha_auth::UserId;
pub use sessions::Authenticated;
pub use status::{ServiceGauge, StatusBoard};
pub use store::{DatabaseUrl, DatabaseUrlError};
pub use updates::{CHANNELS, PLATFORMS, UpdateManifest, write_default_manifest};

use events::Listeners;
use mocha_auth::{SigningKey, VerifyingKey};
use rate_limit::RateLimiter;
use store::Db;

/// One database connection pool's state.
#[derive(Clone, Copy, Debug)]
pub struct DatabasePool {
    /// `read` or `write`.
    pub name: &'static str,
    /// Connections open.
    pub size: usize,
    /// Of those, connections not in use.
    pub idle: usize,
}

/// A node's claim on Passport's database, held while the node runs (see
/// [`Passport::claim_database`]); released when dropped or [closed](Self::release).
pub struct DatabaseClaim(Option<sqlx::PgConnection>);

impl DatabaseClaim {
    pub async fn release(self) {
        if let Some(conn) = self.0 {
            let _ = sqlx::Connection::close(conn).await;
        }
    }
}

pub struct Passport {
    db: Db,
    config: PassportConfig,
    signing_key: SigningKey,
    verifying_key: VerifyingKey,
    attempts_by_account: RateLimiter,
    attempts_by_address: RateLimiter,
    listeners: Listeners,
    status: Arc<StatusBoard>,
}

impl Passport {
    /// Opens (creating and migrating) the database at `database` and starts the service.
    pub async fn open(
        database: &DatabaseUrl,
        signing_key: SigningKey,
        config: PassportConfig,
        status: Arc<StatusBoard>,
    ) -> Result<Arc<Self>, PassportError> {
        let db = Db::open(database, config.max_database_bytes).await?;
        Ok(Arc::new(Self {
            db,
            verifying_key: signing_key.verifying_key(),
            signing_key,
            attempts_by_account: RateLimiter::new(config.sign_in_per_account),
            attempts_by_address: RateLimiter::new(config.sign_in_per_address),
            config,
            listeners: Listeners::default(),
            status,
        }))
    }

    /// The key that checks Passport's session tokens, for services that verify them.
    pub fn verifying_key(&self) -> &VerifyingKey {
        &self.verifying_key
    }

    pub fn config(&self) -> &PassportConfig {
        &self.config
    }

    pub fn status_board(&self) -> &Arc<StatusBoard> {
        &self.status
    }

    pub fn subscribe(&self, listener: Arc<dyn PassportListener>) {
        self.listeners.add(listener);
    }

    fn publish(&self, event: PassportEvent) {
        self.listeners.publish(&event);
    }

    /// Claims the database for this node while it runs: on PostgreSQL, nodes of one
    /// cluster (`cluster`) share it, a node on its own holds it alone. `None` when that
    /// conflicts with a node already running on it.
    pub async fn claim_database(&self, cluster: bool) -> Result<Option<DatabaseClaim>, PassportError> {
        self.db.claim(cluster).await
    }

    /// Which SQL engine holds the data.
    pub fn engine(&self) -> &'static str {
        match self.db.dialect() {
            store::Dialect::Sqlite => "SQLite",
            store::Dialect::Postgres => "PostgreSQL",
        }
    }

    /// The database's connection pools now, for `/metrics`.
    pub fn database_pools(&self) -> [DatabasePool; 2] {
        self.db.pools()
    }

    /// Activity alerts stored and not yet delivered, for `/metrics`.
    pub async fn stored_alert_count(&self) -> Result<i64, PassportError> {
        store::on_read!(self.db, |e| sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM activity_alerts")
            .fetch_one(e)
            .await)
        .map_err(PassportError::from)
    }

    /// Closes the database cleanly (on SQLite, checkpointing the write-ahead log).
    pub async fn close(&self) {
        self.db.close().await;
    }
}
