//! `USR` (the caller opens or rejoins a room) and `ANS` (an invited user answers a ring).

use std::sync::Arc;

use mocha_auth::UserId;
use mocha_proto::ErrorCode;
use mocha_proto::sb::client::{Ans, Usr};
use mocha_proto::sb::server::{self, Iro};

use crate::conversation::{Claim, JoinError, JoinRequest};
use crate::front::MenpRoomFront;
use crate::session::{Member, Session};

pub(crate) async fn caller(session: &mut Session, usr: Usr) {
    join(session, usr.trid, usr.user_id.as_str(), usr.ticket.as_str(), None).await;
}

pub(crate) async fn callee(session: &mut Session, ans: Ans) {
    join(session, ans.trid, ans.user_id.as_str(), ans.ticket.as_str(), Some(ans.room_id.as_str())).await;
}

async fn join(session: &mut Session, trid: u32, user: &str, ticket: &str, answering: Option<&str>) {
    let Ok(claimed) = user.parse::<UserId>() else {
        return session.error(trid, ErrorCode::TicketInvalid, JoinError::NotYourTicket);
    };
    let sb = session.sb.clone();
    let request = JoinRequest {
        ticket,
        claim: Claim::Id(claimed),
        answering,
        connection: session.connection,
        outbox: session.outbox.clone(),
        front: Arc::new(MenpRoomFront),
    };
    let outbox = session.outbox.clone();
    let replies = |me: &crate::Speaker, others: &[&crate::Speaker]| {
        let count = others.len() as u32;
        for (index, other) in others.iter().enumerate() {
            let iro = Iro {
                trid,
                index: index as u32 + 1,
                count,
                user_id: mocha_net::user_token(other.user),
                display_name: other.display_name.clone(),
            };
            outbox.push(iro.into_frame());
        }
        outbox.push(match answering {
            Some(_) => server::Ans { trid }.into_frame(),
            None => server::Usr {
                trid,
                user_id: mocha_net::user_token(me.user),
                display_name: me.display_name.clone(),
            }
            .into_frame(),
        });
    };
    match sb.join(request, replies).await {
        Ok(joined) => {
            tracing::debug!(peer = %session.peer, "MENP/1 participant joined");
            session.member = Some(Member { user: joined.me.user, speaker: joined.me, room: joined.room });
        }
        Err(e) => session.error(trid, join_error_code(&e), e),
    }
}

fn join_error_code(error: &JoinError) -> ErrorCode {
    match error {
        JoinError::TicketExpired => ErrorCode::TicketExpired,
        JoinError::TicketInvalid | JoinError::NotYourTicket | JoinError::AccountGone => {
            ErrorCode::TicketInvalid
        }
        JoinError::Banned => ErrorCode::AccountBanned,
        JoinError::Ended => ErrorCode::NotInConversation,
        JoinError::Full => ErrorCode::NotAllowed,
        JoinError::Internal(_) => ErrorCode::InternalError,
    }
}
