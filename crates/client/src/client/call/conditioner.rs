//! The test hook on a call's UDP path: every datagram the call sends passes through the
//! outbound [`Conditioner`] just before the socket, and every datagram the socket
//! receives through the inbound one before the call reads it. Packets still cross a real
//! UDP socket; the conditioner only loses, delays or reorders them, or blocks UDP
//! altogether (to exercise the TLS fallback). Probes (BIND/BOUND) go through it too.

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

/// One direction of a simulated link, driven by the call's clock: datagrams go in at
/// `now`, and come out when they are due (or never, if lost).
pub trait Conditioner: Send {
    fn push(&mut self, datagram: Vec<u8>, now: Instant);
    /// The datagrams due by `now`, in the order they come out.
    fn pop_due(&mut self, now: Instant) -> Vec<Vec<u8>>;
}

/// `mocha_media`'s seeded lossy link (random or bursty loss, jitter, reordering) as a
/// conditioner.
impl Conditioner for mocha_media::link::LossyLink<Vec<u8>> {
    fn push(&mut self, datagram: Vec<u8>, now: Instant) {
        mocha_media::link::LossyLink::push(self, datagram, now);
    }

    fn pop_due(&mut self, now: Instant) -> Vec<Vec<u8>> {
        mocha_media::link::LossyLink::pop_due(self, now)
    }
}

/// Blocks (drops) all of a call's UDP traffic both ways while set; shared with the test,
/// which can flip it mid-call.
#[derive(Clone, Debug, Default)]
pub struct UdpBlock(Arc<AtomicBool>);

impl UdpBlock {
    pub fn new(blocked: bool) -> Self {
        Self(Arc::new(AtomicBool::new(blocked)))
    }

    pub fn set(&self, blocked: bool) {
        self.0.store(blocked, Ordering::Relaxed);
    }

    pub fn is_blocked(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

/// What a call does to its UDP datagrams. The default does nothing.
#[derive(Default)]
pub struct LinkConditioner {
    pub block: Option<UdpBlock>,
    pub outbound: Option<Box<dyn Conditioner>>,
    pub inbound: Option<Box<dyn Conditioner>>,
}

impl std::fmt::Debug for LinkConditioner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LinkConditioner")
            .field("block", &self.block)
            .field("outbound", &self.outbound.is_some())
            .field("inbound", &self.inbound.is_some())
            .finish()
    }
}

impl LinkConditioner {
    pub fn blocked_by(block: &UdpBlock) -> Self {
        Self { block: Some(block.clone()), ..Self::default() }
    }

    pub fn with_block(mut self, block: &UdpBlock) -> Self {
        self.block = Some(block.clone());
        self
    }

    pub fn with_outbound(mut self, link: impl Conditioner + 'static) -> Self {
        self.outbound = Some(Box::new(link));
        self
    }

    pub fn with_inbound(mut self, link: impl Conditioner + 'static) -> Self {
        self.inbound = Some(Box::new(link));
        self
    }

    /// Splits into the two directions the call's driver applies.
    pub(crate) fn into_directions(self) -> (Direction, Direction) {
        let block = self.block;
        (
            Direction { block: block.clone(), link: self.outbound, ready: VecDeque::new() },
            Direction { block, link: self.inbound, ready: VecDeque::new() },
        )
    }
}

/// One direction as the driver uses it: push, then take what is due.
pub(crate) struct Direction {
    block: Option<UdpBlock>,
    link: Option<Box<dyn Conditioner>>,
    ready: VecDeque<Vec<u8>>,
}

impl Direction {
    pub(crate) fn push(&mut self, datagram: Vec<u8>, now: Instant) {
        if self.block.as_ref().is_some_and(UdpBlock::is_blocked) {
            return;
        }
        match &mut self.link {
            Some(link) => link.push(datagram, now),
            None => self.ready.push_back(datagram),
        }
    }

    pub(crate) fn pop(&mut self, now: Instant) -> Option<Vec<u8>> {
        if self.ready.is_empty()
            && let Some(link) = self.link.as_mut()
        {
            self.ready.extend(link.pop_due(now));
        }
        self.ready.pop_front()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    /// Delays every datagram by 30 ms.
    struct Delay(VecDeque<(Instant, Vec<u8>)>);

    impl Conditioner for Delay {
        fn push(&mut self, datagram: Vec<u8>, now: Instant) {
            self.0.push_back((now + Duration::from_millis(30), datagram));
        }
        fn pop_due(&mut self, now: Instant) -> Vec<Vec<u8>> {
            let mut due = Vec::new();
            while self.0.front().is_some_and(|(at, _)| *at <= now) {
                due.extend(self.0.pop_front().map(|(_, d)| d));
            }
            due
        }
    }

    #[test]
    fn a_block_drops_both_ways_until_lifted_and_links_delay() {
        let block = UdpBlock::new(true);
        let (mut out, mut back) =
            LinkConditioner::blocked_by(&block).with_inbound(Delay(VecDeque::new())).into_directions();
        let now = Instant::now();
        out.push(vec![1], now);
        back.push(vec![2], now);
        assert_eq!((out.pop(now), back.pop(now + Duration::from_secs(1))), (None, None));
        block.set(false);
        out.push(vec![3], now);
        back.push(vec![4], now);
        assert_eq!(out.pop(now), Some(vec![3]));
        assert_eq!(back.pop(now + Duration::from_millis(29)), None);
        assert_eq!(back.pop(now + Duration::from_millis(30)), Some(vec![4]));
    }
}
