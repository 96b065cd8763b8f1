//! In one process, the Switchboard rings people through the Notification Server.

use std::sync::Arc;

use mocha_auth::UserId;
use mocha_notification::{NotificationServer, RingError};
use mocha_switchboard::{RingFailure, Ringer};

pub struct NotificationRinger(pub Arc<NotificationServer>);

impl Ringer for NotificationRinger {
    fn ring<'a>(
        &'a self,
        caller: UserId,
        callee: &'a str,
        room: &'a str,
    ) -> mocha_switchboard::RingFuture<'a> {
        Box::pin(async move {
            self.0.ring(caller, callee, room).await.map(|outcome| outcome.callee.id).map_err(|e| match e {
                RingError::UnknownUser => RingFailure::UnknownUser,
                RingError::Offline => RingFailure::Offline,
                RingError::NotAllowed => RingFailure::NotAllowed,
                RingError::Internal(detail) => RingFailure::Internal(detail),
            })
        })
    }
}
