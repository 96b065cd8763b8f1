//! Passport 1.4 for classic clients: the nexus (`GET /rdr/pprdr.asp`, which names the
//! login URL) and the login (`GET /login.srf` with `Authorization: Passport1.4 …,
//! sign-in=…,pwd=…,…`). The login is [`Passport::sign_in`] — the same PBKDF2 check, ban
//! check and sign-in rate limits (per account and per address) as the HTTPS API — and
//! its answer carries the new sign-in's session token as `from-PP='t=…'`, which the
//! client hands to `USR TWN S`. The token is the usual short-lived, signed Mocha
//! session token naming that sign-in; the refresh token is never sent.
//!
//! Served over plain HTTP on `--msnp-http-port` and over HTTPS on Passport's port.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use mocha_passport::{Passport, PassportError};

#[derive(Clone)]
struct Nexus {
    passport: Arc<Passport>,
    /// `PassportURLs: DALogin=<this>`.
    login_url: String,
}

/// The nexus and login routes. `login_url` is where clients are sent to sign in (a
/// full URL: msnp11-sdk would otherwise assume HTTPS).
pub fn router(passport: Arc<Passport>, login_url: String) -> Router {
    Router::new()
        .route("/rdr/pprdr.asp", get(nexus))
        .route("/login.srf", get(login))
        .with_state(Nexus { passport, login_url })
}

/// Only `DALogin` (msnp11-sdk reads the whole header as the URL).
async fn nexus(State(nexus): State<Nexus>) -> Response {
    let mut response = StatusCode::OK.into_response();
    match HeaderValue::from_str(&format!("DALogin={}", nexus.login_url)) {
        Ok(value) => {
            response.headers_mut().insert("PassportURLs", value);
        }
        Err(_) => {
            tracing::error!("the MSNP login URL cannot be sent in a header");
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    }
    no_store(response)
}

async fn login(
    State(nexus): State<Nexus>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> Response {
    let Some(credentials) = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(parse_authorization)
    else {
        return no_store(
            (StatusCode::BAD_REQUEST, "expected Authorization: Passport1.4 …,sign-in=…,pwd=…\n")
                .into_response(),
        );
    };
    match nexus.passport.sign_in(&credentials.sign_in, &credentials.password, peer.ip()).await {
        Ok(tokens) => {
            // `from-PP` must come last: msnp11-sdk takes everything after it as the token.
            let info = format!(
                "Passport1.4 da-status=success,tname=MSPAuth,tname=MSPProf,tname=MSPSec,from-PP='t={}&p='",
                tokens.session_token
            );
            let Ok(value) = HeaderValue::from_str(&info) else {
                return StatusCode::INTERNAL_SERVER_ERROR.into_response();
            };
            let mut response = StatusCode::OK.into_response();
            response.headers_mut().insert("Authentication-Info", value);
            no_store(response)
        }
        Err(PassportError::RateLimited { retry_after }) => {
            let mut response =
                (StatusCode::TOO_MANY_REQUESTS, "too many sign-in attempts; wait and try again\n")
                    .into_response();
            let seconds = retry_after.as_secs().max(1).to_string();
            if let Ok(value) = HeaderValue::from_str(&seconds) {
                response.headers_mut().insert(header::RETRY_AFTER, value);
            }
            no_store(response)
        }
        Err(PassportError::StorageUnavailable(_)) => {
            let mut response = (StatusCode::SERVICE_UNAVAILABLE, "back in a moment\n").into_response();
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
            no_store(response)
        }
        // Wrong password, no such account, banned: one answer, as Passport 1.4 gives.
        Err(PassportError::InvalidCredentials | PassportError::Banned(_)) => failed(),
        Err(error) => {
            tracing::error!(%error, "MSNP login failed");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

fn failed() -> Response {
    let mut response = StatusCode::UNAUTHORIZED.into_response();
    response
        .headers_mut()
        .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Passport1.4 da-status=failed"));
    no_store(response)
}

fn no_store(mut response: Response) -> Response {
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// What the login needs from the `Authorization` header.
#[derive(Debug, PartialEq, Eq)]
pub struct Credentials {
    pub sign_in: String,
    pub password: String,
}

/// `Passport1.4 OrgVerb=GET,…,sign-in=<handle>,pwd=<password>,…`; the values are
/// percent-decoded (classic clients encode them; a raw `%` not followed by two hex
/// digits is kept as it is).
pub fn parse_authorization(value: &str) -> Option<Credentials> {
    let (scheme, rest) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("Passport1.4") {
        return None;
    }
    let (mut sign_in, mut password) = (None, None);
    for field in rest.split(',') {
        let Some((key, value)) = field.trim().split_once('=') else { continue };
        match key {
            "sign-in" => sign_in = Some(percent_decode(value)),
            "pwd" => password = Some(percent_decode(value)),
            _ => {}
        }
    }
    Some(Credentials { sign_in: sign_in?, password: password? })
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |at: usize| bytes.get(at).and_then(|b| char::from(*b).to_digit(16));
        match (bytes[i], hex(i + 1), hex(i + 2)) {
            (b'%', Some(hi), Some(lo)) => {
                out.push(u8::try_from(hi * 16 + lo).unwrap_or(b'?'));
                i += 3;
            }
            (byte, _, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8(out).unwrap_or_else(|_| text.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_come_from_the_passport_header() {
        let header = "Passport1.4 OrgVerb=GET,OrgURL=http%3A%2F%2Fmessenger%2Emsn%2Ecom,sign-in=ann%40example.org,pwd=p%40ss%2Cword,lc=1033,id=507";
        assert_eq!(
            parse_authorization(header),
            Some(Credentials { sign_in: "ann@example.org".into(), password: "p@ss,word".into() })
        );
        let raw = parse_authorization("Passport1.4 sign-in=ann@x,pwd=100%sure,ct=1").unwrap();
        assert_eq!(raw.password, "100%sure");
        assert_eq!(parse_authorization("Basic YW5uOnB3"), None);
        assert_eq!(parse_authorization("Passport1.4 sign-in=ann@x"), None);
    }
}
