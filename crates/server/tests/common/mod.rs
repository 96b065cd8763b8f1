//! A real Mocha server for a test: temporary data folder, a real SQLite file (or a
//! fresh database of its own on the machine's PostgreSQL), real TLS on ports the OS
//! picks, and clients from `mocha-client` that trust its CA.
#![allow(dead_code)]

use std::path::Path;

use mocha_client::api::{Account, SessionTokens};
use mocha_client::{PassportClient, Trust};
pub use mocha_passport::testing::{Engine, TestDatabase};
use mocha_server::{RunningServer, ServerConfig};

pub struct TestServer {
    pub server: RunningServer,
    pub config: ServerConfig,
    pub dir: tempfile::TempDir,
    /// The PostgreSQL database, when the server runs on one; dropped after the server.
    pub database: Option<TestDatabase>,
    pub trust: Trust,
    pub passport: PassportClient,
}

/// What a stopped server leaves to start again on: its data folder and its database.
pub struct DataFolder {
    pub dir: tempfile::TempDir,
    pub database: Option<TestDatabase>,
}

impl DataFolder {
    pub fn path(&self) -> &Path {
        self.dir.path()
    }
}

impl From<tempfile::TempDir> for DataFolder {
    fn from(dir: tempfile::TempDir) -> Self {
        DataFolder { dir, database: None }
    }
}

/// A registered, signed-in user.
pub struct TestUser {
    pub account: Account,
    pub password: String,
    pub tokens: SessionTokens,
}

impl TestUser {
    pub fn token(&self) -> &str {
        &self.tokens.session_token
    }
}

impl TestServer {
    pub async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    pub async fn start_with(adjust: impl FnOnce(&mut ServerConfig)) -> Self {
        Self::start_on_with(Engine::Sqlite, adjust).await
    }

    /// A server whose Passport data is on `engine`: the data folder's SQLite file, or a
    /// new database of its own on the machine's PostgreSQL.
    pub async fn start_on(engine: Engine) -> Self {
        Self::start_on_with(engine, |_| {}).await
    }

    pub async fn start_on_with(engine: Engine, adjust: impl FnOnce(&mut ServerConfig)) -> Self {
        let mut config = ServerConfig::for_tests();
        let database = match engine {
            Engine::Sqlite => None,
            Engine::Postgres => Some(TestDatabase::create(engine).await),
        };
        config.database = database.as_ref().map(|database| database.url.clone());
        adjust(&mut config);
        let dir = tempfile::tempdir().expect("temporary data folder");
        Self::start_in(DataFolder { dir, database }, config).await
    }

    /// Starts (or restarts) a server on an existing data folder (and database).
    pub async fn start_in(folder: impl Into<DataFolder>, config: ServerConfig) -> Self {
        let DataFolder { dir, database } = folder.into();
        let server = mocha_server::start(dir.path(), config.clone()).await.expect("server starts");
        let trust = Trust::system().with_pem_file(&server.ca_cert).expect("CA certificate readable");
        // A node without HTTPS (roles without passport or web): its client reaches nothing
        // (port 9, discard), and a test using it fails at once.
        let port = server.passport_addr.map_or(9, |addr| addr.port());
        let passport =
            PassportClient::new(&format!("https://localhost:{port}"), &trust).expect("client builds");
        Self { server, config, dir, database, trust, passport }
    }

    /// Stops the server and gives back its data folder and database, to restart on them.
    pub async fn stop(self) -> (DataFolder, ServerConfig) {
        self.server.shutdown().await;
        (DataFolder { dir: self.dir, database: self.database }, self.config)
    }

    /// The environment that points a `mocha-server` command at this server's database.
    pub fn database_env(&self) -> Vec<(&'static str, String)> {
        match &self.database {
            Some(database) => vec![("MOCHA_DATABASE", postgres_url(database).to_string())],
            None => Vec::new(),
        }
    }

    /// Runs `SELECT COUNT(*) …` straight on the database, whichever engine holds it.
    pub async fn count_rows(&self, query: &str) -> i64 {
        use sqlx::Connection;
        let query = sqlx::AssertSqlSafe(query.to_string());
        match &self.database {
            Some(database) => {
                let mut db = sqlx::PgConnection::connect(postgres_url(database)).await.expect("PostgreSQL");
                sqlx::query_scalar(query).fetch_one(&mut db).await.expect("the count")
            }
            None => {
                let url = format!("sqlite://{}?mode=ro", self.dir.path().join("mocha.db").display());
                let mut db = sqlx::SqliteConnection::connect(&url).await.expect("the SQLite file");
                sqlx::query_scalar(query).fetch_one(&mut db).await.expect("the count")
            }
        }
    }

    /// Everything the database keeps, as bytes to search: SQLite's file and its
    /// write-ahead log, or a `pg_dump` of the PostgreSQL database.
    pub fn stored_bytes(&self) -> Vec<Vec<u8>> {
        match &self.database {
            Some(database) => {
                let dump = std::process::Command::new("pg_dump")
                    .arg("--dbname")
                    .arg(postgres_url(database))
                    .output()
                    .expect("pg_dump runs");
                assert!(dump.status.success(), "pg_dump: {}", String::from_utf8_lossy(&dump.stderr));
                vec![dump.stdout]
            }
            None => {
                let file = |name: &str| std::fs::read(self.dir.path().join(name)).unwrap_or_default();
                vec![file("mocha.db"), file("mocha.db-wal")]
                    .into_iter()
                    .filter(|bytes| !bytes.is_empty())
                    .collect()
            }
        }
    }

    /// Registers `name@example.com` (display name `Name`) and signs in.
    pub async fn user(&self, name: &str) -> TestUser {
        let username = format!("{name}@example.com");
        let password = format!("Tr0ub4dor&3-{}", name.chars().rev().collect::<String>());
        let mut display = name.to_string();
        display[..1].make_ascii_uppercase();
        let account = self.passport.register(&username, &display, &password).await.expect("register");
        let tokens = self.passport.sign_in(&username, &password).await.expect("sign in");
        TestUser { account, password, tokens }
    }

    /// Makes `a` and `b` contacts (a asks, b accepts).
    pub async fn befriend(&self, a: &TestUser, b: &TestUser) {
        let created =
            self.passport.request_contact(a.token(), &b.account.username, None).await.expect("request");
        let request = created.request.expect("pending request");
        self.passport.accept_request(b.token(), request.id).await.expect("accept");
    }

    /// Makes `user` an administrator (as `mocha-server admin grant` does) and returns a fresh session.
    pub async fn make_admin(&self, user: &TestUser) -> TestUser {
        self.server.passport.set_admin_by_username(&user.account.username, true).await.expect("grant admin");
        let tokens = self.passport.sign_in(&user.account.username, &user.password).await.expect("sign in");
        TestUser { account: tokens.account.clone(), password: user.password.clone(), tokens }
    }
}

/// The test database's URL, password and all (a test database has none).
fn postgres_url(database: &TestDatabase) -> &str {
    match &database.url {
        mocha_passport::DatabaseUrl::Postgres(url) => url,
        other => panic!("{other} is not a PostgreSQL database"),
    }
}
