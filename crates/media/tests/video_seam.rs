//! The seam the video half plugs into: a stand-in `VideoPipeline` on both sides shows
//! that its packets cross, that reports on its stream reach the sender with the round
//! trip, that a keyframe request from the receiver reaches the sender's pipeline, and that
//! pulling a frame carries the audio playout delay for lip sync.
#![allow(clippy::unwrap_used)]

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use mocha_media::audio::BLOCK_SAMPLES;
use mocha_media::control::ReceiverReport;
use mocha_media::engine::{VideoPipeline, VideoStats};
use mocha_media::link::{LinkProfile, Loss, LossyLink};
use mocha_media::{CallEngine, EngineConfig, MediaPacket, Stream};

#[derive(Default)]
struct Seen {
    received: u64,
    reports: Vec<(ReceiverReport, Option<Duration>)>,
    keyframe_requests: u64,
    pulled_with_delay: Vec<Duration>,
}

struct StandIn {
    seq: u32,
    ask_for_keyframe: bool,
    seen: Arc<Mutex<Seen>>,
}

impl VideoPipeline for StandIn {
    type Frame = u32;

    fn push_frame(&mut self, _frame: u32, _now: Instant) {}

    fn pull_frame(&mut self, _now: Instant, audio_delay: Duration) -> Option<u32> {
        self.seen.lock().unwrap().pulled_with_delay.push(audio_delay);
        Some(7)
    }

    fn receive(&mut self, packet: MediaPacket, _now: Instant) {
        assert_eq!(packet.stream, Stream::Video);
        self.seen.lock().unwrap().received += 1;
    }

    fn poll_transmit(&mut self, _now: Instant, out: &mut Vec<MediaPacket>) {
        self.seq = self.seq.wrapping_add(1);
        out.push(MediaPacket {
            stream: Stream::Video,
            seq: self.seq,
            timestamp: self.seq.wrapping_mul(900),
            payload: Bytes::from_static(&[0x55; 100]),
        });
    }

    fn on_receiver_report(&mut self, report: &ReceiverReport, round_trip: Option<Duration>) {
        self.seen.lock().unwrap().reports.push((*report, round_trip));
    }

    fn on_keyframe_request(&mut self) {
        self.seen.lock().unwrap().keyframe_requests += 1;
    }

    fn take_keyframe_request(&mut self) -> bool {
        std::mem::take(&mut self.ask_for_keyframe)
    }

    fn set_camera(&mut self, _on: bool) {}

    fn stats(&self) -> VideoStats {
        VideoStats { freezes: 3, ..VideoStats::default() }
    }
}

#[test]
fn video_packets_reports_and_keyframe_requests_cross_the_seam() {
    let start = Instant::now();
    let config =
        EngineConfig { audio: true, video: true, echo_cancellation: false, noise_suppression: false };
    let (a_seen, b_seen) = (Arc::new(Mutex::new(Seen::default())), Arc::new(Mutex::new(Seen::default())));
    let mut a = CallEngine::with_video(
        config,
        start,
        StandIn { seq: 0, ask_for_keyframe: false, seen: a_seen.clone() },
        1,
    )
    .unwrap();
    let mut b = CallEngine::with_video(
        config,
        start,
        StandIn { seq: 0, ask_for_keyframe: true, seen: b_seen.clone() },
        2,
    )
    .unwrap();
    let profile = LinkProfile::clean(Duration::from_millis(15)).with_loss(Loss::Random(0.1));
    let mut a_to_b = LossyLink::new(profile, 3);
    let mut b_to_a = LossyLink::new(LinkProfile::clean(Duration::from_millis(15)), 4);
    let mut out = [0.0; BLOCK_SAMPLES];
    for tick in 0..300u32 {
        let now = start + Duration::from_millis(10) * tick;
        a.push_capture(&[0.0; BLOCK_SAMPLES], now);
        b.push_capture(&[0.0; BLOCK_SAMPLES], now);
        a.poll_transmit(now).into_iter().for_each(|p| a_to_b.push(p, now));
        b.poll_transmit(now).into_iter().for_each(|p| b_to_a.push(p, now));
        a_to_b.pop_due(now).into_iter().for_each(|p| b.receive(p, now));
        b_to_a.pop_due(now).into_iter().for_each(|p| a.receive(p, now));
        a.pull_playback(&mut out, now);
        b.pull_playback(&mut out, now);
    }
    assert_eq!(b.pull_video_frame(start + Duration::from_secs(3)), Some(7));

    let a_seen = a_seen.lock().unwrap();
    let b_seen = b_seen.lock().unwrap();
    // Video went both ways, minus what the link lost.
    assert!(b_seen.received > 200 && b_seen.received < 290, "{}", b_seen.received);
    assert!(a_seen.received >= 290, "{}", a_seen.received);
    // B's reports on A's video reached A's pipeline, with loss and (after the first pong) the round trip.
    let (last, round_trip) = *a_seen.reports.last().unwrap();
    assert_eq!(last.stream, Stream::Video);
    assert!(a_seen.reports.len() >= 4, "{}", a_seen.reports.len());
    let lost = a_seen.reports.iter().map(|(r, _)| u32::from(r.fraction_lost)).sum::<u32>()
        / a_seen.reports.len() as u32;
    assert!((10..45).contains(&lost), "mean fraction lost {lost}/256");
    let rtt = round_trip.unwrap();
    assert!(rtt >= Duration::from_millis(30) && rtt <= Duration::from_millis(45), "{rtt:?}");
    // B asked once for a keyframe; A's pipeline heard it once.
    assert_eq!(a_seen.keyframe_requests, 1);
    assert_eq!(b_seen.keyframe_requests, 0);
    // Lip sync: the pull carried B's audio playout delay.
    assert_eq!(b_seen.pulled_with_delay.len(), 1);
    assert_eq!(b.stats().freezes, 3);
}
