//! What the UDP relay and a client read from the network: `BIND`, `BOUND` and `MEDIA`
//! datagrams, the bind token in `BIND`, and opening a `MEDIA` datagram with the call's key.
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use mocha_auth::{BindToken, MediaError, MediaKey};
use mocha_proto::media::{Bind, Bound, Datagram, MEDIA_HEADER_LEN, MediaHeader};

static KEY: LazyLock<MediaKey> = LazyLock::new(MediaKey::generate);

fuzz_target!(|data: &[u8]| {
    match Datagram::decode(data) {
        Ok(Datagram::Bind(bind)) => {
            assert_eq!(&bind.encode()[..], data);
            assert_eq!(Bind::decode(data), Ok(bind));
            // The relay's check of the token agrees with the one `RLY`'s text goes through.
            let text = std::str::from_utf8(&bind.token).expect("a decoded BIND's token is base64url");
            assert_eq!(BindToken::parse(text).is_ok(), BindToken::from_wire(bind.token).is_ok());
        }
        Ok(Datagram::Bound(_)) => {
            assert_eq!(Bound::decode(data).map(|b| b.encode().to_vec()), Ok(data.to_vec()))
        }
        Ok(Datagram::Media(header)) => {
            assert_eq!(header.encode()[..], data[..MEDIA_HEADER_LEN]);
            // Made-up bytes never verify; the same payload sealed by us opens to itself.
            assert!(matches!(KEY.open(data), Err(MediaError::Forged)));
            let payload = &data[MEDIA_HEADER_LEN..];
            let sealed = KEY.seal(&header, payload);
            assert_eq!(KEY.open(&sealed), Ok((header, payload.to_vec())));
            assert_eq!(MediaHeader::decode(&sealed), Ok(header));
        }
        Err(_) => assert!(KEY.open(data).is_err()),
    }
});
