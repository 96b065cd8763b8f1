//! Settings of one Notification Server.

use std::time::Duration;

use mocha_net::ConnectionLimits;
use mocha_proto::Limits;

#[derive(Clone, Debug)]
pub struct NotificationConfig {
    /// Where clients reach this NS, `host:port`, for the status page.
    pub advertised_address: String,
    /// Where clients reach this node's Switchboard, `host:port`, sent in `XFR` and `RNG`.
    pub switchboard_address: String,
    /// Whether this node runs a switchboard. When it does not (roles without `sb`), `XFR`
    /// names the least-loaded live switchboard node of the cluster instead.
    pub local_switchboard: bool,
    /// Where classic MSN clients reach this node's MSNP switchboard, when the gateway runs
    /// one: sent with a ring to a callee on another node, whose gateway names this node's.
    pub msnp_switchboard_address: Option<String>,
    /// How long a switchboard ticket stays valid.
    pub ticket_lifetime: Duration,
    /// A TLS handshake that takes longer is dropped.
    pub handshake_timeout: Duration,
    /// A connection that sends nothing for this long is signed out with `OUT 0 TMO`.
    pub idle_timeout: Duration,
    /// A connection not signed in (`USR` accepted) this long after its TLS handshake
    /// gets `OUT 0 TMO` and is closed, however many `PNG`s it sends.
    pub sign_in_timeout: Duration,
    /// Caps on open connections, counted before TLS.
    pub connections: ConnectionLimits,
    /// Frames queued for one client before it counts as too slow and is dropped.
    pub outbound_queue: usize,
    /// Commands a client may send in a burst…
    pub command_burst: u32,
    /// …and per second after that.
    pub commands_per_second: u32,
    /// Frame size limits.
    pub limits: Limits,
}

impl Default for NotificationConfig {
    fn default() -> Self {
        Self {
            advertised_address: "localhost:1863".into(),
            switchboard_address: "localhost:1864".into(),
            local_switchboard: true,
            msnp_switchboard_address: None,
            ticket_lifetime: Duration::from_secs(120),
            handshake_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(180),
            sign_in_timeout: Duration::from_secs(15),
            connections: ConnectionLimits::default(),
            outbound_queue: 512,
            command_burst: 40,
            commands_per_second: 10,
            limits: Limits::default(),
        }
    }
}

impl NotificationConfig {
    /// What `QNG` tells clients: ping again well before the idle timeout.
    pub(crate) fn ping_interval_seconds(&self) -> u32 {
        u32::try_from(self.idle_timeout.as_secs() / 2).unwrap_or(u32::MAX).max(1)
    }
}
