//! Backups of the embedded SQLite database, and restoring one.
//!
//! A backup is itself a SQLite file: `VACUUM INTO` writes a consistent copy of the
//! database as of one read transaction (in WAL mode the server keeps writing while
//! it runs), and then the copy is stamped: `PRAGMA application_id` says it is a
//! Mocha backup, and a `mocha_backup` table names the Mocha version and the schema
//! (the highest migration) it holds. Files from the data folder that are not in the
//! database (keys, certificates) ride along in `mocha_backup_files`. Restoring checks
//! the stamp, that this build knows every migration the backup has (a backup from a
//! newer Mocha is refused, not half-understood), and SQLite's `integrity_check`,
//! before it replaces anything. PostgreSQL has its own tools (`pg_dump`).

use std::path::{Path, PathBuf};
use std::str::FromStr;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode};
use sqlx::{Connection, SqliteConnection};

/// `PRAGMA application_id` of a Mocha backup: "Moch" in ASCII.
pub const BACKUP_APPLICATION_ID: i32 = 0x4d6f_6368;
/// The layout of the stamp tables; a later layout bumps it.
const BACKUP_FORMAT: i64 = 1;

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("{0} already exists; choose a new file name (a backup never overwrites)")]
    Exists(PathBuf),
    #[error("there is no database at {0}")]
    NoDatabase(PathBuf),
    #[error("{0} is not a Mocha backup")]
    NotABackup(PathBuf),
    #[error(
        "{path} is from a newer Mocha (schema {backup}, this build knows up to {known}); restore it with that version or newer"
    )]
    NewerSchema { path: PathBuf, backup: i64, known: i64 },
    #[error("{path} is damaged: {detail}")]
    Damaged { path: PathBuf, detail: String },
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{path}: {source}")]
    Database { path: PathBuf, source: sqlx::Error },
}

/// What a backup holds, as its stamp says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BackupInfo {
    /// The Mocha version that wrote it.
    pub mocha_version: String,
    /// The highest migration applied to the database it copies.
    pub schema_version: i64,
    /// When it was taken (RFC 3339, UTC).
    pub created_at: String,
    /// Files from the data folder inside it, by path relative to the folder.
    pub files: Vec<String>,
}

/// A data-folder file carried in a backup.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BackupFile {
    /// Relative to the data folder, with `/` separators.
    pub path: String,
    pub contents: Vec<u8>,
}

/// The highest schema version this build can open.
pub fn known_schema_version() -> i64 {
    crate::store::sqlite::MIGRATOR.iter().map(|m| m.version).max().unwrap_or(0)
}

/// Writes a consistent copy of the SQLite database at `database` to `dest` (which must
/// not exist), owner-only, stamped, with `files` inside. Safe while the server runs.
pub async fn create(database: &Path, dest: &Path, files: &[BackupFile]) -> Result<BackupInfo, BackupError> {
    if !database.exists() {
        return Err(BackupError::NoDatabase(database.to_path_buf()));
    }
    // Written beside the destination and renamed into place: a half-written backup
    // never carries the final name.
    let partial = with_suffix(dest, ".partial");
    if dest.exists() {
        return Err(BackupError::Exists(dest.to_path_buf()));
    }
    let _ = std::fs::remove_file(&partial);
    // VACUUM INTO accepts an empty file: make it owner-only before any data is in it.
    create_private(&partial)?;
    let result = write_backup(database, &partial, files).await;
    match result {
        Ok(info) => {
            // `rename` would replace a file made meanwhile; a hard link refuses to.
            let linked = match std::fs::hard_link(&partial, dest) {
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    Err(BackupError::Exists(dest.to_path_buf()))
                }
                // A filesystem without hard links: the check above has to do.
                Err(_) => std::fs::rename(&partial, dest)
                    .map_err(|source| BackupError::Io { path: dest.to_path_buf(), source }),
                Ok(()) => Ok(()),
            };
            let _ = std::fs::remove_file(&partial);
            linked.map(|()| info)
        }
        Err(e) => {
            let _ = std::fs::remove_file(&partial);
            Err(e)
        }
    }
}

async fn write_backup(
    database: &Path,
    partial: &Path,
    files: &[BackupFile],
) -> Result<BackupInfo, BackupError> {
    let db_error = |source| BackupError::Database { path: database.to_path_buf(), source };
    let mut source = connect(database, Open::Live).await.map_err(db_error)?;
    sqlx::query("VACUUM INTO ?")
        .bind(partial.to_string_lossy().into_owned())
        .execute(&mut source)
        .await
        .map_err(db_error)?;
    source.close().await.map_err(db_error)?;

    let out_error = |source| BackupError::Database { path: partial.to_path_buf(), source };
    let mut out = connect(partial, Open::Own).await.map_err(out_error)?;
    let schema_version = schema_version(&mut out).await.map_err(out_error)?;
    let created_at = time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    let mocha_version = env!("CARGO_PKG_VERSION").to_string();
    let mut tx = out.begin().await.map_err(out_error)?;
    sqlx::raw_sql(
        "CREATE TABLE mocha_backup (format INTEGER NOT NULL, mocha_version TEXT NOT NULL, \
           schema_version INTEGER NOT NULL, created_at TEXT NOT NULL);
         CREATE TABLE mocha_backup_files (path TEXT PRIMARY KEY, contents BLOB NOT NULL);",
    )
    .execute(&mut *tx)
    .await
    .map_err(out_error)?;
    sqlx::query("INSERT INTO mocha_backup VALUES (?, ?, ?, ?)")
        .bind(BACKUP_FORMAT)
        .bind(&mocha_version)
        .bind(schema_version)
        .bind(&created_at)
        .execute(&mut *tx)
        .await
        .map_err(out_error)?;
    for file in files {
        sqlx::query("INSERT INTO mocha_backup_files VALUES (?, ?)")
            .bind(&file.path)
            .bind(&file.contents)
            .execute(&mut *tx)
            .await
            .map_err(out_error)?;
    }
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("PRAGMA application_id = {BACKUP_APPLICATION_ID}")))
        .execute(&mut *tx)
        .await
        .map_err(out_error)?;
    tx.commit().await.map_err(out_error)?;
    out.close().await.map_err(out_error)?;
    // On disk before the name says it is done.
    std::fs::File::open(partial)
        .and_then(|f| f.sync_all())
        .map_err(|source| BackupError::Io { path: partial.to_path_buf(), source })?;
    Ok(BackupInfo {
        mocha_version,
        schema_version,
        created_at,
        files: files.iter().map(|f| f.path.clone()).collect(),
    })
}

/// Checks that `backup` is a whole Mocha backup this build can use, without changing it.
pub async fn inspect(backup: &Path) -> Result<BackupInfo, BackupError> {
    let mut conn = open_backup(backup).await?;
    let info = read_stamp(&mut conn, backup).await;
    let _ = conn.close().await;
    info
}

/// Replaces the SQLite database at `database` with the one in `backup` (the server
/// must be stopped) and gives back the files the backup carries, for the caller to
/// put in place. Nothing is replaced unless the backup passed every check.
pub async fn restore(backup: &Path, database: &Path) -> Result<(BackupInfo, Vec<BackupFile>), BackupError> {
    // A foreign file is refused before anything is copied.
    open_backup(backup)
        .await?
        .close()
        .await
        .map_err(|source| BackupError::Database { path: backup.to_path_buf(), source })?;
    let staged = with_suffix(database, ".restoring");
    let _ = std::fs::remove_file(&staged);
    let result = stage(backup, &staged).await;
    let (info, files) = match result {
        Ok(staged_backup) => staged_backup,
        Err(e) => {
            let _ = std::fs::remove_file(&staged);
            return Err(e);
        }
    };
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source: std::io::Error| BackupError::Io { path, source }
    };
    // The old database's write-ahead log must not be replayed onto the new file.
    for suffix in ["-wal", "-shm", "-journal"] {
        let old = with_suffix(database, suffix);
        match std::fs::remove_file(&old) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(io(&old)(e)),
            _ => {}
        }
    }
    std::fs::rename(&staged, database).map_err(io(database))?;
    Ok((info, files))
}

/// Copies `backup` to `staged`, checks the copy whole, takes its files out and makes
/// it a plain database again.
async fn stage(backup: &Path, staged: &Path) -> Result<(BackupInfo, Vec<BackupFile>), BackupError> {
    let io = |source| BackupError::Io { path: staged.to_path_buf(), source };
    create_private(staged)?;
    std::fs::copy(backup, staged).map_err(io)?;
    let db_error = |source| BackupError::Database { path: staged.to_path_buf(), source };
    let mut conn = connect(staged, Open::Own).await.map_err(db_error)?;
    let info = read_stamp(&mut conn, backup).await?;
    let files: Vec<(String, Vec<u8>)> = sqlx::query_as("SELECT path, contents FROM mocha_backup_files")
        .fetch_all(&mut conn)
        .await
        .map_err(db_error)?;
    // The restored database is a plain Mocha database again: no stamp tables.
    sqlx::raw_sql(
        "DROP TABLE mocha_backup; DROP TABLE mocha_backup_files; PRAGMA application_id = 0; VACUUM;",
    )
    .execute(&mut conn)
    .await
    .map_err(db_error)?;
    conn.close().await.map_err(db_error)?;
    std::fs::File::open(staged).and_then(|f| f.sync_all()).map_err(io)?;
    let files = files.into_iter().map(|(path, contents)| BackupFile { path, contents }).collect();
    Ok((info, files))
}

/// Opens `backup` read-only, or says it is not a backup (not SQLite, or not stamped).
async fn open_backup(backup: &Path) -> Result<SqliteConnection, BackupError> {
    if !backup.is_file() {
        return Err(BackupError::Io {
            path: backup.to_path_buf(),
            source: std::io::Error::from(std::io::ErrorKind::NotFound),
        });
    }
    let mut conn =
        connect(backup, Open::ReadOnly).await.map_err(|_| BackupError::NotABackup(backup.to_path_buf()))?;
    // A file that is not SQLite opens; the first read fails.
    let id: i32 = sqlx::query_scalar("PRAGMA application_id")
        .fetch_one(&mut conn)
        .await
        .map_err(|_| BackupError::NotABackup(backup.to_path_buf()))?;
    if id != BACKUP_APPLICATION_ID {
        return Err(BackupError::NotABackup(backup.to_path_buf()));
    }
    Ok(conn)
}

async fn read_stamp(conn: &mut SqliteConnection, backup: &Path) -> Result<BackupInfo, BackupError> {
    let not_a_backup = |_| BackupError::NotABackup(backup.to_path_buf());
    let damaged = |detail: String| BackupError::Damaged { path: backup.to_path_buf(), detail };
    let (format, mocha_version, schema_version, created_at): (i64, String, i64, String) =
        sqlx::query_as("SELECT format, mocha_version, schema_version, created_at FROM mocha_backup")
            .fetch_one(&mut *conn)
            .await
            .map_err(not_a_backup)?;
    let known = known_schema_version();
    if format > BACKUP_FORMAT || schema_version > known {
        return Err(BackupError::NewerSchema { path: backup.to_path_buf(), backup: schema_version, known });
    }
    // Each migration the backup has must be one this build has, byte for byte.
    let applied: Vec<(i64, Vec<u8>)> = sqlx::query_as("SELECT version, checksum FROM _sqlx_migrations")
        .fetch_all(&mut *conn)
        .await
        .map_err(|e| damaged(format!("no migration history ({e})")))?;
    for (version, checksum) in &applied {
        match crate::store::sqlite::MIGRATOR.iter().find(|m| m.version == *version) {
            None => {
                return Err(BackupError::NewerSchema { path: backup.to_path_buf(), backup: *version, known });
            }
            Some(m) if m.checksum.as_ref() != checksum.as_slice() => {
                return Err(damaged(format!("migration {version} differs from this build's")));
            }
            Some(_) => {}
        }
    }
    let check: Vec<String> = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_all(&mut *conn)
        .await
        .map_err(|e| damaged(e.to_string()))?;
    if check != ["ok"] {
        return Err(damaged(check.join("; ")));
    }
    let files: Vec<String> = sqlx::query_scalar("SELECT path FROM mocha_backup_files ORDER BY path")
        .fetch_all(&mut *conn)
        .await
        .map_err(not_a_backup)?;
    Ok(BackupInfo { mocha_version, schema_version, created_at, files })
}

async fn schema_version(conn: &mut SqliteConnection) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT COALESCE(MAX(version), 0) FROM _sqlx_migrations WHERE success")
        .fetch_one(conn)
        .await
}

/// How a file is opened.
#[derive(Clone, Copy, PartialEq)]
enum Open {
    /// The server's database: read beside the running server, in its own (WAL) mode.
    Live,
    /// A backup being checked: never written.
    ReadOnly,
    /// A file this module writes (a backup, a staged restore): one self-contained
    /// file in rollback-journal mode, with no `-wal` beside it.
    Own,
}

async fn connect(path: &Path, open: Open) -> Result<SqliteConnection, sqlx::Error> {
    let options = SqliteConnectOptions::from_str(&format!("sqlite://{}", path.display()))?
        .busy_timeout(std::time::Duration::from_secs(30))
        .read_only(open == Open::ReadOnly);
    let options = match open {
        Open::Own => options.journal_mode(SqliteJournalMode::Delete),
        Open::Live | Open::ReadOnly => options,
    };
    SqliteConnection::connect_with(&options).await
}

fn create_private(path: &Path) -> Result<(), BackupError> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path).map(drop).map_err(|source| match source.kind() {
        std::io::ErrorKind::AlreadyExists => BackupError::Exists(path.to_path_buf()),
        _ => BackupError::Io { path: path.to_path_buf(), source },
    })
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}
