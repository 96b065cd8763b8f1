//! Between the call's devices and the engine's 48 kHz: resampling where a device or file
//! runs at another rate, silence once a file has run out, and errors kept (once) instead
//! of ending the call.
//!
//! Pacing: the driver asks for as much audio as real time says is due. A file source
//! always has it; a live source (a microphone) gives what its device has delivered,
//! and only that is passed on, so the device's own clock sets the pace.

use mocha_media::audio::{AudioError, AudioSink, AudioSource, Resampler, SAMPLE_RATE};

pub(crate) struct Capture {
    source: Box<dyn AudioSource>,
    resampler: Resampler,
    /// Input samples owed to the resampler's rate, in 48 kHz units times the source rate.
    owed: u64,
    input: Vec<f32>,
    pub(crate) error: Option<String>,
}

impl Capture {
    pub(crate) fn new(source: Box<dyn AudioSource>) -> Result<Self, AudioError> {
        let resampler = Resampler::new(source.sample_rate(), SAMPLE_RATE)?;
        Ok(Self { source, resampler, owed: 0, input: Vec::new(), error: None })
    }

    /// Appends to `out` the microphone's next samples at 48 kHz, about `count` of them.
    pub(crate) fn take(&mut self, count: usize, out: &mut Vec<f32>) {
        let rate = u64::from(self.source.sample_rate());
        // Exactly `count` at 48 kHz is `count * rate / 48000` at the source's rate; keep the
        // remainder so nothing drifts.
        self.owed += count as u64 * rate;
        let wanted = (self.owed / u64::from(SAMPLE_RATE)) as usize;
        self.owed %= u64::from(SAMPLE_RATE);
        self.input.resize(wanted, 0.0);
        let got = if self.error.is_some() {
            0
        } else {
            match self.source.read(&mut self.input) {
                Ok(got) => got.min(wanted),
                Err(error) => {
                    self.error = Some(format!("the microphone failed: {error}"));
                    0
                }
            }
        };
        // A file that ended (or a source that failed) goes on as silence; a live source
        // that had less than asked gives just that.
        let keep = if self.source.is_finished() || self.error.is_some() { wanted } else { got };
        self.input[got..].fill(0.0);
        if let Err(error) = self.resampler.process(&self.input[..keep], out) {
            self.error.get_or_insert(format!("resampling the microphone failed: {error}"));
        }
    }
}

pub(crate) struct Playback {
    sink: Box<dyn AudioSink>,
    resampler: Resampler,
    output: Vec<f32>,
    pub(crate) error: Option<String>,
}

impl Playback {
    pub(crate) fn new(sink: Box<dyn AudioSink>) -> Result<Self, AudioError> {
        let resampler = Resampler::new(SAMPLE_RATE, sink.sample_rate())?;
        Ok(Self { sink, resampler, output: Vec::new(), error: None })
    }

    /// Plays 48 kHz samples.
    pub(crate) fn give(&mut self, samples: &[f32]) {
        if self.error.is_some() {
            return;
        }
        self.output.clear();
        let written = self
            .resampler
            .process(samples, &mut self.output)
            .map_err(|e| format!("resampling for the speaker failed: {e}"))
            .and_then(|()| self.sink.write(&self.output).map_err(|e| format!("the speaker failed: {e}")));
        if let Err(error) = written {
            self.error = Some(error);
        }
    }

    /// Flushes the sink (a WAV file gets its final header).
    pub(crate) fn finish(&mut self) {
        if let Err(error) = self.sink.finish() {
            self.error.get_or_insert(format!("the speaker failed: {error}"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mocha_media::audio::{MemorySink, MemorySource};

    #[test]
    fn a_16_khz_file_becomes_48_khz_and_then_silence() {
        let mut capture = Capture::new(Box::new(MemorySource::new(16_000, vec![0.5; 1_600]))).unwrap();
        let mut out = Vec::new();
        for _ in 0..20 {
            capture.take(480, &mut out);
        }
        // 100 ms of file, then silence: 200 ms at 48 kHz in all (less the resampler's delay).
        assert!((out.len() as i64 - 9_600).abs() < 700, "{}", out.len());
        assert!(out[2_000..3_000].iter().all(|s| (s - 0.5).abs() < 0.05));
        assert!(out[out.len() - 500..].iter().all(|s| s.abs() < 0.01));
        assert!(capture.error.is_none());
    }

    #[test]
    fn playback_at_the_sinks_rate_and_finished() {
        let mut playback = Playback::new(Box::new(MemorySink::new(48_000, 10_000))).unwrap();
        playback.give(&[0.25; 480]);
        playback.finish();
        assert!(playback.error.is_none());
    }
}
