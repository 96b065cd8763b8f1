//! A call's control stream (stream 2, after the datagram is opened): receiver reports,
//! keyframe requests, pings and pongs, as `mocha-media`'s engine decodes them.
//!
//! The two modules are compiled here from `crates/media/src` itself rather than through
//! the `mocha-media` crate, whose Opus and OpenH264 C/C++ builds would multiply this
//! crate's cold build time; they need nothing but `bytes` and `thiserror`.
#![no_main]

#[allow(dead_code)]
#[path = "../../crates/media/src/packet.rs"]
mod packet;

#[allow(dead_code)]
#[path = "../../crates/media/src/control.rs"]
mod control;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(messages) = control::decode(data) else { return };
    assert!(messages.len() <= control::MAX_MESSAGES);
    // Unknown message types are skipped, so re-encoding may drop bytes but never meaning.
    let encoded = control::encode(&messages);
    assert!(encoded.len() <= packet::MAX_PAYLOAD);
    assert_eq!(control::decode(&encoded), Ok(messages));
});
