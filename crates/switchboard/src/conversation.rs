//! The room core: joining with a ticket, inviting, relaying a message, leaving — the
//! same for every front (MENP/1 here, MSNP in the gateway), so a conversation can mix
//! them and blocks, bans, limits and activity alerts are decided once.
//!
//! Each front parses its own wire format into these calls and renders the outcome and
//! the [`RoomEvent`]s others cause through its [`RoomFront`].

use std::sync::Arc;

use bytes::Bytes;
use mocha_auth::{SignedClaims, SwitchboardTicket, TokenError, UserId, unix_now};
use mocha_net::Outbox;
use mocha_passport::PassportError;
use mocha_proto::OutReason;
use mocha_proto::im::ImPayload;

use crate::front::{Protocol, RoomEvent, RoomFront, RoomMessage, Speaker};
use crate::room::{Participant, RoomError};
use crate::{RingFailure, Switchboard};

/// Who a joining connection says it is: MENP/1 names the user id, MSNP the handle.
#[derive(Clone, Copy, Debug)]
pub enum Claim<'a> {
    Id(UserId),
    Username(&'a str),
}

/// A connection asking to join the room its ticket is for.
pub struct JoinRequest<'a> {
    pub ticket: &'a str,
    pub claim: Claim<'a>,
    /// The room id an invitee answers for (`ANS`); `None` for the caller (`USR`), who
    /// may open the room.
    pub answering: Option<&'a str>,
    /// From [`Switchboard::next_connection`].
    pub connection: u64,
    pub outbox: Outbox,
    pub front: Arc<dyn RoomFront>,
}

/// Why a join was refused.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum JoinError {
    #[error("the ticket has expired")]
    TicketExpired,
    #[error("the ticket is not valid")]
    TicketInvalid,
    #[error("the ticket is for someone or somewhere else")]
    NotYourTicket,
    #[error("the ticket's account no longer exists")]
    AccountGone,
    #[error("this account is banned")]
    Banned,
    #[error("that conversation has ended")]
    Ended,
    #[error("this conversation is full")]
    Full,
    #[error("internal error: {0}")]
    Internal(String),
}

/// Why an invitation was not sent.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum InviteError {
    #[error("they are already in this conversation")]
    AlreadyHere,
    #[error("this conversation is full")]
    Full,
    #[error(transparent)]
    Ring(#[from] RingFailure),
}

/// Why a message was not relayed.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SendError {
    #[error("messages are limited to {limit} bytes")]
    TooLong { limit: usize },
    #[error("the conversation has ended")]
    Ended,
    #[error(transparent)]
    Room(#[from] RoomError),
    /// Nobody was there, and the activity alert that would have told them could not
    /// be kept: the sender must hear that the message is lost.
    #[error("nobody received the message, and it could not be kept as an activity alert: {0}")]
    AlertNotKept(AlertFailure),
}

#[derive(Debug, thiserror::Error, Clone, Copy, PartialEq, Eq)]
pub enum AlertFailure {
    #[error("the server's storage is full")]
    StorageFull,
    #[error("the server's database cannot be reached just now; try again soon")]
    Unavailable,
    #[error("the server failed")]
    Internal,
}

/// A message was relayed (or, reaching nobody, kept as activity alerts).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sent {
    /// Someone in the room received it.
    pub delivered: bool,
}

/// The joiner is in.
pub struct Joined {
    pub room: String,
    pub me: Speaker,
}

impl Switchboard {
    /// Checks the ticket (signature, expiry, holder), the account and bans, records the
    /// blocks between the newcomer and those present, and joins. `reply` runs under the
    /// room lock with the newcomer and those it can reach, so its replies (`IRO`…, then
    /// `USR`/`ANS`) are queued before anything said in the room afterwards; the others
    /// hear [`RoomEvent::Joined`]. A connection of the same user already in the room is
    /// replaced (told `OUT OTH`).
    pub async fn join(
        &self,
        request: JoinRequest<'_>,
        reply: impl FnOnce(&Speaker, &[&Speaker]),
    ) -> Result<Joined, JoinError> {
        let ticket = match SwitchboardTicket::verify(request.ticket, &self.ticket_verifier, unix_now()) {
            Ok(ticket) => ticket,
            Err(TokenError::Expired) => return Err(JoinError::TicketExpired),
            Err(_) => return Err(JoinError::TicketInvalid),
        };
        if matches!(request.claim, Claim::Id(id) if id != ticket.sub)
            || request.answering.is_some_and(|room| room != ticket.room)
        {
            return Err(JoinError::NotYourTicket);
        }
        let user = ticket.sub;
        let account = self.passport.account(user).await.map_err(|_| JoinError::AccountGone)?;
        if let Claim::Username(name) = request.claim
            && !name.eq_ignore_ascii_case(&account.username)
        {
            return Err(JoinError::NotYourTicket);
        }
        match self.passport.active_ban(user).await {
            Ok(None) => {}
            Ok(Some(_)) => return Err(JoinError::Banned),
            Err(e) => return Err(JoinError::Internal(e.to_string())),
        }

        // Blocks between the newcomer and those present are looked up before taking the lock.
        let present: Vec<UserId> = self
            .rooms()
            .get(&ticket.room)
            .map(|r| r.participants.keys().copied().collect())
            .unwrap_or_default();
        let mut blocked_with = Vec::new();
        for other in present.into_iter().filter(|&other| other != user) {
            match self.passport.blocked_either_way(user, other).await {
                Ok(true) => blocked_with.push(other),
                Ok(false) => {}
                Err(e) => return Err(JoinError::Internal(e.to_string())),
            }
        }

        let me = Speaker::new(user, account.username, account.display_name);
        let mut rooms = self.rooms();
        if request.answering.is_some() && !rooms.contains_key(&ticket.room) {
            return Err(JoinError::Ended);
        }
        let room = rooms.entry(ticket.room.clone()).or_default();
        let participant = Participant {
            speaker: me.clone(),
            outbox: request.outbox,
            connection: request.connection,
            front: request.front,
        };
        let replaced = match room.join(user, participant, &blocked_with, self.config.max_participants) {
            Ok(replaced) => replaced,
            Err(RoomError::Full) => return Err(JoinError::Full),
            Err(e) => return Err(JoinError::Internal(e.to_string())),
        };
        match replaced {
            Some(old) => old.outbox.kick(OutReason::SignedInElsewhere),
            None => self.gauge.add_online(1),
        }
        // A replaced connection's call grants move to this one (fresh tokens).
        self.sync_relay(&ticket.room, room);
        let others = room.reachable(user);
        let speakers: Vec<&Speaker> = others.iter().map(|other| &room.participants[other].speaker).collect();
        reply(&me, &speakers);
        let joined = RoomEvent::Joined(&me);
        for other in &others {
            room.participants[other].deliver(&joined);
        }
        tracing::info!(user = %user, room = %ticket.room, "joined a conversation");
        Ok(Joined { room: ticket.room, me })
    }

    /// Leaves the room if `connection` is still `user`'s there: those they could reach
    /// hear [`RoomEvent::Left`]; an empty room is closed.
    pub fn leave(&self, user: UserId, room_id: &str, connection: u64, reason: Option<&OutReason>) {
        let mut rooms = self.rooms();
        let Some(room) = rooms.get_mut(room_id) else { return };
        let told = room.reachable(user);
        let Some(speaker) = room.participants.get(&user).map(|p| p.speaker.clone()) else { return };
        if !room.leave(user, connection) {
            return;
        }
        self.gauge.add_online(-1);
        self.sync_relay(room_id, room);
        let left = RoomEvent::Left { who: &speaker, reason };
        for other in told {
            if let Some(participant) = room.participants.get(&other) {
                participant.deliver(&left);
            }
        }
        if room.participants.is_empty() {
            rooms.remove(room_id);
        }
    }

    /// Invites `invitee` (a user id or sign-in address) into `room_id` on behalf of
    /// `caller`: the Notification Server rings them on whichever protocol they are
    /// signed in with. Rung or offline, the conversation is then meant for them too
    /// (what is said while nobody is here reaches them as an activity alert).
    pub async fn invite(&self, caller: UserId, room_id: &str, invitee: &str) -> Result<(), InviteError> {
        let resolved = match invitee.parse::<UserId>() {
            Ok(id) => Some(id),
            Err(_) => self.passport.find_user_id(invitee).await.ok().flatten(),
        };
        if let Some(id) = resolved {
            let rooms = self.rooms();
            let room = rooms.get(room_id);
            if room.is_some_and(|r| r.participants.contains_key(&id)) {
                return Err(InviteError::AlreadyHere);
            }
            if room.is_some_and(|r| r.participants.len() >= self.config.max_participants) {
                return Err(InviteError::Full);
            }
        }
        let outcome = self.ringer.ring(caller, invitee, room_id).await;
        // Passport drops the alert later if they block the caller.
        let audience = match &outcome {
            Ok(callee) => Some(*callee),
            Err(RingFailure::Offline) => resolved,
            Err(_) => None,
        };
        if let Some(id) = audience
            && let Some(room) = self.rooms().get_mut(room_id)
        {
            room.audience.insert(id);
        }
        outcome.map(drop).map_err(InviteError::Ring)
    }

    /// Relays `message` from `from` to everyone in `room_id` they can reach (call and
    /// file control only to whom it concerns), each in their own protocol. Text that
    /// reaches nobody becomes an activity alert for the people the conversation was
    /// meant for. The caller has applied its rate limit and parsed the payload.
    pub async fn send(
        &self,
        from: &Speaker,
        room_id: &str,
        mut message: RoomMessage,
    ) -> Result<Sent, SendError> {
        let user = from.user;
        if let ImPayload::Text { text, .. } = &message.meaning
            && text.len() > self.config.max_text_bytes
        {
            return Err(SendError::TooLong { limit: self.config.max_text_bytes });
        }
        metrics::counter!("mocha_switchboard_messages_total").increment(1);

        let (delivered, missed) = {
            let mut rooms = self.rooms();
            let room = rooms.get_mut(room_id).ok_or(SendError::Ended)?;
            let only = match &mut message.meaning {
                ImPayload::Call(control) => Some(room.call_control(user, control)?),
                ImPayload::File(control) => {
                    let to = room.file_control(user, control)?;
                    // The server may have filled in the recipient; send the normalised form.
                    message.payload = ImPayload::File(control.clone()).to_message().to_bytes();
                    Some(vec![to])
                }
                _ => None,
            };
            if let ImPayload::Call(_) = &message.meaning {
                // Before anyone hears of a hang-up, the relay has forgotten the member.
                self.sync_relay(room_id, room);
            }
            // Pushed with the rooms locked: a push only queues and wakes the connection,
            // and this way a message costs no list of its recipients.
            let event = RoomEvent::Message { from, message: &message };
            let mut renders = Renders::default();
            let (mut reachable, mut delivered) = (0, 0);
            for (&to, participant) in &room.participants {
                let wanted = only.as_ref().is_none_or(|only| only.contains(&to));
                if !wanted || !room.can_reach(user, to) {
                    continue;
                }
                reachable += 1;
                if let Some(wire) = renders.render(&*participant.front, &event) {
                    participant.outbox.push_wire(wire);
                    delivered += 1;
                }
            }
            let missed: Vec<UserId> = match &message.meaning {
                ImPayload::Text { .. } if reachable == 0 => room
                    .audience
                    .iter()
                    .copied()
                    .filter(|&u| u != user && !room.participants.contains_key(&u))
                    .collect(),
                _ => Vec::new(),
            };
            (delivered, missed)
        };
        metrics::counter!("mocha_switchboard_deliveries_total").increment(delivered as u64);

        if let ImPayload::Text { text, .. } = &message.meaning {
            let mut unfiled = None;
            for recipient in missed {
                if let Err(e) = self.passport.file_alert(recipient, "message", user, text).await {
                    tracing::warn!(user = %user, recipient = %recipient, error = ?e, "could not file an activity alert");
                    unfiled.get_or_insert(e);
                }
            }
            if let Some(e) = unfiled {
                return Err(SendError::AlertNotKept(match e {
                    PassportError::StorageFull(_) => AlertFailure::StorageFull,
                    PassportError::StorageUnavailable(_) => AlertFailure::Unavailable,
                    _ => AlertFailure::Internal,
                }));
            }
        }
        Ok(Sent { delivered: delivered > 0 })
    }
}

impl Participant {
    /// Renders `event` in this participant's protocol into their outbox.
    pub(crate) fn deliver(&self, event: &RoomEvent<'_>) {
        if let Some(wire) = self.front.render(event) {
            self.outbox.push_wire(wire);
        }
    }
}

/// Renders `event` once per protocol and pushes it to every target that can hear it;
/// gives how many did.
/// Each protocol's wire form of one event, rendered once for all its recipients.
#[derive(Default)]
struct Renders {
    menp: Option<Option<Bytes>>,
    msnp: Option<Option<Bytes>>,
}

impl Renders {
    fn render(&mut self, front: &dyn RoomFront, event: &RoomEvent<'_>) -> Option<Bytes> {
        let slot = match front.protocol() {
            Protocol::Menp => &mut self.menp,
            Protocol::Msnp => &mut self.msnp,
        };
        slot.get_or_insert_with(|| front.render(event)).clone()
    }
}
