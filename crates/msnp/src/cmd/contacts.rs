//! `ADC` (MSNP10+), `ADD` (MSNP8/9) and `REM`: list changes mapped to Mocha's contact
//! requests, accepts, removals, blocks and unblocks, through Passport (the same rules and
//! events as the API: the other side hears of it on whichever protocol they use).
//!
//! - FL add: a contact request (accepted at once when they had asked this user);
//! - AL add: accepts their pending request, or unblocks them;
//! - BL add: blocks; BL remove: unblocks;
//! - FL remove: removes the contact (both ways: Mocha contacts are mutual), or withdraws
//!   this user's pending request;
//! - AL remove: declines their pending request (a no-op otherwise: blocking is BL's);
//! - group moves (`ADC … C=<guid> <group>`, `REM FL <guid> <group>`): `502`.

use mocha_api::NewContactRequest;
use mocha_auth::UserId;
use mocha_passport::PassportError;
use mocha_proto::encode_text;

use super::{Refusal, passport_refusal, refuse};
use crate::error::Code;
use crate::handle::{from_guid, guid, username};
use crate::line::Line;
use crate::session::{Flow, Identity, Session};
use crate::wire;

#[derive(Clone, Copy, PartialEq, Eq)]
enum List {
    Forward,
    Allow,
    Block,
}

fn list(code: Option<&str>, trid: u32) -> Result<List, Refusal> {
    match code {
        Some("FL") => Ok(List::Forward),
        Some("AL") => Ok(List::Allow),
        Some("BL") => Ok(List::Block),
        _ => Err(refuse(Code::InvalidArgument, trid)),
    }
}

fn contact_refusal(trid: u32, error: PassportError) -> Refusal {
    match error {
        PassportError::NotFound(_) => refuse(Code::UnknownPrincipal, trid),
        PassportError::Conflict(_) => refuse(Code::AlreadyOnList, trid),
        PassportError::RequestNotAllowed => refuse(Code::InvalidArgument, trid),
        other => passport_refusal(trid, other),
    }
}

/// `ADC <trid> FL N=<handle> F=<name>` / `ADC <trid> AL|BL N=<handle>` (MSNP10+).
pub(super) async fn adc(session: &Session, me: &Identity, line: &Line) -> Result<Flow, Refusal> {
    let trid = line.trid().ok_or(refuse(Code::Syntax, 0))?;
    let list = list(line.arg(0), trid)?;
    let who = line.arg(1).ok_or(refuse(Code::Syntax, trid))?;
    if who.starts_with("C=") {
        return Err(refuse(Code::CommandDisabled, trid)); // a group assignment
    }
    let handle = username(who).ok_or(refuse(Code::UnknownPrincipal, trid))?.to_string();
    let target = add(session, me, trid, list, &handle).await?;
    let trid = trid.to_string();
    let reply = match list {
        List::Forward => {
            let name = line.arg(2).map_or_else(|| format!("F={}", encode_text(&handle)), str::to_string);
            wire::line(["ADC", &trid, "FL", &format!("N={handle}"), &name, &format!("C={}", guid(target))])
        }
        List::Allow => wire::line(["ADC", &trid, "AL", &format!("N={handle}")]),
        List::Block => wire::line(["ADC", &trid, "BL", &format!("N={handle}")]),
    };
    session.send(reply);
    Ok(Flow::Continue)
}

/// `ADD <trid> FL|AL|BL <handle> <name>` (MSNP8/9) → `ADD <trid> <list> 1 <handle> <name> [0]`.
pub(super) async fn add_msnp8(session: &Session, me: &Identity, line: &Line) -> Result<Flow, Refusal> {
    let trid = line.trid().ok_or(refuse(Code::Syntax, 0))?;
    let code = line.arg(0).unwrap_or_default();
    let list = list(Some(code), trid)?;
    let handle = username(line.arg(1).ok_or(refuse(Code::Syntax, trid))?)
        .ok_or(refuse(Code::UnknownPrincipal, trid))?;
    let handle = handle.to_string();
    add(session, me, trid, list, &handle).await?;
    let name = line.arg(2).map_or_else(|| encode_text(&handle), str::to_string);
    let trid = trid.to_string();
    let mut reply = vec!["ADD", &trid, code, "1", &handle, &name];
    if list == List::Forward {
        reply.push("0");
    }
    session.send(wire::line(reply));
    Ok(Flow::Continue)
}

/// Applies an add; the user it names.
async fn add(
    session: &Session,
    me: &Identity,
    trid: u32,
    list: List,
    handle: &str,
) -> Result<UserId, Refusal> {
    let passport = session.gateway.core.passport();
    let fail = |error| contact_refusal(trid, error);
    if list == List::Forward {
        let request = NewContactRequest { username: Some(handle.to_string()), user_id: None, message: None };
        let created = passport.send_contact_request(me.user, &request).await.map_err(fail)?;
        let target = created.request.map(|r| r.to.id).or(created.contact.map(|c| c.user.id));
        return target.ok_or(refuse(Code::Internal, trid));
    }
    let target =
        passport.find_user_id(handle).await.map_err(fail)?.ok_or(refuse(Code::UnknownPrincipal, trid))?;
    if target == me.user {
        return Err(refuse(Code::InvalidArgument, trid));
    }
    match list {
        List::Block => passport.block(me.user, target).await.map_err(fail)?,
        List::Allow => {
            let requests = passport.contact_requests(me.user).await.map_err(fail)?;
            if let Some(theirs) = requests.incoming.iter().find(|r| r.from.id == target) {
                passport.accept_contact_request(me.user, theirs.id).await.map_err(fail)?;
            } else if passport.blocks(me.user).await.map_err(fail)?.iter().any(|b| b.user.id == target) {
                passport.unblock(me.user, target).await.map_err(fail)?;
            }
        }
        List::Forward => {}
    }
    Ok(target)
}

/// `REM <trid> FL <guid>` (MSNP10+) or `REM <trid> FL <handle>` (MSNP8/9), `REM <trid> AL|BL <handle>`.
pub(super) async fn rem(session: &Session, me: &Identity, line: &Line) -> Result<Flow, Refusal> {
    let trid = line.trid().ok_or(refuse(Code::Syntax, 0))?;
    let code = line.arg(0).unwrap_or_default();
    let list = list(Some(code), trid)?;
    let who = line.arg(1).ok_or(refuse(Code::Syntax, trid))?;
    if line.arg(2).is_some() && list == List::Forward && session.version.has_guids() {
        return Err(refuse(Code::CommandDisabled, trid)); // out of a group
    }
    let passport = session.gateway.core.passport();
    let fail = |error| contact_refusal(trid, error);
    let target = match from_guid(who) {
        Some(id) => id,
        None => {
            let handle = username(who).ok_or(refuse(Code::UnknownPrincipal, trid))?;
            passport.find_user_id(handle).await.map_err(fail)?.ok_or(refuse(Code::UnknownPrincipal, trid))?
        }
    };
    match list {
        List::Block => passport.unblock(me.user, target).await.map_err(fail)?,
        List::Forward => {
            let is_contact =
                passport.contacts(me.user).await.map_err(fail)?.iter().any(|c| c.user.id == target);
            if is_contact {
                passport.remove_contact(me.user, target).await.map_err(fail)?;
            } else {
                let requests = passport.contact_requests(me.user).await.map_err(fail)?;
                let mine = requests
                    .outgoing
                    .iter()
                    .find(|r| r.to.id == target)
                    .ok_or(refuse(Code::NotOnList, trid))?;
                passport.cancel_contact_request(me.user, mine.id).await.map_err(fail)?;
            }
        }
        List::Allow => {
            let requests = passport.contact_requests(me.user).await.map_err(fail)?;
            if let Some(theirs) = requests.incoming.iter().find(|r| r.from.id == target) {
                passport.decline_contact_request(me.user, theirs.id).await.map_err(fail)?;
            }
        }
    }
    let trid = trid.to_string();
    let reply = if session.version.has_guids() {
        wire::line(["REM", &trid, code, who])
    } else {
        wire::line(["REM", &trid, code, "1", who])
    };
    session.send(reply);
    Ok(Flow::Continue)
}
