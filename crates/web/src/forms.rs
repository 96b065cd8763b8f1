//! What browsers post to the web pages and put in their query strings: the form and query
//! types the pages read (through `SignedInForm`/`VisitorForm` and axum's `Query`, both
//! `serde_urlencoded`). Only serde here, so `fuzz/` compiles this file on its own.

use serde::Deserialize;

/// The CSRF token every posted form carries (checked before the form itself is read).
#[derive(Deserialize)]
pub struct CsrfField {
    #[serde(default)]
    pub csrf: String,
}

// auth pages

#[derive(Deserialize, Default)]
pub struct SignInQuery {
    #[serde(default)]
    pub next: String,
    #[serde(default)]
    pub done: String,
}

#[derive(Deserialize)]
pub struct SignInForm {
    #[serde(default)]
    pub username: String,
    #[serde(default)]
    pub password: String,
    #[serde(default)]
    pub next: String,
}

#[derive(Deserialize)]
pub struct SignUpForm {
    #[serde(default)]
    pub username: String,
    #[serde(default)]
    pub display_name: String,
    #[serde(default)]
    pub password: String,
    #[serde(default)]
    pub confirm_password: String,
}

/// A form with nothing but its CSRF token (sign out, export).
#[derive(Deserialize)]
pub struct Empty {}

// account pages

#[derive(Deserialize, Default)]
pub struct AccountQuery {
    #[serde(default)]
    pub done: String,
}

#[derive(Deserialize)]
pub struct DisplayNameForm {
    #[serde(default)]
    pub display_name: String,
}

#[derive(Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    pub current_password: String,
    #[serde(default)]
    pub new_password: String,
    #[serde(default)]
    pub confirm_password: String,
}

#[derive(Deserialize)]
pub struct RevokeForm {
    #[serde(default)]
    pub sign_in: String,
}

#[derive(Deserialize)]
pub struct DeleteForm {
    #[serde(default)]
    pub password: String,
    #[serde(default)]
    pub confirm: String,
}

// admin pages

#[derive(Deserialize, Default)]
pub struct AdminQuery {
    #[serde(default)]
    pub q: String,
    #[serde(default)]
    pub done: String,
}

#[derive(Deserialize)]
pub struct BanForm {
    #[serde(default)]
    pub q: String,
    #[serde(default)]
    pub user_id: String,
    #[serde(default)]
    pub reason: String,
    /// `permanent` or `until`.
    #[serde(default)]
    pub length: String,
    #[serde(default)]
    pub until: String,
}

#[derive(Deserialize)]
pub struct TargetForm {
    #[serde(default)]
    pub q: String,
    #[serde(default)]
    pub user_id: String,
    /// For access changes: `grant` or `remove`.
    #[serde(default)]
    pub access: String,
}

#[derive(Deserialize)]
pub struct NoticeForm {
    #[serde(default)]
    pub q: String,
    #[serde(default)]
    pub text: String,
}
