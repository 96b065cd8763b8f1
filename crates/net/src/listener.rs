//! The TLS accept loop. Each handshake runs in its own task with a timeout, so a slow
//! or broken client never holds up the others; and only a bounded number of handshakes
//! run at once, so a crowd arriving together (everyone reconnecting after a network
//! blip or a restart) queues instead of slowing every handshake past its timeout.
//! Connections over the [`ConnectionLimits`] are closed as they are accepted.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::limiter::{ConnectionLimiter, ConnectionLimits};
use crate::tls::{self, TlsConnection};

/// Bounds on the accept loop.
///
/// A connection is first counted against `connections` (over a cap, it is closed at
/// once). It then has `handshake` to send its whole ClientHello: a silent client, or
/// one trickling its ClientHello a byte at a time, holds no handshake slot, so any
/// number of them cannot delay anyone else's sign-in. It then waits, at most
/// `handshake_queue`, in first-come order for one of `concurrent_handshakes` slots,
/// and from then on has `handshake` to finish. A slot is held for at most
/// [`HANDSHAKE_SLOT_HOLD`]: a handshake still running after that is waiting on its
/// client (or starved), finishes without a slot, and lets the next one start — so a
/// client that stalls mid-handshake cannot keep others waiting for long.
#[derive(Clone, Copy, Debug)]
pub struct ListenerLimits {
    pub handshake: Duration,
    pub handshake_queue: Duration,
    pub concurrent_handshakes: usize,
    pub connections: ConnectionLimits,
    /// How long connections get to say goodbye after shutdown before they are dropped.
    pub drain: Duration,
}

/// See [`ListenerLimits`].
pub const HANDSHAKE_SLOT_HOLD: Duration = Duration::from_millis(500);

impl Default for ListenerLimits {
    fn default() -> Self {
        Self {
            handshake: Duration::from_secs(10),
            handshake_queue: Duration::from_secs(60),
            concurrent_handshakes: 64,
            connections: ConnectionLimits::default(),
            drain: Duration::from_secs(2),
        }
    }
}

/// Accepts TLS connections until `shutdown` fires, running `handle` for each one, then
/// waits (at most `limits.drain`) for the handlers to finish. `service` names it in logs.
pub async fn serve_tls<F, Fut>(
    service: &'static str,
    listener: TcpListener,
    tls: Arc<rustls::ServerConfig>,
    limits: ListenerLimits,
    shutdown: CancellationToken,
    handle: F,
) where
    F: Fn(TlsConnection, SocketAddr) -> Fut + Clone + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let slots = Arc::new(Semaphore::new(limits.concurrent_handshakes.max(1)));
    let mut limiter = ConnectionLimiter::new(service, limits.connections);
    let connections = TaskTracker::new();
    loop {
        let (tcp, peer, permit) = tokio::select! {
            accepted = limiter.accept(&listener) => accepted,
            () = shutdown.cancelled() => break,
        };
        let handle = handle.clone();
        let shutdown = shutdown.clone();
        // Boxed, and made before the task's future: the handshake's state (a whole TLS
        // connection) and what only it needs are then not part of the task for the
        // connection's lifetime (an async block keeps whatever it captures).
        let handshake = Box::pin(handshake(service, tls.clone(), tcp, slots.clone(), limits));
        let task = async move {
            let _permit = permit;
            let stream = tokio::select! {
                handshake = handshake => match handshake {
                    Ok(stream) => stream,
                    Err(why) => return tracing::info!(service, %peer, "TLS handshake failed: {why}"),
                },
                () = shutdown.cancelled() => return,
            };
            handle(stream, peer).await;
        };
        connections.spawn(task);
    }
    connections.close();
    if tokio::time::timeout(limits.drain, connections.wait()).await.is_err() {
        tracing::info!(service, "connections still open after the drain period were dropped");
    }
}

/// Waits for the whole ClientHello, then for a handshake slot, then shakes hands.
async fn handshake(
    service: &'static str,
    tls: Arc<rustls::ServerConfig>,
    tcp: TcpStream,
    slots: Arc<Semaphore>,
    limits: ListenerLimits,
) -> Result<TlsConnection, String> {
    let _ = tcp.set_nodelay(true);
    // Reading a ClientHello costs nothing worth a slot; what a slot guards is the
    // key exchange and signature that follow.
    let mut hello = Vec::new();
    match tokio::time::timeout(limits.handshake, tls::read_client_hello(&tcp, &mut hello)).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => return Err(e.to_string()),
        Err(_) => return Err("no complete ClientHello in time".into()),
    }
    let queued = HandshakeGauge::enter(service, "queued");
    let slot = match tokio::time::timeout(limits.handshake_queue, slots.acquire_owned()).await {
        Ok(Ok(slot)) => slot,
        Ok(Err(_)) => return Err("the listener is closing".into()),
        Err(_) => return Err("no handshake slot in time (too many at once)".into()),
    };
    drop(queued);
    let _running = HandshakeGauge::enter(service, "running");
    let mut accept = std::pin::pin!(tokio::time::timeout(limits.handshake, tls::accept(tcp, tls, hello)));
    let finished = tokio::select! {
        finished = &mut accept => finished,
        () = tokio::time::sleep(HANDSHAKE_SLOT_HOLD) => {
            drop(slot);
            accept.await
        }
    };
    match finished {
        Ok(Ok(stream)) => Ok(stream),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err("timed out".into()),
    }
}

/// Counts a handshake in `mocha_tls_handshakes{service, state}` for as long as it is
/// waiting for a slot (`queued`) or shaking hands (`running`), however it ends.
struct HandshakeGauge {
    gauge: metrics::Gauge,
}

impl HandshakeGauge {
    fn enter(service: &'static str, state: &'static str) -> Self {
        let gauge = metrics::gauge!("mocha_tls_handshakes", "service" => service, "state" => state);
        gauge.increment(1.0);
        Self { gauge }
    }
}

impl Drop for HandshakeGauge {
    fn drop(&mut self) {
        self.gauge.decrement(1.0);
    }
}
