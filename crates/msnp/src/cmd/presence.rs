//! `CHG` (status), `UUX` (personal message, MSNP11+), `PRP MFN` and MSNP8's `REA` (the
//! display name). The core applies them and tells watchers on both protocols.

use mocha_notification::front::{NotSignedIn, PersonalMessageError};
use mocha_proto::{decode_text, encode_text};

use super::{Refusal, passport_refusal, refuse};
use crate::error::Code;
use crate::handle::username;
use crate::line::Line;
use crate::session::{Flow, Identity, Session, Stage};
use crate::status::from_code;
use crate::wire;

/// `CHG <trid> <status> <client-id> [<msn-object>]`. The first one is followed by `ILN`
/// for every contact this user may see online.
pub(super) async fn chg(session: &mut Session, me: &Identity, line: &Line) -> Result<Flow, Refusal> {
    let trid = line.trid().ok_or(refuse(Code::Syntax, 0))?;
    let code = line.arg(0).ok_or(refuse(Code::Syntax, trid))?;
    let status = from_code(code).ok_or(refuse(Code::InvalidArgument, trid))?;
    let client_id = line.arg(1).unwrap_or("0");
    if client_id.parse::<u64>().is_err() {
        return Err(refuse(Code::InvalidArgument, trid));
    }
    let core = session.gateway.core.clone();
    core.set_status(me.user, &me.username, session.connection, status)
        .await
        .map_err(|NotSignedIn| refuse(Code::NotExpected, trid))?;
    session.send(wire::line(["CHG", &trid.to_string(), code, client_id]));
    if me.chose_status {
        return Ok(Flow::Continue);
    }
    if let Stage::SignedIn(identity) = &mut session.stage {
        identity.chose_status = true;
    }
    let contacts = core.passport().contacts(me.user).await.map_err(|error| passport_refusal(trid, error))?;
    let front = session.front();
    for contact in contacts {
        let live =
            core.live_presence(me.user, contact.user.id).await.map_err(|e| passport_refusal(trid, e))?;
        let Some(live) = live else { continue };
        let args = front.presence_args(live.status, &contact.user.username, &live.display_name);
        session.send(wire::line(["ILN".to_string(), trid.to_string()].into_iter().chain(args)));
        if !live.personal_message.is_empty() && session.version.has_personal_messages() {
            session.send(front.ubx(&contact.user.username, &live.personal_message));
        }
    }
    Ok(Flow::Continue)
}

/// `UUX <trid> <len>` + `<Data><PSM>…</PSM>…</Data>`: only the PSM text is kept (now
/// playing, `CurrentMedia`, is not).
pub(super) async fn uux(session: &Session, me: &Identity, line: &Line) -> Result<Flow, Refusal> {
    let trid = line.trid().ok_or(refuse(Code::Syntax, 0))?;
    if !session.version.has_personal_messages() {
        return Err(refuse(Code::Syntax, trid));
    }
    let payload = line.payload.as_deref().unwrap_or_default();
    let xml = std::str::from_utf8(payload).map_err(|_| refuse(Code::InvalidArgument, trid))?;
    let message = wire::xml_element(xml, "PSM").unwrap_or_default();
    let core = &session.gateway.core;
    match core.set_personal_message(me.user, &me.username, session.connection, &message).await {
        Ok(()) => {
            session.send(wire::line(["UUX", &trid.to_string(), "0"]));
            Ok(Flow::Continue)
        }
        Err(PersonalMessageError::NotSignedIn) => Err(refuse(Code::NotExpected, trid)),
        Err(PersonalMessageError::TooLong | PersonalMessageError::ControlCharacters) => {
            Err(refuse(Code::InvalidArgument, trid))
        }
    }
}

/// `PRP <trid> MFN <name>`: the display name, through Passport (so its rules apply and
/// every watcher hears of it). Other `PRP` properties (phone numbers) are not kept.
pub(super) async fn prp(session: &Session, me: &Identity, line: &Line) -> Result<Flow, Refusal> {
    let trid = line.trid().ok_or(refuse(Code::Syntax, 0))?;
    if line.arg(0) != Some("MFN") {
        return Err(refuse(Code::CommandDisabled, trid));
    }
    let name = set_display_name(session, me, trid, line.arg(1)).await?;
    session.send(wire::line(["PRP", &trid.to_string(), "MFN", &encode_text(&name)]));
    Ok(Flow::Continue)
}

/// `REA <trid> <own-handle> <name>` (MSNP8/9): the same for one's own handle only.
pub(super) async fn rea(session: &Session, me: &Identity, line: &Line) -> Result<Flow, Refusal> {
    let trid = line.trid().ok_or(refuse(Code::Syntax, 0))?;
    let target = line.arg(0).ok_or(refuse(Code::Syntax, trid))?;
    let own = username(target).is_some_and(|name| name.eq_ignore_ascii_case(&me.username));
    if !own {
        // Renaming contacts (aliases) is not built yet.
        return Err(refuse(Code::CommandDisabled, trid));
    }
    let name = set_display_name(session, me, trid, line.arg(1)).await?;
    session.send(wire::line(["REA", &trid.to_string(), "1", target, &encode_text(&name)]));
    Ok(Flow::Continue)
}

async fn set_display_name(
    session: &Session,
    me: &Identity,
    trid: u32,
    encoded: Option<&str>,
) -> Result<String, Refusal> {
    let encoded = encoded.ok_or(refuse(Code::Syntax, trid))?;
    let name = decode_text(encoded).map_err(|_| refuse(Code::InvalidArgument, trid))?;
    let account = session
        .gateway
        .core
        .passport()
        .set_display_name(me.user, &name)
        .await
        .map_err(|error| passport_refusal(trid, error))?;
    Ok(account.display_name)
}
