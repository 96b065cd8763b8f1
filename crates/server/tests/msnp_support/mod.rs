//! Helpers for the MSNP gateway tests: a server with the gateway on, classic clients
//! driven through the third-party `msnp11-sdk` (every call under a timeout: the SDK has
//! none), and a raw line connection for what the SDK does not send.
#![allow(dead_code)]

use std::collections::VecDeque;
use std::time::Duration;

use msnp11_sdk::{Client, Event, SdkError};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::sync::mpsc;

use crate::common::{TestServer, TestUser};

pub const WAIT: Duration = Duration::from_secs(10);
pub const QUIET: Duration = Duration::from_millis(500);

/// A test server with the MSNP gateway and its plain-HTTP login on OS-picked ports.
pub async fn start() -> TestServer {
    TestServer::start_with(|config| {
        config.msnp_port = Some(0);
        config.msnp_http_port = Some(0);
    })
    .await
}

pub fn msnp_port(t: &TestServer) -> u16 {
    t.server.msnp_addr.expect("the gateway is on").port()
}

pub fn http_port(t: &TestServer) -> u16 {
    t.server.msnp_http_addr.expect("the gateway's login is on").port()
}

pub fn nexus_url(t: &TestServer) -> String {
    format!("http://127.0.0.1:{}/rdr/pprdr.asp", http_port(t))
}

/// Runs an SDK call with a deadline.
pub async fn within<T>(what: &str, call: impl Future<Output = T>) -> T {
    tokio::time::timeout(WAIT, call).await.unwrap_or_else(|_| panic!("msnp11-sdk: {what} timed out"))
}

/// One msnp11-sdk client and the events it reported.
pub struct Sdk {
    pub client: Client,
    events: mpsc::UnboundedReceiver<Event>,
    backlog: VecDeque<Event>,
}

impl Sdk {
    /// Connects to the gateway (not signed in yet).
    pub async fn connect(t: &TestServer) -> Sdk {
        let client = within("connect", Client::new("127.0.0.1", msnp_port(t))).await.expect("SDK connects");
        let (sender, events) = mpsc::unbounded_channel();
        client.add_event_handler_closure(move |event| {
            let sender = sender.clone();
            async move {
                let _ = sender.send(event);
            }
        });
        Sdk { client, events, backlog: VecDeque::new() }
    }

    /// Signs in with `password` through the nexus, the login and `USR TWN`.
    pub async fn login(&self, t: &TestServer, user: &TestUser, password: &str) -> Result<Event, SdkError> {
        let nexus = nexus_url(t);
        let login = self.client.login(user.account.username.clone(), password, &nexus, "MSNMSGR", "7.0.0816");
        within("login", login).await
    }

    /// Connected and signed in as `user`.
    pub async fn sign_in(t: &TestServer, user: &TestUser) -> Sdk {
        let sdk = Sdk::connect(t).await;
        let signed_in = sdk.login(t, user, &user.password).await.expect("SDK signs in");
        assert!(matches!(signed_in, Event::Authenticated), "{signed_in:?}");
        sdk
    }

    pub async fn try_expect<T>(
        &mut self,
        within: Duration,
        mut pick: impl FnMut(&Event) -> Option<T>,
    ) -> Option<T> {
        if let Some(index) = self.backlog.iter().position(|e| pick(e).is_some()) {
            let event = self.backlog.remove(index).expect("in range");
            return pick(&event);
        }
        let wait = async {
            loop {
                let event = self.events.recv().await?;
                if let Some(picked) = pick(&event) {
                    return Some(picked);
                }
                self.backlog.push_back(event);
            }
        };
        tokio::time::timeout(within, wait).await.ok().flatten()
    }

    /// The first event `pick` accepts; panics after [`WAIT`] with what came instead.
    pub async fn expect<T>(&mut self, what: &str, pick: impl FnMut(&Event) -> Option<T>) -> T {
        match self.try_expect(WAIT, pick).await {
            Some(picked) => picked,
            None => panic!("msnp11-sdk never reported {what}; it reported {:?}", self.backlog),
        }
    }

    /// Asserts that nothing `pick` accepts arrives for a moment.
    pub async fn expect_none<T: std::fmt::Debug>(
        &mut self,
        what: &str,
        pick: impl FnMut(&Event) -> Option<T>,
    ) {
        if let Some(picked) = self.try_expect(QUIET, pick).await {
            panic!("msnp11-sdk reported {what}: {picked:?}");
        }
    }
}

/// A hand-driven MSNP connection: one line out, lines back.
pub struct Raw {
    reader: BufReader<tokio::net::tcp::OwnedReadHalf>,
    writer: tokio::net::tcp::OwnedWriteHalf,
}

impl Raw {
    pub async fn connect(t: &TestServer) -> Raw {
        let tcp = TcpStream::connect(("127.0.0.1", msnp_port(t))).await.expect("gateway reachable");
        let (read, writer) = tcp.into_split();
        Raw { reader: BufReader::new(read), writer }
    }

    pub async fn send(&mut self, line: &str) {
        self.send_bytes(format!("{line}\r\n").as_bytes()).await;
    }

    pub async fn send_bytes(&mut self, bytes: &[u8]) {
        self.writer.write_all(bytes).await.expect("gateway takes the line");
    }

    /// The next line, without `\r\n`; `None` once the gateway closed the connection.
    pub async fn line(&mut self) -> Option<String> {
        let mut line = String::new();
        let read =
            tokio::time::timeout(WAIT, self.reader.read_line(&mut line)).await.expect("a line in time");
        match read {
            Ok(0) | Err(_) => None,
            Ok(_) => Some(line.trim_end_matches(['\r', '\n']).to_string()),
        }
    }

    /// `length` payload bytes after a line.
    pub async fn payload(&mut self, length: usize) -> String {
        let mut bytes = vec![0; length];
        tokio::time::timeout(WAIT, self.reader.read_exact(&mut bytes))
            .await
            .expect("in time")
            .expect("payload");
        String::from_utf8(bytes).expect("UTF-8 payload")
    }

    /// Sends `line` and returns the answer.
    pub async fn ask(&mut self, line: &str) -> String {
        self.send(line).await;
        self.line().await.unwrap_or_else(|| panic!("the gateway closed instead of answering {line:?}"))
    }

    /// Waits for the gateway to close the connection, returning what it sent first.
    pub async fn closed(&mut self) -> Vec<String> {
        let mut last = Vec::new();
        while let Some(line) = self.line().await {
            last.push(line);
        }
        last
    }
}

/// A plain HTTP/1.1 GET to the gateway's login port; the status line and headers
/// (names in lower case) of the answer.
pub async fn http_get(
    t: &TestServer,
    path: &str,
    authorization: Option<&str>,
) -> (u16, Vec<(String, String)>) {
    let mut tcp = TcpStream::connect(("127.0.0.1", http_port(t))).await.expect("login port reachable");
    let mut request = format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n");
    if let Some(authorization) = authorization {
        request.push_str(&format!("Authorization: {authorization}\r\n"));
    }
    request.push_str("\r\n");
    tcp.write_all(request.as_bytes()).await.expect("request sent");
    let mut answer = Vec::new();
    tokio::time::timeout(WAIT, tcp.read_to_end(&mut answer)).await.expect("answer in time").expect("answer");
    let answer = String::from_utf8_lossy(&answer).to_string();
    let head = answer.split("\r\n\r\n").next().unwrap_or_default();
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|line| line.split(' ').nth(1))
        .and_then(|code| code.parse().ok())
        .expect("a status");
    let headers = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().to_string()))
        .collect();
    (status, headers)
}

pub fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
}

/// Signs in over the login URL as a classic client would, returning the `t=` ticket.
pub async fn ticket(t: &TestServer, username: &str, password: &str) -> String {
    let authorization = format!(
        "Passport1.4 OrgVerb=GET,OrgURL=http%3A%2F%2Fmessenger%2Emsn%2Ecom,sign-in={username},pwd={password},lc=1033"
    );
    let (status, headers) = http_get(t, "/login.srf", Some(&authorization)).await;
    assert_eq!(status, 200, "{headers:?}");
    let info = header(&headers, "authentication-info").expect("Authentication-Info");
    let (_, from_pp) = info.split_once("from-PP='").expect("from-PP last");
    from_pp.trim_end_matches('\'').to_string()
}
