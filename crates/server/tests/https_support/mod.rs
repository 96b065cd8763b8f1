//! Raw HTTPS for tests that must control every TLS record: a tokio-rustls client
//! trusting the test server's CA, and helpers to read what the server answers.
#![allow(dead_code)]

use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

use crate::common::TestServer;

pub type Connection = TlsStream<TcpStream>;

/// A TLS connection to the server's HTTPS port, handshake done.
pub async fn connect(t: &TestServer) -> Connection {
    let config = t.trust.client_config().expect("client TLS config");
    let connector = TlsConnector::from(Arc::new((*config).clone()));
    let tcp = TcpStream::connect(t.server.passport_addr.unwrap()).await.expect("TCP connect");
    tcp.set_nodelay(true).expect("nodelay");
    let name = rustls::pki_types::ServerName::try_from("localhost").expect("a DNS name");
    connector.connect(name, tcp).await.expect("TLS handshake")
}

/// The head of a request whose body is to follow.
pub fn request_head(method: &str, path: &str, content_type: &str, content_length: usize) -> String {
    format!(
        "{method} {path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: {content_type}\r\n\
         Content-Length: {content_length}\r\n\r\n"
    )
}

/// Sends `bytes` as one TLS record (one write, flushed at once).
pub async fn send_record<W: AsyncWriteExt + Unpin>(connection: &mut W, bytes: &[u8]) -> std::io::Result<()> {
    connection.write_all(bytes).await?;
    connection.flush().await
}

/// What the server sent until it closed the connection (a TLS close, an EOF or a
/// reset all count as closed), or `None` if it was still open after `wait`.
pub async fn read_until_closed<R: AsyncReadExt + Unpin>(reader: &mut R, wait: Duration) -> Option<Vec<u8>> {
    let mut received = Vec::new();
    let read_all = async {
        let mut buffer = [0u8; 4096];
        loop {
            match reader.read(&mut buffer).await {
                Ok(0) | Err(_) => return,
                Ok(n) => received.extend_from_slice(&buffer[..n]),
            }
        }
    };
    tokio::time::timeout(wait, read_all).await.ok().map(|()| received)
}

/// This process's resident memory, from `/proc/self/status`, in bytes.
pub fn resident_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status (Linux)");
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).expect("a VmRSS line");
    let kib: u64 = line.split_whitespace().nth(1).and_then(|n| n.parse().ok()).expect("VmRSS in kB");
    kib * 1024
}
