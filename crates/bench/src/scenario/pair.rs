//! `pair`: one conversation of two, one user sending chat text to the other as fast as
//! the pipeline allows (with `--both-ways`, each to the other). The sender keeps up to
//! `--window` messages sent but not yet received, writing `--batch` of them per write;
//! the receiver checks order, loss and duplicates and measures latency, as in `chat`.
//!
//! The switchboard allows 20 messages a second per connection by default (it protects
//! real users), so a server this tool starts gets the limit in `--sb-rate`/`--sb-burst`
//! instead, and the report says which limit the run had.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::Args;
use hdrhistogram::Histogram;
use mocha_proto::MessagePayload;
use mocha_proto::sb::client::{self as sb, AckMode};
use serde::Serialize;
use tokio::sync::Notify;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use super::{keep_alive, open_room, raise_nofile_limit, sign_in_all};
use crate::clock::{now_micros, since};
use crate::fixtures::provision;
use crate::report::{Report, histogram, record};
use crate::target::TargetOptions;
use crate::wire::{Conn, Dialer, Reader, Writer};

/// How long a sender waits for its receiver to make room before the run counts as stalled.
pub(super) const STALL: Duration = Duration::from_secs(15);
/// The switchboard kicks a receiver with more than this many frames queued for it
/// (its control lane); the window must stay below it.
const CONTROL_QUEUE: u64 = 512;

#[derive(Args, Clone, Debug, Serialize)]
pub struct PairArgs {
    /// Messages to relay (each way, with --both-ways).
    #[arg(long, default_value_t = 200_000, value_parser = clap::value_parser!(u64).range(1..=10_000_000))]
    pub messages: u64,
    /// Messages sent but not yet received that a sender allows (the pipeline depth;
    /// below the switchboard's control queue of 512, which would drop the receiver).
    #[arg(long, default_value_t = 256, value_parser = clap::value_parser!(u64).range(1..CONTROL_QUEUE))]
    pub window: u64,
    /// Messages per write.
    #[arg(long, default_value_t = 32, value_parser = clap::value_parser!(u64).range(1..=256))]
    pub batch: u64,
    /// Chat text bytes per message (at least 40, for the sequence and timestamp).
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u64).range(40..=8192))]
    pub bytes: u64,
    /// The switchboard's message limit for a server this tool starts, per connection per
    /// second (the server's default is 20).
    #[arg(long, default_value_t = 1_000_000, value_parser = clap::value_parser!(u32).range(1..))]
    pub sb_rate: u32,
    /// The switchboard's message burst for a server this tool starts (default 40).
    #[arg(long, default_value_t = 100_000, value_parser = clap::value_parser!(u32).range(1..))]
    pub sb_burst: u32,
    /// Both users send to each other at once.
    #[arg(long)]
    pub both_ways: bool,
}

#[derive(Default)]
pub(super) struct Flow {
    pub(super) received: AtomicU64,
    /// Messages the switchboard answered with `ERR` (too fast for its limit).
    pub(super) refused: AtomicU64,
    pub(super) duplicated: AtomicU64,
    pub(super) reordered: AtomicU64,
    pub(super) errors: AtomicU64,
    /// Wakes the sender when its receiver has read more.
    pub(super) room: Notify,
}

impl Flow {
    /// Message `seq`, sent at `sent` (µs), arrived while `next` was expected: its
    /// latency, and whether it was a duplicate or came early; wakes the sender.
    pub(super) fn arrived(&self, seq: u64, sent: u64, next: &mut u64, latency: &mut Histogram<u64>) {
        record(latency, since(sent));
        if seq < *next {
            self.duplicated.fetch_add(1, Ordering::Relaxed);
            return;
        }
        if seq > *next {
            self.reordered.fetch_add(1, Ordering::Relaxed);
        }
        *next = seq + 1;
        self.received.fetch_add(1, Ordering::Release);
        self.room.notify_one();
    }
}

pub async fn run(target: &TargetOptions, args: &PairArgs) -> anyhow::Result<Report> {
    let limit = raise_nofile_limit();
    let mut prepared = target.prepare().await?;
    let rate_limit = prepared.set_switchboard_rate(args.sb_rate, args.sb_burst);
    let fixture = provision(&prepared.passport, 2, &[(0, 1)]).await?;
    let target = prepared.start().await?;
    let dialer = Arc::new(Dialer::new(&target.ca, &target.server_name(), Vec::new())?);
    let signed = sign_in_all(&dialer, target.ns_addr, &fixture.tokens, 2).await;
    if signed.failures > 0 {
        bail!("sign-in failed: {}", signed.first_error.unwrap_or_default());
    }
    let mut members: Vec<_> = fixture.ids.iter().copied().zip(signed.conns.into_iter().flatten()).collect();
    let conns = open_room(&dialer, target.ns_addr, &mut members).await.context("opening the conversation")?;
    let stop_ns = CancellationToken::new();
    let mut keeper = keep_alive(members.into_iter().map(|(_, conn)| conn).collect(), stop_ns.clone());
    let [first, second]: [Conn; 2] =
        conns.try_into().map_err(|_| anyhow::anyhow!("the conversation has not two members"))?;
    let Conn { reader: first_reader, writer: first_writer } = first;
    let Conn { reader: second_reader, writer: second_writer } = second;

    let ways = if args.both_ways { 2 } else { 1 };
    let flows: Vec<Arc<Flow>> = (0..ways).map(|_| Arc::new(Flow::default())).collect();
    let stop = CancellationToken::new();
    let (messages, window, batch, bytes) =
        (args.messages, args.window, usize::try_from(args.batch)?, usize::try_from(args.bytes)?);
    let cpu_before = target.cpu_seconds();
    let started = Instant::now();
    let mut senders = JoinSet::new();
    // Way 0: first → second; way 1 (both ways): second → first.
    for (way, writer) in [first_writer, second_writer].into_iter().enumerate() {
        let Some(flow) = flows.get(way).cloned() else {
            senders.spawn(async move { (0, writer) });
            continue;
        };
        senders.spawn(send(writer, flow, way, messages, window, batch, bytes));
    }
    // Each connection reads the messages of the way it receives and the refusals
    // (`ERR`) of the way it sends.
    let mut receivers = JoinSet::new();
    for (reader, incoming, outgoing) in
        [(second_reader, flows.first(), flows.get(1)), (first_reader, flows.get(1), flows.first())]
    {
        receivers.spawn(receive(reader, incoming.cloned(), outgoing.cloned(), stop.clone()));
    }
    let mut sent_total = 0u64;
    let mut kept_writers = Vec::new();
    while let Some(joined) = senders.join_next().await {
        let (sent, writer) = joined.context("a sender panicked")?;
        sent_total += sent;
        kept_writers.push(writer);
    }
    let total = |flows: &[Arc<Flow>], pick: fn(&Flow) -> &AtomicU64| {
        flows.iter().map(|f| pick(f).load(Ordering::Acquire)).sum::<u64>()
    };
    let drain_started = Instant::now();
    while total(&flows, |f| &f.received) + total(&flows, |f| &f.refused) < sent_total
        && drain_started.elapsed() < STALL
    {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let elapsed = started.elapsed();
    let cpu_after = target.cpu_seconds();
    stop.cancel();
    let mut latency = histogram();
    while let Some(joined) = receivers.join_next().await {
        latency.add(joined.context("a receiver panicked")?).context("same histogram bounds")?;
    }
    stop_ns.cancel();
    while keeper.join_next().await.is_some() {}
    drop(kept_writers);

    let delivered = total(&flows, |f| &f.received);
    let refused = total(&flows, |f| &f.refused);
    let sum = |pick: fn(&Flow) -> &AtomicU64| total(&flows, pick);
    let mut report = Report::new("pair", args);
    report
        .figure("messages sent", sent_total as f64, "")
        .figure("delivered", delivered as f64, "")
        .figure("delivered/s", delivered as f64 / elapsed.as_secs_f64(), "1/s")
        .figure("refused (rate limit)", refused as f64, "")
        .figure("lost", sent_total.saturating_sub(delivered + refused) as f64, "")
        .figure("duplicated", sum(|f| &f.duplicated) as f64, "")
        .figure("out of order", sum(|f| &f.reordered) as f64, "")
        .figure("errors", sum(|f| &f.errors) as f64, "")
        .figure(
            "server CPU per relayed message",
            crate::target::cpu_ms_per(cpu_before, cpu_after, delivered).unwrap_or(f64::NAN) * 1000.0,
            "µs",
        )
        .figure("switchboard limit", f64::from(args.sb_rate), "msgs/s")
        .latency("delivery (send → receive)", &latency)
        .note(format!("server: {}; {rate_limit}; open-file limit {limit}", target.kind))
        .note(format!("{} way(s), window {window}, {batch} per write, {:.2} s", ways, elapsed.as_secs_f64()));
    target.stop().await;
    Ok(report)
}

/// Sends `messages` on one way, keeping at most `window` of them unanswered.
async fn send(
    mut writer: Writer,
    flow: Arc<Flow>,
    way: usize,
    messages: u64,
    window: u64,
    batch: usize,
    bytes: usize,
) -> (u64, Writer) {
    let mut sent = 0u64;
    let mut frames = Vec::with_capacity(batch);
    let mut body = String::with_capacity(bytes);
    'send: while sent < messages {
        let count = (batch as u64).min(messages - sent);
        loop {
            // Registered before looking, so progress made in between is not missed.
            let room = flow.room.notified();
            let answered = flow.received.load(Ordering::Acquire) + flow.refused.load(Ordering::Acquire);
            if sent - answered + count <= window {
                break;
            }
            if tokio::time::timeout(STALL, room).await.is_err() {
                break 'send;
            }
        }
        frames.clear();
        for seq in sent..sent + count {
            body.clear();
            body.push_str(&format!("{way} {seq} {} ", now_micros()));
            while body.len() < bytes {
                body.push('x');
            }
            let trid = writer.trid();
            let payload = MessagePayload::text(&body).to_bytes();
            frames.push(sb::Msg { trid, ack: AckMode::Unacknowledged, payload }.into_frame());
        }
        if writer.send_all(&frames).await.is_err() {
            break;
        }
        sent += count;
    }
    (sent, writer)
}

/// Reads one connection: messages for the way it receives (`incoming`) and refusals
/// for the way it sends (`outgoing`). Gives the delivery latencies.
async fn receive(
    mut reader: Reader,
    incoming: Option<Arc<Flow>>,
    outgoing: Option<Arc<Flow>>,
    stop: CancellationToken,
) -> Histogram<u64> {
    let mut local = histogram();
    let mut next = 0u64;
    loop {
        let frame = tokio::select! {
            () = stop.cancelled() => break,
            frame = reader.frame() => match frame { Ok(frame) => frame, Err(_) => break },
        };
        match (frame.command.as_str(), &incoming, &outgoing) {
            ("MSG", Some(flow), _) => {
                let Some((_, seq, sent)) = frame.payload.and_then(parse_body) else {
                    flow.errors.fetch_add(1, Ordering::Relaxed);
                    continue;
                };
                flow.arrived(seq, sent, &mut next, &mut local);
            }
            ("ERR", _, Some(flow)) if frame.trid != 0 => {
                flow.refused.fetch_add(1, Ordering::Release);
                flow.room.notify_one();
            }
            ("ERR" | "NAK" | "OUT" | "BYE" | "MSG", _, _) => {
                if let Some(flow) = incoming.as_ref().or(outgoing.as_ref()) {
                    flow.errors.fetch_add(1, Ordering::Relaxed);
                    flow.room.notify_one();
                }
            }
            _ => {}
        }
    }
    local
}

/// `<way> <seq> <micros> xxx…` → its three numbers.
fn parse_body(payload: bytes::Bytes) -> Option<(usize, u64, u64)> {
    let message = MessagePayload::parse(payload, usize::MAX).ok()?;
    let mut words = message.body_text()?.split(' ');
    Some((words.next()?.parse().ok()?, words.next()?.parse().ok()?, words.next()?.parse().ok()?))
}
