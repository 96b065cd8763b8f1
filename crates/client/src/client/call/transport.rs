//! Which way a call's packets leave: UDP through the relay, or `MED` frames over the
//! switchboard's TLS connection. Pure and driven by the caller's clock, so the whole
//! fallback schedule is tested without sockets.
//!
//! The rules (docs/calls.md, "Fallback"): probe with BIND every 200 ms for the first
//! second; the first BOUND moves sending to UDP, and with none by then it goes over TLS.
//! A probe (keep-alive) every 2 s after that; on TLS the first BOUND moves sending back
//! to UDP. On UDP, a keep-alive unanswered for 500 ms starts fast probing again, and a
//! further second without any BOUND moves sending to TLS. Each move is a counted switch.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

pub const FAST_PROBE: Duration = Duration::from_millis(200);
pub const FIRST_WINDOW: Duration = Duration::from_secs(1);
pub const KEEPALIVE: Duration = Duration::from_secs(2);
/// How long a keep-alive may go unanswered before the path is in doubt.
pub const ANSWER_WAIT: Duration = Duration::from_millis(500);
/// On UDP, this long without any datagram from the relay (the other side sends at least
/// every 500 ms) puts the path in doubt at once instead of at the next keep-alive.
pub const QUIET: Duration = Duration::from_millis(600);
/// Probes remembered for matching BOUNDs (older answers are ignored).
const OUTSTANDING: usize = 16;

/// Where packets go.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Path {
    /// UDP datagrams to the relay.
    Udp,
    /// `MED` frames on the switchboard's TLS connection.
    Tls,
}

impl Path {
    pub fn as_str(self) -> &'static str {
        match self {
            Path::Udp => "udp",
            Path::Tls => "tls",
        }
    }
}

impl std::fmt::Display for Path {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug)]
pub struct PathChooser {
    started: Instant,
    sending: Path,
    /// The first second is over, or a BOUND came: from now on, moves are switches.
    decided: bool,
    last_probe: Option<Instant>,
    next_probe: u64,
    outstanding: VecDeque<(u64, Instant)>,
    /// On UDP: when the oldest probe still unanswered was sent.
    unanswered_since: Option<Instant>,
    switches: u32,
    relay_round_trip: Option<Duration>,
    /// When the relay last sent us anything on UDP.
    heard: Option<Instant>,
}

impl PathChooser {
    /// Starts probing at `now`. Until a BOUND comes, packets go over TLS.
    pub fn new(now: Instant) -> Self {
        Self {
            started: now,
            sending: Path::Tls,
            decided: false,
            last_probe: None,
            next_probe: 1,
            outstanding: VecDeque::new(),
            unanswered_since: None,
            switches: 0,
            relay_round_trip: None,
            heard: None,
        }
    }

    pub fn sending(&self) -> Path {
        self.sending
    }

    /// Moves between UDP and TLS after the initial choice.
    pub fn switches(&self) -> u32 {
        self.switches
    }

    /// The last BIND → BOUND round trip to the relay.
    pub fn relay_round_trip(&self) -> Option<Duration> {
        self.relay_round_trip
    }

    fn probing_fast(&self, now: Instant) -> bool {
        if !self.decided {
            return true;
        }
        self.sending == Path::Udp
            && self.unanswered_since.is_some_and(|since| now.saturating_duration_since(since) >= ANSWER_WAIT)
    }

    fn switch(&mut self, to: Path) {
        if self.sending != to {
            self.sending = to;
            if self.decided {
                self.switches += 1;
            }
        }
    }

    /// Advances the schedule; gives the id of a probe to send now, if one is due.
    pub fn poll(&mut self, now: Instant) -> Option<u64> {
        if !self.decided && now.saturating_duration_since(self.started) >= FIRST_WINDOW {
            // No BOUND in the first second: TLS it is (the initial choice, not a switch).
            self.decided = true;
        }
        if self.sending == Path::Udp
            && let Some(since) = self.unanswered_since
            && now.saturating_duration_since(since) >= ANSWER_WAIT + FIRST_WINDOW
        {
            self.switch(Path::Tls);
            self.unanswered_since = None;
        }
        let interval = if self.probing_fast(now) { FAST_PROBE } else { KEEPALIVE };
        let quiet = self.sending == Path::Udp
            && self.unanswered_since.is_none()
            && self.heard.is_some_and(|heard| now.saturating_duration_since(heard) >= QUIET);
        let due = quiet || self.last_probe.is_none_or(|last| now.saturating_duration_since(last) >= interval);
        if !due {
            return None;
        }
        let probe = self.next_probe;
        self.next_probe += 1;
        self.last_probe = Some(now);
        if self.outstanding.len() == OUTSTANDING {
            self.outstanding.pop_front();
        }
        self.outstanding.push_back((probe, now));
        if self.sending == Path::Udp && self.unanswered_since.is_none() {
            self.unanswered_since = Some(now);
        }
        Some(probe)
    }

    /// Any datagram from the relay arrived on UDP.
    pub fn heard(&mut self, now: Instant) {
        self.heard = Some(now);
    }

    /// A BOUND for `probe` arrived. Unknown or stale probes change nothing.
    pub fn on_bound(&mut self, probe: u64, now: Instant) -> bool {
        let Some(index) = self.outstanding.iter().position(|(id, _)| *id == probe) else { return false };
        let (_, sent) = self.outstanding[index];
        // Everything older than an answered probe is moot.
        self.outstanding.drain(..=index);
        self.relay_round_trip = Some(now.saturating_duration_since(sent));
        self.heard = Some(now);
        self.unanswered_since = None;
        self.switch(Path::Udp);
        self.decided = true;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs the chooser every 10 ms from `from` to `to` (ms after start), answering probes
    /// (after 5 ms) and delivering media only while `open(t)` says UDP works; gives the
    /// probe times in ms.
    fn run(
        chooser: &mut PathChooser,
        start: Instant,
        from: u64,
        to: u64,
        open: impl Fn(u64) -> bool,
    ) -> Vec<u64> {
        let mut probes = Vec::new();
        let mut pending: Vec<(u64, u64)> = Vec::new();
        for t in (from..to).step_by(10) {
            let now = start + Duration::from_millis(t);
            for (probe, _) in pending.iter().filter(|(_, at)| *at <= t) {
                chooser.on_bound(*probe, now);
            }
            pending.retain(|(_, at)| *at > t);
            if open(t) {
                chooser.heard(now);
            }
            if let Some(probe) = chooser.poll(now) {
                probes.push(t);
                if open(t) {
                    pending.push((probe, t + 5));
                }
            }
        }
        probes
    }

    #[test]
    fn udp_that_answers_is_chosen_at_once_and_kept_alive_every_two_seconds() {
        let start = Instant::now();
        let mut chooser = PathChooser::new(start);
        assert_eq!(chooser.sending(), Path::Tls, "nothing is known before the first BOUND");
        let probes = run(&mut chooser, start, 0, 6_010, |_| true);
        assert_eq!(chooser.sending(), Path::Udp);
        assert_eq!(chooser.switches(), 0, "the first choice is not a switch");
        assert_eq!(probes, vec![0, 2000, 4000, 6000]);
        assert_eq!(chooser.relay_round_trip(), Some(Duration::from_millis(10)));
    }

    #[test]
    fn blocked_udp_falls_to_tls_after_a_second_then_returns_on_the_first_bound() {
        let start = Instant::now();
        let mut chooser = PathChooser::new(start);
        let probes = run(&mut chooser, start, 0, 4_000, |_| false);
        assert_eq!(probes, vec![0, 200, 400, 600, 800, 2800]);
        assert_eq!((chooser.sending(), chooser.switches()), (Path::Tls, 0));
        // UDP opens: the next keep-alive is answered and sending moves back.
        let probes = run(&mut chooser, start, 4_000, 5_100, |_| true);
        assert_eq!(probes, vec![4800]);
        assert_eq!((chooser.sending(), chooser.switches()), (Path::Udp, 1));
    }

    #[test]
    fn udp_lost_mid_call_moves_to_tls_about_two_seconds_later_and_back_when_it_returns() {
        let start = Instant::now();
        let mut chooser = PathChooser::new(start);
        run(&mut chooser, start, 0, 1_000, |_| true);
        assert_eq!(chooser.sending(), Path::Udp);
        // Blocked from 1 s: quiet for 600 ms, so a probe at 1.59 s; unanswered, fast
        // probes from 2.09 s; TLS at 3.09 s.
        let probes = run(&mut chooser, start, 1_000, 3_100, |_| false);
        assert_eq!(probes, vec![1590, 2090, 2290, 2490, 2690, 2890]);
        assert_eq!((chooser.sending(), chooser.switches()), (Path::Tls, 1));
        // Back on TLS it probes every 2 s; UDP returns and so does sending.
        let probes = run(&mut chooser, start, 3_100, 5_000, |_| true);
        assert_eq!(probes, vec![4890]);
        assert_eq!((chooser.sending(), chooser.switches()), (Path::Udp, 2));
    }

    #[test]
    fn a_quiet_relay_is_probed_at_once_rather_than_at_the_next_keep_alive() {
        let start = Instant::now();
        let mut chooser = PathChooser::new(start);
        run(&mut chooser, start, 0, 100, |_| true);
        // Media keeps arriving until 300 ms, then nothing: a probe goes out at 900 ms.
        for t in (100..300).step_by(10) {
            chooser.heard(start + Duration::from_millis(t));
            assert_eq!(chooser.poll(start + Duration::from_millis(t)), None);
        }
        let probes = run(&mut chooser, start, 300, 1_000, |_| false);
        assert_eq!(probes, vec![890]);
    }

    #[test]
    fn unknown_and_stale_bounds_change_nothing() {
        let start = Instant::now();
        let mut chooser = PathChooser::new(start);
        assert!(!chooser.on_bound(99, start));
        assert_eq!(chooser.sending(), Path::Tls);
        let first = chooser.poll(start).unwrap();
        assert!(chooser.on_bound(first, start + Duration::from_millis(3)));
        assert!(!chooser.on_bound(first, start + Duration::from_millis(4)), "answered once only");
    }
}
