//! The MSNP gateway's parsers, as a classic client's bytes reach them: a command line
//! (`parse_line`: command, transaction id, arguments, the payload length of `MSG`,
//! `UUX`, `QRY`), and a switchboard `MSG` payload in MSN's dialect (`parse_msnp`: text
//! with MSN's `X-MMS-IM-Format`, its blue-green-red colour, typing, nudges as datacasts).
//!
//! Both modules are compiled from `crates/msnp/src` itself, like `media_control`: the
//! gateway crate depends on the Notification Server and Passport (sqlx, axum, rustls),
//! too heavy for this crate's cold build; these two need only `bytes`, `thiserror` and
//! `mocha-proto`.
#![no_main]

#[allow(dead_code)]
#[path = "../../crates/msnp/src/line.rs"]
mod line;

#[allow(dead_code)]
#[path = "../../crates/msnp/src/sb/payload.rs"]
mod payload;

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use mocha_proto::MessagePayload;
use mocha_proto::im::{ImPayload, TextFormat};

const LIMIT: usize = 8192;

fuzz_target!(|data: &[u8]| {
    // The first byte picks the parser, so one corpus holds seeds for both.
    let Some((&selector, data)) = data.split_first() else { return };
    if selector % 2 == 0 {
        command_line(data);
    } else {
        message(data);
    }
});

fn command_line(data: &[u8]) {
    let Ok((parsed, payload)) = line::parse_line(data, LIMIT) else { return };
    assert!(payload.is_none_or(|length| length <= LIMIT));
    assert_eq!(payload.is_some(), line::carries_payload(&parsed.command));
    // Words never hold the separator, and the line put back together parses the same.
    assert!(!parsed.command.contains(' ') && parsed.args.iter().all(|a| !a.is_empty() && !a.contains(' ')));
    let rebuilt = std::iter::once(parsed.command.as_str()).chain(parsed.args.iter().map(String::as_str));
    let rebuilt = rebuilt.collect::<Vec<_>>().join(" ");
    assert_eq!(line::parse_line(rebuilt.as_bytes(), LIMIT), Ok((parsed, payload)));
}

fn message(data: &[u8]) {
    let Ok(meaning) = payload::parse_msnp(Bytes::copy_from_slice(data), LIMIT) else { return };
    if meaning == ImPayload::Other {
        // Kept as the client's own bytes, for other classic clients only: no translation.
        assert!(payload::render_msnp(&meaning, "ann@example.org").is_none());
        return;
    }
    // What a classic client sent reaches Mocha Messenger with the same meaning.
    let mocha =
        MessagePayload::parse(meaning.to_message().to_bytes(), usize::MAX).expect("own encoding parses");
    assert_eq!(ImPayload::parse(&mocha), Ok(meaning.clone()));
    // And what the gateway writes to a classic client reads back the same, with the
    // defaults a classic client is always told (a font, a colour) filled in.
    let rendered = payload::render_msnp(&meaning, "ann@example.org").expect("text, typing and nudges render");
    let again = payload::parse_msnp(Bytes::from(rendered), usize::MAX).expect("own rendering parses");
    assert_eq!(again, with_classic_defaults(meaning));
}

fn with_classic_defaults(meaning: ImPayload) -> ImPayload {
    match meaning {
        ImPayload::Text { text, format } => ImPayload::Text {
            text,
            format: TextFormat {
                font: format.font.or_else(|| Some("Segoe UI".into())),
                color: format.color.or_else(|| Some("000000".into())),
                effects: format.effects,
            },
        },
        other => other,
    }
}
