//! Two pure helpers for a cluster's settings, with no dependency beyond `std` so the
//! `mocha_toml` fuzz target (`fuzz/`) compiles this file from its own source: the server's
//! `mocha.toml` validation checks names with [`is_valid_name`] and shows the bus URL
//! through [`redact_url`].

/// A NATS URL with any password (or token) in it hidden.
pub fn redact_url(url: &str) -> String {
    match (url.split_once("://"), url.rfind('@')) {
        (Some((scheme, rest)), Some(at)) if at > scheme.len() => {
            let credentials = &rest[..at - scheme.len() - 3];
            // `user:password`, or a token alone (all of it secret).
            match credentials.split_once(':') {
                Some((user, _)) => format!("{scheme}://{user}:****@{}", &url[at + 1..]),
                None => format!("{scheme}://****@{}", &url[at + 1..]),
            }
        }
        _ => url.to_string(),
    }
}

/// A name usable in a subject and a bucket name: letters, digits, `-` and `_`.
pub fn is_valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}
