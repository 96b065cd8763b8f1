//! The real app, driven through its widgets with `egui_kittest` (no display needed),
//! against a real server: sign in, presence, status and personal message, a
//! conversation with text, typing and files both ways, options saved to
//! `client-options.json`, a corrupt settings file, and a remembered sign-in.

mod common;

use common::*;
use eframe::egui::Role;
use egui_kittest::kittest::{NodeT, Queryable};
use mocha_client::api::PresenceStatus;
use mocha_client::{ConversationEvent, Event, TransferEvent};
use mocha_messenger::model::Cue;
use mocha_messenger::platform::SecretStore;
use mocha_messenger::settings::OptionsFile;
use mocha_messenger::sounds::Sound;

fn sign_in(h: &mut App, address: &str, password: &str) {
    fill(h, "Sign-in address:", address);
    fill(h, "Password:", password);
    click(h, "Sign in");
}

#[test]
fn sign_in_presence_chat_files_and_options() {
    let t = TestServer::start();
    let (alice, bob) = (t.user("alice"), t.user("bob"));
    t.befriend(&alice, &bob);
    let config = tempfile::tempdir().unwrap();
    let received = tempfile::tempdir().unwrap();
    OptionsFile::new(config.path()).save(&options_for(&t, received.path())).unwrap();

    // The app's own file picker opens in `outbox` (the tests have no desktop portal).
    let outbox = tempfile::tempdir().unwrap();
    let places = vec![("Outbox".to_string(), outbox.path().to_path_buf())];
    let (mut h, cues) = app_with_places(config.path(), SecretStore::memory(), places);
    sign_in(&mut h, "alice@example.com", &alice.password);
    wait_for_label(&mut h, "Bob (Offline)");

    // Bob signs in: Alice's list shows him online, with a sound and a pop-up.
    let (bob_client, mut bob_events) = t.connect(&bob);
    wait_for_label(&mut h, "Bob (Online)");
    assert!(cued(&cues, |c| *c == Cue::Sound(Sound::ContactSignedIn)));
    assert!(cued(&cues, |c| matches!(c, Cue::Toast { body, .. } if body == "Bob has just signed in.")));

    // Status and personal message reach Bob.
    click(&mut h, "Status:");
    click(&mut h, "Busy");
    t.expect(&mut bob_events, |e| match e {
        Event::Presence { user, presence: Some(p) } if *user == alice.account.id => {
            (p.status == PresenceStatus::Busy).then_some(())
        }
        _ => None,
    });
    fill(&mut h, "Personal message:", "at the beach");
    click(&mut h, "Set");
    t.expect(&mut bob_events, |e| match e {
        Event::PersonalMessage { user, message } if *user == alice.account.id => {
            (message == "at the beach").then_some(())
        }
        _ => None,
    });

    // A conversation from the contact's menu; Bob answers the ring.
    h.get_by_label_contains("Bob (Online)").click_secondary();
    h.run_steps(3);
    click(&mut h, "Send an instant message");
    let ring = t.expect(&mut bob_events, |e| match e {
        Event::Ring(ring) => Some(ring.clone()),
        _ => None,
    });
    let bob_chat = t.runtime.block_on(bob_client.answer(&ring)).expect("Bob answers");
    wait_for_label(&mut h, "To: Bob");

    // Alice writes; Bob reads it with her font.
    fill(&mut h, "Message:", "hello Bob :)");
    click(&mut h, "Send");
    let text = t.expect(&mut bob_events, |e| match e {
        Event::Conversation { event: ConversationEvent::Text { text, .. }, .. } => Some(text.clone()),
        _ => None,
    });
    assert_eq!(text, "hello Bob :)");

    // Bob types, then answers: Alice sees both, his "(Y)" as a thumbs-up picture.
    t.runtime.block_on(bob_chat.send_typing()).unwrap();
    wait_for_label(&mut h, "Bob is typing…");
    t.runtime.block_on(bob_chat.send_text("hi Alice (Y)")).unwrap();
    wait_for_label(&mut h, "hi Alice");
    let thumbs =
        h.query_all_by_label("thumbs up emoticon").filter(|n| n.accesskit_node().role() == Role::Image);
    assert_eq!(thumbs.count(), 1, "Bob's (Y) is one picture");
    assert!(h.query_by_label_contains("(Y)").is_none(), "the code is not shown as text");
    // Her own ":)" is a picture too.
    assert_eq!(h.query_all_by_label("smile emoticon").count(), 1);
    assert!(cued(&cues, |c| *c == Cue::Sound(Sound::Message)));
    assert!(cued(&cues, |c| matches!(c, Cue::Toast { title, body, .. }
        if title == "Bob says:" && body == "hi Alice (Y)")));

    // Bob nudges: a note, and the nudge sound.
    t.runtime.block_on(bob_chat.send_nudge()).unwrap();
    wait_for_label(&mut h, "Bob has just sent you a nudge.");
    assert!(cued(&cues, |c| *c == Cue::Sound(Sound::Nudge)));

    // The Emoticons menu types a code into the message; it goes out as text, and shows
    // as a picture in Alice's own history (next to Bob's).
    click(&mut h, "Emoticons");
    click(&mut h, "Insert heart");
    click(&mut h, "Send");
    let text = t.expect(&mut bob_events, |e| match e {
        Event::Conversation { event: ConversationEvent::Text { text, .. }, .. } => Some(text.clone()),
        _ => None,
    });
    assert_eq!(text, "(L)");
    wait_until(&mut h, "Alice's heart shown", |h| h.query_all_by_label("heart emoticon").count() == 1);

    // Alice sends a small file through the picker: it opens in the outbox, a folder
    // opens and Up comes back, the file is chosen and sent; Bob accepts it and it
    // arrives whole.
    std::fs::write(outbox.path().join("notes.txt"), "coffee at 10").unwrap();
    std::fs::create_dir(outbox.path().join("drafts")).unwrap();
    std::fs::write(outbox.path().join("drafts").join("draft.txt"), "not this one").unwrap();
    click(&mut h, "Send a file…");
    wait_for_label(&mut h, "Send a file to Bob");
    wait_for_label(&mut h, "notes.txt");
    click(&mut h, "drafts");
    wait_for_label(&mut h, "draft.txt");
    assert!(h.query_by_label("notes.txt").is_none(), "inside drafts now");
    click(&mut h, "Up");
    wait_for_label(&mut h, "notes.txt");
    click(&mut h, "Send file");
    wait_for_label(&mut h, "Choose a file to send.");
    click(&mut h, "notes.txt");
    click(&mut h, "Send file");
    wait_until(&mut h, "the picker closed", |h| h.query_by_label_contains("Send a file to Bob").is_none());
    let offer = t.expect(&mut bob_events, |e| match e {
        Event::Conversation { event: ConversationEvent::FileOffered { offer, .. }, .. } => {
            Some(offer.clone())
        }
        _ => None,
    });
    let bob_folder = tempfile::tempdir().unwrap();
    t.runtime.block_on(bob_chat.accept_file(&offer.transfer_id, bob_folder.path())).unwrap();
    let path = t.expect(&mut bob_events, |e| match e {
        Event::Conversation {
            event: ConversationEvent::Transfer(TransferEvent::Completed { path, .. }),
            ..
        } => path.clone(),
        _ => None,
    });
    assert_eq!(std::fs::read_to_string(path).unwrap(), "coffee at 10");
    wait_for_label(&mut h, "The transfer of notes.txt is complete.");

    // Bob sends one back; Alice accepts it into her receive folder.
    let reply = outbox.path().join("menu.txt");
    std::fs::write(&reply, "espresso, latte").unwrap();
    t.runtime.block_on(bob_chat.send_file(&reply, None)).unwrap();
    wait_for_label(&mut h, "Accept menu.txt");
    click(&mut h, "Accept menu.txt");
    wait_for_label(&mut h, "The transfer of menu.txt is complete.");
    assert_eq!(std::fs::read_to_string(received.path().join("menu.txt")).unwrap(), "espresso, latte");

    // Options: set a few, press OK, find them in client-options.json.
    click(&mut h, "Tools");
    click(&mut h, "Options…");
    fill(&mut h, "Country/region:", "Portugal");
    fill(&mut h, "Phone number:", "+351 555 0100");
    click(&mut h, "Audio & video");
    click(&mut h, "Microphone:");
    click(&mut h, "USB Mic");
    click(&mut h, "Camera:");
    click(&mut h, "Integrated Camera");
    click(&mut h, "Acoustic echo cancellation");
    click(&mut h, "OK");
    let dir = config.path().to_path_buf();
    wait_until(&mut h, "the options saved", |_| {
        saved_options(&dir).pointer("/personal/country_region").and_then(|v| v.as_str()) == Some("Portugal")
    });
    let saved = saved_options(config.path());
    assert_eq!(saved["personal"]["phone_number"], "+351 555 0100");
    assert_eq!(saved["audio_video"]["microphone"], "USB Mic");
    assert_eq!(saved["audio_video"]["camera"], "Integrated Camera");
    assert_eq!(saved["audio_video"]["speakers"], "", "untouched: the system default");
    assert_eq!(saved["audio_video"]["acoustic_echo_cancellation"], false);
    assert_eq!(saved["profile"]["personal_message"], "at the beach");
    assert_eq!(saved["sign_in"]["recent_addresses"][0], "alice@example.com");
    assert_eq!(saved["sign_in"]["initial_status"], "online");
    assert!(!saved.to_string().contains(&alice.password), "the password is never written");
}

#[test]
fn a_wrong_password_is_explained() {
    let t = TestServer::start();
    t.user("alice");
    let config = tempfile::tempdir().unwrap();
    OptionsFile::new(config.path()).save(&options_for(&t, config.path())).unwrap();
    let mut h = app(config.path(), SecretStore::memory());
    sign_in(&mut h, "alice@example.com", "not-her-password");
    wait_for_label(&mut h, "password is not right");
}

#[test]
fn an_untrusted_certificate_is_explained() {
    let t = TestServer::start();
    t.user("alice");
    let config = tempfile::tempdir().unwrap();
    let mut options = options_for(&t, config.path());
    options.sign_in.ca_certificate = None;
    OptionsFile::new(config.path()).save(&options).unwrap();
    let mut h = app(config.path(), SecretStore::memory());
    sign_in(&mut h, "alice@example.com", "whatever-password");
    wait_for_label(&mut h, "does not trust");
}

#[test]
fn a_corrupt_settings_file_is_moved_aside_with_a_notice() {
    let config = tempfile::tempdir().unwrap();
    std::fs::write(config.path().join("client-options.json"), "{\"sign_in\": [oops").unwrap();
    let mut h = app(config.path(), SecretStore::memory());
    h.step();
    assert!(h.query_by_label_contains("settings file was damaged").is_some());
    let names: Vec<String> = std::fs::read_dir(config.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert!(names.iter().any(|n| n.starts_with("client-options.json.corrupt-")), "{names:?}");
    // The app still works: the sign-in window is there.
    assert!(h.query_by_label("Sign in").is_some());
}

#[test]
fn remembered_sign_in_keeps_a_token_not_the_password_and_signs_in_automatically() {
    let t = TestServer::start();
    let alice = t.user("alice");
    let config = tempfile::tempdir().unwrap();
    OptionsFile::new(config.path()).save(&options_for(&t, config.path())).unwrap();
    let store = SecretStore::memory();

    let mut h = app(config.path(), store.clone());
    // The options stay disabled until the backend has probed the secret store.
    wait_until(&mut h, "remembering offered", |h| {
        !h.get_by_label("Remember my password").accesskit_node().is_disabled()
    });
    click(&mut h, "Remember my password");
    click(&mut h, "Sign me in automatically");
    sign_in(&mut h, "alice@example.com", &alice.password);
    wait_for_label(&mut h, "alice@example.com");
    let key = SecretStore::key(&t.url(), "alice@example.com");
    let mut remembered = None;
    wait_until(&mut h, "the sign-in remembered", |_| {
        remembered = store.load(&key).unwrap();
        remembered.is_some()
    });
    assert_ne!(remembered.as_deref(), Some(alice.password.as_str()), "a token, never the password");
    click(&mut h, "File");
    click(&mut h, "Sign out");
    wait_for_label(&mut h, "Sign-in address:");
    drop(h);

    // A new start signs in by itself with the remembered sign-in.
    let mut h = app(config.path(), store.clone());
    wait_for_label(&mut h, "Status:");
    assert!(h.query_by_label_contains("alice@example.com").is_some());
}

#[test]
fn without_a_secret_store_remembering_is_unavailable_with_the_reason() {
    let config = tempfile::tempdir().unwrap();
    let mut h = app(config.path(), SecretStore::Unavailable("no Secret Service is running".into()));
    wait_for_label(&mut h, "Remembered sign-in is unavailable: no Secret Service is running");
}

#[test]
fn service_status_shows_each_service_of_the_server() {
    let t = TestServer::start();
    let config = tempfile::tempdir().unwrap();
    OptionsFile::new(config.path()).save(&options_for(&t, config.path())).unwrap();
    let mut h = app(config.path(), SecretStore::memory());
    click(&mut h, "Help");
    click(&mut h, "Service status");
    wait_for_label(&mut h, "Notification Server: up");
    assert!(h.query_by_label_contains("Mocha Passport: up").is_some());
    assert!(h.query_by_label_contains("Switchboard: up").is_some());
}

#[test]
fn service_status_explains_an_unreachable_server() {
    let config = tempfile::tempdir().unwrap();
    let mut options = mocha_messenger::settings::ClientOptions::default();
    // A port nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    options.sign_in.server = format!("https://127.0.0.1:{port}");
    OptionsFile::new(config.path()).save(&options).unwrap();
    let mut h = app(config.path(), SecretStore::memory());
    click(&mut h, "Help");
    click(&mut h, "Service status");
    wait_for_label(&mut h, "did not answer");
}

#[test]
fn contacts_are_added_accepted_renamed_blocked_and_removed_through_the_window() {
    let t = TestServer::start();
    let (alice, carol, dave) = (t.user("alice"), t.user("carol"), t.user("dave"));
    let config = tempfile::tempdir().unwrap();
    OptionsFile::new(config.path()).save(&options_for(&t, config.path())).unwrap();
    let mut h = app(config.path(), SecretStore::memory());
    sign_in(&mut h, "alice@example.com", &alice.password);
    wait_for_label(&mut h, "No contacts yet");

    // Alice asks Carol from Contacts › Add a contact…; Carol accepts.
    click(&mut h, "Contacts");
    click(&mut h, "Add a contact…");
    fill(&mut h, "Their sign-in address:", "carol@example.com");
    click(&mut h, "Send request");
    wait_for_label(&mut h, "Waiting for carol@example.com to accept");
    t.runtime.block_on(async {
        let token = &carol.tokens.session_token;
        let requests = t.passport.contact_requests(token).await.unwrap();
        t.passport.accept_request(token, requests.incoming[0].id).await.unwrap();
    });
    wait_for_label(&mut h, "Carol (Offline)");

    // Rename: the alias replaces the name in the list, and Passport keeps it.
    h.get_by_label_contains("Carol (Offline)").click_secondary();
    h.run_steps(3);
    click(&mut h, "Rename…");
    fill(&mut h, "Name to show:", "Caz");
    click(&mut h, "Save");
    wait_for_label(&mut h, "Caz (Offline)");
    let contacts = t.runtime.block_on(t.passport.contacts(&alice.tokens.session_token)).unwrap();
    assert_eq!(contacts[0].alias.as_deref(), Some("Caz"));

    // Block, then unblock from the Blocked group.
    h.get_by_label_contains("Caz (Offline)").click_secondary();
    h.run_steps(3);
    click(&mut h, "Block");
    wait_for_label(&mut h, "[blocked]");
    let blocks = t.runtime.block_on(t.passport.blocks(&alice.tokens.session_token)).unwrap();
    assert_eq!(blocks.len(), 1);
    click(&mut h, "Blocked (1)");
    click(&mut h, "Unblock carol@example.com");
    wait_until(&mut h, "the block lifted", |h| h.query_by_label_contains("[blocked]").is_none());

    // Remove: Carol leaves the list.
    h.get_by_label_contains("Caz (Offline)").click_secondary();
    h.run_steps(3);
    click(&mut h, "Remove contact");
    wait_until(&mut h, "Caz gone", |h| h.query_by_label_contains("Caz").is_none());

    // An incoming request, accepted from the main window.
    t.runtime
        .block_on(t.passport.request_contact(&dave.tokens.session_token, "alice@example.com", None))
        .unwrap();
    wait_for_label(&mut h, "Dave (dave@example.com) wants to add you as a contact.");
    click(&mut h, "Accept");
    wait_for_label(&mut h, "Dave (Offline)");
    let contacts = t.runtime.block_on(t.passport.contacts(&dave.tokens.session_token)).unwrap();
    assert_eq!(contacts[0].user.username, "alice@example.com");
}

#[test]
fn an_update_is_offered_downloaded_with_progress_verified_and_installed() {
    use mocha_messenger::model::UpdateStage;
    let t = TestServer::start();
    let alice = t.user("alice");
    // A published build newer than this one, big enough to take more than one read.
    let builds = tempfile::tempdir().unwrap();
    let mut bytes = b"\x7fELF".to_vec();
    bytes.extend((0..2_000_000u32).map(|i| (i % 249) as u8));
    let build = builds.path().join("mocha-messenger");
    std::fs::write(&build, &bytes).unwrap();
    let release = mocha_server::publish::Release::new("stable", "linux-x86_64", "9.9.9", build)
        .with_notes("Calls in the messenger.");
    let published = mocha_server::publish::publish(t.dir.path(), &release).unwrap();

    let config = tempfile::tempdir().unwrap();
    let mut options = options_for(&t, config.path());
    options.updates.check_at_sign_in = true;
    OptionsFile::new(config.path()).save(&options).unwrap();
    let program = builds.path().join("installed/mocha-messenger");
    std::fs::create_dir_all(program.parent().unwrap()).unwrap();
    std::fs::write(&program, b"the old build").unwrap();
    let target = mocha_messenger::updater::UpdateTarget {
        staging: builds.path().join("staging"),
        program: program.clone(),
        restart: false,
    };
    let (mut h, _cues) = app_with(config.path(), SecretStore::memory(), |env| env.updates = Some(target));
    sign_in(&mut h, &alice.account.username, &alice.password);
    wait_for_label(&mut h, "Mocha Messenger 9.9.9 is available.");
    assert!(h.query_by_label_contains("Calls in the messenger.").is_some());
    wait_until(&mut h, "the release key pinned", |h| {
        !h.state().model.options.updates.release_keys.is_empty()
    });

    // The banner draws the model: while downloading, a progress bar and no buttons.
    let offered = h.state().model.update.clone().unwrap();
    h.state_mut().model.update.as_mut().unwrap().stage =
        UpdateStage::Downloading { done: 500_000, total: 2_000_004 };
    h.step();
    h.step();
    assert!(h.query_by_label_contains("Downloading Mocha Messenger 9.9.9").is_some());
    assert_eq!(h.query_all_by_role(Role::ProgressIndicator).count(), 1, "a progress bar");
    assert!(h.query_by_label("Download").is_none(), "no second download while one runs");
    h.state_mut().model.update = Some(offered);
    h.step();

    // A tampered build on the server is refused, said so, and can be tried again.
    let stored = t.dir.path().join("downloads/stable/linux-x86_64").join(&published.file_name);
    let mut tampered = bytes.clone();
    tampered[1_000_000] ^= 1;
    std::fs::write(&stored, &tampered).unwrap();
    click(&mut h, "Download");
    wait_for_label(&mut h, "does not match its SHA-256");
    std::fs::write(&stored, &bytes).unwrap();
    click(&mut h, "Try again");
    wait_for_label(&mut h, "Restart to update");
    assert_eq!(std::fs::read(&program).unwrap(), b"the old build", "nothing installed before the click");
    click(&mut h, "Restart to update");
    wait_for_label(&mut h, "Mocha Messenger 9.9.9 is installed");
    assert_eq!(std::fs::read(&program).unwrap(), bytes, "the verified build replaced the program");

    // The pin is saved with the other options.
    wait_until(&mut h, "options saved", |_| {
        saved_options(config.path())["updates"]["release_keys"][t.url()].is_string()
    });
}
