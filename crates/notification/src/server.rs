//! The service object and its accept loop.

use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

use mocha_auth::{SignedClaims, SigningKey, SwitchboardTicket, UserId, VerifyingKey, unix_now};
use mocha_net::ListenerLimits;
use mocha_passport::{Passport, ServiceGauge};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::bus::Bus;
use crate::config::NotificationConfig;
use crate::registry::Registry;
use crate::{bus, events, session};

/// How long open connections get to say goodbye when the server stops (the NS keeps
/// its own, longer than mocha-net's default).
const DRAIN_TIMEOUT: Duration = Duration::from_secs(5);

pub struct NotificationServer {
    pub(crate) passport: Arc<Passport>,
    pub(crate) config: NotificationConfig,
    pub(crate) registry: Registry,
    pub(crate) bus: Bus,
    ticket_key: SigningKey,
    gauge: Arc<ServiceGauge>,
    pub(crate) next_connection: AtomicU64,
    /// Bans, deletions and revocations seen so far (see [`crate::front::Verified`]).
    pub(crate) moderation: Arc<events::ModerationEpoch>,
}

impl NotificationServer {
    /// Creates the service, registers its gauge on Passport's status board and subscribes
    /// to Passport's events. Must be called inside a Tokio runtime (it starts the task
    /// that turns events into pushes).
    pub fn new(passport: Arc<Passport>, ticket_key: SigningKey, config: NotificationConfig) -> Arc<Self> {
        Self::on_bus(passport, ticket_key, config, Bus::Local)
    }

    /// Like [`Self::new`], as one node of the cluster `bus` joins (its tasks start here).
    pub fn on_bus(
        passport: Arc<Passport>,
        ticket_key: SigningKey,
        config: NotificationConfig,
        bus: Bus,
    ) -> Arc<Self> {
        let gauge = passport.status_board().register("notification", config.advertised_address.clone(), true);
        let server = Arc::new(Self {
            registry: Registry::new(gauge.clone()),
            passport: passport.clone(),
            config,
            ticket_key,
            gauge,
            next_connection: AtomicU64::new(1),
            bus,
            moderation: Arc::default(),
        });
        passport.subscribe(events::relay(&server));
        if let Some(nats) = server.bus.nats() {
            bus::start(&server, nats);
        }
        server
    }

    /// The key that checks this server's switchboard tickets.
    pub fn ticket_verifier(&self) -> VerifyingKey {
        self.ticket_key.verifying_key()
    }

    /// How many accounts are signed in.
    pub fn online_users(&self) -> usize {
        self.registry.len()
    }

    /// In a cluster: the status page and API count the users on the other nodes too.
    pub(crate) fn count_online_elsewhere(&self, users: usize) {
        self.gauge.set_online_elsewhere(u64::try_from(users).unwrap_or(u64::MAX));
    }

    /// Its row on the status board (a node without `ns` points it at another node's).
    pub fn gauge(&self) -> &Arc<ServiceGauge> {
        &self.gauge
    }

    /// For a node without `sb`: the live switchboard node with the fewest participants
    /// (counting one more there), if this node is in a cluster and one is alive.
    pub fn pick_switchboard_node(&self) -> Option<crate::bus::NodeCard> {
        self.bus.nats()?.pick_switchboard()
    }

    pub fn bus(&self) -> &Bus {
        &self.bus
    }

    /// Leaves the cluster cleanly, if this node is in one (call after [`Self::serve`] returned).
    pub async fn leave_cluster(&self) {
        if let Some(nats) = self.bus.nats() {
            nats.leave().await;
        }
    }

    pub fn config(&self) -> &NotificationConfig {
        &self.config
    }

    /// A ticket letting `user` into switchboard room `room` for the configured lifetime.
    pub(crate) fn issue_ticket(&self, user: UserId, room: &str) -> String {
        let lifetime = i64::try_from(self.config.ticket_lifetime.as_secs()).unwrap_or(i64::MAX);
        SwitchboardTicket { sub: user, room: room.to_string(), exp: unix_now().saturating_add(lifetime) }
            .sign(&self.ticket_key)
    }

    /// Accepts MENP/1 connections over TLS until `shutdown` fires; then every client
    /// gets `OUT 0 SSD` and the call returns once they are gone (or after a short wait).
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
        let server = self.clone();
        let stop = shutdown.clone();
        mocha_net::serve_tls("notification", listener, tls, limits, shutdown, move |stream, peer| {
            let connection = server.next_connection();
            session::run(server.clone(), stream, peer, connection, stop.clone())
        })
        .await;
        self.gauge.set_up(false);
    }
}
