//! Updating the client: ask the channel for a build for this platform, download it in
//! the background with progress, and trust it only once its size, SHA-256 and the
//! release signature check out against the server's release key — pinned the first
//! time it is seen, so a server (or anyone between) that later offers a build signed
//! by another key is refused. A build that fails any check is deleted.
//!
//! Installing replaces the program file atomically: the verified build is written
//! next to the target and renamed over it (on Linux a running program can be replaced
//! this way; on Windows the running `.exe` is first renamed aside to `NAME.old.exe`,
//! which Windows allows, and that file is removed by the next update — written, not
//! compiled or run on this project's machines, which cannot build for Windows).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use mocha_api::{BuildFile, UpdateCheck};
use mocha_auth::{ReleaseFacts, Sha256, VerifyingKey};

use crate::{ClientError, PassportClient};

/// The platform name builds are published under, for the machine this runs on.
pub const PLATFORM: Option<&str> = if cfg!(all(target_os = "linux", target_arch = "x86_64")) {
    Some("linux-x86_64")
} else if cfg!(all(target_os = "windows", target_arch = "x86_64")) {
    Some("windows-x86_64")
} else {
    None
};

/// The longest a whole download may take.
const DOWNLOAD_TIMEOUT: Duration = Duration::from_secs(3600);
/// The largest build accepted, whatever the manifest says.
const MAX_BUILD_BYTES: u64 = 1024 * 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum UpdateError {
    #[error("no builds are published for this kind of computer")]
    NoPlatform,
    #[error(transparent)]
    Passport(#[from] ClientError),
    #[error("the server offers a build but no release key to check it with")]
    NoReleaseKey,
    #[error(
        "the server's release key has changed (remembered {pinned}, offered {offered}); the update was refused — if the server's operator made a new key on purpose, forget the remembered one"
    )]
    KeyChanged { pinned: String, offered: String },
    #[error("the download failed: {0}")]
    Download(String),
    #[error("the download was cut short ({got} of {expected} bytes) and was deleted")]
    Truncated { expected: u64, got: u64 },
    #[error("the download is larger than announced ({expected} bytes) and was deleted")]
    TooLarge { expected: u64 },
    #[error(
        "the download does not match its SHA-256 (it was changed on the way or on the server) and was deleted"
    )]
    HashMismatch,
    #[error("the build is not signed by the server's release key and was deleted")]
    BadSignature,
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> UpdateError + '_ {
    move |source| UpdateError::Io { path: path.to_path_buf(), source }
}

/// An update that is on offer: the build and the key it must be signed with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Offer {
    pub channel: String,
    pub platform: String,
    pub file: BuildFile,
    /// The release key to check with (base64url): the pinned one.
    pub release_key: String,
}

/// Asks `channel` for a build newer than `version` for this platform. `pinned` is the
/// release key remembered from earlier (None the first time: the key offered now is
/// the one to remember — [`Offer::release_key`]).
pub async fn check(
    passport: &PassportClient,
    channel: &str,
    version: &str,
    pinned: Option<&str>,
) -> Result<(UpdateCheck, Option<Offer>), UpdateError> {
    let platform = PLATFORM.ok_or(UpdateError::NoPlatform)?;
    let answer = passport.check_for_update_on(channel, version, platform).await?;
    let file = answer.latest.as_ref().and_then(|build| build.files.get(platform)).cloned();
    let Some(file) = file.filter(|_| answer.update_available) else { return Ok((answer, None)) };
    let offered = answer.release_key.clone().ok_or(UpdateError::NoReleaseKey)?;
    if let Some(pinned) = pinned
        && pinned != offered
    {
        return Err(UpdateError::KeyChanged { pinned: pinned.to_string(), offered });
    }
    let offer =
        Offer { channel: channel.to_string(), platform: platform.to_string(), file, release_key: offered };
    Ok((answer, Some(offer)))
}

/// Downloads the offer into `dir`, calling `progress(done, total)` as bytes arrive, and
/// returns the verified file's path. Anything that fails a check is deleted.
pub async fn download(
    passport: &PassportClient,
    offer: &Offer,
    dir: &Path,
    mut progress: impl FnMut(u64, u64),
) -> Result<PathBuf, UpdateError> {
    let expected = offer.file.size;
    if expected > MAX_BUILD_BYTES {
        return Err(UpdateError::TooLarge { expected });
    }
    let key = VerifyingKey::from_base64url(&offer.release_key).ok_or(UpdateError::BadSignature)?;
    // Only the file name the signature covers, and never a path from the server.
    let name = Path::new(&offer.file.file_name)
        .file_name()
        .filter(|name| name.to_str() == Some(offer.file.file_name.as_str()))
        .ok_or(UpdateError::BadSignature)?;
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let target = dir.join(name);
    let partial = dir.join(format!(".{}.partial", offer.file.file_name));
    let result = fetch(passport, offer, &partial, &mut progress).await.and_then(|(got, sha256)| {
        if got < expected {
            return Err(UpdateError::Truncated { expected, got });
        }
        if sha256 != offer.file.sha256 {
            return Err(UpdateError::HashMismatch);
        }
        let facts = ReleaseFacts {
            channel: &offer.channel,
            platform: &offer.platform,
            version: &offer.file.version,
            file_name: &offer.file.file_name,
            size: expected,
            sha256: &sha256,
        };
        if !facts.verify(&key, &offer.file.signature) {
            return Err(UpdateError::BadSignature);
        }
        std::fs::rename(&partial, &target).map_err(io(&target))
    });
    match result {
        Ok(()) => Ok(target),
        Err(error) => {
            let _ = std::fs::remove_file(&partial);
            Err(error)
        }
    }
}

/// Streams the file to `path`: (bytes received, their SHA-256).
async fn fetch(
    passport: &PassportClient,
    offer: &Offer,
    path: &Path,
    progress: &mut impl FnMut(u64, u64),
) -> Result<(u64, String), UpdateError> {
    let expected = offer.file.size;
    let mut response = passport
        .download(&offer.file.url, DOWNLOAD_TIMEOUT)
        .await
        .map_err(|e| UpdateError::Download(e.to_string()))?;
    if !response.status().is_success() {
        return Err(UpdateError::Download(format!("the server answered HTTP {}", response.status())));
    }
    let mut out = std::fs::File::create(path).map_err(io(path))?;
    let mut hash = Sha256::default();
    let mut got = 0u64;
    progress(0, expected);
    loop {
        let chunk = match response.chunk().await {
            Ok(Some(chunk)) => chunk,
            Ok(None) => break,
            // A connection dropped mid-way is a short download.
            Err(_) => break,
        };
        got += chunk.len() as u64;
        if got > expected {
            return Err(UpdateError::TooLarge { expected });
        }
        hash.update(&chunk);
        out.write_all(&chunk).map_err(io(path))?;
        progress(got, expected);
    }
    out.sync_all().map_err(io(path))?;
    Ok((got, hash.finish()))
}

/// Replaces `program` with the verified build at `staged`, keeping it executable.
pub fn install(staged: &Path, program: &Path) -> Result<(), UpdateError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(staged, std::fs::Permissions::from_mode(0o755)).map_err(io(staged))?;
    }
    let dir = program.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    // The rename must stay on one file system to be atomic: copy next to the target first.
    let next = dir.join(format!(
        ".{}.update",
        program.file_name().and_then(|n| n.to_str()).unwrap_or("mocha-messenger")
    ));
    std::fs::copy(staged, &next).map_err(io(&next))?;
    #[cfg(windows)]
    {
        // A running .exe cannot be overwritten but can be renamed.
        let old = program.with_extension("old.exe");
        let _ = std::fs::remove_file(&old);
        if program.exists() {
            std::fs::rename(program, &old).map_err(io(program))?;
        }
    }
    std::fs::rename(&next, program).map_err(|e| {
        let _ = std::fs::remove_file(&next);
        UpdateError::Io { path: program.to_path_buf(), source: e }
    })
}
