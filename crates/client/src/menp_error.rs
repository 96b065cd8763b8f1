use std::io;
use std::sync::Arc;

use mocha_proto::{ErrorCode, ErrorReply, FrameError, OutReason, ParseError};

/// Why a MENP/1 (Notification Server or Switchboard) operation failed.
#[derive(Debug, thiserror::Error)]
pub enum MenpError {
    #[error("cannot reach the server: {0}")]
    Connect(io::Error),
    #[error("certificate setup failed: {0}")]
    Trust(String),
    #[error(transparent)]
    Proxy(Arc<crate::proxy::ProxyError>),
    #[error("the server connection failed: {0}")]
    Io(#[from] io::Error),
    /// The server sent bytes that are not a MENP/1 frame.
    #[error("the server sent a malformed frame: {0}")]
    Frame(#[from] FrameError),
    /// The server sent a known command with the wrong arguments.
    #[error("the server sent an invalid command: {0}")]
    Parse(#[from] ParseError),
    /// The server answered `ERR`.
    #[error("{} ({})", .0.reason, .0.code)]
    Refused(ErrorReply),
    /// The server ended the session with `OUT`.
    #[error("signed out by the server: {0:?}")]
    SignedOut(OutReason),
    #[error("the server closed the connection")]
    Closed,
    #[error("no answer from the server in time")]
    Timeout,
    #[error("unexpected answer from the server: {0}")]
    Protocol(String),
}

impl MenpError {
    /// The `ERR` code, when the server refused.
    pub fn code(&self) -> Option<ErrorCode> {
        match self {
            MenpError::Refused(reply) => Some(reply.code),
            _ => None,
        }
    }
}
