//! A call's state as the call window will show it, apart from any window and from the
//! media engine: ringing, connected for how long, how good the line is, why it ended.
//! Pure and unit-tested; prepared for issue 13 parts 1–4 (the call window), which wait
//! for `mocha_client::Call` — nothing in the app creates a [`CallView`] yet.

use std::time::Duration;

use mocha_client::proto::Status;

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
            CallEnd::Failed(reason) => format!("The {call} ended: {reason}"),
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
            CallPhase::Connected { elapsed } => duration_label(*elapsed),
            CallPhase::Ended(end) => end.note(self.kind, &self.other),
        }
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
