//! How this client reaches servers: whom it trusts, which proxy it goes through, and
//! the protocol monitor that watches the lines. One value shared by every connection.

use std::sync::Arc;

use rustls::pki_types::ServerName;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

use crate::monitor::ProtocolMonitor;
use crate::proxy::Proxy;
use crate::{MenpError, Trust};

#[derive(Clone, Debug, Default)]
pub struct Network {
    pub trust: Trust,
    pub proxy: Option<Proxy>,
    pub monitor: Option<ProtocolMonitor>,
}

impl Network {
    pub fn new(trust: Trust) -> Self {
        Self { trust, proxy: None, monitor: None }
    }

    pub fn with_proxy(mut self, proxy: Option<Proxy>) -> Self {
        self.proxy = proxy;
        self
    }

    pub fn with_monitor(mut self, monitor: Option<ProtocolMonitor>) -> Self {
        self.monitor = monitor;
        self
    }

    /// A TLS connection to `host:port` (through the proxy, if any), with the
    /// certificate verified for `host`.
    pub async fn connect_tls(&self, host: &str, port: u16) -> Result<TlsStream<TcpStream>, MenpError> {
        let config = self.trust.client_config().map_err(|e| MenpError::Trust(e.to_string()))?;
        let name = ServerName::try_from(host.to_string())
            .map_err(|e| MenpError::Trust(format!("{host} is not a valid server name: {e}")))?;
        let tcp = match &self.proxy {
            Some(proxy) => proxy.connect(host, port).await.map_err(|e| MenpError::Proxy(Arc::new(e)))?,
            None => TcpStream::connect((host, port)).await.map_err(MenpError::Connect)?,
        };
        let _ = tcp.set_nodelay(true);
        TlsConnector::from(config).connect(name, tcp).await.map_err(MenpError::Connect)
    }
}

/// Splits `host:port` (IPv6 hosts in brackets) into its parts.
pub fn split_address(address: &str) -> Result<(String, u16), MenpError> {
    let bad = || MenpError::Protocol(format!("{address:?} is not host:port"));
    let (host, port) = address.rsplit_once(':').ok_or_else(bad)?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if host.is_empty() {
        return Err(bad());
    }
    Ok((host.to_string(), port.parse().map_err(|_| bad())?))
}
