//! A conversation handle: its Switchboard connection lives in its own task, which
//! serves the handle's requests, forwards what the others send as
//! [`Event::Conversation`], and streams accepted file transfers chunk by chunk between
//! everything else, so chat keeps flowing during a transfer.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use bytes::Bytes;
use mocha_api::UserId;
use mocha_proto::MessagePayload;
use mocha_proto::im::{CallCommand, CallControl, CallMedia, FileCommand, ImPayload, TextFormat};
use mocha_proto::sb::client::AckMode;
use tokio::sync::{mpsc, oneshot};

use super::Shared;
use super::call::{self, CONTENT_CALL_STATE, Call, CallDevices, CallDirection, CallOptions, CallSignal};
use super::error::Error;
use super::event::{ConversationEvent, ConversationId, Event};
use super::transfer::{Action, PreparedFile, Transfers, control, new_id};
use crate::MenpError;
use crate::sb::{Delivery, Participant, SbConnection, SbEvent};

/// How many signals may wait for a call's driver before media frames for it are dropped.
const CALL_SIGNALS: usize = 256;

/// How long the task waits on a quiet connection before looking again (no effect on
/// behaviour; it only bounds each wait).
const QUIET_WAIT: Duration = Duration::from_secs(300);

type Reply<T> = oneshot::Sender<Result<T, Error>>;

enum Request {
    Invite(String, Reply<String>),
    Send(ImPayload, AckMode, Reply<Delivery>),
    Media(String, Bytes, Reply<()>),
    /// A call's packet over TLS: never waited on, dropped when the queue is full.
    CallMedia(String, Bytes),
    SendMessage(MessagePayload, AckMode, Reply<Delivery>),
    /// Routes a call's control, state, relay details and media to its driver.
    AttachCall(String, mpsc::Sender<CallSignal>, Reply<()>),
    SendFile(PreparedFile, Reply<String>),
    AcceptFile(String, PathBuf, Reply<PathBuf>),
    DeclineFile(String, Reply<()>),
    CancelTransfer(String, Reply<()>),
    Leave(oneshot::Sender<()>),
}

/// One conversation. Dropping every clone of the handle leaves it.
#[derive(Clone)]
pub struct Conversation {
    id: ConversationId,
    user: UserId,
    requests: mpsc::Sender<Request>,
    participants: Arc<Mutex<Vec<Participant>>>,
}

impl std::fmt::Debug for Conversation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Conversation")
            .field("id", &self.id)
            .field("participants", &self.participants())
            .finish()
    }
}

impl Conversation {
    pub(crate) fn spawn(
        id: ConversationId,
        sb: SbConnection,
        present: Vec<Participant>,
        shared: Arc<Shared>,
    ) -> Self {
        let (requests, inbox) = mpsc::channel(64);
        let participants = Arc::new(Mutex::new(present));
        let user = sb.user();
        tokio::spawn(run(id, sb, shared, inbox, participants.clone()));
        Self { id, user, requests, participants }
    }

    pub fn id(&self) -> ConversationId {
        self.id
    }

    /// Who else is in the conversation now.
    pub fn participants(&self) -> Vec<Participant> {
        self.participants.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    async fn ask<T>(&self, request: impl FnOnce(Reply<T>) -> Request) -> Result<T, Error> {
        let (reply, answer) = oneshot::channel();
        self.requests.send(request(reply)).await.map_err(|_| Error::ConversationEnded)?;
        answer.await.map_err(|_| Error::ConversationEnded)?
    }

    /// `CAL`: invites a contact (user id or sign-in address); returns the room id.
    /// An offline contact is refused with `UserOffline` — but what you then say in the
    /// conversation reaches them as an activity alert.
    pub async fn invite(&self, who: &str) -> Result<String, Error> {
        self.ask(|reply| Request::Invite(who.to_string(), reply)).await
    }

    /// Sends any payload with the given acknowledgement mode.
    pub async fn send(&self, payload: ImPayload, ack: AckMode) -> Result<Delivery, Error> {
        self.ask(|reply| Request::Send(payload, ack, reply)).await
    }

    /// Sends chat text; says whether anyone received it (if nobody did, the people
    /// invited get an activity alert — or, if the server could not keep one, this fails
    /// with the server's `ERR`, `StorageFull` when its disk is full).
    pub async fn send_text(&self, text: &str) -> Result<Delivery, Error> {
        self.send_formatted(text, TextFormat::default()).await
    }

    pub async fn send_formatted(&self, text: &str, format: TextFormat) -> Result<Delivery, Error> {
        self.send(ImPayload::Text { text: text.to_string(), format }, AckMode::Always).await
    }

    /// "… is typing"; never acknowledged.
    pub async fn send_typing(&self) -> Result<(), Error> {
        self.send(ImPayload::Typing { user: self.user.to_string() }, AckMode::Unacknowledged).await.map(drop)
    }

    pub async fn send_nudge(&self) -> Result<Delivery, Error> {
        self.send(ImPayload::Nudge, AckMode::Always).await
    }

    /// Offers a file to `to` (or to the only other participant). Returns the transfer
    /// id; progress and the outcome arrive as [`ConversationEvent::Transfer`] events.
    pub async fn send_file(&self, path: &Path, to: Option<UserId>) -> Result<String, Error> {
        let file = PreparedFile::open(path, to).await?;
        self.ask(|reply| Request::SendFile(file, reply)).await
    }

    /// Accepts an offered file into `folder` (under a new name if one is taken);
    /// returns where it is being written.
    pub async fn accept_file(&self, transfer_id: &str, folder: &Path) -> Result<PathBuf, Error> {
        self.ask(|reply| Request::AcceptFile(transfer_id.to_string(), folder.to_path_buf(), reply)).await
    }

    pub async fn decline_file(&self, transfer_id: &str) -> Result<(), Error> {
        self.ask(|reply| Request::DeclineFile(transfer_id.to_string(), reply)).await
    }

    /// Stops a transfer in either direction; a partial received file is deleted.
    pub async fn cancel_transfer(&self, transfer_id: &str) -> Result<(), Error> {
        self.ask(|reply| Request::CancelTransfer(transfer_id.to_string(), reply)).await
    }

    /// Invites the conversation to a voice or video call; returns its call id.
    pub async fn start_call(&self, media: CallMedia) -> Result<String, Error> {
        let call_id = new_id("call");
        self.call_control(&call_id, CallCommand::Invite, Some(media)).await?;
        Ok(call_id)
    }

    /// Sends call session control (`Accept`, `Decline`, `Cancel`, `Hangup`).
    pub async fn call_control(
        &self,
        call_id: &str,
        command: CallCommand,
        media: Option<CallMedia>,
    ) -> Result<Delivery, Error> {
        let control = CallControl { command, call_id: call_id.to_string(), media, body: String::new() };
        self.send(ImPayload::Call(control), AckMode::Always).await
    }

    /// `MED`: one media frame of an accepted call.
    pub async fn send_media(&self, call_id: &str, data: Bytes) -> Result<(), Error> {
        self.ask(|reply| Request::Media(call_id.to_string(), data, reply)).await
    }

    /// Places a call to the conversation: rings the others (`INVITE`) and returns the
    /// [`Call`], which rings until someone accepts, then carries media between `devices`
    /// and the other side. Fails if there is nobody to ring.
    pub async fn place_call(&self, options: CallOptions, devices: CallDevices) -> Result<Call, Error> {
        let call_id = new_id("call");
        let signals = self.attach_call(&call_id).await?;
        let media = if options.video { CallMedia::Video } else { CallMedia::Audio };
        match self.call_control(&call_id, CallCommand::Invite, Some(media)).await? {
            Delivery::NotDelivered => {
                return Err(Error::Invalid("there is nobody in the conversation to call".into()));
            }
            Delivery::Delivered | Delivery::Unconfirmed => {}
        }
        call::spawn(call_id, self.clone(), CallDirection::Outgoing, options, devices, signals)
    }

    /// Accepts a call `caller` invited you to ([`ConversationEvent::Call`] with
    /// `CallCommand::Invite`); media flows between `devices` and the caller once the
    /// switchboard has connected the call.
    pub async fn accept_call(
        &self,
        caller: UserId,
        call_id: &str,
        options: CallOptions,
        devices: CallDevices,
    ) -> Result<Call, Error> {
        let signals = self.attach_call(call_id).await?;
        self.call_control(call_id, CallCommand::Accept, None).await?;
        call::spawn(
            call_id.to_string(),
            self.clone(),
            CallDirection::Incoming { caller },
            options,
            devices,
            signals,
        )
    }

    /// Declines a call you were invited to.
    pub async fn decline_call(&self, call_id: &str) -> Result<(), Error> {
        self.call_control(call_id, CallCommand::Decline, None).await.map(drop)
    }

    async fn attach_call(&self, call_id: &str) -> Result<mpsc::Receiver<CallSignal>, Error> {
        let (signals, receiver) = mpsc::channel(CALL_SIGNALS);
        self.ask(|reply| Request::AttachCall(call_id.to_string(), signals, reply)).await?;
        Ok(receiver)
    }

    /// A call's sealed packet as a `MED` frame, without waiting; `false` if it was dropped.
    pub(crate) fn send_media_nowait(&self, call_id: &str, data: Bytes) -> bool {
        self.requests.try_send(Request::CallMedia(call_id.to_string(), data)).is_ok()
    }

    /// Tells the others whether your microphone is muted and your camera on.
    pub(crate) async fn send_call_state(
        &self,
        call_id: &str,
        muted: bool,
        camera: bool,
    ) -> Result<(), Error> {
        let message = MessagePayload::default()
            .with_header("Content-Type", CONTENT_CALL_STATE)
            .with_header("Call-ID", call_id)
            .with_header("Muted", if muted { "1" } else { "0" })
            .with_header("Camera", if camera { "1" } else { "0" });
        self.ask(|reply| Request::SendMessage(message, AckMode::Unacknowledged, reply)).await.map(drop)
    }

    /// Leaves the conversation (`OUT`); [`ConversationEvent::Ended`] follows.
    pub async fn leave(&self) {
        let (done, left) = oneshot::channel();
        if self.requests.send(Request::Leave(done)).await.is_ok() {
            let _ = left.await;
        }
    }
}

enum Step {
    Request(Option<Request>),
    Event(Result<Option<SbEvent>, MenpError>),
    Chunk,
}

enum Outcome {
    Leave(Option<oneshot::Sender<()>>),
    Ended(Option<mocha_proto::OutReason>),
}

async fn run(
    id: ConversationId,
    mut sb: SbConnection,
    shared: Arc<Shared>,
    mut requests: mpsc::Receiver<Request>,
    participants: Arc<Mutex<Vec<Participant>>>,
) {
    let mut task = Task { id, shared, participants, transfers: Transfers::default(), calls: HashMap::new() };
    let outcome = loop {
        let sending = task.transfers.has_chunk_to_send();
        let step = tokio::select! {
            request = requests.recv() => Step::Request(request),
            event = sb.next_event(QUIET_WAIT) => Step::Event(event),
            _ = std::future::ready(()), if sending => Step::Chunk,
        };
        let broken = match step {
            Step::Request(None) => break Outcome::Leave(None),
            Step::Request(Some(Request::Leave(done))) => break Outcome::Leave(Some(done)),
            Step::Request(Some(request)) => task.handle(&mut sb, request).await,
            Step::Event(Ok(Some(SbEvent::Ended(reason)))) => break Outcome::Ended(Some(reason)),
            Step::Event(Ok(Some(event))) => task.on_event(&mut sb, event).await,
            Step::Event(Ok(None)) => None,
            Step::Event(Err(error)) => Some(error),
            Step::Chunk => task.send_chunk(&mut sb).await,
        };
        if let Some(error) = broken {
            match error {
                MenpError::SignedOut(reason) => break Outcome::Ended(Some(reason)),
                error => {
                    tracing::debug!(%error, conversation = %id, "switchboard connection ended");
                    break Outcome::Ended(None);
                }
            }
        }
    };
    task.transfers.abandon().await;
    let reason = match outcome {
        Outcome::Leave(done) => {
            let _ = sb.leave().await;
            if let Some(done) = done {
                let _ = done.send(());
            }
            None
        }
        Outcome::Ended(reason) => reason,
    };
    task.emit(ConversationEvent::Ended { reason }).await;
}

struct Task {
    id: ConversationId,
    shared: Arc<Shared>,
    participants: Arc<Mutex<Vec<Participant>>>,
    transfers: Transfers,
    /// Calls with a driver of their own (placed or accepted through [`Call`]).
    calls: HashMap<String, mpsc::Sender<CallSignal>>,
}

/// Whether an error broke the connection (rather than refusing one request).
fn breaks(error: &MenpError) -> bool {
    !matches!(error, MenpError::Refused(_) | MenpError::Protocol(_))
}

fn reply<T>(reply: Reply<T>, result: Result<T, MenpError>) -> Option<MenpError> {
    match result {
        Ok(value) => {
            let _ = reply.send(Ok(value));
            None
        }
        Err(error) if !breaks(&error) => {
            let _ = reply.send(Err(error.into()));
            None
        }
        Err(error) => {
            let _ = reply.send(Err(Error::ConversationEnded));
            Some(error)
        }
    }
}

impl Task {
    /// Hands a signal to a call's driver; a full queue drops it (only media fills one),
    /// and a driver that has finished is forgotten.
    fn signal_call(&mut self, call_id: &str, signal: CallSignal) {
        if let Some(driver) = self.calls.get(call_id)
            && let Err(mpsc::error::TrySendError::Closed(_)) = driver.try_send(signal)
        {
            self.calls.remove(call_id);
        }
    }

    async fn emit(&self, event: ConversationEvent) {
        self.shared.emit(Event::Conversation { id: self.id, event }).await;
    }

    async fn act(&mut self, sb: &mut SbConnection, action: Action) -> Option<MenpError> {
        match action {
            Action::Nothing => None,
            Action::Report(event) => {
                self.emit(ConversationEvent::Transfer(event)).await;
                None
            }
            Action::Reply(payload, event) => {
                let sent = sb.send(&payload, AckMode::Unacknowledged).await;
                self.emit(ConversationEvent::Transfer(event)).await;
                sent.err().filter(breaks)
            }
        }
    }

    async fn handle(&mut self, sb: &mut SbConnection, request: Request) -> Option<MenpError> {
        match request {
            Request::Invite(who, answer) => reply(answer, sb.invite(&who).await),
            Request::Send(payload, ack, answer) => reply(answer, sb.send(&payload, ack).await),
            Request::Media(call_id, data, answer) => reply(answer, sb.send_media(&call_id, data).await),
            Request::CallMedia(call_id, data) => sb.send_media(&call_id, data).await.err().filter(breaks),
            Request::SendMessage(message, ack, answer) => reply(answer, sb.send_message(&message, ack).await),
            Request::AttachCall(call_id, signals, answer) => {
                self.calls.retain(|_, driver| !driver.is_closed());
                self.calls.insert(call_id, signals);
                let _ = answer.send(Ok(()));
                None
            }
            Request::SendFile(file, answer) => match sb.send(&file.offer(), AckMode::Always).await {
                Ok(Delivery::NotDelivered) => {
                    let _ = answer
                        .send(Err(Error::Invalid("nobody in the conversation to send the file to".into())));
                    None
                }
                Ok(_) => {
                    let id = file.transfer_id.clone();
                    self.transfers.offered(file);
                    let _ = answer.send(Ok(id));
                    None
                }
                Err(error) => reply(answer, Err(error)),
            },
            Request::AcceptFile(transfer_id, folder, answer) => {
                let path = match self.transfers.accept(&transfer_id, &folder).await {
                    Ok(path) => path,
                    Err(error) => {
                        let _ = answer.send(Err(error));
                        return None;
                    }
                };
                let sent = sb.send(&control(FileCommand::Accept, &transfer_id), AckMode::Always).await;
                if let Some(broken) = reply(answer, sent.map(|_| path)) {
                    return Some(broken);
                }
                let action = self.transfers.finish_if_empty(&transfer_id).await;
                self.act(sb, action).await
            }
            Request::DeclineFile(transfer_id, answer) => {
                if let Err(error) = self.transfers.decline(&transfer_id) {
                    let _ = answer.send(Err(error));
                    return None;
                }
                let sent = sb.send(&control(FileCommand::Decline, &transfer_id), AckMode::Always).await;
                reply(answer, sent.map(drop))
            }
            Request::CancelTransfer(transfer_id, answer) => {
                if let Err(error) = self.transfers.cancel(&transfer_id).await {
                    let _ = answer.send(Err(error));
                    return None;
                }
                let sent = sb.send(&control(FileCommand::Cancel, &transfer_id), AckMode::Always).await;
                reply(answer, sent.map(drop))
            }
            Request::Leave(done) => {
                let _ = done.send(());
                None
            }
        }
    }

    async fn send_chunk(&mut self, sb: &mut SbConnection) -> Option<MenpError> {
        match self.transfers.next_chunk().await? {
            Ok((id, offset, data, progress)) => {
                match sb.send_file_chunk(&id, offset, Bytes::from(data)).await {
                    Ok(trid) => self.transfers.chunk_sent(trid, &id),
                    Err(error) => return Some(error),
                }
                if let Some(progress) = progress {
                    self.emit(ConversationEvent::Transfer(progress)).await;
                }
                None
            }
            Err((id, error)) => {
                let _ = sb.send(&control(FileCommand::Cancel, &id), AckMode::Unacknowledged).await;
                let event = super::event::TransferEvent::Failed {
                    transfer_id: id,
                    direction: super::event::TransferDirection::Sending,
                    reason: error.to_string(),
                };
                self.emit(ConversationEvent::Transfer(event)).await;
                None
            }
        }
    }

    async fn on_event(&mut self, sb: &mut SbConnection, event: SbEvent) -> Option<MenpError> {
        let event = match event {
            SbEvent::Joined(participant) => {
                let mut list = self.participants.lock().unwrap_or_else(PoisonError::into_inner);
                if !list.iter().any(|p| p.user_id == participant.user_id) {
                    list.push(participant.clone());
                }
                drop(list);
                ConversationEvent::Joined(participant)
            }
            SbEvent::Left { user_id, reason } => {
                for driver in self.calls.values() {
                    let _ = driver.try_send(CallSignal::Left(user_id));
                }
                self.participants
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .retain(|p| p.user_id != user_id);
                for failed in self.transfers.peer_left(user_id).await {
                    self.emit(ConversationEvent::Transfer(failed)).await;
                }
                ConversationEvent::Left { user: user_id, reason }
            }
            SbEvent::Message { from, payload, raw } => match payload {
                ImPayload::Text { text, format } => ConversationEvent::Text { from, text, format },
                ImPayload::Typing { .. } => ConversationEvent::Typing { from },
                ImPayload::Nudge => ConversationEvent::Nudge { from },
                ImPayload::Invitation { application, body } => {
                    ConversationEvent::Invitation { from, application, body }
                }
                ImPayload::Call(control) => {
                    self.signal_call(
                        &control.call_id,
                        CallSignal::Control { from: from.user_id, control: control.clone() },
                    );
                    ConversationEvent::Call { from, control }
                }
                ImPayload::File(control) if control.command == FileCommand::Offer => {
                    match self.transfers.offer_received(from.user_id, &control) {
                        Some(offer) => ConversationEvent::FileOffered { from, offer },
                        None => return None,
                    }
                }
                ImPayload::File(control) => {
                    let action = self.transfers.control_received(from.user_id, &control).await;
                    return self.act(sb, action).await;
                }
                ImPayload::Other => match call_state(&raw) {
                    Some((call_id, muted, camera)) if self.calls.contains_key(&call_id) => {
                        self.signal_call(&call_id, CallSignal::State { from: from.user_id, muted, camera });
                        return None;
                    }
                    _ => ConversationEvent::Other { from, message: raw },
                },
            },
            SbEvent::Media { from, call_id, data } => {
                if self.calls.contains_key(&call_id) {
                    self.signal_call(&call_id, CallSignal::Media { from, data });
                    return None;
                }
                ConversationEvent::Media { from, call_id, data }
            }
            SbEvent::FileChunk { from, transfer_id, offset, data } => {
                let action = self.transfers.chunk_received(from, &transfer_id, offset, &data).await;
                return self.act(sb, action).await;
            }
            SbEvent::Relay(grant) => {
                let call_id = grant.call_id.clone();
                self.signal_call(&call_id, CallSignal::Relay(grant.clone()));
                ConversationEvent::CallRelay(grant)
            }
            SbEvent::Refused(reply) => match self.transfers.refused(reply) {
                Ok(action) => return self.act(sb, action).await,
                Err(reply) => ConversationEvent::Refused(reply),
            },
            SbEvent::Ended(reason) => ConversationEvent::Ended { reason: Some(reason) },
        };
        self.emit(event).await;
        None
    }
}

/// A call-state message's call id, mute and camera flags.
fn call_state(message: &MessagePayload) -> Option<(String, bool, bool)> {
    let mime = message.content_type()?.split(';').next()?.trim().to_ascii_lowercase();
    if mime != CONTENT_CALL_STATE {
        return None;
    }
    let flag = |name| message.header(name).map(|v| v.trim() == "1");
    Some((message.header("Call-ID")?.to_string(), flag("Muted")?, flag("Camera")?))
}
