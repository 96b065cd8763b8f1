//! The `mocha-server` program itself, started as an operator would (its output going
//! to pipes), for tests that stop it the hard way or read what it writes.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use mocha_client::{PassportClient, Trust};

/// Which stream a line came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stream {
    Stdout,
    Stderr,
}

pub struct Running {
    pub child: Child,
    output: mpsc::Receiver<(Stream, String)>,
    /// Every line so far, in the order read.
    pub said: Vec<(Stream, String)>,
}

impl Running {
    /// Starts the server on `data_dir` with ports the OS picks and a cheap password
    /// hash, plus `args`; waits for its "Press Ctrl-C" line (on either stream).
    pub fn start(data_dir: &Path, args: &[&str]) -> Self {
        let mut all = vec!["--passport-port", "0", "--notification-port", "0", "--switchboard-port", "0"];
        all.extend_from_slice(args);
        Self::start_with_ports(data_dir, &all)
    }

    /// Like [`Self::start`], with the Passport, Notification and Switchboard ports
    /// given in `args`.
    pub fn start_with_ports(data_dir: &Path, args: &[&str]) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_mocha-server"))
            .arg("--data-dir")
            .arg(data_dir)
            .args(["--relay-port", "0", "--pbkdf2-iterations", "10000"])
            .args(args)
            .env("MOCHA_LOG", "info")
            .env_remove("NO_COLOR")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let (lines, output) = mpsc::channel();
        for (stream, pipe) in [
            (Stream::Stdout, Box::new(child.stdout.take().unwrap()) as Box<dyn std::io::Read + Send>),
            (Stream::Stderr, Box::new(child.stderr.take().unwrap())),
        ] {
            let lines = lines.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                    if lines.send((stream, line)).is_err() {
                        break;
                    }
                }
            });
        }
        let mut running = Self { child, output, said: Vec::new() };
        while !running.said.iter().any(|(_, line)| line.contains("Press Ctrl-C")) {
            match running.output.recv_timeout(Duration::from_secs(60)) {
                Ok(line) => running.said.push(line),
                Err(e) => panic!("the server did not come up ({e}); it said: {:#?}", running.said),
            }
        }
        running
    }

    /// The port in the banner line that starts with `label`.
    pub fn port(&self, label: &str) -> u16 {
        let line =
            self.said.iter().map(|(_, l)| l).find(|line| line.trim_start().starts_with(label)).unwrap();
        let address = line
            .split_whitespace()
            .find(|word| word.contains(':') && !word.ends_with(':'))
            .unwrap()
            .trim_end_matches("/metrics");
        address.rsplit(':').next().unwrap().parse().unwrap()
    }

    /// A Passport client for this server, trusting the CA in `data_dir`.
    pub fn passport(&self, data_dir: &Path) -> (PassportClient, Trust) {
        let trust = Trust::system().with_pem_file(&data_dir.join("tls/ca.pem")).unwrap();
        let url = format!("https://localhost:{}", self.port("Passport and web pages"));
        (PassportClient::new(&url, &trust).unwrap(), trust)
    }

    /// `kill -9`: no shutdown, no checkpoint, nothing flushed by the server.
    pub fn kill9(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    /// Stops it with Ctrl-C (SIGINT); returns every line it wrote.
    pub fn stop(mut self) -> Vec<(Stream, String)> {
        Command::new("kill").args(["-INT", &self.child.id().to_string()]).status().unwrap();
        let status = self.child.wait().unwrap();
        std::thread::sleep(Duration::from_millis(100));
        self.said.extend(self.output.try_iter());
        assert!(status.success(), "stopped cleanly: {status}; it said {:#?}", self.said);
        std::mem::take(&mut self.said)
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
