//! `XFR … SB`: a switchboard address and a ticket for a fresh room.
//!
//! The room is on this node's switchboard (docs/cluster.md says why); a node without one
//! (roles without `sb`) names the least-loaded live switchboard node of its cluster. The
//! ticket is signed here and every node verifies it (one keys folder).

use mocha_proto::ns::client::Xfr;
use mocha_proto::ns::server;
use mocha_proto::{ErrorCode, ErrorReply, Token};

use crate::session::{Flow, Identity, Session};

pub(super) fn xfr(session: &Session, me: &Identity, xfr: Xfr) -> Result<Flow, ErrorReply> {
    let room = mocha_auth::random_id::<16>();
    let internal = |_| ErrorReply::new(xfr.trid, ErrorCode::InternalError);
    let address = switchboard_address(session).ok_or_else(|| ErrorReply {
        trid: xfr.trid,
        code: ErrorCode::ServerBusy,
        reason: "no switchboard is available right now; try again shortly".into(),
    })?;
    let address = Token::new(address).map_err(internal)?;
    let ticket = Token::new(session.server.issue_ticket(me.user, &room)).map_err(internal)?;
    session.reply(server::Xfr { trid: xfr.trid, address, ticket }.into_frame());
    Ok(Flow::Continue)
}

/// This node's switchboard, or the cluster's least-loaded one; `None` when none is alive.
fn switchboard_address(session: &Session) -> Option<String> {
    let config = &session.server.config;
    if config.local_switchboard {
        return Some(config.switchboard_address.clone());
    }
    session.server.pick_switchboard_node()?.sb
}
