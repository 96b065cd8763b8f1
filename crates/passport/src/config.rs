//! Passport's settings: token lifetimes, password cost, sign-in rate limits, the
//! database's size cap.

use std::path::PathBuf;
use std::time::Duration;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateLimit {
    pub max_attempts: u32,
    pub window: Duration,
}

#[derive(Clone, Debug)]
pub struct PassportConfig {
    pub session_token_lifetime: Duration,
    pub refresh_token_lifetime: Duration,
    pub pbkdf2_iterations: u32,
    pub sign_in_per_account: RateLimit,
    pub sign_in_per_address: RateLimit,
    /// The JSON file listing the newest client build on each channel.
    pub updates_manifest: PathBuf,
    /// The most bytes the database may grow to; past it, writes that need more room
    /// fail with [`PassportError::StorageFull`](crate::PassportError::StorageFull),
    /// as on a full disk. `None`: as large as the disk allows.
    pub max_database_bytes: Option<u64>,
}

/// OWASP's 2023 recommendation for PBKDF2-HMAC-SHA256.
pub const DEFAULT_PBKDF2_ITERATIONS: u32 = 600_000;

impl Default for PassportConfig {
    fn default() -> Self {
        Self {
            session_token_lifetime: Duration::from_secs(15 * 60),
            refresh_token_lifetime: Duration::from_secs(30 * 24 * 3600),
            pbkdf2_iterations: DEFAULT_PBKDF2_ITERATIONS,
            sign_in_per_account: RateLimit { max_attempts: 10, window: Duration::from_secs(300) },
            sign_in_per_address: RateLimit { max_attempts: 30, window: Duration::from_secs(60) },
            updates_manifest: PathBuf::from("updates.json"),
            max_database_bytes: None,
        }
    }
}
