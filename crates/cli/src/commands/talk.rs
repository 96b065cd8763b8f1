//! Talking: one message, an interactive chat, and listening to everything.

use anyhow::{Context as _, Result, anyhow, bail};
use mocha_client::sb::Delivery;
use mocha_client::{ConversationEvent, Event};
use serde_json::json;
use tokio::io::{AsyncBufReadExt, BufReader};

use super::converse;
use crate::context::Context;

pub async fn send(cx: &Context, user: &str, message: &str) -> Result<()> {
    let (client, mut events) = cx.client().await?;
    let (conversation, joined) = converse(&client, &mut events, user).await?;
    // When nobody is there the server keeps the text as an alert and answers NAK; when
    // it cannot keep it either (its disk is full) it answers an error, and so do we.
    let sent = conversation.send_text(message).await;
    conversation.leave().await;
    client.disconnect().await;
    let delivery = sent.with_context(|| format!("the message to {user} was not delivered"))?;
    let delivered = delivery == Delivery::Delivered;
    let human = match (delivered, joined) {
        (true, _) => format!("Delivered to {user}."),
        (false, false) => format!("{user} is offline; they will find it among their alerts."),
        (false, true) => format!("{user} left before it arrived; they will find it among their alerts."),
    };
    cx.out.print(human, json!({"to": user, "delivered": delivered}));
    Ok(())
}

pub async fn chat(cx: &Context, user: &str) -> Result<()> {
    let (client, mut events) = cx.client().await?;
    let (conversation, joined) = converse(&client, &mut events, user).await?;
    if !joined {
        cx.out.print(
            format!("{user} is not here; what you type reaches them as activity alerts. Ctrl-D ends."),
            json!({"event": "offline", "user": user}),
        );
    } else if !cx.out.json {
        println!("Talking with {user}. /nudge nudges, Ctrl-D ends.");
    }
    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    let id = conversation.id();
    loop {
        tokio::select! {
            line = lines.next_line() => match line? {
                None => break,
                Some(line) if line.trim() == "/quit" => break,
                Some(line) if line.trim() == "/nudge" => drop(conversation.send_nudge().await?),
                Some(line) if line.trim().is_empty() => {}
                Some(line) => match conversation.send_text(&line).await {
                    Ok(Delivery::NotDelivered) if cx.out.json => {
                        println!("{}", json!({"event": "not_delivered", "text": line}));
                    }
                    Ok(_) => {}
                    // Refused (say, the server could not keep it as an alert): say so and go on.
                    Err(error) if error.server_code().is_some() => {
                        eprintln!("mocha: not delivered: {error}");
                        if cx.out.json {
                            println!("{}", json!({"event": "not_kept", "text": line, "reason": error.to_string()}));
                        }
                    }
                    Err(error) => return Err(error.into()),
                },
            },
            event = events.recv() => match event {
                None => break,
                Some(Event::Conversation { id: of, event }) if of == id => {
                    let ended = matches!(event, ConversationEvent::Ended { .. });
                    cx.out.event(&Event::Conversation { id, event });
                    if ended {
                        break;
                    }
                }
                Some(event @ Event::SignedOut(_)) => {
                    cx.out.event(&event);
                    bail!("signed out");
                }
                Some(_) => {}
            },
            _ = tokio::signal::ctrl_c() => break,
        }
    }
    conversation.leave().await;
    client.disconnect().await;
    Ok(())
}

pub async fn listen(cx: &Context) -> Result<()> {
    let (client, mut events) = cx.client().await?;
    // Conversations stay open while their handles live.
    let mut conversations = Vec::new();
    loop {
        let event = tokio::select! {
            event = events.recv() => event,
            _ = tokio::signal::ctrl_c() => None,
        };
        let Some(event) = event else { break };
        cx.out.event(&event);
        match &event {
            Event::Ring(ring) => match client.answer(ring).await {
                Ok(conversation) => conversations.push(conversation),
                Err(error) => {
                    eprintln!("mocha: cannot join {}'s conversation: {error}", ring.caller.username)
                }
            },
            Event::SignedOut(reason) => return Err(anyhow!("signed out: {reason}")),
            _ => {}
        }
    }
    client.disconnect().await;
    Ok(())
}
