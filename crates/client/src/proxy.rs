//! Outbound proxies: SOCKS5 and HTTP `CONNECT`, with optional user and password.
//! MENP/1 connections are tunnelled here; Passport's HTTPS hands the same settings to
//! reqwest. Either way TLS runs end to end through the tunnel, so the proxy sees only
//! the target's name and port.

use std::fmt;
use std::time::Duration;

use base64::Engine;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The largest HTTP `CONNECT` answer head we read before giving up.
const MAX_CONNECT_RESPONSE: usize = 8 * 1024;
const PROXY_TIMEOUT: Duration = Duration::from_secs(15);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProxyKind {
    Socks5,
    HttpConnect,
}

/// A proxy every connection goes through, as in the client's proxy settings.
#[derive(Clone, PartialEq, Eq)]
pub struct Proxy {
    pub kind: ProxyKind,
    pub host: String,
    pub port: u16,
    pub credentials: Option<ProxyCredentials>,
}

#[derive(Clone, PartialEq, Eq)]
pub struct ProxyCredentials {
    pub user: String,
    pub password: String,
}

// The password must never reach a log line or a panic message.
impl fmt::Debug for Proxy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Proxy")
            .field("kind", &self.kind)
            .field("host", &self.host)
            .field("port", &self.port)
            .field("user", &self.credentials.as_ref().map(|c| &c.user))
            .finish()
    }
}

impl fmt::Debug for ProxyCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProxyCredentials").field("user", &self.user).field("password", &"***").finish()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ProxyError {
    #[error("not a proxy address (expected socks5://host:port or http://host:port): {0}")]
    BadUrl(String),
    #[error("cannot reach the proxy: {0}")]
    Connect(std::io::Error),
    #[error("the SOCKS5 proxy refused: {0}")]
    Socks(#[from] tokio_socks::Error),
    #[error("the HTTP proxy refused the tunnel: {0}")]
    Refused(String),
    #[error("the proxy did not answer in time")]
    Timeout,
}

impl Proxy {
    /// Reads `socks5://[user:password@]host:port` or `http://[user:password@]host:port`.
    /// User and password may be percent-encoded.
    pub fn parse(url: &str) -> Result<Self, ProxyError> {
        let bad = || ProxyError::BadUrl(redact_url(url));
        let (scheme, rest) = url.split_once("://").ok_or_else(bad)?;
        let kind = match scheme.to_ascii_lowercase().as_str() {
            "socks5" | "socks5h" => ProxyKind::Socks5,
            "http" => ProxyKind::HttpConnect,
            _ => return Err(bad()),
        };
        let rest = rest.trim_end_matches('/');
        let (credentials, address) = match rest.rsplit_once('@') {
            Some((auth, address)) => {
                let (user, password) = auth.split_once(':').unwrap_or((auth, ""));
                let user = percent_decode(user).ok_or_else(bad)?;
                let password = percent_decode(password).ok_or_else(bad)?;
                (Some(ProxyCredentials { user, password }), address)
            }
            None => (None, rest),
        };
        let (host, port) = address.rsplit_once(':').ok_or_else(bad)?;
        let host = host.trim_start_matches('[').trim_end_matches(']');
        if host.is_empty() || address.contains('/') {
            return Err(bad());
        }
        let port = port.parse().map_err(|_| bad())?;
        Ok(Self { kind, host: host.to_string(), port, credentials })
    }

    pub fn with_credentials(mut self, user: &str, password: &str) -> Self {
        self.credentials = Some(ProxyCredentials { user: user.into(), password: password.into() });
        self
    }

    /// The same settings for reqwest (Passport's HTTPS).
    pub(crate) fn to_reqwest(&self) -> Result<reqwest::Proxy, ProxyError> {
        let scheme = match self.kind {
            // `socks5h`: the proxy resolves names, as our own SOCKS5 tunnel does.
            ProxyKind::Socks5 => "socks5h",
            ProxyKind::HttpConnect => "http",
        };
        let host = if self.host.contains(':') { format!("[{}]", self.host) } else { self.host.clone() };
        let url = match &self.credentials {
            // reqwest applies basic auth for HTTP proxies only through the URL or
            // `basic_auth`; SOCKS5 only through the URL.
            Some(c) => format!(
                "{scheme}://{}:{}@{host}:{}",
                percent_encode(&c.user),
                percent_encode(&c.password),
                self.port
            ),
            None => format!("{scheme}://{host}:{}", self.port),
        };
        reqwest::Proxy::all(url).map_err(|_| ProxyError::BadUrl(self.to_string()))
    }

    /// Opens a TCP tunnel to `host:port` through this proxy.
    pub async fn connect(&self, host: &str, port: u16) -> Result<TcpStream, ProxyError> {
        tokio::time::timeout(PROXY_TIMEOUT, self.tunnel(host, port)).await.map_err(|_| ProxyError::Timeout)?
    }

    async fn tunnel(&self, host: &str, port: u16) -> Result<TcpStream, ProxyError> {
        let proxy = (self.host.as_str(), self.port);
        match self.kind {
            ProxyKind::Socks5 => {
                let stream = match &self.credentials {
                    Some(c) => {
                        tokio_socks::tcp::Socks5Stream::connect_with_password(
                            proxy,
                            (host, port),
                            &c.user,
                            &c.password,
                        )
                        .await?
                    }
                    None => tokio_socks::tcp::Socks5Stream::connect(proxy, (host, port)).await?,
                };
                Ok(stream.into_inner())
            }
            ProxyKind::HttpConnect => {
                let mut stream = TcpStream::connect(proxy).await.map_err(ProxyError::Connect)?;
                http_connect(&mut stream, host, port, self.credentials.as_ref()).await?;
                Ok(stream)
            }
        }
    }
}

impl fmt::Display for Proxy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = match self.kind {
            ProxyKind::Socks5 => "socks5",
            ProxyKind::HttpConnect => "http",
        };
        match &self.credentials {
            Some(c) => write!(f, "{scheme}://{}:***@{}:{}", c.user, self.host, self.port),
            None => write!(f, "{scheme}://{}:{}", self.host, self.port),
        }
    }
}

async fn http_connect(
    stream: &mut TcpStream,
    host: &str,
    port: u16,
    credentials: Option<&ProxyCredentials>,
) -> Result<(), ProxyError> {
    let target = if host.contains(':') { format!("[{host}]:{port}") } else { format!("{host}:{port}") };
    let mut request = format!("CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n");
    if let Some(c) = credentials {
        let basic = base64::engine::general_purpose::STANDARD.encode(format!("{}:{}", c.user, c.password));
        request.push_str(&format!("Proxy-Authorization: Basic {basic}\r\n"));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes()).await.map_err(ProxyError::Connect)?;

    // Byte by byte, so nothing after the head (the server's TLS) is swallowed.
    let mut head = Vec::with_capacity(256);
    while !head.ends_with(b"\r\n\r\n") {
        if head.len() >= MAX_CONNECT_RESPONSE {
            return Err(ProxyError::Refused("answer too long".into()));
        }
        let byte = stream.read_u8().await.map_err(ProxyError::Connect)?;
        head.push(byte);
    }
    let head = String::from_utf8_lossy(&head);
    let status_line = head.lines().next().unwrap_or_default();
    let code = status_line.split_whitespace().nth(1).unwrap_or_default();
    if code.len() == 3 && code.starts_with('2') {
        Ok(())
    } else {
        Err(ProxyError::Refused(status_line.to_string()))
    }
}

fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = text.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// A proxy URL fit for an error message: any password replaced.
fn redact_url(url: &str) -> String {
    match (url.split_once("://"), url.rsplit_once('@')) {
        (Some((scheme, rest)), Some((_, address))) => {
            let user = rest.split(['@', ':']).next().unwrap_or_default();
            format!("{scheme}://{user}:***@{address}")
        }
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_both_kinds_with_and_without_credentials() {
        let p = Proxy::parse("socks5://127.0.0.1:1080").unwrap();
        assert_eq!(
            (p.kind, p.host.as_str(), p.port, p.credentials),
            (ProxyKind::Socks5, "127.0.0.1", 1080, None)
        );
        let p = Proxy::parse("http://me:p%40ss:word@proxy.example.org:3128/").unwrap();
        assert_eq!(p.kind, ProxyKind::HttpConnect);
        assert_eq!(p.host, "proxy.example.org");
        let c = p.credentials.clone().unwrap();
        assert_eq!((c.user.as_str(), c.password.as_str()), ("me", "p@ss:word"));
        assert!(!format!("{p} {p:?}").contains("p@ss"), "the password never prints");
        let p = Proxy::parse("socks5://[::1]:9050").unwrap();
        assert_eq!(p.host, "::1");
    }

    #[test]
    fn refuses_other_schemes_and_hides_passwords_in_errors() {
        for bad in ["ftp://x:1", "socks5://host", "http://:80", "socks5://h:notaport", "host:80"] {
            assert!(Proxy::parse(bad).is_err(), "{bad}");
        }
        let error = Proxy::parse("gopher://me:secret@h:1").unwrap_err().to_string();
        assert!(!error.contains("secret"), "{error}");
    }
}
