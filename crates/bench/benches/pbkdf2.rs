//! One password check at the configured cost: PBKDF2-HMAC-SHA256 through ring, exactly
//! as `mocha-passport` verifies (600,000 iterations unless MOCHA_PBKDF2_ITERATIONS
//! says otherwise). This bounds password sign-ins per core per second.

use std::hint::black_box;
use std::num::NonZeroU32;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use ring::pbkdf2;

fn verify(c: &mut Criterion) {
    let iterations: u32 = std::env::var("MOCHA_PBKDF2_ITERATIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(mocha_passport::config::DEFAULT_PBKDF2_ITERATIONS);
    let rounds = NonZeroU32::new(iterations).expect("at least one iteration");
    let salt = [42u8; 16];
    let mut hash = [0u8; 32];
    pbkdf2::derive(pbkdf2::PBKDF2_HMAC_SHA256, rounds, &salt, b"correct horse battery", &mut hash);
    let mut group = c.benchmark_group("pbkdf2");
    group.sample_size(10).measurement_time(Duration::from_secs(15));
    group.bench_function(format!("verify at {iterations} iterations"), |b| {
        b.iter(|| {
            pbkdf2::verify(
                pbkdf2::PBKDF2_HMAC_SHA256,
                rounds,
                &salt,
                black_box(b"correct horse battery"),
                &hash,
            )
            .expect("matches")
        })
    });
    group.finish();
}

criterion_group!(benches, verify);
criterion_main!(benches);
