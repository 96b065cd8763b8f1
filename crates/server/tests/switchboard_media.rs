//! Switchboard bulk traffic through real TLS: a multi-MiB file transfer checked by
//! hash, a call's session control and media both ways, a slow receiver not stalling
//! the sender, a receiver who stops reading ending a transfer, and blocks and bans taking effect mid-conversation.

mod common;
mod notification_support;
mod relay_support;
mod switchboard_support;

use std::time::{Duration, Instant};

use bytes::Bytes;
use common::TestServer;
use mocha_client::proto::OutReason;
use mocha_client::proto::im::{CallCommand, CallControl, CallMedia, FileCommand, FileControl, ImPayload};
use mocha_client::proto::media::MediaHeader;
use mocha_client::proto::sb::client::AckMode;
use mocha_client::sb::{Delivery, SbEvent};
use relay_support::Side;
use switchboard_support::*;

fn sha256_hex(data: &[u8]) -> String {
    ring::digest::digest(&ring::digest::SHA256, data).as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

fn file(command: FileCommand, id: &str) -> ImPayload {
    ImPayload::File(FileControl {
        command,
        transfer_id: id.into(),
        to: None,
        name: None,
        size: None,
        sha256: None,
    })
}

fn call(command: CallCommand, media: Option<CallMedia>) -> ImPayload {
    ImPayload::Call(CallControl { command, call_id: "call-1".into(), media, body: String::new() })
}

#[tokio::test]
async fn a_multi_mib_file_arrives_intact_while_chat_goes_on() {
    let t = TestServer::start().await;
    let (_alice, bob, mut a, mut b) = alice_and_bob(&t).await;

    let data: Vec<u8> =
        (0..6 * 1024 * 1024u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
    let offer = ImPayload::File(FileControl {
        command: FileCommand::Offer,
        transfer_id: "t-1".into(),
        to: None,
        name: Some("holiday video.mp4".into()),
        size: Some(data.len() as u64),
        sha256: Some(sha256_hex(&data)),
    });
    assert_eq!(a.send(&offer, AckMode::Always).await.unwrap(), Delivery::Delivered);
    let (_, received) = expect_message(&mut b).await;
    let ImPayload::File(offered) = received else { panic!("expected an offer, got {received:?}") };
    assert_eq!(offered.name.as_deref(), Some("holiday video.mp4"));
    assert_eq!(offered.to, Some(bob.user.account.id.to_string()), "the server names the receiver");

    // Chunks before acceptance are refused.
    a.send_file_chunk("t-1", 0, Bytes::from_static(b"early")).await.unwrap();
    assert_eq!(expect_refused(&mut a).await, mocha_client::proto::ErrorCode::WrongState);

    b.send(&file(FileCommand::Accept, "t-1"), AckMode::Always).await.unwrap();
    assert!(matches!(
        expect_message(&mut a).await.1,
        ImPayload::File(FileControl { command: FileCommand::Accept, .. })
    ));

    let sender = tokio::spawn(async move {
        for (index, chunk) in data.chunks(32 * 1024).enumerate() {
            a.send_file_chunk("t-1", (index * 32 * 1024) as u64, Bytes::copy_from_slice(chunk))
                .await
                .unwrap();
        }
        assert_eq!(a.send_text("did it arrive?").await.unwrap(), Delivery::Delivered);
        (a, data)
    });
    let mut received = Vec::new();
    let mut chat = Vec::new();
    while received.len() < 6 * 1024 * 1024 {
        match b.next_event(WAIT).await.unwrap().expect("the transfer keeps flowing") {
            SbEvent::FileChunk { transfer_id, offset, data, .. } => {
                assert_eq!(transfer_id, "t-1");
                assert_eq!(offset as usize, received.len(), "chunks arrive in order");
                received.extend_from_slice(&data);
            }
            SbEvent::Message { payload: ImPayload::Text { text, .. }, .. } => chat.push(text),
            other => panic!("unexpected {other:?}"),
        }
    }
    let (mut a, data) = sender.await.unwrap();
    assert_eq!(sha256_hex(&received), offered.sha256.unwrap(), "the hash matches the offer");
    assert_eq!(received, data);
    if chat.is_empty() {
        chat.push(expect_text(&mut b).await);
    }
    assert_eq!(chat, ["did it arrive?"]);
    b.send(&file(FileCommand::Complete, "t-1"), AckMode::Always).await.unwrap();
    assert!(matches!(
        expect_message(&mut a).await.1,
        ImPayload::File(FileControl { command: FileCommand::Complete, .. })
    ));
}

#[tokio::test]
async fn a_transfer_can_be_declined_or_cancelled_by_either_side() {
    let t = TestServer::start().await;
    let (_alice, _bob, mut a, mut b) = alice_and_bob(&t).await;
    let offer = |id: &str| {
        ImPayload::File(FileControl {
            command: FileCommand::Offer,
            transfer_id: id.into(),
            to: None,
            name: Some("x.bin".into()),
            size: Some(10),
            sha256: Some("00".repeat(32)),
        })
    };
    a.send(&offer("t-1"), AckMode::Always).await.unwrap();
    expect_message(&mut b).await;
    b.send(&file(FileCommand::Decline, "t-1"), AckMode::Always).await.unwrap();
    assert!(matches!(
        expect_message(&mut a).await.1,
        ImPayload::File(FileControl { command: FileCommand::Decline, .. })
    ));

    a.send(&offer("t-2"), AckMode::Always).await.unwrap();
    expect_message(&mut b).await;
    b.send(&file(FileCommand::Accept, "t-2"), AckMode::Always).await.unwrap();
    expect_message(&mut a).await;
    a.send_file_chunk("t-2", 0, Bytes::from_static(b"01234")).await.unwrap();
    b.send(&file(FileCommand::Cancel, "t-2"), AckMode::Always).await.unwrap();
    assert!(matches!(
        expect_message(&mut a).await.1,
        ImPayload::File(FileControl { command: FileCommand::Cancel, .. })
    ));
    a.send_file_chunk("t-2", 5, Bytes::from_static(b"56789")).await.unwrap();
    assert_eq!(
        expect_refused(&mut a).await,
        mocha_client::proto::ErrorCode::InvalidArgument,
        "a cancelled transfer is gone"
    );
}

#[tokio::test]
async fn a_receiver_who_stops_reading_ends_the_transfer_and_both_sides_are_told() {
    let t = TestServer::start_with(|c| c.file_chunk_wait_seconds = 1).await;
    let (_alice, _bob, mut a, mut b) = alice_and_bob(&t).await;
    const CHUNK: usize = 64 * 1024;
    const SIZE: usize = 24 * 1024 * 1024; // more than the queue and the socket buffers hold
    let offer = ImPayload::File(FileControl {
        command: FileCommand::Offer,
        transfer_id: "t-1".into(),
        to: None,
        name: Some("big.bin".into()),
        size: Some(SIZE as u64),
        sha256: Some("00".repeat(32)),
    });
    a.send(&offer, AckMode::Always).await.unwrap();
    expect_message(&mut b).await;
    b.send(&file(FileCommand::Accept, "t-1"), AckMode::Always).await.unwrap();
    expect_message(&mut a).await;

    // Bob stops reading; Alice sends the whole file at him.
    let chunk = Bytes::from(vec![7u8; CHUNK]);
    for index in 0..SIZE / CHUNK {
        a.send_file_chunk("t-1", (index * CHUNK) as u64, chunk.clone()).await.unwrap();
    }
    assert_eq!(
        expect_refused(&mut a).await,
        mocha_client::proto::ErrorCode::QueueOverflow,
        "the sender is told the receiver did not keep up"
    );

    // Bob, reading again, is told the transfer was cancelled, before all of it came.
    let mut received = 0;
    loop {
        match b.next_event(WAIT).await.unwrap().expect("bob hears how the transfer ended") {
            SbEvent::FileChunk { data, .. } => received += data.len(),
            SbEvent::Message { payload: ImPayload::File(control), .. } => {
                assert_eq!((control.command, control.transfer_id.as_str()), (FileCommand::Cancel, "t-1"));
                break;
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    assert!(received < SIZE, "the cancel came with {received} of {SIZE} bytes");
    assert_eq!(a.send_text("still talking").await.unwrap(), Delivery::Delivered);
}

#[tokio::test]
async fn a_video_call_carries_media_both_ways_until_hang_up() {
    let t = TestServer::start().await;
    let (_alice, _bob, mut a, mut b) = alice_and_bob(&t).await;

    a.send(&call(CallCommand::Invite, Some(CallMedia::Video)), AckMode::Always).await.unwrap();
    let (_, invite) = expect_message(&mut b).await;
    assert_eq!(invite, call(CallCommand::Invite, Some(CallMedia::Video)));
    b.send(&call(CallCommand::Accept, None), AckMode::Always).await.unwrap();
    assert_eq!(expect_message(&mut a).await.1, call(CallCommand::Accept, None));

    let (mut a, mut b) = (Side::new(&t, a).await, Side::new(&t, b).await);

    // Sealed packets over TLS, paced like real audio so no frame meets a full queue
    // (those are dropped by design). Nobody bound over UDP: the relay sends MED frames.
    let (mut from_a, mut from_b) = (Vec::new(), Vec::new());
    for i in 0..20u8 {
        from_a.push(a.packet(&[i; 1200]));
        a.send_tls(from_a.last().unwrap()).await;
        from_b.push(b.packet(&[100 + i; 800]));
        b.send_tls(from_b.last().unwrap()).await;
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    for (receiver, sent) in [(&mut b, &from_a), (&mut a, &from_b)] {
        for packet in sent {
            assert_eq!(receiver.recv_tls(WAIT).await.unwrap(), packet[..], "unchanged, in order");
        }
    }
    let (_, plain) = a.key.open(&from_b[3]).unwrap();
    assert_eq!(plain, vec![103; 800]);

    b.sb.send(&call(CallCommand::Hangup, None), AckMode::Always).await.unwrap();
    assert_eq!(expect_message(&mut a.sb).await.1, call(CallCommand::Hangup, None));
    let late = a.packet(b"late");
    a.send_tls(&late).await;
    assert_eq!(
        expect_refused(&mut a.sb).await,
        mocha_client::proto::ErrorCode::InvalidArgument,
        "the call is over"
    );
    let junk = Bytes::from_static(b"not a sealed packet");
    b.sb.send_media("call-1", junk).await.unwrap();
    assert_eq!(expect_refused(&mut b.sb).await, mocha_client::proto::ErrorCode::InvalidArgument);
}

#[tokio::test]
async fn a_slow_receiver_loses_media_but_never_stalls_the_sender() {
    // No packet-rate limit in the way: this is about the receiver's queue.
    let t = TestServer::start_with(|c| c.relay_packets_per_second = 100_000).await;
    let mut alice = person(&t, "alice").await;
    let mut bob = person(&t, "bob").await;
    let mut carol = person(&t, "carol").await;
    t.befriend(&alice.user, &bob.user).await;
    t.befriend(&alice.user, &carol.user).await;
    let mut a = open(&t, &mut alice).await;
    let mut b = bring_in(&t, &mut a, &mut bob).await;
    let mut c = bring_in(&t, &mut a, &mut carol).await;
    expect_joined(&mut b).await;

    a.send(&call(CallCommand::Invite, Some(CallMedia::Audio)), AckMode::Always).await.unwrap();
    expect_message(&mut b).await;
    b.send(&call(CallCommand::Accept, None), AckMode::Always).await.unwrap();
    expect_message(&mut a).await;
    let grant = relay_support::expect_grant(&mut a).await;
    relay_support::expect_grant(&mut b).await;
    let key = mocha_auth::MediaKey::from_base64url(&grant.media_key).unwrap();

    // Bob stops reading. Alice sends 24 MB of media at him.
    let started = Instant::now();
    for seq in 0..20_000 {
        let header = MediaHeader { member: grant.member_id, stream: 0, seq, timestamp: seq * 960 };
        a.send_media("call-1", Bytes::from(key.seal(&header, &[7u8; 1200]))).await.unwrap();
    }
    assert_eq!(a.send_text("still responsive?").await.unwrap(), Delivery::Delivered);
    let elapsed = started.elapsed();
    assert!(elapsed < Duration::from_secs(30), "the sender was held up for {elapsed:?}");
    assert_eq!(expect_text(&mut c).await, "still responsive?", "chat to others flows");

    // Bob, reading again, gets the chat and only some of the media.
    let mut media = 0;
    loop {
        match b.next_event(WAIT).await.unwrap().expect("bob's stream continues") {
            SbEvent::Media { .. } => media += 1,
            SbEvent::Message { payload: ImPayload::Text { text, .. }, .. } => {
                assert_eq!(text, "still responsive?");
                break;
            }
            _ => {}
        }
    }
    while let Some(SbEvent::Media { .. }) = b.next_event(QUIET).await.unwrap() {
        media += 1;
    }
    assert!(media < 20_000, "a slow receiver drops media instead of queueing it all ({media} arrived)");
}

#[tokio::test]
async fn blocks_and_bans_take_effect_mid_conversation() {
    let t = TestServer::start().await;
    let admin = t.user("admin").await;
    let admin = t.make_admin(&admin).await;
    let mut alice = person(&t, "alice").await;
    let mut bob = person(&t, "bob").await;
    let mut carol = person(&t, "carol").await;
    t.befriend(&alice.user, &bob.user).await;
    t.befriend(&alice.user, &carol.user).await;
    let mut a = open(&t, &mut alice).await;
    let mut b = bring_in(&t, &mut a, &mut bob).await;
    let mut c = bring_in(&t, &mut a, &mut carol).await;
    expect_joined(&mut b).await;

    // Bob blocks Alice: from now on nothing passes between them; Carol hears both.
    t.passport.block(bob.user.token(), alice.user.account.id).await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    a.send_text("hello all").await.unwrap();
    assert_eq!(expect_text(&mut c).await, "hello all");
    assert_no_message(&mut b).await;
    b.send_text("just carol").await.unwrap();
    assert_eq!(expect_text(&mut c).await, "just carol");
    assert_no_message(&mut a).await;

    // An admin bans Carol: she is out at once, with the reason; the others see her go.
    let ban = mocha_client::api::BanRequest {
        user_id: carol.user.account.id,
        reason: Some("spam".into()),
        until: None,
    };
    t.passport.ban(admin.token(), &ban).await.unwrap();
    let reason = c
        .expect_event(WAIT, |e| match e {
            SbEvent::Ended(reason) => Some(reason.clone()),
            _ => None,
        })
        .await
        .unwrap();
    assert!(matches!(reason, OutReason::Banned(Some(ref detail)) if detail.reason == "spam"), "{reason:?}");
    let left = a
        .expect_event(WAIT, |e| match e {
            SbEvent::Left { user_id, .. } => Some(*user_id),
            _ => None,
        })
        .await
        .unwrap();
    assert_eq!(left, carol.user.account.id);
    assert_eq!(
        a.send_text("anyone?").await.unwrap(),
        Delivery::NotDelivered,
        "Bob blocked Alice; Carol is gone"
    );
}
