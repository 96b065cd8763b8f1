//! What the server asks of the operating system's files: owner-only modes for
//! everything it creates in the data folder (it holds the database, keys and
//! certificates), and as many open files as the system allows (every connection is one).

use std::fs;
use std::io;
use std::path::Path;

/// Creates `path` (and its parents) if needed and makes it owner-only (0700).
pub(crate) fn private_dir(path: &Path) -> io::Result<()> {
    if !path.exists() {
        fs::create_dir_all(path)?;
        return set_mode(path, 0o700);
    }
    // A folder the operator made: tighten it, but a folder we may not change (owned
    // by someone else, a read-only mount) is theirs to decide.
    if let Err(error) = set_mode(path, 0o700) {
        tracing::warn!(path = %path.display(), %error, "cannot make the folder owner-only");
    }
    Ok(())
}

/// Makes an existing file owner-only (0600).
pub(crate) fn owner_only(path: &Path) -> io::Result<()> {
    set_mode(path, 0o600)
}

/// Makes sure the database and its `-wal`/`-shm` files are owner-only: SQLite
/// creates a new database with the process's umask (usually world-readable) but gives
/// the WAL and shared-memory files the database file's own mode, so an owner-only
/// database file made before SQLite opens it keeps all three private. Files from an
/// older data folder are tightened.
pub(crate) fn private_database(database: &Path) -> io::Result<()> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(database) {
        Ok(_) => {}
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => owner_only(database)?,
        Err(e) => return Err(e),
    }
    for suffix in ["-wal", "-shm", "-journal"] {
        let mut name = database.as_os_str().to_owned();
        name.push(suffix);
        match owner_only(Path::new(&name)) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            other => other?,
        }
    }
    Ok(())
}

#[cfg(unix)]
fn set_mode(path: &Path, mode: u32) -> io::Result<()> {
    fs::set_permissions(path, std::os::unix::fs::PermissionsExt::from_mode(mode))
}

#[cfg(not(unix))]
fn set_mode(_path: &Path, _mode: u32) -> io::Result<()> {
    Ok(())
}

/// The soft open-file limit before and after [`raise_open_file_limit`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OpenFileLimit {
    pub before: u64,
    pub now: u64,
}

/// Raises this process's soft open-file limit to its hard limit (the most an
/// unprivileged process may take). Many systems start programs with a soft limit of
/// 1,024 and a far higher hard one, and a server with 1,024 files runs out at about
/// a thousand connections. Where there is no such limit, both numbers are 0.
pub fn raise_open_file_limit() -> io::Result<OpenFileLimit> {
    #[cfg(unix)]
    {
        let (before, _hard) = rlimit::Resource::NOFILE.get()?;
        let now = rlimit::increase_nofile_limit(u64::MAX)?;
        Ok(OpenFileLimit { before, now })
    }
    #[cfg(not(unix))]
    {
        Ok(OpenFileLimit { before: 0, now: 0 })
    }
}

/// The lock file a running server holds in its data folder, so that `restore` (and a
/// second server) can tell the folder is in use.
pub const LOCK_FILE: &str = "mocha.lock";

/// Held while something owns the data folder; the lock goes with the process, even
/// on `kill -9`.
#[derive(Debug)]
pub struct DataDirLock {
    _file: fs::File,
}

#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error("a Mocha server is running on the data folder {0} (it holds mocha.lock); stop it first")]
    InUse(std::path::PathBuf),
    #[error("cannot lock {path}: {source}")]
    Io { path: std::path::PathBuf, source: io::Error },
}

/// Takes the data folder's lock, or says who has it.
pub fn lock_data_dir(data_dir: &Path) -> Result<DataDirLock, LockError> {
    let path = data_dir.join(LOCK_FILE);
    let mut options = fs::OpenOptions::new();
    options.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let file = options.open(&path).map_err(|source| LockError::Io { path: path.clone(), source })?;
    match file.try_lock() {
        Ok(()) => Ok(DataDirLock { _file: file }),
        Err(fs::TryLockError::WouldBlock) => Err(LockError::InUse(data_dir.to_path_buf())),
        Err(fs::TryLockError::Error(source)) => Err(LockError::Io { path, source }),
    }
}
