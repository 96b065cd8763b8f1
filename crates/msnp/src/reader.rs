//! Bytes to [`Line`]s within the limits: a line longer than `max_line` or a payload larger
//! than `max_payload` ends the connection (the stream cannot be trusted after it).

use std::net::SocketAddr;

use bytes::{Buf, BytesMut};
use mocha_net::{Kicks, Outbox};
use mocha_proto::{Limits, OutReason};
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::time::{Instant, sleep_until};
use tokio_util::sync::CancellationToken;

use crate::error::Code;
use crate::line::{Line, LineError, parse_line};
use crate::wire;

#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error(transparent)]
    Line(#[from] LineError),
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

pub struct LineReader<R> {
    read: R,
    buffer: BytesMut,
    limits: Limits,
}

/// Bytes asked of the socket at a time.
const READ_CHUNK: usize = 4096;

impl<R: AsyncRead + Unpin> LineReader<R> {
    pub fn new(read: R, limits: Limits) -> Self {
        Self { read, buffer: BytesMut::new(), limits }
    }

    /// The next line with its payload; `None` when the client closed cleanly between lines.
    /// A line that is not UTF-8 is `Err(LineError::NotText)`, after which reading may go on.
    pub async fn read_line(&mut self) -> Result<Option<Line>, ReadError> {
        let end = loop {
            if let Some(end) = self.buffer.iter().position(|&byte| byte == b'\n') {
                break end;
            }
            if self.buffer.len() > self.limits.max_line + 1 {
                return Err(LineError::LineTooLong { max: self.limits.max_line }.into());
            }
            if !self.fill().await? {
                return if self.buffer.is_empty() { Ok(None) } else { Err(eof().into()) };
            }
        };
        let raw = self.buffer.split_to(end + 1);
        let text = raw.strip_suffix(b"\n").unwrap_or(&raw);
        let text = text.strip_suffix(b"\r").unwrap_or(text);
        if text.len() > self.limits.max_line {
            return Err(LineError::LineTooLong { max: self.limits.max_line }.into());
        }
        let (mut line, payload) = parse_line(text, self.limits.max_payload)?;
        if let Some(length) = payload {
            while self.buffer.len() < length {
                if !self.fill().await? {
                    return Err(eof().into());
                }
            }
            line.payload = Some(self.buffer.split_to(length).to_vec());
        }
        if self.buffer.is_empty() {
            // Give the memory back while the connection idles.
            self.buffer = BytesMut::new();
        } else if self.buffer.capacity() > 4 * READ_CHUNK + self.limits.max_payload {
            let rest = self.buffer.split();
            self.buffer = BytesMut::from(rest.chunk());
        }
        Ok(Some(line))
    }

    async fn fill(&mut self) -> std::io::Result<bool> {
        self.buffer.reserve(READ_CHUNK);
        Ok(self.read.read_buf(&mut self.buffer).await? > 0)
    }
}

/// Why a connection loop stops waiting for lines.
#[derive(Debug)]
pub(crate) enum Stop {
    /// Kicked (another sign-in, a ban, too slow…), or the server shutting down.
    Out(OutReason),
    /// The caller's deadline passed (idle, or not signed in or joined in time).
    Deadline,
    /// The stream broke the line or payload limits.
    Protocol(LineError),
    Disconnected,
}

/// The next line, unless a kick, shutdown, the deadline or a broken stream comes first
/// (in that order of precedence). A line that is not text is answered `200 0` on
/// `outbox`, and reading goes on.
pub(crate) async fn next_line<R: AsyncRead + Unpin>(
    reader: &mut LineReader<R>,
    kicks: &mut Kicks,
    shutdown: &CancellationToken,
    deadline: Instant,
    outbox: &Outbox,
    peer: SocketAddr,
) -> Result<Line, Stop> {
    loop {
        return tokio::select! {
            biased;
            Some(reason) = kicks.recv() => Err(Stop::Out(reason)),
            () = shutdown.cancelled() => Err(Stop::Out(OutReason::ServerShutdown)),
            read = reader.read_line() => match read {
                Ok(Some(line)) => Ok(line),
                Ok(None) => Err(Stop::Disconnected),
                Err(ReadError::Line(LineError::NotText)) => {
                    outbox.push_wire(wire::error(Code::Syntax, 0));
                    continue;
                }
                Err(ReadError::Line(error)) => Err(Stop::Protocol(error)),
                Err(ReadError::Io(error)) => {
                    tracing::debug!(%peer, %error, "MSNP connection read failed");
                    Err(Stop::Disconnected)
                }
            },
            () = sleep_until(deadline) => Err(Stop::Deadline),
        };
    }
}

fn eof() -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "the connection closed mid-command")
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn lines(bytes: &'static [u8], limits: Limits) -> Vec<Result<Option<Line>, String>> {
        let mut reader = LineReader::new(bytes, limits);
        let mut out = Vec::new();
        loop {
            let next = reader.read_line().await.map_err(|e| e.to_string());
            let stop =
                !matches!(next, Ok(Some(_)) | Err(_)) || matches!(&next, Err(e) if !e.contains("UTF-8"));
            out.push(next);
            if stop {
                return out;
            }
        }
    }

    #[tokio::test]
    async fn lines_and_payloads_come_out_whole_and_limits_hold() {
        let got = lines(b"PNG\r\nUUX 2 5\r\nhelloCHG 3 NLN 0\n", Limits::default()).await;
        assert_eq!(got.len(), 4);
        let Ok(Some(uux)) = &got[1] else { panic!("{got:?}") };
        assert_eq!(uux.payload.as_deref(), Some(&b"hello"[..]));
        let Ok(Some(chg)) = &got[2] else { panic!("{got:?}") };
        assert_eq!(chg.args, ["3", "NLN", "0"]);
        assert_eq!(got[3], Ok(None));

        let small = Limits { max_line: 8, max_payload: 4 };
        let got = lines(b"PNG\r\nCHG 1 NLN 0\r\n", small).await;
        assert_eq!(got[1], Err("the line is longer than 8 bytes".into()));
        let got = lines(b"UUX 1 5\r\nhello", small).await;
        assert_eq!(got[0], Err("the payload is larger than 4 bytes".into()));
        let got = lines(b"CHG \xff\r\nPNG\r\n", small).await;
        assert_eq!(got[0], Err("the line is not UTF-8 text".into()));
        assert!(matches!(&got[1], Ok(Some(line)) if line.command == "PNG"), "reading goes on: {got:?}");
        let got = lines(b"UUX 1 4\r\nhi", small).await;
        assert_eq!(got[0], Err("the connection closed mid-command".into()));
    }
}
