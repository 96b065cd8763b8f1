use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use mocha_api::{
    ActivityAlert, BlockedUser, Contact, ContactRequestCreated, ContactRequests, ErrorBody,
    NewContactRequest, PrivacySettings, SetAliasRequest, UpdatePrivacyRequest, UserId,
};

use super::{ApiError, ApiJson, ApiPath, Session};
use crate::Passport;

#[utoipa::path(get, path = "/api/v1/contacts", tag = "contacts", security(("session_token" = [])),
    responses((status = 200, body = Vec<Contact>)))]
pub async fn contacts(
    State(passport): State<Arc<Passport>>,
    Session(me): Session,
) -> Result<Json<Vec<Contact>>, ApiError> {
    Ok(Json(passport.contacts(me.user).await?))
}

#[utoipa::path(put, path = "/api/v1/contacts/{user_id}/alias", tag = "contacts", security(("session_token" = [])),
    params(("user_id" = UserId, Path, example = "u2")), request_body = SetAliasRequest,
    responses((status = 204),
              (status = 400, body = ErrorBody, description = "- `invalid_input`: the alias breaks its rule"),
              (status = 404, body = ErrorBody, description = "- `not_found`: this user is not your contact")))]
pub async fn set_alias(
    State(passport): State<Arc<Passport>>,
    Session(me): Session,
    ApiPath(contact): ApiPath<UserId>,
    ApiJson(request): ApiJson<SetAliasRequest>,
) -> Result<StatusCode, ApiError> {
    passport.set_alias(me.user, contact, request.alias.as_deref()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Removes the contact for both users.
#[utoipa::path(delete, path = "/api/v1/contacts/{user_id}", tag = "contacts", security(("session_token" = [])),
    params(("user_id" = UserId, Path, example = "u2")),
    responses((status = 204), (status = 404, body = ErrorBody, description = "- `not_found`: this user is not your contact")))]
pub async fn remove_contact(
    State(passport): State<Arc<Passport>>,
    Session(me): Session,
    ApiPath(contact): ApiPath<UserId>,
) -> Result<StatusCode, ApiError> {
    passport.remove_contact(me.user, contact).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/v1/contact-requests", tag = "contacts", security(("session_token" = [])),
    responses((status = 200, body = ContactRequests)))]
pub async fn requests(
    State(passport): State<Arc<Passport>>,
    Session(me): Session,
) -> Result<Json<ContactRequests>, ApiError> {
    Ok(Json(passport.contact_requests(me.user).await?))
}

/// Asks someone to become a contact; if they had already asked you, you become contacts at once.
#[utoipa::path(post, path = "/api/v1/contact-requests", tag = "contacts", security(("session_token" = [])),
    request_body = NewContactRequest,
    responses((status = 201, body = ContactRequestCreated),
              (status = 400, body = ErrorBody, description = "- `invalid_input`: neither `username` nor `user_id` given, you named yourself, or the message breaks its rule"),
              (status = 403, body = ErrorBody, description = "- `request_not_allowed`: they do not accept requests from you (privacy or a block)"),
              (status = 404, body = ErrorBody, description = "- `not_found`: no such user"),
              (status = 409, body = ErrorBody, description = "- `conflict`: you are already contacts, or you already asked")))]
pub async fn send_request(
    State(passport): State<Arc<Passport>>,
    Session(me): Session,
    ApiJson(request): ApiJson<NewContactRequest>,
) -> Result<(StatusCode, Json<ContactRequestCreated>), ApiError> {
    Ok((StatusCode::CREATED, Json(passport.send_contact_request(me.user, &request).await?)))
}

#[utoipa::path(post, path = "/api/v1/contact-requests/{id}/accept", tag = "contacts", security(("session_token" = [])),
    params(("id" = i64, Path)), responses((status = 200, body = Contact), (status = 404, body = ErrorBody, description = "- `not_found`: no such request to you")))]
pub async fn accept_request(
    State(passport): State<Arc<Passport>>,
    Session(me): Session,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Contact>, ApiError> {
    Ok(Json(passport.accept_contact_request(me.user, id).await?))
}

#[utoipa::path(post, path = "/api/v1/contact-requests/{id}/decline", tag = "contacts", security(("session_token" = [])),
    params(("id" = i64, Path)), responses((status = 204), (status = 404, body = ErrorBody, description = "- `not_found`: no such request to you")))]
pub async fn decline_request(
    State(passport): State<Arc<Passport>>,
    Session(me): Session,
    ApiPath(id): ApiPath<i64>,
) -> Result<StatusCode, ApiError> {
    passport.decline_contact_request(me.user, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Withdraws a request you sent.
#[utoipa::path(delete, path = "/api/v1/contact-requests/{id}", tag = "contacts", security(("session_token" = [])),
    params(("id" = i64, Path)), responses((status = 204), (status = 404, body = ErrorBody, description = "- `not_found`: no such request from you")))]
pub async fn cancel_request(
    State(passport): State<Arc<Passport>>,
    Session(me): Session,
    ApiPath(id): ApiPath<i64>,
) -> Result<StatusCode, ApiError> {
    passport.cancel_contact_request(me.user, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/v1/blocks", tag = "contacts", security(("session_token" = [])),
    responses((status = 200, body = Vec<BlockedUser>)))]
pub async fn blocks(
    State(passport): State<Arc<Passport>>,
    Session(me): Session,
) -> Result<Json<Vec<BlockedUser>>, ApiError> {
    Ok(Json(passport.blocks(me.user).await?))
}

/// Blocks a user: they see you offline, cannot reach you, and pending requests between you are removed.
#[utoipa::path(put, path = "/api/v1/blocks/{user_id}", tag = "contacts", security(("session_token" = [])),
    params(("user_id" = UserId, Path, example = "u2")),
    responses((status = 204),
              (status = 400, body = ErrorBody, description = "- `invalid_input`: you cannot block yourself"),
              (status = 404, body = ErrorBody, description = "- `not_found`: no such user")))]
pub async fn block(
    State(passport): State<Arc<Passport>>,
    Session(me): Session,
    ApiPath(target): ApiPath<UserId>,
) -> Result<StatusCode, ApiError> {
    passport.block(me.user, target).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(delete, path = "/api/v1/blocks/{user_id}", tag = "contacts", security(("session_token" = [])),
    params(("user_id" = UserId, Path, example = "u2")),
    responses((status = 204), (status = 404, body = ErrorBody, description = "- `not_found`: you do not block this user")))]
pub async fn unblock(
    State(passport): State<Arc<Passport>>,
    Session(me): Session,
    ApiPath(target): ApiPath<UserId>,
) -> Result<StatusCode, ApiError> {
    passport.unblock(me.user, target).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/v1/privacy", tag = "privacy", security(("session_token" = [])),
    responses((status = 200, body = PrivacySettings)))]
pub async fn privacy(
    State(passport): State<Arc<Passport>>,
    Session(me): Session,
) -> Result<Json<PrivacySettings>, ApiError> {
    Ok(Json(passport.privacy(me.user).await?))
}

#[utoipa::path(put, path = "/api/v1/privacy", tag = "privacy", security(("session_token" = [])),
    request_body = UpdatePrivacyRequest,
    responses((status = 200, body = PrivacySettings)))]
pub async fn set_privacy(
    State(passport): State<Arc<Passport>>,
    Session(me): Session,
    ApiJson(request): ApiJson<UpdatePrivacyRequest>,
) -> Result<Json<PrivacySettings>, ApiError> {
    passport.set_request_policy(me.user, request.contact_requests).await?;
    Ok(Json(passport.privacy(me.user).await?))
}

/// Returns your activity alerts and deletes them.
#[utoipa::path(get, path = "/api/v1/alerts", tag = "alerts", security(("session_token" = [])),
    responses((status = 200, body = Vec<ActivityAlert>)))]
pub async fn alerts(
    State(passport): State<Arc<Passport>>,
    Session(me): Session,
) -> Result<Json<Vec<ActivityAlert>>, ApiError> {
    Ok(Json(passport.poll_alerts(me.user).await?))
}
