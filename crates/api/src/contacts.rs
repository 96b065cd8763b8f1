use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::UserId;

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UserSummary {
    pub id: UserId,
    pub username: String,
    pub display_name: String,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Contact {
    pub user: UserSummary,
    pub alias: Option<String>,
    /// You have blocked this contact: they see you offline and cannot reach you.
    pub blocked: bool,
    #[serde(with = "crate::timestamp")]
    pub since: OffsetDateTime,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SetAliasRequest {
    /// `null` or an empty string clears the alias; at most 64 characters, no control characters.
    #[cfg_attr(
        feature = "openapi",
        schema(max_length = 64, pattern = "^[^\\u0000-\\u001F\\u007F-\\u009F]*$")
    )]
    pub alias: Option<String>,
}

/// Who to ask: give either `username` or `user_id`.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NewContactRequest {
    /// Their sign-in address.
    pub username: Option<String>,
    pub user_id: Option<UserId>,
    /// Shown with the request: at most 200 characters, no control characters.
    #[cfg_attr(
        feature = "openapi",
        schema(max_length = 200, pattern = "^[^\\u0000-\\u001F\\u007F-\\u009F]*$")
    )]
    pub message: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ContactRequest {
    pub id: i64,
    pub from: UserSummary,
    pub to: UserSummary,
    pub message: Option<String>,
    #[serde(with = "crate::timestamp")]
    pub created_at: OffsetDateTime,
}

#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ContactRequestOutcome {
    /// The request waits for the other user.
    Pending,
    /// They had already asked you, so you are now contacts.
    Accepted,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ContactRequestCreated {
    pub outcome: ContactRequestOutcome,
    /// The pending request, when the outcome is `pending`.
    pub request: Option<ContactRequest>,
    /// The new contact, when the outcome is `accepted`.
    pub contact: Option<Contact>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ContactRequests {
    pub incoming: Vec<ContactRequest>,
    pub outgoing: Vec<ContactRequest>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BlockedUser {
    pub user: UserSummary,
    #[serde(with = "crate::timestamp")]
    pub since: OffsetDateTime,
}

#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum RequestPolicy {
    #[default]
    Everyone,
    Nobody,
}

impl RequestPolicy {
    pub fn as_str(self) -> &'static str {
        match self {
            RequestPolicy::Everyone => "everyone",
            RequestPolicy::Nobody => "nobody",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "everyone" => Some(RequestPolicy::Everyone),
            "nobody" => Some(RequestPolicy::Nobody),
            _ => None,
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PrivacySettings {
    /// Who may send you contact requests.
    pub contact_requests: RequestPolicy,
    /// Derived: your accepted contacts whom you have not blocked. Only they see your presence.
    pub can_see_me: Vec<UserSummary>,
    /// Derived: users waiting on a contact request to you.
    pub requesting_me: Vec<UserSummary>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UpdatePrivacyRequest {
    pub contact_requests: RequestPolicy,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ActivityAlert {
    pub id: String,
    /// What happened, e.g. `message`.
    pub kind: String,
    pub sender: UserSummary,
    /// At most 320 characters.
    pub text: String,
    #[serde(with = "crate::timestamp")]
    pub created_at: OffsetDateTime,
}

/// A change to someone's contact list, pushed to them by the Notification Server.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum ContactListEvent {
    RequestReceived {
        request: ContactRequest,
    },
    /// Your own request went out (so every client of yours lists it as waiting).
    RequestSent {
        request: ContactRequest,
    },
    RequestAccepted {
        by: UserSummary,
    },
    RequestDeclined {
        by: UserSummary,
    },
    RequestCancelled {
        by: UserSummary,
    },
    ContactRemoved {
        by: UserSummary,
    },
    ContactAdded {
        contact: UserSummary,
    },
    AliasChanged {
        contact: UserId,
        alias: Option<String>,
    },
    Blocked {
        user: UserSummary,
    },
    Unblocked {
        user: UserSummary,
    },
    DisplayNameChanged {
        user: UserSummary,
    },
}
