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
    /// The disk holding the database is full (or the database reached its size cap):
    /// the write was rolled back whole. Reads still work; writes work again as soon as
    /// there is room, without a restart. The string is for the log only.
    #[error("the server's storage is full, so nothing was changed; try again later")]
    StorageFull(String),
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
        if storage_full(&e) {
            PassportError::StorageFull(format!("database: {e}"))
        } else {
            PassportError::Internal(format!("database: {e}"))
        }
    }
}

/// `SQLITE_FULL` and its relatives (<https://sqlite.org/rescode.html>).
const SQLITE_FULL: i32 = 13;
/// Growing the WAL index (`-shm`) failed; SQLite says this "may indicate that the
/// underlying filesystem volume is out of space".
const SQLITE_IOERR_SHMSIZE: i32 = 4874;

/// Whether a database error means there is no room left: SQLite's `SQLITE_FULL`
/// (what a write that meets `ENOSPC`, or the size cap, returns), a WAL index that
/// could not grow, or an I/O error that is "no space" or "quota exceeded".
pub(crate) fn storage_full(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Database(db) => db
            .code()
            .and_then(|code| code.parse::<i32>().ok())
            .is_some_and(|code| code & 0xff == SQLITE_FULL || code == SQLITE_IOERR_SHMSIZE),
        sqlx::Error::Io(io) => {
            matches!(io.kind(), std::io::ErrorKind::StorageFull | std::io::ErrorKind::QuotaExceeded)
        }
        _ => false,
    }
}
