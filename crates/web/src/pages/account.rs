//! Member Services: the signed-in person's own account — display name,
//! password, sign-ins, data export and deleting the account.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use mocha_passport::PassportError;

use super::{Layout, respond};
use crate::extract::{CurrentUser, SignedInForm};
use crate::format::{date_time, refusal};
use crate::forms::{AccountQuery, DeleteForm, DisplayNameForm, Empty, PasswordForm, RevokeForm};
use crate::{SiteState, WebError, cookies};

pub struct SignInRow {
    pub id: String,
    pub created: String,
    pub expires: String,
    pub current: bool,
}

/// A form's refusal, shown beside that form.
#[derive(Default)]
pub struct FormErrors {
    pub display_name: Option<String>,
    pub password: Option<String>,
    pub sign_ins: Option<String>,
    pub delete: Option<String>,
}

#[derive(Template)]
#[template(path = "account.html")]
struct AccountPage {
    layout: Layout,
    csrf: String,
    display_name: String,
    username: String,
    user_id: String,
    is_admin: bool,
    member_since: String,
    /// What the display-name box holds: the current name, or what was just refused.
    display_name_value: String,
    sign_ins: Vec<SignInRow>,
    done: Option<&'static str>,
    errors: FormErrors,
}

async fn render(
    site: &SiteState,
    user: &CurrentUser,
    status: StatusCode,
    done: Option<&'static str>,
    errors: FormErrors,
    display_name_value: Option<String>,
) -> Result<Response, WebError> {
    let sign_ins = site
        .passport
        .sign_ins(user.auth.user, &user.auth.sign_in)
        .await?
        .into_iter()
        .map(|s| SignInRow {
            id: s.id,
            created: date_time(s.created_at),
            expires: date_time(s.expires_at),
            current: s.current,
        })
        .collect();
    let account = &user.account;
    let page = AccountPage {
        layout: Layout::new("Member Services", "account", Some(user)),
        csrf: user.csrf.clone(),
        display_name: account.display_name.clone(),
        username: account.username.clone(),
        user_id: account.id.to_string(),
        is_admin: account.is_admin,
        member_since: date_time(account.created_at),
        display_name_value: display_name_value.unwrap_or_else(|| account.display_name.clone()),
        sign_ins,
        done,
        errors,
    };
    Ok(respond(status, &page))
}

fn refused(error: &PassportError) -> Result<(StatusCode, String), WebError> {
    match error {
        PassportError::Invalid { .. } => Ok((StatusCode::BAD_REQUEST, refusal(error))),
        PassportError::InvalidCredentials => {
            Ok((StatusCode::FORBIDDEN, "That isn't your current password.".to_string()))
        }
        PassportError::NotFound(_) => Ok((StatusCode::NOT_FOUND, refusal(error))),
        PassportError::StorageFull(details) => Err(WebError::StorageFull(details.clone())),
        PassportError::StorageUnavailable(details) => Err(WebError::StorageUnavailable(details.clone())),
        _ => Err(WebError::Internal(error.to_string())),
    }
}

pub async fn page(
    State(site): State<SiteState>,
    user: CurrentUser,
    Query(query): Query<AccountQuery>,
) -> Result<Response, WebError> {
    let done = match query.done.as_str() {
        "welcome" => {
            Some("Welcome to Mocha! Your Passport is ready. Download Mocha Messenger to start chatting.")
        }
        "display-name" => Some("Your display name has been changed."),
        "password" => Some("Your password has been changed, and every other device has been signed out."),
        "revoked" => Some("That sign-in has been signed out."),
        _ => None,
    };
    render(&site, &user, StatusCode::OK, done, FormErrors::default(), None).await
}

pub async fn change_display_name(
    State(site): State<SiteState>,
    SignedInForm { user, form }: SignedInForm<DisplayNameForm>,
) -> Result<Response, WebError> {
    match site.passport.set_display_name(user.auth.user, &form.display_name).await {
        Ok(_) => Ok(Redirect::to("/account?done=display-name").into_response()),
        Err(error) => {
            let (status, message) = refused(&error)?;
            let errors = FormErrors { display_name: Some(message), ..FormErrors::default() };
            render(&site, &user, status, None, errors, Some(form.display_name)).await
        }
    }
}

pub async fn change_password(
    State(site): State<SiteState>,
    SignedInForm { user, form }: SignedInForm<PasswordForm>,
) -> Result<Response, WebError> {
    let changed = if form.new_password != form.confirm_password {
        Err((StatusCode::BAD_REQUEST, "The two new passwords don't match.".to_string()))
    } else {
        let keep = Some(user.auth.sign_in.as_str());
        match site
            .passport
            .change_password(user.auth.user, keep, &form.current_password, &form.new_password)
            .await
        {
            Ok(()) => Ok(()),
            Err(error) => Err(refused(&error)?),
        }
    };
    match changed {
        Ok(()) => Ok(Redirect::to("/account?done=password").into_response()),
        Err((status, message)) => {
            let errors = FormErrors { password: Some(message), ..FormErrors::default() };
            render(&site, &user, status, None, errors, None).await
        }
    }
}

pub async fn revoke_sign_in(
    State(site): State<SiteState>,
    SignedInForm { user, form }: SignedInForm<RevokeForm>,
) -> Result<Response, WebError> {
    match site.passport.revoke_sign_in(user.auth.user, &form.sign_in).await {
        // Revoking this browser's own sign-in signs it out; the next page will ask to sign in.
        Ok(()) if form.sign_in == user.auth.sign_in => {
            site.sessions.remove(&user.session.key);
            let mut response = Redirect::to("/sign-in?done=signed-out").into_response();
            response.headers_mut().append(header::SET_COOKIE, cookies::clear(cookies::SESSION));
            Ok(response)
        }
        Ok(()) => Ok(Redirect::to("/account?done=revoked").into_response()),
        Err(error) => {
            let (status, message) = refused(&error)?;
            let errors = FormErrors { sign_ins: Some(message), ..FormErrors::default() };
            render(&site, &user, status, None, errors, None).await
        }
    }
}

/// Everything Passport holds about the person, as a JSON download.
pub async fn export(
    State(site): State<SiteState>,
    SignedInForm { user, .. }: SignedInForm<Empty>,
) -> Result<Response, WebError> {
    let export = site.passport.export(user.auth.user).await?;
    let json = serde_json::to_vec_pretty(&export).map_err(|e| WebError::Internal(e.to_string()))?;
    tracing::info!(user = %user.auth.user, "data export downloaded");
    let disposition = format!("attachment; filename=\"mocha-data-{}.json\"", user.auth.user);
    Ok((
        [
            (header::CONTENT_TYPE, HeaderValue::from_static("application/json")),
            (
                header::CONTENT_DISPOSITION,
                HeaderValue::try_from(disposition).map_err(|e| WebError::Internal(e.to_string()))?,
            ),
        ],
        json,
    )
        .into_response())
}

/// Deletes the account after the password and an explicit tick, then signs the browser out.
pub async fn delete(
    State(site): State<SiteState>,
    SignedInForm { user, form }: SignedInForm<DeleteForm>,
) -> Result<Response, WebError> {
    let deleted = if form.confirm != "yes" {
        Err((
            StatusCode::BAD_REQUEST,
            "Tick the box to confirm that you want to delete everything.".to_string(),
        ))
    } else {
        match site.passport.delete_account(user.auth.user, &form.password).await {
            Ok(()) => Ok(()),
            Err(error) => Err(refused(&error)?),
        }
    };
    match deleted {
        Ok(()) => {
            site.sessions.remove_user(user.auth.user);
            tracing::info!(user = %user.auth.user, "account deleted from the web");
            let mut response = Redirect::to("/goodbye").into_response();
            response.headers_mut().append(header::SET_COOKIE, cookies::clear(cookies::SESSION));
            Ok(response)
        }
        Err((status, message)) => {
            let errors = FormErrors { delete: Some(message), ..FormErrors::default() };
            render(&site, &user, status, None, errors, None).await
        }
    }
}
