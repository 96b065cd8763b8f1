//! Server-side TLS over rustls' unbuffered API, so that buffers exist only while bytes
//! are moving.
//!
//! rustls' buffered connection keeps a 4 KiB read buffer per connection for as long as
//! the connection lives, and tokio-rustls' stream cannot be read and written from two
//! tasks without a lock around both. Here the connection's two halves share the socket
//! and the TLS state (behind a mutex held only to decrypt or encrypt, never across an
//! await); each half owns its own buffer and gives it back whenever it is empty — so an
//! idle signed-in session holds no buffer at all.

use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, ready};

use rustls::server::{ServerConnectionData, UnbufferedServerConnection};
use rustls::unbuffered::{ConnectionState, EncodeError, EncryptError, InsufficientSizeError, WriteTraffic};
use rustls::{ServerConfig, unbuffered::UnbufferedStatus};
use tokio::io::{AsyncRead, AsyncWrite, Interest, ReadBuf};
use tokio::net::TcpStream;

/// How much to read from the socket at a time while a record's length is not known.
const READ_CHUNK: usize = 4096;
/// A TLS record on the wire: 5 bytes of header, at most 2^14 bytes of plaintext, and
/// the AEAD's expansion (rustls refuses anything longer).
const MAX_RECORD: usize = 5 + 16384 + 256;
/// A ClientHello may not be longer than this (rustls' own bound on handshake messages).
const MAX_CLIENT_HELLO: usize = 0xffff;
/// Encrypted bytes a writer may hold unsent before it waits for the socket.
const WRITE_HIGH_WATER: usize = 64 * 1024;

const CONTENT_HANDSHAKE: u8 = 22;
const RECORD_HEADER: usize = 5;

/// An established TLS connection, ready to be split into its reading and writing halves.
pub struct TlsConnection {
    shared: Arc<Shared>,
    /// Bytes received after the handshake's last record, not yet decrypted.
    incoming: Vec<u8>,
    /// Application data that arrived with the end of the handshake.
    plaintext: Plaintext,
}

struct Shared {
    tcp: TcpStream,
    tls: Mutex<TlsState>,
}

struct TlsState {
    conn: UnbufferedServerConnection,
    /// TLS messages the reader had to answer (a key update): the writer sends them
    /// ahead of the next application data.
    answers: SendBuffer,
}

impl Shared {
    fn tls(&self) -> MutexGuard<'_, TlsState> {
        // Nothing panics while holding it; a poisoned connection is still a connection.
        self.tls.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Decrypted bytes not yet handed to the reader.
#[derive(Default)]
struct Plaintext {
    bytes: Vec<u8>,
    read: usize,
}

impl Plaintext {
    fn is_empty(&self) -> bool {
        self.read == self.bytes.len()
    }

    /// Copies what fits into `buf`; gives the allocation back once all of it is read.
    fn copy_into(&mut self, buf: &mut ReadBuf<'_>) {
        let n = buf.remaining().min(self.bytes.len() - self.read);
        buf.put_slice(&self.bytes[self.read..self.read + n]);
        self.read += n;
        if self.is_empty() {
            *self = Plaintext::default();
        }
    }
}

impl TlsConnection {
    /// The two halves. They may be used from different tasks.
    pub fn into_split(self) -> (TlsReader, TlsWriter) {
        let reader = TlsReader {
            shared: self.shared.clone(),
            incoming: self.incoming,
            plaintext: self.plaintext,
            peer_closed: false,
            drained: false,
        };
        let writer = TlsWriter { shared: self.shared, out: SendBuffer::default(), closing: Closing::Open };
        (reader, writer)
    }
}

fn tls_error(error: rustls::Error) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, error)
}

/// Reads until `incoming` holds the client's whole first handshake message (its
/// ClientHello), so the costly part of the handshake can wait for a slot without
/// holding one while a slow client trickles its hello in.
pub async fn read_client_hello(tcp: &TcpStream, incoming: &mut Vec<u8>) -> io::Result<()> {
    while !client_hello_complete(incoming)? {
        if incoming.capacity() - incoming.len() < READ_CHUNK {
            incoming.reserve(READ_CHUNK);
        }
        tcp.readable().await?;
        match tcp.try_read_buf(incoming) {
            Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Whether `bytes` start with a complete handshake message, possibly spread over
/// several records. Anything that is not a handshake record counts as complete: rustls
/// refuses it with the right alert.
fn client_hello_complete(bytes: &[u8]) -> io::Result<bool> {
    if bytes.len() > MAX_CLIENT_HELLO + 64 * RECORD_HEADER {
        return Err(io::Error::new(io::ErrorKind::InvalidData, "ClientHello too long"));
    }
    let mut handshake = Vec::new();
    let mut rest = bytes;
    while rest.len() >= RECORD_HEADER {
        if rest[0] != CONTENT_HANDSHAKE {
            return Ok(true);
        }
        let length = usize::from(u16::from_be_bytes([rest[3], rest[4]]));
        let Some(payload) = rest.get(RECORD_HEADER..RECORD_HEADER + length) else { break };
        handshake.extend_from_slice(payload);
        rest = &rest[RECORD_HEADER + length..];
        if handshake.len() >= 4 {
            let wanted = 4
                + (usize::from(handshake[1]) << 16
                    | usize::from(handshake[2]) << 8
                    | usize::from(handshake[3]));
            if wanted > MAX_CLIENT_HELLO || handshake.len() >= wanted {
                return Ok(true);
            }
        }
    }
    Ok(false)
}

/// Finishes the handshake that `incoming` (from [`read_client_hello`]) began.
pub async fn accept(
    tcp: TcpStream,
    config: Arc<ServerConfig>,
    mut incoming: Vec<u8>,
) -> io::Result<TlsConnection> {
    let mut tls = UnbufferedServerConnection::new(config).map_err(tls_error)?;
    let mut out = SendBuffer::default();
    let mut plaintext = Plaintext::default();
    loop {
        let UnbufferedStatus { discard, state } = tls.process_tls_records(&mut incoming);
        let state = match state {
            Ok(state) => state,
            Err(error) => {
                // Tell the client why (a protocol_version alert, say) before hanging up.
                send_alert(&tcp, &mut tls, &mut out).await;
                return Err(tls_error(error));
            }
        };
        let done = match state {
            ConnectionState::EncodeTlsData(mut data) => {
                out.append(0, |buf| data.encode(buf).map_err(EncodeFailure::from))?;
                false
            }
            ConnectionState::TransmitTlsData(transmit) => {
                write_all(&tcp, out.pending()).await?;
                out = SendBuffer::default();
                transmit.done();
                false
            }
            ConnectionState::BlockedHandshake => {
                read_some(&tcp, &mut incoming, discard).await?;
                continue;
            }
            ConnectionState::WriteTraffic(_) => true,
            ConnectionState::ReadTraffic(mut traffic) => {
                // The client's first command came with its Finished.
                while let Some(record) = traffic.next_record() {
                    plaintext.bytes.extend_from_slice(record.map_err(tls_error)?.payload);
                }
                true
            }
            ConnectionState::PeerClosed | ConnectionState::Closed => {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
            _ => return Err(io::Error::new(io::ErrorKind::InvalidData, "unexpected TLS state in handshake")),
        };
        incoming.drain(..discard);
        if done {
            // Handshake messages encoded after the last transmit (session tickets sent
            // while the client's first command was being decrypted).
            write_all(&tcp, out.pending()).await?;
            incoming.shrink_to_fit();
            let state = TlsState { conn: tls, answers: SendBuffer::default() };
            let shared = Arc::new(Shared { tcp, tls: Mutex::new(state) });
            return Ok(TlsConnection { shared, incoming, plaintext });
        }
    }
}

/// Writes the alert rustls queued when it refused the handshake (best effort).
async fn send_alert(tcp: &TcpStream, tls: &mut UnbufferedServerConnection, out: &mut SendBuffer) {
    for _ in 0..4 {
        let UnbufferedStatus { state, .. } = tls.process_tls_records(&mut []);
        match state {
            Ok(ConnectionState::EncodeTlsData(mut alert)) => {
                if out.append(0, |buf| alert.encode(buf).map_err(EncodeFailure::from)).is_err() {
                    break;
                }
            }
            _ => break,
        }
    }
    let _ = tokio::time::timeout(std::time::Duration::from_secs(1), write_all(tcp, out.pending())).await;
}

/// Drops `discard` bytes from the front of `incoming`, then reads more after them.
async fn read_some(tcp: &TcpStream, incoming: &mut Vec<u8>, discard: usize) -> io::Result<()> {
    incoming.drain(..discard);
    if incoming.len() >= MAX_CLIENT_HELLO + MAX_RECORD {
        return Err(io::Error::new(io::ErrorKind::InvalidData, "handshake too long"));
    }
    incoming.reserve(READ_CHUNK);
    loop {
        tcp.readable().await?;
        match tcp.try_read_buf(incoming) {
            Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
            Ok(_) => return Ok(()),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            Err(e) => return Err(e),
        }
    }
}

async fn write_all(tcp: &TcpStream, mut bytes: &[u8]) -> io::Result<()> {
    while !bytes.is_empty() {
        tcp.writable().await?;
        match tcp.try_write(bytes) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => bytes = &bytes[n..],
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Why rustls could not put bytes into the room it was given.
enum EncodeFailure {
    NeedRoom(usize),
    Other(String),
}

impl From<EncodeError> for EncodeFailure {
    fn from(error: EncodeError) -> Self {
        match error {
            EncodeError::InsufficientSize(InsufficientSizeError { required_size }) => {
                Self::NeedRoom(required_size)
            }
            other => Self::Other(other.to_string()),
        }
    }
}

impl From<EncryptError> for EncodeFailure {
    fn from(error: EncryptError) -> Self {
        match error {
            EncryptError::InsufficientSize(InsufficientSizeError { required_size }) => {
                Self::NeedRoom(required_size)
            }
            other => Self::Other(other.to_string()),
        }
    }
}

/// Room for `plaintext` bytes once encrypted: each record of up to 2^14 bytes gains a
/// header, a content type and a tag.
fn sealed_len(plaintext: usize) -> usize {
    plaintext + (plaintext / 16384 + 1) * (RECORD_HEADER + 1 + 16)
}

/// The reading half: decrypts records as they arrive and hands out their plaintext.
pub struct TlsReader {
    shared: Arc<Shared>,
    /// Ciphertext received and not yet decrypted; empty (no allocation) between records.
    incoming: Vec<u8>,
    plaintext: Plaintext,
    peer_closed: bool,
    /// The last read emptied the socket: the next waits for readiness first.
    drained: bool,
}

impl TlsReader {
    /// Decrypts the records in `incoming` into `buf` (what does not fit into
    /// `plaintext`). True once a record was decrypted or the peer closed; false when more
    /// ciphertext is needed.
    fn decrypt(&mut self, buf: &mut ReadBuf<'_>) -> io::Result<bool> {
        let mut guard = self.shared.tls();
        let TlsState { conn, answers } = &mut *guard;
        loop {
            if self.incoming.is_empty() {
                return Ok(false);
            }
            let UnbufferedStatus { discard, state } = conn.process_tls_records(&mut self.incoming);
            let outcome = match state.map_err(tls_error)? {
                ConnectionState::ReadTraffic(mut traffic) => {
                    while let Some(record) = traffic.next_record() {
                        let payload = record.map_err(tls_error)?.payload;
                        // Straight into the caller's buffer; only what does not fit waits.
                        let fits = payload.len().min(buf.remaining());
                        buf.put_slice(&payload[..fits]);
                        self.plaintext.bytes.extend_from_slice(&payload[fits..]);
                    }
                    Some(true)
                }
                ConnectionState::PeerClosed | ConnectionState::Closed => {
                    self.peer_closed = true;
                    Some(true)
                }
                // A post-handshake message of the client's (a key update) wants an
                // answer: the writer sends it ahead of anything it encrypts later.
                ConnectionState::EncodeTlsData(mut answer) => {
                    answers.append(0, |buf| answer.encode(buf).map_err(EncodeFailure::from))?;
                    None
                }
                ConnectionState::TransmitTlsData(transmit) => {
                    transmit.done();
                    None
                }
                ConnectionState::WriteTraffic(_) | ConnectionState::BlockedHandshake => Some(false),
                _ => return Err(io::Error::new(io::ErrorKind::InvalidData, "unexpected TLS state")),
            };
            self.incoming.drain(..discard);
            match outcome {
                Some(true) => return Ok(true),
                Some(false) if discard == 0 => return Ok(false),
                _ => {}
            }
        }
    }

    /// How many more bytes the record at the front of `incoming` needs.
    fn wanted(&self) -> usize {
        if self.incoming.len() < RECORD_HEADER {
            return READ_CHUNK;
        }
        let length = RECORD_HEADER + usize::from(u16::from_be_bytes([self.incoming[3], self.incoming[4]]));
        length.min(MAX_RECORD).saturating_sub(self.incoming.len()).max(READ_CHUNK)
    }
}

impl AsyncRead for TlsReader {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        loop {
            if !this.plaintext.is_empty() {
                this.plaintext.copy_into(buf);
                return Poll::Ready(Ok(()));
            }
            if this.peer_closed {
                return Poll::Ready(Ok(()));
            }
            if buf.remaining() == 0 {
                // Asked only whether a read would find something: say so without
                // allocating while the socket has nothing.
                if this.incoming.is_empty() {
                    this.incoming = Vec::new();
                    ready!(this.shared.tcp.poll_read_ready(cx))?;
                    this.drained = false;
                }
                return Poll::Ready(Ok(()));
            }
            let before = buf.filled().len();
            if this.decrypt(buf)? {
                if buf.filled().len() > before || this.peer_closed {
                    return Poll::Ready(Ok(()));
                }
                continue;
            }
            if this.drained {
                if this.incoming.is_empty() {
                    this.incoming = Vec::new();
                }
                ready!(this.shared.tcp.poll_read_ready(cx))?;
                this.drained = false;
            }
            let wanted = this.wanted();
            if this.incoming.capacity() - this.incoming.len() < wanted {
                this.incoming.reserve(wanted);
            }
            let room = this.incoming.capacity() - this.incoming.len();
            // A short read means the socket is empty, so the next read waits for the
            // next readiness event instead of asking again and being told to wait (as
            // tokio's own streams do). The readiness cleared must be the one seen before
            // the read: clearing what is seen after it would also clear bytes that
            // arrived in between, which would then lie unread until more came.
            let TlsReader { shared, incoming, .. } = &mut *this;
            let read = shared.tcp.try_io(Interest::READABLE, || match shared.tcp.try_read_buf(incoming)? {
                n if n > 0 && n < room => Err(io::ErrorKind::WouldBlock.into()),
                n => Ok(n),
            });
            match read {
                Ok(0) => {
                    this.peer_closed = true;
                    if !this.incoming.is_empty() {
                        return Poll::Ready(Err(io::ErrorKind::UnexpectedEof.into()));
                    }
                }
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => this.drained = true,
                Err(e) => return Poll::Ready(Err(e)),
            }
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Closing {
    Open,
    NotifyQueued,
    Done,
}

/// The writing half: encrypts what it is given straight into its send buffer and
/// writes it out. The buffer is kept (already zeroed, so encrypting into it costs no
/// clearing) while frames keep coming, and given back when the writer goes idle.
pub struct TlsWriter {
    shared: Arc<Shared>,
    out: SendBuffer,
    closing: Closing,
}

/// TLS bytes waiting for the socket: `bytes[sent..filled]`. Past `filled` the
/// allocation is zeroed room for the next records.
#[derive(Default)]
struct SendBuffer {
    bytes: Vec<u8>,
    filled: usize,
    sent: usize,
}

impl SendBuffer {
    fn unsent(&self) -> usize {
        self.filled - self.sent
    }

    fn pending(&self) -> &[u8] {
        &self.bytes[self.sent..self.filled]
    }

    /// Appends what `encode` writes, giving it `guess` bytes of room first (and as
    /// much as it asks for, if that was too little).
    fn append(
        &mut self,
        guess: usize,
        mut encode: impl FnMut(&mut [u8]) -> Result<usize, EncodeFailure>,
    ) -> io::Result<()> {
        if self.sent == self.filled {
            self.sent = 0;
            self.filled = 0;
        }
        let mut room = guess;
        loop {
            if self.bytes.len() < self.filled + room {
                self.bytes.resize(self.filled + room, 0);
            }
            match encode(&mut self.bytes[self.filled..]) {
                Ok(written) => {
                    self.filled += written;
                    return Ok(());
                }
                Err(EncodeFailure::NeedRoom(required)) if required > self.bytes.len() - self.filled => {
                    room = required;
                }
                Err(EncodeFailure::NeedRoom(_)) => {
                    return Err(io::Error::other("TLS encoder asked for room it was given"));
                }
                Err(EncodeFailure::Other(why)) => return Err(io::Error::other(why)),
            }
        }
    }

    fn extend(&mut self, bytes: &[u8]) {
        if bytes.is_empty() {
            return;
        }
        let _ = self.append(bytes.len(), |room| {
            room[..bytes.len()].copy_from_slice(bytes);
            Ok(bytes.len())
        });
    }
}

impl TlsWriter {
    fn unsent(&self) -> usize {
        self.out.unsent()
    }

    /// Gives back the send buffer if everything in it has been sent.
    pub(crate) fn release_buffer(&mut self) {
        if self.unsent() == 0 {
            self.out = SendBuffer::default();
        }
    }

    /// Encrypts `data` onto the end of the send buffer.
    fn seal(&mut self, data: &[u8]) -> io::Result<()> {
        let sealed = self.seal_with(sealed_len(data.len()), |traffic, buf| {
            traffic.encrypt(data, buf).map_err(EncodeFailure::from)
        })?;
        if sealed { Ok(()) } else { Err(io::ErrorKind::BrokenPipe.into()) }
    }

    /// Queues the close_notify alert (nothing, if the connection is already closed).
    fn seal_close_notify(&mut self) -> io::Result<()> {
        self.seal_with(64, |traffic, buf| traffic.queue_close_notify(buf).map_err(EncodeFailure::from))
            .map(|_| ())
    }

    /// Sends any pending TLS messages first (handshake leftovers, key-update answers),
    /// then lets `write` encrypt into the send buffer. False if the connection was
    /// already closed.
    fn seal_with(
        &mut self,
        guess: usize,
        mut write: impl FnMut(
            &mut WriteTraffic<'_, ServerConnectionData>,
            &mut [u8],
        ) -> Result<usize, EncodeFailure>,
    ) -> io::Result<bool> {
        let mut guard = self.shared.tls();
        let TlsState { conn, answers } = &mut *guard;
        self.out.extend(answers.pending());
        *answers = SendBuffer::default();
        loop {
            let UnbufferedStatus { state, .. } = conn.process_tls_records(&mut []);
            match state.map_err(tls_error)? {
                ConnectionState::EncodeTlsData(mut pending) => {
                    self.out.append(0, |buf| pending.encode(buf).map_err(EncodeFailure::from))?;
                }
                ConnectionState::TransmitTlsData(transmit) => transmit.done(),
                ConnectionState::WriteTraffic(mut traffic) => {
                    return self.out.append(guess, |buf| write(&mut traffic, buf)).map(|()| true);
                }
                ConnectionState::PeerClosed => {}
                ConnectionState::Closed => return Ok(false),
                _ => return Err(io::Error::new(io::ErrorKind::InvalidData, "unexpected TLS state")),
            }
        }
    }

    /// Writes what the socket takes now, without waiting.
    fn send_now(&mut self) -> io::Result<()> {
        while self.unsent() > 0 {
            match self.shared.tcp.try_write(self.out.pending()) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => self.out.sent += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(()),
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// Writes everything in the send buffer.
    fn poll_send_all(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while self.unsent() > 0 {
            ready!(self.shared.tcp.poll_write_ready(cx))?;
            self.send_now()?;
        }
        Poll::Ready(Ok(()))
    }
}

impl AsyncWrite for TlsWriter {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, data: &[u8]) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if this.unsent() >= WRITE_HIGH_WATER {
            ready!(this.poll_send_all(cx))?;
        }
        this.seal(data)?;
        this.send_now()?;
        Poll::Ready(Ok(data.len()))
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        slices: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if this.unsent() >= WRITE_HIGH_WATER {
            ready!(this.poll_send_all(cx))?;
        }
        let mut total = 0;
        for slice in slices.iter().filter(|slice| !slice.is_empty()) {
            this.seal(slice)?;
            total += slice.len();
        }
        this.send_now()?;
        Poll::Ready(Ok(total))
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().poll_send_all(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.closing == Closing::Open {
            this.seal_close_notify()?;
            this.closing = Closing::NotifyQueued;
        }
        ready!(this.poll_send_all(cx))?;
        if this.closing == Closing::NotifyQueued {
            this.closing = Closing::Done;
            socket2::SockRef::from(&this.shared.tcp).shutdown(std::net::Shutdown::Write)?;
        }
        Poll::Ready(Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(content: u8, payload: &[u8]) -> Vec<u8> {
        let mut bytes = vec![content, 3, 1];
        bytes.extend_from_slice(&(payload.len() as u16).to_be_bytes());
        bytes.extend_from_slice(payload);
        bytes
    }

    #[test]
    fn a_client_hello_is_complete_only_once_every_byte_of_it_arrived() {
        let mut hello = vec![1, 0, 0, 200];
        hello.extend(std::iter::repeat_n(7, 200));
        let whole = record(CONTENT_HANDSHAKE, &hello);
        for cut in 0..whole.len() {
            assert!(!client_hello_complete(&whole[..cut]).unwrap(), "cut at {cut}");
        }
        assert!(client_hello_complete(&whole).unwrap());
        // Split over two records.
        let mut two = record(CONTENT_HANDSHAKE, &hello[..100]);
        assert!(!client_hello_complete(&two).unwrap());
        two.extend(record(CONTENT_HANDSHAKE, &hello[100..]));
        assert!(client_hello_complete(&two).unwrap());
        // Not a handshake at all: rustls gets to refuse it.
        assert!(client_hello_complete(&record(23, b"GET / HTTP/1.1")).unwrap());
    }
}
