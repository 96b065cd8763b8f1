//! Sign-up, sign-in and sign-out. The forms go through the same Passport
//! methods as the API, so the same rules, rate limits and bans apply.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use mocha_passport::PassportError;
use mocha_passport::http::ClientIp;

use super::{Layout, MessagePage, respond};
use crate::extract::{MaybeSignedIn, SignedInForm, Visitor, VisitorForm};
use crate::format::refusal;
use crate::forms::{Empty, SignInForm, SignInQuery, SignUpForm};
use crate::{SiteState, cookies};

/// Where a sign-in may send the browser afterwards: only our own pages, never an
/// address from the query string (that would be an open redirect).
fn next_page(requested: &str) -> &'static str {
    match requested.trim_start_matches('/') {
        "admin" => "/admin",
        _ => "/account",
    }
}

fn status_for(error: &PassportError) -> StatusCode {
    match error {
        PassportError::Invalid { .. } => StatusCode::BAD_REQUEST,
        PassportError::UsernameTaken => StatusCode::CONFLICT,
        PassportError::InvalidCredentials => StatusCode::UNAUTHORIZED,
        PassportError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
        PassportError::Banned(_) => StatusCode::FORBIDDEN,
        PassportError::StorageFull(_) => StatusCode::INSUFFICIENT_STORAGE,
        PassportError::StorageUnavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// Starts a web session for fresh tokens and sends the browser on.
fn signed_in(site: &SiteState, tokens: mocha_api::SessionTokens, to: &str) -> Response {
    let user = tokens.account.id;
    let cookie = site.sessions.insert(tokens);
    tracing::info!(user = %user, "web sign-in");
    let mut response = Redirect::to(to).into_response();
    let headers = response.headers_mut();
    headers.append(header::SET_COOKIE, cookies::set(cookies::SESSION, &cookie));
    headers.append(header::SET_COOKIE, cookies::clear(cookies::VISITOR));
    response
}

#[derive(Template)]
#[template(path = "sign_in.html")]
struct SignInPage {
    layout: Layout,
    csrf: String,
    username: String,
    next: &'static str,
    notice: Option<&'static str>,
    error: Option<String>,
}

pub async fn sign_in_page(
    State(site): State<SiteState>,
    MaybeSignedIn(user): MaybeSignedIn,
    visitor: Visitor,
    Query(query): Query<SignInQuery>,
) -> Response {
    let next = next_page(&query.next);
    if user.is_some() {
        return Redirect::to(next).into_response();
    }
    let notice = match query.done.as_str() {
        "signed-out" => Some("You have signed out. See you soon!"),
        "registered" => Some("Your Mocha Passport is ready. Sign in to continue."),
        _ => None,
    };
    let page = SignInPage {
        layout: Layout::new("Sign in", "account", None),
        csrf: visitor.csrf(&site),
        username: String::new(),
        next,
        notice,
        error: None,
    };
    visitor.attach(respond(StatusCode::OK, &page))
}

pub async fn sign_in(
    State(site): State<SiteState>,
    ClientIp(client): ClientIp,
    VisitorForm { visitor, form }: VisitorForm<SignInForm>,
) -> Response {
    let next = next_page(&form.next);
    match site.passport.sign_in(&form.username, &form.password, client).await {
        Ok(tokens) => signed_in(&site, tokens, next),
        Err(error) => {
            let page = SignInPage {
                layout: Layout::new("Sign in", "account", None),
                csrf: visitor.csrf(&site),
                username: form.username,
                next,
                notice: None,
                error: Some(refusal(&error)),
            };
            let mut response = respond(status_for(&error), &page);
            if let PassportError::RateLimited { retry_after } = error {
                response.headers_mut().insert(header::RETRY_AFTER, retry_after.as_secs().max(1).into());
            }
            response
        }
    }
}

#[derive(Template)]
#[template(path = "sign_up.html")]
struct SignUpPage {
    layout: Layout,
    csrf: String,
    username: String,
    display_name: String,
    error: Option<String>,
}

pub async fn sign_up_page(
    State(site): State<SiteState>,
    MaybeSignedIn(user): MaybeSignedIn,
    visitor: Visitor,
) -> Response {
    if user.is_some() {
        return Redirect::to("/account").into_response();
    }
    let page = SignUpPage {
        layout: Layout::new("Get a Mocha Passport", "account", None),
        csrf: visitor.csrf(&site),
        username: String::new(),
        display_name: String::new(),
        error: None,
    };
    visitor.attach(respond(StatusCode::OK, &page))
}

pub async fn sign_up(
    State(site): State<SiteState>,
    ClientIp(client): ClientIp,
    VisitorForm { visitor, form }: VisitorForm<SignUpForm>,
) -> Response {
    let registered = if form.password != form.confirm_password {
        Err((
            StatusCode::BAD_REQUEST,
            "The two passwords don't match. Type the same password twice.".to_string(),
        ))
    } else {
        site.passport
            .register(&form.username, &form.display_name, &form.password)
            .await
            .map_err(|e| (status_for(&e), refusal(&e)))
    };
    match registered {
        Ok(account) => match site.passport.sign_in(&account.username, &form.password, client).await {
            Ok(tokens) => signed_in(&site, tokens, "/account?done=welcome"),
            // Registered but not signed in (say, rate-limited): the sign-in page explains.
            Err(_) => Redirect::to("/sign-in?done=registered").into_response(),
        },
        Err((status, error)) => {
            let page = SignUpPage {
                layout: Layout::new("Get a Mocha Passport", "account", None),
                csrf: visitor.csrf(&site),
                username: form.username,
                display_name: form.display_name,
                error: Some(error),
            };
            respond(status, &page)
        }
    }
}

/// Signs out: revokes this browser's Passport sign-in, then forgets it.
pub async fn sign_out(
    State(site): State<SiteState>,
    SignedInForm { user, .. }: SignedInForm<Empty>,
) -> Response {
    if let Err(error) = site.sessions.sign_out(&site.passport, &user.session).await {
        // The session is forgotten either way; a sign-in that is already gone is fine.
        tracing::info!(user = %user.auth.user, %error, "web sign-out: revoking the sign-in failed");
    }
    tracing::info!(user = %user.auth.user, "web sign-out");
    let mut response = Redirect::to("/sign-in?done=signed-out").into_response();
    response.headers_mut().append(header::SET_COOKIE, cookies::clear(cookies::SESSION));
    response
}

/// After an account is deleted: the browser is signed out and told so.
pub async fn goodbye() -> Response {
    MessagePage::new(
        "Your account has been deleted",
        "Your Mocha Passport, contacts, requests, blocks, sign-ins and alerts are gone, and \
         every device signed in with it has been signed out. Thanks for chatting with us."
            .to_string(),
    )
    .respond(StatusCode::OK)
}

#[cfg(test)]
mod tests {
    use super::next_page;

    #[test]
    fn sign_in_only_returns_to_our_own_pages() {
        assert_eq!(next_page("admin"), "/admin");
        assert_eq!(next_page("/admin"), "/admin");
        assert_eq!(next_page("account"), "/account");
        assert_eq!(next_page("https://evil.example/"), "/account");
        assert_eq!(next_page("//evil.example"), "/account");
    }
}
