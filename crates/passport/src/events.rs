//! How Passport tells other services about changes they must act on at once.

use std::sync::{Arc, RwLock};

use mocha_api::{Ban, ContactListEvent, ServiceNotice};
use mocha_auth::UserId;

/// Serializable so a cluster's nodes can hand events to each other (mocha-notification's bus).
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum PassportEvent {
    /// `user`'s contact list, requests or blocks changed.
    ContactList {
        user: UserId,
        event: ContactListEvent,
    },
    DisplayNameChanged {
        user: UserId,
        display_name: String,
    },
    Banned {
        user: UserId,
        ban: Ban,
    },
    AccountDeleted {
        user: UserId,
    },
    /// A sign-in ended: signed out, revoked, or its refresh token was reused.
    SignInRevoked {
        user: UserId,
        sign_in: String,
    },
    Notice(ServiceNotice),
}

/// Implemented by services that react to Passport changes (the Notification Server).
/// Called synchronously: implementations must not block.
pub trait PassportListener: Send + Sync {
    fn on_event(&self, event: &PassportEvent);
}

#[derive(Default)]
pub(crate) struct Listeners(RwLock<Vec<Arc<dyn PassportListener>>>);

impl Listeners {
    pub fn add(&self, listener: Arc<dyn PassportListener>) {
        self.0.write().unwrap_or_else(|e| e.into_inner()).push(listener);
    }

    pub fn publish(&self, event: &PassportEvent) {
        let listeners = self.0.read().unwrap_or_else(|e| e.into_inner()).clone();
        for listener in listeners {
            listener.on_event(event);
        }
    }
}
