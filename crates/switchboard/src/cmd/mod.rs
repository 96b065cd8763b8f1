//! One module per command family; [`apply`] dispatches a frame to it.

mod invite;
mod join;
mod message;
mod relay;

use mocha_proto::sb::ClientCommand;
use mocha_proto::{ErrorCode, Frame};

use crate::session::{Ending, Flow, Session};

pub(crate) async fn apply(session: &mut Session, frame: Frame) -> Flow {
    let trid = frame.trid;
    let command = match ClientCommand::parse(frame) {
        Ok(command) => command,
        Err(e) => {
            session.error(trid, e.error_code(), e);
            return Flow::Continue;
        }
    };
    match (command, session.member.is_some()) {
        (ClientCommand::Usr(usr), false) => join::caller(session, usr).await,
        (ClientCommand::Ans(ans), false) => join::callee(session, ans).await,
        (ClientCommand::Usr(_) | ClientCommand::Ans(_), true) => {
            session.error(trid, ErrorCode::AlreadySignedIn, "already in this conversation");
        }
        (ClientCommand::Out(_), _) => return Flow::Close(Ending::Left),
        (ClientCommand::Unknown { command, trid }, _) => {
            session.error(trid, ErrorCode::UnknownCommand, format!("unknown command {command}"));
        }
        (_, false) => session.error(trid, ErrorCode::NotSignedIn, "join a conversation first (USR or ANS)"),
        (ClientCommand::Cal(cal), true) => invite::call(session, cal).await,
        (ClientCommand::Msg(msg), true) => message::send(session, msg).await,
        (ClientCommand::Med(med), true) => relay::media(session, med),
        (ClientCommand::Fil(fil), true) => relay::file_chunk(session, fil).await,
    }
    Flow::Continue
}
