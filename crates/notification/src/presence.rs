//! Presence fan-out: who hears what when a user's presence changes.
//!
//! Only Passport's watchers of a user (accepted contacts the user has not blocked) ever
//! hear about them, and appear-offline is indistinguishable from offline: watchers get
//! `FLN`, never `HDN`. Frames are built from the registry's *current* state while its
//! lock is held, so concurrent changes can reorder work but never leave a watcher with
//! a stale last word.

use mocha_auth::UserId;
use mocha_net::user_token;
use mocha_proto::Frame;
use mocha_proto::ns::push::{Fln, Nln, Ubx};

use crate::NotificationServer;
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

fn nln(user: UserId, state: &PresenceState) -> Option<Frame> {
    let status = state.visible_status()?;
    Some(Nln { status, user_id: user_token(user), display_name: state.display_name.clone() }.into_frame())
}

fn ubx(user: UserId, state: &PresenceState) -> Frame {
    Ubx { user_id: user_token(user), message: state.personal_message.clone() }.into_frame()
}

fn fln(user: UserId) -> Frame {
    Fln { user_id: user_token(user) }.into_frame()
}

/// How `user` looks to someone allowed to see them: `NLN` plus `UBX` when online,
/// `FLN` otherwise.
pub(crate) fn full_view(user: UserId, state: Option<&PresenceState>) -> Vec<Frame> {
    match state.and_then(|state| nln(user, state).map(|nln| (nln, state))) {
        Some((nln, state)) if state.personal_message.is_empty() => vec![nln],
        Some((nln, state)) => vec![nln, ubx(user, state)],
        None => vec![fln(user)],
    }
}

fn frames_for(user: UserId, change: Change, state: Option<&PresenceState>) -> Vec<Frame> {
    let visible = state.filter(|state| state.visible_status().is_some());
    match (change, visible) {
        (Change::Status { was_visible: false }, Some(_)) => full_view(user, state),
        (Change::Status { .. } | Change::DisplayName, Some(state)) => nln(user, state).into_iter().collect(),
        (Change::PersonalMessage, Some(state)) => vec![ubx(user, state)],
        (Change::Status { was_visible: true } | Change::Gone { was_visible: true }, None) => vec![fln(user)],
        _ => Vec::new(),
    }
}

impl NotificationServer {
    /// Tells every online watcher of `user` about `change`.
    pub(crate) async fn announce(&self, user: UserId, change: Change) {
        self.announce_with(user, change, &[]).await;
    }

    /// Like [`Self::announce`], also telling `extra` watchers (ones Passport may have
    /// forgotten, such as the contacts of a just-deleted account).
    pub(crate) async fn announce_with(&self, user: UserId, change: Change, extra: &[UserId]) {
        let mut watchers: Vec<UserId> = match self.passport.watchers(user).await {
            Ok(watchers) => watchers.into_iter().map(|w| w.id).collect(),
            Err(error) => {
                tracing::error!(user = %user, %error, "cannot look up watchers; presence not sent");
                return;
            }
        };
        let mut sessions = self.registry.lock();
        if let Some(entry) = sessions.get_mut(&user) {
            entry.last_watchers.clone_from(&watchers);
        }
        for id in extra {
            if !watchers.contains(id) {
                watchers.push(*id);
            }
        }
        let frames = frames_for(user, change, sessions.get(&user).map(|entry| &entry.presence));
        if frames.is_empty() {
            return;
        }
        for watcher in watchers {
            if let Some(entry) = sessions.get(&watcher) {
                for frame in &frames {
                    entry.outbox.push(frame.clone());
                }
            }
        }
    }

    /// Brings `viewer`'s picture of `subject` up to date after their relationship changed
    /// (added, removed, blocked, unblocked).
    pub(crate) async fn refresh_view(&self, viewer: UserId, subject: UserId) {
        if self.registry.outbox(viewer).is_none() {
            return;
        }
        let allowed = match self.passport.can_see(viewer, subject).await {
            Ok(allowed) => allowed,
            Err(error) => {
                tracing::error!(%viewer, %subject, %error, "cannot check visibility; presence not sent");
                return;
            }
        };
        let sessions = self.registry.lock();
        let Some(viewer_entry) = sessions.get(&viewer) else { return };
        let state = if allowed { sessions.get(&subject).map(|entry| &entry.presence) } else { None };
        for frame in full_view(subject, state) {
            viewer_entry.outbox.push(frame);
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

    fn lines(frames: Vec<Frame>) -> Vec<String> {
        frames.iter().map(ToString::to_string).collect()
    }

    fn check(change: Change, now: Option<PresenceState>, expected: &[&str]) {
        assert_eq!(lines(frames_for(UserId(7), change, now.as_ref())), expected, "{change:?} {now:?}");
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
        assert_eq!(lines(full_view(UserId(7), Some(&state(Some(Status::Away), "")))), ["NLN 0 AWY u7 Ann"]);
        assert_eq!(lines(full_view(UserId(7), hidden().as_ref())), ["FLN 0 u7"]);
    }
}
