//! The Mocha client library: everything that talks to a Mocha server goes through here.
//!
//! Most programs want [`Client`]: one signed-in session that keeps its Notification
//! Server connection alive (reconnecting after drops), tracks contacts and presence in
//! a [`ClientState`], and reports every server push as an [`Event`]. Conversations are
//! [`Conversation`] handles: text, typing, nudges, invitations, file transfers with
//! hash verification, and call control with media frames.
//!
//! ```no_run
//! # async fn demo() -> Result<(), mocha_client::Error> {
//! use mocha_client::{Client, ClientConfig, Credentials, Event, Trust};
//!
//! let trust = Trust::system().with_pem_file("mocha-data/tls/ca.pem".as_ref())?;
//! let config = ClientConfig::new("https://localhost:8443", trust);
//! let credentials = Credentials::Password { username: "alice@example.com".into(), password: "…".into() };
//! let (client, mut events) = Client::connect(config, credentials).await?;
//! let chat = client.start_conversation("bob@example.com").await?;
//! while let Some(event) = events.recv().await {
//!     if let Event::Conversation { event: mocha_client::ConversationEvent::Joined(_), .. } = event {
//!         chat.send_text("hello!").await?;
//!         break;
//!     }
//! }
//! client.disconnect().await;
//! # Ok(()) }
//! ```
//!
//! The layers underneath are public too, for tools and tests:
//! - [`Trust`]: which certificate authorities to accept (the system's, plus extras
//!   such as a server's development CA). There is no "accept anything" mode.
//! - [`Network`]: trust, an optional [`Proxy`] (SOCKS5 or HTTP `CONNECT`) and an
//!   optional [`ProtocolMonitor`], shared by every connection.
//! - [`PassportClient`]: the Passport HTTPS API, one method per endpoint.
//! - [`ns::NsConnection`]: a Notification Server session over MENP/1.
//! - [`sb::SbConnection`]: a conversation on the Switchboard over MENP/1.
//! - [`menp::MenpConnection`]: the MENP/1 transport both are built on.

// `ClientError` carries Passport's whole error envelope (ban details included) by
// value, and other crates build and match it as such; boxing it is not worth the churn.
#![allow(clippy::result_large_err)]

mod client;
mod error;
pub mod menp;
mod menp_error;
pub mod monitor;
mod network;
pub mod ns;
mod passport;
pub mod proxy;
pub mod sb;
mod trust;
pub mod updates;

pub use client::{
    AudioSink, AudioSource, Call, CallDevices, CallEnd, CallOptions, CallPath, CallSnapshot, CallState,
    CallStats, Conditioner, DeviceSwitch, LinkConditioner, MediaStats, PeerState, UdpBlock,
};
pub use client::{
    Backoff, Client, ClientConfig, ClientState, ConnectionState, Conversation, ConversationEvent,
    ConversationId, Credentials, DEFAULT_NOTIFICATION_PORT, Error, Event, FileOffer, RefreshTokenSaver, Ring,
    SignOutReason, TransferDirection, TransferEvent, presence_status, sha256_file,
};
pub use error::ClientError;
pub use menp_error::MenpError;
pub use mocha_api as api;
pub use mocha_media as media;
pub use mocha_proto as proto;
pub use monitor::ProtocolMonitor;
pub use network::Network;
pub use passport::PassportClient;
pub use proxy::Proxy;
pub use sb::RelayGrant;
pub use trust::Trust;
