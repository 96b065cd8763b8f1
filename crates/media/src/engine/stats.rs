//! Receive-side statistics per stream (RFC 3550's: extended highest sequence, loss,
//! interarrival jitter) and the call's statistics as the user sees them.

use std::time::Instant;

use crate::control::ReceiverReport;
use crate::packet::Stream;

/// What a call's statistics window shows. Loss and jitter are about what *we receive*;
/// `remote_loss_percent` is what the other side reports about what we send.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct CallStats {
    /// Audio packets from the other side that never arrived, percent, whole call.
    pub loss_percent: f32,
    /// The other side's last report of our audio lost, percent (recent 500 ms).
    pub remote_loss_percent: f32,
    /// Interarrival jitter of the audio we receive, ms.
    pub jitter_ms: f32,
    /// Round trip from the last ping, ms; `None` until a pong came back.
    pub round_trip_ms: Option<f32>,
    /// The jitter buffer's delay now, ms.
    pub buffer_ms: f32,
    /// The delay the measured jitter asks for, ms.
    pub buffer_target_ms: f32,
    /// 20 ms frames played from concealment (nothing to decode).
    pub concealed_frames: u64,
    /// Lost frames rebuilt from the next packet's FEC copy.
    pub fec_recoveries: u64,
    /// Packets that arrived after their turn and were dropped.
    pub late_packets: u64,
    /// Packets that could not be used (undecodable, malformed control, wrong size).
    pub bad_packets: u64,
    pub packets_sent: u64,
    pub packets_received: u64,
    /// What our Opus encoder runs at now.
    pub audio_bitrate_bps: u32,
    /// The loss our encoder plans its FEC for, percent.
    pub expected_loss_percent: u8,
    /// Video freezes (from the video pipeline; 0 for an audio call).
    pub freezes: u64,
    pub video: super::video::VideoStats,
}

/// One incoming stream's counters, for receiver reports.
#[derive(Debug, Clone)]
pub struct ReceiveStats {
    clock_rate: f64,
    base: i64,
    highest: Option<i64>,
    received: u64,
    expected_prior: u64,
    received_prior: u64,
    /// In timestamp units, RFC 3550 A.8.
    jitter: f64,
    last: Option<(Instant, u32)>,
}

impl ReceiveStats {
    pub fn new(clock_rate: u32) -> Self {
        ReceiveStats {
            clock_rate: f64::from(clock_rate),
            base: 0,
            highest: None,
            received: 0,
            expected_prior: 0,
            received_prior: 0,
            jitter: 0.0,
            last: None,
        }
    }

    pub fn on_packet(&mut self, seq: u32, timestamp: u32, now: Instant) {
        let extended = match self.highest {
            None => {
                self.base = i64::from(seq);
                i64::from(seq)
            }
            Some(highest) => highest + i64::from(seq.wrapping_sub(highest as u32) as i32),
        };
        self.base = self.base.min(extended);
        self.highest = Some(self.highest.map_or(extended, |h| h.max(extended)));
        self.received += 1;
        if let Some((at, last_ts)) = self.last {
            let arrival = now.saturating_duration_since(at).as_secs_f64() * self.clock_rate;
            let sent = f64::from(timestamp.wrapping_sub(last_ts) as i32);
            let difference = (arrival - sent).abs();
            self.jitter += (difference - self.jitter) / 16.0;
        }
        self.last = Some((now, timestamp));
    }

    fn expected(&self) -> u64 {
        self.highest.map_or(0, |h| (h - self.base + 1) as u64)
    }

    pub fn received(&self) -> u64 {
        self.received
    }

    pub fn lost(&self) -> u64 {
        self.expected().saturating_sub(self.received)
    }

    pub fn loss_percent(&self) -> f32 {
        let expected = self.expected();
        if expected == 0 { 0.0 } else { self.lost() as f32 * 100.0 / expected as f32 }
    }

    pub fn jitter_ms(&self) -> f32 {
        (self.jitter / self.clock_rate * 1000.0) as f32
    }

    /// A report on this stream; `None` before anything arrived. Starts a new interval
    /// for the fraction lost.
    pub fn report(&mut self, stream: Stream) -> Option<ReceiverReport> {
        let highest = self.highest?;
        let expected = self.expected();
        let expected_interval = expected.saturating_sub(self.expected_prior);
        let received_interval = self.received.saturating_sub(self.received_prior);
        self.expected_prior = expected;
        self.received_prior = self.received;
        let lost_interval = expected_interval.saturating_sub(received_interval);
        let fraction_lost = if expected_interval == 0 {
            0
        } else {
            ((lost_interval * 256) / expected_interval).min(255) as u8
        };
        Some(ReceiverReport {
            stream,
            highest_seq: highest as u32,
            fraction_lost,
            cumulative_lost: self.lost().min(u64::from(u32::MAX)) as u32,
            jitter: self.jitter.round() as u32,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn loss_and_fraction_over_intervals_across_a_wrap() {
        let start = Instant::now();
        let mut stats = ReceiveStats::new(48_000);
        let first = u32::MAX - 10;
        for i in 0..100u32 {
            if i % 10 == 3 {
                continue; // 10 % lost
            }
            stats.on_packet(first.wrapping_add(i), i * 960, start + Duration::from_millis(20) * i);
        }
        let report = stats.report(Stream::Audio);
        assert!(report.is_some());
        let report = report.unwrap_or_else(|| unreachable!());
        assert_eq!(report.cumulative_lost, 10);
        assert_eq!(report.highest_seq, first.wrapping_add(99));
        assert_eq!(report.fraction_lost, 25); // 10/100 of 256
        assert!(stats.jitter_ms() < 0.01, "no jitter on an exact clock: {}", stats.jitter_ms());
        // Nothing new: the next interval lost nothing.
        assert_eq!(stats.report(Stream::Audio).map(|r| r.fraction_lost), Some(0));
        assert!((stats.loss_percent() - 10.0).abs() < 0.01);
    }

    #[test]
    fn jitter_is_measured() {
        let start = Instant::now();
        let mut stats = ReceiveStats::new(48_000);
        for i in 0..500u32 {
            let wobble = if i % 2 == 0 { 0 } else { 10 };
            stats.on_packet(i, i * 960, start + Duration::from_millis(u64::from(i * 20 + wobble)));
        }
        // Alternating ±10 ms differences give a jitter near 10 ms.
        assert!((stats.jitter_ms() - 10.0).abs() < 1.0, "{}", stats.jitter_ms());
    }
}
