//! The alert sounds, synthesised (no audio files to ship or license), and a player that
//! plays them on the chosen speakers through `cpal` on its own thread.

use std::f32::consts::TAU;
use std::sync::mpsc;
use std::sync::{Arc, Mutex, PoisonError};

use crate::worker::{Problem, Worker};
use std::time::Duration;

use cpal::traits::{DeviceTrait, HostTrait, StreamTrait};
use cpal::{FromSample, SampleFormat, SizedSample};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Sound {
    Message,
    ContactSignedIn,
    Nudge,
    FileReceived,
    /// An incoming call; repeated while it rings.
    Ring,
}

impl Sound {
    pub const ALL: [Sound; 5] =
        [Sound::Message, Sound::ContactSignedIn, Sound::Nudge, Sound::FileReceived, Sound::Ring];

    fn seconds(self) -> f32 {
        match self {
            Sound::Message => 0.4,
            Sound::ContactSignedIn => 0.75,
            Sound::Nudge => 0.5,
            Sound::FileReceived => 0.45,
            Sound::Ring => 0.8,
        }
    }
}

/// One struck note: a bell-like tone with a few overtones that dies away.
struct Note {
    start: f32,
    hertz: f32,
    decay: f32,
}

const fn note(start: f32, hertz: f32, decay: f32) -> Note {
    Note { start, hertz, decay }
}

impl Note {
    fn at(&self, t: f32) -> f32 {
        let t = t - self.start;
        if t < 0.0 {
            return 0.0;
        }
        let attack = (t / 0.004).min(1.0); // 4 ms, so a note never starts with a click
        let tone = (TAU * self.hertz * t).sin()
            + 0.35 * (TAU * 2.0 * self.hertz * t).sin()
            + 0.12 * (TAU * 3.0 * self.hertz * t).sin();
        attack * tone * (-t / self.decay).exp()
    }
}

/// A rising two-note "ding-dong" for a message, a four-note arpeggio for a sign-in, a
/// falling three-note figure for a file, a low rattle for a nudge, and for a call the
/// classic phone's warble: two tones trading places twenty times a second.
fn voice(sound: Sound, t: f32) -> f32 {
    const MESSAGE: [Note; 2] = [note(0.0, 783.99, 0.09), note(0.09, 1046.5, 0.14)];
    const SIGNED_IN: [Note; 4] =
        [note(0.0, 523.25, 0.2), note(0.12, 659.26, 0.2), note(0.24, 783.99, 0.2), note(0.36, 1046.5, 0.25)];
    const FILE: [Note; 3] = [note(0.0, 1318.5, 0.08), note(0.08, 987.77, 0.08), note(0.16, 783.99, 0.15)];
    let notes: &[Note] = match sound {
        Sound::Message => &MESSAGE,
        Sound::ContactSignedIn => &SIGNED_IN,
        Sound::FileReceived => &FILE,
        Sound::Nudge => {
            let buzz =
                (TAU * 110.0 * t).sin() + 0.5 * (TAU * 220.0 * t).sin() + 0.3 * (TAU * 330.0 * t).sin();
            let rattle = 0.5 + 0.5 * (TAU * 16.0 * t).sin();
            return buzz * rattle;
        }
        Sound::Ring => {
            // Two bursts ("brr-brr"), each rising and falling over 15 ms; inside them the
            // two tones trade places smoothly twenty times a second.
            let burst = |start: f32| {
                let into = t - start;
                if !(0.0..=0.33).contains(&into) {
                    return 0.0;
                }
                fade(into / 0.015) * fade((0.33 - into) / 0.015)
            };
            let warble = 0.5 + 0.5 * (TAU * 20.0 * t).sin();
            let high = (TAU * 1_318.5 * t).sin();
            let low = (TAU * 1_046.5 * t).sin();
            return (burst(0.0) + burst(0.42)) * (warble * high + (1.0 - warble) * low);
        }
    };
    notes.iter().map(|note| note.at(t)).sum()
}

const PEAK: f32 = 0.8;
const FADE_IN_SECONDS: f32 = 0.005;
const FADE_OUT_SECONDS: f32 = 0.03;

/// The sound as mono f32 samples in -1..=1 at `sample_rate` (synthesised: short classic-messenger-like chimes, each distinct, 0.15–0.8 s, with fade in/out so there are no clicks).
pub fn samples(sound: Sound, sample_rate: u32) -> Vec<f32> {
    if sample_rate == 0 {
        return Vec::new();
    }
    let rate = sample_rate as f32;
    let count = (sound.seconds() * rate).round() as usize;
    let mut samples: Vec<f32> = (0..count).map(|i| voice(sound, i as f32 / rate)).collect();
    let loudest = samples.iter().fold(0.0f32, |max, s| max.max(s.abs()));
    if loudest > 0.0 {
        samples.iter_mut().for_each(|s| *s *= PEAK / loudest);
    }
    let last = count.saturating_sub(1) as f32;
    for (i, sample) in samples.iter_mut().enumerate() {
        let from_start = i as f32 / rate;
        let to_end = (last - i as f32) / rate;
        *sample *= fade(from_start / FADE_IN_SECONDS) * fade(to_end / FADE_OUT_SECONDS);
    }
    samples
}

/// 0 at 0, 1 from 1 on, along half a cosine (no corner to hear).
fn fade(progress: f32) -> f32 {
    let p = progress.clamp(0.0, 1.0);
    0.5 - 0.5 * (std::f32::consts::PI * p).cos()
}

struct Request {
    sound: Sound,
    speakers: String,
}

/// Plays sounds on the chosen output device (by name; empty = system default) on its own thread; `play` never blocks and never panics. When no device can be opened it records the reason (`last_problem()`), logs it once with tracing::warn, and stays silent.
pub struct SoundPlayer {
    worker: Worker<Request>,
}

impl SoundPlayer {
    pub fn start() -> Self {
        SoundPlayer { worker: Worker::start("sound player", serve) }
    }

    /// Queues `sound` for the speakers named `speakers` (as [`crate::devices`] lists
    /// them; empty or not found = the system default).
    pub fn play(&self, sound: Sound, speakers: &str) {
        self.worker.send(Request { sound, speakers: speakers.to_owned() });
    }

    /// Why the last sound was not played as asked, if it was not.
    pub fn last_problem(&self) -> Option<String> {
        self.worker.last_problem()
    }
}

fn serve(inbox: mpsc::Receiver<Request>, problem: &Problem) {
    while let Ok(first) = inbox.recv() {
        // Sounds asked for while one played are played once each, not as a long queue
        // (twenty contacts signing in at once make one chime, not twenty).
        let mut batch = vec![first];
        for request in inbox.try_iter() {
            if !batch.iter().any(|r| r.sound == request.sound && r.speakers == request.speakers) {
                batch.push(request);
            }
        }
        for request in batch {
            problem.set(play_now(request.sound, &request.speakers));
        }
    }
}

/// Plays one sound to the end; `Some(reason)` when it could not be played as asked.
fn play_now(sound: Sound, speakers: &str) -> Option<String> {
    let host = cpal::default_host();
    let (device, note) = match choose_device(&host, speakers) {
        Ok(chosen) => chosen,
        Err(e) => return Some(e.to_string()),
    };
    let outcome = device.map_or(Err(PlayError::NoDevice), |device| play_on(&device, sound));
    match (note, outcome) {
        (None, Ok(())) => None,
        (Some(note), Ok(())) => Some(format!("{note}; played on the default speakers")),
        (None, Err(e)) => Some(e.to_string()),
        (Some(note), Err(e)) => Some(format!("{note}, and {e}")),
    }
}

/// The named device, else the default one with a note saying the named one is gone.
fn choose_device(
    host: &cpal::Host,
    speakers: &str,
) -> Result<(Option<cpal::Device>, Option<String>), PlayError> {
    let speakers = speakers.trim();
    if speakers.is_empty() {
        return Ok((host.default_output_device(), None));
    }
    match crate::devices::output_device_named(host, speakers).map_err(|e| PlayError::List(e.to_string()))? {
        Some(device) => Ok((Some(device), None)),
        None => {
            Ok((host.default_output_device(), Some(format!("the speakers \"{speakers}\" were not found"))))
        }
    }
}

#[derive(Debug, thiserror::Error)]
enum PlayError {
    #[error("no sound output device is available")]
    NoDevice,
    #[error("the sound devices could not be listed: {0}")]
    List(String),
    #[error("the speakers' settings could not be read: {0}")]
    Config(String),
    #[error("the speakers use a sample format this player does not handle ({0})")]
    Format(SampleFormat),
    #[error("the speakers could not be opened: {0}")]
    Open(String),
    #[error("the sound stopped: {0}")]
    Stream(String),
}

fn play_on(device: &cpal::Device, sound: Sound) -> Result<(), PlayError> {
    let config = device.default_output_config().map_err(|e| PlayError::Config(e.to_string()))?;
    let format = config.sample_format();
    let config: cpal::StreamConfig = config.into();
    match format {
        SampleFormat::I8 => play_as::<i8>(device, config, sound),
        SampleFormat::I16 => play_as::<i16>(device, config, sound),
        SampleFormat::I24 => play_as::<cpal::I24>(device, config, sound),
        SampleFormat::I32 => play_as::<i32>(device, config, sound),
        SampleFormat::I64 => play_as::<i64>(device, config, sound),
        SampleFormat::U8 => play_as::<u8>(device, config, sound),
        SampleFormat::U16 => play_as::<u16>(device, config, sound),
        SampleFormat::U32 => play_as::<u32>(device, config, sound),
        SampleFormat::U64 => play_as::<u64>(device, config, sound),
        SampleFormat::F32 => play_as::<f32>(device, config, sound),
        SampleFormat::F64 => play_as::<f64>(device, config, sound),
        other => Err(PlayError::Format(other)),
    }
}

/// How long the device may take to ask for the first samples and to drain the last.
const SLACK: Duration = Duration::from_secs(2);
/// Left for the device to play its last buffer before the stream is dropped.
const TAIL: Duration = Duration::from_millis(150);

fn play_as<T: SizedSample + FromSample<f32>>(
    device: &cpal::Device,
    config: cpal::StreamConfig,
    sound: Sound,
) -> Result<(), PlayError> {
    let mono = samples(sound, config.sample_rate);
    let length = Duration::from_secs_f32(mono.len() as f32 / config.sample_rate.max(1) as f32);
    let channels = usize::from(config.channels).max(1);
    let (finished, done) = mpsc::channel();
    let stream_error = Arc::new(Mutex::new(None));
    let on_error = {
        let stream_error = stream_error.clone();
        move |e: cpal::Error| {
            *stream_error.lock().unwrap_or_else(PoisonError::into_inner) = Some(e.to_string())
        }
    };
    let mut position = 0;
    let stream = device
        .build_output_stream(
            config,
            move |output: &mut [T], _: &cpal::OutputCallbackInfo| {
                if fill(output, channels, &mono, &mut position) {
                    let _ = finished.send(());
                }
            },
            on_error,
            Some(SLACK),
        )
        .map_err(|e| PlayError::Open(e.to_string()))?;
    stream.play().map_err(|e| PlayError::Open(e.to_string()))?;
    let _ = done.recv_timeout(length + SLACK);
    std::thread::sleep(TAIL);
    drop(stream);
    match stream_error.lock().unwrap_or_else(PoisonError::into_inner).take() {
        Some(e) => Err(PlayError::Stream(e)),
        None => Ok(()),
    }
}

/// Writes the next frames of `mono` to every channel of `output` (silence after the
/// end); true once the whole sound has been handed over.
fn fill<T: SizedSample + FromSample<f32>>(
    output: &mut [T],
    channels: usize,
    mono: &[f32],
    position: &mut usize,
) -> bool {
    for frame in output.chunks_mut(channels) {
        let value = T::from_sample(mono.get(*position).copied().unwrap_or(0.0));
        frame.iter_mut().for_each(|sample| *sample = value);
        *position = (*position + 1).min(mono.len());
    }
    *position >= mono.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    const RATE: u32 = 48_000;

    fn rms(samples: &[f32]) -> f32 {
        (samples.iter().map(|s| s * s).sum::<f32>() / samples.len() as f32).sqrt()
    }

    #[test]
    fn every_sound_is_audible_and_within_range() {
        for sound in Sound::ALL {
            let samples = samples(sound, RATE);
            assert!(rms(&samples) > 0.1, "{sound:?} is too quiet: {}", rms(&samples));
            assert!(samples.iter().all(|s| (-1.0..=1.0).contains(s)), "{sound:?} clips");
        }
    }

    #[test]
    fn every_sound_fades_in_and_out() {
        for sound in Sound::ALL {
            let samples = samples(sound, RATE);
            let edge = (RATE / 1000) as usize; // the first and last millisecond
            assert!(samples[..edge].iter().all(|s| s.abs() < 0.05), "{sound:?} starts with a click");
            assert!(
                samples[samples.len() - edge..].iter().all(|s| s.abs() < 0.05),
                "{sound:?} ends with a click"
            );
            assert_eq!(samples[0], 0.0);
            assert_eq!(samples[samples.len() - 1], 0.0);
        }
    }

    #[test]
    fn every_sound_lasts_between_0_15_and_0_8_seconds_at_any_rate() {
        for rate in [8_000, 44_100, 48_000, 96_000] {
            for sound in Sound::ALL {
                let seconds = samples(sound, rate).len() as f32 / rate as f32;
                assert!((0.15..=0.8).contains(&seconds), "{sound:?} at {rate} Hz lasts {seconds} s");
            }
        }
        assert!(samples(Sound::Message, 0).is_empty());
    }

    #[test]
    fn the_sounds_differ_from_each_other() {
        for (i, a) in Sound::ALL.iter().enumerate() {
            for b in &Sound::ALL[i + 1..] {
                let (a_samples, b_samples) = (samples(*a, RATE), samples(*b, RATE));
                let length = a_samples.len().max(b_samples.len());
                let at = |s: &[f32], i: usize| s.get(i).copied().unwrap_or(0.0);
                let difference: Vec<f32> =
                    (0..length).map(|i| at(&a_samples, i) - at(&b_samples, i)).collect();
                assert!(rms(&difference) > 0.1, "{a:?} and {b:?} sound alike");
            }
        }
    }

    #[test]
    fn fill_copies_mono_to_every_channel_then_silence() {
        let mono = [0.5, -0.5, 1.0];
        let mut position = 0;
        let mut output = [0i16; 4]; // two stereo frames
        assert!(!fill(&mut output, 2, &mono, &mut position));
        assert_eq!(output, [16384, 16384, -16384, -16384]);
        let mut output = [7i16; 4];
        assert!(fill(&mut output, 2, &mono, &mut position));
        assert_eq!(output, [i16::MAX, i16::MAX, 0, 0]);
        let mut output = [0.25f32; 3];
        assert!(fill(&mut output, 1, &mono, &mut position));
        assert_eq!(output, [0.0; 3]);
    }

    fn wait_for_problem(player: &SoundPlayer) -> Option<String> {
        for _ in 0..200 {
            if let Some(problem) = player.last_problem() {
                return Some(problem);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        None
    }

    #[test]
    fn unknown_speakers_are_reported_and_playing_never_panics() {
        let player = SoundPlayer::start();
        player.play(Sound::Nudge, "No Such Speakers 4711");
        let problem = wait_for_problem(&player).expect("a problem");
        assert!(problem.contains("\"No Such Speakers 4711\" were not found"), "{problem}");
    }

    #[test]
    fn without_a_sound_card_the_player_reports_why_and_stays_silent() {
        if !crate::devices::linux_without_sound() {
            eprintln!("skipped: this machine may have sound");
            return;
        }
        let player = SoundPlayer::start();
        for sound in Sound::ALL {
            player.play(sound, "");
        }
        let problem = wait_for_problem(&player).expect("a problem");
        assert!(
            problem.starts_with("the speakers") || problem.starts_with("no sound output device"),
            "{problem}"
        );
    }
}
