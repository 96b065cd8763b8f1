//! Activity alerts: what an offline user missed, kept until they poll for it.

use mocha_api::{ActivityAlert, UserSummary};
use mocha_auth::UserId;

use crate::store::{on_read, on_tx, on_write};
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
        on_write!(self.db, |e| {
            sqlx::query(
                "INSERT INTO activity_alerts
                   (id, recipient_id, kind, sender_id, sender_username, sender_display_name, text, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(&id)
            .bind(recipient.0)
            .bind(kind)
            .bind(sender.0)
            .bind(&from.username)
            .bind(&from.display_name)
            .bind(&text)
            .bind(now())
            .execute(e)
            .await
            .map(drop)
        })?;
        Ok(Some(id))
    }

    /// Returns the user's alerts, oldest first, and deletes them in the same transaction.
    /// Only those it returns: one filed meanwhile (on PostgreSQL a lone insert does not
    /// wait for this transaction) stays for the next poll.
    pub async fn poll_alerts(&self, user: UserId) -> Result<Vec<ActivityAlert>, PassportError> {
        let sql = self.alerts_sql();
        let mut tx = self.db.begin_write().await?;
        let rows: Vec<AlertRow> = on_tx!(&mut tx, |e| {
            let rows: Vec<AlertRow> =
                sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(user.0).fetch_all(&mut *e).await?;
            for row in &rows {
                sqlx::query("DELETE FROM activity_alerts WHERE id = $1")
                    .bind(&row.0)
                    .execute(&mut *e)
                    .await?;
            }
            Ok::<_, sqlx::Error>(rows)
        })?;
        tx.commit().await?;
        Ok(rows.into_iter().map(into_alert).collect())
    }

    /// The user's alerts, left in place (for the data export).
    pub(crate) async fn peek_alerts(&self, user: UserId) -> Result<Vec<ActivityAlert>, PassportError> {
        let sql = self.alerts_sql();
        let rows: Vec<AlertRow> =
            on_read!(self.db, |e| sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(user.0).fetch_all(e).await)?;
        Ok(rows.into_iter().map(into_alert).collect())
    }

    fn alerts_sql(&self) -> String {
        format!(
            "SELECT id, kind, sender_id, sender_username, sender_display_name, text, created_at
             FROM activity_alerts WHERE recipient_id = $1 ORDER BY created_at, {}",
            self.db.dialect().alert_order()
        )
    }
}

type AlertRow = (String, String, i64, String, String, String, i64);

fn into_alert((id, kind, sender_id, username, display_name, text, created): AlertRow) -> ActivityAlert {
    ActivityAlert {
        id,
        kind,
        sender: UserSummary { id: UserId(sender_id), username, display_name },
        text,
        created_at: to_datetime(created),
    }
}
