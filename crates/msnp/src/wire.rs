//! Building the lines the gateway sends: each one `\r\n`-terminated, in one `Bytes` ready
//! for the outbox.

use bytes::Bytes;

use crate::error::Code;

/// A line from space-separated parts.
pub fn line<I, S>(parts: I) -> Bytes
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    let mut out = String::new();
    for part in parts {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(part.as_ref());
    }
    out.push_str("\r\n");
    Bytes::from(out)
}

/// A line whose last argument is the payload's length, then the payload.
pub fn with_payload<I, S>(parts: I, payload: &[u8]) -> Bytes
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    let head =
        line(parts.into_iter().map(|part| part.as_ref().to_string()).chain([payload.len().to_string()]));
    let mut out = Vec::with_capacity(head.len() + payload.len());
    out.extend_from_slice(&head);
    out.extend_from_slice(payload);
    Bytes::from(out)
}

/// `<code> <trid>`.
pub fn error(code: Code, trid: u32) -> Bytes {
    line([code.number().to_string(), trid.to_string()])
}

/// Escapes text for an XML payload (`UBX`'s `<PSM>`).
pub fn xml_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

/// The text of the first `<tag>…</tag>` in `xml`, unescaped; `None` without one.
pub fn xml_element(xml: &str, tag: &str) -> Option<String> {
    let open = format!("<{tag}>");
    let close = format!("</{tag}>");
    let start = xml.find(&open)? + open.len();
    let end = start + xml[start..].find(&close)?;
    Some(xml_unescape(&xml[start..end]))
}

fn xml_unescape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        let Some(end) = rest.find(';') else { break };
        let entity = &rest[1..end];
        let decoded = match entity {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            _ => entity
                .strip_prefix("#x")
                .and_then(|hex| u32::from_str_radix(hex, 16).ok())
                .or_else(|| entity.strip_prefix('#').and_then(|dec| dec.parse().ok()))
                .and_then(char::from_u32),
        };
        match decoded {
            Some(c) => {
                out.push(c);
                rest = &rest[end + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_payloads_and_xml_text() {
        assert_eq!(line(["CHG", "4", "NLN", "0"]), "CHG 4 NLN 0\r\n");
        assert_eq!(with_payload(["UBX", "ann@x"], b"<Data/>"), "UBX ann@x 7\r\n<Data/>");
        assert_eq!(error(Code::Syntax, 9), "200 9\r\n");
        let psm = format!("<Data><PSM>{}</PSM><CurrentMedia></CurrentMedia></Data>", xml_escape("a<b & 'c'"));
        assert_eq!(xml_element(&psm, "PSM").as_deref(), Some("a<b & 'c'"));
        assert_eq!(
            xml_element("<Data><PSM>&#233;t&#xE9; &bogus;</PSM></Data>", "PSM").as_deref(),
            Some("été &bogus;")
        );
        assert_eq!(xml_element("<Data></Data>", "PSM"), None);
    }
}
