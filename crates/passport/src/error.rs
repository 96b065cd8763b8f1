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
    /// The database server cannot be reached (PostgreSQL stopped, restarting, or out of
    /// connections). Passport works again by itself once it is back. The string is for
    /// the log only; it never holds the database's password.
    #[error("the server's database cannot be reached just now; try again in {} seconds", RETRY_UNAVAILABLE.as_secs())]
    StorageUnavailable(String),
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
    /// The error as its operator should read it (at start-up, in an admin command):
    /// an internal or unreachable-database error with its details, which never hold a
    /// database password. Users are shown [`Display`](std::fmt::Display) instead.
    pub fn operator_detail(&self) -> String {
        match self {
            PassportError::Internal(details) | PassportError::StorageUnavailable(details) => details.clone(),
            other => other.to_string(),
        }
    }

    pub fn invalid(field: &'static str, message: impl Into<String>) -> Self {
        PassportError::Invalid { field, message: message.into() }
    }
}

impl From<sqlx::Error> for PassportError {
    fn from(e: sqlx::Error) -> Self {
        match StorageProblem::of(&e) {
            Some(StorageProblem::Full) => PassportError::StorageFull(format!("database: {e}")),
            Some(StorageProblem::Unreachable) => PassportError::StorageUnavailable(format!("database: {e}")),
            None => PassportError::Internal(format!("database: {e}")),
        }
    }
}

/// How long a client told [`PassportError::StorageUnavailable`] should wait before it
/// tries again (HTTP `Retry-After`): a database restart or fail-over takes seconds.
pub const RETRY_UNAVAILABLE: Duration = Duration::from_secs(5);

/// A database error that is about the storage, not about the request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum StorageProblem {
    /// No room: the write was rolled back.
    Full,
    /// The database server is down, restarting, refusing connections or unreachable.
    Unreachable,
}

impl StorageProblem {
    pub fn of(e: &sqlx::Error) -> Option<Self> {
        match e {
            sqlx::Error::Database(db) => {
                if db.try_downcast_ref::<sqlx::sqlite::SqliteError>().is_some() {
                    sqlite_full(db.code()).then_some(StorageProblem::Full)
                } else if let Some(pg) = db.try_downcast_ref::<sqlx::postgres::PgDatabaseError>() {
                    postgres_problem(pg.code())
                } else {
                    None
                }
            }
            sqlx::Error::Io(io) => match io.kind() {
                std::io::ErrorKind::StorageFull | std::io::ErrorKind::QuotaExceeded => {
                    Some(StorageProblem::Full)
                }
                // Only a database server is reached over a socket; SQLite's own I/O
                // failures come back as database errors.
                _ => Some(StorageProblem::Unreachable),
            },
            sqlx::Error::PoolTimedOut | sqlx::Error::Tls(_) => Some(StorageProblem::Unreachable),
            _ => None,
        }
    }
}

/// Whether a SQLite result code means there is no room left: `SQLITE_FULL` (what a
/// write that meets `ENOSPC`, or the size cap, returns), or a WAL index that could not
/// grow (<https://sqlite.org/rescode.html>).
fn sqlite_full(code: Option<std::borrow::Cow<'_, str>>) -> bool {
    /// `SQLITE_FULL` and its relatives.
    const SQLITE_FULL: i32 = 13;
    /// Growing the WAL index (`-shm`) failed; SQLite says this "may indicate that the
    /// underlying filesystem volume is out of space".
    const SQLITE_IOERR_SHMSIZE: i32 = 4874;
    code.and_then(|code| code.parse::<i32>().ok())
        .is_some_and(|code| code & 0xff == SQLITE_FULL || code == SQLITE_IOERR_SHMSIZE)
}

/// PostgreSQL's SQLSTATEs (<https://www.postgresql.org/docs/current/errcodes-appendix.html>)
/// that are about the server, not the statement.
fn postgres_problem(sqlstate: &str) -> Option<StorageProblem> {
    match sqlstate {
        // disk_full; out of memory and insufficient resources are "try again" instead.
        "53100" => Some(StorageProblem::Full),
        "53000" | "53200" | "53300" => Some(StorageProblem::Unreachable),
        // admin_shutdown, crash_shutdown, cannot_connect_now (starting or stopping).
        "57P01" | "57P02" | "57P03" => Some(StorageProblem::Unreachable),
        // A read-only server: a standby that has not been promoted yet.
        "25006" => Some(StorageProblem::Unreachable),
        // Connection exceptions.
        code if code.starts_with("08") => Some(StorageProblem::Unreachable),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postgres_states_about_the_server_are_storage_problems() {
        assert_eq!(postgres_problem("53100"), Some(StorageProblem::Full));
        for unreachable in ["57P01", "57P03", "08006", "53300", "25006"] {
            assert_eq!(postgres_problem(unreachable), Some(StorageProblem::Unreachable), "{unreachable}");
        }
        // A unique violation or a syntax error is the request's problem.
        assert_eq!(postgres_problem("23505"), None);
        assert_eq!(postgres_problem("42601"), None);
        let refused = sqlx::Error::Io(std::io::Error::from(std::io::ErrorKind::ConnectionRefused));
        assert!(matches!(PassportError::from(refused), PassportError::StorageUnavailable(_)));
        assert!(matches!(
            PassportError::from(sqlx::Error::PoolTimedOut),
            PassportError::StorageUnavailable(_)
        ));
        let full = sqlx::Error::Io(std::io::Error::from(std::io::ErrorKind::StorageFull));
        assert!(matches!(PassportError::from(full), PassportError::StorageFull(_)));
    }
}
