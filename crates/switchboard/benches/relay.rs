//! The relay hot path with no sockets: one client `MSG` in wire form → N deliveries as
//! the bytes the writers would hand to TLS, through the real switchboard code
//! (`mocha_switchboard::harness`). TLS and the kernel are not in it; see
//! docs/benchmarks.md for the load-generator scenarios that include them.
//!
//! criterion: `cargo bench -p mocha-switchboard --features bench-harness --bench relay`
//!
//! Instruction counts (repeatable on a busy machine): with `MOCHA_RELAY_COUNT="R N"` the
//! binary skips criterion and relays N messages to R recipients, so
//! `scripts/relay-callgrind.sh` runs it under callgrind twice (N and 11·N) and divides
//! the difference by 10·N·R: instructions per delivery, set-up excluded.

#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group};
use mocha_auth::SigningKey;
use mocha_passport::{Passport, PassportConfig, StatusBoard};
use mocha_proto::MessagePayload;
use mocha_proto::sb::client::{AckMode, Msg};
use mocha_switchboard::harness::RelayHarness;

/// A chat text like the load generator's: 100 bytes.
fn chat_wire() -> Vec<u8> {
    let body = format!("0 17 123456789 {}", "x".repeat(85));
    let payload = MessagePayload::text(&body).to_bytes();
    let mut wire = Vec::new();
    Msg { trid: 7, ack: AckMode::Unacknowledged, payload }.into_frame().encode(&mut wire);
    wire
}

struct Setup {
    runtime: tokio::runtime::Runtime,
    passport: Arc<Passport>,
    _dir: tempfile::TempDir,
}

fn setup() -> Setup {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let passport = runtime.block_on(async {
        Passport::open(
            &dir.path().join("bench.db"),
            SigningKey::generate(),
            PassportConfig::default(),
            Arc::new(StatusBoard::default()),
        )
        .await
        .unwrap()
    });
    Setup { runtime, passport, _dir: dir }
}

fn relay(c: &mut Criterion) {
    let setup = setup();
    let wire = chat_wire();
    let mut group = c.benchmark_group("relay MSG");
    for recipients in [1usize, 4, 19] {
        let mut harness = RelayHarness::new(setup.passport.clone(), recipients);
        // Every recipient gets the relayed frame, from u1, with the text whole.
        setup.runtime.block_on(harness.relay(&wire)).unwrap();
        let mut out = bytes::BytesMut::from(harness.last_output());
        let mut relayed = 0;
        while let Some(frame) = mocha_proto::Frame::decode(&mut out, &Default::default()).unwrap() {
            assert_eq!((frame.command.as_str(), frame.args[0].as_str()), ("MSG", "u1"), "{frame}");
            assert!(frame.payload.unwrap().ends_with(b"xxxxx"));
            relayed += 1;
        }
        assert_eq!(relayed, recipients);
        group.throughput(Throughput::Elements(recipients as u64));
        group.bench_with_input(BenchmarkId::from_parameter(recipients), &recipients, |b, _| {
            b.iter(|| setup.runtime.block_on(harness.relay(&wire)).unwrap());
        });
    }
    group.finish();
}

criterion_group!(benches, relay);

fn main() {
    if let Ok(spec) = std::env::var("MOCHA_RELAY_COUNT") {
        let mut words = spec.split_whitespace().map(|w| w.parse::<usize>().unwrap());
        let (recipients, count) = (words.next().unwrap(), words.next().unwrap());
        let setup = setup();
        let wire = chat_wire();
        let mut harness = RelayHarness::new(setup.passport.clone(), recipients);
        let mut total = 0;
        setup.runtime.block_on(async {
            for _ in 0..count {
                total += harness.relay(&wire).await.unwrap();
            }
        });
        println!("relayed {count} messages to {recipients} recipients: {total} bytes written");
        return;
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
