//! `VER` and `USR`: version negotiation and sign-in with a Passport session token.

use std::sync::Arc;

use mocha_passport::PassportError;
use mocha_proto::ns::client::{Usr, Ver};
use mocha_proto::ns::server;
use mocha_proto::{ErrorCode, ErrorReply, PROTOCOL_VERSION, Token};

use super::refuse;
use crate::front::{Attach, MenpFront};
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
    let verified = match server.authenticate(usr.token.as_str()).await {
        Ok(verified) => verified,
        Err(error) => {
            let refusal = auth_refusal(trid, error);
            tracing::info!(peer = %session.peer, code = %refusal.code, "NS sign-in refused");
            metrics::counter!("mocha_sign_ins_total", "service" => "notification", "result" => "refused")
                .increment(1);
            session.reply(refusal.into_frame());
            return Ok(Flow::Close(Ending::AfterReply("sign-in refused")));
        }
    };
    let user = verified.authenticated.user;
    let account = &verified.account;
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
    session.stage = Stage::SignedIn(Identity { user, username: account.username.clone() });
    tracing::info!(peer = %session.peer, %user, "NS client signed in");
    metrics::counter!("mocha_sign_ins_total", "service" => "notification", "result" => "ok").increment(1);
    server
        .attach(Attach {
            verified,
            connection: session.connection,
            outbox: session.outbox.clone(),
            front: Arc::new(MenpFront),
        })
        .await;
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
