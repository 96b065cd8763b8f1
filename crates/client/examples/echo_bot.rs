//! A bot that answers every conversation it is invited to by echoing what it hears,
//! and accepts contact requests. Run against a server you host:
//!
//! ```sh
//! MOCHA_PASSWORD=… cargo run -p mocha-client --example echo_bot -- \
//!     https://localhost:8443 mocha-data/tls/ca.pem bot@example.com
//! ```

use mocha_client::api::ContactListEvent;
use mocha_client::{Client, ClientConfig, ConversationEvent, Credentials, Event, Trust};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let (Some(server), Some(ca), Some(username)) = (args.next(), args.next(), args.next()) else {
        eprintln!("usage: echo_bot SERVER CA_PEM USERNAME (password in MOCHA_PASSWORD)");
        std::process::exit(2);
    };
    let password = std::env::var("MOCHA_PASSWORD")?;
    let trust = Trust::system().with_pem_file(ca.as_ref())?;
    let config = ClientConfig::new(&server, trust);
    let (client, mut events) = Client::connect(config, Credentials::Password { username, password }).await?;

    let mut conversations = Vec::new();
    while let Some(event) = events.recv().await {
        match event {
            Event::ContactList(ContactListEvent::RequestReceived { request }) => {
                client.accept_request(request.id).await?;
            }
            Event::Ring(ring) => conversations.push(client.answer(&ring).await?),
            Event::Conversation { id, event: ConversationEvent::Text { from, text, .. } } => {
                if let Some(chat) = conversations.iter().find(|c| c.id() == id) {
                    chat.send_text(&format!("{} said: {text}", from.display_name)).await?;
                }
            }
            Event::Conversation { id, event: ConversationEvent::Ended { .. } } => {
                conversations.retain(|c| c.id() != id);
            }
            Event::SignedOut(reason) => {
                eprintln!("signed out: {reason}");
                break;
            }
            _ => {}
        }
    }
    Ok(())
}
