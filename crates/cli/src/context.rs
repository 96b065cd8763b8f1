//! Turns flags and the remembered profile into connections: Passport with a fresh
//! session token, or a full `Client` on the Notification Server.

use std::sync::Arc;

use anyhow::{Context as _, Result, anyhow, bail};
use mocha_client::api::SessionTokens;
use mocha_client::proto::Status;
use mocha_client::{Client, ClientConfig, Credentials, Event, Network, PassportClient, Proxy, Trust};
use tokio::sync::mpsc;

use crate::args::Global;
use crate::output::Output;
use crate::profile::{Profile, ProfileStore};

pub const DEFAULT_SERVER: &str = "https://localhost:8443";

pub struct Context {
    pub global: Global,
    pub store: ProfileStore,
    pub profile: Profile,
    pub out: Output,
}

impl Context {
    pub fn new(global: Global) -> Result<Self> {
        let store = ProfileStore::locate(global.config_dir.clone())?;
        let profile = store.load()?;
        let out = Output { json: global.json };
        Ok(Self { global, store, profile, out })
    }

    pub fn server(&self) -> String {
        self.global
            .server
            .clone()
            .or_else(|| self.profile.server.clone())
            .unwrap_or_else(|| DEFAULT_SERVER.into())
    }

    fn network(&self) -> Result<Network> {
        let mut trust = Trust::system();
        if let Some(ca) = self.global.ca.as_ref().or(self.profile.ca.as_ref()) {
            trust = trust.with_pem_file(ca)?;
        }
        let proxy = self.global.proxy.as_deref().map(Proxy::parse).transpose()?;
        Ok(Network::new(trust).with_proxy(proxy))
    }

    pub fn passport(&self) -> Result<PassportClient> {
        Ok(PassportClient::with_network(&self.server(), &self.network()?)?)
    }

    fn refresh_token(&self) -> Result<String> {
        self.profile
            .refresh_token
            .clone()
            .ok_or_else(|| anyhow!("not signed in: run `mocha sign-in USERNAME` first"))
    }

    /// A fresh session from the remembered sign-in (whose refresh token rotates).
    pub async fn session(&self) -> Result<(PassportClient, SessionTokens)> {
        let passport = self.passport()?;
        let tokens = passport.refresh(&self.refresh_token()?).await.map_err(|e| {
            anyhow!(e).context("the remembered sign-in no longer works; run `mocha sign-in` again")
        })?;
        self.store.save_refresh_token(&tokens.refresh_token)?;
        Ok((passport, tokens))
    }

    /// Signs in to the Notification Server with the remembered sign-in and status.
    pub async fn client(&self) -> Result<(Client, mpsc::Receiver<Event>)> {
        let mut config = ClientConfig::new(&self.server(), Trust::system());
        config.network = self.network()?;
        config.notification_address =
            self.global.notification_server.clone().or_else(|| self.profile.notification_server.clone());
        if let Some(code) = &self.profile.status {
            config.status =
                code.parse().map_err(|_| anyhow!("the remembered status {code:?} is not valid"))?;
        }
        config.personal_message = self.profile.personal_message.clone().unwrap_or_default();
        let store = self.store.clone();
        config.on_refresh_token = Some(Arc::new(move |token: &str| {
            if let Err(error) = store.save_refresh_token(token) {
                eprintln!("mocha: warning: cannot remember the new sign-in: {error:#}");
            }
        }));
        let credentials = Credentials::RefreshToken(self.refresh_token()?);
        Client::connect(config, credentials).await.context("cannot sign in to the Notification Server")
    }
}

/// The password: `MOCHA_PASSWORD`, else asked for without echo.
pub fn password(prompt: &str) -> Result<String> {
    if let Ok(password) = std::env::var("MOCHA_PASSWORD") {
        return Ok(password);
    }
    let password =
        rpassword::prompt_password(prompt).context("cannot read the password (set MOCHA_PASSWORD)")?;
    if password.is_empty() {
        bail!("no password given");
    }
    Ok(password)
}

pub fn parse_status(code: &str) -> Result<Status> {
    let status: Status = code.to_ascii_uppercase().parse().map_err(|_| anyhow!("unknown status {code:?}"))?;
    if !status.is_settable() {
        bail!("FLN cannot be chosen; use HDN to appear offline");
    }
    Ok(status)
}
