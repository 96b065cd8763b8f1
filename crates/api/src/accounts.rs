use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::{Ban, UserId};

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RegisterRequest {
    /// The sign-in address, like `alice@example.com`.
    pub username: String,
    pub display_name: String,
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
    pub display_name: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChangePasswordRequest {
    pub current_password: String,
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
