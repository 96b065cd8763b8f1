//! Bytes to frames: reads a stream into a buffer and decodes MENP/1 frames from it.

use std::io;

use bytes::BytesMut;
use mocha_proto::{Frame, FrameError, Limits};
use tokio::io::{AsyncRead, AsyncReadExt};

/// How much to ask the socket for at a time.
const READ_CHUNK: usize = 4096;

#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error(transparent)]
    Frame(#[from] FrameError),
    #[error(transparent)]
    Io(#[from] io::Error),
}

pub struct FrameReader<R> {
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
