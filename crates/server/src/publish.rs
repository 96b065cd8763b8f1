//! `mocha-server publish`: puts a client build into the data folder's `downloads/`,
//! signs what it is with the server's release key (Ed25519, made on first use, owner-
//! only like the other keys) and rewrites `updates.json`, which the running server
//! re-reads on every update check — so publishing needs no restart.

use std::collections::BTreeMap;
use std::fs;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use mocha_api::{Build, BuildFile};
use mocha_auth::{KeyError, ReleaseFacts, Sha256, SigningKey, sign_release};
use mocha_passport::{CHANNELS, PLATFORMS, UpdateManifest};

use crate::layout;

/// The largest build accepted (a desktop client is tens of MiB).
const MAX_BUILD_BYTES: u64 = 1024 * 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error("there is no channel {0:?}: use stable, beta or dev")]
    UnknownChannel(String),
    #[error("there is no platform {0:?}: use linux-x86_64 or windows-x86_64")]
    UnknownPlatform(String),
    #[error("{0:?} is not a version like 1.2.3")]
    BadVersion(String),
    #[error(
        "{channel} already has {current} for {platform}; {version} is not newer (use --force to publish it anyway)"
    )]
    NotNewer { channel: String, platform: String, current: String, version: String },
    #[error("{path} does not look like a {platform} program ({expected}); nothing was published")]
    NotExecutable { path: PathBuf, platform: String, expected: &'static str },
    #[error("{path} is empty or bigger than 1 GiB; nothing was published")]
    BadSize { path: PathBuf },
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: io::Error },
    #[error("the data folder {path} is read-only; nothing was published")]
    ReadOnly { path: PathBuf },
    #[error("the disk holding {path} is full; nothing was published")]
    DiskFull { path: PathBuf },
    #[error("cannot write {path}: {source}")]
    Write { path: PathBuf, source: io::Error },
    #[error("{path} is not a valid update manifest ({detail}); fix or remove it first")]
    Manifest { path: PathBuf, detail: String },
    #[error("the release key: {0}")]
    Key(#[from] KeyError),
    #[error("nothing is published for {platform} on {channel}")]
    NotPublished { channel: String, platform: String },
}

/// What to publish.
#[derive(Clone, Debug)]
pub struct Release {
    pub channel: String,
    pub platform: String,
    pub version: String,
    pub notes: String,
    /// Publish even when the version is not newer than the channel's.
    pub force: bool,
    pub file: PathBuf,
}

impl Release {
    /// A build of `file` for `platform` on `channel`, without notes, not forced.
    pub fn new(channel: &str, platform: &str, version: &str, file: impl Into<PathBuf>) -> Self {
        Self {
            channel: channel.into(),
            platform: platform.into(),
            version: version.into(),
            notes: String::new(),
            force: false,
            file: file.into(),
        }
    }

    pub fn with_notes(mut self, notes: &str) -> Self {
        self.notes = notes.into();
        self
    }
}

/// A write error in the data folder, named for what the operator can do about it.
fn write_error(path: &Path, source: io::Error) -> PublishError {
    match source.kind() {
        io::ErrorKind::ReadOnlyFilesystem | io::ErrorKind::PermissionDenied => {
            PublishError::ReadOnly { path: path.to_path_buf() }
        }
        io::ErrorKind::StorageFull | io::ErrorKind::QuotaExceeded => {
            PublishError::DiskFull { path: path.to_path_buf() }
        }
        _ => PublishError::Write { path: path.to_path_buf(), source },
    }
}

fn key_error(error: KeyError, data_dir: &Path) -> PublishError {
    match error {
        KeyError::Io { source, .. } => write_error(data_dir, source),
        other => PublishError::Key(other),
    }
}

/// The file name a build is published under.
pub fn file_name(version: &str, platform: &str) -> String {
    let extension = if platform.starts_with("windows") { ".exe" } else { "" };
    format!("mocha-messenger-{version}-{platform}{extension}")
}

/// Where a published file lives in the data folder.
pub fn stored_path(data_dir: &Path, channel: &str, platform: &str, file_name: &str) -> PathBuf {
    layout::downloads_dir(data_dir).join(channel).join(platform).join(file_name)
}

pub fn read_manifest(data_dir: &Path) -> Result<UpdateManifest, PublishError> {
    let path = layout::updates_manifest(data_dir);
    match fs::read(&path) {
        Ok(text) => serde_json::from_slice(&text)
            .map_err(|e| PublishError::Manifest { path: path.clone(), detail: e.to_string() }),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(UpdateManifest::default()),
        Err(source) => Err(PublishError::Read { path, source }),
    }
}

/// Copies, signs and records `release`; returns what clients will be offered.
pub fn publish(data_dir: &Path, release: &Release) -> Result<BuildFile, PublishError> {
    let Release { channel, platform, version, .. } = release;
    if !CHANNELS.contains(&channel.as_str()) {
        return Err(PublishError::UnknownChannel(channel.clone()));
    }
    if !PLATFORMS.contains(&platform.as_str()) {
        return Err(PublishError::UnknownPlatform(platform.clone()));
    }
    let parsed =
        semver::Version::parse(version.trim()).map_err(|_| PublishError::BadVersion(version.clone()))?;
    let version = parsed.to_string();
    let mut manifest = read_manifest(data_dir)?;
    if let Some(current) = manifest.file(channel, platform)
        && !release.force
        && semver::Version::parse(&current.version).is_ok_and(|current| current >= parsed)
    {
        return Err(PublishError::NotNewer {
            channel: channel.clone(),
            platform: platform.clone(),
            current: current.version.clone(),
            version,
        });
    }
    check_executable(&release.file, platform)?;

    let key =
        SigningKey::load_or_create(&layout::release_key(data_dir)).map_err(|e| key_error(e, data_dir))?;
    let name = file_name(&version, platform);
    let target = stored_path(data_dir, channel, platform, &name);
    let (sha256, size) = copy_in(&release.file, &target)?;
    let facts =
        ReleaseFacts { channel, platform, version: &version, file_name: &name, size, sha256: &sha256 };
    let signature = sign_release(&key, &facts);
    let file = BuildFile {
        version: version.clone(),
        notes: release.notes.clone(),
        file_name: name.clone(),
        size,
        sha256,
        signature,
        url: format!("/download/{channel}/{platform}/{name}"),
    };
    let replaced = manifest
        .channels
        .entry(channel.clone())
        .or_insert_with(|| Build {
            version: version.clone(),
            notes: String::new(),
            download_url: "/download".into(),
            files: BTreeMap::new(),
        })
        .files
        .insert(platform.clone(), file.clone());
    summarise(&mut manifest, channel);
    manifest.release_key = Some(key.verifying_key().to_base64url());
    write_manifest(data_dir, &manifest)?;
    if let Some(old) = replaced.filter(|old| old.file_name != name) {
        let _ = fs::remove_file(stored_path(data_dir, channel, platform, &old.file_name));
    }
    Ok(file)
}

/// Takes a platform's build off a channel and deletes its file.
pub fn remove(data_dir: &Path, channel: &str, platform: &str) -> Result<BuildFile, PublishError> {
    let mut manifest = read_manifest(data_dir)?;
    let not_published = || PublishError::NotPublished { channel: channel.into(), platform: platform.into() };
    let removed = manifest
        .channels
        .get_mut(channel)
        .and_then(|build| build.files.remove(platform))
        .ok_or_else(not_published)?;
    summarise(&mut manifest, channel);
    write_manifest(data_dir, &manifest)?;
    let path = stored_path(data_dir, channel, platform, &removed.file_name);
    match fs::remove_file(&path) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(write_error(&path, e)),
    }
    Ok(removed)
}

/// Every published file: (channel, platform, file).
pub fn list(data_dir: &Path) -> Result<Vec<(String, String, BuildFile)>, PublishError> {
    let manifest = read_manifest(data_dir)?;
    Ok(manifest
        .channels
        .into_iter()
        .flat_map(|(channel, build)| {
            build.files.into_iter().map(move |(platform, file)| (channel.clone(), platform, file))
        })
        .collect())
}

/// The channel's own version and notes follow its newest file (what clients that do
/// not name their platform are told).
fn summarise(manifest: &mut UpdateManifest, channel: &str) {
    let Some(build) = manifest.channels.get_mut(channel) else { return };
    let newest = build
        .files
        .values()
        .filter_map(|file| semver::Version::parse(&file.version).ok().map(|v| (v, file)))
        .max_by(|a, b| a.0.cmp(&b.0))
        .map(|(_, file)| file.clone());
    if let Some(newest) = newest {
        build.version = newest.version;
        build.notes = newest.notes;
        build.download_url = "/download".into();
    }
}

/// ELF for Linux, a PE (`MZ`) for Windows: a typo'd path or a text file is refused.
fn check_executable(path: &Path, platform: &str) -> Result<(), PublishError> {
    let read = |source| PublishError::Read { path: path.to_path_buf(), source };
    let metadata = fs::metadata(path).map_err(read)?;
    if !metadata.is_file() || metadata.len() == 0 || metadata.len() > MAX_BUILD_BYTES {
        return Err(PublishError::BadSize { path: path.to_path_buf() });
    }
    let mut magic = [0u8; 4];
    let got = fs::File::open(path).and_then(|mut f| f.read(&mut magic)).map_err(read)?;
    let (wanted, expected): (&[u8], _) = if platform.starts_with("windows") {
        (b"MZ", "a Windows .exe starts with MZ")
    } else {
        (b"\x7fELF", "a Linux program is an ELF file")
    };
    if got < wanted.len() || &magic[..wanted.len()] != wanted {
        return Err(PublishError::NotExecutable {
            path: path.to_path_buf(),
            platform: platform.into(),
            expected,
        });
    }
    Ok(())
}

/// Copies `from` to `to` through a temporary file (owner-only) renamed into place,
/// hashing as it goes.
fn copy_in(from: &Path, to: &Path) -> Result<(String, u64), PublishError> {
    let dir = to.parent().expect("stored paths have a folder");
    create_private_dir(dir)?;
    let temporary =
        dir.join(format!(".{}.partial", to.file_name().and_then(|n| n.to_str()).unwrap_or("build")));
    let mut source =
        fs::File::open(from).map_err(|source| PublishError::Read { path: from.into(), source })?;
    let mut out = private_file(&temporary)?;
    let mut hash = Sha256::default();
    let mut buffer = vec![0u8; 64 * 1024];
    let mut size = 0u64;
    let copied = (|| -> Result<(), PublishError> {
        loop {
            let read = source
                .read(&mut buffer)
                .map_err(|source| PublishError::Read { path: from.into(), source })?;
            if read == 0 {
                break;
            }
            hash.update(&buffer[..read]);
            size += read as u64;
            out.write_all(&buffer[..read]).map_err(|e| write_error(&temporary, e))?;
        }
        out.sync_all().map_err(|e| write_error(&temporary, e))?;
        fs::rename(&temporary, to).map_err(|e| write_error(to, e))
    })();
    if let Err(e) = copied {
        let _ = fs::remove_file(&temporary);
        return Err(e);
    }
    Ok((hash.finish(), size))
}

fn write_manifest(data_dir: &Path, manifest: &UpdateManifest) -> Result<(), PublishError> {
    let path = layout::updates_manifest(data_dir);
    let temporary = data_dir.join(".updates.json.partial");
    let text = serde_json::to_vec_pretty(manifest).expect("the manifest always serialises");
    let written = private_file(&temporary).and_then(|mut file| {
        file.write_all(&text).and_then(|()| file.sync_all()).map_err(|e| write_error(&temporary, e))
    });
    let renamed = written.and_then(|()| fs::rename(&temporary, &path).map_err(|e| write_error(&path, e)));
    if renamed.is_err() {
        let _ = fs::remove_file(&temporary);
    }
    renamed
}

fn create_private_dir(dir: &Path) -> Result<(), PublishError> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir).map_err(|e| write_error(dir, e))
}

fn private_file(path: &Path) -> Result<fs::File, PublishError> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path).map_err(|e| write_error(path, e))
}
