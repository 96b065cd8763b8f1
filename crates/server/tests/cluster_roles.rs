//! Split roles: a cluster whose nodes each run only some services, on one PostgreSQL
//! database (one of the test's own) and the machine's NATS (a prefix of the test's own).
//! A `passport,web` front node, two `ns` nodes and an `sb` node that is the real
//! `mocha-server` program (so it can be killed). People sign up and in through the front
//! with the real client library, which finds a Notification Server in the status the
//! front serves; they talk in a room on the `sb` node; with it killed, `XFR` says "try
//! again" (`ERR 300`) instead of naming a dead switchboard. A classic MSN client on an
//! `ns` node is sent to the `sb` node's MSNP switchboard the same way.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

mod binary_support;
mod client_support;
mod cluster_support;
mod common;
mod msnp_support;

use std::time::{Duration, Instant};

use mocha_client::ConversationEvent;
use mocha_client::api::{ServiceReport, ServiceState, StatusReport};
use mocha_client::proto::ErrorCode;
use mocha_client::sb::Delivery;
use mocha_server::Role;

use client_support::{
    chat, config_for, connect_with, file_arrives_whole, heard_text, in_conversation, ring, state_where,
    text_and_typing_cross, text_from,
};
use cluster_support::{CRASH_BOUND, Cluster, NATS, RolesNode};
use common::TestServer;
use mocha_passport::testing::{Engine, TestDatabase, engine_ready};

/// The front (node 1), the two NS nodes (2 and 3); the `sb` node is a child started after.
async fn split_cluster(test: &str) -> Option<Cluster> {
    if !cluster_support::nats_ready(test) || !engine_ready(Engine::Postgres, test).await {
        return None;
    }
    let database = TestDatabase::create(Engine::Postgres).await;
    let cluster = Cluster::start_on(NATS, database.url.clone(), Some(database), 3, |n, config| {
        config.roles = match n {
            1 => vec![Role::Passport, Role::Web],
            _ => vec![Role::Ns],
        };
    })
    .await;
    Some(cluster)
}

async fn status(front: &TestServer) -> StatusReport {
    front.passport.status().await.unwrap()
}

fn row<'a>(report: &'a StatusReport, name: &str) -> &'a ServiceReport {
    report.services.iter().find(|s| s.name == name).unwrap()
}

/// Waits (up to `within`) for the front's status to satisfy `fits`.
async fn status_where(
    front: &TestServer,
    within: Duration,
    mut fits: impl FnMut(&StatusReport) -> bool,
) -> StatusReport {
    let started = Instant::now();
    loop {
        let report = status(front).await;
        if fits(&report) {
            return report;
        }
        assert!(started.elapsed() < within, "the status never fit within {within:?}: {report:#?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn ns_address(node: &TestServer) -> String {
    format!("localhost:{}", node.server.ns_addr.unwrap().port())
}

#[tokio::test]
async fn a_split_cluster_signs_in_through_the_front_and_talks_on_the_sb_node() {
    let test = "a_split_cluster_signs_in_through_the_front_and_talks_on_the_sb_node";
    let Some(cluster) = split_cluster(test).await else { return };
    let RolesNode { running: sb_node, ca_cert, data: _sb_data } = cluster.start_roles_program("sb1", "sb");
    let (front, ns1, ns2) = (cluster.node(1), cluster.node(2), cluster.node(3));
    assert!(front.server.ns_addr.is_none() && front.server.sb_addr.is_none(), "the front runs neither");
    assert!(ns1.server.passport_addr.is_none() && ns1.server.sb_addr.is_none(), "ns1 runs the NS only");
    let sb_port = sb_node.port("Switchboard");

    // The front's status: Passport is its own; the NS and the SB rows name live nodes.
    let report = status_where(front, Duration::from_secs(10), |r| {
        row(r, "notification").state == ServiceState::Up && row(r, "switchboard").state == ServiceState::Up
    })
    .await;
    let ns_addresses = [ns_address(ns1), ns_address(ns2)];
    assert!(ns_addresses.contains(row(&report, "notification").address.as_ref().unwrap()), "{report:#?}");
    assert_eq!(row(&report, "switchboard").address.as_deref(), Some(format!("localhost:{sb_port}").as_str()));
    assert_eq!(row(&report, "passport").state, ServiceState::Up);

    // Sign-up and sign-in through the front (HTTPS), with the client library.
    let (alice_user, bob_user, carol_user) =
        (front.user("alice").await, front.user("bob").await, front.user("carol").await);
    front.befriend(&alice_user, &bob_user).await;
    front.befriend(&alice_user, &carol_user).await;
    let trust = cluster.trust(&[&ca_cert]);
    let through_front = || config_for(front.server.passport_addr.unwrap().port(), &trust);

    // Alice's client finds an NS in the front's status and signs in there.
    let (alice, mut alice_events) = connect_with(through_front(), &alice_user).await;
    let on = |node: &TestServer| node.server.notification.online_users();
    let (alice_ns, other_ns) = match (on(ns1), on(ns2)) {
        (1, 0) => (ns1, ns2),
        (0, 1) => (ns2, ns1),
        counts => panic!("Alice is on no NS node, or on both: {counts:?}"),
    };
    // The NS nodes' next heartbeats say how many each holds: the front then sends the
    // next sign-in to the other, the less loaded one.
    let other = ns_address(other_ns);
    status_where(front, Duration::from_secs(12), |r| row(r, "notification").address.as_ref() == Some(&other))
        .await;
    let (bob, mut bob_events) = connect_with(through_front(), &bob_user).await;
    assert_eq!((on(alice_ns), on(other_ns)), (1, 1), "Bob is on the other NS node");
    state_where(&alice, |s| s.presence(bob.user_id()).is_some()).await;

    // Alice (one NS node) calls Bob (the other): the room is on the sb node.
    let (a, b) = chat(&alice, &mut alice_events, &bob, &mut bob_events).await;
    text_and_typing_cross(
        (&a, &alice, &mut alice_events),
        (&b, &bob, &mut bob_events),
        ("hello from one NS", "hello from the other"),
    )
    .await;

    // Bob sends Alice a small file; it arrives whole.
    file_arrives_whole(&b, bob.user_id(), &a, &mut alice_events, 40_000).await;

    // Carol, signed in through the front too, is invited into the same room.
    let (carol, mut carol_events) = connect_with(through_front(), &carol_user).await;
    a.invite(&carol.account().username).await.unwrap();
    let rang = carol_events.expect(ring).await;
    let c = carol.answer(&rang).await.unwrap();
    assert_eq!(c.participants().len(), 2, "Carol finds Alice and Bob there");
    assert_eq!(bob_events.expect(in_conversation(b.id(), joined)).await, carol.user_id());
    assert_eq!(c.send_text("hi both").await.unwrap(), Delivery::Delivered);
    assert_eq!(heard_text(&mut alice_events, a.id()).await, "hi both");
    assert_eq!(heard_text(&mut bob_events, b.id()).await, "hi both");
    // The sb node's heartbeat reports its three participants (the room is there: no other
    // node runs a switchboard); the front's status shows them.
    status_where(front, Duration::from_secs(12), |r| row(r, "switchboard").online_users == Some(3)).await;

    // The sb node is killed: the room ends, and once it is taken for dead, `XFR` answers
    // "try again" (ERR 300) at once, never naming the dead switchboard or hanging.
    let killed = Instant::now();
    sb_node.kill9();
    alice_events
        .expect(in_conversation(a.id(), |e| matches!(e, ConversationEvent::Ended { .. }).then_some(())))
        .await;
    let refused = loop {
        let attempt = tokio::time::timeout(Duration::from_secs(10), alice.open_conversation())
            .await
            .expect("XFR (and the dial that follows) answers within 10 s");
        match attempt {
            Err(error) if error.server_code() == Some(ErrorCode::ServerBusy) => break error,
            // Until the sweep, the dead node's address is still handed out: dialling it fails.
            Err(error) => {
                assert!(killed.elapsed() < CRASH_BOUND, "still {error} after {:?}", killed.elapsed())
            }
            Ok(_) => panic!("a conversation opened with no switchboard node alive"),
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    assert!(refused.to_string().contains("try again"), "{refused}");
    eprintln!("XFR said \"try again\" {:?} after the sb node was killed", killed.elapsed());
    let started = Instant::now();
    let again = alice.open_conversation().await.err().unwrap();
    assert_eq!(again.server_code(), Some(ErrorCode::ServerBusy));
    assert!(started.elapsed() < Duration::from_secs(1), "the refusal is immediate");
    // The front sweeps the dead node on its own clock (once a second, like every node),
    // so its status may say so a moment after the NS node refused.
    let deadline = Instant::now() + Duration::from_secs(5);
    let report = loop {
        let report = status(front).await;
        if row(&report, "switchboard").state == ServiceState::Down || Instant::now() > deadline {
            break report;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(row(&report, "switchboard").state, ServiceState::Down, "{report:#?}");
    assert_eq!(row(&report, "notification").state, ServiceState::Up);
    drop((a, b, c));
    cluster.finish().await;
}

#[tokio::test]
async fn a_classic_client_on_an_ns_node_is_sent_to_the_sb_nodes_msnp_switchboard() {
    let test = "a_classic_client_on_an_ns_node_is_sent_to_the_sb_nodes_msnp_switchboard";
    let Some(cluster) = split_cluster(test).await else { return };
    let (front, ns1) = (cluster.node(1), cluster.node(2));
    assert!(ns1.server.msnp_addr.is_some() && ns1.server.msnp_switchboard_addr.is_none());
    let (ann_user, bob_user) = (front.user("ann").await, front.user("bob").await);
    front.befriend(&ann_user, &bob_user).await;
    // Ann's classic client signs in on an NS node (its gateway and Passport 1.4 login).
    let mut ann = msnp_support::raw_online(ns1, &ann_user, "MSNP8").await;
    assert_eq!(ann.ask("XFR 10 SB").await, "600 10", "no switchboard node yet: busy, not an address");

    let extra = ["--msnp-port", "0", "--msnp-switchboard-port", "0"];
    let RolesNode { running: sb_node, ca_cert, data: _sb_data } =
        cluster.start_roles_program_with("sb1", "sb", &extra);
    let msnp_sb_port = sb_node.port("MSNP switchboard");
    // Once the sb node's heartbeat reaches the NS node, `XFR` names its MSNP switchboard.
    let started = Instant::now();
    let xfr = loop {
        let answer = ann.ask("XFR 11 SB").await;
        if answer != "600 11" {
            break answer;
        }
        assert!(started.elapsed() < Duration::from_secs(12), "the sb node was never handed out");
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    let parts: Vec<&str> = xfr.split(' ').collect();
    let address = format!("localhost:{msnp_sb_port}");
    assert_eq!(parts[..5], ["XFR", "11", "SB", address.as_str(), "CKI"], "{xfr}");

    // Bob, on Mocha Messenger through the front (once its status names an NS node), is
    // called from there and answers.
    status_where(front, Duration::from_secs(10), |r| row(r, "notification").state == ServiceState::Up).await;
    let trust = cluster.trust(&[&ca_cert]);
    let (bob, mut bob_events) =
        connect_with(config_for(front.server.passport_addr.unwrap().port(), &trust), &bob_user).await;
    let mut sb = msnp_support::Raw::connect_to(msnp_sb_port).await;
    assert_eq!(sb.ask(&format!("USR 1 ann@example.com {}", parts[5])).await, "USR 1 OK ann@example.com Ann");
    let rung = sb.ask("CAL 2 bob@example.com").await;
    assert!(rung.starts_with("CAL 2 RINGING "), "{rung}");
    let bobs_ring = bob_events.expect(ring).await;
    let conversation = bob.answer(&bobs_ring).await.unwrap();
    assert_eq!(sb.line().await.as_deref(), Some("JOI bob@example.com Bob"));
    sb.send_msg(3, "A", &msnp_support::text_payload("hello from MSN")).await;
    assert_eq!(sb.line().await.as_deref(), Some("ACK 3"), "delivered");
    assert_eq!(bob_events.expect(text_from(conversation.id(), ann_user.account.id)).await, "hello from MSN");
    drop((sb, ann, conversation));
    cluster.finish().await;
}

fn joined(e: &ConversationEvent) -> Option<mocha_auth::UserId> {
    match e {
        ConversationEvent::Joined(participant) => Some(participant.user_id),
        _ => None,
    }
}
