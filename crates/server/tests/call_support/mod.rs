//! Synthetic microphones and recording speakers for call tests, and the measurements
//! made on what was recorded (where the other side's chirp is, how late, how clean).
#![allow(dead_code, unused_imports)]

use std::sync::{Arc, Mutex};
use std::time::Instant;

use mocha_client::media::audio::AudioError;
use mocha_client::{AudioSink, AudioSource, CallSnapshot};

pub const RATE: usize = 48_000;
/// Each side's chirp repeats every second: a 200 ms sweep, then silence. The two sides
/// sweep at different times of the second (and over different bands) so neither ever
/// talks over the other.
pub const PERIOD: usize = RATE;
pub const SWEEP: usize = RATE / 5;

/// A repeating chirp from `low` to `high` Hz, starting `offset` samples into each second.
#[derive(Clone, Copy, Debug)]
pub struct Chirp {
    pub low: f32,
    pub high: f32,
    pub offset: usize,
}

pub const ALICE_CHIRP: Chirp = Chirp { low: 300.0, high: 1800.0, offset: 0 };
pub const BOB_CHIRP: Chirp = Chirp { low: 500.0, high: 2500.0, offset: RATE / 2 };

impl Chirp {
    /// Sample `n` of the signal.
    pub fn at(&self, n: usize) -> f32 {
        let k = (n + PERIOD - self.offset % PERIOD) % PERIOD;
        if k >= SWEEP {
            return 0.0;
        }
        let t = k as f32 / RATE as f32;
        let duration = SWEEP as f32 / RATE as f32;
        let rate = (self.high - self.low) / duration;
        let phase = 2.0 * std::f32::consts::PI * (self.low * t + 0.5 * rate * t * t);
        // A raised-cosine envelope keeps the codec from smearing a click over the silence.
        let envelope = 0.5 - 0.5 * (2.0 * std::f32::consts::PI * k as f32 / SWEEP as f32).cos();
        0.5 * envelope * phase.sin()
    }
}

/// A microphone that "says" a chirp, sample by sample as the call asks.
pub struct ChirpSource {
    pub chirp: Chirp,
    next: usize,
}

impl ChirpSource {
    pub fn new(chirp: Chirp) -> Self {
        Self { chirp, next: 0 }
    }
}

impl AudioSource for ChirpSource {
    fn sample_rate(&self) -> u32 {
        RATE as u32
    }

    fn read(&mut self, out: &mut [f32]) -> Result<usize, AudioError> {
        for sample in out.iter_mut() {
            *sample = self.chirp.at(self.next);
            self.next += 1;
        }
        Ok(out.len())
    }
}

/// A speaker that records everything it is given; the test keeps the other end.
#[derive(Clone, Default)]
pub struct Recording(pub Arc<Mutex<Vec<f32>>>);

impl Recording {
    pub fn samples(&self) -> Vec<f32> {
        self.0.lock().unwrap().clone()
    }
}

impl AudioSink for Recording {
    fn sample_rate(&self) -> u32 {
        RATE as u32
    }

    fn write(&mut self, samples: &[f32]) -> Result<(), AudioError> {
        self.0.lock().unwrap().extend_from_slice(samples);
        Ok(())
    }
}

/// Where the other side's chirp sits in a recording.
#[derive(Clone, Copy, Debug)]
pub struct Heard {
    /// Mouth to ear: from the talker's microphone taking a sample to the listener's
    /// speaker playing it, in ms.
    pub latency_ms: f64,
    /// Normalised correlation (0..1) between what was said and what was heard, aligned
    /// at that latency: 1 is a perfect copy, noise is near 0.
    pub similarity: f64,
}

/// Finds `chirp` (said by the side whose media started at `talker`) in each whole
/// second of `recording` (played by the side whose media started at `listener`) from
/// `skip_s` seconds on, looking at latencies up to `max_ms`. Each second holds one sweep
/// and is searched on its own, because the adaptive jitter buffer may change the delay
/// between them.
pub fn find_chirp(
    chirp: Chirp,
    talker: Instant,
    listener: Instant,
    recording: &[f32],
    skip_s: f64,
    max_ms: f64,
) -> Vec<Heard> {
    // Listener sample j plays at listener + j/RATE; the talker said sample i at
    // talker + i/RATE. With latency L (samples): i = j + offset - L.
    let offset = signed_samples(listener, talker);
    let max_lag = (max_ms / 1000.0 * RATE as f64) as i64;
    let said = |j: usize, lag: i64| -> f32 {
        let i = j as i64 + offset - lag;
        if i < 0 { 0.0 } else { chirp.at(i as usize) }
    };
    let mut found = Vec::new();
    let mut start = (skip_s * RATE as f64) as usize;
    while start + RATE <= recording.len() {
        let end = start + RATE;
        let score = |lag: i64, step: usize| -> f64 {
            let (mut dot, mut heard, mut spoken) = (0.0f64, 0.0f64, 0.0f64);
            for j in (start..end).step_by(step) {
                let (r, s) = (f64::from(recording[j]), f64::from(said(j, lag)));
                dot += r * s;
                heard += r * r;
                spoken += s * s;
            }
            if heard == 0.0 || spoken == 0.0 { 0.0 } else { dot / (heard * spoken).sqrt() }
        };
        // Coarse (every 4th sample and lag), then fine around the best.
        let mut best = (0i64, f64::MIN);
        for lag in (0..=max_lag).step_by(4) {
            let s = score(lag, 4);
            if s > best.1 {
                best = (lag, s);
            }
        }
        let mut fine = (best.0, f64::MIN);
        for lag in (best.0 - 4).max(0)..=(best.0 + 4) {
            let s = score(lag, 1);
            if s > fine.1 {
                fine = (lag, s);
            }
        }
        found.push(Heard { latency_ms: fine.0 as f64 * 1000.0 / RATE as f64, similarity: fine.1 });
        start = end;
    }
    assert!(!found.is_empty(), "recording too short: {} samples", recording.len());
    found
}

/// `a - b` in samples.
fn signed_samples(a: Instant, b: Instant) -> i64 {
    let nanos =
        if a >= b { a.duration_since(b).as_nanos() as i64 } else { -(b.duration_since(a).as_nanos() as i64) };
    nanos * RATE as i64 / 1_000_000_000
}

pub fn started(snapshot: &CallSnapshot) -> Instant {
    snapshot.media_started.expect("media started")
}

/// What a talker using `mocha_media::audio::SpeechLike` said, as the listener's
/// timeline sees it: sample `j` is what the talker's microphone took when the listener's
/// speaker played its sample `j` (zero before the talker started).
pub fn aligned_reference(reference: &[f32], talker: Instant, listener: Instant) -> Vec<f32> {
    let offset = signed_samples(listener, talker);
    if offset >= 0 {
        reference[(offset as usize).min(reference.len())..].to_vec()
    } else {
        let mut aligned = vec![0.0; (-offset) as usize];
        aligned.extend_from_slice(reference);
        aligned
    }
}

// The quality measure below is the audio developer's (crates/media/tests/common/mod.rs,
// documented in docs/media.md), copied because test helpers cannot be shared across
// crates: the same gate then judges the engine alone and the whole call.

pub use mocha_client::media::audio::measure::{Quality, correlation, find_lag, quality};
