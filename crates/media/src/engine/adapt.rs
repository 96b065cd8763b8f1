//! How our Opus encoder follows the other side's reports on our audio: the loss it plans
//! its FEC for, and its bitrate.
//!
//! The loss estimate rises at once to a worse report and decays over a few reports
//! (each 500 ms), so a burst keeps FEC up for a couple of seconds. FEC is never switched
//! fully off (1 % at least): the first loss on a clean link is then still recoverable.
//! Loss that persists above 10 % is usually congestion, so the bitrate steps down
//! (which also leaves the FEC copy a larger share of the packet).

use crate::audio::codec::{DEFAULT_BITRATE, MAX_EXPECTED_LOSS};

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AudioAdaptation {
    /// Fraction lost, 0..=1, smoothed as described above.
    loss: f64,
}

impl Default for AudioAdaptation {
    fn default() -> Self {
        AudioAdaptation { loss: 0.05 }
    }
}

impl AudioAdaptation {
    /// A report's fraction lost (in 256ths) comes in; returns (expected loss %, bitrate).
    pub fn on_report(&mut self, fraction_lost: u8) -> (u8, u32) {
        let reported = f64::from(fraction_lost) / 256.0;
        self.loss = reported.max(0.6 * self.loss + 0.4 * reported);
        self.settings()
    }

    pub fn settings(&self) -> (u8, u32) {
        let percent = (self.loss * 100.0).round().clamp(1.0, f64::from(MAX_EXPECTED_LOSS)) as u8;
        let bitrate = match self.loss {
            l if l < 0.10 => DEFAULT_BITRATE,
            l if l < 0.25 => 28_000,
            _ => 20_000,
        };
        (percent, bitrate)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rises_at_once_and_decays_slowly() {
        let mut adaptation = AudioAdaptation::default();
        assert_eq!(adaptation.on_report(0).0, 3);
        assert_eq!(adaptation.on_report(51), (20, 28_000)); // 20 % at once
        let (after_one, _) = adaptation.on_report(0);
        assert!((10..20).contains(&after_one), "{after_one}");
        for _ in 0..20 {
            adaptation.on_report(0);
        }
        assert_eq!(adaptation.settings(), (1, DEFAULT_BITRATE));
        assert_eq!(adaptation.on_report(255), (MAX_EXPECTED_LOSS, 20_000));
    }
}
