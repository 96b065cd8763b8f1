//! One MSNP Notification Server connection from accept to goodbye: reads lines, enforces
//! the sign-in deadline, the idle timeout and the command rate, dispatches commands to
//! [`crate::cmd`], and on the way out tells the client why (`OUT OTH`, `OUT SSD`), takes
//! it out of the core's registry and ends the Passport sign-in its token came from.

use std::net::SocketAddr;
use std::sync::Arc;

use mocha_auth::UserId;
use mocha_net::{Batch, Frames, Kicks, Outbox, Outgoing, TokenBucket};
use mocha_proto::OutReason;
use tokio::io::{AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::MsnpGateway;
use crate::error::Code;
use crate::line::{Line, LineError};
use crate::reader::{LineReader, Stop, next_line};
use crate::render::{MsnpFront, Version};
use crate::wire;

/// The gateway never sends bulk traffic; one slot is the smallest the outbox allows.
const UNUSED_BULK_LANE: usize = 1;

/// Where a connection is in the sign-in.
pub(crate) enum Stage {
    /// `VER` must come first.
    Connected,
    /// `VER` agreed: `CVR` (optional) and `USR TWN I` next.
    Negotiated,
    /// `USR TWN I <handle>` answered with a challenge: `USR TWN S t=…` next, for this user.
    Challenged {
        username: String,
    },
    SignedIn(Identity),
}

#[derive(Clone, Debug)]
pub(crate) struct Identity {
    pub user: UserId,
    pub username: String,
    /// The Passport sign-in the token belonged to; ended with the session.
    pub sign_in: String,
    /// Set by the first `CHG`, which is answered with `ILN` for every visible contact.
    pub chose_status: bool,
}

/// Why a connection ends.
#[derive(Debug)]
pub(crate) enum Ending {
    /// The core (another sign-in, a ban, shutdown…) ends it.
    Out(OutReason),
    /// The stream broke the line or payload limits.
    Protocol(LineError),
    /// Already answered (a refused sign-in, no common version); just close.
    AfterReply(&'static str),
    SignInDeadline,
    SignedOut,
    Disconnected,
}

/// What a command handler wants next.
pub(crate) enum Flow {
    Continue,
    Close(Ending),
}

pub(crate) struct Session {
    pub gateway: Arc<MsnpGateway>,
    pub connection: u64,
    pub peer: SocketAddr,
    pub outbox: Outbox,
    pub stage: Stage,
    /// Set by `VER`.
    pub version: Version,
    limiter: TokenBucket,
}

impl Session {
    pub fn send(&self, wire: bytes::Bytes) {
        self.outbox.push_wire(wire);
    }

    pub fn front(&self) -> MsnpFront {
        MsnpFront { version: self.version, switchboard: self.gateway.switchboard.clone() }
    }

    pub fn identity(&self) -> Option<&Identity> {
        match &self.stage {
            Stage::SignedIn(identity) => Some(identity),
            _ => None,
        }
    }

    async fn serve<R: tokio::io::AsyncRead + Unpin>(
        &mut self,
        reader: &mut LineReader<R>,
        kicks: &mut Kicks,
        shutdown: &CancellationToken,
    ) -> Ending {
        let idle = self.gateway.config.idle_timeout;
        let sign_in_by = Instant::now() + self.gateway.config.sign_in_timeout;
        loop {
            let idle_by = Instant::now() + idle;
            let (deadline, missed) = if self.identity().is_some() || idle_by < sign_in_by {
                (idle_by, Ending::Out(OutReason::IdleTimeout))
            } else {
                (sign_in_by, Ending::SignInDeadline)
            };
            let line = match next_line(reader, kicks, shutdown, deadline, &self.outbox, self.peer).await {
                Ok(line) => line,
                Err(Stop::Deadline) => return missed,
                Err(Stop::Out(reason)) => return Ending::Out(reason),
                Err(Stop::Protocol(error)) => return Ending::Protocol(error),
                Err(Stop::Disconnected) => return Ending::Disconnected,
            };
            if let Flow::Close(ending) = self.handle(line).await {
                return ending;
            }
        }
    }

    async fn handle(&mut self, line: Line) -> Flow {
        if !self.limiter.take() {
            self.send(wire::error(Code::TooFast, line.trid().unwrap_or(0)));
            return Flow::Continue;
        }
        // Boxed: the handlers' futures (Passport calls, SQL) are large, and unboxed they
        // would be part of every connection's task while it idles.
        let apply = Box::pin(crate::cmd::apply(self, line));
        apply.await
    }

    async fn sign_out(&self, ending: &Ending) {
        let Some(identity) = self.identity() else { return };
        self.gateway.core.detach(identity.user, self.connection).await;
        // The token came from a Passport sign-in made for this session alone; end it so
        // it is not left among the account's sign-ins. Not when another session took
        // over: that one may have signed in with the same token.
        if matches!(ending, Ending::Out(OutReason::SignedInElsewhere)) {
            return;
        }
        let passport = self.gateway.core.passport();
        if let Err(error) = passport.revoke_sign_in(identity.user, &identity.sign_in).await {
            tracing::warn!(user = %identity.user, %error, "could not end the sign-in of a closed MSNP session");
        }
    }
}

/// Runs one connection to its end: the session and its line writer in one task
/// ([`mocha_net::run_with_writer`]).
pub(crate) async fn run(
    gateway: Arc<MsnpGateway>,
    tcp: TcpStream,
    peer: SocketAddr,
    shutdown: CancellationToken,
) {
    tracing::info!(%peer, "MSNP client connected");
    let (read, write) = tcp.into_split();
    let config = &gateway.config;
    let (outbox, receivers) = Outbox::new(config.outbound_queue, UNUSED_BULK_LANE);
    let reader = LineReader::new(read, config.limits);
    let limiter = TokenBucket::new(config.command_burst, config.commands_per_second);
    let connection = gateway.core.next_connection();
    let session = Session {
        gateway: gateway.clone(),
        connection,
        peer,
        outbox: outbox.clone(),
        stage: Stage::Connected,
        version: Version::NEWEST,
        limiter,
    };
    let serving = serve_to_the_end(session, reader, receivers.kicks, shutdown);
    mocha_net::run_with_writer(write_lines(write, receivers.frames), outbox, serving).await;
}

/// Serves the session until it ends, signs it out, and queues the last line the
/// client should get.
async fn serve_to_the_end(
    mut session: Session,
    mut reader: LineReader<tokio::net::tcp::OwnedReadHalf>,
    mut kicks: Kicks,
    shutdown: CancellationToken,
) -> Option<mocha_proto::Frame> {
    let peer = session.peer;
    let ending = session.serve(&mut reader, &mut kicks, &shutdown).await;
    let sign_out = Box::pin(session.sign_out(&ending));
    sign_out.await;
    let user = session.identity().map(|identity| identity.user.to_string());
    let user = user.as_deref().unwrap_or("-");
    let last = match &ending {
        Ending::Out(OutReason::TooSlow) => None, // its queue is full: nothing more fits
        Ending::Out(OutReason::SignedInElsewhere) => Some(wire::line(["OUT", "OTH"])),
        Ending::Out(OutReason::ServerShutdown) => Some(wire::line(["OUT", "SSD"])),
        Ending::Out(_) => Some(wire::line(["OUT"])),
        Ending::SignInDeadline | Ending::Protocol(_) => Some(wire::line(["OUT"])),
        Ending::AfterReply(_) | Ending::SignedOut | Ending::Disconnected => None,
    };
    let reason = match &ending {
        Ending::Out(reason) => reason.code(),
        Ending::SignInDeadline => "TMO (not signed in by the sign-in deadline)",
        Ending::Protocol(_) => "protocol error",
        Ending::AfterReply(why) => why,
        Ending::SignedOut => "signed out",
        Ending::Disconnected => "disconnected",
    };
    if let Ending::Protocol(error) = &ending {
        tracing::info!(%peer, user, %error, "MSNP protocol error; closing");
    }
    tracing::info!(%peer, user, reason, "MSNP client disconnected");
    if let Some(last) = last {
        session.outbox.push_wire(last);
    }
    None
}

/// Writes queued lines until told to close or the peer goes away, one write and flush
/// per line: classic clients (and msnp11-sdk) parse each read on its own and can lose a
/// line cut across two reads, so a burst is never coalesced into one big write.
pub(crate) async fn write_lines<W: AsyncWrite + Unpin>(
    mut write: W,
    mut frames: Frames,
) -> std::io::Result<()> {
    while let Some(batch) = frames.next().await {
        let Batch::Control(items) = batch else { continue };
        for item in items {
            match item {
                Outgoing::Wire(bytes) => {
                    write.write_all(&bytes).await?;
                    write.flush().await?;
                }
                Outgoing::Close(_) => return write.shutdown().await,
                Outgoing::Frame(frame) => {
                    tracing::error!(command = %frame.command, "a MENP frame reached an MSNP connection; dropped");
                }
            }
        }
    }
    write.shutdown().await
}
