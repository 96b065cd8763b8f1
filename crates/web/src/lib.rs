//! The Mocha websites, served beside the Passport API on the same HTTPS port:
//! home and downloads, service status, sign-up and sign-in, the Member Services
//! account page and the moderation console.
//!
//! Pages are rendered on the server with askama (which escapes every value by
//! default) and use no JavaScript. Every operation goes through the same
//! [`Passport`] methods as the JSON API, so the rules, rate limits and bans are
//! the same. How sessions and CSRF tokens work is in [`session`] and [`csrf`].

mod cookies;
mod csrf;
mod error;
mod extract;
mod format;
mod forms;
mod pages;
mod security;
mod session;

use std::path::PathBuf;
use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use mocha_passport::Passport;

pub use error::WebError;

/// Form bodies are a few fields; anything bigger is refused before it is read.
pub const MAX_FORM_BYTES: usize = 16 * 1024;

#[derive(Clone, Debug)]
pub struct WebConfig {
    /// The certificate authority clients must trust, offered at `/ca.pem`.
    pub ca_cert: PathBuf,
    /// Published client builds (`mocha-server publish`), `CHANNEL/PLATFORM/FILE`.
    pub downloads_dir: PathBuf,
}

/// What every handler shares.
pub(crate) struct Site {
    pub passport: Arc<Passport>,
    pub sessions: session::WebSessions,
    pub csrf: csrf::CsrfKey,
    pub config: WebConfig,
}

pub(crate) type SiteState = Arc<Site>;

/// The web pages, to be merged with `mocha_passport::http::router` on one port.
/// Paths under `/api/` that neither router knows get the API's JSON 404; every
/// other unknown path gets a page.
pub fn router(passport: Arc<Passport>, config: WebConfig) -> Router {
    let site = Arc::new(Site {
        passport,
        sessions: session::WebSessions::default(),
        csrf: csrf::CsrfKey::generate(),
        config,
    });
    use pages::{account, admin, auth, downloads, site as public};
    Router::new()
        .route("/", get(public::home))
        .route("/download", get(downloads::page))
        .route("/download/latest", get(downloads::latest))
        .route("/download/{channel}/{platform}/{file}", get(downloads::file))
        .route("/ca.pem", get(public::ca_certificate))
        .route("/status", get(public::status))
        .route("/static/mocha.css", get(public::stylesheet))
        .route("/favicon.svg", get(public::favicon))
        .route("/sign-up", get(auth::sign_up_page).post(auth::sign_up))
        .route("/sign-in", get(auth::sign_in_page).post(auth::sign_in))
        .route("/sign-out", post(auth::sign_out))
        .route("/goodbye", get(auth::goodbye))
        .route("/account", get(account::page))
        .route("/account/display-name", post(account::change_display_name))
        .route("/account/password", post(account::change_password))
        .route("/account/sign-ins/revoke", post(account::revoke_sign_in))
        .route("/account/export", post(account::export))
        .route("/account/delete", post(account::delete))
        .route("/admin", get(admin::page))
        .route("/admin/ban", post(admin::ban))
        .route("/admin/unban", post(admin::unban))
        .route("/admin/access", post(admin::set_access))
        .route("/admin/notice", post(admin::post_notice))
        .route("/{*path}", get(public::not_found).post(public::not_found))
        .layer(DefaultBodyLimit::max(MAX_FORM_BYTES))
        .layer(axum::middleware::map_response(security::headers))
        .with_state(site)
}
