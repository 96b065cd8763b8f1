//! One MENP/1 connection over TLS, for either service: sends frames with increasing
//! transaction ids, waits for the replies with the same id, and keeps every push that
//! arrives meanwhile, in order, for [`MenpConnection::next_push`]. It reads only when
//! asked to; a long-lived client runs it in its own task and turns pushes into events.

use std::collections::VecDeque;
use std::time::Duration;

use bytes::BytesMut;
use mocha_proto::{ErrorReply, Frame, Limits, OutReason, ParseError};
use rustls::pki_types::ServerName;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, ToSocketAddrs};
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

use crate::monitor::{Channel, Direction, ProtocolMonitor};
use crate::network::{Network, split_address};
use crate::{MenpError, Trust};

/// How long to wait for a reply unless told otherwise.
const DEFAULT_REPLY_TIMEOUT: Duration = Duration::from_secs(15);

/// What a server may send: the NS's or the SB's command set.
pub trait ServerMessage: Sized {
    fn parse(frame: Frame) -> Result<Self, ParseError>;
    /// The transaction id of a reply; `None` for pushes.
    fn reply_to(&self) -> Option<u32>;
    fn as_error(&self) -> Option<&ErrorReply>;
    fn as_out(&self) -> Option<&OutReason>;
}

pub struct MenpConnection<S> {
    stream: TlsStream<TcpStream>,
    buffer: BytesMut,
    limits: Limits,
    last_trid: u32,
    pushes: VecDeque<S>,
    reply_timeout: Duration,
    monitor: Option<(ProtocolMonitor, Channel)>,
}

impl<S: ServerMessage> MenpConnection<S> {
    /// Connects over TLS to `address` (`host:port`), verifying the certificate for
    /// `server_name` against `trust`. Nothing is sent yet.
    pub async fn connect(
        address: impl ToSocketAddrs,
        server_name: &str,
        trust: &Trust,
    ) -> Result<Self, MenpError> {
        let config = trust.client_config().map_err(|e| MenpError::Trust(e.to_string()))?;
        let name = ServerName::try_from(server_name.to_string())
            .map_err(|e| MenpError::Trust(format!("{server_name} is not a valid server name: {e}")))?;
        let tcp = TcpStream::connect(address).await.map_err(MenpError::Connect)?;
        let _ = tcp.set_nodelay(true);
        let stream = TlsConnector::from(config).connect(name, tcp).await.map_err(MenpError::Connect)?;
        Ok(Self::over(stream, None))
    }

    /// Connects to `address` (`host:port`) the way `network` says: its trust, its
    /// proxy, and its protocol monitor (recording under `channel`).
    pub async fn connect_via(network: &Network, address: &str, channel: Channel) -> Result<Self, MenpError> {
        let (host, port) = split_address(address)?;
        let stream = network.connect_tls(&host, port).await?;
        Ok(Self::over(stream, network.monitor.clone().map(|m| (m, channel))))
    }

    fn over(stream: TlsStream<TcpStream>, monitor: Option<(ProtocolMonitor, Channel)>) -> Self {
        Self {
            stream,
            buffer: BytesMut::with_capacity(4096),
            limits: Limits::default(),
            last_trid: 0,
            pushes: VecDeque::new(),
            reply_timeout: DEFAULT_REPLY_TIMEOUT,
            monitor,
        }
    }

    /// Connects to `host:port`, verifying the certificate for `host`.
    pub async fn connect_to(address: &str, trust: &Trust) -> Result<Self, MenpError> {
        let host = address.rsplit_once(':').map_or(address, |(host, _)| host);
        let host = host.trim_start_matches('[').trim_end_matches(']');
        Self::connect(address, host, trust).await
    }

    /// How long request methods wait for their reply.
    pub fn set_reply_timeout(&mut self, timeout: Duration) {
        self.reply_timeout = timeout;
    }

    /// A fresh transaction id (never 0, which marks pushes).
    pub fn next_trid(&mut self) -> u32 {
        self.last_trid = self.last_trid.checked_add(1).unwrap_or(1);
        self.last_trid
    }

    /// Sends any frame, even one the server will refuse.
    pub async fn send_frame(&mut self, frame: &Frame) -> Result<(), MenpError> {
        if let Some((monitor, channel)) = &self.monitor {
            monitor.record_frame(Direction::Sent, *channel, frame);
        }
        self.write(&frame.to_bytes()).await
    }

    /// Writes bytes unchecked: for testing servers against broken clients.
    pub async fn send_raw(&mut self, bytes: &[u8]) -> Result<(), MenpError> {
        if let Some((monitor, channel)) = &self.monitor {
            let line = String::from_utf8_lossy(bytes.split(|b| *b == b'\n').next().unwrap_or_default());
            monitor.record_line(Direction::Sent, *channel, line.trim_end());
        }
        self.write(bytes).await
    }

    async fn write(&mut self, bytes: &[u8]) -> Result<(), MenpError> {
        self.stream.write_all(bytes).await?;
        self.stream.flush().await?;
        Ok(())
    }

    /// The next command from the socket, whatever it is. [`MenpError::Closed`] at the end.
    pub async fn read(&mut self) -> Result<S, MenpError> {
        loop {
            if let Some(frame) = Frame::decode(&mut self.buffer, &self.limits)? {
                if let Some((monitor, channel)) = &self.monitor {
                    monitor.record_frame(Direction::Received, *channel, &frame);
                }
                return Ok(S::parse(frame)?);
            }
            self.buffer.reserve(4096);
            if self.stream.read_buf(&mut self.buffer).await? == 0 {
                return Err(MenpError::Closed);
            }
        }
    }

    /// Sends `frame` and collects the replies with its transaction id until `is_last`
    /// says one ends the answer, keeping pushes. `ERR` becomes [`MenpError::Refused`];
    /// an `OUT` meanwhile becomes [`MenpError::SignedOut`].
    pub async fn request_all(
        &mut self,
        frame: Frame,
        is_last: impl Fn(&S) -> bool,
    ) -> Result<Vec<S>, MenpError> {
        let trid = frame.trid;
        self.send_frame(&frame).await?;
        let timeout = self.reply_timeout;
        let wait = async {
            let mut replies = Vec::new();
            loop {
                let message = self.read().await?;
                if let Some(reply) = message.as_error().filter(|r| r.trid == trid || r.trid == 0) {
                    return Err(MenpError::Refused(reply.clone()));
                }
                if let Some(reason) = message.as_out() {
                    return Err(MenpError::SignedOut(reason.clone()));
                }
                if message.reply_to() == Some(trid) {
                    let last = is_last(&message);
                    replies.push(message);
                    if last {
                        return Ok(replies);
                    }
                } else {
                    self.pushes.push_back(message);
                }
            }
        };
        tokio::time::timeout(timeout, wait).await.map_err(|_| MenpError::Timeout)?
    }

    /// Sends `frame` and waits for its one reply.
    pub async fn request(&mut self, frame: Frame) -> Result<S, MenpError> {
        let mut replies = self.request_all(frame, |_| true).await?;
        replies.pop().ok_or(MenpError::Closed)
    }

    /// Closes the connection (after the caller has said goodbye).
    pub async fn close(mut self) -> Result<(), MenpError> {
        self.stream.shutdown().await?;
        Ok(())
    }

    /// The next push (kept or newly read), or `None` if none comes within `timeout`.
    pub async fn next_push(&mut self, timeout: Duration) -> Result<Option<S>, MenpError> {
        if let Some(push) = self.pushes.pop_front() {
            return Ok(Some(push));
        }
        match tokio::time::timeout(timeout, self.read()).await {
            Ok(command) => command.map(Some),
            Err(_) => Ok(None),
        }
    }

    /// Waits up to `timeout` for the first push that `pick` accepts; pushes it passes
    /// over stay queued, in order. [`MenpError::Timeout`] if none comes.
    pub async fn expect_push<T>(
        &mut self,
        timeout: Duration,
        mut pick: impl FnMut(&S) -> Option<T>,
    ) -> Result<T, MenpError> {
        if let Some(index) = self.pushes.iter().position(|push| pick(push).is_some()) {
            let push = self.pushes.remove(index).expect("index is in range");
            return pick(&push).ok_or(MenpError::Timeout);
        }
        let wait = async {
            loop {
                let push = self.read().await?;
                if let Some(picked) = pick(&push) {
                    return Ok(picked);
                }
                self.pushes.push_back(push);
            }
        };
        tokio::time::timeout(timeout, wait).await.map_err(|_| MenpError::Timeout)?
    }
}
