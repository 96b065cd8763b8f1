//! What an operator watches: the `mocha-server` program with `--metrics-bind` and
//! `--log-format json`, its output going to pipes. After real traffic (sign-ups,
//! sign-ins good and bad, a Notification Server sign-in and a second one that kicks
//! the first, a contact request, chat text that becomes an activity alert, a file sent
//! in chunks, a stray datagram at the media relay, a page that is not there) Prometheus' scrape shows each of them counted; every line of standard
//! output is a JSON log record, and nothing anywhere holds a colour code.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

mod binary_support;

use std::time::Duration;

use binary_support::{Running, Stream};
use bytes::Bytes;
use mocha_client::ns::NsConnection;
use mocha_client::proto::im::{FileCommand, FileControl, ImPayload};
use mocha_client::proto::ns::ServerCommand;
use mocha_client::proto::sb::client::AckMode;
use mocha_client::proto::{OutReason, Status};
use mocha_client::sb::{Delivery, SbConnection, SbEvent};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const PASSWORD: &str = "metrics-Passw0rd-long";
const WAIT: Duration = Duration::from_secs(10);
const FILE_BYTES: usize = 96 * 1024;

/// A file offer (with its name, size and hash) or, without a size, the answer to one.
fn file_control(command: FileCommand, size: Option<u64>) -> ImPayload {
    let sha256 = size.map(|_| {
        let digest = ring::digest::digest(&ring::digest::SHA256, &[7u8; FILE_BYTES]);
        digest.as_ref().iter().map(|b| format!("{b:02x}")).collect()
    });
    let name = size.map(|_| "sevens.bin".to_owned());
    ImPayload::File(FileControl { command, transfer_id: "t-1".into(), to: None, name, size, sha256 })
}

/// `GET /metrics`, as Prometheus asks for it.
async fn scrape(port: u16) -> String {
    let mut tcp = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    tcp.write_all(b"GET /metrics HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n").await.unwrap();
    let mut response = String::new();
    tcp.read_to_string(&mut response).await.unwrap();
    let (head, body) = response.split_once("\r\n\r\n").unwrap();
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(head.to_ascii_lowercase().contains("content-type: text/plain; version=0.0.4"), "{head}");
    body.to_string()
}

/// The value of the sample `name` with every one of `labels` (`key="value"`), if any.
fn sample(text: &str, name: &str, labels: &[&str]) -> Option<f64> {
    text.lines()
        .filter(|line| !line.starts_with('#'))
        .filter(|line| line.split(['{', ' ']).next() == Some(name))
        .find(|line| labels.iter().all(|label| line.contains(label)))
        .and_then(|line| line.rsplit(' ').next()?.parse().ok())
}

fn at_least(text: &str, name: &str, labels: &[&str], least: f64) {
    let value = sample(text, name, labels);
    assert!(
        value.is_some_and(|v| v >= least),
        "{name}{labels:?} should be >= {least}, is {value:?}:\n{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_real_traffic_and_json_logs_parse_without_colour() {
    let dir = tempfile::tempdir().unwrap();
    let server = Running::start(dir.path(), &["--metrics-bind", "0", "--log-format", "json"]);
    let metrics_port = server.port("Metrics");
    let (passport, trust) = server.passport(dir.path());
    let ns_port = server.port("Notification Server");
    let before = scrape(metrics_port).await;
    assert_eq!(sample(&before, "mocha_sign_ins_total", &[]), None, "nothing counted yet");

    let alice = passport.register("alice@example.com", "Alice", PASSWORD).await.unwrap();
    let bob = passport.register("bob@example.com", "Bob", PASSWORD).await.unwrap();
    let alice_tokens = passport.sign_in("alice@example.com", PASSWORD).await.unwrap();
    let bob_tokens = passport.sign_in("bob@example.com", PASSWORD).await.unwrap();
    assert!(passport.sign_in("alice@example.com", "wrong-password-1").await.is_err());
    let request =
        passport.request_contact(&alice_tokens.session_token, "bob@example.com", None).await.unwrap();
    passport.accept_request(&bob_tokens.session_token, request.request.unwrap().id).await.unwrap();

    // Alice signs in to the NS twice: the second kicks the first (OUT OTH).
    let mut first = NsConnection::connect(("localhost", ns_port), "localhost", &trust).await.unwrap();
    first.sign_in(&alice_tokens.session_token).await.unwrap();
    let mut alice_ns = NsConnection::connect(("localhost", ns_port), "localhost", &trust).await.unwrap();
    alice_ns.sign_in(&alice_tokens.session_token).await.unwrap();
    let kicked = first
        .expect_push(WAIT, |push| match push {
            ServerCommand::Out(out) => Some(out.reason.clone()),
            _ => None,
        })
        .await
        .unwrap();
    assert_eq!(kicked, OutReason::SignedInElsewhere);
    alice_ns.set_status(Status::Online).await.unwrap();
    let mut bob_ns = NsConnection::connect(("localhost", ns_port), "localhost", &trust).await.unwrap();
    bob_ns.sign_in(&bob_tokens.session_token).await.unwrap();
    bob_ns.set_status(Status::Online).await.unwrap();

    // A conversation Bob leaves: Alice's next words become an alert for him.
    let referral = alice_ns.request_switchboard().await.unwrap();
    let (mut sb, _) =
        SbConnection::open(&referral.address, &referral.ticket, alice.id, &trust).await.unwrap();
    sb.invite(&bob.id.to_string()).await.unwrap();
    let rng = bob_ns
        .expect_push(WAIT, |push| match push {
            ServerCommand::Rng(rng) => Some(rng.clone()),
            _ => None,
        })
        .await
        .unwrap();
    let (mut bob_sb, _) =
        SbConnection::answer(rng.address.as_str(), rng.ticket.as_str(), rng.room_id.as_str(), bob.id, &trust)
            .await
            .unwrap();
    sb.expect_event(WAIT, |e| matches!(e, SbEvent::Joined(_)).then_some(())).await.unwrap();
    assert_eq!(sb.send_text("hello Bob").await.unwrap(), Delivery::Delivered);
    bob_sb.expect_event(WAIT, |e| matches!(e, SbEvent::Message { .. }).then_some(())).await.unwrap();
    // A 96 KiB file, offered, accepted and sent in three chunks: the relayed bytes are counted.
    let offer = file_control(FileCommand::Offer, Some(FILE_BYTES as u64));
    assert_eq!(sb.send(&offer, AckMode::Always).await.unwrap(), Delivery::Delivered);
    bob_sb.expect_event(WAIT, |e| matches!(e, SbEvent::Message { .. }).then_some(())).await.unwrap();
    bob_sb.send(&file_control(FileCommand::Accept, None), AckMode::Always).await.unwrap();
    sb.expect_event(WAIT, |e| matches!(e, SbEvent::Message { .. }).then_some(())).await.unwrap();
    for offset in (0..FILE_BYTES).step_by(FILE_BYTES / 3) {
        sb.send_file_chunk("t-1", offset as u64, Bytes::from(vec![7u8; FILE_BYTES / 3])).await.unwrap();
    }
    let mut received = 0;
    while received < FILE_BYTES {
        received += bob_sb
            .expect_event(WAIT, |e| match e {
                SbEvent::FileChunk { data, .. } => Some(data.len()),
                _ => None,
            })
            .await
            .unwrap();
    }
    // Something that is not a Mocha datagram, at the media relay: dropped, and counted.
    let stray = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    stray.send_to(b"not a media datagram", ("127.0.0.1", server.port("Media relay"))).unwrap();
    bob_sb.leave().await.unwrap();
    sb.expect_event(WAIT, |e| matches!(e, SbEvent::Left { .. }).then_some(())).await.unwrap();
    assert_eq!(sb.send_text("are you there?").await.unwrap(), Delivery::NotDelivered);

    let missing = passport.download("/download/nope/nope/nope", WAIT).await.unwrap();
    assert_eq!(missing.status(), 404);

    let after = scrape(metrics_port).await;
    let accounts = ["route=\"/api/v1/accounts\"", "method=\"POST\""];
    at_least(&after, "mocha_http_requests_total", &[accounts[0], accounts[1], "status=\"201\""], 2.0);
    at_least(&after, "mocha_http_request_duration_seconds_count", &accounts, 2.0);
    assert!(
        sample(&after, "mocha_http_request_duration_seconds_bucket", &[accounts[0], "le=\"+Inf\""]).is_some(),
        "latency is a histogram with buckets:\n{after}"
    );
    at_least(&after, "mocha_http_requests_total", &["status=\"404\""], 1.0);
    at_least(&after, "mocha_sign_ins_total", &["service=\"passport\"", "result=\"ok\""], 2.0);
    at_least(&after, "mocha_sign_ins_total", &["service=\"passport\"", "result=\"wrong_password\""], 1.0);
    at_least(&after, "mocha_sign_ins_total", &["service=\"notification\"", "result=\"ok\""], 3.0);
    at_least(&after, "mocha_kicks_total", &["reason=\"OTH\""], 1.0);
    at_least(&after, "mocha_connections_accepted_total", &["service=\"notification\""], 3.0);
    at_least(&after, "mocha_connections_accepted_total", &["service=\"switchboard\""], 2.0);
    at_least(&after, "mocha_connections_accepted_total", &["service=\"passport\""], 1.0);
    at_least(&after, "mocha_switchboard_messages_total", &[], 2.0);
    at_least(&after, "mocha_switchboard_deliveries_total", &[], 1.0);
    assert_eq!(sample(&after, "mocha_online_users", &["service=\"notification\""]), Some(2.0), "{after}");
    assert_eq!(sample(&after, "mocha_activity_alerts_stored", &[]), Some(1.0), "{after}");
    at_least(&after, "mocha_database_write_wait_seconds_count", &[], 1.0);
    at_least(&after, "mocha_database_pool_connections", &["pool=\"write\""], 0.0);
    at_least(&after, "mocha_file_bytes_relayed_total", &[], FILE_BYTES as f64);
    at_least(&after, "mocha_media_dropped_total", &["reason=\"malformed\""], 1.0);
    assert_eq!(sample(&after, "mocha_media_copies_total", &["path=\"udp\""]), Some(0.0), "{after}");
    // Every handshake that queued for a slot or ran has left the gauge again.
    for state in ["state=\"queued\"", "state=\"running\""] {
        let handshakes = sample(&after, "mocha_tls_handshakes", &["service=\"notification\"", state]);
        assert_eq!(handshakes, Some(0.0), "{state}: {after}");
    }

    // The alert delivered: the store shrinks.
    assert_eq!(passport.poll_alerts(&bob_tokens.session_token).await.unwrap().len(), 1);
    assert_eq!(sample(&scrape(metrics_port).await, "mocha_activity_alerts_stored", &[]), Some(0.0));

    let said = server.stop();
    let mut records = 0;
    for (stream, line) in &said {
        assert!(!line.contains('\u{1b}'), "no colour codes in piped output: {line:?}");
        if *stream == Stream::Stdout {
            let record: serde_json::Value =
                serde_json::from_str(line).unwrap_or_else(|e| panic!("not a JSON log record ({e}): {line}"));
            assert!(record["level"].is_string() && record["timestamp"].is_string(), "{line}");
            assert!(record["fields"]["message"].is_string(), "{line}");
            records += 1;
        }
    }
    let listening = said
        .iter()
        .any(|(stream, line)| *stream == Stream::Stdout && line.contains("Notification Server listening"));
    assert!(records > 5 && listening, "the log went to standard output as JSON: {said:#?}");
}
