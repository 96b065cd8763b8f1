//! The Mocha Notification Server (NS): where a signed-in client lives.
//!
//! A client connects over TLS, speaks MENP/1 (see `docs/protocol.md`), signs in with a
//! Passport session token, syncs its contact list and publishes and receives presence.
//! The NS hands out switchboard tickets (`XFR`), rings callees for the Switchboard
//! ([`NotificationServer::ring`]), and turns Passport events (contact changes, bans,
//! deletions, revoked sign-ins, notices) into pushes at once.
//!
//! Layers, as in mini-redis: [`NotificationServer::serve`] accepts connections; each gets
//! a frame reader and a writer task draining a bounded queue (all from `mocha-net`, shared
//! with the Switchboard); the session (`session`) turns frames into typed commands and
//! hands them to one module per command family (`cmd`). Presence fan-out lives in `presence`, Passport events in
//! `events`. Privacy is decided here, at the server: nothing about a user is pushed to
//! anyone Passport does not list as a watcher.

pub mod bus;
mod cmd;
mod config;
mod events;
pub mod front;
mod presence;
mod registry;
mod ring;
mod server;
mod session;

pub use bus::{Bus, BusError, ClusterConfig, NatsBus, NodeCard};
pub use config::NotificationConfig;
pub use front::{Attach, CoreEvent, Front, LivePresence, PresenceEvent, RingInvite, Verified};
pub use ring::{RingError, RingOutcome};
pub use server::NotificationServer;
