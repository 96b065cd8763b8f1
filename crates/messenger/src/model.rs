//! The app's state, apart from any window: what the sign-in form holds, what the
//! client knows (a [`ClientState`] snapshot), the conversations with their text (in
//! memory only), transfers, notices and the update offer. The backend's
//! [`BackendEvent`]s are applied here by pure functions, so all of it is unit-testable.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use mocha_client::api::{ActivityAlert, Build, PresenceStatus, StatusReport, SyncContact, UserId};
use mocha_client::proto::Status;
use mocha_client::proto::im::{CallCommand, CallMedia, TextFormat};
use mocha_client::sb::Participant;
use mocha_client::{ClientState, ConversationEvent, ConversationId, Event, TransferDirection, TransferEvent};
use time::OffsetDateTime;

use crate::call::{
    CallEnd, CallKind, CallPhase, CallSession, CallView, RING_EVERY, group_call_refusal, status_during_call,
};
use crate::devices::DeviceLists;
use crate::file_picker::{FilePicker, FolderListing};
use crate::intent::{CallSetup, Intent};
use crate::settings::{AlertRecord, ClientOptions, GroupBy, InitialStatus, SortBy};
use crate::sounds::Sound;

/// How long "X is typing…" stays up after their last typing signal.
pub const TYPING_SHOWN_FOR: Duration = Duration::from_secs(6);
/// How long a nudge shakes the window.
pub const NUDGE_SHAKE: Duration = Duration::from_millis(700);
/// How long "remind me later" puts off an update.
pub const UPDATE_REMIND_AFTER: time::Duration = time::Duration::days(1);

/// What the backend tells the app.
#[derive(Debug)]
pub enum BackendEvent {
    /// Whether remembered sign-in can be offered (the OS secret store answered).
    SecretStore(Result<(), String>),
    /// A remembered sign-in exists for this server and address.
    Remembered {
        address: String,
        present: bool,
    },
    SignInFailed(String),
    SignedIn(ClientState),
    /// A push from the client, with the state after it.
    Client(Event, ClientState),
    /// The client's state after something we asked for (our status).
    State(ClientState),
    ConversationOpened {
        id: ConversationId,
        participants: Vec<Participant>,
        invited: Option<String>,
    },
    FileOffered {
        id: ConversationId,
        transfer_id: String,
        name: String,
        size: u64,
    },
    Alerts(Vec<ActivityAlert>),
    UpdateAvailable(Build),
    /// The offered update has a file for this platform: it can be downloaded here.
    UpdateDownloadable {
        server: String,
        offer: mocha_client::updates::Offer,
    },
    UpdateProgress {
        done: u64,
        total: u64,
    },
    /// Downloaded and verified, at this path.
    UpdateReady(PathBuf),
    UpdateFailed(String),
    /// The new build is in place; `restarting` when it is being started now.
    UpdateInstalled {
        restarting: bool,
    },
    /// The session is over; back to the sign-in window with this message.
    SignedOut(Option<String>),
    /// Something the user asked for failed.
    Failed(String),
    /// Something worth a line in the main window (request sent, saved, …).
    Info(String),
    /// The audio and video devices on this machine.
    Devices(DeviceLists),
    /// The server's own account of its services, or why it could not be had.
    ServiceStatus(Result<StatusReport, String>),
    /// Whether the system file dialog can be shown (else the app's own picker), and the
    /// places that picker offers.
    FileDialog {
        native: Result<(), String>,
        places: Vec<(String, PathBuf)>,
    },
    /// What a folder holds, for the app's own file picker.
    FolderListed {
        folder: PathBuf,
        listing: Result<FolderListing, String>,
    },
    /// Our call was placed (it rings at the other side), or theirs accepted.
    CallStarted {
        conversation: ConversationId,
        call_id: String,
        /// Devices that could not be opened (the call goes on without them).
        problems: Vec<String>,
    },
    /// The call changed: state, the other side's mute and camera, statistics.
    CallChanged {
        conversation: ConversationId,
        snapshot: Box<mocha_client::CallSnapshot>,
    },
    /// The call could not be placed or accepted.
    CallFailed {
        conversation: ConversationId,
        reason: String,
    },
    /// Devices switched during the call that could not be opened.
    CallDeviceProblems(Vec<String>),
}

/// Something to tell the person outside the window, as their options allow.
#[derive(Clone, Debug, PartialEq)]
pub enum Cue {
    Sound(Sound),
    /// A desktop notification; `conversation` is the one it is about, if any.
    Toast {
        title: String,
        body: String,
        conversation: Option<ConversationId>,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Screen {
    SignIn,
    SigningIn,
    Main,
}

#[derive(Clone, Debug, PartialEq)]
pub struct SignInForm {
    pub address: String,
    pub password: String,
    pub status: InitialStatus,
    pub error: Option<String>,
    /// A remembered sign-in exists for the address in the form.
    pub remembered: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub enum SecretStoreState {
    Probing,
    Available,
    Unavailable(String),
}

#[derive(Clone, Debug, PartialEq)]
pub enum ChatLine {
    Text {
        from: String,
        mine: bool,
        text: String,
        format: TextFormat,
        at: OffsetDateTime,
    },
    /// Joins, leaves, nudges, transfers, failures.
    Note {
        text: String,
        at: OffsetDateTime,
    },
}

#[derive(Clone, Debug, PartialEq)]
pub enum TransferState {
    /// Offered to us: accept or decline.
    Offered,
    /// Offered by us: waiting for them.
    Waiting,
    Moving {
        done: u64,
    },
    Done {
        path: Option<PathBuf>,
    },
    Declined,
    Cancelled,
    Failed(String),
}

#[derive(Clone, Debug, PartialEq)]
pub struct TransferView {
    pub id: String,
    pub name: String,
    pub size: u64,
    pub direction: TransferDirection,
    pub peer: String,
    pub state: TransferState,
}

impl TransferView {
    pub fn fraction(&self) -> f32 {
        match &self.state {
            TransferState::Moving { done } if self.size > 0 => (*done as f64 / self.size as f64) as f32,
            TransferState::Done { .. } => 1.0,
            _ => 0.0,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct ConversationView {
    pub id: ConversationId,
    pub participants: Vec<Participant>,
    /// Who was invited when the window opened (shown until they join).
    pub invited: Option<String>,
    pub lines: Vec<ChatLine>,
    pub transfers: Vec<TransferView>,
    /// Who is typing, with when we last heard.
    pub typing: BTreeMap<UserId, (String, OffsetDateTime)>,
    pub nudged_at: Option<OffsetDateTime>,
    pub ended: bool,
    pub draft: String,
    pub invite_draft: String,
    pub open: bool,
    /// When we last told them we are typing.
    pub typing_sent_at: Option<OffsetDateTime>,
    /// The app's own "Send a file" picker, while open.
    pub picker: Option<FilePicker>,
    /// The window should ask for the person's attention (a call rings).
    pub attention: bool,
}

impl ConversationView {
    pub fn new(id: ConversationId, participants: Vec<Participant>, invited: Option<String>) -> Self {
        Self {
            id,
            participants,
            invited,
            lines: Vec::new(),
            transfers: Vec::new(),
            typing: BTreeMap::new(),
            nudged_at: None,
            ended: false,
            draft: String::new(),
            invite_draft: String::new(),
            open: true,
            typing_sent_at: None,
            picker: None,
            attention: false,
        }
    }

    /// The window title: the names of the others.
    pub fn title(&self) -> String {
        let names: Vec<&str> = self.participants.iter().map(|p| p.display_name.as_str()).collect();
        match (names.is_empty(), &self.invited) {
            (false, _) => format!("{} - Conversation", names.join(", ")),
            (true, Some(who)) => format!("{who} - Conversation"),
            (true, None) => "Conversation".to_string(),
        }
    }

    /// "Bob is typing…", or `None`.
    pub fn typing_line(&self, now: OffsetDateTime) -> Option<String> {
        let names: Vec<&str> = self
            .typing
            .values()
            .filter(|(_, at)| now - *at < TYPING_SHOWN_FOR)
            .map(|(name, _)| name.as_str())
            .collect();
        match names.as_slice() {
            [] => None,
            [one] => Some(format!("{one} is typing…")),
            many => Some(format!("{} are typing…", many.join(", "))),
        }
    }

    /// Opens the app's own file picker at `folder`; returns the folder to list.
    pub fn open_picker(&mut self, folder: PathBuf) -> PathBuf {
        self.picker = Some(FilePicker::new(folder.clone()));
        folder
    }

    /// How far to shift the window for the nudge's shake now (zero when still).
    pub fn shake_offset(&self, now: OffsetDateTime) -> f32 {
        match self.nudged_at {
            Some(at) if now - at < NUDGE_SHAKE => {
                let t = (now - at).as_seconds_f32();
                (t * 60.0).sin() * 10.0 * (1.0 - t / NUDGE_SHAKE.as_secs_f32())
            }
            _ => 0.0,
        }
    }

    fn note(&mut self, text: impl Into<String>, at: OffsetDateTime) {
        self.lines.push(ChatLine::Note { text: text.into(), at });
    }

    fn name_of(&self, user: UserId) -> String {
        self.participants
            .iter()
            .find(|p| p.user_id == user)
            .map(|p| p.display_name.clone())
            .unwrap_or_else(|| user.to_string())
    }

    fn transfer(&mut self, id: &str) -> Option<&mut TransferView> {
        self.transfers.iter_mut().find(|t| t.id == id)
    }
}

/// An update offered at sign-in.
#[derive(Clone, Debug, PartialEq)]
pub struct UpdateOffer {
    pub build: Build,
    /// Set when this platform's build can be downloaded and verified here; otherwise
    /// the banner links to the download page.
    pub download: Option<mocha_client::updates::Offer>,
    pub stage: UpdateStage,
}

/// Where an update is, for the banner.
#[derive(Clone, Debug, PartialEq)]
pub enum UpdateStage {
    Offered,
    Downloading { done: u64, total: u64 },
    Ready(PathBuf),
    Failed(String),
    Installed { restarting: bool },
}

/// A line in the main window: notices from the operators and what happened.
#[derive(Clone, Debug, PartialEq)]
pub struct Notice {
    pub text: String,
    pub at: OffsetDateTime,
    pub service: bool,
}

pub struct AppModel {
    pub screen: Screen,
    pub form: SignInForm,
    pub secret_store: SecretStoreState,
    pub state: Option<ClientState>,
    pub conversations: BTreeMap<ConversationId, ConversationView>,
    pub notices: Vec<Notice>,
    pub update: Option<UpdateOffer>,
    pub options: ClientOptions,
    /// Set when `options` changed and must be written.
    pub options_dirty: bool,
    /// Alerts polled this session, shown in the alert history with the kept ones.
    pub personal_message_draft: String,
    /// The devices the options offer; `None` until listed.
    pub devices: Option<DeviceLists>,
    /// Sounds and desktop notifications not yet given out.
    pub cues: Vec<Cue>,
    /// The last answer to Help › Service status; `None` while asking.
    pub service_status: Option<Result<StatusReport, String>>,
    /// Whether "Send a file…" can use the system's dialog; `None` while asking.
    pub file_dialog: Option<Result<(), String>>,
    /// Home, Documents… for the app's own picker.
    pub places: Vec<(String, PathBuf)>,
    /// Where the app's own picker was last used (it opens there next time).
    pub last_pick_folder: Option<PathBuf>,
    /// The call, ringing or live (one at a time).
    pub call: Option<CallSession>,
    /// A call asked for from the contact list, placed once the conversation has them.
    pub pending_call: Option<(UserId, CallKind)>,
    /// Intents the model itself decided on (declining a call it must refuse, the
    /// status during a call); the app sends them.
    pub outbox: Vec<Intent>,
}

impl AppModel {
    pub fn new(options: ClientOptions) -> Self {
        let address = if options.sign_in.remember_me {
            options.sign_in.recent_addresses.first().cloned().unwrap_or_default()
        } else {
            String::new()
        };
        let form = SignInForm {
            address,
            password: String::new(),
            status: options.sign_in.initial_status,
            error: None,
            remembered: false,
        };
        Self {
            screen: Screen::SignIn,
            form,
            secret_store: SecretStoreState::Probing,
            state: None,
            conversations: BTreeMap::new(),
            notices: Vec::new(),
            update: None,
            options,
            options_dirty: false,
            personal_message_draft: String::new(),
            devices: None,
            cues: Vec::new(),
            service_status: None,
            file_dialog: None,
            places: Vec::new(),
            last_pick_folder: None,
            call: None,
            pending_call: None,
            outbox: Vec::new(),
        }
    }

    pub fn notice(&mut self, text: impl Into<String>, service: bool) {
        self.notices.push(Notice { text: text.into(), at: OffsetDateTime::now_utc(), service });
        let excess = self.notices.len().saturating_sub(50);
        self.notices.drain(..excess);
    }

    /// Where the app's own file picker opens: where it was last used, else the first
    /// place (the home folder), else the root.
    pub fn picker_start(&self) -> PathBuf {
        self.last_pick_folder
            .clone()
            .or_else(|| self.places.first().map(|(_, path)| path.clone()))
            .unwrap_or_else(|| PathBuf::from("/"))
    }

    pub fn my_id(&self) -> Option<UserId> {
        self.state.as_ref().map(|s| s.account.id)
    }

    /// Applies what the backend said.
    pub fn apply(&mut self, event: BackendEvent) {
        let now = OffsetDateTime::now_utc();
        match event {
            BackendEvent::SecretStore(Ok(())) => self.secret_store = SecretStoreState::Available,
            BackendEvent::SecretStore(Err(reason)) => {
                self.secret_store = SecretStoreState::Unavailable(reason);
            }
            BackendEvent::Remembered { address, present } => {
                if address.eq_ignore_ascii_case(&self.form.address) {
                    self.form.remembered = present;
                }
            }
            BackendEvent::SignInFailed(message) => {
                self.screen = Screen::SignIn;
                self.form.error = Some(message);
            }
            BackendEvent::SignedIn(state) => {
                self.screen = Screen::Main;
                self.form.password.clear();
                self.form.error = None;
                self.options.sign_in.remember_address(&state.account.username);
                self.options.sign_in.initial_status = self.form.status;
                self.personal_message_draft = state.personal_message.clone();
                self.mirror_blocks(&state);
                self.state = Some(state);
                self.options_dirty = true;
            }
            BackendEvent::Client(event, state) => {
                self.on_client_event(event, now);
                self.mirror_blocks(&state);
                self.state = Some(state);
            }
            BackendEvent::State(state) => {
                if self.state.is_some() {
                    self.mirror_blocks(&state);
                    self.state = Some(state);
                }
            }
            BackendEvent::ConversationOpened { id, participants, invited } => {
                self.conversations.insert(id, ConversationView::new(id, participants, invited));
            }
            BackendEvent::FileOffered { id, transfer_id, name, size } => {
                if let Some(c) = self.conversations.get_mut(&id) {
                    let peer = c.participants.first().map(|p| p.display_name.clone()).unwrap_or_default();
                    c.note(format!("You offered {name} ({}).", human_size(size)), now);
                    c.transfers.push(TransferView {
                        id: transfer_id,
                        name,
                        size,
                        direction: TransferDirection::Sending,
                        peer,
                        state: TransferState::Waiting,
                    });
                }
            }
            BackendEvent::Alerts(alerts) => {
                for alert in &alerts {
                    self.notice(
                        format!("While you were away, {} said: {}", alert.sender.display_name, alert.text),
                        false,
                    );
                }
                if !alerts.is_empty() {
                    self.options.record_alerts(alerts.into_iter().map(|a| AlertRecord {
                        id: a.id,
                        kind: a.kind,
                        sender_id: a.sender.id.to_string(),
                        sender_name: a.sender.display_name,
                        text: a.text,
                        received_at: rfc3339(a.created_at),
                        unknown: Default::default(),
                    }));
                    self.options_dirty = true;
                }
            }
            BackendEvent::UpdateAvailable(build) => {
                if !self.update_deferred(&build.version, now) {
                    self.update = Some(UpdateOffer { build, download: None, stage: UpdateStage::Offered });
                }
            }
            BackendEvent::UpdateDownloadable { server, offer } => {
                let pins = &mut self.options.updates.release_keys;
                if let std::collections::btree_map::Entry::Vacant(pin) = pins.entry(server) {
                    pin.insert(offer.release_key.clone());
                    self.options_dirty = true;
                }
                if let Some(update) = self.update.as_mut().filter(|u| u.build.version == offer.file.version) {
                    update.download = Some(offer);
                }
            }
            BackendEvent::UpdateProgress { done, total } => {
                self.set_update_stage(UpdateStage::Downloading { done, total })
            }
            BackendEvent::UpdateReady(path) => self.set_update_stage(UpdateStage::Ready(path)),
            BackendEvent::UpdateFailed(why) => self.set_update_stage(UpdateStage::Failed(why)),
            BackendEvent::UpdateInstalled { restarting } => {
                self.set_update_stage(UpdateStage::Installed { restarting })
            }
            BackendEvent::SignedOut(message) => {
                self.screen = Screen::SignIn;
                self.state = None;
                self.update = None;
                for conversation in self.conversations.values_mut() {
                    conversation.ended = true;
                }
                self.conversations.clear();
                self.call = None;
                self.pending_call = None;
                self.form.error = message;
            }
            BackendEvent::Failed(message) => self.notice(message, false),
            BackendEvent::Info(message) => self.notice(message, false),
            BackendEvent::Devices(devices) => self.devices = Some(devices),
            BackendEvent::FileDialog { native, places } => {
                self.file_dialog = Some(native);
                self.places = places;
            }
            BackendEvent::FolderListed { folder, listing } => {
                for picker in self.conversations.values_mut().filter_map(|c| c.picker.as_mut()) {
                    picker.listed(&folder, listing.clone());
                }
            }
            BackendEvent::ServiceStatus(report) => self.service_status = Some(report),
            BackendEvent::CallStarted { conversation, call_id, problems } => {
                if let Some(call) = self.call.as_mut().filter(|c| c.conversation == conversation) {
                    call.call_id = Some(call_id);
                    call.view.device_problems.extend(problems);
                }
            }
            BackendEvent::CallChanged { conversation, snapshot } => {
                let Some(call) = self.call.as_mut().filter(|c| c.conversation == conversation) else {
                    return;
                };
                let was_connected = matches!(call.view.phase, CallPhase::Connected { .. });
                let ended = call.apply(&snapshot);
                if !was_connected && matches!(call.view.phase, CallPhase::Connected { .. }) {
                    self.on_the_phone();
                }
                if let Some(end) = ended {
                    self.end_call(end, now);
                }
            }
            BackendEvent::CallFailed { conversation, reason } => {
                if self.call.as_ref().is_some_and(|c| c.conversation == conversation) {
                    self.end_call(CallEnd::Failed(reason), now);
                }
            }
            BackendEvent::CallDeviceProblems(problems) => {
                if let Some(call) = &mut self.call {
                    call.view.device_problems.extend(problems);
                }
            }
        }
    }

    /// "Call" or "Video call" in a conversation: rings the one other person there.
    /// Refused (with a note saying why) in a group, or while another call is on.
    pub fn start_call(&mut self, id: ConversationId, kind: CallKind) {
        let now = OffsetDateTime::now_utc();
        if self.call.is_some() {
            self.notice("You are already in a call: hang up first.", false);
            return;
        }
        let Some(c) = self.conversations.get_mut(&id) else { return };
        if let Some(refusal) = group_call_refusal(c.participants.len()) {
            c.note(refusal, now);
            return;
        }
        let Some(other) = c.participants.first().cloned() else {
            c.note("Nobody else is in the conversation yet: wait for them to join, then call.", now);
            return;
        };
        let view = CallView::new(kind, other.display_name.clone(), false);
        let session = CallSession::new(id, other.user_id, view);
        self.outbox.push(Intent::PlaceCall(self.call_setup(&session, kind == CallKind::Video)));
        self.call = Some(session);
    }

    /// "Call" from a contact's menu: in the open conversation with them, else once a
    /// new one has them (the app starts it).
    pub fn call_contact(&mut self, user: UserId, kind: CallKind) -> bool {
        let with_them = self
            .conversations
            .values()
            .find(|c| !c.ended && matches!(c.participants.as_slice(), [only] if only.user_id == user));
        match with_them.map(|c| c.id) {
            Some(id) => {
                self.start_call(id, kind);
                if let Some(c) = self.conversations.get_mut(&id) {
                    c.open = true;
                }
                true
            }
            None => {
                self.pending_call = Some((user, kind));
                false
            }
        }
    }

    fn call_setup(&self, session: &CallSession, video: bool) -> CallSetup {
        CallSetup {
            conversation: session.conversation,
            video,
            devices: self.options.audio_video.clone(),
            pictures: session.pictures.clone(),
            volume: session.volume.clone(),
        }
    }

    /// "Accept" or "Accept with video" on a ringing call.
    pub fn accept_call(&mut self, video: bool) {
        let Some(call) = self.call.as_ref().filter(|c| c.is_ringing_here()) else { return };
        let Some(call_id) = call.call_id.clone() else { return };
        let intent =
            Intent::AcceptCall { setup: self.call_setup(call, video), caller: call.other_id, call_id };
        self.outbox.push(intent);
        if let Some(call) = &mut self.call {
            call.view.phase = CallPhase::Connecting;
            call.view.kind = if video { CallKind::Video } else { call.view.kind };
            call.view.camera_on = video;
        }
    }

    /// "Decline" on a ringing call (closing its window does the same).
    pub fn decline_call(&mut self) {
        let Some(call) = self.call.as_ref().filter(|c| c.is_ringing_here()) else { return };
        if let Some(call_id) = call.call_id.clone() {
            self.outbox.push(Intent::DeclineCall { conversation: call.conversation, call_id });
        }
        self.end_call(CallEnd::Declined { by_them: false }, OffsetDateTime::now_utc());
    }

    /// "Hang up" (or closing the call window): declines a call ringing here, else ends it.
    pub fn hang_up(&mut self) {
        match &self.call {
            Some(call) if call.is_ringing_here() => self.decline_call(),
            Some(call) if !matches!(call.view.phase, CallPhase::Ended(_)) => {
                self.outbox.push(Intent::HangUp);
                // The backend's last snapshot says how it ended; until then it is ending.
                if let Some(call) = &mut self.call {
                    call.view.phase = CallPhase::Ended(CallEnd::HungUp { by_them: false });
                }
            }
            _ => {}
        }
    }

    /// Sounds the ring again while a call waits for us.
    pub fn ring_again(&mut self, now: std::time::Instant) {
        let due = self.call.as_ref().is_some_and(|c| {
            c.is_ringing_here() && c.rang_at.is_none_or(|at| now.duration_since(at) >= RING_EVERY)
        });
        if due {
            if let Some(call) = &mut self.call {
                call.rang_at = Some(now);
            }
            self.sound(Sound::Ring, |_| true);
        }
    }

    /// Whether a call is ringing or on (auto-away waits for it to end).
    pub fn in_call(&self) -> bool {
        self.call.is_some()
    }

    /// "On the phone" for the call, if the option says so and we were plainly Online.
    fn on_the_phone(&mut self) {
        let Some(current) = self.state.as_ref().map(|s| s.status) else { return };
        if let Some(status) = status_during_call(self.options.general.on_the_phone_in_calls, current)
            && let Some(call) = &mut self.call
        {
            call.status_before = Some(current);
            self.outbox.push(Intent::SetStatus(status));
        }
    }

    /// The call is over: a note in its conversation, a missed call kept in the alert
    /// history, and the status it changed put back.
    fn end_call(&mut self, end: CallEnd, now: OffsetDateTime) {
        let Some(call) = self.call.take() else { return };
        let note = end.note(call.view.kind, &call.view.other);
        if let Some(c) = self.conversations.get_mut(&call.conversation) {
            c.note(note.clone(), now);
        }
        if end.is_missed_call() {
            self.notice(note.clone(), false);
            self.cues.push(Cue::Toast {
                title: "Missed call".into(),
                body: note.clone(),
                conversation: Some(call.conversation),
            });
            self.options.record_alerts([AlertRecord {
                id: format!("missed-{}", call.call_id.as_deref().unwrap_or("call")),
                kind: "missed_call".into(),
                sender_id: call.other_id.to_string(),
                sender_name: call.view.other.clone(),
                text: note,
                received_at: rfc3339(now),
                unknown: Default::default(),
            }]);
            self.options_dirty = true;
        }
        if let Some(before) = call.status_before
            && self.state.as_ref().is_some_and(|s| s.status == Status::OnThePhone)
        {
            self.outbox.push(Intent::SetStatus(before));
        }
    }

    /// An invitation to a call: rings here, or is declined with a note when it cannot
    /// be taken (another call is on; a group conversation).
    fn on_call_invite(
        &mut self,
        id: ConversationId,
        from: Participant,
        call_id: String,
        video: bool,
        now: OffsetDateTime,
    ) {
        let kind = if video { CallKind::Video } else { CallKind::Voice };
        let Some(c) = self.conversations.get_mut(&id) else { return };
        let refusal = if self.call.is_some() {
            Some(format!(
                "{} called while you were in another call; the call was declined.",
                from.display_name
            ))
        } else {
            group_call_refusal(c.participants.len())
                .map(|why| format!("{} tried to call this conversation. {why}", from.display_name))
        };
        if let Some(refusal) = refusal {
            c.note(refusal, now);
            self.outbox.push(Intent::DeclineCall { conversation: id, call_id });
            return;
        }
        c.note(format!("{} is calling you.", from.display_name), now);
        c.open = true;
        c.attention = true;
        let mut session =
            CallSession::new(id, from.user_id, CallView::new(kind, from.display_name.clone(), true));
        session.call_id = Some(call_id);
        self.call = Some(session);
        let what = if video { "video call" } else { "call" };
        self.cues.push(Cue::Toast {
            title: format!("Incoming {what}"),
            body: format!("{} is calling you.", from.display_name),
            conversation: Some(id),
        });
        self.ring_again(std::time::Instant::now());
    }

    /// Blocked contact ids, mirrored into the settings as the privacy policy says.
    fn mirror_blocks(&mut self, state: &ClientState) {
        let mut ids: Vec<String> = state.blocks.iter().map(|b| b.user.id.to_string()).collect();
        ids.extend(state.contacts.iter().filter(|c| c.blocked).map(|c| c.user.id.to_string()));
        ids.sort();
        ids.dedup();
        if ids != self.options.blocked_contact_ids {
            self.options.blocked_contact_ids = ids;
            self.options_dirty = true;
        }
    }

    fn on_client_event(&mut self, event: Event, now: OffsetDateTime) {
        match event {
            Event::Notice(text) if self.options.notifications.show_service_notices => self.notice(text, true),
            Event::Disconnected { reason, retry_in, .. } => {
                self.notice(
                    format!("Connection lost ({reason}); retrying in {}s.", retry_in.as_secs().max(1)),
                    false,
                );
            }
            Event::Presence { user, presence: Some(_) } => {
                let was_offline =
                    self.state.as_ref().and_then(|s| s.contact(user)).is_some_and(|c| c.presence.is_none());
                if was_offline {
                    let name = self
                        .state
                        .as_ref()
                        .and_then(|s| s.contact(user))
                        .map(contact_name)
                        .unwrap_or_default();
                    let line = format!("{name} has just signed in.");
                    if self.options.notifications.contact_signs_in {
                        self.notice(line.clone(), false);
                        self.toast(line, None);
                    }
                    self.sound(Sound::ContactSignedIn, |n| n.sound_on_contact_signs_in);
                }
            }
            Event::Conversation { id, event } => self.on_conversation_event(id, event, now),
            _ => {}
        }
    }

    fn on_conversation_event(&mut self, id: ConversationId, event: ConversationEvent, now: OffsetDateTime) {
        self.cue_for(id, &event);
        let Some(c) = self.conversations.get_mut(&id) else { return };
        match event {
            ConversationEvent::Joined(participant) => {
                c.note(format!("{} has joined the conversation.", participant.display_name), now);
                if !c.participants.iter().any(|p| p.user_id == participant.user_id) {
                    c.participants.push(participant.clone());
                }
                // The call asked for from the contact list, now that they are here.
                if let Some((user, kind)) = self.pending_call
                    && user == participant.user_id
                {
                    self.pending_call = None;
                    self.start_call(id, kind);
                }
            }
            ConversationEvent::Left { user, .. } => {
                let name = c.name_of(user);
                c.note(format!("{name} has left the conversation."), now);
                c.participants.retain(|p| p.user_id != user);
                c.typing.remove(&user);
            }
            ConversationEvent::Text { from, text, format } => {
                c.typing.remove(&from.user_id);
                c.lines.push(ChatLine::Text { from: from.display_name, mine: false, text, format, at: now });
                c.open = true;
            }
            ConversationEvent::Typing { from } => {
                c.typing.insert(from.user_id, (from.display_name, now));
            }
            ConversationEvent::Nudge { from } => {
                c.note(format!("{} has just sent you a nudge.", from.display_name), now);
                c.nudged_at = Some(now);
                c.open = true;
            }
            ConversationEvent::FileOffered { from, offer } => {
                c.note(
                    format!(
                        "{} wants to send you {} ({}).",
                        from.display_name,
                        offer.name,
                        human_size(offer.size)
                    ),
                    now,
                );
                c.transfers.push(TransferView {
                    id: offer.transfer_id,
                    name: offer.name,
                    size: offer.size,
                    direction: TransferDirection::Receiving,
                    peer: from.display_name,
                    state: TransferState::Offered,
                });
                c.open = true;
            }
            ConversationEvent::Transfer(transfer) => on_transfer(c, transfer, now),
            ConversationEvent::Invitation { from, application, .. } => {
                c.note(
                    format!(
                        "{} sent an invitation ({application}) this version cannot open.",
                        from.display_name
                    ),
                    now,
                );
            }
            ConversationEvent::Call { from, control } => match control.command {
                CallCommand::Invite => {
                    let video = control.media == Some(CallMedia::Video);
                    self.on_call_invite(id, from, control.call_id, video, now);
                }
                // Theirs stopped ringing before we answered: a missed call.
                CallCommand::Cancel => {
                    let ringing = self.call.as_ref().is_some_and(|call| {
                        call.is_ringing_here() && call.call_id.as_deref() == Some(control.call_id.as_str())
                    });
                    if ringing {
                        self.end_call(CallEnd::Missed { incoming: true }, now);
                    }
                }
                // The call's driver follows the rest.
                _ => {}
            },
            ConversationEvent::Refused(reply) => c.note(format!("Not delivered: {}", reply.reason), now),
            ConversationEvent::Ended { .. } => {
                c.ended = true;
                c.note("The conversation has ended.", now);
                let ringing_here =
                    self.call.as_ref().is_some_and(|call| call.conversation == id && call.is_ringing_here());
                if ringing_here {
                    self.end_call(CallEnd::Missed { incoming: true }, now);
                }
            }
            ConversationEvent::Media { .. }
            | ConversationEvent::CallRelay(_)
            | ConversationEvent::Other { .. } => {}
        }
    }

    /// The sound and pop-up a conversation event deserves, if the options want them.
    fn cue_for(&mut self, id: ConversationId, event: &ConversationEvent) {
        if !self.conversations.contains_key(&id) {
            return;
        }
        match event {
            ConversationEvent::Text { from, text, .. } => {
                self.toast_about(id, format!("{} says:", from.display_name), text.clone());
                self.sound(Sound::Message, |n| n.sound_on_message);
            }
            ConversationEvent::Nudge { from } => {
                self.toast_about(id, from.display_name.clone(), "has just sent you a nudge.".into());
                self.sound(Sound::Nudge, |n| n.sound_on_nudge);
            }
            ConversationEvent::FileOffered { from, offer } => {
                self.toast_about(id, from.display_name.clone(), format!("wants to send you {}.", offer.name));
                self.sound(Sound::FileReceived, |n| n.sound_on_message);
            }
            _ => {}
        }
    }

    fn toast_about(&mut self, id: ConversationId, title: String, body: String) {
        if self.options.notifications.message_received {
            self.cues.push(Cue::Toast { title, body, conversation: Some(id) });
        }
    }

    fn toast(&mut self, body: String, conversation: Option<ConversationId>) {
        self.cues.push(Cue::Toast { title: "Mocha Messenger".into(), body, conversation });
    }

    fn sound(&mut self, sound: Sound, wanted: impl Fn(&crate::settings::NotificationOptions) -> bool) {
        let n = &self.options.notifications;
        if n.play_sounds && wanted(n) {
            self.cues.push(Cue::Sound(sound));
        }
    }

    /// Records our own line in a conversation (shown at once; a failure adds a notice later).
    pub fn record_sent_in(&self, view: &mut ConversationView, text: &str, format: TextFormat) {
        let name = self.state.as_ref().map(|s| s.account.display_name.clone()).unwrap_or_default();
        view.lines.push(ChatLine::Text {
            from: name,
            mine: true,
            text: text.to_string(),
            format,
            at: OffsetDateTime::now_utc(),
        });
    }

    /// Whether "remind me later" still holds for `version`.
    pub fn update_deferred(&self, version: &str, now: OffsetDateTime) -> bool {
        let updates = &self.options.updates;
        updates.deferred_version.as_deref() == Some(version)
            && updates
                .remind_after
                .as_deref()
                .and_then(|t| OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339).ok())
                .is_some_and(|after| now < after)
    }

    /// "Download" was clicked: the bar shows at once, before the first bytes arrive.
    pub fn update_stage_downloading(&mut self, total: u64) {
        self.set_update_stage(UpdateStage::Downloading { done: 0, total });
    }

    fn set_update_stage(&mut self, stage: UpdateStage) {
        if let Some(update) = self.update.as_mut() {
            update.stage = stage;
        }
    }

    /// "Remind me later": hides the offer and remembers it in the settings.
    pub fn defer_update(&mut self, now: OffsetDateTime) {
        if let Some(offer) = self.update.take() {
            self.options.updates.deferred_version = Some(offer.build.version);
            self.options.updates.remind_after = Some(rfc3339(now + UPDATE_REMIND_AFTER));
            self.options_dirty = true;
        }
    }

    /// The contact list as drawn: groups in order, each with its contacts sorted.
    pub fn contact_groups(&self) -> Vec<(String, Vec<SyncContact>)> {
        let Some(state) = &self.state else { return Vec::new() };
        let list = &self.options.contacts;
        let mut contacts: Vec<SyncContact> = state.contacts.clone();
        match list.sort_by {
            SortBy::Name => contacts.sort_by_key(|c| contact_name(c).to_lowercase()),
            SortBy::Status => contacts.sort_by_key(|c| (status_rank(c), contact_name(c).to_lowercase())),
        }
        let mut groups: Vec<(String, Vec<SyncContact>)> = Vec::new();
        let mut push = |name: &str, contact: SyncContact| match groups.iter_mut().find(|(n, _)| n == name) {
            Some((_, members)) => members.push(contact),
            None => groups.push((name.to_string(), vec![contact])),
        };
        match list.group_by {
            GroupBy::Status => {
                for contact in contacts {
                    let online = contact.presence.is_some();
                    if online || list.show_offline {
                        push(if online { "Online" } else { "Offline" }, contact);
                    }
                }
                groups.sort_by_key(|(name, _)| name != "Online");
            }
            GroupBy::Groups => {
                for contact in contacts {
                    if contact.presence.is_none() && !list.show_offline {
                        continue;
                    }
                    let group =
                        list.group_of(&contact.user.id.to_string()).unwrap_or("Other contacts").to_string();
                    push(&group, contact);
                }
                let order: Vec<&str> = list.groups.iter().map(|g| g.name.as_str()).collect();
                groups.sort_by_key(|(name, _)| order.iter().position(|g| g == name).unwrap_or(usize::MAX));
            }
        }
        groups
    }
}

fn on_transfer(c: &mut ConversationView, event: TransferEvent, now: OffsetDateTime) {
    let (id, state, note) = match event {
        TransferEvent::Accepted { transfer_id } => (transfer_id, TransferState::Moving { done: 0 }, None),
        TransferEvent::Declined { transfer_id } => {
            (transfer_id, TransferState::Declined, Some("was declined"))
        }
        TransferEvent::Cancelled { transfer_id } => {
            (transfer_id, TransferState::Cancelled, Some("was cancelled"))
        }
        TransferEvent::Progress { transfer_id, done, .. } => {
            (transfer_id, TransferState::Moving { done }, None)
        }
        TransferEvent::Completed { transfer_id, path, .. } => {
            (transfer_id, TransferState::Done { path }, Some("is complete"))
        }
        TransferEvent::Failed { transfer_id, reason, .. } => {
            let t = c.transfer(&transfer_id).map(|t| t.name.clone()).unwrap_or_default();
            c.note(format!("The transfer of {t} failed: {reason}"), now);
            (transfer_id, TransferState::Failed(reason), None)
        }
    };
    if let Some(transfer) = c.transfer(&id) {
        transfer.state = state;
        let line = note.map(|n| format!("The transfer of {} {n}.", transfer.name));
        if let Some(line) = line {
            c.note(line, now);
        }
    }
}

/// The alias if one is set, else the display name.
pub fn contact_name(contact: &SyncContact) -> String {
    contact
        .alias
        .clone()
        .filter(|a| !a.is_empty())
        .or_else(|| contact.presence.as_ref().map(|p| p.display_name.clone()))
        .unwrap_or_else(|| contact.user.display_name.clone())
}

fn status_rank(contact: &SyncContact) -> u8 {
    match contact.presence.as_ref().map(|p| p.status) {
        Some(PresenceStatus::Online) => 0,
        Some(PresenceStatus::Busy) => 1,
        Some(PresenceStatus::BeRightBack) => 2,
        Some(PresenceStatus::Away) => 3,
        Some(PresenceStatus::OnThePhone) => 4,
        Some(PresenceStatus::OutToLunch) => 5,
        None => 9,
    }
}

pub fn status_label(status: Status) -> &'static str {
    match status {
        Status::Online => "Online",
        Status::Busy => "Busy",
        Status::Away => "Away",
        Status::BeRightBack => "Be Right Back",
        Status::OnThePhone => "On The Phone",
        Status::OutToLunch => "Out To Lunch",
        Status::Hidden => "Appear Offline",
        Status::Offline => "Offline",
    }
}

pub fn presence_label(status: Option<PresenceStatus>) -> &'static str {
    match status {
        Some(PresenceStatus::Online) => "Online",
        Some(PresenceStatus::Busy) => "Busy",
        Some(PresenceStatus::Away) => "Away",
        Some(PresenceStatus::BeRightBack) => "Be Right Back",
        Some(PresenceStatus::OnThePhone) => "On The Phone",
        Some(PresenceStatus::OutToLunch) => "Out To Lunch",
        None => "Offline",
    }
}

pub fn human_size(bytes: u64) -> String {
    match bytes {
        b if b < 1024 => format!("{b} bytes"),
        b if b < 1024 * 1024 => format!("{:.1} KB", b as f64 / 1024.0),
        b => format!("{:.1} MB", b as f64 / (1024.0 * 1024.0)),
    }
}

pub fn rfc3339(at: OffsetDateTime) -> String {
    at.format(&time::format_description::well_known::Rfc3339).unwrap_or_default()
}

/// `rrggbb` (with or without `#`) as RGB.
pub fn parse_colour(text: &str) -> Option<[u8; 3]> {
    let hex = text.trim().trim_start_matches('#');
    if hex.len() != 6 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let byte = |i: usize| u8::from_str_radix(&hex[i..i + 2], 16).ok();
    Some([byte(0)?, byte(2)?, byte(4)?])
}

/// The format our messages go out with, from the message options.
pub fn outgoing_format(options: &ClientOptions) -> TextFormat {
    let m = &options.messages;
    let mut effects = String::new();
    if m.bold {
        effects.push('B');
    }
    if m.italic {
        effects.push('I');
    }
    TextFormat {
        font: Some(m.font_family.clone()).filter(|f| !f.is_empty()),
        color: parse_colour(&m.font_color).map(|[r, g, b]| format!("{r:02x}{g:02x}{b:02x}")),
        effects,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mocha_client::ConnectionState;
    use mocha_client::api::{Account, Presence};

    fn account(id: u64, name: &str) -> Account {
        Account {
            id: UserId(id as i64),
            username: format!("{}@example.com", name.to_lowercase()),
            display_name: name.into(),
            is_admin: false,
            created_at: OffsetDateTime::UNIX_EPOCH,
        }
    }

    fn contact(id: u64, name: &str, status: Option<PresenceStatus>) -> SyncContact {
        let a = account(id, name);
        SyncContact {
            user: mocha_client::api::UserSummary {
                id: a.id,
                username: a.username,
                display_name: a.display_name.clone(),
            },
            alias: None,
            blocked: false,
            since: OffsetDateTime::UNIX_EPOCH,
            presence: status.map(|status| Presence {
                status,
                display_name: name.into(),
                personal_message: String::new(),
            }),
        }
    }

    fn signed_in(contacts: Vec<SyncContact>) -> AppModel {
        let mut model = AppModel::new(ClientOptions::default());
        let mut state = test_state(account(1, "Alice"));
        state.contacts = contacts;
        model.apply(BackendEvent::SignedIn(state));
        model
    }

    fn test_state(account: Account) -> ClientState {
        ClientState {
            account,
            connection: ConnectionState::Online,
            status: Status::Online,
            personal_message: String::new(),
            contacts: Vec::new(),
            blocks: Vec::new(),
            requests: Default::default(),
            request_policy: Default::default(),
        }
    }

    fn names(groups: &[(String, Vec<SyncContact>)]) -> Vec<(String, Vec<String>)> {
        groups.iter().map(|(g, cs)| (g.clone(), cs.iter().map(contact_name).collect())).collect()
    }

    #[test]
    fn signing_in_remembers_the_address_and_shows_the_main_window() {
        let model = signed_in(Vec::new());
        assert_eq!(model.screen, Screen::Main);
        assert_eq!(model.options.sign_in.recent_addresses, ["alice@example.com"]);
        assert!(model.options_dirty);
    }

    #[test]
    fn contacts_group_by_status_or_local_groups_and_sort() {
        let mut model = signed_in(vec![
            contact(2, "bob", Some(PresenceStatus::Away)),
            contact(3, "Carol", None),
            contact(4, "Dave", Some(PresenceStatus::Online)),
        ]);
        assert_eq!(
            names(&model.contact_groups()),
            [
                ("Online".to_string(), vec!["bob".to_string(), "Dave".into()]),
                ("Offline".into(), vec!["Carol".into()])
            ]
        );
        model.options.contacts.sort_by = SortBy::Status;
        assert_eq!(names(&model.contact_groups())[0].1, ["Dave", "bob"]);

        model.options.contacts.group_by = GroupBy::Groups;
        model.options.contacts.assign("u3", Some("Family"));
        assert_eq!(
            names(&model.contact_groups()),
            [
                ("Family".to_string(), vec!["Carol".to_string()]),
                ("Other contacts".into(), vec!["Dave".into(), "bob".into()])
            ]
        );
        model.options.contacts.show_offline = false;
        assert_eq!(
            names(&model.contact_groups()),
            [("Other contacts".to_string(), vec!["Dave".to_string(), "bob".into()])]
        );
    }

    #[test]
    fn an_alias_wins_over_the_display_name() {
        let mut c = contact(2, "Bob", Some(PresenceStatus::Online));
        assert_eq!(contact_name(&c), "Bob");
        c.alias = Some("Bobby".into());
        assert_eq!(contact_name(&c), "Bobby");
    }

    #[test]
    fn blocks_are_mirrored_into_the_settings() {
        let mut model = signed_in(Vec::new());
        let mut state = model.state.clone().unwrap();
        let mut blocked = contact(5, "Eve", None);
        blocked.blocked = true;
        state.contacts.push(blocked);
        model.options_dirty = false;
        model.apply(BackendEvent::Client(Event::Notice("hi".into()), state));
        assert_eq!(model.options.blocked_contact_ids, ["u5"]);
        assert!(model.options_dirty);
    }

    #[test]
    fn conversation_events_fill_the_window() {
        let mut model = signed_in(Vec::new());
        let id = ConversationId(1);
        let bob = Participant { user_id: UserId(2), display_name: "Bob".into() };
        model.apply(BackendEvent::ConversationOpened {
            id,
            participants: vec![],
            invited: Some("Bob".into()),
        });
        assert_eq!(model.conversations[&id].title(), "Bob - Conversation");
        let state = model.state.clone().unwrap();
        let push = |model: &mut AppModel, event| {
            model.apply(BackendEvent::Client(Event::Conversation { id, event }, state.clone()));
        };
        push(&mut model, ConversationEvent::Joined(bob.clone()));
        push(&mut model, ConversationEvent::Typing { from: bob.clone() });
        let now = OffsetDateTime::now_utc();
        assert_eq!(model.conversations[&id].typing_line(now).as_deref(), Some("Bob is typing…"));
        assert_eq!(model.conversations[&id].typing_line(now + TYPING_SHOWN_FOR), None);
        push(
            &mut model,
            ConversationEvent::Text { from: bob.clone(), text: "hi".into(), format: TextFormat::default() },
        );
        assert_eq!(model.conversations[&id].typing_line(now), None, "a message ends the typing");
        push(&mut model, ConversationEvent::Nudge { from: bob.clone() });
        assert!(model.conversations[&id].nudged_at.is_some());
        let offer = mocha_client::FileOffer {
            transfer_id: "t1".into(),
            name: "a.txt".into(),
            size: 2048,
            sha256: "00".into(),
        };
        push(&mut model, ConversationEvent::FileOffered { from: bob.clone(), offer });
        push(
            &mut model,
            ConversationEvent::Transfer(TransferEvent::Progress {
                transfer_id: "t1".into(),
                direction: TransferDirection::Receiving,
                done: 1024,
                total: 2048,
            }),
        );
        assert_eq!(model.conversations[&id].transfers[0].fraction(), 0.5);
        push(
            &mut model,
            ConversationEvent::Transfer(TransferEvent::Completed {
                transfer_id: "t1".into(),
                direction: TransferDirection::Receiving,
                path: Some("/x/a.txt".into()),
                sha256: "00".into(),
            }),
        );
        let c = &model.conversations[&id];
        assert_eq!(c.transfers[0].state, TransferState::Done { path: Some("/x/a.txt".into()) });
        assert_eq!(c.title(), "Bob - Conversation");
        assert!(
            c.lines.iter().any(
                |l| matches!(l, ChatLine::Note { text, .. } if text == "Bob has just sent you a nudge.")
            )
        );
    }

    #[test]
    fn messages_nudges_and_sign_ins_give_the_sounds_and_pop_ups_the_options_ask_for() {
        let id = ConversationId(1);
        let bob = Participant { user_id: UserId(2), display_name: "Bob".into() };
        let cues_with = |options: fn(&mut ClientOptions)| {
            let mut model = signed_in(vec![contact(2, "Bob", None)]);
            options(&mut model.options);
            model.apply(BackendEvent::ConversationOpened {
                id,
                participants: vec![bob.clone()],
                invited: None,
            });
            let state = model.state.clone().unwrap();
            for event in [
                ConversationEvent::Text {
                    from: bob.clone(),
                    text: "hi".into(),
                    format: TextFormat::default(),
                },
                ConversationEvent::Nudge { from: bob.clone() },
            ] {
                model.apply(BackendEvent::Client(Event::Conversation { id, event }, state.clone()));
            }
            let presence = Some(Presence {
                status: PresenceStatus::Online,
                display_name: "Bob".into(),
                personal_message: String::new(),
            });
            model.apply(BackendEvent::Client(Event::Presence { user: UserId(2), presence }, state));
            std::mem::take(&mut model.cues)
        };

        let all = cues_with(|_| {});
        assert!(all.contains(&Cue::Sound(Sound::Message)));
        assert!(all.contains(&Cue::Sound(Sound::Nudge)));
        assert!(all.contains(&Cue::Sound(Sound::ContactSignedIn)));
        assert!(all.contains(&Cue::Toast {
            title: "Bob says:".into(),
            body: "hi".into(),
            conversation: Some(id)
        }));
        assert!(
            all.iter().any(|c| matches!(c, Cue::Toast { body, .. } if body == "Bob has just signed in."))
        );

        let quiet = cues_with(|o| o.notifications.play_sounds = false);
        assert!(!quiet.iter().any(|c| matches!(c, Cue::Sound(_))), "{quiet:?}");
        assert_eq!(quiet.len(), 3, "the pop-ups stay: {quiet:?}");

        let no_nudge_sound = cues_with(|o| o.notifications.sound_on_nudge = false);
        assert!(!no_nudge_sound.contains(&Cue::Sound(Sound::Nudge)));
        assert!(no_nudge_sound.contains(&Cue::Sound(Sound::Message)));

        let no_pop_ups = cues_with(|o| {
            o.notifications.message_received = false;
            o.notifications.contact_signs_in = false;
        });
        assert!(!no_pop_ups.iter().any(|c| matches!(c, Cue::Toast { .. })), "{no_pop_ups:?}");
    }

    #[test]
    fn remind_me_later_is_remembered() {
        let mut model = signed_in(Vec::new());
        let build = Build {
            version: "9.9.9".into(),
            notes: String::new(),
            download_url: "https://example.org".into(),
            files: Default::default(),
        };
        model.apply(BackendEvent::UpdateAvailable(build.clone()));
        assert!(model.update.is_some());
        let now = OffsetDateTime::now_utc();
        model.defer_update(now);
        assert!(model.update.is_none());
        assert_eq!(model.options.updates.deferred_version.as_deref(), Some("9.9.9"));
        model.apply(BackendEvent::UpdateAvailable(build.clone()));
        assert!(model.update.is_none(), "deferred");
        assert!(!model.update_deferred("9.9.9", now + UPDATE_REMIND_AFTER + time::Duration::seconds(1)));
        assert!(!model.update_deferred("10.0.0", now), "a newer version is offered at once");
    }

    #[test]
    fn the_file_picker_opens_where_it_was_last_used_and_gets_its_listings() {
        let mut model = AppModel::new(ClientOptions::default());
        assert_eq!(model.picker_start(), PathBuf::from("/"));
        model.apply(BackendEvent::FileDialog {
            native: Err("no portal".into()),
            places: vec![("Home".into(), "/home/alice".into())],
        });
        assert_eq!(model.file_dialog, Some(Err("no portal".into())));
        assert_eq!(model.picker_start(), PathBuf::from("/home/alice"));
        model.last_pick_folder = Some("/srv/files".into());
        assert_eq!(model.picker_start(), PathBuf::from("/srv/files"));

        let id = ConversationId(7);
        let mut view = ConversationView::new(id, Vec::new(), Some("bob".into()));
        assert_eq!(view.open_picker(model.picker_start()), PathBuf::from("/srv/files"));
        model.conversations.insert(id, view);
        let listing = FolderListing { folder: "/srv/files".into(), entries: Vec::new(), left_out: 0 };
        model.apply(BackendEvent::FolderListed { folder: "/elsewhere".into(), listing: Ok(listing.clone()) });
        assert_eq!(model.conversations[&id].picker.as_ref().and_then(|p| p.listing.clone()), None);
        model.apply(BackendEvent::FolderListed { folder: "/srv/files".into(), listing: Ok(listing.clone()) });
        assert_eq!(
            model.conversations[&id].picker.as_ref().and_then(|p| p.listing.clone()),
            Some(Ok(listing))
        );
    }

    #[test]
    fn colours_and_formats() {
        assert_eq!(parse_colour("#ff0080"), Some([255, 0, 128]));
        assert_eq!(parse_colour("ff0080"), Some([255, 0, 128]));
        assert_eq!(parse_colour("red"), None);
        let mut options = ClientOptions::default();
        options.messages.bold = true;
        options.messages.font_color = "#00FF00".into();
        let format = outgoing_format(&options);
        assert_eq!(format.color.as_deref(), Some("00ff00"));
        assert_eq!(format.effects, "B");
    }
}
