//! Loopback-only helpers that sit between a client and the server: a relay whose
//! connections the test can cut, and SOCKS5 and HTTP `CONNECT` proxies that demand a
//! user and password and remember every tunnel they opened.
#![allow(clippy::unwrap_used)] // test scaffolding: a failed unwrap is a failed test

use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// Forwards every connection to `target`; [`Relay::cut`] drops the open ones.
pub struct Relay {
    pub port: u16,
    connections: Arc<Mutex<Vec<JoinHandle<()>>>>,
    accepted: Arc<Mutex<usize>>,
    closed: Arc<Mutex<bool>>,
    acceptor: JoinHandle<()>,
}

impl Relay {
    pub async fn start(target: u16) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let port = listener.local_addr().expect("address").port();
        let connections = Arc::new(Mutex::new(Vec::new()));
        let accepted = Arc::new(Mutex::new(0));
        let closed = Arc::new(Mutex::new(false));
        let (list, count, shut) = (connections.clone(), accepted.clone(), closed.clone());
        let acceptor = tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                if *shut.lock().unwrap() {
                    continue;
                }
                *count.lock().unwrap() += 1;
                list.lock().unwrap().push(tokio::spawn(async move {
                    if let Ok(mut server) = TcpStream::connect(("127.0.0.1", target)).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                }));
            }
        });
        Self { port, connections, accepted, closed, acceptor }
    }

    /// Drops every open connection and refuses new ones until [`Relay::resume`].
    pub fn cut_off(&self) {
        *self.closed.lock().unwrap() = true;
        self.cut();
    }

    pub fn resume(&self) {
        *self.closed.lock().unwrap() = false;
    }

    /// Drops every open connection, as a network failure would.
    pub fn cut(&self) {
        for connection in self.connections.lock().unwrap().drain(..) {
            connection.abort();
        }
    }

    /// Connections forwarded so far.
    pub fn accepted(&self) -> usize {
        *self.accepted.lock().unwrap()
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.acceptor.abort();
        self.cut();
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Kind {
    Socks5,
    HttpConnect,
}

/// What a proxy saw: each tunnel's target and the credentials offered for it.
#[derive(Clone, Debug, Default)]
pub struct Seen {
    pub tunnels: Vec<(String, u16)>,
    pub credentials: Vec<(String, String)>,
    pub refused: usize,
}

pub struct TestProxy {
    pub port: u16,
    seen: Arc<Mutex<Seen>>,
    acceptor: JoinHandle<()>,
}

impl TestProxy {
    /// A proxy that accepts only `user`/`password`.
    pub async fn start(kind: Kind, user: &str, password: &str) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let port = listener.local_addr().expect("address").port();
        let seen = Arc::new(Mutex::new(Seen::default()));
        let (log, user, password) = (seen.clone(), user.to_string(), password.to_string());
        let acceptor = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let (log, user, password) = (log.clone(), user.clone(), password.clone());
                tokio::spawn(async move {
                    let _ = match kind {
                        Kind::Socks5 => socks5(client, &log, &user, &password).await,
                        Kind::HttpConnect => http_connect(client, &log, &user, &password).await,
                    };
                });
            }
        });
        Self { port, seen, acceptor }
    }

    pub fn seen(&self) -> Seen {
        self.seen.lock().unwrap().clone()
    }

    pub fn url(&self, kind: Kind, user: &str, password: &str) -> String {
        let scheme = if kind == Kind::Socks5 { "socks5" } else { "http" };
        format!("{scheme}://{user}:{password}@127.0.0.1:{}", self.port)
    }
}

impl Drop for TestProxy {
    fn drop(&mut self) {
        self.acceptor.abort();
    }
}

async fn socks5(mut client: TcpStream, log: &Mutex<Seen>, user: &str, password: &str) -> std::io::Result<()> {
    let mut head = [0u8; 2];
    client.read_exact(&mut head).await?;
    let mut methods = vec![0u8; head[1] as usize];
    client.read_exact(&mut methods).await?;
    if head[0] != 5 || !methods.contains(&2) {
        log.lock().unwrap().refused += 1;
        return client.write_all(&[5, 0xff]).await;
    }
    client.write_all(&[5, 2]).await?;
    let _version = client.read_u8().await?;
    let mut name = vec![0u8; client.read_u8().await? as usize];
    client.read_exact(&mut name).await?;
    let mut secret = vec![0u8; client.read_u8().await? as usize];
    client.read_exact(&mut secret).await?;
    let (name, secret) =
        (String::from_utf8_lossy(&name).into_owned(), String::from_utf8_lossy(&secret).into_owned());
    let accepted = name == user && secret == password;
    log.lock().unwrap().credentials.push((name, secret));
    if !accepted {
        log.lock().unwrap().refused += 1;
        return client.write_all(&[1, 1]).await;
    }
    client.write_all(&[1, 0]).await?;
    let mut request = [0u8; 4];
    client.read_exact(&mut request).await?;
    let host = match request[3] {
        1 => {
            let mut ip = [0u8; 4];
            client.read_exact(&mut ip).await?;
            std::net::Ipv4Addr::from(ip).to_string()
        }
        3 => {
            let mut host = vec![0u8; client.read_u8().await? as usize];
            client.read_exact(&mut host).await?;
            String::from_utf8_lossy(&host).into_owned()
        }
        _ => {
            let mut ip = [0u8; 16];
            client.read_exact(&mut ip).await?;
            std::net::Ipv6Addr::from(ip).to_string()
        }
    };
    let port = client.read_u16().await?;
    log.lock().unwrap().tunnels.push((host.clone(), port));
    let mut server = TcpStream::connect((host.as_str(), port)).await?;
    client.write_all(&[5, 0, 0, 1, 127, 0, 0, 1, 0, 0]).await?;
    tokio::io::copy_bidirectional(&mut client, &mut server).await.map(drop)
}

async fn http_connect(
    mut client: TcpStream,
    log: &Mutex<Seen>,
    user: &str,
    password: &str,
) -> std::io::Result<()> {
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        head.push(client.read_u8().await?);
    }
    let head = String::from_utf8_lossy(&head).into_owned();
    let target = head.split_whitespace().nth(1).unwrap_or_default().to_string();
    let credentials = head
        .lines()
        .find_map(|line| {
            line.strip_prefix("Proxy-Authorization: Basic ")
                .or_else(|| line.strip_prefix("proxy-authorization: Basic "))
        })
        .and_then(|b64| {
            use base64::Engine;
            base64::engine::general_purpose::STANDARD.decode(b64.trim()).ok()
        })
        .map(|raw| String::from_utf8_lossy(&raw).into_owned());
    let (name, secret) = credentials
        .as_deref()
        .and_then(|c| c.split_once(':'))
        .map(|(n, s)| (n.to_string(), s.to_string()))
        .unwrap_or_default();
    let accepted = name == user && secret == password;
    log.lock().unwrap().credentials.push((name, secret));
    if !head.starts_with("CONNECT ") || !accepted {
        log.lock().unwrap().refused += 1;
        return client.write_all(b"HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic\r\nContent-Length: 0\r\n\r\n").await;
    }
    let (host, port) = target.rsplit_once(':').unwrap_or((&target, "443"));
    let (host, port) = (host.trim_matches(['[', ']']).to_string(), port.parse().unwrap_or(443));
    log.lock().unwrap().tunnels.push((host.clone(), port));
    let mut server = TcpStream::connect((host.as_str(), port)).await?;
    client.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n").await?;
    tokio::io::copy_bidirectional(&mut client, &mut server).await.map(drop)
}
