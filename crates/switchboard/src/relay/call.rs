//! One relayed call: its key, its members (bind token, bound address, path, replay
//! windows, packet budget) and the rules deciding whether a datagram is forwarded and to
//! whom. No I/O: the caller sends.

use std::net::SocketAddr;
use std::time::Instant;

use bytes::Bytes;
use mocha_auth::{BindToken, MediaKey, UserId};
use mocha_net::{Outbox, TokenBucket};
use mocha_proto::Token;
use mocha_proto::media::MediaHeader;
use mocha_proto::sb::server;

use super::replay::ReplayWindow;
use super::stats::{Counter, Counts};

/// Streams `0` audio, `1` video, `2` control.
pub(crate) const STREAMS: usize = 3;

/// Where a member's last packet came from, and so how it is sent to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Path {
    Udp,
    Tls,
}

pub(crate) struct Member {
    pub id: u32,
    pub user: UserId,
    /// Which switchboard connection the grant went to; a new one gets a fresh grant.
    pub connection: u64,
    pub token: BindToken,
    pub addr: Option<SocketAddr>,
    /// TLS until the first BIND: a member never bound can only be reached by `MED`.
    pub path: Path,
    replay: [ReplayWindow; STREAMS],
    bucket: TokenBucket,
    pub outbox: Outbox,
    /// The member's user id as a frame argument, for the `MED` frames it sends.
    sender: Token,
}

impl Member {
    pub fn new(id: u32, user: UserId, connection: u64, outbox: Outbox, bucket: TokenBucket) -> Self {
        Self {
            id,
            user,
            connection,
            token: BindToken::generate(),
            addr: None,
            path: Path::Tls,
            replay: [ReplayWindow::default(); STREAMS],
            bucket,
            outbox,
            sender: mocha_net::user_token(user),
        }
    }
}

/// The shared, immutable part of a call and its lock-protected state.
pub(crate) struct CallSlot {
    pub room: String,
    pub call_id: Token,
    pub key: MediaKey,
    pub expires: Instant,
    pub state: std::sync::Mutex<CallState>,
}

impl CallSlot {
    pub fn state(&self) -> std::sync::MutexGuard<'_, CallState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[derive(Default)]
pub(crate) struct CallState {
    pub members: Vec<Member>,
    /// Pairs of members (by user) with a block between them: nothing passes.
    pub blocked: Vec<(UserId, UserId)>,
    pub next_member: u32,
    pub counts: Counts,
}

/// Why a MEDIA packet from a known member went nowhere.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refusal {
    Replay,
    Throttled,
    Malformed,
}

impl Refusal {
    pub fn counter(self) -> Counter {
        match self {
            Refusal::Replay => Counter::Replay,
            Refusal::Throttled => Counter::Throttled,
            Refusal::Malformed => Counter::Malformed,
        }
    }
}

/// Where one accepted packet goes.
#[derive(Default)]
pub(crate) struct Targets {
    pub udp: Vec<SocketAddr>,
    pub tls: Vec<Outbox>,
    /// The sender's user token, for building the `MED` frame when `tls` is not empty.
    pub sender: Option<Token>,
}

impl Targets {
    pub fn clear(&mut self) {
        self.udp.clear();
        self.tls.clear();
        self.sender = None;
    }

    /// `MED 0 <sender> <call-id>` for the members on TLS, with the datagram unchanged.
    pub fn med_frame(&self, call_id: &Token, datagram: &[u8]) -> Option<mocha_proto::Frame> {
        let sender = self.sender.clone()?;
        let payload = Bytes::copy_from_slice(datagram);
        Some(server::Med { sender_id: sender, call_id: call_id.clone(), payload }.into_frame())
    }
}

fn pair(a: UserId, b: UserId) -> (UserId, UserId) {
    (a.min(b), a.max(b))
}

impl CallState {
    pub fn member_mut(&mut self, id: u32) -> Option<&mut Member> {
        self.members.iter_mut().find(|m| m.id == id)
    }

    /// Applies the replay window and the rate of member `id` to a packet whose tag has
    /// verified, records its path, and fills `targets` with the other members it goes to.
    /// True if the member's path changed.
    pub fn accept(
        &mut self,
        id: u32,
        header: &MediaHeader,
        path: Path,
        targets: &mut Targets,
    ) -> Result<bool, Refusal> {
        let stream = usize::from(header.stream);
        let Some(index) = self.members.iter().position(|m| m.id == id) else {
            return Err(Refusal::Malformed);
        };
        let member = &mut self.members[index];
        let Some(window) = member.replay.get(stream) else { return Err(Refusal::Malformed) };
        if !window.is_fresh(header.seq) {
            return Err(Refusal::Replay);
        }
        if !member.bucket.take() {
            return Err(Refusal::Throttled);
        }
        member.replay[stream].mark(header.seq);
        let switched = member.path != path;
        if switched {
            member.path = path;
            self.counts.add(Counter::PathSwitch);
        }
        let (from, sender) = (member.user, member.sender.clone());
        for other in &self.members {
            if other.id == id || other.user == from || self.blocked.contains(&pair(from, other.user)) {
                continue;
            }
            match (other.path, other.addr) {
                (Path::Udp, Some(addr)) => targets.udp.push(addr),
                _ => targets.tls.push(other.outbox.clone()),
            }
        }
        if !targets.tls.is_empty() {
            targets.sender = Some(sender);
        }
        Ok(switched)
    }

    pub fn set_blocked(&mut self, blocked: &[(UserId, UserId)]) {
        self.blocked = blocked.iter().map(|&(a, b)| pair(a, b)).collect();
    }
}
