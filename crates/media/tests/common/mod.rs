//! Two `CallEngine`s talking through two seeded `LossyLink`s in simulated time, and the
//! measurements the tests make on what comes out.
#![allow(dead_code, clippy::unwrap_used)]

use std::time::{Duration, Instant};

use mocha_media::audio::synth::render;
use mocha_media::audio::{BLOCK_SAMPLES, SpeechLike};
use mocha_media::engine::CallStats;
use mocha_media::link::{LinkProfile, LossyLink};
use mocha_media::{CallEngine, EngineConfig, MediaPacket};

pub const RATE: usize = 48_000;
pub const TICK: Duration = Duration::from_millis(10);
pub const FRAME: usize = 960;

pub fn speech(seconds: f64, pitch: f64) -> Vec<f32> {
    render(&mut SpeechLike::new(RATE as u32, pitch, 0.5), (seconds * RATE as f64) as usize).unwrap()
}

pub fn transport_only() -> EngineConfig {
    EngineConfig { audio: true, video: false, echo_cancellation: false, noise_suppression: false }
}

/// A call between A and B. A's microphone gets `a_mic`, B's stays silent; what B's
/// speaker plays is recorded.
pub struct Call {
    pub start: Instant,
    pub now: Instant,
    pub a: CallEngine,
    pub b: CallEngine,
    pub a_to_b: LossyLink<MediaPacket>,
    pub b_to_a: LossyLink<MediaPacket>,
    pub b_speaker: Vec<f32>,
    pub a_speaker: Vec<f32>,
}

impl Call {
    pub fn new(config: EngineConfig, a_to_b: LinkProfile, b_to_a: LinkProfile, seed: u64) -> Self {
        let start = Instant::now();
        Call {
            start,
            now: start,
            a: CallEngine::new_seeded(config, start, seed).unwrap(),
            b: CallEngine::new_seeded(config, start, seed ^ 0x5555).unwrap(),
            a_to_b: LossyLink::new(a_to_b, seed.wrapping_mul(31).wrapping_add(1)),
            b_to_a: LossyLink::new(b_to_a, seed.wrapping_mul(37).wrapping_add(2)),
            b_speaker: Vec::new(),
            a_speaker: Vec::new(),
        }
    }

    /// One 10 ms step: capture, send, deliver, play.
    pub fn tick(&mut self, a_mic: &[f32], b_mic: &[f32]) {
        let now = self.now;
        self.a.push_capture(a_mic, now);
        self.b.push_capture(b_mic, now);
        for packet in self.a.poll_transmit(now) {
            self.a_to_b.push(packet, now);
        }
        for packet in self.b.poll_transmit(now) {
            self.b_to_a.push(packet, now);
        }
        for packet in self.a_to_b.pop_due(now) {
            self.b.receive(packet, now);
        }
        for packet in self.b_to_a.pop_due(now) {
            self.a.receive(packet, now);
        }
        let mut out = [0.0; BLOCK_SAMPLES];
        self.b.pull_playback(&mut out, now);
        self.b_speaker.extend_from_slice(&out);
        self.a.pull_playback(&mut out, now);
        self.a_speaker.extend_from_slice(&out);
        self.now += TICK;
    }

    /// Plays all of `a_mic` through A (B silent), then `tail` more ticks of silence.
    pub fn run(&mut self, a_mic: &[f32], tail: usize) {
        let silence = [0.0; BLOCK_SAMPLES];
        for block in a_mic.chunks(BLOCK_SAMPLES) {
            self.tick(block, &silence);
        }
        for _ in 0..tail {
            self.tick(&silence, &silence);
        }
    }

    pub fn b_stats(&self) -> CallStats {
        self.b.stats()
    }
}

fn dot(a: &[f32], b: &[f32]) -> f64 {
    a.iter().zip(b).map(|(&x, &y)| f64::from(x) * f64::from(y)).sum()
}

/// Normalised correlation of two equal-length slices (1 = identical shape).
pub fn correlation(a: &[f32], b: &[f32]) -> f64 {
    let denominator = (dot(a, a) * dot(b, b)).sqrt();
    if denominator == 0.0 { 0.0 } else { dot(a, b) / denominator }
}

/// The delay of `recorded` against `reference` (in samples, 0..max_lag) at which they
/// correlate best: a coarse search at 1/4 rate, then a fine one around it.
pub fn find_lag(reference: &[f32], recorded: &[f32], max_lag: usize) -> usize {
    let window = reference.len().min(recorded.len().saturating_sub(max_lag));
    let coarse = |lag: usize| -> f64 {
        (0..window).step_by(4).map(|i| f64::from(reference[i]) * f64::from(recorded[i + lag])).sum()
    };
    let best_coarse = (0..max_lag).step_by(4).max_by(|&x, &y| coarse(x).total_cmp(&coarse(y))).unwrap();
    let fine = |lag: usize| dot(&reference[..window], &recorded[lag..lag + window]);
    (best_coarse.saturating_sub(8)..(best_coarse + 8).min(max_lag))
        .max_by(|&x, &y| fine(x).total_cmp(&fine(y)))
        .unwrap()
}

/// Quality of a received recording against what was sent, per 20 ms segment.
#[derive(Debug, Clone, Copy)]
pub struct Quality {
    /// Mean normalised correlation over the segments with speech in them.
    pub mean_correlation: f64,
    /// Fraction of those segments whose correlation is at least 0.7 ("usable").
    pub usable: f64,
    pub segments: usize,
}

/// Segment-by-segment aligned correlation. The jitter buffer changes the delay only by
/// whole frames (a concealed frame inserted, a frame dropped), so the alignment is
/// tracked: each segment is compared at the previous segment's lag and one frame either
/// side, and the best is taken and followed.
pub fn quality(reference: &[f32], recorded: &[f32], start_lag: usize, skip_seconds: f64) -> Quality {
    let mut lag = start_lag as i64;
    let (mut sum, mut usable, mut segments) = (0.0, 0, 0);
    let first = (skip_seconds * RATE as f64) as usize / FRAME;
    for segment in first..reference.len() / FRAME {
        let sent = &reference[segment * FRAME..(segment + 1) * FRAME];
        let energy = dot(sent, sent) / FRAME as f64;
        if energy < 0.02f64.powi(2) {
            continue; // a pause or a syllable's edge: nothing to judge
        }
        let at = |lag: i64| -> Option<f64> {
            let from = usize::try_from(segment as i64 * FRAME as i64 + lag).ok()?;
            recorded.get(from..from + FRAME).map(|got| correlation(sent, got))
        };
        let (best_lag, best) = [lag, lag - FRAME as i64, lag + FRAME as i64]
            .into_iter()
            .filter_map(|l| at(l).map(|c| (l, c)))
            .fold(
                (lag, f64::NEG_INFINITY),
                |best, candidate| if candidate.1 > best.1 { candidate } else { best },
            );
        if !best.is_finite() {
            break;
        }
        lag = best_lag;
        sum += best;
        segments += 1;
        if best >= 0.7 {
            usable += 1;
        }
    }
    Quality { mean_correlation: sum / segments as f64, usable: usable as f64 / segments as f64, segments }
}
