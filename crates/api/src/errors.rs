use serde::{Deserialize, Serialize};

use crate::Ban;

/// The body of every failed request: `{"error": {"code": ..., "message": ...}}`.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorDetail {
    /// Stable, machine-readable, e.g. `invalid_credentials`, `rate_limited`, `banned`.
    pub code: String,
    /// A sentence for people.
    pub message: String,
    /// With `invalid_input`: which field was wrong.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// With `rate_limited`: seconds until trying again may succeed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after_seconds: Option<u64>,
    /// With `banned`: the ban's reason and end.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ban: Option<Ban>,
}
