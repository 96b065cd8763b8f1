//! Passport events turned into pushes: contact-list changes with their presence
//! consequences, bans, deletions, revoked sign-ins and service notices.
//!
//! Passport calls listeners synchronously, so the listener only queues the event; one
//! worker task applies them in order (an accept followed by a removal must not arrive
//! the other way round).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Weak};

use mocha_api::ContactListEvent;
use mocha_auth::UserId;
use mocha_passport::{PassportEvent, PassportListener};
use mocha_proto::OutReason;
use tokio::sync::mpsc;

use crate::NotificationServer;
use crate::front::CoreEvent;
use crate::presence::Change;

struct Relay {
    events: mpsc::UnboundedSender<PassportEvent>,
    moderation: Arc<ModerationEpoch>,
}

impl PassportListener for Relay {
    fn on_event(&self, event: &PassportEvent) {
        self.moderation.note(event);
        let _ = self.events.send(event.clone());
    }
}

/// Counts the events that end sessions (bans, deletions, revoked sign-ins), bumped as
/// Passport publishes each one, before its kick is applied.
///
/// A sign-in reads it before asking the database and again once its session is in the
/// registry: unchanged, any such event that the database question missed will find the
/// session when its kick is applied, so the question need not be asked twice.
#[derive(Debug, Default)]
pub(crate) struct ModerationEpoch(AtomicU64);

impl ModerationEpoch {
    pub fn now(&self) -> u64 {
        self.0.load(Ordering::SeqCst)
    }

    /// Counts `event` if it ends sessions. Called as an event arrives (from this node's
    /// Passport, or from another node's over the bus), before it is applied.
    pub fn note(&self, event: &PassportEvent) {
        if matches!(
            event,
            PassportEvent::Banned { .. }
                | PassportEvent::AccountDeleted { .. }
                | PassportEvent::SignInRevoked { .. }
        ) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }
}

/// Starts the worker and returns the listener to subscribe. The worker holds the server
/// weakly, so the server (and Passport with it) can still be dropped.
pub(crate) fn relay(server: &Arc<NotificationServer>) -> Arc<dyn PassportListener> {
    let (sender, mut events) = mpsc::unbounded_channel();
    let moderation = server.moderation.clone();
    let server = Arc::downgrade(server);
    tokio::spawn(async move {
        while let Some(event) = events.recv().await {
            let Some(server) = Weak::upgrade(&server) else { break };
            // The other nodes of a cluster apply it to their own users.
            if let Some(nats) = server.bus.nats() {
                nats.publish_passport(&event).await;
            }
            server.apply_event(event).await;
        }
    });
    Arc::new(Relay { events: sender, moderation })
}

impl NotificationServer {
    /// Applies a Passport event to this node's own users (from here, or from another node).
    pub(crate) async fn apply_event(&self, event: PassportEvent) {
        match event {
            PassportEvent::ContactList { user, event } => self.contact_list_changed(user, event).await,
            PassportEvent::DisplayNameChanged { user, display_name } => {
                let changed = self.registry.lock().get_mut(&user).map(|entry| {
                    entry.presence.display_name = display_name;
                    entry.username.clone()
                });
                if let Some(username) = changed {
                    self.publish_presence(user);
                    self.announce(user, &username, Change::DisplayName).await;
                }
            }
            PassportEvent::Banned { user, ban } => self.kick(user, mocha_net::banned(&ban)),
            PassportEvent::AccountDeleted { user } => self.kick(user, OutReason::AccountDeleted),
            PassportEvent::SignInRevoked { user, sign_in } => {
                let live = self.registry.lock().get(&user).filter(|entry| entry.sign_in == sign_in).is_some();
                if live {
                    self.kick(user, OutReason::SignInRevoked);
                }
            }
            PassportEvent::Notice(notice) => self.registry.deliver_to_all(&CoreEvent::Notice(notice.text)),
        }
    }

    fn kick(&self, user: UserId, reason: OutReason) {
        if let Some(outbox) = self.registry.outbox(user) {
            outbox.kick(reason);
        }
    }

    /// `CON` to `user`, then whatever presence the change reveals or hides.
    async fn contact_list_changed(&self, user: UserId, event: ContactListEvent) {
        self.registry.deliver(user, &CoreEvent::ContactList(event.clone()));
        // Passport sends two-sided changes (accept, remove) to both users, so each
        // event only updates the receiving user's view; blocks are sent to the blocker
        // only, so they update the blocked user's view of the blocker.
        match event {
            ContactListEvent::RequestAccepted { by: other }
            | ContactListEvent::ContactAdded { contact: other }
            | ContactListEvent::ContactRemoved { by: other } => self.refresh_view(user, &other).await,
            ContactListEvent::Blocked { user: other } | ContactListEvent::Unblocked { user: other } => {
                if self.registry.outbox(other.id).is_none() {
                    return;
                }
                match self.passport.user_summary(user).await {
                    Ok(blocker) => self.refresh_view(other.id, &blocker).await,
                    Err(error) => {
                        tracing::error!(%user, %error, "cannot look up a blocker; presence not sent")
                    }
                }
            }
            ContactListEvent::RequestReceived { .. }
            | ContactListEvent::RequestSent { .. }
            | ContactListEvent::RequestDeclined { .. }
            | ContactListEvent::RequestCancelled { .. }
            | ContactListEvent::AliasChanged { .. }
            | ContactListEvent::DisplayNameChanged { .. } => {}
        }
    }
}
