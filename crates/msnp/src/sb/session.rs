//! One MSNP switchboard connection from accept to goodbye: reads lines within the
//! switchboard's limits, enforces the join deadline (from the accept: lines before a
//! successful `USR`/`ANS` do not push it back), the idle timeout and the command rate,
//! dispatches to `cmd`, and on the way out leaves the room so the others hear `BYE`.

use std::net::SocketAddr;
use std::sync::Arc;

use mocha_net::{Kicks, Outbox, TokenBucket};
use mocha_proto::OutReason;
use mocha_switchboard::Speaker;
use tokio::net::TcpStream;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::MsnpSwitchboard;
use crate::error::Code;
use crate::line::LineError;
use crate::reader::{LineReader, Stop, next_line};
use crate::wire;

/// The switchboard never sends bulk traffic to a classic client.
const UNUSED_BULK_LANE: usize = 1;

/// The conversation this connection joined.
pub(crate) struct Member {
    pub speaker: Speaker,
    pub room: String,
}

#[derive(Debug)]
pub(crate) enum Ending {
    /// Kicked (a ban, a newer connection of the same user), timed out, or shutdown.
    Out(OutReason),
    Protocol(LineError),
    JoinDeadline,
    Left,
    Disconnected,
}

pub(crate) enum Flow {
    Continue,
    Close(Ending),
}

pub(crate) struct Session {
    pub server: Arc<MsnpSwitchboard>,
    pub connection: u64,
    pub peer: SocketAddr,
    pub outbox: Outbox,
    pub member: Option<Member>,
    pub limiter: TokenBucket,
}

impl Session {
    pub fn send(&self, wire: bytes::Bytes) {
        self.outbox.push_wire(wire);
    }

    async fn serve<R: tokio::io::AsyncRead + Unpin>(
        &mut self,
        reader: &mut LineReader<R>,
        kicks: &mut Kicks,
        shutdown: &CancellationToken,
    ) -> Ending {
        let config = self.server.sb.config();
        let (idle, join_by) = (config.idle_timeout, Instant::now() + config.join_timeout);
        loop {
            let idle_by = Instant::now() + idle;
            let (deadline, missed) = if self.member.is_some() || idle_by < join_by {
                (idle_by, Ending::Out(OutReason::IdleTimeout))
            } else {
                (join_by, Ending::JoinDeadline)
            };
            let line = match next_line(reader, kicks, shutdown, deadline, &self.outbox, self.peer).await {
                Ok(line) => line,
                Err(Stop::Deadline) => return missed,
                Err(Stop::Out(reason)) => return Ending::Out(reason),
                Err(Stop::Protocol(error)) => return Ending::Protocol(error),
                Err(Stop::Disconnected) => return Ending::Disconnected,
            };
            if !self.limiter.take() {
                self.send(wire::error(Code::TooFast, line.trid().unwrap_or(0)));
                continue;
            }
            // Boxed: the handlers' futures (Passport calls) would otherwise be part of
            // every connection's task while it idles.
            let apply = Box::pin(super::cmd::apply(self, line));
            if let Flow::Close(ending) = apply.await {
                return ending;
            }
        }
    }
}

/// Runs one connection to its end: the session and its line writer in one task
/// ([`mocha_net::run_with_writer`]).
pub(crate) async fn run(
    server: Arc<MsnpSwitchboard>,
    tcp: TcpStream,
    peer: SocketAddr,
    shutdown: CancellationToken,
) {
    tracing::debug!(%peer, "MSNP switchboard connection opened");
    let (read, write) = tcp.into_split();
    let config = server.sb.config();
    let (outbox, receivers) = Outbox::new(config.control_queue, UNUSED_BULK_LANE);
    let reader = LineReader::new(read, config.limits);
    let session = Session {
        connection: server.sb.next_connection(),
        limiter: TokenBucket::new(config.message_burst, config.messages_per_second),
        server,
        peer,
        outbox: outbox.clone(),
        member: None,
    };
    let serving = serve_to_the_end(session, reader, receivers.kicks, shutdown);
    mocha_net::run_with_writer(crate::session::write_lines(write, receivers.frames), outbox, serving).await;
}

/// Serves the session until it ends, leaves its room, and queues the last line the
/// client should get.
async fn serve_to_the_end(
    mut session: Session,
    mut reader: LineReader<tokio::net::tcp::OwnedReadHalf>,
    mut kicks: Kicks,
    shutdown: CancellationToken,
) -> Option<mocha_proto::Frame> {
    let peer = session.peer;
    let ending = session.serve(&mut reader, &mut kicks, &shutdown).await;
    let user = session.member.as_ref().map(|m| m.speaker.user.to_string());
    let user = user.as_deref().unwrap_or("-");
    if let Some(member) = session.member.take() {
        let reason = match &ending {
            Ending::Out(reason) => Some(reason),
            _ => None,
        };
        session.server.sb.leave(member.speaker.user, &member.room, session.connection, reason);
    }
    let last = match &ending {
        Ending::Out(OutReason::TooSlow) => None, // its queue is full: nothing more fits
        Ending::Out(OutReason::SignedInElsewhere) => Some(wire::line(["OUT", "OTH"])),
        Ending::Out(OutReason::ServerShutdown) => Some(wire::line(["OUT", "SSD"])),
        Ending::Out(_) | Ending::JoinDeadline | Ending::Protocol(_) => Some(wire::line(["OUT"])),
        Ending::Left | Ending::Disconnected => None,
    };
    match &ending {
        Ending::Protocol(error) => {
            tracing::info!(%peer, user, %error, "MSNP switchboard protocol error; closing")
        }
        Ending::Out(reason) => {
            tracing::info!(%peer, user, reason = reason.code(), "MSNP switchboard connection closed by the server")
        }
        _ => tracing::debug!(%peer, user, ?ending, "MSNP switchboard connection closed"),
    }
    if let Some(last) = last {
        session.outbox.push_wire(last);
    }
    None
}
