//! A cursor over a frame's arguments that turns them into typed values.

use std::str::FromStr;

use bytes::Bytes;

use crate::command::Command;
use crate::error_code::ErrorCode;
use crate::frame::Frame;
use crate::text::{TextError, decode_text};
use crate::token::{Token, is_valid_arg};

/// Why a well-framed frame is not a valid instance of its command. The connection can go
/// on: reply `ERR trid <code>` (see [`ParseError::error_code`]) and keep reading. Read the
/// frame's `trid` before handing it to a parser, since parsing consumes the frame.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// A parser was handed another command's frame; a dispatch bug, not the peer's fault.
    #[error("expected {expected}, got {got}")]
    WrongCommand {
        /// The command the parser handles.
        expected: Command,
        /// The command of the frame it was given.
        got: Command,
    },
    /// Fewer arguments than the command needs.
    #[error("missing argument #{index}")]
    MissingArgument {
        /// Zero-based index among the arguments after the transaction id.
        index: usize,
    },
    /// More arguments than the command takes.
    #[error("unexpected argument #{index}")]
    ExtraArgument {
        /// Zero-based index of the first surplus argument.
        index: usize,
    },
    /// An argument of the wrong form.
    #[error("argument #{index} is not a valid {expected}")]
    InvalidArgument {
        /// Zero-based index of the argument.
        index: usize,
        /// What was expected, for the error message.
        expected: &'static str,
    },
    /// A percent-encoded text argument that does not decode.
    #[error("argument #{index}: {source}")]
    BadText {
        /// Zero-based index of the argument.
        index: usize,
        /// What was wrong with it.
        source: TextError,
    },
    /// The command needs a payload and the frame has none.
    #[error("missing payload")]
    MissingPayload,
    /// The frame has a payload the command does not take.
    #[error("unexpected payload")]
    UnexpectedPayload,
    /// A payload that must be text is not UTF-8.
    #[error("payload is not valid UTF-8")]
    PayloadNotUtf8,
    /// A push (a frame the server sends unprompted) with a transaction id other than 0.
    #[error("push must carry transaction id 0")]
    NonZeroTrId,
}

impl ParseError {
    /// The code to send in the `ERR` reply.
    pub fn error_code(&self) -> ErrorCode {
        match self {
            ParseError::WrongCommand { .. } => ErrorCode::InternalError,
            ParseError::MissingArgument { .. }
            | ParseError::ExtraArgument { .. }
            | ParseError::MissingPayload
            | ParseError::UnexpectedPayload
            | ParseError::NonZeroTrId => ErrorCode::SyntaxError,
            ParseError::InvalidArgument { .. } | ParseError::BadText { .. } | ParseError::PayloadNotUtf8 => {
                ErrorCode::InvalidArgument
            }
        }
    }
}

/// Consumes a frame's arguments front to back, like mini-redis's `Parse`.
#[derive(Debug)]
pub struct Parse {
    command: Command,
    trid: u32,
    args: std::vec::IntoIter<String>,
    index: usize,
    payload: Option<Bytes>,
}

impl Parse {
    /// Starts parsing `frame` whatever its command.
    pub fn new(frame: Frame) -> Self {
        Self {
            command: frame.command,
            trid: frame.trid,
            args: frame.args.into_iter(),
            index: 0,
            payload: frame.payload,
        }
    }

    /// Starts parsing `frame`, which must be a `command` frame.
    pub fn expect(frame: Frame, command: Command) -> Result<Self, ParseError> {
        if frame.command != command {
            return Err(ParseError::WrongCommand { expected: command, got: frame.command });
        }
        Ok(Self::new(frame))
    }

    /// The frame's command.
    pub fn command(&self) -> Command {
        self.command
    }

    /// The frame's transaction id.
    pub fn trid(&self) -> u32 {
        self.trid
    }

    /// Requires the transaction id of a push, 0.
    pub fn expect_push(&self) -> Result<(), ParseError> {
        if self.trid == 0 { Ok(()) } else { Err(ParseError::NonZeroTrId) }
    }

    /// Whether any argument is left.
    pub fn has_more(&self) -> bool {
        self.args.len() > 0
    }

    /// The next argument, verbatim.
    pub fn next_str(&mut self) -> Result<String, ParseError> {
        let index = self.index;
        let arg = self.args.next().ok_or(ParseError::MissingArgument { index })?;
        self.index += 1;
        if !is_valid_arg(&arg) {
            return Err(ParseError::InvalidArgument { index, expected: "argument" });
        }
        Ok(arg)
    }

    /// The next argument as a [`Token`].
    pub fn next_token(&mut self) -> Result<Token, ParseError> {
        let index = self.index;
        let arg = self.next_str()?;
        Token::new(arg).map_err(|_| ParseError::InvalidArgument { index, expected: "token" })
    }

    /// The next argument, percent-decoded (see [`crate::text`]).
    pub fn next_text(&mut self) -> Result<String, ParseError> {
        let index = self.index;
        let arg = self.next_str()?;
        decode_text(&arg).map_err(|source| ParseError::BadText { index, source })
    }

    /// The next argument, which must be exactly `literal` (a sub-command such as `OK`).
    pub fn next_literal(&mut self, literal: &'static str) -> Result<(), ParseError> {
        let index = self.index;
        if self.next_str()? == literal {
            Ok(())
        } else {
            Err(ParseError::InvalidArgument { index, expected: literal })
        }
    }

    /// The next argument as a canonical decimal `u32`.
    pub fn next_u32(&mut self) -> Result<u32, ParseError> {
        let index = self.index;
        let n = self.next_u64()?;
        u32::try_from(n).map_err(|_| ParseError::InvalidArgument { index, expected: "u32" })
    }

    /// The next argument as a canonical decimal `u64` (no sign, no leading zeros).
    pub fn next_u64(&mut self) -> Result<u64, ParseError> {
        let index = self.index;
        let arg = self.next_str()?;
        parse_decimal(&arg).ok_or(ParseError::InvalidArgument { index, expected: "u64" })
    }

    /// The next argument via `T`'s [`FromStr`].
    pub fn next_enum<T: FromStr>(&mut self) -> Result<T, ParseError> {
        let index = self.index;
        let arg = self.next_str()?;
        arg.parse().map_err(|_| ParseError::InvalidArgument { index, expected: short_type_name::<T>() })
    }

    /// The next argument converted by `convert`; `None` means it is not a valid `expected`.
    pub fn next_parsed<T>(
        &mut self,
        expected: &'static str,
        convert: impl FnOnce(&str) -> Option<T>,
    ) -> Result<T, ParseError> {
        let index = self.index;
        let arg = self.next_str()?;
        convert(&arg).ok_or(ParseError::InvalidArgument { index, expected })
    }

    /// Takes the payload, which must be present.
    pub fn payload(&mut self) -> Result<Bytes, ParseError> {
        self.payload.take().ok_or(ParseError::MissingPayload)
    }

    /// Takes the payload, which must be present and UTF-8.
    pub fn payload_text(&mut self) -> Result<String, ParseError> {
        let payload = self.payload()?;
        String::from_utf8(payload.into()).map_err(|_| ParseError::PayloadNotUtf8)
    }

    /// Ends parsing; fails if arguments or a payload were left unread.
    pub fn finish(mut self) -> Result<(), ParseError> {
        if self.args.next().is_some() {
            return Err(ParseError::ExtraArgument { index: self.index });
        }
        if self.payload.is_some() {
            return Err(ParseError::UnexpectedPayload);
        }
        Ok(())
    }
}

fn short_type_name<T>() -> &'static str {
    let name = std::any::type_name::<T>();
    name.rsplit("::").next().unwrap_or(name)
}

/// Parses a canonical decimal: ASCII digits only, no sign, no leading zeros except `0`.
pub(crate) fn parse_decimal(s: &str) -> Option<u64> {
    let canonical =
        !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) && (s == "0" || !s.starts_with('0'));
    if canonical { s.parse().ok() } else { None }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::status::Status;

    fn frame(args: &[&str], payload: Option<&[u8]>) -> Frame {
        Frame {
            command: Command::CHG,
            trid: 3,
            args: args.iter().map(|s| (*s).to_owned()).collect(),
            payload: payload.map(Bytes::copy_from_slice),
        }
    }

    /// Runs `steps` over a parser for `args`/`payload` and compares the outcome.
    fn check<T: PartialEq + std::fmt::Debug>(
        args: &[&str],
        payload: Option<&[u8]>,
        steps: impl FnOnce(&mut Parse) -> Result<T, ParseError>,
        expected: Result<T, ParseError>,
    ) {
        let mut parse = Parse::new(frame(args, payload));
        let got = steps(&mut parse).and_then(|value| parse.finish().map(|()| value));
        assert_eq!(got, expected, "{args:?}");
    }

    #[test]
    fn typed_arguments() {
        check(&["7"], None, Parse::next_u32, Ok(7));
        check(&["18446744073709551615"], None, Parse::next_u64, Ok(u64::MAX));
        check(
            &["4294967296"],
            None,
            Parse::next_u32,
            Err(ParseError::InvalidArgument { index: 0, expected: "u32" }),
        );
        check(&["07"], None, Parse::next_u32, Err(ParseError::InvalidArgument { index: 0, expected: "u64" }));
        check(&["AWY"], None, Parse::next_enum::<Status>, Ok(Status::Away));
        check(
            &["XXX"],
            None,
            Parse::next_enum::<Status>,
            Err(ParseError::InvalidArgument { index: 0, expected: "Status" }),
        );
        check(&["Bob%20S"], None, Parse::next_text, Ok("Bob S".to_owned()));
        check(
            &["%G0"],
            None,
            Parse::next_text,
            Err(ParseError::BadText { index: 0, source: TextError::InvalidEscape { at: 0 } }),
        );
        check(&["OK"], None, |p| p.next_literal("OK"), Ok(()));
        check(
            &["NO"],
            None,
            |p| p.next_literal("OK"),
            Err(ParseError::InvalidArgument { index: 0, expected: "OK" }),
        );
        check(
            &["a b"],
            None,
            Parse::next_str,
            Err(ParseError::InvalidArgument { index: 0, expected: "argument" }),
        );
    }

    #[test]
    fn arity_and_payload() {
        check(&[], None, Parse::next_str, Err(ParseError::MissingArgument { index: 0 }));
        check(&["a", "b"], None, Parse::next_str, Err(ParseError::ExtraArgument { index: 1 }));
        check(&[], Some(b"x"), |_| Ok(()), Err(ParseError::UnexpectedPayload));
        check(&[], None, Parse::payload, Err(ParseError::MissingPayload));
        check(&[], Some(b"hi"), Parse::payload_text, Ok("hi".to_owned()));
        check(&[], Some(b"\xff"), Parse::payload_text, Err(ParseError::PayloadNotUtf8));
    }

    #[test]
    fn command_and_trid() {
        let err = Parse::expect(frame(&[], None), Command::USR).map(|_| ());
        assert_eq!(err, Err(ParseError::WrongCommand { expected: Command::USR, got: Command::CHG }));
        assert_eq!(err.map_err(|e| e.error_code()), Err(ErrorCode::InternalError));
        assert_eq!(Parse::new(frame(&[], None)).expect_push(), Err(ParseError::NonZeroTrId));
    }
}
