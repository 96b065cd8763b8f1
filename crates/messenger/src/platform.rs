//! Everything that differs between operating systems, in one place: where settings and
//! received files live, opening a folder, and the secret store that keeps a remembered
//! sign-in (Windows Credential Manager, protected with DPAPI for the current user; the
//! macOS Keychain; the Secret Service over D-Bus on Linux). The rest of the app never
//! names a platform.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};

/// Overrides the settings folder (tests, portable installs).
pub const CONFIG_DIR_ENV: &str = "MOCHA_MESSENGER_CONFIG_DIR";

/// `%AppData%\Mocha\Mocha Messenger\` on Windows, `$XDG_CONFIG_HOME/mocha-messenger/`
/// (usually `~/.config/mocha-messenger/`) on Linux, or `MOCHA_MESSENGER_CONFIG_DIR`.
pub fn config_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os(CONFIG_DIR_ENV).filter(|d| !d.is_empty()) {
        return PathBuf::from(dir);
    }
    let base = dirs::config_dir().unwrap_or_else(|| PathBuf::from("."));
    if cfg!(windows) {
        base.join("Mocha").join("Mocha Messenger")
    } else if cfg!(target_os = "macos") {
        base.join("Mocha Messenger")
    } else {
        base.join("mocha-messenger")
    }
}

/// `Documents/Mocha Received Files` (the home folder when there is no Documents folder).
pub fn default_receive_folder() -> PathBuf {
    dirs::document_dir()
        .or_else(dirs::home_dir)
        .unwrap_or_else(|| PathBuf::from("."))
        .join("Mocha Received Files")
}

/// Shows a folder in the system's file manager; returns at once.
pub fn open_folder(path: &std::path::Path) -> std::io::Result<()> {
    let program = if cfg!(windows) {
        "explorer"
    } else if cfg!(target_os = "macos") {
        "open"
    } else {
        "xdg-open"
    };
    std::process::Command::new(program).arg(path).spawn().map(drop)
}

const SERVICE: &str = "Mocha Messenger";

/// Where a remembered sign-in (a revocable refresh token, never the password) is kept.
/// Its methods may block (D-Bus, Credential Manager): call them off the UI thread.
#[derive(Clone, Debug)]
pub enum SecretStore {
    /// The operating system's store.
    Os,
    /// In memory only, for tests.
    Memory(Arc<Mutex<HashMap<String, String>>>),
    /// None can be used here; the reason is shown next to the disabled option.
    Unavailable(String),
}

impl SecretStore {
    pub fn memory() -> Self {
        SecretStore::Memory(Arc::default())
    }

    /// The OS store if it answers, else `Unavailable` with the reason. Blocks.
    pub fn probe_os() -> Self {
        match os::probe() {
            Ok(()) => SecretStore::Os,
            Err(reason) => SecretStore::Unavailable(reason),
        }
    }

    /// `Err(reason)` when remembered sign-in cannot be offered.
    pub fn availability(&self) -> Result<(), &str> {
        match self {
            SecretStore::Unavailable(reason) => Err(reason),
            _ => Ok(()),
        }
    }

    /// The key a sign-in is stored under: one per server and address.
    pub fn key(server: &str, address: &str) -> String {
        format!("{}|{}", server.trim_end_matches('/'), address.to_ascii_lowercase())
    }

    pub fn save(&self, key: &str, secret: &str) -> Result<(), String> {
        match self {
            SecretStore::Os => os::save(key, secret),
            SecretStore::Memory(map) => {
                map.lock().unwrap_or_else(PoisonError::into_inner).insert(key.into(), secret.into());
                Ok(())
            }
            SecretStore::Unavailable(reason) => Err(reason.clone()),
        }
    }

    pub fn load(&self, key: &str) -> Result<Option<String>, String> {
        match self {
            SecretStore::Os => os::load(key),
            SecretStore::Memory(map) => {
                Ok(map.lock().unwrap_or_else(PoisonError::into_inner).get(key).cloned())
            }
            SecretStore::Unavailable(reason) => Err(reason.clone()),
        }
    }

    /// Removes the remembered sign-in (nothing to remove is fine).
    pub fn delete(&self, key: &str) -> Result<(), String> {
        match self {
            SecretStore::Os => os::delete(key),
            SecretStore::Memory(map) => {
                map.lock().unwrap_or_else(PoisonError::into_inner).remove(key);
                Ok(())
            }
            SecretStore::Unavailable(_) => Ok(()),
        }
    }
}

/// The `keyring` crate: Credential Manager on Windows (its blobs are DPAPI-protected for
/// the signed-in Windows user), Keychain on macOS, Secret Service elsewhere.
mod os {
    use super::SERVICE;

    fn entry(key: &str) -> Result<keyring::Entry, String> {
        keyring::Entry::new(SERVICE, key).map_err(describe)
    }

    fn describe(error: keyring::Error) -> String {
        match error {
            keyring::Error::PlatformFailure(e) | keyring::Error::NoStorageAccess(e) => {
                format!("the system's secret store is not available ({e})")
            }
            other => format!("the system's secret store refused: {other}"),
        }
    }

    pub(super) fn probe() -> Result<(), String> {
        match entry("probe")?.get_password() {
            Ok(_) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(e) => Err(describe(e)),
        }
    }

    pub(super) fn save(key: &str, secret: &str) -> Result<(), String> {
        entry(key)?.set_password(secret).map_err(describe)
    }

    pub(super) fn load(key: &str) -> Result<Option<String>, String> {
        match entry(key)?.get_password() {
            Ok(secret) => Ok(Some(secret)),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(describe(e)),
        }
    }

    pub(super) fn delete(key: &str) -> Result<(), String> {
        match entry(key)?.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(e) => Err(describe(e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_memory_store_saves_loads_and_deletes() {
        let store = SecretStore::memory();
        let key = SecretStore::key("https://chat.example.org/", "Alice@Example.com");
        assert_eq!(key, "https://chat.example.org|alice@example.com");
        assert_eq!(store.load(&key), Ok(None));
        store.save(&key, "refresh").unwrap();
        assert_eq!(store.load(&key), Ok(Some("refresh".into())));
        store.delete(&key).unwrap();
        assert_eq!(store.load(&key), Ok(None));
    }

    #[test]
    fn an_unavailable_store_says_why() {
        let store = SecretStore::Unavailable("no D-Bus session".into());
        assert_eq!(store.availability(), Err("no D-Bus session"));
        assert!(store.save("k", "v").is_err());
        assert!(store.delete("k").is_ok());
    }

    #[test]
    fn probing_the_os_store_never_panics() {
        // On a headless machine this is `Unavailable` with a reason; either is fine.
        if let SecretStore::Unavailable(reason) = SecretStore::probe_os() {
            assert!(!reason.is_empty());
        }
    }

    #[test]
    fn the_config_dir_can_be_overridden() {
        // Read-only check of the default shape; the override is exercised by the UI tests.
        let dir = config_dir();
        assert!(
            dir.ends_with("mocha-messenger") || std::env::var_os(CONFIG_DIR_ENV).is_some() || cfg!(windows)
        );
    }
}
