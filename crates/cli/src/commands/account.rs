//! The account itself: register, sign in and out, status and personal message,
//! privacy, alerts, export and deletion.

use anyhow::Result;
use mocha_client::api::RequestPolicy;
use serde_json::json;

use crate::args::Policy;
use crate::context::{Context, parse_status, password};

pub async fn register(cx: &Context, username: &str, display_name: Option<&str>) -> Result<()> {
    let password = password("Choose a password: ")?;
    let display_name = display_name.map(str::to_string).unwrap_or_else(|| {
        let local = username.split('@').next().unwrap_or(username);
        let mut name = local.to_string();
        if let Some(first) = name.get_mut(..1) {
            first.make_ascii_uppercase();
        }
        name
    });
    let account = cx.passport()?.register(username, &display_name, &password).await?;
    cx.out.print(
        format!("Registered {} ({}). Now run `mocha sign-in {}`.", account.username, account.id, account.username),
        json!({"user": account.id.to_string(), "username": account.username, "display_name": account.display_name}),
    );
    Ok(())
}

pub async fn sign_in(cx: &mut Context, username: &str) -> Result<()> {
    let password = password(&format!("Password for {username}: "))?;
    let tokens = cx.passport()?.sign_in(username, &password).await?;
    cx.profile.server = Some(cx.server());
    if let Some(ca) = &cx.global.ca {
        cx.profile.ca = Some(std::path::absolute(ca)?);
    }
    if let Some(ns) = &cx.global.notification_server {
        cx.profile.notification_server = Some(ns.clone());
    }
    cx.profile.username = Some(tokens.account.username.clone());
    cx.profile.refresh_token = Some(tokens.refresh_token.clone());
    cx.store.save(&cx.profile)?;
    cx.out.print(
        format!("Signed in as {} ({}).", tokens.account.display_name, tokens.account.username),
        json!({"user": tokens.account.id.to_string(), "username": tokens.account.username, "is_admin": tokens.account.is_admin}),
    );
    Ok(())
}

pub async fn sign_out(cx: &Context) -> Result<()> {
    if let Some(token) = &cx.profile.refresh_token {
        // Already revoked or expired is as good as signed out.
        if let Err(e) = cx.passport()?.sign_out(token).await
            && e.status().is_none()
        {
            return Err(e.into());
        }
    }
    cx.store.forget()?;
    cx.out.print("Signed out.", json!({"signed_out": true}));
    Ok(())
}

pub async fn status(cx: &mut Context, code: &str) -> Result<()> {
    let status = parse_status(code)?;
    cx.profile.status = Some(status.code().to_string());
    let (client, _events) = cx.client().await?;
    client.disconnect().await;
    let mut profile = cx.store.load()?;
    profile.status = Some(status.code().to_string());
    cx.store.save(&profile)?;
    cx.out.print(format!("Status set to {}.", status.code()), json!({"status": status.code()}));
    Ok(())
}

pub async fn message(cx: &mut Context, text: &str) -> Result<()> {
    let (client, _events) = cx.client().await?;
    client.set_personal_message(text).await?;
    let stored = client.state().personal_message;
    client.disconnect().await;
    let mut profile = cx.store.load()?;
    profile.personal_message = Some(stored.clone());
    cx.store.save(&profile)?;
    cx.out.print(format!("Personal message set to {stored:?}."), json!({"personal_message": stored}));
    Ok(())
}

pub async fn privacy(cx: &Context, requests: Option<Policy>) -> Result<()> {
    let (passport, tokens) = cx.session().await?;
    let settings = match requests {
        Some(policy) => {
            let policy = match policy {
                Policy::Everyone => RequestPolicy::Everyone,
                Policy::Nobody => RequestPolicy::Nobody,
            };
            passport.set_request_policy(&tokens.session_token, policy).await?
        }
        None => passport.privacy(&tokens.session_token).await?,
    };
    let policy = serde_json::to_value(settings.contact_requests)?;
    let who = |list: &[mocha_client::api::UserSummary]| {
        list.iter().map(|u| u.username.clone()).collect::<Vec<_>>().join(", ")
    };
    cx.out.print(
        format!(
            "Contact requests from: {}\nCan see you: {}\nAsking you: {}",
            policy.as_str().unwrap_or("?"),
            who(&settings.can_see_me),
            who(&settings.requesting_me)
        ),
        serde_json::to_value(&settings)?,
    );
    Ok(())
}

pub async fn alerts(cx: &Context) -> Result<()> {
    let (passport, tokens) = cx.session().await?;
    let alerts = passport.poll_alerts(&tokens.session_token).await?;
    let human = if alerts.is_empty() {
        "No alerts.".to_string()
    } else {
        alerts
            .iter()
            .map(|a| format!("[{}] {}: {}", a.created_at, a.sender.display_name, a.text))
            .collect::<Vec<_>>()
            .join("\n")
    };
    cx.out.print(human, serde_json::to_value(&alerts)?);
    Ok(())
}

pub async fn export(cx: &Context) -> Result<()> {
    let (passport, tokens) = cx.session().await?;
    let export = passport.export(&tokens.session_token).await?;
    println!("{}", serde_json::to_string_pretty(&export)?);
    Ok(())
}

pub async fn delete_account(cx: &Context) -> Result<()> {
    let (passport, tokens) = cx.session().await?;
    let password = password("Password, to confirm deleting your account: ")?;
    passport.delete_account(&tokens.session_token, &password).await?;
    cx.store.forget()?;
    cx.out.print(
        format!("Account {} deleted.", tokens.account.username),
        json!({"deleted": tokens.account.username}),
    );
    Ok(())
}
