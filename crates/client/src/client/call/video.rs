//! A call's pictures: the camera (or a file, or a test pattern) read on a thread of its
//! own — a camera blocks until its next frame, and the driver's 10 ms tick must not —
//! and released to the engine when its time comes; and the other side's decoded frames
//! handed to a sink (a window, a Y4M file, a recorder).

use std::sync::mpsc::{Receiver, SyncSender, TryRecvError, sync_channel};
use std::time::Duration;

use mocha_media::video::{CLOCK_HZ, Frame, VideoSink, VideoSource};

/// Frames read ahead of their time: enough to cover a camera's jitter, few enough that
/// a file is not read into memory.
const READ_AHEAD: usize = 2;

/// The camera side: frames in their source's own timing.
pub(crate) struct VideoFeed {
    frames: Receiver<Result<Frame, String>>,
    pending: Option<Frame>,
    /// The first frame's source timestamp: later frames are due that many 90 kHz ticks later.
    first: Option<u32>,
    /// When (since the call's media started) the first frame was due: a camera put in
    /// mid-call starts then, not with a burst of "late" frames.
    base: Option<Duration>,
    ended: bool,
    pub error: Option<String>,
}

impl VideoFeed {
    pub fn start(mut source: Box<dyn VideoSource + Send>) -> Result<Self, String> {
        let (sender, frames): (SyncSender<Result<Frame, String>>, _) = sync_channel(READ_AHEAD);
        std::thread::Builder::new()
            .name("call camera".into())
            .spawn(move || {
                loop {
                    let next = match source.next_frame() {
                        Ok(Some(frame)) => Ok(frame),
                        Ok(None) => break,
                        Err(error) => Err(error.to_string()),
                    };
                    let failed = next.is_err();
                    // The call is over (the driver dropped its end), or the source failed.
                    if sender.send(next).is_err() || failed {
                        break;
                    }
                }
            })
            .map_err(|error| format!("cannot start the camera's thread: {error}"))?;
        Ok(VideoFeed { frames, pending: None, first: None, base: None, ended: false, error: None })
    }

    /// The frames due `elapsed` after the call's media started, oldest first.
    pub fn due(&mut self, elapsed: Duration, out: &mut Vec<Frame>) {
        loop {
            if self.pending.is_none() && !self.ended {
                match self.frames.try_recv() {
                    Ok(Ok(frame)) => self.pending = Some(frame),
                    Ok(Err(error)) => {
                        self.error = Some(format!("the camera: {error}"));
                        self.ended = true;
                    }
                    Err(TryRecvError::Empty) => {}
                    Err(TryRecvError::Disconnected) => self.ended = true,
                }
            }
            let Some(frame) = &self.pending else { return };
            let first = *self.first.get_or_insert(frame.timestamp);
            let base = *self.base.get_or_insert(elapsed);
            let offset = frame.timestamp.wrapping_sub(first);
            let at = base + Duration::from_micros(u64::from(offset) * 1_000_000 / u64::from(CLOCK_HZ));
            if at > elapsed {
                return;
            }
            out.extend(self.pending.take());
        }
    }
}

/// The other side's pictures, to wherever the caller wants them.
pub(crate) struct VideoOut {
    sink: Box<dyn VideoSink + Send>,
    pub shown: u64,
    pub error: Option<String>,
}

impl VideoOut {
    pub fn new(sink: Box<dyn VideoSink + Send>) -> Self {
        VideoOut { sink, shown: 0, error: None }
    }

    pub fn show(&mut self, frame: &Frame) {
        if self.error.is_some() {
            return;
        }
        match self.sink.write_frame(frame) {
            Ok(()) => self.shown += 1,
            Err(error) => self.error = Some(format!("the video output: {error}")),
        }
    }
}
