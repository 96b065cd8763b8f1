//! Rules for what people type: addresses, names, passwords, free text.

use crate::PassportError;

pub const MAX_USERNAME: usize = 254;
pub const MAX_DISPLAY_NAME: usize = 64;
pub const MAX_ALIAS: usize = 64;
pub const MIN_PASSWORD: usize = 8;
pub const MAX_PASSWORD: usize = 128;
pub const MAX_REQUEST_MESSAGE: usize = 200;
pub const MAX_BAN_REASON: usize = 500;
pub const MAX_NOTICE: usize = 1000;

/// A sign-in address: `local@domain`, ASCII (so case-insensitive matching is exact).
pub fn username(raw: &str) -> Result<String, PassportError> {
    let invalid = |message: &str| Err(PassportError::invalid("username", message));
    let name = raw.trim();
    if name.is_empty() {
        return invalid("enter a sign-in address, like alice@example.com");
    }
    if name.len() > MAX_USERNAME {
        return invalid("the sign-in address is too long (254 characters at most)");
    }
    let Some((local, domain)) = name.split_once('@') else {
        return invalid("a sign-in address looks like alice@example.com");
    };
    let local_ok = !local.is_empty()
        && local.len() <= 64
        && local.bytes().all(|b| b.is_ascii_alphanumeric() || b"._%+-".contains(&b));
    let domain_ok = !domain.is_empty()
        && domain.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        });
    if !local_ok || !domain_ok {
        return invalid(
            "a sign-in address looks like alice@example.com (letters, digits and . _ % + - only)",
        );
    }
    Ok(name.to_string())
}

/// Free text shown to others: trimmed, no control characters, bounded in characters.
pub fn text(
    field: &'static str,
    raw: &str,
    max_chars: usize,
    allow_empty: bool,
) -> Result<String, PassportError> {
    let value = raw.trim();
    if value.is_empty() && !allow_empty {
        return Err(PassportError::invalid(field, format!("{field} cannot be empty")));
    }
    if value.chars().count() > max_chars {
        return Err(PassportError::invalid(
            field,
            format!("{field} is too long ({max_chars} characters at most)"),
        ));
    }
    if value.chars().any(char::is_control) {
        return Err(PassportError::invalid(field, format!("{field} cannot contain control characters")));
    }
    Ok(value.to_string())
}

pub fn display_name(raw: &str) -> Result<String, PassportError> {
    text("display_name", raw, MAX_DISPLAY_NAME, false)
}

/// The minimum strength rule: 8 to 128 characters, at least one letter and one
/// character that is not a letter, and not the sign-in address itself.
pub fn new_password(password: &str, username: &str) -> Result<(), PassportError> {
    let invalid = |message: &str| Err(PassportError::invalid("password", message));
    let length = password.chars().count();
    if length < MIN_PASSWORD {
        return invalid("the password must be at least 8 characters long");
    }
    if length > MAX_PASSWORD {
        return invalid("the password must be at most 128 characters long");
    }
    if !password.chars().any(char::is_alphabetic) || password.chars().all(char::is_alphabetic) {
        return invalid("the password needs at least one letter and one digit or symbol");
    }
    let lower = password.to_lowercase();
    let local = username.split('@').next().unwrap_or(username).to_lowercase();
    if lower == username.to_lowercase() || (local.len() >= 4 && lower.contains(&local)) {
        return invalid("the password must not contain your sign-in name");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames() {
        for good in ["alice@example.com", "a.b+c@x-y.org", "bob@localhost", " carol@example.com "] {
            assert!(username(good).is_ok(), "{good}");
        }
        assert_eq!(username(" carol@example.com ").unwrap(), "carol@example.com");
        for bad in [
            "",
            "alice",
            "@example.com",
            "alice@",
            "al ice@example.com",
            "alice@ex..com",
            "älice@example.com",
            "a@-x.com",
        ] {
            assert!(username(bad).is_err(), "{bad}");
        }
        assert!(username(&format!("{}@example.com", "a".repeat(300))).is_err());
    }

    #[test]
    fn passwords() {
        assert!(new_password("hunter2hunter", "alice@example.com").is_ok());
        for bad in ["short1", "onlyletters", "12345678901", "alice-2024!", "alice@example.com"] {
            assert!(new_password(bad, "alice@example.com").is_err(), "{bad}");
        }
        assert!(new_password(&"a1".repeat(65), "alice@example.com").is_err());
    }

    #[test]
    fn free_text() {
        assert_eq!(display_name("  Alice  ").unwrap(), "Alice");
        assert!(display_name("").is_err());
        assert!(display_name("a\u{0}b").is_err());
        assert!(display_name(&"é".repeat(64)).is_ok());
        assert!(display_name(&"é".repeat(65)).is_err());
    }
}
