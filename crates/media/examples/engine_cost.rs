//! CPU per 20 ms of call for one `CallEngine` (both directions: capture, echo
//! cancellation, noise suppression, encode, decode, playback), in simulated time.
//! `cargo run -p mocha-media --example engine_cost` (dev builds this crate at opt-level 2).

use std::time::{Duration, Instant};

use mocha_media::audio::synth::render;
use mocha_media::audio::{BLOCK_SAMPLES, SpeechLike};
use mocha_media::{CallEngine, EngineConfig};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let seconds = 20;
    let a_voice = render(&mut SpeechLike::new(48_000, 130.0, 0.5), seconds * 48_000)?;
    let b_voice = render(&mut SpeechLike::new(48_000, 210.0, 0.5), seconds * 48_000)?;
    for config in [
        EngineConfig::voice(),
        EngineConfig { audio: true, video: false, echo_cancellation: false, noise_suppression: false },
    ] {
        let start = Instant::now();
        let mut a = CallEngine::new_seeded(config, start, 1)?;
        let mut b = CallEngine::new_seeded(config, start, 2)?;
        let mut out = [0.0; BLOCK_SAMPLES];
        let mut busy = Duration::ZERO;
        for (tick, (a_block, b_block)) in
            a_voice.chunks_exact(BLOCK_SAMPLES).zip(b_voice.chunks_exact(BLOCK_SAMPLES)).enumerate()
        {
            let now = start + Duration::from_millis(10) * tick as u32;
            let began = Instant::now();
            a.push_capture(a_block, now);
            let to_b = a.poll_transmit(now);
            busy += began.elapsed();
            b.push_capture(b_block, now);
            for packet in b.poll_transmit(now) {
                let began = Instant::now();
                a.receive(packet, now);
                busy += began.elapsed();
            }
            to_b.into_iter().for_each(|packet| b.receive(packet, now));
            let began = Instant::now();
            a.pull_playback(&mut out, now);
            busy += began.elapsed();
            b.pull_playback(&mut out, now);
        }
        let frames = (seconds * 50) as f64;
        println!(
            "echo cancellation {}, noise suppression {}: {:.0} µs of CPU per 20 ms for one side ({:.1} % of a core)",
            config.echo_cancellation,
            config.noise_suppression,
            busy.as_secs_f64() * 1e6 / frames,
            busy.as_secs_f64() * 100.0 / seconds as f64
        );
    }
    Ok(())
}
