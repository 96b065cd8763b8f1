//! Conversations through the MSNP gateway's switchboard, driven by a real third-party
//! classic client library (`msnp11-sdk`) beside Mocha's own client: chat, typing and
//! nudges both ways, a conversation mixing both protocols, activity alerts for whoever
//! left, and blocks cutting a mixed conversation at once.

mod client_support;
mod common;
mod msnp_support;

use client_support::{in_conversation, ring, text_from};
use mocha_client::proto::im::TextFormat;
use mocha_client::sb::Delivery;
use mocha_client::{ConversationEvent, Event as MenpEvent};
use msnp_support::{Sdk, within};
use msnp11_sdk::{Event, MessagingError, PlainText, SdkError};

#[tokio::test]
async fn a_classic_client_and_mocha_messenger_chat_both_ways() {
    let t = msnp_support::start().await;
    let ann = t.user("ann").await; // classic client
    let bob = t.user("bob").await; // Mocha Messenger
    t.befriend(&ann, &bob).await;
    let (menp, mut bob_events) = client_support::connect(&t, &bob).await;
    let sdk = Sdk::online(&t, &ann).await;

    // The classic client opens the conversation (XFR SB, USR, CAL); Mocha's user is rung.
    let creating = sdk.client.create_session("bob@example.com");
    let (created, bobs_ring) = tokio::join!(within("create_session", creating), bob_events.expect(ring));
    let mut chat = msnp_support::SdkChat::new(std::sync::Arc::new(created.expect("XFR, USR, CAL")));
    assert_eq!(bobs_ring.caller.id, ann.account.id);
    let conversation = menp.answer(&bobs_ring).await.expect("ANS on MENP");
    assert_eq!(conversation.participants().iter().map(|p| p.user_id).collect::<Vec<_>>(), [ann.account.id]);
    chat.expect_participant("bob@example.com").await;

    // Formatted text, MSNP → MENP: MSN's blue-green-red colour becomes rrggbb.
    let red_bold = PlainText {
        bold: true,
        italic: false,
        underline: false,
        strikethrough: false,
        color: "ff0000".into(),
        text: "hi Bob, from 2005".into(),
    };
    within("send_text_message", chat.sb.send_text_message(&red_bold)).await.expect("ACK");
    let (from, text, format) = bob_events
        .expect(in_conversation(conversation.id(), |e| match e {
            ConversationEvent::Text { from, text, format } => {
                Some((from.clone(), text.clone(), format.clone()))
            }
            _ => None,
        }))
        .await;
    assert_eq!(
        (from.user_id, from.display_name.as_str(), text.as_str()),
        (ann.account.id, "Ann", "hi Bob, from 2005")
    );
    assert_eq!((format.color.as_deref(), format.effects.as_str()), (Some("ff0000"), "B"));
    assert_eq!(format.font.as_deref(), Some("Microsoft Sans Serif"), "the SDK's font");

    // And back, MENP → MSNP, with Mocha's font fields.
    let green_italic =
        TextFormat { font: Some("Arial".into()), color: Some("00ff00".into()), effects: "I".into() };
    assert_eq!(conversation.send_formatted("hello Ann 😀", green_italic).await.unwrap(), Delivery::Delivered);
    let got = chat.expect_text("bob@example.com").await;
    assert_eq!(
        (got.text.as_str(), got.italic, got.bold, got.color.as_str()),
        ("hello Ann 😀", true, false, "ff00")
    );

    // Typing and nudges, both ways.
    within("send_typing_user", chat.sb.send_typing_user("ann@example.com")).await.expect("MSG U");
    bob_events
        .expect(in_conversation(conversation.id(), |e| match e {
            ConversationEvent::Typing { from } => (from.user_id == ann.account.id).then_some(()),
            _ => None,
        }))
        .await;
    conversation.send_typing().await.unwrap();
    chat.expect("bob typing", |e| {
        matches!(e, Event::TypingNotification { email } if email == "bob@example.com").then_some(())
    })
    .await;
    within("send_nudge", chat.sb.send_nudge()).await.expect("ACK");
    bob_events
        .expect(in_conversation(conversation.id(), |e| match e {
            ConversationEvent::Nudge { from } => (from.user_id == ann.account.id).then_some(()),
            _ => None,
        }))
        .await;
    assert_eq!(conversation.send_nudge().await.unwrap(), Delivery::Delivered);
    chat.expect("bob's nudge", |e| {
        matches!(e, Event::Nudge { email } if email == "bob@example.com").then_some(())
    })
    .await;

    // Bob leaves: the classic client hears BYE, and what it says next reaches nobody
    // (NAK) and becomes an activity alert for Bob, as on MENP.
    conversation.leave().await;
    chat.expect("bob left (BYE)", |e| {
        matches!(e, Event::ParticipantLeftSwitchboard { email } if email == "bob@example.com").then_some(())
    })
    .await;
    let unheard = chat.send_text("are you still there?").await;
    assert!(matches!(unheard, Err(MessagingError::MessageNotDelivered)), "{unheard:?}");
    let alerts = t.passport.poll_alerts(bob.token()).await.unwrap();
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    assert_eq!((alerts[0].text.as_str(), alerts[0].sender.id), ("are you still there?", ann.account.id));
}

#[tokio::test]
async fn mocha_messenger_rings_a_classic_client_which_answers() {
    let t = msnp_support::start().await;
    let ann = t.user("ann").await;
    let bob = t.user("bob").await;
    t.befriend(&ann, &bob).await;
    let (menp, mut bob_events) = client_support::connect(&t, &bob).await;
    let mut sdk = Sdk::online(&t, &ann).await;

    // A MENP room; the classic client gets RNG on its MSNP session and answers (ANS).
    let conversation = menp.start_conversation("ann@example.com").await.expect("XFR, USR, CAL on MENP");
    let mut chat = sdk.answered().await;
    chat.expect_participant("bob@example.com").await;
    let joined = bob_events
        .expect(in_conversation(conversation.id(), |e| match e {
            ConversationEvent::Joined(who) => Some(who.clone()),
            _ => None,
        }))
        .await;
    assert_eq!((joined.user_id, joined.display_name.as_str()), (ann.account.id, "Ann"));

    assert_eq!(conversation.send_text("you there, Ann?").await.unwrap(), Delivery::Delivered);
    assert_eq!(chat.expect_text("bob@example.com").await.text, "you there, Ann?");
    chat.send_text("yes!").await.expect("ACK");
    let text = bob_events.expect(text_from(conversation.id(), ann.account.id)).await;
    assert_eq!(text, "yes!");
}

#[tokio::test]
async fn three_people_on_two_protocols_hear_each_other() {
    let t = msnp_support::start().await;
    let ann = t.user("ann").await; // classic
    let bob = t.user("bob").await; // Mocha Messenger
    let carol = t.user("carol").await; // classic
    t.befriend(&ann, &bob).await;
    t.befriend(&ann, &carol).await;
    let (menp, mut bob_events) = client_support::connect(&t, &bob).await;
    let ann_sdk = Sdk::online(&t, &ann).await;
    let mut carol_sdk = Sdk::online(&t, &carol).await;

    let creating = ann_sdk.client.create_session("bob@example.com");
    let (created, bobs_ring) = tokio::join!(within("create_session", creating), bob_events.expect(ring));
    let mut anns = msnp_support::SdkChat::new(std::sync::Arc::new(created.expect("XFR, USR, CAL")));
    let conversation = menp.answer(&bobs_ring).await.expect("ANS");
    anns.expect_participant("bob@example.com").await;

    // Ann invites Carol (CAL from a classic client to a classic client).
    within("invite", anns.sb.invite("carol@example.com")).await.expect("CAL");
    let mut carols = carol_sdk.answered().await;
    for who in ["ann@example.com", "bob@example.com"] {
        carols.expect_participant(who).await; // IRO
    }
    anns.expect_participant("carol@example.com").await; // JOI
    bob_events
        .expect(in_conversation(conversation.id(), |e| match e {
            ConversationEvent::Joined(who) => (who.user_id == carol.account.id).then_some(()),
            _ => None,
        }))
        .await;

    // Each one's words reach both others, whatever protocol they speak.
    anns.send_text("hello both").await.expect("ACK");
    assert_eq!(carols.expect_text("ann@example.com").await.text, "hello both");
    assert_eq!(bob_events.expect(text_from(conversation.id(), ann.account.id)).await, "hello both");
    conversation.send_text("hi from Mocha").await.unwrap();
    assert_eq!(anns.expect_text("bob@example.com").await.text, "hi from Mocha");
    assert_eq!(carols.expect_text("bob@example.com").await.text, "hi from Mocha");
    carols.send_text("and from Carol").await.expect("ACK");
    assert_eq!(anns.expect_text("carol@example.com").await.text, "and from Carol");
    assert_eq!(bob_events.expect(text_from(conversation.id(), carol.account.id)).await, "and from Carol");
}

#[tokio::test]
async fn a_block_cuts_a_mixed_conversation_at_once() {
    let t = msnp_support::start().await;
    let ann = t.user("ann").await; // classic
    let bob = t.user("bob").await; // Mocha Messenger
    t.befriend(&ann, &bob).await;
    let (menp, mut bob_events) = client_support::connect(&t, &bob).await;
    let ann_sdk = Sdk::online(&t, &ann).await;

    let creating = ann_sdk.client.create_session("bob@example.com");
    let (created, bobs_ring) = tokio::join!(within("create_session", creating), bob_events.expect(ring));
    let mut chat = msnp_support::SdkChat::new(std::sync::Arc::new(created.expect("XFR, USR, CAL")));
    let conversation = menp.answer(&bobs_ring).await.expect("ANS");
    chat.expect_participant("bob@example.com").await;
    chat.send_text("before").await.expect("ACK");

    // The classic client blocks Bob: he sees Ann offline, and nothing passes either way.
    within("block", ann_sdk.client.block_contact("bob@example.com")).await.expect("ADC BL + REM AL");
    bob_events
        .expect(|e| {
            matches!(e, MenpEvent::Presence { user, presence: None } if *user == ann.account.id).then_some(())
        })
        .await;
    let unheard = chat.send_text("after").await;
    assert!(matches!(unheard, Err(MessagingError::MessageNotDelivered)), "{unheard:?}");
    assert_eq!(conversation.send_text("let me in").await.unwrap(), Delivery::NotDelivered);
    chat.expect_none("bob's text past the block", |e| match e {
        Event::TextMessage { message, .. } => Some(message.text.clone()),
        _ => None,
    })
    .await;
    let after = bob_events.try_expect(
        msnp_support::QUIET,
        in_conversation(conversation.id(), |e| match e {
            ConversationEvent::Text { text, .. } if text == "after" => Some(()),
            _ => None,
        }),
    );
    assert!(after.await.is_none(), "nothing from Ann after the block");
    // Nor can either start a new conversation with the other.
    let again = within("create_session", ann_sdk.client.create_session("bob@example.com")).await;
    assert!(matches!(again, Err(SdkError::InvalidContact | SdkError::ContactIsOffline)), "{again:?}");
    assert!(menp.start_conversation("ann@example.com").await.is_err(), "Bob cannot ring Ann");
}
