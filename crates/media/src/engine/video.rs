//! The engine's seam to the video half (`crate::video`, written separately).
//!
//! The engine owns the audio pipeline, the control stream and the clock; a video
//! pipeline plugs in behind [`VideoPipeline`] and gets from the engine everything it
//! needs: its packets, the reports about its stream, keyframe requests, the round trip,
//! and the audio playout delay for lip sync. Until the video sender/receiver pair
//! implements it, calls run with [`NoVideo`].

use std::time::{Duration, Instant};

use crate::control::ReceiverReport;
use crate::packet::MediaPacket;

/// Video counters shown with a call's statistics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct VideoStats {
    pub frames_sent: u64,
    pub frames_received: u64,
    /// Times the picture stopped because a frame could not be completed or decoded.
    pub freezes: u64,
    pub frames_dropped: u64,
    pub keyframe_requests_sent: u64,
    pub bitrate_bps: u32,
}

pub trait VideoPipeline: Send {
    /// A picture (I420 for the real pipeline).
    type Frame;

    /// A camera frame captured at `now`.
    fn push_frame(&mut self, frame: Self::Frame, now: Instant);
    /// The newest decoded frame due at `now`, given that audio reaching the speaker now
    /// was captured `audio_delay` ago on the other side (lip sync).
    fn pull_frame(&mut self, now: Instant, audio_delay: Duration) -> Option<Self::Frame>;
    /// A stream-1 packet from the other side.
    fn receive(&mut self, packet: MediaPacket, now: Instant);
    /// Appends the stream-1 packets to send now.
    fn poll_transmit(&mut self, now: Instant, out: &mut Vec<MediaPacket>);
    /// The other side's report on our video stream, with the round trip if known: the
    /// input to the video bitrate.
    fn on_receiver_report(&mut self, report: &ReceiverReport, round_trip: Option<Duration>);
    /// The other side asked for a keyframe.
    fn on_keyframe_request(&mut self);
    /// True (once) when our receiver lost a frame and the other side must send a keyframe.
    fn take_keyframe_request(&mut self) -> bool;
    fn set_camera(&mut self, on: bool);
    fn stats(&self) -> VideoStats;
}

/// A frame that cannot exist: with [`NoVideo`] there is nothing to push or pull.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoFrame {}

/// The pipeline of an audio-only engine (and of every engine until video is plugged in):
/// received video packets are dropped, nothing is sent.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoVideo;

impl VideoPipeline for NoVideo {
    type Frame = NoFrame;

    fn push_frame(&mut self, frame: NoFrame, _now: Instant) {
        match frame {}
    }

    fn pull_frame(&mut self, _now: Instant, _audio_delay: Duration) -> Option<NoFrame> {
        None
    }

    fn receive(&mut self, _packet: MediaPacket, _now: Instant) {}

    fn poll_transmit(&mut self, _now: Instant, _out: &mut Vec<MediaPacket>) {}

    fn on_receiver_report(&mut self, _report: &ReceiverReport, _round_trip: Option<Duration>) {}

    fn on_keyframe_request(&mut self) {}

    fn take_keyframe_request(&mut self) -> bool {
        false
    }

    fn set_camera(&mut self, _on: bool) {}

    fn stats(&self) -> VideoStats {
        VideoStats::default()
    }
}
