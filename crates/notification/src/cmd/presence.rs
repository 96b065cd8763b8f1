//! `CHG`, `UUX` and `PRP`: the user's status, personal message and display name.

use mocha_proto::ns::client::{Chg, Prp, Uux};
use mocha_proto::ns::server;
use mocha_proto::{ErrorCode, ErrorReply};

use super::{passport_refusal, refuse};
use crate::presence::Change;
use crate::session::{Flow, Identity, Session};

/// Longest personal message, in characters.
pub(crate) const MAX_PERSONAL_MESSAGE: usize = 128;

pub(super) async fn chg(session: &Session, me: &Identity, chg: Chg) -> Result<Flow, ErrorReply> {
    let was_visible = session
        .server
        .registry
        .update_presence(me.user, session.connection, |presence| {
            let was_visible = presence.visible_status().is_some();
            presence.status = Some(chg.status);
            was_visible
        })
        .ok_or_else(|| ErrorReply::new(chg.trid, ErrorCode::NotSignedIn))?;
    session.reply(server::Chg { trid: chg.trid, status: chg.status }.into_frame());
    session.server.announce(me.user, Change::Status { was_visible }).await;
    Ok(Flow::Continue)
}

pub(super) async fn uux(session: &Session, me: &Identity, uux: Uux) -> Result<Flow, ErrorReply> {
    let message = uux.message.trim();
    if message.chars().count() > MAX_PERSONAL_MESSAGE {
        return Err(refuse(
            uux.trid,
            ErrorCode::InvalidArgument,
            "the personal message is too long (128 characters at most)",
        ));
    }
    if message.chars().any(char::is_control) {
        return Err(refuse(
            uux.trid,
            ErrorCode::InvalidArgument,
            "the personal message cannot contain control characters",
        ));
    }
    let message = message.to_string();
    session
        .server
        .registry
        .update_presence(me.user, session.connection, |presence| presence.personal_message = message)
        .ok_or_else(|| ErrorReply::new(uux.trid, ErrorCode::NotSignedIn))?;
    session.reply(server::Uux { trid: uux.trid }.into_frame());
    session.server.announce(me.user, Change::PersonalMessage).await;
    Ok(Flow::Continue)
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
