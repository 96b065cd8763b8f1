//! Property tests for the call datagrams: every header survives encode → decode, and
//! arbitrary bytes never panic the decoder.

use mocha_proto::media::{BIND_TOKEN_LEN, Bind, Bound, Datagram, MEDIA_HEADER_LEN, MediaHeader, TAG_LEN};
use proptest::prelude::*;

fn token() -> impl Strategy<Value = [u8; BIND_TOKEN_LEN]> {
    "[A-Za-z0-9_-]{22}".prop_map(|s| {
        let mut token = [0u8; BIND_TOKEN_LEN];
        token.copy_from_slice(s.as_bytes());
        token
    })
}

proptest! {
    #[test]
    fn bind_round_trip(member: u32, probe: u64, token in token()) {
        let bind = Bind { member, probe, token };
        prop_assert_eq!(Datagram::decode(&bind.encode()), Ok(Datagram::Bind(bind)));
    }

    #[test]
    fn bound_round_trip(member: u32, probe: u64) {
        let bound = Bound { member, probe };
        prop_assert_eq!(Datagram::decode(&bound.encode()), Ok(Datagram::Bound(bound)));
    }

    #[test]
    fn media_header_round_trip(
        member: u32, stream: u8, seq: u32, timestamp: u32,
        rest in prop::collection::vec(any::<u8>(), TAG_LEN..1300),
    ) {
        let header = MediaHeader { member, stream, seq, timestamp };
        let mut datagram = header.encode().to_vec();
        datagram.extend_from_slice(&rest);
        prop_assert_eq!(Datagram::decode(&datagram), Ok(Datagram::Media(header)));
        prop_assert_eq!(&datagram[..MEDIA_HEADER_LEN], &header.encode()[..]);
    }

    #[test]
    fn nonces_differ_when_member_stream_or_seq_differ(
        a in (any::<u32>(), 0..3u8, any::<u32>()), b in (any::<u32>(), 0..3u8, any::<u32>()),
    ) {
        let header = |(member, stream, seq): (u32, u8, u32)| MediaHeader { member, stream, seq, timestamp: 0 };
        prop_assert_eq!(header(a).nonce() == header(b).nonce(), a == b);
    }

    #[test]
    fn arbitrary_bytes_never_panic(input in prop::collection::vec(any::<u8>(), 0..80)) {
        let _ = Datagram::decode(&input);
    }
}
