//! The UDP media relay (see `docs/calls.md`): one socket, a table of bind tokens and
//! bound addresses, and per-call state. A MEDIA datagram is forwarded unchanged to the
//! call's other members — by UDP to those whose path is UDP, as a `MED` frame on the
//! bulk lane to those on TLS — only if it comes from a bound member's address, carries
//! that member's id, verifies under the call's key, is not a replay, fits
//! `relay_max_packet` and is within the member's rate. Anything else is counted and
//! dropped, never answered. The relay holds calls only in memory, and only while the
//! room says they exist: [`Relay::sync_room`] is called after every change to a room's
//! calls, so hang-up, leaving, blocks, bans and the room closing forget members at once.

mod call;
mod replay;
mod stats;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, RwLock};
use std::time::{Duration, Instant};

use mocha_auth::{MediaError, MediaKey, UserId};
use mocha_net::{Outbox, TokenBucket};
use mocha_proto::Token;
use mocha_proto::media::{BIND_TOKEN_LEN, BOUND_LEN, Bind, Bound, Datagram, DatagramError, MediaHeader};
use mocha_proto::sb::server::Rly;
use tokio::net::UdpSocket;
use tokio_util::sync::CancellationToken;

use call::{CallSlot, CallState, Member, Path, Refusal, Targets};
pub use stats::RelayStats;
use stats::{Counter, SharedCounts};

/// The relay's limits.
#[derive(Clone, Debug)]
pub struct RelayConfig {
    /// Datagrams (and `MED` payloads) longer than this are dropped.
    pub max_packet: usize,
    /// Each member's sustained packet rate (both paths together).
    pub packets_per_second: u32,
    /// How many packets a member may send at once above the rate (a video keyframe).
    pub burst: u32,
    /// A call's tokens stop working after this long, however long the room lasts.
    pub call_lifetime: Duration,
}

impl Default for RelayConfig {
    fn default() -> Self {
        Self {
            max_packet: 1280,
            packets_per_second: 500,
            burst: 250,
            call_lifetime: Duration::from_secs(12 * 3600),
        }
    }
}

/// One call as a room sees it: who is in it (those who can reach someone else in it),
/// on which connection, and which of them block each other.
pub(crate) struct WantedCall {
    pub call_id: String,
    pub members: Vec<(UserId, u64, Outbox)>,
    pub blocked: Vec<(UserId, UserId)>,
}

/// Why a `MED` frame was refused (the sender gets an `ERR`).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub(crate) enum TlsMediaError {
    #[error("media packets are limited to {0} bytes")]
    Oversize(usize),
    #[error("not a media packet: {0}")]
    Malformed(DatagramError),
    #[error("the packet is not sealed with this call's key under your member id")]
    Forged,
    #[error("you have no relay grant in this call")]
    NotAMember,
}

type Binding = (Arc<CallSlot>, u32);

pub struct Relay {
    socket: UdpSocket,
    /// `host:port` as clients dial it, put in `RLY`.
    advertised: String,
    config: RelayConfig,
    /// Lock order: `calls`, then `tokens`, then `bound`, then a call's state.
    calls: Mutex<HashMap<String, HashMap<String, Arc<CallSlot>>>>,
    tokens: Mutex<HashMap<[u8; BIND_TOKEN_LEN], Binding>>,
    /// Read on every datagram; written only by BIND and when members go.
    bound: RwLock<HashMap<SocketAddr, Binding>>,
    counts: SharedCounts,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

/// What to do after looking at one datagram.
enum Action {
    Nothing,
    Answer([u8; BOUND_LEN]),
    Forward(Arc<CallSlot>),
}

impl Relay {
    /// `socket` is already bound; `advertised` is the `host:port` clients are told.
    pub fn new(socket: UdpSocket, advertised: String, config: RelayConfig) -> Arc<Self> {
        Arc::new(Self {
            socket,
            advertised,
            config,
            calls: Mutex::default(),
            tokens: Mutex::default(),
            bound: RwLock::default(),
            counts: SharedCounts::default(),
        })
    }

    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.socket.local_addr()
    }

    /// What the relay has done since it started.
    pub fn stats(&self) -> RelayStats {
        self.counts.snapshot()
    }

    /// Calls with relay state right now.
    pub fn call_count(&self) -> usize {
        lock(&self.calls).values().map(HashMap::len).sum()
    }

    /// Bound addresses right now.
    pub fn bound_count(&self) -> usize {
        self.bound.read().unwrap_or_else(|e| e.into_inner()).len()
    }

    /// Receives and forwards datagrams until `shutdown`. One buffer, reused.
    pub async fn serve(self: Arc<Self>, shutdown: CancellationToken) {
        let mut buf = vec![0u8; self.config.max_packet + 1];
        let mut plain = Vec::with_capacity(buf.len());
        let mut targets = Targets::default();
        loop {
            let (len, from) = tokio::select! {
                () = shutdown.cancelled() => break,
                received = self.socket.recv_from(&mut buf) => match received {
                    Ok(received) => received,
                    // ICMP errors for earlier sends surface here; they concern nobody now.
                    Err(e) => {
                        tracing::debug!(error = %e, "relay receive failed");
                        continue;
                    }
                },
            };
            targets.clear();
            match self.handle(&buf[..len], from, &mut plain, &mut targets) {
                Action::Nothing => {}
                Action::Answer(bound) => {
                    if self.socket.send_to(&bound, from).await.is_err() {
                        self.counts.add(Counter::SendFailed);
                    }
                }
                Action::Forward(slot) => self.deliver(&slot, &buf[..len], &targets).await,
            }
        }
    }

    fn handle(
        &self,
        datagram: &[u8],
        from: SocketAddr,
        plain: &mut Vec<u8>,
        targets: &mut Targets,
    ) -> Action {
        if datagram.len() > self.config.max_packet {
            self.counts.add(Counter::Oversize);
            return Action::Nothing;
        }
        match Datagram::decode(datagram) {
            Ok(Datagram::Media(header)) => self.media(datagram, &header, from, plain, targets),
            Ok(Datagram::Bind(bind)) => match self.bind(&bind, from) {
                Some(bound) => Action::Answer(bound),
                None => Action::Nothing,
            },
            Ok(Datagram::Bound(_)) | Err(_) => {
                self.counts.add(Counter::Malformed);
                Action::Nothing
            }
        }
    }

    /// A good token (re)binds its member to `from`; the answer echoes the probe.
    fn bind(&self, bind: &Bind, from: SocketAddr) -> Option<[u8; BOUND_LEN]> {
        let found = lock(&self.tokens).get(&bind.token).cloned();
        let live = |(slot, id): &Binding| *id == bind.member && Instant::now() < slot.expires;
        let Some((slot, id)) = found.filter(live) else {
            self.counts.add(Counter::Token);
            return None;
        };
        let mut bound = self.bound.write().unwrap_or_else(|e| e.into_inner());
        let displaced = {
            let mut state = slot.state();
            // Forgotten between the two looks: the token is dead now.
            let Some(member) = state.member_mut(id).filter(|m| m.token.wire() == bind.token) else {
                drop(state);
                self.counts.add(Counter::Token);
                return None;
            };
            let mut displaced = None;
            if member.addr != Some(from) {
                match member.addr.replace(from) {
                    Some(old) => {
                        bound.remove(&old);
                    }
                    // Bound for the first time: the member can now be reached by UDP.
                    None => member.path = Path::Udp,
                }
                displaced = bound.insert(from, (slot.clone(), id));
            }
            state.counts.add(Counter::Bound);
            displaced
        };
        // An address belongs to one member: whoever had it before loses it.
        if let Some((other_slot, other_id)) = displaced
            && !(Arc::ptr_eq(&other_slot, &slot) && other_id == id)
            && let Some(other) = other_slot.state().member_mut(other_id)
        {
            other.addr = None;
            other.path = Path::Tls;
        }
        self.counts.add(Counter::Bound);
        Some(Bound { member: id, probe: bind.probe }.encode())
    }

    fn media(
        &self,
        datagram: &[u8],
        header: &MediaHeader,
        from: SocketAddr,
        plain: &mut Vec<u8>,
        targets: &mut Targets,
    ) -> Action {
        let binding = self.bound.read().unwrap_or_else(|e| e.into_inner()).get(&from).cloned();
        let Some((slot, id)) = binding else {
            self.counts.add(Counter::Stranger);
            return Action::Nothing;
        };
        if Instant::now() >= slot.expires {
            self.counts.add(Counter::Token);
            return Action::Nothing;
        }
        if header.member != id {
            self.count(&slot, Counter::Forged);
            return Action::Nothing;
        }
        if slot.key.open_into(datagram, plain).is_err() {
            self.count(&slot, Counter::Forged);
            return Action::Nothing;
        }
        plain.clear();
        let accepted = slot.state().accept(id, header, Path::Udp, targets);
        match accepted {
            Ok(switched) => {
                if switched {
                    self.counts.add(Counter::PathSwitch);
                }
                Action::Forward(slot)
            }
            Err(refusal) => {
                self.count(&slot, refusal.counter());
                Action::Nothing
            }
        }
    }

    fn count(&self, slot: &CallSlot, counter: Counter) {
        slot.state().counts.add(counter);
        self.counts.add(counter);
    }

    async fn deliver(&self, slot: &CallSlot, datagram: &[u8], targets: &Targets) {
        let (mut udp, mut failed) = (0, 0);
        for addr in &targets.udp {
            match self.socket.send_to(datagram, addr).await {
                Ok(_) => udp += 1,
                Err(_) => failed += 1,
            }
        }
        self.finish(slot, datagram, targets, udp, failed);
    }

    /// Queues the `MED` copies and counts the delivery.
    fn finish(&self, slot: &CallSlot, datagram: &[u8], targets: &Targets, udp: u64, failed: u64) {
        let (mut tls, mut full) = (0, 0);
        if let Some(frame) = targets.med_frame(&slot.call_id, datagram) {
            for outbox in &targets.tls {
                if outbox.push_media(frame.clone()) {
                    tls += 1;
                } else {
                    full += 1;
                }
            }
        }
        let mut state = slot.state();
        for (counter, n) in [
            (Counter::ForwardedUdp, udp),
            (Counter::SendFailed, failed),
            (Counter::ForwardedTls, tls),
            (Counter::LaneFull, full),
        ] {
            for _ in 0..n {
                state.counts.add(counter);
                self.counts.add(counter);
            }
        }
    }

    /// A `MED` frame from `user` in `room`'s call `call_id`: the same checks and
    /// forwarding as a datagram, and the member's path becomes TLS. Replays and packets
    /// over the rate are dropped silently (counted), as on UDP.
    pub(crate) fn media_from_tls(
        &self,
        room: &str,
        call_id: &str,
        user: UserId,
        payload: &[u8],
    ) -> Result<(), TlsMediaError> {
        if payload.len() > self.config.max_packet {
            self.counts.add(Counter::Oversize);
            return Err(TlsMediaError::Oversize(self.config.max_packet));
        }
        let header = match MediaHeader::decode(payload) {
            Ok(header) => header,
            Err(e) => {
                self.counts.add(Counter::Malformed);
                return Err(TlsMediaError::Malformed(e));
            }
        };
        let slot = lock(&self.calls).get(room).and_then(|calls| calls.get(call_id)).cloned();
        let Some(slot) = slot else { return Err(TlsMediaError::NotAMember) };
        let id = slot.state().members.iter().find(|m| m.user == user).map(|m| m.id);
        let Some(id) = id else { return Err(TlsMediaError::NotAMember) };
        if Instant::now() >= slot.expires {
            self.counts.add(Counter::Token);
            return Err(TlsMediaError::NotAMember);
        }
        if header.member != id {
            self.count(&slot, Counter::Forged);
            return Err(TlsMediaError::Forged);
        }
        let mut plain = Vec::with_capacity(payload.len());
        if let Err(
            MediaError::Forged | MediaError::Malformed(_) | MediaError::BadKey | MediaError::BadToken,
        ) = slot.key.open_into(payload, &mut plain)
        {
            self.count(&slot, Counter::Forged);
            return Err(TlsMediaError::Forged);
        }
        drop(plain);
        let mut targets = Targets::default();
        let accepted = slot.state().accept(id, &header, Path::Tls, &mut targets);
        match accepted {
            Ok(switched) => {
                if switched {
                    self.counts.add(Counter::PathSwitch);
                }
            }
            Err(refusal) => {
                self.count(&slot, refusal.counter());
                return Ok(());
            }
        }
        let (mut udp, mut failed) = (0, 0);
        for addr in &targets.udp {
            // Never waits: this runs on the sender's connection, under the room lock.
            match self.socket.try_send_to(payload, *addr) {
                Ok(_) => udp += 1,
                Err(_) => failed += 1,
            }
        }
        self.finish(&slot, payload, &targets, udp, failed);
        Ok(())
    }

    /// Makes the relay's calls for `room` what the room says they are: calls and members
    /// that are gone are forgotten (tokens and addresses at once), new members get a
    /// fresh member id and bind token and are sent `RLY`.
    pub(crate) fn sync_room(&self, room: &str, wanted: Vec<WantedCall>) {
        let mut calls = lock(&self.calls);
        let mut tokens = lock(&self.tokens);
        let mut bound = self.bound.write().unwrap_or_else(|e| e.into_inner());
        let existing = calls.entry(room.to_string()).or_default();
        let ended: Vec<String> =
            existing.keys().filter(|id| !wanted.iter().any(|w| &w.call_id == *id)).cloned().collect();
        for call_id in ended {
            if let Some(slot) = existing.remove(&call_id) {
                let mut state = slot.state();
                for member in state.members.drain(..) {
                    forget(&mut tokens, &mut bound, &member);
                }
                log_end(&slot, &state);
            }
        }
        let mut grants = Vec::new();
        for want in wanted {
            let Ok(call_token) = Token::new(want.call_id.clone()) else { continue };
            let slot = existing
                .entry(want.call_id.clone())
                .or_insert_with(|| {
                    Arc::new(CallSlot {
                        room: room.to_string(),
                        call_id: call_token,
                        key: MediaKey::generate(),
                        expires: Instant::now() + self.config.call_lifetime,
                        state: Mutex::new(CallState { next_member: 1, ..CallState::default() }),
                    })
                })
                .clone();
            let mut state = slot.state();
            let mut kept = Vec::with_capacity(want.members.len());
            for member in state.members.drain(..) {
                let still = want.members.iter().find(|(user, _, _)| *user == member.user);
                match still {
                    Some((_, connection, outbox)) if *connection == member.connection => {
                        let mut member = member;
                        member.outbox = outbox.clone();
                        kept.push(member);
                    }
                    _ => forget(&mut tokens, &mut bound, &member),
                }
            }
            for (user, connection, outbox) in &want.members {
                if kept.iter().any(|m| m.user == *user) {
                    continue;
                }
                let id = state.next_member;
                state.next_member += 1;
                let bucket = TokenBucket::new(self.config.burst, self.config.packets_per_second);
                let member = Member::new(id, *user, *connection, outbox.clone(), bucket);
                tokens.insert(member.token.wire(), (slot.clone(), id));
                grants.push((outbox.clone(), id, member.token));
                kept.push(member);
            }
            state.members = kept;
            state.set_blocked(&want.blocked);
            drop(state);
            for (outbox, member_id, token) in grants.drain(..) {
                let rly = Rly {
                    call_id: slot.call_id.clone(),
                    relay: Token::new(self.advertised.clone()).unwrap_or_else(|_| slot.call_id.clone()),
                    member_id,
                    bind_token: Token::new(token.as_str()).unwrap_or_else(|_| slot.call_id.clone()),
                    media_key: Token::new(slot.key.to_base64url()).unwrap_or_else(|_| slot.call_id.clone()),
                };
                outbox.push(rly.into_frame());
            }
        }
        if existing.is_empty() {
            calls.remove(room);
        }
    }
}

fn forget(
    tokens: &mut HashMap<[u8; BIND_TOKEN_LEN], Binding>,
    bound: &mut HashMap<SocketAddr, Binding>,
    member: &Member,
) {
    tokens.remove(&member.token.wire());
    if let Some(addr) = member.addr
        && bound.get(&addr).is_some_and(|(_, id)| *id == member.id)
    {
        bound.remove(&addr);
    }
}

fn log_end(slot: &CallSlot, state: &CallState) {
    let stats = RelayStats::from(state.counts);
    tracing::info!(
        room = %slot.room,
        call = %slot.call_id,
        forwarded_udp = stats.forwarded_udp,
        forwarded_tls = stats.forwarded_tls,
        bound = stats.bound,
        dropped_stranger = stats.dropped_stranger,
        dropped_replay = stats.dropped_replay,
        dropped_forged = stats.dropped_forged,
        dropped_oversize = stats.dropped_oversize,
        dropped_throttled = stats.dropped_throttled,
        dropped_malformed = stats.dropped_malformed,
        dropped_lane_full = stats.dropped_lane_full,
        path_switches = stats.path_switches,
        "relayed call ended"
    );
}
