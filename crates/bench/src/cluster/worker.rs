//! A load-generator process of a cluster run (`mocha-bench cluster-worker`, started by
//! the coordinator, never by hand): it reads its [`Plan`] on stdin, signs its users in
//! on their nodes, holds them with keepalives, and runs each phase it is told to. When
//! the storm is armed, a user whose node dies signs in again on another node with their
//! token, as a client behind a balancer would.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use mocha_proto::ns::client;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::sync::{Semaphore, mpsc, watch};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use super::protocol::{Command, Plan, Reply};
use crate::report::{histogram, record};
use crate::scenario::presence::histogram_values;
use crate::scenario::{
    REPLY_TIMEOUT, ns_sign_in, open_room, out_frame, phase, presence, raise_nofile_limit, rooms, sign_in_all,
};
use crate::wire::{Conn, Dialer};

/// Keepalive period: `mocha-client`'s (`ns_task::PING_EVERY`), inside the Notification
/// Server's 90 s.
const PING_EVERY: Duration = Duration::from_secs(45);
/// Attempts to come back after the node died.
const RECONNECT_ATTEMPTS: u32 = 10;
/// How long the storm may take before the worker reports what it has.
const STORM_BOUND: Duration = Duration::from_secs(180);
/// Not on any node (its session ended for good).
const GONE: usize = usize::MAX;

struct Shared {
    dialer: Arc<Dialer>,
    nodes: Vec<SocketAddr>,
    stop: CancellationToken,
    victim: watch::Receiver<Option<usize>>,
    back: mpsc::UnboundedSender<Result<Duration, String>>,
    /// Each user's node now.
    node_of: Vec<AtomicUsize>,
    dropped: AtomicU64,
    /// Failed attempts to come back (each retried), and the first one's error.
    retries: AtomicU64,
    first_retry_error: std::sync::OnceLock<String>,
}

enum Held {
    Released(usize, Conn),
    Ended,
}

/// The worker's `main`: stdin and stdout are the coordinator's.
pub async fn run() -> anyhow::Result<()> {
    raise_nofile_limit();
    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    let mut out = tokio::io::stdout();
    let plan: Plan = serde_json::from_str(&lines.next_line().await?.context("no plan")?)?;
    let cas: Vec<&std::path::Path> = plan.cas.iter().map(|p| p.as_path()).collect();
    let dialer = Arc::new(Dialer::trusting(&cas, &plan.server_name, plan.source.into_iter().collect())?);
    let (victim_tx, victim) = watch::channel(None);
    let (back, mut back_rx) = mpsc::unbounded_channel();
    let shared = Arc::new(Shared {
        dialer,
        nodes: plan.nodes.clone(),
        stop: CancellationToken::new(),
        victim,
        back,
        node_of: plan.users.iter().map(|u| AtomicUsize::new(u.node)).collect(),
        dropped: AtomicU64::new(0),
        retries: AtomicU64::new(0),
        first_retry_error: std::sync::OnceLock::new(),
    });
    let pids = plan.node_pids.clone();
    let cpu = move || -> Option<f64> { pids.iter().map(|&p| crate::target::cpu_seconds(p)).sum() };
    let release_presence = CancellationToken::new();
    let release_chat = CancellationToken::new();
    let mut presence_holders = JoinSet::new();
    let mut chat_holders = JoinSet::new();
    let mut holders = JoinSet::new();
    send(&mut out, &Reply::Ready).await?;

    while let Some(line) = lines.next_line().await? {
        let command: Command = serde_json::from_str(&line)?;
        let reply = match command {
            Command::SignIn => {
                let (reply, conns) = sign_in(&plan, &shared).await;
                let in_presence: Vec<bool> = membership(&plan, true);
                let in_chat: Vec<bool> = membership(&plan, false);
                for (index, conn) in conns.into_iter().enumerate() {
                    let Some(conn) = conn else {
                        shared.node_of[index].store(GONE, Ordering::Relaxed);
                        continue;
                    };
                    let token = plan.users[index].token.clone();
                    let (set, release) = if in_presence[index] {
                        (&mut presence_holders, release_presence.clone())
                    } else if in_chat[index] {
                        (&mut chat_holders, release_chat.clone())
                    } else {
                        (&mut holders, CancellationToken::new())
                    };
                    set.spawn(hold(index, token, conn, release, shared.clone()));
                }
                reply
            }
            Command::Presence => {
                let Some(plan_p) = &plan.presence else { anyhow::bail!("no presence users here") };
                let mut conns = released(&release_presence, &mut presence_holders, plan.users.len()).await;
                let ring: Option<Vec<Conn>> = plan_p.users.iter().map(|&i| conns[i].take()).collect();
                let ring = ring.context("a presence user's session was lost before the phase")?;
                let ids: Vec<_> = plan_p.users.iter().map(|&i| plan.users[i].id).collect();
                let (outcome, back) =
                    presence::measure(ring, &ids, plan_p.contacts, plan_p.rate, plan_p.duration, &cpu)
                        .await?;
                if back.len() == plan_p.users.len() {
                    for (&index, conn) in plan_p.users.iter().zip(back) {
                        let token = plan.users[index].token.clone();
                        holders.spawn(hold(index, token, conn, CancellationToken::new(), shared.clone()));
                    }
                }
                Reply::Presence(outcome)
            }
            Command::Chat => {
                let Some(plan_c) = &plan.chat else { anyhow::bail!("no chat users here") };
                let mut conns = released(&release_chat, &mut chat_holders, plan.users.len()).await;
                // Online first, everyone: a node rings a callee on another node only once its
                // copy of the directory shows them online, which takes a moment to cross.
                for conn in conns.iter_mut().flatten() {
                    crate::scenario::set_status(conn, mocha_proto::Status::Online).await?;
                }
                tokio::time::sleep(Duration::from_secs(2)).await;
                let permits = Arc::new(Semaphore::new(plan.concurrency.max(1)));
                let mut setups = JoinSet::new();
                for (room, &(a, b)) in plan_c.pairs.iter().enumerate() {
                    let (Some(ca), Some(cb)) = (conns[a].take(), conns[b].take()) else {
                        anyhow::bail!("a chat user's session was lost before the phase")
                    };
                    let mut members = vec![(plan.users[a].id, ca), (plan.users[b].id, cb)];
                    let (dialer, permits, ns_addr) =
                        (shared.dialer.clone(), permits.clone(), plan.nodes[plan.users[a].node]);
                    setups.spawn(async move {
                        let _permit = permits.acquire_owned().await.expect("never closed");
                        let sb = open_room(&dialer, ns_addr, &mut members).await;
                        (room, a, b, sb, members)
                    });
                }
                let mut sb_conns: Vec<Option<Vec<Conn>>> = (0..plan_c.pairs.len()).map(|_| None).collect();
                while let Some(joined) = setups.join_next().await {
                    let (room, a, b, sb, members) = joined.context("a room set-up panicked")?;
                    sb_conns[room] = Some(sb.with_context(|| format!("room {room} could not be set up"))?);
                    for ((_, conn), index) in members.into_iter().zip([a, b]) {
                        let token = plan.users[index].token.clone();
                        holders.spawn(hold(index, token, conn, CancellationToken::new(), shared.clone()));
                    }
                }
                Reply::Chat(rooms::drive(sb_conns, 2, &plan_c.load, &cpu).await?)
            }
            Command::Storm { victim } => {
                let on_victim =
                    shared.node_of.iter().filter(|n| n.load(Ordering::Relaxed) == victim).count() as u64;
                victim_tx.send_replace(Some(victim));
                send(&mut out, &Reply::Armed { on_victim }).await?;
                let (mut back, mut failed, mut first_error, mut latency) = (0, 0, None, histogram());
                let deadline = tokio::time::Instant::now() + STORM_BOUND;
                while back + failed < on_victim {
                    match tokio::time::timeout_at(deadline, back_rx.recv()).await {
                        Ok(Some(Ok(took))) => {
                            back += 1;
                            record(&mut latency, took);
                        }
                        Ok(Some(Err(error))) => {
                            failed += 1;
                            first_error.get_or_insert(error);
                        }
                        Ok(None) | Err(_) => break,
                    }
                }
                let missing = on_victim - back - failed;
                if missing > 0 {
                    first_error.get_or_insert(format!("{missing} not back within {STORM_BOUND:?}"));
                }
                Reply::StormBack {
                    retries: shared.retries.load(Ordering::Relaxed),
                    retry_error: shared.first_retry_error.get().cloned(),
                    back,
                    failed: failed + missing,
                    first_error,
                    latency_micros: histogram_values(&latency),
                }
            }
            Command::Stop => {
                shared.stop.cancel();
                for set in [&mut presence_holders, &mut chat_holders, &mut holders] {
                    while set.join_next().await.is_some() {}
                }
                send(&mut out, &Reply::Stopped { dropped: shared.dropped.load(Ordering::Relaxed) }).await?;
                return Ok(());
            }
        };
        send(&mut out, &reply).await?;
    }
    shared.stop.cancel();
    Ok(())
}

async fn send(out: &mut tokio::io::Stdout, reply: &Reply) -> anyhow::Result<()> {
    let mut line = serde_json::to_vec(reply)?;
    line.push(b'\n');
    out.write_all(&line).await?;
    out.flush().await?;
    Ok(())
}

/// Which of the plan's users are presence users (`true`) or chat users (`false`).
fn membership(plan: &Plan, presence: bool) -> Vec<bool> {
    let mut member = vec![false; plan.users.len()];
    let chosen: Vec<usize> = if presence {
        plan.presence.iter().flat_map(|p| p.users.iter().copied()).collect()
    } else {
        plan.chat.iter().flat_map(|c| c.pairs.iter().flat_map(|&(a, b)| [a, b])).collect()
    };
    for i in chosen {
        member[i] = true;
    }
    member
}

/// Signs every user in on their node, the nodes side by side.
async fn sign_in(plan: &Plan, shared: &Arc<Shared>) -> (Reply, Vec<Option<Conn>>) {
    let per_node = (plan.concurrency / plan.nodes.len()).max(4);
    let mut runs = Vec::new();
    for (node, &addr) in plan.nodes.iter().enumerate() {
        let indices: Vec<usize> = (0..plan.users.len()).filter(|&i| plan.users[i].node == node).collect();
        let tokens: Vec<String> = indices.iter().map(|&i| plan.users[i].token.clone()).collect();
        let dialer = shared.dialer.clone();
        runs.push(async move { (indices, sign_in_all(&dialer, addr, &tokens, per_node).await) });
    }
    let mut conns: Vec<Option<Conn>> = (0..plan.users.len()).map(|_| None).collect();
    let (mut failures, mut retries, mut first_error, mut latency) = (0, 0, None, histogram());
    for (indices, signed) in futures_util::future::join_all(runs).await {
        failures += signed.failures;
        retries += signed.retries;
        first_error = first_error.or(signed.first_error);
        latency.add(&signed.latency).expect("same bounds");
        for (index, conn) in indices.into_iter().zip(signed.conns) {
            conns[index] = conn;
        }
    }
    let signed = conns.iter().filter(|c| c.is_some()).count() as u64;
    let reply = Reply::SignedIn {
        signed,
        failures,
        retries,
        first_error,
        latency_micros: histogram_values(&latency),
    };
    (reply, conns)
}

/// Takes a group's sessions back from their holders, by user index.
async fn released(release: &CancellationToken, set: &mut JoinSet<Held>, users: usize) -> Vec<Option<Conn>> {
    release.cancel();
    let mut conns: Vec<Option<Conn>> = (0..users).map(|_| None).collect();
    while let Some(joined) = set.join_next().await {
        if let Ok(Held::Released(index, conn)) = joined {
            conns[index] = Some(conn);
        }
    }
    conns
}

enum Event {
    Release,
    Stop,
    Frame(bool),
    Ping,
}

/// Holds one user's session: reads its pushes, pings it, gives it back when `release`
/// fires, signs out at the stop. If its node dies while the storm is armed for that
/// node, it signs in again elsewhere and reports how long that took.
async fn hold(
    index: usize,
    token: String,
    mut conn: Conn,
    release: CancellationToken,
    shared: Arc<Shared>,
) -> Held {
    let mut ping =
        tokio::time::interval_at(tokio::time::Instant::now() + phase(index, PING_EVERY), PING_EVERY);
    loop {
        let event = tokio::select! {
            () = release.cancelled() => Event::Release,
            () = shared.stop.cancelled() => Event::Stop,
            frame = conn.reader.frame() => Event::Frame(frame.is_ok()),
            _ = ping.tick() => Event::Ping,
        };
        match event {
            Event::Release => return Held::Released(index, conn),
            Event::Stop => {
                let out = out_frame(&mut conn);
                let _ = conn.writer.send(&out).await;
                conn.writer.shutdown().await;
                return Held::Ended;
            }
            Event::Frame(true) => {}
            Event::Ping => {
                let trid = conn.writer.trid();
                // A failed write shows as a failed read next.
                let _ = conn.writer.send(&client::Png { trid }.into_frame()).await;
            }
            Event::Frame(false) => {
                let node = shared.node_of[index].load(Ordering::Relaxed);
                if *shared.victim.borrow() != Some(node) || shared.stop.is_cancelled() {
                    shared.node_of[index].store(GONE, Ordering::Relaxed);
                    shared.dropped.fetch_add(1, Ordering::Relaxed);
                    return Held::Ended;
                }
                let began = Instant::now();
                match come_back(index, &token, node, &shared).await {
                    Ok((new, on)) => {
                        conn = new;
                        shared.node_of[index].store(on, Ordering::Relaxed);
                        let _ = shared.back.send(Ok(began.elapsed()));
                    }
                    Err(error) => {
                        shared.node_of[index].store(GONE, Ordering::Relaxed);
                        let _ = shared.back.send(Err(error));
                        return Held::Ended;
                    }
                }
            }
        }
    }
}

/// Signs in again on a surviving node (spread by user), trying others on failure.
async fn come_back(index: usize, token: &str, dead: usize, shared: &Shared) -> Result<(Conn, usize), String> {
    let survivors: Vec<usize> = (0..shared.nodes.len()).filter(|&n| n != dead).collect();
    let mut last = String::new();
    for attempt in 0..RECONNECT_ATTEMPTS {
        let node = survivors[(index + attempt as usize) % survivors.len()];
        match tokio::time::timeout(REPLY_TIMEOUT, ns_sign_in(&shared.dialer, shared.nodes[node], token)).await
        {
            Ok(Ok(conn)) => return Ok((conn, node)),
            Ok(Err(error)) => last = error.to_string(),
            Err(_) => last = format!("no answer within {REPLY_TIMEOUT:?}"),
        }
        shared.retries.fetch_add(1, Ordering::Relaxed);
        let _ = shared.first_retry_error.set(last.clone());
        tokio::time::sleep(Duration::from_millis(250 * u64::from(attempt + 1))).await;
    }
    Err(last)
}
