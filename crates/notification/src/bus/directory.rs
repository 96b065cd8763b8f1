//! This node's copy of the cluster-wide session directory: who is signed in on the other
//! nodes (with their presence), which revision of the directory holds each of this
//! node's own sessions, and when each other node was last heard from, with the card its
//! last heartbeat carried (what it runs, where, how busy).
//!
//! The directory itself is a JetStream KV bucket (`nats.rs`); this is the picture its
//! watch paints, kept so presence fan-out and sign-in can ask "where is this user?"
//! without a round trip. The lock is never held across an `.await`, and it is always
//! taken after the registry's, never before.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use mocha_auth::UserId;

use super::wire::NodeCard;
use crate::registry::PresenceState;

/// A session on another node, as the directory last described it.
#[derive(Clone, Debug)]
pub(crate) struct RemoteSession {
    pub node: Arc<str>,
    /// The directory revision this description came in.
    pub revision: u64,
    pub username: String,
    pub presence: PresenceState,
}

impl RemoteSession {
    pub fn visible(&self) -> bool {
        self.presence.visible_status().is_some()
    }
}

/// What a directory entry about a user means for this node.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Seen {
    Nothing,
    /// The user signed in on another node after their session here: end this one (`OTH`).
    SignedInElsewhere,
    /// A session this node had lost sight of is announced again (its node was swept
    /// while alive, or every node re-announced after a NATS restart): how it looked
    /// before (`None`: shown offline here since), so the watchers here can catch up.
    Returned {
        before: Option<PresenceState>,
    },
}

/// A node taken for dead, with the sessions it held.
pub(crate) struct Swept {
    pub node: Arc<str>,
    pub sessions: Vec<(UserId, RemoteSession)>,
}

struct Heard {
    at: Instant,
    /// `None` until its heartbeat is read, or from a node that predates cards.
    card: Option<NodeCard>,
}

impl Heard {
    fn at(at: Instant) -> Self {
        Self { at, card: None }
    }
}

#[derive(Default)]
struct State {
    remote: HashMap<UserId, RemoteSession>,
    /// The revision of the directory entry written for each session on this node; absent
    /// while its first write is still on its way.
    own: HashMap<UserId, u64>,
    /// Each other node: when its heartbeat (or any entry of it) was last seen, and its card.
    nodes: HashMap<Arc<str>, Heard>,
    /// Other nodes' sessions known from before a resync, not announced again yet.
    stale: HashSet<UserId>,
    /// When the last resync began: stale sessions still unannounced `timeout` later are gone.
    resynced_at: Option<Instant>,
    /// Nodes taken for dead: one that turns out alive announces its sessions again.
    /// (One name per crashed run: a node's name changes every run.)
    swept: HashSet<Arc<str>>,
}

pub(crate) struct Directory {
    me: Arc<str>,
    state: Mutex<State>,
}

impl Directory {
    pub fn new(me: Arc<str>) -> Self {
        Self { me, state: Mutex::default() }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The node a user is signed in on, if another one.
    pub fn node_of(&self, user: UserId) -> Option<Arc<str>> {
        self.lock().remote.get(&user).map(|session| session.node.clone())
    }

    pub fn remote(&self, user: UserId) -> Option<RemoteSession> {
        self.lock().remote.get(&user).cloned()
    }

    /// A user's entry was written (by any node, this one included) at `revision`.
    pub fn put(&self, user: UserId, session: RemoteSession, now: Instant) -> Seen {
        let mut state = self.lock();
        if *session.node == *self.me {
            state.remote.remove(&user);
            return Seen::Nothing;
        }
        state.nodes.entry(session.node.clone()).or_insert_with(|| Heard::at(now));
        let revision = session.revision;
        let was_stale = state.stale.remove(&user);
        let from_swept = state.swept.contains(&session.node);
        let before = state.remote.insert(user, session);
        match state.own.get(&user) {
            Some(own) if *own < revision => {
                state.own.remove(&user);
                Seen::SignedInElsewhere
            }
            _ if was_stale => Seen::Returned { before: before.map(|b| b.presence) },
            _ if from_swept && before.is_none() => Seen::Returned { before: None },
            _ => Seen::Nothing,
        }
    }

    /// A user's entry was deleted (they signed out, or their node was swept).
    pub fn delete(&self, user: UserId) {
        let mut state = self.lock();
        state.remote.remove(&user);
        state.stale.remove(&user);
    }

    /// How many users are signed in on the other nodes.
    pub fn remote_count(&self) -> usize {
        self.lock().remote.len()
    }

    /// The directory is being read again from the start (after a NATS restart, or this
    /// node found itself swept): this node's own revisions are void until it writes its
    /// entries again; what it knew of the others stays in use until they announce
    /// themselves again, as "stale", and every node gets a fresh `timeout` to do so.
    pub fn begin_resync(&self, now: Instant) {
        let mut state = self.lock();
        state.own.clear();
        let State { remote, stale, nodes, .. } = &mut *state;
        for (user, session) in remote.iter_mut() {
            // Revisions start again in a new stream: an old one must not outrank a new one.
            session.revision = 0;
            stale.insert(*user);
        }
        for heard in nodes.values_mut() {
            heard.at = now;
        }
        state.resynced_at = Some(now);
    }

    /// Every other node counts as heard from now.
    pub fn heard_all(&self, now: Instant) {
        for heard in self.lock().nodes.values_mut() {
            heard.at = now;
        }
    }

    /// Stale sessions not announced again within `timeout` of the resync: gone.
    pub fn expire_stale(&self, now: Instant, timeout: Duration) -> Vec<(UserId, RemoteSession)> {
        let mut state = self.lock();
        match state.resynced_at {
            Some(at) if now.saturating_duration_since(at) > timeout => state.resynced_at = None,
            _ => return Vec::new(),
        }
        let stale: Vec<UserId> = state.stale.drain().collect();
        stale.into_iter().filter_map(|user| Some((user, state.remote.remove(&user)?))).collect()
    }

    /// A node's heartbeat, with the card it carried (`None` from an older node).
    pub fn heartbeat(&self, node: &str, card: Option<NodeCard>, now: Instant) {
        if node == &*self.me {
            return;
        }
        let mut state = self.lock();
        match state.nodes.get_mut(node) {
            Some(heard) => *heard = Heard { at: now, card },
            None => {
                state.nodes.insert(Arc::from(node), Heard { at: now, card });
            }
        }
    }

    /// The cards of the other nodes not taken for dead.
    pub fn cards(&self) -> Vec<NodeCard> {
        self.lock().nodes.values().filter_map(|heard| heard.card.clone()).collect()
    }

    /// The live switchboard node with the fewest people in conversations, counting one
    /// more there at once: its next heartbeat is up to 5 s away, and a burst of `XFR`s
    /// in between should spread rather than all land on the node that looked idlest.
    pub fn pick_switchboard(&self) -> Option<NodeCard> {
        let mut state = self.lock();
        let card = state
            .nodes
            .values_mut()
            .filter_map(|heard| heard.card.as_mut())
            .filter(|card| card.sb.is_some())
            .min_by_key(|card| card.participants)?;
        let picked = card.clone();
        card.participants = card.participants.saturating_add(1);
        Some(picked)
    }

    /// A node said goodbye (its sessions signed out before it did).
    pub fn node_left(&self, node: &str) {
        self.lock().nodes.remove(node);
    }

    /// This node wrote its entry for `user` at `revision`. Returns whether a later entry
    /// from another node is already known, in which case this session is the older one.
    pub fn written(&self, user: UserId, revision: u64) -> Seen {
        let mut state = self.lock();
        if state.remote.get(&user).is_some_and(|other| other.revision > revision) {
            state.own.remove(&user);
            return Seen::SignedInElsewhere;
        }
        state.own.insert(user, revision);
        Seen::Nothing
    }

    pub fn own_revision(&self, user: UserId) -> Option<u64> {
        self.lock().own.get(&user).copied()
    }

    pub fn forget_own(&self, user: UserId) {
        self.lock().own.remove(&user);
    }

    /// Takes out every node not heard from for `timeout`, with the sessions it held.
    pub fn sweep(&self, now: Instant, timeout: Duration) -> Vec<Swept> {
        let mut state = self.lock();
        let dead: Vec<Arc<str>> = state
            .nodes
            .iter()
            .filter(|(_, heard)| now.saturating_duration_since(heard.at) > timeout)
            .map(|(node, _)| node.clone())
            .collect();
        let mut swept = Vec::with_capacity(dead.len());
        for node in dead {
            state.nodes.remove(&node);
            state.swept.insert(node.clone());
            let users: Vec<UserId> =
                state.remote.iter().filter(|(_, s)| s.node == node).map(|(user, _)| *user).collect();
            for user in &users {
                state.stale.remove(user);
            }
            let sessions =
                users.into_iter().filter_map(|user| Some((user, state.remote.remove(&user)?))).collect();
            swept.push(Swept { node, sessions });
        }
        swept
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mocha_proto::Status;

    fn on(node: &str, revision: u64, status: Option<Status>) -> RemoteSession {
        RemoteSession {
            node: Arc::from(node),
            revision,
            username: "bob".into(),
            presence: PresenceState { status, ..PresenceState::default() },
        }
    }

    const BOB: UserId = UserId(2);

    #[test]
    fn the_later_sign_in_wins_whichever_write_is_seen_first() {
        let now = Instant::now();
        // Signed in here at revision 5; then on n2 at revision 9: this session ends.
        let here = Directory::new(Arc::from("n1"));
        assert_eq!(here.written(BOB, 5), Seen::Nothing);
        assert_eq!(here.put(BOB, on("n2", 9, None), now), Seen::SignedInElsewhere);
        assert_eq!(here.node_of(BOB).as_deref(), Some("n2"));

        // n2's entry (9) is seen before this node's own write returns (10): this one is
        // newer, so nothing ends; had it come back as 8, it would have.
        let racing = Directory::new(Arc::from("n1"));
        assert_eq!(racing.put(BOB, on("n2", 9, None), now), Seen::Nothing);
        assert_eq!(racing.written(BOB, 10), Seen::Nothing);
        let older = Directory::new(Arc::from("n1"));
        older.put(BOB, on("n2", 9, None), now);
        assert_eq!(older.written(BOB, 8), Seen::SignedInElsewhere);
        assert_eq!(older.own_revision(BOB), None);

        // This node's own entry coming back through the watch is not someone else's.
        assert_eq!(here.put(BOB, on("n1", 12, None), now), Seen::Nothing);
        assert_eq!(here.node_of(BOB), None);
    }

    #[test]
    fn a_silent_node_is_swept_with_its_sessions() {
        let start = Instant::now();
        let directory = Directory::new(Arc::from("n1"));
        directory.put(BOB, on("n2", 3, Some(Status::Busy)), start);
        directory.put(UserId(3), on("n3", 4, Some(Status::Online)), start);
        directory.heartbeat("n3", None, start + Duration::from_secs(10));
        directory.heartbeat("n1", None, start);
        let swept = directory.sweep(start + Duration::from_secs(16), Duration::from_secs(15));
        assert_eq!(swept.len(), 1);
        assert_eq!(&*swept[0].node, "n2");
        assert_eq!(swept[0].sessions.len(), 1);
        assert!(swept[0].sessions[0].1.visible());
        assert!(directory.remote(BOB).is_none());
        assert!(directory.remote(UserId(3)).is_some(), "n3 was heard from in time");
        assert!(directory.sweep(start + Duration::from_secs(16), Duration::from_secs(15)).is_empty());
    }

    #[test]
    fn a_resync_keeps_the_others_until_they_announce_themselves_again() {
        let start = Instant::now();
        let timeout = Duration::from_secs(15);
        let directory = Directory::new(Arc::from("n1"));
        directory.written(UserId(1), 40);
        directory.put(BOB, on("n2", 41, Some(Status::Busy)), start);
        directory.put(UserId(3), on("n2", 42, Some(Status::Online)), start);
        directory.begin_resync(start);
        assert_eq!(directory.own_revision(UserId(1)), None, "own revisions are void in a new stream");
        assert!(directory.remote(BOB).is_some(), "still shown until the resync is over");
        // Bob is announced again (revision 2 in the new stream), now away.
        let seen = directory.put(BOB, on("n2", 2, Some(Status::Away)), start);
        let Seen::Returned { before: Some(before) } = seen else { panic!("{seen:?}") };
        assert_eq!(before.status, Some(Status::Busy));
        // This node's own entry, written again at a low revision, is not outranked.
        assert_eq!(directory.written(UserId(1), 1), Seen::Nothing);
        assert!(directory.expire_stale(start + Duration::from_secs(10), timeout).is_empty());
        let gone = directory.expire_stale(start + Duration::from_secs(16), timeout);
        assert_eq!(gone.len(), 1);
        assert_eq!(gone[0].0, UserId(3));
        assert_eq!(directory.remote_count(), 1);
    }

    fn switchboard(address: &str, participants: u64) -> Option<NodeCard> {
        Some(NodeCard { sb: Some(address.into()), participants, ..NodeCard::default() })
    }

    #[test]
    fn xfr_picks_the_least_loaded_live_switchboard_and_spreads_a_burst() {
        let start = Instant::now();
        let directory = Directory::new(Arc::from("front"));
        assert!(directory.pick_switchboard().is_none(), "no switchboard node yet");
        let ns_only = NodeCard { ns: Some("ns1:1863".into()), ..NodeCard::default() };
        directory.heartbeat("ns1", Some(ns_only), start);
        directory.heartbeat("old", None, start);
        assert!(directory.pick_switchboard().is_none(), "neither runs a switchboard");
        directory.heartbeat("sb1", switchboard("sb1:1864", 10), start);
        directory.heartbeat("sb2", switchboard("sb2:1864", 8), start);
        let picks: Vec<String> = (0..4).filter_map(|_| directory.pick_switchboard()?.sb).collect();
        // sb2 (8), sb2 (9), then whichever of the two at 10, then the other.
        assert_eq!(&picks[..2], ["sb2:1864", "sb2:1864"]);
        assert!(picks[2..].contains(&"sb1:1864".to_string()), "{picks:?}");
        // sb2's next heartbeat says what it really holds; sb1 goes silent and is swept.
        directory.heartbeat("sb2", switchboard("sb2:1864", 3), start + Duration::from_secs(10));
        directory.sweep(start + Duration::from_secs(16), Duration::from_secs(15));
        assert_eq!(directory.pick_switchboard().and_then(|c| c.sb).as_deref(), Some("sb2:1864"));
        assert_eq!(directory.cards().len(), 1);
    }

    #[test]
    fn a_swept_node_that_was_alive_comes_back() {
        let start = Instant::now();
        let directory = Directory::new(Arc::from("n1"));
        directory.put(BOB, on("n2", 3, Some(Status::Busy)), start);
        assert_eq!(directory.sweep(start + Duration::from_secs(16), Duration::from_secs(15)).len(), 1);
        let seen = directory.put(BOB, on("n2", 9, Some(Status::Busy)), start);
        assert_eq!(seen, Seen::Returned { before: None });
        // Later changes are ordinary ones (its node tells the watchers itself).
        assert_eq!(directory.put(BOB, on("n2", 10, Some(Status::Away)), start), Seen::Nothing);
    }
}
