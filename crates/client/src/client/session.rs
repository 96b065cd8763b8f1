//! The Passport sign-in behind a client: the current session token, renewed with the
//! refresh token before it expires. Refresh tokens rotate on every use and a reused
//! one revokes the sign-in, so renewals are serialised behind one lock.

use std::sync::Arc;
use std::time::Duration;

use mocha_api::SessionTokens;
use time::OffsetDateTime;
use tokio::sync::Mutex;

use crate::{ClientError, PassportClient};

/// Called with every new refresh token, so an application can remember the sign-in.
pub type RefreshTokenSaver = Arc<dyn Fn(&str) + Send + Sync>;

pub(crate) struct Session {
    passport: PassportClient,
    tokens: Mutex<SessionTokens>,
    margin: Duration,
    saver: Option<RefreshTokenSaver>,
}

impl Session {
    pub(crate) fn new(
        passport: PassportClient,
        tokens: SessionTokens,
        margin: Duration,
        saver: Option<RefreshTokenSaver>,
    ) -> Self {
        if let Some(save) = &saver {
            save(&tokens.refresh_token);
        }
        Self { passport, tokens: Mutex::new(tokens), margin, saver }
    }

    /// A session token good for at least the margin (renewed first if needed).
    pub(crate) async fn token(&self) -> Result<String, ClientError> {
        let mut tokens = self.tokens.lock().await;
        if OffsetDateTime::now_utc() + self.margin >= tokens.session_expires_at {
            self.renew(&mut tokens).await?;
        }
        Ok(tokens.session_token.clone())
    }

    /// Renews now, whatever the expiry says (the server said the token expired).
    pub(crate) async fn renew_now(&self) -> Result<(String, OffsetDateTime), ClientError> {
        let mut tokens = self.tokens.lock().await;
        self.renew(&mut tokens).await?;
        Ok((tokens.session_token.clone(), tokens.session_expires_at))
    }

    async fn renew(&self, tokens: &mut SessionTokens) -> Result<(), ClientError> {
        let fresh = self.passport.refresh(&tokens.refresh_token).await?;
        if let Some(save) = &self.saver {
            save(&fresh.refresh_token);
        }
        *tokens = fresh;
        Ok(())
    }

    /// When the token should be renewed: the margin before it expires.
    pub(crate) async fn renew_at(&self) -> OffsetDateTime {
        self.tokens.lock().await.session_expires_at - self.margin
    }

    pub(crate) async fn refresh_token(&self) -> String {
        self.tokens.lock().await.refresh_token.clone()
    }
}
