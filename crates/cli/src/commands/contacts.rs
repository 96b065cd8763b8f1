//! The contact list through Passport: list, requests, aliases, removal and blocks.
//! People are named by address, alias, display name or user id (`u7`).

use anyhow::{Result, anyhow};
use mocha_client::PassportClient;
use mocha_client::api::{ContactRequest, ContactRequests, UserId, UserSummary};
use serde_json::json;

use crate::args::ContactsAction;
use crate::context::Context;

pub async fn run(cx: &Context, action: Option<ContactsAction>) -> Result<()> {
    let (passport, tokens) = cx.session().await?;
    let token = tokens.session_token.as_str();
    let Some(action) = action else { return list(cx, &passport, token).await };
    let (done, value) = match action {
        ContactsAction::Request { user, message } => {
            let created = passport.request_contact(token, &user, message.as_deref()).await?;
            let outcome = serde_json::to_value(created.outcome)?;
            let human = match created.contact {
                Some(_) => format!("{user} had asked you: you are now contacts."),
                None => format!("Asked {user} to be your contact."),
            };
            (human, json!({"outcome": outcome, "request": created.request.map(|r| r.id)}))
        }
        ContactsAction::Accept { who } => {
            let requests = passport.contact_requests(token).await?;
            let request = incoming(&requests, &who)?;
            let contact = passport.accept_request(token, request.id).await?;
            (
                format!("{} is now a contact.", contact.user.username),
                json!({"accepted": contact.user.username}),
            )
        }
        ContactsAction::Decline { who } => {
            let requests = passport.contact_requests(token).await?;
            let request = incoming(&requests, &who)?;
            passport.decline_request(token, request.id).await?;
            (format!("Declined {}.", request.from.username), json!({"declined": request.from.username}))
        }
        ContactsAction::Alias { user, alias } => {
            let id = resolve(&passport, token, &user).await?;
            passport.set_alias(token, id, alias.as_deref()).await?;
            (format!("Alias of {user} set."), json!({"user": id.to_string(), "alias": alias}))
        }
        ContactsAction::Remove { user } => {
            let id = resolve(&passport, token, &user).await?;
            passport.remove_contact(token, id).await?;
            (format!("Removed {user}."), json!({"removed": id.to_string()}))
        }
        ContactsAction::Block { user } => {
            let id = resolve(&passport, token, &user).await?;
            passport.block(token, id).await?;
            (format!("Blocked {user}."), json!({"blocked": id.to_string()}))
        }
        ContactsAction::Unblock { user } => {
            let id = resolve(&passport, token, &user).await?;
            passport.unblock(token, id).await?;
            (format!("Unblocked {user}."), json!({"unblocked": id.to_string()}))
        }
    };
    cx.out.print(done, value);
    Ok(())
}

async fn list(cx: &Context, passport: &PassportClient, token: &str) -> Result<()> {
    let contacts = passport.contacts(token).await?;
    let requests = passport.contact_requests(token).await?;
    let blocks = passport.blocks(token).await?;
    let mut human = Vec::new();
    for contact in &contacts {
        let alias = contact.alias.as_deref().map(|a| format!(" \"{a}\"")).unwrap_or_default();
        let blocked = if contact.blocked { " [blocked]" } else { "" };
        human.push(format!("{} ({}){alias}{blocked}", contact.user.display_name, contact.user.username));
    }
    if contacts.is_empty() {
        human.push("No contacts yet.".into());
    }
    for request in &requests.incoming {
        human.push(format!(
            "request {} from {}: {}",
            request.id,
            request.from.username,
            request.message.as_deref().unwrap_or("")
        ));
    }
    for request in &requests.outgoing {
        human.push(format!("waiting for {} (request {})", request.to.username, request.id));
    }
    cx.out.print(human.join("\n"), json!({"contacts": contacts, "requests": requests, "blocks": blocks}));
    Ok(())
}

fn matches(user: &UserSummary, who: &str) -> bool {
    user.id.to_string() == who || user.username.eq_ignore_ascii_case(who) || user.display_name == who
}

fn incoming<'a>(requests: &'a ContactRequests, who: &str) -> Result<&'a ContactRequest> {
    requests
        .incoming
        .iter()
        .find(|r| r.id.to_string() == who || matches(&r.from, who))
        .ok_or_else(|| anyhow!("no contact request from {who}"))
}

/// Someone you know of: a contact (by alias too), someone blocked, or in a request.
async fn resolve(passport: &PassportClient, token: &str, who: &str) -> Result<UserId> {
    if let Ok(id) = who.parse::<UserId>() {
        return Ok(id);
    }
    let contacts = passport.contacts(token).await?;
    if let Some(c) = contacts.iter().find(|c| matches(&c.user, who) || c.alias.as_deref() == Some(who)) {
        return Ok(c.user.id);
    }
    if let Some(b) = passport.blocks(token).await?.iter().find(|b| matches(&b.user, who)) {
        return Ok(b.user.id);
    }
    let requests = passport.contact_requests(token).await?;
    requests
        .incoming
        .iter()
        .map(|r| &r.from)
        .chain(requests.outgoing.iter().map(|r| &r.to))
        .find(|u| matches(u, who))
        .map(|u| u.id)
        .ok_or_else(|| {
            anyhow!("{who} is not among your contacts, blocks or requests (a user id like u7 works too)")
        })
}
