//! A `MSG` payload as a switchboard and a client read it: headers and body
//! (`MessagePayload::parse`), then what it means (`ImPayload::parse`: text and its font
//! header, typing, invitations, call and file headers with sizes and hashes).
#![no_main]

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use mocha_proto::MessagePayload;
use mocha_proto::im::ImPayload;

const LIMIT: usize = 8192;

fuzz_target!(|data: &[u8]| {
    let Ok(message) = MessagePayload::parse(Bytes::copy_from_slice(data), LIMIT) else { return };
    // A parsed payload encodes to bytes that parse to the same headers and body. The
    // encoding may be longer than the input (`Name:value` is written `Name: value`), so
    // it is read back without the size limit (found by a 30-minute run).
    let bytes = message.to_bytes();
    assert_eq!(bytes.len(), message.encoded_len());
    assert_eq!(MessagePayload::parse(bytes, usize::MAX).as_ref(), Ok(&message));

    let Ok(meaning) = ImPayload::parse(&message) else { return };
    if meaning == ImPayload::Other {
        return;
    }
    // What a message means survives being written out and read back.
    let again =
        MessagePayload::parse(meaning.to_message().to_bytes(), usize::MAX).expect("own encoding parses");
    assert_eq!(ImPayload::parse(&again), Ok(meaning));
});
