//! The relay path with no sockets, for benchmarks (`benches/relay.rs`): one room of a
//! sender and N recipients, each with a real [`Outbox`]; [`RelayHarness::relay`] takes
//! one client `MSG` in wire form and runs it through the same code a connection does —
//! frame decode, command parse, rate limit, payload checks, room lookup, the relayed
//! frame's build, one outbox push per recipient — and then drains every recipient's
//! outbox with the connection writer's own batch code into memory: the bytes that
//! would go to TLS. Behind the `bench-harness` feature; the server never builds it.

use std::sync::Arc;

use bytes::BytesMut;
use mocha_auth::{SigningKey, UserId};
use mocha_net::{Frames, Outbox, TokenBucket};
use mocha_passport::{Passport, StatusBoard};
use mocha_proto::{Frame, FrameError};

use crate::front::{MenpRoomFront, Speaker};
use crate::relay::{Relay, RelayConfig};
use crate::ring::{RingFailure, RingFuture, Ringer};
use crate::room::Participant;
use crate::session::{Member, Session};
use crate::{Switchboard, SwitchboardConfig};

const ROOM: &str = "bench-room";

/// Nobody can be invited from the harness's room.
struct NoRinger;

impl Ringer for NoRinger {
    fn ring<'a>(&'a self, _caller: UserId, _callee: &'a str, _room: &'a str) -> RingFuture<'a> {
        Box::pin(async { Err(RingFailure::Offline) })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum HarnessError {
    #[error("the input is not one whole frame")]
    Incomplete,
    #[error(transparent)]
    Frame(#[from] FrameError),
    #[error("writing into memory failed: {0}")]
    Io(#[from] std::io::Error),
}

pub struct RelayHarness {
    session: Session,
    /// The sender's own outbox (replies such as `ERR` land here).
    sender_frames: Frames,
    recipients: Vec<Frames>,
    sink: Vec<u8>,
    // Kept so the outboxes stay open.
    _outboxes: Vec<Outbox>,
}

impl RelayHarness {
    /// A room with a sender (`u1`) and `recipients` others, on `passport` (the relay
    /// path never queries it unless a text reaches nobody). No message rate limit.
    pub fn new(passport: Arc<Passport>, recipients: usize) -> Self {
        let config = SwitchboardConfig {
            messages_per_second: u32::MAX,
            message_burst: u32::MAX,
            max_participants: recipients + 1,
            ..SwitchboardConfig::default()
        };
        let gauge = StatusBoard::default().register("switchboard", "bench".into(), true);
        // The media relay is never used by text; it needs a socket all the same.
        let socket = std::net::UdpSocket::bind(("127.0.0.1", 0))
            .and_then(|socket| socket.set_nonblocking(true).map(|()| socket))
            .and_then(tokio::net::UdpSocket::from_std)
            .expect("a loopback UDP socket for the unused media relay");
        let relay = Relay::new(socket, "127.0.0.1:0".into(), RelayConfig::default());
        let sb = Switchboard::new(
            passport,
            SigningKey::generate().verifying_key(),
            Arc::new(NoRinger),
            config,
            gauge,
            relay,
        );
        let mut outboxes = Vec::new();
        let mut frames = Vec::new();
        {
            let mut rooms = sb.rooms();
            let room = rooms.entry(ROOM.to_string()).or_default();
            for index in 0..=recipients {
                let (outbox, receivers) = Outbox::new(sb.config.control_queue, sb.config.bulk_queue);
                let user = UserId(index as i64 + 1);
                let participant = Participant {
                    speaker: Speaker::new(
                        user,
                        format!("bench{}@example.org", index + 1),
                        format!("Bench User {}", index + 1),
                    ),
                    outbox: outbox.clone(),
                    connection: index as u64 + 1,
                    front: Arc::new(MenpRoomFront),
                };
                let joined = room.join(user, participant, &[], recipients + 1);
                debug_assert!(matches!(joined, Ok(None)));
                outboxes.push(outbox);
                frames.push(receivers.frames);
            }
        }
        let sender_frames = frames.remove(0);
        let session = Session {
            connection: 1,
            peer: std::net::SocketAddr::from(([127, 0, 0, 1], 0)),
            outbox: outboxes[0].clone(),
            member: Some(Member {
                user: UserId(1),
                speaker: Speaker::new(UserId(1), "bench1@example.org".into(), "Bench User 1".into()),
                room: ROOM.to_string(),
            }),
            message_limiter: TokenBucket::new(u32::MAX, u32::MAX),
            sb,
        };
        Self { session, sender_frames, recipients: frames, sink: Vec::new(), _outboxes: outboxes }
    }

    /// One client frame in wire form through the switchboard, then every outbox drained
    /// into memory. Gives the bytes the recipients' writers produced (the sender's own
    /// replies are drained too, and not counted).
    pub async fn relay(&mut self, wire: &[u8]) -> Result<usize, HarnessError> {
        self.sink.clear();
        let mut input = BytesMut::from(wire);
        let frame =
            Frame::decode(&mut input, &self.session.sb.config.limits)?.ok_or(HarnessError::Incomplete)?;
        let _ = Box::pin(crate::cmd::apply(&mut self.session, frame)).await;
        let mut written = 0;
        for frames in &mut self.recipients {
            written += drain(frames, &mut self.sink).await?;
        }
        drain(&mut self.sender_frames, &mut self.sink).await?;
        Ok(written)
    }

    /// What the last [`relay`](Self::relay) wrote for the recipients and the sender, in order.
    pub fn last_output(&self) -> &[u8] {
        &self.sink
    }
}

/// Writes whatever is queued (without waiting) into `sink`; gives the bytes written.
async fn drain(frames: &mut Frames, sink: &mut Vec<u8>) -> std::io::Result<usize> {
    let before = sink.len();
    while let Some(batch) = frames.try_next() {
        mocha_net::write_batch(sink, batch).await?;
    }
    Ok(sink.len() - before)
}
