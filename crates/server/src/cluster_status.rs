//! In a cluster, the status rows (`/api/v1/status`, the status page) describe the
//! cluster, not only this node: a service this node does not run is shown as a live node
//! that does, with its address (clients find the Notification Server there), up while
//! one is; the Switchboard row counts the participants on every switchboard node.
//!
//! The picture is the directory's: other nodes' cards, as of their last heartbeats
//! (at most 5 s old), and nodes not yet taken for dead (a crash shows within ~16 s).

use std::sync::{Arc, Weak};
use std::time::Duration;

use mocha_notification::{NatsBus, NodeCard};
use mocha_passport::ServiceGauge;
use tokio_util::sync::CancellationToken;

/// How often the rows are brought up to date from this node's copy of the directory.
const REFRESH: Duration = Duration::from_secs(1);

/// The rows this node keeps from the cluster's picture.
pub(crate) struct Rows {
    /// Passport's row, when this node does not run `passport`.
    pub passport: Option<Arc<ServiceGauge>>,
    /// The Notification Server's, when this node does not run `ns`.
    pub notification: Option<Arc<ServiceGauge>>,
    /// The Switchboard's: always (its count adds the other nodes').
    pub switchboard: Arc<ServiceGauge>,
    /// Whether this node runs `sb` (its own row's address and state are then its own).
    pub local_switchboard: bool,
}

pub(crate) async fn keep(rows: Rows, nats: Weak<NatsBus>, shutdown: CancellationToken) {
    for gauge in [&rows.passport, &rows.notification].into_iter().flatten() {
        gauge.set_elsewhere();
        gauge.set_up(false);
    }
    if !rows.local_switchboard {
        rows.switchboard.set_elsewhere();
        rows.switchboard.set_up(false);
    }
    let mut tick = tokio::time::interval(REFRESH);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = shutdown.cancelled() => break,
            _ = tick.tick() => {}
        }
        let Some(nats) = nats.upgrade() else { break };
        rows.refresh(&nats.cards());
    }
}

impl Rows {
    fn refresh(&self, cards: &[NodeCard]) {
        if let Some(gauge) = &self.passport {
            show(gauge, cards.iter().find_map(|card| card.passport.as_deref()));
        }
        if let Some(gauge) = &self.notification {
            // The one with the fewest users, so new sign-ins go where there is room.
            let least = cards.iter().filter(|card| card.ns.is_some()).min_by_key(|card| card.sessions);
            show(gauge, least.and_then(|card| card.ns.as_deref()));
        }
        if !self.local_switchboard {
            let least = cards.iter().filter(|card| card.sb.is_some()).min_by_key(|card| card.participants);
            show(&self.switchboard, least.and_then(|card| card.sb.as_deref()));
        }
        let elsewhere: u64 =
            cards.iter().filter(|card| card.sb.is_some()).map(|card| card.participants).sum();
        self.switchboard.set_online_elsewhere(elsewhere);
    }
}

/// A row for a service on another node: its address and up, or down with no address.
fn show(gauge: &ServiceGauge, address: Option<&str>) {
    gauge.set_address(address.unwrap_or_default());
    gauge.set_up(address.is_some());
}
