//! Test users for a run, written straight into the data folder (see `target`): accounts
//! with one password hashed once at the configured cost, contacts, session tokens.

use anyhow::Context;
use mocha_auth::UserId;
use mocha_passport::{FixtureAccount, Passport};

/// The password of every fixture account (they are never signed in with it).
pub const FIXTURE_PASSWORD: &str = "mocha-bench fixture password";

pub struct Users {
    pub ids: Vec<UserId>,
    /// Sign-in addresses, in the same order (MSNP handles).
    pub usernames: Vec<String>,
    /// Session tokens, one per user, for `USR TOKEN`.
    pub tokens: Vec<String>,
}

impl Users {
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }
}

/// Creates `count` accounts and makes the pairs of `contacts` (indices) contacts.
pub async fn provision(
    passport: &Passport,
    count: usize,
    contacts: &[(usize, usize)],
) -> anyhow::Result<Users> {
    // Unique per run, so a reused data folder never collides with earlier runs.
    let run =
        format!("{:x}", std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_micros());
    let accounts: Vec<FixtureAccount> = (0..count)
        .map(|i| FixtureAccount {
            username: format!("b{run}-{i}@bench.mocha.test"),
            display_name: format!("Bench {i}"),
        })
        .collect();
    let ids =
        passport.import_fixture_accounts(&accounts, FIXTURE_PASSWORD).await.context("importing accounts")?;
    let pairs: Vec<(UserId, UserId)> = contacts.iter().map(|&(a, b)| (ids[a], ids[b])).collect();
    passport.import_fixture_contacts(&pairs).await.context("importing contacts")?;
    let tokens = passport.fixture_session_tokens(&ids).await.context("issuing session tokens")?;
    let usernames = accounts.into_iter().map(|account| account.username).collect();
    Ok(Users { ids, usernames, tokens })
}
