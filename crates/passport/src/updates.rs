//! Update checks, answered from `updates.json` in the data folder (re-read on
//! each check, so an operator can publish a build without a restart).

use std::collections::BTreeMap;
use std::path::Path;

pub use mocha_api::UpdateManifest;
use mocha_api::{Build, UpdateCheck};

use crate::{Passport, PassportError};

pub const CHANNELS: [&str; 3] = ["stable", "beta", "dev"];

/// The platforms builds are published for.
pub const PLATFORMS: [&str; 2] = ["linux-x86_64", "windows-x86_64"];

/// Writes an empty manifest unless one exists: nothing is offered for download or as
/// an update until `mocha-server publish` puts a real build there.
pub fn write_default_manifest(path: &Path) -> std::io::Result<()> {
    if path.exists() {
        return Ok(());
    }
    let manifest = UpdateManifest::default();
    std::fs::write(path, serde_json::to_vec_pretty(&manifest).map_err(std::io::Error::other)?)
}

impl Passport {
    pub async fn update_manifest(&self) -> Result<UpdateManifest, PassportError> {
        let text = match tokio::fs::read(&self.config.updates_manifest).await {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(UpdateManifest::default()),
            Err(e) => return Err(PassportError::Internal(format!("reading the update manifest: {e}"))),
        };
        serde_json::from_slice(&text)
            .map_err(|e| PassportError::Internal(format!("the update manifest is not valid JSON: {e}")))
    }

    pub async fn check_for_update(&self, channel: &str, version: &str) -> Result<UpdateCheck, PassportError> {
        self.check_for_update_on(channel, version, None).await
    }

    /// The update check for a client on `platform`: only a file published for that
    /// platform is offered (with its size, hash and signature). Without a platform, the
    /// channel's newest version is compared, as older clients ask.
    pub async fn check_for_update_on(
        &self,
        channel: &str,
        version: &str,
        platform: Option<&str>,
    ) -> Result<UpdateCheck, PassportError> {
        if !CHANNELS.contains(&channel) {
            return Err(PassportError::invalid("channel", "the channel must be stable, beta or dev"));
        }
        if let Some(platform) = platform
            && !PLATFORMS.contains(&platform)
        {
            return Err(PassportError::invalid(
                "platform",
                "the platform must be linux-x86_64 or windows-x86_64",
            ));
        }
        let current = semver::Version::parse(version.trim())
            .map_err(|_| PassportError::invalid("version", "the version must look like 1.2.3"))?;
        let manifest = self.update_manifest().await?;
        let is_newer =
            |candidate: &str| semver::Version::parse(candidate).is_ok_and(|latest| latest > current);
        let newer = match platform {
            None => manifest.channels.get(channel).filter(|build| is_newer(&build.version)).cloned(),
            Some(platform) => {
                manifest.file(channel, platform).filter(|file| is_newer(&file.version)).map(|file| Build {
                    version: file.version.clone(),
                    notes: file.notes.clone(),
                    download_url: file.url.clone(),
                    files: BTreeMap::from([(platform.to_string(), file.clone())]),
                })
            }
        };
        let message = match &newer {
            Some(build) => format!("Mocha Messenger {} is available.", build.version),
            None => "You are up to date.".to_string(),
        };
        Ok(UpdateCheck {
            channel: channel.to_string(),
            update_available: newer.is_some(),
            latest: newer,
            message,
            release_key: manifest.release_key,
        })
    }
}
