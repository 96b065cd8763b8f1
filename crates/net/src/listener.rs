//! The TLS accept loop. Each handshake runs in its own task with a timeout, so a slow
//! or broken client never holds up the others.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// How long a TLS handshake may take, and how long connections get to say goodbye
/// after shutdown before they are dropped.
#[derive(Clone, Copy, Debug)]
pub struct ListenerTimeouts {
    pub handshake: Duration,
    pub drain: Duration,
}

/// Accepts TLS connections until `shutdown` fires, running `handle` for each one, then
/// waits (at most `timeouts.drain`) for the handlers to finish. `service` names it in logs.
pub async fn serve_tls<F, Fut>(
    service: &'static str,
    listener: TcpListener,
    tls: Arc<rustls::ServerConfig>,
    timeouts: ListenerTimeouts,
    shutdown: CancellationToken,
    handle: F,
) where
    F: Fn(TlsStream<TcpStream>, SocketAddr) -> Fut + Clone + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let acceptor = TlsAcceptor::from(tls);
    let connections = TaskTracker::new();
    loop {
        let (tcp, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Usually out of file descriptors: back off instead of spinning.
                    tracing::warn!(service, error = %e, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = shutdown.cancelled() => break,
        };
        let acceptor = acceptor.clone();
        let handle = handle.clone();
        let shutdown = shutdown.clone();
        // Each connection's task lives as long as the connection: keep what it holds
        // across an await small (see also the handlers, which split the stream).
        let task = async move {
            let _ = tcp.set_nodelay(true);
            // Boxed, so the handshake's state (a whole TLS connection) is not part of
            // the task for the connection's lifetime.
            let accept = Box::pin(tokio::time::timeout(timeouts.handshake, acceptor.accept(tcp)));
            let stream = tokio::select! {
                handshake = accept => match handshake {
                    Ok(Ok(stream)) => stream,
                    Ok(Err(e)) => return tracing::info!(service, %peer, error = %e, "TLS handshake failed"),
                    Err(_) => return tracing::info!(service, %peer, "TLS handshake timed out"),
                },
                () = shutdown.cancelled() => return,
            };
            let session = handle(stream, peer);
            session.await;
        };
        connections.spawn(task);
    }
    connections.close();
    if tokio::time::timeout(timeouts.drain, connections.wait()).await.is_err() {
        tracing::info!(service, "connections still open after the drain period were dropped");
    }
}
