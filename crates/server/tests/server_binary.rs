//! The `mocha-server` program itself, as an operator runs it: started with a low
//! soft open-file limit and its output going to a pipe (a log file, a journal), it
//! takes the hard limit and writes no colour codes.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// The soft limit the server is started with (the shell's `ulimit -Sn`).
const LOW_SOFT_LIMIT: u64 = 512;

/// (soft, hard) "Max open files" of a running process, from /proc.
fn open_file_limits(pid: u32) -> (u64, u64) {
    let limits = std::fs::read_to_string(format!("/proc/{pid}/limits")).unwrap();
    let line = limits.lines().find(|line| line.starts_with("Max open files")).unwrap();
    let numbers: Vec<u64> = line.split_whitespace().filter_map(|word| word.parse().ok()).collect();
    (numbers[0], numbers[1])
}

#[test]
fn the_server_raises_its_open_file_limit_and_writes_plain_text_to_a_pipe() {
    let (_, hard) = rlimit::Resource::NOFILE.get().unwrap();
    assert!(hard > LOW_SOFT_LIMIT, "this test needs a hard open-file limit above {LOW_SOFT_LIMIT}");
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(format!("ulimit -Sn {LOW_SOFT_LIMIT} && exec \"$0\" \"$@\""))
        .arg(env!("CARGO_BIN_EXE_mocha-server"))
        .arg("--data-dir")
        .arg(dir.path())
        .args(["--passport-port", "0", "--notification-port", "0", "--switchboard-port", "0"])
        .env("MOCHA_LOG", "info")
        .env_remove("NO_COLOR")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();

    let stdout = child.stdout.take().unwrap();
    let (lines, received) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            if lines.send(line.unwrap()).is_err() {
                break;
            }
        }
    });
    let mut output = Vec::new();
    while !output.last().is_some_and(|line: &String| line.contains("Press Ctrl-C")) {
        match received.recv_timeout(Duration::from_secs(60)) {
            Ok(line) => output.push(line),
            Err(e) => {
                let _ = child.kill();
                panic!("the server did not come up ({e}); it said: {output:#?}");
            }
        }
    }
    let (soft, hard_now) = open_file_limits(pid);
    Command::new("kill").args(["-INT", &pid.to_string()]).status().unwrap();
    let status = child.wait().unwrap();
    output.extend(received.try_iter());
    let text = output.join("\n");

    assert_eq!((soft, hard_now), (hard, hard), "the soft limit was raised to the hard one");
    assert!(
        text.contains("raised the open-file limit") && text.contains(&format!("before={LOW_SOFT_LIMIT}")),
        "the raise is logged: {text}"
    );
    assert!(text.contains("Notification Server listening"), "{text}");
    assert!(!text.contains('\u{1b}'), "no ANSI escape codes in piped output: {text:?}");
    assert!(status.success(), "stopped cleanly on Ctrl-C: {status}; {text}");
}

#[test]
fn raising_the_open_file_limit_takes_the_hard_limit() {
    let (soft, hard) = rlimit::Resource::NOFILE.get().unwrap();
    let lowered = hard.min(soft).clamp(64, 1024);
    rlimit::Resource::NOFILE.set(lowered, hard).unwrap();
    let raised = mocha_server::raise_open_file_limit().unwrap();
    assert_eq!(raised, mocha_server::OpenFileLimit { before: lowered, now: hard });
    assert_eq!(rlimit::Resource::NOFILE.get().unwrap(), (hard, hard));
    // Already at the hard limit: nothing to do, nothing fails.
    let again = mocha_server::raise_open_file_limit().unwrap();
    assert_eq!(again, mocha_server::OpenFileLimit { before: hard, now: hard });
}
