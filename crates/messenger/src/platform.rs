//! Everything that differs between operating systems, in one place: where settings and
//! received files live, opening a folder, the secret store that keeps a remembered
//! sign-in (Windows Credential Manager, protected with DPAPI for the current user; the
//! macOS Keychain; the Secret Service over D-Bus on Linux), and the camera names
//! (sysfs on Linux, Media Foundation on Windows). The rest of the app never names a
//! platform.

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

/// Folders the app's own file picker offers as places: home, Documents, Desktop,
/// Downloads, those that exist. Reads the XDG user-dirs file on Linux: call it off the
/// UI thread.
pub fn places() -> Vec<(String, PathBuf)> {
    let found = [
        ("Home", dirs::home_dir()),
        ("Documents", dirs::document_dir()),
        ("Desktop", dirs::desktop_dir()),
        ("Downloads", dirs::download_dir()),
    ];
    let mut places: Vec<(String, PathBuf)> = Vec::new();
    for (name, path) in found {
        if let Some(path) = path.filter(|p| p.is_dir())
            && !places.iter().any(|(_, seen)| *seen == path)
        {
            places.push((name.to_string(), path));
        }
    }
    places
}

/// Whether the system can show its own file dialog (`rfd`), or why not. Windows and
/// macOS always can. On Linux `rfd` asks the XDG desktop portal over D-Bus and falls
/// back to `zenity`; without either the dialog would never appear, so the app shows its
/// own picker instead. May block (D-Bus): call it off the UI thread.
pub fn file_dialog() -> Result<(), String> {
    file_dialog::probe()
}

#[cfg(all(unix, not(target_os = "macos")))]
mod file_dialog {
    const PORTAL: &str = "org.freedesktop.portal.Desktop";

    pub(super) fn probe() -> Result<(), String> {
        if on_path("zenity") {
            return Ok(());
        }
        let bus = zbus::blocking::Connection::session()
            .map_err(|e| format!("no desktop portal: the session bus is not reachable ({e})"))?;
        let dbus = zbus::blocking::fdo::DBusProxy::new(&bus)
            .map_err(|e| format!("no desktop portal: the session bus does not answer ({e})"))?;
        let name = zbus::names::BusName::try_from(PORTAL).map_err(|e| e.to_string())?;
        if dbus.name_has_owner(name).unwrap_or(false) {
            return Ok(());
        }
        let activatable = dbus.list_activatable_names().unwrap_or_default();
        if activatable.iter().any(|n| n.as_str() == PORTAL) {
            return Ok(());
        }
        Err("no desktop portal (org.freedesktop.portal.Desktop) and no zenity on this desktop".into())
    }

    fn on_path(program: &str) -> bool {
        std::env::var_os("PATH")
            .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join(program).is_file()))
    }
}

#[cfg(not(all(unix, not(target_os = "macos"))))]
mod file_dialog {
    pub(super) fn probe() -> Result<(), String> {
        Ok(())
    }
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

/// The names of the cameras on this machine, each once. Blocks (sysfs, Media
/// Foundation): call it off the UI thread. `Err` says why none could be listed.
pub fn cameras() -> Result<Vec<String>, String> {
    camera::list()
}

#[cfg(target_os = "linux")]
mod camera {
    pub(super) fn list() -> Result<Vec<String>, String> {
        super::sysfs_cameras(std::path::Path::new("/sys/class/video4linux"))
    }
}

#[cfg(windows)]
mod camera {
    use std::sync::OnceLock;

    /// nokhwa initialises COM and Media Foundation once per process, on the thread that
    /// asks first; later queries only work on that thread, so every query runs there.
    pub(super) fn list() -> Result<Vec<String>, String> {
        static QUERIES: OnceLock<super::OneThread<Result<Vec<String>, String>>> = OnceLock::new();
        QUERIES.get_or_init(|| super::OneThread::start("camera query", query)).run()?
    }

    fn query() -> Result<Vec<String>, String> {
        let cameras = nokhwa::query(nokhwa::utils::ApiBackend::MediaFoundation)
            .map_err(|e| format!("cameras could not be listed (Media Foundation): {e}"))?;
        Ok(super::unique(cameras.iter().map(|camera| camera.human_name())))
    }
}

#[cfg(not(any(target_os = "linux", windows)))]
mod camera {
    pub(super) fn list() -> Result<Vec<String>, String> {
        Err("camera listing is not built for this system".into())
    }
}

/// Video4Linux devices as the kernel lists them: `<dir>/video*/name`. A camera usually
/// has two nodes, the picture (`index` 0) and its metadata (`index` 1); only the first is
/// kept. A missing folder means no Video4Linux devices, which is not an error.
#[cfg(any(target_os = "linux", test))]
fn sysfs_cameras(dir: &std::path::Path) -> Result<Vec<String>, String> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(format!("cameras could not be listed ({}: {e})", dir.display())),
    };
    let mut nodes: Vec<(u32, String)> = entries
        .flatten()
        .filter_map(|entry| {
            let number = entry.file_name().to_str()?.strip_prefix("video")?.parse().ok()?;
            let read = |file: &str| std::fs::read_to_string(entry.path().join(file));
            let is_picture = read("index").map_or(true, |index| index.trim() == "0");
            let name = read("name").ok()?.trim().to_owned();
            (is_picture && !name.is_empty()).then_some((number, name))
        })
        .collect();
    nodes.sort();
    Ok(unique(nodes.into_iter().map(|(_, name)| name)))
}

/// Keeps the first of equal names, in order.
pub(crate) fn unique(names: impl IntoIterator<Item = String>) -> Vec<String> {
    let mut kept: Vec<String> = Vec::new();
    for name in names {
        if !kept.contains(&name) {
            kept.push(name);
        }
    }
    kept
}

/// Runs a job on one long-lived thread, for APIs bound to the thread that set them up.
#[cfg(any(windows, test))]
struct OneThread<T> {
    requests: std::sync::mpsc::Sender<std::sync::mpsc::Sender<T>>,
}

#[cfg(any(windows, test))]
impl<T: Send + 'static> OneThread<T> {
    fn start(name: &str, job: fn() -> T) -> Self {
        let (requests, inbox) = std::sync::mpsc::channel::<std::sync::mpsc::Sender<T>>();
        // If the thread cannot start, `inbox` is dropped and `run` reports it.
        let _ = std::thread::Builder::new().name(name.into()).spawn(move || {
            for reply in inbox {
                let _ = reply.send(job());
            }
        });
        OneThread { requests }
    }

    fn run(&self) -> Result<T, String> {
        let not_running = || "the device query thread is not running".to_string();
        let (reply, answer) = std::sync::mpsc::channel();
        self.requests.send(reply).map_err(|_| not_running())?;
        answer.recv().map_err(|_| not_running())
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

    fn fake_video_node(dir: &std::path::Path, node: &str, name: &str, index: Option<&str>) {
        let node = dir.join(node);
        std::fs::create_dir_all(&node).unwrap();
        std::fs::write(node.join("name"), format!("{name}\n")).unwrap();
        if let Some(index) = index {
            std::fs::write(node.join("index"), format!("{index}\n")).unwrap();
        }
    }

    #[test]
    fn sysfs_cameras_keeps_picture_nodes_in_device_order() {
        let dir = tempfile::tempdir().unwrap();
        fake_video_node(dir.path(), "video10", "USB Webcam", Some("0"));
        fake_video_node(dir.path(), "video0", "Integrated Camera: Integrated C", Some("0"));
        fake_video_node(dir.path(), "video1", "Integrated Camera: Integrated C", Some("1"));
        fake_video_node(dir.path(), "video2", "Old Driver Cam", None);
        fake_video_node(dir.path(), "video3", "   ", Some("0"));
        fake_video_node(dir.path(), "v4l-subdev0", "ov5640", Some("0"));
        std::fs::create_dir(dir.path().join("video4")).unwrap(); // no name file
        assert_eq!(
            sysfs_cameras(dir.path()).unwrap(),
            ["Integrated Camera: Integrated C", "Old Driver Cam", "USB Webcam"]
        );
    }

    #[test]
    fn sysfs_cameras_lists_two_equal_cameras_once() {
        let dir = tempfile::tempdir().unwrap();
        fake_video_node(dir.path(), "video0", "HD Webcam", Some("0"));
        fake_video_node(dir.path(), "video2", "HD Webcam", Some("0"));
        assert_eq!(sysfs_cameras(dir.path()).unwrap(), ["HD Webcam"]);
    }

    #[test]
    fn sysfs_cameras_without_the_folder_is_an_empty_list() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(sysfs_cameras(&dir.path().join("video4linux")), Ok(Vec::new()));
    }

    #[test]
    fn sysfs_cameras_on_an_unreadable_folder_says_why() {
        let file = tempfile::NamedTempFile::new().unwrap();
        let error = sysfs_cameras(file.path()).unwrap_err();
        assert!(error.starts_with("cameras could not be listed"), "{error}");
    }

    #[test]
    fn one_thread_runs_every_job_on_the_same_thread() {
        let worker = OneThread::start("test worker", || std::thread::current().id());
        let first = worker.run().unwrap();
        let from_elsewhere = std::thread::spawn(move || worker.run().unwrap()).join().unwrap();
        assert_eq!(first, from_elsewhere);
        assert_ne!(first, std::thread::current().id());
    }

    #[test]
    fn listing_cameras_here_never_panics() {
        match cameras() {
            Ok(names) => assert!(names.iter().all(|name| !name.trim().is_empty())),
            Err(reason) => assert!(!reason.is_empty()),
        }
    }
}
