//! **Test fixtures for load generators** (feature `bench-fixtures`, off by default).
//!
//! `mocha-bench` needs tens of thousands of accounts, contacts and session tokens in
//! seconds. Registering each account and signing each in would cost two PBKDF2 runs
//! per user at the configured cost (600,000 iterations by default: hours for 50k
//! users on two cores). These methods write the same rows directly instead:
//!
//! - the password cost is **not** weakened: the one password is hashed once, with
//!   this Passport's configured iteration count, and every fixture account stores
//!   that hash (same salt — acceptable only for throw-away test accounts);
//! - session tokens are signed with the real key for real `sign_ins` rows, so the
//!   server under test verifies them exactly as it verifies any other.
//!
//! Never enable this feature in a production build; nothing in the server calls it.

use mocha_auth::{SessionClaims, SignedClaims, UserId};

use crate::password::{PasswordHash, run_blocking};
use crate::store::on_tx;
use crate::time_util::now;
use crate::{Passport, PassportError, validate};

/// One account to create.
#[derive(Clone, Debug)]
pub struct FixtureAccount {
    pub username: String,
    pub display_name: String,
}

/// Rows per write transaction: large enough to be fast, small enough not to hold the
/// writer for long when the server is running beside us.
const BATCH: usize = 5_000;

impl Passport {
    /// Creates `accounts` (validated as usual) in bulk, all with `password` hashed once
    /// at the configured PBKDF2 cost. Returns their ids, in order.
    pub async fn import_fixture_accounts(
        &self,
        accounts: &[FixtureAccount],
        password: &str,
    ) -> Result<Vec<UserId>, PassportError> {
        let iterations = self.config.pbkdf2_iterations;
        let password = password.to_string();
        let hashed = run_blocking(move || PasswordHash::new(&password, iterations)).await;
        let created = now();
        let mut ids = Vec::with_capacity(accounts.len());
        for batch in accounts.chunks(BATCH) {
            let mut tx = self.db.begin_write().await?;
            for account in batch {
                let username = validate::username(&account.username)?;
                let display_name = validate::display_name(&account.display_name)?;
                let id = on_tx!(&mut tx, |e| {
                    crate::accounts::insert_user(e, &username, &display_name, &hashed, created).await
                })?;
                ids.push(id);
            }
            tx.commit().await?;
        }
        Ok(ids)
    }

    /// Makes each pair mutual, accepted contacts (no request, no events).
    pub async fn import_fixture_contacts(&self, pairs: &[(UserId, UserId)]) -> Result<(), PassportError> {
        let created = now();
        for batch in pairs.chunks(BATCH) {
            let mut tx = self.db.begin_write().await?;
            for &(a, b) in batch {
                for (owner, contact) in [(a, b), (b, a)] {
                    on_tx!(&mut tx, |e| crate::contacts::insert_contact(e, owner, contact, created).await)?;
                }
            }
            tx.commit().await?;
        }
        Ok(())
    }

    /// Starts one sign-in per user without a password and returns a session token for
    /// each (valid for the configured session-token lifetime), in order.
    pub async fn fixture_session_tokens(&self, users: &[UserId]) -> Result<Vec<String>, PassportError> {
        let issued = now();
        let lifetime = i64::try_from(self.config.session_token_lifetime.as_secs()).unwrap_or(i64::MAX);
        let mut tokens = Vec::with_capacity(users.len());
        for batch in users.chunks(BATCH) {
            let mut tx = self.db.begin_write().await?;
            for &user in batch {
                let sign_in = mocha_auth::random_id::<16>();
                on_tx!(&mut tx, |e| {
                    sqlx::query("INSERT INTO sign_ins (id, user_id, created_at) VALUES ($1, $2, $3)")
                        .bind(&sign_in)
                        .bind(user.0)
                        .bind(issued)
                        .execute(e)
                        .await
                        .map(drop)
                })?;
                let claims = SessionClaims {
                    sub: user,
                    sid: sign_in,
                    iat: issued,
                    exp: issued.saturating_add(lifetime),
                };
                tokens.push(claims.sign(&self.signing_key));
            }
            tx.commit().await?;
        }
        Ok(tokens)
    }
}
