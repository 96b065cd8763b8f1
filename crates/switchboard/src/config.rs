use std::time::Duration;

use mocha_net::ConnectionLimits;
use mocha_proto::Limits;

#[derive(Clone, Debug)]
pub struct SwitchboardConfig {
    pub limits: Limits,
    pub handshake_timeout: Duration,
    /// A connection that sends nothing for this long is closed.
    pub idle_timeout: Duration,
    /// A connection that has not joined a conversation (`USR` or `ANS` accepted) this
    /// long after its TLS handshake gets `OUT 0 TMO` and is closed.
    pub join_timeout: Duration,
    /// Caps on open connections, counted before TLS.
    pub connections: ConnectionLimits,
    /// Replies, pushes and chat waiting for one slow client before it is dropped.
    pub control_queue: usize,
    /// File chunks and media frames waiting for one client.
    pub bulk_queue: usize,
    /// How long a file chunk may wait for a slow receiver before the transfer is cancelled.
    pub chunk_wait: Duration,
    pub messages_per_second: u32,
    pub message_burst: u32,
    /// The largest chat text, in bytes.
    pub max_text_bytes: usize,
    pub max_participants: usize,
}

impl Default for SwitchboardConfig {
    fn default() -> Self {
        Self {
            limits: Limits::default(),
            handshake_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(30 * 60),
            join_timeout: Duration::from_secs(15),
            connections: ConnectionLimits::default(),
            control_queue: 512,
            bulk_queue: 16,
            chunk_wait: Duration::from_secs(30),
            messages_per_second: 20,
            message_burst: 40,
            max_text_bytes: 8 * 1024,
            max_participants: 20,
        }
    }
}
