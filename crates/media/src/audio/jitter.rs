//! The adaptive jitter buffer: holds received Opus packets until their turn, in
//! timestamp order, and says for each 20 ms of playback what to do (decode a packet,
//! rebuild a lost one from the next packet's FEC, conceal, or play silence).
//!
//! Its delay is the *level*: how much audio it holds from the playout point to the
//! newest packet, the frame about to play included (so 20 ms is the least that works).
//! It grows fast and shrinks slowly:
//! - grows: when the frame due has not arrived and nothing newer has either, the packet
//!   is late, not lost, so a concealed frame is played *without* moving on (20 ms more
//!   delay at once; the late packet is then played, not dropped);
//! - shrinks: one frame is dropped when, over the last 2 s, the level never went below
//!   two frames (so playing 20 ms sooner would have caused no underrun), the level is a
//!   frame above the target the measured jitter asks for, and the last drop was at least
//!   500 ms ago. Above [`MAX_DELAY_MS`] plus a frame it drops at once.
//!
//! The target is 20 ms plus the spread of packet transit times over the last 4 s
//! (newest-arrival-relative-to-timestamp minus the earliest), clamped to 20–120 ms.

use std::collections::{BTreeMap, VecDeque};
use std::time::{Duration, Instant};

use bytes::Bytes;

use super::{FRAME_SAMPLES, SAMPLE_RATE};

pub const MIN_DELAY_MS: f64 = 20.0;
pub const MAX_DELAY_MS: f64 = 120.0;
/// At most this many packets are held (2.56 s); beyond, the oldest goes.
pub const CAPACITY: usize = 128;
const FRAME_MS: f64 = 20.0;
const SAMPLES_PER_MS: f64 = SAMPLE_RATE as f64 / 1000.0;
const TRANSIT_WINDOW: Duration = Duration::from_secs(4);
const LEVEL_WINDOW: Duration = Duration::from_secs(2);
const SHRINK_INTERVAL: Duration = Duration::from_millis(500);
/// No packet for this long: the other side stopped sending; play silence, not concealment.
const IDLE_AFTER: Duration = Duration::from_secs(1);
/// A timestamp this far from the last one means the sender restarted its stream.
const RESYNC_SAMPLES: i64 = 10 * SAMPLE_RATE as i64;

/// What to play for the next 20 ms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Playout {
    /// Nothing has arrived (yet, or for a while): play silence, nothing was lost.
    Silence,
    /// The frame's own packet.
    Decode(Bytes),
    /// The frame was lost but the next packet is here: decode its FEC copy.
    Recover(Bytes),
    /// Nothing to rebuild from: extrapolate (packet-loss concealment).
    Conceal,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct JitterStats {
    /// Arrived after their turn had been played (or concealed): dropped.
    pub late: u64,
    pub duplicates: u64,
    /// Dropped because the buffer was full (playback not being pulled).
    pub overflow: u64,
    /// Concealed frames played without moving on, to let late packets catch up.
    pub stretched: u64,
    /// Frames dropped to bring the delay down.
    pub compressed: u64,
    /// Stream restarts (timestamp jumps) and returns from idle.
    pub resets: u64,
}

#[derive(Debug)]
pub struct JitterBuffer {
    packets: BTreeMap<i64, Bytes>,
    /// The highest extended timestamp seen: the reference for unwrapping the next one.
    reference: Option<i64>,
    /// The timestamp of the next frame to play; `None` until playout starts.
    play_ts: Option<i64>,
    epoch: Option<Instant>,
    transits: VecDeque<(Instant, f64)>,
    levels: VecDeque<(Instant, f64)>,
    started_at: Option<Instant>,
    last_shrink: Option<Instant>,
    last_arrival: Option<Instant>,
    level_ms: f64,
    stats: JitterStats,
}

impl Default for JitterBuffer {
    fn default() -> Self {
        Self::new()
    }
}

impl JitterBuffer {
    pub fn new() -> Self {
        JitterBuffer {
            packets: BTreeMap::new(),
            reference: None,
            play_ts: None,
            epoch: None,
            transits: VecDeque::new(),
            levels: VecDeque::new(),
            started_at: None,
            last_shrink: None,
            last_arrival: None,
            level_ms: 0.0,
            stats: JitterStats::default(),
        }
    }

    pub fn stats(&self) -> JitterStats {
        self.stats
    }

    /// The delay the buffer runs at now (its level at the last decision), in ms.
    pub fn delay_ms(&self) -> f64 {
        self.level_ms
    }

    /// The delay the measured jitter asks for, in ms (20–120).
    pub fn target_ms(&self) -> f64 {
        (MIN_DELAY_MS + self.transit_spread_ms()).clamp(MIN_DELAY_MS, MAX_DELAY_MS)
    }

    fn transit_spread_ms(&self) -> f64 {
        let (min, max) = self
            .transits
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &(_, t)| (lo.min(t), hi.max(t)));
        if min.is_finite() { max - min } else { 0.0 }
    }

    fn unwrap(&mut self, timestamp: u32) -> i64 {
        match self.reference {
            None => i64::from(timestamp),
            Some(reference) => {
                let delta = i64::from(timestamp.wrapping_sub(reference as u32) as i32);
                reference + delta
            }
        }
    }

    fn reset(&mut self) {
        self.clear();
        self.stats.resets += 1;
    }

    fn clear(&mut self) {
        self.packets.clear();
        self.reference = None;
        self.play_ts = None;
        self.epoch = None;
        self.transits.clear();
        self.levels.clear();
        self.started_at = None;
        self.last_shrink = None;
    }

    /// A received audio packet (any order, duplicates and stragglers included).
    pub fn insert(&mut self, timestamp: u32, payload: Bytes, now: Instant) {
        let mut extended = self.unwrap(timestamp);
        if let Some(reference) = self.reference
            && (extended - reference).abs() > RESYNC_SAMPLES
        {
            self.reset();
            extended = i64::from(timestamp);
        }
        if self.play_ts.is_some_and(|play| extended < play) {
            self.stats.late += 1;
            return;
        }
        if self.packets.contains_key(&extended) {
            self.stats.duplicates += 1;
            return;
        }
        self.reference = Some(self.reference.map_or(extended, |r| r.max(extended)));
        self.last_arrival = Some(now);

        let epoch = *self.epoch.get_or_insert(now);
        let transit = now.duration_since(epoch).as_secs_f64() * 1000.0 - extended as f64 / SAMPLES_PER_MS;
        self.transits.push_back((now, transit));
        while self.transits.front().is_some_and(|&(at, _)| now.duration_since(at) > TRANSIT_WINDOW) {
            self.transits.pop_front();
        }

        self.packets.insert(extended, payload);
        while self.packets.len() > CAPACITY {
            if let Some((oldest, _)) = self.packets.pop_first() {
                self.stats.overflow += 1;
                if let Some(play) = self.play_ts.as_mut() {
                    *play = (*play).max(oldest + FRAME_SAMPLES as i64);
                }
            }
        }
    }

    /// What to play for the next 20 ms, decided at `now`.
    pub fn next(&mut self, now: Instant) -> Playout {
        let idle = self.last_arrival.is_none_or(|at| now.duration_since(at) > IDLE_AFTER);
        let Some(play) = self.play_ts else {
            // Not playing yet: start at the oldest packet held, if any.
            let Some((&first, _)) = self.packets.first_key_value() else {
                return Playout::Silence;
            };
            self.play_ts = Some(first);
            self.started_at = Some(now);
            return self.next(now);
        };
        let newest = self.packets.last_key_value().map(|(&ts, _)| ts);
        if newest.is_none_or(|newest| newest < play) && idle {
            // The other side went quiet (muted, gone, or its packets stopped getting here).
            self.clear();
            self.level_ms = 0.0;
            return Playout::Silence;
        }

        let level =
            newest.map_or(0.0, |newest| (newest + FRAME_SAMPLES as i64 - play) as f64 / SAMPLES_PER_MS);
        self.level_ms = level.max(0.0);
        self.levels.push_back((now, self.level_ms));
        while self.levels.front().is_some_and(|&(at, _)| now.duration_since(at) > LEVEL_WINDOW) {
            self.levels.pop_front();
        }

        if self.should_shrink(play, now) {
            self.packets.remove(&play);
            self.stats.compressed += 1;
            self.last_shrink = Some(now);
            self.levels.clear();
            let play = play + FRAME_SAMPLES as i64;
            self.play_ts = Some(play);
            return self.take(play);
        }

        if newest.is_none_or(|newest| newest < play) && self.may_still_arrive(play, now) {
            // Underrun: the frame is late. Conceal and wait for it (the buffer grows).
            self.stats.stretched += 1;
            return Playout::Conceal;
        }
        self.take(play)
    }

    /// Whether the packet for `play` is more likely late than lost: it would still be
    /// within a frame of the slowest transit seen lately. (A burst of losses thus costs
    /// at most one frame of extra delay, not one per lost packet.)
    fn may_still_arrive(&self, play: i64, now: Instant) -> bool {
        let Some(epoch) = self.epoch else {
            return false;
        };
        let transit_now = now.duration_since(epoch).as_secs_f64() * 1000.0 - play as f64 / SAMPLES_PER_MS;
        let slowest = self.transits.iter().fold(f64::NEG_INFINITY, |m, &(_, t)| m.max(t));
        transit_now <= slowest + FRAME_MS
    }

    fn should_shrink(&self, play: i64, now: Instant) -> bool {
        let held = |ts: i64| self.packets.contains_key(&ts);
        if !(held(play) && held(play + FRAME_SAMPLES as i64)) {
            return false;
        }
        if self.level_ms > MAX_DELAY_MS + FRAME_MS {
            return true;
        }
        let settled = self.started_at.is_some_and(|at| now.duration_since(at) >= LEVEL_WINDOW)
            && self.last_shrink.is_none_or(|at| now.duration_since(at) >= SHRINK_INTERVAL)
            && self
                .levels
                .front()
                .is_some_and(|&(at, _)| now.duration_since(at) >= LEVEL_WINDOW - SHRINK_INTERVAL);
        let lowest = self.levels.iter().fold(f64::INFINITY, |m, &(_, level)| m.min(level));
        settled && lowest >= 2.0 * FRAME_MS && self.level_ms >= self.target_ms() + FRAME_MS
    }

    /// Plays the frame at `play` (or rebuilds it) and moves on.
    fn take(&mut self, play: i64) -> Playout {
        self.play_ts = Some(play + FRAME_SAMPLES as i64);
        if let Some(payload) = self.packets.remove(&play) {
            return Playout::Decode(payload);
        }
        match self.packets.get(&(play + FRAME_SAMPLES as i64)) {
            Some(next) => Playout::Recover(next.clone()),
            None => Playout::Conceal,
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const FRAME: Duration = Duration::from_millis(20);

    fn payload(i: u32) -> Bytes {
        Bytes::from(i.to_be_bytes().to_vec())
    }

    fn ts(i: u32) -> u32 {
        // Start near the wrap so unwrapping is exercised.
        (u32::MAX - 5 * FRAME_SAMPLES as u32).wrapping_add(i * FRAME_SAMPLES as u32)
    }

    #[test]
    fn reorders_recovers_and_drops_the_late() {
        let start = Instant::now();
        let mut buffer = JitterBuffer::new();
        buffer.insert(ts(0), payload(0), start);
        assert_eq!(buffer.next(start), Playout::Decode(payload(0)));
        // 2 arrives before 1; 3 is lost; 4 and 5 arrive; 3 would come much later.
        buffer.insert(ts(2), payload(2), start + FRAME);
        buffer.insert(ts(1), payload(1), start + FRAME);
        assert_eq!(buffer.next(start + FRAME), Playout::Decode(payload(1)));
        assert_eq!(buffer.next(start + 2 * FRAME), Playout::Decode(payload(2)));
        buffer.insert(ts(4), payload(4), start + 3 * FRAME);
        assert_eq!(buffer.next(start + 3 * FRAME), Playout::Recover(payload(4)));
        assert_eq!(buffer.next(start + 4 * FRAME), Playout::Decode(payload(4)));
        buffer.insert(ts(3), payload(3), start + 4 * FRAME);
        buffer.insert(ts(4), payload(4), start + 4 * FRAME);
        assert_eq!(buffer.stats().late, 2);
    }

    #[test]
    fn a_late_packet_stretches_instead_of_being_lost() {
        let start = Instant::now();
        let mut buffer = JitterBuffer::new();
        buffer.insert(ts(0), payload(0), start);
        assert_eq!(buffer.next(start), Playout::Decode(payload(0)));
        // Packet 1 is 15 ms late: the buffer conceals once and then plays it.
        assert_eq!(buffer.next(start + FRAME), Playout::Conceal);
        buffer.insert(ts(1), payload(1), start + Duration::from_millis(35));
        assert_eq!(buffer.next(start + 2 * FRAME), Playout::Decode(payload(1)));
        assert_eq!(buffer.stats().stretched, 1);
        assert_eq!(buffer.stats().late, 0);
    }

    #[test]
    fn silence_before_anything_and_after_the_sender_stops() {
        let start = Instant::now();
        let mut buffer = JitterBuffer::new();
        assert_eq!(buffer.next(start), Playout::Silence);
        buffer.insert(ts(0), payload(0), start);
        assert_eq!(buffer.next(start), Playout::Decode(payload(0)));
        assert_eq!(buffer.next(start + Duration::from_secs(2)), Playout::Silence);
        // A fresh start plays again.
        buffer.insert(ts(200), payload(200), start + Duration::from_secs(3));
        assert_eq!(buffer.next(start + Duration::from_secs(3)), Playout::Decode(payload(200)));
    }

    #[test]
    fn memory_is_bounded_when_playback_is_not_pulled() {
        let start = Instant::now();
        let mut buffer = JitterBuffer::new();
        for i in 0..1000 {
            buffer.insert(ts(i), payload(i), start + FRAME * i);
        }
        assert!(buffer.packets.len() <= CAPACITY);
        assert_eq!(buffer.stats().overflow, 1000 - CAPACITY as u64);
    }
}
