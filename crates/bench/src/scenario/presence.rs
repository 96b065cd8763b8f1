//! `presence`: N users, each with K contacts (a ring: user i knows the K/2 users on
//! either side), all online, each changing status at a set rate. Reports notifications
//! per second and the fan-out latency from `CHG` sent to `NLN` received.
//!
//! Each user cycles through six statuses; the send time of the latest change to each
//! status is kept per user, so a receiver matches an `NLN` by (user, status). Changes
//! to the same status are six periods apart, far longer than any latency measured.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::Args;
use mocha_proto::Status;
use mocha_proto::ns::ServerCommand;
use mocha_proto::ns::client;
use serde::Serialize;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use super::{phase, raise_nofile_limit, set_status, sign_in_all};
use crate::clock::{now_micros, since};
use crate::fixtures::provision;
use crate::report::{Report, SharedHistogram, histogram, record};
use crate::target::TargetOptions;
use crate::wire::{Dialer, loopback_sources};

const CYCLE: [Status; 6] =
    [Status::Away, Status::Busy, Status::BeRightBack, Status::OnThePhone, Status::OutToLunch, Status::Online];
/// The NS allows 10 commands a second per connection; stay below, pings included.
const MAX_RATE: f64 = 8.0;
const DRAIN: Duration = Duration::from_secs(10);

#[derive(Args, Clone, Debug, Serialize)]
pub struct PresenceArgs {
    /// Users, all online.
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u64).range(2..=20_000))]
    pub users: u64,
    /// Contacts per user (even, fewer than --users).
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u64).range(2..=1_000))]
    pub contacts: u64,
    /// Status changes per second per user (at most 8: the NS allows 10 commands a second).
    #[arg(long, default_value_t = 0.5)]
    pub rate: f64,
    /// Seconds of changing.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=600))]
    pub duration: u64,
    /// Sign-ins in flight at once.
    #[arg(long, default_value_t = 64)]
    pub setup_concurrency: usize,
}

fn status_index(status: Status) -> usize {
    CYCLE.iter().position(|s| *s == status).unwrap_or(0)
}

pub async fn run(target: &TargetOptions, args: &PresenceArgs) -> anyhow::Result<Report> {
    if !(args.rate > 0.0 && args.rate <= MAX_RATE) {
        bail!("--rate must be above 0 and at most {MAX_RATE} changes a second per user");
    }
    if !args.contacts.is_multiple_of(2) || args.contacts >= args.users {
        bail!("--contacts must be even and fewer than --users");
    }
    let limit = raise_nofile_limit();
    let users = usize::try_from(args.users)?;
    let half = usize::try_from(args.contacts / 2)?;
    let contacts: Vec<(usize, usize)> =
        (0..users).flat_map(|i| (1..=half).map(move |d| (i, (i + d) % users))).collect();
    let prepared = target.prepare().await?;
    let fixture = provision(&prepared.passport, users, &contacts).await?;
    let target = prepared.start().await?;
    let dialer = Arc::new(Dialer::new(&target.ca, &target.server_name(), loopback_sources(users, 0))?);

    let signed = sign_in_all(&dialer, target.ns_addr, &fixture.tokens, args.setup_concurrency).await;
    if signed.failures > 0 {
        bail!("{} users could not sign in: {}", signed.failures, signed.first_error.unwrap_or_default());
    }
    let conns: Vec<_> = signed.conns.into_iter().flatten().collect();
    let cpu = || target.cpu_seconds();
    let (outcome, conns) =
        measure(conns, &fixture.ids, args.contacts, args.rate, args.duration, &cpu).await?;
    drop(conns);
    let mut report = Report::new("presence", args);
    report.figure("users online", users as f64, "");
    outcome.add_to(&mut report, args.duration);
    report.note(format!("server: {}; open-file limit {limit}", target.kind));
    target.stop().await;
    Ok(report)
}

/// What one presence run measured.
#[derive(Debug, Serialize, serde::Deserialize)]
pub struct PresenceOutcome {
    pub changes: u64,
    pub expected: u64,
    pub received: u64,
    /// Server CPU seconds during the measured part (when the server's processes are known).
    pub cpu_seconds: Option<f64>,
    /// Fan-out latencies in microseconds.
    pub latency_micros: Vec<u64>,
}

impl PresenceOutcome {
    pub fn add_to(&self, report: &mut Report, duration: u64) {
        let seconds = duration as f64;
        let mut latency = histogram();
        for &micros in &self.latency_micros {
            latency.saturating_record(micros.max(1));
        }
        report
            .figure("status changes", self.changes as f64, "")
            .figure("status changes/s", self.changes as f64 / seconds, "1/s")
            .figure("notifications expected", self.expected as f64, "")
            .figure("notifications received", self.received as f64, "")
            .figure("notifications/s", self.received as f64 / seconds, "1/s")
            .figure(
                "server CPU per notification",
                self.cpu_seconds.map_or(f64::NAN, |s| s * 1e6 / self.received.max(1) as f64),
                "µs",
            )
            .figure("missing notifications", self.expected.saturating_sub(self.received) as f64, "")
            .latency("fan-out (CHG sent → NLN received)", &latency);
    }
}

/// Every histogram value (at its recorded precision), so another process can merge it.
pub fn histogram_values(histogram: &hdrhistogram::Histogram<u64>) -> Vec<u64> {
    histogram
        .iter_recorded()
        .flat_map(|v| std::iter::repeat_n(v.value_iterated_to(), v.count_at_value() as usize))
        .collect()
}

/// The presence run on signed-in sessions `conns` of the users `ids` (in that order),
/// who are contacts on a ring of `contacts` each: everyone comes online, then each
/// changes status `rate` times a second for `duration` seconds. `cpu` reads the
/// server's CPU seconds. Gives the sessions back, in order.
pub async fn measure(
    conns: Vec<crate::wire::Conn>,
    ids: &[mocha_auth::UserId],
    contacts: u64,
    rate: f64,
    duration: u64,
    cpu: &dyn Fn() -> Option<f64>,
) -> anyhow::Result<(PresenceOutcome, Vec<crate::wire::Conn>)> {
    let users = conns.len();
    let index_of: Arc<HashMap<String, usize>> =
        Arc::new(ids.iter().enumerate().map(|(i, id)| (id.to_string(), i)).collect());
    let mut conns = conns;
    // Everyone comes online; the resulting NLN flood is drained before measuring.
    let mut online = JoinSet::new();
    for (i, mut conn) in conns.drain(..).enumerate() {
        online.spawn(async move { set_status(&mut conn, Status::Online).await.map(|()| (i, conn)) });
    }
    let mut ordered: Vec<Option<crate::wire::Conn>> = (0..users).map(|_| None).collect();
    while let Some(joined) = online.join_next().await {
        let (i, conn) = joined.context("panicked")?.context("CHG NLN failed")?;
        ordered[i] = Some(conn);
    }
    let conns: Vec<_> = ordered.into_iter().flatten().collect();

    let sent_at: Arc<Vec<AtomicU64>> =
        Arc::new((0..users * CYCLE.len()).map(|_| AtomicU64::new(0)).collect());
    let received = Arc::new(AtomicU64::new(0));
    let matched = Arc::new(AtomicU64::new(0));
    let latency = Arc::new(SharedHistogram::default());
    let measuring = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let stop = CancellationToken::new();
    let period = Duration::from_secs_f64(1.0 / rate);
    let duration = Duration::from_secs(duration);
    let start = tokio::time::Instant::now() + Duration::from_secs(2);
    let mut senders = JoinSet::new();
    let mut readers = JoinSet::new();
    for (i, conn) in conns.into_iter().enumerate() {
        let crate::wire::Conn { mut reader, mut writer } = conn;
        let sent_at_ = sent_at.clone();
        senders.spawn(async move {
            let mut ticks = tokio::time::interval_at(start + phase(i, period), period);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            let mut changes = 0u64;
            loop {
                if ticks.tick().await >= start + duration {
                    break;
                }
                let status = CYCLE[(changes as usize) % CYCLE.len()];
                sent_at_[i * CYCLE.len() + status_index(status)].store(now_micros(), Ordering::Relaxed);
                let trid = writer.trid();
                if writer.send(&client::Chg { trid, status }.into_frame()).await.is_err() {
                    break;
                }
                changes += 1;
            }
            (i, changes, writer)
        });
        let (sent_at, received, matched, latency, index_of, stop, measuring) = (
            sent_at.clone(),
            received.clone(),
            matched.clone(),
            latency.clone(),
            index_of.clone(),
            stop.clone(),
            measuring.clone(),
        );
        readers.spawn(async move {
            let mut local = histogram();
            loop {
                let frame = tokio::select! {
                    () = stop.cancelled() => break,
                    frame = reader.frame() => match frame { Ok(frame) => frame, Err(_) => break },
                };
                if frame.command.as_str() != "NLN" || !measuring.load(Ordering::Relaxed) {
                    continue;
                }
                let Ok(ServerCommand::Nln(nln)) = ServerCommand::parse(frame) else { continue };
                received.fetch_add(1, Ordering::Relaxed);
                let Some(&from) = index_of.get(nln.user_id.as_str()) else { continue };
                let at = sent_at[from * CYCLE.len() + status_index(nln.status)].load(Ordering::Relaxed);
                if at != 0 {
                    matched.fetch_add(1, Ordering::Relaxed);
                    record(&mut local, since(at));
                }
            }
            latency.merge(&local);
            (i, reader)
        });
    }
    tokio::time::sleep_until(start).await;
    measuring.store(true, Ordering::Relaxed);
    let cpu_before = cpu();
    let mut changes = 0u64;
    let mut writers: Vec<Option<crate::wire::Writer>> = (0..users).map(|_| None).collect();
    while let Some(joined) = senders.join_next().await {
        let (i, n, writer) = joined.context("a sender panicked")?;
        changes += n;
        writers[i] = Some(writer);
    }
    let expected = changes * contacts;
    let drain_started = Instant::now();
    while received.load(Ordering::Relaxed) < expected && drain_started.elapsed() < DRAIN {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let cpu_after = cpu();
    stop.cancel();
    let mut conns = Vec::with_capacity(users);
    let mut readers_back: Vec<Option<crate::wire::Reader>> = (0..users).map(|_| None).collect();
    while let Some(joined) = readers.join_next().await {
        let (i, reader) = joined.context("a reader panicked")?;
        readers_back[i] = Some(reader);
    }
    for (reader, writer) in readers_back.into_iter().zip(writers) {
        if let (Some(reader), Some(writer)) = (reader, writer) {
            conns.push(crate::wire::Conn { reader, writer });
        }
    }
    let outcome = PresenceOutcome {
        changes,
        expected,
        received: received.load(Ordering::Relaxed),
        cpu_seconds: cpu_after.zip(cpu_before).map(|(after, before)| after - before),
        latency_micros: histogram_values(&latency.take()),
    };
    Ok((outcome, conns))
}
