//! The Switchboard service: its rooms, its settings, and the accept loop.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use mocha_auth::VerifyingKey;
use mocha_net::ListenerLimits;
use mocha_passport::{Passport, ServiceGauge};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::relay::Relay;
use crate::room::Room;
use crate::{Ringer, SwitchboardConfig, session};

/// Connections only need a moment to send `OUT 0 SSD` on the way out.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(3);

/// Every open conversation by room id. Shared so background checks can reach it.
#[derive(Clone, Default)]
pub(crate) struct Rooms(Arc<Mutex<HashMap<String, Room>>>);

impl Rooms {
    pub fn lock(&self) -> MutexGuard<'_, HashMap<String, Room>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

pub struct Switchboard {
    pub(crate) passport: Arc<Passport>,
    pub(crate) ticket_verifier: VerifyingKey,
    pub(crate) ringer: Arc<dyn Ringer>,
    pub(crate) config: SwitchboardConfig,
    pub(crate) rooms: Rooms,
    pub(crate) gauge: Arc<ServiceGauge>,
    pub(crate) relay: Arc<Relay>,
    next_connection: AtomicU64,
}

impl Switchboard {
    /// `ticket_verifier` checks the Notification Server's tickets; `ringer` invites people
    /// through it; `relay` carries its calls' media over UDP (run [`Relay::serve`] beside
    /// [`Switchboard::serve`]). The switchboard subscribes to Passport so blocks and bans
    /// apply at once.
    pub fn new(
        passport: Arc<Passport>,
        ticket_verifier: VerifyingKey,
        ringer: Arc<dyn Ringer>,
        config: SwitchboardConfig,
        gauge: Arc<ServiceGauge>,
        relay: Arc<Relay>,
    ) -> Arc<Self> {
        let switchboard = Arc::new(Self {
            passport: passport.clone(),
            ticket_verifier,
            ringer,
            config,
            rooms: Rooms::default(),
            gauge,
            relay,
            next_connection: AtomicU64::new(1),
        });
        passport.subscribe(switchboard.clone());
        switchboard
    }

    /// Accepts conversations over TLS until `shutdown`; then everyone gets `OUT 0 SSD`.
    pub async fn serve(
        self: Arc<Self>,
        listener: TcpListener,
        tls: Arc<rustls::ServerConfig>,
        shutdown: CancellationToken,
    ) {
        let limits = ListenerLimits {
            handshake: self.config.handshake_timeout,
            connections: self.config.connections,
            drain: DRAIN_TIMEOUT,
            ..ListenerLimits::default()
        };
        let switchboard = self.clone();
        let stop = shutdown.clone();
        mocha_net::serve_tls("switchboard", listener, tls, limits, shutdown, move |stream, peer| {
            session::run(switchboard.clone(), stream, peer, stop.clone())
        })
        .await;
        self.gauge.set_up(false);
    }

    pub fn config(&self) -> &SwitchboardConfig {
        &self.config
    }

    /// How many conversations are open.
    pub fn room_count(&self) -> usize {
        self.rooms().len()
    }

    /// The UDP media relay of this switchboard's calls.
    pub fn relay(&self) -> &Arc<Relay> {
        &self.relay
    }

    /// Brings the relay in line with `room`'s calls (after anything that may change them).
    pub(crate) fn sync_relay(&self, room_id: &str, room: &Room) {
        self.relay.sync_room(room_id, room.relay_view());
    }

    pub(crate) fn rooms(&self) -> MutexGuard<'_, HashMap<String, Room>> {
        self.rooms.lock()
    }

    /// A connection id unique across every front of this switchboard (a room tells a
    /// participant's connections apart by it).
    pub fn next_connection(&self) -> u64 {
        self.next_connection.fetch_add(1, Ordering::Relaxed)
    }
}
