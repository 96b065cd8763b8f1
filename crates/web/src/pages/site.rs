//! The public pages: home, the CA certificate, service status,
//! the stylesheet, and "not found".

use askama::Template;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use mocha_api::{ServiceReport, ServiceState, StatusReport};

use super::{Layout, respond};
use crate::extract::{CurrentUser, MaybeSignedIn};
use crate::format::{date_time, duration};
use crate::{SiteState, WebError};

const STYLESHEET: &str = include_str!("../../assets/mocha.css");
const LOGO: &str = include_str!("../../templates/logo.html");

/// How to reach this server, for the home and download pages.
pub struct Connect {
    pub passport_url: Option<String>,
    pub notification: Option<String>,
    pub switchboard: Option<String>,
    /// SHA-256 of the CA certificate, `AB:CD:…`, when the file is readable.
    pub ca_fingerprint: Option<String>,
}

impl Connect {
    pub(crate) async fn gather(site: &SiteState, report: &StatusReport) -> Self {
        let address =
            |name: &str| report.services.iter().find(|s| s.name == name).and_then(|s| s.address.clone());
        let ca_fingerprint = match tokio::fs::read(&site.config.ca_cert).await {
            Ok(pem) => fingerprint(&pem),
            Err(e) => {
                tracing::warn!(path = %site.config.ca_cert.display(), error = %e, "cannot read the CA certificate");
                None
            }
        };
        Self {
            passport_url: address("passport").map(|a| format!("https://{a}")),
            notification: address("notification"),
            switchboard: address("switchboard"),
            ca_fingerprint,
        }
    }
}

/// The SHA-256 fingerprint of the first certificate in a PEM file.
fn fingerprint(pem: &[u8]) -> Option<String> {
    let der = rustls_pemfile::certs(&mut &pem[..]).next()?.ok()?;
    let digest = ring::digest::digest(&ring::digest::SHA256, der.as_ref());
    Some(digest.as_ref().iter().map(|b| format!("{b:02X}")).collect::<Vec<_>>().join(":"))
}

pub(super) fn layout(title: &str, section: &'static str, user: &Option<CurrentUser>) -> Layout {
    Layout::new(title, section, user.as_ref())
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    layout: Layout,
    connect: Connect,
    online: Option<u64>,
    signed_in: bool,
}

pub async fn home(State(site): State<SiteState>, MaybeSignedIn(user): MaybeSignedIn) -> Response {
    let report = site.passport.status_board().report();
    let online = report.services.iter().find(|s| s.name == "notification").and_then(|s| s.online_users);
    let page = HomePage {
        layout: layout("Welcome", "home", &user),
        connect: Connect::gather(&site, &report).await,
        online,
        signed_in: user.is_some(),
    };
    respond(StatusCode::OK, &page)
}

pub async fn ca_certificate(State(site): State<SiteState>) -> Result<Response, WebError> {
    let pem = tokio::fs::read(&site.config.ca_cert).await.map_err(|e| {
        tracing::warn!(path = %site.config.ca_cert.display(), error = %e, "cannot read the CA certificate");
        WebError::NotFound
    })?;
    Ok((
        [
            (header::CONTENT_TYPE, HeaderValue::from_static("application/x-pem-file")),
            (header::CONTENT_DISPOSITION, HeaderValue::from_static("attachment; filename=\"mocha-ca.pem\"")),
            (header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=300")),
        ],
        pem,
    )
        .into_response())
}

pub struct ServiceRow {
    pub title: &'static str,
    pub what: &'static str,
    pub up: bool,
    pub state: &'static str,
    pub address: String,
    pub uptime: String,
    pub online: String,
}

impl ServiceRow {
    fn new(title: &'static str, what: &'static str, report: Option<&ServiceReport>) -> Self {
        let Some(report) = report else {
            return Self {
                title,
                what,
                up: false,
                state: "Not running",
                address: "—".into(),
                uptime: "—".into(),
                online: "—".into(),
            };
        };
        let up = report.state == ServiceState::Up;
        Self {
            title,
            what,
            up,
            state: if up { "Up" } else { "Down" },
            address: report.address.clone().unwrap_or_else(|| "—".into()),
            uptime: report.uptime_seconds.map_or_else(|| "—".into(), duration),
            online: report.online_users.map_or_else(|| "—".into(), |n| n.to_string()),
        }
    }
}

pub struct NoticeRow {
    pub text: String,
    pub posted: String,
}

#[derive(Template)]
#[template(path = "status.html")]
struct StatusPage {
    layout: Layout,
    services: Vec<ServiceRow>,
    notices: Vec<NoticeRow>,
    all_up: bool,
    checked: String,
}

const SERVICES: [(&str, &str, &str); 3] = [
    ("passport", "Passport", "Accounts, sign-in, contacts and this website"),
    ("notification", "Notification Server", "Presence, contact lists and conversation routing"),
    ("switchboard", "Switchboard", "Conversations, files, voice and video relay"),
];

pub async fn status(State(site): State<SiteState>, MaybeSignedIn(user): MaybeSignedIn) -> Response {
    let report = site.passport.status_board().report();
    let services: Vec<ServiceRow> = SERVICES
        .iter()
        .map(|(name, title, what)| {
            ServiceRow::new(title, what, report.services.iter().find(|s| s.name == *name))
        })
        .collect();
    let page = StatusPage {
        layout: layout("Service status", "status", &user),
        all_up: services.iter().all(|s| s.up),
        services,
        notices: report
            .notices
            .iter()
            .map(|n| NoticeRow { text: n.text.clone(), posted: date_time(n.posted_at) })
            .collect(),
        checked: date_time(time::OffsetDateTime::now_utc()),
    };
    respond(StatusCode::OK, &page)
}

pub async fn stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static("text/css; charset=utf-8")),
            (header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=3600")),
        ],
        STYLESHEET,
    )
        .into_response()
}

pub async fn favicon() -> Response {
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static("image/svg+xml")),
            (header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=86400")),
        ],
        LOGO,
    )
        .into_response()
}

/// Unknown paths: the API's JSON envelope under `/api/`, a page everywhere else.
pub async fn not_found(uri: Uri) -> Response {
    if uri.path().starts_with("/api/") {
        let body = serde_json::json!({"error": {"code": "not_found", "message": "no such endpoint"}});
        return (StatusCode::NOT_FOUND, axum::Json(body)).into_response();
    }
    WebError::NotFound.into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_the_first_certificate() {
        let pem = b"-----BEGIN CERTIFICATE-----\nAAECAw==\n-----END CERTIFICATE-----\n";
        let expected = ring::digest::digest(&ring::digest::SHA256, &[0, 1, 2, 3]);
        let hex = fingerprint(pem).expect("a fingerprint");
        assert_eq!(hex.split(':').count(), 32);
        assert!(hex.starts_with(&format!("{:02X}", expected.as_ref()[0])));
        assert_eq!(fingerprint(b"no certificate here"), None);
    }
}
