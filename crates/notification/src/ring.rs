//! Ringing: the Switchboard asks the NS to invite someone into a conversation (`CAL`),
//! and the NS pushes `RNG` to them with a ticket of their own.

use mocha_api::UserSummary;
use mocha_auth::UserId;
use mocha_passport::PassportError;
use mocha_proto::{ErrorCode, Token};

use crate::NotificationServer;
use crate::front::{CoreEvent, RingInvite};

/// The callee was rung.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RingOutcome {
    pub callee: UserSummary,
}

/// Why the callee was not rung. A callee who has blocked the caller, or who appears
/// offline, is reported as [`RingError::Offline`], exactly as the caller sees them.
#[derive(Debug, thiserror::Error)]
pub enum RingError {
    #[error("there is no such user")]
    UnknownUser,
    #[error("that user is offline")]
    Offline,
    #[error("you may only invite your contacts, and not people you have blocked")]
    NotAllowed,
    #[error("internal error: {0}")]
    Internal(String),
}

impl RingError {
    /// The MENP/1 code a switchboard should answer `CAL` with.
    pub fn error_code(&self) -> ErrorCode {
        match self {
            RingError::UnknownUser => ErrorCode::UnknownUser,
            RingError::Offline => ErrorCode::UserOffline,
            RingError::NotAllowed => ErrorCode::NotAllowed,
            RingError::Internal(_) => ErrorCode::InternalError,
        }
    }
}

impl From<PassportError> for RingError {
    fn from(error: PassportError) -> Self {
        match error {
            PassportError::NotFound(_) => RingError::UnknownUser,
            other => RingError::Internal(other.to_string()),
        }
    }
}

impl NotificationServer {
    /// Invites `callee` (a user id like `u7`, or a username) into switchboard room `room`
    /// on behalf of `caller`: pushes `RNG` with a fresh ticket for the callee.
    ///
    /// The checks run so as not to leak what the caller may not know: a non-contact gets
    /// `NotAllowed` whatever the callee's state; a contact who blocked the caller or who
    /// appears offline is `Offline`, the same as one who really is. They all run here, on
    /// the caller's node (Passport's data is shared); a callee on another node is rung
    /// through the bus, whose answer is only "rung" or "offline" (their node checks that
    /// the session is there and not appearing offline), so nothing more can leak.
    pub async fn ring(&self, caller: UserId, callee: &str, room: &str) -> Result<RingOutcome, RingError> {
        let room_token = Token::new(room).map_err(|_| RingError::Internal("invalid room id".into()))?;
        let callee = match callee.parse::<UserId>() {
            Ok(id) => self.passport.user_summary(id).await?,
            Err(_) => {
                let id = self.passport.find_user_id(callee).await?.ok_or(RingError::UnknownUser)?;
                self.passport.user_summary(id).await?
            }
        };
        if callee.id == caller || !self.passport.can_see(callee.id, caller).await? {
            return Err(RingError::NotAllowed);
        }
        if !self.passport.can_see(caller, callee.id).await? {
            return Err(RingError::Offline);
        }
        let caller = self.passport.user_summary(caller).await?;
        // Checked here so a front can always render them as protocol tokens.
        Token::new(self.config.switchboard_address.clone())
            .map_err(|_| RingError::Internal("switchboard address is not a valid token".into()))?;
        Token::new(caller.username.clone())
            .map_err(|_| RingError::Internal("username is not a valid token".into()))?;
        let invite = RingInvite {
            room: room_token.as_str().to_string(),
            address: self.config.switchboard_address.clone(),
            ticket: self.issue_ticket(callee.id, room),
            caller,
            msnp_address: None,
        };
        let invite = {
            let sessions = self.registry.lock();
            match sessions.get(&callee.id) {
                Some(entry) if entry.presence.visible_status().is_none() => return Err(RingError::Offline),
                Some(entry) => {
                    entry.deliver(&CoreEvent::Ring(invite));
                    return Ok(RingOutcome { callee });
                }
                None => invite,
            }
        };
        // Signed in on another node, perhaps: that node pushes `RNG` for this node's room.
        let nats = self.bus.nats().ok_or(RingError::Offline)?;
        let invite = RingInvite { msnp_address: self.config.msnp_switchboard_address.clone(), ..invite };
        nats.ring(callee.id, &invite).await?;
        Ok(RingOutcome { callee })
    }
}
