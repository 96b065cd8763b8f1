//! What the Notification Server sends in reply to `SYN`: everything a client needs to
//! draw its contact list, with the presence of each contact who may be seen.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::{Account, BlockedUser, ContactRequests, RequestPolicy, UserSummary};

/// A status a contact can be seen in. Appear-offline never shows: such a contact has no
/// [`Presence`] at all, exactly like one who is offline.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum PresenceStatus {
    #[serde(rename = "NLN")]
    Online,
    #[serde(rename = "BSY")]
    Busy,
    #[serde(rename = "AWY")]
    Away,
    #[serde(rename = "BRB")]
    BeRightBack,
    #[serde(rename = "PHN")]
    OnThePhone,
    #[serde(rename = "LUN")]
    OutToLunch,
}

impl PresenceStatus {
    /// The status shown for a MENP/1 status code (`NLN`, `BSY`, …); appear-offline
    /// (`HDN`), offline (`FLN`) and anything unknown show nothing.
    pub fn from_code(code: &str) -> Option<Self> {
        Some(match code {
            "NLN" => PresenceStatus::Online,
            "BSY" => PresenceStatus::Busy,
            "AWY" => PresenceStatus::Away,
            "BRB" => PresenceStatus::BeRightBack,
            "PHN" => PresenceStatus::OnThePhone,
            "LUN" => PresenceStatus::OutToLunch,
            _ => return None,
        })
    }
}

/// A contact's live presence as this user may see it.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Presence {
    pub status: PresenceStatus,
    pub display_name: String,
    /// May be empty.
    pub personal_message: String,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SyncContact {
    pub user: UserSummary,
    pub alias: Option<String>,
    /// You have blocked this contact.
    pub blocked: bool,
    #[serde(with = "crate::timestamp")]
    pub since: OffsetDateTime,
    /// Present only when the contact is online (not appearing offline) and may be seen by you.
    pub presence: Option<Presence>,
}

/// The `SYN` reply.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SyncSnapshot {
    pub account: Account,
    pub contacts: Vec<SyncContact>,
    pub blocks: Vec<BlockedUser>,
    pub requests: ContactRequests,
    /// Who may send this user contact requests.
    pub request_policy: RequestPolicy,
}

#[cfg(test)]
mod tests {
    use super::PresenceStatus;

    #[test]
    fn codes_match_the_serialised_names() {
        for status in [
            PresenceStatus::Online,
            PresenceStatus::Busy,
            PresenceStatus::Away,
            PresenceStatus::BeRightBack,
            PresenceStatus::OnThePhone,
            PresenceStatus::OutToLunch,
        ] {
            let code = serde_json::to_value(status).unwrap();
            assert_eq!(PresenceStatus::from_code(code.as_str().unwrap()), Some(status));
        }
        for hidden in ["HDN", "FLN", "XYZ"] {
            assert_eq!(PresenceStatus::from_code(hidden), None);
        }
    }
}
