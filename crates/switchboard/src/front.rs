//! The seam between a conversation's rooms and the protocols its participants speak.
//!
//! A room (`room.rs`) keeps who is in it; each participant joined through a front — the
//! Switchboard's own MENP/1 connections ([`MenpRoomFront`]), or the MSNP gateway's
//! switchboard — and registered a [`RoomFront`] that renders [`RoomEvent`]s in that
//! protocol for its outbox. So one conversation can hold people on either protocol:
//! joins, leaves and messages are decided once, in the room core (`conversation.rs`),
//! under the same blocks, bans and limits, and each side hears them in its own words.

use bytes::{Bytes, BytesMut};
use mocha_auth::UserId;
use mocha_proto::OutReason;
use mocha_proto::im::ImPayload;
use mocha_proto::sb::server::{self, Bye, Joi};

/// A protocol a front speaks. A message is rendered once per protocol present in the
/// room, and the bytes are shared by every recipient speaking it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Protocol {
    Menp,
    Msnp,
}

/// Someone in a conversation, as every front may need to name them.
#[derive(Clone, Debug)]
pub struct Speaker {
    pub user: UserId,
    /// The sign-in address (an MSNP handle as it is).
    pub username: String,
    pub display_name: String,
    /// `MSG 0 <user> <display name> `: how MENP/1 relays their messages, up to the
    /// payload length — built once when they join, not per message (the hot path).
    pub menp_prefix: Bytes,
}

impl Speaker {
    pub fn new(user: UserId, username: String, display_name: String) -> Self {
        let menp_prefix = relay_prefix(user, &display_name);
        Self { user, username, display_name, menp_prefix }
    }
}

/// A message as the room core relays it.
#[derive(Debug)]
pub struct RoomMessage {
    /// What it means.
    pub meaning: ImPayload,
    /// Its MENP/1 payload (the canonical form: Mocha's own).
    pub payload: Bytes,
    /// The protocol it was sent in: a payload of a kind Mocha does not know
    /// ([`ImPayload::Other`]) is only relayed to participants speaking the same one.
    pub origin: Protocol,
}

/// Something one participant should hear about their conversation.
#[derive(Debug)]
pub enum RoomEvent<'a> {
    /// Someone joined.
    Joined(&'a Speaker),
    /// Someone left, or was taken out (`reason`).
    Left {
        who: &'a Speaker,
        reason: Option<&'a OutReason>,
    },
    Message {
        from: &'a Speaker,
        message: &'a RoomMessage,
    },
}

/// Renders room events for the participants who joined through one front.
pub trait RoomFront: Send + Sync + 'static {
    fn protocol(&self) -> Protocol;
    /// The event in wire form, or `None` when this protocol has no way to say it.
    fn render(&self, event: &RoomEvent<'_>) -> Option<Bytes>;
}

/// The Switchboard's own MENP/1 rendering.
pub struct MenpRoomFront;

impl RoomFront for MenpRoomFront {
    fn protocol(&self) -> Protocol {
        Protocol::Menp
    }

    fn render(&self, event: &RoomEvent<'_>) -> Option<Bytes> {
        Some(match event {
            RoomEvent::Joined(who) => {
                Joi { user_id: mocha_net::user_token(who.user), display_name: who.display_name.clone() }
                    .into_frame()
                    .to_bytes()
            }
            RoomEvent::Left { who, reason } => Bye {
                user_id: mocha_net::user_token(who.user),
                reason: reason.and_then(|r| mocha_proto::Token::new(r.code()).ok()),
            }
            .into_frame()
            .to_bytes(),
            RoomEvent::Message { from, message } => {
                if matches!(message.meaning, ImPayload::Other) && message.origin != Protocol::Menp {
                    return None;
                }
                relayed(&from.menp_prefix, &message.payload)
            }
        })
    }
}

/// `MSG 0 <user> <display name> `: the relayed frame's line up to the payload length,
/// exactly as [`server::Msg::into_frame`] encodes it.
pub(crate) fn relay_prefix(user: UserId, display_name: &str) -> Bytes {
    let frame = server::Msg {
        sender_id: mocha_net::user_token(user),
        sender_display_name: display_name.to_string(),
        payload: Bytes::new(),
    }
    .into_frame();
    let mut line = BytesMut::new();
    frame.encode_line(&mut line);
    // The line ends with the length of the empty payload, "0\r\n".
    line.truncate(line.len() - 3);
    line.freeze()
}

/// The relayed `MSG` in wire form, in one allocation.
pub(crate) fn relayed(prefix: &[u8], payload: &[u8]) -> Bytes {
    use std::fmt::Write as _;
    let mut wire = BytesMut::with_capacity(prefix.len() + 8 + payload.len());
    wire.extend_from_slice(prefix);
    // Formatting into the buffer allocates nothing.
    let _ = write!(wire, "{}\r\n", payload.len());
    wire.extend_from_slice(payload);
    wire.freeze()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_relayed_message_is_the_frame_the_protocol_encodes() {
        for (name, payload) in [("Alice Smith", &b"hi"[..]), ("100% Bob", &[b'x'; 300][..]), ("z", &b""[..])]
        {
            let expected = server::Msg {
                sender_id: mocha_net::user_token(UserId(42)),
                sender_display_name: name.to_string(),
                payload: Bytes::copy_from_slice(payload),
            }
            .into_frame()
            .to_bytes();
            assert_eq!(relayed(&relay_prefix(UserId(42), name), payload), expected, "{name}");
        }
    }
}
