//! One clock for the whole load generator, so a timestamp written into a message by
//! one task can be compared with the time another task receives it.

use std::sync::OnceLock;
use std::time::{Duration, Instant};

fn epoch() -> Instant {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    *EPOCH.get_or_init(Instant::now)
}

/// Microseconds since the first call in this process.
pub fn now_micros() -> u64 {
    u64::try_from(epoch().elapsed().as_micros()).unwrap_or(u64::MAX)
}

/// The time since `micros` (as returned by [`now_micros`]).
pub fn since(micros: u64) -> Duration {
    Duration::from_micros(now_micros().saturating_sub(micros))
}
