//! The websites at the HTTP level, over real TLS: cookie flags, security headers,
//! CSRF refusals, web sign-ins as Passport sign-ins, limits and error pages.
#![allow(clippy::unwrap_used)]

mod common;
mod web_support;

use common::TestServer;
use reqwest::StatusCode;
use reqwest::header::{CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_TYPE, LOCATION, SET_COOKIE};
use web_support::WebClient;

const SESSION: &str = "__Host-mocha-session";
const VISITOR: &str = "__Host-mocha-visitor";

fn set_cookies(response: &reqwest::Response) -> Vec<String> {
    response.headers().get_all(SET_COOKIE).iter().map(|v| v.to_str().unwrap().to_string()).collect()
}

fn location(response: &reqwest::Response) -> &str {
    response.headers().get(LOCATION).and_then(|v| v.to_str().ok()).unwrap_or("")
}

fn assert_locked_down(cookie: &str) {
    for flag in ["HttpOnly", "Secure", "SameSite=Strict", "Path=/"] {
        assert!(cookie.contains(flag), "cookie lacks {flag}: {cookie}");
    }
    assert!(!cookie.contains("Domain"), "a __Host- cookie has no Domain: {cookie}");
}

#[tokio::test]
async fn cookies_are_http_only_secure_and_same_site_strict() {
    let t = TestServer::start().await;
    let alice = t.user("alice").await;
    let mut web = WebClient::new(&t);

    let page = web.get("/sign-in").await;
    assert_eq!(page.status(), StatusCode::OK);
    let visitor = set_cookies(&page).into_iter().find(|c| c.starts_with(VISITOR)).expect("visitor cookie");
    assert_locked_down(&visitor);

    let signed_in = web.sign_in(&alice.account.username, &alice.password).await;
    assert_eq!(signed_in.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&signed_in), "/account");
    let session =
        set_cookies(&signed_in).into_iter().find(|c| c.starts_with(SESSION)).expect("session cookie");
    assert_locked_down(&session);
    let value = web.cookies[SESSION].clone();
    assert!(value.len() >= 43, "256 random bits");
    assert!(!session.contains(&alice.password) && !location(&signed_in).contains(&alice.password));

    let account = web.get("/account").await;
    assert_eq!(account.status(), StatusCode::OK);
    assert_eq!(account.headers()[CACHE_CONTROL], "no-store");
    let html = account.text().await.unwrap();
    assert!(html.contains("alice@example.com"));
    assert!(!html.contains(&value), "the session cookie never appears in a page");
}

#[tokio::test]
async fn pages_carry_security_headers() {
    let t = TestServer::start().await;
    let mut web = WebClient::new(&t);
    for path in ["/", "/download", "/status", "/sign-in", "/sign-up", "/no-such-page"] {
        let response = web.get(path).await;
        let headers = response.headers();
        let csp = headers["content-security-policy"].to_str().unwrap();
        assert!(
            csp.contains("default-src 'none'") && csp.contains("frame-ancestors 'none'"),
            "{path}: {csp}"
        );
        assert!(!csp.contains("unsafe-inline") && !csp.contains("script-src"), "{path}: no scripts at all");
        assert_eq!(headers["x-frame-options"], "DENY", "{path}");
        assert_eq!(headers["referrer-policy"], "no-referrer", "{path}");
        assert_eq!(headers["x-content-type-options"], "nosniff", "{path}");
        assert!(headers.contains_key("strict-transport-security"), "{path}");
        let html = response.text().await.unwrap();
        assert!(!html.contains("<script"), "{path} has no script tags");
    }
    let css = web.get("/static/mocha.css").await;
    assert_eq!(css.status(), StatusCode::OK);
    assert!(css.headers()[CONTENT_TYPE].to_str().unwrap().starts_with("text/css"));
}

#[tokio::test]
async fn forms_without_a_valid_csrf_token_are_refused() {
    let t = TestServer::start().await;
    let alice = t.user("alice").await;
    let mut web = WebClient::new(&t);
    web.sign_in(&alice.account.username, &alice.password).await;

    let missing = web.post("/account/display-name", &[("display_name", "Mallory was here")]).await;
    assert_eq!(missing.status(), StatusCode::FORBIDDEN);
    assert!(missing.text().await.unwrap().contains("This form has expired"));

    // A token from another browser (another session) does not fit this one.
    let mut other = WebClient::new(&t);
    other.sign_in(&alice.account.username, &alice.password).await;
    let foreign = other.csrf_on("/account").await;
    let forged = web.post("/account/display-name", &[("csrf", &foreign), ("display_name", "Mallory")]).await;
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    let visitor_token = WebClient::new(&t).csrf_on("/sign-in").await;
    let forged = web.post("/account/display-name", &[("csrf", &visitor_token), ("display_name", "M")]).await;
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    assert_eq!(t.server.passport.account(alice.account.id).await.unwrap().display_name, "Alice");

    // Signed-out forms need the visitor cookie's token too.
    let mut stranger = WebClient::new(&t);
    let no_cookie =
        stranger.post("/sign-in", &[("username", "alice@example.com"), ("password", &alice.password)]).await;
    assert_eq!(no_cookie.status(), StatusCode::FORBIDDEN);
    assert!(!stranger.cookies.contains_key(SESSION));

    let csrf = web.csrf_on("/account").await;
    let ok = web.post("/account/display-name", &[("csrf", &csrf), ("display_name", "Alice B.")]).await;
    assert_eq!(ok.status(), StatusCode::SEE_OTHER);
    assert_eq!(t.server.passport.account(alice.account.id).await.unwrap().display_name, "Alice B.");
}

#[tokio::test]
async fn a_web_sign_in_is_a_passport_sign_in_and_signing_out_revokes_it() {
    let t = TestServer::start().await;
    let alice = t.user("alice").await;
    let mut web = WebClient::new(&t);
    web.sign_in(&alice.account.username, &alice.password).await;

    let sign_ins = t.passport.sign_ins(alice.token()).await.unwrap();
    assert_eq!(sign_ins.len(), 2, "the API sign-in and the web sign-in");

    let old_cookie = web.cookies[SESSION].clone();
    let csrf = web.csrf_on("/account").await;
    let out = web.post("/sign-out", &[("csrf", &csrf)]).await;
    assert_eq!(out.status(), StatusCode::SEE_OTHER);
    assert!(set_cookies(&out).iter().any(|c| c.starts_with(SESSION) && c.contains("Max-Age=0")));
    assert_eq!(t.passport.sign_ins(alice.token()).await.unwrap().len(), 1, "the web sign-in was revoked");

    // The old cookie, replayed, no longer opens anything.
    let mut replay = WebClient { cookies: [(SESSION.to_string(), old_cookie)].into(), ..WebClient::new(&t) };
    let page = replay.get("/account").await;
    assert_eq!(page.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&page), "/sign-in?next=account");
}

#[tokio::test]
async fn revoking_the_web_sign_in_elsewhere_signs_the_browser_out() {
    let t = TestServer::start().await;
    let alice = t.user("alice").await;
    let mut web = WebClient::new(&t);
    web.sign_in(&alice.account.username, &alice.password).await;
    let web_sign_in =
        t.passport.sign_ins(alice.token()).await.unwrap().into_iter().find(|s| !s.current).unwrap();
    t.passport.revoke_sign_in(alice.token(), &web_sign_in.id).await.unwrap();
    let page = web.get("/account").await;
    assert_eq!(page.status(), StatusCode::SEE_OTHER);
    assert!(location(&page).starts_with("/sign-in"));
}

#[tokio::test]
async fn sign_in_errors_are_shown_on_the_form_with_the_address_kept() {
    let t = TestServer::start_with(|c| c.sign_in_attempts_per_account = 3).await;
    let alice = t.user("alice").await; // one attempt used
    let mut web = WebClient::new(&t);
    let wrong = web.sign_in("alice@example.com", "not-her-password1").await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    let html = wrong.text().await.unwrap();
    assert!(html.contains("That sign-in address or password is not right."));
    assert!(html.contains("value=\"alice@example.com\""), "the address is filled in again");
    assert!(!html.contains("not-her-password1"), "passwords are never filled in again");

    web.sign_in("alice@example.com", "not-her-password2").await;
    let limited = web.sign_in("alice@example.com", &alice.password).await;
    assert_eq!(
        limited.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "the API's rate limit applies to the web too"
    );
    assert!(limited.headers().contains_key("retry-after"));
    assert!(limited.text().await.unwrap().contains("Too many sign-in attempts"));
}

#[tokio::test]
async fn a_banned_user_is_told_why_and_until_when() {
    let t = TestServer::start().await;
    let admin = t.user("root").await;
    let admin = t.make_admin(&admin).await;
    let bob = t.user("bob").await;
    let until = time::OffsetDateTime::now_utc() + time::Duration::days(3);
    t.server
        .passport
        .ban(admin.account.id, bob.account.id, Some("spamming the lobby"), Some(until))
        .await
        .unwrap();

    let mut web = WebClient::new(&t);
    let refused = web.sign_in(&bob.account.username, &bob.password).await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let html = refused.text().await.unwrap();
    assert!(html.contains("This account is banned until"), "{html}");
    assert!(html.contains("Reason: spamming the lobby"));
    assert!(html.contains(&until.year().to_string()));
}

#[tokio::test]
async fn export_is_a_json_attachment_and_the_ca_certificate_is_offered() {
    let t = TestServer::start().await;
    let alice = t.user("alice").await;
    let mut web = WebClient::new(&t);
    web.sign_in(&alice.account.username, &alice.password).await;
    let csrf = web.csrf_on("/account").await;
    let export = web.post("/account/export", &[("csrf", &csrf)]).await;
    assert_eq!(export.status(), StatusCode::OK);
    assert_eq!(export.headers()[CONTENT_TYPE], "application/json");
    assert!(export.headers()[CONTENT_DISPOSITION].to_str().unwrap().starts_with("attachment"));
    let json: serde_json::Value = export.json().await.unwrap();
    assert_eq!(json["account"]["username"], "alice@example.com");
    assert!(json["refresh_tokens"].as_array().unwrap().len() >= 2);

    let ca = web.get("/ca.pem").await;
    assert_eq!(ca.status(), StatusCode::OK);
    assert!(ca.headers()[CONTENT_DISPOSITION].to_str().unwrap().contains("mocha-ca.pem"));
    assert_eq!(ca.bytes().await.unwrap(), std::fs::read(&t.server.ca_cert).unwrap());
    let home = web.get("/").await.text().await.unwrap();
    assert!(home.contains("/ca.pem") && home.contains("SHA-256 fingerprint"));
}

#[tokio::test]
async fn oversized_forms_unknown_pages_and_the_api_beside_the_site() {
    let t = TestServer::start().await;
    let alice = t.user("alice").await;
    let mut web = WebClient::new(&t);
    web.sign_in(&alice.account.username, &alice.password).await;
    let csrf = web.csrf_on("/account").await;
    let huge = "x".repeat(20 * 1024);
    let too_big = web.post("/account/display-name", &[("csrf", &csrf), ("display_name", &huge)]).await;
    assert_eq!(too_big.status(), StatusCode::PAYLOAD_TOO_LARGE);

    let missing = web.get("/no-such-page").await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    assert!(missing.headers()[CONTENT_TYPE].to_str().unwrap().starts_with("text/html"));
    let api_missing = web.get("/api/v1/no-such-endpoint").await;
    assert_eq!(api_missing.status(), StatusCode::NOT_FOUND);
    let body: serde_json::Value = api_missing.json().await.unwrap();
    assert_eq!(body["error"]["code"], "not_found");
    let status: serde_json::Value = web.get("/api/v1/status").await.json().await.unwrap();
    assert!(status["services"].as_array().unwrap().iter().any(|s| s["name"] == "passport"));
}

#[tokio::test]
async fn non_admins_get_403_and_visitors_are_sent_to_sign_in() {
    let t = TestServer::start().await;
    let alice = t.user("alice").await;
    let mut web = WebClient::new(&t);
    let visitor = web.get("/admin").await;
    assert_eq!(visitor.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&visitor), "/sign-in?next=admin");

    web.sign_in(&alice.account.username, &alice.password).await;
    let refused = web.get("/admin").await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert!(refused.text().await.unwrap().contains("Administrators only"));
    let csrf = web.csrf_on("/account").await;
    let action = web.post("/admin/notice", &[("csrf", &csrf), ("text", "hello")]).await;
    assert_eq!(action.status(), StatusCode::FORBIDDEN);
    assert!(t.server.passport.status_board().report().notices.is_empty());
}

async fn ns_signed_in(t: &TestServer, user: &common::TestUser) -> mocha_client::ns::NsConnection {
    let mut ns = mocha_client::ns::NsConnection::connect(
        ("localhost", t.server.ns_addr.unwrap().port()),
        "localhost",
        &t.trust,
    )
    .await
    .expect("NS connects");
    ns.sign_in(user.token()).await.expect("NS sign-in");
    ns
}

async fn expect_out(ns: &mut mocha_client::ns::NsConnection) -> mocha_client::proto::OutReason {
    use mocha_client::proto::ns::ServerCommand;
    ns.expect_push(std::time::Duration::from_secs(5), |push| match push {
        ServerCommand::Out(out) => Some(out.reason.clone()),
        _ => None,
    })
    .await
    .expect("an OUT push")
}

#[tokio::test]
async fn deleting_from_the_web_removes_everything_and_ends_the_live_messenger_session() {
    let t = TestServer::start().await;
    let alice = t.user("alice").await;
    let bob = t.user("bob").await;
    t.befriend(&alice, &bob).await;
    let mut messenger = ns_signed_in(&t, &alice).await;

    let mut web = WebClient::new(&t);
    web.sign_in(&alice.account.username, &alice.password).await;
    let csrf = web.csrf_on("/account").await;
    let unticked = web.post("/account/delete", &[("csrf", &csrf), ("password", &alice.password)]).await;
    assert_eq!(unticked.status(), StatusCode::BAD_REQUEST);
    assert!(t.server.passport.account(alice.account.id).await.is_ok(), "nothing without the tick");

    let deleted = web
        .post("/account/delete", &[("csrf", &csrf), ("password", &alice.password), ("confirm", "yes")])
        .await;
    assert_eq!(deleted.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&deleted), "/goodbye");
    assert!(set_cookies(&deleted).iter().any(|c| c.starts_with(SESSION) && c.contains("Max-Age=0")));
    assert_eq!(expect_out(&mut messenger).await, mocha_client::proto::OutReason::AccountDeleted);
    assert!(t.server.passport.find_user_id("alice@example.com").await.unwrap().is_none());
    assert!(t.passport.contacts(bob.token()).await.unwrap().is_empty(), "the contact went with her");
    assert!(t.passport.me(alice.token()).await.is_err(), "her other sign-ins are gone");
}

#[tokio::test]
async fn a_temporary_ban_from_the_console_ends_at_the_chosen_date_and_kicks_the_user() {
    let t = TestServer::start().await;
    let root = t.user("root").await;
    let root = t.make_admin(&root).await;
    let bob = t.user("bob").await;
    let mut messenger = ns_signed_in(&t, &bob).await;
    let mut web = WebClient::new(&t);
    web.sign_in(&root.account.username, &root.password).await;
    let csrf = web.csrf_on("/admin?q=bob").await;
    let bob_id = bob.account.id.to_string();

    let no_date = web
        .post("/admin/ban", &[("csrf", &csrf), ("q", "bob"), ("user_id", &bob_id), ("length", "until")])
        .await;
    assert_eq!(no_date.status(), StatusCode::BAD_REQUEST);
    assert!(no_date.text().await.unwrap().contains("Pick the date the ban ends"));

    let end = (time::OffsetDateTime::now_utc() + time::Duration::days(10)).date();
    let banned = web
        .post(
            "/admin/ban",
            &[
                ("csrf", &csrf),
                ("q", "bob"),
                ("user_id", &bob_id),
                ("reason", "cooling off"),
                ("length", "until"),
                ("until", &end.to_string()),
            ],
        )
        .await;
    assert_eq!(banned.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&banned), "/admin?q=bob&done=banned");
    let ban = t.server.passport.active_ban(bob.account.id).await.unwrap().expect("banned");
    assert_eq!(ban.until.map(|u| u.date()), Some(end));
    assert_eq!(ban.reason.as_deref(), Some("cooling off"));
    assert_eq!(ban.issued_by, root.account.id);
    let out = expect_out(&mut messenger).await;
    assert!(matches!(out, mocha_client::proto::OutReason::Banned(_)), "{out:?}");

    let console = web.get("/admin?q=bob").await.text().await.unwrap();
    assert!(console.contains("This account is banned until"), "the console shows the ban");
    assert!(console.contains("Issued by Root (root@example.com)"));
    let lifted = web.post("/admin/unban", &[("csrf", &csrf), ("q", "bob"), ("user_id", &bob_id)]).await;
    assert_eq!(lifted.status(), StatusCode::SEE_OTHER);
    assert!(t.server.passport.active_ban(bob.account.id).await.unwrap().is_none());
}
