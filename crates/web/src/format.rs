//! Words for people: dates, durations, ban notices and Passport's refusals.

use mocha_api::Ban;
use mocha_passport::PassportError;
use time::macros::format_description;
use time::{Date, OffsetDateTime, UtcOffset};

pub fn date_time(at: OffsetDateTime) -> String {
    at.to_offset(UtcOffset::UTC)
        .format(format_description!("[day padding:none] [month repr:short] [year], [hour]:[minute] UTC"))
        .unwrap_or_else(|_| at.to_string())
}

/// "3 days, 4 hours", "12 minutes", "40 seconds": the two largest units.
pub fn duration(seconds: u64) -> String {
    let units = [(86_400, "day"), (3_600, "hour"), (60, "minute"), (1, "second")];
    let mut parts = Vec::new();
    let mut rest = seconds;
    for (size, name) in units {
        let count = rest / size;
        rest %= size;
        if count > 0 && parts.len() < 2 {
            parts.push(format!("{count} {name}{}", if count == 1 { "" } else { "s" }));
        }
    }
    if parts.is_empty() { "just started".to_string() } else { parts.join(", ") }
}

/// A `YYYY-MM-DD` date from a form, as midnight UTC at its start.
pub fn parse_date(text: &str) -> Option<OffsetDateTime> {
    Date::parse(text.trim(), format_description!("[year]-[month]-[day]"))
        .ok()
        .map(|date| date.midnight().assume_utc())
}

pub fn ban_message(ban: &Ban) -> String {
    let span = match ban.until {
        Some(until) => format!("until {}", date_time(until)),
        None => "permanently".to_string(),
    };
    match ban.reason.as_deref().filter(|r| !r.is_empty()) {
        Some(reason) => format!("This account is banned {span}. Reason: {reason}"),
        None => format!("This account is banned {span}."),
    }
}

/// What to tell a person whose form Passport refused.
pub fn refusal(error: &PassportError) -> String {
    match error {
        PassportError::Banned(ban) => ban_message(ban),
        PassportError::InvalidCredentials => "That sign-in address or password is not right.".to_string(),
        PassportError::UsernameTaken => "Someone already has that sign-in address. Try another.".to_string(),
        PassportError::Internal(_) => "Something went wrong on our side. Please try again.".to_string(),
        PassportError::StorageFull(_) => crate::error::STORAGE_FULL.to_string(),
        other => sentence(&other.to_string()),
    }
}

/// Passport's messages start lower-case, for logs and JSON; a page wants a sentence.
fn sentence(text: &str) -> String {
    let mut chars = text.chars();
    let mut out: String = chars.next().map(|c| c.to_uppercase().collect()).unwrap_or_default();
    out.push_str(chars.as_str());
    if !out.ends_with(['.', '!', '?']) {
        out.push('.');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use mocha_passport::UserId;
    use time::macros::datetime;

    #[test]
    fn dates_and_durations_read_naturally() {
        assert_eq!(date_time(datetime!(2026-11-25 10:05 UTC)), "25 Nov 2026, 10:05 UTC");
        assert_eq!(date_time(datetime!(2026-11-25 12:05 +02:00)), "25 Nov 2026, 10:05 UTC");
        assert_eq!(duration(0), "just started");
        assert_eq!(duration(59), "59 seconds");
        assert_eq!(duration(3_661), "1 hour, 1 minute");
        assert_eq!(duration(2 * 86_400 + 5 * 3_600 + 7), "2 days, 5 hours");
    }

    #[test]
    fn form_dates_parse_to_midnight_utc() {
        assert_eq!(parse_date("2030-01-31"), Some(datetime!(2030-01-31 00:00 UTC)));
        assert_eq!(parse_date("31/01/2030"), None);
        assert_eq!(parse_date(""), None);
    }

    #[test]
    fn bans_say_why_and_until_when() {
        let mut ban = Ban {
            permanent: false,
            until: Some(datetime!(2030-01-31 00:00 UTC)),
            reason: Some("spam".into()),
            issued_by: UserId(1),
            issued_at: datetime!(2026-01-01 00:00 UTC),
        };
        assert_eq!(ban_message(&ban), "This account is banned until 31 Jan 2030, 00:00 UTC. Reason: spam");
        ban.until = None;
        ban.reason = None;
        assert_eq!(ban_message(&ban), "This account is banned permanently.");
    }

    #[test]
    fn refusals_are_sentences_without_internals() {
        assert_eq!(
            refusal(&PassportError::invalid("password", "the password must be at least 8 characters")),
            "The password must be at least 8 characters."
        );
        assert!(!refusal(&PassportError::Internal("database: disk I/O".into())).contains("disk"));
    }
}
