//! Helpers for the `mocha_client::Client` tests: signed-in clients against the test
//! server, waiting for events, and a tiny relay and proxies on loopback that count
//! what goes through them.
#![allow(dead_code)]

pub mod proxies;

use std::collections::VecDeque;
use std::time::Duration;

use mocha_client::sb::Delivery;
use mocha_client::{
    Backoff, Client, ClientConfig, ClientState, Conversation, ConversationEvent, ConversationId, Credentials,
    Event, Ring, TransferDirection, TransferEvent,
};
use tokio::sync::mpsc;

use crate::common::{TestServer, TestUser};

pub const WAIT: Duration = Duration::from_secs(10);
pub const QUIET: Duration = Duration::from_millis(400);

/// Test settings: the server's CA, the Notification Server found through Passport's
/// status page, quick reconnects.
pub fn config(t: &TestServer) -> ClientConfig {
    config_for(t.server.passport_addr.expect("every role runs").port(), &t.trust)
}

/// The same for a server known only by its Passport port and CA (a `mocha-server` child).
pub fn config_for(passport_port: u16, trust: &mocha_client::Trust) -> ClientConfig {
    let mut config = ClientConfig::new(&format!("https://localhost:{passport_port}"), trust.clone());
    config.backoff = Backoff { initial: Duration::from_millis(50), max: Duration::from_millis(400) };
    config
}

pub fn password(user: &TestUser) -> Credentials {
    Credentials::Password { username: user.account.username.clone(), password: user.password.clone() }
}

/// `user` signed in through a `Client`, online.
pub async fn connect(t: &TestServer, user: &TestUser) -> (Client, Events) {
    connect_with(config(t), user).await
}

pub async fn connect_with(config: ClientConfig, user: &TestUser) -> (Client, Events) {
    let (client, events) = Client::connect(config, password(user)).await.expect("client connects");
    let mut events = Events::new(events);
    events.expect(|e| matches!(e, Event::Connected { .. }).then_some(())).await;
    (client, events)
}

/// The event receiver, with events that a wait passed over kept in order for later.
pub struct Events {
    receiver: mpsc::Receiver<Event>,
    backlog: VecDeque<Event>,
}

impl Events {
    pub fn new(receiver: mpsc::Receiver<Event>) -> Self {
        Self { receiver, backlog: VecDeque::new() }
    }

    pub async fn try_expect<T>(
        &mut self,
        within: Duration,
        mut pick: impl FnMut(&Event) -> Option<T>,
    ) -> Option<T> {
        if let Some(index) = self.backlog.iter().position(|e| pick(e).is_some()) {
            let event = self.backlog.remove(index).expect("in range");
            return pick(&event);
        }
        let wait = async {
            loop {
                let event = self.receiver.recv().await?;
                if let Some(picked) = pick(&event) {
                    return Some(picked);
                }
                self.backlog.push_back(event);
            }
        };
        tokio::time::timeout(within, wait).await.ok().flatten()
    }

    /// Forgets the events waits passed over: later waits see only what comes next.
    pub fn forget_seen(&mut self) {
        self.backlog.clear();
    }

    /// Waits for the first event `pick` accepts; panics after [`WAIT`].
    pub async fn expect<T>(&mut self, pick: impl FnMut(&Event) -> Option<T>) -> T {
        match self.try_expect(WAIT, pick).await {
            Some(found) => found,
            None => panic!("the expected event did not come; seen meanwhile: {:#?}", self.backlog),
        }
    }

    /// Fails if an event `pick` accepts arrives within [`QUIET`].
    pub async fn expect_none<T: std::fmt::Debug>(&mut self, pick: impl FnMut(&Event) -> Option<T>) {
        if let Some(found) = self.try_expect(QUIET, pick).await {
            panic!("no such event expected, got {found:?}");
        }
    }
}

/// Waits until the client's state satisfies `condition`.
pub async fn state_where(client: &Client, condition: impl FnMut(&ClientState) -> bool) -> ClientState {
    let mut watch = client.watch_state();
    let state = tokio::time::timeout(WAIT, watch.wait_for(condition)).await;
    match state {
        Ok(Ok(state)) => state.clone(),
        _ => panic!("the state never got there; it is {:#?}", client.state()),
    }
}

/// Picks `user`'s personal messages.
pub fn personal_message_of(user: mocha_client::api::UserId) -> impl FnMut(&Event) -> Option<String> {
    move |e| match e {
        Event::PersonalMessage { user: of, message } if *of == user => Some(message.clone()),
        _ => None,
    }
}

/// Picks why the session ended.
pub fn signed_out(e: &Event) -> Option<mocha_client::SignOutReason> {
    match e {
        Event::SignedOut(reason) => Some(reason.clone()),
        _ => None,
    }
}

pub fn ring(e: &Event) -> Option<Ring> {
    match e {
        Event::Ring(ring) => Some(ring.clone()),
        _ => None,
    }
}

pub fn in_conversation<T>(
    id: ConversationId,
    mut pick: impl FnMut(&ConversationEvent) -> Option<T>,
) -> impl FnMut(&Event) -> Option<T> {
    move |e| match e {
        Event::Conversation { id: of, event } if *of == id => pick(event),
        _ => None,
    }
}

/// The next file offered in conversation `id`.
pub async fn expect_offer(events: &mut Events, id: ConversationId) -> mocha_client::FileOffer {
    events
        .expect(in_conversation(id, |e| match e {
            ConversationEvent::FileOffered { offer, .. } => Some(offer.clone()),
            _ => None,
        }))
        .await
}

/// `host` invites `guest`, who answers the ring; both handles are returned once joined.
pub async fn chat(
    host: &mocha_client::Client,
    host_events: &mut Events,
    guest: &mocha_client::Client,
    guest_events: &mut Events,
) -> (Conversation, Conversation) {
    let guest_name = guest.account().username;
    let a = host.start_conversation(&guest_name).await.expect("open and invite");
    let ring = guest_events.expect(ring).await;
    assert_eq!(ring.caller.id, host.user_id());
    let b = guest.answer(&ring).await.expect("answer");
    let joined = host_events
        .expect(in_conversation(a.id(), |e| match e {
            ConversationEvent::Joined(p) => Some(p.user_id),
            _ => None,
        }))
        .await;
    assert_eq!(joined, guest.user_id());
    assert_eq!(b.participants().len(), 1, "the guest sees the host already there");
    (a, b)
}

/// Text both ways in a conversation (`words.0` from `a`'s side, `words.1` back), then
/// typing both ways: each arrives at the other side.
pub async fn text_and_typing_cross(
    (a, alice, alice_events): (&Conversation, &Client, &mut Events),
    (b, bob, bob_events): (&Conversation, &Client, &mut Events),
    words: (&str, &str),
) {
    assert_eq!(a.send_text(words.0).await.expect("sent"), Delivery::Delivered);
    assert_eq!(heard_text(bob_events, b.id()).await, words.0);
    assert_eq!(b.send_text(words.1).await.expect("sent"), Delivery::Delivered);
    assert_eq!(heard_text(alice_events, a.id()).await, words.1);
    b.send_typing().await.expect("sent");
    assert_eq!(alice_events.expect(in_conversation(a.id(), typing)).await, bob.user_id());
    a.send_typing().await.expect("sent");
    assert_eq!(bob_events.expect(in_conversation(b.id(), typing)).await, alice.user_id());
}

/// Who is typing, in a conversation event.
pub fn typing(e: &ConversationEvent) -> Option<mocha_auth::UserId> {
    match e {
        ConversationEvent::Typing { from } => Some(from.user_id),
        _ => None,
    }
}

/// The sender's side `from` (of user `sender`) sends a file of `size` patterned bytes
/// to the receiver's side `to`, which accepts it: it must arrive whole.
pub async fn file_arrives_whole(
    from: &Conversation,
    sender: mocha_auth::UserId,
    to: &Conversation,
    to_events: &mut Events,
    size: u32,
) {
    let (outbox, inbox) = (tempfile::tempdir().expect("a folder"), tempfile::tempdir().expect("a folder"));
    let data: Vec<u8> = (0..size).map(|i| (i.wrapping_mul(2_654_435_761) >> 11) as u8).collect();
    let source = outbox.path().join("notes.bin");
    std::fs::write(&source, &data).expect("the file written");
    let transfer = from.send_file(&source, None).await.expect("offered");
    let offer = to_events
        .expect(in_conversation(to.id(), |e| match e {
            ConversationEvent::FileOffered { from, offer } if from.user_id == sender => Some(offer.clone()),
            _ => None,
        }))
        .await;
    assert_eq!((offer.transfer_id.as_str(), offer.size), (transfer.as_str(), data.len() as u64));
    let target = to.accept_file(&offer.transfer_id, inbox.path()).await.expect("accepted");
    let received = to_events
        .expect(in_conversation(to.id(), |e| match e {
            ConversationEvent::Transfer(TransferEvent::Completed { direction, sha256, .. }) => {
                Some((*direction, sha256.clone()))
            }
            ConversationEvent::Transfer(TransferEvent::Failed { .. }) => panic!("the transfer failed: {e:?}"),
            _ => None,
        }))
        .await;
    assert_eq!(received, (TransferDirection::Receiving, offer.sha256.clone()));
    assert_eq!(std::fs::read(&target).expect("the file received"), data);
}

/// Waits for the next chat text in conversation `id`.
pub async fn heard_text(events: &mut Events, id: ConversationId) -> String {
    events
        .expect(in_conversation(id, |e| match e {
            ConversationEvent::Text { text, .. } => Some(text.clone()),
            _ => None,
        }))
        .await
}

/// Chat text from `user` in conversation `id`.
pub fn text_from(id: ConversationId, user: mocha_auth::UserId) -> impl FnMut(&Event) -> Option<String> {
    in_conversation(id, move |e| match e {
        ConversationEvent::Text { from, text, .. } if from.user_id == user => Some(text.clone()),
        _ => None,
    })
}
