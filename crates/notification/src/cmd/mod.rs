//! One module per command family; each applies its commands to a [`Session`].
//!
//! Handlers queue their own replies and return `Err(ErrorReply)` for a refusal the
//! connection survives; [`apply`] sends it.

mod presence;
mod service;
mod sign_in;
mod switchboard;
mod sync;

use mocha_passport::PassportError;
use mocha_proto::ns::ClientCommand;
use mocha_proto::{ErrorCode, ErrorReply};

use crate::session::{Ending, Flow, Identity, Session, Stage};

pub(crate) async fn apply(session: &mut Session, command: ClientCommand) -> Flow {
    let trid = trid_of(&command);
    let outcome = match command {
        ClientCommand::Ver(ver) => sign_in::ver(session, ver),
        ClientCommand::Usr(usr) => sign_in::usr(session, usr).await,
        ClientCommand::Png(png) => service::png(session, png),
        ClientCommand::Out(_) => Ok(Flow::Close(Ending::SignedOut)),
        ClientCommand::Unknown { trid, .. } => Err(ErrorReply::new(trid, ErrorCode::UnknownCommand)),
        signed_in_only => match signed_in(session, trid) {
            Ok(identity) => match signed_in_only {
                ClientCommand::Syn(syn) => sync::syn(session, &identity, syn).await,
                ClientCommand::Chg(chg) => presence::chg(session, &identity, chg).await,
                ClientCommand::Uux(uux) => presence::uux(session, &identity, uux).await,
                ClientCommand::Prp(prp) => presence::prp(session, &identity, prp).await,
                ClientCommand::Xfr(xfr) => switchboard::xfr(session, &identity, xfr),
                ClientCommand::Upd(upd) => service::upd(session, upd).await,
                _ => unreachable!("handled above"),
            },
            Err(refusal) => Err(refusal),
        },
    };
    match outcome {
        Ok(flow) => flow,
        Err(refusal) => {
            session.reply(refusal.into_frame());
            Flow::Continue
        }
    }
}

fn trid_of(command: &ClientCommand) -> u32 {
    match command {
        ClientCommand::Ver(c) => c.trid,
        ClientCommand::Usr(c) => c.trid,
        ClientCommand::Syn(c) => c.trid,
        ClientCommand::Chg(c) => c.trid,
        ClientCommand::Uux(c) => c.trid,
        ClientCommand::Prp(c) => c.trid,
        ClientCommand::Xfr(c) => c.trid,
        ClientCommand::Upd(c) => c.trid,
        ClientCommand::Png(c) => c.trid,
        ClientCommand::Out(c) => c.trid,
        ClientCommand::Unknown { trid, .. } => *trid,
    }
}

/// The signed-in identity, or the error for a command sent too early.
fn signed_in(session: &Session, trid: u32) -> Result<Identity, ErrorReply> {
    match &session.stage {
        Stage::SignedIn(identity) => Ok(identity.clone()),
        Stage::Negotiated => Err(ErrorReply::new(trid, ErrorCode::NotSignedIn)),
        Stage::Connected => Err(refuse(trid, ErrorCode::WrongState, "send VER first")),
    }
}

fn refuse(trid: u32, code: ErrorCode, reason: impl Into<String>) -> ErrorReply {
    ErrorReply { trid, code, reason: reason.into() }
}

/// Maps a Passport refusal to an `ERR`: what the user typed wrong is explained, a
/// full disk is `507` (nothing was changed; try later), an unreachable database `300`
/// (try again in a few seconds), anything else is logged and reported as an internal
/// error.
fn passport_refusal(trid: u32, error: PassportError) -> ErrorReply {
    match error {
        PassportError::Invalid { message, .. } => refuse(trid, ErrorCode::InvalidArgument, message),
        full @ PassportError::StorageFull(_) => {
            tracing::error!(error = ?full, "an NS command could not be stored: the database's storage is full");
            refuse(trid, ErrorCode::StorageFull, full.to_string())
        }
        // The database server is down or restarting: "busy, try again", with the wait.
        unreachable @ PassportError::StorageUnavailable(_) => {
            tracing::error!(error = ?unreachable, "an NS command failed: the database cannot be reached");
            refuse(trid, ErrorCode::ServerBusy, unreachable.to_string())
        }
        other => {
            tracing::error!(error = %other, "Passport call failed during an NS command");
            ErrorReply::new(trid, ErrorCode::InternalError)
        }
    }
}
