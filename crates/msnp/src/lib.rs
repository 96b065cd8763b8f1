//! The MSNP gateway: classic MSN clients (MSN Messenger 6–7.5, MSNP8 to MSNP12) on a
//! Mocha server, as a second front on the Notification Server's core.
//!
//! Classic clients sign in with Passport 1.4 ("Tweener") over HTTP ([`nexus`]): the
//! login URL checks the password with Passport (the same PBKDF2 check and sign-in rate
//! limits as the HTTPS API) and returns a Mocha session token as `t=…`; `USR TWN S`
//! presents it to the gateway's Notification Server ([`MsnpGateway::serve`]), which
//! signs the session in through [`mocha_notification::NotificationServer::attach`] —
//! the same registry, presence fan-out, privacy rules, kicks and Passport events as
//! MENP/1 sessions, rendered into MSNP lines by `render`. Conversations go through the
//! gateway's switchboard ([`MsnpSwitchboard`]), a second front on the Mocha
//! Switchboard's rooms, so one conversation can mix classic and Mocha Messenger users.
//! Nothing is encrypted: MSNP has no TLS. See `docs/msnp.md` for every command and how it maps.

mod cmd;
mod config;
mod error;
mod handle;
mod line;
pub mod nexus;
mod reader;
mod render;
mod sb;
mod server;
mod session;
mod status;
mod wire;

pub use config::MsnpConfig;
pub use line::{Line, LineError, parse_line};
pub use sb::MsnpSwitchboard;
pub use sb::payload::{PayloadError, parse_msnp};
pub use server::MsnpGateway;
