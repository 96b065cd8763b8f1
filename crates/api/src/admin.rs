use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::{Account, UserId};

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BanRequest {
    pub user_id: UserId,
    /// Shown to the banned user: at most 500 characters, no control characters.
    #[cfg_attr(
        feature = "openapi",
        schema(max_length = 500, pattern = "^[^\\u0000-\\u001F\\u007F-\\u009F]*$")
    )]
    pub reason: Option<String>,
    /// When a temporary ban ends; absent for a permanent ban.
    #[serde(default, with = "crate::timestamp::option")]
    pub until: Option<OffsetDateTime>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Ban {
    pub permanent: bool,
    #[serde(with = "crate::timestamp::option")]
    pub until: Option<OffsetDateTime>,
    pub reason: Option<String>,
    pub issued_by: UserId,
    #[serde(with = "crate::timestamp")]
    pub issued_at: OffsetDateTime,
}

/// An account as a moderator sees it.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ModeratedAccount {
    pub account: Account,
    pub ban: Option<Ban>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NoticeRequest {
    /// 1 to 1000 characters (after trimming spaces), no control characters.
    #[cfg_attr(
        feature = "openapi",
        schema(
            min_length = 1,
            max_length = 1000,
            pattern = "^[^\\u0000-\\u001F\\u007F-\\u009F]*[^\\s\\u0000-\\u001F\\u007F-\\u009F][^\\u0000-\\u001F\\u007F-\\u009F]*$"
        )
    )]
    pub text: String,
}
