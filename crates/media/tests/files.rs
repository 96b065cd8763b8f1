//! What `mocha call --play file.wav --record out.wav` does, without a sound card: a 16 kHz
//! WAV file is resampled to 48 kHz, sent through a call, resampled back and recorded.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use common::*;
use mocha_media::audio::{AudioSink, AudioSource, BLOCK_SAMPLES, Resampler, WavRecorder, WavSource};
use mocha_media::link::LinkProfile;

#[test]
fn a_16_khz_wav_file_goes_through_a_call_into_a_recording() {
    let dir = std::env::temp_dir().join(format!("mocha-media-files-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (input_path, output_path) = (dir.join("in.wav"), dir.join("out.wav"));
    // 4 s of the test voice at 16 kHz, written as the file a user would play.
    let voice48 = speech(4.0, 150.0);
    let mut down = Resampler::new(48_000, 16_000).unwrap();
    let mut voice16 = Vec::new();
    down.process(&voice48, &mut voice16).unwrap();
    let mut file = WavRecorder::create(&input_path, 16_000).unwrap();
    file.write(&voice16).unwrap();
    file.finish().unwrap();

    let mut source = WavSource::open(&input_path).unwrap();
    let mut up = Resampler::new(source.sample_rate(), 48_000).unwrap();
    let mut recorder = WavRecorder::create(&output_path, 16_000).unwrap();
    let mut back = Resampler::new(48_000, recorder.sample_rate()).unwrap();
    let clean = LinkProfile::clean(Duration::from_millis(20));
    let mut call = Call::new(transport_only(), clean, clean, 4);
    let mut pending = Vec::new();
    let mut chunk = [0.0; 160];
    let silence = [0.0; BLOCK_SAMPLES];
    let mut played = 0;
    for _ in 0..500 {
        let count = source.read(&mut chunk).unwrap();
        up.process(&chunk[..count], &mut pending).unwrap();
        let block: Vec<f32> = if pending.len() >= BLOCK_SAMPLES {
            pending.drain(..BLOCK_SAMPLES).collect()
        } else {
            vec![0.0; BLOCK_SAMPLES]
        };
        call.tick(&block, &silence);
        let mut out16 = Vec::new();
        back.process(&call.b_speaker[played..], &mut out16).unwrap();
        played = call.b_speaker.len();
        recorder.write(&out16).unwrap();
    }
    assert!(source.is_finished());
    recorder.finish().unwrap();

    let mut recorded = WavSource::open(&output_path).unwrap();
    assert_eq!(recorded.sample_rate(), 16_000);
    let mut samples = vec![0.0; 16_000 * 6];
    let count = recorded.read(&mut samples).unwrap();
    samples.truncate(count);
    assert!(count >= 16_000 * 4, "{count} samples recorded");
    // Compare at 48 kHz by envelope (two resamplers and Opus in between).
    let mut recorded48 = Vec::new();
    Resampler::new(16_000, 48_000).unwrap().process(&samples, &mut recorded48).unwrap();
    let reference = &voice48[RATE / 2..3 * RATE];
    let lag = envelope_lag_ms(reference, &recorded48[RATE / 2..], 250);
    let shape = envelope_correlation(reference, &recorded48[RATE / 2..], lag);
    // The same envelope 60 ms off: what a wrong or smeared recording would score.
    let misaligned = envelope_correlation(reference, &recorded48[RATE / 2..], lag + 60);
    eprintln!(
        "WAV 16 kHz -> call -> WAV 16 kHz: delay {lag} ms, envelope correlation {shape:.3} ({misaligned:.3} 60 ms off)"
    );
    assert!(shape > 0.9 && shape > misaligned + 0.2, "{shape} vs {misaligned}");
    assert!(lag < 150, "{lag} ms");
    std::fs::remove_dir_all(&dir).unwrap();
}
