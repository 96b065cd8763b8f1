use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use mocha_api::{ErrorBody, RefreshTokenRequest, SessionTokens, SignInRequest};

use super::{ApiError, ApiJson, ClientIp};
use crate::Passport;

/// Signs in with a password. Rate-limited per account and per client address.
#[utoipa::path(post, path = "/api/v1/sessions", tag = "sessions", request_body = SignInRequest,
    responses((status = 200, body = SessionTokens),
              (status = 401, body = ErrorBody, description = "- `invalid_credentials`: wrong sign-in address or password (never says which)"),
              (status = 403, body = ErrorBody, description = "- `banned`: the account is banned; `ban` says why and until when"),
              (status = 429, body = ErrorBody, description = "- `rate_limited`: too many attempts for this account or from this address; see `Retry-After`")))]
pub async fn sign_in(
    State(passport): State<Arc<Passport>>,
    ClientIp(client): ClientIp,
    ApiJson(request): ApiJson<SignInRequest>,
) -> Result<Json<SessionTokens>, ApiError> {
    Ok(Json(passport.sign_in(&request.username, &request.password, client).await?))
}

/// Trades a refresh token for a new session token and a new refresh token.
#[utoipa::path(post, path = "/api/v1/sessions/refresh", tag = "sessions", request_body = RefreshTokenRequest,
    responses((status = 200, body = SessionTokens),
              (status = 401, body = ErrorBody, description = "- `invalid_refresh_token`: unknown refresh token\n- `refresh_token_expired`: past its end: sign in again\n- `refresh_token_reused`: already spent; the whole sign-in is now revoked\n- `sign_in_revoked`: the sign-in was signed out or revoked"),
              (status = 403, body = ErrorBody, description = "- `banned`: the account is banned; `ban` says why and until when")))]
pub async fn refresh(
    State(passport): State<Arc<Passport>>,
    ApiJson(request): ApiJson<RefreshTokenRequest>,
) -> Result<Json<SessionTokens>, ApiError> {
    Ok(Json(passport.refresh(&request.refresh_token).await?))
}

/// Signs out: revokes the refresh token's whole sign-in.
#[utoipa::path(post, path = "/api/v1/sessions/revoke", tag = "sessions", request_body = RefreshTokenRequest,
    responses((status = 204),
              (status = 401, body = ErrorBody, description = "- `invalid_refresh_token`: unknown refresh token")))]
pub async fn revoke(
    State(passport): State<Arc<Passport>>,
    ApiJson(request): ApiJson<RefreshTokenRequest>,
) -> Result<StatusCode, ApiError> {
    passport.revoke(&request.refresh_token).await?;
    Ok(StatusCode::NO_CONTENT)
}
