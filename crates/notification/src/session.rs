//! One client connection from TLS stream to goodbye: reads frames, enforces the idle
//! timeout and the command rate, dispatches commands to [`crate::cmd`], and on the way
//! out tells the client why, signs it out and lets its contacts see it go offline.

use std::net::SocketAddr;
use std::sync::Arc;

use mocha_auth::UserId;
use mocha_net::{FrameReader, Kicks, Outbox, ReadError, TokenBucket};
use mocha_proto::{ErrorCode, ErrorReply, Frame, FrameError, Out, OutReason};
use tokio::time::{Instant, sleep_until};
use tokio_util::sync::CancellationToken;

use crate::NotificationServer;

/// The NS never sends file chunks or media, so its bulk lane stays empty; one slot is
/// the smallest the outbox allows.
const UNUSED_BULK_LANE: usize = 1;

/// Where a connection is in the MENP/1 handshake.
pub(crate) enum Stage {
    /// Nothing yet: `VER` must come first.
    Connected,
    /// `VER` agreed: `USR` next.
    Negotiated,
    SignedIn(Identity),
}

#[derive(Clone, Debug)]
pub(crate) struct Identity {
    pub user: UserId,
    pub username: String,
}

/// Why a connection ends; decides the last frame the client gets.
#[derive(Debug)]
pub(crate) enum Ending {
    /// The server (or Passport, or another sign-in) ends it: `OUT 0 <reason>`.
    Out(OutReason),
    /// The stream cannot be resynchronised: `ERR 0 <code>`.
    Framing(FrameError),
    /// Already answered (a refused sign-in, an unsupported version); just close.
    AfterReply(&'static str),
    /// Not signed in by the sign-in deadline: `OUT 0 TMO`.
    SignInDeadline,
    /// The client said `OUT`.
    SignedOut,
    /// The client went away.
    Disconnected,
}

/// What a command handler wants next.
pub(crate) enum Flow {
    Continue,
    Close(Ending),
}

pub(crate) struct Session {
    pub server: Arc<NotificationServer>,
    pub connection: u64,
    pub peer: SocketAddr,
    pub outbox: Outbox,
    pub stage: Stage,
    limiter: TokenBucket,
}

impl Session {
    pub fn reply(&self, frame: Frame) {
        self.outbox.push(frame);
    }

    pub fn identity(&self) -> Option<&Identity> {
        match &self.stage {
            Stage::SignedIn(identity) => Some(identity),
            _ => None,
        }
    }

    async fn serve(
        &mut self,
        reader: &mut FrameReader<impl tokio::io::AsyncRead + Unpin>,
        kicks: &mut Kicks,
        shutdown: &CancellationToken,
    ) -> Ending {
        let idle = self.server.config.idle_timeout;
        // Fixed from the start: unlike the idle timeout, commands (a `PNG`) before
        // `USR` do not push it back, so an anonymous connection cannot stay open.
        let sign_in_by = Instant::now() + self.server.config.sign_in_timeout;
        // The waits for the rare events live across frames (as in the Switchboard), so
        // a frame does not register a timer, a cancellation waiter and a kick waiter
        // anew; the timer is re-armed only when it fires early.
        let mut last_frame = Instant::now();
        let mut deadline = std::pin::pin!(sleep_until(sign_in_by.min(last_frame + idle)));
        let mut cancelled = std::pin::pin!(shutdown.cancelled());
        let mut kicked = std::pin::pin!(kicks.recv());
        loop {
            let frame = tokio::select! {
                biased;
                Some(reason) = &mut kicked => return Ending::Out(reason),
                () = &mut cancelled => return Ending::Out(OutReason::ServerShutdown),
                read = reader.read_frame() => match read {
                    Ok(Some(frame)) => frame,
                    Ok(None) => return Ending::Disconnected,
                    Err(ReadError::Frame(error)) => return Ending::Framing(error),
                    Err(ReadError::Io(error)) => {
                        tracing::debug!(peer = %self.peer, %error, "NS connection read failed");
                        return Ending::Disconnected;
                    }
                },
                () = &mut deadline => {
                    let idle_by = last_frame + idle;
                    let signed_in = self.identity().is_some();
                    let (due, missed) = if signed_in || idle_by < sign_in_by {
                        (idle_by, Ending::Out(OutReason::IdleTimeout))
                    } else {
                        (sign_in_by, Ending::SignInDeadline)
                    };
                    if due <= Instant::now() {
                        return missed;
                    }
                    deadline.as_mut().reset(due);
                    continue;
                }
            };
            last_frame = Instant::now();
            if let Flow::Close(ending) = self.handle(frame).await {
                return ending;
            }
        }
    }

    async fn handle(&mut self, frame: Frame) -> Flow {
        let trid = frame.trid;
        if !self.limiter.take() {
            self.reply(ErrorReply::new(trid, ErrorCode::RateLimited).into_frame());
            return Flow::Continue;
        }
        let command = frame.command;
        match mocha_proto::ns::ClientCommand::parse(frame) {
            Ok(command) => {
                // Boxed, in a statement of its own (a temporary would live across the
                // await): the handlers' futures (Passport calls, SQL) are large, and
                // unboxed they would be part of every connection's task while it idles.
                let apply = Box::pin(crate::cmd::apply(self, command));
                apply.await
            }
            Err(error) => {
                tracing::debug!(peer = %self.peer, %command, %error, "NS command refused");
                self.reply(
                    ErrorReply { trid, code: error.error_code(), reason: error.to_string() }.into_frame(),
                );
                Flow::Continue
            }
        }
    }

    /// Leaves the registry and, if others could see this user, shows them offline.
    async fn sign_out(&self) {
        let Some(identity) = self.identity() else { return };
        self.server.detach(identity.user, self.connection).await;
    }
}

/// Runs one connection to its end: its session and the writer draining its outbox, in
/// one task ([`mocha_net::run_with_writer`]).
///
/// Not an `async fn`: an async fn keeps its arguments in its future for as long as it
/// runs, beside the futures they are moved into; built here, the connection's task
/// holds each part once.
pub(crate) fn run(
    server: Arc<NotificationServer>,
    stream: mocha_net::TlsConnection,
    peer: SocketAddr,
    connection: u64,
    shutdown: CancellationToken,
) -> impl Future<Output = ()> + Send + 'static {
    let (read, write) = stream.into_split();
    tracing::info!(%peer, "NS client connected");
    let (outbox, receivers) = Outbox::new(server.config.outbound_queue, UNUSED_BULK_LANE);
    let reader = FrameReader::new(read, server.config.limits);
    let limiter = TokenBucket::new(server.config.command_burst, server.config.commands_per_second);
    let session =
        Session { server, connection, peer, outbox: outbox.clone(), stage: Stage::Connected, limiter };
    let serving = serve_to_the_end(session, reader, receivers.kicks, shutdown);
    mocha_net::run_with_writer(mocha_net::write_frames(write, receivers.frames), outbox, serving)
}

/// Serves the session until it ends, signs it out, and returns the last frame the
/// client should get.
async fn serve_to_the_end(
    mut session: Session,
    mut reader: FrameReader<mocha_net::TlsReader>,
    mut kicks: Kicks,
    shutdown: CancellationToken,
) -> Option<Frame> {
    let peer = session.peer;
    let ending = session.serve(&mut reader, &mut kicks, &shutdown).await;
    // Out of the registry first, so nothing new is queued behind the last frame.
    let sign_out = Box::pin(session.sign_out());
    sign_out.await;
    let user = session.identity().map(|identity| identity.user.to_string());
    let user = user.as_deref().unwrap_or("-");
    let last = match &ending {
        Ending::Out(OutReason::TooSlow) => None, // its queue is full: nothing more fits
        Ending::Out(reason) => Some(Out { reason: reason.clone() }.into_frame()),
        Ending::SignInDeadline => Some(Out { reason: OutReason::IdleTimeout }.into_frame()),
        Ending::Framing(error) => {
            tracing::info!(%peer, user, %error, "NS protocol error; closing");
            Some(ErrorReply { trid: 0, code: error.error_code(), reason: error.to_string() }.into_frame())
        }
        Ending::AfterReply(_) | Ending::SignedOut | Ending::Disconnected => None,
    };
    let reason = match &ending {
        Ending::Out(reason) => out_code(reason),
        Ending::SignInDeadline => "TMO (not signed in by the sign-in deadline)",
        Ending::Framing(_) => "protocol error",
        Ending::AfterReply(why) => why,
        Ending::SignedOut => "signed out",
        Ending::Disconnected => "disconnected",
    };
    tracing::info!(%peer, user, reason, "NS client disconnected");
    last
}

fn out_code(reason: &OutReason) -> &'static str {
    match reason {
        OutReason::SignedInElsewhere => "OTH (signed in elsewhere)",
        OutReason::Banned(_) => "BAN (banned)",
        OutReason::AccountDeleted => "DEL (account deleted)",
        OutReason::ServerShutdown => "SSD (server shutdown)",
        OutReason::IdleTimeout => "TMO (idle timeout)",
        OutReason::TooSlow => "SLW (too slow: outbound queue full)",
        OutReason::SignInRevoked => "RVK (sign-in revoked)",
    }
}

#[cfg(test)]
mod tests {
    /// The size of what `f` returns: an async fn's future, without running it.
    fn future_size<A, B, C, D, E, R>(_: impl Fn(A, B, C, D, E) -> R) -> usize {
        std::mem::size_of::<R>()
    }

    /// An idle signed-in connection is this future (session and writer, in one task)
    /// and the TLS state it points to, so its size is most of what each of 10,000 idle
    /// sessions costs (docs/benchmarks.md). A first version that ran the two from an
    /// async fn, which keeps a future passed to it twice, was 2,376 bytes (debug).
    #[test]
    fn a_connection_task_stays_small() {
        let size = future_size(super::run);
        assert!(size <= 1700, "the NS connection future grew to {size} bytes (debug build)");
    }
}
