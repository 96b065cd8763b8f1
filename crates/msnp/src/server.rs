//! The gateway's Notification Server: a plain-TCP accept loop (MSNP has no TLS), each
//! connection capped like MENP's before anything is read.

use std::sync::Arc;
use std::time::Duration;

use mocha_net::ConnectionLimiter;
use mocha_notification::NotificationServer;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::config::MsnpConfig;
use crate::session;

/// How long open connections get to say goodbye when the server stops.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(5);

pub struct MsnpGateway {
    pub(crate) core: Arc<NotificationServer>,
    pub(crate) config: MsnpConfig,
}

impl MsnpGateway {
    pub fn new(core: Arc<NotificationServer>, config: MsnpConfig) -> Arc<Self> {
        Arc::new(Self { core, config })
    }

    pub fn config(&self) -> &MsnpConfig {
        &self.config
    }

    /// Accepts MSNP connections until `shutdown` fires; then every client gets `OUT SSD`
    /// and the call returns once they are gone (or after a short wait).
    pub async fn serve(self: Arc<Self>, listener: TcpListener, shutdown: CancellationToken) {
        let mut limiter = ConnectionLimiter::new("msnp", self.config.connections);
        let connections = TaskTracker::new();
        loop {
            let (tcp, peer, permit) = tokio::select! {
                accepted = limiter.accept(&listener) => accepted,
                () = shutdown.cancelled() => break,
            };
            let _ = tcp.set_nodelay(true);
            let gateway = self.clone();
            let shutdown = shutdown.clone();
            connections.spawn(async move {
                let _permit = permit;
                session::run(gateway, tcp, peer, shutdown).await;
            });
        }
        connections.close();
        if tokio::time::timeout(DRAIN_TIMEOUT, connections.wait()).await.is_err() {
            tracing::info!("MSNP connections still open after the drain period were dropped");
        }
    }
}
