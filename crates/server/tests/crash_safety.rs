//! `kill -9` in the middle of traffic: the real `mocha-server` program takes a stream
//! of registrations, contact requests and activity alerts (chat text that reaches
//! nobody), is killed with SIGKILL mid-stream, and is started again on the same data
//! folder. Every request that had a success answer before the kill is there, and
//! nothing is half-written: SQLite's integrity and foreign-key checks pass and every
//! account is whole (it signs in).
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

mod binary_support;

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use binary_support::Running;
use mocha_client::Trust;
use mocha_client::api::UserId;
use mocha_client::ns::NsConnection;
use mocha_client::proto::Status;
use mocha_client::proto::ns::ServerCommand;
use mocha_client::sb::{Delivery, SbConnection, SbEvent};
use sqlx::Connection;

const PASSWORD: &str = "crash-Passw0rd-long";
const WAIT: Duration = Duration::from_secs(10);
/// How long the stream runs before the kill.
const STREAM: Duration = Duration::from_millis(2500);
/// Rates high enough that only the kill stops the stream.
const LIMITS: &[&str] = &[
    "--switchboard-messages-per-second",
    "100000",
    "--switchboard-message-burst",
    "100000",
    "--sign-in-attempts-per-address",
    "100000",
];

#[derive(Default)]
struct Answered {
    registered: Vec<String>,
    requested: Vec<String>,
    alerts: Vec<String>,
}

async fn online(ns_port: u16, trust: &Trust, token: &str) -> NsConnection {
    let mut ns = NsConnection::connect(("localhost", ns_port), "localhost", trust).await.unwrap();
    ns.sign_in(token).await.unwrap();
    ns.set_status(Status::Online).await.unwrap();
    ns
}

/// Alice alone in a conversation Bob has left: what she says next becomes an alert for him.
async fn conversation_bob_left(
    ns_port: u16,
    trust: &Trust,
    (alice_token, alice_id): (&str, UserId),
    (bob_token, bob_user): (&str, UserId),
) -> (SbConnection, NsConnection, NsConnection) {
    let mut alice_ns = online(ns_port, trust, alice_token).await;
    let mut bob_ns = online(ns_port, trust, bob_token).await;
    let referral = alice_ns.request_switchboard().await.unwrap();
    let (mut sb, _) = SbConnection::open(&referral.address, &referral.ticket, alice_id, trust).await.unwrap();
    sb.invite(&bob_user.to_string()).await.unwrap();
    let rng = bob_ns
        .expect_push(WAIT, |push| match push {
            ServerCommand::Rng(rng) => Some(rng.clone()),
            _ => None,
        })
        .await
        .unwrap();
    let (bob_sb, _) = SbConnection::answer(
        rng.address.as_str(),
        rng.ticket.as_str(),
        rng.room_id.as_str(),
        bob_user,
        trust,
    )
    .await
    .unwrap();
    sb.expect_event(WAIT, |e| matches!(e, SbEvent::Joined(_)).then_some(())).await.unwrap();
    bob_sb.leave().await.unwrap();
    sb.expect_event(WAIT, |e| matches!(e, SbEvent::Left { .. }).then_some(())).await.unwrap();
    (sb, alice_ns, bob_ns)
}

async fn database_checks(db: &Path) -> (String, i64) {
    let url = format!("sqlite://{}?mode=ro", db.display());
    let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
    let integrity: String = sqlx::query_scalar("PRAGMA integrity_check").fetch_one(&mut conn).await.unwrap();
    let orphans: Vec<(String,)> =
        sqlx::query_as("SELECT \"table\" FROM pragma_foreign_key_check").fetch_all(&mut conn).await.unwrap();
    (integrity, orphans.len() as i64)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_answered_request_survives_kill_9_and_nothing_is_half_written() {
    let dir = tempfile::tempdir().unwrap();
    let server = Running::start(dir.path(), LIMITS);
    let (passport, trust) = server.passport(dir.path());
    let ns_port = server.port("Notification Server");

    let alice = passport.register("alice@example.com", "Alice", PASSWORD).await.unwrap();
    let bob = passport.register("bob@example.com", "Bob", PASSWORD).await.unwrap();
    let alice_tokens = passport.sign_in("alice@example.com", PASSWORD).await.unwrap();
    let bob_tokens = passport.sign_in("bob@example.com", PASSWORD).await.unwrap();
    let request =
        passport.request_contact(&alice_tokens.session_token, "bob@example.com", None).await.unwrap();
    passport.accept_request(&bob_tokens.session_token, request.request.unwrap().id).await.unwrap();
    let (mut sb, _alice_ns, _bob_ns) = conversation_bob_left(
        ns_port,
        &trust,
        (&alice_tokens.session_token, alice.id),
        (&bob_tokens.session_token, bob.id),
    )
    .await;

    // The stream: registrations, then a contact request from each new account to
    // Alice, on three tasks; chat text that becomes alerts for Bob on a fourth.
    let answered = Arc::new(Mutex::new(Answered::default()));
    let mut streams = Vec::new();
    for lane in 0..3 {
        let (passport, answered) = (passport.clone(), answered.clone());
        streams.push(tokio::spawn(async move {
            for i in 0.. {
                let username = format!("crash{lane}-{i:04}@example.com");
                if passport.register(&username, "Crash", PASSWORD).await.is_err() {
                    return;
                }
                answered.lock().unwrap().registered.push(username.clone());
                let Ok(tokens) = passport.sign_in(&username, PASSWORD).await else { return };
                if passport.request_contact(&tokens.session_token, "alice@example.com", None).await.is_err() {
                    return;
                }
                answered.lock().unwrap().requested.push(username);
            }
        }));
    }
    let alerts = {
        let answered = answered.clone();
        tokio::spawn(async move {
            for i in 0.. {
                let text = format!("while you were out {i}");
                match sb.send_text(&text).await {
                    Ok(Delivery::NotDelivered) => answered.lock().unwrap().alerts.push(text),
                    Ok(other) => panic!("Bob has left; {other:?}"),
                    Err(_) => return,
                }
            }
        })
    };
    tokio::time::sleep(STREAM).await;
    server.kill9();
    for stream in streams {
        stream.await.unwrap();
    }
    alerts.await.unwrap();
    let answered = std::mem::take(&mut *answered.lock().unwrap());
    assert!(
        answered.registered.len() >= 10 && answered.requested.len() >= 5 && answered.alerts.len() >= 10,
        "the stream was running when the server was killed: {} registrations, {} requests, {} alerts",
        answered.registered.len(),
        answered.requested.len(),
        answered.alerts.len()
    );

    // Started again on the same folder (the killed server's lock went with it).
    let server = Running::start(dir.path(), LIMITS);
    let (passport, _) = server.passport(dir.path());
    let db = dir.path().join("mocha.db");
    let (integrity, orphans) = database_checks(&db).await;
    assert_eq!(integrity, "ok");
    assert_eq!(orphans, 0, "no row points at a missing one");

    let alice_tokens = passport.sign_in("alice@example.com", PASSWORD).await.unwrap();
    let pending = passport.contact_requests(&alice_tokens.session_token).await.unwrap();
    let from: Vec<&str> = pending.incoming.iter().map(|r| r.from.username.as_str()).collect();
    for username in &answered.requested {
        assert!(from.contains(&username.as_str()), "{username}'s answered request is kept");
    }
    // Every answered registration is a whole account: it signs in. (A sample of each
    // lane's, first and last, plus a database count for all of them.)
    let url = format!("sqlite://{}?mode=ro", db.display());
    let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
    for username in &answered.registered {
        let found: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE username = ? AND length(password_hash) > 0")
                .bind(username)
                .fetch_one(&mut conn)
                .await
                .unwrap();
        assert_eq!(found, 1, "{username} was answered and is kept whole");
    }
    for lane in 0..3 {
        let mine: Vec<&String> =
            answered.registered.iter().filter(|u| u.starts_with(&format!("crash{lane}-"))).collect();
        for username in [mine.first(), mine.last()].into_iter().flatten() {
            passport.sign_in(username, PASSWORD).await.unwrap_or_else(|e| panic!("{username}: {e}"));
        }
    }
    let bob_tokens = passport.sign_in("bob@example.com", PASSWORD).await.unwrap();
    let kept: Vec<String> =
        passport.poll_alerts(&bob_tokens.session_token).await.unwrap().into_iter().map(|a| a.text).collect();
    for text in &answered.alerts {
        assert!(kept.contains(text), "the alert {text:?} was answered (NAK) and is kept");
    }
    server.stop();
}
