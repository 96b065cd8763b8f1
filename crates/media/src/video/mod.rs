//! Video: capture, encoding, packetisation, reassembly, decoding, lip sync.
//!
//! The send path is [`VideoSender`] (frames in at a capture time → [`MediaPacket`]s of at
//! most [`MAX_PAYLOAD`] bytes out, at a bitrate that [`BitrateController`] derives from
//! the peer's reports); the receive path is [`VideoReceiver`] (packets in → decoded
//! frames out, in order, with freezes and drops counted and keyframe requests when a
//! frame is lost). Devices and files sit behind [`VideoSource`] and [`VideoSink`].
//! The wire format of a fragment is in `docs/calls.md`; why H.264: `docs/media.md`.
//!
//! [`MediaPacket`]: crate::MediaPacket
//! [`MAX_PAYLOAD`]: crate::packet::MAX_PAYLOAD

mod bitrate;
#[cfg(all(feature = "camera", target_os = "linux"))]
mod camera;
mod codec;
mod device;
mod frame;
mod packetize;
mod pattern;
mod reassembly;
mod receiver;
mod sender;
mod sync;
mod y4m;

pub use bitrate::{BitrateConfig, BitrateController, BitrateError};
#[cfg(all(feature = "camera", target_os = "linux"))]
pub use camera::CameraSource;
pub use codec::{EncodedFrame, H264Decoder, H264Encoder};
pub use device::{MemorySink, VideoSink, VideoSource};
pub use frame::{Frame, FrameError, MAX_HEIGHT, MAX_WIDTH};
pub use packetize::{FragmentHeader, HEADER_LEN, MAX_FRAGMENTS, Packetizer};
pub use pattern::{TestPattern, read_counter};
pub use reassembly::{
    AssembledFrame, KEYFRAME_REQUEST_INTERVAL, PacketError, REORDER_WAIT, Reassembler, ReassemblyStats,
    STALL_WAIT,
};
pub use receiver::{VideoReceiver, VideoReceiverStats};
pub use sender::{VideoSender, VideoSenderConfig, VideoSenderStats};
pub use sync::{PlayoutClock, SYNC_AUDIO_EARLY_MAX, SYNC_AUDIO_LATE_MAX, VideoPlayout};
pub use y4m::{Y4mError, Y4mReader, Y4mWriter};

/// Video timestamps count ticks of this clock (the stream 1 `timestamp`).
pub const CLOCK_HZ: u32 = 90_000;

/// What can go wrong on the video path, for the caller to report.
#[derive(Debug, thiserror::Error)]
pub enum VideoError {
    #[error("bad frame: {0}")]
    Frame(#[from] FrameError),
    #[error("Y4M: {0}")]
    Y4m(#[from] Y4mError),
    #[error("H.264 encoder: {0}")]
    Encode(String),
    #[error("H.264 decoder: {0}")]
    Decode(String),
    #[error("encoded frame of {bytes} bytes needs more than {MAX_FRAGMENTS} fragments")]
    FrameTooLarge { bytes: usize },
    #[error("bitrate: {0}")]
    Bitrate(#[from] BitrateError),
    #[error("camera: {0}")]
    Camera(String),
    #[error("recording sink is full ({capacity} frames)")]
    SinkFull { capacity: usize },
}
