//! `storm`: N users signed in drop their connections at the same moment and all sign
//! in again at once with their session tokens (as after a network blip or a server
//! restart). Reports the time until everyone is back.

use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Args;
use serde::Serialize;

use super::{raise_nofile_limit, sign_in_all};
use crate::fixtures::provision;
use crate::report::Report;
use crate::target::TargetOptions;
use crate::wire::{Dialer, loopback_sources};

#[derive(Args, Clone, Debug, Serialize)]
pub struct StormArgs {
    /// Users signed in before the storm, all of whom reconnect.
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u64).range(1..=200_000))]
    pub users: u64,
    /// Sign-ins in flight at once while setting up.
    #[arg(long, default_value_t = 64)]
    pub setup_concurrency: usize,
    /// Reconnects in flight at once during the storm [default: all of them].
    #[arg(long, default_value_t = 0)]
    pub concurrency: usize,
    /// Source addresses 127.0.0.1..N [default: one per 25,000 connections].
    #[arg(long, default_value_t = 0)]
    pub sources: usize,
}

pub async fn run(target: &TargetOptions, args: &StormArgs) -> anyhow::Result<Report> {
    let limit = raise_nofile_limit();
    let users = usize::try_from(args.users)?;
    let prepared = target.prepare().await?;
    let fixture = provision(&prepared.passport, users, &[]).await?;
    let target = prepared.start().await?;
    let sources = loopback_sources(users, args.sources);
    let dialer = Arc::new(Dialer::new(&target.ca, &target.server_name(), sources.clone())?);

    let first = sign_in_all(&dialer, target.ns_addr, &fixture.tokens, args.setup_concurrency).await;
    let before = first.conns.iter().filter(|c| c.is_some()).count();
    tokio::time::sleep(Duration::from_millis(500)).await;

    // Everyone drops at once (the TCP connections close), then everyone comes back.
    let cpu_before = target.cpu_seconds();
    let storm = Instant::now();
    drop(first.conns);
    let concurrency = if args.concurrency == 0 { users } else { args.concurrency };
    let second = sign_in_all(&dialer, target.ns_addr, &fixture.tokens, concurrency).await;
    let back_after = storm.elapsed();
    let back = second.conns.iter().filter(|c| c.is_some()).count();
    let cpu_after = target.cpu_seconds();

    let mut report = Report::new("storm", args);
    report
        .figure("users signed in before", before as f64, "")
        .figure("users back", back as f64, "")
        .figure("failed to come back", second.failures as f64, "")
        .figure("retries", second.retries as f64, "")
        .figure("time until all back", back_after.as_secs_f64(), "s")
        .figure("sign-ins/s during the storm", back as f64 / back_after.as_secs_f64(), "1/s")
        .figure(
            "server CPU per reconnect (incl. disconnect)",
            crate::target::cpu_ms_per(cpu_before, cpu_after, back as u64).unwrap_or(f64::NAN),
            "ms",
        )
        .figure("sign-ins/s while setting up", before as f64 / first.elapsed.as_secs_f64(), "1/s")
        .latency("reconnect (connect + TLS + VER + USR)", &second.latency)
        .latency("setup sign-in", &first.latency)
        .note(format!(
            "server: {}; open-file limit {limit}; source addresses {}",
            target.kind,
            sources.len().max(1)
        ));
    if let Some(error) = second.first_error.or(first.first_error) {
        report.note(format!("first sign-in error: {error}"));
    }
    drop(second.conns);
    target.stop().await;
    Ok(report)
}
