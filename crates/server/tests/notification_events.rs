//! Passport changes reaching the Notification Server at once: contact-list pushes with
//! their presence consequences, service notices, and ringing for the Switchboard.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

mod common;
mod notification_support;

use common::{Engine, TestServer};
use mocha_auth::{SignedClaims, SwitchboardTicket, unix_now};
use mocha_client::api::ContactListEvent;
use mocha_client::ns::NsConnection;
use mocha_client::proto::Status;
use mocha_client::proto::ns::ServerCommand;
use mocha_notification::RingError;
use notification_support::*;

mocha_passport::engine_tests!(
    contact_changes_arrive_as_con_with_presence,
    notices_reach_everyone_online,
    ring_follows_presence_and_privacy,
);

async fn expect_con(conn: &mut NsConnection) -> ContactListEvent {
    conn.expect_push(WAIT, |push| match push {
        ServerCommand::Con(con) => {
            Some(serde_json::from_slice(&con.payload).expect("CON carries a ContactListEvent"))
        }
        _ => None,
    })
    .await
    .expect("expected CON")
}

async fn contact_changes_arrive_as_con_with_presence(engine: Engine) {
    let t = TestServer::start_on(engine).await;
    let (alice, bob) = (t.user("alice").await, t.user("bob").await);
    let mut a = online(&t, &alice, Status::Online).await;
    a.set_personal_message("hello world").await.unwrap();
    let mut b = online(&t, &bob, Status::Away).await;

    // A request alone reveals no presence.
    let created =
        t.passport.request_contact(bob.token(), &alice.account.username, Some("hi!")).await.unwrap();
    let request = created.request.unwrap();
    match expect_con(&mut a).await {
        ContactListEvent::RequestReceived { request: got } => {
            assert_eq!(got.id, request.id);
            assert_eq!(got.message.as_deref(), Some("hi!"));
        }
        other => panic!("unexpected {other:?}"),
    }
    // The asker hears that it went out (every client of theirs lists it as waiting).
    assert!(
        matches!(expect_con(&mut b).await, ContactListEvent::RequestSent { request: sent } if sent.id == request.id)
    );
    assert_nothing_about(&mut a, bob.account.id).await;
    assert_nothing_about(&mut b, alice.account.id).await;

    // Accepting: both hear of it and at once see each other.
    t.passport.accept_request(alice.token(), request.id).await.unwrap();
    assert!(
        matches!(expect_con(&mut b).await, ContactListEvent::RequestAccepted { by } if by.id == alice.account.id)
    );
    assert_eq!(expect_nln(&mut b, alice.account.id).await.0, Status::Online);
    assert_eq!(expect_ubx(&mut b, alice.account.id).await, "hello world");
    assert!(
        matches!(expect_con(&mut a).await, ContactListEvent::ContactAdded { contact } if contact.id == bob.account.id)
    );
    assert_eq!(expect_nln(&mut a, bob.account.id).await.0, Status::Away);

    t.passport.set_alias(alice.token(), bob.account.id, Some("Bobby")).await.unwrap();
    assert!(
        matches!(expect_con(&mut a).await, ContactListEvent::AliasChanged { alias: Some(alias), .. } if alias == "Bobby")
    );

    // Alice blocks Bob: he sees her go offline at once; she still sees him.
    t.passport.block(alice.token(), bob.account.id).await.unwrap();
    assert!(
        matches!(expect_con(&mut a).await, ContactListEvent::Blocked { user } if user.id == bob.account.id)
    );
    expect_fln(&mut b, alice.account.id).await;
    a.set_status(Status::Busy).await.unwrap();
    assert_nothing_about(&mut b, alice.account.id).await;
    b.set_status(Status::Online).await.unwrap();
    assert_eq!(expect_nln(&mut a, bob.account.id).await.0, Status::Online);

    // Unblocking shows her again, as she is now.
    t.passport.unblock(alice.token(), bob.account.id).await.unwrap();
    assert!(matches!(expect_con(&mut a).await, ContactListEvent::Unblocked { .. }));
    assert_eq!(expect_nln(&mut b, alice.account.id).await.0, Status::Busy);
    assert_eq!(expect_ubx(&mut b, alice.account.id).await, "hello world");

    // Removing ends it both ways.
    t.passport.remove_contact(bob.token(), alice.account.id).await.unwrap();
    assert!(
        matches!(expect_con(&mut a).await, ContactListEvent::ContactRemoved { by } if by.id == bob.account.id)
    );
    expect_fln(&mut a, bob.account.id).await;
    assert!(matches!(expect_con(&mut b).await, ContactListEvent::ContactRemoved { .. }));
    expect_fln(&mut b, alice.account.id).await;
    a.set_status(Status::Online).await.unwrap();
    assert_nothing_about(&mut b, alice.account.id).await;

    // Declined and cancelled requests reach the other side too.
    let request = t
        .passport
        .request_contact(bob.token(), &alice.account.username, None)
        .await
        .unwrap()
        .request
        .unwrap();
    assert!(matches!(expect_con(&mut a).await, ContactListEvent::RequestReceived { .. }));
    assert!(matches!(expect_con(&mut b).await, ContactListEvent::RequestSent { .. }));
    t.passport.decline_request(alice.token(), request.id).await.unwrap();
    assert!(matches!(expect_con(&mut b).await, ContactListEvent::RequestDeclined { .. }));
    let request = t
        .passport
        .request_contact(bob.token(), &alice.account.username, None)
        .await
        .unwrap()
        .request
        .unwrap();
    assert!(matches!(expect_con(&mut a).await, ContactListEvent::RequestReceived { .. }));
    t.passport.cancel_request(bob.token(), request.id).await.unwrap();
    assert!(matches!(expect_con(&mut a).await, ContactListEvent::RequestCancelled { .. }));
    // Pending requests are part of SYN on both sides.
    t.passport.request_contact(bob.token(), &alice.account.username, None).await.unwrap();
    assert_eq!(a.sync().await.unwrap().requests.incoming.len(), 1);
    assert_eq!(b.sync().await.unwrap().requests.outgoing.len(), 1);
}

async fn notices_reach_everyone_online(engine: Engine) {
    let t = TestServer::start_on(engine).await;
    let (alice, bob) = (t.user("alice").await, t.user("bob").await);
    let admin = t.make_admin(&t.user("root").await).await;
    let mut a = online(&t, &alice, Status::Online).await;
    // Signed in but appearing offline still gets notices.
    let mut b = online(&t, &bob, Status::Hidden).await;
    t.passport.post_notice(admin.token(), "Maintenance at 22:00 UTC").await.unwrap();
    for conn in [&mut a, &mut b] {
        let text = conn
            .expect_push(WAIT, |push| match push {
                ServerCommand::Not(not) => Some(not.text.clone()),
                _ => None,
            })
            .await
            .unwrap();
        assert_eq!(text, "Maintenance at 22:00 UTC");
    }
}

async fn ring_follows_presence_and_privacy(engine: Engine) {
    let t = TestServer::start_on(engine).await;
    let (alice, bob) = (t.user("alice").await, t.user("bob").await);
    t.befriend(&alice, &bob).await;
    let ns = t.server.notification.clone();
    let (a_id, b_id) = (alice.account.id, bob.account.id);

    assert!(matches!(ns.ring(a_id, &bob.account.username, "room1").await, Err(RingError::Offline)));
    assert!(matches!(ns.ring(a_id, "nobody@example.com", "room1").await, Err(RingError::UnknownUser)));
    assert!(matches!(ns.ring(a_id, "u999", "room1").await, Err(RingError::UnknownUser)));

    let mut b = online(&t, &bob, Status::Online).await;
    let outcome = ns.ring(a_id, &bob.account.username, "room1").await.unwrap();
    assert_eq!(outcome.callee.id, b_id);
    let rng = b
        .expect_push(WAIT, |push| match push {
            ServerCommand::Rng(rng) => Some(rng.clone()),
            _ => None,
        })
        .await
        .unwrap();
    assert_eq!(rng.room_id, "room1");
    assert_eq!(rng.caller_id, a_id.to_string().as_str());
    assert_eq!(rng.caller_username, alice.account.username.as_str());
    assert_eq!(rng.caller_display_name, "Alice");
    assert_eq!(rng.address, format!("localhost:{}", t.server.sb_addr.unwrap().port()).as_str());
    let ticket = SwitchboardTicket::verify(&rng.ticket, &ns.ticket_verifier(), unix_now()).unwrap();
    assert_eq!(
        (ticket.sub, ticket.room.as_str()),
        (b_id, "room1"),
        "the ticket is the callee's, for this room"
    );

    // By user id works as well.
    ns.ring(a_id, &b_id.to_string(), "room2").await.unwrap();

    // Appearing offline is offline.
    b.set_status(Status::Hidden).await.unwrap();
    assert!(matches!(ns.ring(a_id, &b_id.to_string(), "room3").await, Err(RingError::Offline)));
    b.set_status(Status::Online).await.unwrap();

    // Bob blocking Alice: she sees him offline, and that is what she is told.
    t.passport.block(bob.token(), a_id).await.unwrap();
    assert!(matches!(ns.ring(a_id, &b_id.to_string(), "room4").await, Err(RingError::Offline)));
    // Alice may not ring someone she has blocked, nor a stranger.
    t.passport.unblock(bob.token(), a_id).await.unwrap();
    t.passport.block(alice.token(), b_id).await.unwrap();
    assert!(matches!(ns.ring(a_id, &b_id.to_string(), "room5").await, Err(RingError::NotAllowed)));
    let dave = t.user("dave").await;
    let mut d = online(&t, &dave, Status::Online).await;
    assert!(matches!(ns.ring(a_id, &dave.account.username, "room6").await, Err(RingError::NotAllowed)));
    assert!(matches!(ns.ring(a_id, &alice.account.username, "room7").await, Err(RingError::NotAllowed)));

    // Only room2's ring reached Bob after room1; Dave got none.
    let second = b
        .expect_push(WAIT, |push| match push {
            ServerCommand::Rng(rng) => Some(rng.room_id.to_string()),
            _ => None,
        })
        .await
        .unwrap();
    assert_eq!(second, "room2");
    assert_no_push(&mut d).await;
    let more = b.expect_push(QUIET, |push| matches!(push, ServerCommand::Rng(_)).then_some(())).await;
    assert!(more.is_err(), "no ring for refused calls");
}
