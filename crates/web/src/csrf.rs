//! CSRF tokens: an HMAC of what the form is bound to (a web session or a
//! signed-out visitor), under a key that never leaves this process.
//!
//! Nothing is stored per token, a token from one browser is useless in another,
//! and the check is the constant-time `ring::hmac::verify`.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::hmac;

/// What a form's token is tied to.
#[derive(Clone, Copy, Debug)]
pub enum Binding<'a> {
    /// A signed-in browser, by the hash of its session cookie.
    Session(&'a [u8; 32]),
    /// A signed-out browser, by its visitor cookie.
    Visitor(&'a str),
}

impl Binding<'_> {
    fn message(&self) -> Vec<u8> {
        // The prefixes keep a visitor token from ever passing for a session token.
        match self {
            Binding::Session(key) => [b"session:".as_slice(), key.as_slice()].concat(),
            Binding::Visitor(id) => [b"visitor:".as_slice(), id.as_bytes()].concat(),
        }
    }
}

pub struct CsrfKey(hmac::Key);

impl CsrfKey {
    pub fn generate() -> Self {
        Self(hmac::Key::new(hmac::HMAC_SHA256, &mocha_auth::random_bytes::<32>()))
    }

    pub fn token(&self, binding: Binding<'_>) -> String {
        URL_SAFE_NO_PAD.encode(hmac::sign(&self.0, &binding.message()).as_ref())
    }

    pub fn verify(&self, binding: Binding<'_>, token: &str) -> bool {
        let Ok(tag) = URL_SAFE_NO_PAD.decode(token.trim()) else { return false };
        hmac::verify(&self.0, &binding.message(), &tag).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_only_fits_its_own_binding() {
        let key = CsrfKey::generate();
        let session = [7u8; 32];
        let token = key.token(Binding::Session(&session));
        assert!(key.verify(Binding::Session(&session), &token));
        assert!(!key.verify(Binding::Session(&[8u8; 32]), &token));
        assert!(!key.verify(Binding::Visitor("abc"), &token));
        assert!(!key.verify(Binding::Session(&session), ""));
        assert!(!key.verify(Binding::Session(&session), "not base64 !"));
        assert!(!CsrfKey::generate().verify(Binding::Session(&session), &token), "keys differ per process");
    }
}
