//! `SYN` (the contact list from Mocha's contacts, requests and blocks), `GCF`, `BLP`, `GTC`.
//!
//! List bits: FL 1 (my contacts, and people I asked), AL 2 (contacts I let see me),
//! BL 4 (people I blocked), RL 8 (people who have me: every accepted contact, since
//! Mocha contacts are mutual, and whoever asked me), PL 16 (MSNP12: asked me, not yet
//! answered). Mocha has no groups on the server: no `LSG` from MSNP10 on, and MSNP8/9's
//! implicit group 0 only.

use std::collections::BTreeMap;

use mocha_auth::UserId;
use mocha_proto::encode_text;

use super::{Refusal, passport_refusal, refuse};
use crate::error::Code;
use crate::handle::guid;
use crate::line::Line;
use crate::session::{Flow, Identity, Session};
use crate::wire;

const FL: u8 = 1;
const AL: u8 = 2;
const BL: u8 = 4;
const RL: u8 = 8;
const PL: u8 = 16;

/// The bits of one person on the lists, with what `LST` shows of them.
struct Listed {
    username: String,
    display_name: String,
    lists: u8,
}

/// `SYN <trid> <version…>`: the whole list every time (Mocha keeps no list versions).
pub(super) async fn syn(session: &Session, me: &Identity, line: &Line) -> Result<Flow, Refusal> {
    let trid = line.trid().ok_or(refuse(Code::Syntax, 0))?;
    let passport = session.gateway.core.passport();
    let fail = |error| passport_refusal(trid, error);
    let account = passport.account(me.user).await.map_err(fail)?;
    let contacts = passport.contacts(me.user).await.map_err(fail)?;
    let blocks = passport.blocks(me.user).await.map_err(fail)?;
    let requests = passport.contact_requests(me.user).await.map_err(fail)?;

    let mut listed: BTreeMap<UserId, Listed> = BTreeMap::new();
    let mut add = |user: &mocha_api::UserSummary, bits: u8| {
        listed
            .entry(user.id)
            .or_insert_with(|| Listed {
                username: user.username.clone(),
                display_name: user.display_name.clone(),
                lists: 0,
            })
            .lists |= bits;
    };
    for contact in &contacts {
        add(&contact.user, FL | RL | if contact.blocked { BL } else { AL });
    }
    for block in &blocks {
        add(&block.user, BL);
    }
    let pending = if session.version.0 >= 12 { RL | PL } else { RL };
    for request in &requests.incoming {
        add(&request.from, pending);
    }
    for request in &requests.outgoing {
        add(&request.to, FL);
    }

    let version = session.version;
    let trid_text = trid.to_string();
    let count = listed.len().to_string();
    if version.has_guids() {
        // MSNP10+: two list timestamps, then counts; no groups.
        let stamp = "2000-01-01T00:00:00.0000000-00:00";
        session.send(wire::line(["SYN", &trid_text, stamp, stamp, &count, "0"]));
    } else {
        session.send(wire::line(["SYN", &trid_text, "1", &count, "1"]));
    }
    session.send(wire::line(["GTC", "A"]));
    session.send(wire::line(["BLP", "BL"]));
    if version.has_guids() {
        session.send(wire::line(["PRP", "MFN", &encode_text(&account.display_name)]));
    } else {
        session.send(wire::line(["LSG", "0", "Other%20Contacts", "0"]));
    }
    for (id, person) in &listed {
        let who = &person.username;
        let name = encode_text(&person.display_name);
        let bits = person.lists.to_string();
        let lst = match (version.has_guids(), person.lists & FL != 0) {
            (true, true) => wire::line([
                "LST",
                &format!("N={who}"),
                &format!("F={name}"),
                &format!("C={}", guid(*id)),
                &bits,
            ]),
            (true, false) => wire::line(["LST", &format!("N={who}"), &format!("F={name}"), &bits]),
            (false, true) => wire::line(["LST", who, &name, &bits, "0"]),
            (false, false) => wire::line(["LST", who, &name, &bits]),
        };
        session.send(lst);
    }
    Ok(Flow::Continue)
}

/// The shields configuration MSN 7 asks for (and msnp11-sdk waits for): nothing denied.
const SHIELDS: &str = "<?xml version=\"1.0\" encoding=\"utf-8\" ?><config><shield><cli maj=\"7\" min=\"0\" minbld=\"0\" maxbld=\"9999\" deny=\" \" /></shield><block></block></config>";

/// `GCF <trid> Shields.xml`.
pub(super) fn gcf(session: &Session, line: &Line) -> Result<Flow, Refusal> {
    let trid = line.trid().ok_or(refuse(Code::Syntax, 0))?;
    let file = line.arg(0).ok_or(refuse(Code::Syntax, trid))?;
    if file != "Shields.xml" {
        return Err(refuse(Code::InvalidArgument, trid));
    }
    session.send(wire::with_payload(["GCF", &trid.to_string(), file], SHIELDS.as_bytes()));
    Ok(Flow::Continue)
}

/// `BLP <trid> BL|AL`: who may see you. Mocha shows presence only to accepted contacts
/// you have not blocked, always, so `BL` ("only my allow list") is the one answer;
/// `AL` ("everyone not blocked") is refused.
pub(super) fn blp(session: &Session, line: &Line) -> Result<Flow, Refusal> {
    let trid = line.trid().ok_or(refuse(Code::Syntax, 0))?;
    match line.arg(line.args.len().saturating_sub(2)) {
        Some("BL") => {
            session.send(wire::line(["BLP", &trid.to_string(), "BL"]));
            Ok(Flow::Continue)
        }
        _ => Err(refuse(Code::InvalidArgument, trid)),
    }
}

/// `GTC <trid> A|N`: whether to ask before someone adds you. Mocha always asks (a contact
/// request needs accepting), so `A` is the one answer and `N` is refused.
pub(super) fn gtc(session: &Session, line: &Line) -> Result<Flow, Refusal> {
    let trid = line.trid().ok_or(refuse(Code::Syntax, 0))?;
    match line.arg(line.args.len().saturating_sub(2)) {
        Some("A") => {
            session.send(wire::line(["GTC", &trid.to_string(), "A"]));
            Ok(Flow::Continue)
        }
        _ => Err(refuse(Code::InvalidArgument, trid)),
    }
}
