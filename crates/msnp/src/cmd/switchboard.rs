//! `XFR <trid> SB`: a fresh conversation at the gateway's switchboard, with a ticket
//! for this user alone (signed by the Notification Server and short-lived: the same
//! ticket MENP/1's `XFR` hands out, checked by the same room core). On a node without
//! `sb`, a live switchboard node's MSNP switchboard.

use super::{Refusal, refuse};
use crate::error::Code;
use crate::line::Line;
use crate::session::{Flow, Identity, Session};
use crate::wire;

/// → `XFR <trid> SB <host:port> CKI <ticket>`.
pub(super) fn xfr(session: &Session, me: &Identity, line: &Line) -> Result<Flow, Refusal> {
    let trid = line.trid().ok_or(refuse(Code::Syntax, 0))?;
    if line.arg(0) != Some("SB") {
        // `XFR NS` is the dispatch server's redirect; the gateway has none.
        return Err(refuse(Code::InvalidArgument, trid));
    }
    let picked;
    let address = match session.gateway.switchboard.as_deref() {
        Some(address) => address,
        // A node without `sb` (docs/cluster.md): a live switchboard node's, or "try again".
        None if !session.gateway.core.config().local_switchboard => {
            let card = session.gateway.core.pick_switchboard_node();
            picked = card.and_then(|card| card.msnp_sb).ok_or(refuse(Code::ServerBusy, trid))?;
            picked.as_str()
        }
        None => return Err(refuse(Code::CommandDisabled, trid)),
    };
    let room = mocha_auth::random_id::<16>();
    let ticket = session.gateway.core.switchboard_ticket(me.user, &room);
    session.send(wire::line(["XFR", &trid.to_string(), "SB", address, "CKI", &ticket]));
    Ok(Flow::Continue)
}
