//! The MIME-like payload of `MSG`: `Name: value` header lines, a blank line, then the body.

use bytes::{BufMut, Bytes, BytesMut};

/// Why a `MSG` payload is malformed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MessageError {
    /// Larger than the allowed size.
    #[error("message larger than {limit} bytes")]
    TooLarge {
        /// The limit that was exceeded.
        limit: usize,
    },
    /// No blank line ends the headers.
    #[error("message headers are not terminated by a blank line")]
    MissingSeparator,
    /// A header line that is not `Name: value`, not UTF-8, or holds control characters.
    #[error("malformed header line #{line}")]
    BadHeader {
        /// Zero-based index of the header line.
        line: usize,
    },
}

/// A parsed `MSG` payload. Headers keep their order and case; lookups ignore case.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MessagePayload {
    /// Header name/value pairs. Names are visible ASCII without `:`; values are UTF-8
    /// without control characters other than tab.
    pub headers: Vec<(String, String)>,
    /// Everything after the blank line, unchanged.
    pub body: Bytes,
}

/// The `Content-Type` of ordinary chat text.
pub const TEXT_PLAIN: &str = "text/plain; charset=UTF-8";

/// Whether `name` can be a header name.
pub fn is_valid_header_name(name: &str) -> bool {
    !name.is_empty() && name.bytes().all(|b| b.is_ascii_graphic() && b != b':')
}

/// Whether `value` can be a header value.
pub fn is_valid_header_value(value: &str) -> bool {
    !value.chars().any(|c| c.is_control() && c != '\t')
}

impl MessagePayload {
    /// A plain-text chat message.
    pub fn text(body: &str) -> Self {
        Self {
            headers: vec![("Content-Type".to_owned(), TEXT_PLAIN.to_owned())],
            body: Bytes::copy_from_slice(body.as_bytes()),
        }
    }

    /// Appends a header. The caller guarantees name and value are valid (see
    /// [`is_valid_header_name`], [`is_valid_header_value`]).
    #[must_use]
    pub fn with_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// The first header called `name`, ignoring ASCII case.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// The `Content-Type` header.
    pub fn content_type(&self) -> Option<&str> {
        self.header("Content-Type")
    }

    /// The body as text, if it is UTF-8.
    pub fn body_text(&self) -> Option<&str> {
        std::str::from_utf8(&self.body).ok()
    }

    /// Parses a payload of at most `limit` bytes. The body is a zero-copy slice of `bytes`.
    pub fn parse(bytes: Bytes, limit: usize) -> Result<Self, MessageError> {
        let view = MessageView::parse(&bytes, limit)?;
        let headers = view.headers().map(|(name, value)| (name.to_owned(), value.to_owned())).collect();
        let body = bytes.slice(view.body_start..);
        Ok(Self { headers, body })
    }

    /// Size of the encoded form.
    pub fn encoded_len(&self) -> usize {
        let headers: usize = self.headers.iter().map(|(name, value)| name.len() + 2 + value.len() + 2).sum();
        headers + 2 + self.body.len()
    }

    /// The encoded form, ready to be a `MSG` payload.
    pub fn to_bytes(&self) -> Bytes {
        let mut buf = BytesMut::with_capacity(self.encoded_len());
        for (name, value) in &self.headers {
            buf.put_slice(name.as_bytes());
            buf.put_slice(b": ");
            buf.put_slice(value.as_bytes());
            buf.put_slice(b"\r\n");
        }
        buf.put_slice(b"\r\n");
        buf.put_slice(&self.body);
        buf.freeze()
    }
}

/// A payload checked and read in place: the header lines are validated once and looked
/// up where they are, so the Switchboard relays a message without copying its headers.
#[derive(Debug, Clone, Copy)]
pub struct MessageView<'a> {
    /// The header lines, each ending in `\r\n`, without the blank line.
    head: &'a str,
    body: &'a [u8],
    body_start: usize,
}

impl<'a> MessageView<'a> {
    /// Checks a payload of at most `limit` bytes exactly as [`MessagePayload::parse`] does.
    pub fn parse(bytes: &'a [u8], limit: usize) -> Result<Self, MessageError> {
        if bytes.len() > limit {
            return Err(MessageError::TooLarge { limit });
        }
        let mut pos = 0;
        let mut line = 0;
        loop {
            let rest = &bytes[pos..];
            let end = find_crlf(rest).ok_or(MessageError::MissingSeparator)?;
            if end == 0 {
                // Every line was checked to be UTF-8, so their concatenation is.
                let head =
                    std::str::from_utf8(&bytes[..pos]).map_err(|_| MessageError::BadHeader { line: 0 })?;
                return Ok(Self { head, body: &bytes[pos + 2..], body_start: pos + 2 });
            }
            std::str::from_utf8(&rest[..end])
                .ok()
                .and_then(split_header)
                .ok_or(MessageError::BadHeader { line })?;
            line += 1;
            pos += end + 2;
        }
    }

    /// The headers in order, as name and value.
    pub fn headers(&self) -> impl Iterator<Item = (&'a str, &'a str)> + 'a {
        // Checked by `parse`: every line is `Name: value\r\n`, with no other `\n` or `:` in a name.
        self.head.split_terminator('\n').filter_map(|line| {
            let (name, value) = line.strip_suffix('\r')?.split_once(':')?;
            Some((name, value.strip_prefix(' ').unwrap_or(value)))
        })
    }

    /// Everything after the blank line.
    pub fn body(&self) -> &'a [u8] {
        self.body
    }
}

/// What [`crate::ImPayload::parse`] reads a message through: an owned [`MessagePayload`]
/// or a [`MessageView`] of one still in its frame.
pub trait MessageHeaders {
    /// The first header called `name`, ignoring ASCII case.
    fn header(&self, name: &str) -> Option<&str>;
    /// Everything after the blank line.
    fn body_bytes(&self) -> &[u8];

    /// The `Content-Type` header.
    fn content_type(&self) -> Option<&str> {
        self.header("Content-Type")
    }

    /// The body as text, if it is UTF-8.
    fn body_text(&self) -> Option<&str> {
        std::str::from_utf8(self.body_bytes()).ok()
    }
}

impl MessageHeaders for MessagePayload {
    fn header(&self, name: &str) -> Option<&str> {
        MessagePayload::header(self, name)
    }

    fn body_bytes(&self) -> &[u8] {
        &self.body
    }
}

impl MessageHeaders for MessageView<'_> {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v)
    }

    fn body_bytes(&self) -> &[u8] {
        self.body
    }
}

/// Where the first `\r\n` starts.
fn find_crlf(bytes: &[u8]) -> Option<usize> {
    let mut from = 0;
    while let Some(cr) = bytes[from..].iter().position(|&b| b == b'\r') {
        let at = from + cr;
        if bytes.get(at + 1) == Some(&b'\n') {
            return Some(at);
        }
        from = at + 1;
    }
    None
}

fn split_header(line: &str) -> Option<(&str, &str)> {
    let (name, value) = line.split_once(':')?;
    // Exactly one space after the colon belongs to the syntax; any more are the value's.
    let value = value.strip_prefix(' ').unwrap_or(value);
    (is_valid_header_name(name) && is_valid_header_value(value)).then_some((name, value))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(headers: &[(&str, &str)], body: &[u8]) -> MessagePayload {
        MessagePayload {
            headers: headers.iter().map(|(n, v)| ((*n).to_owned(), (*v).to_owned())).collect(),
            body: Bytes::copy_from_slice(body),
        }
    }

    fn check(input: &[u8], expected: Result<MessagePayload, MessageError>) {
        let got = MessagePayload::parse(Bytes::copy_from_slice(input), 64);
        assert_eq!(got, expected, "{input:?}");
        // The in-place view the Switchboard relays with reads exactly the same.
        let viewed = MessageView::parse(input, 64).map(|view| MessagePayload {
            headers: view.headers().map(|(n, v)| (n.to_owned(), v.to_owned())).collect(),
            body: Bytes::copy_from_slice(view.body()),
        });
        assert_eq!(viewed, expected, "view of {input:?}");
        if let (Ok(view), Ok(owned)) = (MessageView::parse(input, 64), &expected) {
            for (name, _) in &owned.headers {
                let lower = name.to_ascii_lowercase();
                assert_eq!(MessageHeaders::header(&view, &lower), owned.header(name), "{name} in {input:?}");
            }
        }
    }

    #[test]
    fn parsing() {
        check(b"\r\n", Ok(msg(&[], b"")));
        check(b"\r\nhi", Ok(msg(&[], b"hi")));
        check(
            b"Content-Type: text/plain\r\nX-A:b\r\n\r\nhello\r\n\r\n",
            Ok(msg(&[("Content-Type", "text/plain"), ("X-A", "b")], b"hello\r\n\r\n")),
        );
        check(b"X:  two\r\nY:\r\n\r\n", Ok(msg(&[("X", " two"), ("Y", "")], b"")));
        check(b"X: caf\xc3\xa9\t!\r\n\r\n", Ok(msg(&[("X", "café\t!")], b"")));
        check(b"", Err(MessageError::MissingSeparator));
        check(b"X: y\r\nbody", Err(MessageError::MissingSeparator));
        check(b"X y\r\n\r\n", Err(MessageError::BadHeader { line: 0 }));
        check(b"A: b\r\n: y\r\n\r\n", Err(MessageError::BadHeader { line: 1 }));
        check(b"X Y: z\r\n\r\n", Err(MessageError::BadHeader { line: 0 }));
        check(b"X: \x01\r\n\r\n", Err(MessageError::BadHeader { line: 0 }));
        check(b"X: \xff\r\n\r\n", Err(MessageError::BadHeader { line: 0 }));
        check(b"X: a\rb\r\n\r\n", Err(MessageError::BadHeader { line: 0 }));
        check(b"X: a\r\nY: \r\r\n\r\n", Err(MessageError::BadHeader { line: 1 }));
        check(&[b'\r'; 65], Err(MessageError::TooLarge { limit: 64 }));
    }

    #[test]
    fn a_header_without_its_space_reads_the_same_and_is_written_with_it() {
        let input = b"Content-Type:text/plain\r\n\r\nhi";
        let message = MessagePayload::parse(Bytes::from_static(input), input.len()).unwrap();
        assert_eq!(message.content_type(), Some("text/plain"));
        let written = message.to_bytes();
        assert_eq!(written.len(), input.len() + 1, "one byte longer: the space");
        assert_eq!(
            MessagePayload::parse(written.clone(), input.len()),
            Err(MessageError::TooLarge { limit: input.len() })
        );
        assert_eq!(MessagePayload::parse(written, input.len() + 1), Ok(message));
    }

    #[test]
    fn helpers_and_round_trip() {
        let m = MessagePayload::text("hi there").with_header("X-Mocha-Id", "7");
        assert_eq!(m.content_type(), Some(TEXT_PLAIN));
        assert_eq!(m.header("x-mocha-id"), Some("7"));
        assert_eq!(m.header("missing"), None);
        assert_eq!(m.body_text(), Some("hi there"));
        let bytes = m.to_bytes();
        assert_eq!(bytes.len(), m.encoded_len());
        assert_eq!(MessagePayload::parse(bytes, 1024), Ok(m));
    }
}
