//! A call's datagrams for the client: BIND probes, BOUND answers and sealed MEDIA
//! packets, in the format `mocha_proto::media` defines and sealed with
//! `mocha_auth::MediaKey` (the relay uses the same code). The same MEDIA bytes travel in
//! `MED` frames over TLS, so both paths share this.

use bytes::Bytes;
use mocha_auth::{BindToken, MediaKey};
use mocha_media::{MediaPacket, Stream};
use mocha_proto::media::{Bind, Datagram, MAX_MEDIA_PAYLOAD, MediaHeader};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DatagramError {
    #[error("not a datagram the client understands: {0}")]
    Malformed(String),
    #[error("unknown stream {0}")]
    UnknownStream(u8),
    #[error("the packet does not verify under the call's key")]
    Forged,
    #[error("the payload is over {MAX_MEDIA_PAYLOAD} bytes")]
    TooLarge,
}

/// The call's key and this member's credentials, from `RLY`.
pub struct CallKey {
    key: MediaKey,
    token: BindToken,
    member: u32,
}

impl std::fmt::Debug for CallKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CallKey").field("member", &self.member).finish_non_exhaustive()
    }
}

impl CallKey {
    /// From the key (43 base64url characters) and bind token (22) of `RLY`.
    pub fn new(member: u32, media_key: &str, bind_token: &str) -> Option<Self> {
        Some(Self {
            key: MediaKey::from_base64url(media_key).ok()?,
            token: BindToken::parse(bind_token).ok()?,
            member,
        })
    }

    pub fn member(&self) -> u32 {
        self.member
    }

    /// `BIND`: (re)binds this member to the sending socket; also the UDP probe.
    pub fn bind(&self, probe: u64) -> Vec<u8> {
        Bind { member: self.member, probe, token: self.token.wire() }.encode().to_vec()
    }

    /// A MEDIA datagram carrying `packet` from this member.
    pub fn seal(&self, packet: &MediaPacket) -> Result<Vec<u8>, DatagramError> {
        if packet.payload.len() > MAX_MEDIA_PAYLOAD {
            return Err(DatagramError::TooLarge);
        }
        let header = MediaHeader {
            member: self.member,
            stream: packet.stream.code(),
            seq: packet.seq,
            timestamp: packet.timestamp,
        };
        Ok(self.key.seal(&header, &packet.payload))
    }

    /// Verifies and opens a MEDIA datagram: its sender's member id and the packet.
    pub fn open(&self, datagram: &[u8]) -> Result<(u32, MediaPacket), DatagramError> {
        let (header, plain) = self.key.open(datagram).map_err(|error| match error {
            mocha_auth::MediaError::Forged => DatagramError::Forged,
            other => DatagramError::Malformed(other.to_string()),
        })?;
        let stream = Stream::from_code(header.stream).ok_or(DatagramError::UnknownStream(header.stream))?;
        let packet =
            MediaPacket { stream, seq: header.seq, timestamp: header.timestamp, payload: Bytes::from(plain) };
        Ok((header.member, packet))
    }
}

/// What arrived on the UDP socket.
#[derive(Debug, PartialEq, Eq)]
pub enum Incoming<'a> {
    Bound {
        member: u32,
        probe: u64,
    },
    /// Still sealed: open it with [`CallKey::open`].
    Media(&'a [u8]),
}

pub fn classify(datagram: &[u8]) -> Result<Incoming<'_>, DatagramError> {
    match Datagram::decode(datagram).map_err(|e| DatagramError::Malformed(e.to_string()))? {
        Datagram::Bound(bound) => Ok(Incoming::Bound { member: bound.member, probe: bound.probe }),
        Datagram::Media(_) => Ok(Incoming::Media(datagram)),
        Datagram::Bind(_) => Err(DatagramError::Malformed("a BIND, which only the relay receives".into())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mocha_proto::media::Bound;

    fn key(member: u32, raw: u8) -> CallKey {
        let media = MediaKey::from_bytes([raw; 32]).to_base64url();
        CallKey::new(member, &media, &"A".repeat(22)).unwrap()
    }

    fn packet() -> MediaPacket {
        MediaPacket { stream: Stream::Audio, seq: 7, timestamp: 960, payload: Bytes::from_static(b"opus") }
    }

    #[test]
    fn sealed_packets_open_only_under_the_same_key_and_unchanged() {
        let datagram = key(42, 1).seal(&packet()).unwrap();
        assert_eq!(&datagram[..6], &[0x10, 0, 0, 0, 42, 0]);
        assert_eq!(key(9, 1).open(&datagram).unwrap(), (42, packet()));
        assert_eq!(key(9, 2).open(&datagram), Err(DatagramError::Forged));
        for at in [1, 6, 14, datagram.len() - 1] {
            let mut tampered = datagram.clone();
            tampered[at] ^= 1;
            assert_eq!(key(9, 1).open(&tampered), Err(DatagramError::Forged), "byte {at} flipped");
        }
        assert!(matches!(key(9, 1).open(&datagram[..20]), Err(DatagramError::Malformed(_))));
        assert!(matches!(classify(&datagram), Ok(Incoming::Media(_))));
    }

    #[test]
    fn credentials_must_have_their_sizes_and_never_print() {
        let media = MediaKey::from_bytes([0; 32]).to_base64url();
        assert!(CallKey::new(1, &media[..20], &"A".repeat(22)).is_none());
        assert!(CallKey::new(1, &media, "short").is_none());
        let printed = format!("{:?}", key(3, 3));
        assert!(!printed.contains(&media) && !printed.contains("AAAA"), "{printed}");
    }

    #[test]
    fn oversized_payloads_are_refused_before_sealing() {
        let mut big = packet();
        big.payload = Bytes::from(vec![0; MAX_MEDIA_PAYLOAD + 1]);
        assert_eq!(key(1, 1).seal(&big), Err(DatagramError::TooLarge));
    }

    #[test]
    fn probes_and_answers() {
        let bind = key(5, 1).bind(0x0102);
        assert_eq!(&bind[..13], &[0x01, 0, 0, 0, 5, 0, 0, 0, 0, 0, 0, 1, 2]);
        assert_eq!(&bind[13..], "A".repeat(22).as_bytes());
        let bound = Bound { member: 5, probe: 0x0102 }.encode();
        assert_eq!(classify(&bound), Ok(Incoming::Bound { member: 5, probe: 0x0102 }));
        assert!(classify(&bound[..12]).is_err());
        assert!(classify(&bind).is_err(), "the client never receives a BIND");
        assert!(classify(&[]).is_err());
    }
}
