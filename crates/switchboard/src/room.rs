//! One conversation's state: who is in it, who it is for, which calls and file
//! transfers are under way, and which participants must not reach each other.
//! Pure bookkeeping — callers hold the room lock, and deliver frames themselves.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::Arc;

use mocha_auth::UserId;
use mocha_net::Outbox;
use mocha_proto::ErrorCode;
use mocha_proto::im::{CallCommand, CallControl, FileCommand, FileControl};

use crate::front::{RoomFront, Speaker};
use crate::relay::WantedCall;

pub(crate) struct Participant {
    pub speaker: Speaker,
    pub outbox: Outbox,
    /// Which connection this is, so a replaced connection's goodbye does not remove its successor.
    pub connection: u64,
    /// How this participant hears the room: in the protocol they joined with.
    pub front: Arc<dyn RoomFront>,
}

#[derive(Default)]
pub(crate) struct Room {
    pub participants: BTreeMap<UserId, Participant>,
    /// Everyone invited or ever present: who a message is for when nobody is there to read it.
    pub audience: BTreeSet<UserId>,
    /// Pairs of participants with a block between them: nothing passes between them.
    blocked: HashSet<(UserId, UserId)>,
    calls: HashMap<String, Call>,
    transfers: HashMap<String, Transfer>,
}

struct Call {
    members: BTreeSet<UserId>,
    ringing: BTreeSet<UserId>,
}

struct Transfer {
    sender: UserId,
    receiver: UserId,
    size: u64,
    next_offset: u64,
    accepted: bool,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum RoomError {
    #[error("this conversation is full")]
    Full,
    #[error("there is no call with that id here")]
    NoSuchCall,
    #[error("a call with that id already exists")]
    CallExists,
    #[error("you are not part of that call")]
    NotInCall,
    #[error("the call has not started")]
    CallNotStarted,
    #[error("there is no transfer with that id here")]
    NoSuchTransfer,
    #[error("a transfer with that id already exists")]
    TransferExists,
    #[error("that is not your transfer to control")]
    NotYourTransfer,
    #[error("a file offer needs File-Name, File-Size and File-SHA256")]
    IncompleteOffer,
    #[error("say who the file is for with a To header")]
    NoRecipient,
    #[error("the recipient is not in this conversation")]
    RecipientAbsent,
    #[error("the transfer has not been accepted")]
    NotAccepted,
    #[error("chunk out of order: the next offset is {expected}")]
    WrongOffset { expected: u64 },
    #[error("the chunk goes past the offered file size")]
    PastEnd,
    #[error("the transfer is not finished")]
    Unfinished,
}

impl RoomError {
    pub fn error_code(&self) -> ErrorCode {
        use RoomError::*;
        match self {
            Full | NotInCall | NotYourTransfer => ErrorCode::NotAllowed,
            RecipientAbsent => ErrorCode::NotInConversation,
            CallNotStarted | NotAccepted | WrongOffset { .. } | Unfinished => ErrorCode::WrongState,
            NoSuchCall | CallExists | NoSuchTransfer | TransferExists | IncompleteOffer | NoRecipient
            | PastEnd => ErrorCode::InvalidArgument,
        }
    }
}

fn pair(a: UserId, b: UserId) -> (UserId, UserId) {
    (a.min(b), a.max(b))
}

impl Room {
    /// Whether a frame from `from` may reach `to`.
    pub fn can_reach(&self, from: UserId, to: UserId) -> bool {
        from != to && !self.blocked.contains(&pair(from, to))
    }

    /// The participants `from` can reach.
    pub fn reachable(&self, from: UserId) -> Vec<UserId> {
        self.participants.keys().copied().filter(|&to| self.can_reach(from, to)).collect()
    }

    pub fn outbox(&self, user: UserId) -> Option<&Outbox> {
        self.participants.get(&user).map(|p| &p.outbox)
    }

    /// Adds (or replaces) a participant; `blocked_with` lists present participants they share a block with.
    pub fn join(
        &mut self,
        user: UserId,
        participant: Participant,
        blocked_with: &[UserId],
        max: usize,
    ) -> Result<Option<Participant>, RoomError> {
        if !self.participants.contains_key(&user) && self.participants.len() >= max {
            return Err(RoomError::Full);
        }
        for &other in blocked_with {
            self.blocked.insert(pair(user, other));
        }
        self.audience.insert(user);
        Ok(self.participants.insert(user, participant))
    }

    /// Removes the participant if `connection` is still theirs; ends their calls and transfers.
    pub fn leave(&mut self, user: UserId, connection: u64) -> bool {
        if self.participants.get(&user).is_none_or(|p| p.connection != connection) {
            return false;
        }
        self.participants.remove(&user);
        self.blocked.retain(|&(a, b)| a != user && b != user);
        self.transfers.retain(|_, t| t.sender != user && t.receiver != user);
        for call in self.calls.values_mut() {
            call.members.remove(&user);
            call.ringing.remove(&user);
        }
        self.calls.retain(|_, call| call.members.len() + call.ringing.len() >= 2 && !call.members.is_empty());
        true
    }

    /// Records a block (or its end) between two participants. True if both are here.
    pub fn set_blocked(&mut self, a: UserId, b: UserId, blocked: bool) -> bool {
        if !(self.participants.contains_key(&a) && self.participants.contains_key(&b)) {
            return false;
        }
        if blocked {
            self.blocked.insert(pair(a, b));
            self.transfers.retain(|_, t| pair(t.sender, t.receiver) != pair(a, b));
        } else {
            self.blocked.remove(&pair(a, b));
        }
        true
    }

    /// Applies call session control from `from`; gives who must hear of it.
    pub fn call_control(&mut self, from: UserId, control: &CallControl) -> Result<Vec<UserId>, RoomError> {
        let id = control.call_id.as_str();
        if control.command == CallCommand::Invite {
            if self.calls.contains_key(id) {
                return Err(RoomError::CallExists);
            }
            let ringing: BTreeSet<UserId> = self.reachable(from).into_iter().collect();
            let recipients = ringing.iter().copied().collect();
            self.calls.insert(id.to_string(), Call { members: BTreeSet::from([from]), ringing });
            return Ok(recipients);
        }
        let call = self.calls.get_mut(id).ok_or(RoomError::NoSuchCall)?;
        match control.command {
            CallCommand::Invite => unreachable!("handled above"),
            CallCommand::Accept => {
                if !call.ringing.remove(&from) {
                    return Err(RoomError::NotInCall);
                }
                call.members.insert(from);
            }
            CallCommand::Decline => {
                if !call.ringing.remove(&from) {
                    return Err(RoomError::NotInCall);
                }
            }
            CallCommand::Cancel | CallCommand::Hangup => {
                if !call.members.remove(&from) && !call.ringing.remove(&from) {
                    return Err(RoomError::NotInCall);
                }
                if control.command == CallCommand::Cancel {
                    // The caller withdraws the invitation: nobody is left ringing.
                    let mut told: Vec<UserId> = call.members.iter().chain(&call.ringing).copied().collect();
                    told.retain(|&u| u != from);
                    self.calls.remove(id);
                    return Ok(told);
                }
            }
        }
        let told: Vec<UserId> =
            call.members.iter().chain(&call.ringing).copied().filter(|&u| u != from).collect();
        if call.members.is_empty() || call.members.len() + call.ringing.len() < 2 {
            self.calls.remove(id);
        }
        Ok(told)
    }

    /// Takes `user` out of every call here at once (a ban or a deleted account, before
    /// their connection has even closed). Calls left with one member end.
    pub fn drop_from_calls(&mut self, user: UserId) {
        for call in self.calls.values_mut() {
            call.members.remove(&user);
            call.ringing.remove(&user);
        }
        self.calls.retain(|_, call| call.members.len() + call.ringing.len() >= 2 && !call.members.is_empty());
    }

    /// The calls the media relay must carry: those with two members or more, each with
    /// the members who can still reach another member (a block can leave someone alone
    /// in a call), on their current connection.
    pub fn relay_view(&self) -> Vec<WantedCall> {
        let mut wanted = Vec::new();
        for (id, call) in &self.calls {
            let members: Vec<(UserId, u64, Outbox)> = call
                .members
                .iter()
                .filter(|&&m| call.members.iter().any(|&o| self.can_reach(m, o)))
                .filter_map(|m| self.participants.get(m).map(|p| (*m, p.connection, p.outbox.clone())))
                .collect();
            if members.len() < 2 {
                continue;
            }
            let blocked = self
                .blocked
                .iter()
                .filter(|(a, b)| call.members.contains(a) && call.members.contains(b))
                .copied()
                .collect();
            wanted.push(WantedCall { call_id: id.clone(), members, blocked });
        }
        wanted
    }

    /// Who `from`'s media frames for `call_id` go to: the other members of a live call.
    pub fn media_targets(&self, from: UserId, call_id: &str) -> Result<Vec<UserId>, RoomError> {
        let call = self.calls.get(call_id).ok_or(RoomError::NoSuchCall)?;
        if !call.members.contains(&from) {
            return Err(RoomError::NotInCall);
        }
        if call.members.len() < 2 {
            return Err(RoomError::CallNotStarted);
        }
        Ok(call.members.iter().copied().filter(|&to| self.can_reach(from, to)).collect())
    }

    /// Applies file-transfer control from `from` (filling in the recipient of an offer
    /// when there is only one); gives who must hear of it.
    pub fn file_control(&mut self, from: UserId, control: &mut FileControl) -> Result<UserId, RoomError> {
        let id = control.transfer_id.clone();
        if control.command == FileCommand::Offer {
            if self.transfers.contains_key(&id) {
                return Err(RoomError::TransferExists);
            }
            let (Some(_), Some(size), Some(_)) = (&control.name, control.size, &control.sha256) else {
                return Err(RoomError::IncompleteOffer);
            };
            let receiver = match control.to.as_deref().map(str::parse::<UserId>) {
                Some(Ok(to)) => to,
                Some(Err(_)) => return Err(RoomError::NoRecipient),
                None => match self.reachable(from).as_slice() {
                    [only] => *only,
                    _ => return Err(RoomError::NoRecipient),
                },
            };
            if !self.participants.contains_key(&receiver) || !self.can_reach(from, receiver) {
                return Err(RoomError::RecipientAbsent);
            }
            control.to = Some(receiver.to_string());
            self.transfers
                .insert(id, Transfer { sender: from, receiver, size, next_offset: 0, accepted: false });
            return Ok(receiver);
        }
        let transfer = self.transfers.get_mut(&id).ok_or(RoomError::NoSuchTransfer)?;
        let (by_sender, by_receiver) = (transfer.sender == from, transfer.receiver == from);
        let other = if by_sender { transfer.receiver } else { transfer.sender };
        match control.command {
            FileCommand::Offer => unreachable!("handled above"),
            FileCommand::Accept if by_receiver => transfer.accepted = true,
            FileCommand::Decline if by_receiver => {
                self.transfers.remove(&id);
            }
            FileCommand::Cancel if by_sender || by_receiver => {
                self.transfers.remove(&id);
            }
            FileCommand::Complete if by_receiver => {
                if transfer.next_offset != transfer.size {
                    return Err(RoomError::Unfinished);
                }
                self.transfers.remove(&id);
            }
            _ => return Err(RoomError::NotYourTransfer),
        }
        Ok(other)
    }

    /// Checks a file chunk from `from` and advances the transfer; gives the receiver.
    pub fn file_chunk(
        &mut self,
        from: UserId,
        transfer_id: &str,
        offset: u64,
        len: u64,
    ) -> Result<UserId, RoomError> {
        let transfer = self.transfers.get_mut(transfer_id).ok_or(RoomError::NoSuchTransfer)?;
        if transfer.sender != from {
            return Err(RoomError::NotYourTransfer);
        }
        if !transfer.accepted {
            return Err(RoomError::NotAccepted);
        }
        if offset != transfer.next_offset {
            return Err(RoomError::WrongOffset { expected: transfer.next_offset });
        }
        if offset.saturating_add(len) > transfer.size {
            return Err(RoomError::PastEnd);
        }
        transfer.next_offset += len;
        Ok(transfer.receiver)
    }

    /// Forgets a transfer (a receiver too slow to keep up); false if it was gone already.
    pub fn cancel_transfer(&mut self, transfer_id: &str) -> bool {
        self.transfers.remove(transfer_id).is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mocha_proto::im::CallMedia;

    fn room_with(users: &[i64]) -> Room {
        let mut room = Room::default();
        for &id in users {
            let (outbox, _receivers) = Outbox::new(4, 4);
            let participant = Participant {
                speaker: Speaker::new(UserId(id), format!("user{id}@example.org"), format!("user {id}")),
                outbox,
                connection: id as u64,
                front: Arc::new(crate::front::MenpRoomFront),
            };
            room.join(UserId(id), participant, &[], 10).unwrap();
        }
        room
    }

    fn call(command: CallCommand) -> CallControl {
        CallControl { command, call_id: "c1".into(), media: Some(CallMedia::Audio), body: String::new() }
    }

    #[test]
    fn a_call_rings_connects_carries_media_and_ends() {
        let (a, b, c) = (UserId(1), UserId(2), UserId(3));
        let mut room = room_with(&[1, 2, 3]);
        assert_eq!(room.call_control(a, &call(CallCommand::Invite)), Ok(vec![b, c]));
        assert_eq!(room.media_targets(a, "c1"), Err(RoomError::CallNotStarted));
        assert_eq!(room.call_control(b, &call(CallCommand::Accept)), Ok(vec![a, c]));
        assert_eq!(room.media_targets(a, "c1"), Ok(vec![b]));
        assert_eq!(room.media_targets(c, "c1"), Err(RoomError::NotInCall), "ringing is not in the call");
        assert_eq!(room.call_control(c, &call(CallCommand::Decline)), Ok(vec![a, b]));
        assert_eq!(room.call_control(b, &call(CallCommand::Hangup)), Ok(vec![a]));
        assert_eq!(room.media_targets(a, "c1"), Err(RoomError::NoSuchCall), "a call of one ends");
    }

    #[test]
    fn a_transfer_goes_in_order_to_its_receiver_only() {
        let (a, b) = (UserId(1), UserId(2));
        let mut room = room_with(&[1, 2, 3]);
        let mut offer = FileControl {
            command: FileCommand::Offer,
            transfer_id: "t1".into(),
            to: None,
            name: Some("a.txt".into()),
            size: Some(10),
            sha256: Some("00".repeat(32)),
        };
        assert_eq!(
            room.file_control(a, &mut offer.clone()),
            Err(RoomError::NoRecipient),
            "three people: say who"
        );
        offer.to = Some("u2".into());
        assert_eq!(room.file_control(a, &mut offer), Ok(b));
        assert_eq!(room.file_chunk(a, "t1", 0, 4), Err(RoomError::NotAccepted));
        let mut accept = FileControl { command: FileCommand::Accept, ..offer.clone() };
        assert_eq!(room.file_control(UserId(3), &mut accept.clone()), Err(RoomError::NotYourTransfer));
        assert_eq!(room.file_control(b, &mut accept), Ok(a));
        assert_eq!(room.file_chunk(b, "t1", 0, 4), Err(RoomError::NotYourTransfer));
        assert_eq!(room.file_chunk(a, "t1", 0, 4), Ok(b));
        assert_eq!(room.file_chunk(a, "t1", 0, 4), Err(RoomError::WrongOffset { expected: 4 }));
        assert_eq!(room.file_chunk(a, "t1", 4, 7), Err(RoomError::PastEnd));
        let mut complete = FileControl { command: FileCommand::Complete, ..offer.clone() };
        assert_eq!(room.file_control(b, &mut complete.clone()), Err(RoomError::Unfinished));
        assert_eq!(room.file_chunk(a, "t1", 4, 6), Ok(b));
        assert_eq!(room.file_control(b, &mut complete), Ok(a));
        assert_eq!(room.file_chunk(a, "t1", 10, 0), Err(RoomError::NoSuchTransfer));
    }

    #[test]
    fn the_relay_carries_calls_of_two_and_leaves_out_who_reaches_nobody() {
        let (a, b, c) = (UserId(1), UserId(2), UserId(3));
        let mut room = room_with(&[1, 2, 3]);
        room.call_control(a, &call(CallCommand::Invite)).unwrap();
        assert!(room.relay_view().is_empty(), "ringing is not yet a call");
        room.call_control(b, &call(CallCommand::Accept)).unwrap();
        let members = |room: &Room| -> Vec<Vec<UserId>> {
            room.relay_view().iter().map(|w| w.members.iter().map(|m| m.0).collect()).collect()
        };
        assert_eq!(members(&room), vec![vec![a, b]]);
        room.call_control(c, &call(CallCommand::Accept)).unwrap();
        assert_eq!(members(&room), vec![vec![a, b, c]]);
        room.set_blocked(a, b, true);
        assert_eq!(room.relay_view()[0].blocked, vec![(a, b)], "a and b still reach c");
        room.drop_from_calls(c);
        assert!(room.relay_view().is_empty(), "a and b alone, blocking each other: nothing to carry");
    }

    #[test]
    fn blocked_participants_do_not_reach_each_other() {
        let (a, b, c) = (UserId(1), UserId(2), UserId(3));
        let mut room = room_with(&[1, 2, 3]);
        assert!(room.set_blocked(a, b, true));
        assert_eq!(room.reachable(a), vec![c]);
        assert_eq!(room.reachable(b), vec![c]);
        assert!(room.set_blocked(a, b, false));
        assert_eq!(room.reachable(a), vec![b, c]);
        assert!(room.leave(b, 2));
        assert!(!room.leave(c, 99), "only the current connection leaves");
        assert!(!room.set_blocked(a, b, true), "b is gone");
    }
}
