//! [`Call`]: a voice or video call in a [`Conversation`](super::Conversation), from
//! ringing to hang-up, with its media flowing.
//!
//! Session control (invite, accept, decline, cancel, hang-up) travels as call messages in
//! the conversation. Once the call has two members the switchboard sends `RLY` (the relay's
//! address, this member's id, a bind token and the call's key); from then on a driver
//! thread of the call's own moves audio (and video) every 10 ms between the devices and
//! the media engine, and packets between the engine and the network: UDP through the
//! relay when it answers, `MED` frames over the conversation's TLS connection when it
//! does not (see `transport` and docs/calls.md, "Fallback"). Both paths are always
//! received. Everything is sealed with the call's key.

mod conditioner;
mod datagram;
mod devices;
mod driver;
mod transport;
mod video;

use std::time::{Duration, Instant};

use mocha_api::UserId;
use tokio::sync::{mpsc, oneshot, watch};

pub use conditioner::{Conditioner, LinkConditioner, UdpBlock};
pub use mocha_media::CallStats as MediaStats;
pub use mocha_media::audio::{AudioSink, AudioSource};
pub use mocha_media::video::{VideoSink, VideoSource};
pub use transport::Path;

pub(crate) use driver::{CallSignal, Direction as CallDirection, spawn};

/// The content type of a call-state message (mute, camera) in the conversation.
pub(crate) const CONTENT_CALL_STATE: &str = "application/x-mocha-call-state";

/// How to run a call.
#[derive(Debug)]
pub struct CallOptions {
    /// A video call (the camera can still be switched off).
    pub video: bool,
    pub echo_cancellation: bool,
    pub noise_suppression: bool,
    /// An unanswered outgoing call is cancelled after this long.
    pub ring_timeout: Duration,
    /// How long to wait, once accepted, for the switchboard's relay details (`RLY`).
    pub relay_timeout: Duration,
    /// A test hook on the UDP path: loss, delay, reordering, or UDP blocked.
    pub link: LinkConditioner,
}

impl Default for CallOptions {
    fn default() -> Self {
        Self {
            video: false,
            echo_cancellation: true,
            noise_suppression: true,
            ring_timeout: Duration::from_secs(60),
            relay_timeout: Duration::from_secs(10),
            link: LinkConditioner::default(),
        }
    }
}

impl CallOptions {
    pub fn video(mut self, video: bool) -> Self {
        self.video = video;
        self
    }

    pub fn link(mut self, link: LinkConditioner) -> Self {
        self.link = link;
        self
    }
}

/// What the call's driver moves sound and pictures between: a microphone and a speaker
/// (cpal devices, WAV files or synthetic ones from `mocha_media::audio`), at any rate the
/// resampler takes (8–192 kHz); and, for a video call, a camera (or a Y4M file or a test
/// pattern, read on a thread of its own, so a camera may block) and where the other
/// side's pictures go (a window, a Y4M file, a recorder).
pub struct CallDevices {
    pub audio_in: Box<dyn AudioSource>,
    pub audio_out: Box<dyn AudioSink>,
    pub video_in: Option<Box<dyn VideoSource + Send>>,
    pub video_out: Option<Box<dyn VideoSink + Send>>,
}

impl std::fmt::Debug for CallDevices {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CallDevices")
            .field("audio_in_rate", &self.audio_in.sample_rate())
            .field("audio_out_rate", &self.audio_out.sample_rate())
            .field("video_in", &self.video_in.is_some())
            .field("video_out", &self.video_out.is_some())
            .finish()
    }
}

impl CallDevices {
    pub fn audio(audio_in: impl AudioSource + 'static, audio_out: impl AudioSink + 'static) -> Self {
        Self { audio_in: Box::new(audio_in), audio_out: Box::new(audio_out), video_in: None, video_out: None }
    }

    /// Adds a camera and a place for the other side's pictures (either may be absent:
    /// a call can show without sending, or send without showing).
    pub fn with_video(
        mut self,
        video_in: Option<Box<dyn VideoSource + Send>>,
        video_out: Option<Box<dyn VideoSink + Send>>,
    ) -> Self {
        self.video_in = video_in;
        self.video_out = video_out;
        self
    }
}

/// Where a call is.
#[derive(Clone, Debug, PartialEq)]
pub enum CallState {
    /// Invited; waiting for someone to accept.
    Ringing,
    /// Accepted; waiting for the relay details.
    Connecting,
    /// Media is flowing.
    Active,
    Ended(CallEnd),
}

/// Why a call ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CallEnd {
    /// You hung up (or cancelled while it rang).
    HungUp,
    /// The other side hung up.
    PeerHungUp,
    Declined,
    /// The caller withdrew the invitation.
    Cancelled,
    /// Nobody accepted within the ring timeout.
    NoAnswer,
    /// The other side left the conversation.
    PeerLeft,
    /// The conversation itself ended.
    ConversationEnded,
    /// Something failed; the text says what.
    Failed(String),
}

impl CallEnd {
    /// A machine-readable code: `hung_up`, `peer_hung_up`, `declined`, `cancelled`,
    /// `no_answer`, `peer_left`, `conversation_ended`, `failed`.
    pub fn code(&self) -> &'static str {
        match self {
            CallEnd::HungUp => "hung_up",
            CallEnd::PeerHungUp => "peer_hung_up",
            CallEnd::Declined => "declined",
            CallEnd::Cancelled => "cancelled",
            CallEnd::NoAnswer => "no_answer",
            CallEnd::PeerLeft => "peer_left",
            CallEnd::ConversationEnded => "conversation_ended",
            CallEnd::Failed(_) => "failed",
        }
    }
}

impl std::fmt::Display for CallEnd {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CallEnd::HungUp => write!(f, "you hung up"),
            CallEnd::PeerHungUp => write!(f, "the other side hung up"),
            CallEnd::Declined => write!(f, "the call was declined"),
            CallEnd::Cancelled => write!(f, "the caller cancelled"),
            CallEnd::NoAnswer => write!(f, "nobody answered"),
            CallEnd::PeerLeft => write!(f, "the other side left the conversation"),
            CallEnd::ConversationEnded => write!(f, "the conversation ended"),
            CallEnd::Failed(why) => write!(f, "the call failed: {why}"),
        }
    }
}

/// What we know of the other side.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PeerState {
    /// Who accepted (for a call you placed) or who called (for one you accepted).
    pub user: Option<UserId>,
    pub muted: bool,
    pub camera: bool,
}

/// A call's statistics: the engine's view of the media, and the transport's.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CallStats {
    /// Where packets are sent now (`None` before media starts).
    pub path: Option<Path>,
    /// Moves between UDP and TLS after the first choice.
    pub path_switches: u32,
    /// The engine's figures: loss, jitter, round trip, buffer, concealment.
    pub media: MediaStats,
    /// The last BIND → BOUND round trip to the relay.
    pub relay_round_trip_ms: Option<f32>,
    pub sent_udp: u64,
    pub sent_tls: u64,
    pub received_udp: u64,
    pub received_tls: u64,
    /// Datagrams or frames that did not verify or parse (dropped).
    pub rejected: u64,
    /// Packets that could not be sent (a full queue towards the conversation, a socket error).
    pub send_failures: u64,
    /// The first failure of the microphone, the speaker, the camera or the video output
    /// (a WAV file that could not be written, say); the call goes on without it.
    pub device_error: Option<String>,
    /// The other side's pictures handed to the video output.
    pub frames_shown: u64,
    /// How long media has flowed.
    pub duration: Duration,
}

/// Everything about a call at one moment.
#[derive(Clone, Debug, PartialEq)]
pub struct CallSnapshot {
    pub state: CallState,
    pub peer: PeerState,
    pub muted: bool,
    pub camera: bool,
    pub stats: CallStats,
    /// When the driver started moving samples: sample `n` of the microphone was taken,
    /// and sample `n` of the speaker played, `n / 48 000` s after this instant.
    pub media_started: Option<Instant>,
}

pub(crate) enum Command {
    HangUp(oneshot::Sender<()>),
    Mute(bool),
    Camera(bool),
    Switch(DeviceSwitch),
}

/// A device put into a call that is ringing or live, in place of the one it had: the
/// person chose other speakers in the options, or plugged a microphone back in. The old
/// device is closed (a WAV recording is finished) and the new one used from the next
/// 10 ms tick; the device error reported in [`CallStats::device_error`] is cleared.
pub enum DeviceSwitch {
    Microphone(Box<dyn AudioSource>),
    Speaker(Box<dyn AudioSink>),
    /// `None`: no camera any more (the call goes on without sending pictures).
    Camera(Option<Box<dyn VideoSource + Send>>),
}

impl std::fmt::Debug for DeviceSwitch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DeviceSwitch::Microphone(source) => write!(f, "Microphone({} Hz)", source.sample_rate()),
            DeviceSwitch::Speaker(sink) => write!(f, "Speaker({} Hz)", sink.sample_rate()),
            DeviceSwitch::Camera(camera) => write!(f, "Camera({})", camera.is_some()),
        }
    }
}

/// A call you placed or accepted. Dropping every clone hangs up.
#[derive(Clone)]
pub struct Call {
    id: String,
    commands: mpsc::Sender<Command>,
    snapshot: watch::Receiver<CallSnapshot>,
}

impl std::fmt::Debug for Call {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Call").field("id", &self.id).field("state", &self.state()).finish()
    }
}

impl Call {
    pub(crate) fn new(
        id: String,
        commands: mpsc::Sender<Command>,
        snapshot: watch::Receiver<CallSnapshot>,
    ) -> Self {
        Self { id, commands, snapshot }
    }

    /// The call id both sides use in call messages.
    pub fn id(&self) -> &str {
        &self.id
    }

    pub fn snapshot(&self) -> CallSnapshot {
        self.snapshot.borrow().clone()
    }

    pub fn state(&self) -> CallState {
        self.snapshot.borrow().state.clone()
    }

    pub fn peer(&self) -> PeerState {
        self.snapshot.borrow().peer.clone()
    }

    pub fn stats(&self) -> CallStats {
        self.snapshot.borrow().stats.clone()
    }

    /// A receiver that sees every change (state at once, statistics every 100 ms).
    pub fn watch(&self) -> watch::Receiver<CallSnapshot> {
        self.snapshot.clone()
    }

    /// Waits until `condition` holds (or the call ends); gives the snapshot that ended the wait.
    pub async fn wait_for(&self, mut condition: impl FnMut(&CallSnapshot) -> bool) -> CallSnapshot {
        let mut watch = self.snapshot.clone();
        if let Ok(snapshot) = watch.wait_for(|s| condition(s) || matches!(s.state, CallState::Ended(_))).await
        {
            return snapshot.clone();
        }
        // The driver is gone; its last word stands.
        watch.borrow().clone()
    }

    /// Waits until media flows; `Err` with the reason if the call ends first.
    pub async fn connected(&self) -> Result<(), CallEnd> {
        match self.wait_for(|s| s.state == CallState::Active).await.state {
            CallState::Ended(end) => Err(end),
            _ => Ok(()),
        }
    }

    /// Waits for the call to end, for whatever reason.
    pub async fn ended(&self) -> CallEnd {
        match self.wait_for(|_| false).await.state {
            CallState::Ended(end) => end,
            _ => CallEnd::Failed("the call's driver stopped".into()),
        }
    }

    /// Hangs up (or cancels a call still ringing); returns once the call is over, with
    /// its final statistics.
    pub async fn hang_up(&self) -> CallStats {
        let (done, finished) = oneshot::channel();
        if self.commands.send(Command::HangUp(done)).await.is_ok() {
            let _ = finished.await;
        }
        self.wait_for(|_| false).await.stats
    }

    /// Mutes or unmutes your microphone (the other side is told).
    pub async fn set_muted(&self, muted: bool) {
        let _ = self.commands.send(Command::Mute(muted)).await;
    }

    /// Switches your camera on or off (the other side is told).
    pub async fn set_camera(&self, on: bool) {
        let _ = self.commands.send(Command::Camera(on)).await;
    }

    /// Puts another microphone, speaker or camera into the call at once, without
    /// interrupting it (nothing is said to the other side).
    pub async fn switch_device(&self, device: DeviceSwitch) {
        let _ = self.commands.send(Command::Switch(device)).await;
    }
}
