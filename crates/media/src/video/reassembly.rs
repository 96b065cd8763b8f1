//! Stream 1 packets → whole encoded frames, in order, ready to decode.
//!
//! Fragments may arrive late, twice, or out of order. A frame that cannot be completed
//! in time is dropped, and from then on the picture is *frozen*: no P-frame is handed
//! out (its reference is gone, decoding it would smear garbage) until a keyframe arrives,
//! which [`Reassembler::poll_keyframe_request`] asks for, again every
//! [`KEYFRAME_REQUEST_INTERVAL`] until one does.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use bytes::Bytes;

use super::FragmentHeader;
use crate::packet::{MediaPacket, Stream};

/// How long a frame waits for its missing fragments once a later frame has started
/// arriving (reordering and jitter); after that it is lost.
pub const REORDER_WAIT: Duration = Duration::from_millis(100);
/// How long an incomplete frame waits when nothing newer comes at all.
pub const STALL_WAIT: Duration = Duration::from_millis(500);
/// Keyframe requests repeat this often while the picture is frozen (the request or the
/// keyframe itself can be lost too).
pub const KEYFRAME_REQUEST_INTERVAL: Duration = Duration::from_millis(250);
/// Bounds on what a sender can make us hold.
const MAX_PENDING_FRAMES: usize = 64;
const MAX_BUFFERED_FRAGMENTS: usize = 4096;
/// A frame id this far past the newest is a restarted sender, not reordering.
const MAX_JUMP: i64 = 512;

/// Why a packet was refused (it is counted, and nothing else changes).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PacketError {
    #[error("not a video packet ({0:?} stream)")]
    WrongStream(Stream),
    #[error("video payload of {len} bytes is shorter than its header plus one byte")]
    TooShort { len: usize },
    #[error("video payload of {len} bytes is over the 1,200-byte limit")]
    TooLong { len: usize },
    #[error("unknown video fragment flags {flags:#04x}")]
    UnknownFlags { flags: u8 },
    #[error("fragment {index} of {count} is not a possible fragment")]
    BadFragment { index: u16, count: u16 },
    #[error("fragment of frame {frame_id} disagrees with the frame's earlier fragments")]
    Inconsistent { frame_id: u16 },
}

/// A complete encoded frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssembledFrame {
    pub data: Vec<u8>,
    pub keyframe: bool,
    pub timestamp: u32,
    pub frame_id: u16,
}

/// What happened to what arrived.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ReassemblyStats {
    /// Fragments taken.
    pub packets: u64,
    pub duplicates: u64,
    /// Fragments of frames already handed out or given up.
    pub late: u64,
    /// Malformed packets.
    pub rejected: u64,
    /// Frames handed out for decoding.
    pub frames_completed: u64,
    /// Frames that never completed (a fragment, or the whole frame, was lost).
    pub frames_dropped: u64,
    /// Complete frames not decoded because their reference was lost (the picture froze).
    pub frames_skipped: u64,
    /// Times the picture froze: a frame was lost, or could not be decoded, after which
    /// nothing is shown until a keyframe.
    pub freezes: u64,
    pub keyframe_requests: u64,
}

#[derive(Debug)]
struct Partial {
    keyframe: bool,
    timestamp: u32,
    fragments: Vec<Option<Bytes>>,
    received: usize,
    first_arrival: Instant,
}

impl Partial {
    fn complete(&self) -> bool {
        self.received == self.fragments.len()
    }

    fn into_frame(self, frame_id: u16) -> AssembledFrame {
        let mut data = Vec::with_capacity(self.fragments.iter().flatten().map(Bytes::len).sum());
        for fragment in self.fragments.into_iter().flatten() {
            data.extend_from_slice(&fragment);
        }
        AssembledFrame { data, keyframe: self.keyframe, timestamp: self.timestamp, frame_id }
    }
}

#[derive(Debug)]
pub struct Reassembler {
    /// Frames not yet handed out, by unwrapped frame id.
    pending: BTreeMap<i64, Partial>,
    /// The newest frame handed out, skipped or given up; `None` until the first keyframe.
    last: Option<i64>,
    /// The newest frame id seen, the reference for unwrapping 16-bit ids.
    newest: Option<i64>,
    /// The reference chain is broken (or not yet started): only a keyframe helps.
    frozen: bool,
    /// When the last keyframe request went out (or, before any, when packets began).
    last_request: Option<Instant>,
    started: bool,
    buffered: usize,
    stats: ReassemblyStats,
}

impl Default for Reassembler {
    fn default() -> Self {
        Self::new()
    }
}

impl Reassembler {
    pub fn new() -> Self {
        Reassembler {
            pending: BTreeMap::new(),
            last: None,
            newest: None,
            frozen: true,
            last_request: None,
            started: false,
            buffered: 0,
            stats: ReassemblyStats::default(),
        }
    }

    pub fn stats(&self) -> ReassemblyStats {
        self.stats
    }

    fn unwrap_id(&self, id: u16) -> i64 {
        match self.newest {
            None => i64::from(id),
            Some(newest) => newest + i64::from(id.wrapping_sub(newest as u16) as i16),
        }
    }

    /// Takes one packet. Bad packets are refused with the reason; late and duplicate
    /// fragments are counted and ignored.
    pub fn push(&mut self, packet: &MediaPacket, now: Instant) -> Result<(), PacketError> {
        let parsed = if packet.stream == Stream::Video {
            FragmentHeader::parse(&packet.payload)
        } else {
            Err(PacketError::WrongStream(packet.stream))
        };
        let (header, data) = match parsed {
            Ok(parsed) => parsed,
            Err(e) => {
                self.stats.rejected += 1;
                return Err(e);
            }
        };
        if !self.started {
            self.started = true;
            // The first keyframe is on its way: give it a request interval to arrive.
            self.last_request = Some(now);
        }
        let mut id = self.unwrap_id(header.frame_id);
        if self.newest.is_some_and(|newest| (id - newest).abs() > MAX_JUMP) {
            // A restarted sender begins with a keyframe; anything else this far off is
            // stale, but if it keeps coming the sender did restart: ask for a keyframe.
            if !header.keyframe {
                self.stats.late += 1;
                self.freeze();
                return Ok(());
            }
            self.restart();
            self.newest = None;
            id = self.unwrap_id(header.frame_id);
        }
        if self.last.is_some_and(|last| id <= last) {
            self.stats.late += 1;
            return Ok(());
        }
        let partial = self.pending.entry(id).or_insert_with(|| Partial {
            keyframe: header.keyframe,
            timestamp: packet.timestamp,
            fragments: vec![None; usize::from(header.count)],
            received: 0,
            first_arrival: now,
        });
        if partial.keyframe != header.keyframe
            || partial.timestamp != packet.timestamp
            || partial.fragments.len() != usize::from(header.count)
        {
            self.stats.rejected += 1;
            return Err(PacketError::Inconsistent { frame_id: header.frame_id });
        }
        let slot = &mut partial.fragments[usize::from(header.index)];
        if slot.is_some() {
            self.stats.duplicates += 1;
            return Ok(());
        }
        *slot = Some(packet.payload.slice(packet.payload.len() - data.len()..));
        partial.received += 1;
        self.buffered += 1;
        self.stats.packets += 1;
        self.newest = Some(self.newest.map_or(id, |newest| newest.max(id)));
        while self.pending.len() > MAX_PENDING_FRAMES || self.buffered > MAX_BUFFERED_FRAGMENTS {
            let Some(oldest) = self.pending.keys().next().copied() else { break };
            self.give_up_through(oldest);
        }
        Ok(())
    }

    /// A sender that jumped far (it restarted): forget everything and wait for a keyframe.
    fn restart(&mut self) {
        if let Some(newest) = self.pending.keys().next_back().copied() {
            self.give_up_through(newest);
        }
        self.last = None;
        self.frozen = true;
    }

    fn remove(&mut self, id: i64) -> Option<Partial> {
        let partial = self.pending.remove(&id)?;
        self.buffered -= partial.received;
        Some(partial)
    }

    /// Gives up every frame up to `through`: what was lost is dropped, what was complete
    /// but now lacks its reference is skipped, and the picture freezes.
    fn give_up_through(&mut self, through: i64) {
        let first = match self.last {
            Some(last) => last + 1,
            None => self.pending.keys().next().copied().unwrap_or(through),
        };
        let waiting_for_first_keyframe = self.last.is_none();
        for id in first..=through {
            match (self.remove(id), waiting_for_first_keyframe) {
                // Before the first keyframe nothing is decodable: no loss, just not shown.
                (Some(_), true) => self.stats.frames_skipped += 1,
                (None, true) => {}
                (Some(p), false) if p.complete() => self.stats.frames_skipped += 1,
                (_, false) => {
                    self.stats.frames_dropped += 1;
                    self.freeze();
                }
            }
        }
        if !waiting_for_first_keyframe {
            self.last = Some(through);
        }
    }

    fn freeze(&mut self) {
        if !self.frozen {
            self.frozen = true;
            self.stats.freezes += 1;
            // Ask at once: the picture has just stopped.
            self.last_request = None;
        }
    }

    /// The decoder could not decode what it was given: freeze until a keyframe.
    pub fn reference_lost(&mut self) {
        self.freeze();
    }

    /// The next frame to decode, in frame order, if one is ready at `now`. Call until
    /// `None` after each packet and now and then (it also gives up on frames whose
    /// fragments did not come in time).
    pub fn poll(&mut self, now: Instant) -> Option<AssembledFrame> {
        loop {
            let Some(last) = self.last else {
                // Nothing decoded yet (or after a restart): start at the first complete keyframe.
                let key = self.pending.iter().find(|(_, p)| p.keyframe && p.complete()).map(|(id, _)| *id)?;
                let first = self.pending.keys().next().copied().unwrap_or(key);
                for id in first..key {
                    // Not decodable without a keyframe before them; those that never
                    // came at all were lost.
                    match self.remove(id) {
                        Some(_) => self.stats.frames_skipped += 1,
                        None => self.stats.frames_dropped += 1,
                    }
                }
                self.last = Some(key - 1);
                continue;
            };
            let next = last + 1;
            if self.pending.get(&next).is_some_and(Partial::complete) {
                let partial = self.remove(next)?;
                self.last = Some(next);
                if partial.keyframe {
                    self.frozen = false;
                } else if self.frozen {
                    self.stats.frames_skipped += 1;
                    continue;
                }
                self.stats.frames_completed += 1;
                return Some(partial.into_frame(next as u16));
            }
            // `next` is missing or incomplete. A complete keyframe after it makes it moot.
            let key =
                self.pending.range(next + 1..).find(|(_, p)| p.keyframe && p.complete()).map(|(id, _)| *id);
            if let Some(key) = key {
                self.give_up_through(key - 1);
                continue;
            }
            // A P-frame cannot be shown while frozen: skip it without waiting for the rest.
            if self.frozen && self.pending.get(&next).is_some_and(|p| !p.keyframe) {
                self.remove(next);
                self.stats.frames_skipped += 1;
                self.last = Some(next);
                continue;
            }
            let waited_since = self.pending.range(next..).map(|(_, p)| p.first_arrival).min()?;
            let later = self.pending.range(next + 1..).next().is_some();
            let wait = if later { REORDER_WAIT } else { STALL_WAIT };
            if now.saturating_duration_since(waited_since) >= wait {
                self.give_up_through(next);
                continue;
            }
            return None;
        }
    }

    /// The picture is frozen (or has not started) and only a keyframe can mend it.
    pub fn needs_keyframe(&self) -> bool {
        self.started && self.frozen
    }

    /// Whether to send a keyframe request now: at once when the picture freezes, then
    /// every [`KEYFRAME_REQUEST_INTERVAL`] until a keyframe is decoded.
    pub fn poll_keyframe_request(&mut self, now: Instant) -> bool {
        let due =
            self.last_request.is_none_or(|at| now.saturating_duration_since(at) >= KEYFRAME_REQUEST_INTERVAL);
        if self.needs_keyframe() && due {
            self.last_request = Some(now);
            self.stats.keyframe_requests += 1;
            return true;
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::video::{EncodedFrame, Packetizer};

    /// Packets for frames described as (keyframe, fragment count).
    fn stream(frames: &[(bool, usize)]) -> Vec<Vec<MediaPacket>> {
        let mut packetizer = Packetizer::new(100, 65_530);
        frames
            .iter()
            .enumerate()
            .map(|(n, &(keyframe, count))| {
                let data = vec![n as u8; 1193 * count];
                packetizer.packetize(&EncodedFrame { data, keyframe, timestamp: n as u32 * 3000 }).unwrap()
            })
            .collect()
    }

    fn drain(r: &mut Reassembler, now: Instant) -> Vec<u32> {
        std::iter::from_fn(|| r.poll(now)).map(|f| f.timestamp / 3000).collect()
    }

    #[test]
    fn reordered_and_duplicated_fragments_still_make_frames_in_order() {
        let frames = stream(&[(true, 3), (false, 2), (false, 1), (false, 2)]);
        let mut all: Vec<MediaPacket> = frames.concat();
        all.reverse();
        all.push(all[0].clone());
        let mut r = Reassembler::new();
        let t = Instant::now();
        let mut out = Vec::new();
        for p in &all {
            r.push(p, t).unwrap();
            out.extend(drain(&mut r, t));
        }
        assert_eq!(out, [0, 1, 2, 3]);
        let stats = r.stats();
        assert_eq!((stats.duplicates, stats.late, stats.frames_dropped, stats.freezes), (0, 1, 0, 0));
        assert!(!r.needs_keyframe());
    }

    #[test]
    fn a_lost_fragment_drops_the_frame_freezes_and_asks_for_a_keyframe() {
        let frames = stream(&[(true, 2), (false, 2), (false, 1), (false, 1), (true, 2), (false, 1)]);
        let mut r = Reassembler::new();
        let t0 = Instant::now();
        let mut out = Vec::new();
        for (n, packets) in frames.iter().enumerate() {
            let now = t0 + Duration::from_millis(33 * n as u64);
            for (i, p) in packets.iter().enumerate() {
                if (n, i) != (1, 1) {
                    r.push(p, now).unwrap();
                }
            }
            out.extend(drain(&mut r, now));
            if n == 3 {
                // Frame 1 has waited REORDER_WAIT since its first fragment: lost.
                let later = t0 + Duration::from_millis(33) + REORDER_WAIT;
                out.extend(drain(&mut r, later));
                assert!(r.needs_keyframe());
                assert!(r.poll_keyframe_request(later), "asks at once");
                assert!(!r.poll_keyframe_request(later + Duration::from_millis(10)), "not again so soon");
                assert!(r.poll_keyframe_request(later + KEYFRAME_REQUEST_INTERVAL), "and again later");
            }
        }
        // Frames 2 and 3 were complete but reference the lost frame 1: never decoded.
        assert_eq!(out, [0, 4, 5]);
        let s = r.stats();
        assert_eq!((s.frames_dropped, s.frames_skipped, s.freezes, s.frames_completed), (1, 2, 1, 3));
        assert!(!r.needs_keyframe(), "the keyframe mended it");
    }

    #[test]
    fn a_complete_keyframe_ends_the_wait_for_older_frames_at_once() {
        let frames = stream(&[(true, 1), (false, 1), (true, 1)]);
        let mut r = Reassembler::new();
        let t = Instant::now();
        r.push(&frames[0][0], t).unwrap();
        r.push(&frames[2][0], t).unwrap();
        assert_eq!(drain(&mut r, t), [0, 2]);
        assert_eq!(r.stats().frames_dropped, 1);
        assert_eq!(r.stats().freezes, 1);
    }

    #[test]
    fn nothing_is_shown_before_the_first_keyframe() {
        let frames = stream(&[(true, 2), (false, 1), (false, 1)]);
        let mut r = Reassembler::new();
        let t = Instant::now();
        // The keyframe's second half never comes.
        r.push(&frames[0][0], t).unwrap();
        r.push(&frames[1][0], t).unwrap();
        r.push(&frames[2][0], t).unwrap();
        assert_eq!(drain(&mut r, t + Duration::from_secs(1)), Vec::<u32>::new());
        assert!(r.needs_keyframe());
        assert!(
            !r.poll_keyframe_request(t + Duration::from_millis(100)),
            "the first keyframe may still come"
        );
        assert!(r.poll_keyframe_request(t + KEYFRAME_REQUEST_INTERVAL));
    }

    #[test]
    fn a_stalled_last_frame_is_given_up() {
        let frames = stream(&[(true, 1), (false, 2)]);
        let mut r = Reassembler::new();
        let t = Instant::now();
        r.push(&frames[0][0], t).unwrap();
        r.push(&frames[1][0], t).unwrap();
        assert_eq!(drain(&mut r, t + STALL_WAIT - Duration::from_millis(1)), [0]);
        assert!(!r.needs_keyframe());
        assert_eq!(drain(&mut r, t + STALL_WAIT), Vec::<u32>::new());
        assert!(r.needs_keyframe());
        assert_eq!(r.stats().frames_dropped, 1);
    }

    #[test]
    fn bad_and_inconsistent_packets_are_refused_and_counted() {
        let frames = stream(&[(true, 2)]);
        let mut r = Reassembler::new();
        let t = Instant::now();
        r.push(&frames[0][0], t).unwrap();
        let mut liar = frames[0][1].clone();
        liar.timestamp += 1;
        assert_eq!(r.push(&liar, t), Err(PacketError::Inconsistent { frame_id: 65_530 }));
        let mut audio = frames[0][1].clone();
        audio.stream = Stream::Audio;
        assert_eq!(r.push(&audio, t), Err(PacketError::WrongStream(Stream::Audio)));
        assert_eq!(r.stats().rejected, 2);
        r.push(&frames[0][1], t).unwrap();
        assert_eq!(drain(&mut r, t), [0], "the bad packets changed nothing");
    }

    #[test]
    fn a_flood_of_incomplete_frames_stays_bounded() {
        let mut packetizer = Packetizer::new(0, 0);
        let mut r = Reassembler::new();
        let t = Instant::now();
        for n in 0..500u32 {
            let frame = EncodedFrame { data: vec![0; 1193 * 100], keyframe: n == 0, timestamp: n };
            // Only the first fragment of each frame arrives.
            r.push(&packetizer.packetize(&frame).unwrap()[0], t).unwrap();
            assert!(r.pending.len() <= MAX_PENDING_FRAMES && r.buffered <= MAX_BUFFERED_FRAGMENTS);
        }
        assert_eq!(drain(&mut r, t), Vec::<u32>::new());
    }

    #[test]
    fn a_restarted_sender_is_followed_from_its_first_keyframe() {
        let mut r = Reassembler::new();
        let t = Instant::now();
        let mut old = Packetizer::new(0, 10);
        let mut new = Packetizer::new(0, 30_000);
        let key = |ts| EncodedFrame { data: vec![1; 10], keyframe: true, timestamp: ts };
        r.push(&old.packetize(&key(0)).unwrap()[0], t).unwrap();
        assert_eq!(drain(&mut r, t), [0]);
        r.push(&new.packetize(&key(3000)).unwrap()[0], t).unwrap();
        assert_eq!(drain(&mut r, t), [1]);
    }
}
