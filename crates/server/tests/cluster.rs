//! A cluster: two Mocha nodes on one PostgreSQL database and the machine's NATS server
//! (127.0.0.1:4222, JetStream), each with its own listeners, data folder and CA, sharing
//! one keys folder; each test on a NATS prefix and a database of its own. Alice signs in
//! on node 1, Bob on node 2, through `mocha_client` over real TLS: presence, personal
//! messages and privacy cross between nodes, a ban made through node 1 ends Bob's
//! session on node 2 at once, a second sign-in on the other node ends the first, and
//! when a node is killed (a `mocha-server` child, SIGKILL) its users look offline to
//! their contacts within 30 s. Conversations cross nodes: a callee on another node is
//! rung through the bus (privacy as on one node) and joins the room on the caller's
//! node's switchboard; a room whose node is killed ends for everyone in it.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

mod binary_support;
mod client_support;
mod cluster_support;
mod common;
mod msnp_support;

use std::time::{Duration, Instant};

use mocha_client::api::PresenceStatus;
use mocha_client::proto::{ErrorCode, Status};
use mocha_client::sb::Delivery;
use mocha_client::{ConversationEvent, Event, SignOutReason};
use mocha_passport::testing::{Engine, TestDatabase};
use mocha_server::ServerConfig;
use mocha_server::config::BusUrl;

use client_support::{
    chat, config_for, connect, connect_with, file_arrives_whole, heard_text, in_conversation,
    personal_message_of, ring, state_where, text_and_typing_cross,
};
use cluster_support::{CRASH_BOUND, Cluster, NATS, ProgramNode, presence_of, saw, unique_prefix};
use common::{DataFolder, TestServer};

#[tokio::test]
async fn presence_and_personal_messages_cross_nodes() {
    let Some(cluster) = Cluster::start("presence_and_personal_messages_cross_nodes").await else { return };
    let (n1, n2) = (cluster.node(1), cluster.node(2));
    let (alice_user, bob_user) = (n1.user("alice").await, n1.user("bob").await);
    n1.befriend(&alice_user, &bob_user).await;

    let (alice, mut alice_events) = connect(n1, &alice_user).await;
    alice.set_personal_message("on node one").await.unwrap();
    // Bob signs in on node 2: his contact list already shows Alice, online on node 1,
    // with her personal message (from the session directory).
    let (bob, mut bob_events) = connect(n2, &bob_user).await;
    let seen = state_where(&bob, |s| s.presence(alice.user_id()).is_some()).await;
    let alice_seen = seen.presence(alice.user_id()).unwrap();
    assert_eq!(alice_seen.status, PresenceStatus::Online);
    assert_eq!(alice_seen.personal_message, "on node one");

    // Node 2's news reaches node 1 and back.
    alice_events.expect(saw(bob.user_id(), Some(PresenceStatus::Online))).await;
    bob.set_personal_message("on node two").await.unwrap();
    let message = alice_events.expect(personal_message_of(bob.user_id())).await;
    assert_eq!(message, "on node two");
    alice.set_status(Status::Busy).await.unwrap();
    bob_events.expect(saw(alice.user_id(), Some(PresenceStatus::Busy))).await;

    // A display name changed through node 2's Passport reaches Alice on node 1.
    bob.set_display_name("Bobby").await.unwrap();
    state_where(&alice, |s| s.presence(bob.user_id()).is_some_and(|p| p.display_name == "Bobby")).await;

    // Bob signs out: Alice sees him go.
    bob.disconnect().await;
    alice_events.expect(saw(bob.user_id(), None)).await;
    drop((alice, bob_events));
    cluster.finish().await;
}

#[tokio::test]
async fn privacy_holds_across_nodes() {
    let Some(cluster) = Cluster::start("privacy_holds_across_nodes").await else { return };
    let (n1, n2) = (cluster.node(1), cluster.node(2));
    let (alice_user, bob_user, carol_user) =
        (n1.user("alice").await, n1.user("bob").await, n1.user("carol").await);
    n1.befriend(&alice_user, &bob_user).await;

    let (alice, mut alice_events) = connect(n1, &alice_user).await;
    let (carol, mut carol_events) = connect(n2, &carol_user).await;
    let (bob, mut bob_events) = connect(n2, &bob_user).await;
    state_where(&bob, |s| s.presence(alice.user_id()).is_some()).await;

    // Carol is no contact of Alice's: she learns nothing of her, at sign-in or after.
    alice.set_personal_message("only for friends").await.unwrap();
    alice.set_status(Status::Away).await.unwrap();
    bob_events.expect(saw(alice.user_id(), Some(PresenceStatus::Away))).await;
    carol_events.expect_none(presence_of(alice.user_id())).await;
    assert!(carol.state().presence(alice.user_id()).is_none());

    // Alice appears offline: to Bob on node 2 exactly as if she had signed out, also
    // when he signs in again and reads the directory.
    alice.set_status(Status::Hidden).await.unwrap();
    bob_events.expect(saw(alice.user_id(), None)).await;
    bob.disconnect().await;
    let (bob, mut bob_events) = connect(n2, &bob_user).await;
    assert!(
        bob.state().presence(alice.user_id()).is_none(),
        "appear-offline is offline in the directory too"
    );
    bob_events.expect_none(presence_of(alice.user_id())).await;
    alice.set_status(Status::Online).await.unwrap();
    bob_events.expect(saw(alice.user_id(), Some(PresenceStatus::Online))).await;

    // Bob blocks Alice (through node 2's Passport): on node 1 she sees him go offline,
    // and hears nothing of him after.
    state_where(&alice, |s| s.presence(bob.user_id()).is_some()).await;
    bob.block(alice.user_id()).await.unwrap();
    alice_events.expect(saw(bob.user_id(), None)).await;
    bob.set_status(Status::Busy).await.unwrap();
    bob.set_personal_message("not for Alice").await.unwrap();
    alice_events
        .expect_none(|e| match e {
            // Only what Bob did after the block (earlier events may still be queued).
            Event::Presence { user, presence: Some(p) } if *user == bob.user_id() => {
                (p.status == PresenceStatus::Busy).then_some(())
            }
            Event::PersonalMessage { user, message } if *user == bob.user_id() => {
                (message == "not for Alice").then_some(())
            }
            _ => None,
        })
        .await;
    assert!(alice.state().presence(bob.user_id()).is_none());
    drop((carol, alice_events));
    cluster.finish().await;
}

#[tokio::test]
async fn a_ban_through_one_node_ends_the_session_on_the_other_at_once() {
    let Some(cluster) = Cluster::start("a_ban_through_one_node_ends_the_session_on_the_other_at_once").await
    else {
        return;
    };
    let (n1, n2) = (cluster.node(1), cluster.node(2));
    let (alice_user, bob_user, carol_user, dave_user) =
        (n1.user("alice").await, n1.user("bob").await, n1.user("carol").await, n1.user("dave").await);
    n1.befriend(&alice_user, &bob_user).await;
    n1.befriend(&dave_user, &bob_user).await;
    let admin = n1.make_admin(&carol_user).await;
    let (alice, mut alice_events) = connect(n1, &alice_user).await;
    let (carol, _carol_events) = connect(n1, &admin).await;
    let (bob, mut bob_events) = connect(n2, &bob_user).await;
    alice_events.expect(saw(bob.user_id(), Some(PresenceStatus::Online))).await;
    // Dave talks with Bob in a conversation on node 2's switchboard.
    let (dave, mut dave_events) = connect(n2, &dave_user).await;
    let (with_bob, _) = client_support::chat(&dave, &mut dave_events, &bob, &mut bob_events).await;

    let banned_at = Instant::now();
    carol.ban(bob.user_id(), Some("spam"), None).await.unwrap();
    let reason = bob_events.expect(client_support::signed_out).await;
    assert_eq!(reason, SignOutReason::Banned { until: None, reason: Some("spam".into()) });
    assert!(banned_at.elapsed() < Duration::from_secs(2), "took {:?}", banned_at.elapsed());
    // His contact on node 1 sees him go, and Dave sees him leave the conversation on
    // node 2's switchboard (which hears node 1's Passport events through the bus too;
    // his client leaving on its own would look the same here).
    alice_events.expect(saw(bob.user_id(), None)).await;
    let left = dave_events
        .expect(client_support::in_conversation(with_bob.id(), |e| match e {
            mocha_client::ConversationEvent::Left { user, .. } => Some(*user),
            _ => None,
        }))
        .await;
    assert_eq!(left, bob.user_id());
    drop(alice);
    cluster.finish().await;
}

#[tokio::test]
async fn a_second_sign_in_on_the_other_node_ends_the_first() {
    let Some(cluster) = Cluster::start("a_second_sign_in_on_the_other_node_ends_the_first").await else {
        return;
    };
    let (n1, n2) = (cluster.node(1), cluster.node(2));
    let (alice_user, bob_user) = (n1.user("alice").await, n1.user("bob").await);
    n1.befriend(&alice_user, &bob_user).await;
    let (alice, mut alice_events) = connect(n1, &alice_user).await;
    let (first, mut first_events) = connect(n1, &bob_user).await;
    alice_events.expect(saw(first.user_id(), Some(PresenceStatus::Online))).await;

    let (second, mut second_events) = connect(n2, &bob_user).await;
    first_events
        .expect(|e| matches!(e, Event::SignedOut(SignOutReason::SignedInElsewhere)).then_some(()))
        .await;
    first_events.expect_none(|e| matches!(e, Event::Connected { .. }).then_some(())).await;

    // One live session: Alice sees Bob online (the one on node 2), and his status
    // changes there reach her.
    second.set_status(Status::Away).await.unwrap();
    state_where(&alice, |s| s.presence(second.user_id()).is_some_and(|p| p.status == PresenceStatus::Away))
        .await;
    // And back to node 1: the session on node 2 ends in turn.
    let (_third, _third_events) = connect(n1, &bob_user).await;
    second_events
        .expect(|e| matches!(e, Event::SignedOut(SignOutReason::SignedInElsewhere)).then_some(()))
        .await;
    drop((alice, first));
    cluster.finish().await;
}

#[tokio::test]
async fn a_killed_nodes_users_look_offline_to_their_contacts_within_the_bound() {
    let test = "a_killed_nodes_users_look_offline_to_their_contacts_within_the_bound";
    let Some(cluster) = Cluster::start(test).await else { return };
    let n1 = cluster.node(1);
    let (alice_user, bob_user, carol_user) = cluster.bob_and_two_contacts().await;
    let (alice, mut alice_events) = connect(n1, &alice_user).await;

    // Node 3: the real program, killed with SIGKILL (no goodbye, no sign-outs).
    let ProgramNode { running: node3, client, data: _node3_data, .. } = cluster.start_program("n3");
    let (bob, _bob_events) = connect_with(client, &bob_user).await;
    bob.set_status(Status::Busy).await.unwrap();
    state_where(&alice, |s| s.presence(bob.user_id()).is_some_and(|p| p.status == PresenceStatus::Busy))
        .await;

    let killed = Instant::now();
    node3.kill9();
    let gone = alice_events.try_expect(CRASH_BOUND, |e| match e {
        Event::Presence { user, presence: None } if *user == bob.user_id() => Some(()),
        _ => None,
    });
    assert!(gone.await.is_some(), "Bob still looks online {:?} after his node died", killed.elapsed());
    eprintln!("Bob looked offline {:?} after node 3 was killed", killed.elapsed());

    // Node 2 learnt it the same way: a contact signing in there now does not see Bob online.
    let (carol, _carol_events) = connect(cluster.node(2), &carol_user).await;
    assert!(carol.state().presence(bob.user_id()).is_none());
    drop(alice);
    cluster.finish().await;
}

#[tokio::test]
async fn nodes_on_one_database_must_all_be_in_the_cluster() {
    let Some(cluster) = Cluster::start("nodes_on_one_database_must_all_be_in_the_cluster").await else {
        return;
    };
    // A node without --bus on the cluster's database would keep its users to itself.
    let lone = ServerConfig { bus: None, ..cluster.config("n3") };
    let dir = tempfile::tempdir().unwrap();
    let refused = mocha_server::start(dir.path(), lone.clone()).await.err().expect("refused");
    assert!(matches!(refused, mocha_server::StartError::DatabaseInUse { cluster: false }), "{refused}");
    assert!(refused.to_string().contains("--bus"), "{refused}");
    cluster.finish().await;

    // The other way round: once a lone node runs on a database, no cluster node may join.
    let database = TestDatabase::create(Engine::Postgres).await;
    let alone = ServerConfig { database: Some(database.url.clone()), ..ServerConfig::for_tests() };
    let running = TestServer::start_in(DataFolder::from(tempfile::tempdir().unwrap()), alone.clone()).await;
    let joining =
        ServerConfig { bus: Some(BusUrl::parse(NATS).unwrap()), bus_prefix: unique_prefix(), ..alone };
    let dir = tempfile::tempdir().unwrap();
    let refused = mocha_server::start(dir.path(), joining).await.err().expect("refused");
    assert!(matches!(refused, mocha_server::StartError::DatabaseInUse { cluster: true }), "{refused}");
    running.stop().await;
}

#[tokio::test]
async fn online_counts_add_up_over_the_cluster() {
    let Some(cluster) = Cluster::start("online_counts_add_up_over_the_cluster").await else { return };
    let (n1, n2) = (cluster.node(1), cluster.node(2));
    let users = [n1.user("alice").await, n1.user("bob").await, n1.user("carol").await];
    let (alice, _alice_events) = connect(n1, &users[0]).await;
    let (bob, _bob_events) = connect(n2, &users[1]).await;
    let (carol, _carol_events) = connect(n2, &users[2]).await;

    // Both nodes count the three, in the API and on the status page.
    for node in [n1, n2] {
        wait_for_online(node, 3).await;
        let page = status_page(node).await;
        assert!(page.contains("<td>3</td>"), "{page}");
    }
    carol.disconnect().await;
    for node in [n1, n2] {
        wait_for_online(node, 2).await;
    }
    drop((alice, bob));
    cluster.finish().await;
}

/// Waits until `/api/v1/status` on `node` counts `expected` users signed in.
async fn wait_for_online(node: &TestServer, expected: u64) {
    let started = Instant::now();
    loop {
        let report = node.passport.status().await.unwrap();
        let online = report.services.iter().find(|s| s.name == "notification").and_then(|s| s.online_users);
        if online == Some(expected) {
            return;
        }
        assert!(started.elapsed() < Duration::from_secs(10), "{online:?} online, not {expected}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The status page's HTML, as a browser gets it.
async fn status_page(node: &TestServer) -> String {
    let http = reqwest::Client::builder()
        .tls_backend_preconfigured((*node.trust.client_config().unwrap()).clone())
        .build()
        .unwrap();
    let url = format!("https://localhost:{}/status", node.server.passport_addr.unwrap().port());
    http.get(url).send().await.unwrap().text().await.unwrap()
}

fn joined(e: &ConversationEvent) -> Option<mocha_auth::UserId> {
    match e {
        ConversationEvent::Joined(participant) => Some(participant.user_id),
        _ => None,
    }
}

#[tokio::test]
async fn a_conversation_crosses_nodes_with_chat_typing_a_file_and_a_third_person() {
    let test = "a_conversation_crosses_nodes_with_chat_typing_a_file_and_a_third_person";
    let Some(cluster) = Cluster::start(test).await else { return };
    let (n1, n2) = (cluster.node(1), cluster.node(2));
    let (alice_user, bob_user, carol_user) =
        (n1.user("alice").await, n1.user("bob").await, n1.user("carol").await);
    n1.befriend(&alice_user, &bob_user).await;
    n1.befriend(&alice_user, &carol_user).await;
    let (alice, mut alice_events) = cluster.connect(1, &alice_user).await;
    let (bob, mut bob_events) = cluster.connect(2, &bob_user).await;
    let (carol, mut carol_events) = cluster.connect(2, &carol_user).await;
    state_where(&alice, |s| s.presence(bob.user_id()).is_some() && s.presence(carol.user_id()).is_some())
        .await;

    // Alice (node 1) calls Bob (node 2): node 2 rings him for a room on node 1's
    // switchboard, where his client joins her.
    let (a, b) = chat(&alice, &mut alice_events, &bob, &mut bob_events).await;
    let rooms = |n: &TestServer| n.server.switchboard.as_ref().unwrap().room_count();
    assert_eq!((rooms(n1), rooms(n2)), (1, 0), "the room is on the caller's node");
    text_and_typing_cross(
        (&a, &alice, &mut alice_events),
        (&b, &bob, &mut bob_events),
        ("hello from node one", "hello from node two"),
    )
    .await;

    // Bob sends Alice a file; it arrives whole.
    file_arrives_whole(&b, bob.user_id(), &a, &mut alice_events, 300_000).await;

    // Alice invites Carol (node 2) into the same room; everyone hears everyone.
    a.invite(&carol.account().username).await.unwrap();
    let rang = carol_events.expect(ring).await;
    assert_eq!(rang.caller.id, alice.user_id());
    let c = carol.answer(&rang).await.unwrap();
    assert_eq!(c.participants().len(), 2, "Carol finds Alice and Bob there");
    assert_eq!(bob_events.expect(in_conversation(b.id(), joined)).await, carol.user_id());
    assert_eq!(c.send_text("hi both").await.unwrap(), Delivery::Delivered);
    assert_eq!(heard_text(&mut alice_events, a.id()).await, "hi both");
    assert_eq!(heard_text(&mut bob_events, b.id()).await, "hi both");
    assert_eq!((rooms(n1), rooms(n2)), (1, 0));
    drop((a, b, c));
    cluster.finish().await;
}

#[tokio::test]
async fn ringing_across_nodes_keeps_the_privacy_rules() {
    let Some(cluster) = Cluster::start("ringing_across_nodes_keeps_the_privacy_rules").await else { return };
    let n1 = cluster.node(1);
    let (alice_user, bob_user, dave_user, erin_user) =
        (n1.user("alice").await, n1.user("bob").await, n1.user("dave").await, n1.user("erin").await);
    n1.befriend(&alice_user, &bob_user).await;
    n1.befriend(&alice_user, &dave_user).await;
    let (alice, mut alice_events) = cluster.connect(1, &alice_user).await;
    let (bob, mut bob_events) = cluster.connect(2, &bob_user).await;
    let (dave, mut dave_events) = cluster.connect(2, &dave_user).await;
    let (_erin, mut erin_events) = cluster.connect(2, &erin_user).await;
    state_where(&alice, |s| s.presence(bob.user_id()).is_some() && s.presence(dave.user_id()).is_some())
        .await;
    let conversation = alice.open_conversation().await.unwrap();
    let refusal = |result: Result<String, mocha_client::Error>| result.unwrap_err().server_code();

    // Erin, online on node 2, is no contact of Alice's: refused, and never rung.
    assert_eq!(refusal(conversation.invite("erin@example.com").await), Some(ErrorCode::NotAllowed));
    // Dave appears offline: to Alice he is offline, exactly as if he were.
    dave.set_status(Status::Hidden).await.unwrap();
    alice_events.expect(saw(dave.user_id(), None)).await;
    assert_eq!(refusal(conversation.invite("dave@example.com").await), Some(ErrorCode::UserOffline));
    // Bob blocks Alice (through node 2): offline to her too.
    bob.block(alice.user_id()).await.unwrap();
    alice_events.expect(saw(bob.user_id(), None)).await;
    assert_eq!(refusal(conversation.invite("bob@example.com").await), Some(ErrorCode::UserOffline));
    for events in [&mut erin_events, &mut dave_events, &mut bob_events] {
        events.expect_none(ring).await;
    }

    // Dave back online is rung: the refusals were the rules, not the wire.
    dave.set_status(Status::Online).await.unwrap();
    alice_events.expect(saw(dave.user_id(), Some(PresenceStatus::Online))).await;
    conversation.invite("dave@example.com").await.unwrap();
    assert_eq!(dave_events.expect(ring).await.caller.id, alice.user_id());
    drop(conversation);
    cluster.finish().await;
}

#[tokio::test]
async fn a_conversation_on_a_killed_switchboard_node_ends_and_a_new_one_works() {
    let test = "a_conversation_on_a_killed_switchboard_node_ends_and_a_new_one_works";
    let Some(cluster) = Cluster::start(test).await else { return };
    let n1 = cluster.node(1);
    let (alice_user, bob_user, carol_user) =
        (n1.user("alice").await, n1.user("bob").await, n1.user("carol").await);
    n1.befriend(&alice_user, &bob_user).await;
    n1.befriend(&alice_user, &carol_user).await;

    // Node 3: the real program, to be killed with SIGKILL.
    let ProgramNode { running: node3, client, ca_cert, data: _node3_data } = cluster.start_program("n3");
    let trust = cluster.trust(&[&ca_cert]);
    let (alice, mut alice_events) =
        connect_with(config_for(n1.server.passport_addr.unwrap().port(), &trust), &alice_user).await;
    let (bob, mut bob_events) = connect_with(client, &bob_user).await;
    let (carol, mut carol_events) = cluster.connect(2, &carol_user).await;
    state_where(&bob, |s| s.presence(alice.user_id()).is_some()).await;

    // Bob (node 3) calls Alice (node 1): the room is on node 3's switchboard.
    let (b, a) = chat(&bob, &mut bob_events, &alice, &mut alice_events).await;
    assert_eq!(n1.server.switchboard.as_ref().unwrap().room_count(), 0);
    assert_eq!(b.send_text("before the crash").await.unwrap(), Delivery::Delivered);
    assert_eq!(heard_text(&mut alice_events, a.id()).await, "before the crash");

    node3.kill9();
    // Alice's conversation ends (it does not hang), and saying more is refused at once.
    alice_events
        .expect(in_conversation(a.id(), |e| matches!(e, ConversationEvent::Ended { .. }).then_some(())))
        .await;
    assert!(matches!(a.send_text("still there?").await, Err(mocha_client::Error::ConversationEnded)));

    // A new conversation works, with Carol on node 2 (on node 1's switchboard).
    let (a2, c) = chat(&alice, &mut alice_events, &carol, &mut carol_events).await;
    assert_eq!(a2.send_text("after the crash").await.unwrap(), Delivery::Delivered);
    assert_eq!(heard_text(&mut carol_events, c.id()).await, "after the crash");

    // Bob's node is gone: ringing him says offline at once (his node does not answer;
    // the directory may still hold him until the sweep), and what Alice says to him is
    // kept as an activity alert, as on one node.
    let conversation = alice.open_conversation().await.unwrap();
    let asked = Instant::now();
    let refused = conversation.invite("bob@example.com").await.unwrap_err();
    assert_eq!(refused.server_code(), Some(ErrorCode::UserOffline));
    assert!(asked.elapsed() < Duration::from_secs(5), "took {:?}", asked.elapsed());
    assert_eq!(conversation.send_text("call me when you are back").await.unwrap(), Delivery::NotDelivered);
    let (bob, _bob_events) = cluster.connect(2, &bob_user).await;
    let alerts = bob.poll_alerts().await.unwrap();
    let texts: Vec<_> = alerts.iter().map(|alert| (alert.sender.id, alert.text.as_str())).collect();
    assert_eq!(texts, [(alice.user_id(), "call me when you are back")]);
    drop((a2, c, conversation, alice_events));
    cluster.finish().await;
}

#[tokio::test]
async fn a_classic_client_on_another_node_is_rung_into_the_room() {
    let Some(cluster) = Cluster::start("a_classic_client_on_another_node_is_rung_into_the_room").await else {
        return;
    };
    let (n1, n2) = (cluster.node(1), cluster.node(2));
    let (alice_user, ann_user) = (n1.user("alice").await, n1.user("ann").await);
    n1.befriend(&alice_user, &ann_user).await;
    let (alice, mut alice_events) = cluster.connect(1, &alice_user).await;
    // Ann's classic client (msnp11-sdk) is signed in through node 2's MSNP gateway.
    let mut ann = msnp_support::Sdk::online(n2, &ann_user).await;
    state_where(&alice, |s| s.presence(ann_user.account.id).is_some()).await;

    // Node 2 rings her for the room on node 1, naming node 1's MSNP switchboard.
    let a = alice.start_conversation("ann@example.com").await.unwrap();
    let mut chat = ann.answered().await;
    assert_eq!(alice_events.expect(in_conversation(a.id(), joined)).await, ann_user.account.id);
    assert_eq!(n1.server.switchboard.as_ref().unwrap().room_count(), 1);
    assert_eq!(a.send_text("hello, classic").await.unwrap(), Delivery::Delivered);
    assert_eq!(chat.expect_text("alice@example.com").await.text, "hello, classic");
    chat.send_text("hello, modern").await.unwrap();
    assert_eq!(heard_text(&mut alice_events, a.id()).await, "hello, modern");
    drop((a, chat, ann));
    cluster.finish().await;
}
