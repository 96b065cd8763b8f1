//! Server-side MENP/1 plumbing shared by the Notification Server and the Switchboard.
//!
//! - [`serve_tls`]: the accept loop; each handshake runs in its own task with a timeout.
//! - [`ConnectionLimiter`]: caps on open connections (in all and per address), checked
//!   as each connection is accepted; HTTPS uses it too.
//! - [`TlsConnection`]: server-side TLS whose buffers exist only while bytes move.
//! - [`FrameReader`]: bytes from a stream to [`mocha_proto::Frame`]s, within limits.
//! - [`Outbox`] and [`write_frames`]: a connection's bounded outbound queue and the
//!   task that drains it. Nothing that pushes into an outbox ever waits on a slow client.
//! - [`TokenBucket`]: a per-connection command rate limit.

mod limiter;
mod listener;
mod outbox;
mod rate_limit;
mod reader;
mod tls;
mod writer;

pub use limiter::{ConnectionLimiter, ConnectionLimits, ConnectionPermit, Refusal};
pub use listener::{HANDSHAKE_SLOT_HOLD, ListenerLimits, serve_tls};
pub use outbox::{Batch, Frames, Kicks, Outbox, OutboxReceivers, Outgoing};
pub use rate_limit::TokenBucket;
pub use reader::{FrameReader, ReadError};
pub use tls::{TlsConnection, TlsReader, TlsWriter};
pub use writer::{FrameSink, WithWriter, run_with_writer, write_batch, write_frames};

use mocha_api::Ban;
use mocha_auth::UserId;
use mocha_proto::{BanDetail, BanUntil, OutReason, Token};

/// `OUT 0 BAN <until> <reason>` for a ban.
pub fn banned(ban: &Ban) -> OutReason {
    let until = ban
        .until
        .filter(|_| !ban.permanent)
        .and_then(|until| until.format(&time::format_description::well_known::Rfc3339).ok())
        .and_then(|text| Token::new(text).ok())
        .map_or(BanUntil::Permanent, BanUntil::Until);
    OutReason::Banned(Some(BanDetail { until, reason: ban.reason.clone().unwrap_or_default() }))
}

/// A user id as a protocol argument (`u7` is always a valid token).
pub fn user_token(user: UserId) -> Token {
    Token::new(user.to_string()).expect("user ids are valid tokens")
}
