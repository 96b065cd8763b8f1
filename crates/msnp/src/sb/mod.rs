//! The gateway's Switchboard: classic clients' conversations, as a second front on the
//! Mocha Switchboard's rooms (`mocha_switchboard::conversation`). A room can hold
//! MSNP and MENP/1 participants at once; each hears the others in its own protocol
//! (`front`), with payloads translated between the dialects (`payload`). Plain TCP:
//! MSNP has no TLS.

mod cmd;
mod front;
pub mod payload;
mod session;

use std::sync::Arc;
use std::time::Duration;

use mocha_switchboard::Switchboard;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::server::accept_plain;

/// How long open conversations get to say goodbye when the server stops.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(3);

pub struct MsnpSwitchboard {
    pub(crate) sb: Arc<Switchboard>,
}

impl MsnpSwitchboard {
    /// Uses `sb`'s rooms, limits (line, payload, text, participants, message rate, join
    /// and idle timeouts, queues) and connection caps.
    pub fn new(sb: Arc<Switchboard>) -> Arc<Self> {
        Arc::new(Self { sb })
    }

    /// Accepts classic clients' switchboard connections until `shutdown` fires.
    pub async fn serve(self: Arc<Self>, listener: TcpListener, shutdown: CancellationToken) {
        let (limits, stop) = (self.sb.config().connections, shutdown.clone());
        accept_plain("msnp-switchboard", limits, listener, shutdown, DRAIN_TIMEOUT, move |tcp, peer| {
            session::run(self.clone(), tcp, peer, stop.clone())
        })
        .await;
    }
}
