//! The protocol monitor: an in-memory ring buffer of the lines a client sent and
//! received, for a "what is going on" window. Secrets (session and refresh tokens,
//! switchboard tickets, passwords) are redacted before a line is stored, payloads are
//! summarised rather than kept, and nothing here ever touches the disk.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::SystemTime;

use mocha_proto::Frame;

const REDACTED: &str = "***";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    Sent,
    Received,
}

/// Which connection a line belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Channel {
    Notification,
    Switchboard,
    Passport,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MonitorEntry {
    pub at: SystemTime,
    pub direction: Direction,
    pub channel: Channel,
    /// The line as it went over the wire, secrets replaced by `***`, a payload
    /// replaced by a summary such as `[text/plain; 12 bytes]`.
    pub line: String,
}

/// A bounded, shareable log of protocol lines; clones share one buffer.
#[derive(Clone, Debug)]
pub struct ProtocolMonitor {
    inner: Arc<Mutex<Ring>>,
}

#[derive(Debug)]
struct Ring {
    capacity: usize,
    entries: VecDeque<MonitorEntry>,
}

impl ProtocolMonitor {
    /// Keeps at most `capacity` lines; the oldest go first.
    pub fn new(capacity: usize) -> Self {
        let capacity = capacity.max(1);
        Self {
            inner: Arc::new(Mutex::new(Ring {
                capacity,
                entries: VecDeque::with_capacity(capacity.min(1024)),
            })),
        }
    }

    /// The stored lines, oldest first.
    pub fn entries(&self) -> Vec<MonitorEntry> {
        self.lock().entries.iter().cloned().collect()
    }

    pub fn clear(&self) {
        self.lock().entries.clear();
    }

    /// Records a MENP/1 frame: its line with secrets redacted, and a payload summary.
    pub fn record_frame(&self, direction: Direction, channel: Channel, frame: &Frame) {
        let mut line = format!("{} {}", frame.command, frame.trid);
        for arg in &frame.args {
            line.push(' ');
            line.push_str(arg);
        }
        let mut line = redact_line(&line);
        if let Some(payload) = &frame.payload {
            line.push(' ');
            line.push_str(&summarise_payload(frame.command.as_str(), payload));
        }
        self.push(direction, channel, line);
    }

    /// Records any other line (an HTTP request line, unchecked bytes), redacted first.
    pub fn record_line(&self, direction: Direction, channel: Channel, line: &str) {
        self.push(direction, channel, redact_line(line));
    }

    fn push(&self, direction: Direction, channel: Channel, line: String) {
        let entry = MonitorEntry { at: SystemTime::now(), direction, channel, line };
        let mut ring = self.lock();
        if ring.entries.len() == ring.capacity {
            ring.entries.pop_front();
        }
        ring.entries.push_back(entry);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Ring> {
        // A panic elsewhere never leaves the ring half-updated, so its data stays usable.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Replaces every secret in a protocol line with `***`: by position for the commands
/// that carry tokens and tickets, and by shape for anything token-like anywhere, so a
/// command this version does not know cannot leak one either.
pub fn redact_line(line: &str) -> String {
    let mut words: Vec<String> = line.split(' ').map(str::to_string).collect();
    let secret_positions: &[usize] = match words.first().map(String::as_str) {
        // NS `USR trid TOKEN <token>`; SB `USR trid <user> <ticket>`.
        Some("USR") if words.get(2).is_some_and(|w| w == "TOKEN") => &[3],
        Some("USR") if words.get(2).is_some_and(|w| w != "OK") => &[3],
        // SB `ANS trid <user> <ticket> <room>`; NS `XFR trid SB <addr> <ticket>`;
        // NS `RNG 0 <room> <addr> <ticket> …`.
        Some("ANS") => &[3],
        Some("XFR") => &[4],
        Some("RNG") => &[4],
        // SB `RLY 0 <call> <relay> <member> <bind-token> <media-key>`.
        Some("RLY") => &[5, 6],
        _ => &[],
    };
    for &position in secret_positions {
        if let Some(word) = words.get_mut(position) {
            *word = REDACTED.to_string();
        }
    }
    let mut redact_next = false;
    for word in words.iter_mut() {
        // Decided on the word as written: "Bearer" or "password" announce a secret.
        let lower = word.trim_end_matches(':').to_ascii_lowercase();
        let introduces_secret =
            matches!(lower.as_str(), "token" | "password" | "bearer" | "ticket" | "refresh_token");
        if redact_next || looks_secret(word) {
            *word = REDACTED.to_string();
        }
        redact_next = introduces_secret;
    }
    words.join(" ")
}

/// Signed tokens (`mst1.…`, `mtk1.…`), refresh tokens (43 base64url characters) and
/// `name=value` / JSON forms of passwords and tokens.
fn looks_secret(word: &str) -> bool {
    let lower = word.to_ascii_lowercase();
    let names_a_secret = ["password", "token", "ticket", "authorization"].iter().any(|key| {
        ["=", "\":", ":"].iter().any(|separator| {
            let form = format!("{key}{separator}");
            lower.find(&form).is_some_and(|at| at + form.len() < lower.len())
        })
    });
    if names_a_secret {
        return true;
    }
    let base64url = |b: u8| b.is_ascii_alphanumeric() || b"-_".contains(&b);
    let dotted =
        word.split('.').count() >= 3 && word.len() >= 20 && word.bytes().all(|b| base64url(b) || b == b'.');
    let opaque = word.len() >= 32 && word.bytes().all(base64url);
    dotted || opaque
}

/// What a payload was, never what it said: a chat line's words stay out of the monitor.
fn summarise_payload(command: &str, payload: &[u8]) -> String {
    if command == "MSG" {
        let content_type =
            mocha_proto::MessagePayload::parse(bytes::Bytes::copy_from_slice(payload), usize::MAX)
                .ok()
                .and_then(|m| m.content_type().map(|c| c.split(';').next().unwrap_or("").trim().to_string()));
        if let Some(content_type) = content_type {
            return format!("[{content_type}; {} bytes]", payload.len());
        }
    }
    format!("[{} bytes]", payload.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(line: &str, expected: &str) {
        assert_eq!(redact_line(line), expected, "redacting {line:?}");
    }

    #[test]
    fn tokens_and_tickets_are_redacted_by_position() {
        check("USR 2 TOKEN mst1.eyJzdWIiOiJ1MSJ9.Xk3b", "USR 2 TOKEN ***");
        check("USR 2 TOKEN short", "USR 2 TOKEN ***");
        check("USR 1 u1 mtk1.abc.def", "USR 1 u1 ***");
        check("USR 2 OK u1 alice@example.com Alice", "USR 2 OK u1 alice@example.com Alice");
        check("ANS 1 u2 tk room-7", "ANS 1 u2 *** room-7");
        check("XFR 6 SB chat.example.org:1864 t", "XFR 6 SB chat.example.org:1864 ***");
        check(
            "RNG 0 room-1 sb:1864 t u1 alice@example.com Alice",
            "RNG 0 room-1 sb:1864 *** u1 alice@example.com Alice",
        );
        check("RLY 0 call-1 chat:1865 3 tok k", "RLY 0 call-1 chat:1865 3 *** ***");
    }

    #[test]
    fn secrets_are_redacted_by_shape_anywhere() {
        let refresh = "Qm9iIGxpa2VzIGNvZmZlZSBhbmQgdGVhIGFuZCBtb3JlX19f";
        check(&format!("FOO 3 {refresh}"), "FOO 3 ***");
        check("POST /api/v1/sessions password=hunter22", "POST /api/v1/sessions ***");
        check("Authorization: Bearer abc", "Authorization: Bearer ***");
        check("alice@example.com chat.example.org:1864", "alice@example.com chat.example.org:1864");
        check(r#"{"password":"hunter22"}"#, "***");
        check("password: hunter22", "password: ***");
        check("CHG 4 NLN", "CHG 4 NLN");
    }

    #[test]
    fn frames_are_stored_redacted_with_payloads_summarised() {
        let monitor = ProtocolMonitor::new(2);
        let usr = Frame::new(mocha_proto::Command::USR, 2).arg("TOKEN").arg("mst1.eyJzdWIiOiJ1MSJ9.Xk3bQ");
        monitor.record_frame(Direction::Sent, Channel::Notification, &usr);
        let entries = monitor.entries();
        assert_eq!(entries[0].line, "USR 2 TOKEN ***");
        assert!(!format!("{entries:?}").contains("mst1"));

        let text = mocha_proto::MessagePayload::text("secret plans").to_bytes();
        let msg = Frame::new(mocha_proto::Command::MSG, 3).arg("A").with_payload(text.clone());
        monitor.record_frame(Direction::Sent, Channel::Switchboard, &msg);
        let line = &monitor.entries()[1].line;
        assert_eq!(line, &format!("MSG 3 A [text/plain; {} bytes]", text.len()));

        monitor.record_line(Direction::Received, Channel::Passport, "HTTP 200");
        let entries = monitor.entries();
        assert_eq!(entries.len(), 2, "bounded");
        assert_eq!(entries[1].line, "HTTP 200");
        assert_eq!(entries[0].direction, Direction::Sent);
    }
}
