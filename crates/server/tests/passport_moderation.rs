//! Moderation, account deletion, data export, status and update checks, through real HTTPS.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

mod common;

use std::time::Duration;

use common::{Engine, TestServer};
use mocha_client::ClientError;
use mocha_client::api::{BanRequest, OffsetDateTime};

mocha_passport::engine_tests!(
    only_admins_moderate,
    bans_stop_sign_in_refresh_and_sessions_with_reason_and_end,
    a_temporary_ban_lapses_by_itself,
    deleting_an_account_removes_every_row_about_it,
    the_export_holds_every_category_and_no_secrets,
    status_updates_and_openapi,
    the_admin_grant_command_works_on_the_data_folder,
);

fn code(result: Result<impl std::fmt::Debug, ClientError>) -> String {
    result.expect_err("the server should refuse").code().unwrap_or("no-code").to_string()
}

async fn only_admins_moderate(engine: Engine) {
    let t = TestServer::start_on(engine).await;
    let (alice, bob) = (t.user("alice").await, t.user("bob").await);
    let ban = BanRequest { user_id: bob.account.id, reason: None, until: None };
    assert_eq!(code(t.passport.ban(alice.token(), &ban).await), "admin_only");
    assert_eq!(code(t.passport.unban(alice.token(), bob.account.id).await), "admin_only");
    assert_eq!(code(t.passport.set_admin(alice.token(), alice.account.id, true).await), "admin_only");
    assert_eq!(code(t.passport.set_admin(alice.token(), bob.account.id, false).await), "admin_only");
    assert_eq!(code(t.passport.find_users(alice.token(), "bob").await), "admin_only");
    assert_eq!(code(t.passport.post_notice(alice.token(), "hello").await), "admin_only");
    assert!(t.passport.sign_in("bob@example.com", &bob.password).await.is_ok(), "nothing happened to Bob");

    // The offline bootstrap makes the first admin, who can then make others and take it back.
    let alice = t.make_admin(&alice).await;
    assert!(alice.account.is_admin);
    t.passport.set_admin(alice.token(), bob.account.id, true).await.unwrap();
    assert!(t.passport.me(bob.token()).await.unwrap().is_admin);
    t.passport.set_admin(alice.token(), bob.account.id, false).await.unwrap();
    assert!(!t.passport.me(bob.token()).await.unwrap().is_admin);
    assert_eq!(
        code(t.passport.find_users(bob.token(), "").await),
        "admin_only",
        "removal takes effect at once"
    );
    let found = t.passport.find_users(alice.token(), "BOB").await.unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].account.id, bob.account.id);
}

async fn bans_stop_sign_in_refresh_and_sessions_with_reason_and_end(engine: Engine) {
    let t = TestServer::start_on(engine).await;
    let admin = t.user("admin").await;
    let admin = t.make_admin(&admin).await;
    let bob = t.user("bob").await;

    let until = OffsetDateTime::now_utc() + time::Duration::days(7);
    let request = BanRequest { user_id: bob.account.id, reason: Some("spamming".into()), until: Some(until) };
    let ban = t.passport.ban(admin.token(), &request).await.unwrap();
    assert!(!ban.permanent);
    assert_eq!(ban.issued_by, admin.account.id);
    assert_eq!(ban.until.unwrap().unix_timestamp(), until.unix_timestamp());

    let refused = t.passport.sign_in("bob@example.com", &bob.password).await.unwrap_err();
    assert_eq!(refused.code(), Some("banned"));
    assert_eq!(refused.status(), Some(403));
    let detail = refused.detail().unwrap();
    assert_eq!(detail.ban.as_ref().unwrap().reason.as_deref(), Some("spamming"));
    assert!(detail.message.contains("spamming"), "{}", detail.message);
    assert_eq!(code(t.passport.me(bob.token()).await), "banned", "a live session is cut off at once");
    assert_eq!(code(t.passport.refresh(&bob.tokens.refresh_token).await), "banned");
    // A wrong password does not reveal the ban.
    assert_eq!(
        code(t.passport.sign_in("bob@example.com", "not-his-password-1").await),
        "invalid_credentials"
    );
    let found = t.passport.find_users(admin.token(), "bob").await.unwrap();
    assert_eq!(found[0].ban.as_ref().unwrap().reason.as_deref(), Some("spamming"));

    t.passport.unban(admin.token(), bob.account.id).await.unwrap();
    assert!(t.passport.sign_in("bob@example.com", &bob.password).await.is_ok());
    assert_eq!(code(t.passport.unban(admin.token(), bob.account.id).await), "not_found");

    // Permanent ban, and bad ban requests.
    let permanent = BanRequest { user_id: bob.account.id, reason: None, until: None };
    assert!(t.passport.ban(admin.token(), &permanent).await.unwrap().permanent);
    let refused = t.passport.sign_in("bob@example.com", &bob.password).await.unwrap_err();
    assert!(refused.detail().unwrap().ban.as_ref().unwrap().permanent);
    let past =
        BanRequest { until: Some(OffsetDateTime::now_utc() - time::Duration::hours(1)), ..permanent.clone() };
    assert_eq!(code(t.passport.ban(admin.token(), &past).await), "invalid_input");
    let me = BanRequest { user_id: admin.account.id, ..permanent };
    assert_eq!(code(t.passport.ban(admin.token(), &me).await), "invalid_input");
    let ghost = BanRequest { user_id: "u999".parse().unwrap(), reason: None, until: None };
    assert_eq!(code(t.passport.ban(admin.token(), &ghost).await), "not_found");
}

async fn a_temporary_ban_lapses_by_itself(engine: Engine) {
    let t = TestServer::start_on(engine).await;
    let admin = t.user("admin").await;
    let admin = t.make_admin(&admin).await;
    let bob = t.user("bob").await;
    let until = OffsetDateTime::now_utc() + time::Duration::seconds(2);
    let request = BanRequest { user_id: bob.account.id, reason: Some("cool off".into()), until: Some(until) };
    t.passport.ban(admin.token(), &request).await.unwrap();
    assert_eq!(code(t.passport.sign_in("bob@example.com", &bob.password).await), "banned");
    tokio::time::sleep(Duration::from_millis(3100)).await;
    assert!(t.passport.sign_in("bob@example.com", &bob.password).await.is_ok());
}

async fn deleting_an_account_removes_every_row_about_it(engine: Engine) {
    let t = TestServer::start_on(engine).await;
    let (alice, bob, carol) = (t.user("alice").await, t.user("bob").await, t.user("carol").await);
    t.befriend(&alice, &bob).await;
    t.passport.request_contact(alice.token(), "carol@example.com", None).await.unwrap();
    t.passport.block(carol.token(), alice.account.id).await.unwrap();
    t.passport.block(alice.token(), carol.account.id).await.unwrap();
    t.server.passport.file_alert(alice.account.id, "message", bob.account.id, "hi").await.unwrap();
    t.server.passport.file_alert(bob.account.id, "message", alice.account.id, "hello").await.unwrap();

    assert_eq!(
        code(t.passport.delete_account(alice.token(), "wrong-password-1").await),
        "invalid_credentials"
    );
    assert_eq!(t.passport.contacts(bob.token()).await.unwrap().len(), 1, "a wrong password deletes nothing");

    t.passport.delete_account(alice.token(), &alice.password).await.unwrap();
    assert_eq!(code(t.passport.sign_in("alice@example.com", &alice.password).await), "invalid_credentials");
    assert_eq!(code(t.passport.me(alice.token()).await), "invalid_token");
    assert!(t.passport.contacts(bob.token()).await.unwrap().is_empty());
    assert!(t.passport.poll_alerts(bob.token()).await.unwrap().is_empty(), "alerts Alice sent are gone too");
    assert!(t.passport.blocks(carol.token()).await.unwrap().is_empty());

    // Straight from the database: no row mentions user 1 anywhere.
    for query in [
        "SELECT COUNT(*) FROM users WHERE id = 1",
        "SELECT COUNT(*) FROM sign_ins WHERE user_id = 1",
        "SELECT COUNT(*) FROM refresh_tokens t LEFT JOIN sign_ins s ON s.id = t.sign_in_id WHERE s.id IS NULL OR s.user_id = 1",
        "SELECT COUNT(*) FROM contacts WHERE owner_id = 1 OR contact_id = 1",
        "SELECT COUNT(*) FROM blocks WHERE blocker_id = 1 OR blocked_id = 1",
        "SELECT COUNT(*) FROM contact_requests WHERE from_id = 1 OR to_id = 1",
        "SELECT COUNT(*) FROM activity_alerts WHERE recipient_id = 1 OR sender_id = 1",
        "SELECT COUNT(*) FROM bans WHERE user_id = 1",
    ] {
        assert_eq!(t.count_rows(query).await, 0, "{query}");
    }
    // The address is free again, with a new id (ids are never reused).
    let again = t.passport.register("alice@example.com", "Alice", &alice.password).await.unwrap();
    assert_eq!(again.id.to_string(), "u4");
}

async fn the_export_holds_every_category_and_no_secrets(engine: Engine) {
    let t = TestServer::start_on(engine).await;
    let (alice, bob, carol) = (t.user("alice").await, t.user("bob").await, t.user("carol").await);
    t.befriend(&alice, &bob).await;
    t.passport.set_alias(alice.token(), bob.account.id, Some("Bobby")).await.unwrap();
    t.passport.block(alice.token(), carol.account.id).await.unwrap();
    let dave = t.user("dave").await;
    t.passport.request_contact(dave.token(), "alice@example.com", None).await.unwrap();
    t.server.passport.file_alert(alice.account.id, "message", bob.account.id, "ping").await.unwrap();

    let export = t.passport.export(alice.token()).await.unwrap();
    assert_eq!(export.account.username, "alice@example.com");
    assert_eq!(export.contacts[0].alias.as_deref(), Some("Bobby"));
    assert_eq!(export.blocked_users[0].user.id, carol.account.id);
    assert_eq!(export.contact_requests.incoming[0].from.id, dave.account.id);
    assert_eq!(export.privacy.can_see_me[0].id, bob.account.id);
    assert_eq!(export.privacy.requesting_me[0].id, dave.account.id);
    assert_eq!(export.pending_activity_alerts[0].text, "ping");
    assert_eq!(export.refresh_tokens.len(), 1);
    assert!(export.refresh_tokens[0].revoked_at.is_none());
    assert_eq!(export.token_lifetimes.session_token_seconds, 900);
    assert!(export.moderation.is_none());

    let raw = serde_json::to_string(&export).unwrap();
    assert!(!raw.contains(&alice.tokens.refresh_token) && !raw.contains(&alice.password));
    assert_eq!(
        t.passport.poll_alerts(alice.token()).await.unwrap().len(),
        1,
        "exporting does not consume alerts"
    );
}

async fn status_updates_and_openapi(engine: Engine) {
    let t = TestServer::start_on(engine).await;
    let status = t.passport.status().await.unwrap();
    let passport = status.services.iter().find(|s| s.name == "passport").unwrap();
    assert_eq!(passport.state, mocha_client::api::ServiceState::Up);

    let manifest = t.dir.path().join("updates.json");
    std::fs::write(
        &manifest,
        r#"{"channels": {"stable": {"version": "1.2.0", "notes": "Nudges!", "download_url": "https://example.org/1.2.0"},
                         "beta": {"version": "1.3.0-beta.1", "notes": "Try it", "download_url": "https://example.org/b"}}}"#,
    )
    .unwrap();
    let check = t.passport.check_for_update("stable", "1.1.9").await.unwrap();
    assert!(check.update_available);
    assert_eq!(check.latest.unwrap().notes, "Nudges!");
    assert!(!t.passport.check_for_update("stable", "1.2.0").await.unwrap().update_available);
    assert!(t.passport.check_for_update("beta", "1.2.0").await.unwrap().update_available);
    assert!(
        !t.passport.check_for_update("dev", "0.1.0").await.unwrap().update_available,
        "no dev builds listed"
    );
    assert_eq!(code(t.passport.check_for_update("nightly", "1.0.0").await), "invalid_input");
    assert_eq!(code(t.passport.check_for_update("stable", "one").await), "invalid_input");

    let http = reqwest::Client::builder()
        .tls_backend_preconfigured((*t.trust.client_config().unwrap()).clone())
        .build()
        .unwrap();
    let document: serde_json::Value = http
        .get(format!("https://localhost:{}/api/v1/openapi.json", t.server.passport_addr.unwrap().port()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(document["openapi"].as_str().unwrap().starts_with("3."));
    let paths = document["paths"].as_object().unwrap();
    for (path, method) in [
        ("/api/v1/accounts", "post"),
        ("/api/v1/sessions", "post"),
        ("/api/v1/sessions/refresh", "post"),
        ("/api/v1/sessions/revoke", "post"),
        ("/api/v1/me", "get"),
        ("/api/v1/me", "patch"),
        ("/api/v1/me", "delete"),
        ("/api/v1/me/export", "get"),
        ("/api/v1/contacts", "get"),
        ("/api/v1/contacts/{user_id}/alias", "put"),
        ("/api/v1/contacts/{user_id}", "delete"),
        ("/api/v1/contact-requests", "get"),
        ("/api/v1/contact-requests", "post"),
        ("/api/v1/contact-requests/{id}/accept", "post"),
        ("/api/v1/contact-requests/{id}/decline", "post"),
        ("/api/v1/contact-requests/{id}", "delete"),
        ("/api/v1/blocks", "get"),
        ("/api/v1/blocks/{user_id}", "put"),
        ("/api/v1/blocks/{user_id}", "delete"),
        ("/api/v1/privacy", "get"),
        ("/api/v1/privacy", "put"),
        ("/api/v1/alerts", "get"),
        ("/api/v1/admin/bans", "post"),
        ("/api/v1/admin/bans/{user_id}", "delete"),
        ("/api/v1/admin/admins/{user_id}", "put"),
        ("/api/v1/admin/admins/{user_id}", "delete"),
        ("/api/v1/status", "get"),
        ("/api/v1/updates", "get"),
    ] {
        assert!(paths.get(path).and_then(|p| p.get(method)).is_some(), "{method} {path} is documented");
    }
}

async fn the_admin_grant_command_works_on_the_data_folder(engine: Engine) {
    let t = TestServer::start_on(engine).await;
    let alice = t.user("alice").await;
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_mocha-server"))
            .arg("--data-dir")
            .arg(t.dir.path())
            .envs(t.database_env())
            .args(args)
            .output()
            .unwrap()
    };
    let granted = run(&["admin", "grant", "alice@example.com"]);
    assert!(granted.status.success(), "{}", String::from_utf8_lossy(&granted.stderr));
    assert!(String::from_utf8_lossy(&granted.stdout).contains("is now an administrator"));
    assert!(t.passport.me(alice.token()).await.unwrap().is_admin);

    let missing = run(&["admin", "grant", "nobody@example.com"]);
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("nobody@example.com"));
}
