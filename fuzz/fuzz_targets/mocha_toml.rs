//! `mocha.toml`, the server's settings file, through its real loader and checks
//! (`ServerConfig::from_data_dir` and `validate` in `crates/server/src/config/file.rs`):
//! the bytes are written as `mocha.toml` into a scratch folder and loaded.
//!
//! - Loading gives a config or a typed error: `Read` only for bytes that are not UTF-8,
//!   `Parse` naming a line of the file, never `Invalid` (that is `validate`'s).
//! - A config that loads validates without panicking, and what `toml::to_string` writes
//!   of it loads back equal.
//! - No password shows: the file is loaded again behind a first line setting `database`
//!   (or `bus`) to a URL with a password in it, once with each of two passwords, and the
//!   error, or the config's `Debug` and its validation, must read the same for both.
//!   The password is a fixed secret around what the input's first line holds after a
//!   `#` (a comment, so the rest of the file reads the same), so the fuzzer can put
//!   `?`, `@`, `/`, `:` in it.
//!
//! `file.rs` is compiled from its own source rather than through `mocha-server` (sqlx,
//! axum, rustls), with the three things it takes from its parent module: `DatabaseUrl`
//! (Passport's `store/url.rs`, also compiled from source, with a stand-in for sqlx's
//! PostgreSQL URL check), the name helpers (the Notification Server's `bus/names.rs`,
//! from source) and the services' default values (stood in for below).
#![no_main]

#[allow(dead_code)]
#[path = "../../crates/server/src/config/file.rs"]
mod file;

#[allow(dead_code)]
#[path = "../../crates/passport/src/store/url.rs"]
mod url;

#[path = "../../crates/notification/src/bus/names.rs"]
mod names;

/// Stand-in for Passport's `store/postgres.rs`, which asks sqlx whether it can connect
/// with a `postgres://` URL: here every one is accepted, so sqlx's own URL parser is
/// not fuzzed (nor its messages checked for passwords).
mod postgres {
    pub fn check_url(_: &str) -> Result<(), String> {
        Ok(())
    }
}

/// Stand-in for `mocha_server::config::service_defaults` (the services' defaults, as of
/// writing; default values only, nothing is parsed from them).
fn service_defaults() -> file::ServiceDefaults {
    file::ServiceDefaults {
        session_token_seconds: 15 * 60,
        refresh_token_days: 30,
        pbkdf2_iterations: 600_000,
        sign_in_attempts_per_account: 10,
        sign_in_account_window_seconds: 300,
        sign_in_attempts_per_address: 30,
        sign_in_address_window_seconds: 60,
        ticket_seconds: 120,
        notification_idle_seconds: 180,
        switchboard_idle_seconds: 30 * 60,
        sign_in_seconds: 15,
        max_connections_per_address: 256,
        max_participants: 20,
        relay_max_packet: 1280,
        relay_packets_per_second: 500,
        relay_workers: 2,
        switchboard_messages_per_second: 20,
        switchboard_message_burst: 40,
        file_chunk_wait_seconds: 30,
    }
}

use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use file::{BusUrl, CONFIG_FILE, ConfigError, ServerConfig};
use libfuzzer_sys::fuzz_target;
use url::DatabaseUrl;

static DIR: LazyLock<PathBuf> = LazyLock::new(|| {
    let dir = std::env::temp_dir().join(format!("mocha-fuzz-mocha-toml-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a scratch folder");
    dir
});

/// Two passwords of one length, unlike at every position.
const SECRETS: [&str; 2] = ["Pw7hunterKx2", "Qz4ospreyLm9"];

/// First lines carrying a password (`{}`), and what would end it by the URL's own
/// grammar (not kept in it): a `&` ends a query option's value, and a `:` in a NATS
/// token makes it `user:password`. The input's length picks one.
const SHAPES: [(&str, &str, &str); 7] = [
    ("database", "postgres://mocha:{}@db.internal/mocha", ""),
    ("database", "postgresql://mocha:{}@db.internal:5432/mocha?sslmode=require", ""),
    ("database", "postgres://mocha@db.internal/mocha?password={}&sslmode=disable", "&"),
    ("database", "mysql://root:{}@db.internal/mocha", ""),
    ("bus", "nats://mocha:{}@nats.internal:4222", ""),
    ("bus", "nats://{}@nats.internal:4222", ":"),
    ("bus", "http://mocha:{}@nats.internal:4222", ""),
];

fuzz_target!(|data: &[u8]| {
    let dir = &*DIR;
    let loaded = load(dir, data);
    match &loaded {
        Ok(config) => {
            assert!(std::str::from_utf8(data).is_ok());
            let _ = config.validate();
            assert!(config.bus.as_ref().is_none_or(|bus| BusUrl::parse(bus.expose()).is_ok()));
            let text = toml::to_string(config).expect("a config that loads is written");
            let again = load(dir, text.as_bytes());
            assert_eq!(again.as_ref().ok(), Some(config), "written as\n{text}\nit loads as {again:?}");
        }
        Err(ConfigError::Read { .. }) => assert!(std::str::from_utf8(data).is_err(), "{loaded:?}"),
        Err(ConfigError::Parse { path, line, message }) => {
            let text = std::str::from_utf8(data).expect("only text is parsed");
            let lines = text.matches('\n').count() + 1;
            assert!((1..=lines).contains(line), "line {line} of {lines}: {message}");
            assert_eq!(path, &dir.join(CONFIG_FILE));
        }
        Err(ConfigError::Invalid(message)) => panic!("the loader checks no values, validate does: {message}"),
    }
    passwords_stay_hidden(dir, data);
});

fn load(dir: &Path, data: &[u8]) -> Result<ServerConfig, ConfigError> {
    std::fs::write(dir.join(CONFIG_FILE), data).expect("the scratch file is written");
    ServerConfig::from_data_dir(dir)
}

fn passwords_stay_hidden(dir: &Path, data: &[u8]) {
    let (key, shape, ends) = SHAPES[data.len() % SHAPES.len()];
    // What the first line holds after a `#`, kept to what a TOML string takes unescaped.
    let first = data.split(|&b| b == b'\n').next().unwrap_or_default();
    let middle: String = first
        .strip_prefix(b"#")
        .unwrap_or_default()
        .iter()
        .map(|&b| b as char)
        .filter(|c| (c.is_ascii_graphic() || *c == ' ') && !matches!(c, '"' | '\\'))
        .filter(|c| !ends.contains(*c))
        .take(32)
        .collect();
    let shown = SECRETS.map(|secret| {
        let password = format!("{secret}{middle}{secret}");
        let mut file = format!("{key} = \"{}\"\n", shape.replace("{}", &password)).into_bytes();
        file.extend_from_slice(data);
        match load(dir, &file) {
            Ok(config) => {
                let valid = config.validate().map_err(|e| e.to_string());
                let database = config.database.as_ref().map(DatabaseUrl::redacted);
                format!(
                    "{config:?} {database:?} {:?} {valid:?}",
                    config.bus.as_ref().map(ToString::to_string)
                )
            }
            Err(error) => error.to_string(),
        }
    });
    assert_eq!(shown[0], shown[1], "a password shows (password {SECRETS:?} around {middle:?})");
}
