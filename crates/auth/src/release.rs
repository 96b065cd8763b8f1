//! Signed client builds. The server's release key (Ed25519) signs what a published
//! build is — channel, platform, version, file name, size and SHA-256 — and clients pin
//! the key's public half, so a build that was changed, cut short or swapped for
//! another is refused before it is run.

use std::io::Read;

use base64::Engine;
use ring::digest::{Context, SHA256};

use crate::VerifyingKey;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// Everything a release signature covers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReleaseFacts<'a> {
    pub channel: &'a str,
    pub platform: &'a str,
    pub version: &'a str,
    pub file_name: &'a str,
    pub size: u64,
    /// Lower-case hex.
    pub sha256: &'a str,
}

impl ReleaseFacts<'_> {
    /// The exact bytes signed: one field a line, after a version tag, so no field can
    /// be shifted into another.
    pub fn message(&self) -> Vec<u8> {
        format!(
            "mocha-release-v1\n{}\n{}\n{}\n{}\n{}\n{}\n",
            self.channel, self.platform, self.version, self.file_name, self.size, self.sha256
        )
        .into_bytes()
    }

    /// Whether `signature` (base64url) is the release key's signature of these facts.
    pub fn verify(&self, key: &VerifyingKey, signature: &str) -> bool {
        B64.decode(signature.trim()).is_ok_and(|signature| key.verify(&self.message(), &signature))
    }
}

/// The SHA-256 (lower-case hex) and length of everything `reader` yields.
pub fn sha256_of(mut reader: impl Read) -> std::io::Result<(String, u64)> {
    let mut context = Context::new(&SHA256);
    let mut buffer = vec![0u8; 64 * 1024];
    let mut size = 0u64;
    loop {
        let read = reader.read(&mut buffer)?;
        if read == 0 {
            break;
        }
        context.update(&buffer[..read]);
        size += read as u64;
    }
    Ok((hex(context.finish().as_ref()), size))
}

/// A running SHA-256 for data that arrives in pieces (a download).
pub struct Sha256 {
    context: Context,
}

impl Default for Sha256 {
    fn default() -> Self {
        Self { context: Context::new(&SHA256) }
    }
}

impl Sha256 {
    pub fn update(&mut self, bytes: &[u8]) {
        self.context.update(bytes);
    }

    /// Lower-case hex.
    pub fn finish(self) -> String {
        hex(self.context.finish().as_ref())
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Signs with base64url output, as the manifest stores it.
pub fn sign_release(key: &crate::SigningKey, facts: &ReleaseFacts<'_>) -> String {
    B64.encode(key.sign(&facts.message()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SigningKey;

    #[test]
    fn a_signature_covers_every_fact_and_only_the_release_key_makes_it() {
        let key = SigningKey::generate();
        let (sha256, size) = sha256_of(&b"\x7fELF a client build"[..]).unwrap();
        let facts = ReleaseFacts {
            channel: "stable",
            platform: "linux-x86_64",
            version: "1.2.0",
            file_name: "mocha-messenger-1.2.0-linux-x86_64",
            size,
            sha256: &sha256,
        };
        let signature = sign_release(&key, &facts);
        assert!(facts.verify(&key.verifying_key(), &signature));
        assert!(!facts.verify(&SigningKey::generate().verifying_key(), &signature), "another key");
        for changed in [
            ReleaseFacts { channel: "beta", ..facts.clone() },
            ReleaseFacts { platform: "windows-x86_64", ..facts.clone() },
            ReleaseFacts { version: "1.2.1", ..facts.clone() },
            ReleaseFacts { file_name: "other", ..facts.clone() },
            ReleaseFacts { size: size - 1, ..facts.clone() },
            ReleaseFacts { sha256: &"0".repeat(64), ..facts.clone() },
        ] {
            assert!(!changed.verify(&key.verifying_key(), &signature), "{changed:?}");
        }
        assert!(!facts.verify(&key.verifying_key(), "not base64!"));

        let mut running = Sha256::default();
        running.update(b"\x7fELF a client");
        running.update(b" build");
        assert_eq!(running.finish(), sha256);
    }
}
