//! Voice: capture, echo cancellation, noise suppression, Opus, jitter buffer, playback.
//!
//! Everything inside the engine runs at 48 kHz mono `f32` in [-1, 1]. Sources and sinks
//! state their own rate; a [`Resampler`] sits between a device's rate and 48 kHz.

pub mod codec;
#[cfg(feature = "devices")]
pub mod device;
pub mod jitter;
pub mod measure;
pub mod processing;
pub mod resample;
pub mod synth;
pub mod wav;

pub use codec::{CodecError, OpusDecoder, OpusEncoder};
#[cfg(feature = "devices")]
pub use device::{Microphone, Speaker, device_names};
pub use jitter::{JitterBuffer, Playout};
pub use processing::VoiceProcessor;
pub use resample::Resampler;
pub use synth::{Chirp, MemorySink, MemorySource, SpeechLike, Tone};
pub use wav::{WavRecorder, WavSource};

/// The engine's sample rate: Opus's native rate, so no resampling inside the engine.
pub const SAMPLE_RATE: u32 = 48_000;
/// One Opus frame, 20 ms: the packet interval.
pub const FRAME_SAMPLES: usize = 960;
/// 10 ms, the unit the echo canceller and noise suppressor work in.
pub const BLOCK_SAMPLES: usize = 480;

/// Something that produces mono samples at a stated rate: a microphone, a file, a tone.
pub trait AudioSource: Send {
    /// Samples per second of what [`read`](AudioSource::read) returns.
    fn sample_rate(&self) -> u32;
    /// Fills the front of `out` with the next samples and says how many it wrote. A live
    /// source writes what it has (possibly 0); a file source writes fewer than asked only
    /// at its end, after which [`is_finished`](AudioSource::is_finished) is true.
    fn read(&mut self, out: &mut [f32]) -> Result<usize, AudioError>;
    /// True once a finite source has nothing more to give.
    fn is_finished(&self) -> bool {
        false
    }
}

/// Something that consumes mono samples at a stated rate: speakers, a file, memory.
pub trait AudioSink: Send {
    fn sample_rate(&self) -> u32;
    fn write(&mut self, samples: &[f32]) -> Result<(), AudioError>;
    /// Writes out anything buffered (a file's header and tail). Called once at the end.
    fn finish(&mut self) -> Result<(), AudioError> {
        Ok(())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AudioError {
    #[error("the WAV file {path} could not be used: {source}")]
    Wav {
        path: String,
        #[source]
        source: hound::Error,
    },
    #[error("the WAV file {path} is not supported: {reason}")]
    UnsupportedWav { path: String, reason: String },
    #[error("no {kind} named \"{name}\" was found")]
    NoSuchDevice { kind: &'static str, name: String },
    #[error("there is no default {kind}")]
    NoDefaultDevice { kind: &'static str },
    #[error("the {kind} could not be used: {reason}")]
    Device { kind: &'static str, reason: String },
    #[error("the sample rate {0} Hz is not supported (8 kHz to 192 kHz)")]
    UnsupportedRate(u32),
    #[error("resampling failed: {0}")]
    Resample(String),
}
