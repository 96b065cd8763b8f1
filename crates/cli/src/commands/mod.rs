//! One module per group of subcommands; each function does one command.

pub mod account;
pub mod admin;
pub mod calls;
pub mod contacts;
pub mod files;
pub mod talk;
pub mod update;

use std::time::Duration;

use anyhow::{Result, anyhow};
use mocha_client::{Conversation, ConversationEvent, Event};
use tokio::sync::mpsc;

/// How long to wait for an invited contact to join before speaking anyway.
pub const JOIN_WAIT: Duration = Duration::from_secs(30);

/// Opens a conversation with `user` and waits for them to join. `Ok(None)` as the
/// second value when they are offline (what is then said becomes an activity alert).
pub async fn converse(
    client: &mocha_client::Client,
    events: &mut mpsc::Receiver<Event>,
    user: &str,
) -> Result<(Conversation, bool)> {
    let conversation = client.open_conversation().await?;
    match conversation.invite(&client_side_name(client, user)).await {
        Ok(_) => {}
        Err(e) if e.server_code() == Some(mocha_client::proto::ErrorCode::UserOffline) => {
            return Ok((conversation, false));
        }
        Err(e) => return Err(anyhow!(e).context(format!("cannot invite {user}"))),
    }
    let id = conversation.id();
    let joined = tokio::time::timeout(JOIN_WAIT, async {
        while let Some(event) = events.recv().await {
            if let Event::Conversation { id: of, event: ConversationEvent::Joined(_) } = &event
                && *of == id
            {
                return true;
            }
        }
        false
    })
    .await
    .unwrap_or(false);
    Ok((conversation, joined))
}

/// An alias or address of a contact, as the server knows them.
fn client_side_name(client: &mocha_client::Client, who: &str) -> String {
    client.state().find_contact(who).map(|c| c.user.id.to_string()).unwrap_or_else(|| who.to_string())
}
