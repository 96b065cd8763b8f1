//! Frames to bytes: drains a connection's outbox onto the stream, control lane first.

use std::io::{self, IoSlice};

use bytes::{Bytes, BytesMut};
use mocha_proto::Frame;
use tokio::io::{AsyncWrite, AsyncWriteExt};

use crate::Outgoing;
use crate::outbox::{Batch, Frames};

/// Payloads at least this large are written from where they are (a vectored write),
/// not copied into the batch's buffer first.
const BIG_PAYLOAD: usize = 4096;

/// Slices handed to one vectored write.
const MAX_SLICES: usize = 16;

/// Writes queued frames until told to close or the peer goes away. Frames already
/// queued are sent together (one buffer, so one TLS record while it fits), then
/// flushed once. While frames keep coming the writer reuses its buffer; once the queue
/// is empty it gives the buffer back before waiting, so an idle connection holds none.
pub async fn write_frames<W: FrameSink>(mut write: W, mut frames: Frames) -> io::Result<()> {
    let mut out = Pieces::default();
    loop {
        let batch = match frames.try_next() {
            Some(batch) => batch,
            None => {
                out = Pieces::default();
                write.go_idle();
                let Some(batch) = frames.next().await else { break };
                batch
            }
        };
        if write_batch_into(&mut write, batch, &mut out).await? {
            break;
        }
    }
    write.shutdown().await
}

/// Where [`write_frames`] writes: a stream that may keep buffers while frames keep
/// coming and is told when they stop.
pub trait FrameSink: AsyncWrite + Unpin {
    /// Nothing more is queued for now: give back any buffer kept for the next write.
    fn go_idle(&mut self) {}
}

impl FrameSink for crate::TlsWriter {
    fn go_idle(&mut self) {
        self.release_buffer();
    }
}

impl FrameSink for tokio::io::DuplexStream {}

/// Writes one batch and flushes; true if it ended with the connection's close.
/// (Public for the relay benchmark, which drains outboxes into memory.)
pub async fn write_batch<W: AsyncWrite + Unpin>(write: &mut W, batch: Batch) -> io::Result<bool> {
    write_batch_into(write, batch, &mut Pieces::default()).await
}

async fn write_batch_into<W: AsyncWrite + Unpin>(
    write: &mut W,
    batch: Batch,
    out: &mut Pieces,
) -> io::Result<bool> {
    let mut closing = false;
    match batch {
        Batch::Control(items) => {
            for item in items {
                match item {
                    Outgoing::Frame(frame) => out.add(&frame),
                    Outgoing::Wire(wire) => out.add_wire(wire),
                    Outgoing::Close(last) => {
                        if let Some(frame) = last {
                            out.add(&frame);
                        }
                        closing = true;
                        break;
                    }
                }
            }
        }
        Batch::Bulk(frame) => out.add(&frame),
    }
    out.write_to(write).await?;
    write.flush().await?;
    Ok(closing)
}

/// One batch in wire form: lines and small payloads copied together, large payloads
/// by reference.
#[derive(Default)]
struct Pieces {
    done: Vec<Bytes>,
    buffer: BytesMut,
}

impl Pieces {
    fn add(&mut self, frame: &Frame) {
        match &frame.payload {
            Some(payload) if payload.len() >= BIG_PAYLOAD => {
                frame.encode_line(&mut self.buffer);
                self.done.push(self.buffer.split().freeze());
                self.done.push(payload.clone());
            }
            _ => frame.encode(&mut self.buffer),
        }
    }

    fn add_wire(&mut self, wire: Bytes) {
        if wire.len() >= BIG_PAYLOAD {
            if !self.buffer.is_empty() {
                self.done.push(self.buffer.split().freeze());
            }
            self.done.push(wire);
        } else {
            self.buffer.extend_from_slice(&wire);
        }
    }

    /// Writes everything added, leaving the pieces empty (the buffer keeps its room
    /// when it was written whole).
    async fn write_to<W: AsyncWrite + Unpin>(&mut self, write: &mut W) -> io::Result<()> {
        if self.done.is_empty() {
            let written = write.write_all(&self.buffer).await;
            self.buffer.clear();
            return written;
        }
        if !self.buffer.is_empty() {
            self.done.push(self.buffer.split().freeze());
        }
        let result = self.write_done(write).await;
        self.done.clear();
        result
    }

    async fn write_done<W: AsyncWrite + Unpin>(&self, write: &mut W) -> io::Result<()> {
        let (mut first, mut skip) = (0, 0);
        while first < self.done.len() {
            // The slices are gathered inside the poll, on the stack: held across the
            // await they would be 256 bytes of every connection's future, idle or not.
            let mut written = std::future::poll_fn(|cx| {
                let mut slices = [IoSlice::new(&[]); MAX_SLICES];
                let count = (self.done.len() - first).min(MAX_SLICES);
                for (slot, (i, piece)) in
                    slices.iter_mut().zip(self.done[first..first + count].iter().enumerate())
                {
                    *slot = IoSlice::new(if i == 0 { &piece[skip..] } else { piece });
                }
                std::pin::Pin::new(&mut *write).poll_write_vectored(cx, &slices[..count])
            })
            .await?;
            if written == 0 {
                return Err(io::ErrorKind::WriteZero.into());
            }
            while written > 0 {
                let left = self.done[first].len() - skip;
                if written >= left {
                    written -= left;
                    first += 1;
                    skip = 0;
                } else {
                    skip += written;
                    written = 0;
                }
            }
        }
        Ok(())
    }
}

/// How long the writer gets to deliver the last frames before the socket is dropped.
const FAREWELL_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(2);

/// Runs a connection's session and the writer draining its outbox (`writer`: a
/// [`write_frames`], or a protocol's own) in one task, then says goodbye: queues the
/// last frame the session returns (an `OUT` or `ERR`, if any) and the close, gives the
/// writer a moment to deliver them and close the stream, and drops the socket if it
/// cannot.
///
/// One task instead of two halves the tasks an idle connection keeps (and their
/// wake-ups): the session is polled first, so what it queued is written in the same
/// turn. A write waiting for a slow client does not stop the session from seeing a kick.
pub fn run_with_writer<S: Future<Output = Option<Frame>>, F: Future<Output = io::Result<()>>>(
    writer: F,
    outbox: crate::Outbox,
    session: S,
) -> WithWriter<S, F> {
    WithWriter { session, writer, outbox: Some(outbox), writer_done: false, farewell: None }
}

pin_project_lite::pin_project! {
    /// See [`run_with_writer`]. A plain struct rather than an async fn, which would keep
    /// the session's future twice (as its argument and where it is polled).
    pub struct WithWriter<S, F> {
        #[pin]
        session: S,
        #[pin]
        writer: F,
        // Taken to queue the goodbye.
        outbox: Option<crate::Outbox>,
        writer_done: bool,
        // Boxed: only a connection saying goodbye needs a timer.
        farewell: Option<std::pin::Pin<Box<tokio::time::Sleep>>>,
    }
}

impl<S, F> Future for WithWriter<S, F>
where
    S: Future<Output = Option<Frame>>,
    F: Future<Output = io::Result<()>>,
{
    type Output = ();

    fn poll(self: std::pin::Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> std::task::Poll<()> {
        use std::task::Poll;
        let mut this = self.project();
        if this.farewell.is_none() {
            match this.session.poll(cx) {
                Poll::Pending => {}
                Poll::Ready(last) => {
                    let queued = this.outbox.take().is_some_and(|outbox| outbox.close(last));
                    if *this.writer_done || !queued {
                        return Poll::Ready(());
                    }
                    *this.farewell = Some(Box::pin(tokio::time::sleep(FAREWELL_TIMEOUT)));
                }
            }
        }
        if !*this.writer_done {
            *this.writer_done = this.writer.as_mut().poll(cx).is_ready();
        }
        match this.farewell.as_mut() {
            None => Poll::Pending,
            Some(_) if *this.writer_done => Poll::Ready(()),
            Some(timer) => timer.as_mut().poll(cx),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Outbox;
    use mocha_proto::{Command, Limits};
    use tokio::io::AsyncReadExt;

    #[tokio::test]
    async fn frames_arrive_in_order_with_large_payloads_whole() {
        let (outbox, receivers) = Outbox::new(64, 4);
        let (client, server) = tokio::io::duplex(7_000);
        let writer = tokio::spawn(write_frames(server, receivers.frames));
        let reading = tokio::spawn(async move {
            let mut client = client;
            let mut got = Vec::new();
            client.read_to_end(&mut got).await.unwrap();
            got
        });
        let big = Bytes::from((0..65536u32).map(|i| i as u8).collect::<Vec<_>>());
        let mut expected = Vec::new();
        for trid in 1..=20 {
            let frame = if trid % 3 == 0 {
                Frame::new(Command::FIL, trid).arg("t").arg(0).with_payload(big.clone())
            } else if trid % 3 == 1 {
                Frame::new(Command::MSG, trid).arg("u1").with_payload(Bytes::from_static(b"hi"))
            } else {
                Frame::new(Command::PNG, trid)
            };
            frame.encode(&mut expected);
            if trid % 3 == 0 {
                assert!(outbox.send_bulk(frame).await);
            } else if trid % 2 == 0 {
                outbox.push(frame);
            } else {
                // Encoded once, as the switchboard does for a relayed message.
                let mut wire = BytesMut::new();
                frame.encode(&mut wire);
                outbox.push_wire(wire.freeze());
            }
        }
        drop(outbox); // the writer sends everything queued, then closes
        writer.await.unwrap().unwrap();
        let got = reading.await.unwrap();
        // Control frames may overtake chunks, so compare frame by frame per lane.
        let decode = |bytes: Vec<u8>| {
            let mut buf = BytesMut::from(&bytes[..]);
            let mut frames = Vec::new();
            while let Some(frame) = Frame::decode(&mut buf, &Limits::default()).unwrap() {
                frames.push(frame);
            }
            assert!(buf.is_empty());
            frames
        };
        let (mut got, mut expected) = (decode(got), decode(expected));
        got.sort_by_key(|f| f.trid);
        expected.sort_by_key(|f| f.trid);
        assert_eq!(got, expected);
    }
}
