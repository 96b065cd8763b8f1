//! The `mocha-server` library: everything needed to run the Mocha network in one
//! process. `main.rs` only parses flags and calls [`start`]; tests call it too.

pub mod config;
mod https;
mod ring;
pub mod tls;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use mocha_auth::SigningKey;
use mocha_notification::NotificationServer;
use mocha_passport::{Passport, PassportError, StatusBoard};
use mocha_switchboard::{Relay, Switchboard};
use tokio::net::TcpListener;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

pub use config::{ConfigError, ServerConfig};

/// Files inside the data folder.
pub mod layout {
    use std::path::{Path, PathBuf};

    pub fn database(data_dir: &Path) -> PathBuf {
        data_dir.join("mocha.db")
    }
    pub fn tls_dir(data_dir: &Path) -> PathBuf {
        data_dir.join("tls")
    }
    pub fn passport_key(data_dir: &Path) -> PathBuf {
        data_dir.join("keys").join("passport-ed25519.seed")
    }
    pub fn notification_key(data_dir: &Path) -> PathBuf {
        data_dir.join("keys").join("notification-ed25519.seed")
    }
    pub fn updates_manifest(data_dir: &Path) -> PathBuf {
        data_dir.join("updates.json")
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot create the data folder {path}: {source}")]
    DataDir { path: PathBuf, source: std::io::Error },
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Tls(#[from] tls::TlsError),
    #[error(transparent)]
    Key(#[from] mocha_auth::KeyError),
    #[error("cannot open the database: {0}")]
    Passport(#[from] PassportError),
    #[error("cannot listen on {addr}: {source}")]
    Bind { addr: SocketAddr, source: std::io::Error },
    #[error("cannot write {path}: {source}")]
    Write { path: PathBuf, source: std::io::Error },
}

/// A running network. Drop it or call [`RunningServer::shutdown`] to stop.
pub struct RunningServer {
    pub passport_addr: SocketAddr,
    /// Where the Notification Server listens (MENP/1 over TLS).
    pub ns_addr: SocketAddr,
    /// Where the Switchboard listens (MENP/1 over TLS).
    pub sb_addr: SocketAddr,
    /// Where the calls' media relay listens (UDP).
    pub relay_addr: SocketAddr,
    /// The CA that clients must trust (the development CA, or the operator's chain).
    pub ca_cert: PathBuf,
    pub passport: Arc<Passport>,
    pub notification: Arc<NotificationServer>,
    pub switchboard: Arc<Switchboard>,
    shutdown: CancellationToken,
    tasks: JoinSet<()>,
}

impl RunningServer {
    /// Stops accepting, lets open requests finish briefly, closes the database.
    pub async fn shutdown(mut self) {
        self.shutdown.cancel();
        while self.tasks.join_next().await.is_some() {}
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
    config.validate()?;
    create_private_dir(data_dir)
        .map_err(|source| StartError::DataDir { path: data_dir.to_path_buf(), source })?;

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
    let download = format!("https://{}:{}/download", config.public_host, config.passport_port);
    mocha_passport::write_default_manifest(&manifest, env!("CARGO_PKG_VERSION"), &download)
        .map_err(|source| StartError::Write { path: manifest.clone(), source })?;

    let status = Arc::new(StatusBoard::default());
    let passport_key = SigningKey::load_or_create(&layout::passport_key(data_dir))?;
    let passport =
        Passport::open(&layout::database(data_dir), passport_key, config.passport(data_dir), status.clone())
            .await?;

    let shutdown = CancellationToken::new();
    let mut tasks = JoinSet::new();

    let passport_listener = bind(&config, config.passport_port).await?;
    let passport_addr = https::local_addr(&passport_listener);
    status.register("passport", advertised(&config, passport_addr), false);
    // The websites share the Passport port; see mocha-web for how the two routers meet.
    let web = mocha_web::WebConfig { ca_cert: ca_cert.clone() };
    let app = mocha_web::router(passport.clone(), web).merge(mocha_passport::http::router(passport.clone()));
    tasks.spawn(https::serve(passport_listener, tls.clone(), app, shutdown.clone()));
    tracing::info!(address = %passport_addr, "Passport listening (HTTPS)");

    // The switchboard's real port must be known before the NS hands out its address.
    let sb_listener = bind(&config, config.switchboard_port).await?;
    let sb_addr = https::local_addr(&sb_listener);

    let ns_listener = bind(&config, config.notification_port).await?;
    let ns_addr = https::local_addr(&ns_listener);
    let notification = NotificationServer::new(
        passport.clone(),
        SigningKey::load_or_create(&layout::notification_key(data_dir))?,
        config.notification(advertised(&config, ns_addr), advertised(&config, sb_addr)),
    );
    tasks.spawn(notification.clone().serve(ns_listener, tls.clone(), shutdown.clone()));
    tracing::info!(address = %ns_addr, "Notification Server listening (MENP/1 over TLS)");

    let relay_bind = SocketAddr::new(config.bind, config.relay_port);
    let relay_socket = tokio::net::UdpSocket::bind(relay_bind)
        .await
        .map_err(|source| StartError::Bind { addr: relay_bind, source })?;
    let relay_addr =
        relay_socket.local_addr().map_err(|source| StartError::Bind { addr: relay_bind, source })?;
    let relay = Relay::new(relay_socket, advertised(&config, relay_addr), config.relay());
    tasks.spawn(relay.clone().serve(shutdown.clone()));
    tracing::info!(address = %relay_addr, "Media relay listening (UDP)");

    let switchboard = Switchboard::new(
        passport.clone(),
        notification.ticket_verifier(),
        Arc::new(ring::NotificationRinger(notification.clone())),
        config.switchboard(),
        status.register("switchboard", advertised(&config, sb_addr), true),
        relay,
    );
    tasks.spawn(switchboard.clone().serve(sb_listener, tls.clone(), shutdown.clone()));
    tracing::info!(address = %sb_addr, "Switchboard listening (MENP/1 over TLS)");

    Ok(RunningServer {
        passport_addr,
        ns_addr,
        sb_addr,
        relay_addr,
        ca_cert,
        passport,
        notification,
        switchboard,
        shutdown,
        tasks,
    })
}

/// The data folder holds the database and private keys: only its owner may enter it.
fn create_private_dir(path: &Path) -> std::io::Result<()> {
    if path.exists() {
        return Ok(());
    }
    std::fs::create_dir_all(path)?;
    #[cfg(unix)]
    std::fs::set_permissions(path, std::os::unix::fs::PermissionsExt::from_mode(0o700))?;
    Ok(())
}

async fn bind(config: &ServerConfig, port: u16) -> Result<TcpListener, StartError> {
    let addr = SocketAddr::new(config.bind, port);
    TcpListener::bind(addr).await.map_err(|source| StartError::Bind { addr, source })
}

/// `host:port` as clients should dial it.
fn advertised(config: &ServerConfig, addr: SocketAddr) -> String {
    format!("{}:{}", config.public_host, addr.port())
}
