//! Issue 19, part 2: a client that trickles its request body, one byte per TLS record,
//! must cost the server about the body it sent, not a read buffer per record — and the
//! memory must come back when the connections close.
//!
//! Alone in its own test binary, so that no other test's allocations blur the resident
//! memory it reads (the server runs in this process).
#![allow(clippy::unwrap_used)]

mod common;
mod https_support;

use std::time::Duration;

use common::TestServer;
use https_support::{request_head, resident_bytes, send_record};

const CONNECTIONS: usize = 100;
/// Body bytes each connection sends, each in its own TLS record.
const RECORDS_EACH: usize = 200;
/// What the old server took for the trickle (measured: about 8 KiB per record, so
/// ~160 MB here) is far above this; the bodies themselves are 20 KB in all.
const MAX_GROWTH: u64 = 24 * 1024 * 1024;

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trickled_bodies_cost_their_size_not_a_buffer_per_record() {
    let t = TestServer::start().await;
    let start = resident_bytes();

    // Each connection announces a body at the limit (16 KiB) and never finishes it.
    let head = request_head("POST", "/api/v1/sessions", "application/json", 16 * 1024);
    let mut connections = Vec::new();
    for _ in 0..CONNECTIONS {
        let mut connection = https_support::connect(&t).await;
        send_record(&mut connection, head.as_bytes()).await.unwrap();
        connections.push(connection);
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let connected = resident_bytes();

    // One byte per connection per round, so the server reads each record on its own.
    for _ in 0..RECORDS_EACH {
        for connection in &mut connections {
            send_record(connection, b" ").await.unwrap();
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let trickled = resident_bytes();

    drop(connections);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let closed = resident_bytes();

    let growth = trickled.saturating_sub(connected);
    let kept = closed.saturating_sub(start);
    eprintln!(
        "resident memory: start {:.1} MiB, {CONNECTIONS} connections with headers {:.1} MiB, \
         after {RECORDS_EACH} one-byte records each {:.1} MiB (+{:.1} MiB), after closing {:.1} MiB",
        mib(start),
        mib(connected),
        mib(trickled),
        mib(growth),
        mib(closed),
    );
    assert!(growth < MAX_GROWTH, "the trickle grew the server by {:.1} MiB", mib(growth));
    assert!(kept < MAX_GROWTH, "{:.1} MiB were still held after the connections closed", mib(kept));

    // The server still answers.
    assert!(t.passport.status().await.is_ok());
}
