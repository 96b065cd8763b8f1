//! Percent-encoding of free text (names, reasons) into a single space-free argument.
//!
//! Encoding keeps ASCII letters, digits, `-`, `.` and `_`, and writes every other byte of
//! the UTF-8 form as `%XX` (uppercase hex). `~`, although unreserved in RFC 3986, is always
//! escaped as `%7E` because a lone `~` is reserved to mean the empty string: an argument
//! can never be empty on the wire.
//!
//! Decoding is lenient about what it accepts literally (any character but `%`, and `~`
//! anywhere but alone) and strict about escapes: `%` must be followed by two hex digits and
//! the result must be valid UTF-8.

/// The wire form of the empty string.
pub const EMPTY_TEXT: &str = "~";

/// Why a text argument could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TextError {
    /// A `%` not followed by two hex digits.
    #[error("invalid percent escape at byte {at}")]
    InvalidEscape {
        /// Byte offset of the `%`.
        at: usize,
    },
    /// The unescaped bytes are not UTF-8.
    #[error("decoded text is not valid UTF-8")]
    NotUtf8,
}

/// Encodes `text` as one non-empty argument free of spaces and control characters.
pub fn encode_text(text: &str) -> String {
    if text.is_empty() {
        return EMPTY_TEXT.to_owned();
    }
    let mut out = String::with_capacity(text.len());
    for &byte in text.as_bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_') {
            out.push(char::from(byte));
        } else {
            const HEX: &[u8; 16] = b"0123456789ABCDEF";
            out.push('%');
            out.push(char::from(HEX[usize::from(byte >> 4)]));
            out.push(char::from(HEX[usize::from(byte & 0x0f)]));
        }
    }
    out
}

/// Decodes an argument produced by [`encode_text`].
pub fn decode_text(arg: &str) -> Result<String, TextError> {
    if arg == EMPTY_TEXT {
        return Ok(String::new());
    }
    let bytes = arg.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hi = bytes.get(i + 1).and_then(|b| hex_value(*b));
            let lo = bytes.get(i + 2).and_then(|b| hex_value(*b));
            match (hi, lo) {
                (Some(hi), Some(lo)) => out.push(hi << 4 | lo),
                _ => return Err(TextError::InvalidEscape { at: i }),
            }
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| TextError::NotUtf8)
}

fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(text: &str, wire: &str) {
        assert_eq!(encode_text(text), wire, "encode {text:?}");
        assert_eq!(decode_text(wire).as_deref(), Ok(text), "decode {wire:?}");
    }

    fn check_decode(wire: &str, expected: Result<&str, TextError>) {
        assert_eq!(decode_text(wire).as_deref().map_err(Clone::clone), expected, "{wire:?}");
    }

    #[test]
    fn encoding() {
        check("", "~");
        check("~", "%7E");
        check("~~", "%7E%7E");
        check("Alice", "Alice");
        check("a-b.c_d", "a-b.c_d");
        check("Bob Smith", "Bob%20Smith");
        check("100%", "100%25");
        check("é", "%C3%A9");
        check("🙂", "%F0%9F%99%82");
        check("a\r\nb", "a%0D%0Ab");
        check("x+y/z", "x%2By%2Fz");
    }

    #[test]
    fn decoding() {
        check_decode("%c3%a9", Ok("é"));
        check_decode("a~b", Ok("a~b"));
        check_decode("plain!", Ok("plain!"));
        check_decode("ü", Ok("ü"));
        check_decode("%", Err(TextError::InvalidEscape { at: 0 }));
        check_decode("ab%4", Err(TextError::InvalidEscape { at: 2 }));
        check_decode("%zz", Err(TextError::InvalidEscape { at: 0 }));
        check_decode("%C3", Err(TextError::NotUtf8));
        check_decode("%FF", Err(TextError::NotUtf8));
    }
}
