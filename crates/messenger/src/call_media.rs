//! What a call's sound and pictures pass through in the messenger: the devices chosen in
//! Options, opened by name ([`MachineMedia`]; tests give synthetic ones through the
//! [`CallMedia`] trait); the other side's pictures and your own preview, kept for the
//! call window ([`Pictures`]); and the call's volume ([`VolumeSink`]). A device that
//! cannot be opened is replaced by silence (or nothing) and reported: the call goes on.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use mocha_client::CallDevices;
use mocha_client::media::audio::{AudioError, AudioSink, AudioSource};
use mocha_client::media::video::{Frame, VideoError, VideoSink, VideoSource};

use crate::settings::AudioVideoOptions;

/// The engine's rate; the silent stand-ins use it so nothing is resampled.
const RATE: u32 = 48_000;

/// A camera every machine has: the media engine's moving test picture, so a video call
/// can be tried (and shown in screenshots) without a camera.
pub const TEST_PATTERN_CAMERA: &str = "Test pattern";

/// Opens the devices a call uses, by the names Options saved (empty: the system
/// default). Each may block (a sound server, a camera): the backend calls them off
/// its network threads.
pub trait CallMedia: Send + Sync {
    fn microphone(&self, name: &str) -> Result<Box<dyn AudioSource>, String>;
    fn speakers(&self, name: &str) -> Result<Box<dyn AudioSink>, String>;
    fn camera(&self, name: &str) -> Result<Box<dyn VideoSource + Send>, String>;
}

/// This machine's microphones and speakers (cpal), and its camera where this build has
/// camera capture (the `camera` feature, Video4Linux only), or the test pattern.
pub struct MachineMedia;

impl MachineMedia {
    fn test_pattern() -> Result<Box<dyn VideoSource + Send>, String> {
        let pattern =
            mocha_client::media::video::TestPattern::new(640, 480, 30, 1).map_err(|e| e.to_string())?;
        // The call's driver releases frames by their timestamps: no pacing needed here.
        Ok(Box::new(pattern))
    }
}

impl CallMedia for MachineMedia {
    fn microphone(&self, name: &str) -> Result<Box<dyn AudioSource>, String> {
        mocha_client::media::audio::Microphone::open(name)
            .map(|mic| Box::new(mic) as Box<dyn AudioSource>)
            .map_err(|e| e.to_string())
    }

    fn speakers(&self, name: &str) -> Result<Box<dyn AudioSink>, String> {
        mocha_client::media::audio::Speaker::open(name)
            .map(|speaker| Box::new(speaker) as Box<dyn AudioSink>)
            .map_err(|e| e.to_string())
    }

    #[cfg(all(feature = "camera", target_os = "linux"))]
    fn camera(&self, name: &str) -> Result<Box<dyn VideoSource + Send>, String> {
        if name == TEST_PATTERN_CAMERA {
            return Self::test_pattern();
        }
        mocha_media::video::CameraSource::open(name, 640, 480, 30)
            .map(|camera| Box::new(camera) as Box<dyn VideoSource + Send>)
            .map_err(|e| e.to_string())
    }

    #[cfg(not(all(feature = "camera", target_os = "linux")))]
    fn camera(&self, name: &str) -> Result<Box<dyn VideoSource + Send>, String> {
        if name == TEST_PATTERN_CAMERA {
            return Self::test_pattern();
        }
        Err("this build of Mocha Messenger has no camera capture (it is built with the `camera` feature, on Linux)"
            .into())
    }
}

/// The latest picture of one video stream, shared between the call's driver (which
/// writes) and the window (which reads); the count says whether it is new.
#[derive(Clone, Default)]
pub struct Pictures(Arc<Mutex<Option<(u64, Frame)>>>);

impl Pictures {
    fn put(&self, frame: &Frame) {
        let mut latest = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let count = latest.as_ref().map_or(0, |(count, _)| *count) + 1;
        *latest = Some((count, frame.clone()));
    }

    /// The newest picture and how many came so far; `None` before the first.
    pub fn latest(&self) -> Option<(u64, Frame)> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// How many pictures came so far.
    pub fn count(&self) -> u64 {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).as_ref().map_or(0, |(count, _)| *count)
    }
}

/// The same stream (not the same picture): handles are compared, not frames.
impl PartialEq for Pictures {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl std::fmt::Debug for Pictures {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Pictures({})", self.count())
    }
}

/// The other side's pictures and your own, for the call window.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CallPictures {
    pub theirs: Pictures,
    pub mine: Pictures,
}

/// Where the other side's decoded pictures go: the window's [`Pictures`].
struct ToWindow(Pictures);

impl VideoSink for ToWindow {
    fn write_frame(&mut self, frame: &Frame) -> Result<(), VideoError> {
        self.0.put(frame);
        Ok(())
    }
}

/// A camera whose pictures are also shown in your own preview.
struct Previewed {
    camera: Box<dyn VideoSource + Send>,
    preview: Pictures,
}

impl VideoSource for Previewed {
    fn next_frame(&mut self) -> Result<Option<Frame>, VideoError> {
        let frame = self.camera.next_frame()?;
        if let Some(frame) = &frame {
            self.preview.put(frame);
        }
        Ok(frame)
    }
}

/// The call's speaker level, 0.0–1.0, set from the window while the call runs.
#[derive(Clone, Debug)]
pub struct Volume(Arc<AtomicU32>);

impl Default for Volume {
    fn default() -> Self {
        Volume(Arc::new(AtomicU32::new(1.0f32.to_bits())))
    }
}

impl PartialEq for Volume {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Volume {
    pub fn set(&self, level: f32) {
        self.0.store(level.clamp(0.0, 1.0).to_bits(), Ordering::Relaxed);
    }

    pub fn get(&self) -> f32 {
        f32::from_bits(self.0.load(Ordering::Relaxed))
    }
}

/// Speakers played at the call's [`Volume`].
pub struct VolumeSink {
    speakers: Box<dyn AudioSink>,
    volume: Volume,
    scaled: Vec<f32>,
}

impl VolumeSink {
    pub fn new(speakers: Box<dyn AudioSink>, volume: Volume) -> Self {
        Self { speakers, volume, scaled: Vec::new() }
    }
}

impl AudioSink for VolumeSink {
    fn sample_rate(&self) -> u32 {
        self.speakers.sample_rate()
    }

    fn write(&mut self, samples: &[f32]) -> Result<(), AudioError> {
        let level = self.volume.get();
        self.scaled.clear();
        self.scaled.extend(samples.iter().map(|s| s * level));
        self.speakers.write(&self.scaled)
    }

    fn finish(&mut self) -> Result<(), AudioError> {
        self.speakers.finish()
    }
}

/// The microphone's stand-in when there is none: silence, as fast as asked.
struct Silence;

impl AudioSource for Silence {
    fn sample_rate(&self) -> u32 {
        RATE
    }

    fn read(&mut self, out: &mut [f32]) -> Result<usize, AudioError> {
        out.fill(0.0);
        Ok(out.len())
    }
}

/// The speakers' stand-in when there are none: plays nowhere.
pub struct Nowhere;

impl AudioSink for Nowhere {
    fn sample_rate(&self) -> u32 {
        RATE
    }

    fn write(&mut self, _samples: &[f32]) -> Result<(), AudioError> {
        Ok(())
    }
}

/// What one device is, for the sentences the window shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeviceKind {
    Microphone,
    Speakers,
    Camera,
}

/// A device the call could not use, in the window's words.
pub fn problem(kind: DeviceKind, name: &str, reason: &str) -> String {
    let (what, consequence) = match kind {
        DeviceKind::Microphone => ("microphone", "they cannot hear you"),
        DeviceKind::Speakers => ("speakers", "you cannot hear them, but you still see their video"),
        DeviceKind::Camera => ("camera", "they cannot see you"),
    };
    let named =
        if name.is_empty() { format!("The default {what}") } else { format!("The {what} \"{name}\"") };
    format!("{named} could not be used ({reason}): {consequence}.")
}

/// The devices for one call, opened by the names in `options`, with what went wrong.
pub struct OpenedDevices {
    pub devices: CallDevices,
    pub problems: Vec<String>,
}

/// Opens the microphone and speakers (and the camera for `video`) chosen in Options;
/// a device that fails is replaced by silence and reported. The other side's pictures
/// always go to the window: they may turn their camera on during a voice call.
pub fn open_devices(
    media: &dyn CallMedia,
    options: &AudioVideoOptions,
    video: bool,
    pictures: &CallPictures,
    volume: &Volume,
) -> OpenedDevices {
    let mut problems = Vec::new();
    let microphone = open_microphone(media, &options.microphone, &mut problems);
    let speakers = open_speakers(media, &options.speakers, volume, &mut problems);
    let camera = if video { open_camera(media, &options.camera, pictures, &mut problems) } else { None };
    let to_window: Box<dyn VideoSink + Send> = Box::new(ToWindow(pictures.theirs.clone()));
    let devices = CallDevices { audio_in: microphone, audio_out: speakers, video_in: None, video_out: None }
        .with_video(camera, Some(to_window));
    OpenedDevices { devices, problems }
}

pub fn open_microphone(
    media: &dyn CallMedia,
    name: &str,
    problems: &mut Vec<String>,
) -> Box<dyn AudioSource> {
    media.microphone(name).unwrap_or_else(|reason| {
        problems.push(problem(DeviceKind::Microphone, name, &reason));
        Box::new(Silence)
    })
}

pub fn open_speakers(
    media: &dyn CallMedia,
    name: &str,
    volume: &Volume,
    problems: &mut Vec<String>,
) -> Box<dyn AudioSink> {
    let speakers = media.speakers(name).unwrap_or_else(|reason| {
        problems.push(problem(DeviceKind::Speakers, name, &reason));
        Box::new(Nowhere)
    });
    Box::new(VolumeSink::new(speakers, volume.clone()))
}

pub fn open_camera(
    media: &dyn CallMedia,
    name: &str,
    pictures: &CallPictures,
    problems: &mut Vec<String>,
) -> Option<Box<dyn VideoSource + Send>> {
    match media.camera(name) {
        Ok(camera) => Some(Box::new(Previewed { camera, preview: pictures.mine.clone() })),
        Err(reason) => {
            problems.push(problem(DeviceKind::Camera, name, &reason));
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mocha_client::media::audio::MemorySink;
    use mocha_client::media::video::TestPattern;

    struct Nothing;

    impl CallMedia for Nothing {
        fn microphone(&self, _: &str) -> Result<Box<dyn AudioSource>, String> {
            Err("no sound system".into())
        }
        fn speakers(&self, _: &str) -> Result<Box<dyn AudioSink>, String> {
            Err("no sound system".into())
        }
        fn camera(&self, _: &str) -> Result<Box<dyn VideoSource + Send>, String> {
            Err("no camera found".into())
        }
    }

    #[test]
    fn with_no_devices_the_call_gets_silence_and_three_explanations() {
        let pictures = CallPictures::default();
        let options = AudioVideoOptions { camera: "Webcam".into(), ..AudioVideoOptions::default() };
        let mut opened = open_devices(&Nothing, &options, true, &pictures, &Volume::default());
        assert_eq!(opened.problems.len(), 3, "{:?}", opened.problems);
        assert_eq!(
            opened.problems[0],
            "The default microphone could not be used (no sound system): they cannot hear you."
        );
        assert!(opened.problems[2].starts_with("The camera \"Webcam\" could not be used (no camera found)"));
        let mut samples = [1.0; 480];
        assert_eq!(opened.devices.audio_in.read(&mut samples).unwrap(), 480);
        assert!(samples.iter().all(|s| *s == 0.0));
        assert!(opened.devices.audio_out.write(&[0.5; 480]).is_ok());
        assert!(opened.devices.video_in.is_none(), "no camera: nothing is sent");
        let frame = TestPattern::new(64, 48, 30, 1).unwrap().frame(3);
        opened.devices.video_out.as_mut().expect("their pictures still shown").write_frame(&frame).unwrap();
        assert_eq!(pictures.theirs.count(), 1);
    }

    #[test]
    fn the_volume_scales_what_the_speakers_play() {
        struct Shared(Arc<Mutex<MemorySink>>);
        impl AudioSink for Shared {
            fn sample_rate(&self) -> u32 {
                RATE
            }
            fn write(&mut self, samples: &[f32]) -> Result<(), AudioError> {
                self.0.lock().unwrap().write(samples)
            }
        }
        let recorded = Arc::new(Mutex::new(MemorySink::new(RATE, 100)));
        let volume = Volume::default();
        let mut sink = VolumeSink::new(Box::new(Shared(recorded.clone())), volume.clone());
        sink.write(&[0.8, -0.8]).unwrap();
        volume.set(0.25);
        sink.write(&[0.8]).unwrap();
        volume.set(7.0);
        assert_eq!(volume.get(), 1.0, "clamped");
        assert_eq!(recorded.lock().unwrap().samples(), &[0.8, -0.8, 0.2]);
    }

    #[test]
    fn the_camera_feeds_your_preview_as_it_is_sent() {
        struct Pattern;
        impl CallMedia for Pattern {
            fn microphone(&self, _: &str) -> Result<Box<dyn AudioSource>, String> {
                Ok(Box::new(Silence))
            }
            fn speakers(&self, _: &str) -> Result<Box<dyn AudioSink>, String> {
                Ok(Box::new(Nowhere))
            }
            fn camera(&self, _: &str) -> Result<Box<dyn VideoSource + Send>, String> {
                Ok(Box::new(TestPattern::new(64, 48, 30, 1).map_err(|e| e.to_string())?))
            }
        }
        let pictures = CallPictures::default();
        let opened =
            open_devices(&Pattern, &AudioVideoOptions::default(), true, &pictures, &Volume::default());
        assert!(opened.problems.is_empty());
        let mut camera = opened.devices.video_in.expect("a camera");
        for _ in 0..3 {
            camera.next_frame().unwrap();
        }
        let (count, frame) = pictures.mine.latest().expect("a preview");
        assert_eq!(count, 3);
        assert_eq!(mocha_client::media::video::read_counter(&frame), Some(2));
    }
}
