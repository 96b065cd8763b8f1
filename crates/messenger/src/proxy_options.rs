//! Turning the proxy settings of `client-options.json` into `mocha-client`'s [`Proxy`]
//! (kept out of `settings.rs`, which `fuzz/` compiles without `mocha-client`).

use mocha_client::Proxy;
use mocha_client::proxy::{ProxyCredentials, ProxyKind as Kind};

use crate::settings::{ProxyKind, ProxyOptions};

impl ProxyOptions {
    /// The proxy for `mocha-client`, or `None` when none is configured.
    pub fn to_proxy(&self) -> Result<Option<Proxy>, String> {
        let kind = match self.kind {
            ProxyKind::None => return Ok(None),
            ProxyKind::Socks5 => Kind::Socks5,
            ProxyKind::Http => Kind::HttpConnect,
        };
        let host = self.host.trim();
        if host.is_empty() {
            return Err("the proxy needs a host".into());
        }
        if self.port == 0 {
            return Err("the proxy needs a port".into());
        }
        let credentials = (!self.user.is_empty())
            .then(|| ProxyCredentials { user: self.user.clone(), password: self.password.clone() });
        Ok(Some(Proxy { kind, host: host.to_string(), port: self.port, credentials }))
    }
}
