//! Signed, expiring credentials: `<kind>.<claims>.<signature>`, each part base64url.
//!
//! The kind is part of what is signed, so a switchboard ticket can never be
//! replayed as a session token or the other way round.

use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::{SigningKey, UserId, VerifyingKey};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenKind {
    Session,
    SwitchboardTicket,
}

impl TokenKind {
    fn prefix(self) -> &'static str {
        match self {
            TokenKind::Session => "mst1",
            TokenKind::SwitchboardTicket => "mtk1",
        }
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TokenError {
    #[error("the token is malformed")]
    Malformed,
    #[error("the token is not of the expected kind")]
    WrongKind,
    #[error("the token's signature is not valid")]
    BadSignature,
    #[error("the token has expired")]
    Expired,
}

/// Claims that carry their own expiry (unix seconds).
pub trait SignedClaims: Serialize + DeserializeOwned {
    const KIND: TokenKind;
    fn expires_at(&self) -> i64;

    fn sign(&self, key: &SigningKey) -> String {
        let claims = B64.encode(serde_json::to_vec(self).expect("claims always serialize"));
        let signed = format!("{}.{claims}", Self::KIND.prefix());
        let signature = B64.encode(key.sign(signed.as_bytes()));
        format!("{signed}.{signature}")
    }

    /// Checks kind, signature and expiry, in that order, at time `now`.
    fn verify(token: &str, key: &VerifyingKey, now: i64) -> Result<Self, TokenError> {
        let (signed, signature) = token.rsplit_once('.').ok_or(TokenError::Malformed)?;
        let (prefix, claims) = signed.split_once('.').ok_or(TokenError::Malformed)?;
        if prefix != Self::KIND.prefix() {
            return Err(TokenError::WrongKind);
        }
        let signature = B64.decode(signature).map_err(|_| TokenError::Malformed)?;
        if !key.verify(signed.as_bytes(), &signature) {
            return Err(TokenError::BadSignature);
        }
        let claims = B64.decode(claims).map_err(|_| TokenError::Malformed)?;
        let claims: Self = serde_json::from_slice(&claims).map_err(|_| TokenError::Malformed)?;
        if claims.expires_at() <= now {
            return Err(TokenError::Expired);
        }
        Ok(claims)
    }
}

/// What a Passport session token says: who, which sign-in (refresh-token family), until when.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct SessionClaims {
    pub sub: UserId,
    /// The sign-in this token belongs to; revoking the sign-in invalidates the token.
    pub sid: String,
    pub iat: i64,
    pub exp: i64,
}

impl SignedClaims for SessionClaims {
    const KIND: TokenKind = TokenKind::Session;
    fn expires_at(&self) -> i64 {
        self.exp
    }
}

/// A Notification Server's permission for one user to join one switchboard room.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct SwitchboardTicket {
    pub sub: UserId,
    pub room: String,
    pub exp: i64,
}

impl SignedClaims for SwitchboardTicket {
    const KIND: TokenKind = TokenKind::SwitchboardTicket;
    fn expires_at(&self) -> i64 {
        self.exp
    }
}

pub fn unix_now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session(exp: i64) -> SessionClaims {
        SessionClaims { sub: UserId(3), sid: "s1".into(), iat: 100, exp }
    }

    #[test]
    fn signed_token_verifies_until_expiry() {
        let key = SigningKey::generate();
        let token = session(200).sign(&key);
        assert!(token.starts_with("mst1."));
        assert_eq!(SessionClaims::verify(&token, &key.verifying_key(), 199), Ok(session(200)));
        assert_eq!(SessionClaims::verify(&token, &key.verifying_key(), 200), Err(TokenError::Expired));
    }

    #[test]
    fn tampering_other_keys_and_kinds_are_refused() {
        let key = SigningKey::generate();
        let token = session(200).sign(&key);
        let other = SigningKey::generate().verifying_key();
        assert_eq!(SessionClaims::verify(&token, &other, 0), Err(TokenError::BadSignature));

        let forged_claims =
            B64.encode(serde_json::to_vec(&SessionClaims { sub: UserId(1), ..session(200) }).unwrap());
        let parts: Vec<&str> = token.split('.').collect();
        let forged = format!("{}.{}.{}", parts[0], forged_claims, parts[2]);
        assert_eq!(SessionClaims::verify(&forged, &key.verifying_key(), 0), Err(TokenError::BadSignature));

        let ticket = SwitchboardTicket { sub: UserId(3), room: "r".into(), exp: 200 }.sign(&key);
        assert_eq!(SessionClaims::verify(&ticket, &key.verifying_key(), 0), Err(TokenError::WrongKind));
        for junk in ["", "mst1", "mst1.x", "mst1.!!.??", "a.b.c.d"] {
            assert!(SessionClaims::verify(junk, &key.verifying_key(), 0).is_err(), "{junk}");
        }
    }
}
