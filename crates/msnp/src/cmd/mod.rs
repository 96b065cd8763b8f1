//! One module per command family; each applies its commands to a [`Session`].
//!
//! Handlers queue their own replies and return `Err(Refusal)` for a refusal the
//! connection survives; [`apply`] sends it as `<code> <trid>`.

mod contacts;
mod presence;
mod sign_in;
mod switchboard;
mod sync;

use mocha_passport::PassportError;

use crate::error::Code;
use crate::line::Line;
use crate::session::{Ending, Flow, Identity, Session, Stage};
use crate::wire;

/// An MSNP error answer to a command.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Refusal {
    pub code: Code,
    pub trid: u32,
}

pub(crate) fn refuse(code: Code, trid: u32) -> Refusal {
    Refusal { code, trid }
}

pub(crate) async fn apply(session: &mut Session, line: Line) -> Flow {
    let trid = line.trid().unwrap_or(0);
    let outcome = match line.command.as_str() {
        "VER" => sign_in::ver(session, &line),
        "CVR" => sign_in::cvr(session, &line),
        "USR" => sign_in::usr(session, &line).await,
        // MSNP clients send a bare `PNG`; `QNG` says when to ping next.
        "PNG" => {
            let seconds = session.gateway.config.ping_interval_seconds();
            session.send(wire::line(["QNG".to_string(), seconds.to_string()]));
            Ok(Flow::Continue)
        }
        "OUT" => Ok(Flow::Close(Ending::SignedOut)),
        command @ ("SYN" | "GCF" | "CHG" | "UUX" | "PRP" | "REA" | "BLP" | "GTC" | "ADG" | "RMG" | "REG"
        | "SBP" | "ADC" | "ADD" | "REM" | "XFR" | "URL" | "QRY" | "SDC" | "SND") => {
            match signed_in(session, trid) {
                Ok(me) => match command {
                    "SYN" => sync::syn(session, &me, &line).await,
                    "GCF" => sync::gcf(session, &line),
                    "BLP" => sync::blp(session, &line),
                    "GTC" => sync::gtc(session, &line),
                    // Contact groups stay on each client (docs/msnp.md).
                    "ADG" | "RMG" | "REG" => Err(refuse(Code::CommandDisabled, trid)),
                    "CHG" => presence::chg(session, &me, &line).await,
                    "UUX" => presence::uux(session, &me, &line).await,
                    "PRP" => presence::prp(session, &me, &line).await,
                    "REA" => presence::rea(session, &me, &line).await,
                    "ADC" if session.version.has_guids() => contacts::adc(session, &me, &line).await,
                    "ADD" if !session.version.has_guids() => contacts::add_msnp8(session, &me, &line).await,
                    "REM" => contacts::rem(session, &me, &line).await,
                    "XFR" => switchboard::xfr(session, &me, &line),
                    // Not built yet (docs/msnp.md): per-contact names, Hotmail links, the
                    // challenge, invitations by mail.
                    _ => Err(refuse(Code::CommandDisabled, trid)),
                },
                Err(refusal) => Err(refusal),
            }
        }
        _ => Err(refuse(Code::Syntax, trid)),
    };
    match outcome {
        Ok(flow) => flow,
        Err(refusal) => {
            tracing::debug!(peer = %session.peer, command = %line.command, code = refusal.code.number(), "MSNP command refused");
            session.send(wire::error(refusal.code, refusal.trid));
            Flow::Continue
        }
    }
}

fn signed_in(session: &Session, trid: u32) -> Result<Identity, Refusal> {
    match &session.stage {
        Stage::SignedIn(identity) => Ok(identity.clone()),
        _ => Err(refuse(Code::NotExpected, trid)),
    }
}

/// Maps a Passport refusal to an MSNP code: what the user typed wrong is an invalid
/// argument, a full disk `603`, an unreachable database `600` (try again), anything
/// else is logged and reported as an internal error.
pub(crate) fn passport_refusal(trid: u32, error: PassportError) -> Refusal {
    match error {
        PassportError::Invalid { .. } => refuse(Code::InvalidArgument, trid),
        PassportError::NotFound(_) => refuse(Code::UnknownPrincipal, trid),
        full @ PassportError::StorageFull(_) => {
            tracing::error!(error = ?full, "an MSNP command could not be stored: the database's storage is full");
            refuse(Code::StorageFull, trid)
        }
        unreachable @ PassportError::StorageUnavailable(_) => {
            tracing::error!(error = ?unreachable, "an MSNP command failed: the database cannot be reached");
            refuse(Code::ServerBusy, trid)
        }
        other => {
            tracing::error!(error = %other, "Passport call failed during an MSNP command");
            refuse(Code::Internal, trid)
        }
    }
}
