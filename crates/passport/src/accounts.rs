//! Accounts: registration, profile, password change, deletion.

use mocha_api::{Account, UserSummary};
use mocha_auth::UserId;

use crate::password::{PasswordHash, run_blocking};
use crate::store::{on_read, on_tx, on_write, on_write_found};
use crate::time_util::{now, to_datetime};
use crate::{Passport, PassportError, PassportEvent, validate};

#[derive(sqlx::FromRow)]
pub(crate) struct AccountRow {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub is_admin: bool,
    pub created_at: i64,
}

impl AccountRow {
    pub const COLUMNS: &'static str = "id, username, display_name, is_admin, created_at";

    pub fn into_account(self) -> Account {
        Account {
            id: UserId(self.id),
            username: self.username,
            display_name: self.display_name,
            is_admin: self.is_admin,
            created_at: to_datetime(self.created_at),
        }
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct CredentialRow {
    pub id: i64,
    pub username: String,
    pub password_hash: Vec<u8>,
    pub password_salt: Vec<u8>,
    pub password_iterations: i64,
}

impl CredentialRow {
    pub fn into_hash(self) -> PasswordHash {
        PasswordHash {
            hash: self.password_hash,
            salt: self.password_salt,
            iterations: u32::try_from(self.password_iterations).unwrap_or(1),
        }
    }
}

/// Stores a new account row (the caller has validated every field) and returns its id.
/// Another account with the same address, whatever its case, is [`PassportError::UsernameTaken`].
pub(crate) async fn insert_user<'e, DB: sqlx::Database>(
    db: impl sqlx::Executor<'e, Database = DB>,
    username: &str,
    display_name: &str,
    hashed: &PasswordHash,
    created_at: i64,
) -> Result<UserId, PassportError>
where
    for<'q> &'q str: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> &'q [u8]: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> i64: sqlx::Encode<'q, DB> + sqlx::Decode<'q, DB> + sqlx::Type<DB>,
    DB::Arguments: sqlx::IntoArguments<DB>,
    usize: sqlx::ColumnIndex<DB::Row>,
{
    // `fetch_all`, not `fetch_one`: SQLite returns the row before its autocommit, and a
    // commit that fails (a full disk) shows only to a statement stepped to its end.
    let inserted: Result<Vec<i64>, sqlx::Error> = sqlx::query_scalar(
        "INSERT INTO users (username, display_name, password_hash, password_salt, password_iterations, created_at)
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
    )
    .bind(username)
    .bind(display_name)
    .bind(hashed.hash.as_slice())
    .bind(hashed.salt.as_slice())
    .bind(i64::from(hashed.iterations))
    .bind(created_at)
    .fetch_all(db)
    .await;
    match inserted {
        Ok(ids) => match ids[..] {
            [id] => Ok(UserId(id)),
            _ => Err(PassportError::Internal(format!("an insert returned {} ids", ids.len()))),
        },
        // Two registrations raced for the same address; the unique index decided.
        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => Err(PassportError::UsernameTaken),
        Err(e) => Err(e.into()),
    }
}

impl Passport {
    pub async fn register(
        &self,
        username: &str,
        display_name: &str,
        password: &str,
    ) -> Result<Account, PassportError> {
        let username = validate::username(username)?;
        let display_name = validate::display_name(display_name)?;
        validate::new_password(password, &username)?;
        if self.find_user_id(&username).await?.is_some() {
            return Err(PassportError::UsernameTaken);
        }
        let iterations = self.config.pbkdf2_iterations;
        let password = password.to_string();
        let hashed = run_blocking(move || PasswordHash::new(&password, iterations)).await;
        let id = on_write!(self.db, |e| insert_user(e, &username, &display_name, &hashed, now()).await)?;
        tracing::info!(user = %id, "account registered");
        self.account(id).await
    }

    pub async fn account(&self, user: UserId) -> Result<Account, PassportError> {
        let sql = format!("SELECT {} FROM users WHERE id = $1", AccountRow::COLUMNS);
        let row: Option<AccountRow> = on_read!(self.db, |e| {
            sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(user.0).fetch_optional(e).await
        })?;
        row.map(AccountRow::into_account).ok_or(PassportError::NotFound("account"))
    }

    pub async fn find_user_id(&self, username: &str) -> Result<Option<UserId>, PassportError> {
        let sql = format!("SELECT id FROM users WHERE {}", self.db.dialect().username_is_param());
        let id: Option<i64> = on_read!(self.db, |e| {
            sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).bind(username.trim()).fetch_optional(e).await
        })?;
        Ok(id.map(UserId))
    }

    pub async fn user_summary(&self, user: UserId) -> Result<UserSummary, PassportError> {
        let account = self.account(user).await?;
        Ok(UserSummary { id: account.id, username: account.username, display_name: account.display_name })
    }

    pub async fn set_display_name(&self, user: UserId, display_name: &str) -> Result<Account, PassportError> {
        let display_name = validate::display_name(display_name)?;
        on_write_found!(
            self.db,
            "account",
            sqlx::query("UPDATE users SET display_name = $1 WHERE id = $2").bind(&display_name).bind(user.0)
        )?;
        self.publish(PassportEvent::DisplayNameChanged { user, display_name });
        self.account(user).await
    }

    /// Changes the password and signs out every other sign-in of the account.
    pub async fn change_password(
        &self,
        user: UserId,
        keep_sign_in: Option<&str>,
        current: &str,
        new: &str,
    ) -> Result<(), PassportError> {
        let credentials = self.credentials_by_id(user).await?;
        validate::new_password(new, &credentials.username)?;
        self.check_password(credentials, current).await?;
        let iterations = self.config.pbkdf2_iterations;
        let new = new.to_string();
        let hashed = run_blocking(move || PasswordHash::new(&new, iterations)).await;
        on_write!(self.db, |e| {
            sqlx::query(
                "UPDATE users SET password_hash = $1, password_salt = $2, password_iterations = $3 WHERE id = $4",
            )
            .bind(&hashed.hash)
            .bind(&hashed.salt)
            .bind(i64::from(hashed.iterations))
            .bind(user.0)
            .execute(e)
            .await
            .map(drop)
        })?;
        self.revoke_all_sign_ins(user, keep_sign_in, "password changed").await?;
        tracing::info!(user = %user, "password changed");
        Ok(())
    }

    /// Deletes the account and every row about it, after checking the password.
    pub async fn delete_account(&self, user: UserId, password: &str) -> Result<(), PassportError> {
        let credentials = self.credentials_by_id(user).await?;
        self.check_password(credentials, password).await?;
        let mut tx = self.db.begin_write().await?;
        // Rows that point at the user by foreign key go with it (ON DELETE CASCADE);
        // alerts they sent to others only name them, so they go explicitly.
        on_tx!(&mut tx, |e| {
            sqlx::query("DELETE FROM activity_alerts WHERE sender_id = $1")
                .bind(user.0)
                .execute(&mut *e)
                .await?;
            sqlx::query("DELETE FROM users WHERE id = $1").bind(user.0).execute(e).await.map(drop)
        })?;
        tx.commit().await?;
        tracing::info!(user = %user, "account deleted");
        self.publish(PassportEvent::AccountDeleted { user });
        Ok(())
    }

    pub(crate) async fn credentials_by_id(&self, user: UserId) -> Result<CredentialRow, PassportError> {
        let row: Option<CredentialRow> = on_read!(self.db, |e| {
            sqlx::query_as(
                "SELECT id, username, password_hash, password_salt, password_iterations FROM users WHERE id = $1",
            )
            .bind(user.0)
            .fetch_optional(e)
            .await
        })?;
        row.ok_or(PassportError::NotFound("account"))
    }

    pub(crate) async fn check_password(
        &self,
        credentials: CredentialRow,
        password: &str,
    ) -> Result<(), PassportError> {
        let hash = credentials.into_hash();
        let password = password.to_string();
        if run_blocking(move || hash.verify(&password)).await {
            Ok(())
        } else {
            Err(PassportError::InvalidCredentials)
        }
    }

    /// Grants or removes administrator access by sign-in address, without any
    /// admin present: the offline bootstrap behind `mocha-server admin grant`.
    pub async fn set_admin_by_username(
        &self,
        username: &str,
        is_admin: bool,
    ) -> Result<Account, PassportError> {
        let user = self.find_user_id(username).await?.ok_or(PassportError::NotFound("account"))?;
        self.store_admin(user, is_admin).await?;
        self.account(user).await
    }

    /// Sets the administrator flag of an account that exists.
    pub(crate) async fn store_admin(&self, user: UserId, is_admin: bool) -> Result<(), PassportError> {
        on_write_found!(
            self.db,
            "account",
            sqlx::query("UPDATE users SET is_admin = $1 WHERE id = $2").bind(is_admin).bind(user.0)
        )
    }
}
