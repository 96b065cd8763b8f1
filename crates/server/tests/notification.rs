//! The Notification Server through real TLS sockets: sign-in, sync, presence and the
//! privacy rules, refused tokens, and sessions ended by moderation or another sign-in.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

mod common;
mod notification_support;

use std::time::Duration;

use common::{Engine, TestServer};
use mocha_auth::{SignedClaims, SwitchboardTicket, unix_now};
use mocha_client::api::{BanRequest, PresenceStatus};
use mocha_client::ns::NsError;
use mocha_client::proto::{BanUntil, ErrorCode, OutReason, Status};
use notification_support::*;

mocha_passport::engine_tests!(
    two_contacts_see_presence_messages_and_names_change,
    blocked_users_and_non_contacts_learn_nothing,
    appear_offline_looks_exactly_like_offline,
    three_users_each_see_their_contacts_only,
    bad_expired_revoked_and_banned_tokens_are_refused,
    ban_deletion_revocation_and_a_second_sign_in_end_live_sessions,
    a_second_sign_in_shows_offline_until_it_chooses_a_status,
    switchboard_tickets_updates_keepalive_and_the_online_count,
);

async fn two_contacts_see_presence_messages_and_names_change(engine: Engine) {
    let t = TestServer::start_on(engine).await;
    let (alice, bob) = (t.user("alice").await, t.user("bob").await);
    t.befriend(&alice, &bob).await;

    let mut a = online(&t, &alice, Status::Online).await;
    a.set_personal_message("at the beach").await.unwrap();

    // Bob signs in: until his first CHG he is offline to Alice, but he sees her.
    let mut b = signed_in(&t, &bob).await;
    let sync = b.sync().await.unwrap();
    assert_eq!(sync.account.id, bob.account.id);
    let contact = sync.contacts.iter().find(|c| c.user.id == alice.account.id).expect("alice listed");
    let presence = contact.presence.as_ref().expect("alice is online and visible");
    assert_eq!(presence.status, PresenceStatus::Online);
    assert_eq!(presence.display_name, "Alice");
    assert_eq!(presence.personal_message, "at the beach");
    assert_nothing_about(&mut a, bob.account.id).await;

    b.set_status(Status::Busy).await.unwrap();
    assert_eq!(expect_nln(&mut a, bob.account.id).await, (Status::Busy, "Bob".to_string()));

    b.set_personal_message("  thinking  ").await.unwrap();
    assert_eq!(expect_ubx(&mut a, bob.account.id).await, "thinking");

    assert_eq!(b.set_display_name("Bobby Tables").await.unwrap(), "Bobby Tables");
    assert_eq!(expect_nln(&mut a, bob.account.id).await, (Status::Busy, "Bobby Tables".to_string()));
    let refused = b.set_display_name(&"x".repeat(65)).await.unwrap_err();
    assert_eq!(refused.code(), Some(ErrorCode::InvalidArgument));
    let refused = b.set_personal_message(&"y".repeat(129)).await.unwrap_err();
    assert_eq!(refused.code(), Some(ErrorCode::InvalidArgument));

    // Alice's change reaches Bob too.
    a.set_status(Status::Away).await.unwrap();
    assert_eq!(expect_nln(&mut b, alice.account.id).await.0, Status::Away);

    b.sign_out().await.unwrap();
    expect_fln(&mut a, bob.account.id).await;

    // A dropped connection (no OUT) also shows offline.
    let mut b = online(&t, &bob, Status::Online).await;
    expect_nln(&mut a, bob.account.id).await;
    b.ping().await.unwrap();
    drop(b);
    expect_fln(&mut a, bob.account.id).await;
}

async fn blocked_users_and_non_contacts_learn_nothing(engine: Engine) {
    let t = TestServer::start_on(engine).await;
    let (alice, bob, carol, dave) =
        (t.user("alice").await, t.user("bob").await, t.user("carol").await, t.user("dave").await);
    t.befriend(&alice, &bob).await;
    t.befriend(&alice, &carol).await;
    t.passport.block(alice.token(), carol.account.id).await.unwrap();

    let mut b = online(&t, &bob, Status::Online).await;
    let mut c = online(&t, &carol, Status::Online).await;
    let mut d = online(&t, &dave, Status::Online).await;
    let mut a = online(&t, &alice, Status::Online).await;
    expect_nln(&mut b, alice.account.id).await;
    assert_nothing_about(&mut c, alice.account.id).await;
    assert_nothing_about(&mut d, alice.account.id).await;

    a.set_personal_message("secret plans").await.unwrap();
    a.set_display_name("Alice Liddell").await.unwrap();
    assert_eq!(expect_ubx(&mut b, alice.account.id).await, "secret plans");
    assert_eq!(expect_nln(&mut b, alice.account.id).await.1, "Alice Liddell");
    assert_nothing_about(&mut c, alice.account.id).await;
    assert_nothing_about(&mut d, alice.account.id).await;

    // Carol still has Alice as a contact but sees her offline; Dave has no contacts.
    let sync = c.sync().await.unwrap();
    let listed = sync.contacts.iter().find(|x| x.user.id == alice.account.id).expect("alice listed");
    assert_eq!(listed.presence, None);
    assert!(d.sync().await.unwrap().contacts.is_empty());
    // The block is one-way: Alice still sees Carol.
    let sync = a.sync().await.unwrap();
    let carol_seen = sync.contacts.iter().find(|x| x.user.id == carol.account.id).expect("carol listed");
    assert!(carol_seen.blocked);
    assert!(carol_seen.presence.is_some());
    assert_eq!(sync.blocks.len(), 1);

    a.sign_out().await.unwrap();
    expect_fln(&mut b, alice.account.id).await;
    assert_nothing_about(&mut c, alice.account.id).await;
    assert_nothing_about(&mut d, alice.account.id).await;
}

async fn appear_offline_looks_exactly_like_offline(engine: Engine) {
    let t = TestServer::start_on(engine).await;
    let (alice, bob) = (t.user("alice").await, t.user("bob").await);
    t.befriend(&alice, &bob).await;
    let mut b = online(&t, &bob, Status::Online).await;

    let mut a = online(&t, &alice, Status::Hidden).await;
    a.set_personal_message("nobody sees this").await.unwrap();
    assert_nothing_about(&mut b, alice.account.id).await;
    let sync = b.sync().await.unwrap();
    assert_eq!(sync.contacts[0].presence, None);
    // Hidden Alice still sees Bob.
    assert!(a.sync().await.unwrap().contacts[0].presence.is_some());

    a.set_status(Status::OutToLunch).await.unwrap();
    assert_eq!(expect_nln(&mut b, alice.account.id).await.0, Status::OutToLunch);
    assert_eq!(expect_ubx(&mut b, alice.account.id).await, "nobody sees this");

    a.set_status(Status::Hidden).await.unwrap();
    expect_fln(&mut b, alice.account.id).await;
    a.set_display_name("Ghost").await.unwrap();
    assert_nothing_about(&mut b, alice.account.id).await;
    a.sign_out().await.unwrap();
    assert_nothing_about(&mut b, alice.account.id).await;
}

async fn three_users_each_see_their_contacts_only(engine: Engine) {
    let t = TestServer::start_on(engine).await;
    let (alice, bob, carol) = (t.user("alice").await, t.user("bob").await, t.user("carol").await);
    t.befriend(&alice, &bob).await;
    t.befriend(&bob, &carol).await;
    let mut a = online(&t, &alice, Status::Online).await;
    let mut c = online(&t, &carol, Status::Online).await;
    let mut b = online(&t, &bob, Status::BeRightBack).await;
    assert_eq!(expect_nln(&mut a, bob.account.id).await.0, Status::BeRightBack);
    assert_eq!(expect_nln(&mut c, bob.account.id).await.0, Status::BeRightBack);
    let sync = b.sync().await.unwrap();
    assert_eq!(sync.contacts.len(), 2);
    assert!(sync.contacts.iter().all(|contact| contact.presence.is_some()));
    // Alice and Carol are not contacts of each other.
    a.set_status(Status::OnThePhone).await.unwrap();
    assert_eq!(expect_nln(&mut b, alice.account.id).await.0, Status::OnThePhone);
    assert_nothing_about(&mut c, alice.account.id).await;
    assert_eq!(c.sync().await.unwrap().contacts.len(), 1);
}

async fn bad_expired_revoked_and_banned_tokens_are_refused(engine: Engine) {
    let t = TestServer::start_on_with(engine, |c| c.session_token_seconds = 1).await;
    let alice = t.user("alice").await;
    let admin = t.make_admin(&t.user("root").await).await;

    async fn refused(t: &TestServer, token: &str) -> mocha_client::proto::ErrorReply {
        let mut conn = ns(t).await;
        let error = conn.sign_in(token).await.expect_err("the token must be refused");
        expect_closed(&mut conn).await;
        match error {
            NsError::Refused(reply) => reply,
            other => panic!("expected ERR, got {other}"),
        }
    }

    let mut tampered = alice.token().to_string();
    let last = tampered.pop().unwrap();
    tampered.push(if last == 'A' { 'B' } else { 'A' });
    assert_eq!(refused(&t, &tampered).await.code, ErrorCode::AuthenticationFailed);
    assert_eq!(refused(&t, "not-a-token").await.code, ErrorCode::AuthenticationFailed);

    tokio::time::sleep(Duration::from_millis(2100)).await;
    assert_eq!(refused(&t, alice.token()).await.code, ErrorCode::TokenExpired);

    let fresh = t.passport.sign_in(&alice.account.username, &alice.password).await.unwrap();
    t.passport.sign_out(&fresh.refresh_token).await.unwrap();
    let revoked = refused(&t, &fresh.session_token).await;
    assert_eq!(revoked.code, ErrorCode::AuthenticationFailed);
    assert!(revoked.reason.contains("revoked"), "{}", revoked.reason);

    let fresh = t.passport.sign_in(&alice.account.username, &alice.password).await.unwrap();
    let admin = t.passport.refresh(&admin.tokens.refresh_token).await.unwrap();
    let ban = BanRequest { user_id: alice.account.id, reason: Some("spam".into()), until: None };
    t.passport.ban(&admin.session_token, &ban).await.unwrap();
    let banned = refused(&t, &fresh.session_token).await;
    assert_eq!(banned.code, ErrorCode::AccountBanned);
    assert!(banned.reason.contains("spam") && banned.reason.contains("permanently"), "{}", banned.reason);
}

async fn ban_deletion_revocation_and_a_second_sign_in_end_live_sessions(engine: Engine) {
    let t = TestServer::start_on(engine).await;
    let (alice, bob, carol, dave) =
        (t.user("alice").await, t.user("bob").await, t.user("carol").await, t.user("dave").await);
    let admin = t.make_admin(&t.user("root").await).await;
    for other in [&bob, &carol, &dave] {
        t.befriend(&alice, other).await;
    }
    let mut a = online(&t, &alice, Status::Online).await;

    // A temporary ban: the reason and the end travel with the OUT.
    let mut b = online(&t, &bob, Status::Online).await;
    expect_nln(&mut a, bob.account.id).await;
    let until = time::OffsetDateTime::now_utc() + time::Duration::days(2);
    let ban = BanRequest { user_id: bob.account.id, reason: Some("rude words".into()), until: Some(until) };
    t.passport.ban(admin.token(), &ban).await.unwrap();
    match expect_out(&mut b).await {
        OutReason::Banned(Some(detail)) => {
            assert_eq!(detail.reason, "rude words");
            assert!(
                matches!(detail.until, BanUntil::Until(ref at) if at.starts_with(&until.year().to_string()))
            );
        }
        other => panic!("expected OUT BAN with detail, got {other:?}"),
    }
    expect_fln(&mut a, bob.account.id).await;

    // Deleting the account: OUT DEL, and contacts see it go even though Passport
    // has forgotten the contact.
    let mut c = online(&t, &carol, Status::Online).await;
    expect_nln(&mut a, carol.account.id).await;
    t.passport.delete_account(carol.token(), &carol.password).await.unwrap();
    assert_eq!(expect_out(&mut c).await, OutReason::AccountDeleted);
    expect_fln(&mut a, carol.account.id).await;

    // Signing out through Passport ends the NS session of that sign-in only.
    let mut d = online(&t, &dave, Status::Online).await;
    expect_nln(&mut a, dave.account.id).await;
    let elsewhere = t.passport.sign_in(&dave.account.username, &dave.password).await.unwrap();
    t.passport.sign_out(&elsewhere.refresh_token).await.unwrap();
    assert!(d.ping().await.unwrap() > 0, "another sign-in's end does not touch this one");
    t.passport.sign_out(&dave.tokens.refresh_token).await.unwrap();
    assert_eq!(expect_out(&mut d).await, OutReason::SignInRevoked);
    expect_fln(&mut a, dave.account.id).await;

    // A second sign-in of Alice ends the first with OTH; the new one starts offline.
    let mut watcher = online(&t, &t.user("erin").await, Status::Online).await;
    drop(watcher.sync().await.unwrap());
    let mut again = signed_in(&t, &alice).await;
    assert_eq!(expect_out(&mut a).await, OutReason::SignedInElsewhere);
    again.ping().await.unwrap();
    assert_eq!(t.server.notification.online_users(), 2);
}

async fn a_second_sign_in_shows_offline_until_it_chooses_a_status(engine: Engine) {
    let t = TestServer::start_on(engine).await;
    let (alice, bob) = (t.user("alice").await, t.user("bob").await);
    t.befriend(&alice, &bob).await;
    let mut b = online(&t, &bob, Status::Online).await;
    let mut first = online(&t, &alice, Status::Online).await;
    expect_nln(&mut b, alice.account.id).await;
    let mut second = signed_in(&t, &alice).await;
    assert_eq!(expect_out(&mut first).await, OutReason::SignedInElsewhere);
    expect_fln(&mut b, alice.account.id).await;
    second.set_status(Status::Busy).await.unwrap();
    assert_eq!(expect_nln(&mut b, alice.account.id).await.0, Status::Busy);
}

async fn switchboard_tickets_updates_keepalive_and_the_online_count(engine: Engine) {
    let t = TestServer::start_on(engine).await;
    let alice = t.user("alice").await;
    let mut a = signed_in(&t, &alice).await;

    let referral = a.request_switchboard().await.unwrap();
    assert_eq!(referral.address, format!("localhost:{}", t.server.sb_addr.unwrap().port()));
    let ticket =
        SwitchboardTicket::verify(&referral.ticket, &t.server.notification.ticket_verifier(), unix_now())
            .expect("the ticket verifies with the NS key");
    assert_eq!(ticket.sub, alice.account.id);
    assert!(!ticket.room.is_empty());
    assert!((unix_now() + 60..=unix_now() + 130).contains(&ticket.exp), "short expiry");
    let other = a.request_switchboard().await.unwrap();
    let other =
        SwitchboardTicket::verify(&other.ticket, &t.server.notification.ticket_verifier(), unix_now())
            .unwrap();
    assert_ne!(other.room, ticket.room, "every XFR opens a new room");
    // Not Passport's key: a session token's signer cannot mint tickets.
    assert!(
        SwitchboardTicket::verify(&referral.ticket, t.server.passport.verifying_key(), unix_now()).is_err()
    );

    // Nothing is offered before a build is published; then the newer one is.
    assert!(!a.check_update("stable", "0.0.1").await.unwrap().update_available);
    let build = t.dir.path().join("client-build");
    std::fs::write(&build, b"\x7fELF a client").unwrap();
    let release =
        mocha_server::publish::Release::new("stable", "linux-x86_64", "0.2.0", build).with_notes("Calls");
    mocha_server::publish::publish(t.dir.path(), &release).unwrap();
    let update = a.check_update("stable", "0.0.1").await.unwrap();
    assert!(update.update_available);
    assert_eq!(
        a.check_update("nightly", "0.0.1").await.unwrap_err().code(),
        Some(ErrorCode::InvalidArgument)
    );
    assert_eq!(
        a.check_update("stable", "banana").await.unwrap_err().code(),
        Some(ErrorCode::InvalidArgument)
    );

    assert_eq!(a.ping().await.unwrap(), 90);

    let online_count = || async {
        let report = t.passport.status().await.unwrap();
        report.services.into_iter().find(|s| s.name == "notification").and_then(|s| s.online_users)
    };
    assert_eq!(online_count().await, Some(1));
    let bob = t.user("bob").await;
    let b = signed_in(&t, &bob).await;
    assert_eq!(online_count().await, Some(2));
    b.sign_out().await.unwrap();
    tokio::time::timeout(WAIT, async {
        while online_count().await != Some(1) {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("the count drops after sign-out");
}
