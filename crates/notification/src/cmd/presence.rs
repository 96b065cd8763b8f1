//! `CHG`, `UUX` and `PRP`: the user's status, personal message and display name.

use mocha_proto::ns::client::{Chg, Prp, Uux};
use mocha_proto::ns::server;
use mocha_proto::{ErrorCode, ErrorReply};

use super::{passport_refusal, refuse};
use crate::front::{NotSignedIn, PersonalMessageError};
use crate::session::{Flow, Identity, Session};

pub(super) async fn chg(session: &Session, me: &Identity, chg: Chg) -> Result<Flow, ErrorReply> {
    session
        .server
        .set_status(me.user, &me.username, session.connection, chg.status)
        .await
        .map_err(|NotSignedIn| ErrorReply::new(chg.trid, ErrorCode::NotSignedIn))?;
    session.reply(server::Chg { trid: chg.trid, status: chg.status }.into_frame());
    Ok(Flow::Continue)
}

pub(super) async fn uux(session: &Session, me: &Identity, uux: Uux) -> Result<Flow, ErrorReply> {
    match session.server.set_personal_message(me.user, &me.username, session.connection, &uux.message).await {
        Ok(()) => {
            session.reply(server::Uux { trid: uux.trid }.into_frame());
            Ok(Flow::Continue)
        }
        Err(PersonalMessageError::NotSignedIn) => Err(ErrorReply::new(uux.trid, ErrorCode::NotSignedIn)),
        Err(invalid) => Err(refuse(uux.trid, ErrorCode::InvalidArgument, invalid.to_string())),
    }
}

/// Passport validates and stores the name, then tells the NS (and so every watcher)
/// through its `DisplayNameChanged` event.
pub(super) async fn prp(session: &Session, me: &Identity, prp: Prp) -> Result<Flow, ErrorReply> {
    let account = session
        .server
        .passport
        .set_display_name(me.user, &prp.display_name)
        .await
        .map_err(|error| passport_refusal(prp.trid, error))?;
    session.reply(server::Prp { trid: prp.trid, display_name: account.display_name }.into_frame());
    Ok(Flow::Continue)
}
