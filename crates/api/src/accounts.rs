use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::{Ban, UserId};

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RegisterRequest {
    /// The sign-in address, like `alice@example.com`: ASCII letters, digits and `._%+-`
    /// before the `@`, a domain after it; unique whatever its case. Surrounding spaces
    /// are trimmed.
    #[cfg_attr(
        feature = "openapi",
        schema(
            min_length = 3,
            max_length = 254,
            pattern = "^[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$"
        )
    )]
    pub username: String,
    /// What contacts see: 1 to 64 characters (after trimming spaces), no control characters.
    #[cfg_attr(
        feature = "openapi",
        schema(
            min_length = 1,
            max_length = 64,
            pattern = "^[^\\u0000-\\u001F\\u007F-\\u009F]*[^\\s\\u0000-\\u001F\\u007F-\\u009F][^\\u0000-\\u001F\\u007F-\\u009F]*$"
        )
    )]
    pub display_name: String,
    /// 8 to 128 characters, at least one letter and one character that is not a letter,
    /// and it must not contain the part of the sign-in address before the `@` (when that
    /// part has 4 or more characters). The pattern asks for an ASCII letter; the server
    /// also counts other letters.
    #[cfg_attr(
        feature = "openapi",
        schema(
            min_length = 8,
            max_length = 128,
            pattern = "^(?=[\\s\\S]*[A-Za-z])(?=[\\s\\S]*[^A-Za-z\\u00AA-\\uFFFF])"
        )
    )]
    pub password: String,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Account {
    pub id: UserId,
    pub username: String,
    pub display_name: String,
    pub is_admin: bool,
    #[serde(with = "crate::timestamp")]
    pub created_at: OffsetDateTime,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UpdateProfileRequest {
    /// The new display name (1 to 64 characters after trimming, no control
    /// characters); absent or `null` changes nothing.
    #[cfg_attr(
        feature = "openapi",
        schema(
            min_length = 1,
            max_length = 64,
            pattern = "^[^\\u0000-\\u001F\\u007F-\\u009F]*[^\\s\\u0000-\\u001F\\u007F-\\u009F][^\\u0000-\\u001F\\u007F-\\u009F]*$"
        )
    )]
    pub display_name: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChangePasswordRequest {
    pub current_password: String,
    /// The password rule: 8 to 128 characters, at least one letter and one character
    /// that is not a letter, not containing the sign-in name.
    #[cfg_attr(
        feature = "openapi",
        schema(
            min_length = 8,
            max_length = 128,
            pattern = "^(?=[\\s\\S]*[A-Za-z])(?=[\\s\\S]*[^A-Za-z\\u00AA-\\uFFFF])"
        )
    )]
    pub new_password: String,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PasswordConfirmation {
    pub password: String,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SignInRequest {
    pub username: String,
    pub password: String,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RefreshTokenRequest {
    pub refresh_token: String,
}

/// What a successful sign-in or refresh returns.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SessionTokens {
    pub account: Account,
    pub session_token: String,
    #[serde(with = "crate::timestamp")]
    pub session_expires_at: OffsetDateTime,
    pub refresh_token: String,
    #[serde(with = "crate::timestamp")]
    pub refresh_expires_at: OffsetDateTime,
}

/// One signed-in device: a refresh-token family.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SignIn {
    pub id: String,
    #[serde(with = "crate::timestamp")]
    pub created_at: OffsetDateTime,
    #[serde(with = "crate::timestamp")]
    pub expires_at: OffsetDateTime,
    /// True for the sign-in the request was made with.
    pub current: bool,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RefreshTokenRecord {
    #[serde(with = "crate::timestamp")]
    pub created_at: OffsetDateTime,
    #[serde(with = "crate::timestamp")]
    pub expires_at: OffsetDateTime,
    #[serde(with = "crate::timestamp::option")]
    pub revoked_at: Option<OffsetDateTime>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TokenLifetimes {
    pub session_token_seconds: i64,
    pub refresh_token_seconds: i64,
}

/// Everything Passport stores about one user, by the privacy policy's categories.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DataExport {
    pub account: Account,
    /// The password is kept only as a PBKDF2-SHA256 hash with a per-password salt.
    pub password_storage: String,
    pub refresh_tokens: Vec<RefreshTokenRecord>,
    pub token_lifetimes: TokenLifetimes,
    pub contacts: Vec<crate::Contact>,
    pub blocked_users: Vec<crate::BlockedUser>,
    pub contact_requests: crate::ContactRequests,
    pub privacy: crate::PrivacySettings,
    pub moderation: Option<Ban>,
    pub pending_activity_alerts: Vec<crate::ActivityAlert>,
}
