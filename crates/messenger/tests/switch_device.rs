//! `mocha_client::Call::switch_device`, which the call window needs when Options change
//! during a call, tested on the library itself: two plain clients against a real server
//! (real TLS, the relay's UDP on loopback). It lives with the messenger's tests because
//! they build in the messenger's feature set; the server crate's `client_calls` tests
//! need a build of their own.

#![allow(clippy::unwrap_used)]

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::*;
use mocha_client::media::audio::{AudioError, AudioSink, SpeechLike, Tone};
use mocha_client::proto::im::CallCommand;
use mocha_client::{CallDevices, CallOptions, CallState, ConversationEvent, DeviceSwitch, Event};

/// Speakers that keep what they play; the test holds the other end.
#[derive(Clone, Default)]
struct Recording(Arc<Mutex<Vec<f32>>>);

impl Recording {
    fn samples(&self) -> Vec<f32> {
        self.0.lock().expect("the record").clone()
    }
}

impl AudioSink for Recording {
    fn sample_rate(&self) -> u32 {
        RATE
    }

    fn write(&mut self, samples: &[f32]) -> Result<(), AudioError> {
        self.0.lock().expect("the record").extend_from_slice(samples);
        Ok(())
    }
}

fn rms(samples: &[f32]) -> f32 {
    if samples.is_empty() {
        return 0.0;
    }
    (samples.iter().map(|s| s * s).sum::<f32>() / samples.len() as f32).sqrt()
}

fn plain() -> CallOptions {
    CallOptions { echo_cancellation: false, noise_suppression: false, ..CallOptions::default() }
}

/// Alice starts with a silent microphone and a first speaker; mid-call both are
/// replaced. Bob heard silence before and her voice after, the old speaker gets nothing
/// more, the new one plays Bob, and the call never stops.
#[test]
fn a_live_call_switches_microphone_and_speaker_at_once() {
    let t = TestServer::start();
    let (alice_user, bob_user) = (t.user("alice"), t.user("bob"));
    t.befriend(&alice_user, &bob_user);
    let (alice, _alice_events) = t.connect(&alice_user);
    let (bob, mut bob_events) = t.connect(&bob_user);
    let half_second = RATE as usize / 2;
    t.runtime.block_on(async {
        let a = alice.start_conversation(&bob.account().username).await.unwrap();
        let ring = loop {
            if let Some(Event::Ring(ring)) = bob_events.recv().await {
                break ring;
            }
        };
        let b = bob.answer(&ring).await.unwrap();
        while a.participants().is_empty() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let first_speaker = Recording::default();
        let silent = Tone::new(RATE, 440.0, 0.0);
        let alice_call =
            a.place_call(plain(), CallDevices::audio(silent, first_speaker.clone())).await.unwrap();
        let (caller, call_id) = loop {
            if let Some(Event::Conversation { event: ConversationEvent::Call { from, control }, .. }) =
                bob_events.recv().await
                && control.command == CallCommand::Invite
            {
                break (from.user_id, control.call_id);
            }
        };
        let bob_heard = Recording::default();
        let bob_voice = SpeechLike::new(RATE, 210.0, VOICE);
        let bob_call = b
            .accept_call(caller, &call_id, plain(), CallDevices::audio(bob_voice, bob_heard.clone()))
            .await
            .unwrap();
        for call in [&alice_call, &bob_call] {
            tokio::time::timeout(WAIT, call.connected()).await.unwrap().unwrap();
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
        assert!(rms(&first_speaker.samples()[half_second..]) > 0.02, "the first speaker plays Bob");
        let before_switch = bob_heard.samples().len();

        let second_speaker = Recording::default();
        let alice_voice = SpeechLike::new(RATE, 120.0, VOICE);
        alice_call.switch_device(DeviceSwitch::Microphone(Box::new(alice_voice))).await;
        alice_call.switch_device(DeviceSwitch::Speaker(Box::new(second_speaker.clone()))).await;
        tokio::time::sleep(Duration::from_millis(200)).await;
        let first_speaker_at_switch = first_speaker.samples().len();
        tokio::time::sleep(Duration::from_secs(3)).await;
        assert_eq!(alice_call.state(), CallState::Active, "the call went on");
        alice_call.hang_up().await;

        let heard = bob_heard.samples();
        let (before, after) =
            (rms(&heard[half_second..before_switch]), rms(&heard[before_switch + half_second..]));
        println!("Bob heard rms {before:.4} before the switch, {after:.4} after");
        assert!(before < 0.002, "silence before the switch: {before}");
        assert!(after > 0.02, "Alice's voice after it: {after}");
        assert_eq!(
            first_speaker.samples().len(),
            first_speaker_at_switch,
            "the old speaker gets nothing more"
        );
        assert!(rms(&second_speaker.samples()[half_second..]) > 0.02, "the new speaker plays Bob");
        assert_eq!(alice_call.stats().device_error, None);
    });
}
