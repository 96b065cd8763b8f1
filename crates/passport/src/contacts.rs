//! Contacts, contact requests, blocks and the privacy rules built on them.
//!
//! A contact is mutual: accepting a request adds each user to the other's list
//! (each keeps their own alias), and removing ends it for both. A block is
//! one-way: the blocked user sees the blocker offline and cannot reach them.

use mocha_api::{
    BlockedUser, Contact, ContactListEvent, ContactRequest, ContactRequestCreated, ContactRequestOutcome,
    ContactRequests, NewContactRequest, PrivacySettings, RequestPolicy, UserSummary,
};
use mocha_auth::UserId;

use crate::store::{WriteTx, on_read, on_tx, on_write, on_write_found};
use crate::time_util::{now, to_datetime};
use crate::{Passport, PassportError, PassportEvent, validate};

/// Which end of a contact request someone is.
#[derive(Clone, Copy)]
enum Side {
    Sender,
    Recipient,
}

#[derive(sqlx::FromRow)]
struct RequestRow {
    id: i64,
    message: Option<String>,
    created_at: i64,
    from_id: i64,
    from_username: String,
    from_display_name: String,
    to_id: i64,
    to_username: String,
    to_display_name: String,
}

const REQUEST_SELECT: &str = "SELECT r.id, r.message, r.created_at,
        f.id AS from_id, f.username AS from_username, f.display_name AS from_display_name,
        t.id AS to_id, t.username AS to_username, t.display_name AS to_display_name
     FROM contact_requests r JOIN users f ON f.id = r.from_id JOIN users t ON t.id = r.to_id";

impl RequestRow {
    fn into_request(self) -> ContactRequest {
        ContactRequest {
            id: self.id,
            from: UserSummary {
                id: UserId(self.from_id),
                username: self.from_username,
                display_name: self.from_display_name,
            },
            to: UserSummary {
                id: UserId(self.to_id),
                username: self.to_username,
                display_name: self.to_display_name,
            },
            message: self.message,
            created_at: to_datetime(self.created_at),
        }
    }
}

#[derive(sqlx::FromRow)]
struct SummaryRow {
    id: i64,
    username: String,
    display_name: String,
}

impl SummaryRow {
    fn into_summary(self) -> UserSummary {
        UserSummary { id: UserId(self.id), username: self.username, display_name: self.display_name }
    }
}

impl Passport {
    pub async fn contacts(&self, user: UserId) -> Result<Vec<Contact>, PassportError> {
        let rows: Vec<(i64, String, String, Option<String>, i64, bool)> = on_read!(self.db, |e| {
            sqlx::query_as(
                "SELECT u.id, u.username, u.display_name, c.alias, c.created_at,
                        EXISTS(SELECT 1 FROM blocks b WHERE b.blocker_id = c.owner_id AND b.blocked_id = u.id)
                 FROM contacts c JOIN users u ON u.id = c.contact_id WHERE c.owner_id = $1 ORDER BY u.username",
            )
            .bind(user.0)
            .fetch_all(e)
            .await
        })?;
        Ok(rows
            .into_iter()
            .map(|(id, username, display_name, alias, since, blocked)| Contact {
                user: UserSummary { id: UserId(id), username, display_name },
                alias,
                blocked,
                since: to_datetime(since),
            })
            .collect())
    }

    pub async fn set_alias(
        &self,
        user: UserId,
        contact: UserId,
        alias: Option<&str>,
    ) -> Result<(), PassportError> {
        let alias = match alias.map(|a| validate::text("alias", a, validate::MAX_ALIAS, true)).transpose()? {
            Some(a) if a.is_empty() => None,
            other => other,
        };
        on_write_found!(
            self.db,
            "contact",
            sqlx::query("UPDATE contacts SET alias = $1 WHERE owner_id = $2 AND contact_id = $3")
                .bind(&alias)
                .bind(user.0)
                .bind(contact.0)
        )?;
        self.publish(PassportEvent::ContactList {
            user,
            event: ContactListEvent::AliasChanged { contact, alias },
        });
        Ok(())
    }

    /// Ends the contact for both users.
    pub async fn remove_contact(&self, user: UserId, contact: UserId) -> Result<(), PassportError> {
        on_write_found!(
            self.db,
            "contact",
            sqlx::query(
                "DELETE FROM contacts WHERE (owner_id = $1 AND contact_id = $2) OR (owner_id = $2 AND contact_id = $1)",
            )
            .bind(user.0)
            .bind(contact.0)
        )?;
        let by = self.user_summary(user).await?;
        self.publish(PassportEvent::ContactList {
            user: contact,
            event: ContactListEvent::ContactRemoved { by },
        });
        let gone = self.user_summary(contact).await?;
        self.publish(PassportEvent::ContactList {
            user,
            event: ContactListEvent::ContactRemoved { by: gone },
        });
        Ok(())
    }

    pub async fn contact_requests(&self, user: UserId) -> Result<ContactRequests, PassportError> {
        let sql = format!("{REQUEST_SELECT} WHERE r.from_id = $1 OR r.to_id = $1 ORDER BY r.id");
        let rows: Vec<RequestRow> = on_read!(self.db, |e| {
            sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(user.0).fetch_all(e).await
        })?;
        let (incoming, outgoing) =
            rows.into_iter().map(RequestRow::into_request).partition(|r| r.to.id == user);
        Ok(ContactRequests { incoming, outgoing })
    }

    /// Asks `target` to become a contact. If they had already asked, it is mutual: accepted at once.
    pub async fn send_contact_request(
        &self,
        user: UserId,
        target: &NewContactRequest,
    ) -> Result<ContactRequestCreated, PassportError> {
        let message = target
            .message
            .as_deref()
            .map(|m| validate::text("message", m, validate::MAX_REQUEST_MESSAGE, true))
            .transpose()?
            .filter(|m| !m.is_empty());
        let to = match (&target.user_id, &target.username) {
            (Some(id), _) => self.account(*id).await.map(|a| a.id)?,
            (None, Some(name)) => self.find_user_id(name).await?.ok_or(PassportError::NotFound("user"))?,
            (None, None) => {
                return Err(PassportError::invalid("username", "say who to add: username or user_id"));
            }
        };
        if to == user {
            return Err(PassportError::invalid("username", "you cannot add yourself"));
        }
        let mut tx = self.db.begin_write().await?;
        let blocked = on_tx!(&mut tx, |e| is_blocked_either_way(e, user, to).await)?;
        if blocked {
            return Err(PassportError::RequestNotAllowed);
        }
        if are_contacts(&mut tx, user, to).await? {
            return Err(PassportError::Conflict("you are already contacts"));
        }
        if let Some(theirs) = pending_request_id(&mut tx, to, user).await? {
            tx.commit().await?;
            let contact = self.accept_contact_request(user, theirs).await?;
            return Ok(ContactRequestCreated {
                outcome: ContactRequestOutcome::Accepted,
                request: None,
                contact: Some(contact),
            });
        }
        if pending_request_id(&mut tx, user, to).await?.is_some() {
            return Err(PassportError::Conflict("you have already asked this user"));
        }
        let policy: String = on_tx!(&mut tx, |e| {
            sqlx::query_scalar("SELECT contact_requests_from FROM users WHERE id = $1")
                .bind(to.0)
                .fetch_one(e)
                .await
        })?;
        if RequestPolicy::parse(&policy) == Some(RequestPolicy::Nobody) {
            return Err(PassportError::RequestNotAllowed);
        }
        let id: i64 = on_tx!(&mut tx, |e| {
            sqlx::query_scalar(
                "INSERT INTO contact_requests (from_id, to_id, message, created_at) VALUES ($1, $2, $3, $4)
                 RETURNING id",
            )
            .bind(user.0)
            .bind(to.0)
            .bind(&message)
            .bind(now())
            .fetch_one(e)
            .await
        })?;
        tx.commit().await?;
        let request = self.contact_request(id).await?;
        self.publish(PassportEvent::ContactList {
            user: to,
            event: ContactListEvent::RequestReceived { request: request.clone() },
        });
        self.publish(PassportEvent::ContactList {
            user,
            event: ContactListEvent::RequestSent { request: request.clone() },
        });
        Ok(ContactRequestCreated {
            outcome: ContactRequestOutcome::Pending,
            request: Some(request),
            contact: None,
        })
    }

    async fn contact_request(&self, id: i64) -> Result<ContactRequest, PassportError> {
        let sql = format!("{REQUEST_SELECT} WHERE r.id = $1");
        let row: Option<RequestRow> =
            on_read!(self.db, |e| sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(e).await)?;
        row.map(RequestRow::into_request).ok_or(PassportError::NotFound("contact request"))
    }

    /// The recipient accepts: both become contacts.
    pub async fn accept_contact_request(&self, user: UserId, id: i64) -> Result<Contact, PassportError> {
        let request = self.contact_request(id).await?;
        if request.to.id != user {
            return Err(PassportError::NotFound("contact request"));
        }
        let from = request.from.id;
        let mut tx = self.db.begin_write().await?;
        let at = now();
        for (owner, contact) in [(user, from), (from, user)] {
            on_tx!(&mut tx, |e| insert_contact(e, owner, contact, at).await)?;
        }
        delete_requests_between(&mut tx, user, from).await?;
        tx.commit().await?;
        self.publish(PassportEvent::ContactList {
            user: from,
            event: ContactListEvent::RequestAccepted { by: request.to },
        });
        self.publish(PassportEvent::ContactList {
            user,
            event: ContactListEvent::ContactAdded { contact: request.from.clone() },
        });
        let contacts = self.contacts(user).await?;
        contacts.into_iter().find(|c| c.user.id == from).ok_or(PassportError::NotFound("contact"))
    }

    /// The recipient says no; the sender is told.
    pub async fn decline_contact_request(&self, user: UserId, id: i64) -> Result<(), PassportError> {
        self.drop_request(user, id, Side::Recipient).await
    }

    /// The sender withdraws the request; the recipient is told.
    pub async fn cancel_contact_request(&self, user: UserId, id: i64) -> Result<(), PassportError> {
        self.drop_request(user, id, Side::Sender).await
    }

    /// Deletes a pending request for the side `user` is on, and tells the other side.
    /// To anyone else the request does not exist.
    async fn drop_request(&self, user: UserId, id: i64, side: Side) -> Result<(), PassportError> {
        let request = self.contact_request(id).await?;
        let (by, other) = match side {
            Side::Recipient => (request.to, request.from),
            Side::Sender => (request.from, request.to),
        };
        if by.id != user {
            return Err(PassportError::NotFound("contact request"));
        }
        on_write!(self.db, |e| {
            sqlx::query("DELETE FROM contact_requests WHERE id = $1").bind(id).execute(e).await.map(drop)
        })?;
        let event = match side {
            Side::Recipient => ContactListEvent::RequestDeclined { by },
            Side::Sender => ContactListEvent::RequestCancelled { by },
        };
        self.publish(PassportEvent::ContactList { user: other.id, event });
        Ok(())
    }

    pub async fn blocks(&self, user: UserId) -> Result<Vec<BlockedUser>, PassportError> {
        let rows: Vec<(i64, String, String, i64)> = on_read!(self.db, |e| {
            sqlx::query_as(
                "SELECT u.id, u.username, u.display_name, b.created_at FROM blocks b JOIN users u ON u.id = b.blocked_id
                 WHERE b.blocker_id = $1 ORDER BY u.username",
            )
            .bind(user.0)
            .fetch_all(e)
            .await
        })?;
        Ok(rows
            .into_iter()
            .map(|(id, username, display_name, since)| BlockedUser {
                user: UserSummary { id: UserId(id), username, display_name },
                since: to_datetime(since),
            })
            .collect())
    }

    /// Blocks `target`: they see you offline, cannot reach you, and pending requests between you go.
    pub async fn block(&self, user: UserId, target: UserId) -> Result<(), PassportError> {
        if user == target {
            return Err(PassportError::invalid("user_id", "you cannot block yourself"));
        }
        let blocked = self.user_summary(target).await?;
        let mut tx = self.db.begin_write().await?;
        on_tx!(&mut tx, |e| {
            sqlx::query(
                "INSERT INTO blocks (blocker_id, blocked_id, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
            )
            .bind(user.0)
            .bind(target.0)
            .bind(now())
            .execute(e)
            .await
            .map(drop)
        })?;
        delete_requests_between(&mut tx, user, target).await?;
        tx.commit().await?;
        tracing::info!(user = %user, blocked = %target, "user blocked");
        self.publish(PassportEvent::ContactList { user, event: ContactListEvent::Blocked { user: blocked } });
        Ok(())
    }

    pub async fn unblock(&self, user: UserId, target: UserId) -> Result<(), PassportError> {
        on_write_found!(
            self.db,
            "block",
            sqlx::query("DELETE FROM blocks WHERE blocker_id = $1 AND blocked_id = $2")
                .bind(user.0)
                .bind(target.0)
        )?;
        let unblocked = self.user_summary(target).await?;
        self.publish(PassportEvent::ContactList {
            user,
            event: ContactListEvent::Unblocked { user: unblocked },
        });
        Ok(())
    }

    pub async fn privacy(&self, user: UserId) -> Result<PrivacySettings, PassportError> {
        let policy: Option<String> = on_read!(self.db, |e| {
            sqlx::query_scalar("SELECT contact_requests_from FROM users WHERE id = $1")
                .bind(user.0)
                .fetch_optional(e)
                .await
        })?;
        let policy = policy.ok_or(PassportError::NotFound("account"))?;
        let can_see_me = self.watchers(user).await?;
        let requesting: Vec<SummaryRow> = on_read!(self.db, |e| {
            sqlx::query_as(
                "SELECT u.id, u.username, u.display_name FROM contact_requests r JOIN users u ON u.id = r.from_id
                 WHERE r.to_id = $1 ORDER BY u.username",
            )
            .bind(user.0)
            .fetch_all(e)
            .await
        })?;
        Ok(PrivacySettings {
            contact_requests: RequestPolicy::parse(&policy).unwrap_or_default(),
            can_see_me,
            requesting_me: requesting.into_iter().map(SummaryRow::into_summary).collect(),
        })
    }

    pub async fn set_request_policy(&self, user: UserId, policy: RequestPolicy) -> Result<(), PassportError> {
        on_write!(self.db, |e| {
            sqlx::query("UPDATE users SET contact_requests_from = $1 WHERE id = $2")
                .bind(policy.as_str())
                .bind(user.0)
                .execute(e)
                .await
                .map(drop)
        })?;
        Ok(())
    }

    /// Who may see `user`'s presence: accepted contacts that `user` has not blocked.
    pub async fn watchers(&self, user: UserId) -> Result<Vec<UserSummary>, PassportError> {
        let rows: Vec<SummaryRow> = on_read!(self.db, |e| {
            sqlx::query_as(
                "SELECT u.id, u.username, u.display_name FROM contacts c JOIN users u ON u.id = c.contact_id
                 WHERE c.owner_id = $1
                   AND NOT EXISTS (SELECT 1 FROM blocks b WHERE b.blocker_id = $1 AND b.blocked_id = c.contact_id)
                 ORDER BY u.username",
            )
            .bind(user.0)
            .fetch_all(e)
            .await
        })?;
        Ok(rows.into_iter().map(SummaryRow::into_summary).collect())
    }

    /// May `viewer` see `subject`'s presence?
    pub async fn can_see(&self, viewer: UserId, subject: UserId) -> Result<bool, PassportError> {
        let visible: bool = on_read!(self.db, |e| {
            sqlx::query_scalar(
                "SELECT EXISTS(SELECT 1 FROM contacts WHERE owner_id = $1 AND contact_id = $2)
                    AND NOT EXISTS(SELECT 1 FROM blocks WHERE blocker_id = $1 AND blocked_id = $2)",
            )
            .bind(subject.0)
            .bind(viewer.0)
            .fetch_one(e)
            .await
        })?;
        Ok(visible)
    }

    /// Has either user blocked the other?
    pub async fn blocked_either_way(&self, a: UserId, b: UserId) -> Result<bool, PassportError> {
        Ok(on_read!(self.db, |e| is_blocked_either_way(e, a, b).await)?)
    }
}

async fn is_blocked_either_way<'e, DB: sqlx::Database>(
    db: impl sqlx::Executor<'e, Database = DB>,
    a: UserId,
    b: UserId,
) -> Result<bool, sqlx::Error>
where
    for<'q> i64: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'r> bool: sqlx::Decode<'r, DB> + sqlx::Type<DB>,
    DB::Arguments: sqlx::IntoArguments<DB>,
    usize: sqlx::ColumnIndex<DB::Row>,
{
    sqlx::query_scalar(
        "SELECT EXISTS(SELECT 1 FROM blocks WHERE (blocker_id = $1 AND blocked_id = $2) OR (blocker_id = $2 AND blocked_id = $1))",
    )
    .bind(a.0)
    .bind(b.0)
    .fetch_one(db)
    .await
}

/// Adds `contact` to `owner`'s list, if not there already.
pub(crate) async fn insert_contact<'e, DB: sqlx::Database>(
    db: impl sqlx::Executor<'e, Database = DB>,
    owner: UserId,
    contact: UserId,
    at: i64,
) -> Result<(), sqlx::Error>
where
    for<'q> i64: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    DB::Arguments: sqlx::IntoArguments<DB>,
{
    sqlx::query(
        "INSERT INTO contacts (owner_id, contact_id, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
    )
    .bind(owner.0)
    .bind(contact.0)
    .bind(at)
    .execute(db)
    .await
    .map(drop)
}

async fn are_contacts(tx: &mut WriteTx, a: UserId, b: UserId) -> Result<bool, PassportError> {
    Ok(on_tx!(tx, |e| {
        sqlx::query_scalar("SELECT EXISTS(SELECT 1 FROM contacts WHERE owner_id = $1 AND contact_id = $2)")
            .bind(a.0)
            .bind(b.0)
            .fetch_one(e)
            .await
    })?)
}

async fn pending_request_id(
    tx: &mut WriteTx,
    from: UserId,
    to: UserId,
) -> Result<Option<i64>, PassportError> {
    Ok(on_tx!(tx, |e| {
        sqlx::query_scalar("SELECT id FROM contact_requests WHERE from_id = $1 AND to_id = $2")
            .bind(from.0)
            .bind(to.0)
            .fetch_optional(e)
            .await
    })?)
}

async fn delete_requests_between(tx: &mut WriteTx, a: UserId, b: UserId) -> Result<(), PassportError> {
    on_tx!(tx, |e| {
        sqlx::query(
            "DELETE FROM contact_requests WHERE (from_id = $1 AND to_id = $2) OR (from_id = $2 AND to_id = $1)",
        )
        .bind(a.0)
        .bind(b.0)
        .execute(e)
        .await
        .map(drop)
    })?;
    Ok(())
}
