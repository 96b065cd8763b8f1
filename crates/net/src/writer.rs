//! Frames to bytes: drains a connection's outbox onto the stream, control lane first.

use std::io;

use bytes::BytesMut;
use mocha_proto::Frame;
use tokio::io::{AsyncWrite, AsyncWriteExt};
use tokio::sync::mpsc;

use crate::Outgoing;

/// Writes queued frames until told to close or the peer goes away. Frames already
/// queued are sent together, then flushed once.
pub async fn write_frames<W: AsyncWrite + Unpin>(
    mut write: W,
    mut control: mpsc::Receiver<Outgoing>,
    mut bulk: mpsc::Receiver<Frame>,
) -> io::Result<()> {
    let mut buffer = BytesMut::new();
    let mut closing = false;
    let mut bulk_open = true;
    while !closing {
        let first = tokio::select! {
            biased;
            item = control.recv() => match item {
                Some(item) => item,
                None => break,
            },
            frame = bulk.recv(), if bulk_open => match frame {
                Some(frame) => Outgoing::Frame(frame),
                None => {
                    bulk_open = false;
                    continue;
                }
            },
        };
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
            next = control.try_recv().ok();
        }
        write.write_all(&buffer).await?;
        buffer.clear();
        write.flush().await?;
    }
    write.shutdown().await
}

/// How long the writer gets to deliver the last frames before the socket is dropped.
const FAREWELL_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(2);

/// Ends a connection: queues `last` (an `OUT` or `ERR`, if any), gives the writer a
/// moment to deliver it and close the stream, and stops the writer if it cannot.
pub async fn say_goodbye(
    outbox: &crate::Outbox,
    writer: &mut tokio::task::JoinHandle<io::Result<()>>,
    last: Option<Frame>,
) {
    if !writer.is_finished()
        && outbox.close(last)
        && tokio::time::timeout(FAREWELL_TIMEOUT, &mut *writer).await.is_ok()
    {
        return;
    }
    writer.abort();
}
