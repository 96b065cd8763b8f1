//! Helpers for the Notification Server tests: connections through real TLS, and
//! waiting for (or proving the absence of) presence pushes.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use mocha_client::api::UserId;
use mocha_client::ns::{NsConnection, NsError};
use mocha_client::proto::ns::ServerCommand;
use mocha_client::proto::{OutReason, Status};
use mocha_notification::{NotificationConfig, NotificationServer};
use tokio_util::sync::CancellationToken;

use crate::common::{TestServer, TestUser};

/// Long enough for anything that should arrive.
pub const WAIT: Duration = Duration::from_secs(5);
/// How long we watch to be sure something does not arrive. Pushes that do arrive
/// take milliseconds, and each absence check is paired with a presence check of
/// the same change elsewhere, made first.
pub const QUIET: Duration = Duration::from_millis(400);

pub async fn connect(address: SocketAddr, server: &TestServer) -> NsConnection {
    NsConnection::connect(("localhost", address.port()), "localhost", &server.trust)
        .await
        .expect("NS connects")
}

/// A connection to the server's own Notification Server.
pub async fn ns(server: &TestServer) -> NsConnection {
    connect(server.server.ns_addr.expect("every role runs"), server).await
}

/// Signs `user` in without choosing a status: offline to everyone.
pub async fn signed_in(server: &TestServer, user: &TestUser) -> NsConnection {
    let mut conn = ns(server).await;
    let me = conn.sign_in(user.token()).await.expect("sign in to the NS");
    assert_eq!(me.user_id, user.account.id);
    conn
}

/// Signs `user` in and sets `status`.
pub async fn online(server: &TestServer, user: &TestUser, status: Status) -> NsConnection {
    let mut conn = signed_in(server, user).await;
    conn.set_status(status).await.expect("CHG");
    conn
}

fn about(command: &ServerCommand) -> Option<String> {
    match command {
        ServerCommand::Nln(nln) => Some(nln.user_id.to_string()),
        ServerCommand::Fln(fln) => Some(fln.user_id.to_string()),
        ServerCommand::Ubx(ubx) => Some(ubx.user_id.to_string()),
        _ => None,
    }
}

/// Waits for `NLN` about `user`; returns its status and display name.
pub async fn expect_nln(conn: &mut NsConnection, user: UserId) -> (Status, String) {
    let id = user.to_string();
    conn.expect_push(WAIT, |push| match push {
        ServerCommand::Nln(nln) if nln.user_id == id.as_str() => Some((nln.status, nln.display_name.clone())),
        _ => None,
    })
    .await
    .unwrap_or_else(|e| panic!("expected NLN for {user}: {e}"))
}

pub async fn expect_fln(conn: &mut NsConnection, user: UserId) {
    let id = user.to_string();
    conn.expect_push(WAIT, |push| match push {
        ServerCommand::Fln(fln) if fln.user_id == id.as_str() => Some(()),
        _ => None,
    })
    .await
    .unwrap_or_else(|e| panic!("expected FLN for {user}: {e}"))
}

pub async fn expect_ubx(conn: &mut NsConnection, user: UserId) -> String {
    let id = user.to_string();
    conn.expect_push(WAIT, |push| match push {
        ServerCommand::Ubx(ubx) if ubx.user_id == id.as_str() => Some(ubx.message.clone()),
        _ => None,
    })
    .await
    .unwrap_or_else(|e| panic!("expected UBX for {user}: {e}"))
}

/// Fails if any presence push about `user` arrives within [`QUIET`].
pub async fn assert_nothing_about(conn: &mut NsConnection, user: UserId) {
    let id = user.to_string();
    let seen =
        conn.expect_push(QUIET, |push| about(push).filter(|about| *about == id).map(|_| push.clone())).await;
    match seen {
        Err(NsError::Timeout) => {}
        Ok(push) => panic!("nothing about {user} should arrive, got {}", push.into_frame()),
        Err(e) => panic!("connection failed while waiting: {e}"),
    }
}

/// Fails if any push at all arrives within [`QUIET`].
pub async fn assert_no_push(conn: &mut NsConnection) {
    if let Some(push) = conn.next_push(QUIET).await.expect("connection alive") {
        panic!("no push expected, got {}", push.into_frame());
    }
}

/// Reads until the server's `OUT`, then checks the connection is closed.
pub async fn expect_out(conn: &mut NsConnection) -> OutReason {
    let reason = conn
        .expect_push(WAIT, |push| match push {
            ServerCommand::Out(out) => Some(out.reason.clone()),
            _ => None,
        })
        .await
        .unwrap_or_else(|e| panic!("expected OUT: {e}"));
    expect_closed(conn).await;
    reason
}

/// Reads until the server closes the connection, ignoring pushes.
pub async fn expect_closed(conn: &mut NsConnection) {
    let end = tokio::time::timeout(WAIT, async {
        loop {
            match conn.read().await {
                Ok(_) => continue,
                Err(error) => return error,
            }
        }
    })
    .await
    .expect("the server should close the connection");
    assert!(matches!(end, NsError::Closed | NsError::Io(_)), "unexpected end: {end}");
}

/// An extra Notification Server on the test server's Passport, with its own settings
/// (tiny queues, short timeouts). Stops when the token is cancelled.
pub async fn custom_ns(
    server: &TestServer,
    adjust: impl FnOnce(&mut NotificationConfig),
) -> (Arc<NotificationServer>, SocketAddr, CancellationToken) {
    let mut config = NotificationConfig::default();
    adjust(&mut config);
    let tls_dir = mocha_server::layout::tls_dir(server.dir.path());
    let tls = mocha_server::tls::server_config(&tls_dir.join("server.pem"), &tls_dir.join("server-key.pem"))
        .expect("TLS config");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = listener.local_addr().expect("address");
    let ns =
        NotificationServer::new(server.server.passport.clone(), mocha_auth::SigningKey::generate(), config);
    let shutdown = CancellationToken::new();
    tokio::spawn(ns.clone().serve(listener, tls, shutdown.clone()));
    (ns, address, shutdown)
}
