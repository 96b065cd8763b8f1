//! Lip sync: when a decoded frame may be shown so that it meets its sound.
//!
//! Both media clocks count from the same capture instant on the sender (audio in 48 kHz
//! samples, video in 90 kHz ticks). [`PlayoutClock`] maps capture times to local time by
//! the smallest transit seen (arrival − capture, over a sliding window so clock drift
//! does not accumulate), the way an audio jitter buffer does. The audio of capture time
//! `c` is played at `map(c) + audio playout delay`; [`VideoPlayout::due`] releases the
//! frame captured at `c` at that same instant. ITU-R BT.1359 puts the detectability window
//! at sound no more than 45 ms before or 125 ms after its picture.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use super::{CLOCK_HZ, Frame};

/// Sound may lead its picture by at most this much (BT.1359).
pub const SYNC_AUDIO_EARLY_MAX: Duration = Duration::from_millis(45);
/// Sound may trail its picture by at most this much (BT.1359).
pub const SYNC_AUDIO_LATE_MAX: Duration = Duration::from_millis(125);
/// The minimum transit is taken over two windows of this length, so it follows drift.
const WINDOW: Duration = Duration::from_secs(5);
/// Decoded frames waiting for their sound: one second at 30 frames/s.
const MAX_QUEUED: usize = 30;

/// Sender capture time (90 kHz) → local instant, from packet arrivals.
#[derive(Debug, Clone)]
pub struct PlayoutClock {
    /// Local time zero; all offsets are microseconds from it.
    origin: Option<Instant>,
    /// The newest timestamp seen and its 64-bit extension (timestamps wrap every 13 h).
    last: Option<(u32, i64)>,
    current_min: Option<i64>,
    previous_min: Option<i64>,
    window_start: Option<Instant>,
}

impl Default for PlayoutClock {
    fn default() -> Self {
        Self::new()
    }
}

impl PlayoutClock {
    pub fn new() -> Self {
        PlayoutClock { origin: None, last: None, current_min: None, previous_min: None, window_start: None }
    }

    fn extend(&self, timestamp: u32) -> i64 {
        match self.last {
            None => i64::from(timestamp),
            Some((ts, ext)) => ext + i64::from(timestamp.wrapping_sub(ts) as i32),
        }
    }

    fn micros(ticks: i64) -> i64 {
        ticks * 1_000_000 / i64::from(CLOCK_HZ)
    }

    /// A packet with this capture timestamp arrived at `arrival`.
    pub fn observe(&mut self, timestamp: u32, arrival: Instant) {
        let origin = *self.origin.get_or_insert(arrival);
        let ext = self.extend(timestamp);
        if self.last.is_none_or(|(_, last)| ext > last) {
            self.last = Some((timestamp, ext));
        }
        let transit = arrival.saturating_duration_since(origin).as_micros() as i64 - Self::micros(ext);
        let start = *self.window_start.get_or_insert(arrival);
        if arrival.saturating_duration_since(start) >= WINDOW {
            self.previous_min = self.current_min.take();
            self.window_start = Some(arrival);
        }
        self.current_min = Some(self.current_min.map_or(transit, |m| m.min(transit)));
    }

    /// When the sound captured at `timestamp` plays, given the audio's playout delay
    /// (how long after the least-delayed arrival the audio is played). `None` before any
    /// packet was observed.
    pub fn due_at(&self, timestamp: u32, audio_playout_delay: Duration) -> Option<Instant> {
        let origin = self.origin?;
        let min = match (self.current_min, self.previous_min) {
            (Some(a), Some(b)) => a.min(b),
            (a, b) => a.or(b)?,
        };
        let at = Self::micros(self.extend(timestamp)) + min + audio_playout_delay.as_micros() as i64;
        if at >= 0 {
            origin.checked_add(Duration::from_micros(at as u64))
        } else {
            origin.checked_sub(Duration::from_micros(at.unsigned_abs()))
        }
    }
}

/// Decoded frames waiting until their sound plays.
#[derive(Debug, Default)]
pub struct VideoPlayout {
    pub clock: PlayoutClock,
    frames: VecDeque<Frame>,
    /// Frames never shown because a newer one was already due.
    pub superseded: u64,
    /// Frames shown later than [`SYNC_AUDIO_EARLY_MAX`] after their sound (the video
    /// path was slower than the audio's delay).
    pub out_of_sync: u64,
    /// Frames thrown away because the queue was full (no one is pulling).
    pub overflowed: u64,
    /// How late the last frame shown was against its sound.
    pub last_lateness: Duration,
}

impl VideoPlayout {
    pub fn push(&mut self, frame: Frame) {
        if self.frames.len() >= MAX_QUEUED {
            self.frames.pop_front();
            self.overflowed += 1;
        }
        self.frames.push_back(frame);
    }

    /// The newest frame whose sound is playing by `now`; older due frames are skipped.
    pub fn due(&mut self, now: Instant, audio_playout_delay: Duration) -> Option<Frame> {
        let mut shown: Option<(Frame, Instant)> = None;
        while let Some(front) = self.frames.front() {
            let due = self.clock.due_at(front.timestamp, audio_playout_delay).unwrap_or(now);
            if due > now {
                break;
            }
            let frame = self.frames.pop_front()?;
            if shown.replace((frame, due)).is_some() {
                self.superseded += 1;
            }
        }
        let (frame, due) = shown?;
        self.last_lateness = now.saturating_duration_since(due);
        if self.last_lateness > SYNC_AUDIO_EARLY_MAX {
            self.out_of_sync += 1;
        }
        Some(frame)
    }

    /// The oldest queued frame, due or not.
    pub fn pop(&mut self) -> Option<Frame> {
        self.frames.pop_front()
    }

    pub fn queued(&self) -> usize {
        self.frames.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small deterministic generator (xorshift), so the "network" is the same each run.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self, below: u64) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0 % below
        }
    }

    /// 30 frames/s captured at sender time `n × 33.3 ms`; each reaches us after 20–100 ms
    /// of network and decoding; the audio of a capture instant plays `audio_delay` after
    /// its least-delayed arrival (20 ms). Frames in `spike` take 200 ms more. Frames come
    /// out of the decoder in order, so a late one holds up those behind it. The engine
    /// pulls every 10 ms. Returns, for each frame shown, how long after its sound it
    /// appeared (negative: before).
    fn run(audio_delay: Duration, spike: std::ops::Range<u64>) -> (Vec<i64>, VideoPlayout) {
        let start = Instant::now();
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        let mut playout = VideoPlayout::default();
        let mut in_order = start;
        // Timestamps start just below the 32-bit wrap, which must not matter.
        let arrivals: Vec<(Instant, Frame)> = (0..300u64)
            .map(|n| {
                let ticks = (n * 3000) as u32;
                let capture = Duration::from_micros(n * 1_000_000 / 30);
                let mut transit = Duration::from_millis(20 + rng.next(80));
                if spike.contains(&n) {
                    transit += Duration::from_millis(200);
                }
                in_order = in_order.max(start + capture + transit);
                (in_order, Frame::black(16, 16, ticks.wrapping_add(u32::MAX - 90_000)).unwrap())
            })
            .collect();
        let sound = |frame: &Frame| {
            let ticks = frame.timestamp.wrapping_sub(u32::MAX - 90_000);
            start
                + Duration::from_micros(u64::from(ticks) * 1_000_000 / 90_000)
                + Duration::from_millis(20)
                + audio_delay
        };
        let mut skews = Vec::new();
        let mut next = 0;
        for tick in 0..1200u64 {
            let now = start + Duration::from_millis(10 * tick);
            while next < arrivals.len() && arrivals[next].0 <= now {
                let (at, frame) = arrivals[next].clone();
                playout.clock.observe(frame.timestamp, at);
                playout.push(frame);
                next += 1;
            }
            if let Some(frame) = playout.due(now, audio_delay) {
                let skew = now.duration_since(start).as_micros() as i64
                    - sound(&frame).duration_since(start).as_micros() as i64;
                skews.push(skew);
            }
        }
        (skews, playout)
    }

    #[test]
    fn frames_meet_their_sound_within_the_bt1359_window() {
        // The audio waits 100 ms for its jitter: video, which arrives within that, waits too.
        let (skews, playout) = run(Duration::from_millis(100), 0..0);
        assert!(skews.len() > 250, "{} frames shown", skews.len());
        let early = SYNC_AUDIO_EARLY_MAX.as_micros() as i64;
        let late = SYNC_AUDIO_LATE_MAX.as_micros() as i64;
        // The first second learns the transit (the audio's buffer learns it the same way).
        for skew in skews.iter().skip(30) {
            // Positive: the picture after its sound (sound early).
            assert!(*skew <= early && *skew >= -late, "skew {skew} µs");
            assert!(*skew >= 0, "never before its sound: {skew} µs");
            assert!(*skew <= 10_000 + 1_000, "within one pull period: {skew} µs");
        }
        assert_eq!(playout.out_of_sync, 0);
    }

    #[test]
    fn frames_slower_than_the_audio_are_counted_out_of_sync() {
        // For 50 frames the video takes 200 ms more than the audio waits: shown late, counted.
        let (skews, playout) = run(Duration::from_millis(100), 100..150);
        assert!(playout.out_of_sync >= 30, "{} counted", playout.out_of_sync);
        let early = SYNC_AUDIO_EARLY_MAX.as_micros() as i64;
        let outside = skews.iter().filter(|s| **s > early).count() as u64;
        assert_eq!(outside, playout.out_of_sync);
    }

    #[test]
    fn an_unpulled_queue_stays_bounded() {
        let mut playout = VideoPlayout::default();
        for n in 0..100 {
            playout.push(Frame::black(16, 16, n * 3000).unwrap());
        }
        assert_eq!((playout.queued(), playout.overflowed), (MAX_QUEUED, 70));
    }
}
