//! Presence states as they appear on the wire.

use std::fmt;
use std::str::FromStr;

/// A user's presence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    /// `NLN`: online.
    Online,
    /// `BSY`: busy.
    Busy,
    /// `AWY`: away.
    Away,
    /// `BRB`: be right back.
    BeRightBack,
    /// `PHN`: on the phone.
    OnThePhone,
    /// `LUN`: out to lunch.
    OutToLunch,
    /// `HDN`: appear offline.
    Hidden,
    /// `FLN`: offline. Only the server uses it, in pushes; nobody can set it.
    Offline,
}

/// Returned for a string that is not one of the status codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("unknown status code")]
pub struct InvalidStatus;

impl Status {
    /// Every status, `FLN` last.
    pub const ALL: [Status; 8] = [
        Status::Online,
        Status::Busy,
        Status::Away,
        Status::BeRightBack,
        Status::OnThePhone,
        Status::OutToLunch,
        Status::Hidden,
        Status::Offline,
    ];

    /// The three-letter wire code.
    pub fn code(self) -> &'static str {
        match self {
            Status::Online => "NLN",
            Status::Busy => "BSY",
            Status::Away => "AWY",
            Status::BeRightBack => "BRB",
            Status::OnThePhone => "PHN",
            Status::OutToLunch => "LUN",
            Status::Hidden => "HDN",
            Status::Offline => "FLN",
        }
    }

    /// Whether a client may choose this status with `CHG` (everything but `FLN`).
    pub fn is_settable(self) -> bool {
        self != Status::Offline
    }
}

impl FromStr for Status {
    type Err = InvalidStatus;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Status::ALL.into_iter().find(|status| status.code() == s).ok_or(InvalidStatus)
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(input: &str, expected: Result<Status, InvalidStatus>) {
        assert_eq!(input.parse::<Status>(), expected, "{input:?}");
    }

    #[test]
    fn parsing() {
        check("NLN", Ok(Status::Online));
        check("HDN", Ok(Status::Hidden));
        check("FLN", Ok(Status::Offline));
        check("nln", Err(InvalidStatus));
        check("IDL", Err(InvalidStatus));
        for status in Status::ALL {
            check(&status.to_string(), Ok(status));
        }
        assert!(!Status::Offline.is_settable());
        assert!(Status::Hidden.is_settable());
    }
}
