//! The server under test: started in this process, started as a child process
//! (`--spawn`, so its memory can be read from /proc without ours mixed in), or one
//! already running (`--ns`, `--ca`, `--data-dir`, optionally `--pid`).
//!
//! Test users are provisioned on the data folder through a separate [`Passport`] before
//! the server starts (or beside a running one), with the `bench-fixtures` methods: the
//! server under test keeps its configured PBKDF2 cost.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::Args;
use mocha_passport::{Passport, StatusBoard};
use mocha_server::{RunningServer, ServerConfig, layout};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// Session tokens minted by the fixture live this long: longer than any bounded run.
pub const FIXTURE_TOKEN_LIFETIME: Duration = Duration::from_secs(3 * 3600);

#[derive(Args, Clone, Debug, Default)]
pub struct TargetOptions {
    /// Start `mocha-server` as a child process instead of inside this process, so its
    /// RSS per connection can be read from /proc.
    #[arg(long, conflicts_with = "ns")]
    pub spawn: bool,
    /// The `mocha-server` binary for --spawn [default: next to this binary].
    #[arg(long)]
    pub server_bin: Option<PathBuf>,
    /// Use a running server's Notification Server at this address (loopback only);
    /// needs --ca and --data-dir.
    #[arg(long, requires_all = ["ca", "data_dir"])]
    pub ns: Option<SocketAddr>,
    /// The CA certificate (PEM) clients must trust, for --ns.
    #[arg(long)]
    pub ca: Option<PathBuf>,
    /// The running server's process id, to read its RSS.
    #[arg(long)]
    pub pid: Option<u32>,
    /// Data folder: the running server's (for --ns), or where a started server keeps
    /// its data [default: a temporary folder, removed afterwards].
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// The name the server's certificate is checked against.
    #[arg(long, default_value = "localhost")]
    pub server_name: String,
    /// PBKDF2 iterations for a started server and its fixture accounts [default: the server's default, 600000].
    #[arg(long)]
    pub pbkdf2_iterations: Option<u32>,
}

/// The data folder opened for provisioning, before the server starts.
pub struct Prepared {
    options: TargetOptions,
    data_dir: PathBuf,
    temp: Option<tempfile::TempDir>,
    config: ServerConfig,
    /// Set by [`Prepared::set_switchboard_rate`]: passed to a spawned server as flags.
    switchboard_rate: Option<(u32, u32)>,
    pub passport: Arc<Passport>,
}

pub struct Target {
    pub ns_addr: SocketAddr,
    pub ca: PathBuf,
    /// The server's process, when its RSS can be read.
    pub pid: Option<u32>,
    /// "in-process", "spawned" or "external".
    pub kind: &'static str,
    pub data_dir: PathBuf,
    server_name: String,
    server: Option<RunningServer>,
    child: Option<Child>,
    _temp: Option<tempfile::TempDir>,
}

impl TargetOptions {
    /// Opens the data folder (creating it and a temporary one if needed) for provisioning.
    pub async fn prepare(&self) -> anyhow::Result<Prepared> {
        if let Some(ns) = self.ns
            && !ns.ip().is_loopback()
        {
            bail!("mocha-bench only generates load against loopback addresses, not {ns}");
        }
        let (data_dir, temp) = match &self.data_dir {
            Some(dir) => (dir.clone(), None),
            None => {
                let temp = tempfile::Builder::new().prefix("mocha-bench-").tempdir()?;
                (temp.path().to_path_buf(), Some(temp))
            }
        };
        std::fs::create_dir_all(&data_dir)?;
        let mut config = ServerConfig::from_data_dir(&data_dir)?;
        config.passport_port = 0;
        config.notification_port = 0;
        config.switchboard_port = 0;
        config.relay_port = 0;
        if let Some(iterations) = self.pbkdf2_iterations {
            config.pbkdf2_iterations = iterations;
        }
        // The load comes from a few loopback addresses and may pass the open-file share
        // a service gets by default: the caps would measure themselves, not the server.
        config.max_connections = Some(BENCH_MAX_CONNECTIONS);
        config.max_connections_per_address = BENCH_MAX_CONNECTIONS;
        let mut passport_config = config.passport(&data_dir);
        passport_config.session_token_lifetime = FIXTURE_TOKEN_LIFETIME;
        let key = mocha_auth::SigningKey::load_or_create(&layout::passport_key(&data_dir))?;
        let passport = Passport::open(
            &config.database_url(&data_dir),
            key,
            passport_config,
            Arc::new(StatusBoard::default()),
        )
        .await
        .context("cannot open the data folder for provisioning")?;
        Ok(Prepared { options: self.clone(), data_dir, temp, config, switchboard_rate: None, passport })
    }
}

impl Prepared {
    /// Gives a server this tool starts another switchboard message rate (per connection,
    /// sustained and burst). Says which limit will apply: a running server (`--ns`)
    /// keeps its own.
    pub fn set_switchboard_rate(&mut self, per_second: u32, burst: u32) -> String {
        if self.options.ns.is_some() {
            return "the running server's own switchboard_messages_per_second (not changed by --ns runs)"
                .into();
        }
        self.config.switchboard_messages_per_second = per_second;
        self.config.switchboard_message_burst = burst;
        self.switchboard_rate = Some((per_second, burst));
        format!("switchboard message limit {per_second}/s per connection, burst {burst}")
    }

    /// Turns the MSNP gateway (its Notification Server and switchboard) on, on
    /// OS-picked ports, for a server this tool starts in-process.
    pub fn enable_msnp(&mut self) {
        self.config.msnp_port = Some(0);
        self.config.msnp_switchboard_port = Some(0);
    }

    /// Closes the fixture's database handle and starts (or finds) the server.
    pub async fn start(self) -> anyhow::Result<Target> {
        self.passport.close().await;
        let Prepared { options, data_dir, temp, config, switchboard_rate, .. } = self;
        if let Some(ns_addr) = options.ns {
            let ca = options.ca.clone().context("--ns needs --ca")?;
            return Ok(Target {
                ns_addr,
                ca,
                pid: options.pid,
                kind: "external",
                data_dir,
                server_name: options.server_name.clone(),
                server: None,
                child: None,
                _temp: temp,
            });
        }
        if options.spawn {
            return spawn(&options, &data_dir, &config, switchboard_rate, temp).await;
        }
        let server = mocha_server::start(&data_dir, config).await.context("the server did not start")?;
        Ok(Target {
            ns_addr: server.ns_addr.expect("every role runs"),
            ca: server.ca_cert.clone(),
            pid: Some(std::process::id()),
            kind: "in-process",
            data_dir,
            server_name: options.server_name.clone(),
            server: Some(server),
            child: None,
            _temp: temp,
        })
    }
}

/// Connection caps for a server under load: more than any scenario opens.
pub const BENCH_MAX_CONNECTIONS: usize = 1_000_000;

/// What every `mocha-server` this tool starts runs with: OS-picked ports, the run's
/// PBKDF2 cost, connection caps the load cannot reach, a quiet log, its listening
/// report on stdout.
pub fn server_under_load(command: &mut Command, pbkdf2_iterations: u32) -> &mut Command {
    command
        .args(["--passport-port", "0", "--notification-port", "0", "--switchboard-port", "0"])
        .args(["--relay-port", "0"])
        .args(["--pbkdf2-iterations", &pbkdf2_iterations.to_string()])
        .args(["--max-connections", &BENCH_MAX_CONNECTIONS.to_string()])
        .args(["--max-connections-per-address", &BENCH_MAX_CONNECTIONS.to_string()])
        // One log line per connection would be most of the work at 50k connections.
        .env("MOCHA_LOG", std::env::var("MOCHA_BENCH_SERVER_LOG").unwrap_or_else(|_| "warn".into()))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .kill_on_drop(true)
}

async fn spawn(
    options: &TargetOptions,
    data_dir: &Path,
    config: &ServerConfig,
    switchboard_rate: Option<(u32, u32)>,
    temp: Option<tempfile::TempDir>,
) -> anyhow::Result<Target> {
    let bin = match &options.server_bin {
        Some(bin) => bin.clone(),
        None => std::env::current_exe()?.with_file_name("mocha-server"),
    };
    let mut command = Command::new(&bin);
    if let Some((per_second, burst)) = switchboard_rate {
        // Only when asked: a server built before these flags existed still runs the other scenarios.
        command
            .args(["--switchboard-messages-per-second", &per_second.to_string()])
            .args(["--switchboard-message-burst", &burst.to_string()]);
    }
    command.arg("--data-dir").arg(data_dir);
    let mut child = server_under_load(&mut command, config.pbkdf2_iterations)
        .spawn()
        .with_context(|| format!("cannot start {}", bin.display()))?;
    let (ns_addr, ca) = read_listening(&mut child).await?;
    Ok(Target {
        ns_addr,
        ca,
        pid: child.id(),
        kind: "spawned",
        data_dir: data_dir.to_path_buf(),
        server_name: options.server_name.clone(),
        server: None,
        child: Some(child),
        _temp: temp,
    })
}

/// Reads a `mocha-server` child's start-up lines until it names its Notification
/// Server's address and its CA certificate, then keeps draining its output (so it never
/// blocks on a full pipe).
pub async fn read_listening(child: &mut Child) -> anyhow::Result<(SocketAddr, PathBuf)> {
    let stdout = child.stdout.take().context("no stdout")?;
    let mut lines = BufReader::new(stdout).lines();
    let (mut ns, mut ca) = (None, None);
    let read = async {
        while let Some(line) = lines.next_line().await? {
            if let Some(rest) = line.trim().strip_prefix("Notification Server") {
                ns = rest.split_whitespace().next().and_then(|a| a.parse::<SocketAddr>().ok());
            }
            if let Some(path) = line.trim().strip_prefix("Clients must trust the CA certificate at ") {
                ca = Some(PathBuf::from(path));
            }
            if ns.is_some() && ca.is_some() {
                return Ok::<_, std::io::Error>(());
            }
        }
        Ok(())
    };
    tokio::time::timeout(Duration::from_secs(60), read)
        .await
        .context("the server did not start in 60 s")??;
    let (Some(ns_addr), Some(ca)) = (ns, ca) else { bail!("the server exited before it was listening") };
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    Ok((ns_addr, ca))
}

impl Target {
    /// The server's resident memory in KiB (VmRSS), if its process is known.
    pub fn rss_kib(&self) -> Option<u64> {
        rss_kib(self.pid?)
    }

    /// Stops a server this tool started.
    pub async fn stop(mut self) {
        if let Some(server) = self.server.take() {
            server.shutdown().await;
        }
        if let Some(mut child) = self.child.take() {
            if let Some(pid) = child.id() {
                let _ = Command::new("kill").args(["-INT", &pid.to_string()]).status().await;
            }
            if tokio::time::timeout(Duration::from_secs(15), child.wait()).await.is_err() {
                let _ = child.kill().await;
            }
        }
    }
}

pub fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|line| line.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

impl Target {
    /// The media relay's counters, when the server runs in this process.
    pub fn relay_stats(&self) -> Option<mocha_switchboard::RelayStats> {
        self.server.as_ref().and_then(|server| server.switchboard.as_ref()).map(|sb| sb.relay().stats())
    }

    /// The name to check the server's certificate against.
    /// The MSNP gateway's Notification Server and switchboard, when an in-process
    /// server has them on.
    pub fn msnp_addrs(&self) -> Option<(SocketAddr, SocketAddr)> {
        let server = self.server.as_ref()?;
        Some((server.msnp_addr?, server.msnp_switchboard_addr?))
    }

    pub fn server_name(&self) -> String {
        self.server_name.clone()
    }
}

impl Target {
    /// CPU time the server's process has used so far, in seconds (user + system).
    pub fn cpu_seconds(&self) -> Option<f64> {
        cpu_seconds(self.pid?)
    }
}

/// User + system CPU seconds of a process, from /proc/<pid>/stat (clock ticks of 1/100 s).
pub fn cpu_seconds(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name (which may hold spaces) start at the state, field 3.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i)?.parse::<u64>().ok();
    Some((ticks(11)? + ticks(12)?) as f64 / 100.0)
}

/// CPU milliseconds the server spent per operation between two readings.
pub fn cpu_ms_per(before: Option<f64>, after: Option<f64>, operations: u64) -> Option<f64> {
    Some((after? - before?) * 1000.0 / operations.max(1) as f64)
}
