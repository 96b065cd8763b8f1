//! `mocha-server backup FILE` and `mocha-server restore FILE`, as an operator runs
//! them: a backup taken while registrations stream in is a consistent snapshot (every
//! account answered before it began is in it, none begun after it ended, and what it
//! holds is an unbroken prefix of the stream); restore refuses while the server runs,
//! refuses a file that is not a Mocha backup or is from a newer schema, and restores a
//! fresh data folder where everyone signs in again with the same keys and CA.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

mod common;
mod notification_support;

use std::path::Path;
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{DataFolder, TestServer};
use sqlx::Connection;

const PASSWORD: &str = "backup-Passw0rd-long";

fn mocha_server(data_dir: &Path, args: &[&std::ffi::OsStr]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mocha-server"))
        .arg("--data-dir")
        .arg(data_dir)
        .args(args)
        .env("MOCHA_LOG", "warn")
        .output()
        .unwrap()
}

fn said(output: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr))
}

async fn sqlite(path: &Path, read_only: bool) -> sqlx::SqliteConnection {
    let mode = if read_only { "?mode=ro" } else { "" };
    sqlx::SqliteConnection::connect(&format!("sqlite://{}{mode}", path.display())).await.unwrap()
}

async fn usernames(db: &Path) -> Vec<String> {
    let mut conn = sqlite(db, true).await;
    sqlx::query_scalar("SELECT username FROM users ORDER BY username").fetch_all(&mut conn).await.unwrap()
}

/// One registration of the stream: its number, and whether it was answered before
/// the backup started or began after it ended.
#[derive(Clone, Copy)]
struct Registered {
    index: usize,
    answered_before_backup: bool,
    begun_after_backup: bool,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_during_traffic_restores_into_a_new_data_folder_with_everything_in_it() {
    let t = TestServer::start().await;
    let (alice, bob) = (t.user("alice").await, t.user("bob").await);
    t.befriend(&alice, &bob).await;
    let original_key = std::fs::read(t.dir.path().join("keys/passport-ed25519.seed")).unwrap();
    let original_ca = std::fs::read(&t.server.ca_cert).unwrap();

    // Registrations stream in, one after another, while the backup runs.
    let phase = Arc::new(Mutex::new(0u8)); // 0 before the backup, 1 during, 2 after
    let registered = Arc::new(Mutex::new(Vec::<Registered>::new()));
    let stream = {
        let (passport, phase, registered) = (t.passport.clone(), phase.clone(), registered.clone());
        tokio::spawn(async move {
            for index in 0.. {
                let begun = *phase.lock().unwrap();
                if begun == 2
                    && registered.lock().unwrap().iter().filter(|r| r.begun_after_backup).count() >= 5
                {
                    break;
                }
                passport
                    .register(&format!("stream{index:04}@example.com"), "Stream", PASSWORD)
                    .await
                    .unwrap();
                let answered = *phase.lock().unwrap();
                registered.lock().unwrap().push(Registered {
                    index,
                    answered_before_backup: answered == 0,
                    begun_after_backup: begun == 2,
                });
            }
        })
    };
    while registered.lock().unwrap().len() < 10 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let backups = tempfile::tempdir().unwrap();
    let file = backups.path().join("mocha.backup");
    *phase.lock().unwrap() = 1;
    let output = {
        let (dir, file) = (t.dir.path().to_path_buf(), file.clone());
        tokio::task::spawn_blocking(move || mocha_server(&dir, &["backup".as_ref(), file.as_os_str()]))
            .await
            .unwrap()
    };
    *phase.lock().unwrap() = 2;
    stream.await.unwrap();
    assert!(output.status.success(), "backup: {}", said(&output));
    assert!(said(&output).contains("Backed up"), "{}", said(&output));
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(std::fs::metadata(&file).unwrap().permissions().mode() & 0o777, 0o600, "owner-only");

    // A consistent snapshot of the stream.
    let in_backup: Vec<usize> = usernames(&file)
        .await
        .iter()
        .filter_map(|name| name.strip_prefix("stream")?.strip_suffix("@example.com")?.parse().ok())
        .collect();
    let registered = registered.lock().unwrap().clone();
    for r in &registered {
        if r.answered_before_backup {
            assert!(in_backup.contains(&r.index), "stream{} was answered before the backup", r.index);
        }
        if r.begun_after_backup {
            assert!(!in_backup.contains(&r.index), "stream{} began after the backup", r.index);
        }
    }
    assert_eq!(in_backup, (0..in_backup.len()).collect::<Vec<_>>(), "an unbroken prefix of the stream");

    // Another account after the backup: a restore goes back to before it.
    t.passport.register("late@example.com", "Late", PASSWORD).await.unwrap();

    // Refused while the server runs, and nothing changes.
    let output = mocha_server(t.dir.path(), &["restore".as_ref(), file.as_os_str()]);
    assert!(!output.status.success());
    assert!(said(&output).contains("is running on the data folder"), "{}", said(&output));
    assert!(usernames(&t.dir.path().join("mocha.db")).await.contains(&"late@example.com".to_string()));
    let (folder, config) = t.stop().await;

    // Refused: not a Mocha backup (a text file, the live database itself), a newer schema.
    let text = backups.path().join("notes.txt");
    std::fs::write(&text, "not a database").unwrap();
    let live = folder.path().join("mocha.db");
    for foreign in [&text, &live] {
        let output = mocha_server(folder.path(), &["restore".as_ref(), foreign.as_os_str()]);
        assert!(!output.status.success());
        assert!(said(&output).contains("is not a Mocha backup"), "{}", said(&output));
    }
    let newer = backups.path().join("newer.backup");
    std::fs::copy(&file, &newer).unwrap();
    {
        let mut conn = sqlite(&newer, false).await;
        sqlx::raw_sql(
            "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time)
               VALUES (9999, 'from the future', 1, x'00', 0);
             UPDATE mocha_backup SET schema_version = 9999;",
        )
        .execute(&mut conn)
        .await
        .unwrap();
    }
    let output = mocha_server(folder.path(), &["restore".as_ref(), newer.as_os_str()]);
    assert!(!output.status.success());
    assert!(said(&output).contains("is from a newer Mocha (schema 9999"), "{}", said(&output));
    assert!(usernames(&live).await.contains(&"late@example.com".to_string()), "refusals changed nothing");

    // Restored into a new, empty data folder (a new machine).
    let new_dir = tempfile::tempdir().unwrap();
    let output = mocha_server(new_dir.path(), &["restore".as_ref(), file.as_os_str()]);
    assert!(output.status.success(), "restore: {}", said(&output));
    let db = new_dir.path().join("mocha.db");
    {
        let mut conn = sqlite(&db, true).await;
        let check: String = sqlx::query_scalar("PRAGMA integrity_check").fetch_one(&mut conn).await.unwrap();
        assert_eq!(check, "ok");
        let stamps: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM sqlite_master WHERE name IN ('mocha_backup', 'mocha_backup_files')",
        )
        .fetch_one(&mut conn)
        .await
        .unwrap();
        assert_eq!(stamps, 0, "the restored database is a plain Mocha database");
    }
    assert_eq!(std::fs::read(new_dir.path().join("keys/passport-ed25519.seed")).unwrap(), original_key);
    assert_eq!(std::fs::read(new_dir.path().join("tls/ca.pem")).unwrap(), original_ca);
    drop(folder);

    let t = TestServer::start_in(DataFolder::from(new_dir), config).await;
    assert_eq!(std::fs::read(&t.server.ca_cert).unwrap(), original_ca, "clients still trust it");
    let alice = t.passport.sign_in("alice@example.com", &alice.password).await.expect("alice signs in");
    let contacts = t.passport.contacts(&alice.session_token).await.unwrap();
    assert!(contacts.iter().any(|c| c.user.username == "bob@example.com"), "contacts restored: {contacts:?}");
    for index in &in_backup {
        t.passport
            .sign_in(&format!("stream{index:04}@example.com"), PASSWORD)
            .await
            .expect("restored account");
    }
    assert!(t.passport.sign_in("late@example.com", PASSWORD).await.is_err(), "after the backup: not in it");
    // And the Notification Server, over TLS with the restored certificates.
    let bob = t.passport.sign_in("bob@example.com", &bob.password).await.unwrap();
    let user = common::TestUser { account: bob.account.clone(), password: String::new(), tokens: bob };
    notification_support::signed_in(&t, &user).await.ping().await.unwrap();
}

#[tokio::test]
async fn backup_on_postgres_points_to_pg_dump() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("x.backup");
    let output = Command::new(env!("CARGO_BIN_EXE_mocha-server"))
        .arg("--data-dir")
        .arg(dir.path())
        .args(["--database", "postgres://mocha@127.0.0.1:1/mocha", "backup"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(said(&output).contains("back it up with pg_dump"), "{}", said(&output));
    assert!(!file.exists());
}
