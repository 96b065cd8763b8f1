//! `VER` and `USR`: version negotiation and sign-in with a Passport session token.

use mocha_passport::PassportError;
use mocha_proto::ns::client::{Usr, Ver};
use mocha_proto::ns::server;
use mocha_proto::{ErrorCode, ErrorReply, OutReason, PROTOCOL_VERSION, Token};

use super::refuse;
use crate::presence::Change;
use crate::registry::{Entry, PresenceState};
use crate::session::{Ending, Flow, Identity, Session, Stage};

pub(super) fn ver(session: &mut Session, ver: Ver) -> Result<Flow, ErrorReply> {
    if !matches!(session.stage, Stage::Connected) {
        return Err(refuse(ver.trid, ErrorCode::WrongState, "VER is only allowed first"));
    }
    if !ver.versions.iter().any(|version| version == PROTOCOL_VERSION) {
        session.reply(ErrorReply::new(ver.trid, ErrorCode::VersionNotSupported).into_frame());
        return Ok(Flow::Close(Ending::AfterReply("no common protocol version")));
    }
    let version = Token::new(PROTOCOL_VERSION).expect("the protocol version is a valid token");
    session.reply(server::Ver { trid: ver.trid, version }.into_frame());
    session.stage = Stage::Negotiated;
    Ok(Flow::Continue)
}

pub(super) async fn usr(session: &mut Session, usr: Usr) -> Result<Flow, ErrorReply> {
    let trid = usr.trid;
    match session.stage {
        Stage::Connected => return Err(refuse(trid, ErrorCode::WrongState, "send VER first")),
        Stage::SignedIn(_) => return Err(ErrorReply::new(trid, ErrorCode::AlreadySignedIn)),
        Stage::Negotiated => {}
    }
    let server = session.server.clone();
    let authenticated = match server.passport.authenticate(usr.token.as_str()).await {
        Ok(authenticated) => authenticated,
        Err(error) => {
            let refusal = auth_refusal(trid, error);
            tracing::info!(peer = %session.peer, code = %refusal.code, "NS sign-in refused");
            metrics::counter!("mocha_sign_ins_total", "service" => "notification", "result" => "refused")
                .increment(1);
            session.reply(refusal.into_frame());
            return Ok(Flow::Close(Ending::AfterReply("sign-in refused")));
        }
    };
    let user = authenticated.user;
    let account = server.passport.account(user).await.map_err(|e| super::passport_refusal(trid, e))?;
    let username = Token::new(account.username.clone())
        .map_err(|_| refuse(trid, ErrorCode::InternalError, "the username cannot be sent"))?;

    // The reply goes first, so no push can reach the client before it knows who it is.
    session.reply(
        server::Usr {
            trid,
            user_id: mocha_net::user_token(user),
            username,
            display_name: account.display_name.clone(),
        }
        .into_frame(),
    );
    let entry = Entry {
        connection: session.connection,
        sign_in: authenticated.sign_in.clone(),
        outbox: session.outbox.clone(),
        presence: PresenceState {
            status: None,
            display_name: account.display_name,
            personal_message: String::new(),
        },
        last_watchers: Vec::new(),
    };
    let displaced = server.registry.insert(user, entry);
    session.stage = Stage::SignedIn(Identity { user });
    tracing::info!(peer = %session.peer, %user, "NS client signed in");
    metrics::counter!("mocha_sign_ins_total", "service" => "notification", "result" => "ok").increment(1);
    if let Some(older) = displaced {
        older.outbox.kick(OutReason::SignedInElsewhere);
        // The new session starts offline until its first CHG; watchers must see that.
        let was_visible = older.presence.visible_status().is_some();
        server.announce(user, Change::Gone { was_visible }).await;
    }
    // A ban, deletion or sign-out that landed while we were checking the token found no
    // session to end; look again now that the session is registered. The signature was
    // verified above and cannot change, so only the database is asked again (and a token
    // that expires meanwhile does not matter: expiry only limits new sign-ins).
    match server.passport.recheck(&authenticated).await {
        Ok(()) => {}
        Err(PassportError::Banned(ban)) => {
            session.outbox.kick(mocha_net::banned(&ban));
        }
        // The token checked out a moment ago; an unreachable database is no reason to
        // end the session, and a ban landing meanwhile is still pushed as an event.
        Err(error @ PassportError::StorageUnavailable(_)) => {
            tracing::warn!(%user, %error, "could not recheck a new NS session; keeping it");
        }
        Err(_) => session.outbox.kick(OutReason::SignInRevoked),
    }
    Ok(Flow::Continue)
}

fn auth_refusal(trid: u32, error: PassportError) -> ErrorReply {
    match error {
        PassportError::InvalidSessionToken => ErrorReply::new(trid, ErrorCode::AuthenticationFailed),
        PassportError::SignInRevoked => {
            refuse(trid, ErrorCode::AuthenticationFailed, "this sign-in was revoked; sign in again")
        }
        PassportError::SessionExpired => {
            refuse(trid, ErrorCode::TokenExpired, "the session token has expired")
        }
        // The message names the reason and the end of the ban.
        banned @ PassportError::Banned(_) => refuse(trid, ErrorCode::AccountBanned, banned.to_string()),
        other => super::passport_refusal(trid, other),
    }
}
