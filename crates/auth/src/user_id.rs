//! The internal user id: `u1`, `u2`, … on the wire, an integer in storage.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UserId(pub i64);

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("not a user id (expected u followed by a number, like u1)")]
pub struct UserIdError;

impl fmt::Display for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "u{}", self.0)
    }
}

impl FromStr for UserId {
    type Err = UserIdError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let digits = s.strip_prefix('u').ok_or(UserIdError)?;
        if digits.is_empty() || digits.starts_with('0') || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(UserIdError);
        }
        digits.parse().map(UserId).map_err(|_| UserIdError)
    }
}

impl Serialize for UserId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for UserId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints() {
        assert_eq!("u1".parse(), Ok(UserId(1)));
        assert_eq!("u42".parse(), Ok(UserId(42)));
        assert_eq!(UserId(7).to_string(), "u7");
        for bad in ["", "u", "1", "u01", "u-1", "U1", "u1x", "u99999999999999999999"] {
            assert_eq!(bad.parse::<UserId>(), Err(UserIdError), "{bad}");
        }
    }
}

#[cfg(feature = "openapi")]
mod openapi {
    use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
    use utoipa::openapi::{RefOr, schema::SchemaType};

    impl utoipa::PartialSchema for super::UserId {
        fn schema() -> RefOr<Schema> {
            ObjectBuilder::new()
                .schema_type(SchemaType::new(Type::String))
                .pattern(Some("^u[1-9][0-9]*$"))
                .description(Some("Internal user id"))
                .examples([serde_json::json!("u1")])
                .into()
        }
    }

    impl utoipa::ToSchema for super::UserId {}
}
