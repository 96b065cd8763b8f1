//! A real Mocha server for a test: temporary data folder, real SQLite file, real
//! TLS on ports the OS picks, and clients from `mocha-client` that trust its CA.
#![allow(dead_code)]

use mocha_client::api::{Account, SessionTokens};
use mocha_client::{PassportClient, Trust};
use mocha_server::{RunningServer, ServerConfig};

pub struct TestServer {
    pub server: RunningServer,
    pub config: ServerConfig,
    pub dir: tempfile::TempDir,
    pub trust: Trust,
    pub passport: PassportClient,
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
        let mut config = ServerConfig::for_tests();
        adjust(&mut config);
        let dir = tempfile::tempdir().expect("temporary data folder");
        Self::start_in(dir, config).await
    }

    /// Starts (or restarts) a server on an existing data folder.
    pub async fn start_in(dir: tempfile::TempDir, config: ServerConfig) -> Self {
        let server = mocha_server::start(dir.path(), config.clone()).await.expect("server starts");
        let trust = Trust::system().with_pem_file(&server.ca_cert).expect("CA certificate readable");
        let passport =
            PassportClient::new(&format!("https://localhost:{}", server.passport_addr.port()), &trust)
                .expect("client builds");
        Self { server, config, dir, trust, passport }
    }

    /// Stops the server and gives back its data folder, to restart on it.
    pub async fn stop(self) -> (tempfile::TempDir, ServerConfig) {
        self.server.shutdown().await;
        (self.dir, self.config)
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
