//! `SYN`: the contact list, blocks, requests and settings, with the presence of every
//! contact this user may see.

use mocha_api::{Presence, PresenceStatus, SyncContact, SyncSnapshot};
use mocha_proto::ns::client::Syn;
use mocha_proto::ns::server;
use mocha_proto::{ErrorCode, ErrorReply, Status};

use super::passport_refusal;
use crate::session::{Flow, Identity, Session};

pub(super) async fn syn(session: &Session, me: &Identity, syn: Syn) -> Result<Flow, ErrorReply> {
    let snapshot = snapshot(session, me).await.map_err(|error| passport_refusal(syn.trid, error))?;
    let json =
        serde_json::to_vec(&snapshot).map_err(|_| ErrorReply::new(syn.trid, ErrorCode::InternalError))?;
    if json.len() > session.server.config.limits.max_payload {
        // A payload over the limit would be refused by the client's own reader.
        tracing::warn!(user = %me.user, bytes = json.len(), "SYN snapshot exceeds the payload limit");
        return Err(ErrorReply::new(syn.trid, ErrorCode::PayloadTooLarge));
    }
    session.reply(server::Syn { trid: syn.trid, payload: json.into() }.into_frame());
    Ok(Flow::Continue)
}

async fn snapshot(session: &Session, me: &Identity) -> Result<SyncSnapshot, mocha_passport::PassportError> {
    let passport = &session.server.passport;
    let account = passport.account(me.user).await?;
    let contacts = passport.contacts(me.user).await?;
    let blocks = passport.blocks(me.user).await?;
    let requests = passport.contact_requests(me.user).await?;
    let privacy = passport.privacy(me.user).await?;

    let mut synced = Vec::with_capacity(contacts.len());
    for contact in contacts {
        let presence = session.server.live_presence(me.user, contact.user.id).await?.and_then(|live| {
            Some(Presence {
                status: presence_status(live.status)?,
                display_name: live.display_name,
                personal_message: live.personal_message,
            })
        });
        synced.push(SyncContact {
            user: contact.user,
            alias: contact.alias,
            blocked: contact.blocked,
            since: contact.since,
            presence,
        });
    }
    Ok(SyncSnapshot { account, contacts: synced, blocks, requests, request_policy: privacy.contact_requests })
}

fn presence_status(status: Status) -> Option<PresenceStatus> {
    PresenceStatus::from_code(status.code())
}
