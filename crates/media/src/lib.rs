//! Mocha's media engine, with no sockets and no clock of its own (see `docs/calls.md`
//! and `docs/media.md`).
//!
//! Callers feed it `Instant`s and received [`MediaPacket`]s and take back packets to
//! send, so a call can be driven by real time and real sockets (`mocha-client`) or by a
//! simulated lossy link ([`link::LossyLink`]) in a test, with the same code.

pub mod audio;
pub mod control;
pub mod engine;
pub mod error;
pub mod link;
pub mod packet;
pub mod video;

pub use engine::{CallEngine, CallStats, EngineConfig};
pub use error::MediaError;
pub use packet::{MediaPacket, Stream};
