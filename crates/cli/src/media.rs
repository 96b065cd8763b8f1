//! A call's devices from the command line's flags: WAV files, or the machine's default
//! microphone and speaker when no file is given.

use anyhow::{Context as _, Result, bail};
use mocha_client::CallDevices;
use mocha_client::media::audio::{AudioSink, AudioSource, Microphone, Speaker, WavRecorder, WavSource};

use crate::args::CallMediaArgs;
use crate::commands::calls::numbered;

/// What the recording of a call is written at (the engine's own rate, so no resampling).
const RECORDING_RATE: u32 = 48_000;

/// Opens what call number `nth` of this run uses (recordings of later calls get numbered
/// names, so one run of `listen --answer-calls` never overwrites an earlier call).
pub fn open(args: &CallMediaArgs, nth: usize) -> Result<CallDevices> {
    if args.video_in.is_some() || args.video_out.is_some() {
        bail!(
            "video calls are not available yet: the video pipeline is not wired into calls (use the audio flags only)"
        );
    }
    let audio_in: Box<dyn AudioSource> = match &args.audio_in {
        Some(path) => {
            Box::new(WavSource::open(path).with_context(|| format!("cannot play {}", path.display()))?)
        }
        None => Box::new(
            Microphone::open("")
                .context("no microphone to call with (give --audio-in IN.wav to use a file instead)")?,
        ),
    };
    let audio_out: Box<dyn AudioSink> = match &args.audio_out {
        Some(path) => {
            let path = numbered(path, nth);
            Box::new(
                WavRecorder::create(&path, RECORDING_RATE)
                    .with_context(|| format!("cannot record to {}", path.display()))?,
            )
        }
        None => Box::new(
            Speaker::open("")
                .context("no speaker to play the call on (give --audio-out OUT.wav to record instead)")?,
        ),
    };
    Ok(CallDevices { audio_in, audio_out })
}
