//! The server's own TLS (rustls' unbuffered API) against a stock rustls client over
//! real TCP: bytes both ways in every size, a key update, a clean close, and frames
//! written by the tasks that produce them arriving whole and in order, and no bytes
//! left unread by a server that reads slower than the client writes.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::BytesMut;
use mocha_net::{ListenerLimits, Outbox, TlsConnection, serve_tls, write_frames};
use mocha_proto::{Command, Frame, Limits};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;
use tokio_util::sync::CancellationToken;

const TIMEOUT: Duration = Duration::from_secs(20);

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

struct Certificate {
    der: CertificateDer<'static>,
    key: PrivatePkcs8KeyDer<'static>,
}

fn certificate() -> Certificate {
    let key = rcgen::KeyPair::generate().unwrap();
    let cert =
        rcgen::CertificateParams::new(vec!["localhost".to_string()]).unwrap().self_signed(&key).unwrap();
    Certificate { der: cert.der().clone(), key: PrivatePkcs8KeyDer::from(key.serialize_der()) }
}

/// Serves `handle` for every connection on a loopback port.
async fn serve<F, Fut>(handle: F) -> (SocketAddr, CertificateDer<'static>, CancellationToken)
where
    F: Fn(TlsConnection) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let Certificate { der, key } = certificate();
    let config = rustls::ServerConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&rustls::version::TLS13])
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![der.clone()], PrivateKeyDer::Pkcs8(key))
        .unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let shutdown = CancellationToken::new();
    let serving = shutdown.clone();
    tokio::spawn(async move {
        serve_tls(
            "test",
            listener,
            Arc::new(config),
            ListenerLimits::default(),
            serving,
            move |stream, _| handle.clone()(stream),
        )
        .await;
    });
    (address, der, shutdown)
}

async fn connect(address: SocketAddr, cert: &CertificateDer<'static>) -> TlsStream<TcpStream> {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(cert.clone()).unwrap();
    let config = rustls::ClientConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&rustls::version::TLS13])
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let tcp = TcpStream::connect(address).await.unwrap();
    let name = ServerName::try_from("localhost").unwrap();
    TlsConnector::from(Arc::new(config)).connect(name, tcp).await.unwrap()
}

/// Sends back everything it reads, then closes when the client does.
async fn echo(stream: TlsConnection) {
    let (mut read, mut write) = stream.into_split();
    let mut buffer = vec![0; 10_000];
    loop {
        let n = read.read(&mut buffer).await.unwrap();
        if n == 0 {
            break;
        }
        write.write_all(&buffer[..n]).await.unwrap();
        write.flush().await.unwrap();
    }
    write.shutdown().await.unwrap();
}

fn pattern(len: usize, seed: u8) -> Vec<u8> {
    (0..len).map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed)).collect()
}

async fn round_trip(client: &mut TlsStream<TcpStream>, sent: &[u8]) {
    let (mut read, mut write) = tokio::io::split(client);
    let writing = async {
        write.write_all(sent).await.unwrap();
        write.flush().await.unwrap();
    };
    let mut got = vec![0; sent.len()];
    let reading = read.read_exact(&mut got);
    let ((), read) = tokio::time::timeout(TIMEOUT, async { tokio::join!(writing, reading) }).await.unwrap();
    read.unwrap();
    assert!(got == sent, "{} bytes came back changed", sent.len());
}

#[tokio::test]
async fn bytes_of_every_size_come_back_whole_and_the_close_is_clean() {
    let (address, cert, _shutdown) = serve(echo).await;
    let mut client = connect(address, &cert).await;
    for (seed, len) in
        [1, 2, 100, 4095, 4096, 4097, 16_384, 16_385, 70_000, 1_000_000].into_iter().enumerate()
    {
        round_trip(&mut client, &pattern(len, seed as u8)).await;
    }
    client.shutdown().await.unwrap();
    let mut rest = Vec::new();
    let closed = tokio::time::timeout(TIMEOUT, client.read_to_end(&mut rest)).await.unwrap();
    closed.expect("the server closes with close_notify, not a bare FIN");
    assert!(rest.is_empty());
}

#[tokio::test]
async fn a_key_update_from_the_client_is_answered_and_traffic_goes_on() {
    let (address, cert, _shutdown) = serve(echo).await;
    let mut client = connect(address, &cert).await;
    round_trip(&mut client, b"before").await;
    for round in 0..3u8 {
        // Asks the server to update its keys too: what it sends next must use them.
        client.get_mut().1.refresh_traffic_keys().unwrap();
        round_trip(&mut client, &pattern(30_000, round)).await;
    }
}

#[tokio::test]
async fn a_connection_that_sends_garbage_instead_of_a_hello_is_dropped() {
    let (address, cert, _shutdown) = serve(echo).await;
    let mut tcp = TcpStream::connect(address).await.unwrap();
    tcp.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").await.unwrap();
    let mut rest = Vec::new();
    let _ =
        tokio::time::timeout(TIMEOUT, tcp.read_to_end(&mut rest)).await.expect("closed, not left hanging");
    // And the listener still serves others.
    let mut client = connect(address, &cert).await;
    round_trip(&mut client, b"still here").await;
}

fn numbered(trid: u32, size: usize) -> Frame {
    Frame::new(Command::MSG, trid).arg("u1").with_payload(pattern(size, trid as u8))
}

/// Pushes `count` frames from four tasks at once (each its own run of transaction ids)
/// into an outbox whose writer sends them over the TLS connection.
async fn push_frames(stream: TlsConnection, count: u32, size: usize) {
    let (_read, write) = stream.into_split();
    let (outbox, receivers) = Outbox::new(100_000, 4);
    let writer = tokio::spawn(write_frames(write, receivers.frames));
    let mut producers = Vec::new();
    for lane in 0..4 {
        let outbox = outbox.clone();
        producers.push(tokio::spawn(async move {
            for i in 0..count / 4 {
                outbox.push(numbered(lane * 1_000_000 + i, size));
                if i % 64 == 0 {
                    tokio::task::yield_now().await;
                }
            }
        }));
    }
    for producer in producers {
        producer.await.unwrap();
    }
    drop(outbox);
    tokio::time::timeout(TIMEOUT, writer).await.unwrap().unwrap().unwrap();
}

async fn read_frames(client: &mut TlsStream<TcpStream>) -> Vec<Frame> {
    let mut bytes = Vec::new();
    tokio::time::timeout(TIMEOUT, client.read_to_end(&mut bytes)).await.unwrap().unwrap();
    let mut buffer = BytesMut::from(&bytes[..]);
    let mut frames = Vec::new();
    while let Some(frame) = Frame::decode(&mut buffer, &Limits::default()).unwrap() {
        frames.push(frame);
    }
    assert!(buffer.is_empty(), "no partial frame at the end");
    frames
}

fn assert_in_order_and_whole(frames: &[Frame], count: u32, size: usize) {
    assert_eq!(frames.len(), count as usize, "every frame arrived");
    let mut next = [0u32; 4];
    for frame in frames {
        let (lane, i) = ((frame.trid / 1_000_000) as usize, frame.trid % 1_000_000);
        assert_eq!(i, next[lane], "frames from one producer arrive in the order pushed");
        next[lane] += 1;
        assert_eq!(frame.payload.as_deref(), Some(&pattern(size, frame.trid as u8)[..]));
    }
}

#[tokio::test]
async fn frames_pushed_by_many_tasks_arrive_whole_and_in_order() {
    let (address, cert, _shutdown) = serve(|stream| push_frames(stream, 20_000, 100)).await;
    let mut client = connect(address, &cert).await;
    let frames = read_frames(&mut client).await;
    assert_in_order_and_whole(&frames, 20_000, 100);
}

#[tokio::test]
async fn frames_pushed_at_a_client_that_reads_late_queue_and_arrive_in_order() {
    // 8 MB: far more than the socket buffers hold, so the writer waits for the client.
    let (address, cert, _shutdown) = serve(|stream| push_frames(stream, 8_000, 1_000)).await;
    let mut client = connect(address, &cert).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let frames = read_frames(&mut client).await;
    assert_in_order_and_whole(&frames, 8_000, 1_000);
}

/// Reads `total` bytes in small reads, pausing now and then so the client's writes
/// back up into full socket buffers, then says how many arrived.
async fn count_slowly(stream: TlsConnection, total: usize) {
    let (mut read, mut write) = stream.into_split();
    let mut buffer = vec![0; 16_384];
    let mut got = 0;
    let mut reads = 0u32;
    while got < total {
        let n = read.read(&mut buffer).await.unwrap();
        assert!(n > 0, "the client closed early");
        got += n;
        reads += 1;
        if reads.is_multiple_of(8) {
            tokio::task::yield_now().await;
        }
    }
    write.write_all(format!("{got}\n").as_bytes()).await.unwrap();
    write.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bytes_that_arrive_while_the_server_is_reading_are_never_left_unread() {
    // The client writes faster than the server reads, so the socket keeps filling while
    // the server is between a read and its next wait. Bytes whose arrival the server
    // missed would lie unread (nothing more comes once the buffers are full), and the
    // client would wait for its count for ever.
    const TOTAL: usize = 4 * 1024 * 1024;
    let (address, cert, _shutdown) = serve(|stream| count_slowly(stream, TOTAL)).await;
    for round in 0..30 {
        let mut client = connect(address, &cert).await;
        let chunk = pattern(65_536, round as u8);
        let exchange = async {
            for _ in 0..TOTAL / chunk.len() {
                client.write_all(&chunk).await.unwrap();
            }
            client.flush().await.unwrap();
            let mut reply = String::new();
            client.read_to_string(&mut reply).await.unwrap();
            reply
        };
        let reply = tokio::time::timeout(Duration::from_secs(10), exchange)
            .await
            .unwrap_or_else(|_| panic!("round {round}: the server stopped reading"));
        assert_eq!(reply.trim(), TOTAL.to_string(), "round {round}");
    }
}
