//! The calls' UDP media relay against a real server: control over real TLS with
//! `mocha-client`, media over real UDP on loopback, datagrams built with the project's
//! own header and sealing code. Grants, binding, forwarding both ways, every refusal
//! (counted, never forwarded), members forgotten at once, and bridging to `MED` frames.

mod common;
mod notification_support;
mod relay_support;
mod switchboard_support;

use std::time::Duration;

use common::TestServer;
use mocha_client::proto::im::CallCommand;
use mocha_client::proto::media::{BIND_TOKEN_LEN, Bind, MediaHeader};
use mocha_client::proto::sb::client::AckMode;
use mocha_client::sb::SbEvent;
use relay_support::*;
use switchboard_support::*;

/// Long enough for a datagram on loopback; anything later is not coming.
const GONE: Duration = Duration::from_millis(300);

fn stats(t: &TestServer) -> mocha_switchboard::RelayStats {
    t.server.switchboard.as_ref().expect("every role runs").relay().stats()
}

/// Both bound; one packet each way arrives, so the relay is known to be carrying the call.
async fn bound_call(t: &TestServer) -> (Side, Side) {
    let (_alice, _bob, a, b) = alice_and_bob(t).await;
    let (a, b) = start_call(t, a, b).await;
    a.bind_ok().await;
    b.bind_ok().await;
    (a, b)
}

#[tokio::test]
async fn both_members_get_a_grant_bind_and_their_media_crosses_by_udp_bit_exact() {
    let t = TestServer::start().await;
    let (_alice, _bob, a, b) = alice_and_bob(&t).await;
    let (mut a, mut b) = start_call(&t, a, b).await;

    let relay = format!("localhost:{}", t.server.relay_addr.unwrap().port());
    assert_eq!((a.grant.relay.as_str(), b.grant.relay.as_str()), (relay.as_str(), relay.as_str()));
    assert_ne!(a.grant.member_id, b.grant.member_id);
    assert_eq!(a.grant.media_key, b.grant.media_key, "one key per call");
    assert_ne!(a.grant.bind_token, b.grant.bind_token);
    assert_eq!(a.grant.bind_token.len(), BIND_TOKEN_LEN);
    assert!(!format!("{:?}", a.grant).contains(&a.grant.media_key), "the key is never printed");

    a.bind_ok().await;
    b.bind_ok().await;
    for i in 0..10u8 {
        let from_a = a.packet(&[i; 160]);
        a.send_udp(&from_a).await;
        assert_eq!(b.recv_udp(WAIT).await.unwrap(), from_a, "A → B unchanged");
        let from_b = b.packet(&[200 + i; 120]);
        b.send_udp(&from_b).await;
        let got = a.recv_udp(WAIT).await.unwrap();
        assert_eq!(got, from_b, "B → A unchanged");
        let (header, plain) = a.key.open(&got).unwrap();
        assert_eq!((header.member, plain), (b.grant.member_id, vec![200 + i; 120]));
    }
    let s = stats(&t);
    assert_eq!((s.forwarded_udp, s.forwarded_tls, s.bound), (20, 0, 2), "{s:?}");
    assert!(a.recv_tls(GONE).await.is_none(), "nothing doubled over TLS");

    // Hang-up: the call is forgotten, tokens and addresses with it.
    b.sb.send(&call(CallCommand::Hangup, None), AckMode::Always).await.unwrap();
    expect_message(&mut a.sb).await;
    assert_eq!(
        (
            t.server.switchboard.as_ref().unwrap().relay().call_count(),
            t.server.switchboard.as_ref().unwrap().relay().bound_count()
        ),
        (0, 0)
    );
}

#[tokio::test]
async fn strangers_replays_forgeries_bad_tokens_and_oversize_are_counted_and_not_forwarded() {
    let t = TestServer::start().await;
    let (mut a, b) = bound_call(&t).await;
    let before = stats(&t);

    // A stranger replaying A's real packet from its own address.
    let good = a.packet(b"hello");
    let stranger = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    stranger.send_to(&good, t.server.relay_addr.unwrap()).await.unwrap();
    assert!(b.recv_udp(GONE).await.is_none(), "a stranger's datagram goes nowhere");
    assert!(recv(&stranger, GONE).await.is_none(), "and is never answered");

    // The real one passes once; the same again is a replay.
    a.send_udp(&good).await;
    assert_eq!(b.recv_udp(WAIT).await.unwrap(), good);
    a.send_udp(&good).await;
    assert!(b.recv_udp(GONE).await.is_none(), "a replay goes nowhere");

    // A flipped tag bit, another key, B's member id from A's address.
    let mut tampered = a.packet(b"tampered");
    *tampered.last_mut().unwrap() ^= 1;
    a.send_udp(&tampered).await;
    let header = MediaHeader { member: a.grant.member_id, stream: 0, seq: 1, timestamp: 0 };
    a.send_udp(&mocha_auth::MediaKey::generate().seal(&header, b"wrong key")).await;
    let header = MediaHeader { member: b.grant.member_id, stream: 0, seq: 1, timestamp: 0 };
    a.send_udp(&a.key.seal(&header, b"posing as b")).await;
    assert!(b.recv_udp(GONE).await.is_none(), "forgeries go nowhere");

    // A token nobody was given, and the right token under another member id.
    let forged = Bind { member: a.grant.member_id, probe: 1, token: [b'A'; BIND_TOKEN_LEN] };
    stranger.send_to(&forged.encode(), t.server.relay_addr.unwrap()).await.unwrap();
    let mut token = [0u8; BIND_TOKEN_LEN];
    token.copy_from_slice(b.grant.bind_token.as_bytes());
    let crossed = Bind { member: a.grant.member_id, probe: 2, token };
    stranger.send_to(&crossed.encode(), t.server.relay_addr.unwrap()).await.unwrap();
    assert!(recv(&stranger, GONE).await.is_none(), "no BOUND for a bad token");

    // Over relay_max_packet (1,280 bytes).
    let oversize = a.packet(&[1u8; 1300]);
    a.send_udp(&oversize).await;
    assert!(b.recv_udp(GONE).await.is_none(), "oversize goes nowhere");

    let s = stats(&t);
    assert_eq!(s.dropped_stranger - before.dropped_stranger, 1, "{s:?}");
    assert_eq!(s.dropped_replay - before.dropped_replay, 1, "{s:?}");
    assert_eq!(s.dropped_forged - before.dropped_forged, 3, "{s:?}");
    assert_eq!(s.dropped_token - before.dropped_token, 2, "{s:?}");
    assert_eq!(s.dropped_oversize - before.dropped_oversize, 1, "{s:?}");
    assert_eq!(s.forwarded_udp - before.forwarded_udp, 1, "only the one good packet: {s:?}");

    // The call still works after all that.
    let again = a.packet(b"still here");
    a.send_udp(&again).await;
    assert_eq!(b.recv_udp(WAIT).await.unwrap(), again);
}

#[tokio::test]
async fn after_hang_up_the_old_token_and_address_are_dead() {
    let t = TestServer::start().await;
    let (mut a, mut b) = bound_call(&t).await;
    a.sb.send(&call(CallCommand::Hangup, None), AckMode::Always).await.unwrap();
    expect_message(&mut b.sb).await;
    let before = stats(&t);

    assert!(a.bind(9).await.is_none(), "a dead token is not answered");
    let late = a.packet(b"late");
    a.send_udp(&late).await;
    assert!(b.recv_udp(GONE).await.is_none());
    let s = stats(&t);
    assert_eq!(
        (s.dropped_token - before.dropped_token, s.dropped_stranger - before.dropped_stranger),
        (1, 1)
    );
    assert_eq!(s.forwarded_udp, before.forwarded_udp);
}

#[tokio::test]
async fn a_member_over_its_packet_rate_is_throttled() {
    // 20 packets a second, a burst of 16.
    let t = TestServer::start_with(|c| c.relay_packets_per_second = 20).await;
    let (mut a, b) = bound_call(&t).await;
    let sent = 60;
    for i in 0..sent {
        let packet = a.packet(&[i; 100]);
        a.send_udp(&packet).await;
    }
    let mut arrived = 0;
    while b.recv_udp(GONE).await.is_some() {
        arrived += 1;
    }
    let s = stats(&t);
    assert!((16..=20).contains(&arrived), "{arrived} of {sent} arrived");
    assert_eq!(s.dropped_throttled, u64::from(sent) - arrived, "{s:?}");
    assert_eq!(s.forwarded_udp, arrived);
}

#[tokio::test]
async fn a_block_between_members_forgets_their_bindings_at_once() {
    let t = TestServer::start().await;
    let (alice, bob, a, b) = alice_and_bob(&t).await;
    let (mut a, b) = start_call(&t, a, b).await;
    a.bind_ok().await;
    b.bind_ok().await;
    assert_eq!(t.server.switchboard.as_ref().unwrap().relay().bound_count(), 2);

    t.passport.block(bob.user.token(), alice.user.account.id).await.unwrap();
    let relay = t.server.switchboard.as_ref().unwrap().relay().clone();
    wait_until(|| relay.bound_count() == 0).await;
    let before = stats(&t);
    let blocked = a.packet(b"can you hear me");
    a.send_udp(&blocked).await;
    assert!(b.recv_udp(GONE).await.is_none(), "nothing passes a block");
    assert!(a.bind(3).await.is_none(), "the token died with the block");
    let s = stats(&t);
    assert_eq!(
        (s.dropped_stranger - before.dropped_stranger, s.dropped_token - before.dropped_token),
        (1, 1)
    );
}

#[tokio::test]
async fn a_ban_mid_call_forgets_the_banned_member_at_once() {
    let t = TestServer::start().await;
    let admin = t.user("admin").await;
    let admin = t.make_admin(&admin).await;
    let (_alice, bob, a, b) = alice_and_bob(&t).await;
    let (a, mut b) = start_call(&t, a, b).await;
    a.bind_ok().await;
    b.bind_ok().await;

    let ban = mocha_client::api::BanRequest { user_id: bob.user.account.id, reason: None, until: None };
    t.passport.ban(admin.token(), &ban).await.unwrap();
    let relay = t.server.switchboard.as_ref().unwrap().relay().clone();
    wait_until(|| relay.bound_count() == 0 && relay.call_count() == 0).await;
    let before = stats(&t);
    let from_banned = b.packet(b"still talking");
    b.send_udp(&from_banned).await;
    assert!(a.recv_udp(GONE).await.is_none(), "the banned member reaches nobody");
    assert_eq!(stats(&t).dropped_stranger - before.dropped_stranger, 1);
}

#[tokio::test]
async fn a_member_on_tls_is_bridged_to_one_on_udp_and_moves_back() {
    let t = TestServer::start().await;
    let (mut a, mut b) = bound_call(&t).await;

    // A sends over TLS: its path becomes TLS; B, on UDP, gets the bytes by UDP.
    let over_tls = a.packet(b"via the switchboard");
    a.send_tls(&over_tls).await;
    assert_eq!(b.recv_udp(WAIT).await.unwrap(), over_tls);
    // B's datagrams now reach A as MED frames, unchanged.
    let to_a = b.packet(b"back by udp");
    b.send_udp(&to_a).await;
    assert_eq!(a.recv_tls(WAIT).await.unwrap(), to_a);
    assert!(a.recv_udp(GONE).await.is_none(), "not also by UDP");

    // A's next UDP datagram moves its path back.
    let over_udp = a.packet(b"udp again");
    a.send_udp(&over_udp).await;
    assert_eq!(b.recv_udp(WAIT).await.unwrap(), over_udp);
    let to_a = b.packet(b"and by udp");
    b.send_udp(&to_a).await;
    assert_eq!(a.recv_udp(WAIT).await.unwrap(), to_a);

    // Over TLS, the same checks: a replay is dropped, a forgery refused with an error.
    a.send_tls(&over_udp).await;
    assert!(b.recv_udp(GONE).await.is_none(), "a replay over TLS goes nowhere");
    let mut forged = a.packet(b"forged");
    forged[20] ^= 1;
    a.send_tls(&forged).await;
    assert_eq!(expect_refused(&mut a.sb).await, mocha_client::proto::ErrorCode::InvalidArgument);

    let s = stats(&t);
    assert_eq!(s.path_switches, 2, "UDP → TLS → UDP: {s:?}");
    assert_eq!((s.forwarded_udp, s.forwarded_tls), (3, 1), "{s:?}");
    assert_eq!((s.dropped_replay, s.dropped_forged), (1, 1), "{s:?}");
}

#[tokio::test]
async fn a_late_joiner_gets_a_grant_and_hears_the_others() {
    let t = TestServer::start().await;
    let mut alice = person(&t, "alice").await;
    let mut bob = person(&t, "bob").await;
    let mut carol = person(&t, "carol").await;
    t.befriend(&alice.user, &bob.user).await;
    t.befriend(&alice.user, &carol.user).await;
    let mut a = open(&t, &mut alice).await;
    let mut b = bring_in(&t, &mut a, &mut bob).await;
    let mut c = bring_in(&t, &mut a, &mut carol).await;
    expect_joined(&mut b).await;

    a.send(&call(CallCommand::Invite, None), AckMode::Always).await.unwrap();
    expect_message(&mut b).await;
    expect_message(&mut c).await;
    b.send(&call(CallCommand::Accept, None), AckMode::Always).await.unwrap();
    let (mut a, b) = (Side::new(&t, a).await, Side::new(&t, b).await);
    assert!(
        c.expect_event(GONE, |e| matches!(e, SbEvent::Relay(_)).then_some(())).await.is_err(),
        "still ringing: no grant"
    );
    c.send(&call(CallCommand::Accept, None), AckMode::Always).await.unwrap();
    let c = Side::new(&t, c).await;
    assert_eq!(c.grant.media_key, a.grant.media_key);
    for side in [&a, &b, &c] {
        side.bind_ok().await;
    }
    let packet = a.packet(b"to both");
    a.send_udp(&packet).await;
    assert_eq!(b.recv_udp(WAIT).await.unwrap(), packet);
    assert_eq!(c.recv_udp(WAIT).await.unwrap(), packet);
}

async fn wait_until(mut condition: impl FnMut() -> bool) {
    let started = std::time::Instant::now();
    while !condition() {
        assert!(started.elapsed() < WAIT, "the condition never held");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
