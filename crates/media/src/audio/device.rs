//! Microphones and speakers through cpal (ALSA on Linux, WASAPI on Windows), behind
//! [`AudioSource`] and [`AudioSink`].
//!
//! A device is chosen by the name the messenger saves and shows (cpal's description
//! name); an empty name means the system default. A name that is not there is an
//! error, never a silent switch to another device: the caller decides what to do.
//!
//! Each device runs on a thread of its own that owns the cpal stream (cpal streams are
//! not `Send` on every platform); samples cross through a bounded queue. Devices keep
//! their native rate and format: the mix-down to mono and `f32` happens here, the
//! resampling to 48 kHz in [`super::Resampler`].

use std::collections::VecDeque;
use std::sync::mpsc;
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use cpal::traits::{DeviceTrait, HostTrait, StreamTrait};
use cpal::{FromSample, Sample, SampleFormat, SizedSample};

use super::{AudioError, AudioSink, AudioSource};

/// The most audio a device queue holds, in seconds: a microphone nobody reads, or
/// speakers written faster than they play, lose the oldest audio instead of growing.
const QUEUE_SECONDS: f32 = 0.5;
/// How long the device may take to open.
const OPEN_TIMEOUT: Duration = Duration::from_secs(5);

type Queue = Arc<Mutex<VecDeque<f32>>>;

fn lock(queue: &Queue) -> std::sync::MutexGuard<'_, VecDeque<f32>> {
    queue.lock().unwrap_or_else(PoisonError::into_inner)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Direction {
    Input,
    Output,
}

impl Direction {
    fn kind(self) -> &'static str {
        match self {
            Direction::Input => "microphone",
            Direction::Output => "speakers",
        }
    }
}

fn device_error(direction: Direction, e: impl std::fmt::Display) -> AudioError {
    AudioError::Device { kind: direction.kind(), reason: e.to_string() }
}

fn choose(direction: Direction, name: &str) -> Result<cpal::Device, AudioError> {
    let host = cpal::default_host();
    let name = name.trim();
    if name.is_empty() {
        let default = match direction {
            Direction::Input => host.default_input_device(),
            Direction::Output => host.default_output_device(),
        };
        return default.ok_or(AudioError::NoDefaultDevice { kind: direction.kind() });
    }
    let mut devices = match direction {
        Direction::Input => host.input_devices(),
        Direction::Output => host.output_devices(),
    }
    .map_err(|e| device_error(direction, e))?;
    devices
        .find(|device| device.description().is_ok_and(|d| d.name().trim() == name))
        .ok_or_else(|| AudioError::NoSuchDevice { kind: direction.kind(), name: name.to_owned() })
}

/// The names of the microphones (`input`) or speakers present, for pickers.
pub fn device_names(input: bool) -> Result<Vec<String>, AudioError> {
    let host = cpal::default_host();
    let direction = if input { Direction::Input } else { Direction::Output };
    let devices = if input { host.input_devices() } else { host.output_devices() }
        .map_err(|e| device_error(direction, e))?;
    Ok(devices.filter_map(|d| d.description().ok()).map(|d| d.name().trim().to_owned()).collect())
}

/// A running device: its thread, its queue and its rate.
struct Running {
    queue: Queue,
    rate: u32,
    limit: usize,
    failure: Arc<Mutex<Option<String>>>,
    stop: Option<mpsc::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Drop for Running {
    fn drop(&mut self) {
        self.stop.take();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Running {
    fn failure(&self, direction: Direction) -> Result<(), AudioError> {
        match self.failure.lock().unwrap_or_else(PoisonError::into_inner).clone() {
            Some(reason) => Err(AudioError::Device { kind: direction.kind(), reason }),
            None => Ok(()),
        }
    }
}

fn start(direction: Direction, name: &str) -> Result<Running, AudioError> {
    let name = name.to_owned();
    let queue: Queue = Arc::new(Mutex::new(VecDeque::new()));
    let failure = Arc::new(Mutex::new(None));
    let (opened, opened_rx) = mpsc::channel::<Result<u32, AudioError>>();
    let (stop, stop_rx) = mpsc::channel::<()>();
    let thread = {
        let queue = queue.clone();
        let failure = failure.clone();
        std::thread::Builder::new()
            .name(format!("mocha-{}", direction.kind()))
            .spawn(move || {
                let stream = open_stream(direction, &name, queue, failure);
                match stream {
                    Ok((stream, rate)) => {
                        let _ = opened.send(Ok(rate));
                        // Blocks until the owner drops its sender.
                        let _ = stop_rx.recv();
                        drop(stream);
                    }
                    Err(e) => {
                        let _ = opened.send(Err(e));
                    }
                }
            })
            .map_err(|e| device_error(direction, e))?
    };
    let rate = match opened_rx.recv_timeout(OPEN_TIMEOUT) {
        Ok(Ok(rate)) => rate,
        Ok(Err(e)) => return Err(e),
        Err(_) => return Err(device_error(direction, "the device did not open in time")),
    };
    let limit = (rate as f32 * QUEUE_SECONDS) as usize;
    Ok(Running { queue, rate, limit, failure, stop: Some(stop), thread: Some(thread) })
}

fn open_stream(
    direction: Direction,
    name: &str,
    queue: Queue,
    failure: Arc<Mutex<Option<String>>>,
) -> Result<(cpal::Stream, u32), AudioError> {
    let device = choose(direction, name)?;
    let supported = match direction {
        Direction::Input => device.default_input_config(),
        Direction::Output => device.default_output_config(),
    }
    .map_err(|e| device_error(direction, e))?;
    let format = supported.sample_format();
    let config: cpal::StreamConfig = supported.into();
    let rate = config.sample_rate;
    let limit = (rate as f32 * QUEUE_SECONDS) as usize;
    let stream = match format {
        SampleFormat::F32 => build::<f32>(direction, &device, config, queue, limit, failure),
        SampleFormat::I16 => build::<i16>(direction, &device, config, queue, limit, failure),
        SampleFormat::I32 => build::<i32>(direction, &device, config, queue, limit, failure),
        SampleFormat::U16 => build::<u16>(direction, &device, config, queue, limit, failure),
        SampleFormat::U8 => build::<u8>(direction, &device, config, queue, limit, failure),
        other => Err(device_error(direction, format!("sample format {other} is not handled"))),
    }?;
    stream.play().map_err(|e| device_error(direction, e))?;
    Ok((stream, rate))
}

fn build<T>(
    direction: Direction,
    device: &cpal::Device,
    config: cpal::StreamConfig,
    queue: Queue,
    limit: usize,
    failure: Arc<Mutex<Option<String>>>,
) -> Result<cpal::Stream, AudioError>
where
    T: SizedSample + FromSample<f32>,
    f32: FromSample<T>,
{
    let channels = usize::from(config.channels).max(1);
    let on_error = move |e: cpal::Error| {
        *failure.lock().unwrap_or_else(PoisonError::into_inner) = Some(e.to_string());
    };
    let stream = match direction {
        Direction::Input => device.build_input_stream(
            config,
            move |data: &[T], _: &cpal::InputCallbackInfo| {
                let mut queue = lock(&queue);
                for frame in data.chunks(channels) {
                    let sum: f32 = frame.iter().map(|&s| f32::from_sample(s)).sum();
                    queue.push_back(sum / frame.len() as f32);
                }
                let excess = queue.len().saturating_sub(limit);
                queue.drain(..excess);
            },
            on_error,
            Some(OPEN_TIMEOUT),
        ),
        Direction::Output => device.build_output_stream(
            config,
            move |data: &mut [T], _: &cpal::OutputCallbackInfo| {
                let mut queue = lock(&queue);
                for frame in data.chunks_mut(channels) {
                    // Underrun: silence, never a replay of old samples.
                    let value = T::from_sample(queue.pop_front().unwrap_or(0.0));
                    frame.iter_mut().for_each(|s| *s = value);
                }
            },
            on_error,
            Some(OPEN_TIMEOUT),
        ),
    };
    stream.map_err(|e| device_error(direction, e))
}

/// A microphone, mixed down to mono at its native rate.
pub struct Microphone {
    running: Running,
}

impl Microphone {
    /// Opens the microphone named `name` (empty: the default one).
    pub fn open(name: &str) -> Result<Self, AudioError> {
        Ok(Microphone { running: start(Direction::Input, name)? })
    }
}

impl AudioSource for Microphone {
    fn sample_rate(&self) -> u32 {
        self.running.rate
    }

    fn read(&mut self, out: &mut [f32]) -> Result<usize, AudioError> {
        self.running.failure(Direction::Input)?;
        let mut queue = lock(&self.running.queue);
        let count = queue.len().min(out.len());
        for (slot, sample) in out.iter_mut().zip(queue.drain(..count)) {
            *slot = sample;
        }
        Ok(count)
    }
}

/// Speakers, fed mono at their native rate (copied to every channel).
pub struct Speaker {
    running: Running,
}

impl Speaker {
    /// Opens the speakers named `name` (empty: the default ones).
    pub fn open(name: &str) -> Result<Self, AudioError> {
        Ok(Speaker { running: start(Direction::Output, name)? })
    }

    /// Samples written but not yet played.
    pub fn buffered(&self) -> usize {
        lock(&self.running.queue).len()
    }
}

impl AudioSink for Speaker {
    fn sample_rate(&self) -> u32 {
        self.running.rate
    }

    fn write(&mut self, samples: &[f32]) -> Result<(), AudioError> {
        self.running.failure(Direction::Output)?;
        let mut queue = lock(&self.running.queue);
        queue.extend(samples.iter().map(|s| s.clamp(-1.0, 1.0)));
        let excess = queue.len().saturating_sub(self.running.limit);
        queue.drain(..excess);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_device_is_an_error_value() {
        // Whether or not this machine has sound, no device has this name.
        match Microphone::open("No Such Microphone 4711") {
            Err(AudioError::NoSuchDevice { kind: "microphone", name }) => {
                assert_eq!(name, "No Such Microphone 4711")
            }
            Err(AudioError::Device { .. }) => {} // no sound system at all: also an error value
            Err(other) => panic!("unexpected error {other}"),
            Ok(_) => panic!("a device with that name opened"),
        }
        assert!(Speaker::open("No Such Speakers 4711").is_err());
    }
}
