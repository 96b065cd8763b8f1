//! The privacy policy as a test: every column of Passport's database must be mapped
//! (in `docs/privacy-map.toml`) to a category the policy (`docs/privacy-policy.txt`)
//! names, and a user's data export must carry every category that holds their data.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::{Engine, TestServer};
use mocha_passport::DatabaseUrl;
use sqlx::{Connection, SqliteConnection};

const MAP: &str = include_str!("../../../docs/privacy-map.toml");
const POLICY: &str = include_str!("../../../docs/privacy-policy.txt");

/// Tables that are the database engine's or the migration tool's own bookkeeping.
fn is_bookkeeping(table: &str) -> bool {
    table.starts_with("sqlite_") || table.starts_with("_sqlx")
}

/// The headings of the policy's "INFORMATION WE COLLECT" section.
fn policy_categories() -> BTreeSet<String> {
    let section = POLICY.split("2. INFORMATION WE COLLECT").nth(1).unwrap();
    let section = section.split("\n3. ").next().unwrap();
    // A category heading is a short line of its own, ending "data" (or "data stored by …").
    section
        .lines()
        .map(str::trim)
        .filter(|line| !line.starts_with('-') && line.len() < 60 && line.contains(" data"))
        .map(str::to_string)
        .collect()
}

async fn schema(t: &TestServer) -> BTreeMap<String, BTreeSet<String>> {
    let rows: Vec<(String, String)> = match t.database.as_ref().map(|d| &d.url) {
        Some(DatabaseUrl::Postgres(url)) => {
            let mut db = sqlx::PgConnection::connect(url).await.unwrap();
            sqlx::query_as(
                "SELECT table_name::text, column_name::text FROM information_schema.columns \
                 WHERE table_schema = current_schema()",
            )
            .fetch_all(&mut db)
            .await
            .unwrap()
        }
        _ => {
            let url = format!("sqlite://{}?mode=ro", t.dir.path().join("mocha.db").display());
            let mut db = SqliteConnection::connect(&url).await.unwrap();
            sqlx::query_as(
                "SELECT m.name, c.name FROM sqlite_master m JOIN pragma_table_info(m.name) c \
                 WHERE m.type = 'table'",
            )
            .fetch_all(&mut db)
            .await
            .unwrap()
        }
    };
    let mut schema: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (table, column) in rows.into_iter().filter(|(table, _)| !is_bookkeeping(table)) {
        schema.entry(table).or_default().insert(column);
    }
    schema
}

mocha_passport::engine_tests!(every_stored_column_is_a_category_the_privacy_policy_names);

async fn every_stored_column_is_a_category_the_privacy_policy_names(engine: Engine) {
    let t = TestServer::start_on(engine).await;
    let categories = policy_categories();
    for expected in
        ["Account and identity data", "Authentication and session data", "Conversation and activity data"]
    {
        assert!(categories.contains(expected), "the policy's categories are read: {categories:?}");
    }
    let map: BTreeMap<String, BTreeMap<String, String>> = toml::from_str(MAP).unwrap();
    let schema = schema(&t).await;
    assert!(schema.len() >= 8, "the tables were read: {schema:?}");

    let mut problems = Vec::new();
    for (table, columns) in &schema {
        for column in columns {
            match map.get(table).and_then(|m| m.get(column)) {
                None => problems.push(format!("{table}.{column} is stored but not in docs/privacy-map.toml")),
                Some(entry) => {
                    let category = entry.split(':').next().unwrap_or_default().trim();
                    if !categories.contains(category) {
                        problems
                            .push(format!("{table}.{column}: {category:?} is not a category of the policy"));
                    }
                }
            }
        }
    }
    let on_postgres = matches!(t.database.as_ref().map(|d| &d.url), Some(DatabaseUrl::Postgres(_)));
    for (table, columns) in &map {
        for (column, entry) in columns {
            let engine_only = entry.ends_with("(PostgreSQL only)") && !on_postgres;
            if !engine_only && !schema.get(table).is_some_and(|c| c.contains(column)) {
                problems.push(format!("docs/privacy-map.toml names {table}.{column}, which is not stored"));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_data_export_carries_every_category_that_holds_the_users_data() {
    let t = TestServer::start().await;
    let (alice, bob, carol) = (t.user("alice").await, t.user("bob").await, t.user("carol").await);
    t.befriend(&alice, &bob).await;
    t.passport.set_alias(alice.token(), bob.account.id, Some("Bobby")).await.unwrap();
    t.passport.block(alice.token(), carol.account.id).await.unwrap();
    let dave = t.user("dave").await;
    t.passport.request_contact(dave.token(), &alice.account.username, Some("hi")).await.unwrap();
    // An offline message from Bob waits for Alice as an activity alert.
    t.server
        .passport
        .file_alert(alice.account.id, "message", bob.account.id, "while you were out")
        .await
        .unwrap();

    let export = serde_json::to_value(t.passport.export(alice.token()).await.unwrap()).unwrap();
    // One export field per table that holds Alice's rows, with her data in it.
    let carried = [
        ("users", &export["account"]["username"]),
        ("sign_ins", &export["refresh_tokens"][0]),
        ("refresh_tokens", &export["refresh_tokens"][0]["expires_at"]),
        ("contacts", &export["contacts"][0]["alias"]),
        ("blocks", &export["blocked_users"][0]),
        ("contact_requests", &export["contact_requests"]["incoming"][0]["message"]),
        ("activity_alerts", &export["pending_activity_alerts"][0]["text"]),
    ];
    let map: BTreeMap<String, BTreeMap<String, String>> = toml::from_str(MAP).unwrap();
    let mut missing = Vec::new();
    for (table, value) in &carried {
        if value.is_null() {
            missing.push(format!("{table}: nothing of it in the export: {export}"));
        }
    }
    // Every mapped table is either carried above or holds moderation data, which the
    // banned user cannot export (they cannot sign in) and an admin sees in the console.
    let named: BTreeSet<&str> = carried.iter().map(|(table, _)| *table).chain(["bans"]).collect();
    for table in map.keys() {
        if !named.contains(table.as_str()) {
            missing.push(format!("{table} is mapped but the export test does not look for it"));
        }
    }
    assert_eq!(export["password_storage"].as_str().map(|s| s.contains("PBKDF2")), Some(true));
    assert!(export["privacy"].is_object(), "who may request access to you");
    assert!(missing.is_empty(), "{}", missing.join("\n"));
}
