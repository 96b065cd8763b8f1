//! The data export: everything Passport holds about one user, by the privacy policy's categories.

use mocha_api::{DataExport, RefreshTokenRecord, TokenLifetimes};
use mocha_auth::UserId;

use crate::store::on_read;
use crate::time_util::to_datetime;
use crate::{Passport, PassportError};

impl Passport {
    pub async fn export(&self, user: UserId) -> Result<DataExport, PassportError> {
        let account = self.account(user).await?;
        let tokens: Vec<(i64, i64, Option<i64>)> = on_read!(self.db, |e| {
            sqlx::query_as(
                "SELECT t.created_at, t.expires_at, t.revoked_at FROM refresh_tokens t JOIN sign_ins s ON s.id = t.sign_in_id
                 WHERE s.user_id = $1 ORDER BY t.created_at",
            )
            .bind(user.0)
            .fetch_all(e)
            .await
        })?;
        Ok(DataExport {
            account,
            password_storage:
                "Your password is stored only as a PBKDF2-SHA256 hash with its own random salt; \
                               neither can be turned back into the password, so they are not exported."
                    .to_string(),
            refresh_tokens: tokens
                .into_iter()
                .map(|(created, expires, revoked)| RefreshTokenRecord {
                    created_at: to_datetime(created),
                    expires_at: to_datetime(expires),
                    revoked_at: revoked.map(to_datetime),
                })
                .collect(),
            token_lifetimes: TokenLifetimes {
                session_token_seconds: self.config.session_token_lifetime.as_secs() as i64,
                refresh_token_seconds: self.config.refresh_token_lifetime.as_secs() as i64,
            },
            contacts: self.contacts(user).await?,
            blocked_users: self.blocks(user).await?,
            contact_requests: self.contact_requests(user).await?,
            privacy: self.privacy(user).await?,
            moderation: self.active_ban(user).await?,
            pending_activity_alerts: self.peek_alerts(user).await?,
        })
    }
}
