//! A private PostgreSQL server for one test (`initdb` + `pg_ctl` in a temporary folder,
//! on a port of its own), so the test may stop and start it without touching the
//! machine's shared server that other tests use.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

pub struct PrivatePostgres {
    bin: PathBuf,
    /// Holds the cluster (`data/`), its socket and its log; removed last.
    dir: tempfile::TempDir,
    pub port: u16,
    /// Root cannot run PostgreSQL: then every command runs as this user.
    run_as: Option<&'static str>,
}

/// Where Debian keeps the newest installed server's programs.
fn server_programs() -> Option<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|entry| entry.ok().map(|e| e.path().join("bin")))
        .filter(|bin| bin.join("initdb").exists() && bin.join("pg_ctl").exists())
        .collect();
    found.sort_by_key(|bin| {
        bin.parent().and_then(|v| v.file_name()).and_then(|v| v.to_str()?.parse::<u32>().ok()).unwrap_or(0)
    });
    found.pop()
}

fn is_root() -> bool {
    Command::new("id").arg("-u").output().is_ok_and(|out| out.stdout.trim_ascii() == b"0")
}

impl PrivatePostgres {
    /// Creates and starts a server; `None` (saying why) where that cannot be done
    /// outside CI. In CI it must work.
    pub fn start() -> Option<Self> {
        let missing = |why: String| {
            assert!(std::env::var_os("CI").is_none(), "this test needs a private PostgreSQL in CI: {why}");
            eprintln!("skipping: {why}");
            None
        };
        let Some(bin) = server_programs() else {
            return missing("no PostgreSQL server programs under /usr/lib/postgresql/*/bin".into());
        };
        let run_as = is_root().then_some("postgres");
        let dir = tempfile::Builder::new().prefix("mocha-pg-").tempdir().expect("a temporary folder");
        if let Some(user) = run_as {
            // initdb refuses to run as root; the folder must be the server user's.
            let chown = Command::new("chown").arg("-R").arg(format!("{user}:")).arg(dir.path()).status();
            if !chown.is_ok_and(|s| s.success()) {
                return missing(format!("cannot give {} to {user}", dir.path().display()));
            }
        }
        let port = free_port();
        let server = Self { bin, dir, port, run_as };
        let init = server.run("initdb", |c| {
            c.arg("-D").arg(server.data()).args(["-A", "trust", "-U", "postgres", "--no-sync"]);
        });
        if !init.status.success() {
            return missing(format!("initdb failed: {}", String::from_utf8_lossy(&init.stderr)));
        }
        server.resume();
        Some(server)
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// The URL of its `postgres` database (trust authentication).
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    fn run(&self, program: &str, args: impl FnOnce(&mut Command)) -> std::process::Output {
        let path = self.bin.join(program);
        let mut command = match self.run_as {
            Some(user) => {
                let mut c = Command::new("runuser");
                c.args(["-u", user, "--"]).arg(&path);
                c
            }
            None => Command::new(&path),
        };
        args(&mut command);
        command.output().unwrap_or_else(|e| panic!("{program} runs: {e}"))
    }

    fn pg_ctl(&self, args: &[&str]) {
        let out = self.run("pg_ctl", |c| {
            c.arg("-D").arg(self.data()).args(args);
        });
        let log = std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default();
        assert!(
            out.status.success(),
            "pg_ctl {args:?}: {}{}\n{log}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Starts the server and waits until it takes connections.
    pub fn resume(&self) {
        let socket_dir = self.dir.path().display().to_string();
        let options = format!("-p {} -k {socket_dir} -c listen_addresses=127.0.0.1 -c fsync=off", self.port);
        let log = self.dir.path().join("server.log").display().to_string();
        self.pg_ctl(&["-w", "-t", "60", "-l", &log, "-o", &options, "start"]);
    }

    /// Stops the server at once (connections are cut, as when it goes down).
    pub fn stop(&self) {
        self.pg_ctl(&["-w", "-m", "fast", "stop"]);
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for PrivatePostgres {
    fn drop(&mut self) {
        let _ = self.run("pg_ctl", |c| {
            c.arg("-D").arg(self.data()).args(["-m", "immediate", "stop"]);
        });
    }
}

/// A port nobody listens on just now.
fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    listener.local_addr().expect("its address").port()
}
