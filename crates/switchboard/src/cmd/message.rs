//! `MSG`: chat text, typing, nudges, invitations, call and file control — relayed to
//! the others in the room, never stored. Text that reaches nobody becomes an activity
//! alert for the people the conversation was meant for; if that alert cannot be
//! stored (a full disk), the sender gets an error instead of the `NAK` that promises it.

use std::fmt::Write as _;

use bytes::{Bytes, BytesMut};
use mocha_auth::UserId;
use mocha_net::Outbox;
use mocha_passport::PassportError;
use mocha_proto::im::ImPayload;
use mocha_proto::sb::client::{AckMode, Msg};
use mocha_proto::sb::server::{self, Ack, Nak};
use mocha_proto::{ErrorCode, MessagePayload};

use crate::session::Session;

pub(crate) async fn send(session: &mut Session, msg: Msg) {
    let trid = msg.trid;
    if session.member.is_none() {
        return;
    }
    if !session.message_limiter.take() {
        return session.error(trid, ErrorCode::RateLimited, "too many messages; slow down");
    }
    // Borrowed, not cloned: nothing below changes the session.
    let Some(member) = &session.member else { return };
    let (user, sb) = (member.user, &session.sb);
    let message = match MessagePayload::parse(msg.payload.clone(), sb.config.limits.max_payload) {
        Ok(message) => message,
        Err(e) => return session.error(trid, ErrorCode::InvalidArgument, e),
    };
    let meaning = match ImPayload::parse(&message) {
        Ok(meaning) => meaning,
        Err(e) => return session.error(trid, ErrorCode::InvalidArgument, e),
    };
    if let ImPayload::Text { text, .. } = &meaning
        && text.len() > sb.config.max_text_bytes
    {
        let limit = sb.config.max_text_bytes;
        return session.error(
            trid,
            ErrorCode::PayloadTooLarge,
            format!("messages are limited to {limit} bytes"),
        );
    }
    metrics::counter!("mocha_switchboard_messages_total").increment(1);

    let mut payload = msg.payload;
    let (outboxes, missed) = {
        let mut rooms = sb.rooms();
        let Some(room) = rooms.get_mut(&member.room) else {
            return session.error(trid, ErrorCode::NotInConversation, "the conversation has ended");
        };
        let recipients = match &meaning {
            ImPayload::Call(control) => room.call_control(user, control),
            ImPayload::File(control) => {
                let mut control = control.clone();
                let to = room.file_control(user, &mut control);
                // The server may have filled in the recipient; send the normalised form.
                payload = ImPayload::File(control).to_message().to_bytes();
                to.map(|to| vec![to])
            }
            _ => Ok(room.reachable(user)),
        };
        let mut recipients: Vec<UserId> = match recipients {
            Ok(recipients) => recipients,
            Err(e) => return session.error(trid, e.error_code(), e),
        };
        recipients.retain(|&to| room.can_reach(user, to));
        if let ImPayload::Call(_) = &meaning {
            // Before anyone hears of a hang-up, the relay has forgotten the member.
            sb.sync_relay(&member.room, room);
        }
        // Pushed once the rooms are unlocked: a push may encrypt and write to the
        // recipient's socket on the spot.
        let outboxes: Vec<Outbox> = recipients.iter().filter_map(|&to| room.outbox(to).cloned()).collect();
        let missed: Vec<UserId> = match &meaning {
            ImPayload::Text { .. } if recipients.is_empty() => room
                .audience
                .iter()
                .copied()
                .filter(|&u| u != user && !room.participants.contains_key(&u))
                .collect(),
            _ => Vec::new(),
        };
        (outboxes, missed)
    };
    let delivered = !outboxes.is_empty();
    if delivered {
        // Encoded once; every recipient's queue shares the same bytes.
        let wire = relayed(&member.relay_prefix, &payload);
        metrics::counter!("mocha_switchboard_deliveries_total").increment(outboxes.len() as u64);
        for outbox in &outboxes {
            outbox.push_wire(wire.clone());
        }
    }

    if let ImPayload::Text { text, .. } = &meaning {
        // A NAK promises the sender an alert; if one could not be kept they hear so.
        let mut unfiled = None;
        for recipient in missed {
            if let Err(e) = sb.passport.file_alert(recipient, "message", user, text).await {
                tracing::warn!(user = %user, recipient = %recipient, error = ?e, "could not file an activity alert");
                unfiled.get_or_insert(e);
            }
        }
        if let Some(e) = unfiled {
            let (code, why) = match e {
                PassportError::StorageFull(_) => (ErrorCode::StorageFull, "the server's storage is full"),
                PassportError::StorageUnavailable(_) => (
                    ErrorCode::ServerBusy,
                    "the server's database cannot be reached just now; try again soon",
                ),
                _ => (ErrorCode::InternalError, "the server failed"),
            };
            return session.error(
                trid,
                code,
                format!("nobody received the message, and it could not be kept as an activity alert: {why}"),
            );
        }
    }
    match (msg.ack, delivered) {
        (AckMode::Always, true) => session.reply(Ack { trid }.into_frame()),
        (AckMode::Always | AckMode::NakOnly, false) => session.reply(Nak { trid }.into_frame()),
        _ => {}
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
fn relayed(prefix: &[u8], payload: &[u8]) -> Bytes {
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
