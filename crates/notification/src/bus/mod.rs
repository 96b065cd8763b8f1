//! How an event reaches the node that holds its recipient.
//!
//! [`Bus::Local`], the default, is one process: every recipient is in this node's own
//! registry, so the bus does nothing at all — the core checks `Bus::nats()` once per
//! fan-out and, finding `None`, allocates, locks and spawns nothing more than before.
//! [`Bus::Nats`] joins a cluster of nodes on one NATS server and one PostgreSQL database
//! (`docs/cluster.md`): presence for watchers on other nodes, every Passport event, the
//! cluster-wide session directory (JetStream KV) and, through it, one live session per
//! account across the cluster.

mod directory;
mod names;
mod nats;
pub(crate) mod wire;

use std::sync::Arc;

pub use names::{is_valid_name, redact_url};
pub use nats::{BusError, ClusterConfig, NatsBus};
pub use wire::NodeCard;

pub(crate) use nats::start;

/// The bus a Notification Server is on.
#[derive(Clone, Default)]
pub enum Bus {
    /// One node: everyone is here.
    #[default]
    Local,
    /// One node of a cluster.
    Nats(Arc<NatsBus>),
}

impl Bus {
    /// The cluster, if this node is in one.
    #[inline]
    pub fn nats(&self) -> Option<&Arc<NatsBus>> {
        match self {
            Bus::Local => None,
            Bus::Nats(nats) => Some(nats),
        }
    }
}
