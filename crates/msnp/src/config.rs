//! Settings of the gateway.

use std::time::Duration;

use mocha_net::ConnectionLimits;
use mocha_proto::Limits;

#[derive(Clone, Debug)]
pub struct MsnpConfig {
    /// The server's public host name, for the links `CVR` answers with.
    pub public_host: String,
    /// A connection silent this long is closed.
    pub idle_timeout: Duration,
    /// A connection not signed in this long after it opened is closed, whatever it sends.
    pub sign_in_timeout: Duration,
    /// Caps on open connections (in all, and per address).
    pub connections: ConnectionLimits,
    /// Lines queued for one client before it counts as too slow and is dropped.
    pub outbound_queue: usize,
    /// Commands a client may send in a burst…
    pub command_burst: u32,
    /// …and per second after that.
    pub commands_per_second: u32,
    /// Line and payload limits (the same as MENP/1's).
    pub limits: Limits,
    /// The gateway switchboard's `host:port`, handed out by `XFR SB` and `RNG`; `None`
    /// when it is off (then `XFR` is refused and classic clients are not rung).
    pub switchboard_address: Option<String>,
}

impl Default for MsnpConfig {
    fn default() -> Self {
        Self {
            public_host: "localhost".into(),
            idle_timeout: Duration::from_secs(180),
            sign_in_timeout: Duration::from_secs(15),
            connections: ConnectionLimits::default(),
            outbound_queue: 512,
            command_burst: 40,
            commands_per_second: 10,
            limits: Limits::default(),
            switchboard_address: None,
        }
    }
}

impl MsnpConfig {
    /// What `QNG` tells clients: ping again well before the idle timeout.
    pub fn ping_interval_seconds(&self) -> u64 {
        (self.idle_timeout.as_secs() / 2).max(10)
    }
}
