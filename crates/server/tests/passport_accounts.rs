//! Passport accounts, sessions and tokens, through real HTTPS against a real server.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

mod common;

use std::time::Duration;

use common::{Engine, TestServer};
use mocha_client::ClientError;

mocha_passport::engine_tests!(
    registration_validates_and_never_keeps_the_password,
    malformed_and_oversize_requests_get_clear_errors,
    sign_in_wrong_password_and_session_tokens,
    expired_session_tokens_are_refused_and_refresh_gives_new_ones,
    reusing_a_rotated_refresh_token_revokes_the_whole_sign_in,
    sign_out_and_revoking_sign_ins,
    changing_the_password_signs_out_other_sign_ins,
    sign_in_is_rate_limited_per_account_and_per_address,
    signing_keys_and_accounts_survive_a_restart,
);

fn code(result: Result<impl std::fmt::Debug, ClientError>) -> String {
    result.expect_err("the server should refuse").code().unwrap_or("no-code").to_string()
}

async fn registration_validates_and_never_keeps_the_password(engine: Engine) {
    let t = TestServer::start_on(engine).await;
    let alice = t.passport.register("Alice@Example.com", "Alice", "correct-horse-9").await.unwrap();
    assert_eq!(alice.id.to_string(), "u1");
    assert_eq!(alice.display_name, "Alice");
    assert!(!alice.is_admin);

    // The sign-in address is unique whatever its case.
    assert_eq!(
        code(t.passport.register("alice@example.COM", "Other", "correct-horse-9").await),
        "username_taken"
    );
    for (username, display, password, field) in [
        ("not-an-address", "Bob", "correct-horse-9", "username"),
        ("bob@example.com", "", "correct-horse-9", "display_name"),
        ("bob@example.com", &"x".repeat(65), "correct-horse-9", "display_name"),
        ("bob@example.com", "Bob", "short1", "password"),
        ("bob@example.com", "Bob", "onlyletters", "password"),
    ] {
        let error = t.passport.register(username, display, password).await.unwrap_err();
        assert_eq!(error.code(), Some("invalid_input"), "{username} {display} {password}");
        assert_eq!(error.detail().unwrap().field.as_deref(), Some(field));
    }
    // Nothing was created by the refused attempts.
    assert_eq!(code(t.passport.sign_in("bob@example.com", "correct-horse-9").await), "invalid_credentials");
    let second = t.passport.register("bob@example.com", "Bob", "correct-horse-9").await.unwrap();
    assert_eq!(second.id.to_string(), "u2");

    for bytes in t.stored_bytes() {
        assert!(!bytes.is_empty(), "the database holds something");
        assert!(!bytes.windows(15).any(|w| w == b"correct-horse-9"), "the password must not be stored");
    }
}

async fn malformed_and_oversize_requests_get_clear_errors(engine: Engine) {
    let t = TestServer::start_on(engine).await;
    let http = reqwest_client(&t);
    let url = format!("https://localhost:{}/api/v1/accounts", t.server.passport_addr.unwrap().port());
    for (body, expected) in [
        ("{\"username\":", "invalid_json"),
        ("[1,2,3]", "invalid_json"),
        ("{\"username\":\"a@b.c\"}", "invalid_json"),
    ] {
        let response =
            http.post(&url).header("content-type", "application/json").body(body).send().await.unwrap();
        assert_eq!(response.status(), 400, "{body}");
        let error: serde_json::Value = response.json().await.unwrap();
        assert_eq!(error["error"]["code"], expected, "{body}");
        assert!(!error["error"]["message"].as_str().unwrap().is_empty());
    }
    let huge = format!(
        "{{\"username\":\"a@b.c\",\"display_name\":\"{}\",\"password\":\"x1x1x1x1x1\"}}",
        "A".repeat(100_000)
    );
    let response =
        http.post(&url).header("content-type", "application/json").body(huge).send().await.unwrap();
    assert_eq!(response.status(), 413);
    let error: serde_json::Value = response.json().await.unwrap();
    assert_eq!(error["error"]["code"], "payload_too_large");

    let response = http
        .get(format!("https://localhost:{}/api/v1/nope", t.server.passport_addr.unwrap().port()))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    let response = http
        .put(format!("https://localhost:{}/api/v1/blocks/x9", t.server.passport_addr.unwrap().port()))
        .bearer_auth(t.user("alice").await.token())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400, "a malformed user id is a bad request");
}

fn reqwest_client(t: &TestServer) -> reqwest::Client {
    reqwest::Client::builder()
        .tls_backend_preconfigured((*t.trust.client_config().unwrap()).clone())
        .build()
        .unwrap()
}

async fn sign_in_wrong_password_and_session_tokens(engine: Engine) {
    let t = TestServer::start_on(engine).await;
    let alice = t.user("alice").await;
    assert_eq!(
        code(t.passport.sign_in("alice@example.com", "wrong-password-1").await),
        "invalid_credentials"
    );
    assert_eq!(
        code(t.passport.sign_in("nobody@example.com", "wrong-password-1").await),
        "invalid_credentials"
    );

    let me = t.passport.me(alice.token()).await.unwrap();
    assert_eq!(me.username, "alice@example.com");
    assert!(alice.tokens.session_expires_at < alice.tokens.refresh_expires_at);

    // A token with one character changed, a token of another kind, no token at all.
    let token = alice.token();
    let mut tampered = token.to_string();
    let middle = tampered.len() / 2;
    let replacement = if &tampered[middle..middle + 1] == "A" { "B" } else { "A" };
    tampered.replace_range(middle..middle + 1, replacement);
    assert_eq!(code(t.passport.me(&tampered).await), "invalid_token");
    assert_eq!(code(t.passport.me("mst1.e30.AAAA").await), "invalid_token");
    assert_eq!(code(t.passport.me("").await), "invalid_token");

    let renamed = t.passport.set_display_name(alice.token(), "  Alice in Wonderland ").await.unwrap();
    assert_eq!(renamed.display_name, "Alice in Wonderland");
    assert_eq!(code(t.passport.set_display_name(alice.token(), "\u{7}").await), "invalid_input");
    assert_eq!(t.passport.me(alice.token()).await.unwrap().display_name, "Alice in Wonderland");
}

async fn expired_session_tokens_are_refused_and_refresh_gives_new_ones(engine: Engine) {
    let t = TestServer::start_on_with(engine, |c| c.session_token_seconds = 1).await;
    let alice = t.user("alice").await;
    tokio::time::sleep(Duration::from_millis(2100)).await;
    assert_eq!(code(t.passport.me(alice.token()).await), "token_expired");
    let fresh = t.passport.refresh(&alice.tokens.refresh_token).await.unwrap();
    assert_ne!(fresh.refresh_token, alice.tokens.refresh_token, "refresh rotates the refresh token");
    assert_eq!(t.passport.me(&fresh.session_token).await.unwrap().id, alice.account.id);
}

async fn reusing_a_rotated_refresh_token_revokes_the_whole_sign_in(engine: Engine) {
    let t = TestServer::start_on(engine).await;
    let alice = t.user("alice").await;
    let second = t.passport.refresh(&alice.tokens.refresh_token).await.unwrap();
    let third = t.passport.refresh(&second.refresh_token).await.unwrap();

    // An attacker replays the first refresh token.
    assert_eq!(code(t.passport.refresh(&alice.tokens.refresh_token).await), "refresh_token_reused");
    // Everything in that sign-in is now dead: the newest refresh token and the session tokens.
    assert_eq!(code(t.passport.refresh(&third.refresh_token).await), "sign_in_revoked");
    assert_eq!(code(t.passport.me(&third.session_token).await), "sign_in_revoked");
    assert_eq!(code(t.passport.refresh("made-up-token").await), "invalid_refresh_token");

    // Other sign-ins of the same account are untouched.
    let other = t.passport.sign_in("alice@example.com", &alice.password).await.unwrap();
    assert!(t.passport.me(&other.session_token).await.is_ok());
}

async fn sign_out_and_revoking_sign_ins(engine: Engine) {
    let t = TestServer::start_on(engine).await;
    let alice = t.user("alice").await;
    let laptop = t.passport.sign_in("alice@example.com", &alice.password).await.unwrap();

    let sign_ins = t.passport.sign_ins(alice.token()).await.unwrap();
    assert_eq!(sign_ins.len(), 2);
    assert_eq!(sign_ins.iter().filter(|s| s.current).count(), 1);
    let laptop_id = sign_ins.iter().find(|s| !s.current).unwrap().id.clone();

    t.passport.revoke_sign_in(alice.token(), &laptop_id).await.unwrap();
    assert_eq!(code(t.passport.me(&laptop.session_token).await), "sign_in_revoked");
    assert_eq!(code(t.passport.refresh(&laptop.refresh_token).await), "sign_in_revoked");
    assert_eq!(t.passport.sign_ins(alice.token()).await.unwrap().len(), 1);

    // Someone else's sign-in id is not found, not revoked.
    let bob = t.user("bob").await;
    assert_eq!(code(t.passport.revoke_sign_in(bob.token(), &sign_ins[0].id).await), "not_found");

    t.passport.sign_out(&alice.tokens.refresh_token).await.unwrap();
    assert_eq!(code(t.passport.me(alice.token()).await), "sign_in_revoked");
    assert_eq!(code(t.passport.refresh(&alice.tokens.refresh_token).await), "sign_in_revoked");
}

async fn changing_the_password_signs_out_other_sign_ins(engine: Engine) {
    let t = TestServer::start_on(engine).await;
    let alice = t.user("alice").await;
    let phone = t.passport.sign_in("alice@example.com", &alice.password).await.unwrap();
    assert_eq!(
        code(t.passport.change_password(alice.token(), "wrong-old-1", "new-Secret-456").await),
        "invalid_credentials"
    );
    assert_eq!(
        code(t.passport.change_password(alice.token(), &alice.password, "weak").await),
        "invalid_input"
    );
    t.passport.change_password(alice.token(), &alice.password, "new-Secret-456").await.unwrap();
    assert!(t.passport.me(alice.token()).await.is_ok(), "the sign-in that changed it stays");
    assert_eq!(code(t.passport.me(&phone.session_token).await), "sign_in_revoked");
    assert_eq!(code(t.passport.sign_in("alice@example.com", &alice.password).await), "invalid_credentials");
    assert!(t.passport.sign_in("alice@example.com", "new-Secret-456").await.is_ok());
}

async fn sign_in_is_rate_limited_per_account_and_per_address(engine: Engine) {
    let t = TestServer::start_on_with(engine, |c| {
        c.sign_in_attempts_per_account = 3;
        c.sign_in_attempts_per_address = 5;
    })
    .await;
    let alice = t.user("alice").await; // one attempt on alice, one on the address
    for _ in 0..2 {
        assert_eq!(
            code(t.passport.sign_in("alice@example.com", "wrong-password-1").await),
            "invalid_credentials"
        );
    }
    let limited = t.passport.sign_in("alice@example.com", &alice.password).await.unwrap_err();
    assert_eq!(limited.status(), Some(429));
    assert_eq!(limited.code(), Some("rate_limited"));
    let retry = limited.detail().unwrap().retry_after_seconds.unwrap();
    assert!((1..=300).contains(&retry), "retry after {retry}s");

    // Another account from the same address still has attempts left, until the address limit.
    t.passport.register("bob@example.com", "Bob", "bob-Secret-123").await.unwrap();
    assert!(t.passport.sign_in("bob@example.com", "bob-Secret-123").await.is_ok());
    assert_eq!(code(t.passport.sign_in("bob@example.com", "bob-Secret-123").await), "rate_limited");
}

async fn signing_keys_and_accounts_survive_a_restart(engine: Engine) {
    let t = TestServer::start_on(engine).await;
    let alice = t.user("alice").await;
    let (dir, config) = t.stop().await;
    let t = TestServer::start_in(dir, config).await;
    assert_eq!(t.passport.me(alice.token()).await.unwrap().id, alice.account.id);
    assert!(t.passport.sign_in("alice@example.com", &alice.password).await.is_ok());
    assert!(t.passport.refresh(&alice.tokens.refresh_token).await.is_ok());
}
