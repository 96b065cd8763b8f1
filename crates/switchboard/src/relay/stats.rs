//! What the relay did with each datagram, counted per call (logged when the call ends)
//! and for the whole relay (for tests and operators). Counts only: no addresses kept.

use std::sync::atomic::{AtomicU64, Ordering};

/// One kind of outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Counter {
    ForwardedUdp,
    ForwardedTls,
    Bound,
    Stranger,
    Replay,
    Forged,
    Oversize,
    Token,
    Throttled,
    Malformed,
    LaneFull,
    SendFailed,
    PathSwitch,
}

const COUNTERS: usize = 13;

/// Counts as plain numbers (one call's, under its lock).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Counts([u64; COUNTERS]);

impl Counts {
    pub fn add(&mut self, counter: Counter) {
        self.0[counter as usize] += 1;
    }
}

/// The relay-wide counts, shared by every task that forwards.
#[derive(Debug, Default)]
pub(crate) struct SharedCounts([AtomicU64; COUNTERS]);

impl SharedCounts {
    pub fn add(&self, counter: Counter) {
        self.0[counter as usize].fetch_add(1, Ordering::Relaxed);
    }

    pub fn snapshot(&self) -> RelayStats {
        RelayStats::from(Counts(std::array::from_fn(|i| self.0[i].load(Ordering::Relaxed))))
    }
}

/// A snapshot of what the relay did: copies forwarded and datagrams dropped, by reason.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RelayStats {
    /// Copies sent by UDP to members whose path is UDP.
    pub forwarded_udp: u64,
    /// Copies queued as `MED` frames for members whose path is TLS.
    pub forwarded_tls: u64,
    /// Good `BIND`s, answered with `BOUND`.
    pub bound: u64,
    /// MEDIA from an address no member is bound to.
    pub dropped_stranger: u64,
    /// A sequence number already seen, or older than the 64-packet window.
    pub dropped_replay: u64,
    /// A tag that does not verify, or a member id that is not the bound member's.
    pub dropped_forged: u64,
    /// Over `relay_max_packet`.
    pub dropped_oversize: u64,
    /// `BIND` with an unknown, forgotten or expired token (or MEDIA in an expired call).
    pub dropped_token: u64,
    /// Over the member's packet rate.
    pub dropped_throttled: u64,
    /// Not a datagram of ours (unknown type, wrong length, unknown stream).
    pub dropped_malformed: u64,
    /// A copy for a member on TLS whose bulk lane was full.
    pub dropped_lane_full: u64,
    /// A UDP copy the operating system would not send.
    pub send_failed: u64,
    /// Members' paths changing between UDP and TLS.
    pub path_switches: u64,
}

impl From<Counts> for RelayStats {
    fn from(Counts(c): Counts) -> Self {
        use Counter::*;
        Self {
            forwarded_udp: c[ForwardedUdp as usize],
            forwarded_tls: c[ForwardedTls as usize],
            bound: c[Bound as usize],
            dropped_stranger: c[Stranger as usize],
            dropped_replay: c[Replay as usize],
            dropped_forged: c[Forged as usize],
            dropped_oversize: c[Oversize as usize],
            dropped_token: c[Token as usize],
            dropped_throttled: c[Throttled as usize],
            dropped_malformed: c[Malformed as usize],
            dropped_lane_full: c[LaneFull as usize],
            send_failed: c[SendFailed as usize],
            path_switches: c[PathSwitch as usize],
        }
    }
}
