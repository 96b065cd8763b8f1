//! Sign-in, session tokens and refresh-token families.
//!
//! A sign-in is a family of refresh tokens. Each refresh rotates the token; a
//! rotated token presented again means it was stolen or replayed, so the whole
//! family is revoked. Session tokens name their family, so revoking a sign-in
//! also ends its session tokens.

use std::net::IpAddr;
use std::time::Duration;

use crate::accounts::{AccountRow, CredentialRow};
use crate::moderation::ActiveBanRow;
use crate::password::{PasswordHash, run_blocking};
use crate::store::{WriteTx, on_read, on_tx};
use crate::time_util::{now, to_datetime};
use crate::{Passport, PassportError, PassportEvent};
use mocha_api::{Account, SessionTokens, SignIn};
use mocha_auth::{SessionClaims, SignedClaims, TokenError, UserId};

/// Who made a request, once their session token checked out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Authenticated {
    pub user: UserId,
    pub sign_in: String,
}

/// A sign-in's revocation and its account's active ban (if any), in one row: the
/// columns of [`SignInStateRow`], for queries joining [`ACTIVE_BAN_JOIN`] to `sign_ins s`.
const SIGN_IN_STATE_COLUMNS: &str = "s.revoked_at, b.permanent AS ban_permanent, b.expires_at AS ban_expires_at, b.reason AS ban_reason, \
     b.issued_by AS ban_issued_by, b.issued_at AS ban_issued_at";
/// The account's ban, if one is in force at `$3` (now).
const ACTIVE_BAN_JOIN: &str =
    "LEFT JOIN bans b ON b.user_id = s.user_id AND (b.permanent OR b.expires_at > $3)";

#[derive(sqlx::FromRow)]
struct SignInStateRow {
    revoked_at: Option<i64>,
    #[sqlx(flatten)]
    ban: ActiveBanRow,
}

impl SignInStateRow {
    fn check(self) -> Result<(), PassportError> {
        if self.revoked_at.is_some() {
            return Err(PassportError::SignInRevoked);
        }
        match self.ban.into_ban() {
            Some(ban) => Err(PassportError::Banned(ban)),
            None => Ok(()),
        }
    }
}

#[derive(sqlx::FromRow)]
struct SignInAccountRow {
    #[sqlx(flatten)]
    state: SignInStateRow,
    #[sqlx(flatten)]
    account: AccountRow,
}

fn hash_refresh_token(token: &str) -> Vec<u8> {
    ring::digest::digest(&ring::digest::SHA256, token.as_bytes()).as_ref().to_vec()
}

fn seconds(duration: Duration) -> i64 {
    i64::try_from(duration.as_secs()).unwrap_or(i64::MAX)
}

#[derive(sqlx::FromRow)]
struct RefreshRow {
    sign_in_id: String,
    user_id: i64,
    expires_at: i64,
    revoked_at: Option<i64>,
    family_revoked_at: Option<i64>,
}

impl Passport {
    /// Checks a password and starts a new sign-in.
    pub async fn sign_in(
        &self,
        username: &str,
        password: &str,
        client: IpAddr,
    ) -> Result<SessionTokens, PassportError> {
        let result = self.check_sign_in(username, password, client).await;
        let outcome = match &result {
            Ok(_) => "ok",
            Err(PassportError::InvalidCredentials) => "wrong_password",
            Err(PassportError::RateLimited { .. }) => "rate_limited",
            Err(PassportError::Banned(_)) => "banned",
            Err(_) => "error",
        };
        metrics::counter!("mocha_sign_ins_total", "service" => "passport", "result" => outcome).increment(1);
        result
    }

    async fn check_sign_in(
        &self,
        username: &str,
        password: &str,
        client: IpAddr,
    ) -> Result<SessionTokens, PassportError> {
        let account_key = username.trim().to_ascii_lowercase();
        for (limiter, key) in
            [(&self.attempts_by_address, client.to_string()), (&self.attempts_by_account, account_key)]
        {
            limiter.attempt(&key).map_err(|retry_after| PassportError::RateLimited { retry_after })?;
        }
        let sql = format!(
            "SELECT id, username, password_hash, password_salt, password_iterations FROM users WHERE {}",
            self.db.dialect().username_is_param()
        );
        let credentials: Option<CredentialRow> = on_read!(self.db, |e| {
            sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(username.trim()).fetch_optional(e).await
        })?;
        let Some(credentials) = credentials else {
            // Spend the same time as a real check so timing does not reveal who exists.
            let iterations = self.config.pbkdf2_iterations;
            let decoy = run_blocking(move || PasswordHash::new("decoy", iterations)).await;
            let password = password.to_string();
            run_blocking(move || decoy.verify(&password)).await;
            return Err(PassportError::InvalidCredentials);
        };
        let user = UserId(credentials.id);
        if let Err(e) = self.check_password(credentials, password).await {
            tracing::info!(user = %user, %client, "sign-in refused: wrong password");
            return Err(e);
        }
        if let Some(ban) = self.active_ban(user).await? {
            tracing::info!(user = %user, %client, "sign-in refused: banned");
            return Err(PassportError::Banned(ban));
        }
        let sign_in = mocha_auth::random_id::<16>();
        let mut tx = self.db.begin_write().await?;
        on_tx!(&mut tx, |e| {
            sqlx::query("INSERT INTO sign_ins (id, user_id, created_at) VALUES ($1, $2, $3)")
                .bind(&sign_in)
                .bind(user.0)
                .bind(now())
                .execute(e)
                .await
                .map(drop)
        })?;
        let tokens = self.issue_tokens(&mut tx, user, &sign_in).await?;
        tx.commit().await?;
        tracing::info!(user = %user, %client, "signed in");
        Ok(tokens)
    }

    /// Trades a refresh token for a new pair, rotating it.
    pub async fn refresh(&self, refresh_token: &str) -> Result<SessionTokens, PassportError> {
        let mut tx = self.db.begin_write().await?;
        let row: Option<RefreshRow> = on_tx!(&mut tx, |e| {
            sqlx::query_as(
                "SELECT t.sign_in_id, s.user_id, t.expires_at, t.revoked_at, s.revoked_at AS family_revoked_at
                 FROM refresh_tokens t JOIN sign_ins s ON s.id = t.sign_in_id WHERE t.token_hash = $1",
            )
            .bind(hash_refresh_token(refresh_token))
            .fetch_optional(e)
            .await
        })?;
        let row = row.ok_or(PassportError::InvalidRefreshToken)?;
        let user = UserId(row.user_id);
        if row.family_revoked_at.is_some() {
            return Err(PassportError::SignInRevoked);
        }
        if row.revoked_at.is_some() {
            revoke_family(&mut tx, &row.sign_in_id, "refresh token reused").await?;
            tx.commit().await?;
            tracing::warn!(user = %user, sign_in = %row.sign_in_id, "rotated refresh token presented again; sign-in revoked");
            self.publish(PassportEvent::SignInRevoked { user, sign_in: row.sign_in_id });
            return Err(PassportError::RefreshTokenReused);
        }
        if row.expires_at <= now() {
            return Err(PassportError::RefreshTokenExpired);
        }
        if let Some(ban) = self.active_ban(user).await? {
            return Err(PassportError::Banned(ban));
        }
        on_tx!(&mut tx, |e| {
            sqlx::query("UPDATE refresh_tokens SET revoked_at = $1 WHERE token_hash = $2")
                .bind(now())
                .bind(hash_refresh_token(refresh_token))
                .execute(e)
                .await
                .map(drop)
        })?;
        let tokens = self.issue_tokens(&mut tx, user, &row.sign_in_id).await?;
        tx.commit().await?;
        Ok(tokens)
    }

    /// Signs out: revokes the sign-in the refresh token belongs to.
    pub async fn revoke(&self, refresh_token: &str) -> Result<(), PassportError> {
        let row: Option<(String, i64)> = on_read!(self.db, |e| {
            sqlx::query_as(
                "SELECT t.sign_in_id, s.user_id FROM refresh_tokens t JOIN sign_ins s ON s.id = t.sign_in_id
                 WHERE t.token_hash = $1",
            )
            .bind(hash_refresh_token(refresh_token))
            .fetch_optional(e)
            .await
        })?;
        let (sign_in, user) = row.ok_or(PassportError::InvalidRefreshToken)?;
        self.revoke_sign_in(UserId(user), &sign_in).await
    }

    /// Checks a session token: signature, expiry, its sign-in, the account, bans.
    pub async fn authenticate(&self, session_token: &str) -> Result<Authenticated, PassportError> {
        let authenticated = self.verify_session_token(session_token)?;
        self.recheck(&authenticated).await?;
        Ok(authenticated)
    }

    /// [`Self::authenticate`], also returning the account: one look at the database
    /// for a Notification Server sign-in instead of one per question.
    pub async fn authenticate_account(
        &self,
        session_token: &str,
    ) -> Result<(Authenticated, Account), PassportError> {
        let authenticated = self.verify_session_token(session_token)?;
        let account = self.live_sign_in(&authenticated).await?;
        Ok((authenticated, account))
    }

    fn verify_session_token(&self, session_token: &str) -> Result<Authenticated, PassportError> {
        let claims =
            SessionClaims::verify(session_token, &self.verifying_key, now()).map_err(|e| match e {
                TokenError::Expired => PassportError::SessionExpired,
                _ => PassportError::InvalidSessionToken,
            })?;
        Ok(Authenticated { user: claims.sub, sign_in: claims.sid })
    }

    /// Checks again that an already authenticated session's sign-in is live (not
    /// revoked, its account not deleted) and the account not banned — the database half
    /// of [`Self::authenticate`], without verifying the token's signature a second time.
    /// For a service that must catch a ban or revocation racing a sign-in.
    pub async fn recheck(&self, authenticated: &Authenticated) -> Result<(), PassportError> {
        self.live_sign_in(authenticated).await.map(|_| ())
    }

    /// The account of a sign-in that is live and not banned, in one query.
    async fn live_sign_in(&self, authenticated: &Authenticated) -> Result<Account, PassportError> {
        let sql = format!(
            "SELECT {SIGN_IN_STATE_COLUMNS}, u.id, u.username, u.display_name, u.is_admin, u.created_at
             FROM sign_ins s JOIN users u ON u.id = s.user_id {ACTIVE_BAN_JOIN}
             WHERE s.id = $1 AND s.user_id = $2"
        );
        let row: Option<SignInAccountRow> = on_read!(self.db, |e| {
            sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(&authenticated.sign_in)
                .bind(authenticated.user.0)
                .bind(now())
                .fetch_optional(e)
                .await
        })?;
        let row = row.ok_or(PassportError::InvalidSessionToken)?;
        row.state.check()?;
        Ok(row.account.into_account())
    }

    /// The account's live sign-ins, newest first.
    pub async fn sign_ins(&self, user: UserId, current: &str) -> Result<Vec<SignIn>, PassportError> {
        let rows: Vec<(String, i64, i64)> = on_read!(self.db, |e| {
            sqlx::query_as(
                "SELECT s.id, s.created_at, MAX(t.expires_at) FROM sign_ins s JOIN refresh_tokens t ON t.sign_in_id = s.id
                 WHERE s.user_id = $1 AND s.revoked_at IS NULL GROUP BY s.id HAVING MAX(t.expires_at) > $2
                 ORDER BY s.created_at DESC, s.id",
            )
            .bind(user.0)
            .bind(now())
            .fetch_all(e)
            .await
        })?;
        Ok(rows
            .into_iter()
            .map(|(id, created, expires)| SignIn {
                current: id == current,
                id,
                created_at: to_datetime(created),
                expires_at: to_datetime(expires),
            })
            .collect())
    }

    pub async fn revoke_sign_in(&self, user: UserId, sign_in: &str) -> Result<(), PassportError> {
        let mut tx = self.db.begin_write().await?;
        let owned: bool = on_tx!(&mut tx, |e| {
            sqlx::query_scalar("SELECT EXISTS(SELECT 1 FROM sign_ins WHERE id = $1 AND user_id = $2)")
                .bind(sign_in)
                .bind(user.0)
                .fetch_one(e)
                .await
        })?;
        if !owned {
            return Err(PassportError::NotFound("sign-in"));
        }
        revoke_family(&mut tx, sign_in, "signed out").await?;
        tx.commit().await?;
        tracing::info!(user = %user, sign_in, "sign-in revoked");
        self.publish(PassportEvent::SignInRevoked { user, sign_in: sign_in.to_string() });
        Ok(())
    }

    pub(crate) async fn revoke_all_sign_ins(
        &self,
        user: UserId,
        except: Option<&str>,
        reason: &str,
    ) -> Result<(), PassportError> {
        let mut tx = self.db.begin_write().await?;
        let families: Vec<String> = on_tx!(&mut tx, |e| {
            sqlx::query_scalar("SELECT id FROM sign_ins WHERE user_id = $1 AND revoked_at IS NULL")
                .bind(user.0)
                .fetch_all(e)
                .await
        })?;
        let ended: Vec<String> = families.into_iter().filter(|id| Some(id.as_str()) != except).collect();
        for family in &ended {
            revoke_family(&mut tx, family, reason).await?;
        }
        tx.commit().await?;
        for sign_in in ended {
            self.publish(PassportEvent::SignInRevoked { user, sign_in });
        }
        Ok(())
    }

    async fn issue_tokens(
        &self,
        tx: &mut WriteTx,
        user: UserId,
        sign_in: &str,
    ) -> Result<SessionTokens, PassportError> {
        let issued = now();
        let session_expires = issued.saturating_add(seconds(self.config.session_token_lifetime));
        let refresh_expires = issued.saturating_add(seconds(self.config.refresh_token_lifetime));
        let refresh_token = mocha_auth::random_id::<32>();
        let account_sql = format!("SELECT {} FROM users WHERE id = $1", crate::accounts::AccountRow::COLUMNS);
        let account: crate::accounts::AccountRow = on_tx!(tx, |e| {
            sqlx::query(
                "INSERT INTO refresh_tokens (token_hash, sign_in_id, created_at, expires_at) VALUES ($1, $2, $3, $4)",
            )
            .bind(hash_refresh_token(&refresh_token))
            .bind(sign_in)
            .bind(issued)
            .bind(refresh_expires)
            .execute(&mut *e)
            .await?;
            sqlx::query_as(sqlx::AssertSqlSafe(account_sql)).bind(user.0).fetch_one(e).await
        })?;
        let claims = SessionClaims { sub: user, sid: sign_in.to_string(), iat: issued, exp: session_expires };
        Ok(SessionTokens {
            account: account.into_account(),
            session_token: claims.sign(&self.signing_key),
            session_expires_at: to_datetime(session_expires),
            refresh_token,
            refresh_expires_at: to_datetime(refresh_expires),
        })
    }
}

async fn revoke_family(tx: &mut WriteTx, sign_in: &str, reason: &str) -> Result<(), PassportError> {
    let at = now();
    on_tx!(tx, |e| {
        sqlx::query(
            "UPDATE sign_ins SET revoked_at = $1, revoked_reason = $2 WHERE id = $3 AND revoked_at IS NULL",
        )
        .bind(at)
        .bind(reason)
        .bind(sign_in)
        .execute(&mut *e)
        .await?;
        sqlx::query("UPDATE refresh_tokens SET revoked_at = $1 WHERE sign_in_id = $2 AND revoked_at IS NULL")
            .bind(at)
            .bind(sign_in)
            .execute(e)
            .await
            .map(drop)
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use crate::testing::{Engine, TestDatabase};
    use crate::{Passport, PassportConfig, PassportError, StatusBoard};

    crate::engine_tests!(recheck_sees_revocations_and_bans_without_the_token);

    async fn recheck_sees_revocations_and_bans_without_the_token(engine: Engine) {
        let database = TestDatabase::create(engine).await;
        let config = PassportConfig { pbkdf2_iterations: 1_000, ..PassportConfig::default() };
        let key = mocha_auth::SigningKey::generate();
        let passport =
            Passport::open(&database.url, key, config, Arc::new(StatusBoard::default())).await.unwrap();
        let admin = passport.register("admin@example.com", "Admin", "correct horse 1").await.unwrap();
        passport.set_admin_by_username("admin@example.com", true).await.unwrap();
        let ann = passport.register("ann@example.com", "Ann", "correct horse 2").await.unwrap();
        let ip = std::net::IpAddr::from([127, 0, 0, 1]);

        let tokens = passport.sign_in("ann@example.com", "correct horse 2", ip).await.unwrap();
        let session = passport.authenticate(&tokens.session_token).await.unwrap();
        assert_eq!(session.user, ann.id);
        passport.recheck(&session).await.unwrap();
        passport.revoke(&tokens.refresh_token).await.unwrap();
        assert!(matches!(passport.recheck(&session).await, Err(PassportError::SignInRevoked)));

        let tokens = passport.sign_in("ann@example.com", "correct horse 2", ip).await.unwrap();
        let session = passport.authenticate(&tokens.session_token).await.unwrap();
        passport.ban(admin.id, ann.id, Some("spam"), None).await.unwrap();
        assert!(matches!(passport.recheck(&session).await, Err(PassportError::Banned(_))));
        assert!(matches!(passport.authenticate(&tokens.session_token).await, Err(PassportError::Banned(_))));

        let forged = crate::Authenticated { user: ann.id, sign_in: "no-such-sign-in".into() };
        assert!(matches!(passport.recheck(&forged).await, Err(PassportError::InvalidSessionToken)));
    }
}
