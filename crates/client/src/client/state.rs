//! What the client knows about the account right now: contacts with their presence,
//! blocks, requests, and the connection. Updated by the Notification Server task,
//! read by anyone as a snapshot (or awaited with [`tokio::sync::watch`]).

use mocha_api::{
    Account, BlockedUser, ContactRequests, Presence, PresenceStatus, RequestPolicy, SyncContact,
    SyncSnapshot, UserId,
};
use mocha_proto::Status;

use super::event::SignOutReason;

#[derive(Clone, Debug, PartialEq)]
pub struct ClientState {
    pub account: Account,
    pub connection: ConnectionState,
    /// The status you chose; restored after a reconnect.
    pub status: Status,
    /// Your personal message; restored after a reconnect.
    pub personal_message: String,
    pub contacts: Vec<SyncContact>,
    pub blocks: Vec<BlockedUser>,
    pub requests: ContactRequests,
    pub request_policy: RequestPolicy,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConnectionState {
    Online,
    /// The connection dropped; `attempt` counts the retries so far.
    Reconnecting {
        attempt: u32,
    },
    SignedOut(SignOutReason),
}

impl ClientState {
    pub(crate) fn new(account: Account, status: Status, personal_message: String) -> Self {
        Self {
            account,
            connection: ConnectionState::Reconnecting { attempt: 0 },
            status,
            personal_message,
            contacts: Vec::new(),
            blocks: Vec::new(),
            requests: ContactRequests { incoming: Vec::new(), outgoing: Vec::new() },
            request_policy: RequestPolicy::Everyone,
        }
    }

    pub fn contact(&self, user: UserId) -> Option<&SyncContact> {
        self.contacts.iter().find(|c| c.user.id == user)
    }

    /// Finds a contact by user id (`u7`), sign-in address or alias.
    pub fn find_contact(&self, who: &str) -> Option<&SyncContact> {
        self.contacts.iter().find(|c| {
            c.user.id.to_string() == who
                || c.user.username.eq_ignore_ascii_case(who)
                || c.alias.as_deref() == Some(who)
        })
    }

    /// The presence of a contact, `None` when offline or not visible to you.
    pub fn presence(&self, user: UserId) -> Option<&Presence> {
        self.contact(user).and_then(|c| c.presence.as_ref())
    }

    pub(crate) fn apply_snapshot(&mut self, snapshot: SyncSnapshot) {
        self.account = snapshot.account;
        self.contacts = snapshot.contacts;
        self.blocks = snapshot.blocks;
        self.requests = snapshot.requests;
        self.request_policy = snapshot.request_policy;
    }

    /// `NLN`: returns the new presence, if the user is a contact.
    pub(crate) fn set_online(
        &mut self,
        user: UserId,
        status: Status,
        display_name: &str,
    ) -> Option<Presence> {
        let status = presence_status(status)?;
        let contact = self.contacts.iter_mut().find(|c| c.user.id == user)?;
        let personal_message = contact.presence.take().map(|p| p.personal_message).unwrap_or_default();
        contact.user.display_name = display_name.to_string();
        let presence = Presence { status, display_name: display_name.to_string(), personal_message };
        contact.presence = Some(presence.clone());
        Some(presence)
    }

    pub(crate) fn set_offline(&mut self, user: UserId) {
        if let Some(contact) = self.contacts.iter_mut().find(|c| c.user.id == user) {
            contact.presence = None;
        }
    }

    pub(crate) fn set_personal_message_of(&mut self, user: UserId, message: &str) {
        if let Some(presence) =
            self.contacts.iter_mut().find(|c| c.user.id == user).and_then(|c| c.presence.as_mut())
        {
            presence.personal_message = message.to_string();
        }
    }
}

/// The presence a status shows to others; hidden and offline show none.
pub fn presence_status(status: Status) -> Option<PresenceStatus> {
    PresenceStatus::from_code(status.code())
}
