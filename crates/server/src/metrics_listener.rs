//! Prometheus metrics at `GET /metrics` on a plain-HTTP listener of its own
//! (`metrics_bind`; off unless set). Counters and histograms are recorded where things
//! happen, through the `metrics` facade (a no-op until the exporter is installed);
//! gauges of state the services already keep (who is online, stored alerts, the
//! database pools) are read when Prometheus scrapes. The text format is
//! `metrics-exporter-prometheus`'s. docs/operations.md lists every metric.

use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{BuildError, Matcher, PrometheusBuilder, PrometheusHandle};
use mocha_passport::Passport;
use mocha_switchboard::{Relay, RelayStats};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// Latency buckets, in seconds, for every `*_seconds` histogram: 0.5 ms to 10 s.
const SECONDS_BUCKETS: [f64; 14] =
    [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

/// How often recorded histogram samples are folded into their buckets.
const UPKEEP_EVERY: std::time::Duration = std::time::Duration::from_secs(5);

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

#[derive(Debug, thiserror::Error)]
pub enum MetricsError {
    #[error("cannot set up the metrics recorder: {0}")]
    Recorder(#[from] BuildError),
    #[error("another metrics recorder is already installed in this process")]
    Taken,
}

/// The process's recorder, installed on first use (one per process; servers started
/// in one process, as tests do, share it).
fn recorder() -> Result<&'static PrometheusHandle, MetricsError> {
    if let Some(handle) = HANDLE.get() {
        return Ok(handle);
    }
    let recorder = PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), &SECONDS_BUCKETS)?
        .build_recorder();
    let handle = recorder.handle();
    if HANDLE.set(handle).is_ok() {
        metrics::set_global_recorder(recorder).map_err(|_| MetricsError::Taken)?;
    }
    HANDLE.get().ok_or(MetricsError::Taken)
}

/// Installs the recorder; the listener is served by [`serve`].
pub fn install() -> Result<(), MetricsError> {
    recorder().map(drop)
}

#[derive(Clone)]
struct Scrape {
    handle: &'static PrometheusHandle,
    passport: Arc<Passport>,
    relay: MediaRelaySlot,
}

/// The media relay, once the server has made it (after the metrics listener starts).
pub type MediaRelaySlot = Arc<OnceLock<Arc<Relay>>>;

/// Serves `GET /metrics` on `listener` until `shutdown`.
pub async fn serve(
    listener: TcpListener,
    passport: Arc<Passport>,
    relay: MediaRelaySlot,
    shutdown: CancellationToken,
) {
    let Ok(handle) = recorder() else { return };
    let app = Router::new().route("/metrics", axum::routing::get(scrape)).with_state(Scrape {
        handle,
        passport,
        relay,
    });
    // Histograms are kept in buffers until upkeep folds them in; without the exporter's
    // own HTTP listener that is ours to run, or they would grow between scrapes.
    let upkeep = tokio::spawn({
        let shutdown = shutdown.clone();
        async move {
            let mut every = tokio::time::interval(UPKEEP_EVERY);
            loop {
                tokio::select! {
                    _ = every.tick() => handle.run_upkeep(),
                    () = shutdown.cancelled() => return,
                }
            }
        }
    });
    let stopped = shutdown.cancelled_owned();
    if let Err(error) = axum::serve(listener, app).with_graceful_shutdown(stopped).await {
        tracing::warn!(%error, "the metrics listener stopped");
    }
    upkeep.abort();
}

async fn scrape(State(scrape): State<Scrape>) -> impl IntoResponse {
    let passport = &scrape.passport;
    for service in passport.status_board().report().services {
        if let Some(online) = service.online_users {
            metrics::gauge!("mocha_online_users", "service" => service.name).set(online as f64);
        }
    }
    match passport.stored_alert_count().await {
        Ok(count) => metrics::gauge!("mocha_activity_alerts_stored").set(count as f64),
        Err(error) => tracing::debug!(%error, "cannot count the stored alerts for /metrics"),
    }
    for pool in passport.database_pools() {
        metrics::gauge!("mocha_database_pool_connections", "pool" => pool.name, "state" => "idle")
            .set(pool.idle as f64);
        metrics::gauge!("mocha_database_pool_connections", "pool" => pool.name, "state" => "busy")
            .set(pool.size.saturating_sub(pool.idle) as f64);
    }
    if let Some(relay) = scrape.relay.get() {
        record_media_relay(relay.stats());
    }
    ([(axum::http::header::CONTENT_TYPE, "text/plain; version=0.0.4")], scrape.handle.render())
}

/// The media relay counts in atomics of its own (per datagram, no label lookups); they
/// are copied into the exporter's counters when scraped.
fn record_media_relay(stats: RelayStats) {
    for (path, copies) in [("udp", stats.forwarded_udp), ("tls", stats.forwarded_tls)] {
        metrics::counter!("mocha_media_copies_total", "path" => path).absolute(copies);
    }
    let drops = [
        ("stranger", stats.dropped_stranger),
        ("replay", stats.dropped_replay),
        ("forged", stats.dropped_forged),
        ("oversize", stats.dropped_oversize),
        ("token", stats.dropped_token),
        ("throttled", stats.dropped_throttled),
        ("malformed", stats.dropped_malformed),
        ("queue_full", stats.dropped_lane_full),
        ("send_failed", stats.send_failed),
    ];
    for (reason, dropped) in drops {
        metrics::counter!("mocha_media_dropped_total", "reason" => reason).absolute(dropped);
    }
}

/// Counts each HTTPS request by route (the route's pattern, never the path a client
/// sent: no user ids in labels) and status, and times it.
pub async fn track_http(request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_string(), |path| path.as_str().to_string());
    let method = request.method().as_str().to_string();
    let started = Instant::now();
    let response = next.run(request).await;
    let status = response.status().as_u16().to_string();
    metrics::histogram!("mocha_http_request_duration_seconds", "route" => route.clone(), "method" => method.clone())
        .record(started.elapsed().as_secs_f64());
    metrics::counter!("mocha_http_requests_total", "route" => route, "method" => method, "status" => status)
        .increment(1);
    response
}

/// Binds the metrics listener.
pub async fn bind(addr: SocketAddr) -> std::io::Result<TcpListener> {
    TcpListener::bind(addr).await
}
