//! What can go wrong when using a [`Client`](super::Client).

use std::path::PathBuf;

use crate::{ClientError, MenpError};

use super::event::SignOutReason;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Passport (HTTPS) refused or could not be reached.
    #[error(transparent)]
    Passport(#[from] ClientError),
    /// The Notification Server or a Switchboard refused or failed.
    #[error(transparent)]
    Server(#[from] MenpError),
    /// The session has ended for good.
    #[error("signed out: {0}")]
    SignedOut(SignOutReason),
    /// The Notification Server connection dropped and is being re-established.
    #[error("not connected to the Notification Server right now; reconnecting")]
    NotConnected,
    /// The conversation has ended (left, or its connection closed).
    #[error("the conversation has ended")]
    ConversationEnded,
    #[error("{path}: {source}")]
    File { path: PathBuf, source: std::io::Error },
    #[error("no file transfer {0} is waiting for that")]
    UnknownTransfer(String),
    #[error("{0}")]
    Invalid(String),
}

impl Error {
    pub(crate) fn file(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Self {
        let path = path.into();
        move |source| Error::File { path, source }
    }

    /// The MENP/1 error code, when a server refused with `ERR`.
    pub fn server_code(&self) -> Option<mocha_proto::ErrorCode> {
        match self {
            Error::Server(e) => e.code(),
            _ => None,
        }
    }

    /// The Passport API's error code (`banned`, `not_found`, …), when Passport refused.
    pub fn passport_code(&self) -> Option<&str> {
        match self {
            Error::Passport(e) => e.code(),
            _ => None,
        }
    }
}
