//! The bounded queues of frames waiting to be written to one client, and its kick signal.
//!
//! Two lanes: `control` carries replies, pushes and chat, and never waits — a full
//! queue means the client reads too slowly, and it is kicked instead of letting memory
//! grow or one reader stall the server. `bulk` carries file chunks and media frames:
//! media is dropped when the lane is full, file chunks wait for room (back-pressure
//! on the sender). The writer always drains `control` first, so bulk traffic cannot
//! starve chat.
//!
//! Both lanes and the kick live in one shared allocation, and an empty lane holds no
//! memory: the writer takes a lane's queue whole, so an idle connection's outbox is a
//! few hundred bytes (three channels, each allocating its first block up front, were
//! about 1.5 KiB).

use std::collections::VecDeque;
use std::pin::pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use bytes::Bytes;
use mocha_proto::{Frame, OutReason};
use tokio::sync::Notify;

pub enum Outgoing {
    Frame(Frame),
    /// A frame already in wire form, shared by every recipient of a relayed message
    /// (encoded once, one reference count per recipient instead of a copy).
    Wire(Bytes),
    /// Write this last frame (if any), flush, and close the connection.
    Close(Option<Frame>),
}

struct Shared {
    lanes: Mutex<Lanes>,
    control_capacity: usize,
    bulk_capacity: usize,
    /// Outbox handles alive; at zero the writer finishes what is queued and closes.
    senders: AtomicUsize,
    /// Wakes the writer: something was queued, or the last sender went away.
    writer: Notify,
    /// Wakes the session: a kick.
    kicked: Notify,
    /// Wakes file-chunk senders waiting for room in the bulk lane.
    room: Notify,
    dropped_media: AtomicU64,
}

#[derive(Default)]
struct Lanes {
    control: VecDeque<Outgoing>,
    bulk: VecDeque<Frame>,
    kick: Option<OutReason>,
    /// Set once a kick has been handed to the session: later ones are ignored.
    kick_taken: bool,
    /// The writer has gone: nothing queued will ever be sent.
    closed: bool,
}

impl Lanes {
    fn is_empty(&self) -> bool {
        self.control.is_empty() && self.bulk.is_empty()
    }
}

impl Shared {
    fn lanes(&self) -> MutexGuard<'_, Lanes> {
        // The lock is never held across a panic that matters: a poisoned queue is still
        // a queue.
        self.lanes.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

pub struct Outbox {
    shared: Arc<Shared>,
}

/// The receiving ends: [`Frames`] for the writer, [`Kicks`] for the session.
pub struct OutboxReceivers {
    pub frames: Frames,
    pub kicks: Kicks,
}

impl Clone for Outbox {
    fn clone(&self) -> Self {
        self.shared.senders.fetch_add(1, Ordering::Relaxed);
        Self { shared: self.shared.clone() }
    }
}

impl Drop for Outbox {
    fn drop(&mut self) {
        if self.shared.senders.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.shared.writer.notify_one();
        }
    }
}

impl Outbox {
    pub fn new(control_capacity: usize, bulk_capacity: usize) -> (Self, OutboxReceivers) {
        let shared = Arc::new(Shared {
            lanes: Mutex::new(Lanes::default()),
            control_capacity: control_capacity.max(1),
            bulk_capacity: bulk_capacity.max(1),
            senders: AtomicUsize::new(1),
            writer: Notify::new(),
            kicked: Notify::new(),
            room: Notify::new(),
            dropped_media: AtomicU64::new(0),
        });
        let receivers = OutboxReceivers {
            frames: Frames { shared: shared.clone() },
            kicks: Kicks { shared: shared.clone() },
        };
        (Self { shared }, receivers)
    }

    /// Queues a frame without waiting. On a full queue the client is kicked as too slow.
    pub fn push(&self, frame: Frame) {
        self.push_outgoing(Outgoing::Frame(frame));
    }

    /// Queues an encoded frame (see [`Outgoing::Wire`]) like [`push`](Self::push).
    pub fn push_wire(&self, wire: Bytes) {
        self.push_outgoing(Outgoing::Wire(wire));
    }

    fn push_outgoing(&self, item: Outgoing) {
        let full = {
            let mut lanes = self.shared.lanes();
            if lanes.closed {
                return;
            }
            if lanes.control.len() >= self.shared.control_capacity {
                true
            } else {
                lanes.control.push_back(item);
                false
            }
        };
        if full {
            self.kick(OutReason::TooSlow);
        } else {
            self.shared.writer.notify_one();
        }
    }

    /// Queues a media frame if there is room; otherwise drops it (and counts it).
    pub fn push_media(&self, frame: Frame) -> bool {
        let queued = {
            let mut lanes = self.shared.lanes();
            let room = !lanes.closed && lanes.bulk.len() < self.shared.bulk_capacity;
            if room {
                lanes.bulk.push_back(frame);
            }
            room
        };
        if queued {
            self.shared.writer.notify_one();
        } else {
            self.shared.dropped_media.fetch_add(1, Ordering::Relaxed);
        }
        queued
    }

    /// Queues a file chunk, waiting while the client's bulk lane is full.
    /// False if the connection is gone.
    pub async fn send_bulk(&self, frame: Frame) -> bool {
        let mut frame = Some(frame);
        loop {
            // Registered before looking, so room made in between is not missed.
            let mut room = pin!(self.shared.room.notified());
            room.as_mut().enable();
            {
                let mut lanes = self.shared.lanes();
                if lanes.closed {
                    return false;
                }
                if lanes.bulk.len() < self.shared.bulk_capacity {
                    lanes.bulk.extend(frame.take());
                    drop(lanes);
                    self.shared.writer.notify_one();
                    return true;
                }
            }
            room.await;
        }
    }

    /// Media frames dropped for this client because it could not keep up.
    pub fn dropped_media(&self) -> u64 {
        self.shared.dropped_media.load(Ordering::Relaxed)
    }

    /// Asks the connection to end with `OUT 0 <reason>`. Later kicks are ignored.
    pub fn kick(&self, reason: OutReason) {
        {
            let mut lanes = self.shared.lanes();
            if lanes.kick.is_some() || lanes.kick_taken {
                return;
            }
            metrics::counter!("mocha_kicks_total", "reason" => reason.code()).increment(1);
            lanes.kick = Some(reason);
        }
        self.shared.kicked.notify_one();
    }

    /// Queues the end of the connection. False if the queue is full or already gone,
    /// in which case the writer should be stopped rather than waited for.
    pub fn close(&self, last: Option<Frame>) -> bool {
        {
            let mut lanes = self.shared.lanes();
            if lanes.closed || lanes.control.len() >= self.shared.control_capacity {
                return false;
            }
            lanes.control.push_back(Outgoing::Close(last));
        }
        self.shared.writer.notify_one();
        true
    }

    /// Whether the connection behind this outbox has ended.
    pub fn is_closed(&self) -> bool {
        self.shared.lanes().closed
    }
}

/// The writer's end: what to send next, control lane first.
pub struct Frames {
    shared: Arc<Shared>,
}

/// What the writer takes in one go: everything in the control lane, or else one bulk
/// frame (so queued control traffic always goes before the next chunk).
pub enum Batch {
    Control(VecDeque<Outgoing>),
    Bulk(Frame),
}

impl Frames {
    /// The next batch, waiting for one; `None` once every [`Outbox`] is gone and
    /// nothing is left.
    pub async fn next(&mut self) -> Option<Batch> {
        loop {
            let woken = self.shared.writer.notified();
            if let Some(batch) = self.take() {
                return Some(batch);
            }
            if self.shared.senders.load(Ordering::Acquire) == 0 {
                if self.shared.lanes().is_empty() {
                    return None;
                }
                continue; // queued just before the last sender went: take it
            }
            // notify_one keeps a permit if nobody waits yet, so nothing is missed.
            woken.await;
        }
    }

    /// The next batch if one is queued, without waiting.
    pub fn try_next(&mut self) -> Option<Batch> {
        self.take()
    }

    fn take(&self) -> Option<Batch> {
        let mut lanes = self.shared.lanes();
        if !lanes.control.is_empty() {
            return Some(Batch::Control(std::mem::take(&mut lanes.control)));
        }
        let frame = lanes.bulk.pop_front()?;
        if lanes.bulk.is_empty() {
            lanes.bulk = VecDeque::new();
        }
        drop(lanes);
        self.shared.room.notify_waiters();
        Some(Batch::Bulk(frame))
    }
}

impl Drop for Frames {
    fn drop(&mut self) {
        let mut lanes = self.shared.lanes();
        lanes.closed = true;
        lanes.control.clear();
        lanes.bulk.clear();
        drop(lanes);
        self.shared.room.notify_waiters();
    }
}

/// The session's end: the reason it is asked to end, once.
pub struct Kicks {
    shared: Arc<Shared>,
}

impl Kicks {
    /// The first kick. Cancel-safe: a kick not yet taken stays until the next call.
    pub async fn recv(&mut self) -> Option<OutReason> {
        loop {
            let woken = self.shared.kicked.notified();
            {
                let mut lanes = self.shared.lanes();
                if let Some(reason) = lanes.kick.take() {
                    lanes.kick_taken = true;
                    return Some(reason);
                }
            }
            woken.await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mocha_proto::Command;
    use std::time::Duration;

    fn ping(trid: u32) -> Frame {
        Frame::new(Command::PNG, trid)
    }

    fn trids(batch: Batch) -> Vec<u32> {
        match batch {
            Batch::Control(items) => items
                .into_iter()
                .map(|item| match item {
                    Outgoing::Frame(frame) => frame.trid,
                    Outgoing::Wire(_) | Outgoing::Close(_) => 0,
                })
                .collect(),
            Batch::Bulk(frame) => vec![frame.trid],
        }
    }

    #[tokio::test]
    async fn control_goes_before_bulk_and_a_full_control_lane_kicks() {
        let (outbox, mut receivers) = Outbox::new(2, 2);
        assert!(outbox.push_media(ping(10)));
        outbox.push(ping(1));
        outbox.push(ping(2));
        outbox.push(ping(3)); // over capacity: kicked, not queued
        assert!(matches!(receivers.kicks.recv().await, Some(OutReason::TooSlow)));
        outbox.kick(OutReason::IdleTimeout); // later kicks are ignored
        let later = tokio::time::timeout(Duration::from_millis(50), receivers.kicks.recv()).await;
        assert!(later.is_err(), "only the first kick is delivered");
        assert_eq!(trids(receivers.frames.next().await.unwrap()), vec![1, 2]);
        assert_eq!(trids(receivers.frames.next().await.unwrap()), vec![10]);
    }

    #[tokio::test]
    async fn media_is_dropped_and_chunks_wait_when_the_bulk_lane_is_full() {
        let (outbox, mut receivers) = Outbox::new(4, 1);
        assert!(outbox.send_bulk(ping(1)).await);
        assert!(!outbox.push_media(ping(2)));
        assert_eq!(outbox.dropped_media(), 1);
        let waiting = {
            let outbox = outbox.clone();
            tokio::spawn(async move { outbox.send_bulk(ping(3)).await })
        };
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(!waiting.is_finished(), "waits for room");
        assert_eq!(trids(receivers.frames.next().await.unwrap()), vec![1]);
        assert!(waiting.await.unwrap());
        assert_eq!(trids(receivers.frames.next().await.unwrap()), vec![3]);
    }

    #[tokio::test]
    async fn the_writer_ends_when_every_outbox_is_gone_and_senders_see_it_close() {
        let (outbox, receivers) = Outbox::new(4, 1);
        let OutboxReceivers { mut frames, kicks } = receivers;
        let other = outbox.clone();
        outbox.push(ping(1));
        drop(outbox);
        assert_eq!(trids(frames.next().await.unwrap()), vec![1]);
        let waiting = {
            let other = other.clone();
            tokio::spawn(async move {
                assert!(other.send_bulk(ping(2)).await);
                other.send_bulk(ping(3)).await
            })
        };
        tokio::time::sleep(Duration::from_millis(20)).await;
        drop(frames);
        assert!(!waiting.await.unwrap(), "a waiting chunk learns the connection is gone");
        assert!(other.is_closed());
        assert!(!other.close(None));
        drop(kicks);
        let (outbox, mut receivers) = Outbox::new(4, 1);
        drop(outbox);
        assert!(receivers.frames.next().await.is_none());
    }
}
