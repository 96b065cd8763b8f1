//! Reads an HTTPS request's body into one compact buffer, within a size cap and a
//! deadline, before the router sees the request.
//!
//! Why not let axum collect the body itself: hyper hands a body over as one `Bytes` per
//! socket read, and each of those shares — so keeps alive — the read buffer it was cut
//! from. Once a chunk is cut off, hyper's next read cannot reuse that buffer and takes a
//! fresh one of at least 8 KiB. A client sending its body one byte per TLS record thus
//! made each byte pin about 8 KiB until the body was complete (issue 19: 200 trickling
//! connections took the server from 20 MB to 350 MB). Here each chunk is copied out and
//! dropped at once, so hyper reuses one buffer and a request in flight costs its body
//! (at most the cap) plus hyper's buffers, whatever the record size.

use std::future::poll_fn;
use std::pin::Pin;
use std::time::Duration;

use hyper::body::{Body as _, Bytes, Incoming};
use tokio::time::Instant;

/// The largest body any router on the HTTPS port accepts. Bodies are read up to one
/// byte past it, so the router's own limit still answers 413 in its own format.
pub const MAX_REQUEST_BODY: usize = {
    let (api, web) = (mocha_passport::http::MAX_BODY_BYTES, mocha_web::MAX_FORM_BYTES);
    if api > web { api } else { web }
};

#[derive(Debug, thiserror::Error)]
pub enum BodyError {
    #[error("the request body did not arrive within {} seconds", .0.as_secs())]
    TooSlow(Duration),
    #[error("the request body could not be read: {0}")]
    Unreadable(#[from] hyper::Error),
}

/// The whole body, or its first `cap + 1` bytes when it is longer (the rest is left
/// unread, and hyper closes the connection after answering).
pub async fn read(mut body: Incoming, cap: usize, time: Duration) -> Result<Bytes, BodyError> {
    if body.is_end_stream() {
        return Ok(Bytes::new());
    }
    let keep = cap.saturating_add(1);
    let announced = usize::try_from(body.size_hint().lower()).unwrap_or(usize::MAX);
    let mut buffer = Vec::with_capacity(announced.min(keep));
    let collect = async {
        while buffer.len() < keep {
            let Some(frame) = poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await else {
                break;
            };
            // Trailers are dropped: nothing on this port uses them.
            if let Ok(data) = frame?.into_data() {
                let room = keep - buffer.len();
                buffer.extend_from_slice(&data[..data.len().min(room)]);
            }
        }
        Ok::<(), BodyError>(())
    };
    tokio::time::timeout_at(Instant::now() + time, collect).await.map_err(|_| BodyError::TooSlow(time))??;
    Ok(Bytes::from(buffer))
}
