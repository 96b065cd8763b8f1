//! Serves an axum router over TLS (or, for the MSNP gateway's Passport 1.4 login only,
//! plain HTTP: [`serve_plain`]). Each connection's handshake runs in its own
//! task, so a slow or broken client never holds up the others.
//!
//! A request must be sent briskly: its headers within the request time (hyper's header
//! timeout, at most [`MAX_HEADER_BYTES`]), then its body within the request time again
//! (read by [`request_body`] into one compact buffer, one byte past [`MAX_REQUEST_BODY`]
//! at most). A client too slow with either has its connection closed, after a 408
//! when the headers had arrived.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{HeaderValue, Request, Response, StatusCode, header};
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use mocha_passport::http::STRICT_TRANSPORT_SECURITY;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;
use tower::ServiceExt;

use crate::request_body::{self, BodyError, MAX_REQUEST_BODY};

const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
const DRAIN_TIMEOUT: Duration = Duration::from_secs(5);
/// Hyper's read buffer, and so the most a request's headers may take (more is a 431).
/// Browsers send one to two KiB; a cookie and a bearer token are far less.
pub const MAX_HEADER_BYTES: usize = 16 * 1024;

/// `request_time`: how long a client may take to send a request's headers, and then
/// again its body.
pub async fn serve(
    listener: TcpListener,
    tls: Arc<rustls::ServerConfig>,
    app: Router,
    request_time: Duration,
    limits: mocha_net::ConnectionLimits,
    shutdown: CancellationToken,
) {
    serve_with("passport", listener, Some(TlsAcceptor::from(tls)), app, request_time, limits, shutdown).await;
}

/// Like [`serve`] without TLS, with the same caps and time limits: only for the MSNP
/// gateway's nexus and login, which classic clients reach over plain HTTP.
pub async fn serve_plain(
    listener: TcpListener,
    app: Router,
    request_time: Duration,
    limits: mocha_net::ConnectionLimits,
    shutdown: CancellationToken,
) {
    serve_with("msnp-http", listener, None, app, request_time, limits, shutdown).await;
}

async fn serve_with(
    service: &'static str,
    listener: TcpListener,
    acceptor: Option<TlsAcceptor>,
    app: Router,
    request_time: Duration,
    limits: mocha_net::ConnectionLimits,
    shutdown: CancellationToken,
) {
    let graceful = GracefulShutdown::new();
    // The same caps, refusal and accept back-off as the NS and SB loops.
    let mut limiter = mocha_net::ConnectionLimiter::new(service, limits);
    loop {
        let (tcp, peer, permit) = tokio::select! {
            accepted = limiter.accept(&listener) => accepted,
            () = shutdown.cancelled() => break,
        };
        let acceptor = acceptor.clone();
        let app = app.clone();
        let watcher = graceful.watcher();
        tokio::spawn(async move {
            let _permit = permit;
            let Some(acceptor) = acceptor else {
                return serve_connection(tcp, peer, app, request_time, watcher).await;
            };
            let stream = match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
                Ok(Ok(stream)) => stream,
                Ok(Err(e)) => return tracing::debug!(%peer, error = %e, "HTTPS handshake failed"),
                Err(_) => return tracing::debug!(%peer, "HTTPS handshake timed out"),
            };
            serve_connection(stream, peer, app, request_time, watcher).await;
        });
    }
    if tokio::time::timeout(DRAIN_TIMEOUT, graceful.shutdown()).await.is_err() {
        tracing::info!(service, "HTTP connections still open after the drain period were closed");
    }
}

/// One connection's requests, each body read whole (within the cap and the time) first.
async fn serve_connection<S>(
    stream: S,
    peer: SocketAddr,
    app: Router,
    request_time: Duration,
    watcher: hyper_util::server::graceful::Watcher,
) where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let service = hyper::service::service_fn(move |request: Request<Incoming>| {
        let app = app.clone();
        async move {
            let (mut parts, body) = request.into_parts();
            parts.extensions.insert(ConnectInfo(peer));
            match request_body::read(body, MAX_REQUEST_BODY, request_time).await {
                Ok(body) => app.oneshot(Request::from_parts(parts, Body::from(body))).await,
                Err(e) => {
                    tracing::debug!(%peer, path = parts.uri.path(), error = %e, "HTTPS request refused");
                    Ok(refusal(parts.uri.path(), &e))
                }
            }
        }
    });
    let connection = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(request_time)
        .max_buf_size(MAX_HEADER_BYTES)
        .serve_connection(TokioIo::new(stream), service);
    if let Err(e) = watcher.watch(connection).await {
        tracing::debug!(%peer, error = %e, "HTTP connection ended with an error");
    }
}

/// The answer to a body that came too slowly or broken; the connection closes after it.
/// Under `/api/` it is the API's error envelope, elsewhere a line of text.
fn refusal(path: &str, error: &BodyError) -> Response<Body> {
    let (status, code, message) = match error {
        BodyError::TooSlow(_) => (StatusCode::REQUEST_TIMEOUT, "request_timeout", error.to_string()),
        BodyError::Unreadable(_) => {
            (StatusCode::BAD_REQUEST, "invalid_body", "the request body could not be read".to_string())
        }
    };
    // The message is ours (digits and words, no client text), so it needs no JSON escaping.
    let (content_type, body) = if path.starts_with("/api/") {
        ("application/json", format!(r#"{{"error":{{"code":"{code}","message":"{message}"}}}}"#))
    } else {
        ("text/plain; charset=utf-8", format!("{message}\n"))
    };
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(header::CONNECTION, HeaderValue::from_static("close"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::STRICT_TRANSPORT_SECURITY, HeaderValue::from_static(STRICT_TRANSPORT_SECURITY));
    response
}

/// The address a listener really got (port 0 asks the OS to pick one).
pub fn local_addr(listener: &TcpListener) -> SocketAddr {
    listener.local_addr().expect("a bound listener has an address")
}
