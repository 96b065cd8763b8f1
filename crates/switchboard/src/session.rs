//! One switchboard connection from TLS stream to goodbye: reads frames, enforces the
//! idle timeout, dispatches commands to [`crate::cmd`], and on the way out leaves the
//! room so the others see `BYE`.

use std::net::SocketAddr;
use std::sync::Arc;

use mocha_auth::UserId;
use mocha_net::{FrameReader, Kicks, Outbox, ReadError, TokenBucket};
use mocha_proto::{ErrorCode, ErrorReply, Frame, FrameError, Out, OutReason};
use tokio_util::sync::CancellationToken;

use crate::Switchboard;

/// Who this connection is, once it has joined a room.
pub(crate) struct Member {
    pub user: UserId,
    /// How the room names them (and relays their messages, see [`crate::Speaker`]).
    pub speaker: crate::Speaker,
    pub room: String,
}

pub(crate) enum Ending {
    Out(OutReason),
    Framing(FrameError),
    Left,
    Disconnected,
}

pub(crate) enum Flow {
    Continue,
    Close(Ending),
}

pub(crate) struct Session {
    pub sb: Arc<Switchboard>,
    pub connection: u64,
    pub peer: SocketAddr,
    pub outbox: Outbox,
    pub member: Option<Member>,
    pub message_limiter: TokenBucket,
}

impl Session {
    pub fn reply(&self, frame: Frame) {
        self.outbox.push(frame);
    }

    pub fn error(&self, trid: u32, code: ErrorCode, reason: impl std::fmt::Display) {
        self.reply(ErrorReply { trid, code, reason: reason.to_string() }.into_frame());
    }

    /// Leaves the room (if in one): the others see `BYE`; an empty room is closed.
    fn leave_room(&mut self, reason: Option<&OutReason>) {
        let Some(member) = self.member.take() else { return };
        self.sb.leave(member.user, &member.room, self.connection, reason);
    }
}

/// Runs one connection to its end: its session and the writer draining its outbox, in
/// one task ([`mocha_net::run_with_writer`]).
///
/// Not an `async fn`: an async fn keeps its arguments in its future for as long as it
/// runs, beside the futures they are moved into; built here, the connection's task
/// holds each part once.
pub(crate) fn run(
    sb: Arc<Switchboard>,
    stream: mocha_net::TlsConnection,
    peer: SocketAddr,
    shutdown: CancellationToken,
) -> impl Future<Output = ()> + Send + 'static {
    let (read, write) = stream.into_split();
    let config = sb.config.clone();
    let (outbox, receivers) = Outbox::new(config.control_queue, config.bulk_queue);
    let reader = FrameReader::new(read, config.limits);
    let session = Session {
        connection: sb.next_connection(),
        sb,
        peer,
        outbox: outbox.clone(),
        member: None,
        message_limiter: TokenBucket::new(config.message_burst, config.messages_per_second),
    };
    let serving = serve_to_the_end(session, reader, receivers.kicks, shutdown);
    mocha_net::run_with_writer(mocha_net::write_frames(write, receivers.frames), outbox, serving)
}

/// Serves the session until it ends, leaves its room, and returns the last frame the
/// client should get. (A connection whose writes fail ends when its reads do: a reset
/// socket reads as an error.)
async fn serve_to_the_end(
    mut session: Session,
    mut reader: FrameReader<mocha_net::TlsReader>,
    mut kicks: Kicks,
    shutdown: CancellationToken,
) -> Option<Frame> {
    let config = session.sb.config.clone();
    let peer = session.peer;
    tracing::debug!(%peer, connection = session.connection, "switchboard connection opened");
    // Fixed from the start: frames before a successful `USR`/`ANS` do not push it back.
    let join_by = tokio::time::Instant::now() + config.join_timeout;

    // The futures that wait for the rare events live across loop turns, so a busy
    // connection does not register a timer, a cancellation waiter and a kick waiter
    // anew for every frame; the idle timer is re-armed only when it fires early.
    let mut last_frame = tokio::time::Instant::now();
    let mut idle = std::pin::pin!(tokio::time::sleep_until(join_by.min(last_frame + config.idle_timeout)));
    let mut cancelled = std::pin::pin!(shutdown.cancelled());
    let mut kicked = std::pin::pin!(kicks.recv());
    let ending = loop {
        tokio::select! {
            frame = reader.read_frame() => match frame {
                Ok(Some(frame)) => {
                    last_frame = tokio::time::Instant::now();
                    // Boxed, in a statement of its own: the handlers' futures would
                    // otherwise be part of every connection's task while it idles.
                    let apply = Box::pin(crate::cmd::apply(&mut session, frame));
                    match apply.await {
                        Flow::Continue => {}
                        Flow::Close(ending) => break ending,
                    }
                }
                Ok(None) | Err(ReadError::Io(_)) => break Ending::Disconnected,
                Err(ReadError::Frame(e)) => break Ending::Framing(e),
            },
            // Kicks::recv only ever finishes with a reason.
            Some(reason) = &mut kicked => break Ending::Out(reason),
            () = &mut cancelled => break Ending::Out(OutReason::ServerShutdown),
            () = &mut idle => {
                let idle_by = last_frame + config.idle_timeout;
                let deadline = if session.member.is_some() { idle_by } else { idle_by.min(join_by) };
                if deadline <= tokio::time::Instant::now() {
                    break Ending::Out(OutReason::IdleTimeout);
                }
                idle.as_mut().reset(deadline);
            }
        }
    };

    let user = session.member.as_ref().map(|m| m.user.to_string()).unwrap_or_else(|| "-".into());
    let last = match &ending {
        Ending::Out(reason) => {
            tracing::info!(%peer, user, reason = reason.code(), "switchboard connection closed by the server");
            Some(Out { reason: reason.clone() }.into_frame())
        }
        Ending::Framing(e) => {
            tracing::info!(%peer, user, error = %e, "switchboard protocol error");
            // Which rule broke, as the NS says it: "syntax error" alone helps no one.
            Some(ErrorReply { trid: 0, code: e.error_code(), reason: e.to_string() }.into_frame())
        }
        Ending::Left | Ending::Disconnected => {
            tracing::debug!(%peer, user, "switchboard connection closed");
            None
        }
    };
    let reason = match &ending {
        Ending::Out(reason) => Some(reason),
        _ => None,
    };
    session.leave_room(reason);
    last
}
