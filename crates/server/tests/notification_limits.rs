//! The Notification Server under misuse: broken frames, unknown commands, commands out
//! of order, floods, idle and slow clients, TLS junk, and shutdown. Each test checks
//! that the offender gets a clear answer and everyone else carries on.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

mod common;
mod notification_support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use common::TestServer;
use mocha_client::ns::NsError;
use mocha_client::proto::ns::{ClientCommand, ServerCommand, client};
use mocha_client::proto::{Command, ErrorCode, OutReason, Status};
use notification_support::*;
use tokio::io::AsyncWriteExt;

/// Reads the `ERR 0 <code>` a framing error earns, then the close.
async fn expect_fatal(conn: &mut mocha_client::ns::NsConnection, code: ErrorCode) {
    match conn.read().await.expect("an ERR before the close") {
        ServerCommand::Err(reply) => assert_eq!((reply.trid, reply.code), (0, code)),
        other => panic!("expected ERR 0 {code}, got {}", other.into_frame()),
    }
    expect_closed(conn).await;
}

#[tokio::test]
async fn broken_frames_close_only_the_offender() {
    let t = TestServer::start().await;
    let (alice, bob) = (t.user("alice").await, t.user("bob").await);
    t.befriend(&alice, &bob).await;
    let mut a = online(&t, &alice, Status::Online).await;

    let mut b = online(&t, &bob, Status::Online).await;
    expect_nln(&mut a, bob.account.id).await;
    let mut long_line = b"PNG 9 ".to_vec();
    long_line.extend(std::iter::repeat_n(b'x', 5000));
    b.send_raw(&long_line).await.unwrap();
    expect_fatal(&mut b, ErrorCode::LineTooLong).await;
    expect_fln(&mut a, bob.account.id).await;
    a.ping().await.unwrap();

    let mut b = signed_in(&t, &bob).await;
    b.send_raw(b"UUX 3 70000\r\n").await.unwrap();
    expect_fatal(&mut b, ErrorCode::PayloadTooLarge).await;

    for garbage in [&b"\x00\x01\x02\xff\r\n"[..], b"hello there\r\n", b"PNG 1\n", b"\x16\x03\x01\x02\x00\r\n"]
    {
        let mut b = signed_in(&t, &bob).await;
        b.send_raw(garbage).await.unwrap();
        expect_fatal(&mut b, ErrorCode::SyntaxError).await;
    }
    a.set_personal_message("still here").await.unwrap();
    assert!(a.sync().await.unwrap().contacts.len() == 1);
}

#[tokio::test]
async fn unknown_commands_and_bad_arguments_keep_the_connection() {
    let t = TestServer::start().await;
    let alice = t.user("alice").await;
    let mut a = signed_in(&t, &alice).await;
    let unknown = ClientCommand::Unknown { command: "ZZZ".parse::<Command>().unwrap(), trid: 41 };
    assert_eq!(a.request(unknown).await.unwrap_err().code(), Some(ErrorCode::UnknownCommand));
    a.send_raw(b"CHG 42 FLN\r\n").await.unwrap();
    match a.read().await.unwrap() {
        ServerCommand::Err(reply) => assert_eq!((reply.trid, reply.code), (42, ErrorCode::InvalidArgument)),
        other => panic!("unexpected {}", other.into_frame()),
    }
    a.send_raw(b"XFR 43 NS\r\n").await.unwrap();
    assert!(matches!(a.read().await.unwrap(), ServerCommand::Err(reply) if reply.trid == 43));
    assert!(a.ping().await.unwrap() > 0);
    a.set_status(Status::Online).await.unwrap();
}

#[tokio::test]
async fn commands_must_come_in_order() {
    let t = TestServer::start().await;
    let alice = t.user("alice").await;
    let mut conn = ns(&t).await;
    let syn = |trid| ClientCommand::Syn(client::Syn { trid });
    assert_eq!(conn.request(syn(1)).await.unwrap_err().code(), Some(ErrorCode::WrongState));
    conn.negotiate().await.unwrap();
    assert_eq!(conn.request(syn(2)).await.unwrap_err().code(), Some(ErrorCode::NotSignedIn));
    let chg = ClientCommand::Chg(client::Chg { trid: 3, status: Status::Online });
    assert_eq!(conn.request(chg).await.unwrap_err().code(), Some(ErrorCode::NotSignedIn));
    // PNG works at any stage.
    conn.ping().await.unwrap();
    conn.sign_in(alice.token()).await.unwrap();
    let again = conn.negotiate().await.unwrap_err();
    assert_eq!(again.code(), Some(ErrorCode::WrongState), "VER again is refused");
    let usr = ClientCommand::Usr(client::Usr { trid: 9, token: alice.token().parse().unwrap() });
    assert_eq!(conn.request(usr).await.unwrap_err().code(), Some(ErrorCode::AlreadySignedIn));
    conn.sync().await.unwrap();

    let mut conn = ns(&t).await;
    conn.send_raw(b"VER 1 MENP9 MSNP8\r\n").await.unwrap();
    match conn.read().await.unwrap() {
        ServerCommand::Err(reply) => {
            assert_eq!((reply.trid, reply.code), (1, ErrorCode::VersionNotSupported))
        }
        other => panic!("unexpected {}", other.into_frame()),
    }
    expect_closed(&mut conn).await;
}

#[tokio::test]
async fn tls_junk_and_idle_clients_do_not_disturb_others() {
    let t = TestServer::start().await;
    let alice = t.user("alice").await;
    let mut a = online(&t, &alice, Status::Online).await;
    let mut plain = tokio::net::TcpStream::connect(t.server.ns_addr.unwrap()).await.unwrap();
    plain.write_all(b"VER 1 MENP1\r\n").await.unwrap();
    let _silent = tokio::net::TcpStream::connect(t.server.ns_addr.unwrap()).await.unwrap();
    a.ping().await.unwrap();
    let bob = t.user("bob").await;
    signed_in(&t, &bob).await.ping().await.unwrap();

    let (_ns, address, _stop) = custom_ns(&t, |c| c.idle_timeout = Duration::from_secs(1)).await;
    let mut idle = connect(address, &t).await;
    idle.sign_in(alice.token()).await.unwrap();
    let mut busy = connect(address, &t).await;
    busy.sign_in(bob.token()).await.unwrap();
    for _ in 0..6 {
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(busy.ping().await.unwrap(), 1);
    }
    assert_eq!(expect_out(&mut idle).await, OutReason::IdleTimeout);
    busy.ping().await.unwrap();
}

#[tokio::test]
async fn stalled_handshakes_cannot_hold_every_handshake_slot() {
    let t = TestServer::start().await;
    let alice = t.user("alice").await;
    // More clients than there are handshake slots each send the start of a ClientHello
    // and stall: each takes a slot, but may keep it only briefly.
    // mocha-net's ListenerLimits default: 64 handshake slots, each held at most 500 ms.
    let mut stalled = Vec::new();
    for _ in 0..80 {
        let mut tcp = tokio::net::TcpStream::connect(t.server.ns_addr.unwrap()).await.unwrap();
        tcp.write_all(&[0x16, 0x03, 0x01, 0x02, 0x00, 0x01]).await.unwrap();
        stalled.push(tcp);
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    let started = std::time::Instant::now();
    let mut a = tokio::time::timeout(Duration::from_secs(5), signed_in(&t, &alice))
        .await
        .expect("signed in while stalled handshakes wait");
    a.ping().await.unwrap();
    assert!(started.elapsed() < Duration::from_secs(5), "well before the handshake timeout");
}

#[tokio::test]
async fn command_floods_are_rate_limited() {
    let t = TestServer::start().await;
    let alice = t.user("alice").await;
    let (_ns, address, _stop) = custom_ns(&t, |c| {
        c.command_burst = 5;
        c.commands_per_second = 2;
    })
    .await;
    let mut a = connect(address, &t).await;
    a.sign_in(alice.token()).await.unwrap(); // VER and USR: 2 of the 5
    let mut flood = Vec::new();
    for trid in 100..110 {
        ClientCommand::Png(client::Png { trid }).into_frame().encode(&mut flood);
    }
    a.send_raw(&flood).await.unwrap();
    let (mut answered, mut limited) = (0, 0);
    for _ in 0..10 {
        match a.read().await.unwrap() {
            ServerCommand::Qng(_) => answered += 1,
            ServerCommand::Err(reply) if reply.code == ErrorCode::RateLimited => limited += 1,
            other => panic!("unexpected {}", other.into_frame()),
        }
    }
    assert_eq!((answered, limited), (3, 7));
    tokio::time::sleep(Duration::from_millis(600)).await;
    a.ping().await.expect("allowed again after a pause");
}

#[tokio::test]
async fn a_slow_reader_is_dropped_without_slowing_anyone_else() {
    let t = TestServer::start().await;
    let (bob, carol) = (t.user("bob").await, t.user("carol").await);
    let admin = t.make_admin(&t.user("root").await).await;
    let (ns, address, _stop) = custom_ns(&t, |c| c.outbound_queue = 256).await;

    // Bob never reads again; Carol reads everything, counting notices.
    let mut slow = connect(address, &t).await;
    slow.sign_in(bob.token()).await.unwrap();
    let mut fast = connect(address, &t).await;
    fast.sign_in(carol.token()).await.unwrap();
    let counted = Arc::new(AtomicUsize::new(0));
    let reader = tokio::spawn({
        let counted = counted.clone();
        async move {
            loop {
                match fast.read().await? {
                    ServerCommand::Not(not) if not.text == "last" => return Ok::<_, NsError>(fast),
                    ServerCommand::Not(_) => counted.fetch_add(1, Ordering::Relaxed),
                    other => panic!("unexpected {}", other.into_frame()),
                };
            }
        }
    });

    let text = "n".repeat(1000);
    let mut posted = 0;
    while ns.online_users() == 2 {
        assert!(posted < 100_000, "the slow reader was never dropped");
        t.server.passport.post_notice(admin.account.id, &text).await.unwrap();
        posted += 1;
    }
    t.server.passport.post_notice(admin.account.id, "last").await.unwrap();
    let mut fast = tokio::time::timeout(Duration::from_secs(30), reader).await.unwrap().unwrap().unwrap();
    assert_eq!(counted.load(Ordering::Relaxed), posted, "the fast reader got every notice");
    fast.ping().await.unwrap();
    assert_eq!(ns.online_users(), 1);
    // Bob's connection ends once what was already sent has been read.
    tokio::time::timeout(Duration::from_secs(30), expect_closed(&mut slow)).await.unwrap();
}

#[tokio::test]
async fn shutdown_says_goodbye_to_everyone() {
    let t = TestServer::start().await;
    let (alice, bob) = (t.user("alice").await, t.user("bob").await);
    let mut a = online(&t, &alice, Status::Online).await;
    let mut b = signed_in(&t, &bob).await;
    t.stop().await;
    assert_eq!(expect_out(&mut a).await, OutReason::ServerShutdown);
    assert_eq!(expect_out(&mut b).await, OutReason::ServerShutdown);
}
