//! `CAL`: invite someone into the conversation; the Notification Server rings them.

use mocha_auth::UserId;
use mocha_proto::sb::client::Cal;
use mocha_proto::sb::server;
use mocha_proto::{ErrorCode, Token};

use crate::RingFailure;
use crate::session::Session;

pub(crate) async fn call(session: &mut Session, cal: Cal) {
    let Some(member) = &session.member else { return };
    let (user, room_id) = (member.user, member.room.clone());
    let sb = session.sb.clone();
    let invitee = cal.invitee.as_str();
    let resolved = match invitee.parse::<UserId>() {
        Ok(id) => Some(id),
        Err(_) => sb.passport.find_user_id(invitee).await.ok().flatten(),
    };
    if let Some(id) = resolved {
        let rooms = sb.rooms();
        let room = rooms.get(&room_id);
        if room.is_some_and(|r| r.participants.contains_key(&id)) {
            return session.error(
                cal.trid,
                ErrorCode::InvalidArgument,
                "they are already in this conversation",
            );
        }
        if room.is_some_and(|r| r.participants.len() >= sb.config.max_participants) {
            return session.error(cal.trid, ErrorCode::NotAllowed, "this conversation is full");
        }
    }
    let outcome = sb.ringer.ring(user, invitee, &room_id).await;
    // Rung or offline, the conversation is now meant for them too: what is said while
    // nobody is here reaches them as an activity alert (Passport drops it if they block).
    let audience = match &outcome {
        Ok(callee) => Some(*callee),
        Err(RingFailure::Offline) => resolved,
        Err(_) => None,
    };
    if let Some(id) = audience
        && let Some(room) = sb.rooms().get_mut(&room_id)
    {
        room.audience.insert(id);
    }
    match outcome {
        Ok(_) => {
            let room_id = Token::new(room_id).expect("room ids are tokens");
            session.reply(server::Cal { trid: cal.trid, room_id }.into_frame());
        }
        Err(failure) => session.error(cal.trid, failure.error_code(), failure),
    }
}
