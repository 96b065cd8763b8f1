//! Files: sending one with a progress bar, and receiving into a folder.

use std::io::IsTerminal;
use std::path::Path;

use anyhow::{Result, anyhow, bail};
use indicatif::{ProgressBar, ProgressStyle};
use mocha_client::{ConversationEvent, Event, TransferDirection, TransferEvent};
use serde_json::json;

use super::converse;
use crate::context::Context;
use crate::output::transfer_json;

pub(crate) fn progress_bar(cx: &Context, size: u64) -> Option<ProgressBar> {
    if cx.out.json || !std::io::stdout().is_terminal() {
        return None;
    }
    let bar = ProgressBar::new(size);
    if let Ok(style) =
        ProgressStyle::with_template("{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} {eta}")
    {
        bar.set_style(style.progress_chars("=> "));
    }
    Some(bar)
}

pub async fn send_file(cx: &Context, user: &str, path: &Path) -> Result<()> {
    let size = std::fs::metadata(path).map_err(|e| anyhow!("{}: {e}", path.display()))?.len();
    let (client, mut events) = cx.client().await?;
    let (conversation, joined) = converse(&client, &mut events, user).await?;
    if !joined {
        bail!("{user} is not online to receive a file");
    }
    let transfer = conversation.send_file(path, None).await?;
    let bar = progress_bar(cx, size);
    if let Some(bar) = &bar {
        bar.set_message(format!("waiting for {user} to accept"));
    }
    let id = conversation.id();
    let outcome = loop {
        let Some(event) = events.recv().await else { break Err(anyhow!("the client stopped")) };
        let Event::Conversation { id: of, event } = event else { continue };
        if of != id {
            continue;
        }
        match event {
            ConversationEvent::Transfer(t) => {
                if cx.out.json {
                    println!("{}", transfer_json(&t));
                }
                match t {
                    TransferEvent::Accepted { .. } => {
                        if let Some(bar) = &bar {
                            bar.set_message("sending");
                        }
                    }
                    TransferEvent::Progress { done, .. } => {
                        if let Some(bar) = &bar {
                            bar.set_position(done);
                        }
                    }
                    TransferEvent::Completed { transfer_id, sha256, .. } if transfer_id == transfer => {
                        break Ok(sha256);
                    }
                    TransferEvent::Declined { .. } => break Err(anyhow!("{user} declined the file")),
                    TransferEvent::Cancelled { .. } => break Err(anyhow!("{user} cancelled the transfer")),
                    TransferEvent::Failed { reason, .. } => {
                        break Err(anyhow!("the transfer failed: {reason}"));
                    }
                    TransferEvent::Completed { .. } => {}
                }
            }
            ConversationEvent::Ended { .. } => {
                break Err(anyhow!("the conversation ended before the file was sent"));
            }
            _ => {}
        }
    };
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    conversation.leave().await;
    client.disconnect().await;
    let sha256 = outcome?;
    if cx.out.json {
        println!("{}", json!({"sent": path, "to": user, "size": size, "sha256": sha256}));
    } else {
        println!("Sent {} to {user} ({size} bytes, SHA-256 verified by the receiver).", path.display());
    }
    Ok(())
}

pub async fn receive_files(cx: &Context, folder: &Path, count: Option<usize>) -> Result<()> {
    if !folder.is_dir() {
        bail!("{} is not a folder", folder.display());
    }
    let (client, mut events) = cx.client().await?;
    let mut conversations = Vec::new();
    let mut bars = std::collections::HashMap::new();
    let mut received = 0;
    if !cx.out.json {
        println!("Waiting for files; they go to {}. Ctrl-C stops.", folder.display());
    } else {
        println!("{}", json!({"event": "ready", "into": folder}));
    }
    while count.is_none_or(|n| received < n) {
        let event = tokio::select! {
            event = events.recv() => event,
            _ = tokio::signal::ctrl_c() => None,
        };
        let Some(event) = event else { break };
        match event {
            Event::Ring(ring) => match client.answer(&ring).await {
                Ok(conversation) => conversations.push(conversation),
                Err(error) => {
                    eprintln!("mocha: cannot join {}'s conversation: {error}", ring.caller.username)
                }
            },
            Event::Conversation { id, event: ConversationEvent::FileOffered { from, offer } } => {
                let Some(conversation) = conversations.iter().find(|c| c.id() == id) else { continue };
                let path = conversation.accept_file(&offer.transfer_id, folder).await?;
                if cx.out.json {
                    println!(
                        "{}",
                        json!({"event": "accepted", "from": from.user_id.to_string(), "name": offer.name, "path": path, "size": offer.size})
                    );
                } else {
                    println!("Receiving {} from {} into {}", offer.name, from.display_name, path.display());
                }
                if let Some(bar) = progress_bar(cx, offer.size) {
                    bars.insert(offer.transfer_id.clone(), bar);
                }
            }
            Event::Conversation { event: ConversationEvent::Transfer(t), .. } => {
                match &t {
                    TransferEvent::Progress { transfer_id, done, .. } => {
                        if let Some(bar) = bars.get(transfer_id) {
                            bar.set_position(*done);
                        }
                        continue;
                    }
                    TransferEvent::Completed {
                        transfer_id,
                        direction: TransferDirection::Receiving,
                        path,
                        ..
                    } => {
                        if let Some(bar) = bars.remove(transfer_id) {
                            bar.finish_and_clear();
                        }
                        received += 1;
                        if !cx.out.json {
                            let path = path.as_deref().map(|p| p.display().to_string()).unwrap_or_default();
                            println!("Received {path} (SHA-256 verified).");
                        }
                    }
                    TransferEvent::Failed { transfer_id, reason, .. } => {
                        if let Some(bar) = bars.remove(transfer_id) {
                            bar.abandon();
                        }
                        eprintln!("mocha: a transfer failed: {reason}");
                    }
                    _ => {}
                }
                if cx.out.json {
                    println!("{}", transfer_json(&t));
                }
            }
            Event::SignedOut(reason) => bail!("signed out: {reason}"),
            _ => {}
        }
    }
    for conversation in conversations {
        conversation.leave().await;
    }
    client.disconnect().await;
    Ok(())
}
