//! The pages, one module per part of the site, and what every page shares: the
//! layout (navigation, who is signed in) and turning a template into a response.

pub mod account;
pub mod admin;
pub mod auth;
pub mod downloads;
pub mod site;

use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

use crate::extract::CurrentUser;

/// What the frame around every page needs.
pub struct Layout {
    pub title: String,
    /// The navigation entry to highlight: `home`, `download`, `status`, `account`, `admin`.
    pub section: &'static str,
    pub user: Option<NavUser>,
}

pub struct NavUser {
    pub display_name: String,
    pub is_admin: bool,
    /// For the sign-out button, which is a form like any other.
    pub csrf: String,
}

impl Layout {
    pub fn new(title: impl Into<String>, section: &'static str, user: Option<&CurrentUser>) -> Self {
        Self {
            title: title.into(),
            section,
            user: user.map(|user| NavUser {
                display_name: user.account.display_name.clone(),
                is_admin: user.account.is_admin,
                csrf: user.csrf.clone(),
            }),
        }
    }
}

/// Renders a page with a status. A template that fails to render is a bug; the
/// browser gets a bare 500 rather than a loop through the error page.
pub fn respond(status: StatusCode, page: &impl Template) -> Response {
    match page.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(error) => {
            tracing::error!(%error, "a page template failed to render");
            (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
        }
    }
}

/// A page that only says something: errors, the goodbye after deleting an account.
#[derive(Template)]
#[template(path = "message.html")]
pub struct MessagePage {
    pub layout: Layout,
    pub heading: String,
    pub text: String,
}

impl MessagePage {
    pub fn new(heading: &str, text: String) -> Self {
        Self { layout: Layout::new(heading, "", None), heading: heading.to_string(), text }
    }

    /// The same, framed for a signed-in person (their name and sign-out button stay).
    pub fn for_user(heading: &str, text: String, user: &CurrentUser) -> Self {
        Self { layout: Layout::new(heading, "", Some(user)), heading: heading.to_string(), text }
    }

    pub fn respond(&self, status: StatusCode) -> Response {
        respond(status, self)
    }
}
