//! A conversation on the Switchboard over MENP/1: join with a ticket, invite people,
//! send text, typing, nudges, call control, media and file chunks, and read what the
//! others send as [`SbEvent`]s.

use std::collections::VecDeque;
use std::time::Duration;

use bytes::Bytes;
use mocha_api::UserId;
use mocha_proto::im::ImPayload;
use mocha_proto::sb::client::{self, AckMode, ClientCommand};
use mocha_proto::sb::server::ServerCommand;
use mocha_proto::{ErrorReply, Frame, MessagePayload, OutReason, ParseError, Token};
use tokio::time::Instant;

use crate::menp::{MenpConnection, ServerMessage};
use crate::monitor::Channel;
use crate::network::Network;
use crate::{MenpError, Trust};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Participant {
    pub user_id: UserId,
    pub display_name: String,
}

/// What happened in the conversation.
#[derive(Clone, Debug, PartialEq)]
pub enum SbEvent {
    Joined(Participant),
    Left {
        user_id: UserId,
        reason: Option<String>,
    },
    Message {
        from: Participant,
        payload: ImPayload,
        raw: MessagePayload,
    },
    Media {
        from: UserId,
        call_id: String,
        data: Bytes,
    },
    FileChunk {
        from: UserId,
        transfer_id: String,
        offset: u64,
        data: Bytes,
    },
    /// How to reach a call's UDP media relay (`RLY`), once the call has two members.
    Relay(RelayGrant),
    /// The server refused something sent without waiting (typing, media, a file chunk).
    Refused(ErrorReply),
    /// The server ended the conversation for this client.
    Ended(OutReason),
}

/// This member's way into a call's UDP media relay (`RLY`, see `docs/calls.md`): bind
/// from a UDP socket with `bind_token`, seal every packet with `media_key` under
/// `member_id`. A new grant for the same call replaces the old one.
#[derive(Clone, PartialEq, Eq)]
pub struct RelayGrant {
    pub call_id: String,
    /// The relay's `host:port` (UDP).
    pub relay: String,
    pub member_id: u32,
    /// 22 base64url characters (`mocha_auth::BindToken::parse`). A credential.
    pub bind_token: String,
    /// 43 base64url characters (`mocha_auth::MediaKey::from_base64url`). A credential.
    pub media_key: String,
}

// The token and the key are credentials: never in a log line.
impl std::fmt::Debug for RelayGrant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RelayGrant")
            .field("call_id", &self.call_id)
            .field("relay", &self.relay)
            .field("member_id", &self.member_id)
            .finish_non_exhaustive()
    }
}

/// Whether a message reached the others.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Delivery {
    Delivered,
    /// Nobody could read it (if it was text, the people it was for get an activity alert).
    /// When the server cannot keep that alert (its disk is full) there is no
    /// `NotDelivered`: the send fails with `ERR` 507 (`ErrorCode::StorageFull`), or 500.
    NotDelivered,
    /// Sent without asking for an acknowledgement.
    Unconfirmed,
}

impl ServerMessage for ServerCommand {
    fn parse(frame: Frame) -> Result<Self, ParseError> {
        ServerCommand::parse(frame)
    }
    fn reply_to(&self) -> Option<u32> {
        Some(match self {
            ServerCommand::Usr(c) => c.trid,
            ServerCommand::Iro(c) => c.trid,
            ServerCommand::Ans(c) => c.trid,
            ServerCommand::Cal(c) => c.trid,
            ServerCommand::Ack(c) => c.trid,
            ServerCommand::Nak(c) => c.trid,
            ServerCommand::Err(c) if c.trid != 0 => c.trid,
            _ => return None,
        })
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

pub struct SbConnection {
    connection: MenpConnection<ServerCommand>,
    user: UserId,
    events: VecDeque<SbEvent>,
}

fn token(text: &str) -> Result<Token, MenpError> {
    Token::new(text).map_err(|_| MenpError::Protocol(format!("{text:?} cannot be sent as an argument")))
}

fn user_id(token: &Token) -> Result<UserId, MenpError> {
    token.as_str().parse().map_err(|_| MenpError::Protocol(format!("bad user id {}", token.as_str())))
}

impl SbConnection {
    /// Opens the conversation the NS gave a ticket for (`XFR`): `USR`.
    /// Returns who is already there (nobody, for a new conversation).
    pub async fn open(
        address: &str,
        ticket: &str,
        user: UserId,
        trust: &Trust,
    ) -> Result<(Self, Vec<Participant>), MenpError> {
        Self::open_via(&Network::new(trust.clone()), address, ticket, user).await
    }

    /// [`Self::open`] through `network`'s proxy, trust and monitor.
    pub async fn open_via(
        network: &Network,
        address: &str,
        ticket: &str,
        user: UserId,
    ) -> Result<(Self, Vec<Participant>), MenpError> {
        let mut connection = MenpConnection::connect_via(network, address, Channel::Switchboard).await?;
        let trid = connection.next_trid();
        let usr = client::Usr { trid, user_id: token(&user.to_string())?, ticket: token(ticket)? };
        let replies =
            connection.request_all(usr.into_frame(), |r| matches!(r, ServerCommand::Usr(_))).await?;
        Ok((Self { connection, user, events: VecDeque::new() }, participants(replies)?))
    }

    /// Answers a ring (`RNG`): `ANS`. Returns who is in the conversation.
    pub async fn answer(
        address: &str,
        ticket: &str,
        room: &str,
        user: UserId,
        trust: &Trust,
    ) -> Result<(Self, Vec<Participant>), MenpError> {
        Self::answer_via(&Network::new(trust.clone()), address, ticket, room, user).await
    }

    /// [`Self::answer`] through `network`'s proxy, trust and monitor.
    pub async fn answer_via(
        network: &Network,
        address: &str,
        ticket: &str,
        room: &str,
        user: UserId,
    ) -> Result<(Self, Vec<Participant>), MenpError> {
        let mut connection = MenpConnection::connect_via(network, address, Channel::Switchboard).await?;
        let trid = connection.next_trid();
        let ans = client::Ans {
            trid,
            user_id: token(&user.to_string())?,
            ticket: token(ticket)?,
            room_id: token(room)?,
        };
        let replies =
            connection.request_all(ans.into_frame(), |r| matches!(r, ServerCommand::Ans(_))).await?;
        Ok((Self { connection, user, events: VecDeque::new() }, participants(replies)?))
    }

    pub fn user(&self) -> UserId {
        self.user
    }

    /// The underlying connection, for sending raw or malformed frames in tests.
    pub fn connection(&mut self) -> &mut MenpConnection<ServerCommand> {
        &mut self.connection
    }

    /// `CAL`: invites a contact (user id or sign-in address); the NS rings them.
    pub async fn invite(&mut self, who: &str) -> Result<String, MenpError> {
        let trid = self.connection.next_trid();
        match self.connection.request(client::Cal { trid, invitee: token(who)? }.into_frame()).await? {
            ServerCommand::Cal(cal) => Ok(cal.room_id.into_string()),
            other => Err(MenpError::Protocol(format!("unexpected reply {}", other.into_frame()))),
        }
    }

    /// `MSG`: sends any payload with the given acknowledgement mode.
    pub async fn send(&mut self, payload: &ImPayload, ack: AckMode) -> Result<Delivery, MenpError> {
        self.send_message(&payload.to_message(), ack).await
    }

    /// `MSG`: sends a message as it is (for content types `ImPayload` has no form for).
    pub async fn send_message(
        &mut self,
        message: &MessagePayload,
        ack: AckMode,
    ) -> Result<Delivery, MenpError> {
        let trid = self.connection.next_trid();
        let frame = ClientCommand::Msg(client::Msg { trid, ack, payload: message.to_bytes() }).into_frame();
        if ack != AckMode::Always {
            self.connection.send_frame(&frame).await?;
            return Ok(Delivery::Unconfirmed);
        }
        match self.connection.request(frame).await? {
            ServerCommand::Ack(_) => Ok(Delivery::Delivered),
            ServerCommand::Nak(_) => Ok(Delivery::NotDelivered),
            other => Err(MenpError::Protocol(format!("unexpected reply {}", other.into_frame()))),
        }
    }

    /// Sends chat text and waits to hear whether it was delivered.
    pub async fn send_text(&mut self, text: &str) -> Result<Delivery, MenpError> {
        self.send(&ImPayload::Text { text: text.to_string(), format: Default::default() }, AckMode::Always)
            .await
    }

    /// Tells the others "… is typing".
    pub async fn send_typing(&mut self) -> Result<(), MenpError> {
        self.send(&ImPayload::Typing { user: self.user.to_string() }, AckMode::Unacknowledged).await.map(drop)
    }

    pub async fn send_nudge(&mut self) -> Result<Delivery, MenpError> {
        self.send(&ImPayload::Nudge, AckMode::Always).await
    }

    /// `MED`: one media frame of an accepted call; never acknowledged.
    pub async fn send_media(&mut self, call_id: &str, data: Bytes) -> Result<(), MenpError> {
        let trid = self.connection.next_trid();
        let frame = client::Med { trid, call_id: token(call_id)?, payload: data }.into_frame();
        self.connection.send_frame(&frame).await
    }

    /// `FIL`: the next chunk of an accepted file transfer. Gives the chunk's
    /// transaction id: the server answers only a refused chunk (with an `ERR` for it).
    pub async fn send_file_chunk(
        &mut self,
        transfer_id: &str,
        offset: u64,
        data: Bytes,
    ) -> Result<u32, MenpError> {
        let trid = self.connection.next_trid();
        let frame =
            client::Fil { trid, transfer_id: token(transfer_id)?, offset, payload: data }.into_frame();
        self.connection.send_frame(&frame).await.map(|()| trid)
    }

    /// `OUT`: leaves the conversation.
    pub async fn leave(mut self) -> Result<(), MenpError> {
        let trid = self.connection.next_trid();
        self.connection.send_frame(&client::Out { trid }.into_frame()).await?;
        self.connection.close().await
    }

    /// The next event, or `None` if none comes within `timeout`.
    pub async fn next_event(&mut self, timeout: Duration) -> Result<Option<SbEvent>, MenpError> {
        if let Some(event) = self.events.pop_front() {
            return Ok(Some(event));
        }
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let Some(command) = self.connection.next_push(left).await? else { return Ok(None) };
            if let Some(event) = to_event(command)? {
                return Ok(Some(event));
            }
        }
    }

    /// Waits up to `timeout` for the first event `pick` accepts; others stay queued in order.
    pub async fn expect_event<T>(
        &mut self,
        timeout: Duration,
        mut pick: impl FnMut(&SbEvent) -> Option<T>,
    ) -> Result<T, MenpError> {
        if let Some(index) = self.events.iter().position(|e| pick(e).is_some()) {
            let event = self.events.remove(index).expect("index is in range");
            return pick(&event).ok_or(MenpError::Timeout);
        }
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let Some(command) = self.connection.next_push(left).await? else {
                return Err(MenpError::Timeout);
            };
            if let Some(event) = to_event(command)? {
                if let Some(picked) = pick(&event) {
                    return Ok(picked);
                }
                self.events.push_back(event);
            }
        }
    }
}

fn participants(replies: Vec<ServerCommand>) -> Result<Vec<Participant>, MenpError> {
    replies
        .into_iter()
        .filter_map(|reply| match reply {
            ServerCommand::Iro(iro) => Some(
                user_id(&iro.user_id).map(|id| Participant { user_id: id, display_name: iro.display_name }),
            ),
            _ => None,
        })
        .collect()
}

fn to_event(command: ServerCommand) -> Result<Option<SbEvent>, MenpError> {
    Ok(Some(match command {
        ServerCommand::Joi(joi) => {
            SbEvent::Joined(Participant { user_id: user_id(&joi.user_id)?, display_name: joi.display_name })
        }
        ServerCommand::Bye(bye) => {
            SbEvent::Left { user_id: user_id(&bye.user_id)?, reason: bye.reason.map(Token::into_string) }
        }
        ServerCommand::Msg(msg) => {
            let raw = MessagePayload::parse(msg.payload, usize::MAX)
                .map_err(|e| MenpError::Protocol(e.to_string()))?;
            let payload = ImPayload::parse(&raw).unwrap_or(ImPayload::Other);
            let from =
                Participant { user_id: user_id(&msg.sender_id)?, display_name: msg.sender_display_name };
            SbEvent::Message { from, payload, raw }
        }
        ServerCommand::Med(med) => SbEvent::Media {
            from: user_id(&med.sender_id)?,
            call_id: med.call_id.into_string(),
            data: med.payload,
        },
        ServerCommand::Fil(fil) => SbEvent::FileChunk {
            from: user_id(&fil.sender_id)?,
            transfer_id: fil.transfer_id.into_string(),
            offset: fil.offset,
            data: fil.payload,
        },
        ServerCommand::Rly(rly) => SbEvent::Relay(RelayGrant {
            call_id: rly.call_id.into_string(),
            relay: rly.relay.into_string(),
            member_id: rly.member_id,
            bind_token: rly.bind_token.into_string(),
            media_key: rly.media_key.into_string(),
        }),
        ServerCommand::Err(reply) => SbEvent::Refused(reply),
        ServerCommand::Out(out) => SbEvent::Ended(out.reason),
        _ => return Ok(None),
    }))
}
