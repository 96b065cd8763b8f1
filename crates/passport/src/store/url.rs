//! Where Passport keeps its data: `--database`, a `sqlite:` path or a `postgres://` URL.
//!
//! A PostgreSQL URL may carry a password, so this type never shows one: `Display` and
//! `Debug` print [`DatabaseUrl::redacted`], and every error names the redacted form.

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
            sqlx::postgres::PgConnectOptions::from_str(text)
                .map_err(|e| DatabaseUrlError::Invalid { url: redact(text), reason: e.to_string() })?;
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
/// Errs on the side of hiding: everything between the first `:` after the user and
/// the last `@` goes, and any option whose name mentions a password.
fn redact(url: &str) -> String {
    let (main, query) = match url.split_once('?') {
        Some((main, query)) => (main, Some(query)),
        None => (url, None),
    };
    let mut out = match main.split_once("://") {
        Some((scheme, rest)) => match rest.rsplit_once('@') {
            Some((user_info, host)) => match user_info.split_once(':') {
                Some((user, _password)) => format!("{scheme}://{user}:{HIDDEN}@{host}"),
                None => main.to_string(),
            },
            None => main.to_string(),
        },
        None => main.to_string(),
    };
    if let Some(query) = query {
        let options: Vec<String> = query
            .split('&')
            .map(|option| match option.split_once('=') {
                Some((key, _)) if key.to_ascii_lowercase().contains("password") => format!("{key}={HIDDEN}"),
                _ => option.to_string(),
            })
            .collect();
        out.push('?');
        out.push_str(&options.join("&"));
    }
    out
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
            DatabaseUrl::Sqlite(path) => serializer.serialize_str(&format!("sqlite:{}", path.display())),
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
    }
}
