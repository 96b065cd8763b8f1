//! Every failed request answers `{"error": {"code", "message", …}}` with a fitting status.
//! Internal details are logged, never sent.

use axum::Json;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use mocha_api::{ErrorBody, ErrorDetail};

use crate::PassportError;

#[derive(Debug)]
pub enum ApiError {
    Passport(PassportError),
    /// The request itself was unreadable: bad JSON, bad path or query, too big.
    BadRequest {
        status: StatusCode,
        code: &'static str,
        message: String,
    },
    MissingToken,
}

impl From<PassportError> for ApiError {
    fn from(e: PassportError) -> Self {
        ApiError::Passport(e)
    }
}

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        let status = rejection.status();
        let (status, code) = match status {
            StatusCode::PAYLOAD_TOO_LARGE => (status, "payload_too_large"),
            StatusCode::UNSUPPORTED_MEDIA_TYPE => (status, "unsupported_media_type"),
            _ => (StatusCode::BAD_REQUEST, "invalid_json"),
        };
        ApiError::BadRequest { status, code, message: rejection.body_text() }
    }
}

impl From<PathRejection> for ApiError {
    fn from(rejection: PathRejection) -> Self {
        ApiError::BadRequest {
            status: StatusCode::BAD_REQUEST,
            code: "invalid_path",
            message: rejection.body_text(),
        }
    }
}

impl From<QueryRejection> for ApiError {
    fn from(rejection: QueryRejection) -> Self {
        ApiError::BadRequest {
            status: StatusCode::BAD_REQUEST,
            code: "invalid_query",
            message: rejection.body_text(),
        }
    }
}

fn status_and_code(e: &PassportError) -> (StatusCode, &'static str) {
    use PassportError::*;
    match e {
        Invalid { .. } => (StatusCode::BAD_REQUEST, "invalid_input"),
        UsernameTaken => (StatusCode::CONFLICT, "username_taken"),
        InvalidCredentials => (StatusCode::UNAUTHORIZED, "invalid_credentials"),
        RateLimited { .. } => (StatusCode::TOO_MANY_REQUESTS, "rate_limited"),
        Banned(_) => (StatusCode::FORBIDDEN, "banned"),
        InvalidSessionToken => (StatusCode::UNAUTHORIZED, "invalid_token"),
        SessionExpired => (StatusCode::UNAUTHORIZED, "token_expired"),
        SignInRevoked => (StatusCode::UNAUTHORIZED, "sign_in_revoked"),
        InvalidRefreshToken => (StatusCode::UNAUTHORIZED, "invalid_refresh_token"),
        RefreshTokenExpired => (StatusCode::UNAUTHORIZED, "refresh_token_expired"),
        RefreshTokenReused => (StatusCode::UNAUTHORIZED, "refresh_token_reused"),
        AdminOnly => (StatusCode::FORBIDDEN, "admin_only"),
        NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
        RequestNotAllowed => (StatusCode::FORBIDDEN, "request_not_allowed"),
        Conflict(_) => (StatusCode::CONFLICT, "conflict"),
        StorageFull(_) => (StatusCode::INSUFFICIENT_STORAGE, "storage_full"),
        StorageUnavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, "storage_unavailable"),
        Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut detail = ErrorDetail {
            code: String::new(),
            message: String::new(),
            field: None,
            retry_after_seconds: None,
            ban: None,
        };
        let status = match self {
            ApiError::Passport(e) => {
                let (status, code) = status_and_code(&e);
                detail.code = code.to_string();
                detail.message = e.to_string();
                match e {
                    PassportError::Internal(details) => tracing::error!(%details, "request failed"),
                    PassportError::StorageFull(details) => {
                        tracing::error!(%details, "request refused: the database's storage is full")
                    }
                    PassportError::StorageUnavailable(details) => {
                        tracing::error!(%details, "request refused: the database cannot be reached");
                        detail.retry_after_seconds = Some(crate::RETRY_UNAVAILABLE.as_secs());
                    }
                    PassportError::Invalid { field, .. } => detail.field = Some(field.to_string()),
                    PassportError::RateLimited { retry_after } => {
                        detail.retry_after_seconds = Some(retry_after.as_secs().max(1))
                    }
                    PassportError::Banned(ban) => detail.ban = Some(ban),
                    _ => {}
                }
                status
            }
            ApiError::BadRequest { status, code, message } => {
                detail.code = code.to_string();
                detail.message = message;
                status
            }
            ApiError::MissingToken => {
                detail.code = "invalid_token".to_string();
                detail.message = "sign in first: send `Authorization: Bearer <session token>`".to_string();
                StatusCode::UNAUTHORIZED
            }
        };
        let retry_after = detail.retry_after_seconds;
        let mut response = (status, Json(ErrorBody { error: detail })).into_response();
        if let Some(seconds) = retry_after {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}
