//! Bytes to frames and back on one TLS stream: a frame reader for the session, and a
//! writer task that drains the session's [`Outbox`](crate::outbox::Outbox) queue.

use std::io;

use bytes::BytesMut;
use mocha_proto::{Frame, FrameError, Limits};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::mpsc;

use crate::outbox::Outgoing;

/// How much to ask the socket for at a time.
const READ_CHUNK: usize = 4096;

#[derive(Debug, thiserror::Error)]
pub(crate) enum ReadError {
    #[error(transparent)]
    Frame(#[from] FrameError),
    #[error(transparent)]
    Io(#[from] io::Error),
}

pub(crate) struct FrameReader<R> {
    read: R,
    buffer: BytesMut,
    limits: Limits,
}

impl<R: AsyncRead + Unpin> FrameReader<R> {
    pub fn new(read: R, limits: Limits) -> Self {
        Self { read, buffer: BytesMut::with_capacity(READ_CHUNK), limits }
    }

    /// The next frame, or `None` when the peer closed the stream. Cancel-safe: bytes
    /// already read stay buffered, so it can sit in a `select!`.
    pub async fn read_frame(&mut self) -> Result<Option<Frame>, ReadError> {
        loop {
            // decode() refuses oversized lines and payloads before they are buffered in
            // full, so the buffer never grows past one frame's limits plus one chunk.
            if let Some(frame) = Frame::decode(&mut self.buffer, &self.limits)? {
                return Ok(Some(frame));
            }
            self.buffer.reserve(READ_CHUNK);
            if self.read.read_buf(&mut self.buffer).await? == 0 {
                return Ok(None);
            }
        }
    }
}

/// Writes queued frames until told to close or the peer goes away. Frames that are
/// already queued are sent together, then flushed once.
pub(crate) async fn write_frames<W: AsyncWrite + Unpin>(
    mut write: W,
    mut queue: mpsc::Receiver<Outgoing>,
) -> io::Result<()> {
    let mut buffer = BytesMut::new();
    let mut closing = false;
    while !closing {
        let Some(first) = queue.recv().await else { break };
        let mut next = Some(first);
        while let Some(item) = next.take() {
            match item {
                Outgoing::Frame(frame) => frame.encode(&mut buffer),
                Outgoing::Close(last) => {
                    if let Some(frame) = last {
                        frame.encode(&mut buffer);
                    }
                    closing = true;
                    break;
                }
            }
            next = queue.try_recv().ok();
        }
        write.write_all(&buffer).await?;
        buffer.clear();
        write.flush().await?;
    }
    write.shutdown().await
}
