//! Many clients trickling their ClientHello a byte at a time must not push anyone
//! else's sign-in back: a normal client's whole sign-in (TCP, TLS, `VER`, `USR`)
//! stays under a second while 2,000 such connections are open.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

mod common;
mod notification_support;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use common::TestServer;
use notification_support::*;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpSocket, TcpStream};

/// The attack: this many connections…
const TRICKLERS: usize = 2_000;
/// …spread over this many source addresses (127.0.0.2 up), so no per-address cap
/// stops them on its own…
const SOURCES: usize = 40;
/// …each sending one more byte of its ClientHello this often.
const TRICKLE_EVERY: Duration = Duration::from_millis(250);
/// A normal sign-in must take less than this while they do.
const SIGN_IN_BUDGET: Duration = Duration::from_secs(1);

async fn connect_from(source: [u8; 4], to: SocketAddr) -> std::io::Result<TcpStream> {
    let socket = TcpSocket::new_v4()?;
    socket.bind(SocketAddr::from((source, 0)))?;
    socket.connect(to).await
}

/// A full sign-in as a client does it, timed.
async fn timed_sign_in(t: &TestServer, token: &str) -> Duration {
    let started = Instant::now();
    let attempt = async {
        let mut conn = ns(t).await;
        conn.sign_in(token).await.expect("sign in");
        conn
    };
    let conn = tokio::time::timeout(Duration::from_secs(60), attempt).await.expect("signed in at all");
    let took = started.elapsed();
    drop(conn);
    took
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trickled_client_hellos_do_not_delay_a_normal_sign_in() {
    // Each trickler is two open files here (client and server side).
    let limit = mocha_server::raise_open_file_limit().unwrap();
    let tricklers =
        if limit.now == 0 { TRICKLERS } else { TRICKLERS.min((limit.now as usize).saturating_sub(500) / 2) };
    assert!(tricklers >= 500, "the open-file limit ({}) is too low for this test", limit.now);

    let t = TestServer::start().await;
    let alice = t.user("alice").await;
    let quiet = timed_sign_in(&t, alice.token()).await;

    let mut streams = Vec::with_capacity(tricklers);
    for i in 0..tricklers {
        let source = [127, 0, 0, 2 + (i % SOURCES) as u8];
        let mut tcp = connect_from(source, t.server.ns_addr.unwrap()).await.unwrap();
        // A TLS handshake record header announcing a 512-byte ClientHello, then its first byte.
        tcp.write_all(&[0x16, 0x03, 0x01, 0x02, 0x00, 0x01]).await.unwrap();
        streams.push(tcp);
    }
    let stop = Arc::new(AtomicBool::new(false));
    let trickle = tokio::spawn({
        let stop = stop.clone();
        async move {
            let mut sent = 0usize;
            while !stop.load(Ordering::Relaxed) {
                tokio::time::sleep(TRICKLE_EVERY).await;
                for tcp in &mut streams {
                    // A stream the server gave up on just stops counting.
                    if tcp.write_all(&[0x00]).await.is_ok() {
                        sent += 1;
                    }
                }
            }
            sent
        }
    });
    tokio::time::sleep(Duration::from_millis(300)).await;

    let mut during = Vec::new();
    for _ in 0..5 {
        during.push(timed_sign_in(&t, alice.token()).await);
    }
    stop.store(true, Ordering::Relaxed);
    let trickled = trickle.await.unwrap();
    let worst = *during.iter().max().unwrap();
    eprintln!(
        "sign-in alone {quiet:?}; with {tricklers} trickling connections from {SOURCES} addresses: {during:?} \
         (worst {worst:?}; {trickled} trickled bytes)"
    );
    assert!(trickled >= tricklers, "the tricklers kept trickling ({trickled} bytes)");
    assert!(worst < SIGN_IN_BUDGET, "a normal sign-in took {worst:?} during the attack: {during:?}");
}
