//! Password hashing: PBKDF2-HMAC-SHA256 with a per-password random salt.
//! Verification is constant-time (ring compares the derived keys itself).

use std::num::NonZeroU32;

use ring::pbkdf2;

const ALGORITHM: pbkdf2::Algorithm = pbkdf2::PBKDF2_HMAC_SHA256;
const HASH_LEN: usize = 32;
const SALT_LEN: usize = 16;

pub struct PasswordHash {
    pub hash: Vec<u8>,
    pub salt: Vec<u8>,
    pub iterations: u32,
}

impl PasswordHash {
    /// Slow on purpose: call it off the async threads.
    pub fn new(password: &str, iterations: u32) -> Self {
        let salt = mocha_auth::random_bytes::<SALT_LEN>().to_vec();
        let mut hash = vec![0u8; HASH_LEN];
        pbkdf2::derive(ALGORITHM, rounds(iterations), &salt, password.as_bytes(), &mut hash);
        Self { hash, salt, iterations }
    }

    /// Slow on purpose: call it off the async threads.
    pub fn verify(&self, password: &str) -> bool {
        pbkdf2::verify(ALGORITHM, rounds(self.iterations), &self.salt, password.as_bytes(), &self.hash)
            .is_ok()
    }
}

fn rounds(iterations: u32) -> NonZeroU32 {
    NonZeroU32::new(iterations).unwrap_or(NonZeroU32::MIN)
}

/// Hashes or verifies on the blocking pool so sign-ins never stall other requests.
pub async fn run_blocking<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::task::spawn_blocking(work).await.expect("password hashing panicked")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verifies_only_the_right_password_and_salts_differ() {
        let first = PasswordHash::new("correct horse 1", 1000);
        let second = PasswordHash::new("correct horse 1", 1000);
        assert!(first.verify("correct horse 1"));
        assert!(!first.verify("correct horse 2"));
        assert!(!first.verify(""));
        assert_ne!(first.salt, second.salt);
        assert_ne!(first.hash, second.hash);
        assert_eq!(first.hash.len(), 32);
    }
}
