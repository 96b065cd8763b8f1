//! `CAL`: invite someone into the conversation; the Notification Server rings them.

use mocha_proto::sb::client::Cal;
use mocha_proto::sb::server;
use mocha_proto::{ErrorCode, Token};

use crate::conversation::InviteError;
use crate::session::Session;

pub(crate) async fn call(session: &mut Session, cal: Cal) {
    let Some(member) = &session.member else { return };
    let (user, room_id) = (member.user, member.room.clone());
    let sb = session.sb.clone();
    match sb.invite(user, &room_id, cal.invitee.as_str()).await {
        Ok(()) => {
            let room_id = Token::new(room_id).expect("room ids are tokens");
            session.reply(server::Cal { trid: cal.trid, room_id }.into_frame());
        }
        Err(e) => {
            let code = match &e {
                InviteError::AlreadyHere => ErrorCode::InvalidArgument,
                InviteError::Full => ErrorCode::NotAllowed,
                InviteError::Ring(failure) => failure.error_code(),
            };
            session.error(cal.trid, code, e);
        }
    }
}
