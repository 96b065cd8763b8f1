//! Bytes to frames: reads a stream into a buffer and decodes MENP/1 frames from it.
//!
//! The buffer exists only while a frame is being read. Between frames — which is
//! nearly always, for an idle connection — the reader first waits for the stream to
//! become readable with an empty read, and only then allocates; a whole frame leaves
//! with its bytes. A frame whose line says how long it is gets room for all of it in
//! one allocation, so a 64 KiB file chunk arrives in a few large reads, not sixteen
//! 4 KiB ones that each grow the buffer.

use std::future::poll_fn;
use std::io;
use std::pin::Pin;

use bytes::BytesMut;
use mocha_proto::{Frame, FrameError, Limits};
use tokio::io::{AsyncRead, AsyncReadExt, ReadBuf};

/// How much to ask the socket for at a time while a frame's length is not yet known.
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
        Self { read, buffer: BytesMut::new(), limits }
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
            let room = if self.buffer.is_empty() {
                // Between frames: give the old allocation back (it may still be shared
                // with the last frame's payload) and hold nothing while waiting.
                self.buffer = BytesMut::new();
                readable(&mut self.read).await?;
                READ_CHUNK
            } else {
                let wanted = Frame::wanted_len(&self.buffer, &self.limits)?.unwrap_or(0);
                wanted.saturating_sub(self.buffer.len()).max(READ_CHUNK)
            };
            self.buffer.reserve(room);
            if self.read.read_buf(&mut self.buffer).await? == 0 {
                return Ok(None);
            }
        }
    }
}

/// Waits until a read would not block, without reading: an empty read. A TLS stream
/// answers it only once it has plaintext (or the end of the stream); a stream that
/// answers at once (a plain socket) just makes the caller read as before.
async fn readable<R: AsyncRead + Unpin>(read: &mut R) -> io::Result<()> {
    poll_fn(|cx| Pin::new(&mut *read).poll_read(cx, &mut ReadBuf::new(&mut []))).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncWriteExt;

    fn limits() -> Limits {
        Limits::default()
    }

    #[tokio::test]
    async fn frames_split_anywhere_arrive_whole() {
        let mut wire = Vec::new();
        Frame::new(mocha_proto::Command::PNG, 1).encode(&mut wire);
        let payload = vec![7u8; 65536];
        Frame::new(mocha_proto::Command::FIL, 2)
            .arg("t")
            .arg(0)
            .with_payload(payload.clone())
            .encode(&mut wire);
        Frame::new(mocha_proto::Command::OUT, 3).encode(&mut wire);
        let (client, server) = tokio::io::duplex(1000);
        let writer = tokio::spawn(async move {
            let mut client = client;
            for piece in wire.chunks(777) {
                client.write_all(piece).await.unwrap();
            }
        });
        let mut reader = FrameReader::new(server, limits());
        assert_eq!(reader.read_frame().await.unwrap().unwrap().trid, 1);
        let fil = reader.read_frame().await.unwrap().unwrap();
        assert_eq!(fil.payload.as_deref(), Some(&payload[..]));
        assert_eq!(reader.read_frame().await.unwrap().unwrap().trid, 3);
        writer.await.unwrap();
        assert!(reader.read_frame().await.unwrap().is_none(), "end of stream");
    }

    #[tokio::test]
    async fn oversized_payload_is_refused_before_it_is_buffered() {
        let (mut client, server) = tokio::io::duplex(1 << 20);
        client.write_all(b"FIL 1 t 0 65537\r\n").await.unwrap();
        let mut reader = FrameReader::new(server, limits());
        assert!(matches!(reader.read_frame().await, Err(ReadError::Frame(FrameError::PayloadTooLarge))));
    }
}
