//! `XFR … SB`: a switchboard address and a ticket for a fresh room.

use mocha_proto::ns::client::Xfr;
use mocha_proto::ns::server;
use mocha_proto::{ErrorCode, ErrorReply, Token};

use crate::session::{Flow, Identity, Session};

pub(super) fn xfr(session: &Session, me: &Identity, xfr: Xfr) -> Result<Flow, ErrorReply> {
    let room = mocha_auth::random_id::<16>();
    let internal = |_| ErrorReply::new(xfr.trid, ErrorCode::InternalError);
    let address = Token::new(session.server.config.switchboard_address.clone()).map_err(internal)?;
    let ticket = Token::new(session.server.issue_ticket(me.user, &room)).map_err(internal)?;
    session.reply(server::Xfr { trid: xfr.trid, address, ticket }.into_frame());
    Ok(Flow::Continue)
}
