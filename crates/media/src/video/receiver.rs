//! The receive half: packets → reassembly → H.264 decoding → frames, in order, released
//! in step with the audio.

use std::time::{Duration, Instant};

use super::sync::VideoPlayout;
use super::{Frame, H264Decoder, PacketError, Reassembler, ReassemblyStats, VideoError};
use crate::packet::MediaPacket;

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct VideoReceiverStats {
    pub reassembly: ReassemblyStats,
    pub frames_decoded: u64,
    /// Frames the decoder refused (the picture froze until a keyframe).
    pub decode_errors: u64,
    /// Decoded frames never shown because a newer one was already due.
    pub superseded: u64,
    /// Frames shown more than 45 ms after their sound.
    pub out_of_sync: u64,
    /// Decoded frames discarded because nobody pulled them.
    pub overflowed: u64,
    /// How late against its sound the last frame shown was.
    pub last_lateness: Duration,
}

#[derive(Debug)]
pub struct VideoReceiver {
    reassembler: Reassembler,
    decoder: H264Decoder,
    playout: VideoPlayout,
    frames_decoded: u64,
    decode_errors: u64,
}

impl VideoReceiver {
    pub fn new() -> Result<Self, VideoError> {
        Ok(VideoReceiver {
            reassembler: Reassembler::new(),
            decoder: H264Decoder::new()?,
            playout: VideoPlayout::default(),
            frames_decoded: 0,
            decode_errors: 0,
        })
    }

    /// A stream 1 packet from the peer. A malformed one is refused with the reason and
    /// changes nothing else.
    pub fn receive(&mut self, packet: &MediaPacket, now: Instant) -> Result<(), PacketError> {
        self.reassembler.push(packet, now)?;
        self.playout.clock.observe(packet.timestamp, now);
        self.poll(now);
        Ok(())
    }

    /// Decodes what has become ready and gives up on frames that did not complete in
    /// time. `receive` does this too; call it also when no packet came (every 10 ms).
    pub fn poll(&mut self, now: Instant) {
        while let Some(assembled) = self.reassembler.poll(now) {
            match self.decoder.decode(&assembled.data, assembled.timestamp) {
                Ok(Some(frame)) => {
                    self.frames_decoded += 1;
                    self.playout.push(frame);
                }
                // No picture from a whole frame, or an error: its successors would be garbage.
                Ok(None) | Err(_) => {
                    self.decode_errors += 1;
                    self.reassembler.reference_lost();
                }
            }
        }
    }

    /// The newest decoded frame whose sound is being played by `now`, given the audio's
    /// playout delay (see [`PlayoutClock::due_at`](super::PlayoutClock::due_at)).
    pub fn due_frame(&mut self, now: Instant, audio_playout_delay: Duration) -> Option<Frame> {
        self.playout.due(now, audio_playout_delay)
    }

    /// The oldest decoded frame not yet taken, without waiting for its sound (recording).
    pub fn next_frame(&mut self) -> Option<Frame> {
        self.playout.pop()
    }

    /// The picture is frozen until a keyframe arrives.
    pub fn needs_keyframe(&self) -> bool {
        self.reassembler.needs_keyframe()
    }

    /// Whether to send the peer a keyframe request now (rate-limited; repeats while frozen).
    pub fn poll_keyframe_request(&mut self, now: Instant) -> bool {
        self.reassembler.poll_keyframe_request(now)
    }

    pub fn stats(&self) -> VideoReceiverStats {
        VideoReceiverStats {
            reassembly: self.reassembler.stats(),
            frames_decoded: self.frames_decoded,
            decode_errors: self.decode_errors,
            superseded: self.playout.superseded,
            out_of_sync: self.playout.out_of_sync,
            overflowed: self.playout.overflowed,
            last_lateness: self.playout.last_lateness,
        }
    }
}
