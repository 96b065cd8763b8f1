//! A seeded, simulated network link (random and bursty loss, jitter, reordering) for tests.
//!
//! Driven entirely by the caller's clock: [`LossyLink::push`] a packet at `now`, and
//! [`LossyLink::pop_due`] takes every packet whose arrival time has come. The same seed
//! and the same pushes give the same losses and delays, so a failing test replays.

use std::collections::BinaryHeap;
use std::time::{Duration, Instant};

/// A small, fast, seedable generator (SplitMix64): good enough for simulating loss,
/// and no dependency.
#[derive(Debug, Clone)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    pub fn new(seed: u64) -> Self {
        SplitMix64(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// How packets are lost.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Loss {
    None,
    /// Each packet lost independently with this probability.
    Random(f64),
    /// Gilbert–Elliott: a good state that loses nothing and a bad state that loses
    /// everything, with mean burst length `mean_burst` packets; `rate` is the long-run
    /// fraction lost.
    Bursty {
        rate: f64,
        mean_burst: f64,
    },
}

impl Loss {
    pub fn rate(&self) -> f64 {
        match *self {
            Loss::None => 0.0,
            Loss::Random(rate) | Loss::Bursty { rate, .. } => rate,
        }
    }
}

/// A link's behaviour.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LinkProfile {
    pub loss: Loss,
    /// Every packet's fixed one-way delay.
    pub delay: Duration,
    /// Extra delay, uniform in [0, jitter), per packet. Packets may then overtake each
    /// other unless `keep_order` is set.
    pub jitter: Duration,
    /// Probability that a packet is held back an extra `reorder_delay` (reordering
    /// without jitter on the rest).
    pub reorder: f64,
    pub reorder_delay: Duration,
    /// Packets never overtake each other (a queue that only varies its delay).
    pub keep_order: bool,
}

impl LinkProfile {
    /// No loss, a fixed delay, nothing else.
    pub fn clean(delay: Duration) -> Self {
        LinkProfile {
            loss: Loss::None,
            delay,
            jitter: Duration::ZERO,
            reorder: 0.0,
            reorder_delay: Duration::ZERO,
            keep_order: false,
        }
    }

    pub fn with_loss(self, loss: Loss) -> Self {
        LinkProfile { loss, ..self }
    }

    pub fn with_jitter(self, jitter: Duration) -> Self {
        LinkProfile { jitter, ..self }
    }

    pub fn with_reordering(self, probability: f64, extra: Duration) -> Self {
        LinkProfile { reorder: probability, reorder_delay: extra, ..self }
    }
}

/// What the link did, to check a test's link behaved as asked.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LinkStats {
    pub sent: u64,
    pub lost: u64,
    pub delivered: u64,
    /// Delivered after a packet pushed later than it.
    pub reordered: u64,
}

struct InFlight<T> {
    due: Instant,
    order: u64,
    item: T,
}

impl<T> PartialEq for InFlight<T> {
    fn eq(&self, other: &Self) -> bool {
        (self.due, self.order) == (other.due, other.order)
    }
}
impl<T> Eq for InFlight<T> {}
impl<T> PartialOrd for InFlight<T> {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl<T> Ord for InFlight<T> {
    // Reversed: BinaryHeap is a max-heap and we want the earliest first.
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (other.due, other.order).cmp(&(self.due, self.order))
    }
}

/// One direction of a simulated link carrying `T`s.
pub struct LossyLink<T> {
    profile: LinkProfile,
    rng: SplitMix64,
    in_bad_state: bool,
    in_flight: BinaryHeap<InFlight<T>>,
    pushed: u64,
    last_due: Option<Instant>,
    highest_delivered: Option<u64>,
    stats: LinkStats,
}

impl<T> LossyLink<T> {
    pub fn new(profile: LinkProfile, seed: u64) -> Self {
        LossyLink {
            profile,
            rng: SplitMix64::new(seed),
            in_bad_state: false,
            in_flight: BinaryHeap::new(),
            pushed: 0,
            last_due: None,
            highest_delivered: None,
            stats: LinkStats::default(),
        }
    }

    pub fn profile(&self) -> LinkProfile {
        self.profile
    }

    /// Changes the link's behaviour from now on (packets in flight keep their times).
    pub fn set_profile(&mut self, profile: LinkProfile) {
        self.profile = profile;
    }

    pub fn stats(&self) -> LinkStats {
        self.stats
    }

    fn lose(&mut self) -> bool {
        match self.profile.loss {
            Loss::None => false,
            Loss::Random(rate) => self.rng.next_f64() < rate,
            Loss::Bursty { rate, mean_burst } => {
                let rate = rate.clamp(0.0, 0.99);
                let bad_to_good = 1.0 / mean_burst.max(1.0);
                let good_to_bad = bad_to_good * rate / (1.0 - rate);
                let flip = if self.in_bad_state { bad_to_good } else { good_to_bad };
                if self.rng.next_f64() < flip {
                    self.in_bad_state = !self.in_bad_state;
                }
                self.in_bad_state
            }
        }
    }

    /// Sends `item` at `now`; it is lost or scheduled for arrival.
    pub fn push(&mut self, item: T, now: Instant) {
        self.stats.sent += 1;
        let order = self.pushed;
        self.pushed += 1;
        if self.lose() {
            self.stats.lost += 1;
            return;
        }
        let mut delay = self.profile.delay;
        if !self.profile.jitter.is_zero() {
            delay += self.profile.jitter.mul_f64(self.rng.next_f64());
        }
        if self.profile.reorder > 0.0 && self.rng.next_f64() < self.profile.reorder {
            delay += self.profile.reorder_delay;
        }
        let mut due = now + delay;
        if self.profile.keep_order
            && let Some(last) = self.last_due
        {
            due = due.max(last);
        }
        self.last_due = Some(due);
        self.in_flight.push(InFlight { due, order, item });
    }

    /// Every packet that has arrived by `now`, in arrival order.
    pub fn pop_due(&mut self, now: Instant) -> Vec<T> {
        let mut arrived = Vec::new();
        while self.in_flight.peek().is_some_and(|next| next.due <= now) {
            if let Some(next) = self.in_flight.pop() {
                if self.highest_delivered.is_some_and(|highest| next.order < highest) {
                    self.stats.reordered += 1;
                }
                self.highest_delivered =
                    Some(self.highest_delivered.map_or(next.order, |h| h.max(next.order)));
                self.stats.delivered += 1;
                arrived.push(next.item);
            }
        }
        arrived
    }

    /// How many packets are still on their way.
    pub fn in_flight(&self) -> usize {
        self.in_flight.len()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn run(profile: LinkProfile, seed: u64, count: u32) -> (Vec<u32>, LinkStats) {
        let start = Instant::now();
        let mut link = LossyLink::new(profile, seed);
        let mut got = Vec::new();
        for i in 0..count {
            let now = start + Duration::from_millis(20) * i;
            link.push(i, now);
            got.extend(link.pop_due(now));
        }
        got.extend(link.pop_due(start + Duration::from_secs(3600)));
        (got, link.stats())
    }

    #[test]
    fn loss_rates_come_out_as_asked_and_replay_with_the_seed() {
        for loss in [Loss::Random(0.1), Loss::Bursty { rate: 0.1, mean_burst: 3.0 }] {
            let profile = LinkProfile::clean(Duration::from_millis(30)).with_loss(loss);
            let (got, stats) = run(profile, 7, 20_000);
            let rate = stats.lost as f64 / stats.sent as f64;
            assert!((rate - 0.1).abs() < 0.015, "{loss:?}: {rate}");
            assert_eq!(run(profile, 7, 20_000).0, got);
            assert_ne!(run(profile, 8, 20_000).0, got);
        }
    }

    #[test]
    fn bursty_loss_comes_in_runs() {
        let profile =
            LinkProfile::clean(Duration::ZERO).with_loss(Loss::Bursty { rate: 0.1, mean_burst: 4.0 });
        let (got, _) = run(profile, 3, 20_000);
        let gaps: Vec<u32> = got.windows(2).map(|w| w[1] - w[0] - 1).filter(|&g| g > 0).collect();
        let mean = gaps.iter().sum::<u32>() as f64 / gaps.len() as f64;
        assert!((mean - 4.0).abs() < 0.5, "mean burst {mean}");
    }

    #[test]
    fn jitter_reorders_unless_order_is_kept() {
        let profile = LinkProfile::clean(Duration::from_millis(10)).with_jitter(Duration::from_millis(60));
        let (got, stats) = run(profile, 1, 1000);
        assert_eq!(got.len(), 1000);
        assert!(stats.reordered > 100, "{stats:?}");
        let (got, stats) = run(LinkProfile { keep_order: true, ..profile }, 1, 1000);
        assert_eq!(stats.reordered, 0);
        assert!(got.windows(2).all(|w| w[0] < w[1]));
    }
}
