//! The real video pipeline behind [`VideoPipeline`]: the camera's frames through
//! [`VideoSender`] (H.264, packetised, bitrate from the peer's reports) and the peer's
//! packets through [`VideoReceiver`] (reassembly, decoding, lip-synced release).

use std::time::{Duration, Instant};

use super::video::{VideoPipeline, VideoStats};
use crate::control::ReceiverReport;
use crate::packet::MediaPacket;
use crate::video::{CLOCK_HZ, Frame, VideoError, VideoReceiver, VideoSender, VideoSenderConfig};

/// Frames waiting to be pulled are capped by the receiver; packets waiting to be sent
/// are drained every `poll_transmit`, so neither grows without bound.
#[derive(Debug)]
pub struct LiveVideo {
    sender: VideoSender,
    receiver: VideoReceiver,
    /// Capture timestamps count 90 kHz ticks from here.
    epoch: Instant,
    camera_on: bool,
    outgoing: Vec<MediaPacket>,
    keyframe_wanted: bool,
    keyframe_requests_sent: u64,
    /// Frames the encoder refused, and malformed packets from the peer.
    encode_errors: u64,
    rejected_packets: u64,
}

impl LiveVideo {
    /// `first_seq` and `first_frame_id` start the stream's numbering (random, from the caller).
    pub fn new(
        config: VideoSenderConfig,
        first_seq: u32,
        first_frame_id: u16,
        now: Instant,
    ) -> Result<Self, VideoError> {
        Ok(LiveVideo {
            sender: VideoSender::new(config, first_seq, first_frame_id)?,
            receiver: VideoReceiver::new()?,
            epoch: now,
            camera_on: true,
            outgoing: Vec::new(),
            keyframe_wanted: false,
            keyframe_requests_sent: 0,
            encode_errors: 0,
            rejected_packets: 0,
        })
    }

    fn ticks(&self, now: Instant) -> u32 {
        let micros = now.saturating_duration_since(self.epoch).as_micros();
        (micros * u128::from(CLOCK_HZ) / 1_000_000) as u32
    }

    /// Packets from the peer that were not video fragments of ours to decode.
    pub fn rejected_packets(&self) -> u64 {
        self.rejected_packets
    }

    /// Camera frames the encoder could not take.
    pub fn encode_errors(&self) -> u64 {
        self.encode_errors
    }
}

impl VideoPipeline for LiveVideo {
    type Frame = Frame;

    fn push_frame(&mut self, mut frame: Frame, now: Instant) {
        if !self.camera_on {
            return;
        }
        frame.timestamp = self.ticks(now);
        match self.sender.send_frame(&frame) {
            Ok(packets) => self.outgoing.extend(packets),
            // Counted: the engine is sans-IO and logs nothing; the caller sees it in the stats.
            Err(_) => self.encode_errors += 1,
        }
    }

    fn pull_frame(&mut self, now: Instant, audio_delay: Duration) -> Option<Frame> {
        self.receiver.poll(now);
        self.receiver.due_frame(now, audio_delay)
    }

    fn receive(&mut self, packet: MediaPacket, now: Instant) {
        if self.receiver.receive(&packet, now).is_err() {
            self.rejected_packets += 1;
        }
    }

    fn poll_transmit(&mut self, now: Instant, out: &mut Vec<MediaPacket>) {
        self.receiver.poll(now);
        if self.receiver.poll_keyframe_request(now) {
            self.keyframe_wanted = true;
        }
        out.append(&mut self.outgoing);
    }

    fn on_receiver_report(&mut self, report: &ReceiverReport, round_trip: Option<Duration>) {
        // A report the controller refuses (nonsense loss) leaves the bitrate as it was.
        let _ = self.sender.on_report(f32::from(report.fraction_lost) / 256.0, round_trip);
    }

    fn on_keyframe_request(&mut self) {
        self.sender.request_keyframe();
    }

    fn take_keyframe_request(&mut self) -> bool {
        let wanted = std::mem::take(&mut self.keyframe_wanted);
        self.keyframe_requests_sent += u64::from(wanted);
        wanted
    }

    fn set_camera(&mut self, on: bool) {
        if on && !self.camera_on {
            // The peer has nothing to decode P-frames against after a pause.
            self.sender.request_keyframe();
        }
        self.camera_on = on;
    }

    fn stats(&self) -> VideoStats {
        let sent = self.sender.stats();
        let received = self.receiver.stats();
        VideoStats {
            frames_sent: sent.frames_sent,
            frames_received: received.frames_decoded,
            freezes: received.reassembly.freezes,
            frames_dropped: received.reassembly.frames_dropped + received.reassembly.frames_skipped,
            keyframe_requests_sent: self.keyframe_requests_sent,
            bitrate_bps: self.sender.encoder_bitrate(),
        }
    }
}
