//! Publishing client builds and updating from them: `mocha-server publish` (the real
//! binary, while the server runs) signs a build into the data folder; the download
//! routes serve it over HTTPS with ranges; the client's updater downloads, verifies and
//! installs it, and refuses a tampered, truncated, re-signed or older one.
#![allow(clippy::unwrap_used)]

mod common;
mod web_support;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::TestServer;
use mocha_auth::{ReleaseFacts, VerifyingKey};
use mocha_client::updates::{self, UpdateError};
use web_support::WebClient;

/// A stand-in for a client build: the ELF magic and then bytes that are not all alike.
fn fake_build(dir: &Path, name: &str, magic: &[u8], size: usize) -> (PathBuf, Vec<u8>) {
    let mut bytes = magic.to_vec();
    let mut x = 0x2545_f491_4f6c_dd1du64;
    while bytes.len() < size {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        bytes.push(x as u8);
    }
    let path = dir.join(name);
    std::fs::write(&path, &bytes).unwrap();
    (path, bytes)
}

struct Run {
    success: bool,
    stdout: String,
    stderr: String,
}

fn server_command(data_dir: &Path, args: &[&str]) -> Run {
    let output = Command::new(env!("CARGO_BIN_EXE_mocha-server"))
        .arg("--data-dir")
        .arg(data_dir)
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    Run {
        success: output.status.success(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

fn publish(
    data_dir: &Path,
    channel: &str,
    platform: &str,
    version: &str,
    file: &Path,
    extra: &[&str],
) -> Run {
    let file = file.to_str().unwrap();
    let mut args = vec!["publish", "--channel", channel, "--platform", platform, "--version", version];
    args.extend_from_slice(extra);
    args.push(file);
    server_command(data_dir, &args)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_published_build_is_offered_served_with_ranges_and_signed_by_the_release_key() {
    let t = TestServer::start().await;
    let data = t.dir.path();
    let builds = tempfile::tempdir().unwrap();
    let (linux, linux_bytes) = fake_build(builds.path(), "mocha-messenger", b"\x7fELF", 300_000);
    let (windows, _) = fake_build(builds.path(), "mocha-messenger.exe", b"MZ", 5_000);

    // Nothing is offered before anything is published.
    let check = t.passport.check_for_update_on("stable", "1.0.0", "linux-x86_64").await.unwrap();
    assert!(!check.update_available && check.latest.is_none(), "{check:?}");
    assert!(server_command(data, &["publish", "--list"]).stdout.contains("No builds are published"));

    let run = publish(data, "stable", "linux-x86_64", "1.2.0", &linux, &["--notes", "Calls!"]);
    assert!(run.success, "{}", run.stderr);
    assert!(
        run.stdout.contains("Published Mocha Messenger 1.2.0 for linux-x86_64 on stable"),
        "{}",
        run.stdout
    );
    let run = publish(data, "stable", "windows-x86_64", "1.2.0", &windows, &[]);
    assert!(run.success, "{}", run.stderr);
    let listed = server_command(data, &["publish", "--list"]).stdout;
    assert!(listed.contains("linux-x86_64") && listed.contains("windows-x86_64"), "{listed}");

    // The running server offers it at once, with what the signature covers.
    let check = t.passport.check_for_update_on("stable", "1.0.0", "linux-x86_64").await.unwrap();
    assert!(check.update_available, "{check:?}");
    let file = check.latest.as_ref().unwrap().files["linux-x86_64"].clone();
    assert_eq!((file.version.as_str(), file.size, file.notes.as_str()), ("1.2.0", 300_000, "Calls!"));
    let key = VerifyingKey::from_base64url(check.release_key.as_deref().unwrap()).unwrap();
    let (sha256, size) = mocha_auth::sha256_of(&linux_bytes[..]).unwrap();
    assert_eq!(file.sha256, sha256);
    let facts = ReleaseFacts {
        channel: "stable",
        platform: "linux-x86_64",
        version: "1.2.0",
        file_name: &file.file_name,
        size,
        sha256: &sha256,
    };
    assert!(facts.verify(&key, &file.signature), "signed by the release key");
    assert!(
        !t.passport.check_for_update_on("stable", "1.2.0", "linux-x86_64").await.unwrap().update_available
    );
    assert!(!t.passport.check_for_update_on("beta", "1.0.0", "linux-x86_64").await.unwrap().update_available);
    let bad = t.passport.check_for_update_on("stable", "1.0.0", "amiga-68k").await.unwrap_err();
    assert_eq!(bad.code(), Some("invalid_input"));

    // The file itself, whole and in ranges.
    let mut web = WebClient::new(&t);
    let whole = web.get(&file.url).await;
    assert_eq!(whole.status(), 200);
    let headers = whole.headers().clone();
    assert_eq!(headers["accept-ranges"], "bytes");
    let disposition = headers["content-disposition"].to_str().unwrap();
    assert!(disposition.contains("attachment") && disposition.contains(&file.file_name), "{disposition}");
    assert_eq!(whole.bytes().await.unwrap(), linux_bytes);
    let partial = web
        .http
        .get(format!("{}{}", web.base, file.url))
        .header("range", "bytes=1000-1999")
        .send()
        .await
        .unwrap();
    assert_eq!(partial.status(), 206);
    assert_eq!(partial.headers()["content-range"], "bytes 1000-1999/300000");
    assert_eq!(partial.bytes().await.unwrap(), linux_bytes[1000..2000]);
    let resumed = web
        .http
        .get(format!("{}{}", web.base, file.url))
        .header("range", "bytes=299000-")
        .send()
        .await
        .unwrap();
    assert_eq!(resumed.bytes().await.unwrap(), linux_bytes[299_000..]);
    let beyond = web
        .http
        .get(format!("{}{}", web.base, file.url))
        .header("range", "bytes=300000-")
        .send()
        .await
        .unwrap();
    assert_eq!(beyond.status(), 416);
    assert_eq!(beyond.headers()["content-range"], "bytes */300000");
    // A file the manifest does not name is not served, whatever the path says.
    assert_eq!(web.get("/download/stable/linux-x86_64/mocha.db").await.status(), 404);
    assert_eq!(web.get("/download/stable/linux-x86_64/..%2Fmocha.db").await.status(), 404);

    // The home page's button: the newest stable build for the visitor's platform.
    let latest = |agent: &'static str| {
        web.http.get(format!("{}/download/latest", web.base)).header("user-agent", agent).send()
    };
    let to_linux = latest("Mozilla/5.0 (X11; Linux x86_64)").await.unwrap();
    assert_eq!(to_linux.status(), 303);
    assert_eq!(to_linux.headers()["location"], file.url.as_str());
    let to_windows = latest("Mozilla/5.0 (Windows NT 10.0; Win64; x64)").await.unwrap();
    assert!(to_windows.headers()["location"].to_str().unwrap().ends_with("windows-x86_64.exe"));

    // Refusals: not newer, not a program, unknown channel; each says why, nothing changes.
    let older = publish(data, "stable", "linux-x86_64", "1.1.0", &linux, &[]);
    assert!(!older.success && older.stderr.contains("is not newer"), "{}", older.stderr);
    let text = builds.path().join("notes.txt");
    std::fs::write(&text, "not a program").unwrap();
    let not_a_program = publish(data, "beta", "linux-x86_64", "2.0.0", &text, &[]);
    assert!(
        !not_a_program.success && not_a_program.stderr.contains("does not look like"),
        "{}",
        not_a_program.stderr
    );
    let pe_for_linux = publish(data, "beta", "linux-x86_64", "2.0.0", &windows, &[]);
    assert!(!pe_for_linux.success, "a Windows build is not a Linux one");
    let channel = publish(data, "nightly", "linux-x86_64", "2.0.0", &linux, &[]);
    assert!(!channel.success, "{}", channel.stderr);
    assert!(!t.passport.check_for_update_on("beta", "1.0.0", "linux-x86_64").await.unwrap().update_available);

    // --force publishes an older build over a newer one; the old file goes.
    let old_path = data.join("downloads/stable/linux-x86_64").join(&file.file_name);
    assert!(old_path.exists());
    let forced = publish(data, "stable", "linux-x86_64", "1.1.0", &linux, &["--force"]);
    assert!(forced.success, "{}", forced.stderr);
    assert!(!old_path.exists(), "the replaced build's file is deleted");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let stored = data.join("downloads/stable/linux-x86_64/mocha-messenger-1.1.0-linux-x86_64");
        assert_eq!(std::fs::metadata(&stored).unwrap().permissions().mode() & 0o777, 0o600);
        let key = data.join("keys/release-ed25519.seed");
        assert_eq!(std::fs::metadata(&key).unwrap().permissions().mode() & 0o777, 0o600);
    }

    // --remove takes a platform's build down.
    let removed =
        server_command(data, &["publish", "--remove", "--channel", "stable", "--platform", "windows-x86_64"]);
    assert!(removed.success, "{}", removed.stderr);
    assert!(!server_command(data, &["publish", "--list"]).stdout.contains("windows-x86_64"));
    let to_page = latest("Mozilla/5.0 (Windows NT 10.0; Win64; x64)").await.unwrap();
    assert_eq!(to_page.headers()["location"], "/download", "no Windows build: the page instead");
    let again =
        server_command(data, &["publish", "--remove", "--channel", "stable", "--platform", "windows-x86_64"]);
    assert!(!again.success && again.stderr.contains("nothing is published"), "{}", again.stderr);
}

/// The manifest as JSON, to tamper with it as an attacker with the server's disk would.
fn edit_manifest(data: &Path, edit: impl FnOnce(&mut serde_json::Value)) {
    let path = data.join("updates.json");
    let mut manifest: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    edit(&mut manifest);
    std::fs::write(&path, serde_json::to_vec(&manifest).unwrap()).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_updater_installs_a_verified_build_and_refuses_tampered_truncated_or_resigned_ones() {
    let t = TestServer::start().await;
    let data = t.dir.path();
    let builds = tempfile::tempdir().unwrap();
    let (build, bytes) = fake_build(builds.path(), "mocha-messenger", b"\x7fELF", 200_000);
    let release =
        mocha_server::publish::Release::new("stable", "linux-x86_64", "1.2.0", build).with_notes("Calls!");
    let published = mocha_server::publish::publish(data, &release).unwrap();
    let stored = data.join("downloads/stable/linux-x86_64").join(&published.file_name);

    // Up to date, or newer than what is published: nothing on offer.
    for version in ["1.2.0", "9.0.0"] {
        let (answer, offer) = updates::check(&t.passport, "stable", version, None).await.unwrap();
        assert!(offer.is_none() && !answer.update_available, "{version}");
    }
    let (_, offer) = updates::check(&t.passport, "stable", "1.0.0", None).await.unwrap();
    let offer = offer.expect("1.2.0 is offered to 1.0.0");
    let pinned = offer.release_key.clone();

    // Download with progress, verify, install over the "program".
    let staging = tempfile::tempdir().unwrap();
    let mut seen = Vec::new();
    let staged =
        updates::download(&t.passport, &offer, staging.path(), |done, total| seen.push((done, total)))
            .await
            .unwrap();
    assert_eq!(std::fs::read(&staged).unwrap(), bytes);
    assert_eq!(seen.first(), Some(&(0, 200_000)));
    assert_eq!(seen.last(), Some(&(200_000, 200_000)));
    assert!(seen.len() > 2, "progress is reported as the bytes arrive: {seen:?}");
    let program = staging.path().join("installed/mocha-messenger");
    std::fs::create_dir_all(program.parent().unwrap()).unwrap();
    std::fs::write(&program, b"the old build").unwrap();
    updates::install(&staged, &program).unwrap();
    assert_eq!(std::fs::read(&program).unwrap(), bytes);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&program).unwrap().permissions().mode() & 0o111, 0o111, "executable");
    }

    // A different key from the pinned one is refused before anything is downloaded.
    let other = mocha_auth::SigningKey::generate().verifying_key().to_base64url();
    let changed = updates::check(&t.passport, "stable", "1.0.0", Some(&other)).await.unwrap_err();
    assert!(matches!(changed, UpdateError::KeyChanged { .. }), "{changed}");
    assert!(updates::check(&t.passport, "stable", "1.0.0", Some(&pinned)).await.unwrap().1.is_some());

    let refused = |dir: &Path| std::fs::read_dir(dir).unwrap().count();
    let fresh = || async {
        let (_, offer) = updates::check(&t.passport, "stable", "1.0.0", Some(&pinned)).await.unwrap();
        offer.unwrap()
    };

    // Tampered on the server's disk: same size, one byte changed.
    let mut tampered = bytes.clone();
    tampered[150_000] ^= 0xff;
    std::fs::write(&stored, &tampered).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let error = updates::download(&t.passport, &fresh().await, dir.path(), |_, _| {}).await.unwrap_err();
    assert!(matches!(error, UpdateError::HashMismatch), "{error}");
    assert_eq!(refused(dir.path()), 0, "a refused download is deleted");

    // Truncated.
    std::fs::write(&stored, &bytes[..120_000]).unwrap();
    let error = updates::download(&t.passport, &fresh().await, dir.path(), |_, _| {}).await.unwrap_err();
    assert!(matches!(error, UpdateError::Truncated { expected: 200_000, got: 120_000 }), "{error}");
    assert_eq!(refused(dir.path()), 0);

    // Swapped for another file, with the manifest's hash and size changed to match it
    // (all an attacker without the release key can do): the signature fails.
    let (evil, evil_bytes) = fake_build(builds.path(), "evil", b"\x7fELF", 100_000);
    std::fs::copy(&evil, &stored).unwrap();
    let (evil_sha, _) = mocha_auth::sha256_of(&evil_bytes[..]).unwrap();
    edit_manifest(data, |m| {
        let file = &mut m["channels"]["stable"]["files"]["linux-x86_64"];
        file["sha256"] = evil_sha.clone().into();
        file["size"] = 100_000.into();
    });
    let error = updates::download(&t.passport, &fresh().await, dir.path(), |_, _| {}).await.unwrap_err();
    assert!(matches!(error, UpdateError::BadSignature), "{error}");
    assert_eq!(refused(dir.path()), 0);

    // And a manifest re-signed with another key is refused by the pin.
    edit_manifest(data, |m| m["release_key"] = other.clone().into());
    let error = updates::check(&t.passport, "stable", "1.0.0", Some(&pinned)).await.unwrap_err();
    assert!(matches!(error, UpdateError::KeyChanged { .. }), "{error}");
}
