//! A call's devices from the command line's flags: WAV files, or the microphone and
//! speakers named with `--microphone`/`--speakers` (the system's own when not named);
//! Y4M files or a camera for video. `mocha devices` lists the names.

use anyhow::{Context as _, Result};
use mocha_client::{CallDevices, CallOptions};
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
        None => Box::new(Microphone::open(args.microphone.as_deref().unwrap_or("")).context(
            "cannot open the microphone (`mocha devices` lists them; --audio-in IN.wav uses a file instead)",
        )?),
    };
    let audio_out: Box<dyn AudioSink> = match &args.audio_out {
        Some(path) => {
            let path = numbered(path, nth);
            Box::new(
                WavRecorder::create(&path, RECORDING_RATE)
                    .with_context(|| format!("cannot record to {}", path.display()))?,
            )
        }
        None => Box::new(Speaker::open(args.speakers.as_deref().unwrap_or("")).context(
            "cannot open the speakers (`mocha devices` lists them; --audio-out OUT.wav records instead)",
        )?),
    };
    let video_in: Option<Box<dyn VideoSource + Send>> = match &args.video_in {
        Some(path) => {
            let file = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
            let reader = Y4mReader::new(BufReader::new(file))
                .with_context(|| format!("{} is not a 4:2:0 Y4M video", path.display()))?;
            Some(Box::new(reader))
        }
        None => match &args.camera {
            Some(name) => Some(camera::open(name)?),
            None => None,
        },
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

/// The call's options from the flags: a video call when there is something to send.
pub fn options(args: &CallMediaArgs) -> CallOptions {
    let mut options = CallOptions::default().video(args.video_in.is_some() || args.camera.is_some());
    options.echo_cancellation = !args.no_echo_cancellation;
    options
}

/// The devices calls can use, by kind, with the names the flags take (or why a kind
/// cannot be listed).
pub fn list_devices() -> Vec<(&'static str, Result<Vec<String>, String>)> {
    use mocha_client::media::audio::device_names;
    vec![
        ("microphones", device_names(true).map_err(|e| e.to_string())),
        ("speakers", device_names(false).map_err(|e| e.to_string())),
        ("cameras", camera::list()),
    ]
}

/// Cameras exist only in builds with the `camera` feature (Video4Linux, Linux only).
#[cfg(all(feature = "camera", target_os = "linux"))]
mod camera {
    use anyhow::{Context as _, Result};
    use mocha_client::media::video::{CameraSource, VideoSource};

    /// What is asked of the camera; it answers with the closest format it has.
    const WIDTH: u32 = 640;
    const HEIGHT: u32 = 480;
    const FPS: u32 = 30;

    pub fn open(name: &str) -> Result<Box<dyn VideoSource + Send>> {
        let camera = CameraSource::open(name, WIDTH, HEIGHT, FPS).context(
            "cannot open the camera (`mocha devices` lists them; --video-in IN.y4m uses a file instead)",
        )?;
        Ok(Box::new(camera))
    }

    pub fn list() -> Result<Vec<String>, String> {
        CameraSource::list().map_err(|e| e.to_string())
    }
}

#[cfg(not(all(feature = "camera", target_os = "linux")))]
mod camera {
    use anyhow::{Result, bail};
    use mocha_client::media::video::VideoSource;

    const NOT_BUILT: &str = "this build of mocha has no camera support (build it with `--features camera`, \
         on Linux); --video-in IN.y4m sends a video file instead";

    pub fn open(_name: &str) -> Result<Box<dyn VideoSource + Send>> {
        bail!(NOT_BUILT)
    }

    pub fn list() -> Result<Vec<String>, String> {
        Err(NOT_BUILT.to_owned())
    }
}
