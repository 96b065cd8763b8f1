//! The video bitrate, from what the peer reports: loss and round-trip time.
//!
//! Additive-increase/multiplicative-decrease in the manner of WebRTC's loss-based
//! controller: under 2 % loss the rate grows 8 % per report, over 10 % it shrinks by
//! half the loss fraction, in between it holds. A round trip that has grown well past
//! the smallest one seen means queues are filling before packets get lost: the rate
//! shrinks by 15 % and does not grow.

use std::time::Duration;

/// Loss under this lets the rate grow.
const LOSS_LOW: f32 = 0.02;
/// Loss over this makes it shrink.
const LOSS_HIGH: f32 = 0.10;
const INCREASE: f64 = 1.08;
/// At least this much growth per report, so a low rate recovers in reasonable time.
const MIN_STEP_BPS: f64 = 8_000.0;
const QUEUE_DECREASE: f64 = 0.85;
/// A round trip this much above the smallest one seen is a queue building up.
const QUEUE_DELAY: Duration = Duration::from_millis(150);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BitrateConfig {
    pub min_bps: u32,
    pub start_bps: u32,
    pub max_bps: u32,
}

impl Default for BitrateConfig {
    /// 640x480 at 30 frames/s looks fine from about 500 kbit/s; 150 kbit/s still moves.
    fn default() -> Self {
        BitrateConfig { min_bps: 150_000, start_bps: 600_000, max_bps: 1_500_000 }
    }
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum BitrateError {
    #[error("fraction lost {0} is not between 0 and 1")]
    BadLoss(f32),
    #[error("bitrate limits {min} ≤ {start} ≤ {max} do not hold")]
    BadLimits { min: u32, start: u32, max: u32 },
}

#[derive(Debug, Clone)]
pub struct BitrateController {
    config: BitrateConfig,
    target: f64,
    min_rtt: Option<Duration>,
}

impl BitrateController {
    pub fn new(config: BitrateConfig) -> Result<Self, BitrateError> {
        let BitrateConfig { min_bps: min, start_bps: start, max_bps: max } = config;
        if !(0 < min && min <= start && start <= max) {
            return Err(BitrateError::BadLimits { min, start, max });
        }
        Ok(BitrateController { config, target: f64::from(start), min_rtt: None })
    }

    pub fn target_bps(&self) -> u32 {
        self.target.round() as u32
    }

    /// One receiver report: the fraction of video packets lost since the last one
    /// (0..=1) and the round trip, if one was measured. Returns the new target.
    pub fn on_report(&mut self, fraction_lost: f32, rtt: Option<Duration>) -> Result<u32, BitrateError> {
        if !(0.0..=1.0).contains(&fraction_lost) {
            return Err(BitrateError::BadLoss(fraction_lost));
        }
        let queueing = rtt.is_some_and(|rtt| {
            let min = *self.min_rtt.get_or_insert(rtt);
            self.min_rtt = Some(min.min(rtt));
            rtt > min + QUEUE_DELAY
        });
        if fraction_lost > LOSS_HIGH {
            self.target *= 1.0 - 0.5 * f64::from(fraction_lost);
        } else if queueing {
            self.target *= QUEUE_DECREASE;
        } else if fraction_lost < LOSS_LOW {
            self.target = (self.target * INCREASE).max(self.target + MIN_STEP_BPS);
        }
        self.target = self.target.clamp(f64::from(self.config.min_bps), f64::from(self.config.max_bps));
        Ok(self.target_bps())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn after(reports: &[(f32, u64)]) -> u32 {
        let mut c = BitrateController::new(BitrateConfig::default()).unwrap();
        for &(loss, rtt) in reports {
            c.on_report(loss, Some(Duration::from_millis(rtt))).unwrap();
        }
        c.target_bps()
    }

    #[test]
    fn a_clean_link_climbs_to_the_ceiling_and_stays() {
        assert_eq!(after(&[(0.0, 40)]), 648_000);
        assert_eq!(after(&[(0.0, 40); 40]), 1_500_000);
    }

    #[test]
    fn heavy_loss_cuts_the_rate_to_the_floor() {
        assert_eq!(after(&[(0.2, 40)]), 540_000);
        assert_eq!(after(&[(0.3, 40); 20]), 150_000);
    }

    #[test]
    fn moderate_loss_holds_the_rate() {
        assert_eq!(after(&[(0.05, 40); 10]), 600_000);
    }

    #[test]
    fn a_growing_round_trip_backs_off_before_any_loss() {
        // 40 ms is the baseline; 250 ms without loss means a queue is building.
        assert_eq!(after(&[(0.0, 40), (0.0, 250)]), 550_800);
        // Back to 60 ms: growth resumes.
        assert!(after(&[(0.0, 40), (0.0, 250), (0.0, 60)]) > 550_800);
        // A long but steady round trip (a far peer) is not a queue.
        assert_eq!(after(&[(0.0, 300), (0.0, 310)]), 699_840);
    }

    #[test]
    fn bad_reports_and_limits_are_refused() {
        let mut c = BitrateController::new(BitrateConfig::default()).unwrap();
        assert_eq!(
            c.on_report(f32::NAN, None).unwrap_err().to_string(),
            "fraction lost NaN is not between 0 and 1"
        );
        assert!(c.on_report(1.5, None).is_err());
        assert_eq!(c.target_bps(), 600_000, "a bad report changes nothing");
        let bad = BitrateConfig { min_bps: 10, start_bps: 5, max_bps: 20 };
        assert!(BitrateController::new(bad).is_err());
    }
}
