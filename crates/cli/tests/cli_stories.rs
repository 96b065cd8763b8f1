//! The `mocha` binary against a real server: a person does everything from the
//! terminal — register, contacts, chat, files, alerts, presence, privacy, blocks —
//! an administrator bans, an account is deleted, and errors are clear.

mod support;

use support::{Server, mode_of};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn register_contacts_chat_files_alerts_and_presence() {
    let s = Server::start().await;
    let (alice, bob) = (s.person("alice"), s.person("bob"));
    let registered = alice.json(&["register", &alice.username]).await;
    assert_eq!(registered["display_name"], "Alice");
    bob.ok(&["register", &bob.username, "--display-name", "Bob B."]).await;
    let signed_in = alice.json(&["sign-in", &alice.username]).await;
    assert_eq!(signed_in["username"], "alice@example.com");
    bob.ok(&["sign-in", &bob.username]).await;

    // The sign-in is remembered, owner-only, and never holds the password.
    assert_eq!(mode_of(&alice.profile()), 0o600);
    let profile = std::fs::read_to_string(alice.profile()).unwrap();
    assert!(profile.contains("refresh_token") && !profile.contains(&alice.password), "{profile}");

    // Contacts: ask, see the request, accept, list.
    let asked = alice.json(&["contacts", "request", "bob@example.com", "--message", "hi Bob"]).await;
    assert_eq!(asked["outcome"], "pending");
    let list = bob.json(&["contacts"]).await;
    assert_eq!(list["requests"]["incoming"][0]["from"]["username"], "alice@example.com");
    assert_eq!(list["requests"]["incoming"][0]["message"], "hi Bob");
    bob.ok(&["contacts", "accept", "alice@example.com"]).await;
    let list = alice.json(&["contacts"]).await;
    assert_eq!(list["contacts"][0]["user"]["username"], "bob@example.com");
    alice.ok(&["contacts", "alias", "bob@example.com", "Bobby"]).await;
    assert_eq!(alice.json(&["contacts"]).await["contacts"][0]["alias"], "Bobby");

    // Bob listens; Alice's message (sent to the alias) and her presence reach him.
    let mut listen = bob.spawn(&["listen"]);
    listen.expect_event("connected").await;
    let sent = alice.json(&["send", "Bobby", "hello from the terminal"]).await;
    assert_eq!(sent["delivered"], true);
    let text = listen.expect_event("text").await;
    assert_eq!(
        (text["text"].as_str(), text["display_name"].as_str()),
        (Some("hello from the terminal"), Some("Alice"))
    );
    alice.ok(&["message", "on the terminal"]).await;
    let message = listen.expect_event("personal_message").await;
    assert_eq!(message["message"], "on the terminal");
    listen.stop().await;

    // Files: Bob receives one into a folder; the hash is checked on arrival.
    let inbox = tempfile::tempdir().unwrap();
    let outbox = tempfile::tempdir().unwrap();
    let data: Vec<u8> = (0..300_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 11) as u8).collect();
    let source = outbox.path().join("report.pdf");
    std::fs::write(&source, &data).unwrap();
    let mut receiving =
        bob.spawn(&["receive-files", "--into", inbox.path().to_str().unwrap(), "--count", "1"]);
    receiving.expect_event("ready").await;
    let sent = alice.json(&["send-file", "bob@example.com", source.to_str().unwrap()]).await;
    assert_eq!(sent["size"], data.len());
    let completed = receiving.expect_event("transfer_completed").await;
    assert_eq!(completed["sha256"], sent["sha256"]);
    assert!(receiving.finished().await, "receive-files --count 1 ends by itself");
    assert_eq!(std::fs::read(inbox.path().join("report.pdf")).unwrap(), data);

    // Bob is offline now: Alice's next message waits for him as an alert.
    let sent = alice.json(&["send", "bob@example.com", "call me later"]).await;
    assert_eq!(sent["delivered"], false);
    let alerts = bob.json(&["alerts"]).await;
    assert_eq!(alerts[0]["text"], "call me later");
    assert_eq!(alerts[0]["sender"]["username"], "alice@example.com");
    assert_eq!(bob.json(&["alerts"]).await, serde_json::json!([]), "reading deletes them");

    // Status is remembered for later sessions; privacy can be changed.
    assert_eq!(alice.json(&["status", "BSY"]).await["status"], "BSY");
    assert!(std::fs::read_to_string(alice.profile()).unwrap().contains("\"BSY\""));
    alice.fails(&["status", "FLN"]).await;
    assert_eq!(bob.json(&["privacy", "--requests", "nobody"]).await["contact_requests"], "nobody");

    // Bob blocks Alice: she no longer reaches him, even while he listens.
    bob.ok(&["contacts", "block", "alice@example.com"]).await;
    assert_eq!(bob.json(&["contacts"]).await["blocks"][0]["user"]["username"], "alice@example.com");
    let mut listen = bob.spawn(&["listen"]);
    listen.expect_event("connected").await;
    assert_eq!(alice.json(&["send", "bob@example.com", "still there?"]).await["delivered"], false);
    listen.stop().await;

    let export = alice.ok(&["export"]).await;
    let export: serde_json::Value = serde_json::from_str(&export.stdout).unwrap();
    assert_eq!(export["account"]["username"], "alice@example.com");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bans_sign_out_deletion_and_clear_errors() {
    let s = Server::start().await;
    let (alice, bob, carol) = (s.person("alice"), s.person("bob"), s.person("carol"));
    for person in [&alice, &bob, &carol] {
        person.register_and_sign_in().await;
    }

    // Not an administrator yet: refused, with the API's code under --json.
    let refused = carol.fails(&["ban", "bob@example.com", "--json"]).await;
    assert!(refused.stderr.contains("admin"), "{}", refused.stderr);
    s.running.passport.set_admin_by_username(&carol.username, true).await.unwrap();

    let mut listen = bob.spawn(&["listen"]);
    listen.expect_event("connected").await;
    let banned =
        carol.json(&["ban", "bob@example.com", "--reason", "spam", "--until", "2099-01-01T00:00:00Z"]).await;
    assert_eq!(banned["ban"]["reason"], "spam");
    let out = listen.expect_event("signed_out").await;
    assert_eq!(out["reason"], "banned");
    assert!(out["message"].as_str().unwrap().contains("spam"), "{out}");
    assert!(!listen.finished().await, "listen exits non-zero after a ban");
    let refused = bob.fails(&["alerts", "--json"]).await;
    assert!(refused.stderr.contains("banned"), "{}", refused.stderr);
    assert!(refused.stdout.contains("\"error\""), "{}", refused.stdout);

    carol.ok(&["unban", "bob@example.com"]).await;
    bob.ok(&["sign-in", &bob.username]).await;
    bob.ok(&["alerts"]).await;
    carol.ok(&["notice", "maintenance at noon"]).await;

    // Signing out revokes the sign-in, not just the file.
    let kept = std::fs::read(alice.profile()).unwrap();
    alice.ok(&["sign-out"]).await;
    assert!(!alice.profile().exists());
    alice.fails(&["alerts"]).await;
    std::fs::write(alice.profile(), kept).unwrap();
    let revoked = alice.fails(&["alerts"]).await;
    assert!(revoked.stderr.contains("sign-in"), "{}", revoked.stderr);

    // A wrong password is a clear error; deletion ends the account.
    alice.ok(&["sign-in", &alice.username]).await;
    let mut impostor = s.person("alice");
    impostor.password = "not-the-password-1".into();
    let refused = impostor.fails(&["sign-in", "alice@example.com", "--json"]).await;
    assert_eq!(refused.json()["error"]["code"], "invalid_credentials");
    alice.ok(&["delete-account"]).await;
    assert!(!alice.profile().exists());
    bob.fails(&["contacts", "request", "alice@example.com"]).await;
    let gone = impostor.run(&["sign-in", "alice@example.com"]).await;
    assert!(!gone.success);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interactive_chat_sends_what_is_typed_and_ends_with_ctrl_d() {
    use tokio::io::AsyncWriteExt;

    let s = Server::start().await;
    let (alice, bob) = (s.person("alice"), s.person("bob"));
    alice.register_and_sign_in().await;
    bob.register_and_sign_in().await;
    alice.ok(&["contacts", "request", "bob@example.com"]).await;
    bob.ok(&["contacts", "accept", "alice@example.com"]).await;

    let mut listen = bob.spawn(&["listen"]);
    listen.expect_event("connected").await;
    // Typed lines wait in the terminal until Bob has joined.
    let (chat, mut keyboard) = alice.spawn_typing(&["chat", "bob@example.com"]);

    keyboard.write_all(b"hello from a terminal chat\n").await.unwrap();
    let text = listen.expect_event("text").await;
    assert_eq!(text["text"], "hello from a terminal chat");
    keyboard.write_all(b"/nudge\n").await.unwrap();
    listen.expect_event("nudge").await;

    // Ctrl-D: the chat leaves the conversation and ends cleanly.
    drop(keyboard);
    assert!(chat.finished().await, "the chat ends with success");
    listen.expect_event("left").await;
    listen.stop().await;
}
