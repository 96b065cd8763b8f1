//! `USR` (the caller opens or rejoins a room) and `ANS` (an invited user answers a ring).

use mocha_auth::{SignedClaims, SwitchboardTicket, TokenError, UserId, unix_now};
use mocha_proto::ErrorCode;
use mocha_proto::sb::client::{Ans, Usr};
use mocha_proto::sb::server::{self, Iro, Joi};

use crate::room::Participant;
use crate::session::{Member, Session};

pub(crate) async fn caller(session: &mut Session, usr: Usr) {
    join(session, usr.trid, usr.user_id.as_str(), usr.ticket.as_str(), None).await;
}

pub(crate) async fn callee(session: &mut Session, ans: Ans) {
    join(session, ans.trid, ans.user_id.as_str(), ans.ticket.as_str(), Some(ans.room_id.as_str())).await;
}

async fn join(session: &mut Session, trid: u32, user: &str, ticket: &str, answering: Option<&str>) {
    let sb = session.sb.clone();
    let ticket = match SwitchboardTicket::verify(ticket, &sb.ticket_verifier, unix_now()) {
        Ok(ticket) => ticket,
        Err(TokenError::Expired) => {
            return session.error(trid, ErrorCode::TicketExpired, "the ticket has expired");
        }
        Err(_) => return session.error(trid, ErrorCode::TicketInvalid, "the ticket is not valid"),
    };
    if user.parse::<UserId>().ok() != Some(ticket.sub) || answering.is_some_and(|room| room != ticket.room) {
        return session.error(trid, ErrorCode::TicketInvalid, "the ticket is for someone or somewhere else");
    }
    let user = ticket.sub;
    let account = match sb.passport.account(user).await {
        Ok(account) => account,
        Err(_) => {
            return session.error(trid, ErrorCode::TicketInvalid, "the ticket's account no longer exists");
        }
    };
    match sb.passport.active_ban(user).await {
        Ok(None) => {}
        Ok(Some(_)) => return session.error(trid, ErrorCode::AccountBanned, "this account is banned"),
        Err(e) => return session.error(trid, ErrorCode::InternalError, e),
    }

    // Blocks between the newcomer and those present are looked up before taking the lock.
    let present: Vec<UserId> =
        sb.rooms().get(&ticket.room).map(|r| r.participants.keys().copied().collect()).unwrap_or_default();
    let mut blocked_with = Vec::new();
    for other in present.into_iter().filter(|&other| other != user) {
        match sb.passport.blocked_either_way(user, other).await {
            Ok(true) => blocked_with.push(other),
            Ok(false) => {}
            Err(e) => return session.error(trid, ErrorCode::InternalError, e),
        }
    }

    let mut rooms = sb.rooms();
    if answering.is_some() && !rooms.contains_key(&ticket.room) {
        return session.error(trid, ErrorCode::NotInConversation, "that conversation has ended");
    }
    let room = rooms.entry(ticket.room.clone()).or_default();
    let participant = Participant {
        display_name: account.display_name.clone(),
        outbox: session.outbox.clone(),
        connection: session.connection,
    };
    let replaced = match room.join(user, participant, &blocked_with, sb.config.max_participants) {
        Ok(replaced) => replaced,
        Err(e) => return session.error(trid, e.error_code(), e),
    };
    match replaced {
        Some(old) => old.outbox.kick(mocha_proto::OutReason::SignedInElsewhere),
        None => sb.gauge.add_online(1),
    }
    // A replaced connection's call grants move to this one (fresh tokens).
    sb.sync_relay(&ticket.room, room);
    let me = mocha_net::user_token(user);
    let others = room.reachable(user);
    let count = others.len() as u32;
    for (index, other) in others.iter().enumerate() {
        let display_name = room.participants[other].display_name.clone();
        let iro = Iro {
            trid,
            index: index as u32 + 1,
            count,
            user_id: mocha_net::user_token(*other),
            display_name,
        };
        session.reply(iro.into_frame());
        room.participants[other]
            .outbox
            .push(Joi { user_id: me.clone(), display_name: account.display_name.clone() }.into_frame());
    }
    match answering {
        Some(_) => session.reply(server::Ans { trid }.into_frame()),
        None => session.reply(
            server::Usr { trid, user_id: me, display_name: account.display_name.clone() }.into_frame(),
        ),
    }
    tracing::info!(peer = %session.peer, user = %user, room = %ticket.room, "joined a conversation");
    let relay_prefix = super::message::relay_prefix(user, &account.display_name);
    session.member = Some(Member { user, relay_prefix, room: ticket.room });
}
