//! A cluster when things fail: NATS restarted under two nodes (a private nats-server),
//! a node frozen long enough to be taken for dead (a `mocha-server` child, SIGSTOP),
//! a client's node killed behind one address (SIGKILL; the client comes back on the other
//! node), and PostgreSQL stopped under two nodes (a private PostgreSQL). Everything
//! through `mocha_client` over real TLS, against real servers.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

mod binary_support;
mod client_support;
mod cluster_support;
mod common;
mod lb_support;
mod notification_support;
mod postgres_support;

use std::time::{Duration, Instant};

use mocha_client::Event;
use mocha_client::api::PresenceStatus;
use mocha_client::proto::{ErrorCode, Status};
use mocha_client::sb::Delivery;
use mocha_passport::DatabaseUrl;
use mocha_passport::testing::{Engine, TestDatabase, engine_ready};

use client_support::{chat, config_for, connect, connect_with, heard_text, personal_message_of, state_where};
use cluster_support::{CRASH_BOUND, Cluster, NATS, PrivateNats, ProgramNode, nats_ready, saw};
use postgres_support::PrivatePostgres;

/// How long presence may take to converge after NATS comes back.
const CONVERGE: Duration = Duration::from_secs(30);

#[tokio::test]
async fn after_a_nats_restart_the_nodes_announce_their_sessions_again_and_presence_converges() {
    let test = "after_a_nats_restart_the_nodes_announce_their_sessions_again_and_presence_converges";
    if !engine_ready(Engine::Postgres, test).await {
        return;
    }
    let Some(mut nats) = PrivateNats::start() else { return };
    let database = TestDatabase::create(Engine::Postgres).await;
    let cluster = Cluster::start_on(&nats.url(), database.url.clone(), Some(database), 2, |_, _| {}).await;
    let (n1, n2) = (cluster.node(1), cluster.node(2));
    let (alice_user, bob_user, carol_user) =
        (n1.user("alice").await, n1.user("bob").await, n1.user("carol").await);
    n1.befriend(&alice_user, &bob_user).await;
    n1.befriend(&alice_user, &carol_user).await;
    let (alice, mut alice_events) = connect(n1, &alice_user).await;
    let (bob, mut bob_events) = connect(n2, &bob_user).await;
    alice_events.expect(saw(bob.user_id(), Some(PresenceStatus::Online))).await;
    state_where(&bob, |s| s.presence(alice.user_id()).is_some()).await;

    // NATS dies, taking the directory (memory storage) with it; Alice changes her status
    // meanwhile, then NATS comes back empty on the same port.
    nats.kill();
    tokio::time::sleep(Duration::from_millis(500)).await;
    alice.set_status(Status::Away).await.unwrap();
    tokio::time::sleep(Duration::from_secs(1)).await;
    nats.resume();

    // Bob on node 2 catches up with Alice's status, and their changes cross both ways again.
    let caught_up = bob_events.try_expect(CONVERGE, saw(alice.user_id(), Some(PresenceStatus::Away))).await;
    assert!(caught_up.is_some(), "Bob never saw Alice away after NATS came back");
    bob.set_status(Status::Busy).await.unwrap();
    alice_events.expect(saw(bob.user_id(), Some(PresenceStatus::Busy))).await;
    alice.set_personal_message("back on the bus").await.unwrap();
    assert_eq!(bob_events.expect(personal_message_of(alice.user_id())).await, "back on the bus");

    // The directory was written again: Carol signing in on node 2 sees Alice (on node 1)
    // at once, as she is.
    let (carol, _carol_events) = connect(n2, &carol_user).await;
    let seen = state_where(&carol, |s| s.presence(alice.user_id()).is_some()).await;
    assert_eq!(seen.presence(alice.user_id()).unwrap().status, PresenceStatus::Away);

    // And heartbeats flow again: nobody is taken for dead once the timeout has passed.
    let swept = bob_events.try_expect(Duration::from_secs(17), saw(alice.user_id(), None)).await;
    assert!(swept.is_none(), "Alice was taken for gone after the restart");
    alice.set_status(Status::Online).await.unwrap();
    bob_events.expect(saw(alice.user_id(), Some(PresenceStatus::Online))).await;
    drop((carol, alice_events));
    cluster.finish().await;
}

#[tokio::test]
async fn a_node_taken_for_dead_while_alive_announces_its_sessions_again() {
    let test = "a_node_taken_for_dead_while_alive_announces_its_sessions_again";
    let Some(cluster) = Cluster::start(test).await else { return };
    let (n1, n2) = (cluster.node(1), cluster.node(2));
    let (alice_user, bob_user, carol_user) = cluster.bob_and_two_contacts().await;
    let (alice, mut alice_events) = connect(n1, &alice_user).await;

    // Node 3 is the real program; Bob is on it.
    let ProgramNode { running: node3, client, data: _node3_data, .. } = cluster.start_program("n3");
    let (bob, _bob_events) = connect_with(client, &bob_user).await;
    bob.set_status(Status::Busy).await.unwrap();
    alice_events.expect(saw(bob.user_id(), Some(PresenceStatus::Busy))).await;

    // Frozen past the timeout: the others take it for dead and show Bob offline ...
    let pid = node3.child.id().to_string();
    std::process::Command::new("kill").args(["-STOP", &pid]).status().unwrap();
    let gone = alice_events.try_expect(CRASH_BOUND, saw(bob.user_id(), None)).await;
    std::process::Command::new("kill").args(["-CONT", &pid]).status().unwrap();
    assert!(gone.is_some(), "node 3 was never taken for dead");

    // ... and once it runs again it finds itself swept and announces Bob again.
    let back = alice_events.try_expect(CONVERGE, saw(bob.user_id(), Some(PresenceStatus::Busy))).await;
    assert!(back.is_some(), "Bob did not come back for Alice");
    let (carol, _carol_events) = connect(n2, &carol_user).await;
    let seen = state_where(&carol, |s| s.presence(bob.user_id()).is_some()).await;
    assert_eq!(seen.presence(bob.user_id()).unwrap().status, PresenceStatus::Busy);
    drop((alice, bob, carol));
    let said = node3.stop();
    assert!(
        said.iter().any(|(_, line)| line.contains("rejoined the cluster's directory")),
        "node 3 did not say it re-announced: {said:#?}"
    );
    cluster.finish().await;
}

#[tokio::test]
async fn a_client_whose_node_dies_comes_back_on_the_other_node_through_one_address() {
    let test = "a_client_whose_node_dies_comes_back_on_the_other_node_through_one_address";
    let Some(lb) = lb_support::Balancer::start(2).await else { return };
    if !nats_ready(test) || !engine_ready(Engine::Postgres, test).await {
        return;
    }
    let database = TestDatabase::create(Engine::Postgres).await;
    // Node A (the real program, on 127.0.0.2) and node B (in-process, on 127.0.0.3) listen
    // on the balancer's ports; clients know only the balancer (localhost).
    let ports = lb.ports;
    let cluster = Cluster::start_on(NATS, database.url.clone(), Some(database), 1, move |_, config| {
        config.bind = lb_support::backend(1);
        [config.passport_port, config.notification_port, config.switchboard_port] = ports;
    })
    .await;
    let data = tempfile::tempdir().unwrap();
    let flags = cluster.flags("a");
    let [passport, notification, switchboard] = lb.ports.map(|p| p.to_string());
    let mut flags: Vec<&str> = flags.iter().map(String::as_str).collect();
    flags.extend(["--bind", "127.0.0.2", "--passport-port", &passport]);
    flags.extend(["--notification-port", &notification, "--switchboard-port", &switchboard]);
    let node_a = binary_support::Running::start_with_ports(data.path(), &flags);
    let node_b = cluster.node(1);
    let trust = node_b.trust.clone().with_pem_file(&data.path().join("tls/ca.pem")).unwrap();
    let config = || config_for(lb.ports[0], &trust);
    lb.prefer(1); // Alice on node B (and node B's own Passport client too)
    let (alice_user, bob_user) = (node_b.user("alice").await, node_b.user("bob").await);
    node_b.befriend(&alice_user, &bob_user).await;
    let (alice, mut alice_events) = connect_with(config(), &alice_user).await;
    lb.prefer(0); // Bob on node A
    let (bob, mut bob_events) = connect_with(config(), &bob_user).await;
    bob.set_status(Status::Busy).await.unwrap();
    alice_events.expect(saw(bob.user_id(), Some(PresenceStatus::Busy))).await;
    assert_eq!(node_b.server.notification.online_users(), 1, "Bob is not on node B");

    let killed = Instant::now();
    node_a.kill9();
    // His client reconnects by itself, through the same address, to node B.
    let back =
        bob_events.try_expect(CRASH_BOUND, |e| matches!(e, Event::Connected { .. }).then_some(())).await;
    assert!(back.is_some(), "Bob's client did not come back within {CRASH_BOUND:?}");
    eprintln!("Bob was back on node B {:?} after node A was killed", killed.elapsed());
    assert_eq!(node_b.server.notification.online_users(), 2);
    // Re-synced: his contact list shows Alice online, and she sees him with his status.
    let state = state_where(&bob, |s| s.presence(alice.user_id()).is_some()).await;
    assert_eq!(state.presence(alice.user_id()).unwrap().status, PresenceStatus::Online);
    // (His new session starts offline until his client sets his status again.)
    alice_events.expect(saw(bob.user_id(), Some(PresenceStatus::Busy))).await;
    alice_events.forget_seen();

    // One live session: node A's sweep (within the crash bound) spares the new session,
    // nobody is signed out of it, and the cluster counts two users.
    let dropped = alice_events.try_expect(Duration::from_secs(20), saw(bob.user_id(), None)).await;
    assert!(dropped.is_none(), "Bob's new session was taken for the dead node's");
    bob_events.expect_none(|e| matches!(e, Event::SignedOut(_)).then_some(())).await;
    let report = node_b.passport.status().await.unwrap();
    let online = report.services.iter().find(|s| s.name == "notification").and_then(|s| s.online_users);
    assert_eq!(online, Some(2));
    bob.set_status(Status::Away).await.unwrap();
    alice_events.expect(saw(bob.user_id(), Some(PresenceStatus::Away))).await;
    drop((alice, bob));
    cluster.finish().await;
}

#[tokio::test]
async fn through_haproxy_clients_whose_node_dies_come_back_on_the_surviving_one() {
    let test = "through_haproxy_clients_whose_node_dies_come_back_on_the_surviving_one";
    let Some(ports) = lb_support::Haproxy::ports(2) else { return };
    if !nats_ready(test) || !engine_ready(Engine::Postgres, test).await {
        return;
    }
    let database = TestDatabase::create(Engine::Postgres).await;
    // Node B in-process on 127.0.0.3, node A (the real program) on 127.0.0.2 with node
    // B's certificate (one certificate for the public name, as in a real deployment),
    // both on HAProxy's ports; HAProxy sends everyone to node A while it lives.
    let cluster = Cluster::start_on(NATS, database.url.clone(), Some(database), 1, move |_, config| {
        config.bind = lb_support::backend(1);
        [config.passport_port, config.notification_port, config.switchboard_port] = ports;
    })
    .await;
    let node_b = cluster.node(1);
    let (cert, key) = (
        node_b.server.ca_cert.with_file_name("server.pem"),
        node_b.server.ca_cert.with_file_name("server-key.pem"),
    );
    let (cert, key) = (cert.display().to_string(), key.display().to_string());
    let data = tempfile::tempdir().unwrap();
    let flags = cluster.flags("a");
    let [passport, notification, switchboard] = ports.map(|p| p.to_string());
    let mut flags: Vec<&str> = flags.iter().map(String::as_str).collect();
    flags.extend([
        "--bind",
        "127.0.0.2",
        "--passport-port",
        &passport,
        "--tls-cert",
        &cert,
        "--tls-key",
        &key,
    ]);
    flags.extend(["--notification-port", &notification, "--switchboard-port", &switchboard]);
    let node_a = binary_support::Running::start_with_ports(data.path(), &flags);
    let _haproxy = lb_support::Haproxy::start(2, ports);

    let (alice_user, bob_user) = (node_b.user("alice").await, node_b.user("bob").await);
    node_b.befriend(&alice_user, &bob_user).await;
    let (alice, mut alice_events) = connect(node_b, &alice_user).await;
    let (bob, mut bob_events) = connect(node_b, &bob_user).await;
    bob.set_status(Status::Busy).await.unwrap();
    alice_events.expect(saw(bob.user_id(), Some(PresenceStatus::Busy))).await;
    assert_eq!(node_b.server.notification.online_users(), 0, "HAProxy sent someone to node B");

    let killed = Instant::now();
    node_a.kill9();
    for events in [&mut alice_events, &mut bob_events] {
        let back =
            events.try_expect(CRASH_BOUND, |e| matches!(e, Event::Connected { .. }).then_some(())).await;
        assert!(back.is_some(), "a client did not come back within {CRASH_BOUND:?}");
    }
    eprintln!("both were back on node B {:?} after node A was killed", killed.elapsed());
    assert_eq!(node_b.server.notification.online_users(), 2);
    // Re-synced both ways, and changes flow on the surviving node.
    state_where(&alice, |s| s.presence(bob.user_id()).is_some_and(|p| p.status == PresenceStatus::Busy))
        .await;
    state_where(&bob, |s| s.presence(alice.user_id()).is_some()).await;
    alice.set_personal_message("still here").await.unwrap();
    assert_eq!(bob_events.expect(personal_message_of(alice.user_id())).await, "still here");
    let report = node_b.passport.status().await.unwrap();
    let online = report.services.iter().find(|s| s.name == "notification").and_then(|s| s.online_users);
    assert_eq!(online, Some(2));
    drop((alice, bob));
    cluster.finish().await;
}

#[tokio::test]
async fn with_postgres_stopped_a_cluster_refuses_sign_ins_with_503_and_its_users_keep_chatting() {
    let test = "with_postgres_stopped_a_cluster_refuses_sign_ins_with_503_and_its_users_keep_chatting";
    if !nats_ready(test) {
        return;
    }
    let Some(pg) = PrivatePostgres::start() else { return };
    let url = DatabaseUrl::parse(&pg.url()).unwrap();
    let cluster = Cluster::start_on(NATS, url, None, 2, |_, _| {}).await;
    let (n1, n2) = (cluster.node(1), cluster.node(2));
    let (alice_user, bob_user, carol_user) =
        (n1.user("alice").await, n1.user("bob").await, n1.user("carol").await);
    n1.befriend(&alice_user, &bob_user).await;
    n1.befriend(&alice_user, &carol_user).await;
    // Alice and Bob talk on node 2's switchboard; Carol is on node 1.
    let (alice, mut alice_events) = connect(n2, &alice_user).await;
    let (bob, mut bob_events) = connect(n2, &bob_user).await;
    let (carol, mut carol_events) = connect(n1, &carol_user).await;
    state_where(&carol, |s| s.presence(alice.user_id()).is_some()).await;
    let (a, b) = chat(&alice, &mut alice_events, &bob, &mut bob_events).await;

    pg.stop();

    // Either node: a new sign-in is told to come back (as on one node).
    for node in [n1, n2] {
        let refused = node.passport.sign_in(&carol_user.account.username, &carol_user.password).await;
        let refused = refused.unwrap_err();
        assert_eq!((refused.status(), refused.code()), (Some(503), Some("storage_unavailable")), "{refused}");
        assert_eq!(refused.detail().unwrap().retry_after_seconds, Some(5));
        let mut ns = notification_support::ns(node).await;
        let error = ns.sign_in(bob_user.token()).await.unwrap_err();
        assert_eq!(error.code(), Some(ErrorCode::ServerBusy), "{error}");
    }
    // The conversation goes on, and the signed-in sessions stay.
    assert_eq!(a.send_text("is the database down?").await.unwrap(), Delivery::Delivered);
    assert_eq!(heard_text(&mut bob_events, b.id()).await, "is the database down?");
    carol_events.expect_none(|e| matches!(e, Event::SignedOut(_)).then_some(())).await;

    pg.resume();

    // Back without a restart, on both nodes.
    let started = Instant::now();
    for node in [n1, n2] {
        loop {
            match node.passport.sign_in(&carol_user.account.username, &carol_user.password).await {
                Ok(tokens) => break assert_eq!(tokens.account.id, carol_user.account.id),
                Err(e) if e.code() == Some("storage_unavailable") && started.elapsed() < CONVERGE => {
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
                Err(e) => panic!("Passport did not recover: {e}"),
            }
        }
    }
    assert_eq!(b.send_text("it is back").await.unwrap(), Delivery::Delivered);
    assert_eq!(heard_text(&mut alice_events, a.id()).await, "it is back");
    // Presence crosses the nodes again (it needs the database for the watchers).
    alice.set_status(Status::Busy).await.unwrap();
    carol_events.expect(saw(alice.user_id(), Some(PresenceStatus::Busy))).await;
    drop(carol);
    cluster.finish().await;
}
