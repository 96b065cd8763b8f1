use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use mocha_api::{Ban, BanRequest, ErrorBody, ModeratedAccount, NoticeRequest, ServiceNotice, UserId};
use serde::Deserialize;

use super::{ApiError, ApiJson, ApiPath, ApiQuery, Session};
use crate::Passport;

/// Bans a user, permanently or until `until`. Their live sessions end at once.
#[utoipa::path(post, path = "/api/v1/admin/bans", tag = "admin", security(("session_token" = [])),
    request_body = BanRequest,
    responses((status = 201, body = Ban),
              (status = 400, body = ErrorBody, description = "- `invalid_input`: you named yourself, the reason breaks its rule, or `until` is not in the future"),
              (status = 403, body = ErrorBody, description = "- `admin_only`: you are not an administrator"),
              (status = 404, body = ErrorBody, description = "- `not_found`: no such user")))]
pub async fn ban(
    State(passport): State<Arc<Passport>>,
    Session(me): Session,
    ApiJson(request): ApiJson<BanRequest>,
) -> Result<(StatusCode, Json<Ban>), ApiError> {
    let ban = passport.ban(me.user, request.user_id, request.reason.as_deref(), request.until).await?;
    Ok((StatusCode::CREATED, Json(ban)))
}

#[utoipa::path(delete, path = "/api/v1/admin/bans/{user_id}", tag = "admin", security(("session_token" = [])),
    params(("user_id" = UserId, Path, example = "u2")),
    responses((status = 204), (status = 403, body = ErrorBody, description = "- `admin_only`: you are not an administrator"),
              (status = 404, body = ErrorBody, description = "- `not_found`: the user is not banned (or does not exist)")))]
pub async fn unban(
    State(passport): State<Arc<Passport>>,
    Session(me): Session,
    ApiPath(target): ApiPath<UserId>,
) -> Result<StatusCode, ApiError> {
    passport.unban(me.user, target).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(put, path = "/api/v1/admin/admins/{user_id}", tag = "admin", security(("session_token" = [])),
    params(("user_id" = UserId, Path, example = "u2")),
    responses((status = 204), (status = 403, body = ErrorBody, description = "- `admin_only`: you are not an administrator"), (status = 404, body = ErrorBody, description = "- `not_found`: no such user")))]
pub async fn grant_admin(
    State(passport): State<Arc<Passport>>,
    Session(me): Session,
    ApiPath(target): ApiPath<UserId>,
) -> Result<StatusCode, ApiError> {
    passport.set_admin(me.user, target, true).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(delete, path = "/api/v1/admin/admins/{user_id}", tag = "admin", security(("session_token" = [])),
    params(("user_id" = UserId, Path, example = "u2")),
    responses((status = 204), (status = 403, body = ErrorBody, description = "- `admin_only`: you are not an administrator"), (status = 404, body = ErrorBody, description = "- `not_found`: no such user")))]
pub async fn remove_admin(
    State(passport): State<Arc<Passport>>,
    Session(me): Session,
    ApiPath(target): ApiPath<UserId>,
) -> Result<StatusCode, ApiError> {
    passport.set_admin(me.user, target, false).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct UserQuery {
    /// Part of a sign-in address or display name.
    #[serde(default)]
    q: String,
}

#[utoipa::path(get, path = "/api/v1/admin/users", tag = "admin", security(("session_token" = [])),
    params(UserQuery), responses((status = 200, body = Vec<ModeratedAccount>), (status = 403, body = ErrorBody, description = "- `admin_only`: you are not an administrator")))]
pub async fn find_users(
    State(passport): State<Arc<Passport>>,
    Session(me): Session,
    ApiQuery(query): ApiQuery<UserQuery>,
) -> Result<Json<Vec<ModeratedAccount>>, ApiError> {
    Ok(Json(passport.find_accounts(me.user, &query.q).await?))
}

/// Sends a service notice to everyone online and shows it on the status page.
#[utoipa::path(post, path = "/api/v1/admin/notices", tag = "admin", security(("session_token" = [])),
    request_body = NoticeRequest,
    responses((status = 201, body = ServiceNotice),
              (status = 400, body = ErrorBody, description = "- `invalid_input`: the text breaks its rule"),
              (status = 403, body = ErrorBody, description = "- `admin_only`: you are not an administrator")))]
pub async fn post_notice(
    State(passport): State<Arc<Passport>>,
    Session(me): Session,
    ApiJson(request): ApiJson<NoticeRequest>,
) -> Result<(StatusCode, Json<ServiceNotice>), ApiError> {
    Ok((StatusCode::CREATED, Json(passport.post_notice(me.user, &request.text).await?)))
}
