//! Switchboard conversations through real TLS: joining, group chat, typing, nudges,
//! acknowledgements, offline alerts, tickets, and nothing left behind.

mod common;
mod notification_support;
mod relay_support;
mod switchboard_support;

use bytes::Bytes;
use common::TestServer;
use mocha_auth::{SignedClaims, SigningKey, SwitchboardTicket, unix_now};
use mocha_client::MenpError;
use mocha_client::proto::im::{ImPayload, TextFormat};
use mocha_client::proto::sb::client::{AckMode, Msg};
use mocha_client::proto::{ErrorCode, Frame};
use mocha_client::sb::{Delivery, SbConnection, SbEvent};
use switchboard_support::*;

fn refused<T>(result: Result<T, MenpError>) -> ErrorCode {
    match result {
        Ok(_) => panic!("the switchboard should refuse"),
        Err(MenpError::Refused(reply)) => reply.code,
        Err(other) => panic!("expected ERR, got {other}"),
    }
}

#[tokio::test]
async fn two_people_chat_with_fonts_typing_nudges_and_acks() {
    let t = TestServer::start().await;
    let mut alice = person(&t, "alice").await;
    let mut bob = person(&t, "bob").await;
    t.befriend(&alice.user, &bob.user).await;

    let mut a = open(&t, &mut alice).await;
    a.invite("bob@example.com").await.unwrap();
    let (mut b, present) = answer(&t, &mut bob).await;
    assert_eq!(present.len(), 1);
    assert_eq!(present[0].user_id, alice.user.account.id);
    assert_eq!(present[0].display_name, "Alice");
    assert_eq!(expect_joined(&mut a).await.display_name, "Bob");

    let format =
        TextFormat { font: Some("Comic Sans MS".into()), color: Some("ff0000".into()), effects: "B".into() };
    let text = ImPayload::Text { text: "hi Bob 😀".into(), format: format.clone() };
    assert_eq!(a.send(&text, AckMode::Always).await.unwrap(), Delivery::Delivered);
    let (from, payload) = expect_message(&mut b).await;
    assert_eq!(from.user_id, alice.user.account.id);
    assert_eq!(payload, text, "text and font arrive as sent");

    b.send_typing().await.unwrap();
    let (_, typing) = expect_message(&mut a).await;
    assert_eq!(typing, ImPayload::Typing { user: bob.user.account.id.to_string() });
    assert_eq!(b.send_nudge().await.unwrap(), Delivery::Delivered);
    assert_eq!(expect_message(&mut a).await.1, ImPayload::Nudge);

    // Bob leaves: Alice sees it, and what she says next reaches nobody (NAK) and
    // becomes an activity alert for Bob.
    b.leave().await.unwrap();
    let left = a.expect_event(WAIT, |e| matches!(e, SbEvent::Left { .. }).then(|| e.clone())).await.unwrap();
    assert_eq!(left, SbEvent::Left { user_id: bob.user.account.id, reason: None });
    assert_eq!(a.send_text("are you still there?").await.unwrap(), Delivery::NotDelivered);
    let alerts = t.passport.poll_alerts(bob.user.token()).await.unwrap();
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0].text, "are you still there?");
    assert_eq!(alerts[0].sender.id, alice.user.account.id);
    assert!(t.passport.poll_alerts(bob.user.token()).await.unwrap().is_empty(), "polling deletes");

    // Typing and nudges to nobody are not alerts; neither is an N-mode success.
    a.send_typing().await.unwrap();
    assert!(t.passport.poll_alerts(bob.user.token()).await.unwrap().is_empty());
}

#[tokio::test]
async fn three_people_hear_everything_in_order() {
    let t = TestServer::start().await;
    let mut alice = person(&t, "alice").await;
    let mut bob = person(&t, "bob").await;
    let mut carol = person(&t, "carol").await;
    t.befriend(&alice.user, &bob.user).await;
    t.befriend(&alice.user, &carol.user).await;
    t.befriend(&bob.user, &carol.user).await;

    let mut a = open(&t, &mut alice).await;
    let mut b = bring_in(&t, &mut a, &mut bob).await;
    // Bob invites Carol: anyone in the room may.
    b.invite(&carol.user.account.id.to_string()).await.unwrap();
    let (mut c, present) = answer(&t, &mut carol).await;
    let mut names: Vec<_> = present.iter().map(|p| p.display_name.clone()).collect();
    names.sort();
    assert_eq!(names, ["Alice", "Bob"]);
    expect_joined(&mut a).await;
    expect_joined(&mut b).await;

    for i in 0..30 {
        assert_eq!(a.send_text(&format!("message {i}")).await.unwrap(), Delivery::Delivered);
    }
    for receiver in [&mut b, &mut c] {
        for i in 0..30 {
            assert_eq!(expect_text(receiver).await, format!("message {i}"));
        }
    }
    c.send_text("hello both").await.unwrap();
    assert_eq!(expect_text(&mut a).await, "hello both");
    assert_eq!(expect_text(&mut b).await, "hello both");
    assert_no_message(&mut c).await; // nobody hears themselves
}

#[tokio::test]
async fn inviting_offline_blocked_and_strangers() {
    let t = TestServer::start().await;
    let mut alice = person(&t, "alice").await;
    let bob = t.user("bob").await; // a contact who is not signed in
    let carol = t.user("carol").await; // a contact who blocked Alice
    let _dave = t.user("dave").await; // not a contact
    t.befriend(&alice.user, &bob).await;
    t.befriend(&alice.user, &carol).await;
    t.passport.block(carol.token(), alice.user.account.id).await.unwrap();

    let mut a = open(&t, &mut alice).await;
    assert_eq!(refused(a.invite("bob@example.com").await), ErrorCode::UserOffline);
    assert_eq!(
        refused(a.invite("carol@example.com").await),
        ErrorCode::UserOffline,
        "a block looks like offline"
    );
    assert_eq!(refused(a.invite("dave@example.com").await), ErrorCode::NotAllowed);
    assert_eq!(refused(a.invite("nobody@example.com").await), ErrorCode::UnknownUser);

    // What Alice types while alone goes to Bob as an alert (cut to 320 characters); not to Carol.
    let long = "x".repeat(500);
    assert_eq!(a.send_text(&long).await.unwrap(), Delivery::NotDelivered);
    let alerts = t.passport.poll_alerts(bob.token()).await.unwrap();
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0].text.len(), 320);
    assert_eq!(alerts[0].kind, "message");
    assert!(t.passport.poll_alerts(carol.token()).await.unwrap().is_empty());
}

#[tokio::test]
async fn bad_tickets_are_refused() {
    let t = TestServer::start().await;
    let mut alice = person(&t, "alice").await;
    let mut bob = person(&t, "bob").await;
    t.befriend(&alice.user, &bob.user).await;
    let referral = alice.ns.request_switchboard().await.unwrap();
    let address = referral.address.clone();
    let (a_id, b_id) = (alice.user.account.id, bob.user.account.id);

    let forged = SwitchboardTicket { sub: a_id, room: "r1".into(), exp: unix_now() + 60 }
        .sign(&SigningKey::generate());
    assert_eq!(
        refused(SbConnection::open(&address, &forged, a_id, &t.trust).await),
        ErrorCode::TicketInvalid
    );
    assert_eq!(
        refused(SbConnection::open(&address, "garbage", a_id, &t.trust).await),
        ErrorCode::TicketInvalid
    );
    // Alice's ticket in Bob's hands.
    assert_eq!(
        refused(SbConnection::open(&address, &referral.ticket, b_id, &t.trust).await),
        ErrorCode::TicketInvalid
    );

    // A real NS signature, but expired.
    let ns_key = SigningKey::load_or_create(&t.dir.path().join("keys/notification-ed25519.seed")).unwrap();
    let expired = SwitchboardTicket { sub: a_id, room: "r1".into(), exp: unix_now() - 1 }.sign(&ns_key);
    assert_eq!(
        refused(SbConnection::open(&address, &expired, a_id, &t.trust).await),
        ErrorCode::TicketExpired
    );

    // A callee's ticket is for one room only, and the room must exist.
    let mut a = SbConnection::open(&address, &referral.ticket, a_id, &t.trust).await.unwrap().0;
    let room = a.invite(&b_id.to_string()).await.unwrap();
    let rng = bob
        .ns
        .expect_push(WAIT, |p| match p {
            mocha_client::proto::ns::ServerCommand::Rng(rng) => Some(rng.clone()),
            _ => None,
        })
        .await
        .unwrap();
    let elsewhere = SbConnection::answer(&address, rng.ticket.as_str(), "another-room", b_id, &t.trust).await;
    assert_eq!(refused(elsewhere), ErrorCode::TicketInvalid);
    let ghost = SwitchboardTicket { sub: b_id, room: "ghost".into(), exp: unix_now() + 60 }.sign(&ns_key);
    assert_eq!(
        refused(SbConnection::answer(&address, &ghost, "ghost", b_id, &t.trust).await),
        ErrorCode::NotInConversation
    );
    let (_b, present) =
        SbConnection::answer(&address, rng.ticket.as_str(), &room, b_id, &t.trust).await.unwrap();
    assert_eq!(present[0].user_id, a_id);
}

#[tokio::test]
async fn bad_input_gets_errors_and_oversize_frames_close_only_that_connection() {
    let t = TestServer::start().await;
    let mut alice = person(&t, "alice").await;
    let mut bob = person(&t, "bob").await;
    let mut carol = person(&t, "carol").await;
    for (x, y) in [(&alice, &bob), (&alice, &carol)] {
        t.befriend(&x.user, &y.user).await;
    }
    let mut a = open(&t, &mut alice).await;
    let mut b = bring_in(&t, &mut a, &mut bob).await;
    let mut c = bring_in(&t, &mut a, &mut carol).await;
    expect_joined(&mut b).await;

    // A malformed message payload, an unknown command, a media frame with no call.
    let trid = b.connection().next_trid();
    let bad = Msg { trid, ack: AckMode::Always, payload: Bytes::from_static(b"no headers here") };
    b.connection().send_frame(&bad.into_frame()).await.unwrap();
    assert_eq!(expect_refused(&mut b).await, ErrorCode::InvalidArgument);
    let trid = b.connection().next_trid();
    b.connection()
        .send_frame(&Frame::new(mocha_client::proto::Command::from_bytes(b"ZZZ").unwrap(), trid))
        .await
        .unwrap();
    assert_eq!(expect_refused(&mut b).await, ErrorCode::UnknownCommand);
    b.send_media("no-such-call", Bytes::from_static(b"x")).await.unwrap();
    assert_eq!(expect_refused(&mut b).await, ErrorCode::InvalidArgument);
    // Text over the size limit.
    let huge = "y".repeat(9000);
    let reply = b.send(&ImPayload::Text { text: huge, format: TextFormat::default() }, AckMode::Always).await;
    assert_eq!(refused(reply), ErrorCode::PayloadTooLarge);
    assert_eq!(b.send_text("still here").await.unwrap(), Delivery::Delivered, "errors do not disconnect");
    assert_eq!(expect_text(&mut a).await, "still here");

    // A payload over 64 KiB is a framing error: Bob's connection ends, the others go on.
    b.connection().send_raw(b"MSG 9 A 70000\r\n").await.unwrap();
    let ended = b.expect_event(WAIT, |e| match e {
        SbEvent::Refused(r) if r.trid == 0 => Some(r.code),
        _ => None,
    });
    assert_eq!(ended.await.unwrap(), ErrorCode::PayloadTooLarge);
    let left = a.expect_event(WAIT, |e| matches!(e, SbEvent::Left { .. }).then_some(())).await;
    assert!(left.is_ok(), "Alice sees Bob go");
    c.send_text("we are fine").await.unwrap();
    assert_eq!(expect_text(&mut a).await, "we are fine");
}

#[tokio::test]
async fn nothing_said_is_left_on_disk() {
    let t = TestServer::start().await;
    let (_alice, _bob, mut a, mut b) = alice_and_bob(&t).await;
    let marker = "zebra-quartz-7741-secret-words";
    a.send_text(marker).await.unwrap();
    assert_eq!(expect_text(&mut b).await, marker);
    b.send_text(&format!("{marker} back")).await.unwrap();
    expect_text(&mut a).await;

    // A call whose media carries a marker, by UDP and over TLS; and its key.
    let media_marker = "okapi-basalt-2290-spoken-words";
    let (mut a, b) = relay_support::start_call(&t, a, b).await;
    a.bind_ok().await;
    b.bind_ok().await;
    for over_tls in [false, true] {
        let packet = a.packet(media_marker.as_bytes());
        if over_tls {
            a.send_tls(&packet).await
        } else {
            a.send_udp(&packet).await
        }
        let got = b.recv_udp(WAIT).await.expect("media arrives");
        assert_eq!(b.key.open(&got).unwrap().1, media_marker.as_bytes());
    }
    let key = a.grant.media_key.clone();
    a.sb.leave().await.unwrap();
    b.sb.leave().await.unwrap();

    let (dir, _config) = t.stop().await;
    let mut pending = vec![dir.path().to_path_buf()];
    let mut files = 0;
    while let Some(path) = pending.pop() {
        for entry in std::fs::read_dir(&path).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
            } else {
                files += 1;
                let bytes = std::fs::read(&path).unwrap();
                for (secret, what) in
                    [(marker, "message text"), (media_marker, "call media"), (key.as_str(), "a media key")]
                {
                    assert!(
                        !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
                        "{} holds {what}",
                        path.display()
                    );
                }
            }
        }
    }
    assert!(files >= 5, "the data folder was scanned ({files} files)");
}

#[tokio::test]
async fn a_framing_error_says_which_rule_broke() {
    use mocha_client::menp::MenpConnection;
    use mocha_client::proto::sb::ServerCommand;
    let t = TestServer::start().await;
    let address = format!("localhost:{}", t.server.sb_addr.unwrap().port());
    for (line, rule) in [
        (&b"MSG 9 A 5\n"[..], "line must end with CR LF"),
        (b"msg 9 A 5\r\n", "command must be three uppercase ASCII letters"),
        (b"MSG nine A 5\r\n", "missing or invalid transaction id"),
        (b"MSG 9 A five\r\n", "missing or invalid payload length"),
        (b"MSG 9  A 5\r\n", "empty argument"),
    ] {
        let mut sb = MenpConnection::<ServerCommand>::connect_to(&address, &t.trust).await.unwrap();
        sb.send_raw(line).await.unwrap();
        match sb.read().await {
            Ok(ServerCommand::Err(reply)) => {
                assert_eq!((reply.trid, reply.code, reply.reason.as_str()), (0, ErrorCode::SyntaxError, rule))
            }
            other => panic!("expected ERR 0 for {:?}, got {other:?}", String::from_utf8_lossy(line)),
        }
    }
}
