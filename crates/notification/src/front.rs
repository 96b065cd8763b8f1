//! The seam between the core and the fronts.
//!
//! The core (the registry of who is online, presence fan-out with the privacy rules,
//! Passport events, ringing, one live session per account) speaks in [`CoreEvent`]s;
//! each signed-in session registers a [`Front`] that renders them in its own wire
//! format into its outbox. MENP/1 is one front (`MenpFront`, here); the MSNP gateway
//! (`mocha-msnp`) is another, and signs its sessions in through
//! [`NotificationServer::attach`], so both protocols share one registry: a sign-in on
//! either replaces a live session on either (`OUT OTH`), and presence, privacy, bans and
//! notices are decided once, here.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use mocha_api::{Account, ContactListEvent, UserSummary};
use mocha_auth::UserId;
use mocha_net::{Outbox, user_token};
use mocha_passport::{Authenticated, PassportError};
use mocha_proto::ns::push::{Con, Fln, Nln, Not, Rng, Ubx};
use mocha_proto::{OutReason, Status, Token};

use crate::NotificationServer;
use crate::bus::wire::Entry;
use crate::presence::Change;
use crate::registry::{self, PresenceState};

/// Longest personal message, in characters (both fronts).
pub const MAX_PERSONAL_MESSAGE: usize = 128;

/// Something a signed-in session should hear, in no wire format.
#[derive(Clone, Debug)]
pub enum CoreEvent {
    Presence(PresenceEvent),
    /// The user's contact list changed (the same events Passport publishes).
    ContactList(ContactListEvent),
    /// A service notice from an administrator.
    Notice(String),
    /// Someone invites the user into a switchboard room.
    Ring(RingInvite),
}

/// How a watched user looks now. Only ever sent to someone allowed to see them.
/// (Serializable: a cluster's nodes send them to each other's watchers.)
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum PresenceEvent {
    /// Online with this status (never `HDN` or `FLN`) and display name: first seen, or changed.
    Online {
        user: UserId,
        username: String,
        #[serde(with = "crate::bus::wire::status")]
        status: Status,
        display_name: String,
    },
    /// The user's personal message (may be empty).
    PersonalMessage { user: UserId, username: String, message: String },
    /// Offline, or appearing offline: the two are never told apart.
    Offline { user: UserId, username: String },
}

/// An invitation into switchboard room `room` with the callee's own `ticket`.
/// (Serializable: in a cluster the caller's node sends it to the callee's.)
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RingInvite {
    pub room: String,
    /// The MENP switchboard's `host:port` (the room's node); another front substitutes its own.
    pub address: String,
    pub ticket: String,
    pub caller: UserSummary,
    /// The MSNP gateway's switchboard on the room's node, set only when the ring crosses
    /// nodes (on one node the gateway's own address is the room's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub msnp_address: Option<String>,
}

/// Renders core events for one session, into that session's outbox.
pub trait Front: Send + Sync + 'static {
    fn deliver(&self, outbox: &Outbox, event: &CoreEvent);
}

/// The MENP/1 front's rendering.
pub(crate) struct MenpFront;

impl Front for MenpFront {
    fn deliver(&self, outbox: &Outbox, event: &CoreEvent) {
        if let Some(frame) = menp_frame(event) {
            outbox.push(frame);
        }
    }
}

pub(crate) fn menp_frame(event: &CoreEvent) -> Option<mocha_proto::Frame> {
    Some(match event {
        CoreEvent::Presence(PresenceEvent::Online { user, status, display_name, .. }) => {
            Nln { status: *status, user_id: user_token(*user), display_name: display_name.clone() }
                .into_frame()
        }
        CoreEvent::Presence(PresenceEvent::PersonalMessage { user, message, .. }) => {
            Ubx { user_id: user_token(*user), message: message.clone() }.into_frame()
        }
        CoreEvent::Presence(PresenceEvent::Offline { user, .. }) => {
            Fln { user_id: user_token(*user) }.into_frame()
        }
        CoreEvent::ContactList(event) => match serde_json::to_vec(event) {
            Ok(json) => Con { payload: json.into() }.into_frame(),
            Err(error) => {
                tracing::error!(%error, "cannot encode a contact-list event");
                return None;
            }
        },
        CoreEvent::Notice(text) => Not { text: text.clone() }.into_frame(),
        CoreEvent::Ring(invite) => Rng {
            room_id: Token::new(invite.room.clone()).ok()?,
            address: Token::new(invite.address.clone()).ok()?,
            ticket: Token::new(invite.ticket.clone()).ok()?,
            caller_id: user_token(invite.caller.id),
            caller_username: Token::new(invite.caller.username.clone()).ok()?,
            caller_display_name: invite.caller.display_name.clone(),
        }
        .into_frame(),
    })
}

/// A session token the core has checked ([`NotificationServer::authenticate`]): its
/// signature, its sign-in and the account's bans, as of the moment recorded here.
pub struct Verified {
    pub authenticated: Authenticated,
    pub account: Account,
    /// [`ModerationEpoch`](crate::events::ModerationEpoch) before the database was asked.
    epoch: u64,
}

/// A session about to become its account's live one.
pub struct Attach {
    /// Its account, as checked at sign-in.
    pub verified: Verified,
    /// From [`NotificationServer::next_connection`].
    pub connection: u64,
    pub outbox: Outbox,
    pub front: Arc<dyn Front>,
}

/// Why a personal message was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PersonalMessageError {
    #[error("the personal message is too long (128 characters at most)")]
    TooLong,
    #[error("the personal message cannot contain control characters")]
    ControlCharacters,
    #[error("not signed in")]
    NotSignedIn,
}

/// The session is no longer its account's live one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("not signed in")]
pub struct NotSignedIn;

/// What a viewer may see of one contact right now: `None` when offline to them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LivePresence {
    pub status: Status,
    pub display_name: String,
    pub personal_message: String,
}

impl LivePresence {
    /// `None` when offline or appearing offline.
    fn of(presence: &PresenceState) -> Option<Self> {
        Some(Self {
            status: presence.visible_status()?,
            display_name: presence.display_name.clone(),
            personal_message: presence.personal_message.clone(),
        })
    }
}

impl NotificationServer {
    /// A connection id unique across every front (the registry tells sessions apart by it).
    pub fn next_connection(&self) -> u64 {
        self.next_connection.fetch_add(1, Ordering::Relaxed)
    }

    pub fn passport(&self) -> &Arc<mocha_passport::Passport> {
        &self.passport
    }

    /// Checks a session token for a sign-in on any front: one look at the database.
    pub async fn authenticate(&self, session_token: &str) -> Result<Verified, PassportError> {
        let epoch = self.moderation.now();
        let (authenticated, account) = self.passport.authenticate_account(session_token).await?;
        Ok(Verified { authenticated, account, epoch })
    }

    /// Makes a signed-in session its account's live one: the session it replaces (on any
    /// front) is told `OTH` and its watchers see it go offline. A ban or revocation that
    /// raced the sign-in still ends it: one published after the token was checked is
    /// either applied after this session is in the registry (and kicks it) or seen here,
    /// and then the sign-in is checked again.
    /// The caller sends its sign-in reply first, so no push can arrive before it.
    pub async fn attach(&self, attach: Attach) {
        let Attach { verified, connection, outbox, front } = attach;
        let Verified { authenticated, account, epoch } = verified;
        let Account { username, display_name, .. } = account;
        let user = authenticated.user;
        let presence = PresenceState { status: None, display_name, personal_message: String::new() };
        let listed = self.bus.nats().map(|nats| (nats, Entry::new(nats.node(), &username, &presence)));
        let entry = registry::Entry {
            connection,
            sign_in: authenticated.sign_in.clone(),
            username: username.clone(),
            outbox: outbox.clone(),
            front,
            presence,
            last_watchers: Vec::new(),
        };
        let displaced = self.registry.insert(user, entry);
        // On another node, the session this one replaces ends when that node sees this
        // sign-in in the directory; its watchers hear it from here, below.
        let elsewhere = listed.and_then(|(nats, listed)| {
            nats.signed_in(user, listed);
            nats.remote(user)
        });
        let was_visible = displaced.as_ref().is_some_and(|older| older.presence.visible_status().is_some())
            || elsewhere.as_ref().is_some_and(|older| older.visible());
        if let Some(older) = &displaced {
            older.outbox.kick(OutReason::SignedInElsewhere);
        }
        if displaced.is_some() || elsewhere.is_some() {
            // The new session starts offline until its first status; watchers must see that.
            self.announce(user, &username, Change::Gone { was_visible }).await;
        }
        if self.moderation.now() == epoch {
            return;
        }
        // The signature was verified already and cannot change, so only the database is
        // asked again (a token expiring meanwhile does not matter: expiry only limits new
        // sign-ins).
        match self.passport.recheck(&authenticated).await {
            Ok(()) => {}
            Err(PassportError::Banned(ban)) => outbox.kick(mocha_net::banned(&ban)),
            // The token checked out a moment ago; an unreachable database is no reason to
            // end the session, and a ban landing meanwhile is still pushed as an event.
            Err(error @ PassportError::StorageUnavailable(_)) => {
                tracing::warn!(%user, %error, "could not recheck a new session; keeping it");
            }
            Err(_) => outbox.kick(OutReason::SignInRevoked),
        }
    }

    /// Takes `connection` out of the registry (if it is still the live session) and shows
    /// its user offline to those who could see them.
    pub async fn detach(&self, user: UserId, connection: u64) {
        let Some(entry) = self.registry.remove(user, connection) else { return };
        if let Some(nats) = self.bus.nats() {
            nats.signed_out(user);
        }
        let was_visible = entry.presence.visible_status().is_some();
        self.announce_with(user, &entry.username, Change::Gone { was_visible }, &entry.last_watchers).await;
    }

    /// Sets the session's status (`HDN` appears offline) and tells its watchers.
    pub async fn set_status(
        &self,
        user: UserId,
        username: &str,
        connection: u64,
        status: Status,
    ) -> Result<(), NotSignedIn> {
        let was_visible = self
            .registry
            .update_presence(user, connection, |presence| {
                let was_visible = presence.visible_status().is_some();
                presence.status = Some(status);
                was_visible
            })
            .ok_or(NotSignedIn)?;
        self.publish_presence(user);
        self.announce(user, username, Change::Status { was_visible }).await;
        Ok(())
    }

    /// Checks and sets the session's personal message and tells its watchers.
    pub async fn set_personal_message(
        &self,
        user: UserId,
        username: &str,
        connection: u64,
        message: &str,
    ) -> Result<(), PersonalMessageError> {
        let message = message.trim();
        if message.chars().count() > MAX_PERSONAL_MESSAGE {
            return Err(PersonalMessageError::TooLong);
        }
        if message.chars().any(char::is_control) {
            return Err(PersonalMessageError::ControlCharacters);
        }
        let message = message.to_string();
        self.registry
            .update_presence(user, connection, |presence| presence.personal_message = message)
            .ok_or(PersonalMessageError::NotSignedIn)?;
        self.publish_presence(user);
        self.announce(user, username, Change::PersonalMessage).await;
        Ok(())
    }

    /// How `contact` looks to `viewer` now, with the privacy rules: `None` when offline,
    /// appearing offline, or not visible to the viewer.
    pub async fn live_presence(
        &self,
        viewer: UserId,
        contact: UserId,
    ) -> Result<Option<LivePresence>, PassportError> {
        let live_here = self.registry.lock().get(&contact).map(|entry| LivePresence::of(&entry.presence));
        // Signed in on another node: as the directory describes them.
        let live = match live_here {
            Some(here) => here,
            None => self
                .bus
                .nats()
                .and_then(|nats| nats.remote(contact))
                .and_then(|r| LivePresence::of(&r.presence)),
        };
        // Only online contacts need the (per-pair) visibility check.
        match live {
            Some(presence) if self.passport.can_see(viewer, contact).await? => Ok(Some(presence)),
            _ => Ok(None),
        }
    }

    /// In a cluster, writes the user's presence now into the session directory.
    pub(crate) fn publish_presence(&self, user: UserId) {
        let Some(nats) = self.bus.nats() else { return };
        let entry =
            self.registry.lock().get(&user).map(|e| Entry::new(nats.node(), &e.username, &e.presence));
        if let Some(entry) = entry {
            nats.changed(user, entry);
        }
    }

    /// The user signed in on another node after their session here: it ends with `OTH`,
    /// silently (that node tells the watchers), and leaves the directory entry alone.
    pub(crate) fn signed_in_elsewhere(&self, user: UserId) {
        if let Some(older) = self.registry.take(user) {
            tracing::info!(%user, "signed in on another node; ending the session here");
            older.outbox.kick(OutReason::SignedInElsewhere);
        }
    }

    /// A ticket letting `user` into switchboard room `room` (any front's switchboard
    /// checks it with [`Self::ticket_verifier`]).
    pub fn switchboard_ticket(&self, user: UserId, room: &str) -> String {
        self.issue_ticket(user, room)
    }

    /// What `QNG` tells clients: ping again well before the idle timeout.
    pub fn ping_interval_seconds(&self) -> u32 {
        self.config.ping_interval_seconds()
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use mocha_auth::SigningKey;
    use mocha_passport::testing::{Engine, TestDatabase};
    use mocha_passport::{Passport, PassportConfig, StatusBoard};

    use super::*;
    use crate::NotificationConfig;

    /// A Notification Server on a fresh SQLite file, with an administrator and Ann, and
    /// one of Ann's sign-ins checked by the core but not yet attached.
    async fn checked_but_not_attached() -> (TestDatabase, Arc<NotificationServer>, Verified, UserId, UserId) {
        let database = TestDatabase::create(Engine::Sqlite).await;
        let config = PassportConfig { pbkdf2_iterations: 1_000, ..PassportConfig::default() };
        let passport =
            Passport::open(&database.url, SigningKey::generate(), config, Arc::new(StatusBoard::default()))
                .await
                .unwrap();
        let admin = passport.register("admin@example.com", "Admin", "correct horse 1").await.unwrap();
        passport.set_admin_by_username("admin@example.com", true).await.unwrap();
        let ann = passport.register("ann@example.com", "Ann", "correct horse 2").await.unwrap();
        let tokens =
            passport.sign_in("ann@example.com", "correct horse 2", [127, 0, 0, 1].into()).await.unwrap();
        let server = NotificationServer::new(passport, SigningKey::generate(), NotificationConfig::default());
        let verified = server.authenticate(&tokens.session_token).await.unwrap();
        (database, server, verified, admin.id, ann.id)
    }

    async fn attach(server: &NotificationServer, verified: Verified) -> mocha_net::Kicks {
        let (outbox, receivers) = Outbox::new(8, 1);
        let connection = server.next_connection();
        server.attach(Attach { verified, connection, outbox, front: Arc::new(MenpFront) }).await;
        receivers.kicks
    }

    #[tokio::test]
    async fn a_ban_landing_between_the_token_check_and_attach_still_ends_the_session() {
        let (_database, server, verified, admin, ann) = checked_but_not_attached().await;
        server.passport.ban(admin, ann, Some("spam"), None).await.unwrap();
        // The ban's kick is applied now, while Ann's session is not in the registry yet.
        tokio::time::sleep(Duration::from_millis(100)).await;

        let mut kicks = attach(&server, verified).await;
        let kick = tokio::time::timeout(Duration::from_secs(2), kicks.recv()).await;
        assert!(matches!(kick, Ok(Some(OutReason::Banned(_)))), "Ann's new session was not ended: {kick:?}");
    }

    #[tokio::test]
    async fn a_sign_in_with_nothing_in_between_stays_signed_in() {
        let (_database, server, verified, _admin, _ann) = checked_but_not_attached().await;
        let mut kicks = attach(&server, verified).await;
        assert_eq!(server.online_users(), 1);
        let kick = tokio::time::timeout(Duration::from_millis(300), kicks.recv()).await;
        assert!(kick.is_err(), "an untouched sign-in was ended: {kick:?}");
    }
}
