//! The privacy policy's promise about conversations, checked on the real program: after a
//! session with chat, typing, an invitation, a file transfer, a call (with media through
//! the switchboard) and an activity alert, no byte of what was said, sent or spoken is
//! anywhere in the data folder — database, write-ahead log, shared memory, the server's
//! own log written there at TRACE level — except the alert's text in the database, as
//! the policy allows; and the log holds no password, session token, refresh token,
//! switchboard ticket, media key or bind token.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

mod call_support;
mod client_support;
mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use mocha_auth::MediaKey;
use mocha_client::proto::im::{CallCommand, ImPayload};
use mocha_client::proto::media::MediaHeader;
use mocha_client::proto::sb::client::AckMode;
use mocha_client::sb::Delivery;
use mocha_client::{
    CallDevices, CallOptions, ClientConfig, ConversationEvent, Event, PassportClient, SignOutReason,
    TransferEvent, Trust,
};

use call_support::{ALICE_CHIRP, BOB_CHIRP, ChirpSource, Recording};
use client_support::{WAIT, connect_with, expect_offer, in_conversation};
use common::TestUser;

/// Written by the test into what the users say and send; none may reach the disk.
const TEXT_MARKER: &str = "zq-chat-5f1e2d-never-stored";
const FORMATTED_MARKER: &str = "zq-bold-77a0c1-never-stored";
const INVITE_MARKER: &str = "zq-invite-board-3b9c44";
const FILE_MARKER: &[u8] = b"zq-file-content-9d2e6f-never-stored";
const MEDIA_MARKER: &[u8] = b"zq-media-plaintext-c0ffee";
/// Said while the recipient is offline: kept as an activity alert, which the policy allows.
const ALERT_MARKER: &str = "zq-alert-for-bob-41d7aa";

const LOG_FILE: &str = "server.log";

/// `mocha-server` itself, in its own data folder, its output going to a log file there.
struct Server {
    child: Child,
    /// Taken by `stop`, which hands the folder over for inspection.
    dir: Option<tempfile::TempDir>,
    passport_url: String,
    ca_cert: PathBuf,
}

impl Server {
    fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        // Every port from the OS; a quick password hash, as the in-process test servers use.
        std::fs::write(
            dir.path().join("mocha.toml"),
            "passport_port = 0\nnotification_port = 0\nswitchboard_port = 0\nrelay_port = 0\npbkdf2_iterations = 10000\n",
        )
        .unwrap();
        let log = std::fs::File::create(dir.path().join(LOG_FILE)).unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_mocha-server"))
            .arg("--data-dir")
            .arg(dir.path())
            // Everything every crate logs, dependencies included.
            .env("MOCHA_LOG", "trace")
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap();
        let started = Instant::now();
        let output = loop {
            let output = std::fs::read_to_string(dir.path().join(LOG_FILE)).unwrap_or_default();
            if output.contains("Press Ctrl-C") {
                break output;
            }
            assert!(started.elapsed() < Duration::from_secs(60), "the server did not come up: {output}");
            std::thread::sleep(Duration::from_millis(100));
        };
        let after = |label: &str| {
            let line = output.lines().find(|line| line.contains(label)).unwrap();
            line.split_once(label).unwrap().1.trim().to_string()
        };
        let passport = after("Passport and web pages");
        let ca_cert = PathBuf::from(after("Clients must trust the CA certificate at"));
        let port = passport.rsplit_once(':').unwrap().1;
        Server { child, dir: Some(dir), passport_url: format!("https://localhost:{port}"), ca_cert }
    }

    fn trust(&self) -> Trust {
        Trust::system().with_pem_file(&self.ca_cert).unwrap()
    }

    fn client_config(&self) -> ClientConfig {
        let mut config = ClientConfig::new(&self.passport_url, self.trust());
        config.backoff =
            mocha_client::Backoff { initial: Duration::from_millis(50), max: Duration::from_millis(400) };
        config
    }

    /// Ctrl-C, as an operator stops it; the database is closed cleanly.
    fn stop(mut self) -> tempfile::TempDir {
        Command::new("kill").args(["-INT", &self.child.id().to_string()]).status().unwrap();
        let status = self.child.wait().unwrap();
        assert!(status.success(), "the server stopped cleanly: {status}");
        self.dir.take().unwrap()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn register(passport: &PassportClient, name: &str, password: &str) -> TestUser {
    let username = format!("{name}@example.com");
    let account = passport.register(&username, name, password).await.unwrap();
    let tokens = passport.sign_in(&username, password).await.unwrap();
    TestUser { account, password: password.to_string(), tokens }
}

/// Every file under `dir`, with its bytes.
fn files_under(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            found.extend(files_under(&path));
        } else {
            let bytes = std::fs::read(&path).unwrap();
            found.push((path, bytes));
        }
    }
    found
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|window| window == needle)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// What the session sent, in every form it might have been written down.
struct Secret {
    what: String,
    forms: Vec<Vec<u8>>,
}

impl Secret {
    fn text(what: &str, value: &str) -> Self {
        Secret { what: what.to_string(), forms: vec![value.as_bytes().to_vec()] }
    }

    /// Raw, hex and Rust's `{:?}` of a byte slice (`[122, 113, …]`).
    fn bytes(what: &str, value: &[u8]) -> Self {
        let debug = format!("{value:?}");
        let inner = debug.trim_start_matches('[').trim_end_matches(']').to_string();
        Secret {
            what: what.to_string(),
            forms: vec![value.to_vec(), hex(value).into_bytes(), inner.into_bytes()],
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_whole_session_leaves_no_content_in_the_data_folder_and_no_secret_in_the_trace_log() {
    let server = Server::start();
    let passport = PassportClient::new(&server.passport_url, &server.trust()).unwrap();
    let alice_user = register(&passport, "alice", "Pr1vacy-pw-8e3f-first").await;
    let bob_user = register(&passport, "bob", "Pr1vacy-pw-2c7a-second").await;
    let created =
        passport.request_contact(alice_user.token(), &bob_user.account.username, None).await.unwrap();
    passport.accept_request(bob_user.token(), created.request.unwrap().id).await.unwrap();

    let (alice, mut alice_events) = connect_with(server.client_config(), &alice_user).await;
    let (bob, mut bob_events) = connect_with(server.client_config(), &bob_user).await;
    let a = alice.start_conversation(&bob.account().username).await.unwrap();
    let ring = bob_events.expect(client_support::ring).await;
    let b = bob.answer(&ring).await.unwrap();
    alice_events
        .expect(in_conversation(a.id(), |e| matches!(e, ConversationEvent::Joined(_)).then_some(())))
        .await;

    // Chat, formatted chat, typing, a nudge, an invitation.
    a.send_typing().await.unwrap();
    bob_events
        .expect(in_conversation(b.id(), |e| matches!(e, ConversationEvent::Typing { .. }).then_some(())))
        .await;
    assert_eq!(a.send_text(TEXT_MARKER).await.unwrap(), Delivery::Delivered);
    assert_eq!(client_support::heard_text(&mut bob_events, b.id()).await, TEXT_MARKER);
    let format = mocha_client::proto::im::TextFormat {
        font: Some("Comic Sans MS".into()),
        color: Some("ff0000".into()),
        effects: "B".into(),
    };
    assert_eq!(b.send_formatted(FORMATTED_MARKER, format).await.unwrap(), Delivery::Delivered);
    assert_eq!(client_support::heard_text(&mut alice_events, a.id()).await, FORMATTED_MARKER);
    assert_eq!(b.send_nudge().await.unwrap(), Delivery::Delivered);
    let invitation = ImPayload::Invitation { application: "tictactoe".into(), body: INVITE_MARKER.into() };
    assert_eq!(a.send(invitation, AckMode::Always).await.unwrap(), Delivery::Delivered);
    let body = bob_events
        .expect(in_conversation(b.id(), |e| match e {
            ConversationEvent::Invitation { body, .. } => Some(body.clone()),
            _ => None,
        }))
        .await;
    assert_eq!(body, INVITE_MARKER);

    // A file transfer: 256 KiB of the marker over and over, so every chunk holds it.
    let outbox = tempfile::tempdir().unwrap();
    let inbox = tempfile::tempdir().unwrap();
    let content: Vec<u8> = FILE_MARKER.iter().copied().cycle().take(256 * 1024).collect();
    let source = outbox.path().join("notes.txt");
    std::fs::write(&source, &content).unwrap();
    let transfer = a.send_file(&source, None).await.unwrap();
    let offer = expect_offer(&mut bob_events, b.id()).await;
    assert_eq!(offer.transfer_id, transfer);
    let target = b.accept_file(&offer.transfer_id, inbox.path()).await.unwrap();
    bob_events
        .expect(in_conversation(b.id(), |e| {
            matches!(e, ConversationEvent::Transfer(TransferEvent::Completed { .. })).then_some(())
        }))
        .await;
    assert_eq!(std::fs::read(&target).unwrap(), content);

    // A call: real audio both ways through the relay, and one packet of Bob's sealed by
    // the test with the call's key and sent through the switchboard (`MED`).
    let plain =
        || CallOptions { echo_cancellation: false, noise_suppression: false, ..CallOptions::default() };
    let alice_call = a
        .place_call(plain(), CallDevices::audio(ChirpSource::new(ALICE_CHIRP), Recording::default()))
        .await
        .unwrap();
    let call_id = bob_events
        .expect(in_conversation(b.id(), |e| match e {
            ConversationEvent::Call { control, .. } if control.command == CallCommand::Invite => {
                Some(control.call_id.clone())
            }
            _ => None,
        }))
        .await;
    let bob_call = b
        .accept_call(
            alice.user_id(),
            &call_id,
            plain(),
            CallDevices::audio(ChirpSource::new(BOB_CHIRP), Recording::default()),
        )
        .await
        .unwrap();
    let grant = bob_events
        .expect(in_conversation(b.id(), |e| match e {
            ConversationEvent::CallRelay(grant) if grant.call_id == call_id => Some(grant.clone()),
            _ => None,
        }))
        .await;
    for call in [&alice_call, &bob_call] {
        tokio::time::timeout(WAIT, call.connected()).await.expect("connects in time").expect("connects");
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let key = MediaKey::from_base64url(&grant.media_key).unwrap();
    let header = MediaHeader { member: grant.member_id, stream: 2, seq: 0x7fff_fff0, timestamp: 1 };
    let sealed = key.seal(&header, MEDIA_MARKER);
    b.send_media(&call_id, sealed.clone().into()).await.unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let heard = alice_call.stats();
    assert!(heard.received_udp + heard.received_tls > 0, "media flowed: {heard:?}");
    alice_call.hang_up().await;
    tokio::time::timeout(WAIT, bob_call.ended()).await.unwrap();

    // The secrets of the session, taken before anyone signs out.
    let mut credentials = vec![
        Secret::text("Alice's password", &alice_user.password),
        Secret::text("Bob's password", &bob_user.password),
        Secret::text("Alice's first session token", &alice_user.tokens.session_token),
        Secret::text("Bob's first session token", &bob_user.tokens.session_token),
        Secret::text("Alice's first refresh token", &alice_user.tokens.refresh_token),
        Secret::text("Bob's first refresh token", &bob_user.tokens.refresh_token),
        Secret::text("Alice's client session token", &alice.session_token().await.unwrap()),
        Secret::text("Bob's client session token", &bob.session_token().await.unwrap()),
        Secret::text("Alice's client refresh token", &alice.refresh_token().await),
        Secret::text("Bob's client refresh token", &bob.refresh_token().await),
        Secret::text("the call's media key", &grant.media_key),
        Secret::text("Bob's bind token", &grant.bind_token),
        // Every ticket and token of the session, whatever its value, by its prefix.
        Secret::text("a switchboard ticket", "mtk1."),
        Secret::text("a session token", "mst1."),
    ];

    // Bob goes offline; what Alice says now waits for him as an activity alert.
    bob.disconnect().await;
    bob_events.expect(|e| matches!(e, Event::SignedOut(SignOutReason::Requested)).then_some(())).await;
    let later = alice.open_conversation().await.unwrap();
    later.invite(&bob_user.account.username).await.unwrap_err();
    assert_eq!(later.send_text(ALERT_MARKER).await.unwrap(), Delivery::NotDelivered);
    later.leave().await;
    let (bob, _bob_events) = connect_with(server.client_config(), &bob_user).await;
    let alerts = bob.poll_alerts().await.unwrap();
    assert_eq!(alerts.iter().map(|alert| alert.text.as_str()).collect::<Vec<_>>(), [ALERT_MARKER]);
    credentials.push(Secret::text("Bob's second session token", &bob.session_token().await.unwrap()));
    credentials.push(Secret::text("Bob's second refresh token", &bob.refresh_token().await));
    bob.disconnect().await;
    alice.disconnect().await;

    // Read once while it runs (the write-ahead log and shared memory exist only then) and
    // once after it stopped (the log's last lines, the checkpointed database).
    let mut files = files_under(server.dir.as_ref().unwrap().path());
    let dir = server.stop();
    files.extend(files_under(dir.path()));
    let log =
        files.iter().find(|(path, _)| path.ends_with(LOG_FILE)).map(|(_, bytes)| bytes.clone()).unwrap();
    let log_text = String::from_utf8_lossy(&log);
    // The log really is at TRACE and really saw the session, or this test proves nothing.
    for seen in [" TRACE ", " DEBUG ", "account registered", "NS client signed in", "joined a conversation"] {
        assert!(log_text.contains(seen), "the log has {seen:?}");
    }
    // And the scan sees what the database does keep: the account's sign-in name.
    let database = files.iter().filter(|(path, _)| path.to_string_lossy().contains("mocha.db"));
    assert!(
        database.clone().any(|(_, bytes)| contains(bytes, alice_user.account.username.as_bytes())),
        "the scan reads the database ({:?})",
        database.map(|(path, _)| path).collect::<Vec<_>>()
    );

    let content = [
        Secret::text("the chat text", TEXT_MARKER),
        Secret::text("the formatted chat text", FORMATTED_MARKER),
        Secret::text("the invitation's body", INVITE_MARKER),
        Secret::bytes("the file's content", FILE_MARKER),
        Secret::bytes("the media's plaintext", MEDIA_MARKER),
        Secret::bytes("the sealed media packet", &sealed[sealed.len() - 32..]),
    ];
    let names: Vec<String> =
        files.iter().map(|(path, bytes)| format!("{} ({} bytes)", path.display(), bytes.len())).collect();
    eprintln!("scanned {names:#?}");
    let mut found = Vec::new();
    for (path, bytes) in &files {
        let name = path.strip_prefix(dir.path()).unwrap().display().to_string();
        for secret in &content {
            if secret.forms.iter().any(|form| contains(bytes, form)) {
                found.push(format!("{} in {name}", secret.what));
            }
        }
        let is_database = name.starts_with("mocha.db");
        if !is_database && contains(bytes, ALERT_MARKER.as_bytes()) {
            found.push(format!("the alert text in {name} (only the database may hold it)"));
        }
        // Not in the log, and not in the database either (it keeps only hashes).
        for secret in &credentials {
            if secret.forms.iter().any(|form| contains(bytes, form)) {
                found.push(format!("{} in {name}", secret.what));
            }
        }
    }
    for name in ["mocha.db-wal", "mocha.db-shm"] {
        assert!(
            files.iter().any(|(path, _)| path.ends_with(name)),
            "{name} was scanned while the server ran"
        );
    }
    assert!(found.is_empty(), "found in the data folder: {found:#?}");
}
