//! Pushes: frames the Notification Server sends unprompted, always with transaction id 0.

use bytes::Bytes;

use crate::command::Command;
use crate::frame::Frame;
use crate::ns::client::next_settable_status;
use crate::parse::{Parse, ParseError};
use crate::status::Status;
use crate::text::encode_text;
use crate::token::Token;

/// `NLN 0 <status> <user-id> <display-name-enc>`: a contact is online or changed status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Nln {
    /// The contact's status; never `FLN`, which has its own push.
    pub status: Status,
    /// The contact's id.
    pub user_id: Token,
    /// The contact's display name, decoded.
    pub display_name: String,
}

impl Nln {
    /// Parses an `NLN` frame.
    pub fn parse(frame: Frame) -> Result<Self, ParseError> {
        let mut p = Parse::expect(frame, Command::NLN)?;
        p.expect_push()?;
        let cmd = Self {
            status: next_settable_status(&mut p)?,
            user_id: p.next_token()?,
            display_name: p.next_text()?,
        };
        p.finish()?;
        Ok(cmd)
    }

    /// Builds the frame.
    pub fn into_frame(self) -> Frame {
        Frame::new(Command::NLN, 0).arg(self.status).arg(self.user_id).arg(encode_text(&self.display_name))
    }
}

/// `FLN 0 <user-id>`: a contact went offline (or appears to).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fln {
    /// The contact's id.
    pub user_id: Token,
}

impl Fln {
    /// Parses an `FLN` frame.
    pub fn parse(frame: Frame) -> Result<Self, ParseError> {
        let mut p = Parse::expect(frame, Command::FLN)?;
        p.expect_push()?;
        let cmd = Self { user_id: p.next_token()? };
        p.finish()?;
        Ok(cmd)
    }

    /// Builds the frame.
    pub fn into_frame(self) -> Frame {
        Frame::new(Command::FLN, 0).arg(self.user_id)
    }
}

/// `UBX 0 <user-id> <len>` + UTF-8 payload: a contact's personal message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ubx {
    /// The contact's id.
    pub user_id: Token,
    /// The personal message; may be empty.
    pub message: String,
}

impl Ubx {
    /// Parses a `UBX` frame.
    pub fn parse(frame: Frame) -> Result<Self, ParseError> {
        let mut p = Parse::expect(frame, Command::UBX)?;
        p.expect_push()?;
        let cmd = Self { user_id: p.next_token()?, message: p.payload_text()? };
        p.finish()?;
        Ok(cmd)
    }

    /// Builds the frame.
    pub fn into_frame(self) -> Frame {
        Frame::new(Command::UBX, 0).arg(self.user_id).with_payload(self.message)
    }
}

/// `CON 0 <len>` + JSON: a contact-list change event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Con {
    /// The JSON event, uninterpreted.
    pub payload: Bytes,
}

impl Con {
    /// Parses a `CON` frame.
    pub fn parse(frame: Frame) -> Result<Self, ParseError> {
        let mut p = Parse::expect(frame, Command::CON)?;
        p.expect_push()?;
        let cmd = Self { payload: p.payload()? };
        p.finish()?;
        Ok(cmd)
    }

    /// Builds the frame.
    pub fn into_frame(self) -> Frame {
        Frame::new(Command::CON, 0).with_payload(self.payload)
    }
}

/// `NOT 0 <len>` + UTF-8 text: a notice from the operators.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Not {
    /// The notice.
    pub text: String,
}

impl Not {
    /// Parses a `NOT` frame.
    pub fn parse(frame: Frame) -> Result<Self, ParseError> {
        let mut p = Parse::expect(frame, Command::NOT)?;
        p.expect_push()?;
        let cmd = Self { text: p.payload_text()? };
        p.finish()?;
        Ok(cmd)
    }

    /// Builds the frame.
    pub fn into_frame(self) -> Frame {
        Frame::new(Command::NOT, 0).with_payload(self.text)
    }
}

/// `RNG 0 <room-id> <host:port> <ticket> <caller-user-id> <caller-username>
/// <caller-display-enc>`: someone invites the user into a conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rng {
    /// The conversation to join with the switchboard's `ANS`.
    pub room_id: Token,
    /// Switchboard address, `host:port`.
    pub address: Token,
    /// Ticket to present in `ANS`.
    pub ticket: Token,
    /// The inviter's id.
    pub caller_id: Token,
    /// The inviter's username.
    pub caller_username: Token,
    /// The inviter's display name, decoded.
    pub caller_display_name: String,
}

impl Rng {
    /// Parses an `RNG` frame.
    pub fn parse(frame: Frame) -> Result<Self, ParseError> {
        let mut p = Parse::expect(frame, Command::RNG)?;
        p.expect_push()?;
        let cmd = Self {
            room_id: p.next_token()?,
            address: p.next_token()?,
            ticket: p.next_token()?,
            caller_id: p.next_token()?,
            caller_username: p.next_token()?,
            caller_display_name: p.next_text()?,
        };
        p.finish()?;
        Ok(cmd)
    }

    /// Builds the frame.
    pub fn into_frame(self) -> Frame {
        Frame::new(Command::RNG, 0)
            .arg(self.room_id)
            .arg(self.address)
            .arg(self.ticket)
            .arg(self.caller_id)
            .arg(self.caller_username)
            .arg(encode_text(&self.caller_display_name))
    }
}
