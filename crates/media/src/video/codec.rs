//! H.264 through OpenH264 (compiled from its bundled source): one encoder per sender,
//! one decoder per receiver, I420 [`Frame`]s in and out.

use openh264::OpenH264API;
use openh264::decoder::{Decoder, DecoderConfig};
use openh264::encoder::{
    BitRate, Complexity, Encoder, EncoderConfig, FrameRate, FrameType, RateControlMode, UsageType,
};
use openh264::formats::YUVSource;

use super::frame::check_size;
use super::{CLOCK_HZ, Frame, VideoError};

/// One compressed picture: an H.264 access unit (Annex B, with SPS/PPS before a keyframe).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncodedFrame {
    pub data: Vec<u8>,
    /// An IDR picture: decodable without any earlier frame.
    pub keyframe: bool,
    /// The source frame's capture time, 90 kHz.
    pub timestamp: u32,
}

/// Lends a [`Frame`] to OpenH264 without copying it.
struct Source<'a>(&'a Frame);

impl YUVSource for Source<'_> {
    fn dimensions(&self) -> (usize, usize) {
        (self.0.width() as usize, self.0.height() as usize)
    }

    fn strides(&self) -> (usize, usize, usize) {
        let w = self.0.width() as usize;
        (w, w / 2, w / 2)
    }

    fn y(&self) -> &[u8] {
        self.0.y()
    }

    fn u(&self) -> &[u8] {
        self.0.u()
    }

    fn v(&self) -> &[u8] {
        self.0.v()
    }
}

/// A real-time H.264 encoder at a target bitrate.
///
/// OpenH264's safe API cannot change the bitrate of a running encoder, so
/// [`H264Encoder::set_bitrate`] starts a new one, whose first picture is a keyframe;
/// [`VideoSender`](super::VideoSender) limits how often that happens.
pub struct H264Encoder {
    encoder: Encoder,
    bitrate: u32,
    frame_rate: f32,
    force_keyframe: bool,
}

impl std::fmt::Debug for H264Encoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("H264Encoder")
            .field("bitrate", &self.bitrate)
            .field("frame_rate", &self.frame_rate)
            .finish_non_exhaustive()
    }
}

fn new_encoder(bitrate: u32, frame_rate: f32) -> Result<Encoder, VideoError> {
    let config = EncoderConfig::new()
        .bitrate(BitRate::from_bps(bitrate))
        .max_frame_rate(FrameRate::from_hz(frame_rate))
        .rate_control_mode(RateControlMode::Bitrate)
        .usage_type(UsageType::CameraVideoRealTime)
        .complexity(Complexity::Low)
        // One thread: the engine runs beside audio on small machines, and a single slice
        // per picture keeps the stream simple to packetise.
        .num_threads(1)
        // The encoder may drop a picture to hold the bitrate; the sender sends nothing then.
        .skip_frames(true);
    Encoder::with_api_config(OpenH264API::from_source(), config)
        .map_err(|e| VideoError::Encode(e.to_string()))
}

impl H264Encoder {
    /// `bitrate` in bits per second; `frame_rate` is the rate frames will be given at.
    pub fn new(bitrate: u32, frame_rate: f32) -> Result<Self, VideoError> {
        let frame_rate = if frame_rate.is_finite() { frame_rate.clamp(1.0, 60.0) } else { 30.0 };
        Ok(H264Encoder {
            encoder: new_encoder(bitrate, frame_rate)?,
            bitrate,
            frame_rate,
            force_keyframe: false,
        })
    }

    pub fn bitrate(&self) -> u32 {
        self.bitrate
    }

    /// Restarts the encoder at another bitrate; the next picture is a keyframe.
    pub fn set_bitrate(&mut self, bitrate: u32) -> Result<(), VideoError> {
        self.encoder = new_encoder(bitrate, self.frame_rate)?;
        self.bitrate = bitrate;
        self.force_keyframe = false;
        Ok(())
    }

    /// Makes the next picture a keyframe.
    pub fn force_keyframe(&mut self) {
        self.force_keyframe = true;
    }

    /// Encodes one picture; `None` when the rate control skipped it.
    pub fn encode(&mut self, frame: &Frame) -> Result<Option<EncodedFrame>, VideoError> {
        if std::mem::take(&mut self.force_keyframe) {
            self.encoder.force_intra_frame();
        }
        let millis = u64::from(frame.timestamp) * 1000 / u64::from(CLOCK_HZ);
        let stream = self
            .encoder
            .encode_at(&Source(frame), openh264::Timestamp::from_millis(millis))
            .map_err(|e| VideoError::Encode(e.to_string()))?;
        let keyframe = match stream.frame_type() {
            FrameType::IDR | FrameType::I => true,
            FrameType::P | FrameType::IPMixed => false,
            FrameType::Skip => return Ok(None),
            FrameType::Invalid => return Err(VideoError::Encode("the encoder made no picture".into())),
        };
        let data = stream.to_vec();
        if data.is_empty() {
            return Ok(None);
        }
        Ok(Some(EncodedFrame { data, keyframe, timestamp: frame.timestamp }))
    }
}

/// An H.264 decoder: access units in, in order, pictures out.
pub struct H264Decoder {
    decoder: Decoder,
}

impl std::fmt::Debug for H264Decoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("H264Decoder").finish_non_exhaustive()
    }
}

impl H264Decoder {
    pub fn new() -> Result<Self, VideoError> {
        let decoder = Decoder::with_api_config(OpenH264API::from_source(), DecoderConfig::new())
            .map_err(|e| VideoError::Decode(e.to_string()))?;
        Ok(H264Decoder { decoder })
    }

    /// Decodes one access unit; the picture takes `timestamp`. `Ok(None)` when the data
    /// held no picture (parameter sets only).
    pub fn decode(&mut self, data: &[u8], timestamp: u32) -> Result<Option<Frame>, VideoError> {
        let Some(picture) = self.decoder.decode(data).map_err(|e| VideoError::Decode(e.to_string()))? else {
            return Ok(None);
        };
        let (w, h) = picture.dimensions();
        let (ys, us, vs) = picture.strides();
        check_size(w as u32, h as u32)?;
        let copy = |plane: &[u8], stride: usize, width: usize, rows: usize| -> Result<Vec<u8>, VideoError> {
            let mut out = Vec::with_capacity(width * rows);
            for row in 0..rows {
                let line = plane
                    .get(row * stride..row * stride + width)
                    .ok_or_else(|| VideoError::Decode("the decoder returned a short plane".into()))?;
                out.extend_from_slice(line);
            }
            Ok(out)
        };
        let y = copy(picture.y(), ys, w, h)?;
        let u = copy(picture.u(), us, w / 2, h / 2)?;
        let v = copy(picture.v(), vs, w / 2, h / 2)?;
        Ok(Some(Frame::new(w as u32, h as u32, y, u, v, timestamp)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::video::{TestPattern, read_counter};

    #[test]
    fn pictures_survive_encoding_and_the_counter_reads_back() {
        let pattern = TestPattern::new(320, 240, 30, 1).unwrap();
        let mut encoder = H264Encoder::new(500_000, 30.0).unwrap();
        let mut decoder = H264Decoder::new().unwrap();
        let mut keyframes = 0;
        let mut decoded = 0;
        for n in 0..30 {
            let frame = pattern.frame(n);
            let Some(encoded) = encoder.encode(&frame).unwrap() else { continue };
            keyframes += usize::from(encoded.keyframe);
            let picture = decoder.decode(&encoded.data, encoded.timestamp).unwrap().unwrap();
            assert_eq!((picture.width(), picture.height()), (320, 240));
            assert_eq!(picture.timestamp, frame.timestamp);
            assert_eq!(read_counter(&picture), Some(n as u16), "frame {n}");
            decoded += 1;
        }
        assert_eq!(keyframes, 1, "only the first picture is a keyframe");
        assert!(decoded >= 25, "{decoded} of 30 frames came out");
    }

    #[test]
    fn a_forced_keyframe_is_one() {
        let pattern = TestPattern::new(160, 120, 30, 1).unwrap();
        let mut encoder = H264Encoder::new(300_000, 30.0).unwrap();
        let kinds: Vec<bool> = (0..6)
            .map(|n| {
                if n == 4 {
                    encoder.force_keyframe();
                }
                encoder.encode(&pattern.frame(n)).unwrap().map(|e| e.keyframe)
            })
            .map(|k| k.unwrap_or(false))
            .collect();
        assert_eq!(kinds, [true, false, false, false, true, false]);
    }

    #[test]
    fn garbage_is_a_decode_error_not_a_crash() {
        let mut decoder = H264Decoder::new().unwrap();
        let junk: Vec<u8> =
            [0, 0, 0, 1, 0x65].into_iter().chain((0..500).map(|i| (i * 37 % 251) as u8)).collect();
        // Either refused or nothing shown; never a panic, never a picture out of nothing.
        if let Ok(picture) = decoder.decode(&junk, 0) {
            assert!(picture.is_none());
        }
    }
}
