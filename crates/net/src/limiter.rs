//! Caps on open connections — in all and per client address — checked the moment a
//! TCP connection is accepted, before any TLS, so a connection over a cap costs one
//! accept and one close. Also how an accept loop waits when accepting fails (usually:
//! out of file descriptors), so it neither spins nor floods the log.
//!
//! Every accept loop (the NS, the SB, HTTPS) owns one [`ConnectionLimiter`] and calls
//! [`ConnectionLimiter::accept`] in place of `TcpListener::accept`; the
//! [`ConnectionPermit`] it hands out travels with the connection and gives its place
//! back when dropped.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio::time::Instant;

/// How many connections one service keeps open at most.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConnectionLimits {
    /// Open connections in all, from everyone.
    pub max_connections: usize,
    /// Open connections from one address (an IPv6 client counts by its /64 network,
    /// which one machine usually has to itself).
    pub max_per_address: usize,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        Self { max_connections: 10_000, max_per_address: 256 }
    }
}

/// Which cap refused a connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("the service has as many connections as it allows")]
    Total,
    #[error("that address has as many connections as one address may")]
    PerAddress,
}

/// Counts of open connections; see the module comment.
pub struct ConnectionLimiter {
    service: &'static str,
    shared: Arc<Shared>,
    backoff: Backoff,
    refused: Throttled,
    failed: Throttled,
}

struct Shared {
    limits: ConnectionLimits,
    counts: Mutex<Counts>,
}

#[derive(Default)]
struct Counts {
    total: usize,
    per_address: HashMap<IpAddr, usize>,
}

impl Shared {
    fn counts(&self) -> MutexGuard<'_, Counts> {
        self.counts.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// One admitted connection's place under the caps; dropping it frees the place.
pub struct ConnectionPermit {
    shared: Arc<Shared>,
    address: IpAddr,
}

impl Drop for ConnectionPermit {
    fn drop(&mut self) {
        let mut counts = self.shared.counts();
        counts.total = counts.total.saturating_sub(1);
        if let Some(open) = counts.per_address.get_mut(&self.address) {
            *open = open.saturating_sub(1);
            if *open == 0 {
                counts.per_address.remove(&self.address);
            }
        }
    }
}

/// Refusals and accept failures are logged at most once per this interval, with a count.
const LOG_INTERVAL: Duration = Duration::from_secs(10);

impl ConnectionLimiter {
    /// `service` names the loop in logs.
    pub fn new(service: &'static str, limits: ConnectionLimits) -> Self {
        Self {
            service,
            shared: Arc::new(Shared { limits, counts: Mutex::default() }),
            backoff: Backoff::default(),
            refused: Throttled::default(),
            failed: Throttled::default(),
        }
    }

    pub fn limits(&self) -> ConnectionLimits {
        self.shared.limits
    }

    /// Connections open now.
    pub fn open(&self) -> usize {
        self.shared.counts().total
    }

    /// Takes a place for a connection from `peer`, if both caps allow it.
    pub fn try_admit(&self, peer: IpAddr) -> Result<ConnectionPermit, Refusal> {
        let limits = self.shared.limits;
        let address = address_key(peer);
        let mut counts = self.shared.counts();
        if counts.total >= limits.max_connections {
            return Err(Refusal::Total);
        }
        let from_address = counts.per_address.entry(address).or_insert(0);
        if *from_address >= limits.max_per_address {
            return Err(Refusal::PerAddress);
        }
        *from_address += 1;
        counts.total += 1;
        drop(counts);
        Ok(ConnectionPermit { shared: self.shared.clone(), address })
    }

    /// The next connection the caps allow. Connections over a cap are closed at once;
    /// when accepting fails the loop pauses, longer each time in a row (10 ms doubling
    /// to 1 s). Both are logged once per [`LOG_INTERVAL`] with how many there were.
    /// Cancel-safe: it awaits only the accept and the pause.
    pub async fn accept(&mut self, listener: &TcpListener) -> (TcpStream, SocketAddr, ConnectionPermit) {
        let service = self.service;
        loop {
            match listener.accept().await {
                Ok((tcp, peer)) => {
                    metrics::counter!("mocha_connections_accepted_total", "service" => service).increment(1);
                    self.backoff.reset();
                    match self.try_admit(peer.ip()) {
                        Ok(permit) => return (tcp, peer, permit),
                        Err(refusal) => {
                            metrics::counter!("mocha_connections_refused_total", "service" => service, "cap" => if refusal == Refusal::Total { "total" } else { "per_address" }).increment(1);
                            drop(tcp);
                            if let Some(count) = self.refused.note(Instant::now()) {
                                let limits = self.shared.limits;
                                tracing::warn!(
                                    service,
                                    %peer,
                                    count,
                                    max_connections = limits.max_connections,
                                    max_per_address = limits.max_per_address,
                                    "refused connections over the cap ({refusal}); latest from {peer}"
                                );
                            }
                        }
                    }
                }
                Err(error) => {
                    let pause = self.backoff.next_pause();
                    if let Some(count) = self.failed.note(Instant::now()) {
                        tracing::warn!(
                            service,
                            %error,
                            count,
                            pause_ms = pause.as_millis(),
                            "accepting connections failed; pausing"
                        );
                    }
                    tokio::time::sleep(pause).await;
                }
            }
        }
    }
}

/// What counts as one address: an IPv4 address, or an IPv6 /64 network (IPv4-mapped
/// IPv6 addresses count as the IPv4 address they carry).
fn address_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(Ipv6Addr::from(v6.to_bits() & !u128::from(u64::MAX))),
        },
    }
}

/// Pauses after accept failures in a row: 10 ms, doubling, at most 1 s.
#[derive(Default)]
struct Backoff {
    failures: u32,
}

impl Backoff {
    const FIRST: Duration = Duration::from_millis(10);
    const MOST: Duration = Duration::from_secs(1);

    fn next_pause(&mut self) -> Duration {
        let pause = Self::FIRST.saturating_mul(1 << self.failures.min(16)).min(Self::MOST);
        self.failures = self.failures.saturating_add(1);
        pause
    }

    fn reset(&mut self) {
        self.failures = 0;
    }
}

/// Counts events and says when to log them: the first one, then at most once per
/// [`LOG_INTERVAL`], with how many happened since the last log line.
#[derive(Default)]
struct Throttled {
    last_logged: Option<Instant>,
    unlogged: u64,
}

impl Throttled {
    fn note(&mut self, now: Instant) -> Option<u64> {
        self.unlogged += 1;
        let due = self.last_logged.is_none_or(|last| now.duration_since(last) >= LOG_INTERVAL);
        if !due {
            return None;
        }
        self.last_logged = Some(now);
        Some(std::mem::take(&mut self.unlogged))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn caps_count_open_connections_and_dropping_a_permit_frees_its_place() {
        let limiter =
            ConnectionLimiter::new("test", ConnectionLimits { max_connections: 3, max_per_address: 2 });
        let a1 = limiter.try_admit(ip("10.0.0.1")).unwrap();
        let _a2 = limiter.try_admit(ip("10.0.0.1")).unwrap();
        assert_eq!(limiter.try_admit(ip("10.0.0.1")).err(), Some(Refusal::PerAddress));
        let _b1 = limiter.try_admit(ip("10.0.0.2")).unwrap();
        assert_eq!(limiter.try_admit(ip("10.0.0.3")).err(), Some(Refusal::Total));
        assert_eq!(limiter.open(), 3);
        drop(a1);
        assert_eq!(limiter.open(), 2);
        let _c1 = limiter.try_admit(ip("10.0.0.3")).unwrap();
        assert_eq!(limiter.try_admit(ip("10.0.0.1")).err(), Some(Refusal::Total));
    }

    #[test]
    fn an_ipv6_network_counts_as_one_address_and_mapped_ipv4_as_its_ipv4() {
        let limiter =
            ConnectionLimiter::new("test", ConnectionLimits { max_connections: 100, max_per_address: 1 });
        let _one = limiter.try_admit(ip("2001:db8:1:2::1")).unwrap();
        assert_eq!(limiter.try_admit(ip("2001:db8:1:2:ffff::9")).err(), Some(Refusal::PerAddress));
        let _other_network = limiter.try_admit(ip("2001:db8:1:3::1")).unwrap();
        let _v4 = limiter.try_admit(ip("192.0.2.7")).unwrap();
        assert_eq!(limiter.try_admit(ip("::ffff:192.0.2.7")).err(), Some(Refusal::PerAddress));
    }

    #[test]
    fn accept_failures_back_off_up_to_a_second_and_start_over_after_a_success() {
        let mut backoff = Backoff::default();
        let pauses: Vec<u128> = (0..10).map(|_| backoff.next_pause().as_millis()).collect();
        assert_eq!(pauses, [10, 20, 40, 80, 160, 320, 640, 1000, 1000, 1000]);
        backoff.reset();
        assert_eq!(backoff.next_pause(), Duration::from_millis(10));
    }

    #[test]
    fn floods_are_logged_once_per_interval_with_a_count() {
        let mut throttled = Throttled::default();
        let start = Instant::now();
        assert_eq!(throttled.note(start), Some(1));
        for i in 1..500 {
            assert_eq!(throttled.note(start + Duration::from_millis(i * 10)), None);
        }
        assert_eq!(throttled.note(start + LOG_INTERVAL), Some(500));
        assert_eq!(throttled.note(start + LOG_INTERVAL + Duration::from_millis(1)), None);
    }

    #[tokio::test]
    async fn a_connection_over_the_cap_is_closed_before_anything_is_read() {
        use tokio::io::AsyncReadExt;
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let mut limiter =
            ConnectionLimiter::new("test", ConnectionLimits { max_connections: 1, max_per_address: 1 });
        let _first_client = TcpStream::connect(address).await.unwrap();
        let (_first, _, permit) = limiter.accept(&listener).await;
        let mut refused = TcpStream::connect(address).await.unwrap();
        // The limiter closes the second connection and keeps waiting; it takes the
        // next one once the first has gone.
        let accept = tokio::spawn(async move {
            let (_tcp, peer, permit) = limiter.accept(&listener).await;
            (peer, permit, limiter)
        });
        let mut byte = [0u8; 1];
        let read = tokio::time::timeout(Duration::from_secs(5), refused.read(&mut byte)).await.unwrap();
        assert!(matches!(read, Ok(0) | Err(_)), "the refused connection is closed: {read:?}");
        assert!(!accept.is_finished());
        drop(permit);
        let third = TcpStream::connect(address).await.unwrap();
        let (peer, _permit, limiter) =
            tokio::time::timeout(Duration::from_secs(5), accept).await.unwrap().unwrap();
        assert_eq!(peer, third.local_addr().unwrap());
        assert_eq!(limiter.open(), 1);
    }
}
