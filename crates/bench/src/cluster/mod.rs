//! `cluster`: issue 18's benchmark. N `mocha-server` nodes on a fresh PostgreSQL database
//! and the machine's NATS, with users provisioned beforehand, signed in over TLS by
//! several load-generator processes (this binary again, `cluster-worker`, each under the
//! per-process open-file limit) and held with keepalives. Then, in turn: server RSS per
//! session summed over the nodes, presence fan-out to watchers on other nodes, chat
//! between users on different nodes, and a storm: node 0 is killed with SIGKILL and its
//! users sign in again on the others; the run waits until they are all back and the
//! session directory shows each of them once, on a live node.

pub mod env;
pub mod layout;
pub mod protocol;
pub mod worker;

use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::Args;
use mocha_passport::{Passport, StatusBoard};
use serde::Serialize;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::process::{Child, ChildStdin, ChildStdout, Command as Process};

use self::env::{Env, read_directory};
use self::layout::{Layout, Shape};
use self::protocol::{ChatPlan, Command, Plan, PlanUser, PresencePlan, Reply};
use crate::fixtures::provision;
use crate::report::{Report, histogram};
use crate::scenario::presence::PresenceOutcome;
use crate::scenario::raise_nofile_limit;
use crate::scenario::rooms::{Ack, ChatOutcome, LoadArgs};
use crate::target::{FIXTURE_TOKEN_LIFETIME, TargetOptions};

/// How long after everyone is back the directory may take to show them all on live
/// nodes and the dead node swept: the sweep's bound (30 s, docs/cluster.md) and some.
const DIRECTORY_BOUND: Duration = Duration::from_secs(45);

#[derive(Args, Clone, Debug, Serialize)]
pub struct ClusterArgs {
    /// `mocha-server` nodes.
    #[arg(long, default_value_t = 6, value_parser = clap::value_parser!(u64).range(2..=16))]
    pub nodes: u64,
    /// Users signed in and held, over all nodes.
    #[arg(long, default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(2..=200_000))]
    pub users: u64,
    /// Connections each load-generator process holds at most (the open-file limit is 20,000).
    #[arg(long, default_value_t = 16_000, value_parser = clap::value_parser!(u64).range(10..=19_000))]
    pub per_worker: u64,
    /// Sign-ins in flight at once, per load-generator process.
    #[arg(long, default_value_t = 64)]
    pub concurrency: usize,
    /// Users on a presence ring, every watcher on another node (a multiple of --nodes; 0: no presence phase).
    #[arg(long, default_value_t = 1998)]
    pub presence_users: u64,
    /// Contacts per presence user (even).
    #[arg(long, default_value_t = 20)]
    pub contacts: u64,
    /// Status changes per second per presence user (1998 × 20 × 0.175 ≈ 7,000 notifications/s).
    #[arg(long, default_value_t = 0.175)]
    pub presence_rate: f64,
    /// Users chatting in pairs, the two of a pair on different nodes (0: no chat phase).
    #[arg(long, default_value_t = 1000)]
    pub chat_users: u64,
    /// The control run: both users of each pair on the same node, so the chat's p99
    /// shows what the box's load costs without the crossing.
    #[arg(long)]
    pub chat_same_node: bool,
    /// Messages per second each chat user sends (as `chat --rate`).
    #[arg(long, default_value_t = 5.0)]
    pub chat_rate: f64,
    /// Seconds of each of the presence and chat phases.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=600))]
    pub duration: u64,
    /// Users on node 0, the node the storm kills (0: no storm, users spread evenly).
    #[arg(long, default_value_t = 0)]
    pub storm_users: u64,
    /// Seconds to hold everyone before the storm (RSS is read again after).
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u64).range(0..=3600))]
    pub hold: u64,
    /// The `mocha-bench` binary the load-generator processes run [default: this one].
    #[arg(long)]
    pub worker_bin: Option<std::path::PathBuf>,
}

struct Worker {
    child: Child,
    stdin: ChildStdin,
    lines: Lines<BufReader<ChildStdout>>,
}

impl Worker {
    async fn start(bin: &std::path::Path, plan: &Plan) -> anyhow::Result<Self> {
        let mut child = Process::new(bin)
            .arg("cluster-worker")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .context("cannot start a load-generator process")?;
        let stdin = child.stdin.take().context("no stdin")?;
        let lines = BufReader::new(child.stdout.take().context("no stdout")?).lines();
        let mut worker = Self { child, stdin, lines };
        worker.write(&serde_json::to_vec(plan)?).await?;
        match worker.read().await? {
            Reply::Ready => Ok(worker),
            other => bail!("worker {} answered {other:?}", plan.worker),
        }
    }

    async fn write(&mut self, line: &[u8]) -> anyhow::Result<()> {
        self.stdin.write_all(line).await?;
        self.stdin.write_all(b"\n").await?;
        self.stdin.flush().await?;
        Ok(())
    }

    async fn send(&mut self, command: &Command) -> anyhow::Result<()> {
        self.write(&serde_json::to_vec(command)?).await
    }

    async fn read(&mut self) -> anyhow::Result<Reply> {
        let line =
            self.lines.next_line().await?.context("a load-generator process ended (see its errors above)")?;
        Ok(serde_json::from_str(&line)?)
    }

    async fn ask(&mut self, command: &Command) -> anyhow::Result<Reply> {
        self.send(command).await?;
        self.read().await
    }
}

/// The run, bounded by `max_seconds`; the nodes, workers and database go in every case.
pub async fn run(target: &TargetOptions, args: &ClusterArgs, max_seconds: u64) -> anyhow::Result<Report> {
    let mut env = Env::create().await?;
    let result =
        tokio::time::timeout(Duration::from_secs(max_seconds), measure(target, args, &mut env)).await;
    env.teardown().await;
    result.context("the run passed --max-seconds and was stopped")?
}

fn users_of(latency_micros: &[u64]) -> hdrhistogram::Histogram<u64> {
    let mut h = histogram();
    for &v in latency_micros {
        h.saturating_record(v.max(1));
    }
    h
}

async fn measure(target: &TargetOptions, args: &ClusterArgs, env: &mut Env) -> anyhow::Result<Report> {
    let limit = raise_nofile_limit();
    let nodes = usize::try_from(args.nodes)?;
    let users = usize::try_from(args.users)?;
    let layout = Layout::new(&Shape {
        users,
        nodes,
        first_node_users: usize::try_from(args.storm_users)?,
        presence: usize::try_from(args.presence_users)?,
        contacts: usize::try_from(args.contacts)?,
        chat: usize::try_from(args.chat_users)?,
        chat_same_node: args.chat_same_node,
        per_worker: usize::try_from(args.per_worker)?,
    })?;

    // Users and contacts go into the database before any node starts.
    let provisioned = Instant::now();
    let mut config = mocha_server::ServerConfig::from_data_dir(env.dir.path())?;
    config.database = Some(env.database.clone());
    if let Some(iterations) = target.pbkdf2_iterations {
        config.pbkdf2_iterations = iterations;
    }
    let mut passport_config = config.passport(env.dir.path());
    passport_config.session_token_lifetime = FIXTURE_TOKEN_LIFETIME;
    let key =
        mocha_auth::SigningKey::load_or_create(&mocha_server::layout::passport_key_in(&env.keys_dir()))?;
    let passport =
        Passport::open(&env.database, key, passport_config, Arc::new(StatusBoard::default())).await?;
    let fixture = provision(&passport, users, &layout.contacts()).await?;
    passport.close().await;
    let provision_time = provisioned.elapsed();

    let bin = match &target.server_bin {
        Some(bin) => bin.clone(),
        None => std::env::current_exe()?.with_file_name("mocha-server"),
    };
    env.start_nodes(&bin, nodes, config.pbkdf2_iterations).await?;
    tokio::time::sleep(Duration::from_secs(1)).await;

    // Each worker's plan: its users, and the ring and pairs (all in worker 0).
    let mut plans: Vec<Plan> = (0..layout.workers)
        .map(|w| Plan {
            worker: w,
            nodes: env.nodes.iter().map(|n| n.ns_addr).collect(),
            cas: env.nodes.iter().map(|n| n.ca.clone()).collect(),
            server_name: target.server_name.clone(),
            node_pids: env.pids(),
            source: Some(std::net::IpAddr::from([127, 0, 0, u8::try_from(10 + w).unwrap_or(250)])),
            concurrency: args.concurrency,
            users: Vec::new(),
            presence: None,
            chat: None,
        })
        .collect();
    let mut local = vec![0usize; users];
    for i in 0..users {
        let plan = &mut plans[layout.worker_of[i]];
        local[i] = plan.users.len();
        plan.users.push(PlanUser {
            id: fixture.ids[i],
            token: fixture.tokens[i].clone(),
            node: layout.node_of[i],
        });
    }
    if layout.presence > 0 {
        plans[0].presence = Some(PresencePlan {
            users: (0..layout.presence).map(|i| local[i]).collect(),
            contacts: args.contacts,
            rate: args.presence_rate,
            duration: args.duration,
        });
    }
    if !layout.chat_pairs.is_empty() {
        plans[0].chat = Some(ChatPlan {
            pairs: layout.chat_pairs.iter().map(|&(a, b)| (local[a], local[b])).collect(),
            load: LoadArgs {
                rate: args.chat_rate,
                duration: args.duration,
                bytes: 100,
                ack: Ack::U,
                setup_concurrency: args.concurrency,
            },
        });
    }
    let worker_bin = match &args.worker_bin {
        Some(bin) => bin.clone(),
        None => std::env::current_exe()?,
    };
    let mut workers = Vec::new();
    for plan in &plans {
        workers.push(Worker::start(&worker_bin, plan).await?);
    }
    drop(plans);

    // Sign-in: every worker at once.
    let rss_before = env.rss_kib();
    let cpu = |env: &Env| -> Option<f64> { env.pids().iter().map(|&p| crate::target::cpu_seconds(p)).sum() };
    let cpu_before = cpu(&*env);
    let started = Instant::now();
    for worker in &mut workers {
        worker.send(&Command::SignIn).await?;
    }
    let (mut signed, mut failures, mut retries, mut first_error, mut sign_in_latency) =
        (0, 0, 0, None, histogram());
    for worker in &mut workers {
        match worker.read().await? {
            Reply::SignedIn { signed: s, failures: f, retries: r, first_error: e, latency_micros } => {
                signed += s;
                failures += f;
                retries += r;
                first_error = first_error.or(e);
                sign_in_latency.add(users_of(&latency_micros)).expect("same bounds");
            }
            other => bail!("unexpected answer to the sign-in: {other:?}"),
        }
    }
    let sign_in_time = started.elapsed();
    let cpu_after = cpu(&*env);
    tokio::time::sleep(Duration::from_secs(2)).await;
    let rss_after = env.rss_kib();
    let per_node: Vec<String> = env
        .nodes
        .iter()
        .enumerate()
        .map(|(n, node)| {
            let rss = crate::target::rss_kib(node.pid).unwrap_or(0);
            format!("{}: {} users, {:.0} MiB", node.id, layout.users_on(n), rss as f64 / 1024.0)
        })
        .collect();

    let mut report = Report::new("cluster", args);
    report
        .figure("nodes", nodes as f64, "")
        .figure("load-generator processes", layout.workers as f64, "")
        .figure("users provisioned", users as f64, "")
        .figure("provisioning time", provision_time.as_secs_f64(), "s")
        .figure("users signed in", signed as f64, "")
        .figure("sign-in failures", failures as f64, "")
        .figure("retries", retries as f64, "")
        .figure("sign-ins/s", signed as f64 / sign_in_time.as_secs_f64(), "1/s")
        .figure(
            "server CPU per sign-in (all nodes)",
            crate::target::cpu_ms_per(cpu_before, cpu_after, signed).unwrap_or(f64::NAN),
            "ms",
        )
        .figure("nodes' RSS before (sum)", rss_before as f64 / 1024.0, "MiB")
        .figure("nodes' RSS with everyone signed in (sum)", rss_after as f64 / 1024.0, "MiB")
        .figure(
            "nodes' RSS per session",
            rss_after.saturating_sub(rss_before) as f64 / signed.max(1) as f64,
            "KiB",
        )
        .latency("connect + TLS + VER + USR", &sign_in_latency)
        .note(format!("per node after sign-in: {}", per_node.join("; ")))
        .note(format!("open-file limit {limit} per process; server {}", bin.display()));
    if let Some(error) = first_error {
        report.note(format!("first sign-in error: {error}"));
    }

    if layout.presence > 0 {
        match workers[0].ask(&Command::Presence).await? {
            Reply::Presence(outcome) => add_presence(&mut report, &outcome, args.duration),
            other => bail!("unexpected answer to the presence phase: {other:?}"),
        }
    }
    if !layout.chat_pairs.is_empty() {
        match workers[0].ask(&Command::Chat).await? {
            Reply::Chat(outcome) => add_chat(&mut report, &outcome, args),
            other => bail!("unexpected answer to the chat phase: {other:?}"),
        }
    }
    if args.hold > 0 {
        tokio::time::sleep(Duration::from_secs(args.hold)).await;
        report.figure("nodes' RSS after the hold (sum)", env.rss_kib() as f64 / 1024.0, "MiB");
    }
    if args.storm_users > 0 {
        storm(&mut report, env, &mut workers, usize::try_from(signed)?).await?;
    }

    let mut dropped = 0;
    for worker in &mut workers {
        if let Reply::Stopped { dropped: d } = worker.ask(&Command::Stop).await? {
            dropped += d;
        }
    }
    for mut worker in workers {
        let _ = tokio::time::timeout(Duration::from_secs(20), worker.child.wait()).await;
    }
    report.figure("sessions dropped while held", dropped as f64, "");
    Ok(report)
}

fn add_presence(report: &mut Report, outcome: &PresenceOutcome, duration: u64) {
    let mut part = Report::new("presence", ());
    outcome.add_to(&mut part, duration);
    for figure in part.figures {
        report.figure(&format!("presence: {}", figure.name), figure.value, &figure.unit);
    }
    for latency in part.latencies {
        report.latencies.push(crate::report::Latency {
            name: format!("presence {} (across nodes)", latency.name),
            ..latency
        });
    }
}

fn add_chat(report: &mut Report, outcome: &ChatOutcome, args: &ClusterArgs) {
    let load = LoadArgs {
        rate: args.chat_rate,
        duration: args.duration,
        bytes: 100,
        ack: Ack::U,
        setup_concurrency: 0,
    };
    let mut part = Report::new("chat", ());
    outcome.add_to(&mut part, &load);
    for figure in part.figures.into_iter().filter(|f| f.name != "messages sent/s") {
        report.figure(&format!("chat: {}", figure.name), figure.value, &figure.unit);
    }
    for latency in part.latencies {
        report.latencies.push(crate::report::Latency {
            name: format!(
                "chat {} ({})",
                latency.name,
                if args.chat_same_node { "on one node" } else { "across nodes" }
            ),
            ..latency
        });
    }
}

/// Kills node 0 and waits for its users to be back elsewhere, then for the directory.
async fn storm(
    report: &mut Report,
    env: &mut Env,
    workers: &mut [Worker],
    users: usize,
) -> anyhow::Result<()> {
    let victim = 0;
    let mut on_victim = 0;
    for worker in workers.iter_mut() {
        match worker.ask(&Command::Storm { victim }).await? {
            Reply::Armed { on_victim: n } => on_victim += n,
            other => bail!("unexpected answer to the storm: {other:?}"),
        }
    }
    let cpu_before: Option<f64> = env.nodes[1..].iter().map(|n| crate::target::cpu_seconds(n.pid)).sum();
    let killed = Instant::now();
    env.kill(victim).await?;
    let (mut back, mut failed, mut first_error, mut latency) = (0, 0, None, histogram());
    let (mut retries, mut retry_error) = (0, None);
    for worker in workers.iter_mut() {
        match worker.read().await? {
            Reply::StormBack {
                back: b,
                failed: f,
                first_error: e,
                retries: r,
                retry_error: re,
                latency_micros,
            } => {
                back += b;
                failed += f;
                retries += r;
                retry_error = retry_error.or(re);
                first_error = first_error.or(e);
                latency.add(users_of(&latency_micros)).expect("same bounds");
            }
            other => bail!("unexpected answer to the storm: {other:?}"),
        }
    }
    let all_back = killed.elapsed();
    let cpu_after: Option<f64> = env.nodes[1..].iter().map(|n| crate::target::cpu_seconds(n.pid)).sum();
    let dead = env.nodes[victim].id.clone();

    // The dead node's heartbeat stops; the others sweep what it left. Everyone must be
    // in the directory once, none of them on the dead node.
    let (mut consistent, mut swept, mut last) = (None, None, None);
    while killed.elapsed() < all_back + DIRECTORY_BOUND {
        let directory = read_directory(&env.prefix).await?;
        let on_dead = directory.users_by_node.get(&dead).copied().unwrap_or(0);
        if consistent.is_none() && on_dead == 0 && directory.users == users {
            consistent = Some(killed.elapsed());
        }
        if swept.is_none() && !directory.heartbeats.contains(&dead) {
            swept = Some(killed.elapsed());
        }
        last = Some((directory.users, on_dead));
        if consistent.is_some() && swept.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    report
        .figure("storm: users on the killed node", on_victim as f64, "")
        .figure("storm: users back on the others", back as f64, "")
        .figure("storm: failed to come back", failed as f64, "")
        .figure("storm: time until all back", all_back.as_secs_f64(), "s")
        .figure("storm: attempts retried", retries as f64, "")
        .figure(
            "storm: survivors' CPU per reconnect",
            crate::target::cpu_ms_per(cpu_before, cpu_after, back).unwrap_or(f64::NAN),
            "ms",
        )
        .figure(
            "storm: directory shows all on live nodes after",
            consistent.map_or(f64::NAN, |t| t.as_secs_f64()),
            "s",
        )
        .figure(
            "storm: dead node swept from the directory after",
            swept.map_or(f64::NAN, |t| t.as_secs_f64()),
            "s",
        )
        .latency("storm: reconnect (drop seen → signed in elsewhere)", &latency);
    if let Some((listed, on_dead)) = last {
        report.figure("storm: users in the directory", listed as f64, "").figure(
            "storm: directory entries on the dead node",
            on_dead as f64,
            "",
        );
    }
    if let Some(error) = first_error {
        report.note(format!("storm: first error: {error}"));
    }
    if let Some(error) = retry_error {
        report.note(format!("storm: first retried attempt: {error}"));
    }
    Ok(())
}

/// The worker subcommand's `main`.
pub fn worker_main() -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let result = runtime.block_on(worker::run());
    runtime.shutdown_timeout(Duration::from_secs(2));
    result
}
