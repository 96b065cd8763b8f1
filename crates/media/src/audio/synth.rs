//! Sources and sinks that need no sound card: tones, sweeps, a speech-like signal, and
//! memory. Tests and the CLI use them in place of a microphone and speakers.

use std::f64::consts::TAU;

use super::{AudioError, AudioSink, AudioSource};

/// A steady sine.
#[derive(Debug, Clone)]
pub struct Tone {
    rate: u32,
    frequency: f64,
    amplitude: f32,
    phase: f64,
}

impl Tone {
    pub fn new(rate: u32, frequency: f64, amplitude: f32) -> Self {
        Tone { rate, frequency, amplitude, phase: 0.0 }
    }
}

impl AudioSource for Tone {
    fn sample_rate(&self) -> u32 {
        self.rate
    }

    fn read(&mut self, out: &mut [f32]) -> Result<usize, AudioError> {
        let step = TAU * self.frequency / f64::from(self.rate);
        for sample in out.iter_mut() {
            *sample = self.amplitude * self.phase.sin() as f32;
            self.phase = (self.phase + step) % TAU;
        }
        Ok(out.len())
    }
}

/// A linear sweep from `from` Hz to `to` Hz, repeated every `period` samples. Its sharp
/// autocorrelation peak makes delays easy to find by cross-correlation.
#[derive(Debug, Clone)]
pub struct Chirp {
    rate: u32,
    from: f64,
    to: f64,
    period: usize,
    amplitude: f32,
    position: usize,
}

impl Chirp {
    pub fn new(rate: u32, from: f64, to: f64, period: usize, amplitude: f32) -> Self {
        Chirp { rate, from, to, period: period.max(1), amplitude, position: 0 }
    }

    fn sample_at(&self, position: usize) -> f32 {
        let t = (position % self.period) as f64 / f64::from(self.rate);
        let length = self.period as f64 / f64::from(self.rate);
        let phase = TAU * (self.from * t + (self.to - self.from) * t * t / (2.0 * length));
        self.amplitude * phase.sin() as f32
    }
}

impl AudioSource for Chirp {
    fn sample_rate(&self) -> u32 {
        self.rate
    }

    fn read(&mut self, out: &mut [f32]) -> Result<usize, AudioError> {
        for sample in out.iter_mut() {
            *sample = self.sample_at(self.position);
            self.position = self.position.wrapping_add(1);
        }
        Ok(out.len())
    }
}

/// A voice-like test signal: a harmonic series on a gliding pitch (like a talker's
/// intonation), shaped by two fixed formant-like resonances, switched on and off in
/// syllables of a few hundred milliseconds with pauses between phrases. Unlike a steady
/// tone, a noise suppressor does not mistake it for noise, and unlike a chirp it has
/// speech's rhythm of loud and quiet frames, which is what concealment and the jitter
/// buffer's timing have to cope with. Deterministic: the same `seed` gives the same signal.
#[derive(Debug, Clone)]
pub struct SpeechLike {
    rate: u32,
    base_pitch: f64,
    amplitude: f32,
    position: u64,
    phase: f64,
}

/// Harmonics generated (the 8th of a 200 Hz voice is at 1.6 kHz; more changes little).
const HARMONICS: usize = 12;

impl SpeechLike {
    /// `base_pitch` is the talker's mean fundamental (e.g. 120 Hz or 210 Hz).
    pub fn new(rate: u32, base_pitch: f64, amplitude: f32) -> Self {
        SpeechLike { rate, base_pitch, amplitude, position: 0, phase: 0.0 }
    }

    /// The syllable envelope at `t` seconds: 0 in pauses, rising and falling smoothly.
    fn envelope(&self, t: f64) -> f64 {
        // Phrases of 2.4 s with 0.6 s of silence between them.
        let in_phrase = t % 3.0;
        if in_phrase > 2.4 {
            return 0.0;
        }
        // Syllables at about 4 per second, of uneven loudness.
        let syllable = (TAU * 2.0 * in_phrase).sin().abs();
        let stress = 0.6 + 0.4 * (TAU * 0.37 * t + 1.0).sin().abs();
        let fade = (in_phrase / 0.05).min(1.0) * ((2.4 - in_phrase) / 0.05).min(1.0);
        syllable.powf(0.7) * stress * fade
    }

    fn formant_gain(frequency: f64) -> f64 {
        let peak = |centre: f64, width: f64| 1.0 / (1.0 + ((frequency - centre) / width).powi(2));
        0.15 + peak(600.0, 250.0) + 0.6 * peak(1700.0, 400.0)
    }
}

impl AudioSource for SpeechLike {
    fn sample_rate(&self) -> u32 {
        self.rate
    }

    fn read(&mut self, out: &mut [f32]) -> Result<usize, AudioError> {
        let rate = f64::from(self.rate);
        let nyquist_guard = rate * 0.45;
        for sample in out.iter_mut() {
            let t = self.position as f64 / rate;
            let pitch =
                self.base_pitch * (1.0 + 0.12 * (TAU * 0.8 * t).sin() + 0.05 * (TAU * 3.1 * t + 0.5).sin());
            self.phase = (self.phase + TAU * pitch / rate) % TAU;
            let mut value = 0.0;
            for harmonic in 1..=HARMONICS {
                let frequency = pitch * harmonic as f64;
                if frequency > nyquist_guard {
                    break;
                }
                value +=
                    Self::formant_gain(frequency) / harmonic as f64 * (self.phase * harmonic as f64).sin();
            }
            *sample = (f64::from(self.amplitude) * 0.5 * value * self.envelope(t)) as f32;
            self.position += 1;
        }
        Ok(out.len())
    }
}

/// Plays back samples held in memory, then ends.
#[derive(Debug, Clone)]
pub struct MemorySource {
    rate: u32,
    samples: Vec<f32>,
    position: usize,
}

impl MemorySource {
    pub fn new(rate: u32, samples: Vec<f32>) -> Self {
        MemorySource { rate, samples, position: 0 }
    }
}

impl AudioSource for MemorySource {
    fn sample_rate(&self) -> u32 {
        self.rate
    }

    fn read(&mut self, out: &mut [f32]) -> Result<usize, AudioError> {
        let rest = &self.samples[self.position..];
        let count = rest.len().min(out.len());
        out[..count].copy_from_slice(&rest[..count]);
        self.position += count;
        Ok(count)
    }

    fn is_finished(&self) -> bool {
        self.position >= self.samples.len()
    }
}

/// Records everything written to it, for tests to analyse.
#[derive(Debug, Clone)]
pub struct MemorySink {
    rate: u32,
    samples: Vec<f32>,
    limit: usize,
}

impl MemorySink {
    /// Keeps at most `limit` samples; later ones are not recorded (a bounded recording).
    pub fn new(rate: u32, limit: usize) -> Self {
        MemorySink { rate, samples: Vec::new(), limit }
    }

    pub fn samples(&self) -> &[f32] {
        &self.samples
    }

    pub fn into_samples(self) -> Vec<f32> {
        self.samples
    }
}

impl AudioSink for MemorySink {
    fn sample_rate(&self) -> u32 {
        self.rate
    }

    fn write(&mut self, samples: &[f32]) -> Result<(), AudioError> {
        let room = self.limit.saturating_sub(self.samples.len());
        self.samples.extend_from_slice(&samples[..samples.len().min(room)]);
        Ok(())
    }
}

/// Pulls `count` samples from a source that never ends (a tone, a chirp, speech).
pub fn render(source: &mut dyn AudioSource, count: usize) -> Result<Vec<f32>, AudioError> {
    let mut samples = vec![0.0; count];
    let mut filled = 0;
    while filled < count && !source.is_finished() {
        let written = source.read(&mut samples[filled..])?;
        if written == 0 {
            break;
        }
        filled += written;
    }
    samples.truncate(filled);
    Ok(samples)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn rms(samples: &[f32]) -> f32 {
        (samples.iter().map(|s| s * s).sum::<f32>() / samples.len() as f32).sqrt()
    }

    #[test]
    fn speech_like_has_pauses_and_stays_in_range() {
        let samples = render(&mut SpeechLike::new(48_000, 140.0, 0.5), 48_000 * 3).unwrap();
        assert!(samples.iter().all(|s| s.abs() <= 1.0));
        let talking = rms(&samples[48_000 / 2..48_000 * 2]);
        let pause = rms(&samples[(48_000 * 25) / 10..48_000 * 3 - 100]);
        assert!(talking > 0.05, "talking rms {talking}");
        assert!(pause < 1e-4, "pause rms {pause}");
    }

    #[test]
    fn chirp_repeats_with_its_period() {
        let samples = render(&mut Chirp::new(48_000, 200.0, 4000.0, 4800, 0.5), 9600).unwrap();
        for i in (0..4800).step_by(97) {
            assert!((samples[i] - samples[i + 4800]).abs() < 1e-4);
        }
    }

    #[test]
    fn memory_source_ends_and_sink_is_bounded() {
        let mut source = MemorySource::new(16_000, vec![0.25; 10]);
        let mut out = [0.0; 8];
        assert_eq!(source.read(&mut out).unwrap(), 8);
        assert_eq!(source.read(&mut out).unwrap(), 2);
        assert!(source.is_finished());
        let mut sink = MemorySink::new(16_000, 5);
        sink.write(&[1.0; 3]).unwrap();
        sink.write(&[2.0; 3]).unwrap();
        assert_eq!(sink.samples(), &[1.0, 1.0, 1.0, 2.0, 2.0]);
    }
}
