//! What the user asks for, as values: the windows send these to the backend, which
//! carries them out with `mocha-client` and answers with [`BackendEvent`](crate::model::BackendEvent)s.

use std::path::PathBuf;

use mocha_client::ConversationId;
use mocha_client::api::UserId;
use mocha_client::proto::Status;
use mocha_client::proto::im::TextFormat;

use crate::call_media::{CallPictures, Volume};
use crate::settings::{AudioVideoOptions, ClientOptions};

/// What a call is set up with: its conversation, whether it is a video call, the
/// devices chosen in Options, and the window's pictures and volume.
#[derive(Clone, Debug, PartialEq)]
pub struct CallSetup {
    pub conversation: ConversationId,
    pub video: bool,
    pub devices: AudioVideoOptions,
    pub pictures: CallPictures,
    pub volume: Volume,
}

/// Where and how to connect, from the sign-in window and the options.
#[derive(Clone, Debug, PartialEq)]
pub struct Connection {
    pub server: String,
    /// An extra CA to trust (a self-hosted server's development CA).
    pub ca_certificate: Option<PathBuf>,
    pub proxy: crate::settings::ProxyOptions,
}

/// The update check made after signing in.
#[derive(Clone, Debug, PartialEq)]
pub struct UpdateRequest {
    pub channel: String,
    /// The release key remembered for this server, if any.
    pub pinned_key: Option<String>,
}

#[derive(Clone, PartialEq)]
pub enum Intent {
    /// Downloads and verifies the offered build (progress comes back as events).
    DownloadUpdate(mocha_client::updates::Offer),
    /// Puts the verified build in place of this program and starts it again.
    InstallUpdate(PathBuf),
    /// Asks whether a remembered sign-in exists for this address.
    LookUpRemembered {
        connection: Connection,
        address: String,
    },
    SignIn {
        connection: Connection,
        address: String,
        /// Empty: use the remembered sign-in.
        password: String,
        status: Status,
        personal_message: String,
        display_name: String,
        /// Keep a revocable sign-in in the OS secret store.
        remember: bool,
        check_updates_on: Option<UpdateRequest>,
    },
    /// Removes the remembered sign-in for this address.
    Forget {
        connection: Connection,
        address: String,
    },
    SignOut,
    SetStatus(Status),
    SetPersonalMessage(String),
    SetDisplayName(String),
    AddContact {
        address: String,
        message: String,
    },
    AcceptRequest(i64),
    DeclineRequest(i64),
    /// Declines the request and blocks its sender.
    BlockRequester {
        request_id: i64,
        user: UserId,
    },
    SetAlias {
        user: UserId,
        alias: String,
    },
    RemoveContact(UserId),
    Block(UserId),
    Unblock(UserId),
    /// Opens a conversation with a contact (user id or sign-in address).
    StartConversation {
        with: String,
        name: String,
    },
    Invite {
        conversation: ConversationId,
        who: String,
    },
    SendText {
        conversation: ConversationId,
        text: String,
        format: TextFormat,
    },
    SendTyping(ConversationId),
    SendNudge(ConversationId),
    SendFile {
        conversation: ConversationId,
        path: PathBuf,
    },
    /// Opens the system's file dialog; the chosen file is then sent.
    PickAndSendFile(ConversationId),
    /// Lists a folder for the app's own file picker.
    ListFolder(PathBuf),
    AcceptFile {
        conversation: ConversationId,
        transfer_id: String,
        folder: PathBuf,
    },
    DeclineFile {
        conversation: ConversationId,
        transfer_id: String,
    },
    CancelTransfer {
        conversation: ConversationId,
        transfer_id: String,
    },
    Leave(ConversationId),
    /// Rings the other person in the conversation.
    PlaceCall(CallSetup),
    /// Answers a call `caller` placed.
    AcceptCall {
        setup: CallSetup,
        caller: UserId,
        call_id: String,
    },
    DeclineCall {
        conversation: ConversationId,
        call_id: String,
    },
    /// Ends the call (or stops ours ringing).
    HangUp,
    MuteCall(bool),
    CallCamera(bool),
    /// Options changed during the call: its devices are switched to these at once.
    SwitchCallDevices(AudioVideoOptions),
    /// Writes `client-options.json`.
    SaveOptions(Box<ClientOptions>),
    OpenFolder(PathBuf),
    /// Lists the microphones, speakers and cameras for the options.
    ListDevices,
    /// Asks the server how its services are doing (Help › Service status).
    CheckServiceStatus(Connection),
}

// Passwords never reach a log line.
impl std::fmt::Debug for Intent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Intent::SignIn { address, status, remember, .. } => f
                .debug_struct("SignIn")
                .field("address", address)
                .field("status", status)
                .field("remember", remember)
                .finish_non_exhaustive(),
            Intent::SaveOptions(_) => write!(f, "SaveOptions"),
            Intent::SendText { conversation, .. } => write!(f, "SendText({conversation})"),
            other => write!(f, "{}", intent_name(other)),
        }
    }
}

fn intent_name(intent: &Intent) -> &'static str {
    match intent {
        Intent::DownloadUpdate(_) => "DownloadUpdate",
        Intent::InstallUpdate(_) => "InstallUpdate",
        Intent::LookUpRemembered { .. } => "LookUpRemembered",
        Intent::SignIn { .. } => "SignIn",
        Intent::Forget { .. } => "Forget",
        Intent::SignOut => "SignOut",
        Intent::SetStatus(_) => "SetStatus",
        Intent::SetPersonalMessage(_) => "SetPersonalMessage",
        Intent::SetDisplayName(_) => "SetDisplayName",
        Intent::AddContact { .. } => "AddContact",
        Intent::AcceptRequest(_) => "AcceptRequest",
        Intent::DeclineRequest(_) => "DeclineRequest",
        Intent::BlockRequester { .. } => "BlockRequester",
        Intent::SetAlias { .. } => "SetAlias",
        Intent::RemoveContact(_) => "RemoveContact",
        Intent::Block(_) => "Block",
        Intent::Unblock(_) => "Unblock",
        Intent::StartConversation { .. } => "StartConversation",
        Intent::Invite { .. } => "Invite",
        Intent::SendText { .. } => "SendText",
        Intent::SendTyping(_) => "SendTyping",
        Intent::SendNudge(_) => "SendNudge",
        Intent::SendFile { .. } => "SendFile",
        Intent::PickAndSendFile(_) => "PickAndSendFile",
        Intent::ListFolder(_) => "ListFolder",
        Intent::AcceptFile { .. } => "AcceptFile",
        Intent::DeclineFile { .. } => "DeclineFile",
        Intent::CancelTransfer { .. } => "CancelTransfer",
        Intent::Leave(_) => "Leave",
        Intent::PlaceCall(_) => "PlaceCall",
        Intent::AcceptCall { .. } => "AcceptCall",
        Intent::DeclineCall { .. } => "DeclineCall",
        Intent::HangUp => "HangUp",
        Intent::MuteCall(_) => "MuteCall",
        Intent::CallCamera(_) => "CallCamera",
        Intent::SwitchCallDevices(_) => "SwitchCallDevices",
        Intent::SaveOptions(_) => "SaveOptions",
        Intent::OpenFolder(_) => "OpenFolder",
        Intent::ListDevices => "ListDevices",
        Intent::CheckServiceStatus(_) => "CheckServiceStatus",
    }
}
