//! `chat` and `group`: switchboard rooms of M members (M = 2 for chat), every member
//! sending chat text at a set rate for a set time. Each message carries its sender,
//! sequence number and send time, so receivers measure delivery latency and find
//! lost and duplicated messages (there must be none).

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::{Args, ValueEnum};
use mocha_proto::MessagePayload;
use mocha_proto::sb::client::{self as sb, AckMode};
use serde::Serialize;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use super::{keep_alive, open_room, phase, raise_nofile_limit, sign_in_all};
use crate::clock::{now_micros, since};
use crate::fixtures::provision;
use crate::report::{Report, SharedHistogram, histogram, record};
use crate::target::TargetOptions;
use crate::wire::{Dialer, loopback_sources};

/// The switchboard refuses more than 20 messages a second per connection.
const MAX_RATE: f64 = 20.0;
/// How long receivers may take to catch up after the senders stop.
const DRAIN: Duration = Duration::from_secs(15);

#[derive(Clone, Copy, Debug, Serialize, serde::Deserialize, ValueEnum)]
pub enum Ack {
    /// `U`: no acknowledgement.
    U,
    /// `N`: `NAK` on failure only.
    N,
    /// `A`: `ACK` for every message.
    A,
}

#[derive(Args, Clone, Debug, Serialize)]
pub struct ChatArgs {
    /// Users, in pairs (each pair one conversation).
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u64).range(2..=20_000))]
    pub users: u64,
    #[command(flatten)]
    pub load: LoadArgs,
}

#[derive(Args, Clone, Debug, Serialize)]
pub struct GroupArgs {
    /// Rooms.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=5_000))]
    pub rooms: u64,
    /// Members per room (the switchboard allows 20).
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u64).range(2..=20))]
    pub members: u64,
    #[command(flatten)]
    pub load: LoadArgs,
}

#[derive(Args, Clone, Debug, Serialize, serde::Deserialize)]
pub struct LoadArgs {
    /// Messages per second each user sends (at most 20, the switchboard's limit).
    #[arg(long, default_value_t = 1.0)]
    pub rate: f64,
    /// Seconds of sending.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=600))]
    pub duration: u64,
    /// Chat text bytes per message (at least 40, for the sequence and timestamp).
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u64).range(40..=8192))]
    pub bytes: u64,
    /// Acknowledgement mode of every MSG.
    #[arg(long, value_enum, default_value_t = Ack::U)]
    pub ack: Ack,
    /// Sign-ins and room set-ups in flight at once.
    #[arg(long, default_value_t = 64)]
    pub setup_concurrency: usize,
}

pub async fn chat(target: &TargetOptions, args: &ChatArgs) -> anyhow::Result<Report> {
    if !args.users.is_multiple_of(2) {
        bail!("--users must be even: users chat in pairs");
    }
    let mut report = run("chat", target, args.users / 2, 2, &args.load, args).await?;
    // For two-person rooms every message has exactly one delivery.
    report.figures.retain(|f| f.name != "messages sent/s");
    Ok(report)
}

pub async fn group(target: &TargetOptions, args: &GroupArgs) -> anyhow::Result<Report> {
    run("group", target, args.rooms, args.members, &args.load, args).await
}

struct Counters {
    delivered: AtomicU64,
    duplicated: AtomicU64,
    reordered: AtomicU64,
    errors: AtomicU64,
    acks: AtomicU64,
}

async fn run(
    name: &str,
    target: &TargetOptions,
    rooms: u64,
    members: u64,
    load: &LoadArgs,
    args: impl Serialize,
) -> anyhow::Result<Report> {
    if !(load.rate > 0.0 && load.rate <= MAX_RATE) {
        bail!("--rate must be above 0 and at most {MAX_RATE} messages a second per user");
    }
    let limit = raise_nofile_limit();
    let (rooms, members) = (usize::try_from(rooms)?, usize::try_from(members)?);
    let users = rooms * members;
    let contacts: Vec<(usize, usize)> =
        (0..rooms).flat_map(|r| (1..members).map(move |m| (r * members, r * members + m))).collect();
    let prepared = target.prepare().await?;
    let fixture = provision(&prepared.passport, users, &contacts).await?;
    let target = prepared.start().await?;
    // Each user holds an NS and an SB connection.
    let dialer = Arc::new(Dialer::new(&target.ca, &target.server_name(), loopback_sources(users * 2, 0))?);

    let signed = sign_in_all(&dialer, target.ns_addr, &fixture.tokens, load.setup_concurrency).await;
    if signed.failures > 0 {
        bail!("{} users could not sign in: {}", signed.failures, signed.first_error.unwrap_or_default());
    }
    let mut ns_conns: Vec<_> = signed.conns.into_iter().flatten().collect();
    let setup_started = Instant::now();
    let permits = Arc::new(Semaphore::new(load.setup_concurrency.max(1)));
    let mut setups = JoinSet::new();
    for room in (0..rooms).rev() {
        let mut group: Vec<_> = ns_conns.split_off(room * members).into_iter().enumerate().collect();
        let mut members_: Vec<_> =
            group.drain(..).map(|(i, conn)| (fixture.ids[room * members + i], conn)).collect();
        let (dialer, permits, ns_addr) = (dialer.clone(), permits.clone(), target.ns_addr);
        setups.spawn(async move {
            let _permit = permits.acquire_owned().await.expect("never closed");
            let sb = open_room(&dialer, ns_addr, &mut members_).await;
            (room, sb, members_.into_iter().map(|(_, conn)| conn).collect::<Vec<_>>())
        });
    }
    let mut sb_conns: Vec<Option<Vec<crate::wire::Conn>>> = (0..rooms).map(|_| None).collect();
    let stop_ns = CancellationToken::new();
    let mut keepers = Vec::new();
    while let Some(joined) = setups.join_next().await {
        let (room, sb, ns) = joined.context("a room set-up panicked")?;
        sb_conns[room] = Some(sb.with_context(|| format!("room {room} could not be set up"))?);
        keepers.push(keep_alive(ns, stop_ns.clone()));
    }
    let setup_time = setup_started.elapsed();

    let cpu = || target.cpu_seconds();
    let outcome = drive(sb_conns, members, load, &cpu).await?;
    stop_ns.cancel();
    for mut keeper in keepers {
        while keeper.join_next().await.is_some() {}
    }
    let mut report = Report::new(name, args);
    report.figure("users", users as f64, "").figure("rooms", rooms as f64, "");
    outcome.add_to(&mut report, load);
    report.figure("room set-up time", setup_time.as_secs_f64(), "s").note(format!(
        "server: {}; open-file limit {limit}; sending took {:.2} s",
        target.kind, outcome.send_seconds
    ));
    target.stop().await;
    Ok(report)
}

/// What one chat run measured.
#[derive(Debug, Serialize, serde::Deserialize)]
pub struct ChatOutcome {
    pub users: u64,
    pub sent: u64,
    pub expected: u64,
    pub delivered: u64,
    pub duplicated: u64,
    pub reordered: u64,
    pub errors: u64,
    pub acks: u64,
    /// Server CPU seconds while sending and draining (when the server's processes are known).
    pub cpu_seconds: Option<f64>,
    pub send_seconds: f64,
    /// Delivery latencies in microseconds.
    pub latency_micros: Vec<u64>,
}

impl ChatOutcome {
    pub fn add_to(&self, report: &mut Report, load: &LoadArgs) {
        let seconds = load.duration as f64;
        let mut latency = histogram();
        for &micros in &self.latency_micros {
            latency.saturating_record(micros.max(1));
        }
        report
            .figure("offered messages/s", self.users as f64 * load.rate, "1/s")
            .figure("messages sent", self.sent as f64, "")
            .figure("messages sent/s", self.sent as f64 / seconds, "1/s")
            .figure("deliveries expected", self.expected as f64, "")
            .figure("delivered", self.delivered as f64, "")
            .figure("delivered/s", self.delivered as f64 / seconds, "1/s")
            .figure("lost", self.expected.saturating_sub(self.delivered) as f64, "")
            .figure("duplicated", self.duplicated as f64, "")
            .figure("out of order", self.reordered as f64, "")
            .figure("errors", self.errors as f64, "")
            .figure(
                "server CPU per delivery",
                self.cpu_seconds.map_or(f64::NAN, |s| s * 1e6 / self.delivered.max(1) as f64),
                "µs",
            )
            .latency("delivery (send → receive)", &latency);
        if matches!(load.ack, Ack::A) {
            report.figure("acks", self.acks as f64, "");
        }
    }
}

/// Every member of every room (`sb_conns`, rooms of `members`) sends for
/// `load.duration` at `load.rate`; receivers check each message, then drain.
pub async fn drive(
    sb_conns: Vec<Option<Vec<crate::wire::Conn>>>,
    members: usize,
    load: &LoadArgs,
    cpu: &dyn Fn() -> Option<f64>,
) -> anyhow::Result<ChatOutcome> {
    let rooms = sb_conns.len();
    // Everyone is in their room: send for `duration`, then let receivers drain.
    let counters = Arc::new(Counters {
        delivered: AtomicU64::new(0),
        duplicated: AtomicU64::new(0),
        reordered: AtomicU64::new(0),
        errors: AtomicU64::new(0),
        acks: AtomicU64::new(0),
    });
    let latency = Arc::new(SharedHistogram::default());
    let stop = CancellationToken::new();
    let period = Duration::from_secs_f64(1.0 / load.rate);
    let duration = Duration::from_secs(load.duration);
    let ack = match load.ack {
        Ack::U => AckMode::Unacknowledged,
        Ack::N => AckMode::NakOnly,
        Ack::A => AckMode::Always,
    };
    let bytes = usize::try_from(load.bytes)?;
    let start = tokio::time::Instant::now() + Duration::from_millis(200);
    let cpu_before = cpu();
    let mut senders = JoinSet::new();
    let mut receivers = JoinSet::new();
    for (room, conns) in sb_conns.into_iter().enumerate() {
        for (m, conn) in conns.into_iter().flatten().enumerate() {
            let sender = room * members + m;
            let crate::wire::Conn { mut reader, mut writer } = conn;
            senders.spawn(async move {
                let mut ticks = tokio::time::interval_at(start + phase(sender, period), period);
                ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                let end = start + duration;
                let mut seq = 0u64;
                let mut body = String::with_capacity(bytes);
                loop {
                    let at = ticks.tick().await;
                    if at >= end {
                        break;
                    }
                    body.clear();
                    body.push_str(&format!("{sender} {seq} {} ", now_micros()));
                    while body.len() < bytes {
                        body.push('x');
                    }
                    let trid = writer.trid();
                    let payload = MessagePayload::text(&body).to_bytes();
                    if writer.send(&sb::Msg { trid, ack, payload }.into_frame()).await.is_err() {
                        break;
                    }
                    seq += 1;
                }
                (sender, seq, writer)
            });
            let (counters, latency, stop) = (counters.clone(), latency.clone(), stop.clone());
            receivers.spawn(async move {
                let mut local = histogram();
                let mut expected: HashMap<usize, u64> = HashMap::new();
                loop {
                    let frame = tokio::select! {
                        () = stop.cancelled() => break,
                        frame = reader.frame() => match frame { Ok(frame) => frame, Err(_) => break },
                    };
                    match frame.command.as_str() {
                        "MSG" => {
                            let Some((from, seq, sent)) = frame.payload.and_then(parse_body) else {
                                counters.errors.fetch_add(1, Ordering::Relaxed);
                                continue;
                            };
                            record(&mut local, since(sent));
                            let next = expected.entry(from).or_insert(0);
                            if seq < *next {
                                counters.duplicated.fetch_add(1, Ordering::Relaxed);
                                continue;
                            }
                            if seq > *next {
                                counters.reordered.fetch_add(1, Ordering::Relaxed);
                            }
                            *next = seq + 1;
                            counters.delivered.fetch_add(1, Ordering::Relaxed);
                        }
                        "ACK" => {
                            counters.acks.fetch_add(1, Ordering::Relaxed);
                        }
                        "ERR" | "NAK" | "OUT" | "BYE" => {
                            counters.errors.fetch_add(1, Ordering::Relaxed);
                        }
                        _ => {}
                    }
                }
                latency.merge(&local);
            });
        }
    }
    let mut sent_total = 0u64;
    let mut writers = Vec::new();
    while let Some(joined) = senders.join_next().await {
        let (_, sent, writer) = joined.context("a sender panicked")?;
        sent_total += sent;
        writers.push(writer);
    }
    let send_time = start.elapsed();
    let expected = sent_total * (members as u64 - 1);
    let drain_started = Instant::now();
    while counters.delivered.load(Ordering::Relaxed) < expected && drain_started.elapsed() < DRAIN {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let cpu_after = cpu();
    stop.cancel();
    while receivers.join_next().await.is_some() {}
    drop(writers);
    Ok(ChatOutcome {
        users: (members * rooms) as u64,
        sent: sent_total,
        expected,
        delivered: counters.delivered.load(Ordering::Relaxed),
        duplicated: counters.duplicated.load(Ordering::Relaxed),
        reordered: counters.reordered.load(Ordering::Relaxed),
        errors: counters.errors.load(Ordering::Relaxed),
        acks: counters.acks.load(Ordering::Relaxed),
        cpu_seconds: cpu_after.zip(cpu_before).map(|(after, before)| after - before),
        send_seconds: send_time.as_secs_f64(),
        latency_micros: crate::scenario::presence::histogram_values(&latency.take()),
    })
}

/// `<sender> <seq> <micros> xxx…` → its three numbers.
fn parse_body(payload: bytes::Bytes) -> Option<(usize, u64, u64)> {
    let message = MessagePayload::parse(payload, usize::MAX).ok()?;
    let mut words = message.body_text()?.split(' ');
    Some((words.next()?.parse().ok()?, words.next()?.parse().ok()?, words.next()?.parse().ok()?))
}
