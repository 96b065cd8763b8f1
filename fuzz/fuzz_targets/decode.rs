//! Feeds arbitrary bytes to the frame decoder and every typed parser.
#![no_main]

use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use mocha_proto::{Frame, Limits, MessagePayload, ns, sb};
use mocha_proto_fuzz::assert_round_trip;

fuzz_target!(|data: &[u8]| {
    let limits = Limits { max_line: 256, max_payload: 1024 };
    let mut buf = BytesMut::from(data);
    while let Ok(Some(frame)) = Frame::decode(&mut buf, &limits) {
        assert!(frame.payload.as_ref().is_none_or(|p| p.len() <= limits.max_payload));
        if let Some(payload) = &frame.payload {
            let _ = MessagePayload::parse(payload.clone(), limits.max_payload);
        }
        // Whatever parses must re-encode to something that parses to the same value.
        assert_round_trip!(ns::ClientCommand, frame, &limits);
        assert_round_trip!(ns::ServerCommand, frame, &limits);
        assert_round_trip!(sb::ClientCommand, frame, &limits);
        assert_round_trip!(sb::ServerCommand, frame, &limits);
    }
});
