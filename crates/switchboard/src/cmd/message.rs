//! `MSG`: chat text, typing, nudges, invitations, call and file control — relayed by
//! the room core to the others in the room, never stored. Text that reaches nobody
//! becomes an activity alert for the people the conversation was meant for; if that
//! alert cannot be stored (a full disk), the sender gets an error instead of the `NAK`
//! that promises it.

use mocha_proto::im::ImPayload;
use mocha_proto::sb::client::{AckMode, Msg};
use mocha_proto::sb::server::{Ack, Nak};
use mocha_proto::{ErrorCode, MessageView};

use crate::conversation::{AlertFailure, SendError};
use crate::front::{Protocol, RoomMessage};
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
    let sb = &session.sb;
    // Read in place: the relay copies none of the headers.
    let view = match MessageView::parse(&msg.payload, sb.config.limits.max_payload) {
        Ok(view) => view,
        Err(e) => return session.error(trid, ErrorCode::InvalidArgument, e),
    };
    let meaning = match ImPayload::parse(&view) {
        Ok(meaning) => meaning,
        Err(e) => return session.error(trid, ErrorCode::InvalidArgument, e),
    };
    let message = RoomMessage { meaning, payload: msg.payload, origin: Protocol::Menp };
    let delivered = match sb.send(&member.speaker, &member.room, message).await {
        Ok(sent) => sent.delivered,
        Err(e) => return session.error(trid, send_error_code(&e), e),
    };
    match (msg.ack, delivered) {
        (AckMode::Always, true) => session.reply(Ack { trid }.into_frame()),
        (AckMode::Always | AckMode::NakOnly, false) => session.reply(Nak { trid }.into_frame()),
        _ => {}
    }
}

fn send_error_code(error: &SendError) -> ErrorCode {
    match error {
        SendError::TooLong { .. } => ErrorCode::PayloadTooLarge,
        SendError::Ended => ErrorCode::NotInConversation,
        SendError::Room(e) => e.error_code(),
        SendError::AlertNotKept(AlertFailure::StorageFull) => ErrorCode::StorageFull,
        SendError::AlertNotKept(AlertFailure::Unavailable) => ErrorCode::ServerBusy,
        SendError::AlertNotKept(AlertFailure::Internal) => ErrorCode::InternalError,
    }
}
