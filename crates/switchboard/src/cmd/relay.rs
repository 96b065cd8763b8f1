//! `MED` (call media) and `FIL` (file chunks): bulk traffic on each receiver's bulk lane.
//! Media is dropped for a receiver who cannot keep up; file chunks wait for room, which
//! slows the sender down, and a receiver stuck for too long ends the transfer.

use mocha_proto::ErrorCode;
use mocha_proto::sb::client::{Fil, Med};
use mocha_proto::sb::server;

use crate::session::Session;

pub(crate) fn media(session: &mut Session, med: Med) {
    let Some(member) = &session.member else { return };
    let sb = session.sb.clone();
    let rooms = sb.rooms();
    let Some(room) = rooms.get(&member.room) else {
        return session.error(med.trid, ErrorCode::NotInConversation, "the conversation has ended");
    };
    let targets = match room.media_targets(member.user, med.call_id.as_str()) {
        Ok(targets) => targets,
        Err(e) => return session.error(med.trid, e.error_code(), e),
    };
    let frame = server::Med {
        sender_id: mocha_net::user_token(member.user),
        call_id: med.call_id,
        payload: med.payload,
    }
    .into_frame();
    for to in targets {
        if let Some(outbox) = room.outbox(to) {
            outbox.push_media(frame.clone());
        }
    }
}

pub(crate) async fn file_chunk(session: &mut Session, fil: Fil) {
    let Some(member) = &session.member else { return };
    let (user, room_id) = (member.user, member.room.clone());
    let sb = session.sb.clone();
    let receiver = {
        let mut rooms = sb.rooms();
        let Some(room) = rooms.get_mut(&room_id) else {
            return session.error(fil.trid, ErrorCode::NotInConversation, "the conversation has ended");
        };
        match room.file_chunk(user, fil.transfer_id.as_str(), fil.offset, fil.payload.len() as u64) {
            Ok(to) => room.outbox(to).cloned(),
            Err(e) => return session.error(fil.trid, e.error_code(), e),
        }
    };
    let Some(receiver) = receiver else { return };
    let transfer_id = fil.transfer_id.as_str().to_string();
    let frame = server::Fil {
        sender_id: mocha_net::user_token(user),
        transfer_id: fil.transfer_id,
        offset: fil.offset,
        payload: fil.payload,
    }
    .into_frame();
    match tokio::time::timeout(sb.config.chunk_wait, receiver.send_bulk(frame)).await {
        Ok(true) => {}
        Ok(false) | Err(_) => {
            if let Some(room) = sb.rooms().get_mut(&room_id) {
                room.cancel_transfer(&transfer_id);
            }
            session.error(
                fil.trid,
                ErrorCode::QueueOverflow,
                "the receiver is not keeping up; the transfer was cancelled",
            );
        }
    }
}
