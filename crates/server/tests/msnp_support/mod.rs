//! Helpers for the MSNP gateway tests: a server with the gateway on, classic clients
//! driven through the third-party `msnp11-sdk` (every call under a timeout: the SDK has
//! none), and a raw line connection for what the SDK does not send.
#![allow(dead_code)]

use std::collections::VecDeque;
use std::time::Duration;

use std::sync::Arc;

use msnp11_sdk::{Client, Event, MessagingError, MsnpStatus, PlainText, SdkError, Switchboard};
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
        config.msnp_switchboard_port = Some(0);
    })
    .await
}

pub fn msnp_port(t: &TestServer) -> u16 {
    t.server.msnp_addr.expect("the gateway is on").port()
}

pub fn switchboard_port(t: &TestServer) -> u16 {
    t.server.msnp_switchboard_addr.expect("the gateway's switchboard is on").port()
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

/// Events an SDK object reported, with those a wait passed over kept for later.
pub struct SdkEvents {
    events: mpsc::UnboundedReceiver<Event>,
    backlog: VecDeque<Event>,
}

impl SdkEvents {
    fn new(events: mpsc::UnboundedReceiver<Event>) -> Self {
        SdkEvents { events, backlog: VecDeque::new() }
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

/// The SDK's events, through an unbounded channel (its handlers are closures).
macro_rules! collect_events {
    ($source:expr) => {{
        let (sender, events) = mpsc::unbounded_channel();
        $source.add_event_handler_closure(move |event| {
            let sender = sender.clone();
            async move {
                let _ = sender.send(event);
            }
        });
        SdkEvents::new(events)
    }};
}

/// One msnp11-sdk client and the events it reported.
pub struct Sdk {
    pub client: Client,
    events: SdkEvents,
}

impl std::ops::Deref for Sdk {
    type Target = SdkEvents;
    fn deref(&self) -> &SdkEvents {
        &self.events
    }
}

impl std::ops::DerefMut for Sdk {
    fn deref_mut(&mut self) -> &mut SdkEvents {
        &mut self.events
    }
}

impl Sdk {
    /// Connects to the gateway (not signed in yet).
    pub async fn connect(t: &TestServer) -> Sdk {
        let client = within("connect", Client::new("127.0.0.1", msnp_port(t))).await.expect("SDK connects");
        let events = collect_events!(client);
        Sdk { client, events }
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

    /// Signed in as `user` and online (`CHG NLN`).
    pub async fn online(t: &TestServer, user: &TestUser) -> Sdk {
        let sdk = Sdk::sign_in(t, user).await;
        within("set_presence", sdk.client.set_presence(MsnpStatus::Online)).await.expect("CHG");
        sdk
    }

    /// The conversation the SDK answered (`RNG`, then `ANS`) when invited.
    pub async fn answered(&mut self) -> SdkChat {
        let sb = self
            .expect("an answered invitation", |e| match e {
                Event::SessionAnswered(sb) => Some(sb.clone()),
                _ => None,
            })
            .await;
        SdkChat::new(sb)
    }
}

/// One msnp11-sdk switchboard session and what it reported.
pub struct SdkChat {
    pub sb: Arc<Switchboard>,
    events: SdkEvents,
}

impl std::ops::Deref for SdkChat {
    type Target = SdkEvents;
    fn deref(&self) -> &SdkEvents {
        &self.events
    }
}

impl std::ops::DerefMut for SdkChat {
    fn deref_mut(&mut self) -> &mut SdkEvents {
        &mut self.events
    }
}

impl SdkChat {
    pub fn new(sb: Arc<Switchboard>) -> Self {
        let events = collect_events!(sb);
        SdkChat { sb, events }
    }

    pub async fn expect_participant(&mut self, email: &str) {
        self.expect("a participant (JOI or IRO)", |e| {
            matches!(e, Event::ParticipantInSwitchboard { email: who } if who == email).then_some(())
        })
        .await;
    }

    /// The next text message from `email`.
    pub async fn expect_text(&mut self, email: &str) -> PlainText {
        self.expect("a text message", |e| match e {
            Event::TextMessage { email: from, message } if from == email => Some(message.clone()),
            _ => None,
        })
        .await
    }

    pub async fn send_text(&self, text: &str) -> Result<(), MessagingError> {
        let message = PlainText {
            bold: false,
            italic: false,
            underline: false,
            strikethrough: false,
            color: "0".into(),
            text: text.into(),
        };
        within("send_text_message", self.sb.send_text_message(&message)).await
    }
}

/// A hand-driven MSNP connection: one line out, lines back.
pub struct Raw {
    reader: BufReader<tokio::net::tcp::OwnedReadHalf>,
    writer: tokio::net::tcp::OwnedWriteHalf,
}

impl Raw {
    pub async fn connect(t: &TestServer) -> Raw {
        Raw::connect_to(msnp_port(t)).await
    }

    /// A connection to the gateway's switchboard.
    pub async fn switchboard(t: &TestServer) -> Raw {
        Raw::connect_to(switchboard_port(t)).await
    }

    pub async fn connect_to(port: u16) -> Raw {
        let tcp = TcpStream::connect(("127.0.0.1", port)).await.expect("gateway reachable");
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

/// A raw MSNP connection signed in as `user` with `version` (`MSNP8`…), online.
pub async fn raw_online(t: &TestServer, user: &TestUser, version: &str) -> Raw {
    let mut ns = Raw::connect(t).await;
    assert_eq!(ns.ask(&format!("VER 1 {version} CVR0")).await, format!("VER 1 {version} CVR0"));
    let handle = &user.account.username;
    ns.ask(&format!("USR 2 TWN I {handle}")).await;
    let ticket = ticket(t, handle, &user.password).await;
    let ok = ns.ask(&format!("USR 3 TWN S {ticket}")).await;
    assert!(ok.starts_with(&format!("USR 3 OK {handle}")), "{ok}");
    assert_eq!(ns.ask("CHG 4 NLN 0").await, "CHG 4 NLN 0");
    // The contacts online (ILN) follow; they are not what these tests look at.
    while ns.maybe_line(QUIET).await.is_some() {}
    ns
}

/// A classic text `MSG` payload.
pub fn text_payload(text: &str) -> String {
    format!(
        "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\nX-MMS-IM-Format: FN=Arial; EF=; CO=0; CS=0; PF=22\r\n\r\n{text}"
    )
}

impl Raw {
    /// Sends `MSG <trid> <ack> <len>` and its payload as one write.
    pub async fn send_msg(&mut self, trid: u32, ack: &str, payload: &str) {
        let wire = format!("MSG {trid} {ack} {}\r\n{payload}", payload.len());
        self.send_bytes(wire.as_bytes()).await;
    }

    /// Waits up to `within` for a line; `None` if none came (the connection stays usable).
    pub async fn maybe_line(&mut self, within: Duration) -> Option<String> {
        let mut line = String::new();
        match tokio::time::timeout(within, self.reader.read_line(&mut line)).await {
            Ok(Ok(n)) if n > 0 => Some(line.trim_end_matches(['\r', '\n']).to_string()),
            _ => None,
        }
    }
}
