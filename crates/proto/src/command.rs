//! The three-letter command name that opens every frame.

use std::fmt;
use std::str::FromStr;

/// A command name: exactly three ASCII uppercase letters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Command([u8; 3]);

/// Returned when a string or byte slice is not three uppercase ASCII letters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("command must be exactly three uppercase ASCII letters")]
pub struct InvalidCommand;

macro_rules! commands {
    ($($name:ident),* $(,)?) => {
        impl Command {
            $(
                #[allow(missing_docs)]
                pub const $name: Command = Command::literal(stringify!($name));
            )*
        }
    };
}

commands!(
    ACK, ANS, BYE, CAL, CHG, CON, ERR, FIL, FLN, IRO, JOI, MED, MSG, NAK, NLN, NOT, OUT, PNG, PRP, QNG, RLY,
    RNG, SYN, UBX, UPD, USR, UUX, VER, XFR,
);

impl Command {
    /// Validates `bytes` as a command name.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, InvalidCommand> {
        match bytes {
            [a, b, c] if bytes.iter().all(u8::is_ascii_uppercase) => Ok(Self([*a, *b, *c])),
            _ => Err(InvalidCommand),
        }
    }

    // Only for the constants above: an invalid literal fails at compile time.
    const fn literal(s: &str) -> Self {
        let b = s.as_bytes();
        assert!(b.len() == 3);
        assert!(b[0].is_ascii_uppercase() && b[1].is_ascii_uppercase());
        assert!(b[2].is_ascii_uppercase());
        Self([b[0], b[1], b[2]])
    }

    /// The name as text, e.g. `"VER"`.
    pub fn as_str(&self) -> &str {
        // Construction guarantees ASCII, so the fallback is unreachable.
        std::str::from_utf8(&self.0).unwrap_or("???")
    }

    /// The name as raw bytes.
    pub fn as_bytes(&self) -> &[u8; 3] {
        &self.0
    }
}

impl FromStr for Command {
    type Err = InvalidCommand;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::from_bytes(s.as_bytes())
    }
}

impl fmt::Display for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(input: &str, expected: Result<&str, InvalidCommand>) {
        let got = input.parse::<Command>();
        assert_eq!(got.as_ref().map(Command::as_str), expected.as_ref().map(|s| *s), "{input:?}");
    }

    #[test]
    fn names() {
        check("VER", Ok("VER"));
        check("ZZZ", Ok("ZZZ"));
        check("ver", Err(InvalidCommand));
        check("VE", Err(InvalidCommand));
        check("VERS", Err(InvalidCommand));
        check("V3R", Err(InvalidCommand));
        check("", Err(InvalidCommand));
        check("ÉAB", Err(InvalidCommand));
    }
}
