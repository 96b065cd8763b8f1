//! Classic clients name people by an e-mail-like handle; a Mocha username already is a
//! sign-in address (`alice@example.com`), so the handle is the username itself. A
//! contact's GUID (MSNP10 and later) is derived from their user id, so it never changes
//! and stores nothing.

use mocha_auth::UserId;

/// The username behind a handle as a client sends it (`N=` prefix and all).
pub fn username(handle: &str) -> Option<&str> {
    let handle = handle.strip_prefix("N=").unwrap_or(handle);
    (!handle.is_empty() && handle.contains('@')).then_some(handle)
}

/// The contact GUID MSNP10+ uses in `LST C=…` and `REM FL`.
pub fn guid(user: UserId) -> String {
    format!("00000000-0000-0000-0000-{:012x}", user.0)
}

/// The user id behind a GUID from [`guid`].
pub fn from_guid(guid: &str) -> Option<UserId> {
    let id = guid.strip_prefix("00000000-0000-0000-0000-")?;
    (id.len() == 12).then(|| i64::from_str_radix(id, 16).ok()).flatten().map(UserId)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handles_are_usernames_and_guids_are_user_ids() {
        assert_eq!(username("ann@example.org"), Some("ann@example.org"));
        assert_eq!(username("N=ann@example.org"), Some("ann@example.org"));
        assert_eq!(username("ann"), None);
        assert_eq!(username("N="), None);
        assert_eq!(guid(UserId(255)), "00000000-0000-0000-0000-0000000000ff");
        assert_eq!(from_guid(&guid(UserId(255))), Some(UserId(255)));
        assert_eq!(from_guid("00000000-0000-0000-0000-zz"), None);
    }
}
