//! `MED` (call media, handed to the [`crate::relay::Relay`] like a datagram) and `FIL`
//! (file chunks): bulk traffic on each receiver's bulk lane.
//! Media is dropped for a receiver who cannot keep up; file chunks wait for room, which
//! slows the sender down, and a receiver stuck for too long ends the transfer (both
//! sides are told).

use mocha_proto::ErrorCode;
use mocha_proto::im::{FileCommand, FileControl, ImPayload};
use mocha_proto::sb::client::{Fil, Med};
use mocha_proto::sb::server;

use crate::front::relayed;
use crate::relay::TlsMediaError;
use crate::session::Session;

pub(crate) fn media(session: &mut Session, med: Med) {
    let Some(member) = &session.member else { return };
    let sb = session.sb.clone();
    let rooms = sb.rooms();
    let Some(room) = rooms.get(&member.room) else {
        return session.error(med.trid, ErrorCode::NotInConversation, "the conversation has ended");
    };
    if let Err(e) = room.media_targets(member.user, med.call_id.as_str()) {
        return session.error(med.trid, e.error_code(), e);
    }
    // The same checks and forwarding as a datagram: members on UDP get it by UDP.
    if let Err(e) = sb.relay.media_from_tls(&member.room, med.call_id.as_str(), member.user, &med.payload) {
        let code = match e {
            TlsMediaError::Oversize(_) => ErrorCode::PayloadTooLarge,
            TlsMediaError::Malformed(_) | TlsMediaError::Forged => ErrorCode::InvalidArgument,
            TlsMediaError::NotAMember => ErrorCode::NotAllowed,
        };
        session.error(med.trid, code, e);
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
    let bytes = fil.payload.len() as u64;
    let frame = server::Fil {
        sender_id: mocha_net::user_token(user),
        transfer_id: fil.transfer_id,
        offset: fil.offset,
        payload: fil.payload,
    }
    .into_frame();
    match tokio::time::timeout(sb.config.chunk_wait, receiver.send_bulk(frame)).await {
        Ok(true) => metrics::counter!("mocha_file_bytes_relayed_total").increment(bytes),
        Ok(false) | Err(_) => {
            let cancelled =
                sb.rooms().get_mut(&room_id).is_some_and(|room| room.cancel_transfer(&transfer_id));
            if let (true, Some(member)) = (cancelled, &session.member) {
                // The receiver hears of it too, so its partial file is not left waiting
                // for ever. This goes ahead of the chunks still queued for it, which
                // its client then ignores as belonging to no transfer.
                let cancel = FileControl {
                    command: FileCommand::Cancel,
                    transfer_id,
                    to: None,
                    name: None,
                    size: None,
                    sha256: None,
                };
                let payload = ImPayload::File(cancel).to_message().to_bytes();
                receiver.push_wire(relayed(&member.speaker.menp_prefix, &payload));
            }
            session.error(
                fil.trid,
                ErrorCode::QueueOverflow,
                "the receiver is not keeping up; the transfer was cancelled",
            );
        }
    }
}
