//! A real Mocha server in the test process (temporary data folder, real SQLite, TLS
//! on OS-picked ports) and people who use it only through the `mocha` binary, each
//! with their own config folder.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::time::Duration;

use mocha_server::{RunningServer, ServerConfig};
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader, Lines};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};

pub const WAIT: Duration = Duration::from_secs(20);

pub struct Server {
    pub running: RunningServer,
    pub dir: tempfile::TempDir,
}

impl Server {
    pub async fn start() -> Self {
        let config = ServerConfig::for_tests();
        let dir = tempfile::tempdir().expect("data folder");
        let running = mocha_server::start(dir.path(), config).await.expect("server starts");
        Self { running, dir }
    }

    pub fn url(&self) -> String {
        format!("https://localhost:{}", self.running.passport_addr.expect("every role runs").port())
    }

    /// Someone at a terminal, with an empty config folder.
    pub fn person(&self, name: &str) -> Person {
        Person {
            username: format!("{name}@example.com"),
            password: format!("Tr0ub4dor&3-{}", name.chars().rev().collect::<String>()),
            config: tempfile::tempdir().expect("config folder"),
            server: self.url(),
            ca: self.running.ca_cert.clone(),
        }
    }
}

pub struct Person {
    pub username: String,
    pub password: String,
    pub config: tempfile::TempDir,
    server: String,
    ca: PathBuf,
}

/// A finished run of the binary.
pub struct Run {
    pub success: bool,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn json(&self) -> Value {
        let last = self.stdout.lines().last().unwrap_or_default();
        serde_json::from_str(last).unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", self.stdout))
    }
}

impl Person {
    pub fn profile(&self) -> PathBuf {
        self.config.path().join("profile.json")
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_mocha"));
        command
            .args(args)
            .env_remove("MOCHA_PROXY")
            .env_remove("MOCHA_NOTIFICATION_SERVER")
            .env("MOCHA_CONFIG_DIR", self.config.path())
            .env("MOCHA_SERVER", &self.server)
            .env("MOCHA_CA", &self.ca)
            .env("MOCHA_PASSWORD", &self.password)
            .stdin(Stdio::null())
            .kill_on_drop(true);
        command
    }

    pub async fn run(&self, args: &[&str]) -> Run {
        let output: Output = tokio::time::timeout(WAIT, self.command(args).output())
            .await
            .unwrap_or_else(|_| panic!("mocha {args:?} did not finish"))
            .expect("the binary runs");
        Run {
            success: output.status.success(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    /// Runs and insists on success.
    pub async fn ok(&self, args: &[&str]) -> Run {
        let run = self.run(args).await;
        assert!(run.success, "mocha {args:?} failed:\nstdout: {}\nstderr: {}", run.stdout, run.stderr);
        run
    }

    /// Runs with `--json` and returns the last line's value.
    pub async fn json(&self, args: &[&str]) -> Value {
        let mut all = args.to_vec();
        all.push("--json");
        self.ok(&all).await.json()
    }

    /// Runs and insists on failure with a message on stderr.
    pub async fn fails(&self, args: &[&str]) -> Run {
        let run = self.run(args).await;
        assert!(!run.success, "mocha {args:?} should fail; stdout: {}", run.stdout);
        assert!(run.stderr.starts_with("mocha: error: "), "clear message expected: {:?}", run.stderr);
        run
    }

    /// Starts a long-running command (`listen`, `receive-files`) with `--json`.
    pub fn spawn(&self, args: &[&str]) -> Running {
        let mut all = args.to_vec();
        all.push("--json");
        let mut child =
            self.command(&all).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("spawns");
        let stdout = child.stdout.take().expect("piped");
        Running { child, lines: BufReader::new(stdout).lines() }
    }

    /// Starts an interactive command (`chat`) with `--json`; what is written to the
    /// returned stdin is what the person types, and dropping it is Ctrl-D.
    pub fn spawn_typing(&self, args: &[&str]) -> (Running, ChildStdin) {
        let mut all = args.to_vec();
        all.push("--json");
        let mut child = self
            .command(&all)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawns");
        let stdin = child.stdin.take().expect("piped");
        let stdout = child.stdout.take().expect("piped");
        (Running { child, lines: BufReader::new(stdout).lines() }, stdin)
    }

    pub async fn register_and_sign_in(&self) {
        self.ok(&["register", &self.username]).await;
        self.ok(&["sign-in", &self.username]).await;
    }
}

pub struct Running {
    pub child: Child,
    lines: Lines<BufReader<ChildStdout>>,
}

impl Running {
    /// Reads JSON lines until one satisfies `pick`.
    pub async fn expect<T>(&mut self, mut pick: impl FnMut(&Value) -> Option<T>) -> T {
        let mut seen = Vec::new();
        let found = tokio::time::timeout(WAIT, async {
            while let Ok(Some(line)) = self.lines.next_line().await {
                let value: Value = serde_json::from_str(&line).unwrap_or(Value::Null);
                if let Some(found) = pick(&value) {
                    return Some(found);
                }
                seen.push(line);
            }
            None
        })
        .await;
        match found {
            Ok(Some(found)) => found,
            _ => panic!("expected line never came; saw {seen:#?}"),
        }
    }

    pub async fn expect_event(&mut self, name: &str) -> Value {
        self.expect(|v| (v["event"] == name).then(|| v.clone())).await
    }

    /// Waits for the process to end; returns whether it succeeded.
    pub async fn finished(mut self) -> bool {
        let status = tokio::time::timeout(WAIT, self.child.wait()).await.expect("it ends").expect("status");
        status.success()
    }

    pub async fn stop(mut self) {
        let _ = self.child.kill().await;
    }
}

pub fn mode_of(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).expect("exists").permissions().mode() & 0o777
}
