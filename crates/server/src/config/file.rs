//! `mocha.toml` itself: the type of the file, its loader and its checks.
//!
//! This file names nothing of the services it configures (their types are the parent
//! module's business: `passport()`, `notification()`, `switchboard()` …). From the parent
//! it takes only [`DatabaseUrl`] (Passport's `store/url.rs`, which needs serde, thiserror
//! and sqlx's URL check behind `store/postgres.rs`), the services' default values (`service_defaults`) and two name helpers
//! (`names`: `is_valid_name`, `redact_url`). That keeps it light enough for the
//! `mocha_toml` fuzz target (`fuzz/`), which compiles it from this source with those
//! files and a stand-in for the default values.

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::DatabaseUrl;
use super::names::{is_valid_name, redact_url};

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
    /// three after `RESERVED_FILES`, so a full Notification Server leaves HTTPS room.
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
    /// How long a file chunk may wait for a receiver who is not reading before the
    /// transfer is cancelled (both sides are told).
    pub file_chunk_wait_seconds: u64,

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

/// A NATS URL; `Debug` and `Display` hide any password in it. `mocha.toml`'s `bus` is
/// checked by [`BusUrl::parse`] as `--bus` is.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub struct BusUrl(String);

impl TryFrom<String> for BusUrl {
    type Error = ConfigError;

    fn try_from(text: String) -> Result<Self, ConfigError> {
        Self::parse(&text)
    }
}

impl From<BusUrl> for String {
    fn from(url: BusUrl) -> String {
        url.0
    }
}

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
        redact_url(&self.0)
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

/// The log's format (`--log-format`, `log_format`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

/// The services' own defaults that [`ServerConfig::default`] starts from, in the file's
/// units. The parent module reads them off Passport's, the Notification Server's and the
/// Switchboard's configuration types (`super::service_defaults`), which this file does
/// not name, so that the `mocha_toml` fuzz target can compile it alone.
pub struct ServiceDefaults {
    pub session_token_seconds: u64,
    pub refresh_token_days: u64,
    pub pbkdf2_iterations: u32,
    pub sign_in_attempts_per_account: u32,
    pub sign_in_account_window_seconds: u64,
    pub sign_in_attempts_per_address: u32,
    pub sign_in_address_window_seconds: u64,
    pub ticket_seconds: u64,
    pub notification_idle_seconds: u64,
    pub switchboard_idle_seconds: u64,
    pub sign_in_seconds: u64,
    pub max_connections_per_address: usize,
    pub max_participants: usize,
    pub relay_max_packet: usize,
    pub relay_packets_per_second: u32,
    pub relay_workers: usize,
    pub switchboard_messages_per_second: u32,
    pub switchboard_message_burst: u32,
    pub file_chunk_wait_seconds: u64,
}

impl Default for ServerConfig {
    fn default() -> Self {
        let services = super::service_defaults();
        Self {
            database: None,
            bind: IpAddr::from([127, 0, 0, 1]),
            public_host: "localhost".to_string(),
            passport_port: 8443,
            notification_port: 1863,
            switchboard_port: 1864,
            tls_cert: None,
            tls_key: None,
            session_token_seconds: services.session_token_seconds,
            refresh_token_days: services.refresh_token_days,
            pbkdf2_iterations: services.pbkdf2_iterations,
            sign_in_attempts_per_account: services.sign_in_attempts_per_account,
            sign_in_account_window_seconds: services.sign_in_account_window_seconds,
            sign_in_attempts_per_address: services.sign_in_attempts_per_address,
            sign_in_address_window_seconds: services.sign_in_address_window_seconds,
            ticket_seconds: services.ticket_seconds,
            notification_idle_seconds: services.notification_idle_seconds,
            switchboard_idle_seconds: services.switchboard_idle_seconds,
            sign_in_seconds: services.sign_in_seconds,
            max_connections: None,
            max_connections_per_address: services.max_connections_per_address,
            max_participants: services.max_participants,
            max_database_mib: 0,
            http_request_seconds: 30,

            relay_port: 1865,
            relay_max_packet: services.relay_max_packet,
            relay_packets_per_second: services.relay_packets_per_second,
            relay_workers: services.relay_workers,
            switchboard_messages_per_second: services.switchboard_messages_per_second,
            switchboard_message_burst: services.switchboard_message_burst,
            file_chunk_wait_seconds: services.file_chunk_wait_seconds,

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
        if !(1..=600).contains(&self.file_chunk_wait_seconds) {
            return invalid("file_chunk_wait_seconds must be between 1 and 600");
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
        if !is_valid_name(&self.bus_prefix) {
            return invalid("bus_prefix: letters, digits, - and _ only (at most 64)");
        }
        if self.node_id.as_deref().is_some_and(|node| !is_valid_name(node)) {
            return invalid("node_id: letters, digits, - and _ only (at most 64)");
        }
        Ok(())
    }

    /// Whether this node runs `role`.
    pub fn runs(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }
}
