//! The NATS bus: one node's connection to the cluster.
//!
//! Three tasks per node, each holding the server weakly and stopping with the bus:
//! - *inbound*: presence addressed to this node's users, rings for them (answered at
//!   once), every Passport event, and the session directory's watch (which is how a
//!   sign-in elsewhere ends a session here);
//! - *writer*: this node's directory entries, in order for each user (sign-in,
//!   presence, sign-out), many users' at once (see [`WRITE_BATCH`]), and its heartbeat,
//!   which carries its [`NodeCard`] (roles, addresses, load);
//! - *sweeper*: a node whose heartbeat stops is taken for dead after `node_timeout`,
//!   and its users are shown offline to the watchers on this node.
//!
//! The directory's entries carry no TTL of their own: a crashed node's entries are
//! deleted by the nodes that swept it, so a quiet but live user never expires.
//!
//! *Rejoining*: when the connection comes back after NATS was lost (a restart empties
//! the directory, kept in memory), when a heartbeat cannot be written, when the watch
//! fails, or when this node sees its own heartbeat deleted (it was swept while alive),
//! the writer re-creates the bucket's stream, writes the heartbeat and every session
//! this node holds again, and opens a new watch; the other nodes' sessions stay shown
//! until they announce themselves again (or `node_timeout` passes).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use async_nats::jetstream::{self, kv};
use futures_util::StreamExt;
use mocha_auth::{SignedClaims, SwitchboardTicket, UserId, unix_now};
use mocha_passport::{PassportEvent, PassportListener};
use tokio::sync::{mpsc, oneshot};

use super::names::{is_valid_name, redact_url};
use tokio_util::sync::CancellationToken;

use super::directory::{Directory, RemoteSession, Seen, Swept};
use super::wire::{self, Entry, Key, NodeCard};
use crate::front::{CoreEvent, RingInvite};
use crate::{NotificationServer, RingError};

/// How long a ring waits for the callee's node: `CAL` is answered within it either way.
const RING_TIMEOUT: Duration = Duration::from_secs(3);

/// How this node joins the cluster.
#[derive(Clone, Debug)]
pub struct ClusterConfig {
    /// `nats://[user:password@]host:port`; never logged as given (see [`Self::redacted_url`]).
    pub url: String,
    /// Every subject and the directory's bucket start with it: one per cluster (tests use
    /// their own, so they can share a NATS server).
    pub prefix: String,
    /// This node's name, unique in the cluster.
    pub node: String,
    /// How often this node tells the others it is alive.
    pub heartbeat: Duration,
    /// A node not heard from for this long is taken for dead and its users shown offline.
    pub node_timeout: Duration,
    /// What this node runs and where, announced with every heartbeat (its counts are
    /// filled in each time).
    pub card: NodeCard,
}

impl ClusterConfig {
    /// Heartbeats every 5 s, dead after 15 s of silence: a crashed node's users look
    /// offline within about 16 s (the sweep runs every second), well inside 30 s.
    pub fn new(url: impl Into<String>, prefix: impl Into<String>, node: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            prefix: prefix.into(),
            node: node.into(),
            heartbeat: Duration::from_secs(5),
            node_timeout: Duration::from_secs(15),
            card: NodeCard::default(),
        }
    }

    /// Announces `card` (what this node runs, and where) to the other nodes.
    pub fn with_card(self, card: NodeCard) -> Self {
        Self { card, ..self }
    }

    /// The URL with any password hidden.
    pub fn redacted_url(&self) -> String {
        redact_url(&self.url)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum BusError {
    #[error("{0:?} is not a valid cluster prefix or node name (letters, digits, - and _; at most 64)")]
    InvalidName(String),
    #[error("cannot connect to NATS at {url}: {detail}")]
    Connect { url: String, detail: String },
    #[error(
        "the session directory (JetStream KV bucket {bucket}) is not usable: {detail}; is JetStream on (nats-server -js)?"
    )]
    Directory { bucket: String, detail: String },
    #[error("cannot subscribe on NATS: {0}")]
    Subscribe(String),
}

/// The most directory writes the writer has in flight at once. Each is a JetStream
/// publish and its acknowledgement; one at a time, a node could write a few hundred a
/// second on a loaded box, and after a storm of sign-ins its users' later presence
/// changes waited behind thousands of queued entries.
const WRITE_BATCH: usize = 256;

/// A change to this node's own directory entries, applied in order by the writer.
enum Write {
    /// A session became live here: its entry, whoever held the key before.
    SignedIn {
        user: UserId,
        entry: Entry,
    },
    /// Its presence changed: written only while the entry is still this node's.
    Changed {
        user: UserId,
        entry: Entry,
    },
    SignedOut {
        user: UserId,
    },
    /// Write everything this node holds again, and read the directory again.
    Rejoin,
    Flush(oneshot::Sender<()>),
}

impl Write {
    /// The user whose entry this writes; `None` for a rejoin or a flush, which wait for
    /// every write queued before them.
    fn user(&self) -> Option<UserId> {
        match self {
            Write::SignedIn { user, .. } | Write::Changed { user, .. } | Write::SignedOut { user } => {
                Some(*user)
            }
            Write::Rejoin | Write::Flush(_) => None,
        }
    }
}

/// `first` and the writes queued after it that can be in flight together: up to
/// [`WRITE_BATCH`], each for a different user (a user's next write needs the revision
/// the previous one got back). The write that ends the batch early is left in `held`.
fn batch(first: Write, writes: &mut mpsc::UnboundedReceiver<Write>, held: &mut Option<Write>) -> Vec<Write> {
    let Some(user) = first.user() else { return vec![first] };
    let mut users = std::collections::HashSet::from([user]);
    let mut batch = vec![first];
    while batch.len() < WRITE_BATCH {
        let Ok(next) = writes.try_recv() else { break };
        match next.user() {
            Some(user) if users.insert(user) => batch.push(next),
            _ => {
                *held = Some(next);
                break;
            }
        }
    }
    batch
}

/// What the tasks take over when the server starts.
struct Inbound {
    presence: async_nats::Subscriber,
    rings: async_nats::Subscriber,
    passport: async_nats::Subscriber,
    watch: kv::Watch,
    /// New watches, opened by the writer after a rejoin.
    watches: mpsc::UnboundedReceiver<kv::Watch>,
    writes: mpsc::UnboundedReceiver<Write>,
}

pub struct NatsBus {
    client: async_nats::Client,
    kv: kv::Store,
    config: ClusterConfig,
    node: Arc<str>,
    passport_subject: String,
    pub(crate) directory: Directory,
    writes: mpsc::UnboundedSender<Write>,
    watches: mpsc::UnboundedSender<kv::Watch>,
    /// Whether the NATS connection is up (the sweep waits while it is not).
    connected: Arc<AtomicBool>,
    inbound: Mutex<Option<Inbound>>,
    /// Other services on this node that react to Passport events (the Switchboard), told
    /// of the events that happened on other nodes too. Held weakly: they hold the server.
    listeners: Mutex<Vec<Weak<dyn PassportListener>>>,
    /// This node's switchboard's participants, for its card (see [`Self::count_participants`]).
    participants: Mutex<Option<ParticipantCount>>,
    stop: CancellationToken,
}

type ParticipantCount = Box<dyn Fn() -> u64 + Send + Sync>;

impl Drop for NatsBus {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

impl NatsBus {
    /// Connects, opens (or creates) the directory's bucket, subscribes, and writes the
    /// first heartbeat: everything that can fail does so here, at start-up.
    pub async fn connect(config: ClusterConfig) -> Result<Arc<Self>, BusError> {
        for name in [&config.prefix, &config.node] {
            if !is_valid_name(name) {
                return Err(BusError::InvalidName(name.clone()));
            }
        }
        let url = config.redacted_url();
        // This run of the node: a node restarted under the same name right after a crash
        // is a new member, and the others still sweep the old run's sessions.
        let node = format!("{}-{}", config.node, mocha_auth::random_id::<6>());
        let (writes, receiver) = mpsc::unbounded_channel();
        let connected = Arc::new(AtomicBool::new(true));
        let on_event = {
            let (writes, connected) = (writes.clone(), connected.clone());
            move |event: async_nats::Event| {
                match event {
                    async_nats::Event::Disconnected => {
                        tracing::warn!("lost the connection to NATS; reconnecting");
                        connected.store(false, Ordering::Relaxed);
                    }
                    // Back: NATS may have restarted with an empty directory.
                    async_nats::Event::Connected if !connected.swap(true, Ordering::Relaxed) => {
                        tracing::info!("connected to NATS again; announcing this node's sessions again");
                        let _ = writes.send(Write::Rejoin);
                    }
                    _ => {}
                }
                async {}
            }
        };
        let client = async_nats::ConnectOptions::new()
            .event_callback(on_event)
            .no_echo()
            .name(format!("mocha-server {node}"))
            .connection_timeout(Duration::from_secs(5))
            .connect(config.url.as_str())
            .await
            .map_err(|e| BusError::Connect { url: url.clone(), detail: e.to_string() })?;
        let js = jetstream::new(client.clone());
        let bucket = wire::bucket(&config.prefix);
        let directory_error = |detail: String| BusError::Directory { bucket: bucket.clone(), detail };
        js.get_or_create_stream(directory_stream(&bucket))
            .await
            .map_err(|e| directory_error(e.to_string()))?;
        let kv = js.get_key_value(&bucket).await.map_err(|e| directory_error(e.to_string()))?;
        let subscribe_error = |e: async_nats::SubscribeError| BusError::Subscribe(e.to_string());
        let presence = client
            .subscribe(wire::presence_wildcard(&config.prefix, &node))
            .await
            .map_err(subscribe_error)?;
        let rings =
            client.subscribe(wire::ring_subject(&config.prefix, &node)).await.map_err(subscribe_error)?;
        let passport_subject = wire::passport_subject(&config.prefix);
        let passport = client.subscribe(passport_subject.clone()).await.map_err(subscribe_error)?;
        let watch = kv.watch_with_history(">").await.map_err(|e| directory_error(e.to_string()))?;
        kv.put(wire::node_key(&node), encode_card(&config.card))
            .await
            .map_err(|e| directory_error(e.to_string()))?;
        tracing::info!(url, node, prefix = config.prefix, "joined the cluster's bus");

        let (watches, new_watches) = mpsc::unbounded_channel();
        let node: Arc<str> = Arc::from(node);
        Ok(Arc::new(Self {
            client,
            kv,
            directory: Directory::new(node.clone()),
            node,
            passport_subject,
            config,
            writes,
            watches,
            connected,
            inbound: Mutex::new(Some(Inbound {
                presence,
                rings,
                passport,
                watch,
                watches: new_watches,
                writes: receiver,
            })),
            listeners: Mutex::default(),
            participants: Mutex::default(),
            stop: CancellationToken::new(),
        }))
    }

    /// Where this node's heartbeat reads the load `XFR` balances: the people in
    /// conversations on its switchboard (set by whoever runs it on this node).
    pub fn count_participants(&self, count: impl Fn() -> u64 + Send + Sync + 'static) {
        *self.participants.lock().unwrap_or_else(|e| e.into_inner()) = Some(Box::new(count));
    }

    /// The cards of the other live nodes (as of their last heartbeats).
    pub fn cards(&self) -> Vec<NodeCard> {
        self.directory.cards()
    }

    /// The live switchboard node with the fewest people in conversations, if any.
    pub(crate) fn pick_switchboard(&self) -> Option<NodeCard> {
        self.directory.pick_switchboard()
    }

    /// This node's heartbeat: its card, with its current counts.
    fn heartbeat_value(&self, sessions: usize) -> bytes::Bytes {
        let participants =
            self.participants.lock().unwrap_or_else(|e| e.into_inner()).as_ref().map_or(0, |count| count());
        let card = NodeCard {
            sessions: u64::try_from(sessions).unwrap_or(u64::MAX),
            participants,
            ..self.config.card.clone()
        };
        encode_card(&card)
    }

    /// This run of the node in the cluster: its `node` name and a random suffix.
    pub fn node(&self) -> &str {
        &self.node
    }

    pub fn config(&self) -> &ClusterConfig {
        &self.config
    }

    /// How many users are signed in on the other nodes (from the directory).
    pub fn online_elsewhere(&self) -> usize {
        self.directory.remote_count()
    }

    fn rejoin(&self) {
        let _ = self.writes.send(Write::Rejoin);
    }

    /// The node a user is signed in on, if another one.
    #[inline]
    pub(crate) fn node_of(&self, user: UserId) -> Option<Arc<str>> {
        self.directory.node_of(user)
    }

    pub(crate) fn remote(&self, user: UserId) -> Option<RemoteSession> {
        self.directory.remote(user)
    }

    pub(crate) fn signed_in(&self, user: UserId, entry: Entry) {
        let _ = self.writes.send(Write::SignedIn { user, entry });
    }

    pub(crate) fn changed(&self, user: UserId, entry: Entry) {
        let _ = self.writes.send(Write::Changed { user, entry });
    }

    pub(crate) fn signed_out(&self, user: UserId) {
        let _ = self.writes.send(Write::SignedOut { user });
    }

    /// Sends presence events to watchers on other nodes (encoded once for all of them).
    pub(crate) async fn send_presence(&self, watchers: &[(UserId, Arc<str>)], events: &[CoreEvent]) {
        let payload = match wire::encode_presence(events) {
            Ok(payload) => payload,
            Err(error) => return tracing::error!(%error, "cannot encode presence for the bus"),
        };
        for (watcher, node) in watchers {
            let subject = wire::presence_subject(&self.config.prefix, node, *watcher);
            if let Err(error) = self.client.publish(subject, payload.clone()).await {
                tracing::warn!(%watcher, %node, %error, "presence not sent to another node");
            }
        }
    }

    /// Rings `callee` on the node the directory says holds them (request and reply, at
    /// most [`RING_TIMEOUT`]). A callee the directory shows appearing offline, a node
    /// that no longer holds them, and a node that is gone or does not answer all mean
    /// `Offline`: the caller sees what they would see of a callee on their own node.
    pub(crate) async fn ring(&self, callee: UserId, invite: &RingInvite) -> Result<(), RingError> {
        let session = self.directory.remote(callee).ok_or(RingError::Offline)?;
        if !session.visible() {
            return Err(RingError::Offline);
        }
        let request = wire::RingRequest { callee, invite: invite.clone() };
        let payload = serde_json::to_vec(&request).map_err(|e| RingError::Internal(e.to_string()))?;
        let subject = wire::ring_subject(&self.config.prefix, &session.node);
        let request = async_nats::Request::new().payload(payload.into()).timeout(Some(RING_TIMEOUT));
        let reply = match self.client.send_request(subject, request).await {
            Ok(reply) => reply,
            Err(error) => {
                use async_nats::client::RequestErrorKind;
                match error.kind() {
                    RequestErrorKind::NoResponders => {
                        tracing::debug!(%callee, node = %session.node, "ring: that node is gone")
                    }
                    _ => {
                        tracing::warn!(%callee, node = %session.node, %error, "ring: no answer from the callee's node")
                    }
                }
                return Err(RingError::Offline);
            }
        };
        match serde_json::from_slice::<wire::RingAnswer>(&reply.payload) {
            Ok(wire::RingAnswer::Rung) => Ok(()),
            Ok(wire::RingAnswer::Offline) => Err(RingError::Offline),
            Err(error) => Err(RingError::Internal(format!("an unreadable answer to a ring: {error}"))),
        }
    }

    /// Tells `listener` (a service on this node that already hears this node's Passport)
    /// the Passport events of the other nodes as well.
    pub fn subscribe_remote(&self, listener: Weak<dyn PassportListener>) {
        self.listeners.lock().unwrap_or_else(|e| e.into_inner()).push(listener);
    }

    fn tell_listeners(&self, event: &PassportEvent) {
        let listeners: Vec<_> = self
            .listeners
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .filter_map(Weak::upgrade)
            .collect();
        for listener in listeners {
            listener.on_event(event);
        }
    }

    /// Hands a Passport event that happened here to every other node.
    pub(crate) async fn publish_passport(&self, event: &PassportEvent) {
        let payload = match serde_json::to_vec(event) {
            Ok(json) => bytes::Bytes::from(json),
            Err(error) => return tracing::error!(%error, "cannot encode a Passport event for the bus"),
        };
        if let Err(error) = self.client.publish(self.passport_subject.clone(), payload).await {
            tracing::error!(%error, "a Passport event did not reach the other nodes");
        }
    }

    /// Says goodbye: this node's last directory writes are made and its heartbeat is
    /// deleted, so the others stop waiting for it. (A crash skips this; the sweep covers it.)
    pub async fn leave(&self) {
        let (done, flushed) = oneshot::channel();
        if self.writes.send(Write::Flush(done)).is_ok() {
            let _ = tokio::time::timeout(Duration::from_secs(5), flushed).await;
        }
        // Stopped first, so no heartbeat comes after the goodbye.
        self.stop.cancel();
        if let Err(error) = self.kv.delete(wire::node_key(&self.node)).await {
            tracing::warn!(%error, "could not take this node's heartbeat out of the directory");
        }
        let _ = self.client.flush().await;
    }
}

fn encode_card(card: &NodeCard) -> bytes::Bytes {
    serde_json::to_vec(card).map(bytes::Bytes::from).unwrap_or_default()
}

/// The directory bucket's stream, made here as `create_key_value` would make it: that
/// call first asks for the account's details, which async-nats cannot read from a 2.9
/// server (Debian's).
fn directory_stream(bucket: &str) -> jetstream::stream::Config {
    jetstream::stream::Config {
        name: format!("KV_{bucket}"),
        description: Some("Mocha: who is signed in on which node (docs/cluster.md)".into()),
        subjects: vec![format!("$KV.{bucket}.>")],
        max_messages_per_subject: 1,
        max_message_size: 4096,
        // The directory describes live connections: after a NATS restart the nodes
        // announce them again anyway, so nothing is gained on disk.
        storage: jetstream::stream::StorageType::Memory,
        allow_rollup: true,
        deny_delete: true,
        allow_direct: true,
        discard: jetstream::stream::DiscardPolicy::New,
        num_replicas: 1,
        ..Default::default()
    }
}

/// Starts the node's bus tasks for `server` (once; later calls do nothing).
pub(crate) fn start(server: &Arc<NotificationServer>, nats: &Arc<NatsBus>) {
    let Some(inbound) = nats.inbound.lock().unwrap_or_else(|e| e.into_inner()).take() else { return };
    let Inbound { presence, rings, passport, watch, watches, writes } = inbound;
    let weak = Arc::downgrade(server);
    let subscriptions = Subscriptions { presence, rings, passport, watch, watches };
    tokio::spawn(receive(weak.clone(), nats.stop.clone(), subscriptions));
    // Only the server keeps the bus: a task holding it strongly would keep it forever.
    tokio::spawn(write(weak.clone(), Arc::downgrade(nats), nats.stop.clone(), nats.config.heartbeat, writes));
    tokio::spawn(sweep(weak, nats.stop.clone(), nats.config.node_timeout));
}

/// What the inbound task reads.
struct Subscriptions {
    presence: async_nats::Subscriber,
    rings: async_nats::Subscriber,
    passport: async_nats::Subscriber,
    watch: kv::Watch,
    /// The new watch each rejoin opens.
    watches: mpsc::UnboundedReceiver<kv::Watch>,
}

async fn receive(server: Weak<NotificationServer>, stop: CancellationToken, subscriptions: Subscriptions) {
    let Subscriptions { mut presence, mut rings, mut passport, watch, mut watches } = subscriptions;
    // `None` between a failed watch and the new one a rejoin opens.
    let mut watch = Some(watch);
    loop {
        tokio::select! {
            () = stop.cancelled() => break,
            Some(message) = presence.next() => {
                let Some(server) = server.upgrade() else { break };
                deliver_presence(&server, &message);
            }
            Some(message) = rings.next() => {
                let Some(server) = server.upgrade() else { break };
                answer_ring(&server, message).await;
            }
            Some(message) = passport.next() => {
                let Some(server) = server.upgrade() else { break };
                if message.payload.len() > wire::MAX_PAYLOAD {
                    continue;
                }
                match serde_json::from_slice::<PassportEvent>(&message.payload) {
                    Ok(event) => {
                        server.moderation.note(&event);
                        if let Some(nats) = server.bus.nats() {
                            nats.tell_listeners(&event);
                        }
                        server.apply_event(event).await;
                    }
                    Err(error) => tracing::warn!(%error, "an unreadable Passport event from the bus"),
                }
            }
            Some(new) = watches.recv() => watch = Some(new),
            entry = next_entry(&mut watch) => {
                let Some(server) = server.upgrade() else { break };
                match entry {
                    Some(Ok(entry)) => directory_changed(&server, entry).await,
                    failed => {
                        let error = failed.and_then(Result::err).map(|e| e.to_string());
                        tracing::warn!(?error, "the session directory's watch failed; reading it again");
                        watch = None;
                        if let Some(nats) = server.bus.nats() {
                            nats.rejoin();
                        }
                    }
                }
            }
        }
    }
}

/// The watch's next entry; pending while there is no watch.
async fn next_entry(watch: &mut Option<kv::Watch>) -> Option<Result<kv::Entry, kv::WatcherError>> {
    match watch {
        Some(watch) => watch.next().await,
        None => std::future::pending().await,
    }
}

fn deliver_presence(server: &NotificationServer, message: &async_nats::Message) {
    let Some(watcher) = wire::presence_recipient(&message.subject) else { return };
    if message.payload.len() > wire::MAX_PAYLOAD {
        return;
    }
    match wire::decode_presence(&message.payload) {
        Ok(events) => {
            for event in events {
                server.registry.deliver(watcher, &CoreEvent::Presence(event));
            }
        }
        Err(error) => tracing::warn!(%error, "unreadable presence from the bus"),
    }
}

/// Rings a user of this node for a room on another node's switchboard, if they are
/// signed in here and not appearing offline, and says which. The invite's ticket must be
/// valid and name the callee and the room: nothing else on the bus makes a node push `RNG`.
async fn answer_ring(server: &NotificationServer, message: async_nats::Message) {
    let Some(reply) = message.reply else { return };
    if message.payload.len() > wire::MAX_PAYLOAD {
        return;
    }
    let request = match serde_json::from_slice::<wire::RingRequest>(&message.payload) {
        Ok(request) => request,
        Err(error) => return tracing::warn!(%error, "an unreadable ring from the bus"),
    };
    let ticket = SwitchboardTicket::verify(&request.invite.ticket, &server.ticket_verifier(), unix_now());
    if !ticket.is_ok_and(|t| t.sub == request.callee && t.room == request.invite.room) {
        return tracing::warn!(callee = %request.callee, "a ring from the bus with a ticket that does not fit");
    }
    let answer = {
        let sessions = server.registry.lock();
        match sessions.get(&request.callee).filter(|entry| entry.presence.visible_status().is_some()) {
            Some(entry) => {
                entry.deliver(&CoreEvent::Ring(request.invite));
                wire::RingAnswer::Rung
            }
            None => wire::RingAnswer::Offline,
        }
    };
    let payload = serde_json::to_vec(&answer).map(bytes::Bytes::from).unwrap_or_default();
    let Some(nats) = server.bus.nats() else { return };
    if let Err(error) = nats.client.publish(reply, payload).await {
        tracing::warn!(%error, "the answer to a ring was not sent");
    }
}

async fn directory_changed(server: &NotificationServer, entry: kv::Entry) {
    let Some(nats) = server.bus.nats() else { return };
    let now = Instant::now();
    let removed = matches!(entry.operation, kv::Operation::Delete | kv::Operation::Purge);
    match wire::parse_key(&entry.key) {
        // Another node took this one for dead, and deleted its sessions: announce again.
        Some(Key::Node(node)) if removed && node == nats.node() => {
            tracing::warn!("this node was taken for dead by another; announcing its sessions again");
            nats.rejoin();
        }
        Some(Key::Node(node)) if removed => nats.directory.node_left(node),
        Some(Key::Node(node)) => nats.directory.heartbeat(node, NodeCard::decode(&entry.value), now),
        Some(Key::User(user)) if removed => nats.directory.delete(user),
        Some(Key::User(user)) => {
            let described = match serde_json::from_slice::<Entry>(&entry.value) {
                Ok(described) => described,
                Err(error) => return tracing::warn!(%user, %error, "an unreadable directory entry"),
            };
            let session = RemoteSession {
                presence: described.presence(),
                node: Arc::from(described.node),
                revision: entry.revision,
                username: described.username,
            };
            let (username, presence) = (session.username.clone(), session.presence.clone());
            match nats.directory.put(user, session, now) {
                Seen::Nothing => {}
                Seen::SignedInElsewhere => server.signed_in_elsewhere(user),
                Seen::Returned { before } => {
                    server.remote_returned(user, &username, before.as_ref(), &presence).await;
                }
            }
        }
        None => tracing::debug!(key = entry.key, "a directory key that is not Mocha's"),
    }
    server.count_online_elsewhere(nats.online_elsewhere());
}

async fn write(
    server: Weak<NotificationServer>,
    nats: Weak<NatsBus>,
    stop: CancellationToken,
    every: Duration,
    mut writes: mpsc::UnboundedReceiver<Write>,
) {
    let mut heartbeat = tokio::time::interval(every);
    heartbeat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // A rejoin that failed (NATS still down) is tried again at each heartbeat.
    let mut rejoin_pending = false;
    // The write that ended the last batch, first in the next.
    let mut held = None;
    loop {
        let write = match held.take() {
            Some(write) => Some(write),
            None => tokio::select! {
                () = stop.cancelled() => break,
                _ = heartbeat.tick() => None,
                write = writes.recv() => match write {
                    Some(write) => Some(write),
                    None => break,
                },
            },
        };
        let Some(nats) = nats.upgrade() else { break };
        match write {
            Some(Write::Rejoin) => rejoin_pending = true,
            None if rejoin_pending => {}
            None => {
                let sessions = server.upgrade().map_or(0, |server| server.registry.len());
                if let Err(error) =
                    nats.kv.put(wire::node_key(&nats.node), nats.heartbeat_value(sessions)).await
                {
                    tracing::warn!(%error, "heartbeat not written: other nodes may take this one for dead");
                    rejoin_pending = true;
                }
                continue;
            }
            Some(write) => {
                let batch = batch(write, &mut writes, &mut held);
                futures_util::future::join_all(
                    batch.into_iter().map(|write| apply_write(&server, &nats, write)),
                )
                .await;
                continue;
            }
        }
        match rejoin(&server, &nats).await {
            Ok(sessions) => {
                rejoin_pending = false;
                tracing::info!(sessions, "rejoined the cluster's directory");
            }
            Err(error) => {
                tracing::warn!(%error, "could not rejoin the cluster's directory yet; trying again")
            }
        }
    }
}

/// Makes sure the directory exists, writes this node's heartbeat and every session it
/// holds again, and opens a new watch. Returns how many sessions were announced.
async fn rejoin(server: &Weak<NotificationServer>, nats: &NatsBus) -> Result<usize, String> {
    let bucket = wire::bucket(&nats.config.prefix);
    let js = jetstream::new(nats.client.clone());
    if let Err(error) = js.get_or_create_stream(directory_stream(&bucket)).await {
        // Another node may have made it a moment ago.
        js.get_stream(format!("KV_{bucket}")).await.map_err(|_| error.to_string())?;
    }
    let Some(server) = server.upgrade() else { return Ok(0) };
    nats.directory.begin_resync(Instant::now());
    let heartbeat = nats.heartbeat_value(server.registry.len());
    nats.kv.put(wire::node_key(&nats.node), heartbeat).await.map_err(|e| e.to_string())?;
    let sessions: Vec<(UserId, Entry)> = server
        .registry
        .lock()
        .iter()
        .map(|(user, entry)| (*user, Entry::new(&nats.node, &entry.username, &entry.presence)))
        .collect();
    let count = sessions.len();
    for (user, entry) in sessions {
        announce_again(&server, nats, user, &entry).await?;
    }
    let watch = nats.kv.watch_with_history(">").await.map_err(|e| e.to_string())?;
    let _ = nats.watches.send(watch);
    Ok(count)
}

/// Writes a session's entry again, unless another node holds the user now (then this
/// session is the older one and ends).
async fn announce_again(
    server: &NotificationServer,
    nats: &NatsBus,
    user: UserId,
    entry: &Entry,
) -> Result<(), String> {
    let key = wire::user_key(user);
    let value = serde_json::to_vec(entry).map(bytes::Bytes::from).unwrap_or_default();
    let revision = match nats.kv.create(&key, value.clone()).await {
        Ok(revision) => revision,
        Err(error) if error.kind() == kv::CreateErrorKind::AlreadyExists => {
            let current = nats.kv.entry(&key).await.map_err(|e| e.to_string())?;
            let held_here = current.as_ref().and_then(|c| serde_json::from_slice::<Entry>(&c.value).ok());
            match (current, held_here) {
                // Still this node's (NATS kept the directory): brought up to date.
                (Some(current), Some(held)) if held.node == *nats.node => {
                    nats.kv.update(&key, value, current.revision).await.map_err(|e| e.to_string())?
                }
                _ => {
                    server.signed_in_elsewhere(user);
                    return Ok(());
                }
            }
        }
        Err(error) => return Err(error.to_string()),
    };
    if nats.directory.written(user, revision) == Seen::SignedInElsewhere {
        server.signed_in_elsewhere(user);
    }
    Ok(())
}

async fn apply_write(server: &Weak<NotificationServer>, nats: &NatsBus, write: Write) {
    let encode = |entry: &Entry| serde_json::to_vec(entry).map(bytes::Bytes::from).unwrap_or_default();
    let written = match write {
        Write::SignedIn { user, entry } => {
            (user, nats.kv.put(wire::user_key(user), encode(&entry)).await.ok())
        }
        Write::Changed { user, entry } => {
            let Some(revision) = nats.directory.own_revision(user) else { return };
            // Refused when another node wrote since: that sign-in ends this session
            // through the watch, so the older revision is kept for it to compare with.
            (user, nats.kv.update(wire::user_key(user), encode(&entry), revision).await.ok())
        }
        Write::SignedOut { user } => {
            let Some(revision) = nats.directory.own_revision(user) else { return };
            nats.directory.forget_own(user);
            if let Err(error) = nats.kv.delete_expect_revision(wire::user_key(user), Some(revision)).await {
                tracing::debug!(%user, %error, "directory entry not deleted (another node has the user now?)");
            }
            return;
        }
        Write::Flush(done) => {
            let _ = done.send(());
            return;
        }
        // Handled by the writer's loop.
        Write::Rejoin => return,
    };
    if let (user, Some(revision)) = written
        && nats.directory.written(user, revision) == Seen::SignedInElsewhere
        && let Some(server) = server.upgrade()
    {
        server.signed_in_elsewhere(user);
    }
}

async fn sweep(server: Weak<NotificationServer>, stop: CancellationToken, timeout: Duration) {
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut last = Instant::now();
    loop {
        tokio::select! {
            () = stop.cancelled() => break,
            _ = tick.tick() => {}
        }
        let Some(server) = server.upgrade() else { break };
        let Some(nats) = server.bus.nats().cloned() else { break };
        let now = Instant::now();
        let frozen = now.saturating_duration_since(last) > timeout / 3;
        last = now;
        // Without NATS no heartbeat arrives from anyone: nobody is taken for dead meanwhile
        // (a rejoin gives every node a fresh `timeout`). And when this node itself was
        // frozen (suspended, stopped), the silence was its own: the others' heartbeats
        // wait unread in its inbox, so they get a fresh `timeout` too.
        if !nats.connected.load(Ordering::Relaxed) {
            continue;
        }
        if frozen {
            tracing::warn!("this node was frozen for a while; giving the other nodes time to be heard");
            nats.directory.heard_all(now);
            continue;
        }
        for (user, session) in nats.directory.expire_stale(now, timeout) {
            server.remote_gone(user, &session.username, session.visible()).await;
        }
        for Swept { node, sessions } in nats.directory.sweep(now, timeout) {
            tracing::warn!(%node, users = sessions.len(), ?timeout, "a node went silent; its users are shown offline");
            for (user, session) in sessions {
                server.remote_gone(user, &session.username, session.visible()).await;
                // Every surviving node tries; the revision makes all but one a no-op, and
                // spares a user who signed in again meanwhile.
                let _ = nats.kv.delete_expect_revision(wire::user_key(user), Some(session.revision)).await;
            }
            let _ = nats.kv.delete(wire::node_key(&node)).await;
        }
        server.count_online_elsewhere(nats.online_elsewhere());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signed_in(user: i64) -> Write {
        let entry = Entry::new("n1", "someone", &crate::registry::PresenceState::default());
        Write::SignedIn { user: UserId(user), entry }
    }

    fn users(batch: &[Write]) -> Vec<Option<UserId>> {
        batch.iter().map(Write::user).collect()
    }

    #[test]
    fn writes_go_together_only_for_different_users_and_never_past_a_flush() {
        let (queue, mut writes) = mpsc::unbounded_channel();
        let mut held = None;
        for write in [signed_in(2), Write::SignedOut { user: UserId(1) }, signed_in(3)] {
            queue.send(write).unwrap();
        }
        // User 1's sign-out needs the revision their sign-in gets back: the next batch.
        let first = batch(signed_in(1), &mut writes, &mut held);
        assert_eq!(users(&first), [Some(UserId(1)), Some(UserId(2))]);
        assert!(matches!(held.take(), Some(Write::SignedOut { user: UserId(1) })));
        let (done, _) = oneshot::channel();
        queue.send(Write::Flush(done)).unwrap();
        queue.send(signed_in(4)).unwrap();
        let second = batch(Write::SignedOut { user: UserId(1) }, &mut writes, &mut held);
        assert_eq!(users(&second), [Some(UserId(1)), Some(UserId(3))]);
        // The flush waits for both, and goes alone.
        let flush = held.take().expect("the flush ended the batch");
        assert_eq!(users(&batch(flush, &mut writes, &mut held)), [None]);
        assert!(held.is_none());
        assert_eq!(users(&batch(writes.try_recv().unwrap(), &mut writes, &mut held)), [Some(UserId(4))]);
    }

    #[test]
    fn a_bus_url_never_shows_its_password() {
        assert_eq!(
            redact_url("nats://mocha:s3cret@nats.internal:4222"),
            "nats://mocha:****@nats.internal:4222"
        );
        assert_eq!(redact_url("nats://s3cret-token@nats:4222"), "nats://****@nats:4222");
        assert_eq!(redact_url("nats://127.0.0.1:4222"), "nats://127.0.0.1:4222");
        assert!(is_valid_name("node-1_a") && !is_valid_name("a.b") && !is_valid_name(""));
    }
}
