//! Commands a client sends to a Switchboard.

use std::fmt;
use std::str::FromStr;

use bytes::Bytes;

use crate::command::Command;
use crate::frame::Frame;
use crate::ns::client::bare_command;
use crate::parse::{Parse, ParseError};
use crate::token::Token;

/// `USR trid <user-id> <ticket>`: the caller joins with the ticket from `XFR`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Usr {
    /// Transaction id.
    pub trid: u32,
    /// The joining user's id.
    pub user_id: Token,
    /// Ticket from the Notification Server's `XFR` reply.
    pub ticket: Token,
}

impl Usr {
    /// Parses a `USR` frame.
    pub fn parse(frame: Frame) -> Result<Self, ParseError> {
        let mut p = Parse::expect(frame, Command::USR)?;
        let cmd = Self { trid: p.trid(), user_id: p.next_token()?, ticket: p.next_token()? };
        p.finish()?;
        Ok(cmd)
    }

    /// Builds the frame.
    pub fn into_frame(self) -> Frame {
        Frame::new(Command::USR, self.trid).arg(self.user_id).arg(self.ticket)
    }
}

/// `ANS trid <user-id> <ticket> <room-id>`: an invitee joins with the ticket from `RNG`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ans {
    /// Transaction id.
    pub trid: u32,
    /// The joining user's id.
    pub user_id: Token,
    /// Ticket from the `RNG` push.
    pub ticket: Token,
    /// Room id from the `RNG` push.
    pub room_id: Token,
}

impl Ans {
    /// Parses an `ANS` frame.
    pub fn parse(frame: Frame) -> Result<Self, ParseError> {
        let mut p = Parse::expect(frame, Command::ANS)?;
        let cmd = Self {
            trid: p.trid(),
            user_id: p.next_token()?,
            ticket: p.next_token()?,
            room_id: p.next_token()?,
        };
        p.finish()?;
        Ok(cmd)
    }

    /// Builds the frame.
    pub fn into_frame(self) -> Frame {
        Frame::new(Command::ANS, self.trid).arg(self.user_id).arg(self.ticket).arg(self.room_id)
    }
}

/// `CAL trid <user-id-or-username>`: invite someone into the conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cal {
    /// Transaction id.
    pub trid: u32,
    /// Who to invite, by id or username.
    pub invitee: Token,
}

impl Cal {
    /// Parses a `CAL` frame.
    pub fn parse(frame: Frame) -> Result<Self, ParseError> {
        let mut p = Parse::expect(frame, Command::CAL)?;
        let cmd = Self { trid: p.trid(), invitee: p.next_token()? };
        p.finish()?;
        Ok(cmd)
    }

    /// Builds the frame.
    pub fn into_frame(self) -> Frame {
        Frame::new(Command::CAL, self.trid).arg(self.invitee)
    }
}

/// Whether and when the switchboard acknowledges a `MSG`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AckMode {
    /// `U`: never.
    Unacknowledged,
    /// `N`: `NAK` on failure only.
    NakOnly,
    /// `A`: `ACK` on delivery, `NAK` on failure.
    Always,
}

/// Returned for an ack mode other than `U`, `N` or `A`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("ack mode must be U, N or A")]
pub struct InvalidAckMode;

impl FromStr for AckMode {
    type Err = InvalidAckMode;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "U" => Ok(AckMode::Unacknowledged),
            "N" => Ok(AckMode::NakOnly),
            "A" => Ok(AckMode::Always),
            _ => Err(InvalidAckMode),
        }
    }
}

impl fmt::Display for AckMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            AckMode::Unacknowledged => "U",
            AckMode::NakOnly => "N",
            AckMode::Always => "A",
        })
    }
}

/// `MSG trid <ack-mode> <len>` + message: send a message to everyone in the conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Msg {
    /// Transaction id, echoed by `ACK`/`NAK`.
    pub trid: u32,
    /// Acknowledgement wanted.
    pub ack: AckMode,
    /// The message, normally a [`crate::MessagePayload`] in wire form; relayed as is.
    pub payload: Bytes,
}

impl Msg {
    /// Parses a `MSG` frame.
    pub fn parse(frame: Frame) -> Result<Self, ParseError> {
        let mut p = Parse::expect(frame, Command::MSG)?;
        let cmd = Self { trid: p.trid(), ack: p.next_enum()?, payload: p.payload()? };
        p.finish()?;
        Ok(cmd)
    }

    /// Builds the frame.
    pub fn into_frame(self) -> Frame {
        Frame::new(Command::MSG, self.trid).arg(self.ack).with_payload(self.payload)
    }
}

/// `MED trid <call-id> <len>` + bytes: media for a voice or video call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Med {
    /// Transaction id.
    pub trid: u32,
    /// Which call the media belongs to.
    pub call_id: Token,
    /// Opaque media bytes.
    pub payload: Bytes,
}

impl Med {
    /// Parses a `MED` frame.
    pub fn parse(frame: Frame) -> Result<Self, ParseError> {
        let mut p = Parse::expect(frame, Command::MED)?;
        let cmd = Self { trid: p.trid(), call_id: p.next_token()?, payload: p.payload()? };
        p.finish()?;
        Ok(cmd)
    }

    /// Builds the frame.
    pub fn into_frame(self) -> Frame {
        Frame::new(Command::MED, self.trid).arg(self.call_id).with_payload(self.payload)
    }
}

/// `FIL trid <transfer-id> <offset> <len>` + bytes: one chunk of a file transfer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fil {
    /// Transaction id.
    pub trid: u32,
    /// Which transfer the chunk belongs to.
    pub transfer_id: Token,
    /// Byte offset of the chunk within the file.
    pub offset: u64,
    /// The chunk.
    pub payload: Bytes,
}

impl Fil {
    /// Parses a `FIL` frame.
    pub fn parse(frame: Frame) -> Result<Self, ParseError> {
        let mut p = Parse::expect(frame, Command::FIL)?;
        let cmd = Self {
            trid: p.trid(),
            transfer_id: p.next_token()?,
            offset: p.next_u64()?,
            payload: p.payload()?,
        };
        p.finish()?;
        Ok(cmd)
    }

    /// Builds the frame.
    pub fn into_frame(self) -> Frame {
        Frame::new(Command::FIL, self.trid).arg(self.transfer_id).arg(self.offset).with_payload(self.payload)
    }
}

bare_command!(
    /// `OUT trid`: leave the conversation.
    Out,
    OUT
);

/// Anything a client may send to a Switchboard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientCommand {
    /// `USR`
    Usr(Usr),
    /// `ANS`
    Ans(Ans),
    /// `CAL`
    Cal(Cal),
    /// `MSG`
    Msg(Msg),
    /// `MED`
    Med(Med),
    /// `FIL`
    Fil(Fil),
    /// `OUT`
    Out(Out),
    /// A command the switchboard does not know: reply `ERR trid 202`, do not disconnect.
    Unknown {
        /// The unrecognised command.
        command: Command,
        /// Its transaction id.
        trid: u32,
    },
}

impl ClientCommand {
    /// Dispatches on the frame's command. Unknown commands succeed as
    /// [`ClientCommand::Unknown`]; known ones with bad arguments fail.
    pub fn parse(frame: Frame) -> Result<Self, ParseError> {
        Ok(match frame.command {
            Command::USR => Self::Usr(Usr::parse(frame)?),
            Command::ANS => Self::Ans(Ans::parse(frame)?),
            Command::CAL => Self::Cal(Cal::parse(frame)?),
            Command::MSG => Self::Msg(Msg::parse(frame)?),
            Command::MED => Self::Med(Med::parse(frame)?),
            Command::FIL => Self::Fil(Fil::parse(frame)?),
            Command::OUT => Self::Out(Out::parse(frame)?),
            command => Self::Unknown { command, trid: frame.trid },
        })
    }

    /// Builds the frame.
    pub fn into_frame(self) -> Frame {
        match self {
            Self::Usr(cmd) => cmd.into_frame(),
            Self::Ans(cmd) => cmd.into_frame(),
            Self::Cal(cmd) => cmd.into_frame(),
            Self::Msg(cmd) => cmd.into_frame(),
            Self::Med(cmd) => cmd.into_frame(),
            Self::Fil(cmd) => cmd.into_frame(),
            Self::Out(cmd) => cmd.into_frame(),
            Self::Unknown { command, trid } => Frame::minimal(command, trid),
        }
    }
}
