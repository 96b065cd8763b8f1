//! The bounded queue of frames waiting to be written to one client, and its kick signal.
//!
//! Everything that wants to reach a client (its own replies, other users' presence,
//! Passport events) goes through [`Outbox::push`], which never waits: a full queue
//! means the client reads too slowly, and it is dropped instead of letting memory grow
//! or letting one reader stall the server.

use mocha_proto::{Frame, OutReason};
use tokio::sync::mpsc::{self, error::TrySendError};

pub(crate) enum Outgoing {
    Frame(Frame),
    /// Write this last frame (if any), flush, and close the connection.
    Close(Option<Frame>),
}

#[derive(Clone)]
pub(crate) struct Outbox {
    frames: mpsc::Sender<Outgoing>,
    kick: mpsc::Sender<OutReason>,
}

pub(crate) struct OutboxReceivers {
    pub frames: mpsc::Receiver<Outgoing>,
    pub kicks: mpsc::Receiver<OutReason>,
}

impl Outbox {
    pub fn new(capacity: usize) -> (Self, OutboxReceivers) {
        let (frames, frames_rx) = mpsc::channel(capacity.max(1));
        // One kick is enough: the first reason to end a session is the one the client hears.
        let (kick, kicks) = mpsc::channel(1);
        (Self { frames, kick }, OutboxReceivers { frames: frames_rx, kicks })
    }

    /// Queues a frame without waiting. On a full queue the client is kicked as too slow.
    pub fn push(&self, frame: Frame) {
        if let Err(TrySendError::Full(_)) = self.frames.try_send(Outgoing::Frame(frame)) {
            self.kick(OutReason::TooSlow);
        }
    }

    /// Asks the connection to end with `OUT 0 <reason>`. Later kicks are ignored.
    pub fn kick(&self, reason: OutReason) {
        let _ = self.kick.try_send(reason);
    }

    /// Queues the end of the connection. False if the queue is full or already gone,
    /// in which case the writer should be stopped rather than waited for.
    pub fn close(&self, last: Option<Frame>) -> bool {
        self.frames.try_send(Outgoing::Close(last)).is_ok()
    }
}
