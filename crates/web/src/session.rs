//! Web sessions: the browser holds only a random cookie; the Passport tokens of
//! its sign-in stay here, in memory.
//!
//! A web sign-in is an ordinary Passport sign-in (it shows among the account's
//! sign-ins and can be revoked from anywhere). Each request re-authenticates the
//! session token with Passport, which re-checks the sign-in, the account and
//! bans; an expiring session token is refreshed under the session's own lock, so
//! two requests at once never present the same refresh token twice (Passport
//! would take that for theft and revoke the sign-in).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mocha_api::SessionTokens;
use mocha_passport::{Authenticated, Passport, PassportError, UserId};
use time::OffsetDateTime;

/// Refresh this long before the session token would expire.
const REFRESH_MARGIN: Duration = Duration::from_secs(30);
/// Past this many sessions, expired ones are swept and then the oldest evicted,
/// so a flood of sign-ins cannot grow memory without bound.
const MAX_SESSIONS: usize = 50_000;

/// The SHA-256 of a session cookie: what the store is keyed by, so the store
/// itself never holds a value a browser could present.
pub type SessionKey = [u8; 32];

pub fn session_key(cookie: &str) -> SessionKey {
    let digest = ring::digest::digest(&ring::digest::SHA256, cookie.as_bytes());
    let mut key = [0u8; 32];
    key.copy_from_slice(digest.as_ref());
    key
}

struct Tokens {
    session_token: String,
    session_expires_at: OffsetDateTime,
    refresh_token: String,
    refresh_expires_at: OffsetDateTime,
}

impl From<SessionTokens> for Tokens {
    fn from(t: SessionTokens) -> Self {
        Self {
            session_token: t.session_token,
            session_expires_at: t.session_expires_at,
            refresh_token: t.refresh_token,
            refresh_expires_at: t.refresh_expires_at,
        }
    }
}

pub struct WebSession {
    pub key: SessionKey,
    pub user: UserId,
    tokens: tokio::sync::Mutex<Tokens>,
    /// A copy of the refresh token's end, readable without the async lock.
    expires_at: Mutex<OffsetDateTime>,
}

#[derive(Default)]
pub struct WebSessions {
    sessions: Mutex<HashMap<SessionKey, Arc<WebSession>>>,
}

impl WebSessions {
    /// Keeps a fresh Passport sign-in and returns the cookie value that names it.
    pub fn insert(&self, tokens: SessionTokens) -> String {
        let cookie = mocha_auth::random_id::<32>();
        let key = session_key(&cookie);
        let session = Arc::new(WebSession {
            key,
            user: tokens.account.id,
            expires_at: Mutex::new(tokens.refresh_expires_at),
            tokens: tokio::sync::Mutex::new(tokens.into()),
        });
        let mut sessions = self.lock();
        if sessions.len() >= MAX_SESSIONS {
            make_room(&mut sessions);
        }
        sessions.insert(key, session);
        cookie
    }

    pub fn get(&self, cookie: &str) -> Option<Arc<WebSession>> {
        self.lock().get(&session_key(cookie)).cloned()
    }

    pub fn remove(&self, key: &SessionKey) {
        self.lock().remove(key);
    }

    /// Forgets every web session of a user (their account is gone).
    pub fn remove_user(&self, user: UserId) {
        self.lock().retain(|_, session| session.user != user);
    }

    /// Checks the session with Passport, refreshing its token first if needed.
    /// A session Passport refuses is forgotten.
    pub async fn authenticate(
        &self,
        passport: &Passport,
        session: &WebSession,
    ) -> Result<Authenticated, PassportError> {
        let result = authenticate(passport, session).await;
        if result.is_err() {
            self.remove(&session.key);
        }
        result
    }

    /// Signs out: revokes the Passport sign-in and forgets the session.
    pub async fn sign_out(&self, passport: &Passport, session: &WebSession) -> Result<(), PassportError> {
        self.remove(&session.key);
        let tokens = session.tokens.lock().await;
        passport.revoke(&tokens.refresh_token).await
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<SessionKey, Arc<WebSession>>> {
        self.sessions.lock().unwrap_or_else(|e| e.into_inner())
    }
}

async fn authenticate(passport: &Passport, session: &WebSession) -> Result<Authenticated, PassportError> {
    let mut tokens = session.tokens.lock().await;
    let now = OffsetDateTime::now_utc();
    if tokens.session_expires_at - REFRESH_MARGIN <= now {
        refresh(passport, session, &mut tokens).await?;
    }
    match passport.authenticate(&tokens.session_token).await {
        Err(PassportError::SessionExpired) => {
            // The clock moved past the margin while we waited: refresh once more.
            refresh(passport, session, &mut tokens).await?;
            passport.authenticate(&tokens.session_token).await
        }
        result => result,
    }
}

async fn refresh(
    passport: &Passport,
    session: &WebSession,
    tokens: &mut Tokens,
) -> Result<(), PassportError> {
    *tokens = passport.refresh(&tokens.refresh_token).await?.into();
    *session.expires_at.lock().unwrap_or_else(|e| e.into_inner()) = tokens.refresh_expires_at;
    Ok(())
}

fn make_room(sessions: &mut HashMap<SessionKey, Arc<WebSession>>) {
    let now = OffsetDateTime::now_utc();
    let expires = |s: &WebSession| *s.expires_at.lock().unwrap_or_else(|e| e.into_inner());
    sessions.retain(|_, session| expires(session) > now);
    if sessions.len() >= MAX_SESSIONS {
        let oldest = sessions.iter().min_by_key(|(_, s)| expires(s)).map(|(key, _)| *key);
        if let Some(key) = oldest {
            sessions.remove(&key);
        }
    }
}
