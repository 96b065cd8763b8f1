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
/// whole frames (a concealed frame inserted while waiting for a late packet, a frame
/// dropped to shrink), so each 20 ms segment with speech is compared with the recording
/// at `start_lag` plus k frames (k from -4 to 12), and one consistent path through those
/// lags is chosen for the whole recording (dynamic programming: the sum of correlations,
/// minus 0.3 for every frame the delay changes). A segment cannot pick a lag of its own:
/// concealed audio, which repeats the last pitch periods, would sometimes match a wrong
/// lag by chance and flatter the result. At a wrong lag this voice correlates ≈ 0 (its
/// pitch glides), so a segment only scores where the right audio is at the right time.
pub fn quality(reference: &[f32], recorded: &[f32], start_lag: usize, skip_seconds: f64) -> Quality {
    const LAGS: std::ops::RangeInclusive<i64> = -4..=12;
    const STEP_COST: f64 = 0.3;
    let first = (skip_seconds * RATE as f64) as usize / FRAME;
    let mut table: Vec<Vec<f64>> = Vec::new();
    for segment in first..reference.len() / FRAME {
        let sent = &reference[segment * FRAME..(segment + 1) * FRAME];
        if dot(sent, sent) / (FRAME as f64) < 0.02f64.powi(2) {
            continue; // a pause or a syllable's edge: nothing to judge
        }
        let row: Vec<f64> = LAGS
            .map(|k| {
                let from = segment as i64 * FRAME as i64 + start_lag as i64 + k * FRAME as i64;
                usize::try_from(from)
                    .ok()
                    .and_then(|from| recorded.get(from..from + FRAME))
                    .map_or(-1.0, |got| correlation(sent, got))
            })
            .collect();
        if row.iter().all(|&c| c == -1.0) {
            break; // past the end of the recording
        }
        table.push(row);
    }
    let width = LAGS.count();
    let mut best: Vec<f64> = table.first().cloned().unwrap_or_default();
    let mut from: Vec<Vec<usize>> = Vec::new();
    for row in table.iter().skip(1) {
        let mut next = vec![0.0; width];
        let mut back = vec![0; width];
        for k in 0..width {
            let (origin, score) = (0..width)
                .map(|j| (j, best[j] - STEP_COST * (j as f64 - k as f64).abs()))
                .fold((k, f64::NEG_INFINITY), |b, c| if c.1 > b.1 { c } else { b });
            next[k] = score + row[k];
            back[k] = origin;
        }
        best = next;
        from.push(back);
    }
    let mut k = (0..width).max_by(|&x, &y| best[x].total_cmp(&best[y])).unwrap_or(0);
    let mut path = vec![k];
    for back in from.iter().rev() {
        k = back[k];
        path.push(k);
    }
    path.reverse();
    let scores: Vec<f64> = table.iter().zip(&path).map(|(row, &k)| row[k]).collect();
    let usable = scores.iter().filter(|&&c| c >= 0.7).count();
    Quality {
        mean_correlation: scores.iter().sum::<f64>() / scores.len() as f64,
        usable: usable as f64 / scores.len() as f64,
        segments: scores.len(),
    }
}

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
