//! Sample-rate conversion between a device (or file) and the engine's 48 kHz, streaming:
//! any chunk size in, whatever is ready out. rubato's synchronous FFT resampler: fixed
//! ratio, sinc quality, and cheap (device clocks drifting a few ppm are absorbed by
//! the jitter buffer, not here).

use rubato::audioadapter_buffers::direct::InterleavedSlice;
use rubato::{Fft, FixedSync, Resampler as _};

use super::AudioError;

pub struct Resampler {
    inner: Option<Fft<f32>>,
    pending: Vec<f32>,
    output: Vec<f32>,
}

impl std::fmt::Debug for Resampler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Resampler").field("passthrough", &self.inner.is_none()).finish()
    }
}

fn check_rate(rate: u32) -> Result<usize, AudioError> {
    if (8_000..=192_000).contains(&rate) { Ok(rate as usize) } else { Err(AudioError::UnsupportedRate(rate)) }
}

impl Resampler {
    /// From `from` Hz to `to` Hz; equal rates pass samples through untouched.
    pub fn new(from: u32, to: u32) -> Result<Self, AudioError> {
        let (from, to) = (check_rate(from)?, check_rate(to)?);
        let inner = if from == to {
            None
        } else {
            // 10 ms chunks: small enough to add little delay, large enough for the FFT.
            let fft = Fft::<f32>::new(from, to, from / 100, 1, FixedSync::Input)
                .map_err(|e| AudioError::Resample(e.to_string()))?;
            Some(fft)
        };
        let output = vec![0.0; inner.as_ref().map_or(0, |fft| fft.output_frames_max())];
        Ok(Resampler { inner, pending: Vec::new(), output })
    }

    /// The delay this adds, in output samples.
    pub fn delay(&self) -> usize {
        self.inner.as_ref().map_or(0, |fft| fft.output_delay())
    }

    /// Feeds `input` and appends every output sample now ready to `out`.
    pub fn process(&mut self, input: &[f32], out: &mut Vec<f32>) -> Result<(), AudioError> {
        let Some(fft) = self.inner.as_mut() else {
            out.extend_from_slice(input);
            return Ok(());
        };
        self.pending.extend_from_slice(input);
        let mut consumed = 0;
        loop {
            let needed = fft.input_frames_next();
            if self.pending.len() - consumed < needed {
                break;
            }
            let chunk = &self.pending[consumed..consumed + needed];
            let input =
                InterleavedSlice::new(chunk, 1, needed).map_err(|e| AudioError::Resample(e.to_string()))?;
            let capacity = self.output.len();
            let mut output = InterleavedSlice::new_mut(&mut self.output[..], 1, capacity)
                .map_err(|e| AudioError::Resample(e.to_string()))?;
            let (read, written) = fft
                .process_into_buffer(&input, &mut output, None)
                .map_err(|e| AudioError::Resample(e.to_string()))?;
            out.extend_from_slice(&self.output[..written]);
            consumed += read;
        }
        self.pending.drain(..consumed);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_tone_keeps_its_pitch_and_the_length_scales() {
        let mut resampler = Resampler::new(44_100, 48_000).unwrap();
        let input: Vec<f32> =
            (0..44_100).map(|i| (std::f32::consts::TAU * 1000.0 * i as f32 / 44_100.0).sin() * 0.5).collect();
        let mut out = Vec::new();
        // Odd chunk sizes, as a device would deliver.
        for chunk in input.chunks(333) {
            resampler.process(chunk, &mut out).unwrap();
        }
        assert!((out.len() as i64 - 48_000).abs() < 1_000, "{} samples", out.len());
        // Count zero crossings in the steady middle: 1 kHz is 2 per millisecond.
        let middle = &out[10_000..34_000];
        let crossings = middle.windows(2).filter(|w| (w[0] < 0.0) != (w[1] < 0.0)).count();
        assert!((crossings as i64 - 1000).abs() <= 2, "{crossings} crossings in 500 ms");
        let peak = middle.iter().fold(0.0f32, |m, s| m.max(s.abs()));
        assert!((peak - 0.5).abs() < 0.02, "peak {peak}");
    }

    #[test]
    fn equal_rates_pass_through_and_bad_rates_are_refused() {
        let mut resampler = Resampler::new(48_000, 48_000).unwrap();
        let mut out = Vec::new();
        resampler.process(&[0.1, 0.2], &mut out).unwrap();
        assert_eq!(out, vec![0.1, 0.2]);
        assert!(matches!(Resampler::new(0, 48_000), Err(AudioError::UnsupportedRate(0))));
    }
}
