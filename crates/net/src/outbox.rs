//! The bounded queues of frames waiting to be written to one client, and its kick signal.
//!
//! Two lanes: `control` carries replies, pushes and chat, and never waits — a full
//! queue means the client reads too slowly, and it is kicked instead of letting memory
//! grow or one reader stall the server. `bulk` carries file chunks and media frames:
//! media is dropped when the lane is full, file chunks wait for room (back-pressure
//! on the sender). The writer always drains `control` first, so bulk traffic cannot
//! starve chat.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use mocha_proto::{Frame, OutReason};
use tokio::sync::mpsc::{self, error::TrySendError};

pub enum Outgoing {
    Frame(Frame),
    /// Write this last frame (if any), flush, and close the connection.
    Close(Option<Frame>),
}

#[derive(Clone)]
pub struct Outbox {
    control: mpsc::Sender<Outgoing>,
    bulk: mpsc::Sender<Frame>,
    kick: mpsc::Sender<OutReason>,
    dropped_media: Arc<AtomicU64>,
}

pub struct OutboxReceivers {
    pub control: mpsc::Receiver<Outgoing>,
    pub bulk: mpsc::Receiver<Frame>,
    pub kicks: mpsc::Receiver<OutReason>,
}

impl Outbox {
    pub fn new(control_capacity: usize, bulk_capacity: usize) -> (Self, OutboxReceivers) {
        let (control, control_rx) = mpsc::channel(control_capacity.max(1));
        let (bulk, bulk_rx) = mpsc::channel(bulk_capacity.max(1));
        // One kick is enough: the first reason to end a session is the one the client hears.
        let (kick, kicks) = mpsc::channel(1);
        let dropped_media = Arc::new(AtomicU64::new(0));
        (
            Self { control, bulk, kick, dropped_media },
            OutboxReceivers { control: control_rx, bulk: bulk_rx, kicks },
        )
    }

    /// Queues a frame without waiting. On a full queue the client is kicked as too slow.
    pub fn push(&self, frame: Frame) {
        if let Err(TrySendError::Full(_)) = self.control.try_send(Outgoing::Frame(frame)) {
            self.kick(OutReason::TooSlow);
        }
    }

    /// Queues a media frame if there is room; otherwise drops it (and counts it).
    pub fn push_media(&self, frame: Frame) -> bool {
        match self.bulk.try_send(frame) {
            Ok(()) => true,
            Err(_) => {
                self.dropped_media.fetch_add(1, Ordering::Relaxed);
                false
            }
        }
    }

    /// Queues a file chunk, waiting while the client's bulk lane is full.
    /// False if the connection is gone.
    pub async fn send_bulk(&self, frame: Frame) -> bool {
        self.bulk.send(frame).await.is_ok()
    }

    /// Media frames dropped for this client because it could not keep up.
    pub fn dropped_media(&self) -> u64 {
        self.dropped_media.load(Ordering::Relaxed)
    }

    /// Asks the connection to end with `OUT 0 <reason>`. Later kicks are ignored.
    pub fn kick(&self, reason: OutReason) {
        let _ = self.kick.try_send(reason);
    }

    /// Queues the end of the connection. False if the queue is full or already gone,
    /// in which case the writer should be stopped rather than waited for.
    pub fn close(&self, last: Option<Frame>) -> bool {
        self.control.try_send(Outgoing::Close(last)).is_ok()
    }

    /// Whether the connection behind this outbox has ended.
    pub fn is_closed(&self) -> bool {
        self.control.is_closed()
    }
}
