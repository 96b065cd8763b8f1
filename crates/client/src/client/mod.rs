//! [`Client`]: one signed-in Mocha session — Passport, the Notification Server and
//! any number of conversations — behind a cheap, cloneable handle.
//!
//! The Notification Server connection runs in its own task; the handle talks to it
//! through a channel, and everything the servers push comes out as [`Event`]s on the
//! receiver [`Client::connect`] returns. Every method is cancel-safe: dropping a
//! call's future at most abandons that call, never the session.

mod account;
mod call;
mod conversation;
mod error;
mod event;
mod ns_task;
mod session;
mod state;
mod transfer;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use mocha_api::{Account, UserId};
use mocha_proto::Status;
use tokio::sync::{mpsc, oneshot, watch};

pub use call::{
    AudioSink, AudioSource, Call, CallDevices, CallEnd, CallOptions, CallSnapshot, CallState, CallStats,
    Conditioner, DeviceSwitch, LinkConditioner, MediaStats, Path as CallPath, PeerState, UdpBlock,
};
pub use conversation::Conversation;
pub use error::Error;
pub use event::{
    ConversationEvent, ConversationId, Event, FileOffer, Ring, SignOutReason, TransferDirection,
    TransferEvent,
};
pub use session::RefreshTokenSaver;
pub use state::{ClientState, ConnectionState, presence_status};
pub use transfer::sha256_file;

use crate::monitor::ProtocolMonitor;
use crate::network::Network;
use crate::proxy::Proxy;
use crate::sb::SbConnection;
use crate::{PassportClient, Trust};
use ns_task::NsRequest;
use session::Session;

/// The Notification Server's port when neither the configuration nor the server says.
pub const DEFAULT_NOTIFICATION_PORT: u16 = 1863;

/// How long to wait between reconnection attempts: doubling from `initial` up to `max`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Backoff {
    pub initial: Duration,
    pub max: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Self { initial: Duration::from_millis(500), max: Duration::from_secs(60) }
    }
}

/// Where and how to connect.
#[derive(Clone)]
pub struct ClientConfig {
    /// Passport's HTTPS root, like `https://chat.example.org:8443`.
    pub server: String,
    /// The Notification Server's `host:port`. `None`: ask Passport's status page, and
    /// failing that use the Passport host on port 1863.
    pub notification_address: Option<String>,
    pub network: Network,
    /// The status to sign in with (and restore after reconnecting).
    pub status: Status,
    pub personal_message: String,
    pub backoff: Backoff,
    /// Renew the session token this long before it expires.
    pub refresh_margin: Duration,
    /// Told every new refresh token (to remember the sign-in).
    pub on_refresh_token: Option<RefreshTokenSaver>,
    /// How many events may wait unread before the connections stop reading.
    pub event_capacity: usize,
}

impl ClientConfig {
    pub fn new(server: &str, trust: Trust) -> Self {
        Self {
            server: server.trim_end_matches('/').to_string(),
            notification_address: None,
            network: Network::new(trust),
            status: Status::Online,
            personal_message: String::new(),
            backoff: Backoff::default(),
            refresh_margin: Duration::from_secs(60),
            on_refresh_token: None,
            event_capacity: 1024,
        }
    }

    pub fn notification_address(mut self, address: impl Into<String>) -> Self {
        self.notification_address = Some(address.into());
        self
    }

    pub fn proxy(mut self, proxy: Option<Proxy>) -> Self {
        self.network.proxy = proxy;
        self
    }

    pub fn monitor(mut self, monitor: ProtocolMonitor) -> Self {
        self.network.monitor = Some(monitor);
        self
    }

    pub fn status(mut self, status: Status) -> Self {
        self.status = status;
        self
    }

    pub fn on_refresh_token(mut self, save: impl Fn(&str) + Send + Sync + 'static) -> Self {
        self.on_refresh_token = Some(Arc::new(save));
        self
    }
}

/// How to sign in.
#[derive(Clone)]
pub enum Credentials {
    Password {
        username: String,
        password: String,
    },
    /// A refresh token saved from an earlier sign-in (it is spent and replaced).
    RefreshToken(String),
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Credentials::Password { username, .. } => write!(f, "Password {{ username: {username:?} }}"),
            Credentials::RefreshToken(_) => write!(f, "RefreshToken"),
        }
    }
}

pub(crate) struct Shared {
    pub(crate) network: Network,
    pub(crate) passport: PassportClient,
    pub(crate) session: Session,
    pub(crate) ns_address: String,
    pub(crate) state: watch::Sender<ClientState>,
    pub(crate) events: mpsc::Sender<Event>,
    pub(crate) backoff: Backoff,
    pub(crate) user: UserId,
    next_conversation: AtomicU64,
}

impl Shared {
    /// Hands an event to the owner; waits if its queue is full (back-pressure onto
    /// the connection), drops it if nobody listens any more.
    pub(crate) async fn emit(&self, event: Event) {
        let _ = self.events.send(event).await;
    }
}

/// A signed-in session. Clones share it; it signs out when the last clone is dropped.
#[derive(Clone)]
pub struct Client {
    shared: Arc<Shared>,
    requests: mpsc::Sender<NsRequest>,
}

impl Client {
    /// Signs in through Passport, connects to the Notification Server, syncs and sets
    /// the configured status. Returns the handle and the receiver of every [`Event`]
    /// (starting with [`Event::Connected`]).
    pub async fn connect(
        config: ClientConfig,
        credentials: Credentials,
    ) -> Result<(Self, mpsc::Receiver<Event>), Error> {
        let passport = PassportClient::with_network(&config.server, &config.network)?;
        let tokens = match &credentials {
            Credentials::Password { username, password } => passport.sign_in(username, password).await?,
            Credentials::RefreshToken(token) => passport.refresh(token).await?,
        };
        let ns_address = match &config.notification_address {
            Some(address) => address.clone(),
            None => discover_notification_address(&passport, &config.server).await,
        };
        let account = tokens.account.clone();
        let session =
            Session::new(passport.clone(), tokens, config.refresh_margin, config.on_refresh_token.clone());
        let (state, _) =
            watch::channel(ClientState::new(account.clone(), config.status, config.personal_message.clone()));
        let (events, receiver) = mpsc::channel(config.event_capacity.max(16));
        let shared = Arc::new(Shared {
            network: config.network.clone(),
            passport,
            session,
            ns_address,
            state,
            events,
            backoff: config.backoff,
            user: account.id,
            next_conversation: AtomicU64::new(1),
        });
        let ns = ns_task::establish(&shared).await?;
        let account = shared.state.borrow().account.clone();
        shared.emit(Event::Connected { account }).await;
        let (requests, inbox) = mpsc::channel(64);
        tokio::spawn(ns_task::run(shared.clone(), inbox, ns));
        Ok((Self { shared, requests }, receiver))
    }

    /// A snapshot of what the client knows now.
    pub fn state(&self) -> ClientState {
        self.shared.state.borrow().clone()
    }

    /// A receiver that sees every state change, for awaiting a condition
    /// (`watch::Receiver::wait_for`).
    pub fn watch_state(&self) -> watch::Receiver<ClientState> {
        self.shared.state.subscribe()
    }

    pub fn account(&self) -> Account {
        self.shared.state.borrow().account.clone()
    }

    pub fn user_id(&self) -> UserId {
        self.shared.user
    }

    /// The Passport API client this session uses (same proxy and trust).
    pub fn passport(&self) -> &PassportClient {
        &self.shared.passport
    }

    /// A session token valid for at least the refresh margin, for Passport calls.
    pub async fn session_token(&self) -> Result<String, Error> {
        Ok(self.shared.session.token().await?)
    }

    /// The current refresh token (it changes on every renewal), to remember the sign-in.
    pub async fn refresh_token(&self) -> String {
        self.shared.session.refresh_token().await
    }

    /// The protocol monitor, if the configuration has one.
    pub fn monitor(&self) -> Option<&ProtocolMonitor> {
        self.shared.network.monitor.as_ref()
    }

    async fn ask<T>(
        &self,
        request: impl FnOnce(oneshot::Sender<Result<T, Error>>) -> NsRequest,
    ) -> Result<T, Error> {
        let (reply, answer) = oneshot::channel();
        self.requests.send(request(reply)).await.map_err(|_| self.stopped())?;
        answer.await.map_err(|_| self.stopped())?
    }

    fn stopped(&self) -> Error {
        match &self.shared.state.borrow().connection {
            ConnectionState::SignedOut(reason) => Error::SignedOut(reason.clone()),
            _ => Error::NotConnected,
        }
    }

    /// `CHG`: your status (`Status::Hidden` appears offline). Kept across reconnects.
    pub async fn set_status(&self, status: Status) -> Result<(), Error> {
        self.ask(|reply| NsRequest::SetStatus(status, reply)).await
    }

    /// `UUX`: the personal message your contacts see (empty clears it).
    pub async fn set_personal_message(&self, message: &str) -> Result<(), Error> {
        self.ask(|reply| NsRequest::SetPersonalMessage(message.to_string(), reply)).await
    }

    /// `PRP MFN`: changes your display name; returns it as stored.
    pub async fn set_display_name(&self, name: &str) -> Result<String, Error> {
        self.ask(|reply| NsRequest::SetDisplayName(name.to_string(), reply)).await
    }

    /// `PNG`: proves the connection is alive; returns the server's ping interval.
    pub async fn ping(&self) -> Result<u32, Error> {
        self.ask(NsRequest::Ping).await
    }

    /// Opens a new, empty conversation (`XFR`, then `USR` on the switchboard).
    pub async fn open_conversation(&self) -> Result<Conversation, Error> {
        let referral = self.ask(NsRequest::Switchboard).await?;
        let (sb, present) = SbConnection::open_via(
            &self.shared.network,
            &referral.address,
            &referral.ticket,
            self.shared.user,
        )
        .await?;
        Ok(self.adopt(sb, present))
    }

    /// Opens a conversation and invites `who` (user id, sign-in address or alias of a
    /// contact). Returns once the invitation is sent; their joining arrives as an event.
    pub async fn start_conversation(&self, who: &str) -> Result<Conversation, Error> {
        let who = self.resolve(who);
        let conversation = self.open_conversation().await?;
        conversation.invite(&who).await?;
        Ok(conversation)
    }

    /// Joins the conversation a [`Ring`] invites you to (`ANS`).
    pub async fn answer(&self, ring: &Ring) -> Result<Conversation, Error> {
        let (sb, present) = SbConnection::answer_via(
            &self.shared.network,
            &ring.address,
            &ring.ticket,
            &ring.room,
            self.shared.user,
        )
        .await?;
        Ok(self.adopt(sb, present))
    }

    fn adopt(&self, sb: SbConnection, present: Vec<crate::sb::Participant>) -> Conversation {
        let id = ConversationId(self.shared.next_conversation.fetch_add(1, Ordering::Relaxed));
        Conversation::spawn(id, sb, present, self.shared.clone())
    }

    /// A contact's alias or address as the server knows them: their user id if they are
    /// a contact, else what was given.
    pub(crate) fn resolve(&self, who: &str) -> String {
        self.shared
            .state
            .borrow()
            .find_contact(who)
            .map(|c| c.user.id.to_string())
            .unwrap_or_else(|| who.to_string())
    }

    /// Signs out everywhere this sign-in is used: leaves the Notification Server and
    /// revokes the refresh token at Passport. The event stream ends with
    /// [`Event::SignedOut`]`(`[`SignOutReason::Requested`]`)`.
    pub async fn sign_out(&self) -> Result<(), Error> {
        self.disconnect().await;
        let refresh = self.shared.session.refresh_token().await;
        Ok(self.shared.passport.sign_out(&refresh).await?)
    }

    /// Leaves the Notification Server but keeps the sign-in (its refresh token stays
    /// valid, to connect again later).
    pub async fn disconnect(&self) {
        let (done, finished) = oneshot::channel();
        if self.requests.send(NsRequest::SignOut(done)).await.is_ok() {
            let _ = finished.await;
        }
    }
}

/// The Notification Server's address, as Passport's status page advertises it.
async fn discover_notification_address(passport: &PassportClient, server: &str) -> String {
    if let Ok(report) = passport.status().await
        && let Some(address) =
            report.services.iter().find(|s| s.name == "notification").and_then(|s| s.address.clone())
    {
        return address;
    }
    let host = server.split_once("://").map_or(server, |(_, rest)| rest);
    let host = host.split('/').next().unwrap_or(host);
    let host = match host.rsplit_once(':') {
        Some((host, port)) if port.bytes().all(|b| b.is_ascii_digit()) => host,
        _ => host,
    };
    format!("{host}:{DEFAULT_NOTIFICATION_PORT}")
}
