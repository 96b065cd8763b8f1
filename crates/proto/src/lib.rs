//! Wire format of MENP/1, the Mocha Exchange/Notification Protocol: bytes in, values out.
//!
//! Layers, bottom up: [`Frame`] finds and validates one frame in a byte buffer
//! ([`Frame::check`] without allocating, then [`Frame::parse`] or [`Frame::decode`]);
//! [`Parse`] walks a frame's arguments; the typed commands in [`ns`] (Notification Server)
//! and [`sb`] (Switchboard) turn frames into values and back. No I/O happens here.

pub mod command;
pub mod common;
pub mod error_code;
pub mod frame;
pub mod im;
pub mod media;
pub mod message;
pub mod ns;
pub mod parse;
pub mod sb;
pub mod status;
pub mod text;
pub mod token;

pub use command::{Command, InvalidCommand};
pub use common::{BanDetail, BanUntil, ErrorReply, Out, OutReason};
pub use error_code::ErrorCode;
pub use frame::{CheckError, Frame, FrameError, Limits, carries_payload};
pub use message::{MessageError, MessageHeaders, MessagePayload, MessageView};
pub use parse::{Parse, ParseError};
pub use status::{InvalidStatus, Status};
pub use text::{TextError, decode_text, encode_text};
pub use token::{InvalidToken, Token};

/// The only protocol version this crate speaks, as sent in `VER`.
pub const PROTOCOL_VERSION: &str = "MENP1";
