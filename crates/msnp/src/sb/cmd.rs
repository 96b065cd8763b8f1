//! The switchboard commands of a classic client: `USR` (the caller joins with the
//! ticket `XFR SB` gave it), `ANS` (an invitee answers `RNG`), `CAL` (invite), `MSG`
//! (with its ack type) and `OUT`. Each one calls the room core; refusals are MSNP
//! error codes (`<code> <trid>`), and the connection goes on.

use std::sync::Arc;

use bytes::Bytes;
use mocha_proto::encode_text;
use mocha_proto::im::ImPayload;
use mocha_switchboard::{
    AlertFailure, Claim, InviteError, JoinError, JoinRequest, Protocol, RingFailure, RoomMessage, SendError,
    Speaker,
};

use super::front::MsnpRoomFront;
use super::payload::{PayloadError, parse_msnp};
use super::session::{Ending, Flow, Member, Session};
use crate::cmd::{Refusal, refuse};
use crate::error::Code;
use crate::handle::username;
use crate::line::Line;
use crate::wire;

pub(crate) async fn apply(session: &mut Session, line: Line) -> Flow {
    let trid = line.trid().unwrap_or(0);
    let joined = session.member.is_some();
    let outcome = match line.command.as_str() {
        "OUT" => return Flow::Close(Ending::Left),
        "USR" | "ANS" if joined => Err(refuse(Code::AlreadySignedIn, trid)),
        "USR" => join(session, &line, false).await,
        "ANS" => join(session, &line, true).await,
        "CAL" | "MSG" if !joined => Err(refuse(Code::NotExpected, trid)),
        "CAL" => call(session, &line).await,
        "MSG" => message(session, line).await,
        _ => Err(refuse(Code::Syntax, trid)),
    };
    if let Err(refusal) = outcome {
        tracing::debug!(peer = %session.peer, code = refusal.code.number(), "MSNP switchboard command refused");
        session.send(wire::error(refusal.code, refusal.trid));
    }
    Flow::Continue
}

/// `USR <trid> <handle> <ticket>` → `USR <trid> OK <handle> <name>`;
/// `ANS <trid> <handle> <ticket> <session-id>` → `IRO <trid> <i> <n> <handle> <name>`
/// for each participant, then `ANS <trid> OK`.
async fn join(session: &mut Session, line: &Line, answering: bool) -> Result<(), Refusal> {
    let trid = line.trid().ok_or(refuse(Code::Syntax, 0))?;
    let (Some(handle), Some(ticket)) = (line.arg(0), line.arg(1)) else {
        return Err(refuse(Code::Syntax, trid));
    };
    let room = if answering { Some(line.arg(2).ok_or(refuse(Code::Syntax, trid))?) } else { None };
    let handle = username(handle).ok_or(refuse(Code::UnknownPrincipal, trid))?;
    let request = JoinRequest {
        ticket,
        claim: Claim::Username(handle),
        answering: room,
        connection: session.connection,
        outbox: session.outbox.clone(),
        front: Arc::new(MsnpRoomFront),
    };
    let outbox = session.outbox.clone();
    let trid_text = trid.to_string();
    let replies = |me: &Speaker, others: &[&Speaker]| {
        let count = others.len().to_string();
        for (index, other) in others.iter().enumerate() {
            let index = (index + 1).to_string();
            let name = encode_text(&other.display_name);
            outbox.push_wire(wire::line(["IRO", &trid_text, &index, &count, &other.username, &name]));
        }
        outbox.push_wire(match answering {
            true => wire::line(["ANS", &trid_text, "OK"]),
            false => wire::line(["USR", &trid_text, "OK", &me.username, &encode_text(&me.display_name)]),
        });
    };
    let sb = session.server.sb.clone();
    match sb.join(request, replies).await {
        Ok(joined) => {
            tracing::debug!(peer = %session.peer, user = %joined.me.user, "MSNP participant joined");
            session.member = Some(Member { speaker: joined.me, room: joined.room });
            Ok(())
        }
        Err(JoinError::Internal(error)) => {
            tracing::error!(%error, "an MSNP switchboard join failed");
            Err(refuse(Code::Internal, trid))
        }
        // One answer for every refused ticket, as a sign-in gets.
        Err(error) => {
            tracing::info!(peer = %session.peer, %error, "MSNP switchboard join refused");
            Err(refuse(Code::AuthenticationFailed, trid))
        }
    }
}

/// `CAL <trid> <handle>` → `CAL <trid> RINGING <session-id>`; the Notification Server
/// rings them on whichever protocol they are signed in with.
async fn call(session: &mut Session, line: &Line) -> Result<(), Refusal> {
    let trid = line.trid().ok_or(refuse(Code::Syntax, 0))?;
    let invitee = line.arg(0).and_then(username).ok_or(refuse(Code::UnknownPrincipal, trid))?;
    let Some(member) = &session.member else { return Err(refuse(Code::NotExpected, trid)) };
    let (user, room) = (member.speaker.user, member.room.clone());
    let sb = session.server.sb.clone();
    match sb.invite(user, &room, invitee).await {
        Ok(()) => {
            session.send(wire::line(["CAL", &trid.to_string(), "RINGING", &room]));
            Ok(())
        }
        Err(error) => Err(refuse(invite_code(&error), trid)),
    }
}

fn invite_code(error: &InviteError) -> Code {
    match error {
        InviteError::AlreadyHere => Code::AlreadyOnList,
        InviteError::Full => Code::SessionOverloaded,
        InviteError::Ring(RingFailure::Offline) => Code::PrincipalOffline,
        // msnp11-sdk reads 208 as "not a valid contact": unknown, or not a contact.
        InviteError::Ring(RingFailure::UnknownUser | RingFailure::NotAllowed) => Code::UnknownPrincipal,
        InviteError::Ring(RingFailure::Internal(error)) => {
            tracing::error!(%error, "ringing from the MSNP switchboard failed");
            Code::Internal
        }
    }
}

/// How a `MSG` asks to be acknowledged.
#[derive(Clone, Copy, PartialEq, Eq)]
enum AckType {
    /// `U`: never.
    Unacknowledged,
    /// `N`: `NAK` if nobody received it.
    NakOnly,
    /// `A` and `D` (data, MSN's P2P): `ACK` or `NAK`.
    Always,
}

/// `MSG <trid> <U|N|A|D> <len>` + payload: relayed by the room core to everyone this
/// user can reach, each in their own protocol.
async fn message(session: &mut Session, line: Line) -> Result<(), Refusal> {
    let trid = line.trid().ok_or(refuse(Code::Syntax, 0))?;
    let ack = match line.arg(0) {
        Some("U") => AckType::Unacknowledged,
        Some("N") => AckType::NakOnly,
        Some("A" | "D") => AckType::Always,
        _ => return Err(refuse(Code::InvalidArgument, trid)),
    };
    let Some(member) = &session.member else { return Err(refuse(Code::NotExpected, trid)) };
    let sb = &session.server.sb;
    let original = Bytes::from(line.payload.unwrap_or_default());
    let meaning =
        parse_msnp(original.clone(), sb.config().limits.max_payload).map_err(|error: PayloadError| {
            tracing::debug!(peer = %session.peer, %error, "MSNP message refused");
            refuse(Code::BadMessage, trid)
        })?;
    let message = canonical(meaning, &member.speaker, original);
    let delivered = match sb.send(&member.speaker, &member.room, message).await {
        Ok(sent) => sent.delivered,
        Err(error) => return Err(refuse(send_code(&error), trid)),
    };
    let trid = trid.to_string();
    match (ack, delivered) {
        (AckType::Always, true) => session.send(wire::line(["ACK", &trid])),
        (AckType::Always | AckType::NakOnly, false) => session.send(wire::line(["NAK", &trid])),
        _ => {}
    }
    Ok(())
}

/// The message in Mocha's own form (what MENP/1 participants receive as it is): known
/// kinds re-encoded, the typing user set to the sender whatever the client claimed;
/// unknown kinds keep the classic client's bytes, for other classic clients only.
fn canonical(meaning: ImPayload, from: &Speaker, original: Bytes) -> RoomMessage {
    let meaning = match meaning {
        ImPayload::Typing { .. } => ImPayload::Typing { user: from.user.to_string() },
        other => other,
    };
    let payload = match &meaning {
        ImPayload::Other => original,
        known => known.to_message().to_bytes(),
    };
    RoomMessage { meaning, payload, origin: Protocol::Msnp }
}

fn send_code(error: &SendError) -> Code {
    match error {
        // msnp11-sdk reads 282 as "not delivered", the nearest a classic client has.
        SendError::TooLong { .. } | SendError::Room(_) => Code::BadMessage,
        SendError::Ended => Code::NotExpected,
        SendError::AlertNotKept(AlertFailure::StorageFull) => Code::StorageFull,
        SendError::AlertNotKept(AlertFailure::Unavailable) => Code::ServerBusy,
        SendError::AlertNotKept(AlertFailure::Internal) => Code::Internal,
    }
}
