//! Calls in the real app, two of them against a real server (real TLS, the relay's real
//! UDP on loopback), driven through their widgets with `egui_kittest`. Each app calls
//! on synthetic devices: a microphone that talks (speech-like, each at its own pitch),
//! speakers that record, a camera showing the test pattern. What each side's speakers
//! recorded is compared with what the other side's microphone said.

#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use common::*;
use egui_kittest::kittest::Queryable;
use mocha_client::Event;
use mocha_client::media::audio::SpeechLike;
use mocha_client::media::audio::measure::{find_lag, quality};
use mocha_client::media::audio::synth::render;
use mocha_client::media::video::read_counter;
use mocha_client::proto::Status;
use mocha_messenger::call::CallPhase;
use mocha_messenger::model::{ChatLine, Cue};
use mocha_messenger::settings::OptionsFile;
use mocha_messenger::sounds::Sound;

const ALICE_PITCH: f64 = 120.0;
const BOB_PITCH: f64 = 210.0;

/// Alice's and Bob's apps, signed in, in a conversation with each other.
struct Pair {
    t: TestServer,
    alice_user: TestUser,
    alice: App,
    bob: App,
    alice_media: TestMedia,
    bob_media: TestMedia,
    alice_cues: Cues,
    bob_cues: Cues,
    _dirs: Vec<tempfile::TempDir>,
}

fn signed_in(
    t: &TestServer,
    user: &TestUser,
    media: &TestMedia,
    dirs: &mut Vec<tempfile::TempDir>,
) -> (App, Cues) {
    let config = tempfile::tempdir().unwrap();
    let mut options = options_for(t, config.path());
    // The voices are compared sample by sample with what was said: that judges the
    // transport and the codec. The noise suppressor reshapes the synthetic voice (Bob's
    // similarity at Alice's fell from 0.94 to 0.54 with it on) and the echo canceller
    // takes the two voices overlapping for double talk, so both are off here.
    options.audio_video.acoustic_echo_cancellation = false;
    options.audio_video.noise_suppression = false;
    OptionsFile::new(config.path()).save(&options).unwrap();
    let (mut h, cues) = app_for_calls(config.path(), media);
    fill(&mut h, "Sign-in address:", &user.account.username);
    fill(&mut h, "Password:", &user.password);
    click(&mut h, "Sign in");
    dirs.push(config);
    wait_for_label(&mut h, "Personal message:");
    (h, cues)
}

/// Both signed in; with `chat`, Alice has opened a conversation with Bob.
fn pair(alice_media: TestMedia, bob_media: TestMedia, chat: bool) -> Pair {
    let t = TestServer::start();
    let (alice_user, bob_user) = (t.user("alice"), t.user("bob"));
    t.befriend(&alice_user, &bob_user);
    let mut dirs = Vec::new();
    let (mut alice, alice_cues) = signed_in(&t, &alice_user, &alice_media, &mut dirs);
    let (mut bob, bob_cues) = signed_in(&t, &bob_user, &bob_media, &mut dirs);
    wait_for_label(&mut alice, "Bob (Online)");
    wait_for_label(&mut bob, "Alice (Online)");
    if chat {
        alice.get_by_label_contains("Bob (Online)").click_secondary();
        alice.run_steps(3);
        click(&mut alice, "Send an instant message");
        wait_both(&mut alice, &mut bob, "both conversation windows", |a, b| {
            shows(a, "To: Bob") && shows(b, "To: Alice")
        });
    }
    Pair { t, alice_user, alice, bob, alice_media, bob_media, alice_cues, bob_cues, _dirs: dirs }
}

fn connected(h: &App) -> bool {
    h.state().model.call.as_ref().is_some_and(|c| matches!(c.view.phase, CallPhase::Connected { .. }))
}

fn no_call(h: &App) -> bool {
    h.state().model.call.is_none()
}

fn status(h: &App) -> Option<Status> {
    h.state().model.state.as_ref().map(|s| s.status)
}

fn notes(h: &App) -> Vec<String> {
    let conversations = &h.state().model.conversations;
    conversations
        .values()
        .flat_map(|c| &c.lines)
        .filter_map(|line| match line {
            ChatLine::Note { text, .. } => Some(text.clone()),
            ChatLine::Text { .. } => None,
        })
        .collect()
}

fn has_note(h: &App, text: &str) -> bool {
    notes(h).iter().any(|note| note == text)
}

fn rms(samples: &[f32]) -> f32 {
    if samples.is_empty() {
        return 0.0;
    }
    (samples.iter().map(|s| s * s).sum::<f32>() / samples.len() as f32).sqrt()
}

/// How much of `pitch`'s voice a recording holds: the best alignment of the voice
/// (from its second second on) within the recording's first three seconds, then the
/// segment-by-segment correlation there (1: a perfect copy).
fn voice_in(recorded: &[f32], pitch: f64) -> f64 {
    let rate = RATE as usize;
    let said = render(&mut SpeechLike::new(RATE, pitch, VOICE), 12 * rate).unwrap();
    let reference = &said[rate..];
    let lag = find_lag(&reference[..2 * rate], recorded, 3 * rate);
    let q =
        quality(&reference[..(recorded.len().saturating_sub(lag)).min(reference.len())], recorded, lag, 0.0);
    println!("pitch {pitch}: lag {} ms, {q:?}, recorded {} s", lag * 1000 / rate, recorded.len() / rate);
    q.mean_correlation
}

/// Alice presses "Call" (or "Video call") in the conversation; Bob's window rings.
fn alice_calls(p: &mut Pair, button: &str) {
    click(&mut p.alice, button);
    wait_both(&mut p.alice, &mut p.bob, "Bob's call window ringing", |a, b| {
        shows(a, "Calling Bob…") && shows(b, "Alice is calling you…") && shows(b, "Accept with video")
    });
}

#[test]
fn a_voice_call_rings_connects_carries_both_voices_switches_devices_mutes_and_hangs_up() {
    let mut p = pair(TestMedia::talking_at(ALICE_PITCH), TestMedia::talking_at(BOB_PITCH), true);
    alice_calls(&mut p, "Call");
    // The ring: its sound, a desktop notification, a note in Bob's conversation.
    assert!(cued(&p.bob_cues, |c| *c == Cue::Sound(Sound::Ring)));
    assert!(cued(&p.bob_cues, |c| matches!(c, Cue::Toast { title, body, .. }
        if title == "Incoming call" && body == "Alice is calling you.")));
    assert!(has_note(&p.bob, "Alice is calling you."));
    assert!(!cued(&p.alice_cues, |c| *c == Cue::Sound(Sound::Ring)), "the caller's app does not ring");

    click(&mut p.bob, "Accept");
    wait_both(&mut p.alice, &mut p.bob, "the call connected", |a, b| connected(a) && connected(b));
    wait_both(&mut p.alice, &mut p.bob, "the signal indicator", |a, b| {
        shows(a, "connection (") && shows(b, "connection (")
    });
    // Each side's own devices, by the names in Options (the system defaults here).
    for media in [&p.alice_media, &p.bob_media] {
        assert_eq!(media.record.opened(), ["microphone:", "speakers:"]);
    }
    run_both(&mut p.alice, &mut p.bob, Duration::from_secs(5));

    // Both voices crossed: each side's speakers played the other's microphone.
    let at_alice = voice_in(&p.alice_media.record.heard(""), BOB_PITCH);
    let at_bob = voice_in(&p.bob_media.record.heard(""), ALICE_PITCH);
    println!("voice similarity: Bob's at Alice {at_alice:.2}, Alice's at Bob {at_bob:.2}");
    assert!(at_alice > 0.6 && at_bob > 0.6, "Bob's voice at Alice {at_alice:.2}, Alice's at Bob {at_bob:.2}");
    // "On the phone" while the call is on (the option is on by default).
    wait_both(&mut p.alice, &mut p.bob, "On the phone", |a, b| {
        status(a) == Some(Status::OnThePhone) && status(b) == Some(Status::OnThePhone)
    });
    let clock = p.alice.state().model.call.as_ref().unwrap().view.status_line();
    assert!(clock.starts_with("0:") && clock.len() == 4, "the duration: {clock}");
    assert!(shows(&p.alice, &clock), "the call's duration is shown");

    // Alice's microphone is unplugged: her window says so, the call goes on.
    p.alice_media.record.unplugged.store(true, std::sync::atomic::Ordering::Relaxed);
    wait_for_label(&mut p.alice, "the microphone failed");
    assert!(connected(&p.alice));
    // She picks another microphone and other speakers in Options: they are put in at
    // once, and Bob hears her again, on the new speakers she hears him.
    p.alice_media.record.unplugged.store(false, std::sync::atomic::Ordering::Relaxed);
    click(&mut p.alice, "Tools");
    click(&mut p.alice, "Options…");
    click(&mut p.alice, "Audio & video");
    click(&mut p.alice, "Microphone:");
    click(&mut p.alice, "USB Mic");
    click(&mut p.alice, "Speakers:");
    click(&mut p.alice, "Headphones");
    click(&mut p.alice, "OK");
    wait_both(&mut p.alice, &mut p.bob, "the new devices", |_, _| {
        let opened = p.alice_media.record.opened();
        opened.contains(&"microphone:USB Mic".to_string())
            && opened.contains(&"speakers:Headphones".to_string())
    });
    let bob_heard_before = p.bob_media.record.heard("").len();
    run_both(&mut p.alice, &mut p.bob, Duration::from_secs(3));
    let after_switch = p.bob_media.record.heard("")[bob_heard_before + RATE as usize / 2..].to_vec();
    assert!(rms(&after_switch) > 0.02, "Bob hears Alice's new microphone: rms {}", rms(&after_switch));
    let headphones = p.alice_media.record.heard("Headphones");
    assert!(rms(&headphones) > 0.02, "Alice hears Bob on her headphones: rms {}", rms(&headphones));
    assert!(connected(&p.alice) && connected(&p.bob), "the call never stopped");

    // Alice mutes: Bob is told, and hears nothing more from her.
    click(&mut p.alice, "Mute");
    wait_for_label(&mut p.bob, "Alice muted their microphone.");
    let muted_at = p.bob_media.record.heard("").len();
    run_both(&mut p.alice, &mut p.bob, Duration::from_secs(2));
    let while_muted = p.bob_media.record.heard("")[muted_at + RATE as usize / 2..].to_vec();
    assert!(rms(&while_muted) < 0.002, "silence while muted: rms {}", rms(&while_muted));
    assert!(shows(&p.alice, "Unmute"));

    // Alice hangs up: both call windows close, both conversations say so, and the
    // statuses are back to Online.
    click(&mut p.alice, "Hang up");
    wait_both(&mut p.alice, &mut p.bob, "both call windows closed", |a, b| {
        no_call(a) && no_call(b) && !shows(a, "Hang up") && !shows(b, "Hang up")
    });
    assert!(has_note(&p.alice, "You ended the call."), "{:?}", notes(&p.alice));
    assert!(has_note(&p.bob, "Alice ended the call."), "{:?}", notes(&p.bob));
    wait_both(&mut p.alice, &mut p.bob, "Online again", |a, b| {
        status(a) == Some(Status::Online) && status(b) == Some(Status::Online)
    });
}

#[test]
fn a_video_call_accepted_with_video_shows_each_sides_test_pattern_to_the_other() {
    let mut p = pair(TestMedia::talking_at(ALICE_PITCH), TestMedia::talking_at(BOB_PITCH), true);
    alice_calls(&mut p, "Video call");
    click(&mut p.bob, "Accept with video");
    wait_both(&mut p.alice, &mut p.bob, "the call connected", |a, b| connected(a) && connected(b));
    let counter = |h: &App| {
        let call = h.state().model.call.as_ref()?;
        call.pictures.theirs.latest().and_then(|(_, frame)| read_counter(&frame))
    };
    wait_both(&mut p.alice, &mut p.bob, "pictures both ways", |a, b| {
        counter(a).is_some() && counter(b).is_some()
    });
    let first = (counter(&p.alice).unwrap(), counter(&p.bob).unwrap());
    run_both(&mut p.alice, &mut p.bob, Duration::from_secs(2));
    let later = (counter(&p.alice).unwrap(), counter(&p.bob).unwrap());
    println!("test pattern counters (Alice sees, Bob sees): {first:?} then {later:?} two seconds later");
    assert!(later.0 >= first.0 + 10 && later.1 >= first.1 + 10, "the pictures move: {first:?} → {later:?}");
    // Their video large and your own preview, in both windows.
    wait_both(&mut p.alice, &mut p.bob, "both videos shown", |a, b| {
        shows(a, "Bob's video")
            && shows(a, "Your video")
            && shows(b, "Alice's video")
            && shows(b, "Your video")
    });
    for (h, media) in [(&p.alice, &p.alice_media), (&p.bob, &p.bob_media)] {
        assert!(media.record.opened().contains(&"camera:".to_string()));
        assert!(h.state().model.call.as_ref().unwrap().pictures.mine.count() > 10, "the preview moves");
    }
    // Bob turns his camera off: Alice sees his picture, name and status instead.
    let pictures = |h: &App| h.query_all_by_label("Bob's picture").count();
    let before = pictures(&p.alice);
    click(&mut p.bob, "Turn camera off");
    wait_for_label(&mut p.alice, "Bob (On The Phone) · camera off");
    assert_eq!(pictures(&p.alice), before + 1, "his picture in the call window");
    assert!(!shows(&p.alice, "Bob's video"));
    click(&mut p.bob, "Hang up");
    wait_both(&mut p.alice, &mut p.bob, "both call windows closed", |a, b| no_call(a) && no_call(b));
    assert!(has_note(&p.alice, "Bob ended the video call."), "{:?}", notes(&p.alice));
}

#[test]
fn a_declined_call_a_missed_call_and_a_group_call_refused() {
    let mut p = pair(TestMedia::talking_at(ALICE_PITCH), TestMedia::talking_at(BOB_PITCH), true);

    // Bob declines.
    alice_calls(&mut p, "Call");
    click(&mut p.bob, "Decline");
    wait_both(&mut p.alice, &mut p.bob, "the call declined", |a, b| no_call(a) && no_call(b));
    wait_until(&mut p.alice, "Alice told", |a| has_note(a, "Bob declined your call."));
    assert!(has_note(&p.bob, "You declined a call from Alice."));
    assert!(!shows(&p.bob, "Accept with video"), "the ringing window closed");

    // Alice gives up before Bob answers: a missed call at Bob's, in the conversation,
    // the main window, a notification and the alert history.
    alice_calls(&mut p, "Call");
    click(&mut p.alice, "Hang up");
    wait_both(&mut p.alice, &mut p.bob, "the call missed", |a, b| no_call(a) && no_call(b));
    assert!(has_note(&p.bob, "You missed a call from Alice."), "{:?}", notes(&p.bob));
    assert!(cued(&p.bob_cues, |c| matches!(c, Cue::Toast { title, .. } if title == "Missed call")));
    let history = &p.bob.state().model.options.alerts.history;
    assert!(
        history.iter().any(|a| a.kind == "missed_call" && a.text == "You missed a call from Alice."),
        "{history:?}"
    );
    click(&mut p.bob, "Tools");
    click(&mut p.bob, "Alert history");
    wait_for_label(&mut p.bob, "Alice: You missed a call from Alice.");

    // Carol joins the conversation: a call there is refused, with the reason.
    let carol = p.t.user("carol");
    p.t.befriend(&p.alice_user, &carol);
    let (carol_client, mut carol_events) = p.t.connect(&carol);
    click(&mut p.alice, "Invite…");
    fill(&mut p.alice, "Invite someone to this conversation:", "carol@example.com");
    click(&mut p.alice, "Invite");
    let ring = p.t.expect(&mut carol_events, |e| match e {
        Event::Ring(ring) => Some(ring.clone()),
        _ => None,
    });
    let _carol_chat = p.t.runtime.block_on(carol_client.answer(&ring)).expect("Carol joins");
    wait_for_label(&mut p.alice, "Carol has joined the conversation.");
    click(&mut p.alice, "Call");
    wait_until(&mut p.alice, "the refusal", |a| {
        notes(a).iter().any(|n| n.starts_with("Calls are between two people"))
    });
    assert!(no_call(&p.alice));
    assert!(!shows(&p.alice, "Calling"), "no call window");
}

#[test]
fn closing_the_call_window_hangs_up() {
    let mut p = pair(TestMedia::talking_at(ALICE_PITCH), TestMedia::talking_at(BOB_PITCH), true);
    alice_calls(&mut p, "Call");
    click(&mut p.bob, "Accept");
    wait_both(&mut p.alice, &mut p.bob, "the call connected", |a, b| connected(a) && connected(b));
    // The call window's own close button (it sits right of the conversation's).
    let close = p
        .alice
        .query_all_by_label("Close window")
        .max_by(|x, y| x.rect().min.x.total_cmp(&y.rect().min.x))
        .expect("a close button");
    close.click();
    wait_both(&mut p.alice, &mut p.bob, "both calls over", |a, b| no_call(a) && no_call(b));
    assert!(has_note(&p.bob, "Alice ended the call."), "{:?}", notes(&p.bob));
    assert!(shows(&p.alice, "To: Bob"), "the conversation stays open");
}

#[test]
fn with_no_devices_the_window_says_so_and_still_shows_the_other_side() {
    let mut p = pair(TestMedia::none(), TestMedia::talking_at(BOB_PITCH), false);
    // Bob calls Alice from her menu in his contact list (no conversation open yet: it
    // opens, and the call rings once she is in it). She has no microphone, speakers or
    // camera at all.
    p.bob.get_by_label_contains("Alice (Online)").click_secondary();
    p.bob.run_steps(3);
    click(&mut p.bob, "Video call");
    wait_both(&mut p.alice, &mut p.bob, "Alice's call window ringing", |a, b| {
        shows(b, "Calling Alice…") && shows(a, "Accept with video")
    });
    click(&mut p.alice, "Accept with video");
    wait_both(&mut p.alice, &mut p.bob, "the call connected", |a, b| connected(a) && connected(b));
    for problem in [
        "The default microphone could not be used (no sound system): they cannot hear you.",
        "The default speakers could not be used (no sound system)",
        "The default camera could not be used (no camera found): they cannot see you.",
    ] {
        wait_for_label(&mut p.alice, problem);
    }
    wait_both(&mut p.alice, &mut p.bob, "Bob's video at Alice's", |a, _| {
        a.state().model.call.as_ref().is_some_and(|c| c.pictures.theirs.count() > 10)
    });
    wait_for_label(&mut p.alice, "Bob's video");
    assert!(connected(&p.alice) && connected(&p.bob));
    click(&mut p.alice, "Hang up");
    wait_both(&mut p.alice, &mut p.bob, "both calls over", |a, b| no_call(a) && no_call(b));
}
