//! User ids as they arrive in URL paths (`/api/v1/users/{id}`, `/contacts/{id}`, …: axum's
//! `Path` hands the decoded segment to `UserId`'s `Deserialize`) and in JSON bodies.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mocha_auth::UserId;
use serde::Deserialize;
use serde::de::IntoDeserializer;
use serde::de::value::{Error as ValueError, StrDeserializer};

fuzz_target!(|text: &str| {
    let parsed = text.parse::<UserId>();
    // What the OpenAPI document promises: `^u[1-9][0-9]*$`, and it must fit the database's integer.
    let digits = text.strip_prefix('u').unwrap_or("");
    let well_formed = !digits.is_empty()
        && !digits.starts_with('0')
        && digits.bytes().all(|b| b.is_ascii_digit())
        && digits.parse::<i64>().is_ok();
    assert_eq!(parsed.is_ok(), well_formed, "{text:?}");
    if let Ok(id) = parsed {
        assert!(id.0 > 0);
        assert_eq!(id.to_string(), text);
    }

    // The serde paths (URL path segment, JSON string) agree with `FromStr`.
    let deserializer: StrDeserializer<'_, ValueError> = text.into_deserializer();
    assert_eq!(UserId::deserialize(deserializer).ok(), parsed.as_ref().ok().copied());
    let json = serde_json::to_string(text).expect("a string serializes");
    assert_eq!(serde_json::from_str::<UserId>(&json).ok(), parsed.ok());
});
