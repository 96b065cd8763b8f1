//! A call's state as the call window shows it, apart from any window and from the
//! media engine: ringing, connected for how long, how good the line is, why it ended
//! ([`CallView`]), and the one call the app has at a time ([`CallSession`]), which
//! follows the snapshots the backend sends of `mocha_client::Call`. Pure and unit-tested.

use std::time::Duration;

use mocha_client::api::UserId;
use mocha_client::proto::Status;
use mocha_client::{CallPath, CallSnapshot, CallState, ConversationId};

use crate::call_media::{CallPictures, Volume};

/// Voice only, or voice and video.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CallKind {
    Voice,
    Video,
}

/// Why a call is over, as the conversation and the alert history say it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CallEnd {
    /// Someone hung up after talking (`by_them`: the other side).
    HungUp { by_them: bool },
    /// The callee said no (`by_them`: they declined ours).
    Declined { by_them: bool },
    /// Nobody answered our ring, or we did not answer theirs.
    Missed { incoming: bool },
    /// The call could not go on (network, devices…), in a sentence.
    Failed(String),
}

impl CallEnd {
    /// The note in the conversation ("You missed a call from Bob.").
    pub fn note(&self, kind: CallKind, other: &str) -> String {
        let call = match kind {
            CallKind::Voice => "call",
            CallKind::Video => "video call",
        };
        match self {
            CallEnd::HungUp { by_them: true } => format!("{other} ended the {call}."),
            CallEnd::HungUp { by_them: false } => format!("You ended the {call}."),
            CallEnd::Declined { by_them: true } => format!("{other} declined your {call}."),
            CallEnd::Declined { by_them: false } => format!("You declined a {call} from {other}."),
            CallEnd::Missed { incoming: true } => format!("You missed a {call} from {other}."),
            CallEnd::Missed { incoming: false } => format!("{other} did not answer your {call}."),
            CallEnd::Failed(reason) => format!("The {call} ended: {reason}."),
        }
    }

    /// How `mocha_client` said the call ended, told from our side.
    pub fn from_client(end: &mocha_client::CallEnd, other: &str) -> Self {
        use mocha_client::CallEnd as Client;
        match end {
            Client::HungUp => CallEnd::HungUp { by_them: false },
            Client::PeerHungUp => CallEnd::HungUp { by_them: true },
            Client::Declined => CallEnd::Declined { by_them: true },
            Client::Cancelled => CallEnd::Missed { incoming: true },
            Client::NoAnswer => CallEnd::Missed { incoming: false },
            Client::PeerLeft => CallEnd::Failed(format!("{other} left the conversation")),
            Client::ConversationEnded => CallEnd::Failed("the conversation ended".into()),
            Client::Failed(why) => CallEnd::Failed(why.clone()),
        }
    }

    /// Whether it belongs in the alert history (a call the person did not take).
    pub fn is_missed_call(&self) -> bool {
        matches!(self, CallEnd::Missed { incoming: true })
    }
}

/// Where a call stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CallPhase {
    /// Ringing: theirs (`incoming`) waiting for Accept/Decline, or ours waiting for them.
    Ringing {
        incoming: bool,
    },
    /// Answered; the media path is being set up.
    Connecting,
    /// Talking, for `elapsed`.
    Connected {
        elapsed: Duration,
    },
    Ended(CallEnd),
}

/// How the line is, from the call's statistics.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct LinkReport {
    pub loss_percent: f32,
    pub jitter_ms: f32,
    pub round_trip_ms: f32,
    /// The media fell back to the switchboard over TLS (no UDP path).
    pub over_tls: bool,
}

/// The signal-quality indicator's bars.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Signal {
    Poor = 1,
    Fair = 2,
    Good = 3,
    Excellent = 4,
}

impl LinkReport {
    /// The indicator's figures from the call's statistics: the worse of the loss we see
    /// and the loss they report, the engine's round trip (else the relay's).
    pub fn from_stats(stats: &mocha_client::CallStats) -> Self {
        let media = &stats.media;
        LinkReport {
            loss_percent: media.loss_percent.max(media.remote_loss_percent),
            jitter_ms: media.jitter_ms,
            round_trip_ms: media.round_trip_ms.or(stats.relay_round_trip_ms).unwrap_or(0.0),
            over_tls: stats.path == Some(CallPath::Tls),
        }
    }

    /// The worst of loss, jitter and round trip decides (a call is as good as its weakest
    /// part); the bounds are the usual ones for speech (ITU-T G.114's 150 ms one way).
    pub fn signal(&self) -> Signal {
        let by = |value: f32, bounds: [f32; 3]| match value {
            v if v <= bounds[0] => Signal::Excellent,
            v if v <= bounds[1] => Signal::Good,
            v if v <= bounds[2] => Signal::Fair,
            _ => Signal::Poor,
        };
        let loss = by(self.loss_percent, [1.0, 3.0, 8.0]);
        let jitter = by(self.jitter_ms, [20.0, 40.0, 80.0]);
        let round_trip = by(self.round_trip_ms, [150.0, 300.0, 500.0]);
        loss.min(jitter).min(round_trip)
    }

    /// The line under the bars: "Good connection (2 % lost, 30 ms jitter, 80 ms round trip),
    /// through the server over TLS".
    pub fn describe(&self) -> String {
        let quality = match self.signal() {
            Signal::Excellent => "Excellent connection",
            Signal::Good => "Good connection",
            Signal::Fair => "Fair connection",
            Signal::Poor => "Poor connection",
        };
        let mut line = format!(
            "{quality} ({:.0} % lost, {:.0} ms jitter, {:.0} ms round trip)",
            self.loss_percent, self.jitter_ms, self.round_trip_ms
        );
        if self.over_tls {
            line.push_str(", through the server over TLS (no direct UDP path)");
        }
        line
    }
}

/// "0:07", "12:34", "1:02:03".
pub fn duration_label(elapsed: Duration) -> String {
    let seconds = elapsed.as_secs();
    let (h, m, s) = (seconds / 3600, seconds / 60 % 60, seconds % 60);
    if h > 0 { format!("{h}:{m:02}:{s:02}") } else { format!("{m}:{s:02}") }
}

/// Calls are between two people: a conversation with more gets this refusal.
pub fn group_call_refusal(others: usize) -> Option<&'static str> {
    (others > 1).then_some("Calls are between two people: leave the others out of this conversation, or call from a conversation with one contact.")
}

/// The status to show while in a call: "On the phone" when the option says so and the
/// person is plainly Online (Busy, Away… are theirs to keep); `None` leaves it alone.
pub fn status_during_call(show_on_the_phone: bool, current: Status) -> Option<Status> {
    (show_on_the_phone && current == Status::Online).then_some(Status::OnThePhone)
}

/// One call, as the window shows it.
#[derive(Clone, Debug, PartialEq)]
pub struct CallView {
    pub kind: CallKind,
    /// Who is on the other end.
    pub other: String,
    pub phase: CallPhase,
    pub muted: bool,
    pub camera_on: bool,
    /// 0.0–1.0, the speakers' level for this call.
    pub volume: f32,
    pub link: Option<LinkReport>,
    /// A device that went away mid-call, or "no microphone here".
    pub device_problems: Vec<String>,
}

impl CallView {
    pub fn new(kind: CallKind, other: impl Into<String>, incoming: bool) -> Self {
        Self {
            kind,
            other: other.into(),
            phase: CallPhase::Ringing { incoming },
            muted: false,
            camera_on: kind == CallKind::Video,
            volume: 1.0,
            link: None,
            device_problems: Vec::new(),
        }
    }

    /// The line under their name: "Ringing…", "0:42", or how it ended.
    pub fn status_line(&self) -> String {
        match &self.phase {
            CallPhase::Ringing { incoming: true } => format!("{} is calling you…", self.other),
            CallPhase::Ringing { incoming: false } => format!("Calling {}…", self.other),
            CallPhase::Connecting => "Connecting…".to_string(),
            CallPhase::Connected { elapsed } => duration_label(*elapsed),
            CallPhase::Ended(end) => end.note(self.kind, &self.other),
        }
    }
}

/// How often an incoming call rings again while nobody answers.
pub const RING_EVERY: Duration = Duration::from_secs(3);

/// The app's call: one at a time, in one conversation, with one other person.
#[derive(Clone, Debug, PartialEq)]
pub struct CallSession {
    pub conversation: ConversationId,
    /// Known from the invitation for theirs; from the backend once ours is placed.
    pub call_id: Option<String>,
    /// The other person (for ours, the conversation's only other member).
    pub other_id: UserId,
    pub view: CallView,
    /// Whether they muted, and whether their camera is on.
    pub peer_muted: bool,
    pub peer_camera: bool,
    /// Pictures and volume, shared with the call's devices.
    pub pictures: CallPictures,
    pub volume: Volume,
    /// The status to go back to when "On the phone" was set for this call.
    pub status_before: Option<Status>,
    /// When the ring was last sounded (incoming calls).
    pub rang_at: Option<std::time::Instant>,
}

impl CallSession {
    pub fn new(conversation: ConversationId, other_id: UserId, view: CallView) -> Self {
        Self {
            conversation,
            call_id: None,
            other_id,
            view,
            peer_muted: false,
            peer_camera: false,
            pictures: CallPictures::default(),
            volume: Volume::default(),
            status_before: None,
            rang_at: None,
        }
    }

    /// Whether the call is waiting for us to answer.
    pub fn is_ringing_here(&self) -> bool {
        self.view.phase == CallPhase::Ringing { incoming: true }
    }

    /// Follows the call's snapshot; `Some` with how it ended once it has.
    pub fn apply(&mut self, snapshot: &CallSnapshot) -> Option<CallEnd> {
        self.peer_muted = snapshot.peer.muted;
        self.peer_camera = snapshot.peer.camera;
        self.view.muted = snapshot.muted;
        self.view.camera_on = snapshot.camera;
        if let Some(problem) = &snapshot.stats.device_error
            && !self.view.device_problems.contains(problem)
        {
            self.view.device_problems.push(problem.clone());
        }
        match &snapshot.state {
            CallState::Ringing => self.view.phase = CallPhase::Ringing { incoming: false },
            CallState::Connecting => self.view.phase = CallPhase::Connecting,
            CallState::Active => {
                self.view.phase = CallPhase::Connected { elapsed: snapshot.stats.duration };
                if snapshot.stats.path.is_some() {
                    self.view.link = Some(LinkReport::from_stats(&snapshot.stats));
                }
            }
            CallState::Ended(end) => {
                let end = CallEnd::from_client(end, &self.view.other);
                self.view.phase = CallPhase::Ended(end.clone());
                return Some(end);
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn link(loss: f32, jitter: f32, rtt: f32) -> LinkReport {
        LinkReport { loss_percent: loss, jitter_ms: jitter, round_trip_ms: rtt, over_tls: false }
    }

    #[test]
    fn the_weakest_part_of_the_line_decides_the_bars() {
        assert_eq!(link(0.0, 5.0, 40.0).signal(), Signal::Excellent);
        assert_eq!(link(2.0, 5.0, 40.0).signal(), Signal::Good);
        assert_eq!(link(0.0, 60.0, 40.0).signal(), Signal::Fair);
        assert_eq!(link(0.0, 5.0, 900.0).signal(), Signal::Poor);
        assert_eq!(link(12.0, 5.0, 40.0).signal(), Signal::Poor);
    }

    #[test]
    fn the_line_says_when_the_call_fell_back_to_tls() {
        let mut report = link(2.0, 30.0, 80.0);
        assert_eq!(report.describe(), "Good connection (2 % lost, 30 ms jitter, 80 ms round trip)");
        report.over_tls = true;
        assert!(report.describe().ends_with("through the server over TLS (no direct UDP path)"));
    }

    #[test]
    fn durations_read_like_a_clock() {
        assert_eq!(duration_label(Duration::from_secs(7)), "0:07");
        assert_eq!(duration_label(Duration::from_secs(754)), "12:34");
        assert_eq!(duration_label(Duration::from_secs(3723)), "1:02:03");
    }

    #[test]
    fn endings_are_told_from_each_side() {
        let voice = CallKind::Voice;
        assert_eq!(CallEnd::Missed { incoming: true }.note(voice, "Bob"), "You missed a call from Bob.");
        assert_eq!(
            CallEnd::Declined { by_them: true }.note(CallKind::Video, "Bob"),
            "Bob declined your video call."
        );
        assert_eq!(CallEnd::HungUp { by_them: false }.note(voice, "Bob"), "You ended the call.");
        assert!(CallEnd::Missed { incoming: true }.is_missed_call());
        assert!(!CallEnd::Missed { incoming: false }.is_missed_call());
    }

    #[test]
    fn group_calls_are_refused_and_on_the_phone_follows_the_option() {
        assert_eq!(group_call_refusal(1), None);
        assert!(group_call_refusal(2).is_some());
        assert_eq!(status_during_call(true, Status::Online), Some(Status::OnThePhone));
        assert_eq!(status_during_call(false, Status::Online), None);
        assert_eq!(status_during_call(true, Status::Busy), None);
    }

    #[test]
    fn a_session_follows_the_calls_snapshots_to_its_end() {
        use mocha_client::{CallStats, PeerState};
        let mut session =
            CallSession::new(ConversationId(1), UserId(2), CallView::new(CallKind::Voice, "Bob", false));
        let mut snapshot = CallSnapshot {
            state: CallState::Connecting,
            peer: PeerState::default(),
            muted: false,
            camera: false,
            stats: CallStats::default(),
            media_started: None,
        };
        assert_eq!(session.apply(&snapshot), None);
        assert_eq!(session.view.status_line(), "Connecting…");
        snapshot.state = CallState::Active;
        snapshot.peer.camera = true;
        snapshot.stats.path = Some(CallPath::Tls);
        snapshot.stats.duration = Duration::from_secs(65);
        snapshot.stats.media.loss_percent = 0.5;
        snapshot.stats.media.remote_loss_percent = 4.0;
        snapshot.stats.relay_round_trip_ms = Some(20.0);
        snapshot.stats.device_error = Some("the microphone failed: unplugged".into());
        assert_eq!(session.apply(&snapshot), None);
        assert_eq!(session.view.status_line(), "1:05");
        assert!(session.peer_camera);
        let link = session.view.link.expect("a link report");
        assert_eq!((link.loss_percent, link.round_trip_ms, link.over_tls), (4.0, 20.0, true));
        assert_eq!(link.signal(), Signal::Fair);
        session.apply(&snapshot);
        assert_eq!(session.view.device_problems, ["the microphone failed: unplugged"], "said once");
        snapshot.state = CallState::Ended(mocha_client::CallEnd::PeerHungUp);
        assert_eq!(session.apply(&snapshot), Some(CallEnd::HungUp { by_them: true }));
        assert_eq!(session.view.status_line(), "Bob ended the call.");
    }

    #[test]
    fn a_call_view_starts_ringing_with_the_camera_of_its_kind() {
        let call = CallView::new(CallKind::Video, "Bob", true);
        assert!(call.camera_on);
        assert_eq!(call.status_line(), "Bob is calling you…");
        let mut call = CallView::new(CallKind::Voice, "Bob", false);
        assert!(!call.camera_on);
        assert_eq!(call.status_line(), "Calling Bob…");
        call.phase = CallPhase::Connected { elapsed: Duration::from_secs(42) };
        assert_eq!(call.status_line(), "0:42");
    }
}
