//! Server settings: built-in defaults, then `mocha.toml` in the data folder, then
//! `MOCHA_*` environment variables, then command-line flags — later wins.
//!
//! The file itself (its type, loader and checks) is [`file`]; this module turns it into
//! each service's own configuration.

mod file;

use std::path::{Path, PathBuf};
use std::time::Duration;

use mocha_net::ConnectionLimits;
use mocha_notification::NotificationConfig;
use mocha_notification::bus as names;
use mocha_passport::{DatabaseUrl, PassportConfig, RateLimit};
use mocha_switchboard::{RelayConfig, SwitchboardConfig};

use file::ServiceDefaults;
pub use file::{BusUrl, CONFIG_FILE, ConfigError, LogFormat, Role, ServerConfig};

/// What [`ServerConfig::default`] takes from the services' own defaults.
fn service_defaults() -> ServiceDefaults {
    let passport = PassportConfig::default();
    let notification = NotificationConfig::default();
    let switchboard = SwitchboardConfig::default();
    let relay = RelayConfig::default();
    ServiceDefaults {
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
        max_connections_per_address: notification.connections.max_per_address,
        max_participants: switchboard.max_participants,
        relay_max_packet: relay.max_packet,
        relay_packets_per_second: relay.packets_per_second,
        relay_workers: relay.workers,
        switchboard_messages_per_second: switchboard.messages_per_second,
        switchboard_message_burst: switchboard.message_burst,
        file_chunk_wait_seconds: switchboard.chunk_wait.as_secs(),
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
            chunk_wait: Duration::from_secs(self.file_chunk_wait_seconds),
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
        // A `?` in the password (unescaped) does not end what is hidden (fuzz/corpus/mocha_toml).
        std::fs::write(dir.path().join(CONFIG_FILE), "database = \"postgres://mocha:pw?in-file@db/mocha\"\n")
            .unwrap();
        let error = ServerConfig::from_data_dir(dir.path()).unwrap_err().to_string();
        assert!(error.contains("postgres://mocha:****@db/mocha") && !error.contains("in-file"), "{error}");

        // What is written of a SQLite path reads back the same, even one starting with `//`
        // (`sqlite://` is stripped on reading; fuzz/corpus/mocha_toml).
        for path in ["sqlite:////srv/mocha.db", "sqlite:///srv/mocha.db", "sqlite:mocha.db", "sqlite://x"] {
            std::fs::write(dir.path().join(CONFIG_FILE), format!("database = \"{path}\"\n")).unwrap();
            let config = ServerConfig::from_data_dir(dir.path()).unwrap();
            std::fs::write(dir.path().join(CONFIG_FILE), toml::to_string(&config).unwrap()).unwrap();
            assert_eq!(ServerConfig::from_data_dir(dir.path()).unwrap(), config, "{path}");
        }
        assert_eq!(
            DatabaseUrl::parse("sqlite:////srv/mocha.db").unwrap().sqlite_path(),
            Some(Path::new("//srv/mocha.db"))
        );

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

        // The file's bus is checked as --bus is, and its password stays hidden.
        std::fs::write(dir.path().join(CONFIG_FILE), "bus = \"http://mocha:pw-in-url@nats:4222\"\n").unwrap();
        let error = ServerConfig::from_data_dir(dir.path()).unwrap_err().to_string();
        assert!(error.contains("nats://host:4222") && !error.contains("pw-in-url"), "{error}");
        std::fs::write(dir.path().join(CONFIG_FILE), "bus = \"nats://mocha:pw-in-url@nats:4222\"\n").unwrap();
        let config = ServerConfig::from_data_dir(dir.path()).unwrap();
        assert_eq!(config.bus.as_ref().map(BusUrl::expose), Some("nats://mocha:pw-in-url@nats:4222"));
        assert!(toml::to_string(&config).unwrap().contains("bus = \"nats://mocha:pw-in-url@nats:4222\""));
    }

    #[test]
    fn default_password_cost_is_strong() {
        assert!(ServerConfig::default().pbkdf2_iterations >= 600_000);
        assert!(ServerConfig::default().validate().is_ok());
    }
}
