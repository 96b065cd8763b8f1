//! What keeps connections from using up the server's open files: a deadline to sign
//! in (a `PNG` before `USR` does not keep a connection), and caps on connections in all
//! and per address — for each of the NS, the SB and HTTPS, so a full NS leaves room
//! for the web pages and the API.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

mod common;
mod notification_support;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use common::TestServer;
use mocha_client::menp::MenpConnection;
use mocha_client::proto::OutReason;
use mocha_client::proto::sb::ServerCommand as SbCommand;
use notification_support::*;
use tokio::io::AsyncReadExt;
use tokio::net::{TcpSocket, TcpStream};

/// A plain TCP connection from `source` (any 127/8 address works on loopback).
async fn tcp_from(source: [u8; 4], to: SocketAddr) -> TcpStream {
    let socket = TcpSocket::new_v4().unwrap();
    socket.bind(SocketAddr::from((source, 0))).unwrap();
    socket.connect(to).await.unwrap()
}

/// Whether the server closed `tcp` within `within` (rather than waiting for it).
async fn closed_by_server(tcp: &mut TcpStream, within: Duration) -> bool {
    let mut byte = [0u8; 1];
    match tokio::time::timeout(within, tcp.read(&mut byte)).await {
        Ok(Ok(0) | Err(_)) => true,
        Ok(Ok(_)) => panic!("the server sent bytes before any ClientHello"),
        Err(_) => false,
    }
}

#[tokio::test]
async fn a_connection_that_does_not_sign_in_is_closed_at_the_deadline_pings_or_not() {
    let t = TestServer::start_with(|c| c.sign_in_seconds = 1).await;
    let alice = t.user("alice").await;

    let mut pinging = ns(&t).await;
    pinging.negotiate().await.unwrap();
    let started = Instant::now();
    let mut pings = 0;
    // Pings every 200 ms would keep a connection through any idle timeout; they do
    // not keep one that has not signed in.
    let ended = loop {
        match tokio::time::timeout(Duration::from_secs(1), pinging.ping()).await {
            Ok(Ok(_)) => pings += 1,
            Ok(Err(_)) => break started.elapsed(),
            Err(_) => panic!("a ping went unanswered"),
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert!(started.elapsed() < Duration::from_secs(5), "still open after {pings} pings");
    };
    assert!(pings >= 3, "it answered pings until the deadline ({pings})");
    assert!(ended >= Duration::from_millis(900), "not before the deadline: {ended:?}");

    let mut silent = ns(&t).await;
    assert_eq!(expect_out(&mut silent).await, OutReason::IdleTimeout);

    // Signed in in time: the deadline no longer applies.
    let mut signed_in = ns(&t).await;
    signed_in.sign_in(alice.token()).await.unwrap();
    for _ in 0..8 {
        tokio::time::sleep(Duration::from_millis(250)).await;
        signed_in.ping().await.expect("a signed-in connection stays");
    }
}

#[tokio::test]
async fn a_switchboard_connection_that_joins_nothing_is_closed_at_the_deadline() {
    let t = TestServer::start_with(|c| c.sign_in_seconds = 1).await;
    let mut idle = MenpConnection::<SbCommand>::connect_to(
        &format!("localhost:{}", t.server.sb_addr.unwrap().port()),
        &t.trust,
    )
    .await
    .unwrap();
    let started = Instant::now();
    let first = tokio::time::timeout(Duration::from_secs(5), idle.read()).await.expect("closed in time");
    match first {
        Ok(SbCommand::Out(out)) => assert_eq!(out.reason, OutReason::IdleTimeout),
        other => panic!("expected OUT TMO, got {other:?}"),
    }
    assert!(started.elapsed() >= Duration::from_millis(900), "{:?}", started.elapsed());
}

#[tokio::test]
async fn one_address_gets_at_most_its_share_of_connections() {
    let t = TestServer::start_with(|c| c.max_connections_per_address = 3).await;
    let alice = t.user("alice").await;
    let address = t.server.ns_addr.unwrap();

    let mut held = Vec::new();
    for _ in 0..3 {
        held.push(ns(&t).await);
    }
    let refused = NsConnectionAttempt::from_localhost(&t).await;
    assert!(refused.is_err(), "a fourth connection from 127.0.0.1 is refused");
    let mut raw = tcp_from([127, 0, 0, 1], address).await;
    assert!(closed_by_server(&mut raw, Duration::from_secs(2)).await, "closed before TLS");

    // Another address is not affected.
    let mut other = tcp_from([127, 0, 0, 2], address).await;
    assert!(!closed_by_server(&mut other, Duration::from_millis(300)).await, "127.0.0.2 is let in");

    // A connection that ends gives its place back.
    drop(held.pop());
    let mut conn = eventually_connect(&t).await;
    conn.sign_in(alice.token()).await.unwrap();
    conn.ping().await.unwrap();
}

#[tokio::test]
async fn a_full_notification_server_leaves_https_and_the_switchboard_answering() {
    let t = TestServer::start_with(|c| {
        c.max_connections = Some(4);
        c.max_connections_per_address = 100;
    })
    .await;
    let alice = t.user("alice").await;
    let ns_address = t.server.ns_addr.unwrap();

    let mut held = Vec::new();
    for source in 2..6 {
        held.push(tcp_from([127, 0, 0, source], ns_address).await);
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut over = tcp_from([127, 0, 0, 6], ns_address).await;
    assert!(closed_by_server(&mut over, Duration::from_secs(2)).await, "the fifth NS connection is refused");
    assert!(NsConnectionAttempt::from_localhost(&t).await.is_err(), "so is a real client's");

    // HTTPS and the Switchboard count their own connections.
    let status = t.passport.status().await.expect("HTTPS answers while the NS is full");
    assert!(!status.services.is_empty());
    let sb = MenpConnection::<SbCommand>::connect_to(
        &format!("localhost:{}", t.server.sb_addr.unwrap().port()),
        &t.trust,
    )
    .await;
    assert!(sb.is_ok(), "the Switchboard takes a connection while the NS is full");

    drop(held.pop());
    let mut conn = eventually_connect(&t).await;
    conn.sign_in(alice.token()).await.unwrap();
}

#[tokio::test]
async fn https_connections_are_capped_too() {
    let t = TestServer::start_with(|c| c.max_connections_per_address = 3).await;
    let address = t.server.passport_addr.unwrap();
    let mut held = Vec::new();
    for _ in 0..3 {
        held.push(tcp_from([127, 0, 0, 3], address).await);
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut over = tcp_from([127, 0, 0, 3], address).await;
    assert!(closed_by_server(&mut over, Duration::from_secs(2)).await, "a fourth from 127.0.0.3 is refused");
    // Everyone else still gets the API.
    t.passport.status().await.expect("127.0.0.1 still gets answers");
}

/// Connecting as a client would, keeping the error rather than panicking.
struct NsConnectionAttempt;

impl NsConnectionAttempt {
    async fn from_localhost(t: &TestServer) -> Result<mocha_client::ns::NsConnection, String> {
        let attempt = async {
            let mut conn = mocha_client::ns::NsConnection::connect(
                ("localhost", t.server.ns_addr.unwrap().port()),
                "localhost",
                &t.trust,
            )
            .await
            .map_err(|e| e.to_string())?;
            conn.negotiate().await.map_err(|e| e.to_string())?;
            Ok(conn)
        };
        tokio::time::timeout(Duration::from_secs(5), attempt)
            .await
            .unwrap_or_else(|_| Err("timed out".into()))
    }
}

/// The server frees a place when it notices the close, a moment after the client's.
async fn eventually_connect(t: &TestServer) -> mocha_client::ns::NsConnection {
    for _ in 0..50 {
        if let Ok(conn) = NsConnectionAttempt::from_localhost(t).await {
            return conn;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("no place came free");
}
