//! What the coordinator and its worker processes say to each other: one JSON line each
//! way, the worker's plan first, then one command at a time, each answered by one reply.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;

use mocha_auth::UserId;
use serde::{Deserialize, Serialize};

use crate::scenario::presence::PresenceOutcome;
use crate::scenario::rooms::{ChatOutcome, LoadArgs};

#[derive(Debug, Serialize, Deserialize)]
pub struct Plan {
    pub worker: usize,
    /// Every node's Notification Server, by node number.
    pub nodes: Vec<SocketAddr>,
    pub cas: Vec<PathBuf>,
    pub server_name: String,
    /// The nodes' processes, to read their CPU time around a phase.
    pub node_pids: Vec<u32>,
    pub source: Option<IpAddr>,
    pub concurrency: usize,
    pub users: Vec<PlanUser>,
    pub presence: Option<PresencePlan>,
    pub chat: Option<ChatPlan>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct PlanUser {
    pub id: UserId,
    pub token: String,
    pub node: usize,
}

/// Indices into [`Plan::users`].
#[derive(Debug, Serialize, Deserialize)]
pub struct PresencePlan {
    pub users: Vec<usize>,
    pub contacts: u64,
    pub rate: f64,
    pub duration: u64,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct ChatPlan {
    pub pairs: Vec<(usize, usize)>,
    pub load: LoadArgs,
}

#[derive(Debug, Serialize, Deserialize)]
pub enum Command {
    SignIn,
    Presence,
    Chat,
    /// Reconnect the users of this node elsewhere when their connections drop.
    Storm {
        victim: usize,
    },
    Stop,
}

#[derive(Debug, Serialize, Deserialize)]
pub enum Reply {
    Ready,
    SignedIn {
        signed: u64,
        failures: u64,
        retries: u64,
        first_error: Option<String>,
        latency_micros: Vec<u64>,
    },
    Presence(PresenceOutcome),
    Chat(ChatOutcome),
    Armed {
        on_victim: u64,
    },
    StormBack {
        back: u64,
        failed: u64,
        first_error: Option<String>,
        retries: u64,
        retry_error: Option<String>,
        latency_micros: Vec<u64>,
    },
    Stopped {
        dropped: u64,
    },
    Failed(String),
}
