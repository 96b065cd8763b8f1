//! What the engine hands to a transport and takes back from it: one stream's numbered,
//! timestamped payload. Sealing and the datagram header are the transport's job.

use bytes::Bytes;

/// Which of a sender's streams a packet belongs to (the `stream` byte on the wire).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Stream {
    /// Opus frames; timestamps count 48 kHz samples.
    Audio,
    /// Video fragments; timestamps count 90 kHz ticks.
    Video,
    /// Reports, keyframe requests and round-trip pings.
    Control,
}

impl Stream {
    pub fn code(self) -> u8 {
        match self {
            Stream::Audio => 0,
            Stream::Video => 1,
            Stream::Control => 2,
        }
    }

    pub fn from_code(code: u8) -> Option<Self> {
        match code {
            0 => Some(Stream::Audio),
            1 => Some(Stream::Video),
            2 => Some(Stream::Control),
            _ => None,
        }
    }
}

/// The most payload one packet may carry, so a sealed datagram stays under a common MTU.
pub const MAX_PAYLOAD: usize = 1200;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaPacket {
    pub stream: Stream,
    /// Numbered per sender and stream, from a random start, wrapping.
    pub seq: u32,
    pub timestamp: u32,
    pub payload: Bytes,
}
