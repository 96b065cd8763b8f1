//! Presence fan-out: who hears what when a user's presence changes.
//!
//! Only Passport's watchers of a user (accepted contacts the user has not blocked) ever
//! hear about them, and appear-offline is indistinguishable from offline: watchers get
//! `FLN`, never `HDN`. Events are built from the registry's *current* state while its
//! lock is held, so concurrent changes can reorder work but never leave a watcher with
//! a stale last word.

use mocha_api::UserSummary;
use mocha_auth::UserId;

use crate::NotificationServer;
use crate::front::{CoreEvent, PresenceEvent};
use crate::registry::PresenceState;

/// What changed about a user.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Change {
    Status {
        was_visible: bool,
    },
    PersonalMessage,
    DisplayName,
    /// The session ended (or was replaced by one that has not chosen a status yet).
    Gone {
        was_visible: bool,
    },
}

fn online(user: UserId, username: &str, state: &PresenceState) -> Option<PresenceEvent> {
    let status = state.visible_status()?;
    Some(PresenceEvent::Online {
        user,
        username: username.to_string(),
        status,
        display_name: state.display_name.clone(),
    })
}

fn personal_message(user: UserId, username: &str, state: &PresenceState) -> PresenceEvent {
    PresenceEvent::PersonalMessage {
        user,
        username: username.to_string(),
        message: state.personal_message.clone(),
    }
}

fn offline(user: UserId, username: &str) -> PresenceEvent {
    PresenceEvent::Offline { user, username: username.to_string() }
}

/// How `user` looks to someone allowed to see them: online plus the personal message
/// when online, offline otherwise.
pub(crate) fn full_view(user: UserId, username: &str, state: Option<&PresenceState>) -> Vec<PresenceEvent> {
    match state.and_then(|state| online(user, username, state).map(|online| (online, state))) {
        Some((online, state)) if state.personal_message.is_empty() => vec![online],
        Some((online, state)) => vec![online, personal_message(user, username, state)],
        None => vec![offline(user, username)],
    }
}

fn events_for(
    user: UserId,
    username: &str,
    change: Change,
    state: Option<&PresenceState>,
) -> Vec<PresenceEvent> {
    let visible = state.filter(|state| state.visible_status().is_some());
    match (change, visible) {
        (Change::Status { was_visible: false }, Some(_)) => full_view(user, username, state),
        (Change::Status { .. } | Change::DisplayName, Some(state)) => {
            online(user, username, state).into_iter().collect()
        }
        (Change::PersonalMessage, Some(state)) => vec![personal_message(user, username, state)],
        (Change::Status { was_visible: true } | Change::Gone { was_visible: true }, None) => {
            vec![offline(user, username)]
        }
        _ => Vec::new(),
    }
}

impl NotificationServer {
    /// Tells every online watcher of `user` about `change`.
    pub(crate) async fn announce(&self, user: UserId, username: &str, change: Change) {
        self.announce_with(user, username, change, &[]).await;
    }

    /// Like [`Self::announce`], also telling `extra` watchers (ones Passport may have
    /// forgotten, such as the contacts of a just-deleted account).
    pub(crate) async fn announce_with(&self, user: UserId, username: &str, change: Change, extra: &[UserId]) {
        let mut watchers: Vec<UserId> = match self.passport.watchers(user).await {
            Ok(watchers) => watchers.into_iter().map(|w| w.id).collect(),
            Err(error) => {
                tracing::error!(user = %user, %error, "cannot look up watchers; presence not sent");
                return;
            }
        };
        let nats = self.bus.nats();
        // Watchers signed in on other nodes, with their node (stays empty, unallocated,
        // on one node).
        let mut elsewhere = Vec::new();
        let events = {
            let mut sessions = self.registry.lock();
            if let Some(entry) = sessions.get_mut(&user) {
                entry.last_watchers.clone_from(&watchers);
            }
            for id in extra {
                if !watchers.contains(id) {
                    watchers.push(*id);
                }
            }
            let events = events_for(user, username, change, sessions.get(&user).map(|entry| &entry.presence));
            if events.is_empty() {
                return;
            }
            let events: Vec<CoreEvent> = events.into_iter().map(CoreEvent::Presence).collect();
            for watcher in watchers {
                if let Some(entry) = sessions.get(&watcher) {
                    for event in &events {
                        entry.deliver(event);
                    }
                } else if let Some(node) = nats.and_then(|nats| nats.node_of(watcher)) {
                    elsewhere.push((watcher, node));
                }
            }
            events
        };
        if let Some(nats) = nats
            && !elsewhere.is_empty()
        {
            nats.send_presence(&elsewhere, &events).await;
        }
    }

    /// A user on another node is gone without a word (their node died): the watchers
    /// on this node who could see them see them offline.
    pub(crate) async fn remote_gone(&self, user: UserId, username: &str, was_visible: bool) {
        if !was_visible {
            return;
        }
        let watchers = match self.passport.watchers(user).await {
            Ok(watchers) => watchers,
            Err(error) => {
                tracing::error!(user = %user, %error, "cannot look up watchers; offline not sent");
                return;
            }
        };
        let event = CoreEvent::Presence(offline(user, username));
        let sessions = self.registry.lock();
        for watcher in watchers {
            if let Some(entry) = sessions.get(&watcher.id) {
                entry.deliver(&event);
            }
        }
    }

    /// A user on another node this node had lost sight of is announced again (after a
    /// NATS restart, or their node was wrongly taken for dead): the watchers here who
    /// could see them catch up with how they look now.
    pub(crate) async fn remote_returned(
        &self,
        user: UserId,
        username: &str,
        before: Option<&PresenceState>,
        now: &PresenceState,
    ) {
        if before == Some(now) {
            return;
        }
        let was_visible = before.is_some_and(|before| before.visible_status().is_some());
        let events = match now.visible_status() {
            Some(_) => full_view(user, username, Some(now)),
            None if was_visible => vec![offline(user, username)],
            None => return,
        };
        let watchers = match self.passport.watchers(user).await {
            Ok(watchers) => watchers,
            Err(error) => {
                tracing::error!(user = %user, %error, "cannot look up watchers; presence not sent");
                return;
            }
        };
        let sessions = self.registry.lock();
        for watcher in watchers {
            if let Some(entry) = sessions.get(&watcher.id) {
                for event in &events {
                    entry.deliver(&CoreEvent::Presence(event.clone()));
                }
            }
        }
    }

    /// Brings `viewer`'s picture of `subject` up to date after their relationship changed
    /// (added, removed, blocked, unblocked).
    pub(crate) async fn refresh_view(&self, viewer: UserId, subject: &UserSummary) {
        if self.registry.outbox(viewer).is_none() {
            return;
        }
        let allowed = match self.passport.can_see(viewer, subject.id).await {
            Ok(allowed) => allowed,
            Err(error) => {
                tracing::error!(%viewer, subject = %subject.id, %error, "cannot check visibility; presence not sent");
                return;
            }
        };
        // Looked up first: the directory's lock is never taken inside the registry's.
        let remote = self.bus.nats().filter(|_| allowed).and_then(|nats| nats.remote(subject.id));
        let sessions = self.registry.lock();
        let Some(viewer_entry) = sessions.get(&viewer) else { return };
        let here = sessions.get(&subject.id).map(|entry| &entry.presence);
        let state = if allowed { here.or(remote.as_ref().map(|remote| &remote.presence)) } else { None };
        for event in full_view(subject.id, &subject.username, state) {
            viewer_entry.deliver(&CoreEvent::Presence(event));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mocha_proto::Status;

    fn state(status: Option<Status>, message: &str) -> PresenceState {
        PresenceState { status, display_name: "Ann".into(), personal_message: message.into() }
    }

    /// The MENP/1 lines watchers get.
    fn lines(events: Vec<PresenceEvent>) -> Vec<String> {
        events
            .into_iter()
            .filter_map(|event| crate::front::menp_frame(&CoreEvent::Presence(event)))
            .map(|frame| frame.to_string())
            .collect()
    }

    fn check(change: Change, now: Option<PresenceState>, expected: &[&str]) {
        assert_eq!(lines(events_for(UserId(7), "ann", change, now.as_ref())), expected, "{change:?} {now:?}");
    }

    #[test]
    fn what_watchers_hear() {
        let online = || Some(state(Some(Status::Busy), "hi"));
        let hidden = || Some(state(Some(Status::Hidden), "hi"));
        check(Change::Status { was_visible: false }, online(), &["NLN 0 BSY u7 Ann", "UBX 0 u7 2 (payload)"]);
        check(Change::Status { was_visible: true }, online(), &["NLN 0 BSY u7 Ann"]);
        check(Change::Status { was_visible: true }, hidden(), &["FLN 0 u7"]);
        check(Change::Status { was_visible: false }, hidden(), &[]);
        check(Change::Status { was_visible: false }, Some(state(None, "")), &[]);
        check(Change::PersonalMessage, online(), &["UBX 0 u7 2 (payload)"]);
        check(Change::PersonalMessage, hidden(), &[]);
        check(Change::DisplayName, online(), &["NLN 0 BSY u7 Ann"]);
        check(Change::DisplayName, hidden(), &[]);
        check(Change::Gone { was_visible: true }, None, &["FLN 0 u7"]);
        check(Change::Gone { was_visible: false }, None, &[]);
        // Replaced by a new session that has not chosen a status yet: offline.
        check(Change::Gone { was_visible: true }, Some(state(None, "")), &["FLN 0 u7"]);
        assert_eq!(
            lines(full_view(UserId(7), "ann", Some(&state(Some(Status::Away), "")))),
            ["NLN 0 AWY u7 Ann"]
        );
        assert_eq!(lines(full_view(UserId(7), "ann", hidden().as_ref())), ["FLN 0 u7"]);
    }
}
