//! Who is asking, and forms that prove they came from our own pages.
//!
//! [`CurrentUser`] is a signed-in browser whose session Passport just accepted.
//! [`SignedInForm`] and [`VisitorForm`] read a form body only after its `csrf`
//! field matched the token bound to that browser; a form without one is a 403.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::Response;
use mocha_api::Account;
use mocha_passport::Authenticated;
use serde::de::DeserializeOwned;

use crate::csrf::Binding;
use crate::forms::CsrfField;
use crate::session::WebSession;
use crate::{SiteState, WebError, cookies};

/// A signed-in browser, re-checked with Passport on this request.
pub struct CurrentUser {
    pub session: Arc<WebSession>,
    pub auth: Authenticated,
    pub account: Account,
    /// The CSRF token for this browser's forms.
    pub csrf: String,
}

impl FromRequestParts<SiteState> for CurrentUser {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, site: &SiteState) -> Result<Self, WebError> {
        let next = if parts.uri.path().starts_with("/admin") { "/admin" } else { "/account" };
        let session = cookies::read(&parts.headers, cookies::SESSION)
            .and_then(|cookie| site.sessions.get(cookie))
            .ok_or(WebError::SignInRequired { next })?;
        let auth = site
            .sessions
            .authenticate(&site.passport, &session)
            .await
            .map_err(|e| WebError::session_refused(e, next))?;
        let account =
            site.passport.account(auth.user).await.map_err(|e| WebError::session_refused(e, next))?;
        let csrf = site.csrf.token(Binding::Session(&session.key));
        Ok(CurrentUser { session, auth, account, csrf })
    }
}

/// The signed-in browser if there is one, for pages anyone may see.
pub struct MaybeSignedIn(pub Option<CurrentUser>);

impl FromRequestParts<SiteState> for MaybeSignedIn {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, site: &SiteState) -> Result<Self, WebError> {
        match CurrentUser::from_request_parts(parts, site).await {
            Ok(user) => Ok(MaybeSignedIn(Some(user))),
            Err(WebError::Internal(details)) => Err(WebError::Internal(details)),
            Err(_) => Ok(MaybeSignedIn(None)),
        }
    }
}

/// A signed-out browser, known by its visitor cookie (made on first sight).
pub struct Visitor {
    id: String,
    is_new: bool,
}

impl<S: Send + Sync> FromRequestParts<S> for Visitor {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(match cookies::read(&parts.headers, cookies::VISITOR) {
            Some(id) => Visitor { id: id.to_string(), is_new: false },
            None => Visitor { id: mocha_auth::random_id::<32>(), is_new: true },
        })
    }
}

impl Visitor {
    pub fn csrf(&self, site: &SiteState) -> String {
        site.csrf.token(Binding::Visitor(&self.id))
    }

    /// Sets the visitor cookie on `response` if the browser did not have one yet.
    pub fn attach(&self, mut response: Response) -> Response {
        if self.is_new {
            response.headers_mut().append(header::SET_COOKIE, cookies::set(cookies::VISITOR, &self.id));
        }
        response
    }
}

/// A form posted by a signed-in browser, with a valid CSRF token.
pub struct SignedInForm<T> {
    pub user: CurrentUser,
    pub form: T,
}

impl<T: DeserializeOwned> FromRequest<SiteState> for SignedInForm<T> {
    type Rejection = WebError;

    async fn from_request(request: Request, site: &SiteState) -> Result<Self, WebError> {
        let (mut parts, body) = request.into_parts();
        let user = CurrentUser::from_request_parts(&mut parts, site).await?;
        let body = read_body(Request::from_parts(parts, body), site).await?;
        let form = checked_form(site, Binding::Session(&user.session.key), &body)?;
        Ok(SignedInForm { user, form })
    }
}

/// A form posted by a signed-out browser (sign-in, sign-up), with a valid CSRF token.
pub struct VisitorForm<T> {
    pub visitor: Visitor,
    pub form: T,
}

impl<T: DeserializeOwned> FromRequest<SiteState> for VisitorForm<T> {
    type Rejection = WebError;

    async fn from_request(request: Request, site: &SiteState) -> Result<Self, WebError> {
        let id = cookies::read(request.headers(), cookies::VISITOR)
            .map(str::to_string)
            .ok_or(WebError::CsrfRejected)?;
        let body = read_body(request, site).await?;
        let form = checked_form(site, Binding::Visitor(&id), &body)?;
        Ok(VisitorForm { visitor: Visitor { id, is_new: false }, form })
    }
}

async fn read_body(request: Request, site: &SiteState) -> Result<Bytes, WebError> {
    Bytes::from_request(request, site).await.map_err(|rejection: BytesRejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            WebError::FormTooLarge
        } else {
            WebError::BadForm
        }
    })
}

fn checked_form<T: DeserializeOwned>(
    site: &SiteState,
    binding: Binding<'_>,
    body: &[u8],
) -> Result<T, WebError> {
    let token: CsrfField = serde_urlencoded::from_bytes(body).map_err(|_| WebError::BadForm)?;
    if !site.csrf.verify(binding, &token.csrf) {
        tracing::warn!("a form arrived without a valid CSRF token");
        return Err(WebError::CsrfRejected);
    }
    serde_urlencoded::from_bytes(body).map_err(|_| WebError::BadForm)
}
