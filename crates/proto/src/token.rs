//! A validated bare argument (ids, tickets, addresses), guaranteed to be frame-safe.

use std::fmt;
use std::ops::Deref;
use std::str::FromStr;

/// A non-empty string without spaces or control characters, so it can be sent as a frame
/// argument verbatim. Free text that may contain spaces uses [`crate::encode_text`] instead.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Token(String);

/// Returned for an empty string or one containing a space or a control character.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("argument must be non-empty and free of spaces and control characters")]
pub struct InvalidToken;

/// Whether `s` may appear as one frame argument.
pub fn is_valid_arg(s: &str) -> bool {
    !s.is_empty() && !s.chars().any(|c| c == ' ' || c.is_control())
}

impl Token {
    /// Validates `s` as a token.
    pub fn new(s: impl Into<String>) -> Result<Self, InvalidToken> {
        let s = s.into();
        if is_valid_arg(&s) { Ok(Self(s)) } else { Err(InvalidToken) }
    }

    /// The token as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Unwraps the inner string.
    pub fn into_string(self) -> String {
        self.0
    }
}

impl Deref for Token {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for Token {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl FromStr for Token {
    type Err = InvalidToken;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::new(s)
    }
}

impl TryFrom<String> for Token {
    type Error = InvalidToken;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::new(s)
    }
}

impl TryFrom<&str> for Token {
    type Error = InvalidToken;

    fn try_from(s: &str) -> Result<Self, Self::Error> {
        Self::new(s)
    }
}

impl From<Token> for String {
    fn from(token: Token) -> String {
        token.0
    }
}

impl PartialEq<str> for Token {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl PartialEq<&str> for Token {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

impl fmt::Display for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(input: &str, ok: bool) {
        assert_eq!(Token::new(input).is_ok(), ok, "{input:?}");
    }

    #[test]
    fn validation() {
        check("alice", true);
        check("127.0.0.1:1864", true);
        check("ünïcode~%", true);
        check("", false);
        check("a b", false);
        check("a\tb", false);
        check("a\u{7f}", false);
        check("a\u{85}", false);
        check("line\r\n", false);
    }
}
