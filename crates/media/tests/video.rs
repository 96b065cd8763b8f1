//! The video path end to end over a simulated lossy link: sender → packets → seeded loss
//! and jitter → receiver, with keyframe requests and reports flowing back. Deterministic:
//! the link's randomness is seeded and time is the test's own.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use mocha_media::packet::MAX_PAYLOAD;
use mocha_media::video::{
    BitrateConfig, Frame, TestPattern, VideoReceiver, VideoReceiverStats, VideoSender, VideoSenderConfig,
    VideoSenderStats, read_counter,
};
use mocha_media::{MediaPacket, Stream};

/// xorshift64: a small seeded generator, so each run sees the same losses.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn chance(&mut self, p: f64) -> bool {
        (self.next() % 1_000_000) as f64 / 1_000_000.0 < p
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// Frame `n` of the pattern with seeded luma noise under the counter band: a camera's
/// noise and texture, so frames need several packets and the encoder spends its budget.
fn textured(pattern: &TestPattern, n: u64, rng: &mut Rng, amplitude: u64) -> Frame {
    let mut frame = pattern.frame(n);
    let width = frame.width() as usize;
    for y in frame.planes_mut().0.iter_mut().skip(width * 50) {
        *y = y.wrapping_add(rng.below(amplitude) as u8);
    }
    frame
}

const FPS: u64 = 30;
const ONE_WAY: Duration = Duration::from_millis(20);

struct Outcome {
    /// Counters read back from the decoded frames, in the order they came out.
    counters: Vec<u16>,
    sender: VideoSenderStats,
    receiver: VideoReceiverStats,
    largest_payload: usize,
    packets_lost: u64,
    final_target: u32,
}

/// Sends `frames` test-pattern frames (320x240, 30/s) over a link that loses `loss` of
/// the video packets (never in the last second, so the run ends clean) and delays each
/// by 20–30 ms. Keyframe requests travel back over the same lossy link; every 500 ms the
/// sender gets a report of the loss the receiver saw.
fn call(loss: f64, seed: u64, frames: u64, lose: impl Fn(u64, usize) -> bool) -> Outcome {
    let start = Instant::now();
    let mut rng = Rng(seed);
    let mut texture = Rng(seed ^ 0x5555);
    let pattern = TestPattern::new(320, 240, FPS as u32, 1).unwrap();
    let config = VideoSenderConfig {
        frame_rate: FPS as f32,
        bitrate: BitrateConfig { min_bps: 100_000, start_bps: 300_000, max_bps: 800_000 },
    };
    let mut sender = VideoSender::new(config, 0xFFFF_FFF0, 65_500).unwrap();
    let mut receiver = VideoReceiver::new().unwrap();
    let mut in_flight: BTreeMap<(Instant, u64), MediaPacket> = BTreeMap::new();
    let mut requests: Vec<Instant> = Vec::new();
    let (mut counters, mut largest_payload, mut lost, mut order) = (Vec::new(), 0, 0u64, 0u64);
    let (mut report_sent, mut report_lost) = (0u64, 0u64);
    let clean_after = frames.saturating_sub(FPS);

    let end = start + Duration::from_millis(frames * 1000 / FPS + 1000);
    let mut now = start;
    let mut next_frame = 0u64;
    while now < end {
        if next_frame < frames && now >= start + Duration::from_micros(next_frame * 1_000_000 / FPS) {
            let mut frame = textured(&pattern, next_frame, &mut texture, 16);
            frame.timestamp = (next_frame * 90_000 / FPS) as u32;
            for (i, packet) in sender.send_frame(&frame).unwrap().into_iter().enumerate() {
                assert_eq!(packet.stream, Stream::Video);
                largest_payload = largest_payload.max(packet.payload.len());
                report_sent += 1;
                let dropped = next_frame < clean_after && (rng.chance(loss) || lose(next_frame, i));
                if dropped {
                    lost += 1;
                    report_lost += 1;
                } else {
                    let at = now + ONE_WAY + Duration::from_micros(rng.below(10_000));
                    in_flight.insert((at, order), packet);
                    order += 1;
                }
            }
            next_frame += 1;
        }
        while let Some(entry) = in_flight.first_entry() {
            if entry.key().0 > now {
                break;
            }
            let packet = entry.remove();
            receiver.receive(&packet, now).unwrap();
        }
        receiver.poll(now);
        while let Some(frame) = receiver.next_frame() {
            counters.push(read_counter(&frame).expect("every decoded frame shows its counter"));
        }
        if receiver.poll_keyframe_request(now) && !rng.chance(loss) {
            requests.push(now + ONE_WAY);
        }
        requests.retain(|at| {
            let arrived = *at <= now;
            if arrived {
                sender.request_keyframe();
            }
            !arrived
        });
        if now.duration_since(start).as_millis().is_multiple_of(500) && report_sent > 0 {
            let fraction = report_lost as f32 / report_sent as f32;
            sender.on_report(fraction, Some(2 * ONE_WAY)).unwrap();
            (report_sent, report_lost) = (0, 0);
        }
        now += Duration::from_millis(5);
    }
    Outcome {
        counters,
        sender: sender.stats(),
        receiver: receiver.stats(),
        largest_payload,
        packets_lost: lost,
        final_target: sender.target_bitrate(),
    }
}

fn assert_in_order_and_accounted(out: &Outcome) {
    assert!(out.largest_payload <= MAX_PAYLOAD, "a {}-byte payload", out.largest_payload);
    assert!(out.counters.windows(2).all(|w| w[0] < w[1]), "frames out of order: {:?}", out.counters);
    let r = out.receiver.reassembly;
    // Every frame sent was decoded, dropped (incomplete) or skipped (reference lost).
    assert_eq!(r.frames_completed + r.frames_dropped + r.frames_skipped, out.sender.frames_sent);
    assert_eq!(out.receiver.frames_decoded, out.counters.len() as u64);
    assert_eq!(out.receiver.decode_errors, 0);
    assert!(r.freezes <= r.frames_dropped, "a freeze needs a lost frame");
    // The call ends in a clean second: the picture must be live again by then.
    assert!(!out.counters.is_empty());
    let last = *out.counters.last().unwrap() as u64;
    assert!(last + 5 >= out.sender.frames_in, "the picture ended frozen at frame {last}");
}

#[test]
fn a_clean_link_delivers_every_frame_in_order() {
    let out = call(0.0, 1, 90, |_, _| false);
    assert_in_order_and_accounted(&out);
    assert_eq!(out.sender.frames_skipped + out.counters.len() as u64, 90);
    let r = out.receiver.reassembly;
    assert_eq!((r.frames_dropped, r.frames_skipped, r.freezes, r.keyframe_requests), (0, 0, 0, 0));
    // The first frame, and one per bitrate step (the encoder restarts with a keyframe).
    assert_eq!(out.sender.keyframes, 1 + out.sender.bitrate_changes);
    assert!(out.sender.bitrate_changes <= 1, "{} restarts in 3 s", out.sender.bitrate_changes);
    assert!(out.final_target > 300_000, "no loss: the bitrate grew to {}", out.final_target);
}

#[test]
fn losses_of_five_and_ten_percent_freeze_and_recover_with_everything_counted() {
    let mut decoded = Vec::new();
    for (loss, seed) in [(0.05, 7), (0.10, 11)] {
        let out = call(loss, seed, 150, |_, _| false);
        assert_in_order_and_accounted(&out);
        let r = out.receiver.reassembly;
        eprintln!(
            "loss {loss}: {} of {} packets lost, {} of {} frames decoded, {} dropped, {} skipped, {} freezes, \
             {} keyframe requests, {} keyframes, target {} bps",
            out.packets_lost,
            out.sender.packets,
            out.receiver.frames_decoded,
            out.sender.frames_sent,
            r.frames_dropped,
            r.frames_skipped,
            r.freezes,
            r.keyframe_requests,
            out.sender.keyframes,
            out.final_target
        );
        assert!(out.packets_lost > 0 && r.frames_dropped > 0 && r.freezes > 0);
        assert!(r.keyframe_requests > 0, "the freezes asked for keyframes");
        assert!(out.sender.keyframes > 1, "the sender answered with keyframes");
        decoded.push(out.receiver.frames_decoded as f64 / out.sender.frames_sent as f64);
    }
    assert!(decoded[0] > 0.5, "5 % loss still shows most frames ({:.2})", decoded[0]);
    assert!(decoded[1] < 1.0 && decoded[1] > 0.2, "10 % loss: {:.2}", decoded[1]);
}

#[test]
fn one_lost_packet_freezes_until_the_keyframe_it_asked_for() {
    // The first packet of frame 30 is lost; nothing else.
    let out = call(0.0, 3, 90, |frame, index| frame == 30 && index == 0);
    assert_in_order_and_accounted(&out);
    let r = out.receiver.reassembly;
    assert_eq!((out.packets_lost, r.frames_dropped, r.freezes), (1, 1, 1));
    assert_eq!(r.keyframe_requests, 1, "one request, answered by one keyframe");
    assert_eq!(out.sender.keyframes, 2);
    // Frames up to 29 are shown, 30 is lost, those referencing it are skipped until the
    // keyframe: about one round trip plus the reorder wait (100 ms) later.
    let resumed = out.counters.iter().copied().find(|&c| c > 30).unwrap();
    assert!(out.counters.contains(&29) && !out.counters.contains(&30));
    assert!((31..=30 + 8).contains(&resumed), "the picture came back at frame {resumed}");
    assert_eq!(r.frames_skipped, u64::from(resumed) - 31);
}

#[test]
fn the_bitrate_follows_loss_down_and_the_stream_shrinks() {
    // Noise makes every frame expensive, so the encoder spends what it is allowed.
    let mut rng = Rng(5);
    let pattern = TestPattern::new(320, 240, 30, 1).unwrap();
    let config = VideoSenderConfig {
        frame_rate: 30.0,
        bitrate: BitrateConfig { min_bps: 100_000, start_bps: 800_000, max_bps: 800_000 },
    };
    let mut sender = VideoSender::new(config, 0, 0).unwrap();
    let mut second = |sender: &mut VideoSender, from: u64| -> u64 {
        (from..from + 30)
            .map(|n| {
                let frame = textured(&pattern, n, &mut rng, 24);
                sender.send_frame(&frame).unwrap().iter().map(|p| p.payload.len() as u64).sum::<u64>()
            })
            .sum()
    };
    second(&mut sender, 0);
    let before = second(&mut sender, 30);
    for _ in 0..20 {
        sender.on_report(0.25, Some(Duration::from_millis(40))).unwrap();
    }
    assert_eq!(sender.target_bitrate(), 100_000);
    second(&mut sender, 60);
    let after = second(&mut sender, 90);
    assert_eq!(sender.encoder_bitrate(), 100_000, "the encoder was restarted at the new rate");
    eprintln!("bytes per second at 800 kbit/s: {before}, at 100 kbit/s: {after}");
    assert!(before > 60_000, "{before} bytes in a second at 800 kbit/s");
    assert!(after * 3 < before, "{after} bytes after the cut, {before} before");
    // And back up when the loss ends.
    for _ in 0..40 {
        sender.on_report(0.0, Some(Duration::from_millis(40))).unwrap();
    }
    assert_eq!(sender.target_bitrate(), 800_000);
}

#[test]
fn a_y4m_clip_goes_through_a_call_and_comes_out_as_y4m() {
    // What the CLI does with `--video-in`/`--video-out` files, in memory.
    let mut clip = mocha_media::video::Y4mWriter::new(Vec::new(), 30, 1);
    let pattern = TestPattern::new(176, 144, 30, 1).unwrap();
    for n in 0..20 {
        clip.write(&pattern.frame(n)).unwrap();
    }
    let clip = clip.finish().unwrap();

    use mocha_media::video::{VideoSink, VideoSource, Y4mReader, Y4mWriter};
    let mut source = Y4mReader::new(&clip[..]).unwrap();
    let mut sender = VideoSender::new(VideoSenderConfig::default(), 1, 1).unwrap();
    let mut receiver = VideoReceiver::new().unwrap();
    let mut sink = Y4mWriter::new(Vec::new(), 30, 1);
    let now = Instant::now();
    while let Some(frame) = source.next_frame().unwrap() {
        for packet in sender.send_frame(&frame).unwrap() {
            receiver.receive(&packet, now).unwrap();
        }
        while let Some(decoded) = receiver.next_frame() {
            sink.write_frame(&decoded).unwrap();
        }
    }
    let out = sink.finish().unwrap();
    let mut back = Y4mReader::new(&out[..]).unwrap();
    assert_eq!((back.width(), back.height()), (176, 144));
    let mut counters = Vec::new();
    while let Some(frame) = back.next_frame().unwrap() {
        counters.push(read_counter(&frame).unwrap());
    }
    assert_eq!(counters.len() as u64 + sender.stats().frames_skipped, 20);
    assert!(counters.windows(2).all(|w| w[0] < w[1]) && counters[0] == 0);
}

#[test]
fn a_receiver_refuses_junk_and_keeps_going() {
    let mut sender = VideoSender::new(VideoSenderConfig::default(), 1, 1).unwrap();
    let mut receiver = VideoReceiver::new().unwrap();
    let pattern = TestPattern::new(176, 144, 30, 1).unwrap();
    let now = Instant::now();
    let junk = MediaPacket { stream: Stream::Video, seq: 9, timestamp: 0, payload: vec![0xFF; 40].into() };
    assert!(receiver.receive(&junk, now).is_err());
    let audio = MediaPacket { stream: Stream::Audio, seq: 9, timestamp: 0, payload: vec![0; 40].into() };
    assert!(receiver.receive(&audio, now).is_err());
    for n in 0..3 {
        for packet in sender.send_frame(&pattern.frame(n)).unwrap() {
            receiver.receive(&packet, now).unwrap();
        }
    }
    assert_eq!(receiver.stats().reassembly.rejected, 2);
    assert_eq!(std::iter::from_fn(|| receiver.next_frame()).count(), 3);
}
