//! For tests (feature `test-support`): a fresh database on either engine, and
//! [`engine_tests!`](crate::engine_tests) to run one test body on both.
//!
//! A PostgreSQL test gets its own database (`CREATE DATABASE` with a unique name on
//! the server at [`ADMIN_URL_VAR`], default [`DEFAULT_ADMIN_URL`]), dropped when the
//! guard goes, so tests run in parallel. Without a reachable server a test fails
//! when `CI` is set; elsewhere it is skipped, saying why.

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use sqlx::{Connection, PgConnection};

use crate::DatabaseUrl;

/// Names the PostgreSQL server the tests use, as a URL to its `postgres` database.
pub const ADMIN_URL_VAR: &str = "MOCHA_TEST_POSTGRES";
/// This machine's and CI's server: trust authentication for the `postgres` user.
pub const DEFAULT_ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

fn admin_url() -> String {
    std::env::var(ADMIN_URL_VAR).unwrap_or_else(|_| DEFAULT_ADMIN_URL.to_string())
}

/// Whether a test on `engine` can run: always for SQLite; for PostgreSQL, if the
/// server answers. In CI an unreachable server fails the test instead.
pub async fn engine_ready(engine: Engine, test: &str) -> bool {
    if engine == Engine::Sqlite {
        return true;
    }
    let url = admin_url();
    let Err(error) = PgConnection::connect(&url).await.map(drop) else { return true };
    let url = DatabaseUrl::parse(&url).map_or_else(|_| "the test server".to_string(), |u| u.redacted());
    let reason = format!("PostgreSQL at {url} cannot be reached ({error})");
    if std::env::var_os("CI").is_some() {
        panic!(
            "{test} needs PostgreSQL in CI, but {reason}. scripts/test.sh starts it \
             (pg_ctlcluster --skip-systemctl-redirect <version> main start)."
        );
    }
    eprintln!("skipping {test} on PostgreSQL: {reason}");
    false
}

/// A database of its own for one test, dropped with the guard.
pub struct TestDatabase {
    pub url: DatabaseUrl,
    _sqlite_dir: Option<tempfile::TempDir>,
    postgres_name: Option<String>,
}

impl TestDatabase {
    /// A new, empty database. Panics (the test fails) if it cannot be made: call
    /// [`engine_ready`] first to skip instead.
    pub async fn create(engine: Engine) -> Self {
        match engine {
            Engine::Sqlite => {
                let dir = tempfile::tempdir().expect("a temporary folder");
                let url = DatabaseUrl::sqlite(dir.path().join("passport.db"));
                Self { url, _sqlite_dir: Some(dir), postgres_name: None }
            }
            Engine::Postgres => {
                let name = unique_name();
                let admin = admin_url();
                let mut conn = PgConnection::connect(&admin).await.expect("PostgreSQL for the test");
                sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE \"{name}\"")))
                    .execute(&mut conn)
                    .await
                    .expect("CREATE DATABASE for the test");
                conn.close().await.ok();
                let base = admin.rsplit_once('/').map_or(admin.as_str(), |(base, _)| base);
                let url = DatabaseUrl::parse(&format!("{base}/{name}")).expect("the test database URL");
                Self { url, _sqlite_dir: None, postgres_name: Some(name) }
            }
        }
    }

    /// The PostgreSQL database's name, for tools such as `pg_dump`.
    pub fn postgres_name(&self) -> Option<&str> {
        self.postgres_name.as_deref()
    }
}

/// `mocha_test_<pid>_<n>_<time>`: unique across parallel tests and test processes.
fn unique_name() -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
    format!("mocha_test_{}_{}_{nanos}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed))
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let Some(name) = self.postgres_name.take() else { return };
        // Drop may run inside a runtime that is shutting down: use a thread of our own.
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
            runtime.block_on(async {
                let mut conn = PgConnection::connect(&admin_url()).await?;
                // FORCE: a server under test may still hold connections.
                sqlx::query(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)")))
                    .execute(&mut conn)
                    .await?;
                Ok::<_, Box<dyn std::error::Error + Send + Sync>>(())
            })
        })
        .join();
        if let Ok(Err(error)) = dropped {
            eprintln!("could not drop a test database: {error}");
        }
    }
}

/// Runs each listed `async fn name(engine: Engine)` as two tests, `sqlite::name` and
/// `postgres::name`. The PostgreSQL one is skipped (outside CI) when no server answers.
#[macro_export]
macro_rules! engine_tests {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $name() {
                    super::$name($crate::testing::Engine::Sqlite).await
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test]
                async fn $name() {
                    let engine = $crate::testing::Engine::Postgres;
                    if $crate::testing::engine_ready(engine, stringify!($name)).await {
                        super::$name(engine).await
                    }
                }
            )*
        }
    };
}
