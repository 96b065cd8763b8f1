//! Everything a Passport operation can refuse, as callers branch on it.

use std::time::Duration;

use mocha_api::Ban;

#[derive(Debug, thiserror::Error)]
pub enum PassportError {
    #[error("{message}")]
    Invalid { field: &'static str, message: String },
    #[error("that sign-in address is already taken")]
    UsernameTaken,
    #[error("the sign-in address or password is wrong")]
    InvalidCredentials,
    #[error("too many sign-in attempts; try again in {} seconds", retry_after.as_secs().max(1))]
    RateLimited { retry_after: Duration },
    #[error("{}", banned_message(.0))]
    Banned(Ban),
    #[error("sign in first: the session token is missing, malformed or not ours")]
    InvalidSessionToken,
    #[error("the session token has expired; refresh it")]
    SessionExpired,
    #[error("this sign-in was revoked; sign in again")]
    SignInRevoked,
    #[error("the refresh token is not valid")]
    InvalidRefreshToken,
    #[error("the refresh token has expired; sign in again")]
    RefreshTokenExpired,
    #[error("the refresh token was already used; for safety this sign-in has been revoked")]
    RefreshTokenReused,
    #[error("only administrators may do that")]
    AdminOnly,
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("that user does not accept contact requests from you")]
    RequestNotAllowed,
    #[error("{0}")]
    Conflict(&'static str),
    #[error("internal error")]
    Internal(String),
}

fn banned_message(ban: &Ban) -> String {
    let until = match ban.until {
        Some(until) => format!("until {until}"),
        None => "permanently".to_string(),
    };
    match &ban.reason {
        Some(reason) => format!("this account is banned {until}: {reason}"),
        None => format!("this account is banned {until}"),
    }
}

impl PassportError {
    pub fn invalid(field: &'static str, message: impl Into<String>) -> Self {
        PassportError::Invalid { field, message: message.into() }
    }
}

impl From<sqlx::Error> for PassportError {
    fn from(e: sqlx::Error) -> Self {
        PassportError::Internal(format!("database: {e}"))
    }
}
