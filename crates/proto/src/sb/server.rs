//! Frames a Switchboard sends to a client: replies and conversation pushes.

use bytes::Bytes;

use crate::command::Command;
use crate::common::{ErrorReply, Out};
use crate::frame::Frame;
use crate::ns::client::bare_command;
use crate::parse::{Parse, ParseError};
use crate::text::encode_text;
use crate::token::Token;

/// `USR trid OK <user-id> <display-name-enc>`: the caller is in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Usr {
    /// Transaction id.
    pub trid: u32,
    /// The user's id.
    pub user_id: Token,
    /// The user's display name, decoded.
    pub display_name: String,
}

impl Usr {
    /// Parses a `USR` frame.
    pub fn parse(frame: Frame) -> Result<Self, ParseError> {
        let mut p = Parse::expect(frame, Command::USR)?;
        p.next_literal("OK")?;
        let cmd = Self { trid: p.trid(), user_id: p.next_token()?, display_name: p.next_text()? };
        p.finish()?;
        Ok(cmd)
    }

    /// Builds the frame.
    pub fn into_frame(self) -> Frame {
        Frame::new(Command::USR, self.trid).arg("OK").arg(self.user_id).arg(encode_text(&self.display_name))
    }
}

/// `IRO trid <index> <count> <user-id> <display-name-enc>`: one participant already in
/// the conversation, sent to an invitee right after it joins.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Iro {
    /// The `ANS` transaction id.
    pub trid: u32,
    /// One-based position in the list.
    pub index: u32,
    /// Number of participants listed.
    pub count: u32,
    /// The participant's id.
    pub user_id: Token,
    /// The participant's display name, decoded.
    pub display_name: String,
}

impl Iro {
    /// Parses an `IRO` frame.
    pub fn parse(frame: Frame) -> Result<Self, ParseError> {
        let mut p = Parse::expect(frame, Command::IRO)?;
        let cmd = Self {
            trid: p.trid(),
            index: p.next_u32()?,
            count: p.next_u32()?,
            user_id: p.next_token()?,
            display_name: p.next_text()?,
        };
        p.finish()?;
        Ok(cmd)
    }

    /// Builds the frame.
    pub fn into_frame(self) -> Frame {
        Frame::new(Command::IRO, self.trid)
            .arg(self.index)
            .arg(self.count)
            .arg(self.user_id)
            .arg(encode_text(&self.display_name))
    }
}

/// `ANS trid OK`: the invitee is in (after its `IRO` list).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ans {
    /// Transaction id.
    pub trid: u32,
}

impl Ans {
    /// Parses an `ANS` frame.
    pub fn parse(frame: Frame) -> Result<Self, ParseError> {
        let mut p = Parse::expect(frame, Command::ANS)?;
        p.next_literal("OK")?;
        let cmd = Self { trid: p.trid() };
        p.finish()?;
        Ok(cmd)
    }

    /// Builds the frame.
    pub fn into_frame(self) -> Frame {
        Frame::new(Command::ANS, self.trid).arg("OK")
    }
}

/// `CAL trid RINGING <room-id>`: the invitation is on its way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cal {
    /// Transaction id.
    pub trid: u32,
    /// The conversation's id.
    pub room_id: Token,
}

impl Cal {
    /// Parses a `CAL` frame.
    pub fn parse(frame: Frame) -> Result<Self, ParseError> {
        let mut p = Parse::expect(frame, Command::CAL)?;
        p.next_literal("RINGING")?;
        let cmd = Self { trid: p.trid(), room_id: p.next_token()? };
        p.finish()?;
        Ok(cmd)
    }

    /// Builds the frame.
    pub fn into_frame(self) -> Frame {
        Frame::new(Command::CAL, self.trid).arg("RINGING").arg(self.room_id)
    }
}

/// `JOI 0 <user-id> <display-name-enc>`: someone joined the conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Joi {
    /// The newcomer's id.
    pub user_id: Token,
    /// The newcomer's display name, decoded.
    pub display_name: String,
}

impl Joi {
    /// Parses a `JOI` frame.
    pub fn parse(frame: Frame) -> Result<Self, ParseError> {
        let mut p = Parse::expect(frame, Command::JOI)?;
        p.expect_push()?;
        let cmd = Self { user_id: p.next_token()?, display_name: p.next_text()? };
        p.finish()?;
        Ok(cmd)
    }

    /// Builds the frame.
    pub fn into_frame(self) -> Frame {
        Frame::new(Command::JOI, 0).arg(self.user_id).arg(encode_text(&self.display_name))
    }
}

/// `BYE 0 <user-id> [<reason>]`: someone left the conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bye {
    /// Who left.
    pub user_id: Token,
    /// Why, as a short code (e.g. an `OUT` reason such as `TMO`), if given.
    pub reason: Option<Token>,
}

impl Bye {
    /// Parses a `BYE` frame.
    pub fn parse(frame: Frame) -> Result<Self, ParseError> {
        let mut p = Parse::expect(frame, Command::BYE)?;
        p.expect_push()?;
        let user_id = p.next_token()?;
        let reason = if p.has_more() { Some(p.next_token()?) } else { None };
        p.finish()?;
        Ok(Self { user_id, reason })
    }

    /// Builds the frame.
    pub fn into_frame(self) -> Frame {
        let frame = Frame::new(Command::BYE, 0).arg(self.user_id);
        match self.reason {
            Some(reason) => frame.arg(reason),
            None => frame,
        }
    }
}

/// `MSG 0 <sender-user-id> <sender-display-enc> <len>` + message: a relayed message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Msg {
    /// The sender's id.
    pub sender_id: Token,
    /// The sender's display name, decoded.
    pub sender_display_name: String,
    /// The message as the sender sent it.
    pub payload: Bytes,
}

impl Msg {
    /// Parses a `MSG` frame.
    pub fn parse(frame: Frame) -> Result<Self, ParseError> {
        let mut p = Parse::expect(frame, Command::MSG)?;
        p.expect_push()?;
        let cmd =
            Self { sender_id: p.next_token()?, sender_display_name: p.next_text()?, payload: p.payload()? };
        p.finish()?;
        Ok(cmd)
    }

    /// Builds the frame.
    pub fn into_frame(self) -> Frame {
        Frame::new(Command::MSG, 0)
            .arg(self.sender_id)
            .arg(encode_text(&self.sender_display_name))
            .with_payload(self.payload)
    }
}

bare_command!(
    /// `ACK trid`: the `MSG` with this transaction id was delivered.
    Ack,
    ACK
);
bare_command!(
    /// `NAK trid`: the `MSG` with this transaction id could not be delivered.
    Nak,
    NAK
);

/// `MED 0 <sender-user-id> <call-id> <len>` + bytes: relayed call media.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Med {
    /// The sender's id.
    pub sender_id: Token,
    /// Which call the media belongs to.
    pub call_id: Token,
    /// Opaque media bytes.
    pub payload: Bytes,
}

impl Med {
    /// Parses a `MED` frame.
    pub fn parse(frame: Frame) -> Result<Self, ParseError> {
        let mut p = Parse::expect(frame, Command::MED)?;
        p.expect_push()?;
        let cmd = Self { sender_id: p.next_token()?, call_id: p.next_token()?, payload: p.payload()? };
        p.finish()?;
        Ok(cmd)
    }

    /// Builds the frame.
    pub fn into_frame(self) -> Frame {
        Frame::new(Command::MED, 0).arg(self.sender_id).arg(self.call_id).with_payload(self.payload)
    }
}

/// `RLY 0 <call-id> <relay-host:port> <member-id> <bind-token> <media-key>`: how to reach
/// the call's UDP media relay (see `docs/calls.md`). Sent to each member once the call
/// has two, and to each member who joins later.
#[derive(Clone, PartialEq, Eq)]
pub struct Rly {
    /// Which call.
    pub call_id: Token,
    /// The relay's `host:port` (UDP).
    pub relay: Token,
    /// This member's sender id in every datagram.
    pub member_id: u32,
    /// 22 base64url characters, sent in `BIND`. A credential.
    pub bind_token: Token,
    /// The call's ChaCha20-Poly1305 key, 43 base64url characters. A credential.
    pub media_key: Token,
}

// The token and the key are credentials: they never go into a log line.
impl std::fmt::Debug for Rly {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rly")
            .field("call_id", &self.call_id)
            .field("relay", &self.relay)
            .field("member_id", &self.member_id)
            .finish_non_exhaustive()
    }
}

impl Rly {
    /// Parses an `RLY` frame.
    pub fn parse(frame: Frame) -> Result<Self, ParseError> {
        let mut p = Parse::expect(frame, Command::RLY)?;
        p.expect_push()?;
        let cmd = Self {
            call_id: p.next_token()?,
            relay: p.next_token()?,
            member_id: p.next_u32()?,
            bind_token: p.next_token()?,
            media_key: p.next_token()?,
        };
        p.finish()?;
        Ok(cmd)
    }

    /// Builds the frame.
    pub fn into_frame(self) -> Frame {
        Frame::new(Command::RLY, 0)
            .arg(self.call_id)
            .arg(self.relay)
            .arg(self.member_id)
            .arg(self.bind_token)
            .arg(self.media_key)
    }
}

/// `FIL 0 <sender-user-id> <transfer-id> <offset> <len>` + bytes: a relayed file chunk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fil {
    /// The sender's id.
    pub sender_id: Token,
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
        p.expect_push()?;
        let cmd = Self {
            sender_id: p.next_token()?,
            transfer_id: p.next_token()?,
            offset: p.next_u64()?,
            payload: p.payload()?,
        };
        p.finish()?;
        Ok(cmd)
    }

    /// Builds the frame.
    pub fn into_frame(self) -> Frame {
        Frame::new(Command::FIL, 0)
            .arg(self.sender_id)
            .arg(self.transfer_id)
            .arg(self.offset)
            .with_payload(self.payload)
    }
}

/// Anything a Switchboard may send to a client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerCommand {
    /// `USR` reply.
    Usr(Usr),
    /// `IRO` participant list entry.
    Iro(Iro),
    /// `ANS` reply.
    Ans(Ans),
    /// `CAL` reply.
    Cal(Cal),
    /// `JOI` push.
    Joi(Joi),
    /// `BYE` push.
    Bye(Bye),
    /// `MSG` push.
    Msg(Msg),
    /// `ACK` reply to `MSG`.
    Ack(Ack),
    /// `NAK` reply to `MSG`.
    Nak(Nak),
    /// `MED` push.
    Med(Med),
    /// `FIL` push.
    Fil(Fil),
    /// `RLY` push.
    Rly(Rly),
    /// `ERR` reply.
    Err(ErrorReply),
    /// `OUT` disconnect push.
    Out(Out),
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
            Command::USR => Self::Usr(Usr::parse(frame)?),
            Command::IRO => Self::Iro(Iro::parse(frame)?),
            Command::ANS => Self::Ans(Ans::parse(frame)?),
            Command::CAL => Self::Cal(Cal::parse(frame)?),
            Command::JOI => Self::Joi(Joi::parse(frame)?),
            Command::BYE => Self::Bye(Bye::parse(frame)?),
            Command::MSG => Self::Msg(Msg::parse(frame)?),
            Command::ACK => Self::Ack(Ack::parse(frame)?),
            Command::NAK => Self::Nak(Nak::parse(frame)?),
            Command::MED => Self::Med(Med::parse(frame)?),
            Command::FIL => Self::Fil(Fil::parse(frame)?),
            Command::RLY => Self::Rly(Rly::parse(frame)?),
            Command::ERR => Self::Err(ErrorReply::parse(frame)?),
            Command::OUT => Self::Out(Out::parse(frame)?),
            command => Self::Unknown { command, trid: frame.trid },
        })
    }

    /// Builds the frame.
    pub fn into_frame(self) -> Frame {
        match self {
            Self::Usr(cmd) => cmd.into_frame(),
            Self::Iro(cmd) => cmd.into_frame(),
            Self::Ans(cmd) => cmd.into_frame(),
            Self::Cal(cmd) => cmd.into_frame(),
            Self::Joi(cmd) => cmd.into_frame(),
            Self::Bye(cmd) => cmd.into_frame(),
            Self::Msg(cmd) => cmd.into_frame(),
            Self::Ack(cmd) => cmd.into_frame(),
            Self::Nak(cmd) => cmd.into_frame(),
            Self::Med(cmd) => cmd.into_frame(),
            Self::Fil(cmd) => cmd.into_frame(),
            Self::Rly(cmd) => cmd.into_frame(),
            Self::Err(cmd) => cmd.into_frame(),
            Self::Out(cmd) => cmd.into_frame(),
            Self::Unknown { command, trid } => Frame::minimal(command, trid),
        }
    }
}
