//! The site's two cookies and how they are read and written.
//!
//! Both carry the `__Host-` prefix, so a browser only accepts them from this
//! exact origin over HTTPS, with `Path=/` and no `Domain`: a neighbouring
//! subdomain cannot plant one (which would defeat the CSRF binding).

use axum::http::{HeaderMap, HeaderValue, header};

/// The signed-in browser: a random handle onto a server-side web session.
pub const SESSION: &str = "__Host-mocha-session";
/// A signed-out browser: binds the CSRF token of the sign-in and sign-up forms.
pub const VISITOR: &str = "__Host-mocha-visitor";

/// The value of cookie `name` in the request, if sent.
pub fn read<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|line| line.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.trim())
        .filter(|value| !value.is_empty())
}

/// A `Set-Cookie` value that lasts until the browser closes.
pub fn set(name: &str, value: &str) -> HeaderValue {
    header_value(format!("{name}={value}; Path=/; Secure; HttpOnly; SameSite=Strict"))
}

/// A `Set-Cookie` value that removes the cookie.
pub fn clear(name: &str) -> HeaderValue {
    header_value(format!("{name}=; Path=/; Max-Age=0; Secure; HttpOnly; SameSite=Strict"))
}

fn header_value(text: String) -> HeaderValue {
    // Names are our constants and values are base64url, so this never fails.
    HeaderValue::try_from(text).unwrap_or_else(|_| HeaderValue::from_static(""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_named_cookie_among_others() {
        let mut headers = HeaderMap::new();
        headers.append(header::COOKIE, HeaderValue::from_static("a=1; __Host-mocha-session=abc"));
        headers.append(header::COOKIE, HeaderValue::from_static("__Host-mocha-visitor=xyz"));
        assert_eq!(read(&headers, SESSION), Some("abc"));
        assert_eq!(read(&headers, VISITOR), Some("xyz"));
        assert_eq!(read(&headers, "missing"), None);
        headers.insert(header::COOKIE, HeaderValue::from_static("__Host-mocha-session="));
        assert_eq!(read(&headers, SESSION), None, "an empty cookie counts as absent");
    }

    #[test]
    fn cookies_are_locked_down() {
        let cookie = set(SESSION, "abc");
        let text = cookie.to_str().expect("ASCII");
        for flag in ["Secure", "HttpOnly", "SameSite=Strict", "Path=/"] {
            assert!(text.contains(flag), "{text} lacks {flag}");
        }
        assert!(clear(SESSION).to_str().expect("ASCII").contains("Max-Age=0"));
    }
}
