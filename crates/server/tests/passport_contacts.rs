//! Contacts, requests, blocks, privacy and activity alerts, through real HTTPS.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

mod common;

use common::{Engine, TestServer};
use mocha_client::ClientError;
use mocha_client::api::{ContactRequestOutcome, RequestPolicy};

mocha_passport::engine_tests!(
    request_accept_alias_and_remove,
    decline_cancel_mutual_and_bad_targets,
    privacy_nobody_refuses_requests,
    blocking_cuts_requests_both_ways_and_hides_you,
    activity_alerts_are_truncated_polled_once_and_respect_blocks,
);

fn code(result: Result<impl std::fmt::Debug, ClientError>) -> String {
    result.expect_err("the server should refuse").code().unwrap_or("no-code").to_string()
}

async fn request_accept_alias_and_remove(engine: Engine) {
    let t = TestServer::start_on(engine).await;
    let (alice, bob) = (t.user("alice").await, t.user("bob").await);

    let created =
        t.passport.request_contact(alice.token(), "BOB@example.com", Some("hi, it's Alice")).await.unwrap();
    assert_eq!(created.outcome, ContactRequestOutcome::Pending);
    let request = created.request.unwrap();
    assert_eq!(request.message.as_deref(), Some("hi, it's Alice"));

    let alices = t.passport.contact_requests(alice.token()).await.unwrap();
    let bobs = t.passport.contact_requests(bob.token()).await.unwrap();
    assert_eq!((alices.outgoing.len(), alices.incoming.len()), (1, 0));
    assert_eq!((bobs.incoming.len(), bobs.outgoing.len()), (1, 0));
    assert_eq!(bobs.incoming[0].from.id, alice.account.id);

    // Only the recipient can accept; to anyone else the request does not exist.
    assert_eq!(code(t.passport.accept_request(alice.token(), request.id).await), "not_found");
    assert_eq!(code(t.passport.request_contact(alice.token(), "bob@example.com", None).await), "conflict");
    let contact = t.passport.accept_request(bob.token(), request.id).await.unwrap();
    assert_eq!(contact.user.id, alice.account.id);
    assert!(t.passport.contact_requests(bob.token()).await.unwrap().incoming.is_empty());

    // The contact is mutual, and each side keeps its own alias.
    assert_eq!(t.passport.contacts(alice.token()).await.unwrap()[0].user.id, bob.account.id);
    t.passport.set_alias(alice.token(), bob.account.id, Some("Bobby")).await.unwrap();
    assert_eq!(t.passport.contacts(alice.token()).await.unwrap()[0].alias.as_deref(), Some("Bobby"));
    assert_eq!(t.passport.contacts(bob.token()).await.unwrap()[0].alias, None);
    assert_eq!(
        code(t.passport.set_alias(alice.token(), bob.account.id, Some(&"x".repeat(65))).await),
        "invalid_input"
    );
    t.passport.set_alias(alice.token(), bob.account.id, Some("")).await.unwrap();
    assert_eq!(t.passport.contacts(alice.token()).await.unwrap()[0].alias, None, "an empty alias clears it");
    assert_eq!(code(t.passport.request_contact(alice.token(), "bob@example.com", None).await), "conflict");

    // Both can see each other; removing ends it for both.
    let privacy = t.passport.privacy(alice.token()).await.unwrap();
    assert_eq!(privacy.can_see_me.iter().map(|u| u.id).collect::<Vec<_>>(), vec![bob.account.id]);
    t.passport.remove_contact(bob.token(), alice.account.id).await.unwrap();
    assert!(t.passport.contacts(alice.token()).await.unwrap().is_empty());
    assert!(t.passport.contacts(bob.token()).await.unwrap().is_empty());
    assert!(t.passport.privacy(alice.token()).await.unwrap().can_see_me.is_empty());
    assert_eq!(code(t.passport.remove_contact(bob.token(), alice.account.id).await), "not_found");
}

async fn decline_cancel_mutual_and_bad_targets(engine: Engine) {
    let t = TestServer::start_on(engine).await;
    let (alice, bob, carol) = (t.user("alice").await, t.user("bob").await, t.user("carol").await);

    let to_bob =
        t.passport.request_contact(alice.token(), "bob@example.com", None).await.unwrap().request.unwrap();
    t.passport.decline_request(bob.token(), to_bob.id).await.unwrap();
    assert!(t.passport.contact_requests(alice.token()).await.unwrap().outgoing.is_empty());
    assert!(t.passport.contacts(alice.token()).await.unwrap().is_empty());

    let to_carol =
        t.passport.request_contact(alice.token(), "carol@example.com", None).await.unwrap().request.unwrap();
    assert_eq!(
        code(t.passport.cancel_request(carol.token(), to_carol.id).await),
        "not_found",
        "only the sender cancels"
    );
    t.passport.cancel_request(alice.token(), to_carol.id).await.unwrap();
    assert!(t.passport.contact_requests(carol.token()).await.unwrap().incoming.is_empty());

    // Asking someone who already asked you makes you contacts at once.
    t.passport.request_contact(bob.token(), "carol@example.com", None).await.unwrap();
    let mutual = t.passport.request_contact(carol.token(), "bob@example.com", None).await.unwrap();
    assert_eq!(mutual.outcome, ContactRequestOutcome::Accepted);
    assert_eq!(mutual.contact.unwrap().user.id, bob.account.id);
    assert_eq!(t.passport.contacts(bob.token()).await.unwrap().len(), 1);

    assert_eq!(
        code(t.passport.request_contact(alice.token(), "alice@example.com", None).await),
        "invalid_input"
    );
    assert_eq!(code(t.passport.request_contact(alice.token(), "ghost@example.com", None).await), "not_found");
    let long = "m".repeat(201);
    assert_eq!(
        code(t.passport.request_contact(alice.token(), "bob@example.com", Some(&long)).await),
        "invalid_input"
    );
    assert!(t.passport.contact_requests(bob.token()).await.unwrap().incoming.is_empty());
}

async fn privacy_nobody_refuses_requests(engine: Engine) {
    let t = TestServer::start_on(engine).await;
    let (alice, bob) = (t.user("alice").await, t.user("bob").await);
    let settings = t.passport.set_request_policy(bob.token(), RequestPolicy::Nobody).await.unwrap();
    assert_eq!(settings.contact_requests, RequestPolicy::Nobody);
    assert_eq!(
        code(t.passport.request_contact(alice.token(), "bob@example.com", None).await),
        "request_not_allowed"
    );
    assert!(t.passport.contact_requests(bob.token()).await.unwrap().incoming.is_empty());
    // Bob can still ask Alice.
    t.passport.request_contact(bob.token(), "alice@example.com", None).await.unwrap();
    assert_eq!(t.passport.privacy(alice.token()).await.unwrap().requesting_me[0].id, bob.account.id);
}

async fn blocking_cuts_requests_both_ways_and_hides_you(engine: Engine) {
    let t = TestServer::start_on(engine).await;
    let (alice, bob, carol) = (t.user("alice").await, t.user("bob").await, t.user("carol").await);
    t.befriend(&alice, &carol).await;
    t.passport.request_contact(bob.token(), "alice@example.com", None).await.unwrap();

    // Alice blocks Bob: his pending request goes, and neither can ask the other.
    t.passport.block(alice.token(), bob.account.id).await.unwrap();
    assert!(t.passport.contact_requests(alice.token()).await.unwrap().incoming.is_empty());
    assert!(t.passport.contact_requests(bob.token()).await.unwrap().outgoing.is_empty());
    assert_eq!(
        code(t.passport.request_contact(bob.token(), "alice@example.com", None).await),
        "request_not_allowed"
    );
    assert_eq!(
        code(t.passport.request_contact(alice.token(), "bob@example.com", None).await),
        "request_not_allowed"
    );
    assert_eq!(t.passport.blocks(alice.token()).await.unwrap()[0].user.id, bob.account.id);
    assert!(t.passport.blocks(bob.token()).await.unwrap().is_empty());

    // Blocking a contact keeps them listed (marked blocked) but they can no longer see you.
    t.passport.block(alice.token(), carol.account.id).await.unwrap();
    let contacts = t.passport.contacts(alice.token()).await.unwrap();
    assert!(contacts[0].blocked);
    assert!(t.passport.privacy(alice.token()).await.unwrap().can_see_me.is_empty());
    assert!(!t.server.passport.can_see(carol.account.id, alice.account.id).await.unwrap());
    assert!(
        t.server.passport.can_see(alice.account.id, carol.account.id).await.unwrap(),
        "a block is one-way"
    );

    t.passport.unblock(alice.token(), carol.account.id).await.unwrap();
    assert!(t.server.passport.can_see(carol.account.id, alice.account.id).await.unwrap());
    assert_eq!(code(t.passport.unblock(alice.token(), carol.account.id).await), "not_found");
    assert_eq!(code(t.passport.block(alice.token(), alice.account.id).await), "invalid_input");
    assert_eq!(code(t.passport.block(alice.token(), "u999".parse().unwrap()).await), "not_found");
}

async fn activity_alerts_are_truncated_polled_once_and_respect_blocks(engine: Engine) {
    let t = TestServer::start_on(engine).await;
    let (alice, bob) = (t.user("alice").await, t.user("bob").await);
    t.befriend(&alice, &bob).await;
    let passport = &t.server.passport;

    // 400 two-byte characters: cut to exactly 320 characters, never mid-character.
    let long = "é".repeat(400);
    passport.file_alert(bob.account.id, "message", alice.account.id, &long).await.unwrap().unwrap();
    passport
        .file_alert(bob.account.id, "message", alice.account.id, "are you there?")
        .await
        .unwrap()
        .unwrap();

    let alerts = t.passport.poll_alerts(bob.token()).await.unwrap();
    assert_eq!(alerts.len(), 2);
    assert_eq!(alerts[0].text.chars().count(), 320);
    assert!(alerts[0].text.chars().all(|c| c == 'é'));
    assert_eq!(alerts[1].text, "are you there?");
    assert_eq!(alerts[0].kind, "message");
    assert_eq!(alerts[0].sender.id, alice.account.id);
    assert_eq!(alerts[0].sender.username, "alice@example.com");
    assert_eq!(alerts[0].sender.display_name, "Alice");
    assert_ne!(alerts[0].id, alerts[1].id);
    assert!(t.passport.poll_alerts(bob.token()).await.unwrap().is_empty(), "polling deleted them");

    // A blocked sender files nothing.
    t.passport.block(bob.token(), alice.account.id).await.unwrap();
    assert_eq!(
        passport.file_alert(bob.account.id, "message", alice.account.id, "hello?").await.unwrap(),
        None
    );
    assert!(t.passport.poll_alerts(bob.token()).await.unwrap().is_empty());
    // Nor does the blocker towards the one they blocked: a block ends contact both ways.
    assert_eq!(passport.file_alert(alice.account.id, "message", bob.account.id, "hi").await.unwrap(), None);

    // Alerts only reach their recipient.
    let carol = t.user("carol").await;
    passport.file_alert(alice.account.id, "message", carol.account.id, "for alice").await.unwrap().unwrap();
    assert!(t.passport.poll_alerts(carol.token()).await.unwrap().is_empty());
    assert_eq!(t.passport.poll_alerts(alice.token()).await.unwrap()[0].text, "for alice");
}
