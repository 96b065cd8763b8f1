//! The Mocha Switchboard: conversation rooms joined with Notification Server tickets.
//!
//! It relays chat text, typing, nudges, invitations, call session control, media
//! frames and file chunks between the participants of a room, and keeps none of it:
//! nothing said in a room is written anywhere. Call media also flows over UDP through
//! the [`Relay`], which forwards only between a call's members and forgets a call when
//! the room does. When a text message has nobody to
//! reach, Passport files an activity alert for the people it was meant for.
//!
//! Layers: [`Switchboard::serve`] accepts TLS connections (`mocha-net`); `session`
//! runs one connection; `cmd/` applies each command; `room` is the state of one
//! conversation (participants, calls, transfers), changed only under the room lock.
//! `conversation` is the room core every front calls (join, invite, send, leave), and
//! `front` the seam through which each participant hears the room in its own protocol:
//! the MSNP gateway (`mocha-msnp`) is a second front on the same rooms, so one
//! conversation can mix MENP/1 and classic MSN clients.

mod cmd;
mod config;
pub mod conversation;
mod events;
pub mod front;
#[cfg(feature = "bench-harness")]
pub mod harness;
mod relay;
mod ring;
mod room;
mod server;
mod session;

pub use config::SwitchboardConfig;
pub use conversation::{AlertFailure, Claim, InviteError, JoinError, JoinRequest, Joined, SendError, Sent};
pub use front::{MenpRoomFront, Protocol, RoomEvent, RoomFront, RoomMessage, Speaker};
pub use relay::{Relay, RelayConfig, RelayStats};
pub use ring::{RingFailure, RingFuture, Ringer};
pub use room::RoomError;
pub use server::Switchboard;
