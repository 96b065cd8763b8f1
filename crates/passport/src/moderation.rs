//! Moderation: administrator access, bans, service notices.

use mocha_api::{Ban, ModeratedAccount, ServiceNotice};
use mocha_auth::UserId;
use time::OffsetDateTime;

use crate::accounts::AccountRow;
use crate::store::{on_read, on_write, on_write_found};
use crate::time_util::{now, to_datetime};
use crate::{Passport, PassportError, PassportEvent, validate};

#[derive(sqlx::FromRow)]
struct BanRow {
    permanent: bool,
    expires_at: Option<i64>,
    reason: Option<String>,
    issued_by: i64,
    issued_at: i64,
}

/// The columns of an active ban as `LEFT JOIN`ed beside another row (all `NULL` when
/// there is none), named `ban_*`.
#[derive(sqlx::FromRow)]
pub(crate) struct ActiveBanRow {
    ban_permanent: Option<bool>,
    ban_expires_at: Option<i64>,
    ban_reason: Option<String>,
    ban_issued_by: Option<i64>,
    ban_issued_at: Option<i64>,
}

impl ActiveBanRow {
    pub(crate) fn into_ban(self) -> Option<Ban> {
        let row = BanRow {
            permanent: self.ban_permanent?,
            expires_at: self.ban_expires_at,
            reason: self.ban_reason,
            issued_by: self.ban_issued_by?,
            issued_at: self.ban_issued_at?,
        };
        Some(row.into_ban())
    }
}

impl BanRow {
    fn into_ban(self) -> Ban {
        Ban {
            permanent: self.permanent,
            until: self.expires_at.map(to_datetime),
            reason: self.reason,
            issued_by: UserId(self.issued_by),
            issued_at: to_datetime(self.issued_at),
        }
    }
}

impl Passport {
    pub async fn require_admin(&self, user: UserId) -> Result<(), PassportError> {
        let is_admin: Option<bool> = on_read!(self.db, |e| {
            sqlx::query_scalar("SELECT is_admin FROM users WHERE id = $1")
                .bind(user.0)
                .fetch_optional(e)
                .await
        })?;
        if is_admin == Some(true) { Ok(()) } else { Err(PassportError::AdminOnly) }
    }

    /// The ban in force on `user`, if any; a temporary ban past its end no longer counts.
    pub async fn active_ban(&self, user: UserId) -> Result<Option<Ban>, PassportError> {
        let row: Option<BanRow> = on_read!(self.db, |e| {
            sqlx::query_as(
                "SELECT permanent, expires_at, reason, issued_by, issued_at FROM bans
                 WHERE user_id = $1 AND (permanent OR expires_at > $2)",
            )
            .bind(user.0)
            .bind(now())
            .fetch_optional(e)
            .await
        })?;
        Ok(row.map(BanRow::into_ban))
    }

    /// Bans `target` permanently (`until` is `None`) or until a time in the future.
    pub async fn ban(
        &self,
        admin: UserId,
        target: UserId,
        reason: Option<&str>,
        until: Option<OffsetDateTime>,
    ) -> Result<Ban, PassportError> {
        self.require_admin(admin).await?;
        if admin == target {
            return Err(PassportError::invalid("user_id", "you cannot ban yourself"));
        }
        self.account(target).await?;
        let reason = reason
            .map(|r| validate::text("reason", r, validate::MAX_BAN_REASON, true))
            .transpose()?
            .filter(|r| !r.is_empty());
        let expires_at = until.map(|u| u.unix_timestamp());
        if expires_at.is_some_and(|end| end <= now()) {
            return Err(PassportError::invalid("until", "a temporary ban must end in the future"));
        }
        on_write!(self.db, |e| {
            sqlx::query(
                "INSERT INTO bans (user_id, permanent, expires_at, reason, issued_by, issued_at)
                 VALUES ($1, $2, $3, $4, $5, $6)
                 ON CONFLICT (user_id) DO UPDATE SET permanent = excluded.permanent,
                    expires_at = excluded.expires_at, reason = excluded.reason,
                    issued_by = excluded.issued_by, issued_at = excluded.issued_at",
            )
            .bind(target.0)
            .bind(expires_at.is_none())
            .bind(expires_at)
            .bind(&reason)
            .bind(admin.0)
            .bind(now())
            .execute(e)
            .await
            .map(drop)
        })?;
        let ban = self.active_ban(target).await?.ok_or(PassportError::Internal("ban not stored".into()))?;
        tracing::info!(admin = %admin, user = %target, permanent = ban.permanent, "user banned");
        self.publish(PassportEvent::Banned { user: target, ban: ban.clone() });
        Ok(ban)
    }

    pub async fn unban(&self, admin: UserId, target: UserId) -> Result<(), PassportError> {
        self.require_admin(admin).await?;
        on_write_found!(self.db, "ban", sqlx::query("DELETE FROM bans WHERE user_id = $1").bind(target.0))?;
        tracing::info!(admin = %admin, user = %target, "user unbanned");
        Ok(())
    }

    pub async fn set_admin(
        &self,
        admin: UserId,
        target: UserId,
        is_admin: bool,
    ) -> Result<(), PassportError> {
        self.require_admin(admin).await?;
        self.store_admin(target, is_admin).await?;
        tracing::info!(admin = %admin, user = %target, is_admin, "administrator access changed");
        Ok(())
    }

    /// Finds accounts whose address or display name contains `query` (admins only).
    pub async fn find_accounts(
        &self,
        admin: UserId,
        query: &str,
    ) -> Result<Vec<ModeratedAccount>, PassportError> {
        self.require_admin(admin).await?;
        let pattern =
            format!("%{}%", query.trim().replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_"));
        let like = self.db.dialect().like();
        let sql = format!(
            "SELECT {} FROM users WHERE username {like} $1 ESCAPE '\\' OR display_name {like} $1 ESCAPE '\\'
             ORDER BY id LIMIT 100",
            AccountRow::COLUMNS
        );
        let rows: Vec<AccountRow> =
            on_read!(self.db, |e| sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(pattern).fetch_all(e).await)?;
        let mut found = Vec::with_capacity(rows.len());
        for row in rows {
            let account = row.into_account();
            let ban = self.active_ban(account.id).await?;
            found.push(ModeratedAccount { account, ban });
        }
        Ok(found)
    }

    /// Posts a notice to everyone online and to the status page.
    pub async fn post_notice(&self, admin: UserId, text: &str) -> Result<ServiceNotice, PassportError> {
        self.require_admin(admin).await?;
        let text = validate::text("text", text, validate::MAX_NOTICE, false)?;
        let notice = ServiceNotice { text, posted_at: OffsetDateTime::now_utc() };
        self.status.add_notice(notice.clone());
        tracing::info!(admin = %admin, "service notice posted");
        self.publish(PassportEvent::Notice(notice.clone()));
        Ok(notice)
    }
}
