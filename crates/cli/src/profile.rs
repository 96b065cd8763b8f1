//! The remembered sign-in: server, extra CA, refresh token and presence preferences,
//! in `profile.json` inside the user's config folder — readable by the owner only.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow};
use serde::{Deserialize, Serialize};

const FILE: &str = "profile.json";

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Profile {
    pub server: Option<String>,
    pub ca: Option<PathBuf>,
    pub notification_server: Option<String>,
    pub username: Option<String>,
    pub refresh_token: Option<String>,
    pub status: Option<String>,
    pub personal_message: Option<String>,
    /// Each server's release key (base64url), pinned the first time `mocha update` saw
    /// it: a build signed by another key is refused.
    pub release_keys: std::collections::BTreeMap<String, String>,
}

#[derive(Clone, Debug)]
pub struct ProfileStore {
    dir: PathBuf,
}

impl ProfileStore {
    /// `--config-dir` / `MOCHA_CONFIG_DIR`, else `<config folder>/mocha`.
    pub fn locate(dir: Option<PathBuf>) -> Result<Self> {
        let dir = match dir {
            Some(dir) => dir,
            None => dirs::config_dir()
                .ok_or_else(|| anyhow!("no config folder; pass --config-dir"))?
                .join("mocha"),
        };
        Ok(Self { dir })
    }

    pub fn path(&self) -> PathBuf {
        self.dir.join(FILE)
    }

    pub fn load(&self) -> Result<Profile> {
        let path = self.path();
        match std::fs::read(&path) {
            Ok(bytes) => {
                serde_json::from_slice(&bytes).with_context(|| format!("{} is damaged", path.display()))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Profile::default()),
            Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
        }
    }

    /// Writes atomically (a temporary file renamed over the old one), owner-only.
    pub fn save(&self, profile: &Profile) -> Result<()> {
        create_private_dir(&self.dir)?;
        let path = self.path();
        let temporary = self.dir.join(format!(".{FILE}.tmp"));
        let _ = std::fs::remove_file(&temporary);
        let mut file =
            private_file(&temporary).with_context(|| format!("cannot write {}", temporary.display()))?;
        file.write_all(&serde_json::to_vec_pretty(profile)?)?;
        file.sync_all()?;
        std::fs::rename(&temporary, &path).with_context(|| format!("cannot write {}", path.display()))
    }

    /// Saves a new refresh token into the stored profile (it rotates on every use).
    pub fn save_refresh_token(&self, token: &str) -> Result<()> {
        let mut profile = self.load()?;
        profile.refresh_token = Some(token.to_string());
        self.save(&profile)
    }

    pub fn forget(&self) -> Result<()> {
        match std::fs::remove_file(self.path()) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e.into()),
            _ => Ok(()),
        }
    }
}

#[cfg(unix)]
fn private_file(path: &Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path)
}

#[cfg(not(unix))]
fn private_file(path: &Path) -> std::io::Result<std::fs::File> {
    std::fs::OpenOptions::new().write(true).create_new(true).open(path)
}

fn create_private_dir(dir: &Path) -> Result<()> {
    #[cfg(unix)]
    let created = {
        use std::os::unix::fs::DirBuilderExt;
        std::fs::DirBuilder::new().recursive(true).mode(0o700).create(dir)
    };
    #[cfg(not(unix))]
    let created = std::fs::create_dir_all(dir);
    created.with_context(|| format!("cannot create {}", dir.display()))
}
