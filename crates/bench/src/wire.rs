//! The load generator's MENP/1 transport: TLS connections that share one rustls
//! configuration, pick their source address among several 127.0.0.x (one address has
//! only ~28k ephemeral ports), and split into a reader and a writer so a client can
//! send on a schedule while its replies and pushes are read by another task.
//!
//! Frames are built and parsed with `mocha-proto`'s typed commands, and certificates
//! are verified with `mocha-client`'s [`Trust`] (the server's CA, full verification),
//! exactly as real clients do. `mocha-client`'s own connections cannot be used for
//! this: they build a fresh TLS configuration (and load the system roots) on every
//! connect, cannot choose a source address, and read only from the task that writes.

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use anyhow::Context;
use bytes::BytesMut;
use mocha_client::Trust;
use mocha_proto::{Frame, FrameError, Limits};
use rustls::pki_types::ServerName;
use tokio::io::{AsyncReadExt, AsyncWriteExt, ReadHalf, WriteHalf};
use tokio::net::{TcpSocket, TcpStream};
use tokio_rustls::TlsConnector;

type Tls = tokio_rustls::client::TlsStream<TcpStream>;

#[derive(Debug, thiserror::Error)]
pub enum WireError {
    #[error(transparent)]
    Io(#[from] io::Error),
    #[error(transparent)]
    Frame(#[from] FrameError),
    #[error("the server closed the connection")]
    Closed,
    #[error("no reply within {0:?}")]
    Timeout(Duration),
    #[error("unexpected reply: {0}")]
    Unexpected(String),
}

/// Opens TLS connections to the server under test.
pub struct Dialer {
    connector: TlsConnector,
    server_name: ServerName<'static>,
    sources: Vec<IpAddr>,
    next_source: AtomicUsize,
}

impl Dialer {
    /// Trusts the CA in `ca` (PEM) for certificates naming `server_name`. With several
    /// `sources`, connections take them in turn as their local address.
    pub fn new(ca: &Path, server_name: &str, sources: Vec<IpAddr>) -> anyhow::Result<Self> {
        Self::trusting(&[ca], server_name, sources)
    }

    /// Like [`Dialer::new`], trusting every CA in `cas` (a cluster's nodes each have one).
    pub fn trusting(cas: &[&Path], server_name: &str, sources: Vec<IpAddr>) -> anyhow::Result<Self> {
        let mut trust = Trust::system();
        for ca in cas {
            trust = trust.with_pem_file(ca).context("cannot read the server's CA")?;
        }
        let config = trust.client_config().context("cannot build the TLS configuration")?;
        let server_name =
            ServerName::try_from(server_name.to_string()).context("not a valid TLS server name")?;
        Ok(Self {
            connector: TlsConnector::from(config),
            server_name,
            sources,
            next_source: AtomicUsize::new(0),
        })
    }

    pub async fn connect(&self, address: SocketAddr) -> Result<Conn, WireError> {
        let tcp = if self.sources.is_empty() {
            TcpStream::connect(address).await?
        } else {
            let source = self.sources[self.next_source.fetch_add(1, Ordering::Relaxed) % self.sources.len()];
            let socket = if source.is_ipv4() { TcpSocket::new_v4()? } else { TcpSocket::new_v6()? };
            choose_port_at_connect(&socket)?;
            socket.bind(SocketAddr::new(source, 0))?;
            socket.connect(address).await?
        };
        tcp.set_nodelay(true)?;
        let tls = self.connector.connect(self.server_name.clone(), tcp).await?;
        let (read, write) = tokio::io::split(tls);
        Ok(Conn {
            reader: Reader { read, buffer: BytesMut::with_capacity(4096), limits: Limits::default() },
            writer: Writer { write, buffer: BytesMut::new(), last_trid: 0 },
        })
    }
}

/// Has Linux pick the source port at `connect` (by the whole address 4-tuple) instead
/// of at `bind`. `bind(address, 0)` searches for a free port among every socket bound to
/// that address, which grows with the sockets a generator holds: with 16,000 held, a
/// storm's reconnects spent 88 % of both cores in `inet_bhash2_conflict` and its
/// neighbours (`perf record -a`), and the storm measured the generator, not the cluster.
#[cfg(target_os = "linux")]
fn choose_port_at_connect(socket: &TcpSocket) -> io::Result<()> {
    use nix::sys::socket::{setsockopt, sockopt::IpBindAddressNoPort};
    setsockopt(socket, IpBindAddressNoPort, &true).map_err(io::Error::from)
}

#[cfg(not(target_os = "linux"))]
fn choose_port_at_connect(_: &TcpSocket) -> io::Result<()> {
    Ok(())
}

/// Source addresses for `connections` connections: one 127.0.0.x per 25,000.
pub fn loopback_sources(connections: usize, explicit: usize) -> Vec<IpAddr> {
    let count = if explicit > 0 { explicit } else { connections.div_ceil(25_000) };
    if count <= 1 {
        return Vec::new();
    }
    (1..=count.min(254)).map(|i| IpAddr::from([127, 0, 0, i as u8])).collect()
}

pub struct Reader {
    read: ReadHalf<Tls>,
    buffer: BytesMut,
    limits: Limits,
}

impl Reader {
    /// The next frame. Cancel-safe: bytes already read stay buffered.
    pub async fn frame(&mut self) -> Result<Frame, WireError> {
        loop {
            if let Some(frame) = Frame::decode(&mut self.buffer, &self.limits)? {
                return Ok(frame);
            }
            self.buffer.reserve(4096);
            if self.read.read_buf(&mut self.buffer).await? == 0 {
                return Err(WireError::Closed);
            }
        }
    }

    /// Reads until `pick` accepts a frame, passing every other frame to `other`.
    pub async fn until<T>(
        &mut self,
        timeout: Duration,
        mut pick: impl FnMut(&Frame) -> Option<T>,
        mut other: impl FnMut(Frame),
    ) -> Result<T, WireError> {
        let wait = async {
            loop {
                let frame = self.frame().await?;
                if frame.command.as_str() == "ERR" && frame.trid != 0 || frame.command.as_str() == "OUT" {
                    if let Some(picked) = pick(&frame) {
                        return Ok(picked);
                    }
                    return Err(WireError::Unexpected(frame.to_string()));
                }
                match pick(&frame) {
                    Some(picked) => return Ok(picked),
                    None => other(frame),
                }
            }
        };
        tokio::time::timeout(timeout, wait).await.map_err(|_| WireError::Timeout(timeout))?
    }
}

pub struct Writer {
    write: WriteHalf<Tls>,
    buffer: BytesMut,
    last_trid: u32,
}

impl Writer {
    /// A fresh transaction id (never 0).
    pub fn trid(&mut self) -> u32 {
        self.last_trid = self.last_trid.checked_add(1).unwrap_or(1);
        self.last_trid
    }

    pub async fn send(&mut self, frame: &Frame) -> Result<(), WireError> {
        self.buffer.clear();
        frame.encode(&mut self.buffer);
        self.write.write_all(&self.buffer).await?;
        self.write.flush().await?;
        Ok(())
    }

    /// Sends several frames in one write (pipelining), then flushes once.
    pub async fn send_all(&mut self, frames: &[Frame]) -> Result<(), WireError> {
        self.buffer.clear();
        for frame in frames {
            frame.encode(&mut self.buffer);
        }
        self.write.write_all(&self.buffer).await?;
        self.write.flush().await?;
        Ok(())
    }

    pub async fn shutdown(&mut self) {
        let _ = self.write.shutdown().await;
    }
}

pub struct Conn {
    pub reader: Reader,
    pub writer: Writer,
}

impl Conn {
    /// Sends `frame` and waits for the frame with its transaction id (an `ERR` for it is
    /// an error); pushes read meanwhile go to `pushes`.
    pub async fn request(
        &mut self,
        frame: Frame,
        timeout: Duration,
        pushes: impl FnMut(Frame),
    ) -> Result<Frame, WireError> {
        let trid = frame.trid;
        self.writer.send(&frame).await?;
        let reply = self.reader.until(timeout, |f| (f.trid == trid).then(|| f.clone()), pushes).await?;
        if reply.command.as_str() == "ERR" {
            return Err(WireError::Unexpected(reply.to_string()));
        }
        Ok(reply)
    }
}
