//! The Notification Server over MENP/1: one TLS connection, typed commands in and out.
//!
//! [`NsConnection`] is deliberately small: it sends commands with increasing
//! transaction ids, waits for the reply with the same id and keeps every push that
//! arrives meanwhile, in order, for [`NsConnection::next_push`]. It reads only when
//! asked to; a long-lived client runs it in its own task and turns pushes into events.

use std::time::Duration;

use mocha_api::{SyncSnapshot, UpdateCheck, UserId};
use mocha_proto::ns::client::{self, ClientCommand};
use mocha_proto::ns::server::ServerCommand;
use mocha_proto::{ErrorReply, Frame, OutReason, PROTOCOL_VERSION, ParseError, Status, Token};
use tokio::net::ToSocketAddrs;

/// Errors of a Notification Server session (the same as any MENP/1 connection's).
pub use crate::MenpError as NsError;

use crate::Trust;
use crate::menp::{MenpConnection, ServerMessage};
use crate::monitor::Channel;
use crate::network::Network;

/// Who the server says we are after `USR`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedIn {
    pub user_id: UserId,
    pub username: String,
    pub display_name: String,
}

/// Where to open a conversation, from `XFR`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SwitchboardReferral {
    /// `host:port`.
    pub address: String,
    pub ticket: String,
}

pub struct NsConnection {
    connection: MenpConnection<ServerCommand>,
    negotiated: bool,
}

impl ServerMessage for ServerCommand {
    fn parse(frame: Frame) -> Result<Self, ParseError> {
        ServerCommand::parse(frame)
    }
    fn reply_to(&self) -> Option<u32> {
        trid_of(self)
    }
    fn as_error(&self) -> Option<&ErrorReply> {
        match self {
            ServerCommand::Err(reply) => Some(reply),
            _ => None,
        }
    }
    fn as_out(&self) -> Option<&OutReason> {
        match self {
            ServerCommand::Out(out) => Some(&out.reason),
            _ => None,
        }
    }
}

impl NsConnection {
    /// Connects over TLS to `address` (`host:port`), verifying the certificate for
    /// `server_name` against `trust`. Nothing is sent yet.
    pub async fn connect(
        address: impl ToSocketAddrs,
        server_name: &str,
        trust: &Trust,
    ) -> Result<Self, NsError> {
        Ok(Self {
            connection: MenpConnection::connect(address, server_name, trust).await?,
            negotiated: false,
        })
    }

    /// Connects to `address` (`host:port`) through `network`'s proxy, trust and monitor.
    pub async fn connect_via(network: &Network, address: &str) -> Result<Self, NsError> {
        Ok(Self {
            connection: MenpConnection::connect_via(network, address, Channel::Notification).await?,
            negotiated: false,
        })
    }

    /// How long request methods wait for their reply.
    pub fn set_reply_timeout(&mut self, timeout: Duration) {
        self.connection.set_reply_timeout(timeout);
    }

    /// A fresh transaction id (never 0, which marks pushes).
    pub fn next_trid(&mut self) -> u32 {
        self.connection.next_trid()
    }

    /// Sends a command as it is, without waiting for anything.
    pub async fn send(&mut self, command: ClientCommand) -> Result<(), NsError> {
        self.connection.send_frame(&command.into_frame()).await
    }

    /// Sends any frame, even one the server will refuse.
    pub async fn send_frame(&mut self, frame: &Frame) -> Result<(), NsError> {
        self.connection.send_frame(frame).await
    }

    /// Writes bytes unchecked: for testing servers against broken clients.
    pub async fn send_raw(&mut self, bytes: &[u8]) -> Result<(), NsError> {
        self.connection.send_raw(bytes).await
    }

    /// The next command from the socket, whatever it is. [`NsError::Closed`] at the end.
    pub async fn read(&mut self) -> Result<ServerCommand, NsError> {
        self.connection.read().await
    }

    /// Sends `command` and waits for the reply with its transaction id, keeping pushes.
    /// `ERR` becomes [`NsError::Refused`]; an `OUT` meanwhile becomes [`NsError::SignedOut`].
    pub async fn request(&mut self, command: ClientCommand) -> Result<ServerCommand, NsError> {
        self.connection.request(command.into_frame()).await
    }

    /// `VER`: agrees on MENP/1. [`Self::sign_in`] does it when needed.
    pub async fn negotiate(&mut self) -> Result<(), NsError> {
        let trid = self.next_trid();
        let version = Token::new(PROTOCOL_VERSION).expect("the protocol version is a valid token");
        match self.request(ClientCommand::Ver(client::Ver { trid, versions: vec![version] })).await? {
            ServerCommand::Ver(ver) if ver.version == PROTOCOL_VERSION => {
                self.negotiated = true;
                Ok(())
            }
            other => Err(unexpected(other)),
        }
    }

    /// `USR … TOKEN`: signs in with a Passport session token. The account stays offline
    /// to others until the first [`Self::set_status`].
    pub async fn sign_in(&mut self, session_token: &str) -> Result<SignedIn, NsError> {
        if !self.negotiated {
            self.negotiate().await?;
        }
        let token =
            Token::new(session_token).map_err(|_| NsError::Protocol("the token has spaces".into()))?;
        let trid = self.next_trid();
        match self.request(ClientCommand::Usr(client::Usr { trid, token })).await? {
            ServerCommand::Usr(usr) => Ok(SignedIn {
                user_id: usr.user_id.parse().map_err(|_| NsError::Protocol("bad user id".into()))?,
                username: usr.username.into_string(),
                display_name: usr.display_name,
            }),
            other => Err(unexpected(other)),
        }
    }

    /// `SYN`: contacts (with presence where visible), blocks, requests, settings.
    pub async fn sync(&mut self) -> Result<SyncSnapshot, NsError> {
        let trid = self.next_trid();
        match self.request(ClientCommand::Syn(client::Syn { trid })).await? {
            ServerCommand::Syn(syn) => {
                serde_json::from_slice(&syn.payload).map_err(|e| NsError::Protocol(e.to_string()))
            }
            other => Err(unexpected(other)),
        }
    }

    /// `CHG`: `Status::Hidden` appears offline.
    pub async fn set_status(&mut self, status: Status) -> Result<(), NsError> {
        let trid = self.next_trid();
        match self.request(ClientCommand::Chg(client::Chg { trid, status })).await? {
            ServerCommand::Chg(_) => Ok(()),
            other => Err(unexpected(other)),
        }
    }

    /// `UUX`: the personal message contacts see (empty clears it).
    pub async fn set_personal_message(&mut self, message: &str) -> Result<(), NsError> {
        let trid = self.next_trid();
        match self.request(ClientCommand::Uux(client::Uux { trid, message: message.to_string() })).await? {
            ServerCommand::Uux(_) => Ok(()),
            other => Err(unexpected(other)),
        }
    }

    /// `PRP MFN`: changes the display name; returns it as stored.
    pub async fn set_display_name(&mut self, display_name: &str) -> Result<String, NsError> {
        let trid = self.next_trid();
        let command = ClientCommand::Prp(client::Prp { trid, display_name: display_name.to_string() });
        match self.request(command).await? {
            ServerCommand::Prp(prp) => Ok(prp.display_name),
            other => Err(unexpected(other)),
        }
    }

    /// `XFR SB`: a switchboard and a ticket for a new conversation.
    pub async fn request_switchboard(&mut self) -> Result<SwitchboardReferral, NsError> {
        let trid = self.next_trid();
        match self.request(ClientCommand::Xfr(client::Xfr { trid })).await? {
            ServerCommand::Xfr(xfr) => Ok(SwitchboardReferral {
                address: xfr.address.into_string(),
                ticket: xfr.ticket.into_string(),
            }),
            other => Err(unexpected(other)),
        }
    }

    /// `UPD`: is there a newer client on `channel` than `version`?
    pub async fn check_update(&mut self, channel: &str, version: &str) -> Result<UpdateCheck, NsError> {
        let token = |s: &str| Token::new(s).map_err(|_| NsError::Protocol(format!("{s:?} cannot be sent")));
        let trid = self.next_trid();
        let command =
            ClientCommand::Upd(client::Upd { trid, channel: token(channel)?, version: token(version)? });
        match self.request(command).await? {
            ServerCommand::Upd(upd) => {
                serde_json::from_slice(&upd.payload).map_err(|e| NsError::Protocol(e.to_string()))
            }
            other => Err(unexpected(other)),
        }
    }

    /// `PNG`: returns the seconds until the server wants the next ping.
    pub async fn ping(&mut self) -> Result<u32, NsError> {
        let trid = self.next_trid();
        match self.request(ClientCommand::Png(client::Png { trid })).await? {
            ServerCommand::Qng(qng) => Ok(qng.seconds),
            other => Err(unexpected(other)),
        }
    }

    /// `OUT`: signs out and closes the connection.
    pub async fn sign_out(mut self) -> Result<(), NsError> {
        let trid = self.next_trid();
        self.send(ClientCommand::Out(client::Out { trid })).await?;
        self.connection.close().await
    }

    /// The next push (kept or newly read), or `None` if none comes within `timeout`.
    pub async fn next_push(&mut self, timeout: Duration) -> Result<Option<ServerCommand>, NsError> {
        self.connection.next_push(timeout).await
    }

    /// Waits up to `timeout` for the first push that `pick` accepts; pushes it passes
    /// over stay queued, in order. [`NsError::Timeout`] if none comes.
    pub async fn expect_push<T>(
        &mut self,
        timeout: Duration,
        pick: impl FnMut(&ServerCommand) -> Option<T>,
    ) -> Result<T, NsError> {
        self.connection.expect_push(timeout, pick).await
    }
}

fn trid_of(command: &ServerCommand) -> Option<u32> {
    Some(match command {
        ServerCommand::Ver(c) => c.trid,
        ServerCommand::Usr(c) => c.trid,
        ServerCommand::Syn(c) => c.trid,
        ServerCommand::Chg(c) => c.trid,
        ServerCommand::Uux(c) => c.trid,
        ServerCommand::Prp(c) => c.trid,
        ServerCommand::Xfr(c) => c.trid,
        ServerCommand::Upd(c) => c.trid,
        ServerCommand::Qng(c) => c.trid,
        ServerCommand::Err(c) => c.trid,
        ServerCommand::Unknown { trid, .. } => *trid,
        _ => return None,
    })
}

fn unexpected(command: ServerCommand) -> NsError {
    NsError::Protocol(format!("unexpected reply {}", command.into_frame()))
}
