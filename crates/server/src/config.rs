//! Server settings: built-in defaults, then `mocha.toml` in the data folder, then
//! `MOCHA_*` environment variables, then command-line flags — later wins.

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use mocha_net::ConnectionLimits;
use mocha_notification::NotificationConfig;
use mocha_passport::{DatabaseUrl, PassportConfig, RateLimit};
use mocha_switchboard::{RelayConfig, SwitchboardConfig};
use serde::{Deserialize, Serialize};

/// Every setting, as it may appear in `mocha.toml`.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct ServerConfig {
    /// Where Passport's data lives: `sqlite:PATH` or `postgres://user[:password]@host/db`.
    /// Unset: the SQLite file `mocha.db` in the data folder. Shown only with any
    /// password hidden.
    pub database: Option<DatabaseUrl>,
    /// Address every service listens on.
    pub bind: IpAddr,
    /// The name clients use to reach this server; put in certificates and in switchboard addresses.
    pub public_host: String,
    pub passport_port: u16,
    pub notification_port: u16,
    pub switchboard_port: u16,
    /// Use this certificate chain and key instead of the generated development ones.
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    pub session_token_seconds: u64,
    pub refresh_token_days: u64,
    pub pbkdf2_iterations: u32,
    pub sign_in_attempts_per_account: u32,
    pub sign_in_account_window_seconds: u64,
    pub sign_in_attempts_per_address: u32,
    pub sign_in_address_window_seconds: u64,
    /// How long a switchboard ticket from `XFR` or `RNG` stays valid.
    pub ticket_seconds: u64,
    /// A Notification Server connection silent this long is signed out (`OUT TMO`).
    pub notification_idle_seconds: u64,
    /// A switchboard connection silent this long is closed.
    pub switchboard_idle_seconds: u64,
    /// A Notification Server connection not signed in (`USR`) this many seconds after
    /// its TLS handshake is closed, `PNG`s or not; the same for a switchboard
    /// connection that has not joined a conversation (`USR`/`ANS`).
    pub sign_in_seconds: u64,
    /// Open connections each service (Notification Server, Switchboard, HTTPS) keeps at
    /// most. Unset: derived from the open-file limit, which is split evenly between the
    /// three after [`RESERVED_FILES`], so a full Notification Server leaves HTTPS room.
    pub max_connections: Option<usize>,
    /// Open connections from one address (an IPv6 /64) to each service.
    pub max_connections_per_address: usize,
    /// The most people in one conversation.
    pub max_participants: usize,
    /// The most the database may grow to, in MiB; past it writes are refused with
    /// `507 storage_full` as on a full disk. 0: no cap but the disk's size.
    pub max_database_mib: u64,
    /// An HTTPS request's headers must arrive within this many seconds, and then its
    /// body within as many again; past either, the connection is closed.
    pub http_request_seconds: u64,

    // The calls' UDP media relay (docs/calls.md), advertised in `RLY` as `public_host:relay_port`.
    /// UDP port of the media relay; 0 lets the OS pick (tests).
    pub relay_port: u16,
    /// The largest datagram the relay forwards, in bytes (payload 1,200 + header and tag).
    pub relay_max_packet: usize,
    /// Each call member's packet rate through the relay (UDP and `MED` together).
    pub relay_packets_per_second: u32,
    /// Tasks receiving on the relay's socket at once (1–64).
    pub relay_workers: usize,

    // The switchboard's per-connection message rate (a token bucket). The defaults
    // protect real users; load tests raise them (`mocha-bench pair`).
    /// Chat messages (`MSG`) one switchboard connection may send per second, sustained.
    pub switchboard_messages_per_second: u32,
    /// How many messages it may send at once before that rate applies.
    pub switchboard_message_burst: u32,

    // The MSNP gateway for classic MSN clients (docs/msnp.md). Off unless a port is set;
    // MSNP is UNENCRYPTED: use it on a LAN, on loopback or behind a TLS tunnel.
    /// The gateway's Notification Server port (plain TCP); unset: no gateway.
    pub msnp_port: Option<u16>,
    /// The gateway's Switchboard port (plain TCP). Not built yet: setting it is refused.
    pub msnp_switchboard_port: Option<u16>,
    /// The Passport 1.4 nexus and login over plain HTTP, for classic clients (they are
    /// also served on Passport's HTTPS port whenever `msnp_port` is set).
    pub msnp_http_port: Option<u16>,
    /// Where Prometheus metrics are served (`GET /metrics`, plain HTTP, on a listener
    /// of its own). Unset: no metrics listener. Meant for a loopback address; see
    /// docs/operations.md before exposing it.
    pub metrics_bind: Option<SocketAddr>,
    /// How the log is written: `text` (one line a record, colour only at a terminal)
    /// or `json` (one JSON object a line).
    pub log_format: LogFormat,

    // A cluster of nodes on one PostgreSQL database and one NATS server (docs/cluster.md).
    /// What this node runs, of `passport`, `web`, `ns`, `sb` (default: all four). Fewer
    /// than four needs PostgreSQL and `bus`: the others are on other nodes.
    pub roles: Vec<Role>,
    /// This node's name in its cluster (letters, digits, `-`, `_`). Unset: the host name.
    pub node_id: Option<String>,
    /// The NATS server (with JetStream) joining this node to a cluster, `nats://host:4222`.
    /// Unset: a single node, no NATS. Needs `database` on PostgreSQL. Shown only with
    /// any password hidden.
    pub bus: Option<BusUrl>,
    /// What this cluster's NATS subjects and its directory bucket start with: one per
    /// cluster sharing a NATS server.
    pub bus_prefix: String,
    /// The folder holding the signing keys of Passport's session tokens and the
    /// Notification Server's switchboard tickets (the release key stays in the data
    /// folder). Every node of a cluster must read the same keys. Unset: `keys/` in the
    /// data folder.
    pub keys_dir: Option<PathBuf>,
}

/// One service a node can run (`--roles`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// The HTTPS API: accounts, sign-in, contacts, moderation.
    Passport,
    /// The websites, on Passport's HTTPS port.
    Web,
    /// The Notification Server (and the MSNP gateway, when on).
    Ns,
    /// The Switchboard and the calls' media relay.
    Sb,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Passport, Role::Web, Role::Ns, Role::Sb];
}

/// A NATS URL; `Debug` and `Display` hide any password in it.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct BusUrl(String);

impl BusUrl {
    pub fn parse(text: &str) -> Result<Self, ConfigError> {
        if !(text.starts_with("nats://") || text.starts_with("tls://")) || text.len() > 1024 {
            return Err(ConfigError::Invalid(
                "bus must be a NATS URL: nats://host:4222 (or tls://host:4222)".into(),
            ));
        }
        Ok(Self(text.to_string()))
    }

    /// The URL as given, password and all: only for connecting.
    pub fn expose(&self) -> &str {
        &self.0
    }

    fn redacted(&self) -> String {
        mocha_notification::bus::redact_url(&self.0)
    }
}

impl std::fmt::Debug for BusUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "BusUrl({})", self.redacted())
    }
}

impl std::fmt::Display for BusUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.redacted())
    }
}

/// This machine's host name as a node name (dots and anything else a NATS subject
/// cannot hold become `-`), or `node` if it has none.
pub fn default_node_id() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_default();
    let name: String = host
        .trim()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '-' })
        .take(64)
        .collect();
    if name.is_empty() { "node".to_string() } else { name }
}

/// The log's format (`--log-format`, `log_format`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

impl Default for ServerConfig {
    fn default() -> Self {
        let passport = PassportConfig::default();
        let notification = NotificationConfig::default();
        let switchboard = SwitchboardConfig::default();
        let relay = RelayConfig::default();
        Self {
            database: None,
            bind: IpAddr::from([127, 0, 0, 1]),
            public_host: "localhost".to_string(),
            passport_port: 8443,
            notification_port: 1863,
            switchboard_port: 1864,
            tls_cert: None,
            tls_key: None,
            session_token_seconds: passport.session_token_lifetime.as_secs(),
            refresh_token_days: passport.refresh_token_lifetime.as_secs() / 86_400,
            pbkdf2_iterations: passport.pbkdf2_iterations,
            sign_in_attempts_per_account: passport.sign_in_per_account.max_attempts,
            sign_in_account_window_seconds: passport.sign_in_per_account.window.as_secs(),
            sign_in_attempts_per_address: passport.sign_in_per_address.max_attempts,
            sign_in_address_window_seconds: passport.sign_in_per_address.window.as_secs(),
            ticket_seconds: notification.ticket_lifetime.as_secs(),
            notification_idle_seconds: notification.idle_timeout.as_secs(),
            switchboard_idle_seconds: switchboard.idle_timeout.as_secs(),
            sign_in_seconds: notification.sign_in_timeout.as_secs(),
            max_connections: None,
            max_connections_per_address: notification.connections.max_per_address,
            max_participants: switchboard.max_participants,
            max_database_mib: 0,
            http_request_seconds: 30,

            relay_port: 1865,
            relay_max_packet: relay.max_packet,
            relay_packets_per_second: relay.packets_per_second,
            relay_workers: relay.workers,
            switchboard_messages_per_second: switchboard.messages_per_second,
            switchboard_message_burst: switchboard.message_burst,

            msnp_port: None,
            msnp_switchboard_port: None,
            msnp_http_port: None,
            metrics_bind: None,
            log_format: LogFormat::Text,

            roles: Role::ALL.to_vec(),
            node_id: None,
            bus: None,
            bus_prefix: "mocha".to_string(),
            keys_dir: None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    /// Names the line but does not quote it: it may hold the database's password.
    #[error("{path} is not valid (line {line}): {message}")]
    Parse { path: PathBuf, line: usize, message: String },
    #[error("{0}")]
    Invalid(String),
}

pub const CONFIG_FILE: &str = "mocha.toml";

/// Open files kept back from connections when `max_connections` is derived: the
/// database and its WAL and shared-memory files, keys, certificates, the listeners,
/// the blocking pool's files, standard streams.
pub const RESERVED_FILES: u64 = 128;
/// Services that take connections (NS, SB, HTTPS), each with its own cap.
pub const SERVICES: u64 = 3;
/// A derived cap never goes above this (memory, not files, is the limit there); set
/// `max_connections` for more.
pub const MOST_DERIVED_CONNECTIONS: usize = 100_000;
/// Nor below this, so a tiny open-file limit still serves a few people.
pub const FEWEST_DERIVED_CONNECTIONS: usize = 16;

/// The per-service cap for an open-file limit of `open_files`.
pub fn derived_max_connections(open_files: u64) -> usize {
    let share = open_files.saturating_sub(RESERVED_FILES) / SERVICES;
    usize::try_from(share).unwrap_or(usize::MAX).clamp(FEWEST_DERIVED_CONNECTIONS, MOST_DERIVED_CONNECTIONS)
}

/// This process's soft open-file limit (what it may open now), if it has one.
pub fn open_file_limit() -> Option<u64> {
    #[cfg(unix)]
    {
        rlimit::Resource::NOFILE.get().ok().map(|(soft, _)| soft)
    }
    #[cfg(not(unix))]
    {
        None
    }
}

impl ServerConfig {
    /// Reads `mocha.toml` from the data folder if there is one, else the defaults.
    pub fn from_data_dir(data_dir: &Path) -> Result<Self, ConfigError> {
        let path = data_dir.join(CONFIG_FILE);
        match std::fs::read_to_string(&path) {
            Ok(text) => toml::from_str(&text).map_err(|error: toml::de::Error| {
                let before = error.span().and_then(|span| text.get(..span.start)).unwrap_or("");
                let line = before.matches('\n').count() + 1;
                ConfigError::Parse { path, line, message: error.message().trim().to_string() }
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Self::default()),
            Err(source) => Err(ConfigError::Read { path, source }),
        }
    }

    /// For tests and tools that start a throwaway server: every port picked by the OS
    /// and a cheaper (still salted) password hash. Never for a real server.
    pub fn for_tests() -> Self {
        Self {
            passport_port: 0,
            notification_port: 0,
            switchboard_port: 0,
            relay_port: 0,
            pbkdf2_iterations: 10_000,
            ..Self::default()
        }
    }

    pub fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |m: &str| Err(ConfigError::Invalid(m.to_string()));
        if self.pbkdf2_iterations < 100_000 && self.pbkdf2_iterations != 0 && !cfg!(debug_assertions) {
            tracing::warn!(
                iterations = self.pbkdf2_iterations,
                "PBKDF2 iterations are below 100,000: passwords are weakly protected"
            );
        }
        if self.pbkdf2_iterations == 0 {
            return invalid("pbkdf2_iterations must be at least 1");
        }
        if self.session_token_seconds == 0 || self.refresh_token_days == 0 {
            return invalid("token lifetimes must be positive");
        }
        if self.sign_in_attempts_per_account == 0 || self.sign_in_attempts_per_address == 0 {
            return invalid("sign-in attempt limits must be at least 1");
        }
        if self.ticket_seconds == 0 {
            return invalid("ticket_seconds must be positive");
        }
        if self.notification_idle_seconds < 10 || self.switchboard_idle_seconds < 10 {
            return invalid("idle timeouts must be at least 10 seconds (clients ping at half of it)");
        }
        if !(1..=300).contains(&self.sign_in_seconds) {
            return invalid("sign_in_seconds must be between 1 and 300");
        }
        if self.max_connections == Some(0) || self.max_connections_per_address == 0 {
            return invalid("max_connections and max_connections_per_address must be at least 1");
        }
        if !(2..=100).contains(&self.max_participants) {
            return invalid("max_participants must be between 2 and 100");
        }
        if !(1..=3600).contains(&self.http_request_seconds) {
            return invalid("http_request_seconds must be between 1 and 3600");
        }
        if !(256..=65_507).contains(&self.relay_max_packet) {
            return invalid("relay_max_packet must be between 256 and 65507 bytes");
        }
        if !(1..=100_000).contains(&self.relay_packets_per_second) {
            return invalid("relay_packets_per_second must be between 1 and 100000");
        }
        if !(1..=64).contains(&self.relay_workers) {
            return invalid("relay_workers must be between 1 and 64");
        }
        if self.switchboard_messages_per_second == 0 || self.switchboard_message_burst == 0 {
            return invalid(
                "switchboard_messages_per_second and switchboard_message_burst must be at least 1",
            );
        }
        if self.msnp_switchboard_port.is_some() && self.msnp_port.is_none() {
            return invalid("msnp_switchboard_port is the MSNP gateway's switchboard: set msnp_port too");
        }
        if self.msnp_http_port.is_some() && self.msnp_port.is_none() {
            return invalid("msnp_http_port serves the MSNP gateway's login: set msnp_port too");
        }
        if self.tls_cert.is_some() != self.tls_key.is_some() {
            return invalid("tls_cert and tls_key go together: set both or neither");
        }
        self.validate_cluster()?;
        if self.max_database_mib > 0 && matches!(self.database, Some(DatabaseUrl::Postgres(_))) {
            return invalid(
                "max_database_mib caps a SQLite file; PostgreSQL's size is set on its own server",
            );
        }
        Ok(())
    }

    /// Roles, node name and bus: a cluster, and so a node running only some roles, needs PostgreSQL.
    fn validate_cluster(&self) -> Result<(), ConfigError> {
        let invalid = |m: &str| Err(ConfigError::Invalid(m.to_string()));
        let on_sqlite = !matches!(self.database, Some(DatabaseUrl::Postgres(_)));
        let split = Role::ALL.iter().any(|role| !self.roles.contains(role));
        if self.roles.is_empty() {
            return invalid("roles: name at least one of passport, web, ns, sb");
        }
        if split && on_sqlite {
            return invalid(
                "roles: a node running only some roles shares its data with the others, which SQLite \
                 cannot do: use --database postgres://… and --bus nats://… (docs/cluster.md)",
            );
        }
        if split && self.bus.is_none() {
            return invalid(
                "roles: a node running only some roles needs the others in its cluster: \
                 set --bus nats://… (docs/cluster.md)",
            );
        }
        if self.bus.is_some() && on_sqlite {
            return invalid(
                "bus: the nodes of a cluster must share one PostgreSQL database (--database postgres://…); \
                 on SQLite each node would have accounts of its own",
            );
        }
        if !mocha_notification::bus::is_valid_name(&self.bus_prefix) {
            return invalid("bus_prefix: letters, digits, - and _ only (at most 64)");
        }
        if self.node_id.as_deref().is_some_and(|node| !mocha_notification::bus::is_valid_name(node)) {
            return invalid("node_id: letters, digits, - and _ only (at most 64)");
        }
        Ok(())
    }

    /// Whether this node runs `role`.
    pub fn runs(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    /// This node's name in its cluster.
    pub fn node_id(&self) -> String {
        self.node_id.clone().unwrap_or_else(default_node_id)
    }

    /// Where the signing keys are: `keys_dir`, or `keys/` in the data folder.
    pub fn keys_dir(&self, data_dir: &Path) -> PathBuf {
        self.keys_dir.clone().unwrap_or_else(|| crate::layout::keys_dir(data_dir))
    }

    /// The database to open: `database`, or the data folder's SQLite file.
    pub fn database_url(&self, data_dir: &Path) -> DatabaseUrl {
        self.database.clone().unwrap_or_else(|| DatabaseUrl::sqlite(crate::layout::database(data_dir)))
    }

    pub fn passport(&self, data_dir: &Path) -> PassportConfig {
        PassportConfig {
            session_token_lifetime: Duration::from_secs(self.session_token_seconds),
            refresh_token_lifetime: Duration::from_secs(self.refresh_token_days * 86_400),
            pbkdf2_iterations: self.pbkdf2_iterations,
            sign_in_per_account: RateLimit {
                max_attempts: self.sign_in_attempts_per_account,
                window: Duration::from_secs(self.sign_in_account_window_seconds),
            },
            sign_in_per_address: RateLimit {
                max_attempts: self.sign_in_attempts_per_address,
                window: Duration::from_secs(self.sign_in_address_window_seconds),
            },
            updates_manifest: data_dir.join("updates.json"),
            max_database_bytes: (self.max_database_mib > 0)
                .then(|| self.max_database_mib.saturating_mul(1024 * 1024)),
        }
    }

    /// The caps each service gets: `max_connections`, or the share of this process's
    /// open-file limit (see [`derived_max_connections`]).
    pub fn connection_limits(&self) -> ConnectionLimits {
        let fallback =
            || open_file_limit().map_or(ConnectionLimits::default().max_connections, derived_max_connections);
        ConnectionLimits {
            max_connections: self.max_connections.unwrap_or_else(fallback),
            max_per_address: self.max_connections_per_address,
        }
    }

    /// The Notification Server's settings; `advertised` and `switchboard` are the
    /// `host:port`s clients use.
    pub fn notification(&self, advertised: String, switchboard: String) -> NotificationConfig {
        NotificationConfig {
            advertised_address: advertised,
            switchboard_address: switchboard,
            ticket_lifetime: Duration::from_secs(self.ticket_seconds),
            idle_timeout: Duration::from_secs(self.notification_idle_seconds),
            sign_in_timeout: Duration::from_secs(self.sign_in_seconds),
            connections: self.connection_limits(),
            ..NotificationConfig::default()
        }
    }

    /// The MSNP gateway's settings (the same limits as the Notification Server's);
    /// `switchboard` is the `host:port` of its switchboard, when that is on.
    pub fn msnp(&self, switchboard: Option<String>) -> mocha_msnp::MsnpConfig {
        let ns = NotificationConfig::default();
        mocha_msnp::MsnpConfig {
            public_host: self.public_host.clone(),
            idle_timeout: Duration::from_secs(self.notification_idle_seconds),
            sign_in_timeout: Duration::from_secs(self.sign_in_seconds),
            connections: self.connection_limits(),
            outbound_queue: ns.outbound_queue,
            command_burst: ns.command_burst,
            commands_per_second: ns.commands_per_second,
            limits: ns.limits,
            switchboard_address: switchboard,
        }
    }

    /// How long a client may take to send one HTTPS request.
    pub fn http_request_time(&self) -> Duration {
        Duration::from_secs(self.http_request_seconds)
    }

    /// The media relay's limits: a burst of half a second's packets (a video keyframe).
    pub fn relay(&self) -> RelayConfig {
        RelayConfig {
            max_packet: self.relay_max_packet,
            packets_per_second: self.relay_packets_per_second,
            burst: (self.relay_packets_per_second / 2).max(16),
            workers: self.relay_workers,
            ..RelayConfig::default()
        }
    }

    pub fn switchboard(&self) -> SwitchboardConfig {
        SwitchboardConfig {
            idle_timeout: Duration::from_secs(self.switchboard_idle_seconds),
            join_timeout: Duration::from_secs(self.sign_in_seconds),
            connections: self.connection_limits(),
            max_participants: self.max_participants,
            messages_per_second: self.switchboard_messages_per_second,
            message_burst: self.switchboard_message_burst,
            ..SwitchboardConfig::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_values_override_defaults_and_typos_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(ServerConfig::from_data_dir(dir.path()).unwrap(), ServerConfig::default());
        std::fs::write(
            dir.path().join(CONFIG_FILE),
            "passport_port = 9443\npublic_host = \"chat.example.org\"\n",
        )
        .unwrap();
        let config = ServerConfig::from_data_dir(dir.path()).unwrap();
        assert_eq!(config.passport_port, 9443);
        assert_eq!(config.public_host, "chat.example.org");
        assert_eq!(config.notification_port, 1863);

        std::fs::write(dir.path().join(CONFIG_FILE), "pasport_port = 1\n").unwrap();
        let error = ServerConfig::from_data_dir(dir.path()).unwrap_err().to_string();
        assert!(error.contains("pasport_port"), "{error}");
    }

    #[test]
    fn conversation_settings_reach_the_notification_server_and_switchboard() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join(CONFIG_FILE),
            "ticket_seconds = 30\nnotification_idle_seconds = 60\nswitchboard_idle_seconds = 600\nmax_participants = 5\n",
        )
        .unwrap();
        let config = ServerConfig::from_data_dir(dir.path()).unwrap();
        assert!(config.validate().is_ok());
        let ns = config.notification("chat:1863".into(), "chat:1864".into());
        assert_eq!((ns.ticket_lifetime, ns.idle_timeout), (Duration::from_secs(30), Duration::from_secs(60)));
        assert_eq!(ns.switchboard_address, "chat:1864");
        let sb = config.switchboard();
        assert_eq!((sb.idle_timeout, sb.max_participants), (Duration::from_secs(600), 5));
        assert_eq!((sb.messages_per_second, sb.message_burst), (20, 40), "the default rate protects users");

        for bad in [
            ServerConfig { ticket_seconds: 0, ..ServerConfig::default() },
            ServerConfig { notification_idle_seconds: 5, ..ServerConfig::default() },
            ServerConfig { max_participants: 1, ..ServerConfig::default() },
            ServerConfig { http_request_seconds: 0, ..ServerConfig::default() },
        ] {
            assert!(matches!(bad.validate(), Err(ConfigError::Invalid(_))), "{bad:?}");
        }
    }

    #[test]
    fn connection_caps_come_from_the_file_or_from_the_open_file_limit() {
        // 1,024 open files: 128 kept back, the rest split between NS, SB and HTTPS.
        assert_eq!(derived_max_connections(1024), 298);
        assert_eq!(derived_max_connections(20_000), 6_624);
        assert_eq!(derived_max_connections(64), FEWEST_DERIVED_CONNECTIONS);
        assert_eq!(derived_max_connections(u64::MAX), MOST_DERIVED_CONNECTIONS);
        let three_full_services = 3 * derived_max_connections(1024) as u64 + RESERVED_FILES;
        assert!(three_full_services <= 1024, "{three_full_services}");

        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join(CONFIG_FILE),
            "max_connections = 500\nmax_connections_per_address = 7\nsign_in_seconds = 5\n",
        )
        .unwrap();
        let config = ServerConfig::from_data_dir(dir.path()).unwrap();
        assert!(config.validate().is_ok());
        let ns = config.notification("chat:1863".into(), "chat:1864".into());
        assert_eq!(ns.connections, ConnectionLimits { max_connections: 500, max_per_address: 7 });
        assert_eq!(ns.sign_in_timeout, Duration::from_secs(5));
        let sb = config.switchboard();
        assert_eq!((sb.connections.max_connections, sb.join_timeout), (500, Duration::from_secs(5)));

        let derived = ServerConfig::default().connection_limits().max_connections;
        assert_eq!(derived, open_file_limit().map_or(10_000, derived_max_connections));

        for bad in [
            ServerConfig { max_connections: Some(0), ..ServerConfig::default() },
            ServerConfig { max_connections_per_address: 0, ..ServerConfig::default() },
            ServerConfig { sign_in_seconds: 0, ..ServerConfig::default() },
        ] {
            assert!(matches!(bad.validate(), Err(ConfigError::Invalid(_))), "{bad:?}");
        }
    }

    #[test]
    fn relay_settings_come_from_the_file_and_are_checked() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join(CONFIG_FILE),
            "relay_port = 3478\nrelay_max_packet = 1400\nrelay_packets_per_second = 800\n",
        )
        .unwrap();
        let config = ServerConfig::from_data_dir(dir.path()).unwrap();
        assert!(config.validate().is_ok());
        assert_eq!(config.relay_port, 3478);
        let relay = config.relay();
        assert_eq!((relay.max_packet, relay.packets_per_second, relay.burst), (1400, 800, 400));
        assert_eq!(ServerConfig::default().relay_port, 1865);
        assert_eq!(ServerConfig::default().relay().max_packet, 1280);
        assert_eq!(ServerConfig::for_tests().relay_port, 0);
        for bad in [
            ServerConfig { relay_max_packet: 100, ..ServerConfig::default() },
            ServerConfig { relay_max_packet: 70_000, ..ServerConfig::default() },
            ServerConfig { relay_packets_per_second: 0, ..ServerConfig::default() },
            ServerConfig { relay_workers: 0, ..ServerConfig::default() },
            ServerConfig { switchboard_messages_per_second: 0, ..ServerConfig::default() },
            ServerConfig { switchboard_message_burst: 0, ..ServerConfig::default() },
        ] {
            assert!(matches!(bad.validate(), Err(ConfigError::Invalid(_))), "{bad:?}");
        }
    }

    #[test]
    fn the_switchboard_message_rate_is_a_setting() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join(CONFIG_FILE),
            "switchboard_messages_per_second = 100000\nswitchboard_message_burst = 5000\n",
        )
        .unwrap();
        let config = ServerConfig::from_data_dir(dir.path()).unwrap();
        assert!(config.validate().is_ok());
        let sb = config.switchboard();
        assert_eq!((sb.messages_per_second, sb.message_burst), (100_000, 5000));
    }

    #[test]
    fn the_database_is_the_data_folders_file_unless_a_url_is_given() {
        let dir = tempfile::tempdir().unwrap();
        let config = ServerConfig::from_data_dir(dir.path()).unwrap();
        assert_eq!(config.database_url(dir.path()), DatabaseUrl::sqlite(dir.path().join("mocha.db")));

        std::fs::write(
            dir.path().join(CONFIG_FILE),
            "database = \"postgres://mocha:pw-in-file@db.internal/mocha\"\n",
        )
        .unwrap();
        let config = ServerConfig::from_data_dir(dir.path()).unwrap();
        assert!(config.validate().is_ok());
        let url = config.database_url(dir.path());
        assert_eq!(url.engine(), "PostgreSQL");
        assert!(!format!("{config:?}").contains("pw-in-file"), "the settings never show the password");
        assert_eq!(url.to_string(), "postgres://mocha:****@db.internal/mocha");

        std::fs::write(dir.path().join(CONFIG_FILE), "database = \"mysql://root:pw-in-file@db/mocha\"\n")
            .unwrap();
        let error = ServerConfig::from_data_dir(dir.path()).unwrap_err().to_string();
        assert!(error.contains("postgres://") && !error.contains("pw-in-file"), "{error}");

        let capped = ServerConfig { max_database_mib: 10, database: Some(url), ..ServerConfig::default() };
        assert!(matches!(capped.validate(), Err(ConfigError::Invalid(_))));
    }

    #[test]
    fn the_msnp_gateway_is_off_unless_a_port_is_set() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(ServerConfig::default().msnp_port, None);
        std::fs::write(
            dir.path().join(CONFIG_FILE),
            "msnp_port = 1863\nmsnp_http_port = 8080\nmsnp_switchboard_port = 1865\n",
        )
        .unwrap();
        let config = ServerConfig::from_data_dir(dir.path()).unwrap();
        assert!(config.validate().is_ok());
        assert_eq!((config.msnp_port, config.msnp_http_port), (Some(1863), Some(8080)));
        assert_eq!(config.msnp_switchboard_port, Some(1865));
        assert_eq!(config.msnp(None).public_host, "localhost");
        for bad in [
            ServerConfig { msnp_http_port: Some(8080), ..ServerConfig::default() },
            ServerConfig { msnp_switchboard_port: Some(2), ..ServerConfig::default() },
        ] {
            assert!(matches!(bad.validate(), Err(ConfigError::Invalid(_))), "{bad:?}");
        }
    }

    #[test]
    fn a_cluster_needs_postgresql_and_split_roles_need_a_cluster() {
        let postgres = Some(DatabaseUrl::parse("postgres://mocha@db.internal/mocha").unwrap());
        let bus = Some(BusUrl::parse("nats://mocha:pw-in-url@nats.internal:4222").unwrap());
        let cluster =
            ServerConfig { database: postgres.clone(), bus: bus.clone(), ..ServerConfig::default() };
        assert!(cluster.validate().is_ok());
        assert!(!format!("{cluster:?}").contains("pw-in-url"), "the bus URL's password is never shown");
        assert_eq!(bus.as_ref().unwrap().to_string(), "nats://mocha:****@nats.internal:4222");
        assert_eq!(ServerConfig::default().roles, Role::ALL);

        let refused = |config: ServerConfig| match config.validate() {
            Err(ConfigError::Invalid(message)) => message,
            other => panic!("{config:?} was not refused: {other:?}"),
        };
        let on_sqlite = refused(ServerConfig { bus: bus.clone(), ..ServerConfig::default() });
        assert!(on_sqlite.contains("PostgreSQL"), "{on_sqlite}");
        let split = vec![Role::Ns, Role::Sb];
        let split_on_sqlite = refused(ServerConfig { roles: split.clone(), ..ServerConfig::default() });
        assert!(split_on_sqlite.contains("SQLite"), "{split_on_sqlite}");
        let split_on_sqlite_with_bus =
            refused(ServerConfig { roles: split.clone(), bus: bus.clone(), ..ServerConfig::default() });
        assert!(split_on_sqlite_with_bus.contains("SQLite"), "{split_on_sqlite_with_bus}");
        let split_without_bus = refused(ServerConfig { roles: split.clone(), bus: None, ..cluster.clone() });
        assert!(split_without_bus.contains("--bus"), "{split_without_bus}");
        for roles in [vec![Role::Passport, Role::Web], vec![Role::Ns], vec![Role::Sb], split] {
            let node = ServerConfig { roles: roles.clone(), ..cluster.clone() };
            assert!(node.validate().is_ok(), "{roles:?} on PostgreSQL with a bus");
            assert!(roles.iter().all(|role| node.runs(*role)));
        }
        refused(ServerConfig { node_id: Some("node.one".into()), ..cluster.clone() });
        refused(ServerConfig { bus_prefix: "a b".into(), ..cluster.clone() });
        refused(ServerConfig { roles: Vec::new(), ..cluster });
        assert!(BusUrl::parse("http://nats:4222").is_err());
        assert!(mocha_notification::bus::is_valid_name(&default_node_id()));

        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join(CONFIG_FILE),
            "roles = [\"passport\", \"web\", \"ns\", \"sb\"]\nnode_id = \"n1\"\nbus_prefix = \"prod\"\nkeys_dir = \"/srv/keys\"\n",
        )
        .unwrap();
        let config = ServerConfig::from_data_dir(dir.path()).unwrap();
        assert_eq!((config.node_id(), config.bus_prefix.as_str()), ("n1".to_string(), "prod"));
        assert_eq!(config.keys_dir(dir.path()), PathBuf::from("/srv/keys"));
        std::fs::write(dir.path().join(CONFIG_FILE), "roles = [\"ns\", \"sb\"]\n").unwrap();
        assert_eq!(ServerConfig::from_data_dir(dir.path()).unwrap().roles, [Role::Ns, Role::Sb]);
        assert_eq!(ServerConfig::default().keys_dir(dir.path()), dir.path().join("keys"));
    }

    #[test]
    fn default_password_cost_is_strong() {
        assert!(ServerConfig::default().pbkdf2_iterations >= 600_000);
        assert!(ServerConfig::default().validate().is_ok());
    }
}
