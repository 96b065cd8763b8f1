//! Opus implementations and the echo canceller, measured the way the engine uses them:
//! 48 kHz mono, 20 ms frames, 32 kbps, in-band FEC, 10 % and 20 % loss with FEC recovery
//! from the next packet. Prints CPU per frame and the error of the recovered audio.

use std::f64::consts::TAU;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::Instant;

const RATE: usize = 48_000;
const FRAME: usize = 960;

fn voice(seconds: usize) -> Vec<f32> {
    let mut phase = 0.0f64;
    (0..seconds * RATE)
        .map(|i| {
            let t = i as f64 / RATE as f64;
            let pitch = 140.0 * (1.0 + 0.12 * (TAU * 0.8 * t).sin());
            phase = (phase + TAU * pitch / RATE as f64) % TAU;
            let envelope = (TAU * 2.0 * (t % 3.0)).sin().abs().powf(0.7) * if t % 3.0 > 2.4 { 0.0 } else { 1.0 };
            let value: f64 = (1..=12).map(|h| (phase * h as f64).sin() / h as f64).sum();
            (0.25 * value * envelope) as f32
        })
        .collect()
}

/// Deterministic loss pattern: xorshift.
fn losses(count: usize, rate: f64, seed: u64) -> Vec<bool> {
    let mut state = seed;
    (0..count)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 11) as f64 / (1u64 << 53) as f64 > rate
        })
        .collect()
}

trait Codec {
    fn name(&self) -> &'static str;
    fn encode(&mut self, frame: &[f32]) -> Vec<u8>;
    fn decode(&mut self, packet: &[u8], out: &mut [f32]);
    fn decode_fec(&mut self, next: &[u8], out: &mut [f32]);
    fn conceal(&mut self, out: &mut [f32]);
    fn reset_decoder(&mut self);
}

struct Libopus(opus::Encoder, opus::Decoder);

impl Libopus {
    fn new() -> Self {
        let mut encoder = opus::Encoder::new(48_000, opus::Channels::Mono, opus::Application::Voip).unwrap();
        encoder.set_bitrate(opus::Bitrate::Bits(32_000)).unwrap();
        encoder.set_inband_fec(true).unwrap();
        encoder.set_packet_loss_perc(20).unwrap();
        Libopus(encoder, opus::Decoder::new(48_000, opus::Channels::Mono).unwrap())
    }
}

impl Codec for Libopus {
    fn name(&self) -> &'static str {
        "libopus 1.6 (opus 0.4 / opusic-sys)"
    }
    fn encode(&mut self, frame: &[f32]) -> Vec<u8> {
        self.0.encode_vec_float(frame, 1275).unwrap()
    }
    fn decode(&mut self, packet: &[u8], out: &mut [f32]) {
        self.1.decode_float(packet, out, false).unwrap();
    }
    fn decode_fec(&mut self, next: &[u8], out: &mut [f32]) {
        self.1.decode_float(next, out, true).unwrap();
    }
    fn conceal(&mut self, out: &mut [f32]) {
        self.1.decode_float(&[], out, false).unwrap();
    }
    fn reset_decoder(&mut self) {
        self.1 = opus::Decoder::new(48_000, opus::Channels::Mono).unwrap();
    }
}

struct PureRust(opus_rs::OpusEncoder, opus_rs::OpusDecoder);

impl PureRust {
    fn new() -> Self {
        let mut encoder = opus_rs::OpusEncoder::new(48_000, 1, opus_rs::Application::Voip).unwrap();
        encoder.bitrate_bps = 32_000;
        encoder.use_inband_fec = true;
        encoder.packet_loss_perc = 20;
        PureRust(encoder, opus_rs::OpusDecoder::new(48_000, 1).unwrap())
    }
}

impl Codec for PureRust {
    fn name(&self) -> &'static str {
        "opus-rs 0.1 (pure Rust)"
    }
    fn encode(&mut self, frame: &[f32]) -> Vec<u8> {
        let mut out = vec![0; 1275];
        let length = self.0.encode(frame, FRAME, &mut out).unwrap();
        out.truncate(length);
        out
    }
    fn decode(&mut self, packet: &[u8], out: &mut [f32]) {
        self.1.decode(packet, FRAME, out).unwrap();
    }
    fn decode_fec(&mut self, next: &[u8], out: &mut [f32]) {
        self.1.decode_fec(next, FRAME, out).unwrap();
    }
    fn conceal(&mut self, out: &mut [f32]) {
        self.1.decode(&[], FRAME, out).unwrap();
    }
    fn reset_decoder(&mut self) {
        self.1 = opus_rs::OpusDecoder::new(48_000, 1).unwrap();
    }
}

fn snr_db(reference: &[f32], decoded: &[f32]) -> f64 {
    let signal: f64 = reference.iter().map(|&s| f64::from(s).powi(2)).sum();
    let noise: f64 = reference.iter().zip(decoded).map(|(&a, &b)| (f64::from(a) - f64::from(b)).powi(2)).sum();
    10.0 * (signal / noise).log10()
}

fn measure(codec: &mut dyn Codec, input: &[f32]) {
    let frames: Vec<&[f32]> = input.chunks_exact(FRAME).collect();
    let started = Instant::now();
    let packets: Vec<Vec<u8>> = frames.iter().map(|f| codec.encode(f)).collect();
    let encode_us = started.elapsed().as_secs_f64() * 1e6 / frames.len() as f64;
    let bytes = packets.iter().map(Vec::len).sum::<usize>() as f64 / packets.len() as f64;

    let mut out = vec![0.0; FRAME];
    let started = Instant::now();
    let mut clean = Vec::new();
    for packet in &packets {
        codec.decode(packet, &mut out);
        clean.extend_from_slice(&out);
    }
    let decode_us = started.elapsed().as_secs_f64() * 1e6 / frames.len() as f64;
    println!("{}: encode {encode_us:.0} µs/frame, decode {decode_us:.0} µs/frame, {bytes:.0} bytes/packet", codec.name());

    for rate in [0.10, 0.20] {
        let delivered = losses(packets.len(), rate, 99);
        for use_fec in [true, false] {
            codec.reset_decoder();
            let mut lossy = Vec::new();
            for i in 0..packets.len() {
                if delivered[i] {
                    codec.decode(&packets[i], &mut out);
                } else if use_fec && i + 1 < packets.len() && delivered[i + 1] {
                    codec.decode_fec(&packets[i + 1], &mut out);
                } else {
                    codec.conceal(&mut out);
                }
                lossy.extend_from_slice(&out);
            }
            println!(
                "  {:.0} % loss, {}: SNR against the loss-free decode {:.1} dB",
                rate * 100.0,
                if use_fec { "FEC + PLC" } else { "PLC only" },
                snr_db(&clean, &lossy)
            );
        }
    }
}

fn echo_canceller_cost() {
    use sonora::config::{EchoCanceller, HighPassFilter, NoiseSuppression};
    let config = sonora::Config {
        high_pass_filter: Some(HighPassFilter::default()),
        echo_canceller: Some(EchoCanceller::default()),
        noise_suppression: Some(NoiseSuppression::default()),
        ..Default::default()
    };
    let stream = sonora::StreamConfig::new(48_000, 1);
    let mut apm =
        sonora::AudioProcessing::builder().config(config).capture_config(stream).render_config(stream).build();
    let far = voice(10);
    let mut out = vec![0.0; 480];
    let started = Instant::now();
    for (i, block) in far.chunks_exact(480).enumerate() {
        apm.process_render_f32(&[block], &mut [&mut out]).unwrap();
        let echo: Vec<f32> = if i >= 4 { far[(i - 4) * 480..(i - 3) * 480].iter().map(|s| s * 0.4).collect() } else { vec![0.0; 480] };
        apm.process_capture_f32(&[&echo], &mut [&mut out]).unwrap();
    }
    let per_block = started.elapsed().as_secs_f64() * 1e6 / (far.len() / 480) as f64;
    println!("sonora 0.2 AEC3 + NS + HPF at 48 kHz: {per_block:.0} µs per 10 ms block (render + capture)");
}

/// libopus's encoder complexity (0–10, default 10): CPU against fidelity, loss-free.
fn complexity(input: &[f32]) {
    for complexity in [10, 7, 5, 3] {
        let mut encoder = opus::Encoder::new(48_000, opus::Channels::Mono, opus::Application::Voip).unwrap();
        encoder.set_bitrate(opus::Bitrate::Bits(32_000)).unwrap();
        encoder.set_inband_fec(true).unwrap();
        encoder.set_packet_loss_perc(10).unwrap();
        encoder.set_complexity(complexity).unwrap();
        let delay = encoder.get_lookahead().unwrap() as usize;
        let mut decoder = opus::Decoder::new(48_000, opus::Channels::Mono).unwrap();
        let mut out = vec![0.0; FRAME];
        let mut decoded = Vec::new();
        let mut busy = std::time::Duration::ZERO;
        for frame in input.chunks_exact(FRAME) {
            let started = Instant::now();
            let packet = encoder.encode_vec_float(frame, 1275).unwrap();
            busy += started.elapsed();
            decoder.decode_float(&packet, &mut out, false).unwrap();
            decoded.extend_from_slice(&out);
        }
        let frames = input.len() / FRAME;
        let n = decoded.len() - delay;
        let (a, b) = (&input[..n], &decoded[delay..]);
        let dot = |x: &[f32], y: &[f32]| x.iter().zip(y).map(|(&p, &q)| f64::from(p) * f64::from(q)).sum::<f64>();
        let correlation = dot(a, b) / (dot(a, a) * dot(b, b)).sqrt();
        println!(
            "libopus complexity {complexity:>2}: encode {:.0} µs/frame, waveform correlation with the input {correlation:.3}",
            busy.as_secs_f64() * 1e6 / frames as f64
        );
    }
}

fn main() {
    let input = voice(20);
    for codec in [&mut Libopus::new() as &mut dyn Codec, &mut PureRust::new()] {
        let name = codec.name();
        if catch_unwind(AssertUnwindSafe(|| measure(codec, &input))).is_err() {
            println!("{name}: PANICKED (see above)");
        }
    }
    echo_canceller_cost();
    complexity(&input);
}
