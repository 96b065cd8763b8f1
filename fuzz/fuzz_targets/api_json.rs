//! The JSON bodies of the HTTP API. Passport's `ApiJson<T>` is `axum::Json<T>` with its own
//! error envelope, and `axum::Json` is `serde_json` (through `serde_path_to_error`, which
//! only adds the path to the error) into the `mocha-api` types: so this drives those
//! types with `serde_json::from_slice` directly. The first byte picks the type: every
//! request body Passport takes, and the answers the client library reads.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mocha_api as api;
use serde::Serialize;
use serde::de::DeserializeOwned;

fn round_trip<T: DeserializeOwned + Serialize + PartialEq + std::fmt::Debug>(body: &[u8]) {
    let Ok(value) = serde_json::from_slice::<T>(body) else { return };
    let again = serde_json::to_vec(&value).expect("an API value serializes");
    assert_eq!(
        serde_json::from_slice::<T>(&again).ok().as_ref(),
        Some(&value),
        "{}",
        String::from_utf8_lossy(&again)
    );
}

fuzz_target!(|data: &[u8]| {
    let Some((&which, body)) = data.split_first() else { return };
    match which % 17 {
        0 => round_trip::<api::RegisterRequest>(body),
        1 => round_trip::<api::SignInRequest>(body),
        2 => round_trip::<api::RefreshTokenRequest>(body),
        3 => round_trip::<api::UpdateProfileRequest>(body),
        4 => round_trip::<api::ChangePasswordRequest>(body),
        5 => round_trip::<api::PasswordConfirmation>(body),
        6 => round_trip::<api::SetAliasRequest>(body),
        7 => round_trip::<api::NewContactRequest>(body),
        8 => round_trip::<api::UpdatePrivacyRequest>(body),
        9 => round_trip::<api::BanRequest>(body),
        10 => round_trip::<api::NoticeRequest>(body),
        11 => round_trip::<api::SessionTokens>(body),
        12 => round_trip::<api::SyncSnapshot>(body),
        13 => round_trip::<api::ErrorBody>(body),
        14 => round_trip::<api::UpdateCheck>(body),
        15 => round_trip::<api::ContactRequests>(body),
        _ => round_trip::<api::StatusReport>(body),
    }
});
