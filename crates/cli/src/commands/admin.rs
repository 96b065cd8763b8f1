//! Administrator commands: bans, administrator access and service notices.

use anyhow::{Context as _, Result, anyhow};
use mocha_client::PassportClient;
use mocha_client::api::{BanRequest, UserId};
use serde_json::json;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::context::Context;

/// A user by id (`u7`) or exact sign-in address, through the administrators' search.
async fn find(passport: &PassportClient, token: &str, who: &str) -> Result<UserId> {
    if let Ok(id) = who.parse::<UserId>() {
        return Ok(id);
    }
    passport
        .find_users(token, who)
        .await?
        .into_iter()
        .find(|m| m.account.username.eq_ignore_ascii_case(who))
        .map(|m| m.account.id)
        .ok_or_else(|| anyhow!("no account {who}"))
}

pub async fn ban(cx: &Context, who: &str, reason: Option<String>, until: Option<&str>) -> Result<()> {
    let until = match until {
        None | Some("permanent") => None,
        Some(text) => Some(
            OffsetDateTime::parse(text, &Rfc3339)
                .with_context(|| format!("{text:?} is not an RFC 3339 time"))?,
        ),
    };
    let (passport, tokens) = cx.session().await?;
    let user_id = find(&passport, &tokens.session_token, who).await?;
    let ban = passport.ban(&tokens.session_token, &BanRequest { user_id, reason, until }).await?;
    let end = match ban.until {
        Some(until) => format!("until {}", until.format(&Rfc3339)?),
        None => "permanently".to_string(),
    };
    cx.out.print(format!("Banned {who} {end}."), json!({"banned": user_id.to_string(), "ban": ban}));
    Ok(())
}

pub async fn unban(cx: &Context, who: &str) -> Result<()> {
    let (passport, tokens) = cx.session().await?;
    let id = find(&passport, &tokens.session_token, who).await?;
    passport.unban(&tokens.session_token, id).await?;
    cx.out.print(format!("Lifted the ban on {who}."), json!({"unbanned": id.to_string()}));
    Ok(())
}

pub async fn grant_admin(cx: &Context, who: &str, revoke: bool) -> Result<()> {
    let (passport, tokens) = cx.session().await?;
    let id = find(&passport, &tokens.session_token, who).await?;
    passport.set_admin(&tokens.session_token, id, !revoke).await?;
    let human = if revoke {
        format!("{who} is no longer an administrator.")
    } else {
        format!("{who} is now an administrator.")
    };
    cx.out.print(human, json!({"user": id.to_string(), "is_admin": !revoke}));
    Ok(())
}

pub async fn notice(cx: &Context, text: &str) -> Result<()> {
    let (passport, tokens) = cx.session().await?;
    let notice = passport.post_notice(&tokens.session_token, text).await?;
    cx.out.print("Notice posted.", serde_json::to_value(&notice)?);
    Ok(())
}
