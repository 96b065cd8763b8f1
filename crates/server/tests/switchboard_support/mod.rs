//! Helpers for the Switchboard tests: people online on the NS, opening and answering
//! conversations through real TLS, and waiting for conversation events.
#![allow(dead_code)]

use std::time::Duration;

use mocha_client::ns::NsConnection;
use mocha_client::proto::Status;
use mocha_client::proto::im::ImPayload;
use mocha_client::proto::ns::ServerCommand;
use mocha_client::sb::{Participant, SbConnection, SbEvent};

use crate::common::{TestServer, TestUser};
use crate::notification_support::online;

pub const WAIT: Duration = Duration::from_secs(10);
pub const QUIET: Duration = Duration::from_millis(400);

/// A person signed in to the NS and online.
pub struct Person {
    pub user: TestUser,
    pub ns: NsConnection,
}

pub async fn person(t: &TestServer, name: &str) -> Person {
    let user = t.user(name).await;
    let ns = online(t, &user, Status::Online).await;
    Person { user, ns }
}

/// Opens a new conversation for `person` (XFR, then USR on the switchboard).
pub async fn open(t: &TestServer, person: &mut Person) -> SbConnection {
    let referral = person.ns.request_switchboard().await.expect("XFR");
    let (sb, present) =
        SbConnection::open(&referral.address, &referral.ticket, person.user.account.id, &t.trust)
            .await
            .expect("USR");
    assert!(present.is_empty(), "a new conversation is empty");
    sb
}

/// Waits for `RNG` on `person`'s NS connection and answers it; returns who was there.
pub async fn answer(t: &TestServer, person: &mut Person) -> (SbConnection, Vec<Participant>) {
    let rng = person
        .ns
        .expect_push(WAIT, |push| match push {
            ServerCommand::Rng(rng) => Some(rng.clone()),
            _ => None,
        })
        .await
        .expect("RNG");
    SbConnection::answer(
        rng.address.as_str(),
        rng.ticket.as_str(),
        rng.room_id.as_str(),
        person.user.account.id,
        &t.trust,
    )
    .await
    .expect("ANS")
}

/// `host` invites `guest`, who answers; both see each other.
pub async fn bring_in(t: &TestServer, host: &mut SbConnection, guest: &mut Person) -> SbConnection {
    host.invite(&guest.user.account.id.to_string()).await.expect("CAL");
    let (sb, _present) = answer(t, guest).await;
    let joined = expect_joined(host).await;
    assert_eq!(joined.user_id, guest.user.account.id);
    sb
}

pub async fn expect_joined(sb: &mut SbConnection) -> Participant {
    sb.expect_event(WAIT, |e| match e {
        SbEvent::Joined(p) => Some(p.clone()),
        _ => None,
    })
    .await
    .expect("JOI")
}

/// Waits for the next message; returns its sender and meaning.
pub async fn expect_message(sb: &mut SbConnection) -> (Participant, ImPayload) {
    sb.expect_event(WAIT, |e| match e {
        SbEvent::Message { from, payload, .. } => Some((from.clone(), payload.clone())),
        _ => None,
    })
    .await
    .expect("a message")
}

/// Waits for the next chat text (other messages stay queued).
pub async fn expect_text(sb: &mut SbConnection) -> String {
    sb.expect_event(WAIT, |e| match e {
        SbEvent::Message { payload: ImPayload::Text { text, .. }, .. } => Some(text.clone()),
        _ => None,
    })
    .await
    .expect("a text message")
}

/// Proves no message arrives for a while.
pub async fn assert_no_message(sb: &mut SbConnection) {
    let got = sb
        .expect_event(QUIET, |e| match e {
            SbEvent::Message { payload, .. } => Some(payload.clone()),
            _ => None,
        })
        .await;
    assert!(got.is_err(), "expected no message, got {got:?}");
}

/// Waits for the server to refuse something sent without waiting (`ERR trid …`).
pub async fn expect_refused(sb: &mut SbConnection) -> mocha_client::proto::ErrorCode {
    sb.expect_event(WAIT, |e| match e {
        SbEvent::Refused(reply) => Some(reply.code),
        _ => None,
    })
    .await
    .expect("an ERR reply")
}

/// Alice and Bob, contacts, online, in one conversation.
pub async fn alice_and_bob(t: &TestServer) -> (Person, Person, SbConnection, SbConnection) {
    let mut alice = person(t, "alice").await;
    let mut bob = person(t, "bob").await;
    t.befriend(&alice.user, &bob.user).await;
    let mut a = open(t, &mut alice).await;
    let b = bring_in(t, &mut a, &mut bob).await;
    (alice, bob, a, b)
}
