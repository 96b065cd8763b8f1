//! The moderation console: find accounts, ban and unban, grant or remove
//! administrator access, post service notices. Administrators only; Passport
//! checks that again on every action.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use mocha_api::ModeratedAccount;
use mocha_passport::{PassportError, UserId};

use super::{Layout, MessagePage, respond};
use crate::error::ADMIN_ONLY;
use crate::extract::{CurrentUser, SignedInForm};
use crate::format::{ban_message, date_time, parse_date, refusal};
use crate::forms::{AdminQuery, BanForm, NoticeForm, TargetForm};
use crate::{SiteState, WebError};

pub struct BanView {
    pub summary: String,
    pub issued_by: String,
    pub issued_at: String,
}

pub struct AccountView {
    pub id: String,
    pub username: String,
    pub display_name: String,
    pub is_admin: bool,
    pub is_self: bool,
    pub created: String,
    pub ban: Option<BanView>,
}

#[derive(Template)]
#[template(path = "admin.html")]
struct AdminPage {
    layout: Layout,
    csrf: String,
    query: String,
    accounts: Vec<AccountView>,
    notices: Vec<(String, String)>,
    done: Option<&'static str>,
    error: Option<String>,
}

async fn account_view(site: &SiteState, me: UserId, found: ModeratedAccount) -> AccountView {
    let ban = match found.ban {
        Some(ban) => {
            let issued_by = match site.passport.account(ban.issued_by).await {
                Ok(admin) => format!("{} ({})", admin.display_name, admin.username),
                Err(_) => format!("{} (account since deleted)", ban.issued_by),
            };
            Some(BanView { summary: ban_message(&ban), issued_by, issued_at: date_time(ban.issued_at) })
        }
        None => None,
    };
    let account = found.account;
    AccountView {
        id: account.id.to_string(),
        is_self: account.id == me,
        username: account.username,
        display_name: account.display_name,
        is_admin: account.is_admin,
        created: date_time(account.created_at),
        ban,
    }
}

async fn render(
    site: &SiteState,
    user: &CurrentUser,
    query: String,
    status: StatusCode,
    done: Option<&'static str>,
    error: Option<String>,
) -> Result<Response, WebError> {
    let me = user.auth.user;
    let mut accounts = Vec::new();
    for found in site.passport.find_accounts(me, &query).await? {
        accounts.push(account_view(site, me, found).await);
    }
    let notices = site
        .passport
        .status_board()
        .report()
        .notices
        .into_iter()
        .map(|n| (date_time(n.posted_at), n.text))
        .collect();
    let page = AdminPage {
        layout: Layout::new("Moderation console", "admin", Some(user)),
        csrf: user.csrf.clone(),
        query,
        accounts,
        notices,
        done,
        error,
    };
    Ok(respond(status, &page))
}

pub async fn page(
    State(site): State<SiteState>,
    user: CurrentUser,
    Query(query): Query<AdminQuery>,
) -> Result<Response, WebError> {
    if let Err(PassportError::AdminOnly) = site.passport.require_admin(user.auth.user).await {
        let (heading, text) = ADMIN_ONLY;
        return Ok(MessagePage::for_user(heading, text.to_string(), &user).respond(StatusCode::FORBIDDEN));
    }
    let done = match query.done.as_str() {
        "banned" => Some("The ban is in force; any live session of that user has been signed out."),
        "unbanned" => Some("The ban has been lifted."),
        "granted" => Some("Administrator access granted."),
        "removed" => Some("Administrator access removed."),
        "notice" => Some("The notice has been posted to everyone online and the status page."),
        _ => None,
    };
    render(&site, &user, query.q, StatusCode::OK, done, None).await
}

/// Back to the console, keeping the search the moderator was looking at.
fn back(query: &str, done: &str) -> Response {
    let params = serde_urlencoded::to_string([("q", query), ("done", done)]).unwrap_or_default();
    Redirect::to(&format!("/admin?{params}")).into_response()
}

/// Turns an action's refusal into the console with the reason on top.
async fn refused(
    site: &SiteState,
    user: &CurrentUser,
    query: String,
    error: PassportError,
) -> Result<Response, WebError> {
    let status = match &error {
        PassportError::Invalid { .. } => StatusCode::BAD_REQUEST,
        PassportError::NotFound(_) => StatusCode::NOT_FOUND,
        PassportError::AdminOnly => return Err(WebError::AdminOnly),
        _ => return Err(error.into()),
    };
    render(site, user, query, status, None, Some(refusal(&error))).await
}

fn target(text: &str) -> Result<UserId, PassportError> {
    text.trim().parse().map_err(|_| PassportError::NotFound("account"))
}

pub async fn ban(
    State(site): State<SiteState>,
    SignedInForm { user, form }: SignedInForm<BanForm>,
) -> Result<Response, WebError> {
    let result = async {
        let target = target(&form.user_id)?;
        let until = match form.length.as_str() {
            "until" => Some(parse_date(&form.until).ok_or_else(|| {
                PassportError::invalid("until", "pick the date the ban ends, or choose a permanent ban")
            })?),
            _ => None,
        };
        let reason = Some(form.reason.trim()).filter(|r| !r.is_empty());
        site.passport.ban(user.auth.user, target, reason, until).await
    }
    .await;
    match result {
        Ok(_) => Ok(back(&form.q, "banned")),
        Err(error) => refused(&site, &user, form.q, error).await,
    }
}

pub async fn unban(
    State(site): State<SiteState>,
    SignedInForm { user, form }: SignedInForm<TargetForm>,
) -> Result<Response, WebError> {
    let result = match target(&form.user_id) {
        Ok(target) => site.passport.unban(user.auth.user, target).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => Ok(back(&form.q, "unbanned")),
        Err(error) => refused(&site, &user, form.q, error).await,
    }
}

pub async fn set_access(
    State(site): State<SiteState>,
    SignedInForm { user, form }: SignedInForm<TargetForm>,
) -> Result<Response, WebError> {
    let grant = form.access == "grant";
    let result = match target(&form.user_id) {
        Ok(target) => site.passport.set_admin(user.auth.user, target, grant).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => Ok(back(&form.q, if grant { "granted" } else { "removed" })),
        Err(error) => refused(&site, &user, form.q, error).await,
    }
}

pub async fn post_notice(
    State(site): State<SiteState>,
    SignedInForm { user, form }: SignedInForm<NoticeForm>,
) -> Result<Response, WebError> {
    match site.passport.post_notice(user.auth.user, &form.text).await {
        Ok(_) => Ok(back(&form.q, "notice")),
        Err(error) => refused(&site, &user, form.q, error).await,
    }
}
