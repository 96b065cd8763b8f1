//! Numeric error codes carried by `ERR` replies.

use std::fmt;
use std::str::FromStr;

use crate::parse::parse_decimal;

macro_rules! error_codes {
    ($($name:ident = $code:literal, $desc:literal;)*) => {
        /// An `ERR` code. Codes this version does not know survive as [`ErrorCode::Other`]
        /// so an older client can still show a newer server's errors.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum ErrorCode {
            $(
                #[doc = $desc]
                $name,
            )*
            /// A code not defined by this version of the protocol.
            Other(u16),
        }

        impl ErrorCode {
            /// Every code defined by this version, in numeric order.
            pub const ALL: &[ErrorCode] = &[$(ErrorCode::$name),*];

            /// The number sent on the wire.
            pub fn code(self) -> u16 {
                match self {
                    $(ErrorCode::$name => $code,)*
                    ErrorCode::Other(code) => code,
                }
            }

            /// Maps a wire number to a code; unknown numbers become [`ErrorCode::Other`].
            pub fn from_code(code: u16) -> Self {
                match code {
                    $($code => ErrorCode::$name,)*
                    other => ErrorCode::Other(other),
                }
            }

            /// A short English description, suitable as a fallback message.
            pub fn description(self) -> &'static str {
                match self {
                    $(ErrorCode::$name => $desc,)*
                    ErrorCode::Other(_) => "unknown error",
                }
            }
        }
    };
}

error_codes! {
    SyntaxError = 200, "syntax error";
    InvalidArgument = 201, "invalid argument";
    UnknownCommand = 202, "unknown command";
    UnknownUser = 205, "unknown user";
    NotAllowed = 206, "not allowed (privacy or block)";
    NotSignedIn = 207, "not signed in";
    AlreadySignedIn = 208, "already signed in";
    WrongState = 209, "wrong state / sequence";
    UserOffline = 210, "user offline";
    NotInConversation = 211, "not in conversation";
    RateLimited = 215, "rate limited";
    LineTooLong = 216, "line too long";
    PayloadTooLarge = 217, "payload too large";
    QueueOverflow = 218, "queue overflow (too slow)";
    ServerBusy = 300, "server busy";
    InternalError = 500, "internal error";
    StorageFull = 507, "server storage full";
    VersionNotSupported = 600, "version not supported";
    AuthenticationFailed = 911, "authentication failed";
    TokenExpired = 912, "token expired";
    AccountBanned = 913, "account banned";
    TicketInvalid = 920, "ticket invalid";
    TicketExpired = 921, "ticket expired";
}

/// Returned when an error code is not a canonical decimal `u16`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("error code must be a decimal number from 0 to 65535")]
pub struct InvalidErrorCode;

impl FromStr for ErrorCode {
    type Err = InvalidErrorCode;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse_decimal(s).and_then(|n| u16::try_from(n).ok()).map(Self::from_code).ok_or(InvalidErrorCode)
    }
}

/// Formats as the bare number, which is what goes on the wire.
impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(input: &str, expected: Result<ErrorCode, InvalidErrorCode>) {
        assert_eq!(input.parse::<ErrorCode>(), expected, "{input:?}");
    }

    #[test]
    fn parsing() {
        check("200", Ok(ErrorCode::SyntaxError));
        check("921", Ok(ErrorCode::TicketExpired));
        check("999", Ok(ErrorCode::Other(999)));
        check("0200", Err(InvalidErrorCode));
        check("70000", Err(InvalidErrorCode));
        check("-1", Err(InvalidErrorCode));
        check("", Err(InvalidErrorCode));
    }

    #[test]
    fn codes_round_trip_and_are_sorted() {
        for pair in ErrorCode::ALL.windows(2) {
            assert!(pair[0].code() < pair[1].code());
        }
        for &code in ErrorCode::ALL {
            assert_eq!(ErrorCode::from_code(code.code()), code);
            assert_eq!(code.to_string().parse::<ErrorCode>(), Ok(code));
            assert!(!code.description().is_empty());
        }
        assert_eq!(ErrorCode::ALL.len(), 23);
    }
}
