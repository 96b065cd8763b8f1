//! A scripted chat partner for `scripts/screenshots.sh`: signs in with
//! `mocha-client`, opens a conversation with someone, types, says a few lines and
//! nudges, then stays until killed so the conversation window stays open.
//!
//! Usage: `chat_partner <server> <ca.pem> <address> <password> <who>`

use std::time::Duration;

use mocha_client::{Client, ClientConfig, ConversationEvent, Credentials, Event, Trust};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [server, ca, address, password, who] = args.as_slice() else {
        anyhow::bail!("usage: chat_partner <server> <ca.pem> <address> <password> <who>");
    };
    let trust = Trust::system().with_pem_file(ca.as_ref())?;
    let config = ClientConfig::new(server, trust);
    let credentials = Credentials::Password { username: address.clone(), password: password.clone() };
    let (client, mut events) = Client::connect(config, credentials).await?;
    client.set_personal_message("brewing a fresh pot (coffee)").await?;
    // Time for a screenshot of the contact list before the conversation opens.
    tokio::time::sleep(Duration::from_secs(4)).await;
    let chat = client.start_conversation(who).await?;
    while let Some(event) = events.recv().await {
        if let Event::Conversation { event: ConversationEvent::Joined(_), .. } = event {
            break;
        }
    }
    chat.send_typing().await?;
    tokio::time::sleep(Duration::from_millis(800)).await;
    chat.send_text("Hi! Coffee at 10? :)").await?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    chat.send_nudge().await?;
    chat.send_text("I'll bring the beans (Y)").await?;
    tokio::time::sleep(Duration::from_millis(400)).await;
    chat.send_text("(coffee) ;) <3").await?;
    tokio::time::sleep(Duration::from_secs(600)).await;
    Ok(())
}
