use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ServiceState {
    Up,
    Down,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ServiceReport {
    /// `passport`, `notification` or `switchboard`.
    pub name: String,
    pub state: ServiceState,
    /// Where clients reach it, `host:port`.
    pub address: Option<String>,
    pub uptime_seconds: Option<u64>,
    /// Signed-in users (notification) or conversation participants (switchboard).
    pub online_users: Option<u64>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ServiceNotice {
    pub text: String,
    #[serde(with = "crate::timestamp")]
    pub posted_at: OffsetDateTime,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StatusReport {
    pub services: Vec<ServiceReport>,
    pub notices: Vec<ServiceNotice>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Build {
    pub version: String,
    pub notes: String,
    pub download_url: String,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UpdateCheck {
    pub channel: String,
    pub update_available: bool,
    /// The newest build on the channel, when it is newer than the caller's.
    pub latest: Option<Build>,
    /// A sentence for people: "Mocha 1.2.0 is available" or "You are up to date".
    pub message: String,
}
