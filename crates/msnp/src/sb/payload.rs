//! `MSG` payloads between MSNP's dialect and Mocha's. Pure: no I/O.
//!
//! Both are MIME-like (`Name: value` headers, a blank line, a body) and share the
//! content types for text and typing; they differ in the details that matter:
//! MSN's `X-MMS-IM-Format` colour is blue-green-red hex with leading zeros dropped
//! (`CO=ff` is red) where Mocha's is `rrggbb`; MSN's `TypingUser` is the handle,
//! Mocha's the user id; a nudge is MSN's `text/x-msnmsgr-datacast` with `ID: 1` and
//! Mocha's `text/x-mocha-nudge`; msnp11-sdk reads the header lines by position, so a
//! payload to a classic client starts `MIME-Version: 1.0` with `Content-Type` second
//! and the format (or `TypingUser`) third.

use bytes::Bytes;
use mocha_proto::im::{FORMAT_HEADER, ImPayload, TextFormat};
use mocha_proto::{MessageError, MessagePayload, decode_text, encode_text};

pub const CONTENT_DATACAST: &str = "text/x-msnmsgr-datacast";
/// The font a classic client is told when a Mocha message names none.
const DEFAULT_FONT: &str = "Segoe UI";

/// Why a client's `MSG` payload was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PayloadError {
    #[error(transparent)]
    Malformed(#[from] MessageError),
    #[error("the message has no Content-Type")]
    NoContentType,
    #[error("the message text is not UTF-8")]
    NotText,
}

/// What a classic client's `MSG` payload means, in Mocha's terms: text with its font,
/// typing (the typing user is filled in by the caller: never trusted from the client),
/// a nudge; anything else (MSN's P2P, ink, winks…) is [`ImPayload::Other`].
pub fn parse_msnp(payload: Bytes, max: usize) -> Result<ImPayload, PayloadError> {
    let message = MessagePayload::parse(payload, max)?;
    let content_type = message.content_type().ok_or(PayloadError::NoContentType)?;
    let mime = content_type.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    Ok(match mime.as_str() {
        "text/plain" => ImPayload::Text {
            text: message.body_text().ok_or(PayloadError::NotText)?.to_string(),
            format: message.header(FORMAT_HEADER).map(parse_format).unwrap_or_default(),
        },
        mocha_proto::im::CONTENT_TYPING => ImPayload::Typing { user: String::new() },
        CONTENT_DATACAST if datacast_id(&message.body) == Some("1") => ImPayload::Nudge,
        _ => ImPayload::Other,
    })
}

/// A datacast's `ID: n` (the body is itself one header block).
fn datacast_id(body: &[u8]) -> Option<&str> {
    let text = std::str::from_utf8(body).ok()?;
    text.lines().find_map(|line| line.strip_prefix("ID:")).map(str::trim)
}

/// MSN's `X-MMS-IM-Format` (`FN=Arial; EF=BI; CO=ff; CS=0; PF=22`) as Mocha's format.
pub fn parse_format(header: &str) -> TextFormat {
    let mut format = TextFormat::default();
    for part in header.split(';') {
        let Some((key, value)) = part.trim().split_once('=') else { continue };
        match key {
            "FN" => {
                format.font =
                    decode_text(value).ok().filter(|f| !f.is_empty() && !f.chars().any(char::is_control))
            }
            "EF" => format.effects = value.chars().filter(|c| "BIUS".contains(*c)).collect(),
            "CO" => format.color = bgr_to_rgb(value),
            _ => {}
        }
    }
    format
}

/// MSN's colour (blue-green-red hex, up to six digits) as `rrggbb`.
fn bgr_to_rgb(value: &str) -> Option<String> {
    if value.is_empty() || value.len() > 6 || !value.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let bgr = u32::from_str_radix(value, 16).ok()?;
    let (red, green, blue) = (bgr & 0xff, (bgr >> 8) & 0xff, (bgr >> 16) & 0xff);
    Some(format!("{red:02x}{green:02x}{blue:02x}"))
}

/// Mocha's `rrggbb` as MSN's colour.
fn rgb_to_bgr(rgb: &str) -> String {
    let value = u32::from_str_radix(rgb, 16).unwrap_or(0);
    let (red, green, blue) = ((value >> 16) & 0xff, (value >> 8) & 0xff, value & 0xff);
    format!("{:x}", (blue << 16) | (green << 8) | red)
}

/// Mocha's format as MSN's `X-MMS-IM-Format` (always all three of `FN`, `EF`, `CO`, in
/// that order: msnp11-sdk reads them by position).
pub fn format_header(format: &TextFormat) -> String {
    let font = encode_text(format.font.as_deref().unwrap_or(DEFAULT_FONT));
    let color = format.color.as_deref().map(rgb_to_bgr).unwrap_or_else(|| "0".into());
    format!("FN={font}; EF={}; CO={color}; CS=0; PF=0", format.effects)
}

/// A message as a classic client receives it; `None` for what MSNP cannot say
/// (Mocha's invitations, calls and file transfers). `handle` is the sender's.
pub fn render_msnp(meaning: &ImPayload, handle: &str) -> Option<String> {
    let mut out = String::from("MIME-Version: 1.0\r\n");
    match meaning {
        ImPayload::Text { text, format } => {
            out.push_str("Content-Type: text/plain; charset=UTF-8\r\n");
            out.push_str(&format!("{FORMAT_HEADER}: {}\r\n\r\n", format_header(format)));
            out.push_str(text);
        }
        ImPayload::Typing { .. } => {
            out.push_str("Content-Type: text/x-msmsgscontrol\r\n");
            out.push_str(&format!("TypingUser: {handle}\r\n\r\n\r\n"));
        }
        ImPayload::Nudge => out.push_str("Content-Type: text/x-msnmsgr-datacast\r\n\r\nID: 1\r\n\r\n"),
        ImPayload::Invitation { .. } | ImPayload::Call(_) | ImPayload::File(_) | ImPayload::Other => {
            return None;
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(payload: &str) -> Result<ImPayload, PayloadError> {
        parse_msnp(Bytes::copy_from_slice(payload.as_bytes()), 4096)
    }

    #[test]
    fn classic_payloads_mean_what_mocha_means() {
        let text = "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\nX-MMS-IM-Format: FN=Comic%20Sans%20MS; EF=BI; CO=ff; CS=0; PF=22\r\n\r\nhi there";
        let format = TextFormat {
            font: Some("Comic Sans MS".into()),
            color: Some("ff0000".into()),
            effects: "BI".into(),
        };
        assert_eq!(parse(text), Ok(ImPayload::Text { text: "hi there".into(), format }));
        let typing = "MIME-Version: 1.0\r\nContent-Type: text/x-msmsgscontrol\r\nTypingUser: ann@example.org\r\n\r\n\r\n";
        assert_eq!(parse(typing), Ok(ImPayload::Typing { user: String::new() }));
        let nudge = "MIME-Version: 1.0\r\nContent-Type: text/x-msnmsgr-datacast\r\n\r\nID: 1\r\n\r\n";
        assert_eq!(parse(nudge), Ok(ImPayload::Nudge));
        let wink = "MIME-Version: 1.0\r\nContent-Type: text/x-msnmsgr-datacast\r\n\r\nID: 2\r\n\r\n";
        assert_eq!(parse(wink), Ok(ImPayload::Other));
        let p2p = "MIME-Version: 1.0\r\nContent-Type: application/x-msnmsgrp2p\r\nP2P-Dest: bob@example.org\r\n\r\n\0\0";
        assert_eq!(parse(p2p), Ok(ImPayload::Other));
        assert_eq!(parse("MIME-Version: 1.0\r\n\r\nhi"), Err(PayloadError::NoContentType));
        assert!(matches!(parse("no headers at all"), Err(PayloadError::Malformed(_))));
    }

    #[test]
    fn colours_are_blue_green_red_and_round_trip() {
        assert_eq!(bgr_to_rgb("ff").as_deref(), Some("ff0000"));
        assert_eq!(bgr_to_rgb("ff0000").as_deref(), Some("0000ff"));
        assert_eq!(bgr_to_rgb("0").as_deref(), Some("000000"));
        assert_eq!(bgr_to_rgb("1234567"), None);
        assert_eq!(bgr_to_rgb("zz"), None);
        for rgb in ["ff0000", "00ff00", "0000ff", "123456", "000000"] {
            assert_eq!(bgr_to_rgb(&rgb_to_bgr(rgb)).as_deref(), Some(rgb));
        }
        let format = TextFormat {
            font: Some("Arial Black".into()),
            color: Some("00ff80".into()),
            effects: "U".into(),
        };
        assert_eq!(format_header(&format), "FN=Arial%20Black; EF=U; CO=80ff00; CS=0; PF=0");
        assert_eq!(parse_format(&format_header(&format)), format);
    }

    #[test]
    fn what_a_classic_client_receives() {
        let text = ImPayload::Text { text: "yo".into(), format: TextFormat::default() };
        assert_eq!(
            render_msnp(&text, "ann@example.org").unwrap(),
            "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\nX-MMS-IM-Format: FN=Segoe%20UI; EF=; CO=0; CS=0; PF=0\r\n\r\nyo"
        );
        let typing = render_msnp(&ImPayload::Typing { user: "u9".into() }, "ann@example.org").unwrap();
        assert_eq!(
            typing.lines().nth(2),
            Some("TypingUser: ann@example.org"),
            "the sender's handle, by position"
        );
        let nudge = render_msnp(&ImPayload::Nudge, "ann@example.org").unwrap();
        assert_eq!(parse(&nudge), Ok(ImPayload::Nudge));
        assert_eq!(render_msnp(&ImPayload::Other, "ann@example.org"), None);
    }
}
