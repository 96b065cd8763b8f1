//! The echo canceller (sonora's AEC3) on a simulated room: the far end's speech comes
//! back into the microphone delayed, attenuated and filtered. Far-end-only echo must
//! drop by at least 25 dB; in double talk the near-end talker must come through.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use mocha_media::audio::{BLOCK_SAMPLES, VoiceProcessor};
use mocha_media::link::SplitMix64;

/// Speaker-to-microphone path: 40 ms of air and buffers, -6 dB, a few reflections.
fn room(far: &[f32]) -> Vec<f32> {
    let delay = 40 * RATE / 1000;
    let taps: [(usize, f32); 5] = [(0, 0.5), (37, 0.22), (113, -0.12), (251, 0.07), (509, -0.04)];
    (0..far.len())
        .map(|i| {
            taps.iter()
                .filter_map(|&(at, gain)| i.checked_sub(delay + at).map(|j| gain * far[j]))
                .sum::<f32>()
        })
        .collect()
}

fn energy(samples: &[f32]) -> f64 {
    samples.iter().map(|&s| f64::from(s) * f64::from(s)).sum()
}

fn db(ratio: f64) -> f64 {
    10.0 * ratio.log10()
}

/// Runs the canceller over `far` (played) and `mic` (captured), 10 ms at a time.
fn cancel(far: &[f32], mic: &[f32]) -> Vec<f32> {
    let mut processor = VoiceProcessor::new(true, false);
    let mut out = Vec::with_capacity(mic.len());
    for (far, mic) in far.chunks_exact(BLOCK_SAMPLES).zip(mic.chunks_exact(BLOCK_SAMPLES)) {
        processor.process_render(far).unwrap();
        let mut block = mic.to_vec();
        processor.process_capture(&mut block).unwrap();
        out.extend_from_slice(&block);
    }
    out
}

#[test]
fn far_end_echo_drops_25_db_and_the_near_end_survives_double_talk() {
    let seconds = 14.0;
    let far = speech(seconds, 120.0);
    let mut noise = SplitMix64::new(1);
    let echo: Vec<f32> = room(&far).into_iter().map(|e| e + 1e-4 * (noise.next_f64() as f32 - 0.5)).collect();
    // The near-end talker starts at 8 s (after the canceller has converged) and talks over the far end.
    let double_talk = 8 * RATE;
    let near: Vec<f32> = speech(seconds, 210.0)
        .into_iter()
        .enumerate()
        .map(|(i, s)| if i >= double_talk { s } else { 0.0 })
        .collect();
    let mic: Vec<f32> = echo.iter().zip(&near).map(|(e, n)| e + n).collect();

    let out = cancel(&far, &mic);
    // Far end only, after 4 s of convergence.
    let span = 4 * RATE..double_talk;
    let reduction = db(energy(&mic[span.clone()]) / energy(&out[span]));

    // The near-end talker alone through the same canceller (no far end at all): what
    // double talk should ideally leave.
    let silent = vec![0.0; far.len()];
    let alone = cancel(&silent, &near);
    let span = double_talk + RATE / 2..far.len();
    let kept = db(energy(&out[span.clone()]) / energy(&alone[span.clone()]));
    let residual: Vec<f32> = out[span.clone()].iter().zip(&alone[span.clone()]).map(|(o, a)| o - a).collect();
    let near_to_rest = db(energy(&alone[span.clone()]) / energy(&residual));
    let shape = correlation(&out[span.clone()], &alone[span.clone()]);
    let echo_to_near = db(energy(&echo[span.clone()]) / energy(&near[span]));
    eprintln!(
        "AEC3: far-end echo reduced {reduction:.1} dB; double talk (echo {echo_to_near:+.1} dB against the near \
         talker): near end kept at {kept:+.1} dB, near-end to residual {near_to_rest:.1} dB, correlation {shape:.3}"
    );
    assert!(reduction >= 25.0, "echo reduced only {reduction:.1} dB");
    assert!(kept > -6.0, "near end attenuated {kept:.1} dB in double talk");
    assert!(shape > 0.8, "near end distorted in double talk: correlation {shape:.3}");
}

#[test]
fn with_the_option_off_the_microphone_passes_untouched() {
    let far = speech(2.0, 120.0);
    let mic = room(&far);
    let mut processor = VoiceProcessor::new(false, false);
    let mut out = Vec::new();
    for (far, mic) in far.chunks_exact(BLOCK_SAMPLES).zip(mic.chunks_exact(BLOCK_SAMPLES)) {
        processor.process_render(far).unwrap();
        let mut block = mic.to_vec();
        processor.process_capture(&mut block).unwrap();
        out.extend_from_slice(&block);
    }
    assert_eq!(out, mic[..out.len()]);
}
