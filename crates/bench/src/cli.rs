//! The command line: one subcommand per scenario, each with its knobs and the options
//! saying which server to load.

use std::time::Duration;

use anyhow::Context;
use clap::{Parser, Subcommand};

use crate::cluster::ClusterArgs;
use crate::report::Report;
use crate::scenario::calls::CallsArgs;
use crate::scenario::idle::IdleArgs;
use crate::scenario::pair::PairArgs;
use crate::scenario::presence::PresenceArgs;
use crate::scenario::rooms::{ChatArgs, GroupArgs};
use crate::scenario::storm::StormArgs;
use crate::scenario::transfer::TransferArgs;
use crate::scenario::{calls, idle, msnp, pair, presence, rooms, storm, transfer};
use crate::target::TargetOptions;

/// Generates load on a Mocha server over real TLS on loopback, and reports throughput
/// and latency (HDR histograms).
///
/// By default the server runs inside this process on a temporary data folder;
/// `--spawn` starts `mocha-server` as a child process (its RSS is then the server's
/// alone); `--ns ADDR --ca PEM --data-dir DIR [--pid PID]` uses a running one.
#[derive(Parser, Debug)]
#[command(version, about, long_about)]
pub struct Cli {
    #[command(flatten)]
    pub target: TargetOptions,
    /// Print the report as JSON instead of a table.
    #[arg(long, global = true)]
    pub json: bool,
    /// Give up after this many seconds, whatever the scenario is doing.
    #[arg(long, global = true, default_value_t = 900)]
    pub max_seconds: u64,
    #[command(subcommand)]
    pub scenario: Scenario,
}

#[derive(Subcommand, Debug)]
pub enum Scenario {
    /// N users signed in and held with keepalives: connect rate, sign-in latency, RSS per connection.
    Idle(IdleArgs),
    /// Users in pairs, each sending chat at a set rate: delivered msgs/s, latency, lost, duplicated.
    Chat(ChatArgs),
    /// One pair, one sending to the other as fast as the pipeline allows: server CPU per relayed message.
    Pair(PairArgs),
    /// `pair` through the MSNP gateway (two classic clients): server CPU per relayed message.
    MsnpPair(PairArgs),
    /// N users with K contacts changing status: notifications/s and fan-out latency.
    Presence(PresenceArgs),
    /// Rooms of M members all chatting: deliveries/s and latency.
    Group(GroupArgs),
    /// One file of S MiB through the switchboard: MB/s.
    Transfer(TransferArgs),
    /// N users reconnecting at once with their tokens: time until all are back.
    Storm(StormArgs),
    /// N two-party calls through the UDP media relay: relay latency, loss, server CPU per packet.
    Calls(CallsArgs),
    /// A cluster of `mocha-server` nodes on PostgreSQL and NATS (issue 18): RSS per session,
    /// presence and chat across nodes, a node killed and its users back on the others.
    Cluster(ClusterArgs),
    /// One load-generator process of `cluster` (started by it, talks on stdin and stdout).
    #[command(hide = true)]
    ClusterWorker,
}

/// Runs the chosen scenario, bounded by `--max-seconds`.
pub async fn run(cli: &Cli) -> anyhow::Result<Report> {
    let target = &cli.target;
    match &cli.scenario {
        // Bounded by itself: it must take its nodes and database down even when stopped.
        Scenario::Cluster(args) => return crate::cluster::run(target, args, cli.max_seconds).await,
        Scenario::ClusterWorker => anyhow::bail!("cluster-worker is started by the cluster scenario"),
        _ => {}
    }
    let work = async {
        match &cli.scenario {
            Scenario::Idle(args) => idle::run(target, args).await,
            Scenario::Chat(args) => rooms::chat(target, args).await,
            Scenario::Pair(args) => pair::run(target, args).await,
            Scenario::MsnpPair(args) => msnp::run(target, args).await,
            Scenario::Presence(args) => presence::run(target, args).await,
            Scenario::Group(args) => rooms::group(target, args).await,
            Scenario::Transfer(args) => transfer::run(target, args).await,
            Scenario::Storm(args) => storm::run(target, args).await,
            Scenario::Calls(args) => calls::run(target, args).await,
            Scenario::Cluster(_) | Scenario::ClusterWorker => unreachable!("run above"),
        }
    };
    tokio::time::timeout(Duration::from_secs(cli.max_seconds), work)
        .await
        .context("the run passed --max-seconds and was stopped")?
}

/// `main` for the binary.
pub fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("MOCHA_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    if matches!(cli.scenario, Scenario::ClusterWorker) {
        return crate::cluster::worker_main();
    }
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let report = runtime.block_on(run(&cli))?;
    if cli.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", report.table());
    }
    // Connections still winding down are not worth waiting for.
    runtime.shutdown_timeout(Duration::from_secs(2));
    Ok(())
}
