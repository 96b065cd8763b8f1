//! Ed25519 signing keys, kept as a 32-byte seed file readable only by the owner.

use std::fs;
use std::io::Write;
use std::path::Path;

use ring::signature::{ED25519, Ed25519KeyPair, KeyPair, UnparsedPublicKey};

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("cannot read or write key file {path}: {source}")]
    Io { path: String, source: std::io::Error },
    #[error("key file {path} is not a 32-byte Ed25519 seed")]
    Corrupt { path: String },
}

pub struct SigningKey {
    pair: Ed25519KeyPair,
}

#[derive(Clone)]
pub struct VerifyingKey {
    public: Vec<u8>,
}

impl SigningKey {
    pub fn generate() -> Self {
        Self::from_seed(&crate::random_bytes::<32>()).expect("a fresh seed is always valid")
    }

    fn from_seed(seed: &[u8]) -> Option<Self> {
        Ed25519KeyPair::from_seed_unchecked(seed).ok().map(|pair| Self { pair })
    }

    /// Loads the key at `path`, creating it (mode 0600) on first use.
    pub fn load_or_create(path: &Path) -> Result<Self, KeyError> {
        let io = |source| KeyError::Io { path: path.display().to_string(), source };
        match fs::read(path) {
            Ok(seed) => Self::from_seed(&seed)
                .filter(|_| seed.len() == 32)
                .ok_or(KeyError::Corrupt { path: path.display().to_string() }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let seed = crate::random_bytes::<32>();
                if let Some(dir) = path.parent() {
                    fs::create_dir_all(dir).map_err(io)?;
                }
                let mut options = fs::OpenOptions::new();
                options.write(true).create_new(true);
                #[cfg(unix)]
                std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
                options.open(path).and_then(|mut f| f.write_all(&seed)).map_err(io)?;
                Ok(Self::from_seed(&seed).expect("a fresh seed is always valid"))
            }
            Err(e) => Err(io(e)),
        }
    }

    pub fn sign(&self, message: &[u8]) -> Vec<u8> {
        self.pair.sign(message).as_ref().to_vec()
    }

    pub fn verifying_key(&self) -> VerifyingKey {
        VerifyingKey { public: self.pair.public_key().as_ref().to_vec() }
    }
}

impl VerifyingKey {
    /// A public key from its base64url text (as pinned by clients), if it is 32 bytes.
    pub fn from_base64url(text: &str) -> Option<Self> {
        use base64::Engine;
        let public = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(text.trim()).ok()?;
        (public.len() == 32).then_some(Self { public })
    }

    pub fn to_base64url(&self) -> String {
        use base64::Engine;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&self.public)
    }

    pub fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        UnparsedPublicKey::new(&ED25519, &self.public).verify(message, signature).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_file_survives_restart_and_corruption_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys/test.seed");
        let first = SigningKey::load_or_create(&path).unwrap();
        let again = SigningKey::load_or_create(&path).unwrap();
        let signature = first.sign(b"hello");
        assert!(again.verifying_key().verify(b"hello", &signature));
        assert!(!SigningKey::generate().verifying_key().verify(b"hello", &signature));

        fs::write(&path, b"short").unwrap();
        assert!(matches!(SigningKey::load_or_create(&path), Err(KeyError::Corrupt { .. })));
    }
}
