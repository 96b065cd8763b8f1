//! `CallEngine`: one side of a call's media, sans-IO (the interface in `docs/calls.md`).
//!
//! Send path: `push_capture` → 10 ms blocks through echo cancellation and noise
//! suppression → 20 ms Opus frames with FEC → packets queued for `poll_transmit`.
//! Receive path: `receive` → jitter buffer → `pull_playback` decodes, rebuilds from FEC
//! or conceals, 20 ms at a time; what it hands out is also the echo canceller's
//! far-end reference. Every 500 ms `poll_transmit` adds a control packet with receiver
//! reports and a ping; the other side's reports steer our encoder (and the video
//! pipeline's bitrate), its pongs give the round trip.

pub mod adapt;
pub mod stats;
pub mod video;

use std::collections::VecDeque;
use std::hash::{BuildHasher, Hasher};
use std::time::{Duration, Instant};

use crate::audio::codec::has_fec;
use crate::audio::{
    BLOCK_SAMPLES, FRAME_SAMPLES, JitterBuffer, OpusDecoder, OpusEncoder, Playout, SAMPLE_RATE,
    VoiceProcessor,
};
use crate::control::{self, ControlMessage, ReceiverReport};
use crate::error::MediaError;
use crate::packet::{MAX_PAYLOAD, MediaPacket, Stream};
use adapt::AudioAdaptation;
pub use stats::{CallStats, ReceiveStats};
pub use video::{NoFrame, NoVideo, VideoPipeline, VideoStats};

/// How often reports and pings go out.
pub const REPORT_INTERVAL: Duration = Duration::from_millis(500);
/// Encoded packets waiting for `poll_transmit`; beyond, the oldest are dropped (a caller
/// that stops polling must not make us grow).
const OUTGOING_LIMIT: usize = 64;
/// Keyframe requests are repeated no more often than this while frames stay broken.
const KEYFRAME_REQUEST_INTERVAL: Duration = Duration::from_millis(250);
/// Pings whose pong has not come back are forgotten after this many.
const PINGS_REMEMBERED: usize = 8;
const VIDEO_CLOCK: u32 = 90_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EngineConfig {
    /// Always true for a call today.
    pub audio: bool,
    /// A video call; the camera can still be off.
    pub video: bool,
    /// The user's option.
    pub echo_cancellation: bool,
    pub noise_suppression: bool,
}

impl EngineConfig {
    /// A voice call with echo cancellation and noise suppression on.
    pub fn voice() -> Self {
        EngineConfig { audio: true, video: false, echo_cancellation: true, noise_suppression: true }
    }
}

/// One side of a call's media. `V` is the video pipeline ([`NoVideo`] until the video
/// half is plugged in).
pub struct CallEngine<V: VideoPipeline = NoVideo> {
    config: EngineConfig,
    epoch: Instant,
    // Send path.
    processor: VoiceProcessor,
    capture_block: Vec<f32>,
    capture_frame: Vec<f32>,
    encoder: OpusEncoder,
    adaptation: AudioAdaptation,
    audio_seq: u32,
    audio_ts: u32,
    control_seq: u32,
    muted: bool,
    outgoing: VecDeque<MediaPacket>,
    next_report: Instant,
    next_ping_id: u32,
    pings: VecDeque<(u32, u64)>,
    pongs: Vec<(u32, u64, Instant)>,
    last_keyframe_request: Option<Instant>,
    // Receive path.
    jitter: JitterBuffer,
    decoder: OpusDecoder,
    decoded: VecDeque<f32>,
    frame: Vec<f32>,
    render_block: Vec<f32>,
    audio_received: ReceiveStats,
    video_received: ReceiveStats,
    round_trip: Option<Duration>,
    remote_audio_report: Option<ReceiverReport>,
    video: V,
    counters: Counters,
}

#[derive(Debug, Clone, Copy, Default)]
struct Counters {
    concealed: u64,
    fec_recoveries: u64,
    bad_packets: u64,
    packets_sent: u64,
    packets_received: u64,
    dropped_outgoing: u64,
}

/// A per-process random value for sequence and timestamp starts (not a secret: the
/// nonce's uniqueness comes from the sender id and the sequence numbers).
fn random_seed() -> u64 {
    std::collections::hash_map::RandomState::new().build_hasher().finish()
}

impl CallEngine<NoVideo> {
    pub fn new(config: EngineConfig, now: Instant) -> Result<Self, MediaError> {
        Self::with_video(config, now, NoVideo, random_seed())
    }

    /// Like [`new`](Self::new) with the sequence and timestamp starts taken from `seed`:
    /// for tests that must replay exactly.
    pub fn new_seeded(config: EngineConfig, now: Instant, seed: u64) -> Result<Self, MediaError> {
        Self::with_video(config, now, NoVideo, seed)
    }
}

impl<V: VideoPipeline> CallEngine<V> {
    pub fn with_video(config: EngineConfig, now: Instant, video: V, seed: u64) -> Result<Self, MediaError> {
        if !config.audio {
            return Err(MediaError::NoAudio);
        }
        let mut rng = crate::link::SplitMix64::new(seed);
        Ok(CallEngine {
            config,
            epoch: now,
            processor: VoiceProcessor::new(config.echo_cancellation, config.noise_suppression),
            capture_block: Vec::with_capacity(BLOCK_SAMPLES),
            capture_frame: Vec::with_capacity(FRAME_SAMPLES),
            encoder: OpusEncoder::new()?,
            adaptation: AudioAdaptation::default(),
            audio_seq: rng.next_u64() as u32,
            audio_ts: rng.next_u64() as u32,
            control_seq: rng.next_u64() as u32,
            muted: false,
            outgoing: VecDeque::new(),
            next_report: now + REPORT_INTERVAL,
            next_ping_id: 1,
            pings: VecDeque::new(),
            pongs: Vec::new(),
            last_keyframe_request: None,
            jitter: JitterBuffer::new(),
            decoder: OpusDecoder::new()?,
            decoded: VecDeque::with_capacity(2 * FRAME_SAMPLES),
            frame: vec![0.0; FRAME_SAMPLES],
            render_block: Vec::with_capacity(BLOCK_SAMPLES),
            audio_received: ReceiveStats::new(SAMPLE_RATE),
            video_received: ReceiveStats::new(VIDEO_CLOCK),
            round_trip: None,
            remote_audio_report: None,
            video,
            counters: Counters::default(),
        })
    }

    pub fn config(&self) -> EngineConfig {
        self.config
    }

    /// Turns echo cancellation and noise suppression on or off mid-call.
    pub fn set_voice_processing(&mut self, echo_cancellation: bool, noise_suppression: bool) {
        self.config.echo_cancellation = echo_cancellation;
        self.config.noise_suppression = noise_suppression;
        self.processor.set_options(echo_cancellation, noise_suppression);
    }

    /// A hint for the echo canceller: the devices' render-to-capture delay in ms.
    pub fn set_echo_delay_hint_ms(&mut self, delay_ms: i32) {
        self.processor.set_stream_delay_ms(delay_ms);
    }

    /// Microphone samples, 48 kHz mono f32 in [-1, 1], any chunk size (callers resample
    /// first: `audio::Resampler`).
    pub fn push_capture(&mut self, samples: &[f32], _now: Instant) {
        for &sample in samples {
            self.capture_block.push(if sample.is_finite() { sample.clamp(-1.0, 1.0) } else { 0.0 });
            if self.capture_block.len() == BLOCK_SAMPLES {
                self.capture_processed_block();
            }
        }
    }

    fn capture_processed_block(&mut self) {
        // On failure the block passes unprocessed: a moment of echo beats a gap.
        let _unprocessed = self.processor.process_capture(&mut self.capture_block);
        if self.muted {
            self.capture_block.iter_mut().for_each(|s| *s = 0.0);
        }
        self.capture_frame.extend_from_slice(&self.capture_block);
        self.capture_block.clear();
        if self.capture_frame.len() == FRAME_SAMPLES {
            let timestamp = self.audio_ts;
            self.audio_ts = self.audio_ts.wrapping_add(FRAME_SAMPLES as u32);
            // An encoder error loses this one frame (the receiver conceals it); the next
            // frame is encoded afresh.
            if let Ok(payload) = self.encoder.encode(&self.capture_frame) {
                let seq = self.audio_seq;
                self.audio_seq = self.audio_seq.wrapping_add(1);
                self.queue(MediaPacket { stream: Stream::Audio, seq, timestamp, payload });
            }
            self.capture_frame.clear();
        }
    }

    fn queue(&mut self, packet: MediaPacket) {
        if self.outgoing.len() == OUTGOING_LIMIT {
            self.outgoing.pop_front();
            self.counters.dropped_outgoing += 1;
        }
        self.outgoing.push_back(packet);
    }

    /// Fills `out` (48 kHz mono) with what the speaker must play now; this is also the
    /// echo canceller's far-end reference. Missing audio is concealed, never a gap of
    /// stale data.
    pub fn pull_playback(&mut self, out: &mut [f32], now: Instant) {
        for slot in out.iter_mut() {
            if self.decoded.is_empty() {
                self.decode_next(now);
            }
            *slot = self.decoded.pop_front().unwrap_or(0.0);
            self.render_block.push(*slot);
            if self.render_block.len() == BLOCK_SAMPLES {
                // Analysis only: a failure costs echo suppression for 10 ms, nothing else.
                let _analysed = self.processor.process_render(&self.render_block);
                self.render_block.clear();
            }
        }
    }

    fn decode_next(&mut self, now: Instant) {
        let decoded = match self.jitter.next(now) {
            Playout::Silence => {
                self.frame.iter_mut().for_each(|s| *s = 0.0);
                Ok(FRAME_SAMPLES)
            }
            Playout::Decode(payload) => match self.decoder.decode(&payload, &mut self.frame) {
                Ok(count) => Ok(count),
                Err(_) => {
                    self.counters.bad_packets += 1;
                    self.counters.concealed += 1;
                    self.decoder.conceal(&mut self.frame)
                }
            },
            Playout::Recover(next) => {
                if has_fec(&next) {
                    self.counters.fec_recoveries += 1;
                } else {
                    self.counters.concealed += 1;
                }
                self.decoder.decode_fec(&next, &mut self.frame)
            }
            Playout::Conceal => {
                self.counters.concealed += 1;
                self.decoder.conceal(&mut self.frame)
            }
        };
        let count = match decoded {
            Ok(count) => count.min(FRAME_SAMPLES),
            Err(_) => {
                self.frame.iter_mut().for_each(|s| *s = 0.0);
                FRAME_SAMPLES
            }
        };
        // Decoding never gives fewer samples than a frame for our own 20 ms packets; a
        // shorter frame from a foreign sender is padded with silence, not stale audio.
        self.frame[count..].iter_mut().for_each(|s| *s = 0.0);
        self.decoded.extend(self.frame.iter().copied());
    }

    /// A camera frame with its capture time. With [`NoVideo`] no frame can exist.
    pub fn push_video_frame(&mut self, frame: V::Frame, now: Instant) {
        self.video.push_frame(frame, now);
    }

    /// The newest decoded frame of the other side that is due at `now` (lip sync: the
    /// video pipeline is told how long audio now takes from the other side's capture to
    /// our speaker). Always `None` with [`NoVideo`].
    pub fn pull_video_frame(&mut self, now: Instant) -> Option<V::Frame> {
        let delay = self.audio_playout_delay();
        self.video.pull_frame(now, delay)
    }

    /// How far behind capture our playback runs on the receive side: jitter buffer plus
    /// decoded audio not yet handed out (the network's one-way delay is not included;
    /// the video pipeline sees it in its own packets' arrival).
    pub fn audio_playout_delay(&self) -> Duration {
        let decoded = self.decoded.len() as f64 / f64::from(SAMPLE_RATE);
        Duration::from_secs_f64((self.jitter.delay_ms() / 1000.0 + decoded).max(0.0))
    }

    /// A packet from the other side (either path).
    pub fn receive(&mut self, packet: MediaPacket, now: Instant) {
        self.counters.packets_received += 1;
        if packet.payload.is_empty() || packet.payload.len() > MAX_PAYLOAD {
            self.counters.bad_packets += 1;
            return;
        }
        match packet.stream {
            Stream::Audio => {
                self.audio_received.on_packet(packet.seq, packet.timestamp, now);
                self.jitter.insert(packet.timestamp, packet.payload, now);
            }
            Stream::Video => {
                self.video_received.on_packet(packet.seq, packet.timestamp, now);
                self.video.receive(packet, now);
            }
            Stream::Control => match control::decode(&packet.payload) {
                Ok(messages) => messages.into_iter().for_each(|message| self.on_control(message, now)),
                Err(_) => self.counters.bad_packets += 1,
            },
        }
    }

    fn micros_since_epoch(&self, now: Instant) -> u64 {
        now.saturating_duration_since(self.epoch).as_micros().min(u128::from(u64::MAX)) as u64
    }

    fn on_control(&mut self, message: ControlMessage, now: Instant) {
        match message {
            ControlMessage::Report(report) => match report.stream {
                Stream::Audio => {
                    let (expected_loss, bitrate) = self.adaptation.on_report(report.fraction_lost);
                    // Values are clamped by the encoder; libopus accepts all of them.
                    let _loss = self.encoder.set_expected_loss(expected_loss);
                    let _rate = self.encoder.set_bitrate(bitrate);
                    self.remote_audio_report = Some(report);
                }
                Stream::Video => self.video.on_receiver_report(&report, self.round_trip),
                Stream::Control => {}
            },
            ControlMessage::KeyframeRequest => self.video.on_keyframe_request(),
            ControlMessage::Ping { id, sent_us } => {
                if self.pongs.len() < PINGS_REMEMBERED {
                    self.pongs.push((id, sent_us, now));
                }
            }
            ControlMessage::Pong { id, sent_us, held_us } => {
                let Some(index) = self.pings.iter().position(|&(ping, sent)| ping == id && sent == sent_us)
                else {
                    return; // not ours, or too old: no round trip from it
                };
                self.pings.drain(..=index);
                let elapsed = self.micros_since_epoch(now).saturating_sub(sent_us);
                let sample = Duration::from_micros(elapsed.saturating_sub(u64::from(held_us)));
                // Smoothed like TCP's SRTT (1/8), so one slow pong does not swing the video bitrate.
                self.round_trip = Some(match self.round_trip {
                    None => sample,
                    Some(rtt) => rtt.mul_f64(0.875) + sample.mul_f64(0.125),
                });
            }
        }
    }

    /// Packets to send now (encoded audio/video, reports, pings). Call at least every 10 ms.
    pub fn poll_transmit(&mut self, now: Instant) -> Vec<MediaPacket> {
        let mut out = Vec::with_capacity(self.outgoing.len() + 2);
        let mut messages = Vec::new();
        for (id, sent_us, received) in self.pongs.drain(..) {
            let held = now.saturating_duration_since(received).as_micros().min(u128::from(u32::MAX)) as u32;
            messages.push(ControlMessage::Pong { id, sent_us, held_us: held });
        }
        if self.video.take_keyframe_request()
            && self
                .last_keyframe_request
                .is_none_or(|at| now.saturating_duration_since(at) >= KEYFRAME_REQUEST_INTERVAL)
        {
            self.last_keyframe_request = Some(now);
            messages.push(ControlMessage::KeyframeRequest);
        }
        if now >= self.next_report {
            self.next_report = (self.next_report + REPORT_INTERVAL).max(now);
            messages.extend(self.audio_received.report(Stream::Audio).map(ControlMessage::Report));
            messages.extend(self.video_received.report(Stream::Video).map(ControlMessage::Report));
            let id = self.next_ping_id;
            self.next_ping_id = self.next_ping_id.wrapping_add(1);
            let sent_us = self.micros_since_epoch(now);
            if self.pings.len() == PINGS_REMEMBERED {
                self.pings.pop_front();
            }
            self.pings.push_back((id, sent_us));
            messages.push(ControlMessage::Ping { id, sent_us });
        }
        if !messages.is_empty() {
            let seq = self.control_seq;
            self.control_seq = self.control_seq.wrapping_add(1);
            let timestamp = (self.micros_since_epoch(now) / 1000) as u32;
            out.push(MediaPacket {
                stream: Stream::Control,
                seq,
                timestamp,
                payload: control::encode(&messages),
            });
        }
        self.video.poll_transmit(now, &mut out);
        out.extend(self.outgoing.drain(..));
        self.counters.packets_sent += out.len() as u64;
        out
    }

    pub fn set_muted(&mut self, muted: bool) {
        self.muted = muted;
    }

    pub fn is_muted(&self) -> bool {
        self.muted
    }

    pub fn set_camera(&mut self, on: bool) {
        self.video.set_camera(on);
    }

    pub fn stats(&self) -> CallStats {
        let jitter = self.jitter.stats();
        let video = self.video.stats();
        CallStats {
            loss_percent: self.audio_received.loss_percent(),
            remote_loss_percent: self
                .remote_audio_report
                .map_or(0.0, |r| f32::from(r.fraction_lost) * 100.0 / 256.0),
            jitter_ms: self.audio_received.jitter_ms(),
            round_trip_ms: self.round_trip.map(|rtt| rtt.as_secs_f32() * 1000.0),
            buffer_ms: self.jitter.delay_ms() as f32,
            buffer_target_ms: self.jitter.target_ms() as f32,
            concealed_frames: self.counters.concealed,
            fec_recoveries: self.counters.fec_recoveries,
            late_packets: jitter.late,
            bad_packets: self.counters.bad_packets,
            packets_sent: self.counters.packets_sent,
            packets_received: self.counters.packets_received,
            audio_bitrate_bps: self.encoder.bitrate(),
            expected_loss_percent: self.encoder.expected_loss(),
            freezes: video.freezes,
            video,
        }
    }

    /// The jitter buffer's own counters (stretches, compressions, overflow).
    pub fn jitter_stats(&self) -> crate::audio::jitter::JitterStats {
        self.jitter.stats()
    }

    /// The video pipeline, for the caller to configure it.
    pub fn video_mut(&mut self) -> &mut V {
        &mut self.video
    }
}
