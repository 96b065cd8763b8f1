//! Every connection of a client — Passport's HTTPS, the Notification Server and the
//! Switchboard — goes through a configured SOCKS5 or HTTP CONNECT proxy with its user
//! and password; and the protocol monitor keeps lines with their secrets redacted.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

mod client_support;
mod common;

use mocha_client::monitor::{Channel, Direction};
use mocha_client::{Client, Event, ProtocolMonitor, Proxy};

use client_support::proxies::{Kind, TestProxy};
use client_support::{config, connect, connect_with, password};
use common::TestServer;

async fn everything_goes_through(kind: Kind) {
    let t = TestServer::start().await;
    let (alice_user, bob_user) = (t.user("alice").await, t.user("bob").await);
    t.befriend(&alice_user, &bob_user).await;
    let proxy = TestProxy::start(kind, "mocha", "pr0xy pass").await;
    let url = proxy.url(kind, "mocha", "pr0xy%20pass");
    let proxied = config(&t).proxy(Some(Proxy::parse(&url).unwrap()));
    let (alice, _alice_events) = connect_with(proxied, &alice_user).await;
    let (bob, mut bob_events) = connect(&t, &bob_user).await;

    let chat = alice.start_conversation("bob@example.com").await.unwrap();
    let ring = bob_events
        .expect(|e| match e {
            Event::Ring(r) => Some(r.clone()),
            _ => None,
        })
        .await;
    bob.answer(&ring).await.unwrap();
    chat.leave().await;

    let seen = proxy.seen();
    let ports: Vec<u16> = seen.tunnels.iter().map(|(_, port)| *port).collect();
    assert!(ports.contains(&t.server.passport_addr.unwrap().port()), "Passport through the proxy: {seen:?}");
    assert!(ports.contains(&t.server.ns_addr.unwrap().port()), "the NS through the proxy: {seen:?}");
    assert!(ports.contains(&t.server.sb_addr.unwrap().port()), "the SB through the proxy: {seen:?}");
    assert!(seen.tunnels.iter().all(|(host, _)| host == "localhost"), "names go to the proxy: {seen:?}");
    assert!(!seen.credentials.is_empty());
    assert!(
        seen.credentials.iter().all(|c| c == &("mocha".to_string(), "pr0xy pass".to_string())),
        "{seen:?}"
    );
    assert_eq!(seen.refused, 0);

    // The wrong password gets nowhere.
    let wrong = config(&t).proxy(Some(Proxy::parse(&proxy.url(kind, "mocha", "nope")).unwrap()));
    let error = Client::connect(wrong, password(&alice_user)).await.err().expect("refused by the proxy");
    assert!(proxy.seen().refused > 0, "{error}");
}

#[tokio::test]
async fn socks5_carries_every_connection_with_its_credentials() {
    everything_goes_through(Kind::Socks5).await;
}

#[tokio::test]
async fn http_connect_carries_every_connection_with_its_credentials() {
    everything_goes_through(Kind::HttpConnect).await;
}

#[tokio::test]
async fn the_monitor_keeps_lines_without_secrets() {
    let t = TestServer::start().await;
    let (alice_user, bob_user) = (t.user("alice").await, t.user("bob").await);
    t.befriend(&alice_user, &bob_user).await;
    let monitor = ProtocolMonitor::new(500);
    let (alice, _events) = connect_with(config(&t).monitor(monitor.clone()), &alice_user).await;
    let (bob, mut bob_events) = connect(&t, &bob_user).await;
    let chat = alice.start_conversation("bob@example.com").await.unwrap();
    let ring = bob_events
        .expect(|e| match e {
            Event::Ring(r) => Some(r.clone()),
            _ => None,
        })
        .await;
    let _b = bob.answer(&ring).await.unwrap();
    chat.send_text("the secret plans").await.unwrap();

    let entries = monitor.entries();
    let lines: Vec<&str> = entries.iter().map(|e| e.line.as_str()).collect();
    let has = |direction, channel, prefix: &str| {
        entries.iter().any(|e| e.direction == direction && e.channel == channel && e.line.starts_with(prefix))
    };
    assert!(has(Direction::Sent, Channel::Passport, "POST /api/v1/sessions"), "{lines:#?}");
    assert!(has(Direction::Sent, Channel::Notification, "VER 1 MENP1"), "{lines:#?}");
    assert!(lines.iter().any(|l| l.starts_with("USR ") && l.ends_with(" TOKEN ***")), "{lines:#?}");
    assert!(has(Direction::Received, Channel::Notification, "XFR "), "{lines:#?}");
    assert!(lines.iter().any(|l| l.starts_with("XFR ") && l.ends_with(" ***")), "{lines:#?}");
    assert!(has(Direction::Sent, Channel::Switchboard, "USR 1 "), "{lines:#?}");
    assert!(lines.iter().any(|l| l.starts_with("MSG ") && l.contains("[text/plain;")), "{lines:#?}");

    let everything = format!("{entries:?}");
    let session = alice.session_token().await.unwrap();
    let refresh = alice.refresh_token().await;
    for secret in
        [session.as_str(), refresh.as_str(), alice_user.password.as_str(), "secret plans", "mtk1.", "mst1."]
    {
        assert!(!everything.contains(secret), "{secret:?} leaked into the monitor");
    }
}
