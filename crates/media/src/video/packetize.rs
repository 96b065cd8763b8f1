//! Encoded frames → stream 1 packets of at most [`MAX_PAYLOAD`] bytes, each with a small
//! fragment header (layout in `docs/calls.md`, "Video fragments").

use bytes::{BufMut, Bytes, BytesMut};

use super::{EncodedFrame, VideoError};
use crate::packet::{MAX_PAYLOAD, MediaPacket, Stream};

/// `flags u8, frame id u16, fragment index u16, fragment count u16`, big-endian.
pub const HEADER_LEN: usize = 7;
/// The most fragments one frame may have: 1,024 × 1,193 bytes ≈ 1.2 MB, far above any
/// keyframe at our bitrates, and a bound on what a receiver buffers for one frame.
pub const MAX_FRAGMENTS: u16 = 1024;
const MAX_DATA: usize = MAX_PAYLOAD - HEADER_LEN;
const FLAG_KEYFRAME: u8 = 0x01;

/// What each fragment of a frame says about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FragmentHeader {
    /// The frame is an H.264 IDR picture (decodable on its own).
    pub keyframe: bool,
    /// Counts encoded frames, wrapping; consecutive ids mean "this frame references that one".
    pub frame_id: u16,
    pub index: u16,
    pub count: u16,
}

impl FragmentHeader {
    pub fn write(&self, out: &mut impl BufMut) {
        out.put_u8(if self.keyframe { FLAG_KEYFRAME } else { 0 });
        out.put_u16(self.frame_id);
        out.put_u16(self.index);
        out.put_u16(self.count);
    }

    /// The header and the fragment's data, or why the payload is not a video fragment.
    pub fn parse(payload: &[u8]) -> Result<(Self, &[u8]), super::PacketError> {
        use super::PacketError;
        if payload.len() <= HEADER_LEN {
            return Err(PacketError::TooShort { len: payload.len() });
        }
        if payload.len() > MAX_PAYLOAD {
            return Err(PacketError::TooLong { len: payload.len() });
        }
        let flags = payload[0];
        if flags & !FLAG_KEYFRAME != 0 {
            return Err(PacketError::UnknownFlags { flags });
        }
        let word = |at: usize| u16::from_be_bytes([payload[at], payload[at + 1]]);
        let header = FragmentHeader {
            keyframe: flags & FLAG_KEYFRAME != 0,
            frame_id: word(1),
            index: word(3),
            count: word(5),
        };
        if header.count == 0 || header.count > MAX_FRAGMENTS || header.index >= header.count {
            return Err(PacketError::BadFragment { index: header.index, count: header.count });
        }
        Ok((header, &payload[HEADER_LEN..]))
    }
}

/// Numbers frames and packets and cuts frames into fragments of near-equal size.
#[derive(Debug)]
pub struct Packetizer {
    next_seq: u32,
    next_frame_id: u16,
}

impl Packetizer {
    /// `first_seq`: the stream's first sequence number (random, chosen by the caller).
    pub fn new(first_seq: u32, first_frame_id: u16) -> Self {
        Packetizer { next_seq: first_seq, next_frame_id: first_frame_id }
    }

    /// The packets carrying `frame`, all with its timestamp.
    pub fn packetize(&mut self, frame: &EncodedFrame) -> Result<Vec<MediaPacket>, VideoError> {
        let len = frame.data.len();
        let count = len.div_ceil(MAX_DATA).max(1);
        if count > usize::from(MAX_FRAGMENTS) {
            return Err(VideoError::FrameTooLarge { bytes: len });
        }
        // Equal sizes rather than full packets and a runt: fewer bytes in the last one
        // buys nothing, and equal packets share the loss risk evenly.
        let size = len.div_ceil(count).max(1);
        let frame_id = self.next_frame_id;
        self.next_frame_id = frame_id.wrapping_add(1);
        let packets = frame
            .data
            .chunks(size)
            .enumerate()
            .map(|(index, chunk)| {
                let mut payload = BytesMut::with_capacity(HEADER_LEN + chunk.len());
                FragmentHeader {
                    keyframe: frame.keyframe,
                    frame_id,
                    index: index as u16,
                    count: count as u16,
                }
                .write(&mut payload);
                payload.put_slice(chunk);
                let seq = self.next_seq;
                self.next_seq = seq.wrapping_add(1);
                MediaPacket {
                    stream: Stream::Video,
                    seq,
                    timestamp: frame.timestamp,
                    payload: Bytes::from(payload),
                }
            })
            .collect();
        Ok(packets)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::video::PacketError;

    fn frame(len: usize, keyframe: bool) -> EncodedFrame {
        EncodedFrame { data: (0..len).map(|i| i as u8).collect(), keyframe, timestamp: 9000 }
    }

    #[test]
    fn fragments_fit_and_put_the_frame_back_together() {
        let mut packetizer = Packetizer::new(u32::MAX - 1, 7);
        for len in [1, MAX_DATA, MAX_DATA + 1, 10 * MAX_DATA + 3, 60_000] {
            let encoded = frame(len, len > 100);
            let packets = packetizer.packetize(&encoded).unwrap();
            assert_eq!(packets.len(), len.div_ceil(MAX_DATA));
            let mut data = Vec::new();
            for (i, packet) in packets.iter().enumerate() {
                assert!(packet.payload.len() <= MAX_PAYLOAD);
                assert_eq!((packet.stream, packet.timestamp), (Stream::Video, 9000));
                let (header, chunk) = FragmentHeader::parse(&packet.payload).unwrap();
                assert_eq!((header.index as usize, header.count as usize), (i, packets.len()));
                assert_eq!(header.keyframe, len > 100);
                data.extend_from_slice(chunk);
            }
            assert_eq!(data, encoded.data);
        }
    }

    #[test]
    fn frame_ids_and_sequence_numbers_advance_and_wrap() {
        let mut packetizer = Packetizer::new(u32::MAX, u16::MAX);
        let a = packetizer.packetize(&frame(2000, true)).unwrap();
        let b = packetizer.packetize(&frame(10, false)).unwrap();
        let seqs: Vec<u32> = a.iter().chain(&b).map(|p| p.seq).collect();
        assert_eq!(seqs, [u32::MAX, 0, 1]);
        let id = |p: &MediaPacket| FragmentHeader::parse(&p.payload).unwrap().0.frame_id;
        assert_eq!((id(&a[0]), id(&b[0])), (u16::MAX, 0));
    }

    #[test]
    fn a_frame_too_large_is_refused() {
        let mut packetizer = Packetizer::new(0, 0);
        let err = packetizer.packetize(&frame(MAX_DATA * 1024 + 1, true)).unwrap_err();
        assert!(matches!(err, VideoError::FrameTooLarge { .. }));
    }

    #[test]
    fn malformed_headers_are_refused() {
        let header = |flags: u8, index: u16, count: u16| {
            let mut p = vec![flags, 0, 1];
            p.extend_from_slice(&index.to_be_bytes());
            p.extend_from_slice(&count.to_be_bytes());
            p.push(0xAA);
            p
        };
        assert_eq!(FragmentHeader::parse(&[1, 0, 0]), Err(PacketError::TooShort { len: 3 }));
        assert_eq!(
            FragmentHeader::parse(&header(0x80, 0, 1)),
            Err(PacketError::UnknownFlags { flags: 0x80 })
        );
        assert_eq!(
            FragmentHeader::parse(&header(0, 1, 1)),
            Err(PacketError::BadFragment { index: 1, count: 1 })
        );
        assert_eq!(
            FragmentHeader::parse(&header(0, 0, 0)),
            Err(PacketError::BadFragment { index: 0, count: 0 })
        );
        assert_eq!(
            FragmentHeader::parse(&header(0, 0, MAX_FRAGMENTS + 1)),
            Err(PacketError::BadFragment { index: 0, count: MAX_FRAGMENTS + 1 })
        );
        assert_eq!(
            FragmentHeader::parse(&vec![0; MAX_PAYLOAD + 1]),
            Err(PacketError::TooLong { len: MAX_PAYLOAD + 1 })
        );
        assert!(FragmentHeader::parse(&header(1, 0, 1)).is_ok());
    }
}
