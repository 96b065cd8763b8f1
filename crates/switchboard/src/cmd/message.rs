//! `MSG`: chat text, typing, nudges, invitations, call and file control — relayed to
//! the others in the room, never stored. Text that reaches nobody becomes an activity
//! alert for the people the conversation was meant for.

use mocha_auth::UserId;
use mocha_proto::im::ImPayload;
use mocha_proto::sb::client::{AckMode, Msg};
use mocha_proto::sb::server::{self, Ack, Nak};
use mocha_proto::{ErrorCode, MessagePayload};

use crate::session::Session;

pub(crate) async fn send(session: &mut Session, msg: Msg) {
    let Some(member) = &session.member else { return };
    let (user, room_id, display_name) = (member.user, member.room.clone(), member.display_name.clone());
    let sb = session.sb.clone();
    let trid = msg.trid;
    if !session.message_limiter.take() {
        return session.error(trid, ErrorCode::RateLimited, "too many messages; slow down");
    }
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

    let mut payload = msg.payload;
    let (delivered, missed) = {
        let mut rooms = sb.rooms();
        let Some(room) = rooms.get_mut(&room_id) else {
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
        let recipients: Vec<UserId> = match recipients {
            Ok(recipients) => recipients.into_iter().filter(|&to| room.can_reach(user, to)).collect(),
            Err(e) => return session.error(trid, e.error_code(), e),
        };
        if let ImPayload::Call(_) = &meaning {
            // Before anyone hears of a hang-up, the relay has forgotten the member.
            sb.sync_relay(&room_id, room);
        }
        let frame = server::Msg {
            sender_id: mocha_net::user_token(user),
            sender_display_name: display_name,
            payload,
        }
        .into_frame();
        for to in &recipients {
            if let Some(outbox) = room.outbox(*to) {
                outbox.push(frame.clone());
            }
        }
        let missed: Vec<UserId> = match &meaning {
            ImPayload::Text { .. } if recipients.is_empty() => room
                .audience
                .iter()
                .copied()
                .filter(|&u| u != user && !room.participants.contains_key(&u))
                .collect(),
            _ => Vec::new(),
        };
        (!recipients.is_empty(), missed)
    };

    if let ImPayload::Text { text, .. } = &meaning {
        for recipient in missed {
            if let Err(e) = sb.passport.file_alert(recipient, "message", user, text).await {
                tracing::warn!(user = %user, recipient = %recipient, error = %e, "could not file an activity alert");
            }
        }
    }
    match (msg.ack, delivered) {
        (AckMode::Always, true) => session.reply(Ack { trid }.into_frame()),
        (AckMode::Always | AckMode::NakOnly, false) => session.reply(Nak { trid }.into_frame()),
        _ => {}
    }
}
