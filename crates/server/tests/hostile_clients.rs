//! Slow and hostile clients against the real `mocha-server` program (its memory is
//! its own, measured from /proc): a slowloris on every port — thousands of
//! connections that finish TLS and then trickle their first command (NS, SB) or their
//! request headers (HTTPS) a byte every two seconds — plus a flood of connections
//! opened and dropped on every port, while a normal person's whole sign-in (Passport
//! over HTTPS, the Notification Server, a switchboard) is timed and bounded; and
//! clients that sign in and never read, which are dropped while the server's memory
//! stays bounded. (Trickled ClientHellos: handshake_stalls.rs; caps: connection_limits.rs.)
//!
//! The long version: `MOCHA_SLOWLORIS_CONNECTIONS=5000 cargo test -p mocha-server --test hostile_clients`.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

mod binary_support;

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use binary_support::Running;
use mocha_client::ns::NsConnection;
use mocha_client::sb::SbConnection;
use mocha_client::{PassportClient, Trust};
use rustls::pki_types::{CertificateDer, ServerName, pem::PemObject};
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpSocket, TcpStream};
use tokio::sync::Semaphore;

const PASSWORD: &str = "hostile-Passw0rd-long";
/// Slow connections per service (NS, SB, HTTPS), unless MOCHA_SLOWLORIS_CONNECTIONS says.
const SLOW_PER_SERVICE: usize = 700;
/// Spread over this many source addresses (127.0.0.2 up), so the per-address cap
/// alone does not stop them.
const SOURCES: usize = 40;
const TRICKLE_EVERY: Duration = Duration::from_secs(2);
/// A normal person's whole sign-in must take less than this during the attack.
const SIGN_IN_BUDGET: Duration = Duration::from_secs(2);

fn slow_per_service() -> usize {
    std::env::var("MOCHA_SLOWLORIS_CONNECTIONS").ok().and_then(|v| v.parse().ok()).unwrap_or(SLOW_PER_SERVICE)
}

fn tls_connector(data_dir: &Path) -> tokio_rustls::TlsConnector {
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(data_dir.join("tls/ca.pem")).unwrap() {
        roots.add(cert.unwrap()).unwrap();
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13])
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    tokio_rustls::TlsConnector::from(Arc::new(config))
}

async fn connect_from(source: [u8; 4], to: SocketAddr) -> std::io::Result<TcpStream> {
    let socket = TcpSocket::new_v4()?;
    socket.bind(SocketAddr::from((source, 0)))?;
    socket.connect(to).await
}

/// The server's resident memory, in KiB.
fn resident_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

struct Ports {
    passport: PassportClient,
    trust: Trust,
    ns: SocketAddr,
    sb: SocketAddr,
    https: SocketAddr,
}

fn ports(server: &Running, data_dir: &Path) -> Ports {
    let (passport, trust) = server.passport(data_dir);
    let at = |label| SocketAddr::from(([127, 0, 0, 1], server.port(label)));
    Ports {
        passport,
        trust,
        ns: at("Notification Server"),
        sb: at("Switchboard"),
        https: at("Passport and web pages"),
    }
}

/// A whole sign-in as the messenger does it: Passport, the NS, then a switchboard. Timed.
async fn timed_sign_in(ports: &Ports, username: &str) -> Duration {
    let started = Instant::now();
    let attempt = async {
        let tokens = ports.passport.sign_in(username, PASSWORD).await.unwrap();
        let mut ns = NsConnection::connect(ports.ns, "localhost", &ports.trust).await.unwrap();
        let me = ns.sign_in(&tokens.session_token).await.unwrap();
        let referral = ns.request_switchboard().await.unwrap();
        let sb =
            SbConnection::open(&referral.address, &referral.ticket, me.user_id, &ports.trust).await.unwrap();
        (ns, sb)
    };
    let conversation =
        tokio::time::timeout(Duration::from_secs(60), attempt).await.expect("signed in at all");
    let took = started.elapsed();
    drop(conversation);
    took
}

/// What each slow connection sends, a byte at a time, after its TLS handshake.
fn trickled(service: &str) -> &'static [u8] {
    match service {
        "HTTPS" => b"GET / HTTP/1.1\r\nHost: localhost\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        _ => b"VER 1 MENP/1 aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slowloris_and_a_flood_on_every_port_do_not_stop_a_normal_sign_in() {
    let limit = mocha_server::raise_open_file_limit().unwrap();
    let per_service = slow_per_service().min((limit.now as usize).saturating_sub(1000) / 3);
    assert!(per_service >= 300, "the open-file limit ({}) is too low for this test", limit.now);
    let dir = tempfile::tempdir().unwrap();
    // Generous deadlines, so the slow connections stay for the whole measurement.
    let server = Running::start(
        dir.path(),
        &[
            "--sign-in-seconds",
            "120",
            "--http-request-seconds",
            "120",
            "--sign-in-attempts-per-address",
            "1000",
        ],
    );
    let ports = ports(&server, dir.path());
    ports.passport.register("alice@example.com", "Alice", PASSWORD).await.unwrap();
    let quiet = timed_sign_in(&ports, "alice@example.com").await;
    let memory_before = resident_kib(server.child.id());

    // The slow connections: TLS done, then a byte every TRICKLE_EVERY.
    let connector = tls_connector(dir.path());
    let handshakes = Arc::new(Semaphore::new(32));
    let mut opening = Vec::new();
    for (service, addr) in [("NS", ports.ns), ("SB", ports.sb), ("HTTPS", ports.https)] {
        for i in 0..per_service {
            let (connector, handshakes) = (connector.clone(), handshakes.clone());
            opening.push(tokio::spawn(async move {
                let _turn = handshakes.acquire_owned().await.unwrap();
                let source = [127, 0, 1, 2 + (i % SOURCES) as u8];
                let tcp = connect_from(source, addr).await.unwrap();
                let name = ServerName::try_from("localhost").unwrap();
                let tls = connector.connect(name, tcp).await.unwrap();
                (service, tls)
            }));
        }
    }
    let mut slow = Vec::new();
    for opened in opening {
        slow.push(opened.await.unwrap());
    }
    let stop = Arc::new(AtomicBool::new(false));
    let trickled_bytes = Arc::new(AtomicUsize::new(0));
    let trickle = tokio::spawn({
        let (stop, trickled_bytes) = (stop.clone(), trickled_bytes.clone());
        async move {
            let mut at = 0;
            while !stop.load(Ordering::Relaxed) {
                for (service, tls) in &mut slow {
                    let bytes = trickled(service);
                    if tls.write_all(&bytes[at % bytes.len()..][..1]).await.is_ok()
                        && tls.flush().await.is_ok()
                    {
                        trickled_bytes.fetch_add(1, Ordering::Relaxed);
                    }
                }
                at += 1;
                tokio::time::sleep(TRICKLE_EVERY).await;
            }
            slow.len()
        }
    });
    // The flood: connections opened and dropped on every port, as fast as they go.
    let flooded = Arc::new(AtomicUsize::new(0));
    let mut floods = Vec::new();
    for (n, addr) in [ports.ns, ports.sb, ports.https].into_iter().enumerate() {
        for task in 0..4u8 {
            let (stop, flooded) = (stop.clone(), flooded.clone());
            floods.push(tokio::spawn(async move {
                while !stop.load(Ordering::Relaxed) {
                    if connect_from([127, 0, 2, 2 + n as u8 * 4 + task], addr).await.is_ok() {
                        flooded.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }));
        }
    }
    // A second trickle round has gone out (and reached connections still open).
    tokio::time::sleep(TRICKLE_EVERY + Duration::from_millis(500)).await;

    let mut during = Vec::new();
    for _ in 0..5 {
        during.push(timed_sign_in(&ports, "alice@example.com").await);
    }
    let memory_during = resident_kib(server.child.id());
    stop.store(true, Ordering::Relaxed);
    for flood in floods {
        flood.await.unwrap();
    }
    let slow_count = trickle.await.unwrap();
    let worst = *during.iter().max().unwrap();
    let trickled_bytes = trickled_bytes.load(Ordering::Relaxed);
    eprintln!(
        "whole sign-in alone {quiet:?}; with {slow_count} slow connections ({per_service} per service) and \
         {} flooded connections: {during:?} (worst {worst:?}); server memory {} MiB before, {} MiB during; \
         {trickled_bytes} trickled bytes",
        flooded.load(Ordering::Relaxed),
        memory_before / 1024,
        memory_during / 1024,
    );
    assert!(trickled_bytes >= slow_count * 2, "the slow connections stayed open and trickling");
    assert!(flooded.load(Ordering::Relaxed) > 100, "the flood ran");
    assert!(worst < SIGN_IN_BUDGET, "a normal sign-in took {worst:?} during the attack: {during:?}");
    server.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clients_that_never_read_are_dropped_and_the_servers_memory_stays_bounded() {
    const NEVER_READING: usize = 20;
    const NOTICE_BYTES: usize = 1000;
    let dir = tempfile::tempdir().unwrap();
    let server = Running::start(dir.path(), &["--sign-in-attempts-per-address", "1000"]);
    let ports = ports(&server, dir.path());
    ports.passport.register("root@example.com", "Root", PASSWORD).await.unwrap();
    let granted = std::process::Command::new(env!("CARGO_BIN_EXE_mocha-server"))
        .arg("--data-dir")
        .arg(dir.path())
        .args(["admin", "grant", "root@example.com"])
        .output()
        .unwrap();
    assert!(granted.status.success(), "{}", String::from_utf8_lossy(&granted.stderr));
    let root = ports.passport.sign_in("root@example.com", PASSWORD).await.unwrap();

    let mut deaf = Vec::new();
    for i in 0..NEVER_READING {
        let username = format!("deaf{i}@example.com");
        ports.passport.register(&username, "Deaf", PASSWORD).await.unwrap();
        let tokens = ports.passport.sign_in(&username, PASSWORD).await.unwrap();
        let mut ns = NsConnection::connect(ports.ns, "localhost", &ports.trust).await.unwrap();
        ns.sign_in(&tokens.session_token).await.unwrap();
        deaf.push(ns); // never read again
    }
    let online = |status: mocha_client::api::StatusReport| {
        status.services.iter().find(|s| s.name == "notification").and_then(|s| s.online_users).unwrap()
    };
    assert_eq!(online(ports.passport.status().await.unwrap()), NEVER_READING as u64);
    let memory_before = resident_kib(server.child.id());

    // Notices go to everyone signed in; theirs pile up until the server gives up on them.
    let text = "n".repeat(NOTICE_BYTES);
    let (mut posted, mut peak) = (0usize, memory_before);
    while online(ports.passport.status().await.unwrap()) > 0 {
        assert!(posted < 20_000, "the never-reading clients were never dropped");
        for _ in 0..50 {
            ports.passport.post_notice(&root.session_token, &text).await.unwrap();
            posted += 1;
        }
        peak = peak.max(resident_kib(server.child.id()));
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let memory_after = resident_kib(server.child.id());
    let queued = (posted * NOTICE_BYTES * NEVER_READING) as u64 / 1024;
    eprintln!(
        "{NEVER_READING} never-reading clients dropped after {posted} notices ({} MiB sent their way); server memory \
         {} MiB before, {} MiB at the peak, {} MiB after",
        queued / 1024,
        memory_before / 1024,
        peak / 1024,
        memory_after / 1024
    );
    // Each client's queue is bounded: the peak stays far below what was sent their way.
    assert!(peak.saturating_sub(memory_before) < 64 * 1024, "memory grew by {} KiB", peak - memory_before);
    assert!(queued > 2 * (peak.saturating_sub(memory_before)), "more was sent than the server kept");
    drop(deaf);
    server.stop();
}
