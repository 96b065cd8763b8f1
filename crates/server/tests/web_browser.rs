//! The websites in a real headless Chromium, as a person would use them. Every
//! page visited is saved under `target/web-screenshots/`.
//!
//! Needs Debian's `chromium` and `chromium-driver` (installed by `.ci/run`); the
//! tests fail, loudly, without them.
#![allow(clippy::unwrap_used)]

mod common;
mod web_support;

use std::sync::Arc;

use common::TestServer;
use mocha_client::ClientError;
use web_support::Browser;

/// One browser at a time: the machine is small and Chromium is not.
static ONE_BROWSER: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_visitor_signs_up_manages_the_account_exports_and_deletes_it() {
    let _turn = ONE_BROWSER.lock().await;
    let t = Arc::new(TestServer::start().await);
    let server = t.clone();
    Browser::run(&t, move |b| async move {
        let t = server;
        b.open("/").await;
        assert!(b.text("h1").await.contains("Chat with your friends"));
        assert!(b.page_text().await.contains("SHA-256 fingerprint"));
        b.screenshot("home").await;
        b.open("/download").await;
        assert!(b.text("#channel-stable").await.contains("No build has been published on this channel yet"));
        b.open("/status").await;
        assert!(b.text(".services").await.contains("Passport"));
        b.screenshot("status").await;

        // Sign up: a mistake first, shown on the form with the other fields kept.
        b.open("/sign-up").await;
        b.fill("#username", "dana@example.com").await;
        b.fill("#display_name", "Dana").await;
        b.fill("#password", "c0ffee-and-cake").await;
        b.fill("#confirm_password", "c0ffee-and-pie").await;
        b.click("#sign-up").await;
        assert!(b.text("#form-error").await.contains("don't match"));
        b.screenshot("sign-up-error").await;
        assert_eq!(b.value("#username").await, "dana@example.com", "the address is kept");
        assert_eq!(b.value("#password").await, "", "passwords are never filled in again");
        b.fill("#password", "c0ffee-and-cake").await;
        b.fill("#confirm_password", "c0ffee-and-cake").await;
        b.click("#sign-up").await;
        assert!(b.text("#done").await.contains("Welcome to Mocha"));
        assert_eq!(b.text("#display-name").await, "Dana");
        b.screenshot("account").await;

        // Change the display name.
        b.fill("#display_name", "Dana ☕").await;
        b.click("#save-display-name").await;
        assert!(b.text("#done").await.contains("display name has been changed"));
        assert_eq!(b.text("#display-name").await, "Dana ☕");
        assert_eq!(b.text("#who-name").await, "Dana ☕");

        // A too-long name is refused beside the form, keeping what was typed.
        b.client
            .execute("document.getElementById('display_name').value = 'y'.repeat(70)", vec![])
            .await
            .unwrap();
        b.click("#save-display-name").await;
        assert!(b.text("#change-display-name .flash").await.contains("64"));

        // Export: a JSON file with everything about Dana.
        b.click_in_place("#download-export").await;
        let id = t.server.passport.find_user_id("dana@example.com").await.unwrap().unwrap();
        let export: serde_json::Value =
            serde_json::from_slice(&b.downloaded(&format!("mocha-data-{id}.json")).await).unwrap();
        assert_eq!(export["account"]["display_name"], "Dana ☕");

        // Sign out, sign back in.
        b.sign_out().await;
        b.screenshot("sign-in").await;
        b.sign_in("dana@example.com", "c0ffee-and-cake").await;
        assert_eq!(b.path().await, "/account");

        // Delete: the tick box is required, then the password, then it is gone.
        b.fill("#delete_password", "c0ffee-and-cake").await;
        b.click("#delete").await;
        assert!(b.text("#delete-account .flash").await.contains("Tick the box"));
        b.fill("#delete_password", "not-my-password-1").await;
        b.click_in_place("#delete_confirm").await;
        b.click("#delete").await;
        assert!(b.text("#delete-account .flash").await.contains("isn't your current password"));
        b.screenshot("account-delete-refused").await;
        b.fill("#delete_password", "c0ffee-and-cake").await;
        b.click_in_place("#delete_confirm").await;
        b.click("#delete").await;
        assert!(b.text("h1").await.contains("Your account has been deleted"));
        b.screenshot("goodbye").await;
        assert!(t.server.passport.find_user_id("dana@example.com").await.unwrap().is_none());
        assert!(t.server.passport.account(id).await.is_err());

        // The browser is signed out, and the account cannot sign in any more.
        b.open("/account").await;
        assert_eq!(b.path().await, "/sign-in");
        b.sign_in("dana@example.com", "c0ffee-and-cake").await;
        assert!(b.text("#form-error").await.contains("not right"));
        b.screenshot("sign-in-error").await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_sees_where_they_are_signed_in_and_signs_a_device_out() {
    let _turn = ONE_BROWSER.lock().await;
    let t = Arc::new(TestServer::start().await);
    let alice = t.user("alice").await; // signed in from "the desktop client"
    let server = t.clone();
    Browser::run(&t, move |b| async move {
        let t = server;
        b.sign_in(&alice.account.username, &alice.password).await;
        assert_eq!(b.count(".sign-in-row").await, 2);
        assert_eq!(b.count(".sign-in-row.current").await, 1);
        b.click(".sign-in-row:not(.current) .revoke").await;
        assert!(b.text("#done").await.contains("signed out"));
        assert_eq!(b.count(".sign-in-row").await, 1);
        b.screenshot("account-sign-ins").await;
        let refused = t.passport.me(alice.token()).await.unwrap_err();
        assert!(matches!(refused, ClientError::Api { status: 401, .. }), "{refused:?}");

        // Changing the password keeps this browser and signs out everything else.
        let other = t.passport.sign_in(&alice.account.username, &alice.password).await.unwrap();
        b.fill("#current_password", &alice.password).await;
        b.fill("#new_password", "a-brand-new-pass-9").await;
        b.fill("#confirm_new_password", "a-brand-new-pass-9").await;
        b.click("#save-password").await;
        assert!(b.text("#done").await.contains("password has been changed"));
        assert!(t.passport.me(&other.session_token).await.is_err());
        assert_eq!(b.count(".sign-in-row").await, 1);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_bans_a_user_who_then_sees_the_reason_and_non_admins_get_403() {
    let _turn = ONE_BROWSER.lock().await;
    let t = Arc::new(TestServer::start().await);
    let root = t.user("root").await;
    let root = t.make_admin(&root).await;
    let bob = t.user("bob").await;
    let carol = t.user("carol").await;
    let server = t.clone();
    Browser::run(&t, move |b| async move {
        let t = server;
        // A visitor is sent to sign in, and comes back to the console after.
        b.open("/admin").await;
        assert_eq!(b.path().await, "/sign-in");
        b.fill("#username", &root.account.username).await;
        b.fill("#password", &root.password).await;
        b.click("#sign-in").await;
        assert_eq!(b.path().await, "/admin");

        b.fill("#q", "bob").await;
        b.click("#search").await;
        let card = format!("#account-{}", bob.account.id);
        assert!(b.text(&card).await.contains("bob@example.com"));
        b.fill(&format!("{card} .ban-reason"), "flooding the lobby with cat pictures").await;
        b.click(&format!("{card} .ban")).await;
        assert!(b.text("#done").await.contains("ban is in force"));
        let record = b.text(&format!("{card} .ban-record")).await;
        assert!(record.contains("banned permanently"), "{record}");
        assert!(record.contains("flooding the lobby with cat pictures"));
        assert!(record.contains("Issued by Root (root@example.com)"), "{record}");
        b.screenshot("admin-ban").await;

        // Grant carol administrator access, then take it away again.
        b.fill("#q", "carol").await;
        b.click("#search").await;
        b.click(&format!("#account-{} .access", carol.account.id)).await;
        assert!(b.text("#done").await.contains("granted"));
        assert!(t.server.passport.account(carol.account.id).await.unwrap().is_admin);
        b.click(&format!("#account-{} .access", carol.account.id)).await;
        assert!(b.text("#done").await.contains("removed"));
        assert!(!t.server.passport.account(carol.account.id).await.unwrap().is_admin);

        // A notice, for everyone online and the status page.
        b.fill("#notice_text", "Maintenance tonight at 22:00 UTC <b>really</b>").await;
        b.click("#post-notice").await;
        assert!(b.text("#done").await.contains("notice has been posted"));
        b.screenshot("admin").await;
        b.open("/status").await;
        assert!(b.text(".notice").await.contains("Maintenance tonight at 22:00 UTC <b>really</b>"));
        b.screenshot("status-with-notice").await;
        b.sign_out().await;

        // Carol is not an administrator: a friendly 403.
        b.sign_in(&carol.account.username, &carol.password).await;
        b.open("/admin").await;
        assert!(b.text("h1").await.contains("Administrators only"));
        b.screenshot("admin-forbidden").await;
        b.sign_out().await;

        // Bob's sign-in now says why he cannot come in.
        b.sign_in(&bob.account.username, &bob.password).await;
        let error = b.text("#form-error").await;
        assert!(error.contains("This account is banned permanently"), "{error}");
        assert!(error.contains("flooding the lobby with cat pictures"));
        b.screenshot("sign-in-banned").await;

        // Lifted, he can sign in again.
        b.sign_in(&root.account.username, &root.password).await;
        b.open("/admin?q=bob").await;
        b.click(&format!("{card} .unban")).await;
        assert!(b.text("#done").await.contains("lifted"));
        b.sign_out().await;
        b.sign_in(&bob.account.username, &bob.password).await;
        assert_eq!(b.path().await, "/account");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn html_in_a_display_name_is_text_and_forms_without_csrf_are_refused() {
    let _turn = ONE_BROWSER.lock().await;
    let t = Arc::new(TestServer::start().await);
    let mallory = t.user("mallory").await;
    let root = t.user("root").await;
    let root = t.make_admin(&root).await;
    let hostile = "<b>x</b><script>document.title='owned'</script>";
    t.passport.set_display_name(mallory.token(), hostile).await.unwrap();
    Browser::run(&t, move |b| async move {
        b.sign_in(&mallory.account.username, &mallory.password).await;
        assert_eq!(b.text("#display-name").await, hostile);
        assert_eq!(b.text("#who-name").await, hostile);
        assert_eq!(b.count("#display-name b").await, 0, "no markup was made");
        assert_eq!(b.count("script").await, 0, "no script element exists on the page");
        assert_ne!(b.client.title().await.unwrap(), "owned");
        b.screenshot("account-html-name").await;

        // A form whose CSRF field was stripped (as a forged cross-site post would be) is refused.
        b.client
            .execute("document.querySelector('#change-display-name input[name=csrf]').remove()", vec![])
            .await
            .unwrap();
        b.fill("#display_name", "Forged").await;
        b.click("#save-display-name").await;
        assert!(b.text("h1").await.contains("This form has expired"));
        b.screenshot("csrf-refused").await;
        b.open("/account").await;
        assert_eq!(b.text("#display-name").await, hostile, "nothing changed");
        b.sign_out().await;

        // The moderator sees the same name as text too.
        b.sign_in(&root.account.username, &root.password).await;
        b.open("/admin?q=mallory").await;
        let card = format!("#account-{}", mallory.account.id);
        assert!(b.text(&format!("{card} .titlebar")).await.contains(hostile));
        assert_eq!(b.count(&format!("{card} .titlebar b")).await, 0);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_visitor_downloads_the_published_build_from_the_download_page_and_the_home_button() {
    let _turn = ONE_BROWSER.lock().await;
    let t = Arc::new(TestServer::start().await);
    let builds = tempfile::tempdir().unwrap();
    let mut bytes = b"\x7fELF".to_vec();
    bytes.extend((0..50_000u32).map(|i| (i * 7 % 251) as u8));
    let path = builds.path().join("mocha-messenger");
    std::fs::write(&path, &bytes).unwrap();
    let release = mocha_server::publish::Release::new("stable", "linux-x86_64", "1.2.0", path)
        .with_notes("Voice and video calls.");
    let published = mocha_server::publish::publish(t.dir.path(), &release).unwrap();
    let server = t.clone();
    let (first_published, first_bytes) = (published.clone(), bytes.clone());
    Browser::run(&t, move |b| async move {
        let (_t, published, bytes) = (server, first_published, first_bytes);
        b.open("/download").await;
        let build = b.text("#build-stable-linux-x86_64").await;
        assert!(build.contains("1.2.0") && build.contains("Voice and video calls."), "{build}");
        assert!(build.contains(&published.sha256), "the SHA-256 is shown: {build}");
        assert!(build.contains("50.0 kB"), "the size is shown: {build}");
        assert!(
            b.text("#channel-beta").await.contains("No build has been published"),
            "an empty channel says so"
        );
        assert!(b.text("#release-key").await.len() > 40, "the release key is shown to compare");
        b.screenshot("download").await;
        b.click_in_place("#download-stable-linux-x86_64").await;
        assert_eq!(b.downloaded(&published.file_name).await, bytes, "the page's button downloads the build");
    })
    .await;
    // The home page's big button, from a Linux browser, leads to the same file.
    let second = t.clone();
    Browser::run(&t, move |b| async move {
        let _t = second;
        b.open("/").await;
        b.click_in_place("#download-latest").await;
        assert_eq!(b.downloaded(&published.file_name).await, bytes);
    })
    .await;
}
