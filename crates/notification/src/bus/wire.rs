//! What nodes say to each other: subjects and JSON payloads.
//!
//! Subjects, under the cluster's prefix `P`:
//! - `P.node.<node>.user.<user>`: presence for one watcher on that node (a JSON array of
//!   presence events). Keyed by user, routed by node: the sender knows the watcher's node
//!   from the directory, and each node holds one subscription, not one per user.
//! - `P.passport`: every Passport event, for every node (each applies it to its own users).
//! - `P.node.<node>.ring`: a request to ring a user signed in on that node into a room on
//!   the caller's node ([`RingRequest`]); the answer is a [`RingAnswer`].
//!
//! The session directory is the KV bucket `P_sessions`: `u.<id>` → [`Entry`] for every
//! signed-in user, `n.<node>` → [`NodeCard`], a node's heartbeat: what it runs, where,
//! and how busy it is (empty from a node that predates split roles).

use mocha_auth::UserId;
use mocha_proto::Status;
use serde::{Deserialize, Serialize};

use crate::front::{CoreEvent, PresenceEvent, RingInvite};
use crate::registry::PresenceState;

/// Payloads bigger than this are dropped unread (presence and Passport events are small).
pub const MAX_PAYLOAD: usize = 64 * 1024;

pub fn presence_subject(prefix: &str, node: &str, user: UserId) -> String {
    format!("{prefix}.node.{node}.user.{user}")
}

pub fn presence_wildcard(prefix: &str, node: &str) -> String {
    format!("{prefix}.node.{node}.user.*")
}

/// The watcher a presence subject is for.
pub fn presence_recipient(subject: &str) -> Option<UserId> {
    subject.rsplit('.').next()?.parse().ok()
}

pub fn ring_subject(prefix: &str, node: &str) -> String {
    format!("{prefix}.node.{node}.ring")
}

/// Ring `callee`, signed in on the receiving node, with `invite` (whose ticket the
/// receiving node checks: it names the callee and the room).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct RingRequest {
    pub callee: UserId,
    pub invite: RingInvite,
}

/// What the callee's node did: the only thing the caller's node learns.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum RingAnswer {
    Rung,
    /// Not signed in here (any more), or appearing offline.
    Offline,
}

pub fn passport_subject(prefix: &str) -> String {
    format!("{prefix}.passport")
}

pub fn bucket(prefix: &str) -> String {
    format!("{prefix}_sessions")
}

pub fn user_key(user: UserId) -> String {
    format!("u.{}", user.0)
}

pub fn node_key(node: &str) -> String {
    format!("n.{node}")
}

/// What a node runs and how busy it is, written with every heartbeat (every 5 s). An
/// address is present exactly when the node runs that service; all are `host:port` as
/// clients dial them. The counts are at most one heartbeat old.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct NodeCard {
    /// Passport's HTTPS API (role `passport`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub passport: Option<String>,
    /// The web pages, on the same HTTPS port (role `web`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub web: Option<String>,
    /// The Notification Server (role `ns`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ns: Option<String>,
    /// The Switchboard (role `sb`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sb: Option<String>,
    /// The MSNP gateway's switchboard, when the node runs `sb` with it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub msnp_sb: Option<String>,
    /// Users signed in on its Notification Server.
    #[serde(default)]
    pub sessions: u64,
    /// People in conversations on its Switchboard: the load `XFR` balances.
    #[serde(default)]
    pub participants: u64,
}

impl NodeCard {
    /// A heartbeat's value: a card, or nothing from an older node.
    pub fn decode(value: &[u8]) -> Option<Self> {
        if value.is_empty() || value.len() > MAX_PAYLOAD {
            return None;
        }
        serde_json::from_slice(value).ok()
    }
}

/// What a directory key names.
#[derive(Debug, PartialEq, Eq)]
pub enum Key<'a> {
    User(UserId),
    Node(&'a str),
}

pub fn parse_key(key: &str) -> Option<Key<'_>> {
    match key.split_once('.')? {
        ("u", id) => Some(Key::User(UserId(id.parse().ok()?))),
        ("n", node) => Some(Key::Node(node)),
        _ => None,
    }
}

/// A user's directory entry: where they are signed in and how they look (the raw
/// status, appear-offline included: the privacy rules are applied by whoever reads it).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Entry {
    pub node: String,
    pub username: String,
    #[serde(with = "optional_status")]
    pub status: Option<Status>,
    pub display_name: String,
    pub personal_message: String,
}

impl Entry {
    pub fn new(node: &str, username: &str, presence: &PresenceState) -> Self {
        Self {
            node: node.to_string(),
            username: username.to_string(),
            status: presence.status,
            display_name: presence.display_name.clone(),
            personal_message: presence.personal_message.clone(),
        }
    }

    pub fn presence(&self) -> PresenceState {
        PresenceState {
            status: self.status,
            display_name: self.display_name.clone(),
            personal_message: self.personal_message.clone(),
        }
    }
}

/// A status as its three-letter code.
pub mod status {
    use mocha_proto::Status;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(status: &Status, to: S) -> Result<S::Ok, S::Error> {
        to.serialize_str(status.code())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(from: D) -> Result<Status, D::Error> {
        let code = <&str>::deserialize(from)?;
        code.parse().map_err(serde::de::Error::custom)
    }
}

mod optional_status {
    use mocha_proto::Status;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(status: &Option<Status>, to: S) -> Result<S::Ok, S::Error> {
        match status {
            Some(status) => to.serialize_some(status.code()),
            None => to.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(from: D) -> Result<Option<Status>, D::Error> {
        Option::<&str>::deserialize(from)?
            .map(|code| code.parse().map_err(serde::de::Error::custom))
            .transpose()
    }
}

/// The presence among `events`, as one payload for every remote watcher.
pub fn encode_presence(events: &[CoreEvent]) -> Result<bytes::Bytes, serde_json::Error> {
    let presence: Vec<&PresenceEvent> = events
        .iter()
        .filter_map(|event| match event {
            CoreEvent::Presence(presence) => Some(presence),
            _ => None,
        })
        .collect();
    serde_json::to_vec(&presence).map(bytes::Bytes::from)
}

pub fn decode_presence(payload: &[u8]) -> Result<Vec<PresenceEvent>, serde_json::Error> {
    serde_json::from_slice(payload)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_and_keys_round_trip() {
        let events = vec![
            PresenceEvent::Online {
                user: UserId(7),
                username: "ann".into(),
                status: Status::Busy,
                display_name: "Ann".into(),
            },
            PresenceEvent::Offline { user: UserId(7), username: "ann".into() },
        ];
        let core: Vec<CoreEvent> = events.iter().cloned().map(CoreEvent::Presence).collect();
        assert_eq!(decode_presence(&encode_presence(&core).unwrap()).unwrap(), events);
        let entry = Entry {
            node: "n1".into(),
            username: "ann".into(),
            status: Some(Status::Hidden),
            display_name: "Ann".into(),
            personal_message: String::new(),
        };
        let json = serde_json::to_vec(&entry).unwrap();
        assert_eq!(serde_json::from_slice::<Entry>(&json).unwrap(), entry);
        assert_eq!(parse_key(&user_key(UserId(42))), Some(Key::User(UserId(42))));
        assert_eq!(parse_key(&node_key("web-1")), Some(Key::Node("web-1")));
        assert_eq!(parse_key("x.1"), None);
        assert_eq!(presence_recipient(&presence_subject("t1", "n2", UserId(9))), Some(UserId(9)));
        // A ring's subject is no watcher's presence subject.
        assert_eq!(presence_recipient(&ring_subject("t1", "n2")), None);
        let ring = RingRequest {
            callee: UserId(9),
            invite: RingInvite {
                room: "r1".into(),
                address: "sb1:1864".into(),
                ticket: "t".into(),
                caller: mocha_api::UserSummary {
                    id: UserId(7),
                    username: "ann".into(),
                    display_name: "Ann".into(),
                },
                msnp_address: Some("sb1:1865".into()),
            },
        };
        let json = serde_json::to_vec(&ring).unwrap();
        assert_eq!(serde_json::from_slice::<RingRequest>(&json).unwrap(), ring);
        assert_eq!(serde_json::to_string(&RingAnswer::Offline).unwrap(), "\"offline\"");
        let card = NodeCard {
            sb: Some("sb1:1864".into()),
            msnp_sb: Some("sb1:1866".into()),
            participants: 7,
            ..NodeCard::default()
        };
        assert_eq!(NodeCard::decode(&serde_json::to_vec(&card).unwrap()), Some(card));
        assert_eq!(NodeCard::decode(b""), None, "a node from before split roles");
    }
}
