//! A sliding-window limit on attempts per key (an account or a client address).

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::RateLimit;

pub(crate) struct RateLimiter {
    limit: RateLimit,
    attempts: Mutex<HashMap<String, VecDeque<Instant>>>,
}

/// Past this many keys, stale ones are swept so memory stays bounded.
const SWEEP_THRESHOLD: usize = 10_000;

impl RateLimiter {
    pub fn new(limit: RateLimit) -> Self {
        Self { limit, attempts: Mutex::new(HashMap::new()) }
    }

    /// Records an attempt for `key`, or says how long until one is allowed.
    pub fn attempt(&self, key: &str) -> Result<(), Duration> {
        self.attempt_at(key, Instant::now())
    }

    fn attempt_at(&self, key: &str, now: Instant) -> Result<(), Duration> {
        let window = self.limit.window;
        let mut attempts = self.attempts.lock().unwrap_or_else(|e| e.into_inner());
        if attempts.len() > SWEEP_THRESHOLD {
            attempts.retain(|_, times| times.back().is_some_and(|last| now.duration_since(*last) < window));
        }
        let times = attempts.entry(key.to_string()).or_default();
        while times.front().is_some_and(|first| now.duration_since(*first) >= window) {
            times.pop_front();
        }
        if times.len() >= self.limit.max_attempts as usize {
            let oldest = *times.front().expect("a full window has attempts");
            return Err(window.saturating_sub(now.duration_since(oldest)));
        }
        times.push_back(now);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allows_up_to_the_limit_then_says_when_to_retry() {
        let limiter = RateLimiter::new(RateLimit { max_attempts: 2, window: Duration::from_secs(60) });
        let start = Instant::now();
        assert!(limiter.attempt_at("a", start).is_ok());
        assert!(limiter.attempt_at("a", start + Duration::from_secs(10)).is_ok());
        assert_eq!(limiter.attempt_at("a", start + Duration::from_secs(20)), Err(Duration::from_secs(40)));
        assert!(limiter.attempt_at("b", start + Duration::from_secs(20)).is_ok(), "keys are separate");
        assert!(limiter.attempt_at("a", start + Duration::from_secs(61)).is_ok(), "the window slides");
    }
}
