//! A small TCP load balancer for a test, standing in for HAProxy in TCP mode: it
//! listens on 127.0.0.1 (what clients know as `localhost`) on three ports (Passport,
//! Notification Server, Switchboard) and forwards each connection to the same port on
//! one of the backends (127.0.0.2, 127.0.0.3, …: each node binds its own loopback
//! address). A backend that refuses the connection (its node is dead) is skipped, as
//! HAProxy's `redispatch` does.
#![allow(dead_code)]
#![allow(clippy::unwrap_used)] // test scaffolding: a failed unwrap is a failed test

use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

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
        for n in 0..backends {
            if let Err(error) = std::net::TcpListener::bind((backend(n), 0)) {
                assert!(std::env::var_os("CI").is_none(), "cannot bind {}: {error}", backend(n));
                eprintln!("skipping: cannot bind {} ({error})", backend(n));
                return None;
            }
        }
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
