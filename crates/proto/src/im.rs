//! What a `MSG` payload means: chat text with its font, typing, nudges, invitations,
//! call session control and file-transfer control — told apart by `Content-Type`.
//!
//! The Switchboard reads call and file control to know who may send media frames
//! and file chunks to whom; everything else it relays untouched.

use crate::message::{MessageHeaders, MessagePayload};

pub const CONTENT_TYPING: &str = "text/x-msmsgscontrol";
pub const CONTENT_NUDGE: &str = "text/x-mocha-nudge";
pub const CONTENT_INVITE: &str = "application/x-mocha-invite";
pub const CONTENT_CALL: &str = "application/x-mocha-call";
pub const CONTENT_FILE: &str = "application/x-mocha-file";
/// The MSN-style font header: `FN=Segoe%20UI; EF=BI; CO=ff0000`.
pub const FORMAT_HEADER: &str = "X-MMS-IM-Format";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImError {
    #[error("the message has no Content-Type")]
    MissingContentType,
    #[error("the message text is not UTF-8")]
    NotUtf8,
    #[error("header {0} is missing")]
    MissingHeader(&'static str),
    #[error("header {0} has an invalid value")]
    BadHeader(&'static str),
}

/// How a chat message looks: font name, colour (`rrggbb`) and effects (B, I, U, S).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TextFormat {
    pub font: Option<String>,
    pub color: Option<String>,
    pub effects: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallCommand {
    Invite,
    Accept,
    Decline,
    Cancel,
    Hangup,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallMedia {
    Audio,
    Video,
}

/// Voice or video call session control. The body (e.g. codec parameters) is opaque.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallControl {
    pub command: CallCommand,
    pub call_id: String,
    pub media: Option<CallMedia>,
    pub body: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileCommand {
    Offer,
    Accept,
    Decline,
    Cancel,
    Complete,
}

/// File-transfer control. An offer names the receiver, the file, its size and SHA-256.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileControl {
    pub command: FileCommand,
    pub transfer_id: String,
    pub to: Option<String>,
    pub name: Option<String>,
    pub size: Option<u64>,
    pub sha256: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImPayload {
    Text {
        text: String,
        format: TextFormat,
    },
    /// "X is typing…"; the header names who.
    Typing {
        user: String,
    },
    Nudge,
    /// An invitation to something in the conversation (an application, a game); relayed as is.
    Invitation {
        application: String,
        body: String,
    },
    Call(CallControl),
    File(FileControl),
    /// A content type this version does not know: relayed untouched.
    Other,
}

macro_rules! keyword_enum {
    ($ty:ident { $($variant:ident = $text:literal),+ $(,)? }) => {
        impl $ty {
            pub fn as_str(self) -> &'static str {
                match self { $($ty::$variant => $text),+ }
            }
            pub fn parse(text: &str) -> Option<Self> {
                match text { $($text => Some($ty::$variant),)+ _ => None }
            }
        }
    };
}

keyword_enum!(CallCommand { Invite = "INVITE", Accept = "ACCEPT", Decline = "DECLINE", Cancel = "CANCEL", Hangup = "HANGUP" });
keyword_enum!(CallMedia { Audio = "audio", Video = "video" });
keyword_enum!(FileCommand { Offer = "OFFER", Accept = "ACCEPT", Decline = "DECLINE", Cancel = "CANCEL", Complete = "COMPLETE" });

fn required<'a>(message: &'a impl MessageHeaders, name: &'static str) -> Result<&'a str, ImError> {
    message.header(name).ok_or(ImError::MissingHeader(name))
}

fn body(message: &impl MessageHeaders) -> Result<String, ImError> {
    message.body_text().map(str::to_owned).ok_or(ImError::NotUtf8)
}

impl TextFormat {
    fn parse(header: &str) -> Self {
        let mut format = TextFormat::default();
        for part in header.split(';') {
            let Some((key, value)) = part.trim().split_once('=') else { continue };
            match key {
                "FN" => format.font = crate::decode_text(value).ok().filter(|f| !f.is_empty()),
                "CO" if value.len() == 6 && value.bytes().all(|b| b.is_ascii_hexdigit()) => {
                    format.color = Some(value.to_ascii_lowercase())
                }
                "EF" => format.effects = value.chars().filter(|c| "BIUS".contains(*c)).collect(),
                _ => {}
            }
        }
        format
    }

    fn to_header(&self) -> Option<String> {
        if *self == TextFormat::default() {
            return None;
        }
        let mut parts = Vec::new();
        if let Some(font) = &self.font {
            parts.push(format!("FN={}", crate::encode_text(font)));
        }
        if !self.effects.is_empty() {
            parts.push(format!("EF={}", self.effects));
        }
        if let Some(color) = &self.color {
            parts.push(format!("CO={color}"));
        }
        Some(parts.join("; "))
    }
}

impl ImPayload {
    /// Reads what a message means. The content type decides; its parameters are ignored.
    pub fn parse(message: &impl MessageHeaders) -> Result<Self, ImError> {
        let content_type = message.content_type().ok_or(ImError::MissingContentType)?;
        let mime = content_type.split(';').next().unwrap_or("").trim();
        let is = |known: &str| mime.eq_ignore_ascii_case(known);
        Ok(if is("text/plain") {
            ImPayload::Text {
                text: body(message)?,
                format: message.header(FORMAT_HEADER).map(TextFormat::parse).unwrap_or_default(),
            }
        } else if is(CONTENT_TYPING) {
            ImPayload::Typing { user: required(message, "TypingUser")?.to_owned() }
        } else if is(CONTENT_NUDGE) {
            ImPayload::Nudge
        } else if is(CONTENT_INVITE) {
            ImPayload::Invitation {
                application: required(message, "Application")?.to_owned(),
                body: body(message)?,
            }
        } else if is(CONTENT_CALL) {
            ImPayload::Call(CallControl {
                command: CallCommand::parse(required(message, "Call-Command")?)
                    .ok_or(ImError::BadHeader("Call-Command"))?,
                call_id: id(required(message, "Call-ID")?, "Call-ID")?,
                media: match message.header("Media") {
                    Some(media) => Some(CallMedia::parse(media).ok_or(ImError::BadHeader("Media"))?),
                    None => None,
                },
                body: body(message)?,
            })
        } else if is(CONTENT_FILE) {
            ImPayload::File(FileControl {
                command: FileCommand::parse(required(message, "File-Command")?)
                    .ok_or(ImError::BadHeader("File-Command"))?,
                transfer_id: id(required(message, "Transfer-ID")?, "Transfer-ID")?,
                to: message.header("To").map(str::to_owned),
                name: message.header("File-Name").map(str::to_owned),
                size: match message.header("File-Size") {
                    Some(size) => Some(size.parse().map_err(|_| ImError::BadHeader("File-Size"))?),
                    None => None,
                },
                sha256: message.header("File-SHA256").map(str::to_ascii_lowercase),
            })
        } else {
            ImPayload::Other
        })
    }

    /// The message to send. `Other` has no form of its own and gives an empty text message.
    pub fn to_message(&self) -> MessagePayload {
        let mut message = MessagePayload::default();
        match self {
            ImPayload::Text { text, format } => {
                message = MessagePayload::text(text);
                if let Some(header) = format.to_header() {
                    message = message.with_header(FORMAT_HEADER, header);
                }
            }
            ImPayload::Typing { user } => {
                message = message.with_header("Content-Type", CONTENT_TYPING).with_header("TypingUser", user);
            }
            ImPayload::Nudge => message = message.with_header("Content-Type", CONTENT_NUDGE),
            ImPayload::Invitation { application, body } => {
                message = message
                    .with_header("Content-Type", CONTENT_INVITE)
                    .with_header("Application", application);
                message.body = body.clone().into();
            }
            ImPayload::Call(call) => {
                message = message
                    .with_header("Content-Type", CONTENT_CALL)
                    .with_header("Call-Command", call.command.as_str())
                    .with_header("Call-ID", &call.call_id);
                if let Some(media) = call.media {
                    message = message.with_header("Media", media.as_str());
                }
                message.body = call.body.clone().into();
            }
            ImPayload::File(file) => {
                message = message
                    .with_header("Content-Type", CONTENT_FILE)
                    .with_header("File-Command", file.command.as_str())
                    .with_header("Transfer-ID", &file.transfer_id);
                for (name, value) in
                    [("To", &file.to), ("File-Name", &file.name), ("File-SHA256", &file.sha256)]
                {
                    if let Some(value) = value {
                        message = message.with_header(name, value);
                    }
                }
                if let Some(size) = file.size {
                    message = message.with_header("File-Size", size.to_string());
                }
            }
            ImPayload::Other => message = MessagePayload::text(""),
        }
        message
    }
}

/// Call and transfer ids travel as protocol arguments too, so they must be tokens.
fn id(value: &str, header: &'static str) -> Result<String, ImError> {
    let ok = !value.is_empty()
        && value.len() <= 64
        && value.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b));
    if ok { Ok(value.to_owned()) } else { Err(ImError::BadHeader(header)) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(payload: ImPayload) {
        let bytes = payload.to_message().to_bytes();
        let parsed = MessagePayload::parse(bytes, 65536).unwrap();
        assert_eq!(ImPayload::parse(&parsed).unwrap(), payload);
    }

    #[test]
    fn every_kind_round_trips() {
        round_trip(ImPayload::Text { text: "hi there 😀".into(), format: TextFormat::default() });
        round_trip(ImPayload::Text {
            text: "bold red".into(),
            format: TextFormat {
                font: Some("Comic Sans MS".into()),
                color: Some("ff0000".into()),
                effects: "BI".into(),
            },
        });
        round_trip(ImPayload::Typing { user: "u1".into() });
        round_trip(ImPayload::Nudge);
        round_trip(ImPayload::Invitation { application: "tictactoe".into(), body: "board=.........".into() });
        round_trip(ImPayload::Call(CallControl {
            command: CallCommand::Invite,
            call_id: "c-1".into(),
            media: Some(CallMedia::Video),
            body: "codec=opus".into(),
        }));
        round_trip(ImPayload::File(FileControl {
            command: FileCommand::Offer,
            transfer_id: "t1".into(),
            to: Some("u2".into()),
            name: Some("holiday photo.jpg".into()),
            size: Some(5_000_000),
            sha256: Some("ab".repeat(32)),
        }));
    }

    #[test]
    fn malformed_control_is_an_error_and_unknown_types_pass() {
        let call = MessagePayload::default()
            .with_header("Content-Type", CONTENT_CALL)
            .with_header("Call-Command", "RING");
        assert_eq!(ImPayload::parse(&call), Err(ImError::BadHeader("Call-Command")));
        let file = MessagePayload::default()
            .with_header("Content-Type", CONTENT_FILE)
            .with_header("File-Command", "OFFER")
            .with_header("Transfer-ID", "has space");
        assert_eq!(ImPayload::parse(&file), Err(ImError::BadHeader("Transfer-ID")));
        let odd = MessagePayload::default().with_header("Content-Type", "application/x-something");
        assert_eq!(ImPayload::parse(&odd), Ok(ImPayload::Other));
        assert_eq!(ImPayload::parse(&MessagePayload::default()), Err(ImError::MissingContentType));
        let bad_colour = MessagePayload::text("x").with_header(FORMAT_HEADER, "CO=zzzzzz; EF=BQ");
        let ImPayload::Text { format, .. } = ImPayload::parse(&bad_colour).unwrap() else { panic!() };
        assert_eq!(format, TextFormat { font: None, color: None, effects: "B".into() });
    }
}
