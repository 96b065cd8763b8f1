//! Calls from the terminal: `mocha call` places one, `mocha listen --answer-calls`
//! answers every incoming one; both play a WAV file as the microphone and record what
//! they hear (or use the machine's sound devices) and print the call's statistics.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Result, anyhow, bail};
use mocha_client::proto::im::CallCommand;
use mocha_client::{
    Call, CallEnd, CallState, CallStats, Conversation, ConversationEvent, ConversationId, Event,
};
use serde_json::{Value, json};
use tokio::task::JoinSet;

use super::converse;
use crate::args::CallMediaArgs;
use crate::context::Context;
use crate::media;

/// `mocha devices`: what `--microphone`, `--speakers` and `--camera` can name. A kind
/// that cannot be listed (no sound system, a build without cameras) says why.
pub fn devices(cx: &Context) -> Result<()> {
    for (kind, names) in media::list_devices() {
        let (text, value) = match names {
            Ok(names) if names.is_empty() => (format!("{kind}: none"), json!({"kind": kind, "names": []})),
            Ok(names) => (
                format!("{kind}:\n{}", names.iter().map(|n| format!("  {n}")).collect::<Vec<_>>().join("\n")),
                json!({"kind": kind, "names": names}),
            ),
            Err(why) => (format!("{kind}: cannot list them: {why}"), json!({"kind": kind, "error": why})),
        };
        cx.out.print(text, value);
    }
    Ok(())
}

/// The longest `--seconds` accepted (a day).
const MAX_SECONDS: f64 = 86_400.0;

pub async fn call(cx: &Context, user: &str, files: &CallMediaArgs, seconds: Option<f64>) -> Result<()> {
    let limit = match seconds {
        Some(s) if s.is_finite() && s > 0.0 && s <= MAX_SECONDS => Some(Duration::from_secs_f64(s)),
        Some(s) => bail!("--seconds must be more than 0 and at most {MAX_SECONDS}, not {s}"),
        None => None,
    };
    // Files and devices first: a missing file fails before anyone's phone rings.
    let devices = media::open(files, 1)?;
    let (client, mut events) = cx.client().await?;
    let (conversation, joined) = converse(&client, &mut events, user).await?;
    if !joined {
        conversation.leave().await;
        client.disconnect().await;
        bail!("{user} is not online to call");
    }
    let call = conversation.place_call(media::options(files), devices).await?;
    cx.out.print(format!("Calling {user}…"), json!({"event": "calling", "to": user, "call_id": call.id()}));

    let mut watch = call.watch();
    let mut hang_up_at: Option<tokio::time::Instant> = None;
    let mut announced = false;
    let end = loop {
        let snapshot = watch.borrow_and_update().clone();
        if let CallState::Ended(end) = snapshot.state {
            break end;
        }
        if snapshot.state == CallState::Active && !announced {
            announced = true;
            hang_up_at = limit.map(|limit| tokio::time::Instant::now() + limit);
            cx.out.print(
                format!("Connected with {user}."),
                json!({"event": "call_connected", "call_id": call.id()}),
            );
        }
        let until = hang_up_at;
        tokio::select! {
            changed = watch.changed() => {
                if changed.is_err() {
                    break call.ended().await;
                }
            }
            _ = async { tokio::time::sleep_until(until.unwrap_or_else(tokio::time::Instant::now)).await }, if until.is_some() => {
                hang_up_at = None;
                call.hang_up().await;
            }
            event = events.recv() => match event {
                Some(event @ Event::SignedOut(_)) => {
                    cx.out.event(&event);
                    call.hang_up().await;
                }
                Some(_) => {}
                None => break call.ended().await,
            },
            _ = tokio::signal::ctrl_c() => {
                call.hang_up().await;
            }
        }
    };
    print_end(cx, call.id(), &end, &call.stats());
    conversation.leave().await;
    client.disconnect().await;
    match end {
        CallEnd::HungUp | CallEnd::PeerHungUp | CallEnd::PeerLeft => Ok(()),
        CallEnd::Declined => bail!("{user} declined the call"),
        CallEnd::NoAnswer => bail!("{user} did not answer"),
        other => Err(anyhow!("{other}")),
    }
}

pub async fn answer_calls(cx: &Context, files: &CallMediaArgs, count: Option<usize>) -> Result<()> {
    if count == Some(0) {
        bail!("--calls must be at least 1");
    }
    // Check the files can be opened before going online (each call opens its own).
    drop(media::open(files, 1)?);
    let (client, mut events) = cx.client().await?;
    cx.out.print("Answering calls; Ctrl-C ends.", json!({"event": "ready"}));
    let mut conversations: HashMap<ConversationId, Conversation> = HashMap::new();
    let mut active: HashMap<String, Call> = HashMap::new();
    let mut ending: JoinSet<(String, CallEnd, CallStats)> = JoinSet::new();
    let (mut answered, mut finished) = (0usize, 0usize);
    let outcome = loop {
        tokio::select! {
            event = events.recv() => {
                let Some(event) = event else { break Ok(()) };
                cx.out.event(&event);
                match event {
                    Event::Ring(ring) => match client.answer(&ring).await {
                        Ok(conversation) => {
                            conversations.insert(conversation.id(), conversation);
                        }
                        Err(error) => eprintln!("mocha: cannot join {}'s conversation: {error}", ring.caller.username),
                    },
                    Event::Conversation { id, event: ConversationEvent::Call { from, control } }
                        if control.command == CallCommand::Invite =>
                    {
                        let Some(conversation) = conversations.get(&id) else { continue };
                        if count.is_some_and(|n| answered >= n) {
                            let _ = conversation.decline_call(&control.call_id).await;
                            continue;
                        }
                        answered += 1;
                        let devices = match media::open(files, answered) {
                            Ok(devices) => devices,
                            Err(error) => {
                                eprintln!("mocha: cannot answer {}'s call: {error:#}", from.display_name);
                                let _ = conversation.decline_call(&control.call_id).await;
                                finished += 1;
                                continue;
                            }
                        };
                        let video = control.media == Some(mocha_client::proto::im::CallMedia::Video);
                        let options = media::options(files).video(video);
                        match conversation.accept_call(from.user_id, &control.call_id, options, devices).await {
                            Ok(call) => {
                                cx.out.print(
                                    format!("Answered {}'s call.", from.display_name),
                                    json!({"event": "call_answered", "call_id": call.id(), "from": from.user_id.to_string()}),
                                );
                                let waiting = call.clone();
                                ending.spawn(async move {
                                    let end = waiting.ended().await;
                                    (waiting.id().to_string(), end, waiting.stats())
                                });
                                active.insert(call.id().to_string(), call);
                            }
                            Err(error) => {
                                eprintln!("mocha: cannot answer {}'s call: {error}", from.display_name);
                                finished += 1;
                            }
                        }
                    }
                    Event::Conversation { id, event: ConversationEvent::Ended { .. } } => {
                        conversations.remove(&id);
                    }
                    Event::SignedOut(reason) => break Err(anyhow!("signed out: {reason}")),
                    _ => {}
                }
            }
            Some(done) = ending.join_next() => {
                if let Ok((call_id, end, stats)) = done {
                    active.remove(&call_id);
                    print_end(cx, &call_id, &end, &stats);
                }
                finished += 1;
            }
            _ = tokio::signal::ctrl_c() => break Ok(()),
        }
        if count.is_some_and(|n| finished >= n) {
            break Ok(());
        }
    };
    for (call_id, call) in active.drain() {
        let stats = call.hang_up().await;
        print_end(cx, &call_id, &call.ended().await, &stats);
    }
    for conversation in conversations.into_values() {
        conversation.leave().await;
    }
    client.disconnect().await;
    outcome
}

/// `OUT.wav` for the first call, `OUT-2.wav`, `OUT-3.wav` … for later ones.
pub fn numbered(path: &Path, nth: usize) -> PathBuf {
    if nth <= 1 {
        return path.to_path_buf();
    }
    let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    let name = match path.extension() {
        Some(ext) => format!("{stem}-{nth}.{}", ext.to_string_lossy()),
        None => format!("{stem}-{nth}"),
    };
    path.with_file_name(name)
}

fn print_end(cx: &Context, call_id: &str, end: &CallEnd, stats: &CallStats) {
    let human = format!("Call ended: {end}.\n{}", stats_text(stats));
    let mut machine =
        json!({"event": "call_ended", "call_id": call_id, "reason": end.code(), "message": end.to_string()});
    machine["stats"] = stats_json(stats);
    cx.out.print(human, machine);
}

pub fn stats_json(stats: &CallStats) -> Value {
    let media = &stats.media;
    json!({
        "path": stats.path.map(|p| p.as_str()),
        "path_switches": stats.path_switches,
        "duration_ms": stats.duration.as_millis() as u64,
        "loss_percent": media.loss_percent,
        "jitter_ms": media.jitter_ms,
        "round_trip_ms": media.round_trip_ms,
        "buffer_ms": media.buffer_ms,
        "concealed_frames": media.concealed_frames,
        "fec_recoveries": media.fec_recoveries,
        "remote_loss_percent": media.remote_loss_percent,
        "audio_bitrate_bps": media.audio_bitrate_bps,
        "device_error": stats.device_error,
        "relay_round_trip_ms": stats.relay_round_trip_ms,
        "sent_udp": stats.sent_udp,
        "sent_tls": stats.sent_tls,
        "received_udp": stats.received_udp,
        "received_tls": stats.received_tls,
        "rejected": stats.rejected,
        "send_failures": stats.send_failures,
        "video_frames_sent": media.video.frames_sent,
        "video_frames_received": media.video.frames_received,
        "video_frames_shown": stats.frames_shown,
        "video_freezes": media.video.freezes,
        "video_bitrate_bps": media.video.bitrate_bps,
    })
}

fn stats_text(stats: &CallStats) -> String {
    let media = &stats.media;
    let ms = |v: Option<f32>| v.map_or("-".to_string(), |v| format!("{v:.1} ms"));
    format!(
        "  {:.1} s over {} ({} path switches)\n  loss {:.1} %, jitter {:.1} ms, round trip {}, relay round trip {}\n  packets sent {} UDP / {} TLS, received {} UDP / {} TLS, rejected {}{}{}",
        stats.duration.as_secs_f32(),
        stats.path.map_or("-", |p| p.as_str()),
        stats.path_switches,
        media.loss_percent,
        media.jitter_ms,
        ms(media.round_trip_ms),
        ms(stats.relay_round_trip_ms),
        stats.sent_udp,
        stats.sent_tls,
        stats.received_udp,
        stats.received_tls,
        stats.rejected,
        if media.video.frames_sent + media.video.frames_received > 0 {
            format!(
                "\n  video: {} frames sent, {} received, {} shown, {} freezes",
                media.video.frames_sent, media.video.frames_received, stats.frames_shown, media.video.freezes
            )
        } else {
            String::new()
        },
        stats.device_error.as_ref().map_or(String::new(), |e| format!("\n  {e}")),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn later_calls_record_to_numbered_files() {
        assert_eq!(numbered(Path::new("/tmp/out.wav"), 1), PathBuf::from("/tmp/out.wav"));
        assert_eq!(numbered(Path::new("/tmp/out.wav"), 3), PathBuf::from("/tmp/out-3.wav"));
        assert_eq!(numbered(Path::new("rec"), 2), PathBuf::from("rec-2"));
    }
}
