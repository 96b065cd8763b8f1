use std::io::Cursor;

use bytes::{Bytes, BytesMut};

use super::*;

enum Expect {
    Frame(Frame),
    Incomplete,
    Invalid(FrameError),
}

fn frame(command: &str, trid: u32, args: &[&str], payload: Option<&[u8]>) -> Frame {
    Frame {
        command: command.parse().expect("test command"),
        trid,
        args: args.iter().map(|s| (*s).to_owned()).collect(),
        payload: payload.map(Bytes::copy_from_slice),
    }
}

const SMALL: Limits = Limits { max_line: 16, max_payload: 8 };

/// Runs `check`, `parse` and `decode` on `input` and asserts they all agree with `expected`.
fn check_with(input: &[u8], limits: &Limits, expected: Expect) {
    let mut cursor = Cursor::new(input);
    let checked = Frame::check(&mut cursor, limits);
    let checked_len = cursor.position();
    let mut cursor = Cursor::new(input);
    let parsed = Frame::parse(&mut cursor, limits);
    let mut buf = BytesMut::from(input);
    let decoded = Frame::decode(&mut buf, limits);
    match expected {
        Expect::Frame(want) => {
            let encoded = want.to_bytes();
            assert_eq!(checked, Ok(()), "check {input:?}");
            assert_eq!(checked_len, encoded.len() as u64, "check consumed {input:?}");
            assert_eq!(cursor.position(), encoded.len() as u64, "parse consumed {input:?}");
            assert_eq!(parsed.as_ref(), Ok(&want), "parse {input:?}");
            assert_eq!(decoded, Ok(Some(want)), "decode {input:?}");
            assert_eq!(&buf[..], &input[encoded.len()..], "decode leftover {input:?}");
        }
        Expect::Incomplete => {
            assert_eq!(checked, Err(CheckError::Incomplete), "check {input:?}");
            assert_eq!(checked_len, 0);
            assert_eq!(parsed, Err(CheckError::Incomplete), "parse {input:?}");
            assert_eq!(decoded, Ok(None), "decode {input:?}");
            assert_eq!(&buf[..], input, "decode must not consume {input:?}");
        }
        Expect::Invalid(error) => {
            assert_eq!(checked, Err(CheckError::Invalid(error)), "check {input:?}");
            assert_eq!(parsed, Err(CheckError::Invalid(error)), "parse {input:?}");
            assert_eq!(decoded, Err(error), "decode {input:?}");
        }
    }
}

fn check(input: &[u8], expected: Expect) {
    check_with(input, &Limits::default(), expected);
}

/// A good frame parses, re-encodes to the same bytes, and every strict prefix is Incomplete.
fn check_good(input: &[u8], want: Frame) {
    assert_eq!(&want.to_bytes()[..], input, "encode {want:?}");
    for split in 0..input.len() {
        check(&input[..split], Expect::Incomplete);
    }
    check(input, Expect::Frame(want.clone()));
    let mut trailing = input.to_vec();
    trailing.extend_from_slice(b"PNG 9\r\n");
    check(&trailing, Expect::Frame(want));
}

#[test]
fn good_frames() {
    check_good(b"PNG 1\r\n", frame("PNG", 1, &[], None));
    check_good(b"VER 1 MENP1 MENP2\r\n", frame("VER", 1, &["MENP1", "MENP2"], None));
    check_good(b"CHG 4294967295 NLN\r\n", frame("CHG", u32::MAX, &["NLN"], None));
    check_good(b"NLN 0 BSY 42 Bob%20S\r\n", frame("NLN", 0, &["BSY", "42", "Bob%20S"], None));
    check_good(b"ZZZ 7 ~ \xc3\xa9\r\n", frame("ZZZ", 7, &["~", "é"], None));
    check_good(b"UUX 2 5\r\nhello", frame("UUX", 2, &[], Some(b"hello")));
    check_good(b"UUX 3 0\r\n", frame("UUX", 3, &[], Some(b"")));
    check_good(b"MSG 5 A 4\r\n\r\n\0\xff", frame("MSG", 5, &["A"], Some(b"\r\n\0\xff")));
    check_good(b"FIL 0 7 t1 100 3\r\nabc", frame("FIL", 0, &["7", "t1", "100"], Some(b"abc")));
    check_good(b"SYN 1\r\n", frame("SYN", 1, &[], None));
    check_good(b"SYN 1 2\r\n{}", frame("SYN", 1, &[], Some(b"{}")));
    check_good(b"UPD 1 stable 1.2.3\r\n", frame("UPD", 1, &["stable", "1.2.3"], None));
    check_good(b"UPD 1 2\r\n{}", frame("UPD", 1, &[], Some(b"{}")));
}

#[test]
fn payload_length_is_not_an_argument_for_other_commands() {
    check_good(b"CAL 1 12\r\n", frame("CAL", 1, &["12"], None));
}

#[test]
fn syntax_errors() {
    use FrameError::*;
    check(b"\r\n", Expect::Invalid(BadCommand));
    check(b"png 1\r\n", Expect::Invalid(BadCommand));
    check(b"PNGG 1\r\n", Expect::Invalid(BadCommand));
    check(b"P1G 1\r\n", Expect::Invalid(BadCommand));
    check(b" PNG 1\r\n", Expect::Invalid(BadCommand));
    check(b"PNG\r\n", Expect::Invalid(BadTrId));
    check(b"PNG x\r\n", Expect::Invalid(BadTrId));
    check(b"PNG +1\r\n", Expect::Invalid(BadTrId));
    check(b"PNG 01\r\n", Expect::Invalid(BadTrId));
    check(b"PNG 4294967296\r\n", Expect::Invalid(BadTrId));
    check(b"PNG  1\r\n", Expect::Invalid(EmptyArgument));
    check(b"PNG 1 \r\n", Expect::Invalid(EmptyArgument));
    check(b"VER 1 a  b\r\n", Expect::Invalid(EmptyArgument));
    check(b"PNG 1\tx\r\n", Expect::Invalid(BadCharacter));
    check(b"PNG 1 \x7f\r\n", Expect::Invalid(BadCharacter));
    check("PNG 1 \u{85}\r\n".as_bytes(), Expect::Invalid(BadCharacter));
    check(b"PNG 1 \xff\r\n", Expect::Invalid(NotUtf8));
    check(b"PNG 1 \xc3\r\n", Expect::Invalid(NotUtf8));
    check(b"UUX 1\r\n", Expect::Invalid(BadLength));
    check(b"UUX 1 x\r\n", Expect::Invalid(BadLength));
    check(b"UUX 1 05\r\n", Expect::Invalid(BadLength));
    check(b"UUX 1 -5\r\n", Expect::Invalid(BadLength));
    check(b"MSG 1 5 A\r\n", Expect::Invalid(BadLength));
}

#[test]
fn line_endings() {
    check(b"PNG 1\n", Expect::Invalid(FrameError::BadLineEnding));
    check(b"PNG 1\rX", Expect::Invalid(FrameError::BadLineEnding));
    check(b"PNG\n", Expect::Invalid(FrameError::BadLineEnding));
    check(b"PNG 1\r", Expect::Incomplete);
}

#[test]
fn line_limit() {
    // Exactly max_line bytes of line is fine; one more is not, complete or not.
    let at_limit = b"VER 1 0123456789\r\n";
    assert_eq!(at_limit.len(), SMALL.max_line + 2);
    check_with(at_limit, &SMALL, Expect::Frame(frame("VER", 1, &["0123456789"], None)));
    check_with(b"VER 1 0123456789X\r\n", &SMALL, Expect::Invalid(FrameError::LineTooLong));
    check_with(b"VER 1 0123456789X", &SMALL, Expect::Invalid(FrameError::LineTooLong));
    check_with(b"VER 1 0123456789", &SMALL, Expect::Incomplete);
    check_with(b"VER 1 0123456789\r", &SMALL, Expect::Incomplete);
    let huge = vec![b'A'; 1 << 20];
    check(&huge, Expect::Invalid(FrameError::LineTooLong));
}

#[test]
fn payload_limit() {
    check_with(b"UUX 1 8\r\n12345678", &SMALL, Expect::Frame(frame("UUX", 1, &[], Some(b"12345678"))));
    // Rejected as soon as the line is complete, before any payload arrives.
    check_with(b"UUX 1 9\r\n", &SMALL, Expect::Invalid(FrameError::PayloadTooLarge));
    check(b"UUX 1 65537\r\n", Expect::Invalid(FrameError::PayloadTooLarge));
    check(b"UUX 1 99999999999999999999999999\r\n", Expect::Invalid(FrameError::PayloadTooLarge));
    check(b"UUX 1 65536\r\n", Expect::Incomplete);
}

#[test]
fn cursor_starts_at_its_position() {
    let input = b"PNG 1\r\nPNG 2\r\nUUX";
    let mut cursor = Cursor::new(&input[..]);
    assert_eq!(Frame::parse(&mut cursor, &Limits::default()), Ok(frame("PNG", 1, &[], None)));
    assert_eq!(Frame::check(&mut cursor, &Limits::default()), Ok(()));
    assert_eq!(cursor.position(), 14);
    assert_eq!(Frame::check(&mut cursor, &Limits::default()), Err(CheckError::Incomplete));
    assert_eq!(cursor.position(), 14);
}

#[test]
fn decode_is_zero_copy_for_payloads() {
    let mut buf = BytesMut::from(&b"MED 1 c1 3\r\nabcPNG 2\r\n"[..]);
    let first = Frame::decode(&mut buf, &Limits::default());
    assert_eq!(first, Ok(Some(frame("MED", 1, &["c1"], Some(b"abc")))));
    let second = Frame::decode(&mut buf, &Limits::default());
    assert_eq!(second, Ok(Some(frame("PNG", 2, &[], None))));
    assert_eq!(Frame::decode(&mut buf, &Limits::default()), Ok(None));
}

#[test]
fn wanted_len_once_the_line_is_complete() {
    let limits = Limits::default();
    assert_eq!(Frame::wanted_len(b"", &limits), Ok(None));
    assert_eq!(Frame::wanted_len(b"FIL 1 t 0 10", &limits), Ok(None));
    assert_eq!(Frame::wanted_len(b"FIL 1 t 0 10\r\nabc", &limits), Ok(Some(24)));
    assert_eq!(Frame::wanted_len(b"PNG 2\r\nPNG", &limits), Ok(Some(7)));
    assert_eq!(Frame::wanted_len(b"FIL 1 t 0 65537\r\n", &limits), Err(FrameError::PayloadTooLarge));
    assert_eq!(Frame::wanted_len(b"png 1\r\n", &limits), Err(FrameError::BadCommand));
    let long = vec![b'A'; limits.max_line + 1];
    assert_eq!(Frame::wanted_len(&long, &limits), Err(FrameError::LineTooLong));
}

#[test]
fn error_codes() {
    assert_eq!(FrameError::LineTooLong.error_code(), ErrorCode::LineTooLong);
    assert_eq!(FrameError::PayloadTooLarge.error_code(), ErrorCode::PayloadTooLarge);
    assert_eq!(FrameError::BadTrId.error_code(), ErrorCode::SyntaxError);
}

#[test]
fn display_omits_payload() {
    let f = frame("MSG", 0, &["7", "Al"], Some(b"secret"));
    assert_eq!(f.to_string(), "MSG 0 7 Al 6 (payload)");
}
