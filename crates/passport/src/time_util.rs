//! Unix-second timestamps in storage, `OffsetDateTime` at the API.

use time::OffsetDateTime;

pub use mocha_auth::unix_now as now;

pub fn to_datetime(unix_seconds: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(unix_seconds).unwrap_or(OffsetDateTime::UNIX_EPOCH)
}
