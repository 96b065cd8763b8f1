//! Activity alerts: what an offline user missed, kept until they poll for it.

use mocha_api::{ActivityAlert, UserSummary};
use mocha_auth::UserId;

use crate::time_util::{now, to_datetime};
use crate::{Passport, PassportError};

/// Alert text is cut to this many characters (never inside a character).
pub const MAX_ALERT_TEXT: usize = 320;

impl Passport {
    /// Files an alert for `recipient` about something `sender` did while they were away.
    /// Returns `None` (and stores nothing) when the recipient may not hear from the sender.
    pub async fn file_alert(
        &self,
        recipient: UserId,
        kind: &str,
        sender: UserId,
        text: &str,
    ) -> Result<Option<String>, PassportError> {
        if self.blocked_either_way(recipient, sender).await? {
            return Ok(None);
        }
        // Make sure the recipient exists: an alert for nobody is an error, not a silent row.
        self.account(recipient).await?;
        let from = self.user_summary(sender).await?;
        let id = mocha_auth::random_id::<12>();
        let text: String = text.chars().take(MAX_ALERT_TEXT).collect();
        sqlx::query(
            "INSERT INTO activity_alerts
               (id, recipient_id, kind, sender_id, sender_username, sender_display_name, text, created_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&id)
        .bind(recipient.0)
        .bind(kind)
        .bind(sender.0)
        .bind(&from.username)
        .bind(&from.display_name)
        .bind(&text)
        .bind(now())
        .execute(&self.db.write)
        .await?;
        Ok(Some(id))
    }

    /// Returns the user's alerts, oldest first, and deletes them in the same transaction.
    pub async fn poll_alerts(&self, user: UserId) -> Result<Vec<ActivityAlert>, PassportError> {
        let mut tx = self.db.begin_write().await?;
        let alerts = alerts_of(&mut *tx, user).await?;
        sqlx::query("DELETE FROM activity_alerts WHERE recipient_id = ?")
            .bind(user.0)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(alerts)
    }

    /// The user's alerts, left in place (for the data export).
    pub(crate) async fn peek_alerts(&self, user: UserId) -> Result<Vec<ActivityAlert>, PassportError> {
        alerts_of(&self.db.read, user).await
    }
}

async fn alerts_of<'e>(
    db: impl sqlx::Executor<'e, Database = sqlx::Sqlite>,
    user: UserId,
) -> Result<Vec<ActivityAlert>, PassportError> {
    let rows: Vec<(String, String, i64, String, String, String, i64)> = sqlx::query_as(
        "SELECT id, kind, sender_id, sender_username, sender_display_name, text, created_at
         FROM activity_alerts WHERE recipient_id = ? ORDER BY created_at, rowid",
    )
    .bind(user.0)
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(id, kind, sender_id, username, display_name, text, created)| ActivityAlert {
            id,
            kind,
            sender: UserSummary { id: UserId(sender_id), username, display_name },
            text,
            created_at: to_datetime(created),
        })
        .collect())
}
