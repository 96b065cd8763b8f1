//! The `mocha-server` program on PostgreSQL, as an operator runs it (`--database` with
//! a password in it): the whole stack works on it — sign up, sign in over TLS, a
//! contact, a conversation, an activity alert stored in PostgreSQL and delivered — and
//! the password appears nowhere in what the server prints.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

mod client_support;
mod common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use mocha_client::sb::Delivery;
use mocha_client::{ClientConfig, Event, PassportClient, SignOutReason, Trust};
use mocha_passport::DatabaseUrl;
use mocha_passport::testing::{Engine, TestDatabase, engine_ready};
use sqlx::Connection;

use client_support::{Events, chat, connect_with, heard_text};
use common::TestUser;

/// Trust authentication ignores it, so the server works with it while we look for it.
const PASSWORD: &str = "never-printed-7f3a";

struct Running {
    child: Child,
    output: mpsc::Receiver<String>,
    said: Vec<String>,
}

impl Running {
    fn start(data_dir: &std::path::Path, database: &str) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_mocha-server"))
            .arg("--data-dir")
            .arg(data_dir)
            .args(["--passport-port", "0", "--notification-port", "0", "--switchboard-port", "0"])
            .args(["--relay-port", "0", "--pbkdf2-iterations", "10000"])
            .arg("--database")
            .arg(database)
            .env("MOCHA_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let (lines, output) = mpsc::channel();
        for stream in [
            Box::new(child.stdout.take().unwrap()) as Box<dyn std::io::Read + Send>,
            Box::new(child.stderr.take().unwrap()),
        ] {
            let lines = lines.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    if lines.send(line).is_err() {
                        break;
                    }
                }
            });
        }
        let mut running = Self { child, output, said: Vec::new() };
        while !running.said.last().is_some_and(|line| line.contains("Press Ctrl-C")) {
            match running.output.recv_timeout(Duration::from_secs(60)) {
                Ok(line) => running.said.push(line),
                Err(e) => panic!("the server did not come up ({e}); it said: {:#?}", running.said),
            }
        }
        running
    }

    /// The port in the banner line that starts with `label`.
    fn port(&self, label: &str) -> u16 {
        let line = self.said.iter().find(|line| line.trim_start().starts_with(label)).unwrap();
        let address =
            line.split_whitespace().find(|word| word.contains(':') && !word.ends_with(':')).unwrap();
        address.rsplit(':').next().unwrap().parse().unwrap()
    }

    /// Stops it with Ctrl-C and returns everything it printed.
    fn stop(mut self) -> String {
        Command::new("kill").args(["-INT", &self.child.id().to_string()]).status().unwrap();
        let status = self.child.wait().unwrap();
        std::thread::sleep(Duration::from_millis(100));
        self.said.extend(self.output.try_iter());
        assert!(status.success(), "stopped cleanly: {status}");
        self.said.join("\n")
    }
}

async fn user(passport: &PassportClient, name: &str) -> TestUser {
    let (username, password) = (format!("{name}@example.com"), format!("correct-horse-{}-1", name.len()));
    let account = passport.register(&username, name, &password).await.unwrap();
    let tokens = passport.sign_in(&username, &password).await.unwrap();
    TestUser { account, password, tokens }
}

#[tokio::test]
async fn the_server_program_runs_the_whole_stack_on_postgres_and_never_prints_its_password() {
    if !engine_ready(Engine::Postgres, "the_server_program_runs_the_whole_stack_on_postgres").await {
        return;
    }
    let database = TestDatabase::create(Engine::Postgres).await;
    let DatabaseUrl::Postgres(plain) = &database.url else { unreachable!() };
    let with_password = plain.replacen("postgres@", &format!("postgres:{PASSWORD}@"), 1);
    let dir = tempfile::tempdir().unwrap();
    let server = Running::start(dir.path(), &with_password);
    let banner = server.said.join("\n");
    assert!(
        banner.contains(&format!(
            "postgres://postgres:****@127.0.0.1:5432/{}",
            database.postgres_name().unwrap()
        )),
        "{banner}"
    );

    let trust = Trust::system().with_pem_file(&dir.path().join("tls").join("ca.pem")).unwrap();
    let base = format!("https://localhost:{}", server.port("Passport and web pages"));
    let passport = PassportClient::new(&base, &trust).unwrap();
    let (alice_user, bob_user) = (user(&passport, "alice").await, user(&passport, "bob").await);
    let request =
        passport.request_contact(alice_user.tokens.session_token.as_str(), "bob@example.com", None).await;
    let request = request.unwrap().request.unwrap();
    passport.accept_request(&bob_user.tokens.session_token, request.id).await.unwrap();

    let config = || {
        let mut config = ClientConfig::new(&base, trust.clone());
        config.backoff =
            mocha_client::Backoff { initial: Duration::from_millis(50), max: Duration::from_millis(400) };
        config
    };
    let (alice, mut alice_events) = connect_with(config(), &alice_user).await;
    let (bob, mut bob_events) = connect_with(config(), &bob_user).await;
    let (a, b) = chat(&alice, &mut alice_events, &bob, &mut bob_events).await;
    assert_eq!(a.send_text("hello from PostgreSQL").await.unwrap(), Delivery::Delivered);
    assert_eq!(heard_text(&mut bob_events, b.id()).await, "hello from PostgreSQL");

    // Bob leaves; what Alice says next is kept for him as an alert, in PostgreSQL.
    bob.disconnect().await;
    bob_events.expect(|e| matches!(e, Event::SignedOut(SignOutReason::Requested)).then_some(())).await;
    wait_offline(&mut alice_events, bob.user_id()).await;
    let later = alice.open_conversation().await.unwrap();
    let offline = later.invite("bob@example.com").await.unwrap_err();
    assert_eq!(offline.server_code(), Some(mocha_client::proto::ErrorCode::UserOffline));
    assert_eq!(later.send_text("call me back").await.unwrap(), Delivery::NotDelivered);
    let mut db = sqlx::PgConnection::connect(plain).await.unwrap();
    let kept: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM activity_alerts WHERE text = 'call me back'")
        .fetch_one(&mut db)
        .await
        .unwrap();
    assert_eq!(kept, 1, "the alert is a PostgreSQL row");
    let (bob, _bob_events) = connect_with(config(), &bob_user).await;
    let alerts = bob.poll_alerts().await.unwrap();
    assert_eq!(alerts.iter().map(|a| a.text.as_str()).collect::<Vec<_>>(), ["call me back"]);
    assert!(bob.poll_alerts().await.unwrap().is_empty(), "delivered once");
    drop((a, b, later, alice, bob));

    let printed = server.stop();
    assert!(printed.contains("Passport's data is in PostgreSQL"), "{printed}");
    assert!(!printed.contains(PASSWORD), "the password was printed: {printed}");
    drop(db);
}

async fn wait_offline(events: &mut Events, user: mocha_client::api::UserId) {
    events
        .expect(|e| matches!(e, Event::Presence { user: u, presence: None } if *u == user).then_some(()))
        .await;
}

#[test]
fn help_and_a_refused_database_url_never_show_the_password() {
    let run = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_mocha-server"))
            .args(args)
            .env("MOCHA_DATABASE", format!("postgres://mocha:{PASSWORD}@db.example.org/mocha"))
            .output()
            .unwrap();
        (
            out.status.success(),
            format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)),
        )
    };
    let (ok, help) = run(&["--help"]);
    assert!(ok && help.contains("--database") && help.contains("MOCHA_DATABASE"), "{help}");
    assert!(!help.contains(PASSWORD), "{help}");

    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().to_str().unwrap();
    let bad = format!("mysql://mocha:{PASSWORD}@db.example.org/mocha");
    let (ok, refusal) = run(&["--data-dir", data_dir, "--database", &bad]);
    assert!(!ok, "{refusal}");
    assert!(refusal.contains("mysql://mocha:****@db.example.org/mocha"), "{refusal}");
    assert!(refusal.contains("postgres://"), "it says what is accepted: {refusal}");
    assert!(!refusal.contains(PASSWORD), "{refusal}");
}
