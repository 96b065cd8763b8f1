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
    /// The published files of this channel by platform (`linux-x86_64`,
    /// `windows-x86_64`), each signed by the server's release key.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub files: std::collections::BTreeMap<String, BuildFile>,
}

/// One published client build for one platform.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BuildFile {
    pub version: String,
    pub notes: String,
    pub file_name: String,
    pub size: u64,
    /// SHA-256 of the file, lower-case hex.
    pub sha256: String,
    /// The release key's Ed25519 signature (base64url) of channel, platform, version,
    /// file name, size and SHA-256 (see `mocha_auth::ReleaseFacts`).
    pub signature: String,
    /// Where to download it, a path on the Passport web server (`/download/…`).
    pub url: String,
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
    /// The server's release public key (base64url Ed25519), which clients pin the first
    /// time they see it; absent until a build has been published.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub release_key: Option<String>,
}

/// The query of `GET /api/v1/updates`.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
pub struct UpdateQuery {
    /// `stable`, `beta` or `dev`.
    pub channel: String,
    /// The caller's version, like `1.0.0`.
    pub version: String,
    /// `linux-x86_64` or `windows-x86_64`: offers only a build published for it, with
    /// its size, SHA-256 and signature.
    pub platform: Option<String>,
}

/// `updates.json` in the server's data folder: the published build of each channel,
/// written by `mocha-server publish` and read on every update check.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct UpdateManifest {
    pub channels: std::collections::BTreeMap<String, Build>,
    /// The release key's public half (base64url), written by `mocha-server publish`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub release_key: Option<String>,
}

impl UpdateManifest {
    /// The file published for `platform` on `channel`, if any.
    pub fn file(&self, channel: &str, platform: &str) -> Option<&BuildFile> {
        self.channels.get(channel)?.files.get(platform)
    }
}
