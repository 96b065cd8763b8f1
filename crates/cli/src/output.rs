//! What commands print: a sentence for people, or one JSON value per line with `--json`.

use std::fmt::Display;

use mocha_client::api::ContactListEvent;
use mocha_client::proto::im::CallCommand;
use mocha_client::{ConversationEvent, Event, TransferEvent};
use serde_json::{Value, json};

#[derive(Clone, Copy, Debug)]
pub struct Output {
    pub json: bool,
}

impl Output {
    pub fn print(&self, human: impl Display, machine: Value) {
        if self.json {
            println!("{machine}");
        } else {
            println!("{human}");
        }
    }

    pub fn event(&self, event: &Event) {
        if self.json {
            println!("{}", event_json(event));
        } else if let Some(line) = event_text(event) {
            println!("{line}");
        }
    }
}

pub fn event_json(event: &Event) -> Value {
    match event {
        Event::Connected { account } => {
            json!({"event": "connected", "user": account.id.to_string(), "username": account.username})
        }
        Event::Disconnected { reason, attempt, retry_in } => {
            json!({"event": "disconnected", "reason": reason, "attempt": attempt, "retry_in_ms": retry_in.as_millis() as u64})
        }
        Event::Presence { user, presence } => json!({
            "event": "presence",
            "user": user.to_string(),
            "status": presence.as_ref().map(|p| serde_json::to_value(p.status).unwrap_or(Value::Null)).unwrap_or(json!("FLN")),
            "display_name": presence.as_ref().map(|p| p.display_name.clone()),
        }),
        Event::PersonalMessage { user, message } => {
            json!({"event": "personal_message", "user": user.to_string(), "message": message})
        }
        Event::ContactList(change) => json!({"event": "contacts", "change": change}),
        Event::Notice(text) => json!({"event": "notice", "text": text}),
        Event::Ring(ring) => json!({"event": "ring", "from": ring.caller.username, "room": ring.room}),
        Event::SessionRefreshed { .. } => json!({"event": "session_refreshed"}),
        Event::SignedOut(reason) => {
            json!({"event": "signed_out", "reason": reason.code(), "message": reason.to_string()})
        }
        Event::Conversation { id, event } => {
            let mut value = conversation_json(event);
            value["conversation"] = json!(id.to_string());
            value
        }
    }
}

fn conversation_json(event: &ConversationEvent) -> Value {
    match event {
        ConversationEvent::Joined(p) => {
            json!({"event": "joined", "user": p.user_id.to_string(), "display_name": p.display_name})
        }
        ConversationEvent::Left { user, reason } => {
            json!({"event": "left", "user": user.to_string(), "reason": reason})
        }
        ConversationEvent::Text { from, text, .. } => {
            json!({"event": "text", "from": from.user_id.to_string(), "display_name": from.display_name, "text": text})
        }
        ConversationEvent::Typing { from } => json!({"event": "typing", "from": from.user_id.to_string()}),
        ConversationEvent::Nudge { from } => json!({"event": "nudge", "from": from.user_id.to_string()}),
        ConversationEvent::Invitation { from, application, .. } => {
            json!({"event": "invitation", "from": from.user_id.to_string(), "application": application})
        }
        ConversationEvent::Call { from, control } => {
            json!({"event": "call", "from": from.user_id.to_string(), "command": control.command.as_str(), "call_id": control.call_id, "media": control.media.map(|m| m.as_str())})
        }
        ConversationEvent::Media { from, call_id, data } => {
            json!({"event": "media", "from": from.to_string(), "call_id": call_id, "bytes": data.len()})
        }
        // The grant's token and key are credentials: only that one came.
        ConversationEvent::CallRelay(grant) => {
            json!({"event": "call_relay", "call_id": grant.call_id, "relay": grant.relay})
        }
        ConversationEvent::FileOffered { from, offer } => json!({
            "event": "file_offered", "from": from.user_id.to_string(), "transfer_id": offer.transfer_id,
            "name": offer.name, "size": offer.size, "sha256": offer.sha256,
        }),
        ConversationEvent::Transfer(transfer) => transfer_json(transfer),
        ConversationEvent::Other { from, .. } => {
            json!({"event": "message", "from": from.user_id.to_string()})
        }
        ConversationEvent::Refused(reply) => {
            json!({"event": "refused", "code": reply.code.code(), "reason": reply.reason})
        }
        ConversationEvent::Ended { reason } => {
            json!({"event": "ended", "reason": reason.as_ref().map(|r| r.code())})
        }
    }
}

pub fn transfer_json(event: &TransferEvent) -> Value {
    match event {
        TransferEvent::Accepted { transfer_id } => {
            json!({"event": "transfer_accepted", "transfer_id": transfer_id})
        }
        TransferEvent::Declined { transfer_id } => {
            json!({"event": "transfer_declined", "transfer_id": transfer_id})
        }
        TransferEvent::Cancelled { transfer_id } => {
            json!({"event": "transfer_cancelled", "transfer_id": transfer_id})
        }
        TransferEvent::Progress { transfer_id, done, total, .. } => {
            json!({"event": "transfer_progress", "transfer_id": transfer_id, "done": done, "total": total})
        }
        TransferEvent::Completed { transfer_id, path, sha256, .. } => {
            json!({"event": "transfer_completed", "transfer_id": transfer_id, "path": path, "sha256": sha256})
        }
        TransferEvent::Failed { transfer_id, reason, .. } => {
            json!({"event": "transfer_failed", "transfer_id": transfer_id, "reason": reason})
        }
    }
}

pub fn event_text(event: &Event) -> Option<String> {
    Some(match event {
        Event::Connected { account } => {
            format!("Signed in as {} ({}).", account.display_name, account.username)
        }
        Event::Disconnected { reason, retry_in, .. } => {
            format!("Connection lost ({reason}); retrying in {:.1} s…", retry_in.as_secs_f32())
        }
        Event::Presence { user, presence: Some(p) } => {
            format!("{} ({user}) is {}", p.display_name, serde_json::to_value(p.status).ok()?.as_str()?)
        }
        Event::Presence { user, presence: None } => format!("{user} is offline"),
        Event::PersonalMessage { user, message } => format!("{user} says: {message}"),
        Event::ContactList(change) => contact_change_text(change),
        Event::Notice(text) => format!("NOTICE: {text}"),
        Event::Ring(ring) => format!("{} invites you to a conversation", ring.caller.display_name),
        Event::SessionRefreshed { .. } => return None,
        Event::SignedOut(reason) => format!("Signed out: {reason}"),
        Event::Conversation { event, .. } => conversation_text(event)?,
    })
}

fn contact_change_text(change: &ContactListEvent) -> String {
    match change {
        ContactListEvent::RequestReceived { request } => {
            format!(
                "{} ({}) asks to be your contact (request {})",
                request.from.display_name, request.from.username, request.id
            )
        }
        ContactListEvent::RequestSent { request } => {
            format!("asked {} to be your contact (request {})", request.to.username, request.id)
        }
        ContactListEvent::RequestAccepted { by } => format!("{} accepted your request", by.username),
        ContactListEvent::RequestDeclined { by } => format!("{} declined your request", by.username),
        ContactListEvent::RequestCancelled { by } => format!("{} withdrew their request", by.username),
        ContactListEvent::ContactRemoved { by } => format!("{} is no longer a contact", by.username),
        ContactListEvent::ContactAdded { contact } => format!("{} is now a contact", contact.username),
        ContactListEvent::AliasChanged { contact, alias } => {
            format!("alias of {contact}: {}", alias.as_deref().unwrap_or("(none)"))
        }
        ContactListEvent::Blocked { user } => format!("you blocked {}", user.username),
        ContactListEvent::Unblocked { user } => format!("you unblocked {}", user.username),
        ContactListEvent::DisplayNameChanged { user } => {
            format!("{} is now called {}", user.username, user.display_name)
        }
    }
}

fn conversation_text(event: &ConversationEvent) -> Option<String> {
    Some(match event {
        ConversationEvent::Joined(p) => format!("* {} joined", p.display_name),
        ConversationEvent::Left { user, .. } => format!("* {user} left"),
        ConversationEvent::Text { from, text, .. } => format!("<{}> {text}", from.display_name),
        ConversationEvent::Typing { .. } => return None,
        ConversationEvent::Nudge { from } => format!("* {} nudged you!", from.display_name),
        ConversationEvent::Invitation { from, application, .. } => {
            format!("* {} invites you to {application}", from.display_name)
        }
        ConversationEvent::Call { from, control } => match control.command {
            CallCommand::Invite => {
                format!("* {} is calling (`mocha listen --answer-calls` answers calls)", from.display_name)
            }
            other => format!("* call {}: {}", control.call_id, other.as_str()),
        },
        ConversationEvent::Media { .. } | ConversationEvent::CallRelay(_) => return None,
        ConversationEvent::FileOffered { from, offer } => {
            format!("* {} offers {} ({} bytes)", from.display_name, offer.name, offer.size)
        }
        ConversationEvent::Transfer(TransferEvent::Progress { .. }) => return None,
        ConversationEvent::Transfer(TransferEvent::Completed { path: Some(path), .. }) => {
            format!("* received {} (SHA-256 verified)", path.display())
        }
        ConversationEvent::Transfer(t) => transfer_json(t)["event"].as_str()?.replace('_', " "),
        ConversationEvent::Other { .. } => return None,
        ConversationEvent::Refused(reply) => format!("! {} ({})", reply.reason, reply.code.code()),
        ConversationEvent::Ended { .. } => "* conversation ended".to_string(),
    })
}
