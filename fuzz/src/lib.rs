//! Helpers the fuzz targets share.

use bytes::BytesMut;
use mocha_proto::{Frame, Limits};

/// Encodes `frame` and decodes it again. Re-encoding may grow a line (literal UTF-8 in
/// text comes back percent-encoded), so the second decode gets roomier limits.
pub fn reparse(frame: &Frame, limits: &Limits) -> Option<Frame> {
    let roomy = Limits { max_line: limits.max_line * 4, ..*limits };
    let mut buf = BytesMut::from(&frame.to_bytes()[..]);
    Frame::decode(&mut buf, &roomy).ok().flatten()
}

/// Asserts that what one of the typed command parsers accepted comes back unchanged
/// after `into_frame`, the wire and the parser again.
#[macro_export]
macro_rules! assert_round_trip {
    ($ty:ty, $frame:expr, $limits:expr) => {
        if let Ok(cmd) = <$ty>::parse($frame.clone()) {
            let again = $crate::reparse(&cmd.clone().into_frame(), $limits).map(<$ty>::parse);
            assert_eq!(again, Some(Ok(cmd)), "{} did not round-trip", stringify!($ty));
        }
    };
}
