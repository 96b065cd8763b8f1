//! The call datagrams the UDP relay and clients exchange (see `docs/calls.md`): `BIND`
//! (client → relay: claim a bind token from this address; also the probe and keep-alive),
//! `BOUND` (relay → client: the probe echoed) and `MEDIA` (a sealed packet, both ways).
//! Headers only: no sealing, no sockets. All integers are big-endian.

/// `BIND`: `type u8, member u32, probe u64, token[22]`.
pub const BIND: u8 = 0x01;
/// `BOUND`: `type u8, member u32, probe u64`.
pub const BOUND: u8 = 0x02;
/// `MEDIA`: `type u8, member u32, stream u8, seq u32, timestamp u32, sealed payload, tag[16]`.
pub const MEDIA: u8 = 0x10;

/// A bind token on the wire: 16 random bytes as unpadded base64url.
pub const BIND_TOKEN_LEN: usize = 22;
pub const BIND_LEN: usize = 1 + 4 + 8 + BIND_TOKEN_LEN;
pub const BOUND_LEN: usize = 1 + 4 + 8;
/// The MEDIA header, which is also the AEAD's associated data.
pub const MEDIA_HEADER_LEN: usize = 14;
/// The Poly1305 tag closing every MEDIA datagram.
pub const TAG_LEN: usize = 16;
/// The most payload a sender may seal into one datagram.
pub const MAX_MEDIA_PAYLOAD: usize = 1200;
/// The nonce length of ChaCha20-Poly1305.
pub const NONCE_LEN: usize = 12;

/// Why bytes are not a datagram of ours.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum DatagramError {
    #[error("an empty datagram")]
    Empty,
    #[error("unknown datagram type {0:#04x}")]
    UnknownType(u8),
    #[error("a {kind} datagram must be {expected} bytes, not {got}")]
    WrongLength { kind: &'static str, expected: usize, got: usize },
    #[error("a MEDIA datagram needs at least {min} bytes, got {got}")]
    TooShort { min: usize, got: usize },
    #[error("the bind token is not 22 base64url characters")]
    BadToken,
}

/// `BIND`: the member claims its bind token from the datagram's source address.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Bind {
    pub member: u32,
    /// Echoed in `BOUND`, so the client can match answers to probes.
    pub probe: u64,
    /// The bind token from `RLY`, as its 22 base64url characters.
    pub token: [u8; BIND_TOKEN_LEN],
}

// The token is a credential: it never goes into a log line.
impl std::fmt::Debug for Bind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bind").field("member", &self.member).field("probe", &self.probe).finish()
    }
}

impl Bind {
    pub fn encode(&self) -> [u8; BIND_LEN] {
        let mut out = [0u8; BIND_LEN];
        out[0] = BIND;
        out[1..5].copy_from_slice(&self.member.to_be_bytes());
        out[5..13].copy_from_slice(&self.probe.to_be_bytes());
        out[13..].copy_from_slice(&self.token);
        out
    }

    pub fn decode(bytes: &[u8]) -> Result<Self, DatagramError> {
        expect_type(bytes, BIND)?;
        if bytes.len() != BIND_LEN {
            return Err(DatagramError::WrongLength { kind: "BIND", expected: BIND_LEN, got: bytes.len() });
        }
        let mut token = [0u8; BIND_TOKEN_LEN];
        token.copy_from_slice(&bytes[13..]);
        if !token.iter().all(|&b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
            return Err(DatagramError::BadToken);
        }
        Ok(Self { member: be_u32(&bytes[1..5]), probe: be_u64(&bytes[5..13]), token })
    }
}

/// `BOUND`: the relay's answer to a good `BIND`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bound {
    pub member: u32,
    pub probe: u64,
}

impl Bound {
    pub fn encode(&self) -> [u8; BOUND_LEN] {
        let mut out = [0u8; BOUND_LEN];
        out[0] = BOUND;
        out[1..5].copy_from_slice(&self.member.to_be_bytes());
        out[5..13].copy_from_slice(&self.probe.to_be_bytes());
        out
    }

    pub fn decode(bytes: &[u8]) -> Result<Self, DatagramError> {
        expect_type(bytes, BOUND)?;
        if bytes.len() != BOUND_LEN {
            return Err(DatagramError::WrongLength { kind: "BOUND", expected: BOUND_LEN, got: bytes.len() });
        }
        Ok(Self { member: be_u32(&bytes[1..5]), probe: be_u64(&bytes[5..13]) })
    }
}

/// The first 14 bytes of a MEDIA datagram: who sent it, which stream, which packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MediaHeader {
    /// The sender's member id (from its `RLY`).
    pub member: u32,
    /// `0` audio, `1` video, `2` control.
    pub stream: u8,
    /// Numbered per sender and stream, wrapping.
    pub seq: u32,
    /// 48 kHz samples for audio, 90 kHz ticks for video.
    pub timestamp: u32,
}

impl MediaHeader {
    pub fn encode(&self) -> [u8; MEDIA_HEADER_LEN] {
        let mut out = [0u8; MEDIA_HEADER_LEN];
        out[0] = MEDIA;
        out[1..5].copy_from_slice(&self.member.to_be_bytes());
        out[5] = self.stream;
        out[6..10].copy_from_slice(&self.seq.to_be_bytes());
        out[10..14].copy_from_slice(&self.timestamp.to_be_bytes());
        out
    }

    /// Reads the header of a whole MEDIA datagram (which must also hold at least a tag).
    pub fn decode(datagram: &[u8]) -> Result<Self, DatagramError> {
        expect_type(datagram, MEDIA)?;
        let min = MEDIA_HEADER_LEN + TAG_LEN;
        if datagram.len() < min {
            return Err(DatagramError::TooShort { min, got: datagram.len() });
        }
        Ok(Self {
            member: be_u32(&datagram[1..5]),
            stream: datagram[5],
            seq: be_u32(&datagram[6..10]),
            timestamp: be_u32(&datagram[10..14]),
        })
    }

    /// `member u32 ‖ stream u8 ‖ 0 0 0 ‖ seq u32`: unique per key as long as each sender
    /// numbers each of its streams without repeating.
    pub fn nonce(&self) -> [u8; NONCE_LEN] {
        let mut nonce = [0u8; NONCE_LEN];
        nonce[0..4].copy_from_slice(&self.member.to_be_bytes());
        nonce[4] = self.stream;
        nonce[8..12].copy_from_slice(&self.seq.to_be_bytes());
        nonce
    }
}

/// Any datagram, decoded by its first byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Datagram {
    Bind(Bind),
    Bound(Bound),
    /// The header only; the sealed payload and tag follow it in the same bytes.
    Media(MediaHeader),
}

impl Datagram {
    pub fn decode(bytes: &[u8]) -> Result<Self, DatagramError> {
        match bytes.first() {
            None => Err(DatagramError::Empty),
            Some(&BIND) => Bind::decode(bytes).map(Self::Bind),
            Some(&BOUND) => Bound::decode(bytes).map(Self::Bound),
            Some(&MEDIA) => MediaHeader::decode(bytes).map(Self::Media),
            Some(&other) => Err(DatagramError::UnknownType(other)),
        }
    }
}

fn expect_type(bytes: &[u8], kind: u8) -> Result<(), DatagramError> {
    match bytes.first() {
        None => Err(DatagramError::Empty),
        Some(&b) if b == kind => Ok(()),
        Some(&b) => Err(DatagramError::UnknownType(b)),
    }
}

fn be_u32(b: &[u8]) -> u32 {
    u32::from_be_bytes([b[0], b[1], b[2], b[3]])
}

fn be_u64(b: &[u8]) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[..8]);
    u64::from_be_bytes(a)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_layout_matches_the_design() {
        let header = MediaHeader { member: 0x0102_0304, stream: 1, seq: 0x0a0b_0c0d, timestamp: 0xdead_beef };
        assert_eq!(header.encode(), [0x10, 1, 2, 3, 4, 1, 0x0a, 0x0b, 0x0c, 0x0d, 0xde, 0xad, 0xbe, 0xef]);
        assert_eq!(header.nonce(), [1, 2, 3, 4, 1, 0, 0, 0, 0x0a, 0x0b, 0x0c, 0x0d]);
        let bound = Bound { member: 7, probe: 0x0102_0304_0506_0708 };
        assert_eq!(bound.encode(), [2, 0, 0, 0, 7, 1, 2, 3, 4, 5, 6, 7, 8]);
    }

    #[test]
    fn bad_datagrams_are_named() {
        assert_eq!(Datagram::decode(&[]), Err(DatagramError::Empty));
        assert_eq!(Datagram::decode(&[0x77, 0]), Err(DatagramError::UnknownType(0x77)));
        assert_eq!(
            Datagram::decode(&[BOUND, 0, 0]),
            Err(DatagramError::WrongLength { kind: "BOUND", expected: 13, got: 3 })
        );
        assert_eq!(Datagram::decode(&[MEDIA; 29]), Err(DatagramError::TooShort { min: 30, got: 29 }));
        let mut bind = Bind { member: 1, probe: 2, token: [b'A'; 22] }.encode();
        bind[20] = b' ';
        assert_eq!(Datagram::decode(&bind), Err(DatagramError::BadToken));
    }
}
