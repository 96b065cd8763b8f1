//! The send half: camera frames → H.264 at the current target bitrate → packets.

use std::time::Duration;

use super::{BitrateConfig, BitrateController, BitrateError, Frame, H264Encoder, Packetizer, VideoError};
use crate::packet::MediaPacket;

/// Keyframes are costly (several P-frames' worth); requests that come faster than this
/// (the receiver repeats them until one arrives) are served by the one already sent.
const MIN_KEYFRAME_GAP: u32 = 90_000 / 4;
/// Restarting the encoder for a new bitrate costs a keyframe, so a change under 20 %
/// waits for a keyframe that is due anyway (a request), a cut is applied at most every
/// second (congestion must be relieved soon) and a raise at most every 5 s.
const CUT_GAP: u32 = 90_000;
const RAISE_GAP: u32 = 5 * 90_000;
const RATE_CHANGE_MIN: f64 = 0.05;
const RATE_CHANGE_NORMAL: f64 = 0.20;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct VideoSenderConfig {
    /// The rate frames will be given at.
    pub frame_rate: f32,
    pub bitrate: BitrateConfig,
}

impl Default for VideoSenderConfig {
    fn default() -> Self {
        VideoSenderConfig { frame_rate: 30.0, bitrate: BitrateConfig::default() }
    }
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct VideoSenderStats {
    pub frames_in: u64,
    pub frames_sent: u64,
    /// Frames the encoder's rate control left out.
    pub frames_skipped: u64,
    pub keyframes: u64,
    pub keyframe_requests: u64,
    /// Times the encoder was restarted at a new bitrate.
    pub bitrate_changes: u64,
    pub packets: u64,
    pub bytes: u64,
}

#[derive(Debug)]
pub struct VideoSender {
    config: VideoSenderConfig,
    encoder: H264Encoder,
    packetizer: Packetizer,
    controller: BitrateController,
    target: u32,
    keyframe_wanted: bool,
    last_keyframe: Option<u32>,
    last_rate_change: Option<u32>,
    stats: VideoSenderStats,
}

/// Ticks from `earlier` to `later`, or "long ago" if there was no `earlier` or the clock
/// went backwards.
fn since(earlier: Option<u32>, later: u32) -> u32 {
    earlier.map_or(u32::MAX, |e| {
        let d = later.wrapping_sub(e);
        if d > u32::MAX / 2 { u32::MAX } else { d }
    })
}

impl VideoSender {
    /// `first_seq` and `first_frame_id` start the stream's numbering (random, from the caller).
    pub fn new(config: VideoSenderConfig, first_seq: u32, first_frame_id: u16) -> Result<Self, VideoError> {
        let controller = BitrateController::new(config.bitrate)?;
        let target = controller.target_bps();
        Ok(VideoSender {
            config,
            encoder: H264Encoder::new(target, config.frame_rate)?,
            packetizer: Packetizer::new(first_seq, first_frame_id),
            controller,
            target,
            keyframe_wanted: false,
            last_keyframe: None,
            last_rate_change: None,
            stats: VideoSenderStats::default(),
        })
    }

    pub fn stats(&self) -> VideoSenderStats {
        self.stats
    }

    /// The bitrate asked for.
    pub fn target_bitrate(&self) -> u32 {
        self.target
    }

    /// The bitrate the encoder runs at now (it follows the target with some hysteresis).
    pub fn encoder_bitrate(&self) -> u32 {
        self.encoder.bitrate()
    }

    /// The peer could not complete a frame: the next frame sent will be a keyframe
    /// (unless one went out less than 250 ms ago).
    pub fn request_keyframe(&mut self) {
        self.keyframe_wanted = true;
        self.stats.keyframe_requests += 1;
    }

    /// Clamped to the configured limits; applied from a later frame.
    pub fn set_target_bitrate(&mut self, bps: u32) {
        self.target = bps.clamp(self.config.bitrate.min_bps, self.config.bitrate.max_bps);
    }

    /// A receiver report for the video stream: sets the target from loss and round trip.
    pub fn on_report(&mut self, fraction_lost: f32, rtt: Option<Duration>) -> Result<u32, BitrateError> {
        let target = self.controller.on_report(fraction_lost, rtt)?;
        self.set_target_bitrate(target);
        Ok(self.target)
    }

    /// Encodes one frame (its `timestamp` is the 90 kHz capture time) into the packets
    /// to send now; none if the encoder skipped it.
    pub fn send_frame(&mut self, frame: &Frame) -> Result<Vec<MediaPacket>, VideoError> {
        self.stats.frames_in += 1;
        let now = frame.timestamp;
        let keyframe_due = self.keyframe_wanted && since(self.last_keyframe, now) >= MIN_KEYFRAME_GAP;
        let current = f64::from(self.encoder.bitrate());
        let change = (f64::from(self.target) - current).abs() / current;
        let waited = since(self.last_rate_change, now);
        let gap = if f64::from(self.target) < current { CUT_GAP } else { RAISE_GAP };
        let restart =
            (keyframe_due && change >= RATE_CHANGE_MIN) || (change >= RATE_CHANGE_NORMAL && waited >= gap);
        if restart {
            self.encoder.set_bitrate(self.target)?;
            self.stats.bitrate_changes += 1;
            self.last_rate_change = Some(now);
            self.keyframe_wanted = false;
        } else if keyframe_due {
            self.encoder.force_keyframe();
            self.keyframe_wanted = false;
        }
        let encoded = match self.encoder.encode(frame) {
            Ok(Some(encoded)) => encoded,
            Ok(None) => {
                self.stats.frames_skipped += 1;
                return Ok(Vec::new());
            }
            Err(e) => {
                // The encoder's reference may now be a picture nobody received.
                self.encoder.force_keyframe();
                return Err(e);
            }
        };
        let packets = match self.packetizer.packetize(&encoded) {
            Ok(packets) => packets,
            Err(e) => {
                self.encoder.force_keyframe();
                return Err(e);
            }
        };
        if encoded.keyframe {
            self.stats.keyframes += 1;
            self.last_keyframe = Some(now);
        }
        self.stats.frames_sent += 1;
        self.stats.packets += packets.len() as u64;
        self.stats.bytes += packets.iter().map(|p| p.payload.len() as u64).sum::<u64>();
        Ok(packets)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::video::TestPattern;

    fn run(sender: &mut VideoSender, pattern: &TestPattern, frames: std::ops::Range<u64>) -> Vec<bool> {
        frames
            .map(|n| {
                let mut frame = pattern.frame(n);
                frame.timestamp = (n * 3000) as u32;
                let packets = sender.send_frame(&frame).unwrap();
                packets.first().is_some_and(|p| p.payload[0] & 1 == 1)
            })
            .collect()
    }

    #[test]
    fn repeated_requests_within_250_ms_cost_one_keyframe() {
        let pattern = TestPattern::new(160, 120, 30, 1).unwrap();
        let mut sender = VideoSender::new(VideoSenderConfig::default(), 0, 0).unwrap();
        run(&mut sender, &pattern, 0..10);
        sender.request_keyframe();
        let first = run(&mut sender, &pattern, 10..11);
        sender.request_keyframe();
        let soon = run(&mut sender, &pattern, 11..17);
        assert_eq!(first, [true]);
        // The second request waits out the 250 ms gap (frame 18 is 266 ms after frame 10).
        assert_eq!(soon, [false; 6]);
        assert_eq!(run(&mut sender, &pattern, 17..19), [false, true]);
        assert_eq!(sender.stats().keyframes, 3);
    }

    #[test]
    fn bitrate_changes_restart_the_encoder_only_when_worth_it() {
        let pattern = TestPattern::new(160, 120, 30, 1).unwrap();
        let mut sender = VideoSender::new(VideoSenderConfig::default(), 0, 0).unwrap();
        run(&mut sender, &pattern, 0..30);
        // A 10 % change waits for a keyframe that is wanted anyway.
        sender.set_target_bitrate(660_000);
        run(&mut sender, &pattern, 30..60);
        assert_eq!(sender.encoder_bitrate(), 600_000);
        sender.request_keyframe();
        run(&mut sender, &pattern, 60..61);
        assert_eq!(sender.encoder_bitrate(), 660_000);
        // A cut of a half waits a second after the last change (frame 60), no more.
        sender.set_target_bitrate(330_000);
        run(&mut sender, &pattern, 61..89);
        assert_eq!(sender.encoder_bitrate(), 660_000);
        run(&mut sender, &pattern, 89..91);
        assert_eq!(sender.encoder_bitrate(), 330_000);
        // A raise waits 5 s (150 frames after frame 90).
        sender.set_target_bitrate(1_000_000);
        run(&mut sender, &pattern, 91..239);
        assert_eq!(sender.encoder_bitrate(), 330_000);
        run(&mut sender, &pattern, 239..241);
        assert_eq!(sender.encoder_bitrate(), 1_000_000);
        // Limits hold.
        sender.set_target_bitrate(1);
        assert_eq!(sender.target_bitrate(), 150_000);
        assert_eq!(sender.stats().bitrate_changes, 3);
    }
}
