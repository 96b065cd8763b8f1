//! The relay's datagrams as `docs/calls.md` defines them (BIND, BOUND, MEDIA), and
//! sealing MEDIA packets with the call's key. The same MEDIA bytes travel in `MED`
//! frames over TLS, so both paths share this code.
//!
//! STAND-IN: the relay branch brings `mocha_proto::media` (header encode/decode) and
//! `mocha_auth::MediaKey` (seal/open); once they are merged this module becomes a thin
//! adapter onto them. The format here follows the contract byte for byte.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use mocha_media::{MediaPacket, Stream};
use ring::aead::{Aad, CHACHA20_POLY1305, LessSafeKey, Nonce, UnboundKey};

pub const BIND: u8 = 0x01;
pub const BOUND: u8 = 0x02;
pub const MEDIA: u8 = 0x10;
/// `type, member, stream, seq, timestamp`: the associated data of a sealed packet.
pub const MEDIA_HEADER: usize = 14;
pub const TAG: usize = 16;
/// A bind token's base64url text (16 random bytes).
pub const TOKEN_CHARS: usize = 22;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DatagramError {
    #[error("the datagram is too short")]
    Short,
    #[error("unknown datagram type {0:#04x}")]
    UnknownType(u8),
    #[error("unknown stream {0}")]
    UnknownStream(u8),
    #[error("the packet does not verify under the call's key")]
    Forged,
    #[error("the payload is over {max} bytes", max = mocha_media::packet::MAX_PAYLOAD)]
    TooLarge,
}

/// The call's ChaCha20-Poly1305 key, from `RLY`. Never printed.
pub struct CallKey(LessSafeKey);

impl std::fmt::Debug for CallKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CallKey(…)")
    }
}

impl CallKey {
    /// The key as `RLY` carries it: 32 bytes in base64url (43 characters).
    pub fn from_base64(text: &str) -> Option<Self> {
        let bytes = URL_SAFE_NO_PAD.decode(text).ok()?;
        let key = UnboundKey::new(&CHACHA20_POLY1305, &bytes).ok()?;
        (bytes.len() == 32).then(|| Self(LessSafeKey::new(key)))
    }

    /// A MEDIA datagram carrying `packet` from `member`.
    pub fn seal(&self, member: u32, packet: &MediaPacket) -> Result<Vec<u8>, DatagramError> {
        if packet.payload.len() > mocha_media::packet::MAX_PAYLOAD {
            return Err(DatagramError::TooLarge);
        }
        let mut datagram = Vec::with_capacity(MEDIA_HEADER + packet.payload.len() + TAG);
        datagram.push(MEDIA);
        datagram.extend_from_slice(&member.to_be_bytes());
        datagram.push(packet.stream.code());
        datagram.extend_from_slice(&packet.seq.to_be_bytes());
        datagram.extend_from_slice(&packet.timestamp.to_be_bytes());
        datagram.extend_from_slice(&packet.payload);
        let (header, body) = datagram.split_at_mut(MEDIA_HEADER);
        let tag = self
            .0
            .seal_in_place_separate_tag(nonce(member, packet.stream.code(), packet.seq), Aad::from(&*header), body)
            .map_err(|_| DatagramError::Forged)?;
        datagram.extend_from_slice(tag.as_ref());
        Ok(datagram)
    }

    /// Verifies and opens a MEDIA datagram: its sender's member id and the packet.
    pub fn open(&self, datagram: &[u8]) -> Result<(u32, MediaPacket), DatagramError> {
        if datagram.len() < MEDIA_HEADER + TAG {
            return Err(DatagramError::Short);
        }
        if datagram[0] != MEDIA {
            return Err(DatagramError::UnknownType(datagram[0]));
        }
        let member = u32_at(datagram, 1);
        let code = datagram[5];
        let stream = Stream::from_code(code).ok_or(DatagramError::UnknownStream(code))?;
        let seq = u32_at(datagram, 6);
        let timestamp = u32_at(datagram, 10);
        let (header, sealed) = datagram.split_at(MEDIA_HEADER);
        let mut body = sealed.to_vec();
        let plain = self
            .0
            .open_in_place(nonce(member, code, seq), Aad::from(header), &mut body)
            .map_err(|_| DatagramError::Forged)?;
        let payload = bytes::Bytes::copy_from_slice(plain);
        Ok((member, MediaPacket { stream, seq, timestamp, payload }))
    }
}

/// `member ‖ stream ‖ 0 0 0 ‖ seq`: unique because every sender numbers each stream.
fn nonce(member: u32, stream: u8, seq: u32) -> Nonce {
    let mut bytes = [0u8; 12];
    bytes[..4].copy_from_slice(&member.to_be_bytes());
    bytes[4] = stream;
    bytes[8..].copy_from_slice(&seq.to_be_bytes());
    Nonce::assume_unique_for_key(bytes)
}

fn u32_at(bytes: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
}

/// `BIND`: asks the relay to (re)bind `member` to this socket; also the UDP probe.
pub fn bind(member: u32, probe: u64, token: &str) -> Vec<u8> {
    let mut datagram = Vec::with_capacity(1 + 4 + 8 + TOKEN_CHARS);
    datagram.push(BIND);
    datagram.extend_from_slice(&member.to_be_bytes());
    datagram.extend_from_slice(&probe.to_be_bytes());
    datagram.extend_from_slice(token.as_bytes());
    datagram
}

/// What arrived on the UDP socket.
#[derive(Debug, PartialEq, Eq)]
pub enum Incoming<'a> {
    Bound { member: u32, probe: u64 },
    /// Still sealed: open it with [`CallKey::open`].
    Media(&'a [u8]),
}

pub fn classify(datagram: &[u8]) -> Result<Incoming<'_>, DatagramError> {
    match datagram.first() {
        None => Err(DatagramError::Short),
        Some(&BOUND) if datagram.len() >= 13 => Ok(Incoming::Bound {
            member: u32_at(datagram, 1),
            probe: u64::from_be_bytes(datagram[5..13].try_into().map_err(|_| DatagramError::Short)?),
        }),
        Some(&BOUND) => Err(DatagramError::Short),
        Some(&MEDIA) => Ok(Incoming::Media(datagram)),
        Some(&other) => Err(DatagramError::UnknownType(other)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    fn key(byte: u8) -> CallKey {
        CallKey::from_base64(&URL_SAFE_NO_PAD.encode([byte; 32])).unwrap()
    }

    fn packet() -> MediaPacket {
        MediaPacket { stream: Stream::Audio, seq: 7, timestamp: 960, payload: Bytes::from_static(b"opus") }
    }

    #[test]
    fn sealed_packets_open_only_under_the_same_key_and_unchanged() {
        let datagram = key(1).seal(42, &packet()).unwrap();
        assert_eq!(datagram.len(), MEDIA_HEADER + 4 + TAG);
        assert_eq!(&datagram[..6], &[MEDIA, 0, 0, 0, 42, 0]);
        assert_eq!(key(1).open(&datagram).unwrap(), (42, packet()));
        assert_eq!(key(2).open(&datagram), Err(DatagramError::Forged));
        for at in [1, 6, MEDIA_HEADER, datagram.len() - 1] {
            let mut tampered = datagram.clone();
            tampered[at] ^= 1;
            assert_eq!(key(1).open(&tampered), Err(DatagramError::Forged), "byte {at} flipped");
        }
        assert_eq!(key(1).open(&datagram[..20]), Err(DatagramError::Short));
    }

    #[test]
    fn keys_must_be_32_bytes_of_base64url() {
        assert!(CallKey::from_base64(&URL_SAFE_NO_PAD.encode([0u8; 16])).is_none());
        assert!(CallKey::from_base64("not base64!").is_none());
        assert_eq!(format!("{:?}", key(3)), "CallKey(…)");
    }

    #[test]
    fn oversized_payloads_are_refused_before_sealing() {
        let mut big = packet();
        big.payload = Bytes::from(vec![0; mocha_media::packet::MAX_PAYLOAD + 1]);
        assert_eq!(key(1).seal(1, &big), Err(DatagramError::TooLarge));
    }

    #[test]
    fn bind_and_bound_layouts() {
        let token = "A".repeat(TOKEN_CHARS);
        let bind = bind(5, 0x0102, &token);
        assert_eq!(bind.len(), 35);
        assert_eq!(&bind[..13], &[BIND, 0, 0, 0, 5, 0, 0, 0, 0, 0, 0, 1, 2]);
        let bound = [BOUND, 0, 0, 0, 5, 0, 0, 0, 0, 0, 0, 1, 2];
        assert_eq!(classify(&bound), Ok(Incoming::Bound { member: 5, probe: 0x0102 }));
        assert_eq!(classify(&bound[..12]), Err(DatagramError::Short));
        assert_eq!(classify(&[0x7f]), Err(DatagramError::UnknownType(0x7f)));
        assert_eq!(classify(&[]), Err(DatagramError::Short));
    }
}
