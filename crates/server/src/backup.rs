//! `mocha-server backup FILE` and `mocha-server restore FILE`: the SQLite database
//! (copied consistently while the server runs) with the data folder's keys and
//! certificates, in one owner-only file. See docs/operations.md.

use std::path::{Component, Path, PathBuf};

use mocha_passport::DatabaseUrl;
use mocha_passport::backup::{BackupError, BackupFile, BackupInfo};

use crate::files::{self, LockError};

#[derive(Debug, thiserror::Error)]
pub enum BackupCommandError {
    #[error(
        "the database is on PostgreSQL: back it up with pg_dump (and restore with pg_restore), and copy the data folder's keys/ and tls/ yourself; see docs/operations.md"
    )]
    Postgres,
    #[error(transparent)]
    Backup(#[from] BackupError),
    #[error(transparent)]
    Locked(#[from] LockError),
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("the backup holds a file outside keys/ and tls/ ({0}); refusing to restore it")]
    UnsafePath(String),
}

/// Folders of the data folder a backup carries besides the database: the signing keys
/// (the release key is pinned by every client) and the TLS certificates (clients trust
/// the development CA). Published builds (`downloads/`) and `updates.json` are not in
/// it: they can be published again.
const CARRIED: [&str; 2] = ["keys", "tls"];

/// Backs up the data folder's database (and keys and certificates) to `dest`.
pub async fn backup(
    data_dir: &Path,
    database: &DatabaseUrl,
    dest: &Path,
) -> Result<BackupInfo, BackupCommandError> {
    let Some(db) = database.sqlite_path() else { return Err(BackupCommandError::Postgres) };
    let carried = carried_files(data_dir)?;
    Ok(mocha_passport::backup::create(db, dest, &carried).await?)
}

/// Restores `backup` into the data folder, which no server may be running on.
pub async fn restore(
    data_dir: &Path,
    database: &DatabaseUrl,
    backup: &Path,
) -> Result<BackupInfo, BackupCommandError> {
    let Some(db) = database.sqlite_path() else { return Err(BackupCommandError::Postgres) };
    // Checked before anything changes, so a refused file leaves the folder as it was.
    let info = mocha_passport::backup::inspect(backup).await?;
    for path in &info.files {
        safe_relative(path)?;
    }
    files::private_dir(data_dir)
        .map_err(|source| BackupCommandError::Io { path: data_dir.to_path_buf(), source })?;
    let _lock = files::lock_data_dir(data_dir)?;
    if let Some(parent) = db.parent() {
        files::private_dir(parent)
            .map_err(|source| BackupCommandError::Io { path: parent.into(), source })?;
    }
    let (info, carried) = mocha_passport::backup::restore(backup, db).await?;
    for file in carried {
        let path = data_dir.join(safe_relative(&file.path)?);
        if let Some(parent) = path.parent() {
            files::private_dir(parent)
                .map_err(|source| BackupCommandError::Io { path: parent.into(), source })?;
        }
        write_private(&path, &file.contents)?;
    }
    Ok(info)
}

/// `path` from a backup, if it names a file under one of the carried folders.
fn safe_relative(path: &str) -> Result<PathBuf, BackupCommandError> {
    let relative = PathBuf::from(path);
    let mut parts = relative.components();
    let top_ok = matches!(parts.next(), Some(Component::Normal(top)) if CARRIED.iter().any(|c| top == *c));
    let rest_ok = parts.all(|part| matches!(part, Component::Normal(_)));
    if !top_ok || !rest_ok || relative.components().count() < 2 {
        return Err(BackupCommandError::UnsafePath(path.to_string()));
    }
    Ok(relative)
}

/// Every regular file under the carried folders, by path relative to the data folder.
fn carried_files(data_dir: &Path) -> Result<Vec<BackupFile>, BackupCommandError> {
    let mut found = Vec::new();
    let mut pending: Vec<PathBuf> = CARRIED.iter().map(|c| data_dir.join(c)).collect();
    while let Some(dir) = pending.pop() {
        let entries = match std::fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(source) => return Err(BackupCommandError::Io { path: dir, source }),
        };
        for entry in entries {
            let entry = entry.map_err(|source| BackupCommandError::Io { path: dir.clone(), source })?;
            let path = entry.path();
            let kind =
                entry.file_type().map_err(|source| BackupCommandError::Io { path: path.clone(), source })?;
            if kind.is_dir() {
                pending.push(path);
            } else if kind.is_file() {
                let contents = std::fs::read(&path)
                    .map_err(|source| BackupCommandError::Io { path: path.clone(), source })?;
                let relative = path.strip_prefix(data_dir).unwrap_or(&path);
                let name = relative.components().map(|c| c.as_os_str().to_string_lossy()).collect::<Vec<_>>();
                found.push(BackupFile { path: name.join("/"), contents });
            }
        }
    }
    found.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(found)
}

/// Writes `contents` owner-only, through a temporary name so a crash leaves the old file.
fn write_private(path: &Path, contents: &[u8]) -> Result<(), BackupCommandError> {
    use std::io::Write;
    let io = |source| BackupCommandError::Io { path: path.to_path_buf(), source };
    let mut temporary = path.as_os_str().to_owned();
    temporary.push(".restoring");
    let temporary = PathBuf::from(temporary);
    let _ = std::fs::remove_file(&temporary);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(&temporary).map_err(io)?;
    file.write_all(contents).and_then(|()| file.sync_all()).map_err(io)?;
    std::fs::rename(&temporary, path).map_err(io)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_backup_may_only_put_files_under_keys_and_tls() {
        for good in ["keys/passport-ed25519.seed", "tls/ca.pem"] {
            assert!(safe_relative(good).is_ok(), "{good}");
        }
        for bad in ["../etc/passwd", "/etc/passwd", "keys/../../x", "mocha.db", "keys", "downloads/x", ""] {
            assert!(safe_relative(bad).is_err(), "{bad}");
        }
    }
}
