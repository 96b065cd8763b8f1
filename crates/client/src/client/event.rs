//! Everything the client tells its owner, as typed values on one channel.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use bytes::Bytes;
use mocha_api::{Account, ContactListEvent, Presence, UserId, UserSummary};
use mocha_proto::im::{CallControl, TextFormat};
use mocha_proto::{ErrorReply, MessagePayload, OutReason};
use time::OffsetDateTime;

use crate::sb::{Participant, RelayGrant};

/// One server push or client happening, in the order they occurred.
#[derive(Clone, Debug, PartialEq)]
pub enum Event {
    /// Signed in to the Notification Server and synced (at start and after every reconnect).
    Connected { account: Account },
    /// The Notification Server connection dropped; the client retries after `retry_in`.
    Disconnected { reason: String, attempt: u32, retry_in: Duration },
    /// A contact's presence as you may see it; `None` means offline (or hidden from you).
    Presence { user: UserId, presence: Option<Presence> },
    /// A contact's personal message changed.
    PersonalMessage { user: UserId, message: String },
    /// Your contact list changed (`CON`); [`ClientState`](super::ClientState) is re-synced already.
    ContactList(ContactListEvent),
    /// A service notice from the operators (`NOT`).
    Notice(String),
    /// Someone invites you to a conversation; answer with [`Client::answer`](super::Client::answer).
    Ring(Ring),
    /// Something happened in one of your conversations.
    Conversation { id: ConversationId, event: ConversationEvent },
    /// The session token was renewed before it expired.
    SessionRefreshed { expires_at: OffsetDateTime },
    /// The session is over; the client stops. Not retried.
    SignedOut(SignOutReason),
}

/// Identifies a conversation in [`Event::Conversation`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConversationId(pub u64);

impl fmt::Display for ConversationId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "c{}", self.0)
    }
}

/// An invitation into a Switchboard conversation (`RNG`).
#[derive(Clone, PartialEq, Eq)]
pub struct Ring {
    pub room: String,
    pub caller: UserSummary,
    pub(crate) address: String,
    pub(crate) ticket: String,
}

// The ticket is a credential: it never goes into a log line.
impl fmt::Debug for Ring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ring").field("room", &self.room).field("caller", &self.caller).finish()
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum ConversationEvent {
    Joined(Participant),
    Left {
        user: UserId,
        reason: Option<String>,
    },
    Text {
        from: Participant,
        text: String,
        format: TextFormat,
    },
    Typing {
        from: Participant,
    },
    Nudge {
        from: Participant,
    },
    Invitation {
        from: Participant,
        application: String,
        body: String,
    },
    /// Voice or video session control from someone in the conversation.
    Call {
        from: Participant,
        control: CallControl,
    },
    Media {
        from: UserId,
        call_id: String,
        data: Bytes,
    },
    /// The call has two members: how to reach its UDP media relay (`RLY`). Comes again
    /// (with a new token) if the server issues a fresh grant.
    CallRelay(RelayGrant),
    /// Someone offers you a file; accept with [`Conversation::accept_file`](super::Conversation::accept_file).
    FileOffered {
        from: Participant,
        offer: FileOffer,
    },
    Transfer(TransferEvent),
    /// A message of a kind this version does not know.
    Other {
        from: Participant,
        message: MessagePayload,
    },
    /// The server refused something sent without waiting for an answer.
    Refused(ErrorReply),
    /// The conversation is over for this client; no more events follow for it.
    Ended {
        reason: Option<OutReason>,
    },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileOffer {
    pub transfer_id: String,
    pub name: String,
    pub size: u64,
    pub sha256: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TransferDirection {
    Sending,
    Receiving,
}

/// How a file transfer is going.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TransferEvent {
    /// The receiver accepted your offer; chunks are flowing.
    Accepted {
        transfer_id: String,
    },
    Declined {
        transfer_id: String,
    },
    /// The other side cancelled.
    Cancelled {
        transfer_id: String,
    },
    Progress {
        transfer_id: String,
        direction: TransferDirection,
        done: u64,
        total: u64,
    },
    /// Done and verified: for a received file, `path` is where it was written and its
    /// SHA-256 matched the offer; for a sent one, the receiver confirmed the same.
    Completed {
        transfer_id: String,
        direction: TransferDirection,
        path: Option<PathBuf>,
        sha256: String,
    },
    Failed {
        transfer_id: String,
        direction: TransferDirection,
        reason: String,
    },
}

/// Why a session ended for good.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SignOutReason {
    /// You signed out.
    Requested,
    SignedInElsewhere,
    /// `until` is RFC 3339, or `None` for a permanent ban.
    Banned {
        until: Option<String>,
        reason: Option<String>,
    },
    AccountDeleted,
    /// The sign-in was revoked (signed out elsewhere, password changed, token replay).
    Revoked,
    /// Passport or the Notification Server refused the saved credentials.
    Refused(String),
}

impl fmt::Display for SignOutReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SignOutReason::Requested => write!(f, "you signed out"),
            SignOutReason::SignedInElsewhere => write!(f, "you signed in somewhere else"),
            SignOutReason::Banned { until, reason } => {
                write!(f, "the account is banned")?;
                match until {
                    Some(until) => write!(f, " until {until}")?,
                    None => write!(f, " permanently")?,
                }
                match reason {
                    Some(reason) => write!(f, ": {reason}"),
                    None => Ok(()),
                }
            }
            SignOutReason::AccountDeleted => write!(f, "the account was deleted"),
            SignOutReason::Revoked => write!(f, "this sign-in was revoked"),
            SignOutReason::Refused(why) => write!(f, "sign-in refused: {why}"),
        }
    }
}

impl SignOutReason {
    /// A machine-readable code for scripts: `requested`, `elsewhere`, `banned`, `deleted`,
    /// `revoked`, `refused`.
    pub fn code(&self) -> &'static str {
        match self {
            SignOutReason::Requested => "requested",
            SignOutReason::SignedInElsewhere => "elsewhere",
            SignOutReason::Banned { .. } => "banned",
            SignOutReason::AccountDeleted => "deleted",
            SignOutReason::Revoked => "revoked",
            SignOutReason::Refused(_) => "refused",
        }
    }

    /// The fatal `OUT` reasons; the others (shutdown, idle, slow) are worth a reconnect.
    pub(crate) fn from_out(reason: &OutReason) -> Option<Self> {
        Some(match reason {
            OutReason::SignedInElsewhere => SignOutReason::SignedInElsewhere,
            OutReason::Banned(detail) => SignOutReason::Banned {
                until: detail.as_ref().and_then(|d| match &d.until {
                    mocha_proto::BanUntil::Permanent => None,
                    mocha_proto::BanUntil::Until(at) => Some(at.to_string()),
                }),
                reason: detail.as_ref().map(|d| d.reason.clone()).filter(|r| !r.is_empty()),
            },
            OutReason::AccountDeleted => SignOutReason::AccountDeleted,
            OutReason::SignInRevoked => SignOutReason::Revoked,
            OutReason::ServerShutdown | OutReason::IdleTimeout | OutReason::TooSlow => return None,
        })
    }
}
