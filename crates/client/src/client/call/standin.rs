//! STAND-IN, TO BE DELETED: the pieces of `mocha-media` the call handle drives
//! (`engine::CallEngine`, `audio::{AudioSource, AudioSink}`, `video::{Frame, VideoSource,
//! VideoSink}`) as docs/calls.md describes them, reduced to what compiles and carries
//! sound: raw 16-bit PCM in 10 ms packets, a fixed 60 ms playout delay, no codec, no
//! reports. The media branches replace every item here; nothing outside `call/` may
//! name this module.

pub mod audio {
    /// Where a call's microphone sound comes from (48 kHz mono f32 after resampling).
    pub trait AudioSource: Send {
        fn sample_rate(&self) -> u32;
        /// Fills `out`; a source that has run dry fills silence.
        fn read(&mut self, out: &mut [f32]);
    }

    /// Where the other side's sound goes.
    pub trait AudioSink: Send {
        fn sample_rate(&self) -> u32;
        fn write(&mut self, samples: &[f32]);
    }
}

pub mod video {
    use std::time::Duration;

    /// An I420 picture.
    #[derive(Clone, Debug, PartialEq, Eq)]
    pub struct Frame {
        pub width: u32,
        pub height: u32,
        pub data: Vec<u8>,
    }

    pub trait VideoSource: Send {
        fn frame_interval(&self) -> Duration;
        fn next_frame(&mut self) -> Option<Frame>;
    }

    pub trait VideoSink: Send {
        fn write(&mut self, frame: &Frame);
    }
}

pub mod engine {
    use std::collections::BTreeMap;
    use std::time::Instant;

    use bytes::Bytes;
    use mocha_media::{MediaPacket, Stream};

    use super::video::Frame;

    const SAMPLES: usize = 480;
    const DELAY: u32 = 2880;

    #[derive(Debug, Clone, Copy)]
    pub struct EngineConfig {
        pub audio: bool,
        pub video: bool,
        pub echo_cancellation: bool,
        pub noise_suppression: bool,
    }

    #[derive(Debug, thiserror::Error)]
    #[error("media engine: {0}")]
    pub struct MediaError(pub String);

    #[derive(Debug, Clone, Default, PartialEq)]
    pub struct CallStats {
        pub loss_percent: f32,
        pub jitter_ms: f32,
        pub round_trip_ms: Option<f32>,
        pub buffer_ms: f32,
        pub concealed: u64,
        pub received: u64,
    }

    pub struct CallEngine {
        capture: Vec<f32>,
        seq: u32,
        timestamp: u32,
        muted: bool,
        received: BTreeMap<u32, Vec<f32>>,
        next_play: Option<u32>,
        highest: Option<u32>,
        first_seq: Option<u32>,
        stats: CallStats,
        transit: Option<f64>,
        start: Instant,
    }

    impl CallEngine {
        pub fn new(_config: EngineConfig, now: Instant) -> Result<Self, MediaError> {
            Ok(Self {
                capture: Vec::new(),
                seq: 0,
                timestamp: 0,
                muted: false,
                received: BTreeMap::new(),
                next_play: None,
                highest: None,
                first_seq: None,
                stats: CallStats::default(),
                transit: None,
                start: now,
            })
        }

        pub fn push_capture(&mut self, samples: &[f32], _now: Instant) {
            self.capture.extend_from_slice(samples);
        }

        pub fn pull_playback(&mut self, out: &mut [f32], _now: Instant) {
            out.fill(0.0);
            let Some(next) = self.next_play.as_mut() else { return };
            let mut filled = 0;
            while filled < out.len() {
                let frame_ts = *next - *next % SAMPLES as u32;
                let offset = (*next - frame_ts) as usize;
                let take = (SAMPLES - offset).min(out.len() - filled);
                match self.received.get(&frame_ts) {
                    Some(frame) => out[filled..filled + take].copy_from_slice(&frame[offset..offset + take]),
                    None => self.stats.concealed += take as u64,
                }
                filled += take;
                *next = next.wrapping_add(take as u32);
            }
            let keep_from = *next - *next % SAMPLES as u32;
            self.received.retain(|ts, _| *ts >= keep_from);
        }

        pub fn push_video_frame(&mut self, _frame: Frame, _now: Instant) {}

        pub fn pull_video_frame(&mut self, _now: Instant) -> Option<Frame> {
            None
        }

        pub fn receive(&mut self, packet: MediaPacket, now: Instant) {
            if packet.stream != Stream::Audio || packet.payload.len() != SAMPLES * 2 {
                return;
            }
            self.stats.received += 1;
            let first = *self.first_seq.get_or_insert(packet.seq);
            let highest = self.highest.get_or_insert(packet.seq);
            *highest = (*highest).max(packet.seq);
            let expected = u64::from(*highest - first) + 1;
            self.stats.loss_percent =
                (100.0 * (1.0 - self.stats.received as f64 / expected as f64)).max(0.0) as f32;
            let arrival = now.duration_since(self.start).as_secs_f64() * 48_000.0;
            let transit = arrival - f64::from(packet.timestamp);
            if let Some(previous) = self.transit.replace(transit) {
                let d = (transit - previous).abs();
                let jitter = f64::from(self.stats.jitter_ms) * 48.0;
                self.stats.jitter_ms = ((jitter + (d - jitter) / 16.0) / 48.0) as f32;
            }
            if self.next_play.is_none() {
                self.next_play = Some(packet.timestamp.saturating_sub(DELAY));
            }
            let samples =
                packet.payload.chunks_exact(2).map(|b| f32::from(i16::from_le_bytes([b[0], b[1]])) / 32768.0);
            self.received.insert(packet.timestamp, samples.collect());
            self.stats.buffer_ms = DELAY as f32 / 48.0;
        }

        pub fn poll_transmit(&mut self, _now: Instant) -> Vec<MediaPacket> {
            let mut packets = Vec::new();
            while self.capture.len() >= SAMPLES {
                let frame: Vec<f32> = self.capture.drain(..SAMPLES).collect();
                let mut payload = Vec::with_capacity(SAMPLES * 2);
                for sample in frame {
                    let sample = if self.muted { 0.0 } else { sample };
                    payload.extend_from_slice(&((sample.clamp(-1.0, 1.0) * 32767.0) as i16).to_le_bytes());
                }
                self.timestamp = self.timestamp.wrapping_add(SAMPLES as u32);
                packets.push(MediaPacket {
                    stream: Stream::Audio,
                    seq: self.seq,
                    timestamp: self.timestamp + DELAY,
                    payload: Bytes::from(payload),
                });
                self.seq = self.seq.wrapping_add(1);
            }
            packets
        }

        pub fn set_muted(&mut self, muted: bool) {
            self.muted = muted;
        }

        pub fn set_camera(&mut self, _on: bool) {}

        pub fn stats(&self) -> CallStats {
            self.stats.clone()
        }
    }
}
