//! The client keeps its session: it reconnects with back-off after the connection
//! drops or the server restarts, re-syncs and restores its status; it renews its
//! session token before expiry; and it stops for good when the sign-in is revoked.

mod client_support;
mod common;

use mocha_client::api::PresenceStatus;
use mocha_client::proto::Status;
use mocha_client::{ConnectionState, Event, SignOutReason};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use client_support::proxies::Relay;
use client_support::{config, connect, connect_with, state_where};
use common::TestServer;

#[tokio::test]
async fn a_dropped_connection_is_re_established_and_re_synced() {
    let t = TestServer::start().await;
    let (alice_user, bob_user) = (t.user("alice").await, t.user("bob").await);
    t.befriend(&alice_user, &bob_user).await;
    let relay = Relay::start(t.server.ns_addr.unwrap().port()).await;
    let mut through_relay = config(&t).notification_address(format!("localhost:{}", relay.port));
    through_relay.status = Status::Away;
    let (alice, mut alice_events) = connect_with(through_relay, &alice_user).await;
    alice.set_personal_message("back soon").await.unwrap();
    let (bob, mut bob_events) = connect(&t, &bob_user).await;
    state_where(&bob, |s| s.presence(alice.user_id()).is_some_and(|p| p.personal_message == "back soon"))
        .await;
    assert_eq!(relay.accepted(), 1);

    relay.cut_off();
    let (attempt, retry_in) = alice_events
        .expect(|e| match e {
            Event::Disconnected { attempt, retry_in, .. } => Some((*attempt, *retry_in)),
            _ => None,
        })
        .await;
    assert_eq!(attempt, 1);
    // The back-off's first step, less up to half of it at random (clients of one node
    // must not all come back at the same moment).
    assert!((Duration::from_millis(25)..=Duration::from_millis(50)).contains(&retry_in), "{retry_in:?}");
    bob_events
        .expect(|e| {
            matches!(e, Event::Presence { user, presence: None } if *user == alice.user_id()).then_some(())
        })
        .await;

    // Meanwhile Bob changes; after the reconnect Alice's state has it from the new sync.
    bob.set_status(Status::OutToLunch).await.unwrap();
    alice_events.expect(|e| matches!(e, Event::Disconnected { attempt: 2, .. }).then_some(())).await;
    relay.resume();
    alice_events.expect(|e| matches!(e, Event::Connected { .. }).then_some(())).await;
    assert_eq!(relay.accepted(), 2, "one new connection");
    let state = alice.state();
    assert_eq!(state.connection, ConnectionState::Online);
    assert_eq!(state.presence(bob.user_id()).map(|p| p.status), Some(PresenceStatus::OutToLunch));

    // Her status and personal message are restored for her contacts.
    state_where(&bob, |s| {
        s.presence(alice.user_id())
            .is_some_and(|p| p.status == PresenceStatus::Away && p.personal_message == "back soon")
    })
    .await;
    assert!(alice.ping().await.unwrap() > 0);
}

#[tokio::test]
async fn the_client_comes_back_after_a_server_restart() {
    let t = TestServer::start().await;
    let (alice_user, bob_user) = (t.user("alice").await, t.user("bob").await);
    t.befriend(&alice_user, &bob_user).await;
    let (alice, mut alice_events) = connect(&t, &alice_user).await;
    let (bob, mut bob_events) = connect(&t, &bob_user).await;
    bob.set_status(Status::Busy).await.unwrap();
    state_where(&alice, |s| s.presence(bob.user_id()).is_some_and(|p| p.status == PresenceStatus::Busy))
        .await;

    let ports = (
        t.server.passport_addr.unwrap().port(),
        t.server.ns_addr.unwrap().port(),
        t.server.sb_addr.unwrap().port(),
    );
    let (dir, mut server_config) = t.stop().await;
    alice_events.expect(|e| matches!(e, Event::Disconnected { .. }).then_some(())).await;
    bob_events.expect(|e| matches!(e, Event::Disconnected { .. }).then_some(())).await;
    assert!(matches!(alice.state().connection, ConnectionState::Reconnecting { .. }));
    assert!(matches!(alice.set_status(Status::Online).await, Err(mocha_client::Error::NotConnected)));

    (server_config.passport_port, server_config.notification_port, server_config.switchboard_port) = ports;
    let t = TestServer::start_in(dir, server_config).await;
    alice_events.expect(|e| matches!(e, Event::Connected { .. }).then_some(())).await;
    bob_events.expect(|e| matches!(e, Event::Connected { .. }).then_some(())).await;

    let state =
        state_where(&alice, |s| s.presence(bob.user_id()).is_some_and(|p| p.status == PresenceStatus::Busy))
            .await;
    assert_eq!(state.connection, ConnectionState::Online);
    assert_eq!(bob.state().status, Status::Busy, "restored, not reset");

    // And conversations work on the restarted server.
    let chat = alice.start_conversation("bob@example.com").await.unwrap();
    let ring = bob_events
        .expect(|e| match e {
            Event::Ring(r) => Some(r.clone()),
            _ => None,
        })
        .await;
    bob.answer(&ring).await.unwrap();
    drop(chat);
    drop(t);
}

#[tokio::test]
async fn the_session_token_is_renewed_and_a_replayed_refresh_token_ends_the_session() {
    let t = TestServer::start_with(|c| c.session_token_seconds = 4).await;
    let alice_user = t.user("alice").await;
    let saved = Arc::new(Mutex::new(Vec::<String>::new()));
    let log = saved.clone();
    let mut renewing = config(&t).on_refresh_token(move |token| log.lock().unwrap().push(token.to_string()));
    renewing.refresh_margin = Duration::from_secs(3);
    let (alice, mut events) = connect_with(renewing, &alice_user).await;
    let first = saved.lock().unwrap().first().cloned().expect("the sign-in's refresh token was handed over");

    let expires = events
        .expect(|e| match e {
            Event::SessionRefreshed { expires_at } => Some(*expires_at),
            _ => None,
        })
        .await;
    assert!(expires > time::OffsetDateTime::now_utc());
    let current = alice.refresh_token().await;
    assert_ne!(current, first);
    assert!(saved.lock().unwrap().contains(&current), "every new refresh token is handed over");
    let token = alice.session_token().await.unwrap();
    assert_eq!(t.passport.me(&token).await.unwrap().id, alice.user_id());

    // Someone replays the spent first token: Passport revokes the whole sign-in and
    // the client stops instead of retrying.
    let replay = t.passport.refresh(&first).await.unwrap_err();
    assert_eq!(replay.code(), Some("refresh_token_reused"));
    let reason = events
        .expect(|e| match e {
            Event::SignedOut(r) => Some(r.clone()),
            _ => None,
        })
        .await;
    assert_eq!(reason, SignOutReason::Revoked);
}
