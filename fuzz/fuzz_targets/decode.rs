//! Feeds arbitrary bytes to the frame decoder and every typed parser.
#![no_main]

use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use mocha_proto::{Frame, Limits, MessagePayload, ns, sb};

fuzz_target!(|data: &[u8]| {
    let limits = Limits { max_line: 256, max_payload: 1024 };
    let mut buf = BytesMut::from(data);
    while let Ok(Some(frame)) = Frame::decode(&mut buf, &limits) {
        assert!(frame.payload.as_ref().is_none_or(|p| p.len() <= limits.max_payload));
        if let Some(payload) = &frame.payload {
            let _ = MessagePayload::parse(payload.clone(), limits.max_payload);
        }
        // Whatever parses must re-encode to something that parses to the same value.
        if let Ok(cmd) = ns::ClientCommand::parse(frame.clone()) {
            let again = reparse(&cmd.clone().into_frame(), &limits).map(ns::ClientCommand::parse);
            assert_eq!(again, Some(Ok(cmd)));
        }
        if let Ok(cmd) = ns::ServerCommand::parse(frame.clone()) {
            let again = reparse(&cmd.clone().into_frame(), &limits).map(ns::ServerCommand::parse);
            assert_eq!(again, Some(Ok(cmd)));
        }
        if let Ok(cmd) = sb::ClientCommand::parse(frame.clone()) {
            let again = reparse(&cmd.clone().into_frame(), &limits).map(sb::ClientCommand::parse);
            assert_eq!(again, Some(Ok(cmd)));
        }
        if let Ok(cmd) = sb::ServerCommand::parse(frame) {
            let again = reparse(&cmd.clone().into_frame(), &limits).map(sb::ServerCommand::parse);
            assert_eq!(again, Some(Ok(cmd)));
        }
    }
});

/// Re-encoding may grow a line (literal UTF-8 in text comes back percent-encoded), so the
/// second decode gets roomier limits.
fn reparse(frame: &Frame, limits: &Limits) -> Option<Frame> {
    let roomy = Limits { max_line: limits.max_line * 4, ..*limits };
    let mut buf = BytesMut::from(&frame.to_bytes()[..]);
    Frame::decode(&mut buf, &roomy).ok().flatten()
}
