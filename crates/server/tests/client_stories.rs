//! Whole user stories through `mocha_client::Client` against a real server (TLS, on
//! SQLite and on PostgreSQL): contacts and presence, chat, files, offline alerts,
//! blocks, bans, deletion.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

mod client_support;
mod common;

use mocha_client::api::{ContactListEvent, PresenceStatus};
use mocha_client::proto::{ErrorCode, Status};
use mocha_client::sb::Delivery;
use mocha_client::{
    ConnectionState, Conversation, ConversationEvent, Event, SignOutReason, TransferDirection, TransferEvent,
};

use client_support::{
    Events, chat, connect, expect_offer, in_conversation, personal_message_of, state_where,
};
use common::{Engine, TestServer};

// The whole stack (HTTPS, NS, SB, alerts) on each of Passport's engines.
mocha_passport::engine_tests!(
    contact_request_presence_and_chat,
    a_file_arrives_verified_under_a_new_name_while_chat_goes_on,
    offline_alerts_then_a_block,
    a_ban_and_a_deletion_end_the_session_for_good,
);

/// Alice and Bob, contacts, signed in and in one conversation.
struct Talking {
    alice: mocha_client::Client,
    alice_events: Events,
    bob: mocha_client::Client,
    bob_events: Events,
    a: Conversation,
    b: Conversation,
}

async fn alice_and_bob_talking(t: &TestServer) -> Talking {
    let (alice_user, bob_user) = (t.user("alice").await, t.user("bob").await);
    t.befriend(&alice_user, &bob_user).await;
    let (alice, mut alice_events) = connect(t, &alice_user).await;
    let (bob, mut bob_events) = connect(t, &bob_user).await;
    let (a, b) = chat(&alice, &mut alice_events, &bob, &mut bob_events).await;
    Talking { alice, alice_events, bob, bob_events, a, b }
}

async fn contact_request_presence_and_chat(engine: Engine) {
    let t = TestServer::start_on(engine).await;
    let (alice_user, bob_user) = (t.user("alice").await, t.user("bob").await);
    let (alice, mut alice_events) = connect(&t, &alice_user).await;
    let (bob, mut bob_events) = connect(&t, &bob_user).await;

    // Alice asks; Bob's state and events show the request.
    let created = alice.request_contact("bob@example.com", Some("hi, it's Alice")).await.unwrap();
    let request = created.request.expect("pending");
    let received = bob_events
        .expect(|e| match e {
            Event::ContactList(ContactListEvent::RequestReceived { request }) => Some(request.clone()),
            _ => None,
        })
        .await;
    assert_eq!(received.id, request.id);
    assert_eq!(bob.state().requests.incoming.len(), 1, "re-synced before the event");

    // Bob accepts: each sees the other online, in events and in state.
    bob.accept_request(request.id).await.unwrap();
    alice_events
        .expect(|e| matches!(e, Event::ContactList(ContactListEvent::RequestAccepted { .. })).then_some(()))
        .await;
    let seen = alice_events
        .expect(|e| match e {
            Event::Presence { user, presence: Some(p) } if *user == bob.user_id() => Some(p.status),
            _ => None,
        })
        .await;
    assert_eq!(seen, PresenceStatus::Online);
    assert_eq!(alice.state().presence(bob.user_id()).map(|p| p.status), Some(PresenceStatus::Online));

    // Status and personal message travel to the contact.
    bob.set_personal_message("  at the beach ").await.unwrap();
    let message = alice_events.expect(personal_message_of(bob.user_id())).await;
    assert_eq!(message, "at the beach");
    bob.set_status(Status::Busy).await.unwrap();
    let state =
        state_where(&alice, |s| s.presence(bob.user_id()).is_some_and(|p| p.status == PresenceStatus::Busy))
            .await;
    assert_eq!(state.presence(bob.user_id()).unwrap().personal_message, "at the beach");
    assert_eq!(bob.state().status, Status::Busy);
    assert_eq!(bob.state().personal_message, "at the beach");

    // A conversation: text with delivery, typing and a nudge.
    let (a, b) = chat(&alice, &mut alice_events, &bob, &mut bob_events).await;
    assert_eq!(a.send_text("hi Bob 😀").await.unwrap(), Delivery::Delivered);
    let text = bob_events
        .expect(in_conversation(b.id(), |e| match e {
            ConversationEvent::Text { from, text, .. } => Some((from.user_id, text.clone())),
            _ => None,
        }))
        .await;
    assert_eq!(text, (alice.user_id(), "hi Bob 😀".to_string()));
    b.send_typing().await.unwrap();
    alice_events
        .expect(in_conversation(a.id(), |e| matches!(e, ConversationEvent::Typing { .. }).then_some(())))
        .await;
    assert_eq!(b.send_nudge().await.unwrap(), Delivery::Delivered);
    alice_events
        .expect(in_conversation(a.id(), |e| matches!(e, ConversationEvent::Nudge { .. }).then_some(())))
        .await;

    // Leaving ends the conversation for Bob and tells Alice.
    b.leave().await;
    bob_events
        .expect(in_conversation(b.id(), |e| matches!(e, ConversationEvent::Ended { .. }).then_some(())))
        .await;
    let left = alice_events
        .expect(in_conversation(a.id(), |e| match e {
            ConversationEvent::Left { user, .. } => Some(*user),
            _ => None,
        }))
        .await;
    assert_eq!(left, bob.user_id());
    assert!(matches!(b.send_text("too late").await, Err(mocha_client::Error::ConversationEnded)));
}

async fn a_file_arrives_verified_under_a_new_name_while_chat_goes_on(engine: Engine) {
    let t = TestServer::start_on(engine).await;
    let Talking { alice, mut alice_events, bob: _bob, mut bob_events, a, b } =
        alice_and_bob_talking(&t).await;

    let outbox = tempfile::tempdir().unwrap();
    let inbox = tempfile::tempdir().unwrap();
    let data: Vec<u8> = (0..1_500_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
    let source = outbox.path().join("holiday video.mp4");
    std::fs::write(&source, &data).unwrap();
    std::fs::write(inbox.path().join("holiday video.mp4"), b"already here").unwrap();

    let transfer = a.send_file(&source, None).await.unwrap();
    let offer = bob_events
        .expect(in_conversation(b.id(), |e| match e {
            ConversationEvent::FileOffered { from, offer } if from.user_id == alice.user_id() => {
                Some(offer.clone())
            }
            _ => None,
        }))
        .await;
    assert_eq!(
        (offer.transfer_id.as_str(), offer.name.as_str(), offer.size),
        (transfer.as_str(), "holiday video.mp4", data.len() as u64)
    );
    assert_eq!(offer.sha256, mocha_client::sha256_file(&source).await.unwrap());

    let target = b.accept_file(&offer.transfer_id, inbox.path()).await.unwrap();
    assert_eq!(target, inbox.path().join("holiday video (1).mp4"), "the existing file is kept");
    alice_events
        .expect(in_conversation(a.id(), |e| {
            matches!(e, ConversationEvent::Transfer(TransferEvent::Accepted { .. })).then_some(())
        }))
        .await;
    assert_eq!(a.send_text("sending now").await.unwrap(), Delivery::Delivered);

    let mut progress = Vec::new();
    let done = loop {
        let event = bob_events
            .expect(in_conversation(b.id(), |e| match e {
                ConversationEvent::Transfer(t) => Some(t.clone()),
                _ => None,
            }))
            .await;
        match event {
            TransferEvent::Progress { done, total, .. } => {
                assert_eq!(total, data.len() as u64);
                progress.push(done);
            }
            other => break other,
        }
    };
    let TransferEvent::Completed { direction, path, sha256, .. } = done else {
        panic!("expected completion, got {done:?}")
    };
    assert_eq!(direction, TransferDirection::Receiving);
    assert_eq!(path.as_deref(), Some(target.as_path()));
    assert_eq!(sha256, offer.sha256);
    assert!(!progress.is_empty() && progress.windows(2).all(|w| w[0] < w[1]), "progress grows: {progress:?}");
    assert_eq!(std::fs::read(&target).unwrap(), data);
    assert_eq!(std::fs::read(inbox.path().join("holiday video.mp4")).unwrap(), b"already here");
    let text = bob_events
        .expect(in_conversation(b.id(), |e| match e {
            ConversationEvent::Text { text, .. } => Some(text.clone()),
            _ => None,
        }))
        .await;
    assert_eq!(text, "sending now", "chat flowed during the transfer");

    let sent = alice_events
        .expect(in_conversation(a.id(), |e| match e {
            ConversationEvent::Transfer(TransferEvent::Completed { direction, sha256, .. }) => {
                Some((*direction, sha256.clone()))
            }
            _ => None,
        }))
        .await;
    assert_eq!(sent, (TransferDirection::Sending, offer.sha256.clone()));

    // A declined offer leaves nothing behind.
    let second = a.send_file(&source, None).await.unwrap();
    let offer = expect_offer(&mut bob_events, b.id()).await;
    assert_eq!(offer.transfer_id, second);
    b.decline_file(&second).await.unwrap();
    alice_events
        .expect(in_conversation(a.id(), |e| {
            matches!(e, ConversationEvent::Transfer(TransferEvent::Declined { .. })).then_some(())
        }))
        .await;
    assert_eq!(std::fs::read_dir(inbox.path()).unwrap().count(), 2);
}

#[tokio::test]
async fn a_transfer_to_someone_who_stops_reading_fails_on_both_sides_and_chat_goes_on() {
    let t = TestServer::start_with(|c| c.file_chunk_wait_seconds = 1).await;
    let (alice_user, bob_user) = (t.user("alice").await, t.user("bob").await);
    t.befriend(&alice_user, &bob_user).await;
    let (alice, mut alice_events) = connect(&t, &alice_user).await;
    // Bob's application takes few events before his client stops reading for it.
    let mut bob_config = client_support::config(&t);
    bob_config.event_capacity = 16;
    let (bob, mut bob_events) = client_support::connect_with(bob_config, &bob_user).await;
    let (a, b) = chat(&alice, &mut alice_events, &bob, &mut bob_events).await;

    let outbox = tempfile::tempdir().unwrap();
    let inbox = tempfile::tempdir().unwrap();
    let source = outbox.path().join("big.bin");
    // Far more than Bob's 16 events of progress, the server's queue and the sockets hold.
    std::fs::write(&source, vec![7u8; 48 * 1024 * 1024]).unwrap();
    let transfer = a.send_file(&source, None).await.unwrap();
    let offer = expect_offer(&mut bob_events, b.id()).await;
    b.accept_file(&offer.transfer_id, inbox.path()).await.unwrap();

    // Bob's application stops taking events. Alice's client tells her why it failed.
    let (direction, reason) = alice_events
        .expect(in_conversation(a.id(), |e| match e {
            ConversationEvent::Transfer(TransferEvent::Failed { transfer_id, direction, reason })
                if *transfer_id == transfer =>
            {
                Some((*direction, reason.clone()))
            }
            _ => None,
        }))
        .await;
    assert_eq!(direction, TransferDirection::Sending);
    assert!(reason.contains("not keeping up"), "{reason}");

    // Bob, taking events again, learns it was cancelled; his partial file is gone.
    bob_events
        .expect(in_conversation(b.id(), |e| match e {
            ConversationEvent::Transfer(TransferEvent::Cancelled { transfer_id })
                if *transfer_id == transfer =>
            {
                Some(())
            }
            ConversationEvent::Transfer(TransferEvent::Completed { .. }) => panic!("the whole file came"),
            _ => None,
        }))
        .await;
    assert_eq!(std::fs::read_dir(inbox.path()).unwrap().count(), 0, "no partial file is left");
    assert_eq!(a.send_text("try again later?").await.unwrap(), Delivery::Delivered);
    let text = bob_events
        .expect(in_conversation(b.id(), |e| match e {
            ConversationEvent::Text { text, .. } => Some(text.clone()),
            _ => None,
        }))
        .await;
    assert_eq!(text, "try again later?");
    // Alice's conversation was not littered with the refusals of the chunks in flight.
    let refused = alice_events
        .try_expect(std::time::Duration::from_millis(300), |e| match e {
            Event::Conversation { event: ConversationEvent::Refused(reply), .. } => Some(reply.clone()),
            _ => None,
        })
        .await;
    assert_eq!(refused, None);
}

async fn offline_alerts_then_a_block(engine: Engine) {
    let t = TestServer::start_on(engine).await;
    let (alice_user, bob_user) = (t.user("alice").await, t.user("bob").await);
    t.befriend(&alice_user, &bob_user).await;
    let (alice, mut alice_events) = connect(&t, &alice_user).await;
    let (bob, mut bob_events) = connect(&t, &bob_user).await;
    state_where(&alice, |s| s.presence(bob.user_id()).is_some()).await;

    // Bob goes offline: Alice sees it, and what she says reaches him as an alert.
    bob.disconnect().await;
    bob_events.expect(|e| matches!(e, Event::SignedOut(SignOutReason::Requested)).then_some(())).await;
    alice_events
        .expect(|e| {
            matches!(e, Event::Presence { user, presence: None } if *user == bob.user_id()).then_some(())
        })
        .await;
    let conversation = alice.open_conversation().await.unwrap();
    let refused = conversation.invite("bob@example.com").await.unwrap_err();
    assert_eq!(refused.server_code(), Some(ErrorCode::UserOffline));
    assert_eq!(conversation.send_text("call me when you are back").await.unwrap(), Delivery::NotDelivered);
    conversation.leave().await;

    let (bob, mut bob_events) = connect(&t, &bob_user).await;
    let alerts = bob.poll_alerts().await.unwrap();
    assert_eq!(alerts.len(), 1);
    assert_eq!(
        (alerts[0].sender.id, alerts[0].text.as_str()),
        (alice.user_id(), "call me when you are back")
    );

    // Bob blocks Alice: she sees him go offline and can no longer reach him.
    state_where(&alice, |s| s.presence(bob.user_id()).is_some()).await;
    bob.block(alice.user_id()).await.unwrap();
    bob_events
        .expect(|e| matches!(e, Event::ContactList(ContactListEvent::Blocked { .. })).then_some(()))
        .await;
    assert!(bob.state().blocks.iter().any(|b| b.user.id == alice.user_id()));
    alice_events
        .expect(|e| {
            matches!(e, Event::Presence { user, presence: None } if *user == bob.user_id()).then_some(())
        })
        .await;
    assert!(alice.state().presence(bob.user_id()).is_none());
    let refused = alice.start_conversation("bob@example.com").await.unwrap_err();
    assert_eq!(refused.server_code(), Some(ErrorCode::UserOffline), "a block looks like offline");
}

async fn a_ban_and_a_deletion_end_the_session_for_good(engine: Engine) {
    let t = TestServer::start_on(engine).await;
    let (alice_user, bob_user, carol_user) =
        (t.user("alice").await, t.user("bob").await, t.user("carol").await);
    let admin = t.make_admin(&carol_user).await;
    let (bob, mut bob_events) = connect(&t, &bob_user).await;
    let (carol, _carol_events) = connect(&t, &admin).await;

    carol.ban(bob.user_id(), Some("spam"), None).await.unwrap();
    let reason = bob_events.expect(client_support::signed_out).await;
    assert_eq!(reason, SignOutReason::Banned { until: None, reason: Some("spam".into()) });
    let state = state_where(&bob, |s| matches!(s.connection, ConnectionState::SignedOut(_))).await;
    assert_eq!(state.connection, ConnectionState::SignedOut(reason.clone()));
    assert!(
        matches!(bob.set_status(Status::Online).await, Err(mocha_client::Error::SignedOut(r)) if r == reason)
    );
    bob_events
        .expect_none(|e| matches!(e, Event::Disconnected { .. } | Event::Connected { .. }).then_some(()))
        .await;

    // A banned user cannot sign in again; the refusal carries the ban.
    let error =
        mocha_client::Client::connect(client_support::config(&t), client_support::password(&bob_user))
            .await
            .err()
            .expect("refused");
    assert_eq!(error.passport_code(), Some("banned"));

    let (alice, mut alice_events) = connect(&t, &alice_user).await;
    alice.delete_account(&alice_user.password).await.unwrap();
    alice_events.expect(|e| matches!(e, Event::SignedOut(SignOutReason::AccountDeleted)).then_some(())).await;
}

#[tokio::test]
async fn a_voice_call_through_the_client_rings_carries_media_and_hangs_up() {
    use bytes::Bytes;
    use mocha_client::proto::im::{CallCommand, CallMedia};
    use mocha_client::proto::media::MediaHeader;

    let t = TestServer::start().await;
    let Talking { alice, mut alice_events, bob, mut bob_events, a, b } = alice_and_bob_talking(&t).await;

    // Alice calls; Bob sees the invitation with the call id and kind, and accepts.
    let call = a.start_call(CallMedia::Audio).await.unwrap();
    let invite = bob_events
        .expect(in_conversation(b.id(), |e| match e {
            ConversationEvent::Call { from, control } if control.command == CallCommand::Invite => {
                Some((from.user_id, control.clone()))
            }
            _ => None,
        }))
        .await;
    assert_eq!(invite.0, alice.user_id());
    assert_eq!((invite.1.call_id.as_str(), invite.1.media), (call.as_str(), Some(CallMedia::Audio)));
    b.call_control(&call, CallCommand::Accept, None).await.unwrap();
    alice_events
        .expect(in_conversation(a.id(), |e| match e {
            ConversationEvent::Call { control, .. } if control.command == CallCommand::Accept => Some(()),
            _ => None,
        }))
        .await;

    // Both hear how to reach the call's media relay: one key, their own member ids.
    let mut grants = Vec::new();
    for (events, conversation) in [(&mut alice_events, a.id()), (&mut bob_events, b.id())] {
        let grant = events
            .expect(in_conversation(conversation, |e| match e {
                ConversationEvent::CallRelay(grant) => Some(grant.clone()),
                _ => None,
            }))
            .await;
        assert_eq!(grant.call_id, call);
        grants.push(grant);
    }
    assert_eq!(grants[0].media_key, grants[1].media_key);
    assert_ne!(grants[0].member_id, grants[1].member_id);
    let key = mocha_auth::MediaKey::from_base64url(&grants[0].media_key).unwrap();
    let packet = |member: u32, seq: u32, byte: u8, len: usize| {
        let header = MediaHeader { member, stream: 0, seq, timestamp: seq * 960 };
        Bytes::from(key.seal(&header, &vec![byte; len]))
    };

    // Sealed audio packets both ways over TLS, paced like speech, arrive whole and in order.
    for i in 0..10u8 {
        a.send_media(&call, packet(grants[0].member_id, i.into(), i, 160)).await.unwrap();
        b.send_media(&call, packet(grants[1].member_id, i.into(), 200 + i, 120)).await.unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    for (events, conversation, from, member, base, len) in [
        (&mut bob_events, b.id(), alice.user_id(), grants[0].member_id, 0u8, 160),
        (&mut alice_events, a.id(), bob.user_id(), grants[1].member_id, 200, 120),
    ] {
        for i in 0..10u8 {
            let data = events
                .expect(in_conversation(conversation, |e| match e {
                    ConversationEvent::Media { from: sender, call_id, data } if *sender == from => {
                        assert_eq!(call_id, &call);
                        Some(data.clone())
                    }
                    _ => None,
                }))
                .await;
            assert_eq!(data, packet(member, i.into(), base + i, len));
            assert_eq!(key.open(&data).unwrap().1, vec![base + i; len]);
        }
    }

    // Bob hangs up: Alice hears it, and the call carries nothing more.
    b.call_control(&call, CallCommand::Hangup, None).await.unwrap();
    alice_events
        .expect(in_conversation(a.id(), |e| match e {
            ConversationEvent::Call { control, .. } if control.command == CallCommand::Hangup => Some(()),
            _ => None,
        }))
        .await;
    a.send_media(&call, packet(grants[0].member_id, 99, 1, 10)).await.unwrap();
    alice_events
        .expect(in_conversation(a.id(), |e| matches!(e, ConversationEvent::Refused(_)).then_some(())))
        .await;
    bob_events
        .expect_none(in_conversation(b.id(), |e| matches!(e, ConversationEvent::Media { .. }).then_some(())))
        .await;
}
