//! Who is signed in right now: one live session per account, its outbound queue and
//! its presence. The lock is never held across an `.await`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use mocha_auth::UserId;
use mocha_net::Outbox;

use crate::front::{CoreEvent, Front};
use mocha_passport::ServiceGauge;
use mocha_proto::Status;

/// What others may learn about a signed-in user, when they may learn anything.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct PresenceState {
    /// `None` from sign-in until the first `CHG`: signed in but offline to everyone.
    pub status: Option<Status>,
    pub display_name: String,
    pub personal_message: String,
}

impl PresenceState {
    /// The status others see, or `None` if the user looks offline (appear-offline included).
    pub fn visible_status(&self) -> Option<Status> {
        self.status.filter(|status| *status != Status::Hidden)
    }
}

pub(crate) struct Entry {
    /// Identifies the connection, so an older connection's exit never removes a newer one.
    pub connection: u64,
    pub sign_in: String,
    pub username: String,
    pub outbox: Outbox,
    /// Renders core events in this session's protocol.
    pub front: Arc<dyn Front>,
    pub presence: PresenceState,
    /// The watchers last told about this user; kept so they still hear `FLN` when the
    /// account is deleted and Passport no longer knows them.
    pub last_watchers: Vec<UserId>,
}

impl Entry {
    pub fn deliver(&self, event: &CoreEvent) {
        self.front.deliver(&self.outbox, event);
    }
}

pub(crate) struct Registry {
    sessions: Mutex<HashMap<UserId, Entry>>,
    gauge: Arc<ServiceGauge>,
}

impl Registry {
    pub fn new(gauge: Arc<ServiceGauge>) -> Self {
        Self { sessions: Mutex::default(), gauge }
    }

    pub fn lock(&self) -> MutexGuard<'_, HashMap<UserId, Entry>> {
        self.sessions.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Makes `entry` the user's live session, returning the one it replaces.
    pub fn insert(&self, user: UserId, entry: Entry) -> Option<Entry> {
        let displaced = self.lock().insert(user, entry);
        if displaced.is_none() {
            self.gauge.add_online(1);
        }
        displaced
    }

    /// Removes the user's session if it is still `connection`.
    pub fn remove(&self, user: UserId, connection: u64) -> Option<Entry> {
        let mut sessions = self.lock();
        if sessions.get(&user).is_none_or(|entry| entry.connection != connection) {
            return None;
        }
        let removed = sessions.remove(&user);
        drop(sessions);
        self.gauge.add_online(-1);
        removed
    }

    /// Removes the user's session, whichever connection it is.
    pub fn take(&self, user: UserId) -> Option<Entry> {
        let removed = self.lock().remove(&user);
        if removed.is_some() {
            self.gauge.add_online(-1);
        }
        removed
    }

    /// Runs `change` on the presence of `connection`'s session; returns what it returns.
    pub fn update_presence<T>(
        &self,
        user: UserId,
        connection: u64,
        change: impl FnOnce(&mut PresenceState) -> T,
    ) -> Option<T> {
        let mut sessions = self.lock();
        let entry = sessions.get_mut(&user).filter(|entry| entry.connection == connection)?;
        Some(change(&mut entry.presence))
    }

    pub fn deliver(&self, user: UserId, event: &CoreEvent) {
        if let Some(entry) = self.lock().get(&user) {
            entry.deliver(event);
        }
    }

    pub fn deliver_to_all(&self, event: &CoreEvent) {
        for entry in self.lock().values() {
            entry.deliver(event);
        }
    }

    pub fn outbox(&self, user: UserId) -> Option<Outbox> {
        self.lock().get(&user).map(|entry| entry.outbox.clone())
    }

    pub fn len(&self) -> usize {
        self.lock().len()
    }
}
