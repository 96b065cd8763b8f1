//! Measures the H.264 path on a 640x480 test clip: encode and decode CPU time per frame,
//! bytes per frame at a bitrate, and luma PSNR; also writes the clip as Y4M so another
//! encoder (vpxenc) can be measured on the same pictures. See docs/media.md, "Video".
//!
//!     cargo run -p mocha-media --example video_codec -- [bitrate_bps] [noise] [frames] [clip.y4m]
//!
//! `noise` (0–40) adds seeded per-pixel luma noise, a stand-in for a camera's sensor
//! noise and texture; the bare test pattern is far easier to compress than a face.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use mocha_media::video::{Frame, H264Decoder, H264Encoder, TestPattern, Y4mWriter, read_counter};

/// CPU time this thread has used (Linux), so a busy machine does not inflate the figures.
fn cpu() -> Duration {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").unwrap_or_default();
    Duration::from_nanos(stat.split(' ').next().and_then(|n| n.parse().ok()).unwrap_or(0))
}

fn psnr(a: &Frame, b: &Frame) -> f64 {
    let mse = a.y().iter().zip(b.y()).map(|(x, y)| (f64::from(*x) - f64::from(*y)).powi(2)).sum::<f64>()
        / a.y().len() as f64;
    if mse == 0.0 { 99.0 } else { 10.0 * (255.0f64 * 255.0 / mse).log10() }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let bitrate: u32 = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(600_000);
    let noise: u64 = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(0);
    let frames: u64 = args.get(3).and_then(|a| a.parse().ok()).unwrap_or(300);
    let clip = args.get(4);

    let pattern = TestPattern::new(640, 480, 30, 1).unwrap();
    let mut rng = 0x2545_F491_4F6C_DD1Du64;
    let pictures: Vec<Frame> = (0..frames)
        .map(|n| {
            let mut frame = pattern.frame(n);
            if noise > 0 {
                // Leave the counter band clean so it can still be read back.
                for y in frame.planes_mut().0.iter_mut().skip(640 * 80) {
                    rng ^= rng << 13;
                    rng ^= rng >> 7;
                    rng ^= rng << 17;
                    *y = y.saturating_add((rng % noise) as u8).saturating_sub((noise / 2) as u8);
                }
            }
            frame
        })
        .collect();
    if let Some(path) = clip {
        let mut writer = Y4mWriter::new(std::io::BufWriter::new(std::fs::File::create(path).unwrap()), 30, 1);
        for picture in &pictures {
            writer.write(picture).unwrap();
        }
        writer.finish().unwrap();
    }

    let mut encoder = H264Encoder::new(bitrate, 30.0).unwrap();
    let mut decoder = H264Decoder::new().unwrap();
    let (mut encode, mut decode) = (Duration::ZERO, Duration::ZERO);
    let (mut bytes, mut keyframe_bytes, mut sent, mut psnr_sum, mut counters_ok) =
        (0usize, 0usize, 0u64, 0.0, 0u64);
    for picture in &pictures {
        let t = cpu();
        let encoded = encoder.encode(picture).unwrap();
        encode += cpu() - t;
        let Some(encoded) = encoded else { continue };
        sent += 1;
        bytes += encoded.data.len();
        if encoded.keyframe && keyframe_bytes == 0 {
            keyframe_bytes = encoded.data.len();
        }
        let t = cpu();
        let out = decoder.decode(&encoded.data, encoded.timestamp).unwrap().unwrap();
        decode += cpu() - t;
        psnr_sum += psnr(picture, &out);
        counters_ok += u64::from(read_counter(&out).is_some());
    }
    let per = |d: Duration| d.as_secs_f64() * 1000.0 / frames as f64;
    println!(
        "openh264 640x480 {frames} frames, noise {noise}, target {} kbit/s: encode {:.2} ms/frame, decode {:.2} ms/frame, \
         {:.0} bytes/frame ({:.0} kbit/s actual), first keyframe {keyframe_bytes} bytes, {sent} frames coded, \
         luma PSNR {:.1} dB, counter read back in {counters_ok}",
        bitrate / 1000,
        per(encode),
        per(decode),
        bytes as f64 / frames as f64,
        bytes as f64 * 8.0 * 30.0 / frames as f64 / 1000.0,
        psnr_sum / sent.max(1) as f64,
    );
}
