//! Sentences for people from the client library's errors: a wrong password, too many
//! attempts, a ban with its reason and end, an unreachable server, a certificate the
//! client does not trust.

use mocha_client::{ClientError, Error, MenpError, SignOutReason};

/// What the sign-in window says when signing in failed.
pub fn describe_sign_in_error(error: &Error, server: &str) -> String {
    match error {
        Error::Passport(ClientError::Api { error, .. }) => match error.code.as_str() {
            "invalid_credentials" => {
                "The sign-in address or password is not right. Check them and try again.".to_string()
            }
            "rate_limited" => match error.retry_after_seconds {
                Some(seconds) => {
                    format!("Too many sign-in attempts. Wait {} before trying again.", wait_text(seconds))
                }
                None => "Too many sign-in attempts. Wait a little before trying again.".to_string(),
            },
            "banned" => {
                let ban = error.ban.as_ref();
                let until = ban.and_then(|b| b.until).map(crate::model::rfc3339);
                let reason = ban.and_then(|b| b.reason.clone()).filter(|r| !r.is_empty());
                SignOutReason::Banned { until, reason }.to_string().replacen("the account", "This account", 1)
            }
            "invalid_refresh_token"
            | "refresh_token_expired"
            | "refresh_token_reused"
            | "sign_in_revoked" => {
                "Your remembered sign-in is no longer valid. Enter your password to sign in.".to_string()
            }
            _ => format!("The server refused to sign you in: {}", error.message),
        },
        Error::Passport(ClientError::Transport(detail)) | Error::Passport(ClientError::Trust(detail)) => {
            transport(detail, server)
        }
        Error::Passport(ClientError::Protocol(detail)) => {
            format!("The server at {server} answered something this version does not understand ({detail}).")
        }
        Error::Server(MenpError::Trust(detail)) => transport(detail, server),
        Error::Server(MenpError::Connect(e)) | Error::Server(MenpError::Io(e)) => {
            transport(&e.to_string(), server)
        }
        Error::Server(MenpError::Proxy(e)) => format!("The proxy did not let us through: {e}"),
        Error::SignedOut(reason) => format!("Signed out: {reason}."),
        other => format!("Signing in failed: {other}"),
    }
}

fn transport(detail: &str, server: &str) -> String {
    let lower = detail.to_ascii_lowercase();
    if lower.contains("certificate") || lower.contains("unknownissuer") || lower.contains("invalid peer") {
        format!(
            "The server at {server} presented a certificate this computer does not trust. If it is your own \
             server, choose its CA certificate (ca.pem) under \"Server\" and try again. ({detail})"
        )
    } else if lower.contains("proxy") {
        format!("The proxy could not reach {server}: {detail}")
    } else {
        format!("Cannot reach the server at {server}. Check the address and your connection. ({detail})")
    }
}

fn wait_text(seconds: u64) -> String {
    match seconds {
        0..=1 => "a second".to_string(),
        2..=90 => format!("{seconds} seconds"),
        _ => format!("{} minutes", seconds.div_ceil(60)),
    }
}

/// What the sign-in window says after the server ended the session.
pub fn describe_sign_out(reason: &SignOutReason) -> Option<String> {
    match reason {
        SignOutReason::Requested => None,
        SignOutReason::Banned { .. } => Some(format!("You were signed out: {reason}.")),
        other => Some(format!("You were signed out because {other}.")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mocha_client::api::{Ban, ErrorDetail, OffsetDateTime, UserId};

    fn api(code: &str, change: impl FnOnce(&mut ErrorDetail)) -> Error {
        let mut error = ErrorDetail {
            code: code.into(),
            message: "no".into(),
            field: None,
            retry_after_seconds: None,
            ban: None,
        };
        change(&mut error);
        Error::Passport(ClientError::Api { status: 400, error })
    }

    #[test]
    fn each_sign_in_failure_has_its_own_sentence() {
        let server = "https://chat.example.org";
        let wrong = describe_sign_in_error(&api("invalid_credentials", |_| {}), server);
        assert!(wrong.contains("password is not right"), "{wrong}");

        let limited =
            describe_sign_in_error(&api("rate_limited", |e| e.retry_after_seconds = Some(30)), server);
        assert!(limited.contains("30 seconds"), "{limited}");

        let banned = describe_sign_in_error(
            &api("banned", |e| {
                e.ban = Some(Ban {
                    permanent: false,
                    until: Some(OffsetDateTime::from_unix_timestamp(1_900_000_000).unwrap()),
                    reason: Some("spam".into()),
                    issued_by: UserId(1),
                    issued_at: OffsetDateTime::UNIX_EPOCH,
                })
            }),
            server,
        );
        assert!(banned.starts_with("This account is banned until 2030-"), "{banned}");
        assert!(banned.ends_with(": spam"), "{banned}");

        let down = describe_sign_in_error(
            &Error::Passport(ClientError::Transport("error sending request: connection refused".into())),
            server,
        );
        assert!(down.starts_with("Cannot reach the server at https://chat.example.org"), "{down}");

        let untrusted = describe_sign_in_error(
            &Error::Passport(ClientError::Transport(
                "error sending request: invalid peer certificate: UnknownIssuer".into(),
            )),
            server,
        );
        assert!(untrusted.contains("does not trust"), "{untrusted}");
    }

    #[test]
    fn a_requested_sign_out_says_nothing() {
        assert_eq!(describe_sign_out(&SignOutReason::Requested), None);
        let elsewhere = describe_sign_out(&SignOutReason::SignedInElsewhere).unwrap();
        assert_eq!(elsewhere, "You were signed out because you signed in somewhere else.");
    }
}
