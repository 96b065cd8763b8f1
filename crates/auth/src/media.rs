//! A call's secrets: the [`MediaKey`] that seals every MEDIA datagram (ChaCha20-Poly1305,
//! the 14-byte header as associated data, the nonce taken from the header) and the
//! [`BindToken`] a member presents to the relay from its UDP address. Both are 43/22
//! base64url characters on the wire (`RLY`) and never appear in a log line.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use mocha_proto::media::{BIND_TOKEN_LEN, DatagramError, MEDIA_HEADER_LEN, MediaHeader, TAG_LEN};
use ring::aead::{Aad, CHACHA20_POLY1305, LessSafeKey, Nonce, UnboundKey};

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum MediaError {
    #[error("not a MEDIA datagram: {0}")]
    Malformed(#[from] DatagramError),
    /// The tag does not verify: another key, or changed bytes.
    #[error("the datagram does not verify under the call's key")]
    Forged,
    #[error("a media key is 32 bytes as 43 base64url characters")]
    BadKey,
    #[error("a bind token is 16 bytes as 22 base64url characters")]
    BadToken,
}

/// A call's ChaCha20-Poly1305 key, shared by its members and the relay.
pub struct MediaKey {
    raw: [u8; 32],
    key: LessSafeKey,
}

impl MediaKey {
    pub fn generate() -> Self {
        Self::from_bytes(crate::random_bytes::<32>())
    }

    pub fn from_bytes(raw: [u8; 32]) -> Self {
        let unbound = UnboundKey::new(&CHACHA20_POLY1305, &raw).expect("32 bytes is a ChaCha20-Poly1305 key");
        Self { raw, key: LessSafeKey::new(unbound) }
    }

    /// The key as `RLY` carries it.
    pub fn from_base64url(text: &str) -> Result<Self, MediaError> {
        let bytes = URL_SAFE_NO_PAD.decode(text).map_err(|_| MediaError::BadKey)?;
        let raw: [u8; 32] = bytes.try_into().map_err(|_| MediaError::BadKey)?;
        Ok(Self::from_bytes(raw))
    }

    pub fn to_base64url(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.raw)
    }

    /// `header ‖ sealed payload ‖ tag`, a whole MEDIA datagram.
    pub fn seal(&self, header: &MediaHeader, payload: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(MEDIA_HEADER_LEN + payload.len() + TAG_LEN);
        self.seal_into(header, payload, &mut out);
        out
    }

    /// [`seal`](Self::seal) into a reused buffer (cleared first).
    pub fn seal_into(&self, header: &MediaHeader, payload: &[u8], out: &mut Vec<u8>) {
        let aad = header.encode();
        out.clear();
        out.extend_from_slice(&aad);
        out.extend_from_slice(payload);
        let nonce = Nonce::assume_unique_for_key(header.nonce());
        let tag = self
            .key
            .seal_in_place_separate_tag(nonce, Aad::from(aad), &mut out[MEDIA_HEADER_LEN..])
            .expect("a payload under 256 GiB always seals");
        out.extend_from_slice(tag.as_ref());
    }

    /// Checks and decrypts a whole MEDIA datagram: its header and plaintext payload.
    pub fn open(&self, datagram: &[u8]) -> Result<(MediaHeader, Vec<u8>), MediaError> {
        let mut plain = Vec::with_capacity(datagram.len());
        let header = self.open_into(datagram, &mut plain)?;
        Ok((header, plain))
    }

    /// [`open`](Self::open) into a reused buffer, which ends up holding the plaintext
    /// (or nothing, if the datagram does not verify). The relay uses this to check tags
    /// without allocating per packet.
    pub fn open_into(&self, datagram: &[u8], plain: &mut Vec<u8>) -> Result<MediaHeader, MediaError> {
        let header = MediaHeader::decode(datagram)?;
        plain.clear();
        plain.extend_from_slice(&datagram[MEDIA_HEADER_LEN..]);
        let nonce = Nonce::assume_unique_for_key(header.nonce());
        let aad = Aad::from(&datagram[..MEDIA_HEADER_LEN]);
        match self.key.open_in_place(nonce, aad, plain) {
            Ok(opened) => {
                let len = opened.len();
                plain.truncate(len);
                Ok(header)
            }
            Err(_) => {
                plain.clear();
                Err(MediaError::Forged)
            }
        }
    }
}

// A credential: never printed.
impl fmt::Debug for MediaKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MediaKey(***)")
    }
}

/// What a member shows the relay in `BIND`: 16 random bytes as 22 base64url characters.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct BindToken([u8; BIND_TOKEN_LEN]);

impl BindToken {
    pub fn generate() -> Self {
        let text = URL_SAFE_NO_PAD.encode(crate::random_bytes::<16>());
        let mut wire = [0u8; BIND_TOKEN_LEN];
        wire.copy_from_slice(text.as_bytes());
        Self(wire)
    }

    /// From the 22 characters of `RLY` or `BIND`.
    pub fn from_wire(wire: [u8; BIND_TOKEN_LEN]) -> Result<Self, MediaError> {
        match URL_SAFE_NO_PAD.decode(wire) {
            Ok(bytes) if bytes.len() == 16 => Ok(Self(wire)),
            _ => Err(MediaError::BadToken),
        }
    }

    pub fn parse(text: &str) -> Result<Self, MediaError> {
        let wire: [u8; BIND_TOKEN_LEN] = text.as_bytes().try_into().map_err(|_| MediaError::BadToken)?;
        Self::from_wire(wire)
    }

    /// The 22 characters, as they go into `BIND`.
    pub fn wire(&self) -> [u8; BIND_TOKEN_LEN] {
        self.0
    }

    pub fn as_str(&self) -> &str {
        // Built only from base64url characters.
        std::str::from_utf8(&self.0).unwrap_or("")
    }
}

// A credential: never printed.
impl fmt::Debug for BindToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("BindToken(***)")
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn header(seq: u32) -> MediaHeader {
        MediaHeader { member: 3, stream: 0, seq, timestamp: 960 * seq }
    }

    #[test]
    fn a_sealed_datagram_opens_to_the_same_header_and_payload() {
        let key = MediaKey::generate();
        let datagram = key.seal(&header(1), b"twenty milliseconds of speech");
        assert_eq!(datagram.len(), MEDIA_HEADER_LEN + 29 + TAG_LEN);
        assert_eq!(&datagram[..MEDIA_HEADER_LEN], &header(1).encode());
        assert!(!datagram.windows(6).any(|w| w == b"twenty"), "the payload is encrypted");
        assert_eq!(key.open(&datagram).unwrap(), (header(1), b"twenty milliseconds of speech".to_vec()));
        let empty = key.seal(&header(2), b"");
        assert_eq!(key.open(&empty).unwrap(), (header(2), Vec::new()));
    }

    #[test]
    fn tampering_a_wrong_key_or_a_changed_header_fail() {
        let key = MediaKey::generate();
        let datagram = key.seal(&header(5), b"payload");
        for at in [MEDIA_HEADER_LEN, datagram.len() - 1] {
            let mut tampered = datagram.clone();
            tampered[at] ^= 1;
            assert_eq!(key.open(&tampered), Err(MediaError::Forged), "byte {at} flipped");
        }
        assert_eq!(MediaKey::generate().open(&datagram), Err(MediaError::Forged), "another call's key");
        // The header is the associated data: a relabelled sequence number or timestamp fails.
        let mut relabelled = datagram.clone();
        relabelled[MEDIA_HEADER_LEN - 1] ^= 1;
        assert_eq!(key.open(&relabelled), Err(MediaError::Forged), "timestamp changed");
        relabelled = datagram.clone();
        relabelled[9] ^= 1;
        assert_eq!(key.open(&relabelled), Err(MediaError::Forged), "seq changed");
        assert!(matches!(key.open(&datagram[..20]), Err(MediaError::Malformed(_))));
        let mut plain = vec![1, 2, 3];
        assert_eq!(key.open_into(&relabelled, &mut plain), Err(MediaError::Forged));
        assert!(plain.is_empty(), "nothing of a forgery is kept");
    }

    #[test]
    fn keys_and_tokens_travel_as_base64url_and_are_never_printed() {
        let key = MediaKey::generate();
        let text = key.to_base64url();
        assert_eq!(text.len(), 43);
        let again = MediaKey::from_base64url(&text).unwrap();
        assert_eq!(again.open(&key.seal(&header(9), b"x")).unwrap().1, b"x");
        assert_eq!(MediaKey::from_base64url("short").unwrap_err(), MediaError::BadKey);
        assert_eq!(format!("{key:?}"), "MediaKey(***)");

        let token = BindToken::generate();
        assert_eq!(token.as_str().len(), 22);
        assert_eq!(BindToken::parse(token.as_str()).unwrap(), token);
        assert_ne!(BindToken::generate(), token);
        assert_eq!(BindToken::parse("not a token"), Err(MediaError::BadToken));
        assert_eq!(format!("{token:?}"), "BindToken(***)");
    }
}
