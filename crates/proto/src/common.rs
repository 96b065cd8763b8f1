//! Server frames shared by the Notification Server and the Switchboard: `ERR` and `OUT`.

use crate::command::Command;
use crate::error_code::ErrorCode;
use crate::frame::Frame;
use crate::parse::{Parse, ParseError};
use crate::text::encode_text;
use crate::token::Token;

/// `ERR trid <code> <reason-enc>`: a request failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorReply {
    /// The failed request's transaction id, or 0 if it had none (a framing error).
    pub trid: u32,
    /// What went wrong.
    pub code: ErrorCode,
    /// Human-readable detail.
    pub reason: String,
}

impl ErrorReply {
    /// An error whose reason is the code's standard description.
    pub fn new(trid: u32, code: ErrorCode) -> Self {
        Self { trid, code, reason: code.description().to_owned() }
    }

    /// Parses an `ERR` frame.
    pub fn parse(frame: Frame) -> Result<Self, ParseError> {
        let mut p = Parse::expect(frame, Command::ERR)?;
        let reply = Self { trid: p.trid(), code: p.next_enum()?, reason: p.next_text()? };
        p.finish()?;
        Ok(reply)
    }

    /// Builds the `ERR` frame.
    pub fn into_frame(self) -> Frame {
        Frame::new(Command::ERR, self.trid).arg(self.code).arg(encode_text(&self.reason))
    }
}

/// Until when a ban holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BanUntil {
    /// `permanent`.
    Permanent,
    /// An RFC 3339 timestamp, carried verbatim (this crate does not interpret time). Must
    /// not be the literal `permanent`.
    Until(Token),
}

/// The optional detail after `OUT 0 BAN`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BanDetail {
    /// When the ban ends.
    pub until: BanUntil,
    /// Why, for the user.
    pub reason: String,
}

/// Why the server is closing the connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OutReason {
    /// `OTH`: the account signed in elsewhere.
    SignedInElsewhere,
    /// `BAN [<until> <reason-enc>]`: the account is banned.
    Banned(Option<BanDetail>),
    /// `DEL`: the account was deleted.
    AccountDeleted,
    /// `SSD`: the server is shutting down.
    ServerShutdown,
    /// `TMO`: idle timeout.
    IdleTimeout,
    /// `SLW`: the client read too slowly and its queue overflowed.
    TooSlow,
    /// `RVK`: the sign-in behind this session was revoked (signed out through Passport,
    /// password changed, or its refresh token was stolen and replayed).
    SignInRevoked,
}

impl OutReason {
    pub fn code(&self) -> &'static str {
        match self {
            OutReason::SignedInElsewhere => "OTH",
            OutReason::Banned(_) => "BAN",
            OutReason::AccountDeleted => "DEL",
            OutReason::ServerShutdown => "SSD",
            OutReason::IdleTimeout => "TMO",
            OutReason::TooSlow => "SLW",
            OutReason::SignInRevoked => "RVK",
        }
    }
}

/// `OUT 0 <reason> [extra…]`: the server is about to close the connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Out {
    /// Why.
    pub reason: OutReason,
}

impl Out {
    /// Parses a server `OUT` frame.
    pub fn parse(frame: Frame) -> Result<Self, ParseError> {
        let mut p = Parse::expect(frame, Command::OUT)?;
        p.expect_push()?;
        let reason = match p.next_str()?.as_str() {
            "OTH" => OutReason::SignedInElsewhere,
            "DEL" => OutReason::AccountDeleted,
            "SSD" => OutReason::ServerShutdown,
            "TMO" => OutReason::IdleTimeout,
            "SLW" => OutReason::TooSlow,
            "RVK" => OutReason::SignInRevoked,
            "BAN" if p.has_more() => {
                let until = match p.next_token()? {
                    token if token == "permanent" => BanUntil::Permanent,
                    token => BanUntil::Until(token),
                };
                OutReason::Banned(Some(BanDetail { until, reason: p.next_text()? }))
            }
            "BAN" => OutReason::Banned(None),
            _ => {
                return Err(ParseError::InvalidArgument { index: 0, expected: "OUT reason" });
            }
        };
        p.finish()?;
        Ok(Self { reason })
    }

    /// Builds the `OUT` frame.
    pub fn into_frame(self) -> Frame {
        let frame = Frame::new(Command::OUT, 0).arg(self.reason.code());
        match self.reason {
            OutReason::Banned(Some(detail)) => {
                let until = match detail.until {
                    BanUntil::Permanent => "permanent".to_owned(),
                    BanUntil::Until(token) => token.into_string(),
                };
                frame.arg(until).arg(encode_text(&detail.reason))
            }
            _ => frame,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::BytesMut;

    fn wire(line: &str) -> Frame {
        let mut buf = BytesMut::from(line.as_bytes());
        Frame::decode(&mut buf, &Default::default()).expect("valid frame").expect("complete frame")
    }

    fn check_out(line: &str, expected: Result<OutReason, ParseError>) {
        let got = Out::parse(wire(line));
        assert_eq!(got.clone().map(|out| out.reason), expected, "{line:?}");
        if let Ok(out) = got {
            assert_eq!(out.into_frame().to_bytes(), line.as_bytes(), "re-encode {line:?}");
        }
    }

    #[test]
    fn out_reasons() {
        check_out("OUT 0 OTH\r\n", Ok(OutReason::SignedInElsewhere));
        check_out("OUT 0 SLW\r\n", Ok(OutReason::TooSlow));
        check_out("OUT 0 RVK\r\n", Ok(OutReason::SignInRevoked));
        check_out("OUT 0 BAN\r\n", Ok(OutReason::Banned(None)));
        check_out(
            "OUT 0 BAN permanent spam\r\n",
            Ok(OutReason::Banned(Some(BanDetail { until: BanUntil::Permanent, reason: "spam".into() }))),
        );
        check_out(
            "OUT 0 BAN 2030-01-01T00:00:00Z rude%20words\r\n",
            Ok(OutReason::Banned(Some(BanDetail {
                until: BanUntil::Until(Token::new("2030-01-01T00:00:00Z").expect("token")),
                reason: "rude words".into(),
            }))),
        );
        check_out("OUT 0 BAN permanent\r\n", Err(ParseError::MissingArgument { index: 2 }));
        check_out("OUT 0 TMO x\r\n", Err(ParseError::ExtraArgument { index: 1 }));
        check_out("OUT 0 XYZ\r\n", Err(ParseError::InvalidArgument { index: 0, expected: "OUT reason" }));
        check_out("OUT 0\r\n", Err(ParseError::MissingArgument { index: 0 }));
        check_out("OUT 5 OTH\r\n", Err(ParseError::NonZeroTrId));
    }

    #[test]
    fn error_reply() {
        let reply = ErrorReply::new(9, ErrorCode::UnknownUser);
        assert_eq!(reply.clone().into_frame().to_bytes(), &b"ERR 9 205 unknown%20user\r\n"[..]);
        assert_eq!(ErrorReply::parse(wire("ERR 9 205 unknown%20user\r\n")), Ok(reply));
        assert_eq!(
            ErrorReply::parse(wire("ERR 1 777 ~\r\n")),
            Ok(ErrorReply { trid: 1, code: ErrorCode::Other(777), reason: String::new() })
        );
        assert_eq!(
            ErrorReply::parse(wire("ERR 1 2x ~\r\n")),
            Err(ParseError::InvalidArgument { index: 0, expected: "ErrorCode" })
        );
    }
}
