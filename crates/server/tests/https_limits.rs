//! Issue 19, parts 2 and 5: how long a client may take to send a request, over real
//! TLS with records the test controls, and the headers every API response carries.
#![allow(clippy::unwrap_used)]

mod common;
mod https_support;

use std::time::{Duration, Instant};

use common::TestServer;
use https_support::{read_until_closed, request_head, send_record};
use reqwest::header::{CACHE_CONTROL, STRICT_TRANSPORT_SECURITY};

/// The request time these tests give the server (`http_request_seconds`).
const REQUEST_SECONDS: u64 = 1;

async fn quick_server() -> TestServer {
    TestServer::start_with(|config| config.http_request_seconds = REQUEST_SECONDS).await
}

/// Sends `head`, then one byte of body every 100 ms until the server closes the
/// connection; returns what the server sent and how long after the head it closed.
async fn trickle_body(t: &TestServer, head: String) -> (String, Duration) {
    let mut connection = https_support::connect(t).await;
    send_record(&mut connection, head.as_bytes()).await.unwrap();
    let sent = Instant::now();
    let (mut reader, mut writer) = tokio::io::split(connection);
    let trickler = tokio::spawn(async move {
        loop {
            tokio::time::sleep(Duration::from_millis(100)).await;
            if send_record(&mut writer, b"a").await.is_err() {
                return;
            }
        }
    });
    let received = read_until_closed(&mut reader, Duration::from_secs(REQUEST_SECONDS + 10)).await;
    trickler.abort();
    let received = received.expect("the server closed the connection of a body trickling past the deadline");
    (String::from_utf8_lossy(&received).into_owned(), sent.elapsed())
}

#[tokio::test]
async fn a_body_trickled_past_the_deadline_gets_408_and_a_closed_connection() {
    let t = quick_server().await;
    for (path, content_type) in [
        ("/api/v1/sessions", "application/json"),
        ("/api/v1/accounts", "application/json"),
        // The web forms go through the same door.
        ("/sign-in", "application/x-www-form-urlencoded"),
    ] {
        // 1,000 bytes at 10 a second would take 100 s.
        let (answer, after) = trickle_body(&t, request_head("POST", path, content_type, 1000)).await;
        assert!(answer.starts_with("HTTP/1.1 408"), "{path}: {answer}");
        assert!(answer.to_ascii_lowercase().contains("connection: close"), "{path}: {answer}");
        assert!(after >= Duration::from_millis(900), "{path}: closed after {after:?}, before the deadline");
        assert!(after < Duration::from_secs(REQUEST_SECONDS + 3), "{path}: closed only after {after:?}");
        if path.starts_with("/api/") {
            assert!(answer.contains(r#""code":"request_timeout""#), "{path}: {answer}");
        }
    }
    // A body sent briskly is still welcome, in many small records too.
    let mut connection = https_support::connect(&t).await;
    let body = br#"{"username":"nobody@example.com","password":"not-the-password-1"}"#;
    send_record(
        &mut connection,
        request_head("POST", "/api/v1/sessions", "application/json", body.len()).as_bytes(),
    )
    .await
    .unwrap();
    for byte in body {
        send_record(&mut connection, &[*byte]).await.unwrap();
    }
    let mut answer = vec![0u8; 512];
    let n = tokio::io::AsyncReadExt::read(&mut connection, &mut answer).await.unwrap();
    let answer = String::from_utf8_lossy(&answer[..n]);
    assert!(answer.starts_with("HTTP/1.1 401"), "a complete body is answered: {answer}");
}

#[tokio::test]
async fn headers_trickled_past_the_deadline_close_the_connection() {
    let t = quick_server().await;
    let mut connection = https_support::connect(&t).await;
    send_record(&mut connection, b"GET /api/v1/status HTTP/1.1\r\nHost: localhost\r\n").await.unwrap();
    let sent = Instant::now();
    let (mut reader, mut writer) = tokio::io::split(connection);
    let trickler = tokio::spawn(async move {
        loop {
            tokio::time::sleep(Duration::from_millis(100)).await;
            if send_record(&mut writer, b"X-Slow: 1\r\n").await.is_err() {
                return;
            }
        }
    });
    let received = read_until_closed(&mut reader, Duration::from_secs(REQUEST_SECONDS + 10)).await;
    trickler.abort();
    assert!(received.is_some(), "the server closed the connection of headers trickling past the deadline");
    let after = sent.elapsed();
    assert!(after < Duration::from_secs(REQUEST_SECONDS + 3), "closed only after {after:?}");
}

#[tokio::test]
async fn oversized_headers_are_refused_at_once() {
    let t = TestServer::start().await;
    // 20 KiB of headers, not yet finished: the server must not wait for (and buffer) more.
    let mut connection = https_support::connect(&t).await;
    let head = format!("GET /api/v1/status HTTP/1.1\r\nHost: localhost\r\nX-Big: {}", "b".repeat(20 * 1024));
    send_record(&mut connection, head.as_bytes()).await.unwrap();
    let received = read_until_closed(&mut connection, Duration::from_secs(5))
        .await
        .expect("the server closed the connection instead of buffering more headers");
    // The answer may be lost to the reset that closing on unread bytes causes; if it came, it says why.
    let answer = String::from_utf8_lossy(&received);
    assert!(answer.is_empty() || answer.starts_with("HTTP/1.1 431"), "{answer}");
}

fn reqwest_client(t: &TestServer) -> reqwest::Client {
    reqwest::Client::builder()
        .tls_backend_preconfigured((*t.trust.client_config().unwrap()).clone())
        .build()
        .unwrap()
}

fn assert_api_headers(response: &reqwest::Response, what: &str) {
    let headers = response.headers();
    assert_eq!(headers.get(CACHE_CONTROL).map(|v| v.to_str().unwrap()), Some("no-store"), "{what}");
    let hsts = headers.get(STRICT_TRANSPORT_SECURITY).map(|v| v.to_str().unwrap().to_string());
    assert!(
        hsts.as_deref().is_some_and(|v| v.starts_with("max-age=") && v != "max-age=0"),
        "{what}: {hsts:?}"
    );
}

#[tokio::test]
async fn token_responses_are_not_stored_and_the_api_asks_for_https_only() {
    let t = TestServer::start().await;
    let http = reqwest_client(&t);
    let url =
        |path: &str| format!("https://localhost:{}/api/v1{path}", t.server.passport_addr.unwrap().port());

    let registered = http
        .post(url("/accounts"))
        .json(&serde_json::json!({"username": "alice@example.com", "display_name": "Alice", "password": "correct-horse-9"}))
        .send()
        .await
        .unwrap();
    assert_eq!(registered.status(), 201);
    assert_api_headers(&registered, "register");

    let signed_in = http
        .post(url("/sessions"))
        .json(&serde_json::json!({"username": "alice@example.com", "password": "correct-horse-9"}))
        .send()
        .await
        .unwrap();
    assert_eq!(signed_in.status(), 200);
    assert_api_headers(&signed_in, "sign-in");
    let tokens: serde_json::Value = signed_in.json().await.unwrap();

    let refreshed = http
        .post(url("/sessions/refresh"))
        .json(&serde_json::json!({"refresh_token": tokens["refresh_token"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(refreshed.status(), 200);
    assert_api_headers(&refreshed, "refresh");
    let tokens: serde_json::Value = refreshed.json().await.unwrap();

    let me =
        http.get(url("/me")).bearer_auth(tokens["session_token"].as_str().unwrap()).send().await.unwrap();
    assert_eq!(me.status(), 200);
    assert_api_headers(&me, "GET /me");
    let refused = http
        .post(url("/sessions"))
        .json(&serde_json::json!({"username": "alice@example.com", "password": "wrong-password-1"}))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 401);
    assert_api_headers(&refused, "a refused sign-in");
    for path in ["/status", "/openapi.json", "/no-such-endpoint"] {
        let response = http.get(url(path)).send().await.unwrap();
        assert!(response.headers().contains_key(STRICT_TRANSPORT_SECURITY), "{path}");
    }
}
