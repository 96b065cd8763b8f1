//! What a cluster run stands on, and takes down again: a fresh PostgreSQL database on
//! the machine's server, a fresh prefix on the machine's NATS (its session directory
//! deleted afterwards), one keys folder, and the `mocha-server` nodes, each a child
//! process with its own data folder and ports.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::Context;
use futures_util::StreamExt;
use mocha_passport::DatabaseUrl;
use sqlx::{Connection, PgConnection};
use tokio::process::{Child, Command};

use crate::target::{read_listening, server_under_load};

/// The machine's PostgreSQL (trust authentication for `postgres`), as for the cluster tests.
pub const POSTGRES_ADMIN: &str = "postgres://postgres@127.0.0.1:5432/postgres";
/// The machine's NATS server, with JetStream.
pub const NATS: &str = "nats://127.0.0.1:4222";

#[derive(Debug, thiserror::Error)]
pub enum EnvError {
    #[error("PostgreSQL at 127.0.0.1:5432 cannot be reached: {0}")]
    NoPostgres(String),
    #[error("NATS at 127.0.0.1:4222 cannot be reached: {0}")]
    NoNats(String),
}

/// Whether PostgreSQL and NATS both answer (a test skips without them).
pub async fn reachable() -> Result<(), EnvError> {
    PgConnection::connect(POSTGRES_ADMIN)
        .await
        .map_err(|e| EnvError::NoPostgres(e.to_string()))?
        .close()
        .await
        .ok();
    async_nats::connect(NATS).await.map_err(|e| EnvError::NoNats(e.to_string()))?;
    Ok(())
}

pub struct Node {
    pub id: String,
    pub ns_addr: SocketAddr,
    pub ca: PathBuf,
    pub pid: u32,
    child: Child,
}

/// Everything a run made; [`Env::teardown`] removes it (and dropping it kills the nodes).
pub struct Env {
    /// Data folders and the keys folder, removed with it.
    pub dir: tempfile::TempDir,
    pub database_name: String,
    pub database: DatabaseUrl,
    pub prefix: String,
    pub nodes: Vec<Node>,
}

impl Env {
    /// A fresh database and prefix; no node yet.
    pub async fn create() -> anyhow::Result<Self> {
        reachable().await?;
        let stamp = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_millis();
        let name = format!("mocha_bench_{}_{stamp}", std::process::id());
        let mut admin = PgConnection::connect(POSTGRES_ADMIN).await?;
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE \"{name}\""))).execute(&mut admin).await?;
        admin.close().await.ok();
        let base = POSTGRES_ADMIN.rsplit_once('/').map_or(POSTGRES_ADMIN, |(base, _)| base);
        let database = DatabaseUrl::parse(&format!("{base}/{name}"))?;
        let dir = tempfile::Builder::new().prefix("mocha-cluster-bench-").tempdir()?;
        std::fs::create_dir_all(dir.path().join("keys"))?;
        Ok(Self { dir, database_name: name, database, prefix: format!("bench{stamp}"), nodes: Vec::new() })
    }

    pub fn keys_dir(&self) -> PathBuf {
        self.dir.path().join("keys")
    }

    /// Starts `count` nodes: the first alone (it creates the keys the others read), then
    /// the others together.
    pub async fn start_nodes(
        &mut self,
        bin: &Path,
        count: usize,
        pbkdf2_iterations: u32,
    ) -> anyhow::Result<()> {
        let first = self.spawn_node(bin, 0, pbkdf2_iterations).await?;
        self.nodes.push(first);
        let mut rest = Vec::new();
        for n in 1..count {
            rest.push(self.spawn_node(bin, n, pbkdf2_iterations));
        }
        for node in futures_util::future::join_all(rest).await {
            self.nodes.push(node?);
        }
        Ok(())
    }

    async fn spawn_node(&self, bin: &Path, n: usize, pbkdf2_iterations: u32) -> anyhow::Result<Node> {
        let id = format!("node{n}");
        let data = self.dir.path().join(&id);
        std::fs::create_dir_all(&data)?;
        let DatabaseUrl::Postgres(database) = &self.database else { unreachable!("created as PostgreSQL") };
        let mut command = Command::new(bin);
        command
            .arg("--data-dir")
            .arg(&data)
            .args(["--database", database.as_str(), "--bus", NATS, "--bus-prefix", self.prefix.as_str()])
            .args(["--node-id", id.as_str()])
            .arg("--keys-dir")
            .arg(self.keys_dir());
        let mut child = server_under_load(&mut command, pbkdf2_iterations)
            .spawn()
            .with_context(|| format!("cannot start {}", bin.display()))?;
        let (ns_addr, ca) =
            read_listening(&mut child).await.with_context(|| format!("{id} did not start"))?;
        let pid = child.id().context("the node exited at once")?;
        Ok(Node { id, ns_addr, ca, pid, child })
    }

    /// Resident memory summed over the live nodes, KiB.
    pub fn rss_kib(&self) -> u64 {
        self.nodes.iter().filter_map(|n| crate::target::rss_kib(n.pid)).sum()
    }

    pub fn pids(&self) -> Vec<u32> {
        self.nodes.iter().map(|n| n.pid).collect()
    }

    /// SIGKILL, as a crash.
    pub async fn kill(&mut self, node: usize) -> anyhow::Result<()> {
        let child = &mut self.nodes[node].child;
        child.start_kill()?;
        child.wait().await?;
        Ok(())
    }

    /// Kills every node, deletes the session directory and drops the database.
    pub async fn teardown(mut self) {
        for node in &mut self.nodes {
            let _ = node.child.start_kill();
            let _ = node.child.wait().await;
        }
        if let Ok(client) = async_nats::connect(NATS).await {
            let _ = async_nats::jetstream::new(client)
                .delete_key_value(format!("{}_sessions", self.prefix))
                .await;
        }
        match PgConnection::connect(POSTGRES_ADMIN).await {
            Ok(mut admin) => {
                let drop = format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", self.database_name);
                if let Err(error) = sqlx::query(sqlx::AssertSqlSafe(drop)).execute(&mut admin).await {
                    eprintln!("could not drop {}: {error}", self.database_name);
                }
            }
            Err(error) => eprintln!("could not drop {}: {error}", self.database_name),
        }
    }
}

/// The session directory as every node reads it: users signed in per node (by the
/// node's id, without the run's random suffix).
pub struct Directory {
    pub users_by_node: std::collections::BTreeMap<String, usize>,
    pub users: usize,
    /// Nodes whose heartbeat is in the directory (their ids).
    pub heartbeats: Vec<String>,
}

/// A node's id without the run's random suffix (`node1-Xb3k9QaZ` → `node1`).
fn node_id(name: &str) -> &str {
    name.rsplit_once('-').map_or(name, |(id, _)| id)
}

/// Reads the whole directory (`P_sessions`) once.
pub async fn read_directory(prefix: &str) -> anyhow::Result<Directory> {
    let client = async_nats::connect(NATS).await?;
    let kv = async_nats::jetstream::new(client).get_key_value(format!("{prefix}_sessions")).await?;
    let mut watch = kv.watch_with_history(">").await?;
    let mut node_of: std::collections::HashMap<String, String> = std::collections::HashMap::new();
    let mut heartbeats = std::collections::BTreeSet::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    while let Ok(Some(entry)) = tokio::time::timeout_at(deadline.into(), watch.next()).await {
        let entry = entry?;
        if let Some(user) = entry.key.strip_prefix("u.") {
            if entry.operation == async_nats::jetstream::kv::Operation::Put {
                let value: serde_json::Value = serde_json::from_slice(&entry.value)?;
                node_of.insert(user.to_string(), node_id(value["node"].as_str().unwrap_or("?")).to_string());
            } else {
                node_of.remove(user);
            }
        } else if let Some(node) = entry.key.strip_prefix("n.") {
            if entry.operation == async_nats::jetstream::kv::Operation::Put {
                heartbeats.insert(node_id(node).to_string());
            } else {
                heartbeats.remove(node_id(node));
            }
        }
        if entry.delta == 0 {
            break;
        }
    }
    let mut users_by_node = std::collections::BTreeMap::new();
    for node in node_of.values() {
        *users_by_node.entry(node.clone()).or_insert(0) += 1;
    }
    Ok(Directory { users: node_of.len(), users_by_node, heartbeats: heartbeats.into_iter().collect() })
}
