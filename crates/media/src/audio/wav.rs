//! WAV files in and out: 16-bit PCM mono at 16 or 48 kHz (what `mocha call` reads and
//! records). Anything else is refused with a reason, never guessed at.

use std::fs::File;
use std::io::BufWriter;
use std::path::Path;

use super::{AudioError, AudioSink, AudioSource};

/// The rates a WAV file may have: wideband speech and the engine's own rate.
pub const WAV_RATES: [u32; 2] = [16_000, 48_000];

fn check_spec(spec: &hound::WavSpec, path: &str) -> Result<(), AudioError> {
    let unsupported = |reason: String| AudioError::UnsupportedWav { path: path.to_owned(), reason };
    if spec.channels != 1 {
        return Err(unsupported(format!("{} channels (mono only)", spec.channels)));
    }
    if spec.sample_format != hound::SampleFormat::Int || spec.bits_per_sample != 16 {
        return Err(unsupported(format!(
            "{}-bit {:?} samples (16-bit PCM only)",
            spec.bits_per_sample, spec.sample_format
        )));
    }
    if !WAV_RATES.contains(&spec.sample_rate) {
        return Err(unsupported(format!("{} Hz (16000 or 48000 only)", spec.sample_rate)));
    }
    Ok(())
}

/// Reads a WAV file from start to end.
pub struct WavSource {
    reader: hound::WavReader<std::io::BufReader<File>>,
    path: String,
    rate: u32,
    finished: bool,
}

impl WavSource {
    pub fn open(path: &Path) -> Result<Self, AudioError> {
        let shown = path.display().to_string();
        let reader =
            hound::WavReader::open(path).map_err(|source| AudioError::Wav { path: shown.clone(), source })?;
        let spec = reader.spec();
        check_spec(&spec, &shown)?;
        Ok(WavSource { reader, path: shown, rate: spec.sample_rate, finished: false })
    }
}

impl AudioSource for WavSource {
    fn sample_rate(&self) -> u32 {
        self.rate
    }

    fn read(&mut self, out: &mut [f32]) -> Result<usize, AudioError> {
        let mut count = 0;
        let mut samples = self.reader.samples::<i16>();
        while count < out.len() {
            match samples.next() {
                Some(Ok(sample)) => {
                    out[count] = f32::from(sample) / 32_768.0;
                    count += 1;
                }
                Some(Err(source)) => {
                    return Err(AudioError::Wav { path: self.path.clone(), source });
                }
                None => {
                    self.finished = true;
                    break;
                }
            }
        }
        Ok(count)
    }

    fn is_finished(&self) -> bool {
        self.finished
    }
}

/// Records to a WAV file; [`finish`](AudioSink::finish) writes the final header.
pub struct WavRecorder {
    writer: Option<hound::WavWriter<BufWriter<File>>>,
    path: String,
    rate: u32,
}

impl WavRecorder {
    pub fn create(path: &Path, rate: u32) -> Result<Self, AudioError> {
        let shown = path.display().to_string();
        let spec = hound::WavSpec {
            channels: 1,
            sample_rate: rate,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        check_spec(&spec, &shown)?;
        let writer = hound::WavWriter::create(path, spec)
            .map_err(|source| AudioError::Wav { path: shown.clone(), source })?;
        Ok(WavRecorder { writer: Some(writer), path: shown, rate })
    }
}

impl AudioSink for WavRecorder {
    fn sample_rate(&self) -> u32 {
        self.rate
    }

    fn write(&mut self, samples: &[f32]) -> Result<(), AudioError> {
        let Some(writer) = self.writer.as_mut() else {
            return Err(AudioError::UnsupportedWav {
                path: self.path.clone(),
                reason: "already finished".to_owned(),
            });
        };
        for &sample in samples {
            let value = (sample.clamp(-1.0, 1.0) * 32_767.0).round() as i16;
            writer
                .write_sample(value)
                .map_err(|source| AudioError::Wav { path: self.path.clone(), source })?;
        }
        Ok(())
    }

    fn finish(&mut self) -> Result<(), AudioError> {
        match self.writer.take() {
            Some(writer) => {
                writer.finalize().map_err(|source| AudioError::Wav { path: self.path.clone(), source })
            }
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_recording_reads_back_within_16_bit_precision() {
        let dir = std::env::temp_dir().join(format!("mocha-wav-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("round.wav");
        let written: Vec<f32> = (0..1600).map(|i| ((i as f32) * 0.01).sin() * 0.8).collect();
        let mut recorder = WavRecorder::create(&path, 16_000).unwrap();
        recorder.write(&written).unwrap();
        recorder.finish().unwrap();

        let mut source = WavSource::open(&path).unwrap();
        assert_eq!(source.sample_rate(), 16_000);
        let mut read = vec![0.0; 2000];
        assert_eq!(source.read(&mut read).unwrap(), 1600);
        assert!(source.is_finished());
        for (a, b) in written.iter().zip(&read) {
            assert!((a - b).abs() < 1.0 / 16_000.0, "{a} vs {b}");
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn stereo_and_odd_rates_are_refused_with_a_reason() {
        let dir = std::env::temp_dir().join(format!("mocha-wav-bad-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("stereo.wav");
        let spec = hound::WavSpec {
            channels: 2,
            sample_rate: 48_000,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        hound::WavWriter::create(&path, spec).unwrap().finalize().unwrap();
        let error = WavSource::open(&path).err().unwrap();
        assert!(error.to_string().contains("2 channels"), "{error}");
        let error = WavRecorder::create(&dir.join("odd.wav"), 44_100).err().unwrap();
        assert!(error.to_string().contains("44100 Hz"), "{error}");
        assert!(WavSource::open(&dir.join("missing.wav")).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
