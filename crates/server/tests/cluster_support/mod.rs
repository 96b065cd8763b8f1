//! A cluster for a test: Mocha nodes on one PostgreSQL database and one NATS server
//! (JetStream), each with its own listeners, data folder and CA, sharing one keys
//! folder, on a NATS prefix of their own. By default the machine's NATS
//! (127.0.0.1:4222) and a database of the test's own on the machine's PostgreSQL; a
//! test that stops either runs a private one ([`PrivateNats`], `postgres_support`).
#![allow(dead_code)]
#![allow(clippy::unwrap_used)] // test scaffolding: a failed unwrap is a failed test

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use mocha_client::Event;
use mocha_client::api::PresenceStatus;
use mocha_passport::DatabaseUrl;
use mocha_passport::testing::{Engine, TestDatabase, engine_ready};
use mocha_server::ServerConfig;
use mocha_server::config::BusUrl;

use crate::common::{DataFolder, TestServer};

pub const NATS: &str = "nats://127.0.0.1:4222";
/// What the cluster promises: a crashed node's users look offline within this.
pub const CRASH_BOUND: Duration = Duration::from_secs(30);

/// Whether the shared NATS server answers; in CI it must.
pub fn nats_ready(test: &str) -> bool {
    let Err(error) =
        std::net::TcpStream::connect_timeout(&"127.0.0.1:4222".parse().unwrap(), Duration::from_secs(2))
    else {
        return true;
    };
    let reason = format!("NATS at 127.0.0.1:4222 cannot be reached ({error})");
    assert!(
        std::env::var_os("CI").is_none(),
        "{test} needs NATS in CI, but {reason}. scripts/test.sh starts it (start-stop-daemon … nats-server -js)."
    );
    eprintln!("skipping {test}: {reason}");
    false
}

/// A prefix no other test (or test process) uses.
pub fn unique_prefix() -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    format!("t{}_{}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed))
}

pub struct ProgramNode {
    pub running: crate::binary_support::Running,
    /// Client settings for this node, trusting every node's certificate.
    pub client: mocha_client::ClientConfig,
    pub ca_cert: std::path::PathBuf,
    /// Its data folder, removed when this is dropped: keep it while the node runs.
    pub data: tempfile::TempDir,
}

pub struct RolesNode {
    pub running: crate::binary_support::Running,
    pub ca_cert: std::path::PathBuf,
    /// Its data folder, removed when this is dropped: keep it while the node runs.
    pub data: tempfile::TempDir,
}

pub struct Cluster {
    /// Dropped first: the nodes, then the shared keys and database.
    pub nodes: Vec<TestServer>,
    pub prefix: String,
    pub nats: String,
    pub keys: tempfile::TempDir,
    pub database: DatabaseUrl,
    /// The test's own database on the shared PostgreSQL, when it uses one.
    _test_database: Option<TestDatabase>,
}

impl Cluster {
    /// Two in-process nodes, `n1` and `n2`, on the shared NATS and PostgreSQL; `None`
    /// (the test skipped, saying why) without them outside CI.
    pub async fn start(test: &str) -> Option<Self> {
        if !nats_ready(test) || !engine_ready(Engine::Postgres, test).await {
            return None;
        }
        let database = TestDatabase::create(Engine::Postgres).await;
        Some(Self::start_on(NATS, database.url.clone(), Some(database), 2, |_, _| {}).await)
    }

    /// `nodes` in-process nodes, `n1`…, on this NATS server and database; `adjust` may
    /// change each node's settings (given its number).
    pub async fn start_on(
        nats: &str,
        database: DatabaseUrl,
        test_database: Option<TestDatabase>,
        nodes: usize,
        adjust: impl Fn(usize, &mut ServerConfig),
    ) -> Self {
        let mut cluster = Self {
            nodes: Vec::new(),
            prefix: unique_prefix(),
            nats: nats.to_string(),
            keys: tempfile::tempdir().unwrap(),
            database,
            _test_database: test_database,
        };
        // One after the other: the first creates the keys the second reads.
        for n in 1..=nodes {
            let mut config = cluster.config(&format!("n{n}"));
            adjust(n, &mut config);
            let folder = DataFolder::from(tempfile::tempdir().unwrap());
            let server = TestServer::start_in(folder, config).await;
            cluster.nodes.push(server);
        }
        cluster
    }

    pub fn config(&self, node: &str) -> ServerConfig {
        ServerConfig {
            database: Some(self.database.clone()),
            bus: Some(BusUrl::parse(&self.nats).unwrap()),
            bus_prefix: self.prefix.clone(),
            node_id: Some(node.to_string()),
            keys_dir: Some(self.keys.path().to_path_buf()),
            // The MSNP gateway too, so classic clients are rung across nodes.
            msnp_port: Some(0),
            msnp_http_port: Some(0),
            msnp_switchboard_port: Some(0),
            ..ServerConfig::for_tests()
        }
    }

    /// A node that is the real `mocha-server` program (so a test can kill or freeze it),
    /// in a data folder of its own, and the client settings that reach it.
    pub fn start_program(&self, node: &str) -> ProgramNode {
        let data = tempfile::tempdir().unwrap();
        let flags = self.flags(node);
        let flags: Vec<&str> = flags.iter().map(String::as_str).collect();
        let running = crate::binary_support::Running::start(data.path(), &flags);
        let ca_cert = data.path().join("tls/ca.pem");
        let trust = self.trust(&[&ca_cert]);
        let client = crate::client_support::config_for(running.port("Passport and web pages"), &trust);
        ProgramNode { running, client, ca_cert, data }
    }

    /// A `mocha-server` child running only `roles` (`--roles sb`, …), in a data folder of
    /// its own: its running process, and its CA for clients to trust.
    pub fn start_roles_program(&self, node: &str, roles: &str) -> RolesNode {
        self.start_roles_program_with(node, roles, &[])
    }

    /// Like [`Self::start_roles_program`], with more flags.
    pub fn start_roles_program_with(&self, node: &str, roles: &str, extra: &[&str]) -> RolesNode {
        let data = tempfile::tempdir().unwrap();
        let mut flags = self.flags(node);
        flags.extend(["--roles".to_string(), roles.to_string()]);
        flags.extend(extra.iter().map(|flag| flag.to_string()));
        let flags: Vec<&str> = flags.iter().map(String::as_str).collect();
        let running = crate::binary_support::Running::start(data.path(), &flags);
        let ca_cert = data.path().join("tls/ca.pem");
        RolesNode { running, ca_cert, data }
    }

    /// The same settings as flags, for a `mocha-server` child.
    pub fn flags(&self, node: &str) -> Vec<String> {
        let database = match &self.database {
            DatabaseUrl::Postgres(url) => url.clone(),
            other => panic!("{other} is not PostgreSQL"),
        };
        [
            "--database",
            &database,
            "--bus",
            &self.nats,
            "--bus-prefix",
            &self.prefix,
            "--node-id",
            node,
            "--keys-dir",
            &self.keys.path().display().to_string(),
        ]
        .map(String::from)
        .to_vec()
    }

    pub fn node(&self, n: usize) -> &TestServer {
        &self.nodes[n - 1]
    }

    /// Alice, Bob and Carol, signed up through node 1, Alice and Carol both Bob's contacts:
    /// the watchers a test of Bob's node going away needs.
    pub async fn bob_and_two_contacts(
        &self,
    ) -> (crate::common::TestUser, crate::common::TestUser, crate::common::TestUser) {
        let n1 = self.node(1);
        let (alice, bob, carol) = (n1.user("alice").await, n1.user("bob").await, n1.user("carol").await);
        n1.befriend(&alice, &bob).await;
        n1.befriend(&carol, &bob).await;
        (alice, bob, carol)
    }

    /// A client trust that accepts every node's certificate (and those in `more`), as a
    /// cluster's clients must: a conversation's switchboard may be on any node.
    pub fn trust(&self, more: &[&std::path::Path]) -> mocha_client::Trust {
        let cas = self.nodes.iter().map(|node| node.server.ca_cert.as_path()).chain(more.iter().copied());
        cas.fold(mocha_client::Trust::system(), |trust, ca| trust.with_pem_file(ca).unwrap())
    }

    /// `user` signed in on node `n`, trusting every node.
    pub async fn connect(
        &self,
        n: usize,
        user: &crate::common::TestUser,
    ) -> (mocha_client::Client, crate::client_support::Events) {
        let config = crate::client_support::config_for(
            self.node(n).server.passport_addr.unwrap().port(),
            &self.trust(&[]),
        );
        crate::client_support::connect_with(config, user).await
    }

    /// Stops the nodes and removes this test's session directory from NATS.
    pub async fn finish(mut self) {
        for node in self.nodes.drain(..) {
            node.stop().await;
        }
        if let Ok(client) = async_nats::connect(&self.nats).await {
            let _ = async_nats::jetstream::new(client)
                .delete_key_value(format!("{}_sessions", self.prefix))
                .await;
        }
    }
}

/// Waits for `user` to look `status` (`None`: offline); earlier presence is passed over.
pub fn saw(
    user: mocha_client::api::UserId,
    status: Option<PresenceStatus>,
) -> impl FnMut(&Event) -> Option<()> {
    let mut presence = presence_of(user);
    move |e| (presence(e) == Some(status)).then_some(())
}

pub fn presence_of(user: mocha_client::api::UserId) -> impl FnMut(&Event) -> Option<Option<PresenceStatus>> {
    move |e| match e {
        Event::Presence { user: of, presence } if *of == user => Some(presence.as_ref().map(|p| p.status)),
        _ => None,
    }
}

/// A port nobody listens on just now.
pub fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// Waits until something accepts connections on `address`.
pub fn wait_for_port(address: &str, within: Duration) {
    let started = Instant::now();
    while std::net::TcpStream::connect(address).is_err() {
        assert!(started.elapsed() < within, "nothing listens on {address} after {within:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A NATS server of the test's own (`nats-server -js` on its own port and store
/// folder), so the test may stop and start it without touching the shared one.
pub struct PrivateNats {
    pub port: u16,
    store: tempfile::TempDir,
    child: Option<Child>,
}

impl PrivateNats {
    /// `None` (saying why) where `nats-server` is not installed, outside CI.
    pub fn start() -> Option<Self> {
        if Command::new("nats-server").arg("--version").output().is_err() {
            assert!(std::env::var_os("CI").is_none(), "this test needs nats-server in CI");
            eprintln!("skipping: nats-server is not installed");
            return None;
        }
        let mut nats = Self { port: free_port(), store: tempfile::tempdir().unwrap(), child: None };
        nats.resume();
        Some(nats)
    }

    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    fn store(&self) -> &Path {
        self.store.path()
    }

    /// Starts it (again, on the same port and store) and waits for its port.
    pub fn resume(&mut self) {
        assert!(self.child.is_none(), "already running");
        let child = Command::new("nats-server")
            .args(["-a", "127.0.0.1", "-p", &self.port.to_string(), "-js", "-sd"])
            .arg(self.store())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        self.child = Some(child);
        wait_for_port(&format!("127.0.0.1:{}", self.port), Duration::from_secs(20));
    }

    /// Kills it (SIGKILL): everything in memory storage is gone.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for PrivateNats {
    fn drop(&mut self) {
        self.kill();
    }
}
