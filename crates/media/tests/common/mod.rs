//! Two `CallEngine`s talking through two seeded `LossyLink`s in simulated time, and the
//! measurements the tests make on what comes out.
#![allow(dead_code, unused_imports, clippy::unwrap_used)]

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

pub use mocha_media::audio::measure::{Quality, correlation, find_lag, quality};

/// RMS per millisecond: a phase-blind picture of the syllable rhythm.
pub fn envelope(samples: &[f32]) -> Vec<f32> {
    samples
        .chunks_exact(RATE / 1000)
        .map(|c| (c.iter().map(|s| s * s).sum::<f32>() / c.len() as f32).sqrt())
        .collect()
}

/// The delay (in ms, 0..max_ms) at which the received envelope matches the sent one
/// best. Phase-blind, so it sees through the echo canceller's high-pass filter (which
/// turns a 140 Hz fundamental by ~50°: inaudible, but it blurs waveform correlation).
pub fn envelope_lag_ms(reference: &[f32], recorded: &[f32], max_ms: usize) -> usize {
    let (sent, got) = (envelope(reference), envelope(recorded));
    let window = sent.len().min(got.len().saturating_sub(max_ms));
    (0..max_ms)
        .max_by(|&x, &y| {
            let at = |lag: usize| correlation(&sent[..window], &got[lag..lag + window]);
            at(x).total_cmp(&at(y))
        })
        .unwrap()
}

/// Correlation of the sent and received envelopes at `lag_ms`.
pub fn envelope_correlation(reference: &[f32], recorded: &[f32], lag_ms: usize) -> f64 {
    let (sent, got) = (envelope(reference), envelope(recorded));
    let window = sent.len().min(got.len().saturating_sub(lag_ms));
    correlation(&sent[..window], &got[lag_ms..lag_ms + window])
}
