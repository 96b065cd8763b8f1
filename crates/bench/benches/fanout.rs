//! Presence fan-out to 1,000 contacts, end to end: a user's `CHG` until all 1,000 online
//! watchers have read the `NLN` over TLS (in-process server; the watchers' reads share
//! the same cores). Publishers rotate so the NS's per-connection command limit
//! (10 a second) never refuses a change.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use mocha_bench::fixtures::provision;
use mocha_bench::scenario::{set_status, sign_in_all};
use mocha_bench::target::TargetOptions;
use mocha_bench::wire::Dialer;
use mocha_proto::Status;
use tokio::sync::Notify;

const WATCHERS: usize = 1_000;
const PUBLISHERS: usize = 64;

fn fanout(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    let (mut publishers, received, notify, target) = runtime.block_on(async {
        mocha_bench::scenario::raise_nofile_limit();
        let prepared = TargetOptions { server_name: "localhost".into(), ..Default::default() }
            .prepare()
            .await
            .expect("data folder");
        let contacts: Vec<(usize, usize)> =
            (0..PUBLISHERS).flat_map(|p| (0..WATCHERS).map(move |w| (p, PUBLISHERS + w))).collect();
        let users = provision(&prepared.passport, PUBLISHERS + WATCHERS, &contacts).await.expect("users");
        let target = prepared.start().await.expect("server");
        let dialer = Arc::new(Dialer::new(&target.ca, "localhost", Vec::new()).expect("dialer"));
        let signed = sign_in_all(&dialer, target.ns_addr, &users.tokens, 64).await;
        assert_eq!(signed.failures, 0, "{:?}", signed.first_error);
        let mut conns: Vec<_> = signed.conns.into_iter().flatten().collect();
        for conn in &mut conns {
            set_status(conn, Status::Online).await.expect("online");
        }
        let watchers = conns.split_off(PUBLISHERS);
        let received = Arc::new(AtomicU64::new(0));
        let notify = Arc::new(Notify::new());
        for mut watcher in watchers {
            let (received, notify) = (received.clone(), notify.clone());
            tokio::spawn(async move {
                while let Ok(frame) = watcher.reader.frame().await {
                    if frame.command.as_str() == "NLN" {
                        received.fetch_add(1, Ordering::Relaxed);
                        notify.notify_one();
                    }
                }
            });
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
        (conns, received, notify, target)
    });
    let mut group = c.benchmark_group("presence");
    group.sample_size(10).measurement_time(Duration::from_secs(20));
    let mut turn = 0usize;
    group.bench_function("fan-out to 1000 contacts (CHG → all NLN read)", |b| {
        b.iter_custom(|iters| {
            runtime.block_on(async {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    turn += 1;
                    let publisher = &mut publishers[turn % PUBLISHERS];
                    let status = if turn.is_multiple_of(2) { Status::Away } else { Status::Busy };
                    // Stay under the per-connection limit: each publisher at most ~8 a second.
                    tokio::time::sleep(Duration::from_millis(2)).await;
                    let goal = received.load(Ordering::Relaxed) + WATCHERS as u64;
                    let started = Instant::now();
                    set_status(publisher, status).await.expect("CHG");
                    while received.load(Ordering::Relaxed) < goal {
                        let _ = tokio::time::timeout(Duration::from_millis(50), notify.notified()).await;
                    }
                    total += started.elapsed();
                }
                total
            })
        })
    });
    group.finish();
    runtime.block_on(target.stop());
}

criterion_group!(benches, fanout);
criterion_main!(benches);
