//! Replies the Notification Server sends to client commands, and the enum of everything
//! it can send (replies plus the pushes in [`super::push`]).

use bytes::Bytes;

use super::push::{Con, Fln, Nln, Not, Rng, Ubx};
use crate::command::Command;
use crate::common::{ErrorReply, Out};
use crate::frame::Frame;
use crate::ns::client::next_settable_status;
use crate::parse::{Parse, ParseError};
use crate::status::Status;
use crate::text::encode_text;
use crate::token::Token;

/// `VER trid <version>`: the version the server picked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ver {
    /// Transaction id.
    pub trid: u32,
    /// The chosen version.
    pub version: Token,
}

impl Ver {
    /// Parses a `VER` frame.
    pub fn parse(frame: Frame) -> Result<Self, ParseError> {
        let mut p = Parse::expect(frame, Command::VER)?;
        let cmd = Self { trid: p.trid(), version: p.next_token()? };
        p.finish()?;
        Ok(cmd)
    }

    /// Builds the frame.
    pub fn into_frame(self) -> Frame {
        Frame::new(Command::VER, self.trid).arg(self.version)
    }
}

/// `USR trid OK <user-id> <username> <display-name-enc>`: signed in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Usr {
    /// Transaction id.
    pub trid: u32,
    /// The account's id.
    pub user_id: Token,
    /// The account's username.
    pub username: Token,
    /// The account's display name, decoded.
    pub display_name: String,
}

impl Usr {
    /// Parses a `USR` frame.
    pub fn parse(frame: Frame) -> Result<Self, ParseError> {
        let mut p = Parse::expect(frame, Command::USR)?;
        p.next_literal("OK")?;
        let cmd = Self {
            trid: p.trid(),
            user_id: p.next_token()?,
            username: p.next_token()?,
            display_name: p.next_text()?,
        };
        p.finish()?;
        Ok(cmd)
    }

    /// Builds the frame.
    pub fn into_frame(self) -> Frame {
        Frame::new(Command::USR, self.trid)
            .arg("OK")
            .arg(self.user_id)
            .arg(self.username)
            .arg(encode_text(&self.display_name))
    }
}

/// Defines a reply that carries a transaction id and an opaque payload.
macro_rules! payload_reply {
    ($(#[$doc:meta])* $name:ident, $command:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub struct $name {
            /// Transaction id.
            pub trid: u32,
            /// The JSON document, uninterpreted.
            pub payload: Bytes,
        }

        impl $name {
            /// Parses the frame.
            pub fn parse(frame: Frame) -> Result<Self, ParseError> {
                let mut p = Parse::expect(frame, Command::$command)?;
                let cmd = Self {
                    trid: p.trid(),
                    payload: p.payload()?,
                };
                p.finish()?;
                Ok(cmd)
            }

            /// Builds the frame.
            pub fn into_frame(self) -> Frame {
                Frame::new(Command::$command, self.trid).with_payload(self.payload)
            }
        }
    };
}

payload_reply!(
    /// `SYN trid <len>` + JSON: the contact list and settings.
    Syn,
    SYN
);
payload_reply!(
    /// `UPD trid <len>` + JSON: the update-check answer.
    Upd,
    UPD
);

/// `CHG trid <status>`: presence changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Chg {
    /// Transaction id.
    pub trid: u32,
    /// The status now in force.
    pub status: Status,
}

impl Chg {
    /// Parses a `CHG` frame.
    pub fn parse(frame: Frame) -> Result<Self, ParseError> {
        let mut p = Parse::expect(frame, Command::CHG)?;
        let cmd = Self { trid: p.trid(), status: next_settable_status(&mut p)? };
        p.finish()?;
        Ok(cmd)
    }

    /// Builds the frame.
    pub fn into_frame(self) -> Frame {
        Frame::new(Command::CHG, self.trid).arg(self.status)
    }
}

/// `UUX trid 0`: personal message stored (an empty payload).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Uux {
    /// Transaction id.
    pub trid: u32,
}

impl Uux {
    /// Parses a `UUX` frame.
    pub fn parse(frame: Frame) -> Result<Self, ParseError> {
        let mut p = Parse::expect(frame, Command::UUX)?;
        if !p.payload()?.is_empty() {
            return Err(ParseError::UnexpectedPayload);
        }
        let cmd = Self { trid: p.trid() };
        p.finish()?;
        Ok(cmd)
    }

    /// Builds the frame.
    pub fn into_frame(self) -> Frame {
        Frame::new(Command::UUX, self.trid).with_payload(Bytes::new())
    }
}

/// `PRP trid MFN <display-name-enc>`: display name changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prp {
    /// Transaction id.
    pub trid: u32,
    /// The display name now in force, decoded.
    pub display_name: String,
}

impl Prp {
    /// Parses a `PRP` frame.
    pub fn parse(frame: Frame) -> Result<Self, ParseError> {
        let mut p = Parse::expect(frame, Command::PRP)?;
        p.next_literal("MFN")?;
        let cmd = Self { trid: p.trid(), display_name: p.next_text()? };
        p.finish()?;
        Ok(cmd)
    }

    /// Builds the frame.
    pub fn into_frame(self) -> Frame {
        Frame::new(Command::PRP, self.trid).arg("MFN").arg(encode_text(&self.display_name))
    }
}

/// `XFR trid SB <host:port> <ticket>`: where to open a switchboard session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Xfr {
    /// Transaction id.
    pub trid: u32,
    /// Switchboard address, `host:port`.
    pub address: Token,
    /// Ticket to present in the switchboard's `USR`.
    pub ticket: Token,
}

impl Xfr {
    /// Parses an `XFR` frame.
    pub fn parse(frame: Frame) -> Result<Self, ParseError> {
        let mut p = Parse::expect(frame, Command::XFR)?;
        p.next_literal("SB")?;
        let cmd = Self { trid: p.trid(), address: p.next_token()?, ticket: p.next_token()? };
        p.finish()?;
        Ok(cmd)
    }

    /// Builds the frame.
    pub fn into_frame(self) -> Frame {
        Frame::new(Command::XFR, self.trid).arg("SB").arg(self.address).arg(self.ticket)
    }
}

/// `QNG trid <seconds>`: pong, with the number of seconds until the next `PNG` is due.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Qng {
    /// Transaction id.
    pub trid: u32,
    /// Seconds until the server expects the next ping.
    pub seconds: u32,
}

impl Qng {
    /// Parses a `QNG` frame.
    pub fn parse(frame: Frame) -> Result<Self, ParseError> {
        let mut p = Parse::expect(frame, Command::QNG)?;
        let cmd = Self { trid: p.trid(), seconds: p.next_u32()? };
        p.finish()?;
        Ok(cmd)
    }

    /// Builds the frame.
    pub fn into_frame(self) -> Frame {
        Frame::new(Command::QNG, self.trid).arg(self.seconds)
    }
}

/// Anything the Notification Server may send to a client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerCommand {
    /// `VER` reply.
    Ver(Ver),
    /// `USR` reply.
    Usr(Usr),
    /// `SYN` reply.
    Syn(Syn),
    /// `CHG` reply.
    Chg(Chg),
    /// `UUX` reply.
    Uux(Uux),
    /// `PRP` reply.
    Prp(Prp),
    /// `XFR` reply.
    Xfr(Xfr),
    /// `UPD` reply.
    Upd(Upd),
    /// `QNG`, the reply to `PNG`.
    Qng(Qng),
    /// `NLN` presence push.
    Nln(Nln),
    /// `FLN` offline push.
    Fln(Fln),
    /// `UBX` personal-message push.
    Ubx(Ubx),
    /// `CON` contact-list change push.
    Con(Con),
    /// `NOT` notice push.
    Not(Not),
    /// `RNG` conversation invitation push.
    Rng(Rng),
    /// `OUT` disconnect push.
    Out(Out),
    /// `ERR` reply.
    Err(ErrorReply),
    /// A command this client does not know; newer servers may send them. Ignore it.
    Unknown {
        /// The unrecognised command.
        command: Command,
        /// Its transaction id.
        trid: u32,
    },
}

impl ServerCommand {
    /// Dispatches on the frame's command. Unknown commands succeed as
    /// [`ServerCommand::Unknown`]; known ones with bad arguments fail.
    pub fn parse(frame: Frame) -> Result<Self, ParseError> {
        Ok(match frame.command {
            Command::VER => Self::Ver(Ver::parse(frame)?),
            Command::USR => Self::Usr(Usr::parse(frame)?),
            Command::SYN => Self::Syn(Syn::parse(frame)?),
            Command::CHG => Self::Chg(Chg::parse(frame)?),
            Command::UUX => Self::Uux(Uux::parse(frame)?),
            Command::PRP => Self::Prp(Prp::parse(frame)?),
            Command::XFR => Self::Xfr(Xfr::parse(frame)?),
            Command::UPD => Self::Upd(Upd::parse(frame)?),
            Command::QNG => Self::Qng(Qng::parse(frame)?),
            Command::NLN => Self::Nln(Nln::parse(frame)?),
            Command::FLN => Self::Fln(Fln::parse(frame)?),
            Command::UBX => Self::Ubx(Ubx::parse(frame)?),
            Command::CON => Self::Con(Con::parse(frame)?),
            Command::NOT => Self::Not(Not::parse(frame)?),
            Command::RNG => Self::Rng(Rng::parse(frame)?),
            Command::OUT => Self::Out(Out::parse(frame)?),
            Command::ERR => Self::Err(ErrorReply::parse(frame)?),
            command => Self::Unknown { command, trid: frame.trid },
        })
    }

    /// Builds the frame.
    pub fn into_frame(self) -> Frame {
        match self {
            Self::Ver(cmd) => cmd.into_frame(),
            Self::Usr(cmd) => cmd.into_frame(),
            Self::Syn(cmd) => cmd.into_frame(),
            Self::Chg(cmd) => cmd.into_frame(),
            Self::Uux(cmd) => cmd.into_frame(),
            Self::Prp(cmd) => cmd.into_frame(),
            Self::Xfr(cmd) => cmd.into_frame(),
            Self::Upd(cmd) => cmd.into_frame(),
            Self::Qng(cmd) => cmd.into_frame(),
            Self::Nln(cmd) => cmd.into_frame(),
            Self::Fln(cmd) => cmd.into_frame(),
            Self::Ubx(cmd) => cmd.into_frame(),
            Self::Con(cmd) => cmd.into_frame(),
            Self::Not(cmd) => cmd.into_frame(),
            Self::Rng(cmd) => cmd.into_frame(),
            Self::Out(cmd) => cmd.into_frame(),
            Self::Err(cmd) => cmd.into_frame(),
            Self::Unknown { command, trid } => Frame::minimal(command, trid),
        }
    }
}
