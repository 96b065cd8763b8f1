//! Update checks, answered from `updates.json` in the data folder (re-read on
//! each check, so an operator can publish a build without a restart).

use std::collections::BTreeMap;
use std::path::Path;

use mocha_api::{Build, UpdateCheck};
use serde::{Deserialize, Serialize};

use crate::{Passport, PassportError};

pub const CHANNELS: [&str; 3] = ["stable", "beta", "dev"];

#[derive(Debug, Default, Serialize, Deserialize)]
pub struct UpdateManifest {
    pub channels: BTreeMap<String, Build>,
}

/// Writes a starter manifest (this build on every channel) unless one exists.
pub fn write_default_manifest(path: &Path, version: &str, download_url: &str) -> std::io::Result<()> {
    if path.exists() {
        return Ok(());
    }
    let build = Build {
        version: version.to_string(),
        notes: "First release of this Mocha server's client.".to_string(),
        download_url: download_url.to_string(),
    };
    let manifest =
        UpdateManifest { channels: CHANNELS.iter().map(|c| (c.to_string(), build.clone())).collect() };
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
        if !CHANNELS.contains(&channel) {
            return Err(PassportError::invalid("channel", "the channel must be stable, beta or dev"));
        }
        let current = semver::Version::parse(version.trim())
            .map_err(|_| PassportError::invalid("version", "the version must look like 1.2.3"))?;
        let manifest = self.update_manifest().await?;
        let newer = manifest
            .channels
            .get(channel)
            .filter(|build| semver::Version::parse(&build.version).is_ok_and(|latest| latest > current))
            .cloned();
        let message = match &newer {
            Some(build) => format!("Mocha Messenger {} is available.", build.version),
            None => "You are up to date.".to_string(),
        };
        Ok(UpdateCheck {
            channel: channel.to_string(),
            update_available: newer.is_some(),
            latest: newer,
            message,
        })
    }
}
