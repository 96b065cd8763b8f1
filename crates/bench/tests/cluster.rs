//! The `cluster` scenario end to end at tiny scale: two `mocha-server` nodes on the
//! machine's PostgreSQL and NATS, three load-generator processes, every phase. Skipped
//! (saying why) without PostgreSQL, NATS or a built `mocha-server`; with `CI` set it fails
//! instead.

use std::path::PathBuf;

use clap::Parser;
use mocha_bench::cli::{Cli, run};

fn skip(why: &str) {
    assert!(std::env::var_os("CI").is_none(), "the cluster benchmark test needs {why} in CI");
    eprintln!("skipping the cluster benchmark test: {why}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tiny_cluster_run_signs_everyone_in_measures_and_brings_the_killed_nodes_users_back() {
    if let Err(error) = mocha_bench::cluster::env::reachable().await {
        return skip(&error.to_string());
    }
    let bench = PathBuf::from(env!("CARGO_BIN_EXE_mocha-bench"));
    let server = bench.with_file_name("mocha-server");
    if !server.exists() {
        return skip(&format!("{} (cargo build -p mocha-server)", server.display()));
    }
    let args = [
        "mocha-bench",
        "--server-bin",
        server.to_str().expect("a UTF-8 path"),
        "--pbkdf2-iterations",
        "1000",
        "cluster",
        "--worker-bin",
        bench.to_str().expect("a UTF-8 path"),
        "--nodes",
        "2",
        "--users",
        "50",
        "--per-worker",
        "25",
        "--presence-users",
        "10",
        "--contacts",
        "4",
        "--presence-rate",
        "2",
        "--chat-users",
        "6",
        "--chat-rate",
        "5",
        "--duration",
        "2",
        "--storm-users",
        "20",
    ];
    let cli = Cli::try_parse_from(args).expect("valid flags");
    let report = run(&cli).await.expect("the run completes");
    println!("{}", report.table());
    let value =
        |name: &str| report.value(name).unwrap_or_else(|| panic!("no {name:?} in {}", report.table()));
    assert_eq!(value("users signed in"), 50.0);
    assert_eq!(value("load-generator processes"), 3.0, "56 connections, 25 a process");
    assert!(value("nodes' RSS per session") > 0.0);
    // Every watcher is on the other node: each change reaches all 4 contacts there.
    assert!(value("presence: status changes") >= 10.0);
    assert_eq!(value("presence: missing notifications"), 0.0);
    assert!(value("chat: delivered") >= 3.0 * 2.0 * 5.0);
    assert_eq!(value("chat: lost"), 0.0);
    assert_eq!(value("chat: duplicated"), 0.0);
    assert_eq!(value("storm: users on the killed node"), 20.0);
    assert_eq!(value("storm: users back on the others"), 20.0);
    assert_eq!(value("storm: failed to come back"), 0.0);
    assert_eq!(value("storm: users in the directory"), 50.0, "each user once");
    assert_eq!(value("storm: directory entries on the dead node"), 0.0);
    assert!(value("storm: dead node swept from the directory after") < 30.0);
    assert_eq!(value("sessions dropped while held"), 0.0);
}
