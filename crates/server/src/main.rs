//! `mocha-server`: runs the whole Mocha network, or administers its data folder.

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use mocha_passport::DatabaseUrl;
use mocha_server::ServerConfig;
use mocha_server::config::{BusUrl, LogFormat, Role};

/// Runs Mocha: Passport (HTTPS), the Notification Server and the Switchboard (TLS),
/// and the web pages, on one embedded SQLite database (the default) or on PostgreSQL
/// (--database postgres://…). Several nodes on one PostgreSQL database form a cluster
/// through a NATS server (--bus nats://…, --node-id, --keys-dir; see docs/cluster.md).
///
/// Settings come from the defaults, then DATA_DIR/mocha.toml (same names as the
/// flags, with underscores), then MOCHA_* environment variables, then flags.
#[derive(Parser)]
#[command(version, about, long_about)]
struct Cli {
    /// The data folder: database, keys, certificates, mocha.toml, updates.json.
    #[arg(long, env = "MOCHA_DATA_DIR", default_value = "mocha-data", global = true)]
    data_dir: PathBuf,

    #[command(flatten)]
    overrides: Overrides,

    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the network (the default).
    Run,
    /// Administer accounts directly on the data folder (run while the server is stopped or running).
    Admin {
        #[command(subcommand)]
        action: AdminAction,
    },
    /// Publish a Mocha Messenger build for download and updates, signed with this
    /// server's release key (works while the server runs); --list shows what is
    /// published, --remove takes a build down.
    Publish(PublishArgs),
    /// Copy the database, keys and certificates into FILE (an owner-only SQLite file),
    /// consistently, while the server runs. PostgreSQL: use pg_dump instead.
    Backup {
        /// Where to write the backup; must not exist yet.
        file: PathBuf,
    },
    /// Replace the data folder's database, keys and certificates with a backup's.
    /// The server must be stopped; a file that is not a Mocha backup, or is from a
    /// newer Mocha, is refused before anything changes.
    Restore {
        /// A file written by `mocha-server backup`.
        file: PathBuf,
    },
}

#[derive(Args)]
struct PublishArgs {
    /// Show every published build.
    #[arg(long, conflicts_with_all = ["remove", "file", "version", "notes", "force"])]
    list: bool,
    /// Take the build for --platform off --channel and delete its file.
    #[arg(long, requires_all = ["channel", "platform"], conflicts_with_all = ["file", "version", "notes", "force"])]
    remove: bool,
    /// stable, beta or dev.
    #[arg(long, value_parser = ["stable", "beta", "dev"], required_unless_present = "list")]
    channel: Option<String>,
    /// linux-x86_64 or windows-x86_64.
    #[arg(long, value_parser = ["linux-x86_64", "windows-x86_64"], required_unless_present = "list")]
    platform: Option<String>,
    /// The build's version, like 1.2.0; must be newer than the channel's unless --force.
    #[arg(long, required_unless_present_any = ["list", "remove"])]
    version: Option<String>,
    /// What is new, shown on the download page and in the client.
    #[arg(long, default_value = "")]
    notes: String,
    /// Publish even if the version is not newer than what the channel has.
    #[arg(long)]
    force: bool,
    /// The client build (an ELF program for Linux, a .exe for Windows).
    #[arg(required_unless_present_any = ["list", "remove"])]
    file: Option<PathBuf>,
}

#[derive(Subcommand)]
enum AdminAction {
    /// Give an account administrator access (how the first admin is made).
    Grant { username: String },
    /// Take administrator access away from an account.
    Revoke { username: String },
}

#[derive(Args)]
struct Overrides {
    /// Passport's database: sqlite:PATH, or postgres://USER[:PASSWORD]@HOST[:PORT]/DB
    /// (created tables are migrated on start) [default: sqlite:DATA_DIR/mocha.db].
    /// A password is never printed; prefer MOCHA_DATABASE or mocha.toml to a flag,
    /// which other users of the machine can see.
    // Taken as text: clap would quote a value it could not parse, password and all.
    #[arg(long, env = "MOCHA_DATABASE", hide_env_values = true)]
    database: Option<String>,
    /// Address to listen on [default: 127.0.0.1].
    #[arg(long, env = "MOCHA_BIND")]
    bind: Option<IpAddr>,
    /// Host name clients use to reach this server [default: localhost]. In a cluster,
    /// one that reaches this node itself: switchboard addresses name it.
    #[arg(long, env = "MOCHA_PUBLIC_HOST")]
    public_host: Option<String>,
    /// Passport and web pages HTTPS port [default: 8443].
    #[arg(long, env = "MOCHA_PASSPORT_PORT")]
    passport_port: Option<u16>,
    /// Notification Server TLS port [default: 1863].
    #[arg(long, env = "MOCHA_NOTIFICATION_PORT")]
    notification_port: Option<u16>,
    /// Switchboard TLS port [default: 1864].
    #[arg(long, env = "MOCHA_SWITCHBOARD_PORT")]
    switchboard_port: Option<u16>,
    /// Turn on the MSNP gateway for classic MSN clients, its Notification Server on this
    /// port (docs/msnp.md). MSNP is UNENCRYPTED (passwords and chat travel in the clear):
    /// use it on a LAN, on loopback, or behind a TLS tunnel [default: off].
    #[arg(long, env = "MOCHA_MSNP_PORT")]
    msnp_port: Option<u16>,
    /// The MSNP gateway's Switchboard (classic clients' conversations, which can mix
    /// with Mocha Messenger users) on this port; UNENCRYPTED like the rest of MSNP.
    /// Needs --msnp-port [default: off: classic clients cannot chat].
    #[arg(long, env = "MOCHA_MSNP_SWITCHBOARD_PORT")]
    msnp_switchboard_port: Option<u16>,
    /// Serve the MSNP gateway's Passport 1.4 login over plain HTTP (UNENCRYPTED) on this
    /// port too; it is always on Passport's HTTPS port when --msnp-port is set [default: off].
    #[arg(long, env = "MOCHA_MSNP_HTTP_PORT")]
    msnp_http_port: Option<u16>,
    /// PEM certificate chain to use instead of the generated development certificate.
    #[arg(long, env = "MOCHA_TLS_CERT", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// PEM private key for --tls-cert.
    #[arg(long, env = "MOCHA_TLS_KEY", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Session token lifetime in seconds [default: 900].
    #[arg(long, env = "MOCHA_SESSION_TOKEN_SECONDS")]
    session_token_seconds: Option<u64>,
    /// Refresh token lifetime in days [default: 30].
    #[arg(long, env = "MOCHA_REFRESH_TOKEN_DAYS")]
    refresh_token_days: Option<u64>,
    /// PBKDF2-HMAC-SHA256 iterations for new password hashes [default: 600000].
    #[arg(long, env = "MOCHA_PBKDF2_ITERATIONS")]
    pbkdf2_iterations: Option<u32>,
    /// Sign-in attempts allowed per account in its window [default: 10].
    #[arg(long, env = "MOCHA_SIGN_IN_ATTEMPTS_PER_ACCOUNT")]
    sign_in_attempts_per_account: Option<u32>,
    /// The per-account window, in seconds [default: 300].
    #[arg(long, env = "MOCHA_SIGN_IN_ACCOUNT_WINDOW_SECONDS")]
    sign_in_account_window_seconds: Option<u64>,
    /// Sign-in attempts allowed per client address in its window [default: 30].
    #[arg(long, env = "MOCHA_SIGN_IN_ATTEMPTS_PER_ADDRESS")]
    sign_in_attempts_per_address: Option<u32>,
    /// The per-address window, in seconds [default: 60].
    #[arg(long, env = "MOCHA_SIGN_IN_ADDRESS_WINDOW_SECONDS")]
    sign_in_address_window_seconds: Option<u64>,
    /// How long a switchboard ticket stays valid, in seconds [default: 120].
    #[arg(long, env = "MOCHA_TICKET_SECONDS")]
    ticket_seconds: Option<u64>,
    /// Sign out a silent Notification Server connection after this many seconds [default: 180].
    #[arg(long, env = "MOCHA_NOTIFICATION_IDLE_SECONDS")]
    notification_idle_seconds: Option<u64>,
    /// Close a silent switchboard connection after this many seconds [default: 1800].
    #[arg(long, env = "MOCHA_SWITCHBOARD_IDLE_SECONDS")]
    switchboard_idle_seconds: Option<u64>,
    /// The most people in one conversation [default: 20].
    #[arg(long, env = "MOCHA_MAX_PARTICIPANTS")]
    max_participants: Option<usize>,
    /// Cap the database at this many MiB; past it writes answer 507 storage_full, as on
    /// a full disk. 0 = no cap [default: 0].
    #[arg(long, env = "MOCHA_MAX_DATABASE_MIB")]
    max_database_mib: Option<u64>,
    /// Close an HTTPS connection whose request headers, or then body, take longer than
    /// this many seconds each [default: 30].
    #[arg(long, env = "MOCHA_HTTP_REQUEST_SECONDS")]
    http_request_seconds: Option<u64>,
    /// Close a connection not signed in (NS) or not in a conversation (SB) after this many seconds [default: 15].
    #[arg(long, env = "MOCHA_SIGN_IN_SECONDS")]
    sign_in_seconds: Option<u64>,
    /// Open connections each service (NS, SB, HTTPS) keeps at most [default: a third of the open-file limit less 128].
    #[arg(long, env = "MOCHA_MAX_CONNECTIONS")]
    max_connections: Option<usize>,
    /// Open connections one address may have to each service [default: 256].
    #[arg(long, env = "MOCHA_MAX_CONNECTIONS_PER_ADDRESS")]
    max_connections_per_address: Option<usize>,

    /// UDP port of the calls' media relay [default: 1865].
    #[arg(long, env = "MOCHA_RELAY_PORT")]
    relay_port: Option<u16>,
    /// The largest datagram the media relay forwards, in bytes [default: 1280].
    #[arg(long, env = "MOCHA_RELAY_MAX_PACKET")]
    relay_max_packet: Option<usize>,
    /// Each call member's packet rate through the media relay [default: 500].
    #[arg(long, env = "MOCHA_RELAY_PACKETS_PER_SECOND")]
    relay_packets_per_second: Option<u32>,
    /// Tasks receiving on the media relay's socket at once [default: 2].
    #[arg(long, env = "MOCHA_RELAY_WORKERS")]
    relay_workers: Option<usize>,

    /// Chat messages one switchboard connection may send per second [default: 20].
    #[arg(long, env = "MOCHA_SWITCHBOARD_MESSAGES_PER_SECOND")]
    switchboard_messages_per_second: Option<u32>,
    /// Messages a switchboard connection may send at once above that rate [default: 40].
    #[arg(long, env = "MOCHA_SWITCHBOARD_MESSAGE_BURST")]
    switchboard_message_burst: Option<u32>,
    /// Cancel a file transfer whose chunk waited this many seconds for a receiver not reading [default: 30].
    #[arg(long, env = "MOCHA_FILE_CHUNK_WAIT_SECONDS")]
    file_chunk_wait_seconds: Option<u64>,

    /// Serve Prometheus metrics at http://ADDRESS/metrics: a port alone means
    /// 127.0.0.1:PORT [default: off].
    #[arg(long, env = "MOCHA_METRICS_BIND", value_parser = parse_metrics_bind)]
    metrics_bind: Option<SocketAddr>,
    /// The log's format: text, or one JSON object a line [default: text].
    #[arg(long, env = "MOCHA_LOG_FORMAT", value_enum)]
    log_format: Option<LogFormat>,

    /// What this node runs, comma-separated: passport (HTTPS API), web (websites; both on
    /// --passport-port), ns (Notification Server, and the MSNP gateway when on), sb
    /// (Switchboard, media relay, MSNP switchboard). Fewer than four needs --database
    /// postgres://… and --bus: the other roles run on other nodes of the cluster, found
    /// through its directory; see docs/cluster.md [default: passport,web,ns,sb].
    #[arg(long, env = "MOCHA_ROLES", value_enum, value_delimiter = ',')]
    roles: Option<Vec<Role>>,
    /// This node's name in its cluster, unique there (letters, digits, - and _)
    /// [default: the host name].
    #[arg(long, env = "MOCHA_NODE_ID")]
    node_id: Option<String>,
    /// Join a cluster through this NATS server (JetStream on): nats://HOST:4222. Needed
    /// as soon as a second node serves the same PostgreSQL database (--database
    /// postgres://…), refused on SQLite; see docs/cluster.md [default: one node, no NATS].
    #[arg(long, env = "MOCHA_BUS", hide_env_values = true)]
    bus: Option<String>,
    /// What the cluster's NATS subjects and session directory are named after; one per
    /// cluster sharing a NATS server [default: mocha].
    #[arg(long, env = "MOCHA_BUS_PREFIX")]
    bus_prefix: Option<String>,
    /// The folder of the signing keys of Passport's tokens and of switchboard tickets. All
    /// nodes of a cluster must read the same keys: a shared folder, or copies of the first
    /// node's [default: DATA_DIR/keys].
    #[arg(long, env = "MOCHA_KEYS_DIR")]
    keys_dir: Option<PathBuf>,
}

/// `PORT` (loopback) or `ADDRESS:PORT`.
fn parse_metrics_bind(text: &str) -> Result<SocketAddr, String> {
    if let Ok(port) = text.parse::<u16>() {
        return Ok(SocketAddr::from(([127, 0, 0, 1], port)));
    }
    text.parse().map_err(|_| format!("{text:?} is neither a port nor an ADDRESS:PORT"))
}

impl Overrides {
    fn apply(self, config: &mut ServerConfig) -> anyhow::Result<()> {
        fn set<T>(slot: &mut T, value: Option<T>) {
            if let Some(value) = value {
                *slot = value;
            }
        }
        if let Some(database) = &self.database {
            config.database = Some(DatabaseUrl::parse(database)?);
        }
        set(&mut config.bind, self.bind);
        set(&mut config.public_host, self.public_host);
        set(&mut config.passport_port, self.passport_port);
        set(&mut config.notification_port, self.notification_port);
        set(&mut config.switchboard_port, self.switchboard_port);
        if self.tls_cert.is_some() {
            config.tls_cert = self.tls_cert;
            config.tls_key = self.tls_key;
        }
        set(&mut config.session_token_seconds, self.session_token_seconds);
        set(&mut config.refresh_token_days, self.refresh_token_days);
        set(&mut config.pbkdf2_iterations, self.pbkdf2_iterations);
        set(&mut config.sign_in_attempts_per_account, self.sign_in_attempts_per_account);
        set(&mut config.sign_in_account_window_seconds, self.sign_in_account_window_seconds);
        set(&mut config.sign_in_attempts_per_address, self.sign_in_attempts_per_address);
        set(&mut config.sign_in_address_window_seconds, self.sign_in_address_window_seconds);
        set(&mut config.ticket_seconds, self.ticket_seconds);
        set(&mut config.notification_idle_seconds, self.notification_idle_seconds);
        set(&mut config.switchboard_idle_seconds, self.switchboard_idle_seconds);
        set(&mut config.max_participants, self.max_participants);
        set(&mut config.max_database_mib, self.max_database_mib);
        set(&mut config.http_request_seconds, self.http_request_seconds);
        set(&mut config.sign_in_seconds, self.sign_in_seconds);
        if self.max_connections.is_some() {
            config.max_connections = self.max_connections;
        }
        set(&mut config.max_connections_per_address, self.max_connections_per_address);

        set(&mut config.relay_port, self.relay_port);
        set(&mut config.relay_max_packet, self.relay_max_packet);
        set(&mut config.relay_packets_per_second, self.relay_packets_per_second);
        set(&mut config.relay_workers, self.relay_workers);

        set(&mut config.switchboard_messages_per_second, self.switchboard_messages_per_second);
        set(&mut config.switchboard_message_burst, self.switchboard_message_burst);
        set(&mut config.file_chunk_wait_seconds, self.file_chunk_wait_seconds);

        for (slot, value) in [
            (&mut config.msnp_port, self.msnp_port),
            (&mut config.msnp_switchboard_port, self.msnp_switchboard_port),
            (&mut config.msnp_http_port, self.msnp_http_port),
        ] {
            if value.is_some() {
                *slot = value;
            }
        }
        if self.metrics_bind.is_some() {
            config.metrics_bind = self.metrics_bind;
        }
        set(&mut config.log_format, self.log_format);
        set(&mut config.roles, self.roles);
        if self.node_id.is_some() {
            config.node_id = self.node_id;
        }
        if let Some(bus) = &self.bus {
            config.bus = Some(BusUrl::parse(bus)?);
        }
        set(&mut config.bus_prefix, self.bus_prefix);
        if self.keys_dir.is_some() {
            config.keys_dir = self.keys_dir;
        }
        Ok(())
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let mut config = ServerConfig::from_data_dir(&cli.data_dir)?;
    cli.overrides.apply(&mut config)?;
    mocha_server::logging::init(config.log_format);
    // Every connection is a file: take all the open files the system allows us.
    match mocha_server::raise_open_file_limit() {
        Ok(limit) if limit.before < limit.now => {
            tracing::info!(before = limit.before, now = limit.now, "raised the open-file limit")
        }
        Ok(limit) => tracing::info!(limit = limit.now, "open-file limit"),
        Err(error) => tracing::warn!(%error, "cannot raise the open-file limit"),
    }
    match cli.command.unwrap_or(Command::Run) {
        Command::Run => run(&cli.data_dir, config).await,
        Command::Admin { action } => admin(&cli.data_dir, config, action).await,
        Command::Publish(args) => publish(&cli.data_dir, args),
        Command::Backup { file } => backup(&cli.data_dir, config, &file).await,
        Command::Restore { file } => restore(&cli.data_dir, config, &file).await,
    }
}

fn publish(data_dir: &Path, args: PublishArgs) -> anyhow::Result<()> {
    use mocha_server::publish;
    if args.list {
        let published = publish::list(data_dir)?;
        if published.is_empty() {
            println!("No builds are published.");
        }
        for (channel, platform, file) in published {
            println!(
                "{channel:<7} {platform:<15} {:<10} {:>12} bytes  sha256 {}  {}",
                file.version, file.size, file.sha256, file.url
            );
        }
        return Ok(());
    }
    let (Some(channel), Some(platform)) = (args.channel, args.platform) else {
        anyhow::bail!("--channel and --platform are needed");
    };
    if args.remove {
        let removed = publish::remove(data_dir, &channel, &platform)?;
        println!("Removed {} ({platform}) from {channel}.", removed.version);
        return Ok(());
    }
    let (Some(version), Some(file)) = (args.version, args.file) else {
        anyhow::bail!("--version and the build's file are needed");
    };
    let release = publish::Release { channel, platform, version, notes: args.notes, force: args.force, file };
    let published = publish::publish(data_dir, &release)?;
    println!(
        "Published Mocha Messenger {} for {} on {}: {} bytes, SHA-256 {}, at {}",
        published.version, release.platform, release.channel, published.size, published.sha256, published.url
    );
    Ok(())
}

async fn backup(data_dir: &Path, config: ServerConfig, file: &Path) -> anyhow::Result<()> {
    let info = mocha_server::backup::backup(data_dir, &config.database_url(data_dir), file).await?;
    println!(
        "Backed up {} to {} (schema {}, with {} files from keys/ and tls/). It holds the server's private keys: keep it as safe as the data folder.",
        data_dir.display(),
        file.display(),
        info.schema_version,
        info.files.len()
    );
    Ok(())
}

async fn restore(data_dir: &Path, config: ServerConfig, file: &Path) -> anyhow::Result<()> {
    let info = mocha_server::backup::restore(data_dir, &config.database_url(data_dir), file).await?;
    println!(
        "Restored {} into {}: the backup of {} by Mocha {} (schema {}), with {} files from keys/ and tls/.",
        file.display(),
        data_dir.display(),
        info.created_at,
        info.mocha_version,
        info.schema_version,
        info.files.len()
    );
    Ok(())
}

async fn run(data_dir: &Path, config: ServerConfig) -> anyhow::Result<()> {
    // With JSON logs, standard output is one JSON object a line for a log shipper:
    // the banner for people goes to standard error instead.
    let json = config.log_format == LogFormat::Json;
    let say = |line: String| if json { eprintln!("{line}") } else { println!("{line}") };
    // Redacted: a PostgreSQL password is never shown.
    let config_database = config.database_url(data_dir);
    let cluster = config
        .bus
        .as_ref()
        .map(|bus| format!("node {} on {bus} (prefix {})", config.node_id(), config.bus_prefix));
    let server = mocha_server::start(data_dir, config).await.context("Mocha could not start")?;
    say(format!("Mocha is running. Data folder: {}", data_dir.display()));
    say(format!("  Database                {config_database}"));
    if let Some(cluster) = cluster {
        say(format!("  Cluster                 {cluster}"));
    }
    // One line for each listener this node runs (a node may run only some roles).
    let listeners = [
        ("Passport and web pages", server.passport_addr.map(|addr| format!("https://{addr}"))),
        ("Notification Server", server.ns_addr.map(|addr| format!("{addr} (MENP/1 over TLS)"))),
        ("Switchboard", server.sb_addr.map(|addr| format!("{addr} (MENP/1 over TLS)"))),
        ("Media relay", server.relay_addr.map(|addr| format!("{addr} (UDP)"))),
        ("MSNP gateway", server.msnp_addr.map(|addr| format!("{addr} (classic MSN clients; UNENCRYPTED)"))),
        (
            "MSNP login",
            server.msnp_http_addr.map(|addr| format!("{addr} (Passport 1.4 over plain HTTP; UNENCRYPTED)")),
        ),
        ("MSNP switchboard", server.msnp_switchboard_addr.map(|addr| format!("{addr} (UNENCRYPTED)"))),
        ("Metrics", server.metrics_addr.map(|addr| format!("http://{addr}/metrics"))),
    ];
    for (name, shown) in listeners {
        if let Some(shown) = shown {
            say(format!("  {name:<24}{shown}"));
        }
    }
    say(format!("  Clients must trust the CA certificate at {}", server.ca_cert.display()));
    // Listening before saying so: until the first poll, Ctrl-C would still kill the
    // process outright instead of stopping it cleanly.
    let ctrl_c = tokio::signal::ctrl_c();
    tokio::pin!(ctrl_c);
    let early = tokio::select! {
        biased;
        stopped = &mut ctrl_c => Some(stopped),
        () = std::future::ready(()) => None,
    };
    say("Press Ctrl-C to stop.".to_string());
    match early {
        Some(stopped) => stopped,
        None => ctrl_c.await,
    }
    .context("cannot listen for Ctrl-C")?;
    say("Stopping…".to_string());
    server.shutdown().await;
    Ok(())
}

async fn admin(data_dir: &Path, config: ServerConfig, action: AdminAction) -> anyhow::Result<()> {
    let database = config.database_url(data_dir);
    if let Some(file) = database.sqlite_path() {
        anyhow::ensure!(
            file.exists(),
            "no Mocha database at {}: start the server once first",
            file.display()
        );
    }
    let key = mocha_auth::SigningKey::load_or_create(&mocha_server::layout::passport_key_in(
        &config.keys_dir(data_dir),
    ))?;
    let status = Default::default();
    let passport = mocha_passport::Passport::open(&database, key, config.passport(data_dir), status)
        .await
        .map_err(|e| anyhow::anyhow!("cannot open the database {database}: {}", e.operator_detail()))?;
    let (username, grant) = match &action {
        AdminAction::Grant { username } => (username, true),
        AdminAction::Revoke { username } => (username, false),
    };
    let account = passport
        .set_admin_by_username(username, grant)
        .await
        .with_context(|| format!("cannot change administrator access for {username}"))?;
    passport.close().await;
    let verb = if grant { "is now" } else { "is no longer" };
    println!("{} ({}) {verb} an administrator.", account.username, account.id);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_metrics_port_alone_listens_on_loopback() {
        assert_eq!(parse_metrics_bind("9100").unwrap(), SocketAddr::from(([127, 0, 0, 1], 9100)));
        assert_eq!(parse_metrics_bind("[::1]:9100").unwrap().to_string(), "[::1]:9100");
        assert!(parse_metrics_bind("localhost").is_err());
        assert_eq!(ServerConfig::default().metrics_bind, None, "off by default");
    }
}
