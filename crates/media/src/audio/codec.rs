//! Opus (libopus 1.6) in 20 ms mono frames at 48 kHz, with in-band FEC: each packet
//! also carries a low-bitrate copy of the previous frame, which the receiver decodes
//! when that frame's own packet never arrived.

use bytes::Bytes;
use opus::{Application, Bitrate, Channels};

use super::{FRAME_SAMPLES, SAMPLE_RATE};
use crate::packet::MAX_PAYLOAD;

/// What a call starts at: wideband-plus speech with room for FEC.
pub const DEFAULT_BITRATE: u32 = 32_000;
pub const MIN_BITRATE: u32 = 12_000;
pub const MAX_BITRATE: u32 = 64_000;
/// The highest expected loss the encoder is told; beyond it FEC costs more than it saves.
pub const MAX_EXPECTED_LOSS: u8 = 40;

#[derive(Debug, thiserror::Error)]
pub enum CodecError {
    #[error("opus: {0}")]
    Opus(#[from] opus::Error),
    #[error("an audio frame must be {FRAME_SAMPLES} samples, not {0}")]
    FrameSize(usize),
}

pub struct OpusEncoder {
    encoder: opus::Encoder,
    bitrate: u32,
    expected_loss: u8,
    buffer: Vec<u8>,
}

impl OpusEncoder {
    pub fn new() -> Result<Self, CodecError> {
        let mut encoder = opus::Encoder::new(SAMPLE_RATE, Channels::Mono, Application::Voip)?;
        encoder.set_inband_fec(true)?;
        encoder.set_vbr(true)?;
        encoder.set_dtx(false)?;
        let mut this = OpusEncoder { encoder, bitrate: 0, expected_loss: 0, buffer: vec![0; MAX_PAYLOAD] };
        this.set_bitrate(DEFAULT_BITRATE)?;
        // Until the first report, assume a little loss so the first losses are recoverable.
        this.set_expected_loss(5)?;
        Ok(this)
    }

    /// Clamped to [`MIN_BITRATE`]..=[`MAX_BITRATE`].
    pub fn set_bitrate(&mut self, bps: u32) -> Result<(), CodecError> {
        let bps = bps.clamp(MIN_BITRATE, MAX_BITRATE);
        if bps != self.bitrate {
            self.encoder.set_bitrate(Bitrate::Bits(bps as i32))?;
            self.bitrate = bps;
        }
        Ok(())
    }

    pub fn bitrate(&self) -> u32 {
        self.bitrate
    }

    /// The loss the encoder plans for, in percent: it sizes the FEC copy from it (and at 0
    /// sends none). Clamped to [`MAX_EXPECTED_LOSS`].
    pub fn set_expected_loss(&mut self, percent: u8) -> Result<(), CodecError> {
        let percent = percent.min(MAX_EXPECTED_LOSS);
        if percent != self.expected_loss {
            self.encoder.set_packet_loss_perc(i32::from(percent))?;
            self.expected_loss = percent;
        }
        Ok(())
    }

    pub fn expected_loss(&self) -> u8 {
        self.expected_loss
    }

    /// Encodes one 20 ms frame.
    pub fn encode(&mut self, frame: &[f32]) -> Result<Bytes, CodecError> {
        if frame.len() != FRAME_SAMPLES {
            return Err(CodecError::FrameSize(frame.len()));
        }
        let length = self.encoder.encode_float(frame, &mut self.buffer)?;
        Ok(Bytes::copy_from_slice(&self.buffer[..length]))
    }
}

pub struct OpusDecoder {
    decoder: opus::Decoder,
}

impl OpusDecoder {
    pub fn new() -> Result<Self, CodecError> {
        Ok(OpusDecoder { decoder: opus::Decoder::new(SAMPLE_RATE, Channels::Mono)? })
    }

    /// Decodes a packet into `out` (one frame, [`FRAME_SAMPLES`] long).
    pub fn decode(&mut self, packet: &[u8], out: &mut [f32]) -> Result<usize, CodecError> {
        if out.len() != FRAME_SAMPLES {
            return Err(CodecError::FrameSize(out.len()));
        }
        Ok(self.decoder.decode_float(packet, out, false)?)
    }

    /// Rebuilds the frame *before* `next_packet` from the FEC copy inside it (libopus
    /// falls back to concealment if the packet carries none: see [`has_fec`]).
    pub fn decode_fec(&mut self, next_packet: &[u8], out: &mut [f32]) -> Result<usize, CodecError> {
        if out.len() != FRAME_SAMPLES {
            return Err(CodecError::FrameSize(out.len()));
        }
        Ok(self.decoder.decode_float(next_packet, out, true)?)
    }

    /// Packet-loss concealment: extrapolates the last decoded audio, fading out.
    pub fn conceal(&mut self, out: &mut [f32]) -> Result<usize, CodecError> {
        if out.len() != FRAME_SAMPLES {
            return Err(CodecError::FrameSize(out.len()));
        }
        Ok(self.decoder.decode_float(&[], out, false)?)
    }
}

/// Whether an Opus packet carries an FEC (SILK "LBRR") copy of the previous frame.
///
/// Read from the packet itself (RFC 6716 §4.2.3): for a single 20 ms mono frame in SILK
/// or hybrid mode, the first two range-coded bits after the TOC byte are the VAD flag
/// and the LBRR flag, each coded with probability ½, which makes them the two top bits
/// of the second byte. Other layouts (CELT-only, several frames, stereo) say `false`.
/// Checked against libopus in the tests below (FEC on vs off).
pub fn has_fec(packet: &[u8]) -> bool {
    let (Some(&toc), Some(&first)) = (packet.first(), packet.get(1)) else {
        return false;
    };
    let config = toc >> 3;
    let stereo = toc & 0b100 != 0;
    let code = toc & 0b11;
    let twenty_ms = match config {
        0..=11 => config % 4 == 1,
        12..=15 => config % 2 == 1,
        _ => return false,
    };
    twenty_ms && !stereo && code == 0 && first & 0b0100_0000 != 0
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::audio::synth::{SpeechLike, render};

    fn speech(frames: usize) -> Vec<f32> {
        render(&mut SpeechLike::new(SAMPLE_RATE, 150.0, 0.5), frames * FRAME_SAMPLES).unwrap()
    }

    #[test]
    fn fec_flag_follows_the_encoder_setting() {
        let input = speech(50);
        let mut encoder = OpusEncoder::new().unwrap();
        encoder.set_expected_loss(20).unwrap();
        let with: Vec<Bytes> = input.chunks(FRAME_SAMPLES).map(|f| encoder.encode(f).unwrap()).collect();
        let mut encoder = OpusEncoder::new().unwrap();
        encoder.set_expected_loss(0).unwrap();
        let without: Vec<Bytes> = input.chunks(FRAME_SAMPLES).map(|f| encoder.encode(f).unwrap()).collect();
        let flagged = with.iter().filter(|p| has_fec(p)).count();
        assert!(flagged > 30, "only {flagged} of 50 packets carry FEC");
        assert_eq!(without.iter().filter(|p| has_fec(p)).count(), 0);
        assert!(with.iter().all(|p| p.len() <= MAX_PAYLOAD));
    }

    #[test]
    fn fec_rebuilds_a_lost_frame_better_than_concealment() {
        let input = speech(60);
        let mut encoder = OpusEncoder::new().unwrap();
        encoder.set_expected_loss(20).unwrap();
        let packets: Vec<Bytes> = input.chunks(FRAME_SAMPLES).map(|f| encoder.encode(f).unwrap()).collect();
        let lost = 30;
        assert!(has_fec(&packets[lost + 1]));
        // Some(true): lose frame `lost` and rebuild it from FEC; Some(false): conceal it;
        // None: lose nothing (the reference the other two are measured against).
        let decode_with = |recover: Option<bool>| {
            let mut decoder = OpusDecoder::new().unwrap();
            let mut out = vec![0.0; FRAME_SAMPLES];
            let mut all = Vec::new();
            for (i, packet) in packets.iter().enumerate() {
                match (i == lost, recover) {
                    (true, Some(true)) => decoder.decode_fec(&packets[i + 1], &mut out).unwrap(),
                    (true, Some(false)) => decoder.conceal(&mut out).unwrap(),
                    _ => decoder.decode(packet, &mut out).unwrap(),
                };
                all.extend_from_slice(&out);
            }
            all
        };
        let reference = decode_with(None);
        let error = |decoded: &[f32]| {
            let span = (lost * FRAME_SAMPLES)..((lost + 2) * FRAME_SAMPLES);
            let noise: f32 = span.clone().map(|i| (decoded[i] - reference[i]).powi(2)).sum();
            let signal: f32 = span.map(|i| reference[i].powi(2)).sum();
            noise / signal
        };
        let fec_error = error(&decode_with(Some(true)));
        let plc_error = error(&decode_with(Some(false)));
        assert!(fec_error < plc_error * 0.25, "fec {fec_error} plc {plc_error}");
    }

    #[test]
    fn garbage_and_wrong_sizes_are_errors_not_panics() {
        let mut decoder = OpusDecoder::new().unwrap();
        let mut out = vec![0.0; FRAME_SAMPLES];
        assert!(decoder.decode(&[0xff, 0xff, 0xff], &mut out).is_err());
        assert!(decoder.decode(&[0x08], &mut vec![0.0; 10]).is_err());
        let mut encoder = OpusEncoder::new().unwrap();
        assert!(matches!(encoder.encode(&[0.0; 100]), Err(CodecError::FrameSize(100))));
        assert!(!has_fec(&[]));
    }
}
