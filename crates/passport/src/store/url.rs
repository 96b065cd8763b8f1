//! Where Passport keeps its data: `--database`, a `sqlite:` path or a `postgres://` URL.
//!
//! A PostgreSQL URL may carry a password, so this type never shows one: `Display` and
//! `Debug` print [`DatabaseUrl::redacted`], and every error names the redacted form.
//!
//! Its one tie to the store is `super::postgres::check_url` (sqlx's parser), so the
//! `mocha_toml` fuzz target (`fuzz/`) compiles this file from its own source with a
//! stand-in for that check.

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// What stands where a password was.
const HIDDEN: &str = "****";

#[derive(Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    /// The embedded database: one SQLite file (with its `-wal` and `-shm` beside it).
    Sqlite(PathBuf),
    /// A PostgreSQL server, shared by every node of a cluster. The URL as given,
    /// password included: only the connection ever sees it.
    Postgres(String),
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DatabaseUrlError {
    #[error("the database {url} is not one Mocha knows: give a sqlite: path or a postgres:// URL")]
    UnknownScheme { url: String },
    #[error("the database URL {url} is not valid: {reason}")]
    Invalid { url: String, reason: String },
}

impl DatabaseUrl {
    pub fn sqlite(path: impl Into<PathBuf>) -> Self {
        DatabaseUrl::Sqlite(path.into())
    }

    /// `sqlite:PATH` (also `sqlite://PATH`, so `sqlite:///srv/mocha.db` is absolute), or
    /// `postgres://user[:password]@host[:port]/database[?options]` (`postgresql://` too).
    pub fn parse(text: &str) -> Result<Self, DatabaseUrlError> {
        let text = text.trim();
        if let Some(rest) = text.strip_prefix("sqlite:") {
            let path = rest.strip_prefix("//").unwrap_or(rest);
            if path.is_empty() {
                return Err(DatabaseUrlError::Invalid {
                    url: redact(text),
                    reason: "say which file, like sqlite:/srv/mocha/mocha.db".into(),
                });
            }
            return Ok(DatabaseUrl::Sqlite(PathBuf::from(path)));
        }
        if text.starts_with("postgres://") || text.starts_with("postgresql://") {
            // sqlx's own parser decides what it can connect to; its errors never quote the URL.
            super::postgres::check_url(text)
                .map_err(|reason| DatabaseUrlError::Invalid { url: redact(text), reason })?;
            return Ok(DatabaseUrl::Postgres(text.to_string()));
        }
        Err(DatabaseUrlError::UnknownScheme { url: redact(text) })
    }

    /// The URL with any password replaced by `****`: safe for logs and messages.
    pub fn redacted(&self) -> String {
        match self {
            DatabaseUrl::Sqlite(path) => format!("sqlite:{}", path.display()),
            DatabaseUrl::Postgres(url) => redact(url),
        }
    }

    /// The engine's name, for messages.
    pub fn engine(&self) -> &'static str {
        match self {
            DatabaseUrl::Sqlite(_) => "SQLite",
            DatabaseUrl::Postgres(_) => "PostgreSQL",
        }
    }

    /// The SQLite file, if this is one.
    pub fn sqlite_path(&self) -> Option<&Path> {
        match self {
            DatabaseUrl::Sqlite(path) => Some(path),
            DatabaseUrl::Postgres(_) => None,
        }
    }
}

/// Hides the password in `scheme://user:password@host/…` and in a `password=` option.
/// A password may hold unescaped `@`, `?`, `&` and `/`, so nothing can say for sure where
/// one ends: this errs on the side of hiding. Everything between the first `:` after
/// the user and the last `@` of the whole URL goes (an `@` in an option's value hides the
/// host too), and so does everything after `=` of the first option that may hold a
/// secret (the options after it too).
fn redact(url: &str) -> String {
    let start = url.find("://").map_or(0, |at| at + 3);
    let rest = &url[start..];
    // The user's password: from after the first `:` to the last `@`.
    let user_password =
        rest.rfind('@').and_then(|at| rest[..at].find(':').map(|colon| (start + colon + 1, start + at)));
    match (user_password, password_option(url)) {
        (Some((from, _)), Some(option)) if option <= from => format!("{}{HIDDEN}", &url[..option]),
        (Some((from, to)), Some(option)) if option <= to => format!("{}{HIDDEN}", &url[..from]),
        (Some((from, to)), Some(option)) => {
            format!("{}{HIDDEN}{}{HIDDEN}", &url[..from], &url[to..option])
        }
        (Some((from, to)), None) => format!("{}{HIDDEN}{}", &url[..from], &url[to..]),
        (None, Some(option)) => format!("{}{HIDDEN}", &url[..option]),
        (None, None) => url.to_string(),
    }
}

/// The PostgreSQL URL options that carry no secret: sqlx acts on these and `password`,
/// and nothing else (`sqlx-postgres`' `options/parse.rs`).
pub(super) const PLAIN_OPTIONS: [&str; 11] = [
    "sslmode",
    "sslrootcert",
    "sslcert",
    "sslkey",
    "host",
    "hostaddr",
    "port",
    "dbname",
    "user",
    "application_name",
    "options",
];

/// Where the value of the first `?`/`&` option that may be a secret starts: `password`,
/// and any name that is not one of [`PLAIN_OPTIONS`] (a mistyped `pasword=`, `Password=`).
fn password_option(url: &str) -> Option<usize> {
    url.match_indices(['?', '&']).find_map(|(at, _)| {
        let option = &url[at + 1..];
        let option = &option[..option.find(['?', '&']).unwrap_or(option.len())];
        let (key, _) = option.split_once('=')?;
        (!PLAIN_OPTIONS.contains(&key)).then_some(at + 1 + key.len() + 1)
    })
}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DatabaseUrl({})", self.redacted())
    }
}

impl FromStr for DatabaseUrl {
    type Err = DatabaseUrlError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

/// In `mocha.toml` the URL is written out whole: the file is the operator's own.
impl Serialize for DatabaseUrl {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            // Reading strips a `//` after `sqlite:`, so a path starting with `//` is written behind one.
            DatabaseUrl::Sqlite(path) => {
                let path = path.display().to_string();
                let slashes = if path.starts_with("//") { "//" } else { "" };
                serializer.serialize_str(&format!("sqlite:{slashes}{path}"))
            }
            DatabaseUrl::Postgres(url) => serializer.serialize_str(url),
        }
    }
}

impl<'de> Deserialize<'de> for DatabaseUrl {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Self::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_paths_and_postgres_urls_are_told_apart() {
        assert_eq!(DatabaseUrl::parse("sqlite:mocha.db").unwrap(), DatabaseUrl::sqlite("mocha.db"));
        assert_eq!(DatabaseUrl::parse("sqlite:///srv/m.db").unwrap(), DatabaseUrl::sqlite("/srv/m.db"));
        let pg = DatabaseUrl::parse("postgres://mocha@db.example.org/mocha").unwrap();
        assert_eq!(pg.engine(), "PostgreSQL");
        assert_eq!(pg.to_string(), "postgres://mocha@db.example.org/mocha");
        assert!(matches!(DatabaseUrl::parse("mysql://x@y/z"), Err(DatabaseUrlError::UnknownScheme { .. })));
        assert!(matches!(DatabaseUrl::parse("sqlite:"), Err(DatabaseUrlError::Invalid { .. })));
    }

    #[test]
    fn a_password_is_never_shown() {
        for url in [
            "postgres://mocha:s3cret-pw@db.example.org:5433/mocha",
            "postgresql://mocha:s3cret-pw@db.example.org/mocha?sslmode=require",
            "postgres://mocha@db.example.org/mocha?password=s3cret-pw&sslmode=disable",
            "postgres://mocha:s3cret@pw@db.example.org/mocha",
        ] {
            let parsed = DatabaseUrl::parse(url).unwrap();
            for shown in [parsed.to_string(), format!("{parsed:?}"), parsed.redacted()] {
                assert!(!shown.contains("s3cret"), "{shown}");
                assert!(shown.contains("db.example.org") && shown.contains(HIDDEN), "{shown}");
            }
        }
        // Nor in the error for a URL that does not parse.
        let error =
            DatabaseUrl::parse("postgres://mocha:s3cret-pw@db.example.org:notaport/mocha").unwrap_err();
        assert!(!error.to_string().contains("s3cret"), "{error}");
        assert!(error.to_string().contains("postgres://mocha:****@"), "{error}");
        let error = DatabaseUrl::parse("redis://:s3cret-pw@cache/0").unwrap_err();
        assert!(!error.to_string().contains("s3cret"), "{error}");

        // An unescaped `?` in a password (found by the `mocha_toml` fuzz target): sqlx
        // refuses such a URL (the `?` ends its authority), and neither it nor the error shows.
        for url in [
            "postgres://mocha:s3c?ret@db.example.org/mocha",
            "postgresql://mocha:s3c?ret@db.example.org:5432/mocha?sslmode=require",
            // An `@` and a `?` in the password before the real `@` (found by a 30-minute run).
            "postgresql://mocha:s3c@db?m,x{s://ret@db.example.org:5432/mocha?sslmode=require",
            // An `@` and a `?` in a password option's value (found by the next run).
            "postgres://mocha@db.example.org/mocha?password=s3?@'c&sslmode=disable",
            "postgres://mocha@db.example.org/mocha?sslmode=disable&Password=s3c&ret",
        ] {
            assert!(
                !redact(url).contains("s3c") && redact(url).contains("db.example.org"),
                "{}",
                redact(url)
            );
            let shown = match DatabaseUrl::parse(url) {
                Ok(parsed) => format!("{parsed} {parsed:?}"),
                Err(error) => error.to_string(),
            };
            assert!(!shown.contains("s3c"), "{shown}");
        }
        // An option sqlx does not know: sqlx would log it with its value (a password under a
        // mistyped name), so the URL is refused, and the value is not in the error either.
        for url in [
            "postgres://mocha@db.example.org/mocha?pasword=s3cret",
            "postgres://mocha@db.example.org/mocha?sslmode=disable&Password=s3cret",
        ] {
            let error = DatabaseUrl::parse(url).unwrap_err().to_string();
            assert!(!error.contains("s3cret") && error.contains("db.example.org"), "{error}");
            assert!(error.contains("not a PostgreSQL connection option"), "{error}");
        }
        let error = DatabaseUrl::parse("postgres://mocha@db.example.org/mocha?pasword=s3cret").unwrap_err();
        assert!(error.to_string().contains("`pasword` is not"), "{error}");
        assert!(DatabaseUrl::parse("postgres://m@db/m?sslmode=disable&application_name=x&port=5433").is_ok());
        // A password option hides everything after it, the host too when it comes later.
        let shown = redact("postgres://mocha?password=s3cret:x@db.example.org/mocha");
        assert_eq!(shown, "postgres://mocha?password=****");
        // An `@` in an option's value cannot be told from one in a password: the host is
        // hidden with it (hiding errs wide).
        let shown = redact("postgres://mocha:s3cret@db.example.org/mocha?application_name=a@b");
        assert_eq!(shown, "postgres://mocha:****@b");
    }
}
