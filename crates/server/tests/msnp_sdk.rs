//! The MSNP gateway driven by a real third-party classic client library, `msnp11-sdk`
//! (MSNP11, Passport 1.4 over HTTP), beside Mocha's own client on MENP/1: sign-in,
//! the contact list, presence and personal messages both ways, one session per account
//! across both protocols.

mod client_support;
mod common;
mod msnp_support;

use mocha_client::api::PresenceStatus;
use mocha_client::proto::Status;
use mocha_client::{Event as MenpEvent, SignOutReason};
use msnp_support::{Sdk, within};
use msnp11_sdk::{Event, MsnpList, MsnpStatus, PersonalMessage};

#[tokio::test]
async fn a_classic_client_signs_in_and_a_wrong_password_is_refused() {
    let t = msnp_support::start().await;
    let ann = t.user("ann").await;

    let refused = Sdk::connect(&t).await;
    assert!(refused.login(&t, &ann, "not-the-password").await.is_err(), "a wrong password signs nobody in");
    assert_eq!(t.server.notification.online_users(), 0);

    let mut sdk = Sdk::sign_in(&t, &ann).await;
    // SYN told it the display name Passport holds (PRP MFN).
    sdk.expect("the display name", |e| matches!(e, Event::DisplayName(name) if name == "Ann").then_some(()))
        .await;
    assert_eq!(t.server.notification.online_users(), 1, "signed in to the same core as MENP users");
    within("disconnect", sdk.client.disconnect()).await.expect("OUT");
}

#[tokio::test]
async fn presence_and_personal_messages_flow_both_ways_between_msnp_and_menp() {
    let t = msnp_support::start().await;
    let ann = t.user("ann").await; // classic client
    let bob = t.user("bob").await; // Mocha Messenger
    t.befriend(&ann, &bob).await;

    let (menp, mut menp_events) = client_support::connect(&t, &bob).await;
    let mut sdk = Sdk::sign_in(&t, &ann).await;
    let lists = sdk
        .expect("bob on the forward list", |e| match e {
            Event::ContactInForwardList { email, lists, .. } if email == "bob@example.com" => {
                Some(lists.clone())
            }
            _ => None,
        })
        .await;
    for list in [MsnpList::ForwardList, MsnpList::AllowList, MsnpList::ReverseList] {
        assert!(lists.contains(&list), "{list:?} in {lists:?}");
    }
    assert!(!lists.contains(&MsnpList::BlockList));

    // The classic client goes online: it hears who is online, and Mocha sees it.
    within("set_presence", sdk.client.set_presence(MsnpStatus::Online)).await.expect("CHG");
    sdk.expect("bob online (ILN)", |e| match e {
        Event::InitialPresenceUpdate { email, presence, display_name } if email == "bob@example.com" => {
            assert_eq!((&presence.status, display_name.as_str()), (&MsnpStatus::Online, "Bob"));
            Some(())
        }
        _ => None,
    })
    .await;
    menp_events
        .expect(|e| match e {
            MenpEvent::Presence { user, presence: Some(p) } if *user == ann.account.id => {
                assert_eq!((p.status, p.display_name.as_str()), (PresenceStatus::Online, "Ann"));
                Some(())
            }
            _ => None,
        })
        .await;

    // Personal messages, MSNP → MENP and back.
    let psm = PersonalMessage { psm: "at the <beach> & sun".into(), current_media: String::new() };
    within("set_personal_message", sdk.client.set_personal_message(&psm)).await.expect("UUX");
    menp_events
        .expect(|e| match e {
            MenpEvent::PersonalMessage { user, message } if *user == ann.account.id => {
                assert_eq!(message, "at the <beach> & sun");
                Some(())
            }
            _ => None,
        })
        .await;
    menp.set_personal_message("hello from Mocha").await.expect("UUX on MENP");
    sdk.expect("bob's personal message (UBX)", |e| match e {
        Event::PersonalMessageUpdate { email, personal_message } if email == "bob@example.com" => {
            (personal_message.psm == "hello from Mocha").then_some(())
        }
        _ => None,
    })
    .await;

    // Status changes, MENP → MSNP and back.
    menp.set_status(Status::Busy).await.expect("CHG on MENP");
    sdk.expect("bob busy (NLN)", |e| match e {
        Event::PresenceUpdate { email, presence, .. } if email == "bob@example.com" => {
            (presence.status == MsnpStatus::Busy).then_some(())
        }
        _ => None,
    })
    .await;
    within("set_presence", sdk.client.set_presence(MsnpStatus::Idle)).await.expect("CHG IDL");
    menp_events
        .expect(|e| match e {
            MenpEvent::Presence { user, presence: Some(p) } if *user == ann.account.id => {
                (p.status == PresenceStatus::Away).then_some(())
            }
            _ => None,
        })
        .await;
    // Appearing offline is offline to everyone else.
    within("set_presence", sdk.client.set_presence(MsnpStatus::AppearOffline)).await.expect("CHG HDN");
    menp_events
        .expect(|e| {
            matches!(e, MenpEvent::Presence { user, presence: None } if *user == ann.account.id).then_some(())
        })
        .await;

    menp.disconnect().await;
    sdk.expect("bob offline (FLN)", |e| {
        matches!(e, Event::ContactOffline { email } if email == "bob@example.com").then_some(())
    })
    .await;
}

#[tokio::test]
async fn presence_reaches_only_contacts_on_either_protocol() {
    let t = msnp_support::start().await;
    let ann = t.user("ann").await;
    let bob = t.user("bob").await;
    let eve = t.user("eve").await; // no contact of ann's
    t.befriend(&ann, &bob).await;
    // Ann blocks bob: he must see her offline although they are contacts.
    t.passport.block(ann.token(), bob.account.id).await.expect("block");

    let mut bob_sdk = Sdk::sign_in(&t, &bob).await;
    within("set_presence", bob_sdk.client.set_presence(MsnpStatus::Online)).await.expect("CHG");
    let (_eve_menp, mut eve_events) = client_support::connect(&t, &eve).await;
    let (_ann_menp, _ann_events) = client_support::connect(&t, &ann).await;
    bob_sdk
        .expect_none("ann, who blocked him, online", |e| match e {
            Event::InitialPresenceUpdate { email, .. } | Event::PresenceUpdate { email, .. }
                if email == "ann@example.com" =>
            {
                Some(email.clone())
            }
            _ => None,
        })
        .await;
    let seen = eve_events.try_expect(msnp_support::QUIET, |e| match e {
        MenpEvent::Presence { user, .. } if *user == bob.account.id => Some(()),
        _ => None,
    });
    assert!(seen.await.is_none(), "a stranger never hears a classic client's presence");
}

#[tokio::test]
async fn a_second_sign_in_signs_out_the_first_on_either_protocol() {
    let t = msnp_support::start().await;
    let ann = t.user("ann").await;

    let mut first = Sdk::sign_in(&t, &ann).await;
    let mut second = Sdk::sign_in(&t, &ann).await;
    first.expect("OUT OTH", |e| matches!(e, Event::LoggedInAnotherDevice).then_some(())).await;

    // Mocha Messenger signing in ends the classic session, and the other way round.
    let (_menp, mut menp_events) = client_support::connect(&t, &ann).await;
    second.expect("OUT OTH", |e| matches!(e, Event::LoggedInAnotherDevice).then_some(())).await;
    let _third = Sdk::sign_in(&t, &ann).await;
    menp_events
        .expect(|e| matches!(e, MenpEvent::SignedOut(SignOutReason::SignedInElsewhere)).then_some(()))
        .await;
    assert_eq!(t.server.notification.online_users(), 1);
}

#[tokio::test]
async fn contacts_are_asked_accepted_and_blocked_from_either_protocol() {
    let t = msnp_support::start().await;
    let ann = t.user("ann").await; // classic client
    let bob = t.user("bob").await; // Mocha Messenger
    let carol = t.user("carol").await; // Mocha, offline

    let mut sdk = Sdk::sign_in(&t, &ann).await;
    within("set_presence", sdk.client.set_presence(MsnpStatus::Online)).await.expect("CHG");
    let (_bob_menp, mut bob_events) = client_support::connect(&t, &bob).await;

    // The classic client asks; Mocha's user accepts; each sees the other online.
    let added =
        within("add_contact", sdk.client.add_contact("bob@example.com", "Bob", MsnpList::ForwardList))
            .await
            .expect("ADC FL");
    assert!(
        matches!(&added, Event::ContactInForwardList { email, .. } if email == "bob@example.com"),
        "{added:?}"
    );
    let request = bob_events
        .expect(|e| match e {
            MenpEvent::ContactList(mocha_client::api::ContactListEvent::RequestReceived { request })
                if request.from.id == ann.account.id =>
            {
                Some(request.id)
            }
            _ => None,
        })
        .await;
    t.passport.accept_request(bob.token(), request).await.expect("bob accepts");
    sdk.expect("bob accepted (ADC 0 RL)", |e| {
        matches!(e, Event::AddedBy { email, .. } if email == "bob@example.com").then_some(())
    })
    .await;
    sdk.expect("bob online", |e| match e {
        Event::PresenceUpdate { email, .. } if email == "bob@example.com" => Some(()),
        _ => None,
    })
    .await;
    bob_events
        .expect(|e| {
            matches!(e, MenpEvent::Presence { user, presence: Some(_) } if *user == ann.account.id)
                .then_some(())
        })
        .await;

    // Mocha's user asks; the classic client accepts by allowing her.
    t.passport.request_contact(carol.token(), "ann@example.com", None).await.expect("carol asks");
    sdk.expect("carol asked (ADC 0 RL)", |e| {
        matches!(e, Event::AddedBy { email, .. } if email == "carol@example.com").then_some(())
    })
    .await;
    within("allow", sdk.client.add_contact("carol@example.com", "Carol", MsnpList::AllowList))
        .await
        .expect("ADC AL");
    let carols = t.passport.contacts(carol.token()).await.expect("contacts");
    assert!(carols.iter().any(|c| c.user.id == ann.account.id), "accepted: {carols:?}");

    // Blocking from the classic client: bob sees ann go offline, and Passport keeps it.
    within("block", sdk.client.block_contact("bob@example.com")).await.expect("ADC BL + REM AL");
    bob_events
        .expect(|e| {
            matches!(e, MenpEvent::Presence { user, presence: None } if *user == ann.account.id).then_some(())
        })
        .await;
    let blocks = t.passport.blocks(ann.token()).await.expect("blocks");
    assert!(blocks.iter().any(|b| b.user.id == bob.account.id));

    // Asking a stranger who does not exist is refused, and the session goes on.
    let missing =
        within("add_contact", sdk.client.add_contact("nobody@example.com", "No", MsnpList::ForwardList))
            .await;
    assert!(missing.is_err(), "{missing:?}");
}

#[tokio::test]
async fn a_ban_ends_the_classic_clients_session_at_once() {
    let t = msnp_support::start().await;
    let ann = t.user("ann").await;
    let bob = t.user("bob").await;
    let admin = t.make_admin(&t.user("root").await).await;
    t.befriend(&ann, &bob).await;
    let mut classic = Sdk::online(&t, &ann).await;
    let (_menp, mut bob_events) = client_support::connect(&t, &bob).await;

    let ban =
        mocha_client::api::BanRequest { user_id: ann.account.id, reason: Some("spam".into()), until: None };
    t.passport.ban(admin.token(), &ban).await.expect("ban");
    classic.expect("the connection ended", |e| matches!(e, Event::Disconnected).then_some(())).await;
    assert_eq!(t.server.notification.online_users(), 1, "only Bob is still signed in");
    // Bob, her contact, sees her go offline, and her password no longer signs her in.
    bob_events
        .expect(|e| {
            matches!(e, MenpEvent::Presence { user, presence: None } if *user == ann.account.id).then_some(())
        })
        .await;
    let again = Sdk::connect(&t).await;
    assert!(again.login(&t, &ann, &ann.password).await.is_err(), "a banned account signed in again");
}
