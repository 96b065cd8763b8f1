//! Echo cancellation and noise suppression on the microphone signal, through `sonora`
//! (a pure-Rust port of WebRTC's audio processing: AEC3 and its noise suppressor).
//!
//! The echo canceller must see what the speakers play (the *render* or far-end signal)
//! before it sees the microphone block that contains its echo; the engine feeds it the
//! playback it hands out in `pull_playback` and the capture it receives in
//! `push_capture`, both in 10 ms blocks.

use sonora::config::{EchoCanceller, HighPassFilter, NoiseSuppression};
use sonora::{AudioProcessing, Config, StreamConfig};

use super::{BLOCK_SAMPLES, SAMPLE_RATE};

#[derive(Debug, thiserror::Error)]
#[error("echo cancellation or noise suppression failed: {0}")]
pub struct ProcessingError(#[from] sonora::Error);

/// The microphone path's clean-up: AEC3 and/or noise suppression, or nothing at all.
pub struct VoiceProcessor {
    /// `None` while both options are off: the signal then passes untouched.
    apm: Option<AudioProcessing>,
    echo_cancellation: bool,
    noise_suppression: bool,
    out: Vec<f32>,
}

impl VoiceProcessor {
    pub fn new(echo_cancellation: bool, noise_suppression: bool) -> Self {
        let mut this = VoiceProcessor {
            apm: None,
            echo_cancellation: false,
            noise_suppression: false,
            out: vec![0.0; BLOCK_SAMPLES],
        };
        this.set_options(echo_cancellation, noise_suppression);
        this
    }

    fn config(echo_cancellation: bool, noise_suppression: bool) -> Config {
        Config {
            high_pass_filter: Some(HighPassFilter::default()),
            echo_canceller: echo_cancellation.then(EchoCanceller::default),
            noise_suppression: noise_suppression.then(NoiseSuppression::default),
            ..Config::default()
        }
    }

    /// Turns either stage on or off during a call (the user's option). Turning the echo
    /// canceller back on starts its adaptation afresh.
    pub fn set_options(&mut self, echo_cancellation: bool, noise_suppression: bool) {
        if (echo_cancellation, noise_suppression) == (self.echo_cancellation, self.noise_suppression) {
            return;
        }
        self.echo_cancellation = echo_cancellation;
        self.noise_suppression = noise_suppression;
        if !echo_cancellation && !noise_suppression {
            self.apm = None;
            return;
        }
        let config = Self::config(echo_cancellation, noise_suppression);
        match self.apm.as_mut() {
            Some(apm) => apm.apply_config(config),
            None => {
                let stream = StreamConfig::new(SAMPLE_RATE, 1);
                self.apm = Some(
                    AudioProcessing::builder()
                        .config(config)
                        .capture_config(stream)
                        .render_config(stream)
                        .build(),
                );
            }
        }
    }

    pub fn echo_cancellation(&self) -> bool {
        self.echo_cancellation
    }

    pub fn noise_suppression(&self) -> bool {
        self.noise_suppression
    }

    /// A hint of the delay between a render block and its echo in the capture (device
    /// buffers); AEC3 also finds the delay itself.
    pub fn set_stream_delay_ms(&mut self, delay_ms: i32) {
        if let Some(apm) = self.apm.as_mut() {
            // Out-of-range values are clamped to 0..=500, which is what we want anyway.
            let _clamped = apm.set_stream_delay_ms(delay_ms);
        }
    }

    /// Analyses one 10 ms block of what the speakers play.
    pub fn process_render(&mut self, block: &[f32]) -> Result<(), ProcessingError> {
        if let (Some(apm), true) = (self.apm.as_mut(), self.echo_cancellation) {
            debug_assert_eq!(block.len(), BLOCK_SAMPLES);
            apm.process_render_f32(&[block], &mut [&mut self.out[..]])?;
        }
        Ok(())
    }

    /// Cleans one 10 ms block of microphone signal in place.
    pub fn process_capture(&mut self, block: &mut [f32]) -> Result<(), ProcessingError> {
        if let Some(apm) = self.apm.as_mut() {
            debug_assert_eq!(block.len(), BLOCK_SAMPLES);
            apm.process_capture_f32(&[&block[..]], &mut [&mut self.out[..]])?;
            block.copy_from_slice(&self.out);
        }
        Ok(())
    }
}
