//! PostgreSQL stopped under a running server, and started again: Passport calls fail
//! with a clear `503` and a retry hint (HTTP) or `ERR 300` (MENP), people already in a
//! conversation keep chatting, and everything works again once the database is back.
//! The test runs a private PostgreSQL, never the shared one other tests use.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

mod client_support;
mod common;
mod notification_support;
mod postgres_support;

use std::time::{Duration, Instant};

use mocha_client::proto::ErrorCode;
use mocha_client::sb::Delivery;
use mocha_passport::DatabaseUrl;

use client_support::{chat, connect, heard_text};
use common::TestServer;
use postgres_support::PrivatePostgres;

/// Passport's promise: a request waits at most this long before it hears "try again".
const ANSWER_WITHIN: Duration = Duration::from_secs(10);

#[tokio::test]
async fn a_stopped_database_answers_503_with_a_retry_hint_and_everything_recovers() {
    let Some(pg) = PrivatePostgres::start() else { return };
    let url = DatabaseUrl::parse(&pg.url()).unwrap();
    let t = TestServer::start_with(|config| config.database = Some(url)).await;
    assert_eq!(t.server.passport.engine(), "PostgreSQL");

    let (alice_user, bob_user) = (t.user("alice").await, t.user("bob").await);
    t.befriend(&alice_user, &bob_user).await;
    let (alice, mut alice_events) = connect(&t, &alice_user).await;
    let (bob, mut bob_events) = connect(&t, &bob_user).await;
    let (a, b) = chat(&alice, &mut alice_events, &bob, &mut bob_events).await;

    pg.stop();

    // HTTPS: a sign-in, and a call with a valid session token, are told to come back.
    let started = Instant::now();
    let refused = t.passport.sign_in(&alice_user.account.username, &alice_user.password).await.unwrap_err();
    assert!(started.elapsed() < ANSWER_WITHIN, "answered in {:?}", started.elapsed());
    assert_eq!((refused.status(), refused.code()), (Some(503), Some("storage_unavailable")), "{refused}");
    assert_eq!(refused.detail().unwrap().retry_after_seconds, Some(5));
    assert!(refused.to_string().contains("try again in 5 seconds"), "{refused}");
    let http = reqwest::Client::builder()
        .tls_backend_preconfigured((*t.trust.client_config().unwrap()).clone())
        .build()
        .unwrap();
    let me = http
        .get(format!("https://localhost:{}/api/v1/me", t.server.passport_addr.unwrap().port()))
        .bearer_auth(alice_user.token())
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), 503);
    assert_eq!(me.headers()["retry-after"], "5");

    // MENP: signing in to the Notification Server is refused with "busy, try again".
    let mut ns = notification_support::ns(&t).await;
    let error = ns.sign_in(bob_user.token()).await.unwrap_err();
    assert_eq!(error.code(), Some(ErrorCode::ServerBusy), "{error}");
    assert!(error.to_string().contains("try again"), "{error}");

    // A conversation already under way goes on: the switchboard does not need Passport.
    assert_eq!(a.send_text("is the database down?").await.unwrap(), Delivery::Delivered);
    assert_eq!(heard_text(&mut bob_events, b.id()).await, "is the database down?");

    pg.resume();

    // Back without a restart: the pools reconnect by themselves.
    let started = Instant::now();
    let tokens = loop {
        match t.passport.sign_in(&alice_user.account.username, &alice_user.password).await {
            Ok(tokens) => break tokens,
            Err(e)
                if e.code() == Some("storage_unavailable") && started.elapsed() < Duration::from_secs(30) =>
            {
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Err(e) => panic!("Passport did not recover: {e}"),
        }
    };
    assert_eq!(tokens.account.id, alice_user.account.id);
    let carol = t.user("carol").await;
    assert_eq!(t.passport.me(carol.token()).await.unwrap().username, "carol@example.com");
    let mut ns = notification_support::ns(&t).await;
    assert_eq!(ns.sign_in(bob_user.token()).await.unwrap().user_id, bob_user.account.id);
    assert_eq!(b.send_text("it is back").await.unwrap(), Delivery::Delivered);
}

#[tokio::test]
async fn a_server_cannot_start_on_an_unreachable_database_and_says_so_without_the_password() {
    let Some(pg) = PrivatePostgres::start() else { return };
    pg.stop();
    let url = format!("postgres://postgres:not-the-password@127.0.0.1:{}/postgres", pg.port);
    let dir = tempfile::tempdir().unwrap();
    let mut config = mocha_server::ServerConfig::for_tests();
    config.database = Some(DatabaseUrl::parse(&url).unwrap());
    let started = Instant::now();
    let error = match mocha_server::start(dir.path(), config).await {
        Ok(_) => panic!("started without its database"),
        Err(error) => error.to_string(),
    };
    assert!(started.elapsed() < ANSWER_WITHIN, "gave up after {:?}", started.elapsed());
    assert!(error.contains("cannot be reached"), "{error}");
    assert!(error.contains(&format!("postgres://postgres:****@127.0.0.1:{}/postgres", pg.port)), "{error}");
    assert!(!error.contains("not-the-password"), "{error}");
}
