//! A small TCP load balancer for a test, standing in for HAProxy in TCP mode: it
//! listens on 127.0.0.1 (what clients know as `localhost`) on three ports (Passport,
//! Notification Server, Switchboard) and forwards each connection to the same port on
//! one of the backends (127.0.0.2, 127.0.0.3, …: each node binds its own loopback
//! address). A backend that refuses the connection (its node is dead) is skipped, as
//! HAProxy's `redispatch` does. [`Haproxy`] is the real one (Debian's `haproxy`), in TCP
//! mode as in docs/cluster.md.
#![allow(dead_code)]
#![allow(clippy::unwrap_used)] // test scaffolding: a failed unwrap is a failed test

use std::net::IpAddr;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// Whether `backends` loopback addresses can be bound (`None` outside CI: skip).
fn backends_bindable(backends: usize) -> Option<()> {
    for n in 0..backends {
        if let Err(error) = std::net::TcpListener::bind((backend(n), 0)) {
            assert!(std::env::var_os("CI").is_none(), "cannot bind {}: {error}", backend(n));
            eprintln!("skipping: cannot bind {} ({error})", backend(n));
            return None;
        }
    }
    Some(())
}

/// The loopback address backend `n` (from 0) binds.
pub fn backend(n: usize) -> IpAddr {
    IpAddr::from([127, 0, 0, 2 + u8::try_from(n).unwrap()])
}

pub struct Balancer {
    /// Passport, Notification Server, Switchboard.
    pub ports: [u16; 3],
    preferred: Arc<AtomicUsize>,
    acceptors: Vec<JoinHandle<()>>,
}

impl Balancer {
    /// `None` (saying why) where the backends' loopback addresses cannot be bound.
    pub async fn start(backends: usize) -> Option<Self> {
        backends_bindable(backends)?;
        let preferred = Arc::new(AtomicUsize::new(0));
        let mut ports = [0; 3];
        let mut acceptors = Vec::new();
        for port in &mut ports {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            *port = listener.local_addr().unwrap().port();
            let (target, preferred) = (*port, preferred.clone());
            acceptors.push(tokio::spawn(async move {
                while let Ok((mut client, _)) = listener.accept().await {
                    let first = preferred.load(Ordering::Relaxed);
                    tokio::spawn(async move {
                        for n in (0..backends).map(|i| (first + i) % backends) {
                            if let Ok(mut server) = TcpStream::connect((backend(n), target)).await {
                                let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                                return;
                            }
                        }
                    });
                }
            }));
        }
        Some(Self { ports, preferred, acceptors })
    }

    /// New connections go to backend `n` first (while it takes them).
    pub fn prefer(&self, n: usize) {
        self.preferred.store(n, Ordering::Relaxed);
    }
}

impl Drop for Balancer {
    fn drop(&mut self) {
        for acceptor in &self.acceptors {
            acceptor.abort();
        }
    }
}

/// Debian's HAProxy in TCP mode on 127.0.0.1 (Passport, Notification Server and
/// Switchboard ports), sending every connection to the first backend whose health check
/// passes (`balance first`), and elsewhere when it refuses (`redispatch`).
pub struct Haproxy {
    pub ports: [u16; 3],
    dir: tempfile::TempDir,
    child: Child,
}

impl Haproxy {
    /// The ports it will listen on, free now; `None` (saying why) without `haproxy` or
    /// the loopback addresses, outside CI.
    pub fn ports(backends: usize) -> Option<[u16; 3]> {
        if Command::new("haproxy").arg("-v").output().is_err() {
            assert!(std::env::var_os("CI").is_none(), "this test needs haproxy in CI (scripts/test.sh)");
            eprintln!("skipping: haproxy is not installed");
            return None;
        }
        backends_bindable(backends)?;
        Some([0; 3].map(|_| std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()))
    }

    /// Starts it on `ports` (from [`Self::ports`]), once the backends listen.
    pub fn start(backends: usize, ports: [u16; 3]) -> Self {
        let mut config = String::from(
            "defaults\n    mode tcp\n    timeout connect 2s\n    timeout client 10m\n    timeout server 10m\n    option redispatch\n    retries 2\n",
        );
        for (name, port) in ["passport", "notification", "switchboard"].iter().zip(ports) {
            config +=
                &format!("frontend {name}\n    bind 127.0.0.1:{port}\n    default_backend {name}_nodes\n");
            config += &format!(
                "backend {name}_nodes\n    balance first\n    default-server check inter 300ms fall 1 rise 1\n"
            );
            for n in 0..backends {
                config += &format!("    server node{n} {}:{port}\n", backend(n));
            }
        }
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("haproxy.cfg");
        std::fs::write(&file, config).unwrap();
        let check = Command::new("haproxy").arg("-c").arg("-f").arg(&file).output().unwrap();
        assert!(check.status.success(), "{}", String::from_utf8_lossy(&check.stdout));
        let child = Command::new("haproxy")
            .arg("-db")
            .arg("-f")
            .arg(&file)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        for port in ports {
            let started = std::time::Instant::now();
            while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
                assert!(started.elapsed() < Duration::from_secs(10), "haproxy did not listen on {port}");
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        Self { ports, dir, child }
    }
}

impl Drop for Haproxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
