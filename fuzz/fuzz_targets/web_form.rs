//! What a browser posts to the web pages: the body of every form (`serde_urlencoded`, as
//! `SignedInForm`/`VisitorForm` read it) into the pages' own form types, and its CSRF
//! token through the same check. The first byte picks the form.
//!
//! `forms.rs` and `csrf.rs` are compiled from `crates/web/src` itself (they need only serde,
//! base64 and ring) rather than through `mocha-web`, which brings Passport, sqlx and askama.
#![no_main]

#[allow(dead_code)]
#[path = "../../crates/web/src/csrf.rs"]
mod csrf;

#[allow(dead_code)]
#[path = "../../crates/web/src/forms.rs"]
mod forms;

use std::sync::LazyLock;

use csrf::{Binding, CsrfKey};
use libfuzzer_sys::fuzz_target;
use serde::de::DeserializeOwned;

static KEY: LazyLock<CsrfKey> = LazyLock::new(CsrfKey::generate);
const VISITOR: &str = "visitor-id";
const SESSION: [u8; 32] = [7; 32];

fn read<T: DeserializeOwned>(body: &[u8]) -> bool {
    serde_urlencoded::from_bytes::<T>(body).is_ok()
}

fuzz_target!(|data: &[u8]| {
    let Some((&which, body)) = data.split_first() else { return };
    let bindings = [Binding::Visitor(VISITOR), Binding::Session(&SESSION)];
    // Step one of the extractor: the token. Nothing made up ever passes.
    if let Ok(field) = serde_urlencoded::from_bytes::<forms::CsrfField>(body) {
        for binding in bindings {
            assert!(!KEY.verify(binding, &field.csrf), "a made-up CSRF token passed: {:?}", field.csrf);
        }
    }
    // Step two: the form itself.
    let _ = match which % 13 {
        0 => read::<forms::SignInForm>(body),
        1 => read::<forms::SignUpForm>(body),
        2 => read::<forms::Empty>(body),
        3 => read::<forms::DisplayNameForm>(body),
        4 => read::<forms::PasswordForm>(body),
        5 => read::<forms::RevokeForm>(body),
        6 => read::<forms::DeleteForm>(body),
        7 => read::<forms::BanForm>(body),
        8 => read::<forms::TargetForm>(body),
        9 => read::<forms::NoticeForm>(body),
        10 => read::<forms::SignInQuery>(body),
        11 => read::<forms::AccountQuery>(body),
        _ => read::<forms::AdminQuery>(body),
    };
    // A browser's valid token in front of any well-formed fields without one is found and
    // passes, for the binding it was made for only.
    let Ok(pairs) = serde_urlencoded::from_bytes::<Vec<(String, String)>>(body) else { return };
    if pairs.iter().any(|(name, _)| name == "csrf") {
        return;
    }
    for (index, binding) in bindings.into_iter().enumerate() {
        let mut posted = format!("csrf={}&", KEY.token(binding)).into_bytes();
        posted.extend_from_slice(body);
        let field = serde_urlencoded::from_bytes::<forms::CsrfField>(&posted)
            .expect("a token and well-formed fields parse");
        assert!(KEY.verify(binding, &field.csrf));
        assert!(!KEY.verify(bindings[1 - index], &field.csrf), "a token passed for another binding");
    }
});
