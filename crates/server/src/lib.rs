//! The `mocha-server` library: everything needed to run the Mocha network in one
//! process. `main.rs` only parses flags and calls [`start`]; tests call it too.

pub mod backup;
mod cluster_status;
pub mod config;
mod files;
mod https;
pub mod logging;
pub mod metrics_listener;
pub mod publish;
mod request_body;
mod ring;
pub mod tls;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use mocha_auth::SigningKey;
use mocha_notification::{Bus, ClusterConfig, NatsBus, NodeCard, NotificationServer};
use mocha_passport::{DatabaseClaim, DatabaseUrl, Passport, PassportError, StatusBoard};
use mocha_switchboard::{Relay, Switchboard};
use tokio::net::TcpListener;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

pub use config::{ConfigError, Role, ServerConfig};
pub use files::{DataDirLock, LOCK_FILE, LockError, OpenFileLimit, lock_data_dir, raise_open_file_limit};

/// Files inside the data folder.
pub mod layout {
    use std::path::{Path, PathBuf};

    pub fn database(data_dir: &Path) -> PathBuf {
        data_dir.join("mocha.db")
    }
    pub fn tls_dir(data_dir: &Path) -> PathBuf {
        data_dir.join("tls")
    }
    /// Passport's key, in a keys folder (`keys_dir`, by default the data folder's `keys/`).
    pub fn passport_key_in(keys_dir: &Path) -> PathBuf {
        keys_dir.join("passport-ed25519.seed")
    }
    /// The Notification Server's switchboard-ticket key, in a keys folder.
    pub fn notification_key_in(keys_dir: &Path) -> PathBuf {
        keys_dir.join("notification-ed25519.seed")
    }
    pub fn passport_key(data_dir: &Path) -> PathBuf {
        passport_key_in(&keys_dir(data_dir))
    }
    pub fn notification_key(data_dir: &Path) -> PathBuf {
        notification_key_in(&keys_dir(data_dir))
    }
    pub fn keys_dir(data_dir: &Path) -> PathBuf {
        data_dir.join("keys")
    }
    pub fn updates_manifest(data_dir: &Path) -> PathBuf {
        data_dir.join("updates.json")
    }
    /// Published client builds, `downloads/CHANNEL/PLATFORM/FILE`.
    pub fn downloads_dir(data_dir: &Path) -> PathBuf {
        data_dir.join("downloads")
    }
    /// Signs published builds; clients pin its public half.
    pub fn release_key(data_dir: &Path) -> PathBuf {
        data_dir.join("keys").join("release-ed25519.seed")
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot create the data folder {path}: {source}")]
    DataDir { path: PathBuf, source: std::io::Error },
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// Another server (or a `restore`) has the data folder.
    #[error(transparent)]
    Locked(#[from] LockError),
    #[error(transparent)]
    Tls(#[from] tls::TlsError),
    #[error(transparent)]
    Key(#[from] mocha_auth::KeyError),
    #[error("cannot open the database: {}", .0.operator_detail())]
    Passport(#[from] PassportError),
    #[error(transparent)]
    Metrics(#[from] metrics_listener::MetricsError),
    /// Another node runs on this PostgreSQL database and one of the two is not in a
    /// cluster: two lone nodes on one database would each keep presence to themselves.
    #[error("{}", if *.cluster {
        "a Mocha node without --bus is running on this PostgreSQL database: stop it, or start it with the same --bus as this one (docs/cluster.md)"
    } else {
        "another Mocha node is running on this PostgreSQL database: nodes sharing a database must form a cluster, --bus nats://… on every one (docs/cluster.md)"
    })]
    DatabaseInUse { cluster: bool },
    /// The cluster's NATS server could not be joined.
    #[error("cannot join the cluster: {0}")]
    Bus(#[from] mocha_notification::BusError),
    #[error("cannot listen on {addr}: {source}")]
    Bind { addr: SocketAddr, source: std::io::Error },
    #[error("cannot write {path}: {source}")]
    Write { path: PathBuf, source: std::io::Error },
    /// The data folder's filesystem has no room (or the database reached `max_database_mib`).
    #[error(
        "the disk holding the data folder {path} is full ({detail}); free some space (or raise max_database_mib) and start again"
    )]
    DiskFull { path: PathBuf, detail: String },
}

impl StartError {
    /// A start-up that failed for want of room says so, naming the data folder,
    /// whichever step ran out of it. (A PostgreSQL server's full disk is its own:
    /// that error names the server instead.)
    fn or_disk_full(self, data_dir: &Path, database: &DatabaseUrl) -> Self {
        use std::io::ErrorKind::{QuotaExceeded, StorageFull};
        let io = match &self {
            StartError::DataDir { source, .. } | StartError::Write { source, .. } => Some(source),
            StartError::Tls(tls::TlsError::Io { source, .. }) => Some(source),
            StartError::Key(mocha_auth::KeyError::Io { source, .. }) => Some(source),
            StartError::Locked(LockError::Io { source, .. }) => Some(source),
            _ => None,
        };
        let full = match &self {
            StartError::Passport(PassportError::StorageFull(_)) => database.sqlite_path().is_some(),
            _ => io.is_some_and(|e| matches!(e.kind(), StorageFull | QuotaExceeded)),
        };
        if !full {
            return self;
        }
        let detail = match self {
            StartError::Passport(PassportError::StorageFull(detail)) => detail,
            other => other.to_string(),
        };
        StartError::DiskFull { path: data_dir.to_path_buf(), detail }
    }
}

/// A running network. Drop it or call [`RunningServer::shutdown`] to stop.
pub struct RunningServer {
    /// Where Passport's API and the web pages listen (HTTPS): roles `passport` or `web`.
    pub passport_addr: Option<SocketAddr>,
    /// Where the Notification Server listens (MENP/1 over TLS): role `ns`.
    pub ns_addr: Option<SocketAddr>,
    /// Where the Switchboard listens (MENP/1 over TLS): role `sb`.
    pub sb_addr: Option<SocketAddr>,
    /// Where the calls' media relay listens (UDP): role `sb`.
    pub relay_addr: Option<SocketAddr>,
    /// Where the MSNP gateway's Notification Server listens (plain TCP), when on.
    pub msnp_addr: Option<SocketAddr>,
    /// Where the MSNP gateway's Passport 1.4 nexus and login listen (plain HTTP), when on.
    pub msnp_http_addr: Option<SocketAddr>,
    /// Where the MSNP gateway's switchboard listens (plain TCP), when on.
    pub msnp_switchboard_addr: Option<SocketAddr>,
    /// The CA that clients must trust (the development CA, or the operator's chain).
    pub ca_cert: PathBuf,
    /// Where `/metrics` is served, when `metrics_bind` is set.
    pub metrics_addr: Option<SocketAddr>,
    pub passport: Arc<Passport>,
    pub notification: Arc<NotificationServer>,
    /// Role `sb`: this node's switchboard.
    pub switchboard: Option<Arc<Switchboard>>,
    shutdown: CancellationToken,
    tasks: JoinSet<()>,
    /// This node's claim on a shared database (dropped with the server at the latest).
    claim: Option<DatabaseClaim>,
    /// Released last, when the server is gone.
    _lock: DataDirLock,
}

impl RunningServer {
    /// Stops accepting, lets open requests finish briefly, closes the database.
    pub async fn shutdown(mut self) {
        self.shutdown.cancel();
        while self.tasks.join_next().await.is_some() {}
        self.notification.leave_cluster().await;
        if let Some(claim) = self.claim.take() {
            claim.release().await;
        }
        self.passport.close().await;
    }
}

impl Drop for RunningServer {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

/// Opens (or creates) the data folder and starts every service.
pub async fn start(data_dir: &Path, config: ServerConfig) -> Result<RunningServer, StartError> {
    let database = config.database_url(data_dir);
    start_services(data_dir, config, &database).await.map_err(|e| e.or_disk_full(data_dir, &database))
}

async fn start_services(
    data_dir: &Path,
    config: ServerConfig,
    database: &DatabaseUrl,
) -> Result<RunningServer, StartError> {
    config.validate()?;
    files::private_dir(data_dir)
        .map_err(|source| StartError::DataDir { path: data_dir.to_path_buf(), source })?;
    let lock = lock_data_dir(data_dir)?;
    let limits = config.connection_limits();
    warn_if_over_open_file_limit(limits.max_connections);

    let (cert, key, ca_cert) = match (&config.tls_cert, &config.tls_key) {
        (Some(cert), Some(key)) => (cert.clone(), key.clone(), cert.clone()),
        _ => {
            let mut names =
                vec![config.public_host.clone(), "localhost".into(), "127.0.0.1".into(), "::1".into()];
            names.dedup();
            let files = tls::ensure_dev_certificates(&layout::tls_dir(data_dir), &names)?;
            (files.cert, files.key, files.ca_cert)
        }
    };
    let tls = tls::server_config(&cert, &key)?;

    let manifest = layout::updates_manifest(data_dir);
    mocha_passport::write_default_manifest(&manifest)
        .and_then(|()| files::owner_only(&manifest))
        .map_err(|source| StartError::Write { path: manifest.clone(), source })?;

    let status = Arc::new(StatusBoard::default());
    // Every node of a cluster reads the same keys (docs/cluster.md).
    let keys = config.keys_dir(data_dir);
    files::private_dir(&keys).map_err(|source| StartError::Write { path: keys.clone(), source })?;
    let passport_key = SigningKey::load_or_create(&layout::passport_key_in(&keys))?;
    if let Some(file) = database.sqlite_path() {
        files::private_database(file)
            .map_err(|source| StartError::Write { path: file.to_path_buf(), source })?;
    }
    tracing::info!(%database, "opening Passport's database");
    let passport = Passport::open(database, passport_key, config.passport(data_dir), status.clone()).await?;
    let cluster = config.bus.is_some();
    let claim = passport.claim_database(cluster).await?.ok_or(StartError::DatabaseInUse { cluster })?;

    let shutdown = CancellationToken::new();
    let mut tasks = JoinSet::new();

    let media_relay = metrics_listener::MediaRelaySlot::default();
    let metrics_addr = match config.metrics_bind {
        Some(addr) => {
            metrics_listener::install()?;
            let listener =
                metrics_listener::bind(addr).await.map_err(|source| StartError::Bind { addr, source })?;
            let bound = https::local_addr(&listener);
            tasks.spawn(metrics_listener::serve(
                listener,
                passport.clone(),
                media_relay.clone(),
                shutdown.clone(),
            ));
            tracing::info!(address = %bound, "Prometheus metrics at /metrics (plain HTTP)");
            Some(bound)
        }
        None => None,
    };

    let https_listener =
        bind_if(config.runs(Role::Passport) || config.runs(Role::Web), &config, config.passport_port).await?;
    let https_addr = https_listener.as_ref().map(https::local_addr);
    let here = |role: Role| https_addr.filter(|_| config.runs(role)).map(|addr| advertised(&config, addr));
    let passport_gauge = status.register("passport", here(Role::Passport).unwrap_or_default(), false);
    if let Some(listener) = https_listener {
        let addr = https::local_addr(&listener);
        let app = https_app(&config, &passport, ca_cert.clone(), data_dir, addr);
        tasks.spawn(https::serve(
            listener,
            tls.clone(),
            app,
            config.http_request_time(),
            limits,
            shutdown.clone(),
        ));
        tracing::info!(address = %addr, "Passport and web pages listening (HTTPS)");
    }

    // The switchboard's real port must be known before the NS hands out its address.
    let sb_listener = bind_if(config.runs(Role::Sb), &config, config.switchboard_port).await?;
    let sb_addr = sb_listener.as_ref().map(https::local_addr);
    let sb_address = sb_addr.map(|addr| advertised(&config, addr));

    // And the MSNP switchboard's, which a ring to a classic client on another node names.
    let msnp_sb_listener = match (config.runs(Role::Sb), config.msnp_port, config.msnp_switchboard_port) {
        (true, Some(_), Some(port)) => Some(bind(&config, port).await?),
        _ => None,
    };
    let msnp_sb_address = msnp_sb_listener.as_ref().map(|l| advertised(&config, https::local_addr(l)));

    let ns_listener = bind_if(config.runs(Role::Ns), &config, config.notification_port).await?;
    let ns_addr = ns_listener.as_ref().map(https::local_addr);
    let ns_address = ns_addr.map(|addr| advertised(&config, addr));
    let bus = match &config.bus {
        Some(url) => {
            let card = NodeCard {
                passport: here(Role::Passport),
                web: here(Role::Web),
                ns: ns_address.clone(),
                sb: sb_address.clone(),
                msnp_sb: msnp_sb_address.clone(),
                ..NodeCard::default()
            };
            let cluster =
                ClusterConfig::new(url.expose(), config.bus_prefix.clone(), config.node_id()).with_card(card);
            Bus::Nats(NatsBus::connect(cluster).await?)
        }
        None => Bus::Local,
    };
    // The core runs on every node (an `sb` node's rings go through it); without `ns` it
    // just has no sessions of its own.
    let mut ns_config =
        config.notification(ns_address.clone().unwrap_or_default(), sb_address.clone().unwrap_or_default());
    ns_config.msnp_switchboard_address = msnp_sb_address.clone();
    ns_config.local_switchboard = config.runs(Role::Sb);
    let notification = NotificationServer::on_bus(
        passport.clone(),
        SigningKey::load_or_create(&layout::notification_key_in(&keys))?,
        ns_config,
        bus,
    );
    if let Some(listener) = ns_listener {
        let addr = https::local_addr(&listener);
        tasks.spawn(notification.clone().serve(listener, tls.clone(), shutdown.clone()));
        tracing::info!(address = %addr, "Notification Server listening (MENP/1 over TLS)");
    }

    let switchboard_gauge = status.register("switchboard", sb_address.clone().unwrap_or_default(), true);
    let (switchboard, relay_addr) = match sb_listener {
        Some(listener) => {
            let (switchboard, relay_addr) = start_switchboard(
                &config,
                &passport,
                &notification,
                switchboard_gauge.clone(),
                &mut tasks,
                &shutdown,
            )?;
            let _ = media_relay.set(switchboard.relay().clone());
            let addr = https::local_addr(&listener);
            tasks.spawn(switchboard.clone().serve(listener, tls.clone(), shutdown.clone()));
            tracing::info!(address = %addr, "Switchboard listening (MENP/1 over TLS)");
            (Some(switchboard), Some(relay_addr))
        }
        None => (None, None),
    };
    if let Some(nats) = notification.bus().nats() {
        if switchboard.is_some() {
            let participants = switchboard_gauge.clone();
            nats.count_participants(move || participants.online());
        }
        let rows = cluster_status::Rows {
            passport: (!config.runs(Role::Passport)).then(|| passport_gauge.clone()),
            notification: (!config.runs(Role::Ns)).then(|| notification.gauge().clone()),
            switchboard: switchboard_gauge.clone(),
            local_switchboard: switchboard.is_some(),
        };
        tasks.spawn(cluster_status::keep(rows, Arc::downgrade(nats), shutdown.clone()));
    }

    let msnp_switchboard_addr = match (msnp_sb_listener, &switchboard) {
        (Some(listener), Some(switchboard)) => {
            let addr = https::local_addr(&listener);
            let sb = mocha_msnp::MsnpSwitchboard::new(switchboard.clone());
            tasks.spawn(sb.serve(listener, shutdown.clone()));
            tracing::warn!(address = %addr, "MSNP switchboard listening (UNENCRYPTED)");
            Some(addr)
        }
        _ => None,
    };
    let (msnp_addr, msnp_http_addr) = match config.msnp_port.filter(|_| config.runs(Role::Ns)) {
        Some(port) => {
            let listener = bind(&config, port).await?;
            let addr = https::local_addr(&listener);
            let gateway = mocha_msnp::MsnpGateway::new(notification.clone(), config.msnp(msnp_sb_address));
            tasks.spawn(gateway.serve(listener, shutdown.clone()));
            tracing::warn!(address = %addr, "MSNP gateway listening (classic MSN clients; UNENCRYPTED: keep it on a LAN, loopback or a TLS tunnel)");
            let http_addr = match config.msnp_http_port {
                Some(port) => {
                    let listener = bind(&config, port).await?;
                    let http_addr = https::local_addr(&listener);
                    let login = format!("http://{}/login.srf", advertised(&config, http_addr));
                    let nexus = mocha_msnp::nexus::router(passport.clone(), login);
                    tasks.spawn(https::serve_plain(
                        listener,
                        nexus,
                        config.http_request_time(),
                        limits,
                        shutdown.clone(),
                    ));
                    tracing::warn!(address = %http_addr, "MSNP Passport 1.4 login listening (plain HTTP: UNENCRYPTED)");
                    Some(http_addr)
                }
                None => None,
            };
            (Some(addr), http_addr)
        }
        None => (None, None),
    };

    Ok(RunningServer {
        passport_addr: https_addr,
        ns_addr,
        msnp_addr,
        msnp_http_addr,
        msnp_switchboard_addr,
        sb_addr,
        relay_addr,
        ca_cert,
        metrics_addr,
        passport,
        notification,
        switchboard,
        shutdown,
        tasks,
        claim: Some(claim),
        _lock: lock,
    })
}

/// What the HTTPS port serves: the roles' routes (`web` the pages, `passport` the API),
/// and `/api/v1/status` on either, where clients find the Notification Server.
fn https_app(
    config: &ServerConfig,
    passport: &Arc<Passport>,
    ca_cert: PathBuf,
    data_dir: &Path,
    addr: SocketAddr,
) -> axum::Router {
    let mut app = axum::Router::new();
    // The websites share the Passport port; see mocha-web for how the two routers meet.
    if config.runs(Role::Web) {
        let web = mocha_web::WebConfig { ca_cert, downloads_dir: layout::downloads_dir(data_dir) };
        app = app.merge(mocha_web::router(passport.clone(), web));
    }
    if config.runs(Role::Passport) {
        app = app.merge(mocha_passport::http::router(passport.clone()));
        if config.msnp_port.is_some() {
            let login = format!("https://{}/login.srf", advertised(config, addr));
            app = app.merge(mocha_msnp::nexus::router(passport.clone(), login));
        }
    } else {
        app = app.merge(mocha_passport::http::status_router(passport.clone()));
    }
    app.layer(axum::middleware::from_fn(metrics_listener::track_http))
}

/// The media relay (UDP) and the Switchboard over it, for a node running `sb`.
fn start_switchboard(
    config: &ServerConfig,
    passport: &Arc<Passport>,
    notification: &Arc<NotificationServer>,
    gauge: Arc<mocha_passport::ServiceGauge>,
    tasks: &mut JoinSet<()>,
    shutdown: &CancellationToken,
) -> Result<(Arc<Switchboard>, SocketAddr), StartError> {
    let relay_bind = SocketAddr::new(config.bind, config.relay_port);
    let relay_socket =
        relay_socket(relay_bind).map_err(|source| StartError::Bind { addr: relay_bind, source })?;
    let relay_addr =
        relay_socket.local_addr().map_err(|source| StartError::Bind { addr: relay_bind, source })?;
    let relay = Relay::new(relay_socket, advertised(config, relay_addr), config.relay());
    tasks.spawn(relay.clone().serve(shutdown.clone()));
    tracing::info!(address = %relay_addr, "Media relay listening (UDP)");

    let switchboard = Switchboard::new(
        passport.clone(),
        notification.ticket_verifier(),
        Arc::new(ring::NotificationRinger(notification.clone())),
        config.switchboard(),
        gauge,
        relay,
    );
    // Bans, deletions and blocks made through another node's Passport end conversations here too.
    if let Some(nats) = notification.bus().nats() {
        let listener: std::sync::Weak<dyn mocha_passport::PassportListener> =
            Arc::downgrade(&switchboard) as _;
        nats.subscribe_remote(listener);
    }
    Ok((switchboard, relay_addr))
}

/// Connections are files: caps that add up past the open-file limit mean accept
/// failures instead of clean refusals, so say so (derived caps never do).
fn warn_if_over_open_file_limit(max_connections: usize) {
    let Some(open_files) = config::open_file_limit() else { return };
    let needed =
        (max_connections as u64).saturating_mul(config::SERVICES).saturating_add(config::RESERVED_FILES);
    if needed > open_files {
        tracing::warn!(
            max_connections,
            open_files,
            "max_connections for each of the {} services plus {} other files is more than the open-file \
             limit: when full, the server will fail to accept instead of refusing cleanly",
            config::SERVICES,
            config::RESERVED_FILES,
        );
    }
}

async fn bind(config: &ServerConfig, port: u16) -> Result<TcpListener, StartError> {
    let addr = SocketAddr::new(config.bind, port);
    TcpListener::bind(addr).await.map_err(|source| StartError::Bind { addr, source })
}

/// A service's listener when this node runs its role, none otherwise.
async fn bind_if(runs: bool, config: &ServerConfig, port: u16) -> Result<Option<TcpListener>, StartError> {
    match runs {
        true => Ok(Some(bind(config, port).await?)),
        false => Ok(None),
    }
}

/// Bytes of datagrams the kernel may hold for the relay (capped by `net.core.rmem_max`):
/// the default ~200 KiB is a few hundred small packets, which a busy moment overflows.
const RELAY_SOCKET_BUFFER: usize = 4 << 20;

/// The relay's socket, with large kernel buffers (best effort: a smaller cap is kept).
fn relay_socket(addr: SocketAddr) -> std::io::Result<tokio::net::UdpSocket> {
    use socket2::{Domain, Protocol, Socket, Type};
    let socket = Socket::new(Domain::for_address(addr), Type::DGRAM, Some(Protocol::UDP))?;
    if let Err(e) = socket.set_recv_buffer_size(RELAY_SOCKET_BUFFER) {
        tracing::warn!(error = %e, "cannot enlarge the media relay's receive buffer");
    }
    if let Err(e) = socket.set_send_buffer_size(RELAY_SOCKET_BUFFER) {
        tracing::warn!(error = %e, "cannot enlarge the media relay's send buffer");
    }
    socket.set_nonblocking(true)?;
    socket.bind(&addr.into())?;
    tokio::net::UdpSocket::from_std(socket.into())
}

/// `host:port` as clients should dial it.
fn advertised(config: &ServerConfig, addr: SocketAddr) -> String {
    format!("{}:{}", config.public_host, addr.port())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn running_out_of_room_at_start_names_the_full_disk_and_the_folder() {
        let data = Path::new("/srv/mocha-data");
        let no_space = || std::io::Error::from(std::io::ErrorKind::StorageFull);
        for error in [
            StartError::Passport(PassportError::StorageFull("database or disk is full".into())),
            StartError::Write { path: data.join("updates.json"), source: no_space() },
            StartError::Tls(tls::TlsError::Io { path: data.join("tls/server.pem"), source: no_space() }),
        ] {
            let message = error.or_disk_full(data, &DatabaseUrl::sqlite(data.join("mocha.db"))).to_string();
            assert!(
                message.starts_with("the disk holding the data folder /srv/mocha-data is full"),
                "{message}"
            );
        }
        let sqlite = DatabaseUrl::sqlite(data.join("mocha.db"));
        let other = StartError::Passport(PassportError::Internal("migration failed".into()))
            .or_disk_full(data, &sqlite);
        assert_eq!(other.to_string(), "cannot open the database: migration failed");
    }
}
