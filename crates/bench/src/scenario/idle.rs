//! `idle`: N users signed in (token sign-in over full TLS) and held with keepalives.
//! Reports the connect rate, connect + sign-in latency and the server's RSS per
//! connection.

use std::sync::Arc;
use std::time::Duration;

use clap::Args;
use mocha_proto::ns::client;
use serde::Serialize;
use tokio::task::JoinSet;

use super::{REPLY_TIMEOUT, out_frame, raise_nofile_limit, sign_in_all};
use crate::fixtures::provision;
use crate::report::Report;
use crate::target::TargetOptions;
use crate::wire::{Dialer, loopback_sources};

#[derive(Args, Clone, Debug, Serialize)]
pub struct IdleArgs {
    /// Users to sign in and hold.
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u64).range(1..=200_000))]
    pub users: u64,
    /// Sign-ins in flight at once.
    #[arg(long, default_value_t = 64)]
    pub concurrency: usize,
    /// How long to hold everyone once signed in, in seconds.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(0..=3600))]
    pub hold: u64,
    /// Seconds between keepalive pings (the server wants one within 90 s).
    #[arg(long, default_value_t = 60)]
    pub ping_every: u64,
    /// Source addresses 127.0.0.1..N [default: one per 25,000 connections].
    #[arg(long, default_value_t = 0)]
    pub sources: usize,
}

pub async fn run(target: &TargetOptions, args: &IdleArgs) -> anyhow::Result<Report> {
    let limit = raise_nofile_limit();
    let users = usize::try_from(args.users)?;
    let prepared = target.prepare().await?;
    let fixture = provision(&prepared.passport, users, &[]).await?;
    let target = prepared.start().await?;
    let sources = loopback_sources(users, args.sources);
    let dialer = Arc::new(Dialer::new(&target.ca, &target.server_name(), sources.clone())?);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let rss_before = target.rss_kib();
    let cpu_before = target.cpu_seconds();

    let signed = sign_in_all(&dialer, target.ns_addr, &fixture.tokens, args.concurrency).await;
    let cpu_after = target.cpu_seconds();
    let held = signed.conns.iter().filter(|c| c.is_some()).count();
    tokio::time::sleep(Duration::from_secs(1)).await;
    let rss_after = target.rss_kib();

    // Hold: each connection pings on its own schedule until the end.
    let hold = Duration::from_secs(args.hold);
    let ping_every = Duration::from_secs(args.ping_every.max(1));
    let mut tasks = JoinSet::new();
    for (index, conn) in signed.conns.into_iter().enumerate() {
        let Some(mut conn) = conn else { continue };
        tasks.spawn(async move {
            let end = tokio::time::Instant::now() + hold;
            let mut next = tokio::time::Instant::now() + super::phase(index, ping_every);
            let mut alive = true;
            while next < end && alive {
                let reading = conn.reader.until(
                    next.saturating_duration_since(tokio::time::Instant::now()),
                    |_| None::<()>,
                    drop,
                );
                if let Err(crate::wire::WireError::Closed | crate::wire::WireError::Io(_)) = reading.await {
                    alive = false;
                    break;
                }
                let trid = conn.writer.trid();
                alive = conn.request(client::Png { trid }.into_frame(), REPLY_TIMEOUT, drop).await.is_ok();
                next += ping_every;
            }
            if alive {
                tokio::time::sleep_until(end).await;
                let out = out_frame(&mut conn);
                let _ = conn.writer.send(&out).await;
                conn.writer.shutdown().await;
            }
            alive
        });
    }
    let mut dropped = 0u64;
    while let Some(alive) = tasks.join_next().await {
        if !matches!(alive, Ok(true)) {
            dropped += 1;
        }
    }

    let mut report = Report::new("idle", args);
    report
        .figure("users signed in", held as f64, "")
        .figure("sign-in failures", signed.failures as f64, "")
        .figure("retries", signed.retries as f64, "")
        .figure("sign-ins/s", held as f64 / signed.elapsed.as_secs_f64(), "1/s")
        .figure("dropped while held", dropped as f64, "")
        .figure(
            "server CPU per sign-in",
            crate::target::cpu_ms_per(cpu_before, cpu_after, held as u64).unwrap_or(f64::NAN),
            "ms",
        )
        .latency("connect + TLS + VER + USR", &signed.latency)
        .note(format!(
            "server: {}; open-file limit {limit}; source addresses {}",
            target.kind,
            sources.len().max(1)
        ));
    if let (Some(before), Some(after)) = (rss_before, rss_after) {
        report
            .figure("server RSS before", before as f64 / 1024.0, "MiB")
            .figure("server RSS with everyone signed in", after as f64 / 1024.0, "MiB")
            .figure(
                "server RSS per connection",
                after.saturating_sub(before) as f64 / held.max(1) as f64,
                "KiB",
            );
        if target.kind == "in-process" {
            report.note("in-process: the RSS includes the load generator's own connections; use --spawn");
        }
    }
    if let Some(error) = signed.first_error {
        report.note(format!("first sign-in error: {error}"));
    }
    target.stop().await;
    Ok(report)
}
