//! A call's devices from the command line's flags: WAV files, or the machine's default
//! microphone and speaker when no file is given; Y4M files for video.

use anyhow::{Context as _, Result};
use mocha_client::CallDevices;
use std::fs::File;
use std::io::{BufReader, BufWriter};

use mocha_client::media::audio::{AudioSink, AudioSource, Microphone, Speaker, WavRecorder, WavSource};
use mocha_client::media::video::{VideoSink, VideoSource, Y4mReader, Y4mWriter};

use crate::args::CallMediaArgs;
use crate::commands::calls::numbered;

/// What the recording of a call is written at (the engine's own rate, so no resampling).
const RECORDING_RATE: u32 = 48_000;
/// The frame rate written into a video recording's header (what the other side's camera
/// sends is not known in advance; players only use it for pacing).
const RECORDING_FPS: u32 = 30;

/// Opens what call number `nth` of this run uses (recordings of later calls get numbered
/// names, so one run of `listen --answer-calls` never overwrites an earlier call).
pub fn open(args: &CallMediaArgs, nth: usize) -> Result<CallDevices> {
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
    let video_in: Option<Box<dyn VideoSource + Send>> = match &args.video_in {
        Some(path) => {
            let file = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
            let reader = Y4mReader::new(BufReader::new(file))
                .with_context(|| format!("{} is not a 4:2:0 Y4M video", path.display()))?;
            Some(Box::new(reader))
        }
        None => None,
    };
    let video_out: Option<Box<dyn VideoSink + Send>> = match &args.video_out {
        Some(path) => {
            let path = numbered(path, nth);
            let file = File::create(&path).with_context(|| format!("cannot record to {}", path.display()))?;
            Some(Box::new(Y4mWriter::new(BufWriter::new(file), RECORDING_FPS, 1)))
        }
        None => None,
    };
    Ok(CallDevices { audio_in, audio_out, video_in, video_out })
}
