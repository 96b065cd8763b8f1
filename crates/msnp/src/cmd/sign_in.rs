//! `VER`, `CVR` and `USR TWN`: version negotiation and the Passport 1.4 (Tweener) sign-in.
//!
//! `USR TWN I <handle>` names the account and gets a challenge string; the client takes
//! it to the login URL (`nexus.rs`), which checks the password and returns `t=<token>`,
//! a Mocha session token (short-lived, signed, naming its Passport sign-in); `USR TWN S
//! t=<token>` signs in if the token checks out *and* belongs to the account named in
//! `USR TWN I`.

use std::sync::Arc;

use mocha_notification::Attach;
use mocha_passport::PassportError;
use mocha_proto::encode_text;

use super::{Refusal, passport_refusal, refuse};
use crate::error::Code;
use crate::handle::username;
use crate::line::Line;
use crate::render::Version;
use crate::session::{Ending, Flow, Identity, Session, Stage};
use crate::wire;

/// `VER <trid> MSNP12 MSNP11 … CVR0`: the newest version both sides speak.
pub(super) fn ver(session: &mut Session, line: &Line) -> Result<Flow, Refusal> {
    let trid = line.trid().ok_or(refuse(Code::Syntax, 0))?;
    if !matches!(session.stage, Stage::Connected) {
        return Err(refuse(Code::NotExpected, trid));
    }
    let best = line.args[1..]
        .iter()
        .filter_map(|arg| arg.strip_prefix("MSNP")?.parse::<u8>().ok())
        .filter(|version| (Version::OLDEST.0..=Version::NEWEST.0).contains(version))
        .max();
    let Some(best) = best else {
        session.send(wire::line(["VER", &trid.to_string(), "0"]));
        return Ok(Flow::Close(Ending::AfterReply("no common MSNP version")));
    };
    session.version = Version(best);
    session.stage = Stage::Negotiated;
    session.send(wire::line(["VER".to_string(), trid.to_string(), format!("MSNP{best}"), "CVR0".into()]));
    Ok(Flow::Continue)
}

/// `CVR <trid> <locale> <os> <os-version> <arch> <client> <version> …`: the client's
/// build. Answered with the client's own version as the recommended one: Mocha does not
/// hand out classic client updates.
pub(super) fn cvr(session: &mut Session, line: &Line) -> Result<Flow, Refusal> {
    let trid = line.trid().ok_or(refuse(Code::Syntax, 0))?;
    if matches!(session.stage, Stage::Connected) {
        return Err(refuse(Code::NotExpected, trid));
    }
    let version = line.arg(5).ok_or(refuse(Code::Syntax, trid))?;
    let url = format!("http://{}/", session.gateway.config.public_host);
    let trid = trid.to_string();
    session.send(wire::line(["CVR", &trid, version, version, version, &url, &url]));
    Ok(Flow::Continue)
}

pub(super) async fn usr(session: &mut Session, line: &Line) -> Result<Flow, Refusal> {
    let trid = line.trid().ok_or(refuse(Code::Syntax, 0))?;
    if line.arg(0) != Some("TWN") {
        // MSNP8+ only knows Tweener; MD5 was MSNP7's.
        return Err(refuse(Code::InvalidArgument, trid));
    }
    match (&session.stage, line.arg(1)) {
        (Stage::SignedIn(_), _) => Err(refuse(Code::AlreadySignedIn, trid)),
        (Stage::Connected, _) => Err(refuse(Code::NotExpected, trid)),
        (Stage::Negotiated | Stage::Challenged { .. }, Some("I")) => challenge(session, line, trid),
        (Stage::Challenged { .. }, Some("S")) => sign_in(session, line, trid).await,
        _ => Err(refuse(Code::NotExpected, trid)),
    }
}

/// `USR <trid> TWN I <handle>` → `USR <trid> TWN S <challenge>`.
fn challenge(session: &mut Session, line: &Line, trid: u32) -> Result<Flow, Refusal> {
    let given = line.arg(2).ok_or(refuse(Code::Syntax, trid))?;
    let name = username(given).ok_or(refuse(Code::UnknownPrincipal, trid))?;
    session.stage = Stage::Challenged { username: name.to_string() };
    let nonce: String = mocha_auth::random_id::<16>();
    let challenge = format!(
        "lc=1033,id=507,tw=40,fs=1,ru=http%3A%2F%2Fmessenger%2Emsn%2Ecom,ct={},kpp=1,kv=5,ver=2.1.0173.1,tpf={nonce}",
        mocha_auth::unix_now()
    );
    session.send(wire::line(["USR", &trid.to_string(), "TWN", "S", &challenge]));
    Ok(Flow::Continue)
}

/// `USR <trid> TWN S t=<token>[&p=…]` → `USR <trid> OK <handle> [<name>] 1 0`, then the
/// session joins the core (replacing any live one on either protocol).
async fn sign_in(session: &mut Session, line: &Line, trid: u32) -> Result<Flow, Refusal> {
    let Stage::Challenged { username: claimed } = &session.stage else {
        return Err(refuse(Code::NotExpected, trid));
    };
    let claimed = claimed.clone();
    let ticket = line.arg(2).ok_or(refuse(Code::Syntax, trid))?;
    let token = ticket.strip_prefix("t=").unwrap_or(ticket);
    let token = token.split('&').next().unwrap_or_default();
    let core = session.gateway.core.clone();
    let refused = |session: &mut Session, why: &str| {
        tracing::info!(peer = %session.peer, why, "MSNP sign-in refused");
        session.send(wire::error(Code::AuthenticationFailed, trid));
        Ok(Flow::Close(Ending::AfterReply("sign-in refused")))
    };
    let verified = match core.authenticate(token).await {
        Ok(verified) => verified,
        Err(error @ (PassportError::StorageUnavailable(_) | PassportError::StorageFull(_))) => {
            return Err(passport_refusal(trid, error));
        }
        Err(error) => return refused(session, &error.to_string()),
    };
    let user = verified.authenticated.user;
    let account = &verified.account;
    if !account.username.eq_ignore_ascii_case(&claimed) {
        return refused(session, "the token belongs to another account than USR TWN I named");
    }
    let mut reply = vec!["USR".to_string(), trid.to_string(), "OK".into(), account.username.clone()];
    if !session.version.has_guids() {
        // MSNP8 and 9 carry the display name here; later versions send `PRP MFN` in `SYN`.
        reply.push(encode_text(&account.display_name));
    }
    reply.extend(["1".to_string(), "0".to_string()]);
    // The reply goes first, so no push can reach the client before it knows who it is.
    session.send(wire::line(reply));
    session.stage = Stage::SignedIn(Identity {
        user,
        username: account.username.clone(),
        sign_in: verified.authenticated.sign_in.clone(),
        chose_status: false,
    });
    tracing::info!(peer = %session.peer, %user, version = session.version.0, "MSNP client signed in");
    core.attach(Attach {
        verified,
        connection: session.connection,
        outbox: session.outbox.clone(),
        front: Arc::new(session.front()),
    })
    .await;
    Ok(Flow::Continue)
}
