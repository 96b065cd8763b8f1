//! `UPD` (update check) and `PNG` (keep-alive).

use mocha_proto::ns::client::{Png, Upd};
use mocha_proto::ns::server;
use mocha_proto::{ErrorCode, ErrorReply};

use super::passport_refusal;
use crate::session::{Flow, Session};

pub(super) async fn upd(session: &Session, upd: Upd) -> Result<Flow, ErrorReply> {
    let check = session
        .server
        .passport
        .check_for_update(upd.channel.as_str(), upd.version.as_str())
        .await
        .map_err(|error| passport_refusal(upd.trid, error))?;
    let json = serde_json::to_vec(&check).map_err(|_| ErrorReply::new(upd.trid, ErrorCode::InternalError))?;
    session.reply(server::Upd { trid: upd.trid, payload: json.into() }.into_frame());
    Ok(Flow::Continue)
}

pub(super) fn png(session: &Session, png: Png) -> Result<Flow, ErrorReply> {
    let seconds = session.server.config.ping_interval_seconds();
    session.reply(server::Qng { trid: png.trid, seconds }.into_frame());
    Ok(Flow::Continue)
}
