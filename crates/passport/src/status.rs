//! The live state of each service and the current notices, for the status API and page.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Instant;

use mocha_api::{ServiceNotice, ServiceReport, ServiceState, StatusReport};

/// How many recent notices the status page keeps.
const KEPT_NOTICES: usize = 20;

/// One service's live numbers, updated by the service itself.
pub struct ServiceGauge {
    name: String,
    /// Where clients reach it; in a cluster, for a service this node does not run, a live
    /// node's that does (kept up to date by the node), empty while there is none.
    address: Mutex<String>,
    started: Instant,
    up: AtomicBool,
    /// Whether this node runs it (otherwise its uptime is not this node's to say).
    here: AtomicBool,
    online: Option<AtomicU64>,
    /// In a cluster, the users signed in on the other nodes (from the session directory):
    /// the report counts the whole cluster, [`Self::online`] this node.
    elsewhere: AtomicU64,
}

impl ServiceGauge {
    pub fn set_up(&self, up: bool) {
        self.up.store(up, Ordering::Relaxed);
    }

    /// Marks a service this node does not run: the row then describes another node's.
    pub fn set_elsewhere(&self) {
        self.here.store(false, Ordering::Relaxed);
    }

    pub fn set_address(&self, address: &str) {
        let mut held = self.address.lock().unwrap_or_else(|e| e.into_inner());
        if *held != address {
            *held = address.to_string();
        }
    }

    pub fn add_online(&self, delta: i64) {
        if let Some(online) = &self.online {
            if delta >= 0 {
                online.fetch_add(delta as u64, Ordering::Relaxed);
            } else {
                online.fetch_sub(delta.unsigned_abs(), Ordering::Relaxed);
            }
        }
    }

    /// The users signed in on this node.
    pub fn online(&self) -> u64 {
        self.online.as_ref().map_or(0, |o| o.load(Ordering::Relaxed))
    }

    pub fn set_online_elsewhere(&self, users: u64) {
        self.elsewhere.store(users, Ordering::Relaxed);
    }

    fn report(&self) -> ServiceReport {
        let up = self.up.load(Ordering::Relaxed);
        ServiceReport {
            name: self.name.clone(),
            state: if up { ServiceState::Up } else { ServiceState::Down },
            address: Some(self.address.lock().unwrap_or_else(|e| e.into_inner()).clone())
                .filter(|address| !address.is_empty()),
            uptime_seconds: (up && self.here.load(Ordering::Relaxed))
                .then(|| self.started.elapsed().as_secs()),
            online_users: self
                .online
                .as_ref()
                .map(|o| o.load(Ordering::Relaxed).saturating_add(self.elsewhere.load(Ordering::Relaxed))),
        }
    }
}

#[derive(Default)]
pub struct StatusBoard {
    services: RwLock<Vec<Arc<ServiceGauge>>>,
    notices: RwLock<VecDeque<ServiceNotice>>,
}

impl StatusBoard {
    /// Adds a service that is up from now on. `counts_users` gives it an online-users gauge.
    pub fn register(&self, name: &str, address: String, counts_users: bool) -> Arc<ServiceGauge> {
        let gauge = Arc::new(ServiceGauge {
            name: name.to_string(),
            address: Mutex::new(address),
            started: Instant::now(),
            up: AtomicBool::new(true),
            here: AtomicBool::new(true),
            online: counts_users.then(|| AtomicU64::new(0)),
            elsewhere: AtomicU64::new(0),
        });
        self.services.write().unwrap_or_else(|e| e.into_inner()).push(gauge.clone());
        gauge
    }

    pub fn add_notice(&self, notice: ServiceNotice) {
        let mut notices = self.notices.write().unwrap_or_else(|e| e.into_inner());
        notices.push_front(notice);
        notices.truncate(KEPT_NOTICES);
    }

    pub fn report(&self) -> StatusReport {
        StatusReport {
            services: self
                .services
                .read()
                .unwrap_or_else(|e| e.into_inner())
                .iter()
                .map(|s| s.report())
                .collect(),
            notices: self.notices.read().unwrap_or_else(|e| e.into_inner()).iter().cloned().collect(),
        }
    }
}
