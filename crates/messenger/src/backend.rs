//! The backend: a thread with its own tokio runtime that owns the `mocha_client::Client`
//! and its conversations, carries out [`Intent`]s, and sends [`BackendEvent`]s back to
//! the window followed by a repaint request. The window never waits on it.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::mpsc as std_mpsc;

use mocha_client::api::StatusReport;
use mocha_client::api::UserId;
use mocha_client::monitor::ProtocolMonitor;
use mocha_client::{
    Call, CallOptions, CallState, Client, ClientConfig, Conversation, ConversationEvent, ConversationId,
    Credentials, DeviceSwitch, Event, Network, PassportClient, Trust,
};
use tokio::sync::mpsc;

use crate::call_media::{self, CallMedia, CallPictures, MachineMedia, Volume};
use crate::devices::{DeviceLists, list_devices};
use crate::errors::{describe_sign_in_error, describe_sign_out};
use crate::intent::{CallSetup, Connection, Intent};
use crate::model::BackendEvent;
use crate::platform::SecretStore;
use crate::settings::{AudioVideoOptions, OptionsFile};
use crate::updater::{self, UpdateTarget};

/// How the window hears from the backend: a channel plus a repaint request.
#[derive(Clone)]
pub struct Sink {
    events: std_mpsc::Sender<BackendEvent>,
    ctx: eframe::egui::Context,
}

impl Sink {
    pub fn send(&self, event: BackendEvent) {
        let _ = self.events.send(event);
        self.ctx.request_repaint();
    }
}

/// What the backend needs to start.
pub struct BackendConfig {
    pub options_file: OptionsFile,
    /// `None`: probe the operating system's store.
    pub secret_store: Option<SecretStore>,
    pub monitor: ProtocolMonitor,
    /// `None`: ask the machine (sound system, cameras); tests give a fixed list.
    pub devices: Option<DeviceLists>,
    /// `None`: ask whether the system file dialog can be shown; tests say it cannot.
    pub file_dialog: Option<Result<(), String>>,
    /// `None`: the machine's home, Documents… folders; tests give their own.
    pub places: Option<Vec<(String, std::path::PathBuf)>>,
    /// `None`: updates replace this program; tests give a scratch file.
    pub updates: Option<UpdateTarget>,
    /// `None`: the machine's microphones, speakers and camera; tests give synthetic ones.
    pub call_media: Option<Arc<dyn CallMedia>>,
}

/// The window's handle: sends intents; dropping it stops the backend.
pub struct Backend {
    intents: mpsc::UnboundedSender<Intent>,
    pub events: std_mpsc::Receiver<BackendEvent>,
}

impl Backend {
    pub fn start(config: BackendConfig, ctx: eframe::egui::Context) -> Self {
        let (intents, inbox) = mpsc::unbounded_channel();
        let (events, receiver) = std_mpsc::channel();
        let sink = Sink { events, ctx };
        let loopback = intents.clone();
        std::thread::Builder::new()
            .name("mocha-backend".into())
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .enable_all()
                    .thread_name("mocha-net")
                    .build();
                match runtime {
                    Ok(runtime) => runtime.block_on(run(config, sink, inbox, loopback)),
                    Err(e) => sink.send(BackendEvent::Failed(format!("cannot start networking: {e}"))),
                }
            })
            .map(drop)
            .unwrap_or_else(|e| tracing::error!(%e, "cannot start the backend thread"));
        Self { intents, events: receiver }
    }

    pub fn send(&self, intent: Intent) {
        tracing::debug!(?intent, "intent");
        let _ = self.intents.send(intent);
    }
}

/// Messages from the backend's own tasks back to its loop.
enum Internal {
    Connected {
        client: Client,
        events: mpsc::Receiver<Event>,
    },
    Conversation {
        conversation: Conversation,
        invited: Option<String>,
    },
    /// A call placed or accepted: it is now the one call.
    CallReady(ActiveCall),
    /// The call with this id is over.
    CallOver(String),
}

/// The call the backend carries, with what its devices were opened from.
struct ActiveCall {
    call: Call,
    devices: AudioVideoOptions,
    pictures: CallPictures,
    volume: Volume,
    /// A camera is in the call (a voice call opens one when the camera is turned on).
    camera_opened: bool,
}

struct Worker {
    sink: Sink,
    store: SecretStore,
    file: OptionsFile,
    monitor: ProtocolMonitor,
    client: Option<Client>,
    conversations: HashMap<ConversationId, Conversation>,
    internal: mpsc::UnboundedSender<Internal>,
    loopback: mpsc::UnboundedSender<Intent>,
    /// Whether the current sign-in is remembered (sign-out then keeps it valid).
    remembered: bool,
    devices: Option<DeviceLists>,
    updates: UpdateTarget,
    media: Arc<dyn CallMedia>,
    call: Option<ActiveCall>,
    /// Hang up was pressed before the call being placed existed: end it once it does.
    hang_up_early: bool,
}

async fn run(
    config: BackendConfig,
    sink: Sink,
    mut intents: mpsc::UnboundedReceiver<Intent>,
    loopback: mpsc::UnboundedSender<Intent>,
) {
    let store = match config.secret_store {
        Some(store) => store,
        None => tokio::task::spawn_blocking(SecretStore::probe_os)
            .await
            .unwrap_or_else(|e| SecretStore::Unavailable(e.to_string())),
    };
    sink.send(BackendEvent::SecretStore(store.availability().map_err(str::to_string)));
    let (file_dialog, places) = (config.file_dialog, config.places);
    let dialog_sink = sink.clone();
    tokio::spawn(async move {
        let probe = tokio::task::spawn_blocking(move || {
            (
                file_dialog.unwrap_or_else(crate::platform::file_dialog),
                places.unwrap_or_else(crate::platform::places),
            )
        });
        let (native, places) = probe.await.unwrap_or_else(|e| (Err(e.to_string()), Vec::new()));
        dialog_sink.send(BackendEvent::FileDialog { native, places });
    });
    let (internal, mut internal_inbox) = mpsc::unbounded_channel();
    let mut worker = Worker {
        sink,
        store,
        file: config.options_file,
        monitor: config.monitor,
        client: None,
        conversations: HashMap::new(),
        internal,
        loopback,
        remembered: false,
        devices: config.devices,
        updates: config.updates.unwrap_or_else(UpdateTarget::this_program),
        media: config.call_media.unwrap_or_else(|| Arc::new(MachineMedia)),
        call: None,
        hang_up_early: false,
    };
    let mut events: Option<mpsc::Receiver<Event>> = None;
    loop {
        tokio::select! {
            intent = intents.recv() => match intent {
                Some(intent) => worker.handle(intent),
                None => break,
            },
            Some(message) = internal_inbox.recv() => match message {
                Internal::Connected { client, events: receiver } => {
                    worker.sink.send(BackendEvent::SignedIn(client.state()));
                    worker.client = Some(client);
                    events = Some(receiver);
                }
                Internal::Conversation { conversation, invited } => {
                    worker.sink.send(BackendEvent::ConversationOpened {
                        id: conversation.id(),
                        participants: conversation.participants(),
                        invited,
                    });
                    worker.conversations.insert(conversation.id(), conversation);
                }
                Internal::CallReady(active) => {
                    if std::mem::take(&mut worker.hang_up_early) {
                        tokio::spawn(async move { active.call.hang_up().await });
                    } else {
                        worker.call = Some(active);
                    }
                }
                Internal::CallOver(id) => {
                    if worker.call.as_ref().is_some_and(|active| active.call.id() == id) {
                        worker.call = None;
                    }
                }
            },
            event = next_event(&mut events) => match event {
                Some(event) => worker.on_event(event, &mut events),
                None => {
                    events = None;
                    if worker.client.take().is_some() {
                        worker.sink.send(BackendEvent::SignedOut(Some("The connection to the server ended.".into())));
                    }
                }
            },
        }
    }
    // The window closed: leave the network politely.
    if let Some(client) = worker.client.take() {
        client.disconnect().await;
    }
}

async fn next_event(events: &mut Option<mpsc::Receiver<Event>>) -> Option<Event> {
    match events {
        Some(receiver) => receiver.recv().await,
        None => std::future::pending().await,
    }
}

fn trust(connection: &Connection) -> Result<Trust, String> {
    let trust = Trust::system();
    match &connection.ca_certificate {
        Some(path) if !path.as_os_str().is_empty() => trust.with_pem_file(path).map_err(|e| e.to_string()),
        _ => Ok(trust),
    }
}

impl Worker {
    fn fail(&self, what: &str, error: impl std::fmt::Display) {
        self.sink.send(BackendEvent::Failed(format!("{what}: {error}")));
    }

    fn on_event(&mut self, event: Event, events: &mut Option<mpsc::Receiver<Event>>) {
        let Some(client) = self.client.clone() else { return };
        match &event {
            Event::Ring(ring) => {
                let (ring, internal, sink) = (ring.clone(), self.internal.clone(), self.sink.clone());
                tokio::spawn(async move {
                    match client.answer(&ring).await {
                        Ok(conversation) => {
                            let _ = internal.send(Internal::Conversation { conversation, invited: None });
                        }
                        Err(e) => sink.send(BackendEvent::Failed(format!(
                            "Could not join {}'s conversation: {e}",
                            ring.caller.display_name
                        ))),
                    }
                });
                return;
            }
            Event::Conversation { id, event: ConversationEvent::Ended { .. } } => {
                self.conversations.remove(id);
            }
            Event::SignedOut(reason) => {
                let message = describe_sign_out(reason);
                self.sink.send(BackendEvent::Client(event.clone(), client.state()));
                self.client = None;
                self.conversations.clear();
                self.call = None;
                *events = None;
                self.sink.send(BackendEvent::SignedOut(message));
                return;
            }
            _ => {}
        }
        self.sink.send(BackendEvent::Client(event, client.state()));
    }

    fn with_client<F, Fut>(&self, what: &'static str, call: F)
    where
        F: FnOnce(Client) -> Fut,
        Fut: Future<Output = Result<Option<String>, mocha_client::Error>> + Send + 'static,
    {
        let Some(client) = self.client.clone() else {
            return self.fail(what, "you are not signed in");
        };
        let sink = self.sink.clone();
        let future = call(client);
        tokio::spawn(async move {
            match future.await {
                Ok(Some(info)) => sink.send(BackendEvent::Info(info)),
                Ok(None) => {}
                Err(e) => sink.send(BackendEvent::Failed(format!("{what}: {e}"))),
            }
        });
    }

    fn with_conversation<F, Fut>(&self, id: ConversationId, what: &'static str, call: F)
    where
        F: FnOnce(Conversation) -> Fut,
        Fut: Future<Output = Result<(), mocha_client::Error>> + Send + 'static,
    {
        let Some(conversation) = self.conversations.get(&id).cloned() else {
            return self.fail(what, "the conversation has ended");
        };
        let sink = self.sink.clone();
        let future = call(conversation);
        tokio::spawn(async move {
            if let Err(e) = future.await {
                sink.send(BackendEvent::Failed(format!("{what}: {e}")));
            }
        });
    }

    fn handle(&mut self, intent: Intent) {
        match intent {
            Intent::LookUpRemembered { connection, address } => {
                let (store, sink) = (self.store.clone(), self.sink.clone());
                tokio::task::spawn_blocking(move || {
                    let present = store
                        .load(&SecretStore::key(&connection.server, &address))
                        .is_ok_and(|s| s.is_some());
                    sink.send(BackendEvent::Remembered { address, present });
                });
            }
            Intent::SignIn {
                connection,
                address,
                password,
                status,
                personal_message,
                display_name,
                remember,
                check_updates_on,
            } => {
                self.remembered = remember && self.store.availability().is_ok();
                let remember = self.remembered;
                let (store, sink, internal, monitor) =
                    (self.store.clone(), self.sink.clone(), self.internal.clone(), self.monitor.clone());
                tokio::spawn(async move {
                    let server = connection.server.trim().trim_end_matches('/').to_string();
                    let key = SecretStore::key(&server, &address);
                    let trust = match trust(&connection) {
                        Ok(trust) => trust,
                        Err(e) => return sink.send(BackendEvent::SignInFailed(e)),
                    };
                    let proxy = match connection.proxy.to_proxy() {
                        Ok(proxy) => proxy,
                        Err(e) => {
                            return sink.send(BackendEvent::SignInFailed(format!("Proxy settings: {e}")));
                        }
                    };
                    let mut config =
                        ClientConfig::new(&server, trust).proxy(proxy).monitor(monitor).status(status);
                    config.personal_message = personal_message;
                    let using_saved = password.is_empty();
                    let credentials = if using_saved {
                        let lookup = store.clone();
                        let lookup_key = key.clone();
                        match tokio::task::spawn_blocking(move || lookup.load(&lookup_key)).await {
                            Ok(Ok(Some(token))) => Credentials::RefreshToken(token),
                            Ok(Ok(None)) => {
                                return sink.send(BackendEvent::SignInFailed("Enter your password.".into()));
                            }
                            Ok(Err(e)) => {
                                return sink.send(BackendEvent::SignInFailed(format!(
                                    "The remembered sign-in could not be read: {e}"
                                )));
                            }
                            Err(e) => return sink.send(BackendEvent::SignInFailed(e.to_string())),
                        }
                    } else {
                        Credentials::Password { username: address.clone(), password }
                    };
                    if remember {
                        let (store, key) = (store.clone(), key.clone());
                        config = config.on_refresh_token(move |token| {
                            let (store, key, token) = (store.clone(), key.clone(), token.to_string());
                            // The store may block (D-Bus, Credential Manager): never on the network's threads.
                            std::thread::spawn(move || {
                                if let Err(e) = store.save(&key, &token) {
                                    tracing::warn!(%e, "cannot remember the sign-in");
                                }
                            });
                        });
                    } else {
                        let (store, key) = (store.clone(), key.clone());
                        tokio::task::spawn_blocking(move || store.delete(&key));
                    }
                    match Client::connect(config, credentials).await {
                        Ok((client, events)) => {
                            if !display_name.trim().is_empty()
                                && display_name.trim() != client.account().display_name
                                && let Err(e) = client.set_display_name(display_name.trim()).await
                            {
                                sink.send(BackendEvent::Failed(format!(
                                    "Your display name was not changed: {e}"
                                )));
                            }
                            let _ = internal.send(Internal::Connected { client: client.clone(), events });
                            after_sign_in(client, sink, check_updates_on).await;
                        }
                        Err(error) => {
                            if using_saved && error.passport_code().is_some() {
                                let _ = tokio::task::spawn_blocking(move || store.delete(&key)).await;
                            }
                            sink.send(BackendEvent::SignInFailed(describe_sign_in_error(&error, &server)));
                        }
                    }
                });
            }
            Intent::Forget { connection, address } => {
                let (store, sink) = (self.store.clone(), self.sink.clone());
                tokio::task::spawn_blocking(move || {
                    match store.delete(&SecretStore::key(&connection.server, &address)) {
                        Ok(()) => sink.send(BackendEvent::Remembered { address, present: false }),
                        Err(e) => {
                            sink.send(BackendEvent::Failed(format!("Could not forget the sign-in: {e}")))
                        }
                    }
                });
            }
            Intent::SignOut => {
                let remembered = self.remembered;
                self.with_client("Signing out", move |client| async move {
                    if remembered {
                        // Keep the remembered sign-in valid for next time.
                        client.disconnect().await;
                        Ok(None)
                    } else {
                        client.sign_out().await.map(|()| None)
                    }
                });
            }
            Intent::SetStatus(status) => {
                let sink = self.sink.clone();
                self.with_client("Changing your status", move |c| async move {
                    c.set_status(status).await?;
                    // No push says our own status changed: the window gets the state now.
                    sink.send(BackendEvent::State(c.state()));
                    Ok(None)
                });
            }
            Intent::SetPersonalMessage(message) => self
                .with_client("Changing your personal message", move |c| async move {
                    c.set_personal_message(&message).await.map(|()| None)
                }),
            Intent::SetDisplayName(name) => self
                .with_client("Changing your display name", move |c| async move {
                    c.set_display_name(&name).await.map(|_| None)
                }),
            Intent::AddContact { address, message } => {
                self.with_client("Adding a contact", move |c| async move {
                    let message = Some(message.trim()).filter(|m| !m.is_empty());
                    let created = c.request_contact(address.trim(), message).await?;
                    Ok(Some(match created.outcome {
                        mocha_client::api::ContactRequestOutcome::Pending => {
                            format!("Asked {} to be your contact.", address.trim())
                        }
                        mocha_client::api::ContactRequestOutcome::Accepted => {
                            format!("{} is now your contact.", address.trim())
                        }
                    }))
                })
            }
            Intent::AcceptRequest(id) => {
                self.with_client("Accepting the request", move |c| async move {
                    c.accept_request(id).await.map(|_| None)
                });
            }
            Intent::DeclineRequest(id) => {
                self.with_client("Declining the request", move |c| async move {
                    c.decline_request(id).await.map(|()| None)
                });
            }
            Intent::BlockRequester { request_id, user } => {
                self.with_client("Blocking", move |c| async move {
                    c.block(user).await?;
                    // Blocking may already have withdrawn the request.
                    let _ = c.decline_request(request_id).await;
                    Ok(None)
                })
            }
            Intent::SetAlias { user, alias } => {
                self.with_client("Renaming the contact", move |c| async move {
                    let alias = Some(alias.trim()).filter(|a| !a.is_empty());
                    c.set_alias(user, alias).await.map(|()| None)
                })
            }
            Intent::RemoveContact(user) => {
                self.with_client("Removing the contact", move |c| async move {
                    c.remove_contact(user).await.map(|()| None)
                });
            }
            Intent::Block(user) => {
                self.with_client("Blocking", move |c| async move { c.block(user).await.map(|()| None) })
            }
            Intent::Unblock(user) => {
                self.with_client("Unblocking", move |c| async move { c.unblock(user).await.map(|()| None) });
            }
            Intent::StartConversation { with, name } => {
                let internal = self.internal.clone();
                self.with_client("Starting the conversation", move |c| async move {
                    let conversation = c.start_conversation(&with).await?;
                    let _ = internal.send(Internal::Conversation { conversation, invited: Some(name) });
                    Ok(None)
                });
            }
            Intent::Invite { conversation, who } => {
                self.with_conversation(conversation, "Inviting", move |c| async move {
                    c.invite(who.trim()).await.map(drop)
                });
            }
            Intent::SendText { conversation, text, format } => {
                let sink = self.sink.clone();
                self.with_conversation(conversation, "Your message was not sent", move |c| async move {
                    if c.send_formatted(&text, format).await? == mocha_client::sb::Delivery::NotDelivered {
                        sink.send(BackendEvent::Info(
                            "Nobody else is in the conversation; your message waits for them as an activity alert.".into(),
                        ));
                    }
                    Ok(())
                });
            }
            Intent::SendTyping(conversation) => {
                self.with_conversation(conversation, "Typing", |c| async move { c.send_typing().await });
            }
            Intent::SendNudge(conversation) => {
                self.with_conversation(conversation, "The nudge was not sent", |c| async move {
                    c.send_nudge().await.map(drop)
                });
            }
            Intent::SendFile { conversation, path } => {
                let sink = self.sink.clone();
                self.with_conversation(conversation, "The file was not sent", move |c| async move {
                    let size = tokio::fs::metadata(&path).await.map(|m| m.len()).unwrap_or(0);
                    let transfer_id = c.send_file(&path, None).await?;
                    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
                    sink.send(BackendEvent::FileOffered { id: conversation, transfer_id, name, size });
                    Ok(())
                });
            }
            Intent::PickAndSendFile(conversation) => {
                let loopback = self.loopback.clone();
                // The dialog blocks its thread until the user chooses.
                std::thread::spawn(move || {
                    if let Some(path) = rfd::FileDialog::new().set_title("Send a file").pick_file() {
                        let _ = loopback.send(Intent::SendFile { conversation, path });
                    }
                });
            }
            Intent::ListFolder(folder) => {
                let sink = self.sink.clone();
                tokio::spawn(async move {
                    let asked = folder.clone();
                    let listing =
                        tokio::task::spawn_blocking(move || crate::file_picker::list_folder(&asked))
                            .await
                            .unwrap_or_else(|e| Err(e.to_string()));
                    sink.send(BackendEvent::FolderListed { folder, listing });
                });
            }
            Intent::AcceptFile { conversation, transfer_id, folder } => {
                self.with_conversation(conversation, "The file could not be received", move |c| async move {
                    tokio::fs::create_dir_all(&folder)
                        .await
                        .map_err(|source| mocha_client::Error::File { path: folder.clone(), source })?;
                    c.accept_file(&transfer_id, &folder).await.map(drop)
                });
            }
            Intent::DeclineFile { conversation, transfer_id } => {
                self.with_conversation(conversation, "Declining the file", move |c| async move {
                    c.decline_file(&transfer_id).await
                });
            }
            Intent::CancelTransfer { conversation, transfer_id } => {
                self.with_conversation(conversation, "Cancelling the transfer", move |c| async move {
                    c.cancel_transfer(&transfer_id).await
                });
            }
            Intent::Leave(conversation) => {
                if let Some(c) = self.conversations.remove(&conversation) {
                    tokio::spawn(async move { c.leave().await });
                }
            }
            Intent::PlaceCall(setup) => self.start_call(setup, None),
            Intent::AcceptCall { setup, caller, call_id } => self.start_call(setup, Some((caller, call_id))),
            Intent::DeclineCall { conversation, call_id } => {
                self.with_conversation(conversation, "Declining the call", move |c| async move {
                    c.decline_call(&call_id).await
                });
            }
            Intent::HangUp => match self.call.take() {
                Some(active) => {
                    tokio::spawn(async move { active.call.hang_up().await });
                }
                None => self.hang_up_early = true,
            },
            Intent::MuteCall(muted) => {
                if let Some(active) = &self.call {
                    let call = active.call.clone();
                    tokio::spawn(async move { call.set_muted(muted).await });
                }
            }
            Intent::CallCamera(on) => self.call_camera(on),
            Intent::SwitchCallDevices(devices) => self.switch_call_devices(devices),
            Intent::SaveOptions(options) => {
                if let Err(e) = self.file.save(&options) {
                    self.fail(
                        &format!("Your settings could not be saved to {}", self.file.path().display()),
                        e,
                    );
                }
            }
            Intent::DownloadUpdate(offer) => match &self.client {
                Some(client) => {
                    updater::download(client.passport().clone(), offer, &self.updates, self.sink.clone())
                }
                None => self.sink.send(BackendEvent::UpdateFailed("Sign in to download the update.".into())),
            },
            Intent::InstallUpdate(staged) => updater::install(staged, &self.updates, self.sink.clone()),
            Intent::ListDevices => {
                let sink = self.sink.clone();
                let fixed = self.devices.clone();
                tokio::spawn(async move {
                    let devices = match fixed {
                        Some(devices) => devices,
                        None => tokio::task::spawn_blocking(list_devices).await.unwrap_or_else(|e| {
                            DeviceLists { problems: vec![e.to_string()], ..DeviceLists::default() }
                        }),
                    };
                    sink.send(BackendEvent::Devices(devices));
                });
            }
            Intent::CheckServiceStatus(connection) => {
                let (sink, monitor) = (self.sink.clone(), self.monitor.clone());
                tokio::spawn(async move {
                    let report = service_status(&connection, monitor).await;
                    sink.send(BackendEvent::ServiceStatus(report));
                });
            }
            Intent::OpenFolder(path) => {
                let opened =
                    std::fs::create_dir_all(&path).and_then(|()| crate::platform::open_folder(&path));
                if let Err(e) = opened {
                    self.fail(&format!("Cannot open {}", path.display()), e);
                }
            }
        }
    }
}

impl Worker {
    /// Opens the devices Options chose (off the network threads: a sound server or a
    /// camera may take seconds) and places the call, or accepts `answer`'s.
    fn start_call(&mut self, setup: CallSetup, answer: Option<(UserId, String)>) {
        let id = setup.conversation;
        let Some(conversation) = self.conversations.get(&id).cloned() else {
            return self.sink.send(BackendEvent::CallFailed {
                conversation: id,
                reason: "the conversation has ended".into(),
            });
        };
        self.hang_up_early = false;
        let (media, sink, internal) = (self.media.clone(), self.sink.clone(), self.internal.clone());
        tokio::spawn(async move {
            let opening = setup.clone();
            let opened = tokio::task::spawn_blocking(move || {
                call_media::open_devices(
                    &*media,
                    &opening.devices,
                    opening.video,
                    &opening.pictures,
                    &opening.volume,
                )
            })
            .await;
            let opened = match opened {
                Ok(opened) => opened,
                Err(e) => {
                    let reason = format!("the devices could not be opened: {e}");
                    return sink.send(BackendEvent::CallFailed { conversation: id, reason });
                }
            };
            let options = CallOptions {
                video: setup.video,
                echo_cancellation: setup.devices.acoustic_echo_cancellation,
                noise_suppression: setup.devices.noise_suppression,
                ..CallOptions::default()
            };
            let placed = match &answer {
                None => conversation.place_call(options, opened.devices).await,
                Some((caller, call_id)) => {
                    conversation.accept_call(*caller, call_id, options, opened.devices).await
                }
            };
            let call = match placed {
                Ok(call) => call,
                Err(e) => {
                    return sink.send(BackendEvent::CallFailed { conversation: id, reason: e.to_string() });
                }
            };
            sink.send(BackendEvent::CallStarted {
                conversation: id,
                call_id: call.id().to_string(),
                problems: opened.problems,
            });
            follow_call(&call, id, sink, internal.clone());
            let _ = internal.send(Internal::CallReady(ActiveCall {
                call,
                camera_opened: setup.video,
                devices: setup.devices,
                pictures: setup.pictures,
                volume: setup.volume,
            }));
        });
    }

    /// Turns the camera on or off; a voice call opens the camera the first time.
    fn call_camera(&mut self, on: bool) {
        let Some(active) = &mut self.call else { return };
        let call = active.call.clone();
        let opening = (on && !active.camera_opened)
            .then(|| (self.media.clone(), active.devices.camera.clone(), active.pictures.clone()));
        active.camera_opened |= on;
        let sink = self.sink.clone();
        tokio::spawn(async move {
            if let Some((media, name, pictures)) = opening {
                let mut problems = Vec::new();
                let camera = tokio::task::spawn_blocking(move || {
                    let camera = call_media::open_camera(&*media, &name, &pictures, &mut problems);
                    (camera, problems)
                })
                .await;
                if let Ok((camera, problems)) = camera {
                    if !problems.is_empty() {
                        sink.send(BackendEvent::CallDeviceProblems(problems));
                    }
                    call.switch_device(DeviceSwitch::Camera(camera)).await;
                }
            }
            call.set_camera(on).await;
        });
    }

    /// Options changed during the call: the devices that changed are opened and put in.
    fn switch_call_devices(&mut self, devices: AudioVideoOptions) {
        let Some(active) = &mut self.call else { return };
        let old = std::mem::replace(&mut active.devices, devices.clone());
        let call = active.call.clone();
        let (pictures, volume) = (active.pictures.clone(), active.volume.clone());
        let camera = active.camera_opened && old.camera != devices.camera;
        let (media, sink) = (self.media.clone(), self.sink.clone());
        tokio::spawn(async move {
            let opened = tokio::task::spawn_blocking(move || {
                let mut problems = Vec::new();
                let mut switches = Vec::new();
                if old.microphone != devices.microphone {
                    let microphone = call_media::open_microphone(&*media, &devices.microphone, &mut problems);
                    switches.push(DeviceSwitch::Microphone(microphone));
                }
                if old.speakers != devices.speakers {
                    let speakers =
                        call_media::open_speakers(&*media, &devices.speakers, &volume, &mut problems);
                    switches.push(DeviceSwitch::Speaker(speakers));
                }
                if camera {
                    let camera = call_media::open_camera(&*media, &devices.camera, &pictures, &mut problems);
                    switches.push(DeviceSwitch::Camera(camera));
                }
                (switches, problems)
            })
            .await;
            let Ok((switches, problems)) = opened else { return };
            for switch in switches {
                call.switch_device(switch).await;
            }
            if !problems.is_empty() {
                sink.send(BackendEvent::CallDeviceProblems(problems));
            }
        });
    }
}

/// Tells the window of every change of the call, to its end.
fn follow_call(
    call: &Call,
    conversation: ConversationId,
    sink: Sink,
    internal: mpsc::UnboundedSender<Internal>,
) {
    let mut watch = call.watch();
    let id = call.id().to_string();
    tokio::spawn(async move {
        loop {
            let snapshot = watch.borrow_and_update().clone();
            let ended = matches!(snapshot.state, CallState::Ended(_));
            sink.send(BackendEvent::CallChanged { conversation, snapshot: Box::new(snapshot) });
            if ended {
                break;
            }
            if watch.changed().await.is_err() {
                // The driver is gone; its last word stands.
                let snapshot = watch.borrow().clone();
                sink.send(BackendEvent::CallChanged { conversation, snapshot: Box::new(snapshot) });
                break;
            }
        }
        let _ = internal.send(Internal::CallOver(id));
    });
}

/// The server's status page as data, through the same trust and proxy as a sign-in.
async fn service_status(connection: &Connection, monitor: ProtocolMonitor) -> Result<StatusReport, String> {
    let trust = trust(connection)?;
    let proxy = connection.proxy.to_proxy().map_err(|e| format!("Proxy settings: {e}"))?;
    let network = Network::new(trust).with_proxy(proxy).with_monitor(Some(monitor));
    let server = connection.server.trim().trim_end_matches('/');
    let passport = PassportClient::with_network(server, &network).map_err(|e| e.to_string())?;
    passport.status().await.map_err(|e| format!("The server at {server} did not answer: {e}"))
}

/// Polls the activity alerts and checks for an update, once signed in.
async fn after_sign_in(client: Client, sink: Sink, updates: Option<crate::intent::UpdateRequest>) {
    match client.poll_alerts().await {
        Ok(alerts) => sink.send(BackendEvent::Alerts(alerts)),
        Err(e) => tracing::warn!(%e, "cannot poll activity alerts"),
    }
    if let Some(request) = updates {
        updater::check(&client, &sink, request).await;
    }
}
