//! The relay hot path with no sockets: one client `MSG` in wire form → N deliveries as
//! the bytes the writers would hand to TLS, through the real switchboard code
//! (`mocha_switchboard::harness`). TLS, the kernel and wake-ups between tasks are not
//! in it; the load generator's scenarios measure those (docs/benchmarks.md).
//!
//! Built as the binary `relay-bench` (see Cargo.toml for why not a `[[bench]]`):
//! `cargo build --release -p mocha-server -p mocha-bench -p mocha-switchboard --features
//! mocha-switchboard/bench-harness --bin relay-bench`, then `target/release/relay-bench`
//! prints nanoseconds per delivery for 1, 4 and 19 recipients (best of five runs;
//! `--check` only checks the output once). Wall-clock
//! time is noise on a shared machine: `scripts/relay-callgrind.sh` counts instructions
//! instead — with `MOCHA_RELAY_COUNT="R N"` this binary relays exactly N messages to R
//! recipients and exits, and the script runs it under callgrind for N and 11·N and
//! divides the difference by 10·N·R (set-up excluded).
//!
//! No criterion: as a dev-dependency it would rebuild the whole dependency tree with
//! other features; a timing loop plus instruction counts say what is needed here.

#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::time::Instant;

use mocha_auth::SigningKey;
use mocha_passport::{Passport, PassportConfig, StatusBoard};
use mocha_proto::sb::client::{AckMode, Msg};
use mocha_proto::{Frame, Limits, MessagePayload};
use mocha_switchboard::harness::RelayHarness;

/// A chat text like the load generator's: 100 bytes.
fn chat_wire() -> Vec<u8> {
    let body = format!("0 17 123456789 {}", "x".repeat(85));
    let payload = MessagePayload::text(&body).to_bytes();
    let mut wire = Vec::new();
    Msg { trid: 7, ack: AckMode::Unacknowledged, payload }.into_frame().encode(&mut wire);
    wire
}

/// Checks that every recipient got the relayed frame, from u1, with the text whole.
fn check(harness: &RelayHarness, recipients: usize) {
    let mut out = bytes::BytesMut::from(harness.last_output());
    let mut relayed = 0;
    while let Some(frame) = Frame::decode(&mut out, &Limits::default()).unwrap() {
        assert_eq!((frame.command.as_str(), frame.args[0].as_str()), ("MSG", "u1"), "{frame}");
        assert!(frame.payload.unwrap().ends_with(b"xxxxx"));
        relayed += 1;
    }
    assert_eq!(relayed, recipients, "one delivery per recipient");
}

fn main() {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let passport = runtime.block_on(async {
        Passport::open(
            &mocha_passport::DatabaseUrl::sqlite(dir.path().join("bench.db")),
            SigningKey::generate(),
            PassportConfig::default(),
            Arc::new(StatusBoard::default()),
        )
        .await
        .unwrap()
    });
    let wire = chat_wire();
    let relay_all = |harness: &mut RelayHarness, count: usize| {
        runtime.block_on(async {
            let mut total = 0;
            for _ in 0..count {
                total += harness.relay(&wire).await.unwrap();
            }
            total
        })
    };
    if let Ok(spec) = std::env::var("MOCHA_RELAY_COUNT") {
        let mut words = spec.split_whitespace().map(|w| w.parse::<usize>().unwrap());
        let (recipients, count) = (words.next().unwrap(), words.next().unwrap());
        let mut harness = RelayHarness::new(passport.clone(), recipients);
        let total = relay_all(&mut harness, count);
        check(&harness, recipients);
        println!("relayed {count} messages to {recipients} recipients: {total} bytes written");
        return;
    }
    let timing = !std::env::args().any(|a| a == "--check");
    for recipients in [1usize, 4, 19] {
        let mut harness = RelayHarness::new(passport.clone(), recipients);
        relay_all(&mut harness, 1);
        check(&harness, recipients);
        if !timing {
            continue;
        }
        let count = 200_000 / recipients;
        let best = (0..5)
            .map(|_| {
                let started = Instant::now();
                relay_all(&mut harness, count);
                started.elapsed().as_nanos() as f64 / (count * recipients) as f64
            })
            .fold(f64::INFINITY, f64::min);
        println!(
            "relay MSG to {recipients:>2} recipients: {best:>7.1} ns per delivery (best of 5 × {count} messages)"
        );
    }
}
