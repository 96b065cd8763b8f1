//! `calls`: N concurrent two-party calls through the UDP media relay. Each pair opens a
//! switchboard room, one invites and the other accepts (real call session control over
//! TLS), both take their `RLY` grant and bind a UDP socket; then each side sends sealed
//! audio packets at 50 a second (~100-byte payloads; with `--video` also ~300 a second
//! of 1,200 bytes) for the duration. The send time goes into the header's timestamp
//! (microseconds, wrapping), so a receiver measures relay latency without decrypting;
//! every packet is counted, so loss is exact.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::Args;
use mocha_auth::MediaKey;
use mocha_proto::im::{CallCommand, CallControl, CallMedia, ImPayload};
use mocha_proto::media::{BOUND, Bind, Bound, MediaHeader};
use mocha_proto::sb::client::{self as sb, AckMode};
use mocha_proto::sb::server::{Rly, ServerCommand};
use serde::Serialize;
use tokio::net::UdpSocket;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use super::{REPLY_TIMEOUT, keep_alive, open_room, phase, raise_nofile_limit, sign_in_all};
use crate::clock::now_micros;
use crate::fixtures::provision;
use crate::report::{Report, SharedHistogram, histogram};
use crate::target::TargetOptions;
use crate::wire::{Conn, Dialer, WireError, loopback_sources};

const AUDIO_PER_SECOND: u64 = 50;
const AUDIO_BYTES: usize = 100;
const VIDEO_PER_SECOND: u64 = 300;
const VIDEO_BYTES: usize = 1200;
/// How long receivers wait for stragglers after the senders stop.
const DRAIN: Duration = Duration::from_secs(2);

#[derive(Args, Clone, Debug, Serialize)]
pub struct CallsArgs {
    /// Concurrent two-party calls (two users each).
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u64).range(1..=10_000))]
    pub calls: u64,
    /// Add video to every call: ~300 packets a second of 1,200 bytes per side.
    #[arg(long)]
    pub video: bool,
    /// Seconds of media.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=600))]
    pub duration: u64,
    /// Sign-ins and call set-ups in flight at once.
    #[arg(long, default_value_t = 64)]
    pub setup_concurrency: usize,
}

#[derive(Default)]
struct Counters {
    sent: AtomicU64,
    received: AtomicU64,
    foreign: AtomicU64,
}

/// One side of a call, ready to send: its socket (connected to the relay), id and key.
struct Side {
    udp: UdpSocket,
    member: u32,
    peer: u32,
    key: Arc<MediaKey>,
}

pub async fn run(target: &TargetOptions, args: &CallsArgs) -> anyhow::Result<Report> {
    let limit = raise_nofile_limit();
    let calls = usize::try_from(args.calls)?;
    let users = calls * 2;
    let contacts: Vec<(usize, usize)> = (0..calls).map(|c| (2 * c, 2 * c + 1)).collect();
    let prepared = target.prepare().await?;
    let fixture = provision(&prepared.passport, users, &contacts).await?;
    let target = prepared.start().await?;
    let dialer = Arc::new(Dialer::new(&target.ca, &target.server_name(), loopback_sources(users * 2, 0))?);

    let signed = sign_in_all(&dialer, target.ns_addr, &fixture.tokens, args.setup_concurrency).await;
    if signed.failures > 0 {
        bail!("{} users could not sign in: {}", signed.failures, signed.first_error.unwrap_or_default());
    }
    let mut ns_conns: Vec<_> = signed.conns.into_iter().flatten().collect();
    let setup_started = Instant::now();
    let permits = Arc::new(Semaphore::new(args.setup_concurrency.max(1)));
    let mut setups = JoinSet::new();
    for call in (0..calls).rev() {
        let mut pair: Vec<_> = ns_conns
            .split_off(call * 2)
            .into_iter()
            .enumerate()
            .map(|(i, conn)| (fixture.ids[call * 2 + i], conn))
            .collect();
        let (dialer, permits, ns_addr) = (dialer.clone(), permits.clone(), target.ns_addr);
        setups.spawn(async move {
            let _permit = permits.acquire_owned().await.expect("never closed");
            let set_up = async {
                let conns = open_room(&dialer, ns_addr, &mut pair).await?;
                start_call(conns, ns_addr).await
            };
            let result = set_up.await;
            (call, result, pair.into_iter().map(|(_, conn)| conn).collect::<Vec<_>>())
        });
    }
    let stop_ns = CancellationToken::new();
    let mut keepers = Vec::new();
    let mut sides = Vec::with_capacity(users);
    let mut sb_conns = Vec::with_capacity(users);
    while let Some(joined) = setups.join_next().await {
        let (call, result, ns) = joined.context("a call set-up panicked")?;
        let (pair, conns) = result.with_context(|| format!("call {call} could not be set up"))?;
        sides.extend(pair);
        sb_conns.extend(conns);
        keepers.push(keep_alive(ns, stop_ns.clone()));
    }
    let setup_time = setup_started.elapsed();
    // The switchboard connections stay open (and quiet) for the whole run.
    let stop_sb = CancellationToken::new();
    let sb_keepers = keep_alive(sb_conns, stop_sb.clone());

    let counters = Arc::new(Counters::default());
    let latency = Arc::new(SharedHistogram::default());
    let stop_sending = CancellationToken::new();
    let stop_receiving = CancellationToken::new();
    let audio_period = Duration::from_micros(1_000_000 / AUDIO_PER_SECOND);
    let video_period = Duration::from_micros(1_000_000 / VIDEO_PER_SECOND);
    let start = tokio::time::Instant::now() + Duration::from_millis(200);
    let end = start + Duration::from_secs(args.duration);
    let relay_before = target.relay_stats();
    let cpu_before = target.cpu_seconds();
    let mut tasks = JoinSet::new();
    for (index, side) in sides.into_iter().enumerate() {
        let side = Arc::new(side);
        let (counters, stop) = (counters.clone(), stop_sending.clone());
        let video = args.video;
        let sender = side.clone();
        tasks.spawn(async move {
            let mut audio = tokio::time::interval_at(start + phase(index, audio_period), audio_period);
            let mut video_ticks = tokio::time::interval_at(start + phase(index, video_period), video_period);
            for ticks in [&mut audio, &mut video_ticks] {
                ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            }
            let (mut audio_seq, mut video_seq) = (0u32, 0u32);
            let mut datagram = Vec::with_capacity(VIDEO_BYTES + 64);
            let (audio_payload, video_payload) = (vec![0xa5u8; AUDIO_BYTES], vec![0x5au8; VIDEO_BYTES]);
            loop {
                let (stream, seq, payload) = tokio::select! {
                    () = stop.cancelled() => break,
                    at = audio.tick() => {
                        if at >= end { break }
                        audio_seq += 1;
                        (0, audio_seq, &audio_payload)
                    }
                    at = video_ticks.tick(), if video => {
                        if at >= end { break }
                        video_seq += 1;
                        (1, video_seq, &video_payload)
                    }
                };
                let header =
                    MediaHeader { member: sender.member, stream, seq, timestamp: now_micros() as u32 };
                sender.key.seal_into(&header, payload, &mut datagram);
                if sender.udp.send(&datagram).await.is_ok() {
                    counters.sent.fetch_add(1, Ordering::Relaxed);
                }
            }
        });
        let (counters, latency, stop) = (counters.clone(), latency.clone(), stop_receiving.clone());
        tasks.spawn(async move {
            let mut local = histogram();
            let mut buf = vec![0u8; 2048];
            loop {
                let len = tokio::select! {
                    () = stop.cancelled() => break,
                    received = side.udp.recv(&mut buf) => match received { Ok(len) => len, Err(_) => continue },
                };
                let Ok(header) = MediaHeader::decode(&buf[..len]) else {
                    counters.foreign.fetch_add(1, Ordering::Relaxed);
                    continue;
                };
                if header.member != side.peer {
                    counters.foreign.fetch_add(1, Ordering::Relaxed);
                    continue;
                }
                let micros = (now_micros() as u32).wrapping_sub(header.timestamp);
                local.saturating_record(u64::from(micros).max(1));
                counters.received.fetch_add(1, Ordering::Relaxed);
            }
            latency.merge(&local);
        });
    }
    tokio::time::sleep_until(end).await;
    stop_sending.cancel();
    let sent = || counters.sent.load(Ordering::Relaxed);
    let received = || counters.received.load(Ordering::Relaxed);
    let drain_started = Instant::now();
    while received() < sent() && drain_started.elapsed() < DRAIN {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let cpu_after = target.cpu_seconds();
    let relay_after = target.relay_stats();
    stop_receiving.cancel();
    while tasks.join_next().await.is_some() {}
    stop_sb.cancel();
    stop_ns.cancel();
    for mut keeper in keepers.into_iter().chain([sb_keepers]) {
        while keeper.join_next().await.is_some() {}
    }

    let (sent, received) = (sent(), received());
    let seconds = args.duration as f64;
    let per_side = AUDIO_PER_SECOND + if args.video { VIDEO_PER_SECOND } else { 0 };
    let latency = latency.take();
    let mut report = Report::new("calls", args);
    report
        .figure("calls", calls as f64, "")
        .figure("offered packets/s (into the relay)", (users as u64 * per_side) as f64, "1/s")
        .figure("packets sent", sent as f64, "")
        .figure("packets received", received as f64, "")
        .figure("relayed packets/s", received as f64 / seconds, "1/s")
        .figure("lost", sent.saturating_sub(received) as f64, "")
        .figure("loss", 100.0 * sent.saturating_sub(received) as f64 / sent.max(1) as f64, "%")
        .figure("foreign packets", counters.foreign.load(Ordering::Relaxed) as f64, "")
        .figure(
            "server CPU per relayed packet",
            crate::target::cpu_ms_per(cpu_before, cpu_after, received).unwrap_or(f64::NAN) * 1000.0,
            "µs",
        )
        .figure(
            "server CPU",
            match (cpu_before, cpu_after) {
                (Some(before), Some(after)) => 100.0 * (after - before) / seconds,
                _ => f64::NAN,
            },
            "% of a core",
        )
        .figure("call set-up time", setup_time.as_secs_f64(), "s")
        .latency("relay (send → receive)", &latency)
        .note(format!("server: {}; open-file limit {limit}", target.kind));
    if let (Some(before), Some(after)) = (relay_before, relay_after) {
        let d = |f: fn(&mocha_switchboard::RelayStats) -> u64| (f(&after) - f(&before)) as f64;
        report
            .figure("relay forwarded (UDP)", d(|s| s.forwarded_udp), "")
            .figure("relay dropped (throttled)", d(|s| s.dropped_throttled), "")
            .figure(
                "relay dropped (other)",
                d(|s| {
                    s.dropped_stranger
                        + s.dropped_replay
                        + s.dropped_forged
                        + s.dropped_oversize
                        + s.dropped_token
                        + s.dropped_malformed
                        + s.send_failed
                }),
                "",
            );
    }
    if target.kind == "in-process" {
        report.note("in-process: the server CPU figures include the load generator; use --spawn");
    }
    target.stop().await;
    Ok(report)
}

/// The first user invites, the second accepts; both wait for their `RLY`, then bind.
async fn start_call(
    mut conns: Vec<Conn>,
    ns_addr: std::net::SocketAddr,
) -> Result<(Vec<Side>, Vec<Conn>), WireError> {
    let call_id = "bench-call";
    let control = |command| {
        ImPayload::Call(CallControl {
            command,
            call_id: call_id.into(),
            media: Some(CallMedia::Audio),
            body: String::new(),
        })
        .to_message()
        .to_bytes()
    };
    let is_msg = |f: &mocha_proto::Frame| (f.command.as_str() == "MSG").then_some(());
    let (caller, callee) = conns.split_at_mut(1);
    let (caller, callee) = (&mut caller[0], &mut callee[0]);
    let trid = caller.writer.trid();
    caller
        .request(
            sb::Msg { trid, ack: AckMode::Always, payload: control(CallCommand::Invite) }.into_frame(),
            REPLY_TIMEOUT,
            drop,
        )
        .await?;
    callee.reader.until(REPLY_TIMEOUT, is_msg, drop).await?;
    let trid = callee.writer.trid();
    callee
        .request(
            sb::Msg { trid, ack: AckMode::Always, payload: control(CallCommand::Accept) }.into_frame(),
            REPLY_TIMEOUT,
            drop,
        )
        .await?;
    let mut grants = Vec::new();
    for conn in [&mut *caller, &mut *callee] {
        let rly = conn
            .reader
            .until(
                REPLY_TIMEOUT,
                |f| match ServerCommand::parse(f.clone()) {
                    Ok(ServerCommand::Rly(rly)) => Some(rly),
                    _ => None,
                },
                drop,
            )
            .await?;
        grants.push(rly);
    }
    let ids = (grants[0].member_id, grants[1].member_id);
    let mut sides = Vec::new();
    for (grant, peer) in grants.iter().zip([ids.1, ids.0]) {
        sides.push(bind(grant, peer, ns_addr).await?);
    }
    Ok((sides, conns))
}

async fn bind(grant: &Rly, peer: u32, ns_addr: std::net::SocketAddr) -> Result<Side, WireError> {
    let unexpected = |what: &str| WireError::Unexpected(what.to_string());
    let port = grant
        .relay
        .rsplit_once(':')
        .and_then(|(_, port)| port.parse::<u16>().ok())
        .ok_or_else(|| unexpected("relay address"))?;
    let key = MediaKey::from_base64url(grant.media_key.as_str()).map_err(|_| unexpected("media key"))?;
    let token: [u8; 22] = grant.bind_token.as_bytes().try_into().map_err(|_| unexpected("bind token"))?;
    let udp = UdpSocket::bind((ns_addr.ip(), 0)).await?;
    udp.connect((ns_addr.ip(), port)).await?;
    let bind = Bind { member: grant.member_id, probe: u64::from(grant.member_id), token }.encode();
    let mut buf = [0u8; 64];
    for _ in 0..5 {
        udp.send(&bind).await?;
        if let Ok(Ok(len)) = tokio::time::timeout(Duration::from_millis(500), udp.recv(&mut buf)).await
            && buf[0] == BOUND
            && Bound::decode(&buf[..len]).is_ok()
        {
            return Ok(Side { udp, member: grant.member_id, peer, key: Arc::new(key) });
        }
    }
    Err(unexpected("no BOUND from the relay"))
}
