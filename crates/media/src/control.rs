//! Stream 2, the control stream: receiver reports, keyframe requests, and round-trip
//! pings, in the engine's own small format.
//!
//! A control payload is a version byte (`1`) followed by messages, each
//! `type u8, length u8, body[length]` (integers big-endian). A receiver skips a type it
//! does not know by its length, so later versions can add messages.
//!
//! | type | message | body |
//! |---|---|---|
//! | 1 | receiver report | `stream u8, highest_seq u32, fraction_lost u8 (/256), cumulative_lost u32, jitter u32 (timestamp units)` |
//! | 2 | keyframe request | empty |
//! | 3 | ping | `id u32, sent_us u64` (the sender's own clock) |
//! | 4 | pong | `id u32, sent_us u64` (echoed), `held_us u32` (time between ping and pong) |

use bytes::{BufMut, Bytes, BytesMut};

use crate::packet::{MAX_PAYLOAD, Stream};

const VERSION: u8 = 1;
/// More messages than this in one packet is not something the engine sends.
pub const MAX_MESSAGES: usize = 16;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReceiverReport {
    /// The stream this report is about (the reporter received it).
    pub stream: Stream,
    pub highest_seq: u32,
    /// Lost since the previous report, in 256ths (RFC 3550's fraction lost).
    pub fraction_lost: u8,
    pub cumulative_lost: u32,
    /// Interarrival jitter in the stream's timestamp units (48 kHz or 90 kHz).
    pub jitter: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ControlMessage {
    Report(ReceiverReport),
    /// "A video frame could not be completed: send a keyframe."
    KeyframeRequest,
    Ping {
        id: u32,
        sent_us: u64,
    },
    Pong {
        id: u32,
        sent_us: u64,
        held_us: u32,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ControlError {
    #[error("empty control packet")]
    Empty,
    #[error("control packet version {0} is not supported")]
    Version(u8),
    #[error("a control message runs past the end of the packet")]
    Truncated,
    #[error("control message type {kind} has a body of {length} bytes, expected {expected}")]
    BadLength { kind: u8, length: usize, expected: usize },
    #[error("a receiver report names stream {0}, which does not exist")]
    UnknownStream(u8),
    #[error("more than {MAX_MESSAGES} control messages in one packet")]
    TooMany,
}

fn kind_and_len(message: &ControlMessage) -> (u8, usize) {
    match message {
        ControlMessage::Report(_) => (1, 14),
        ControlMessage::KeyframeRequest => (2, 0),
        ControlMessage::Ping { .. } => (3, 12),
        ControlMessage::Pong { .. } => (4, 16),
    }
}

/// Encodes messages into one control payload (at most [`MAX_MESSAGES`]; the rest are
/// left out, and the payload always fits [`MAX_PAYLOAD`]).
pub fn encode(messages: &[ControlMessage]) -> Bytes {
    let mut out = BytesMut::with_capacity(1 + messages.len() * 18);
    out.put_u8(VERSION);
    for message in messages.iter().take(MAX_MESSAGES) {
        let (kind, length) = kind_and_len(message);
        out.put_u8(kind);
        out.put_u8(length as u8);
        match *message {
            ControlMessage::Report(report) => {
                out.put_u8(report.stream.code());
                out.put_u32(report.highest_seq);
                out.put_u8(report.fraction_lost);
                out.put_u32(report.cumulative_lost);
                out.put_u32(report.jitter);
            }
            ControlMessage::KeyframeRequest => {}
            ControlMessage::Ping { id, sent_us } => {
                out.put_u32(id);
                out.put_u64(sent_us);
            }
            ControlMessage::Pong { id, sent_us, held_us } => {
                out.put_u32(id);
                out.put_u64(sent_us);
                out.put_u32(held_us);
            }
        }
    }
    debug_assert!(out.len() <= MAX_PAYLOAD);
    out.freeze()
}

fn be_u32(body: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([body[at], body[at + 1], body[at + 2], body[at + 3]])
}

fn be_u64(body: &[u8], at: usize) -> u64 {
    (u64::from(be_u32(body, at)) << 32) | u64::from(be_u32(body, at + 4))
}

/// Decodes a control payload. Unknown message types are skipped; anything malformed
/// rejects the whole packet (a half-read report would mislead the sender).
pub fn decode(payload: &[u8]) -> Result<Vec<ControlMessage>, ControlError> {
    let (&version, mut rest) = payload.split_first().ok_or(ControlError::Empty)?;
    if version != VERSION {
        return Err(ControlError::Version(version));
    }
    let mut messages = Vec::new();
    while !rest.is_empty() {
        if messages.len() == MAX_MESSAGES {
            return Err(ControlError::TooMany);
        }
        let [kind, length, tail @ ..] = rest else {
            return Err(ControlError::Truncated);
        };
        let length = usize::from(*length);
        if tail.len() < length {
            return Err(ControlError::Truncated);
        }
        let (body, after) = tail.split_at(length);
        rest = after;
        let expect = |expected: usize| {
            if length == expected {
                Ok(())
            } else {
                Err(ControlError::BadLength { kind: *kind, length, expected })
            }
        };
        let message = match kind {
            1 => {
                expect(14)?;
                let stream = Stream::from_code(body[0]).ok_or(ControlError::UnknownStream(body[0]))?;
                ControlMessage::Report(ReceiverReport {
                    stream,
                    highest_seq: be_u32(body, 1),
                    fraction_lost: body[5],
                    cumulative_lost: be_u32(body, 6),
                    jitter: be_u32(body, 10),
                })
            }
            2 => {
                expect(0)?;
                ControlMessage::KeyframeRequest
            }
            3 => {
                expect(12)?;
                ControlMessage::Ping { id: be_u32(body, 0), sent_us: be_u64(body, 4) }
            }
            4 => {
                expect(16)?;
                ControlMessage::Pong {
                    id: be_u32(body, 0),
                    sent_us: be_u64(body, 4),
                    held_us: be_u32(body, 12),
                }
            }
            _ => continue,
        };
        messages.push(message);
    }
    Ok(messages)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn all() -> Vec<ControlMessage> {
        vec![
            ControlMessage::Report(ReceiverReport {
                stream: Stream::Audio,
                highest_seq: 0xdead_beef,
                fraction_lost: 26,
                cumulative_lost: 70_000,
                jitter: 480,
            }),
            ControlMessage::Report(ReceiverReport {
                stream: Stream::Video,
                highest_seq: 1,
                fraction_lost: 0,
                cumulative_lost: 0,
                jitter: 9000,
            }),
            ControlMessage::KeyframeRequest,
            ControlMessage::Ping { id: 7, sent_us: u64::MAX - 1 },
            ControlMessage::Pong { id: 7, sent_us: 123_456_789, held_us: 4_000 },
        ]
    }

    #[test]
    fn every_message_round_trips() {
        let messages = all();
        assert_eq!(decode(&encode(&messages)).unwrap(), messages);
        assert_eq!(decode(&encode(&[])).unwrap(), vec![]);
    }

    #[test]
    fn unknown_types_are_skipped_and_damage_is_an_error() {
        let mut payload = encode(&all()).to_vec();
        payload.splice(1..1, [99, 3, 1, 2, 3]);
        assert_eq!(decode(&payload).unwrap(), all());

        let good = encode(&all());
        for cut in 1..good.len() {
            // Every prefix either decodes to fewer messages or is refused; none panics.
            if let Ok(messages) = decode(&good[..cut]) {
                assert!(messages.len() < all().len());
            }
        }
        assert_eq!(decode(&[]), Err(ControlError::Empty));
        assert_eq!(decode(&[2]), Err(ControlError::Version(2)));
        assert_eq!(decode(&[1, 2, 1, 0]), Err(ControlError::BadLength { kind: 2, length: 1, expected: 0 }));
        let mut bad_stream = encode(&all()[..1]).to_vec();
        bad_stream[3] = 9;
        assert_eq!(decode(&bad_stream), Err(ControlError::UnknownStream(9)));
        let many = vec![ControlMessage::KeyframeRequest; MAX_MESSAGES + 1];
        let mut payload = encode(&many).to_vec();
        assert_eq!(decode(&payload).unwrap().len(), MAX_MESSAGES);
        payload.extend_from_slice(&[2, 0]);
        assert_eq!(decode(&payload), Err(ControlError::TooMany));
    }
}
