//! How the Switchboard asks for someone to be invited: the Notification Server rings
//! them. A trait, so the two services never import each other (in one process the
//! server wires it to the NS; across machines it can go over a message bus).

use std::future::Future;
use std::pin::Pin;

use mocha_auth::UserId;
use mocha_proto::ErrorCode;

#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum RingFailure {
    #[error("there is no such user")]
    UnknownUser,
    #[error("that user is offline")]
    Offline,
    #[error("you may only invite your contacts")]
    NotAllowed,
    #[error("internal error: {0}")]
    Internal(String),
}

impl RingFailure {
    pub fn error_code(&self) -> ErrorCode {
        match self {
            RingFailure::UnknownUser => ErrorCode::UnknownUser,
            RingFailure::Offline => ErrorCode::UserOffline,
            RingFailure::NotAllowed => ErrorCode::NotAllowed,
            RingFailure::Internal(_) => ErrorCode::InternalError,
        }
    }
}

pub type RingFuture<'a> = Pin<Box<dyn Future<Output = Result<UserId, RingFailure>> + Send + 'a>>;

pub trait Ringer: Send + Sync + 'static {
    /// Rings `callee` (a user id or sign-in address) into `room` for `caller`;
    /// gives the callee's id when they were rung.
    fn ring<'a>(&'a self, caller: UserId, callee: &'a str, room: &'a str) -> RingFuture<'a>;
}
