use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use mocha_api::{
    Account, ChangePasswordRequest, DataExport, ErrorBody, PasswordConfirmation, RegisterRequest, SignIn,
    UpdateProfileRequest,
};

use super::{ApiError, ApiJson, ApiPath, Session};
use crate::Passport;

#[utoipa::path(post, path = "/api/v1/accounts", tag = "accounts", request_body = RegisterRequest,
    responses((status = 201, body = Account),
              (status = 400, body = ErrorBody, description = "- `invalid_input`: the username, display name or password breaks its rule"),
              (status = 409, body = ErrorBody, description = "- `username_taken`: the sign-in address is taken, in any case")))]
pub async fn register(
    State(passport): State<Arc<Passport>>,
    ApiJson(request): ApiJson<RegisterRequest>,
) -> Result<(StatusCode, Json<Account>), ApiError> {
    let account = passport.register(&request.username, &request.display_name, &request.password).await?;
    Ok((StatusCode::CREATED, Json(account)))
}

#[utoipa::path(get, path = "/api/v1/me", tag = "accounts", security(("session_token" = [])),
    responses((status = 200, body = Account)))]
pub async fn me(
    State(passport): State<Arc<Passport>>,
    Session(me): Session,
) -> Result<Json<Account>, ApiError> {
    Ok(Json(passport.account(me.user).await?))
}

#[utoipa::path(patch, path = "/api/v1/me", tag = "accounts", security(("session_token" = [])),
    request_body = UpdateProfileRequest,
    responses((status = 200, body = Account),
              (status = 400, body = ErrorBody, description = "- `invalid_input`: the display name breaks its rule")))]
pub async fn update_me(
    State(passport): State<Arc<Passport>>,
    Session(me): Session,
    ApiJson(request): ApiJson<UpdateProfileRequest>,
) -> Result<Json<Account>, ApiError> {
    match request.display_name {
        Some(name) => Ok(Json(passport.set_display_name(me.user, &name).await?)),
        None => Ok(Json(passport.account(me.user).await?)),
    }
}

/// Deletes the account and everything stored about it. The password must be re-entered.
#[utoipa::path(delete, path = "/api/v1/me", tag = "accounts", security(("session_token" = [])),
    request_body = PasswordConfirmation,
    responses((status = 204),
              (status = 401, body = ErrorBody, description = "- `invalid_credentials`: the password is wrong")))]
pub async fn delete_me(
    State(passport): State<Arc<Passport>>,
    Session(me): Session,
    ApiJson(request): ApiJson<PasswordConfirmation>,
) -> Result<StatusCode, ApiError> {
    passport.delete_account(me.user, &request.password).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Changes the password; every other sign-in of the account is signed out.
#[utoipa::path(put, path = "/api/v1/me/password", tag = "accounts", security(("session_token" = [])),
    request_body = ChangePasswordRequest,
    responses((status = 204),
              (status = 400, body = ErrorBody, description = "- `invalid_input`: the new password breaks the password rule"),
              (status = 401, body = ErrorBody, description = "- `invalid_credentials`: the current password is wrong")))]
pub async fn change_password(
    State(passport): State<Arc<Passport>>,
    Session(me): Session,
    ApiJson(request): ApiJson<ChangePasswordRequest>,
) -> Result<StatusCode, ApiError> {
    passport
        .change_password(me.user, Some(&me.sign_in), &request.current_password, &request.new_password)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/v1/me/export", tag = "accounts", security(("session_token" = [])),
    responses((status = 200, body = DataExport)))]
pub async fn export(
    State(passport): State<Arc<Passport>>,
    Session(me): Session,
) -> Result<Json<DataExport>, ApiError> {
    Ok(Json(passport.export(me.user).await?))
}

/// The account's live sign-ins (refresh-token families).
#[utoipa::path(get, path = "/api/v1/me/sign-ins", tag = "accounts", security(("session_token" = [])),
    responses((status = 200, body = Vec<SignIn>)))]
pub async fn sign_ins(
    State(passport): State<Arc<Passport>>,
    Session(me): Session,
) -> Result<Json<Vec<SignIn>>, ApiError> {
    Ok(Json(passport.sign_ins(me.user, &me.sign_in).await?))
}

#[utoipa::path(delete, path = "/api/v1/me/sign-ins/{sign_in_id}", tag = "accounts", security(("session_token" = [])),
    params(("sign_in_id" = String, Path, description = "A sign-in's `id` from `GET /api/v1/me/sign-ins`")),
    responses((status = 204),
              (status = 404, body = ErrorBody, description = "- `not_found`: no such sign-in of yours")))]
pub async fn revoke_sign_in(
    State(passport): State<Arc<Passport>>,
    Session(me): Session,
    ApiPath(sign_in): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    passport.revoke_sign_in(me.user, &sign_in).await?;
    Ok(StatusCode::NO_CONTENT)
}
