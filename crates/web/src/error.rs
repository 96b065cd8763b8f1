//! Why a page could not be served, and the friendly page (or redirect) each
//! reason becomes. Internal details go to the log, never to the browser.

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use mocha_api::Ban;
use mocha_passport::PassportError;

use crate::cookies;
use crate::format::ban_message;
use crate::pages::MessagePage;

/// What a person is told when the server's disk is full.
pub const STORAGE_FULL: &str =
    "The server has run out of storage space, so nothing was changed. Please try again later.";

/// The heading and text of the page a non-administrator gets at the console.
pub const ADMIN_ONLY: (&str, &str) = (
    "Administrators only",
    "The moderation console is for Mocha administrators. If you think you should have access, \
     ask the person who runs this server.",
);

#[derive(Debug, thiserror::Error)]
pub enum WebError {
    /// Not signed in (or the sign-in ended): go to the sign-in page, then come back to `next`.
    #[error("sign in first")]
    SignInRequired { next: &'static str },
    #[error("the account is banned")]
    Banned(Ban),
    #[error("administrators only")]
    AdminOnly,
    #[error("the form's CSRF token is missing or wrong")]
    CsrfRejected,
    #[error("the form could not be read")]
    BadForm,
    #[error("the form is too large")]
    FormTooLarge,
    #[error("no such page")]
    NotFound,
    /// The database's disk is full: nothing was changed.
    #[error("storage full: {0}")]
    StorageFull(String),
    /// The database server cannot be reached just now (PostgreSQL stopped or restarting).
    #[error("database unreachable: {0}")]
    StorageUnavailable(String),
    #[error("internal error: {0}")]
    Internal(String),
}

impl WebError {
    /// A Passport refusal of a signed-in browser's session.
    pub fn session_refused(error: PassportError, next: &'static str) -> Self {
        match error {
            PassportError::Banned(ban) => WebError::Banned(ban),
            PassportError::Internal(details) => WebError::Internal(details),
            PassportError::StorageFull(details) => WebError::StorageFull(details),
            // Not a reason to sign the browser out: its session is fine.
            PassportError::StorageUnavailable(details) => WebError::StorageUnavailable(details),
            _ => WebError::SignInRequired { next },
        }
    }
}

impl From<PassportError> for WebError {
    fn from(error: PassportError) -> Self {
        match error {
            PassportError::Banned(ban) => WebError::Banned(ban),
            PassportError::AdminOnly => WebError::AdminOnly,
            PassportError::NotFound(_) => WebError::NotFound,
            PassportError::StorageFull(details) => WebError::StorageFull(details),
            PassportError::StorageUnavailable(details) => WebError::StorageUnavailable(details),
            other => WebError::Internal(other.to_string()),
        }
    }
}

impl From<askama::Error> for WebError {
    fn from(error: askama::Error) -> Self {
        WebError::Internal(format!("rendering a page: {error}"))
    }
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        let (status, title, text) = match &self {
            WebError::SignInRequired { next } => {
                let target = format!("/sign-in?next={}", next.trim_start_matches('/'));
                let mut response = Redirect::to(&target).into_response();
                response.headers_mut().append(header::SET_COOKIE, cookies::clear(cookies::SESSION));
                return response;
            }
            WebError::Banned(ban) => (StatusCode::FORBIDDEN, "Account banned", ban_message(ban)),
            WebError::AdminOnly => (StatusCode::FORBIDDEN, ADMIN_ONLY.0, ADMIN_ONLY.1.to_string()),
            WebError::CsrfRejected => (
                StatusCode::FORBIDDEN,
                "This form has expired",
                "For your safety we only accept forms this site gave you. Go back, reload the \
                 page and try again."
                    .to_string(),
            ),
            WebError::BadForm => {
                (StatusCode::BAD_REQUEST, "That didn't work", "The form arrived incomplete.".to_string())
            }
            WebError::FormTooLarge => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "That's too much",
                "The form was larger than we accept.".to_string(),
            ),
            WebError::NotFound => (
                StatusCode::NOT_FOUND,
                "Page not found",
                "We looked everywhere, even under the coffee cups, but that page isn't here.".to_string(),
            ),
            WebError::StorageFull(details) => {
                tracing::error!(%details, "web action refused: the database's storage is full");
                (StatusCode::INSUFFICIENT_STORAGE, "Out of room", STORAGE_FULL.to_string())
            }
            WebError::StorageUnavailable(details) => {
                tracing::error!(%details, "web page failed: the database cannot be reached");
                (
                    StatusCode::SERVICE_UNAVAILABLE,
                    "Back in a moment",
                    format!(
                        "We cannot reach our database just now. Please try again in {} seconds.",
                        mocha_passport::RETRY_UNAVAILABLE.as_secs()
                    ),
                )
            }
            WebError::Internal(details) => {
                tracing::error!(%details, "web page failed");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Something went wrong",
                    "Something went wrong on our side. Please try again in a moment.".to_string(),
                )
            }
        };
        let mut response = MessagePage::new(title, text).respond(status);
        if matches!(self, WebError::Banned(_)) {
            response.headers_mut().append(header::SET_COOKIE, cookies::clear(cookies::SESSION));
        }
        if matches!(self, WebError::StorageUnavailable(_)) {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, mocha_passport::RETRY_UNAVAILABLE.as_secs().into());
        }
        response
    }
}
