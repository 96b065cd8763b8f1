//! Identities and signed credentials shared by every Mocha service.
//!
//! Passport signs session tokens and the Notification Server signs switchboard
//! tickets, both with Ed25519, so any service can check a credential with the
//! signer's public key alone. Calls seal their media with a [`MediaKey`]. This crate
//! knows nothing of sockets or storage.

mod keys;
mod media;
mod release;
mod token;
mod user_id;

pub use keys::{KeyError, SigningKey, VerifyingKey};
pub use media::{BindToken, MediaError, MediaKey};
pub use release::{ReleaseFacts, Sha256, sha256_of, sign_release};
pub use token::{SessionClaims, SignedClaims, SwitchboardTicket, TokenError, TokenKind, unix_now};
pub use user_id::{UserId, UserIdError};

/// Fills a buffer with bytes from the operating system's secure generator.
pub fn random_bytes<const N: usize>() -> [u8; N] {
    use ring::rand::SecureRandom;
    let mut bytes = [0u8; N];
    ring::rand::SystemRandom::new().fill(&mut bytes).expect("the operating system random generator failed");
    bytes
}

/// A random identifier safe to put in URLs and protocol lines (base64url, no padding).
pub fn random_id<const N: usize>() -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(random_bytes::<N>())
}
