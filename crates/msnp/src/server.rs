//! The gateway's Notification Server: a plain-TCP accept loop (MSNP has no TLS), each
//! connection capped like MENP's before anything is read.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use mocha_net::{ConnectionLimiter, ConnectionLimits};
use mocha_notification::NotificationServer;
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::config::MsnpConfig;
use crate::session;

/// How long open connections get to say goodbye when the server stops.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(5);

pub struct MsnpGateway {
    pub(crate) core: Arc<NotificationServer>,
    pub(crate) config: MsnpConfig,
    /// `config.switchboard_address`, shared by every session's front.
    pub(crate) switchboard: Option<Arc<str>>,
}

impl MsnpGateway {
    pub fn new(core: Arc<NotificationServer>, config: MsnpConfig) -> Arc<Self> {
        let switchboard = config.switchboard_address.as_deref().map(Arc::from);
        Arc::new(Self { core, config, switchboard })
    }

    pub fn config(&self) -> &MsnpConfig {
        &self.config
    }

    /// Accepts MSNP connections until `shutdown` fires; then every client gets `OUT SSD`
    /// and the call returns once they are gone (or after a short wait).
    pub async fn serve(self: Arc<Self>, listener: TcpListener, shutdown: CancellationToken) {
        let stop = shutdown.clone();
        accept_plain("msnp", self.config.connections, listener, shutdown, DRAIN_TIMEOUT, move |tcp, peer| {
            session::run(self.clone(), tcp, peer, stop.clone())
        })
        .await;
    }
}

/// Accepts plain-TCP connections (each capped, in all and per address, before anything
/// is read) until `shutdown` fires, running `serve` for each; then gives them `drain`
/// to finish.
pub(crate) async fn accept_plain<F, Fut>(
    service: &'static str,
    limits: ConnectionLimits,
    listener: TcpListener,
    shutdown: CancellationToken,
    drain: Duration,
    serve: F,
) where
    F: Fn(TcpStream, SocketAddr) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let mut limiter = ConnectionLimiter::new(service, limits);
    let connections = TaskTracker::new();
    loop {
        let (tcp, peer, permit) = tokio::select! {
            accepted = limiter.accept(&listener) => accepted,
            () = shutdown.cancelled() => break,
        };
        let _ = tcp.set_nodelay(true);
        let connection = serve(tcp, peer);
        connections.spawn(async move {
            let _permit = permit;
            connection.await;
        });
    }
    connections.close();
    if tokio::time::timeout(drain, connections.wait()).await.is_err() {
        tracing::info!(service, "connections still open after the drain period were dropped");
    }
}
