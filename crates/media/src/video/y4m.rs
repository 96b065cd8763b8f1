//! YUV4MPEG2 (`.y4m`) files, 4:2:0 only: the CLI's video input and output.
//!
//! A header line (`YUV4MPEG2 W640 H480 F30:1 …`), then for each frame a `FRAME` line and
//! the raw Y, U and V planes.

use std::io::{BufRead, Read, Write};

use super::frame::check_size;
use super::{CLOCK_HZ, Frame, VideoError, VideoSink, VideoSource};

const MAGIC: &str = "YUV4MPEG2";
/// Header and `FRAME` lines longer than this are refused rather than read on and on.
const MAX_LINE: usize = 1024;

#[derive(Debug, thiserror::Error)]
pub enum Y4mError {
    #[error("reading or writing the file: {0}")]
    Io(#[from] std::io::Error),
    #[error("not a Y4M file (it does not start with {MAGIC})")]
    NotY4m,
    #[error("header line: {0}")]
    BadHeader(String),
    #[error("colour space {0} is not supported (only 4:2:0: C420, C420jpeg, C420paldv, C420mpeg2)")]
    UnsupportedColourSpace(String),
    #[error("frame {frame}: expected a FRAME line")]
    BadFrameLine { frame: u64 },
    #[error("frame {frame} is cut short ({got} of {want} bytes)")]
    Truncated { frame: u64, got: usize, want: usize },
    #[error("frame is {got_w}x{got_h}, the file is {want_w}x{want_h}")]
    SizeChanged { got_w: u32, got_h: u32, want_w: u32, want_h: u32 },
}

/// Reads 4:2:0 frames from a Y4M stream; timestamps follow the header's frame rate.
#[derive(Debug)]
pub struct Y4mReader<R> {
    input: R,
    width: u32,
    height: u32,
    fps_num: u32,
    fps_den: u32,
    frames: u64,
}

/// Reads one `\n`-terminated line of at most [`MAX_LINE`] bytes; `None` at a clean end.
fn read_line(input: &mut impl BufRead) -> Result<Option<String>, Y4mError> {
    let mut line = Vec::new();
    let read = input.take(MAX_LINE as u64 + 1).read_until(b'\n', &mut line)?;
    if read == 0 {
        return Ok(None);
    }
    if line.last() != Some(&b'\n') {
        return Err(Y4mError::BadHeader(format!("a line is longer than {MAX_LINE} bytes or unterminated")));
    }
    line.pop();
    String::from_utf8(line).map(Some).map_err(|_| Y4mError::BadHeader("not ASCII".into()))
}

impl<R: BufRead> Y4mReader<R> {
    /// Reads and checks the header.
    pub fn new(mut input: R) -> Result<Self, Y4mError> {
        let line = read_line(&mut input)?.ok_or(Y4mError::NotY4m)?;
        let mut tokens = line.split(' ');
        if tokens.next() != Some(MAGIC) {
            return Err(Y4mError::NotY4m);
        }
        let (mut width, mut height, mut rate) = (None, None, (30, 1));
        for token in tokens.filter(|t| !t.is_empty()) {
            let (tag, value) = token.split_at(1);
            let number = |v: &str| {
                v.parse::<u32>().map_err(|_| Y4mError::BadHeader(format!("{token} is not a number")))
            };
            match tag {
                "W" => width = Some(number(value)?),
                "H" => height = Some(number(value)?),
                "F" => {
                    let (n, d) = value
                        .split_once(':')
                        .ok_or_else(|| Y4mError::BadHeader(format!("frame rate {token} is not N:D")))?;
                    rate = (number(n)?, number(d)?);
                    if rate.0 == 0 || rate.1 == 0 {
                        return Err(Y4mError::BadHeader(format!("frame rate {token} is zero")));
                    }
                }
                "C" if !matches!(value, "420" | "420jpeg" | "420paldv" | "420mpeg2") => {
                    return Err(Y4mError::UnsupportedColourSpace(value.into()));
                }
                // Interlacing, aspect ratio, extensions and 4:2:0 siting: nothing to do.
                _ => {}
            }
        }
        let width = width.ok_or_else(|| Y4mError::BadHeader("no width (W)".into()))?;
        let height = height.ok_or_else(|| Y4mError::BadHeader("no height (H)".into()))?;
        check_size(width, height).map_err(|e| Y4mError::BadHeader(e.to_string()))?;
        Ok(Y4mReader { input, width, height, fps_num: rate.0, fps_den: rate.1, frames: 0 })
    }

    pub fn width(&self) -> u32 {
        self.width
    }

    pub fn height(&self) -> u32 {
        self.height
    }

    /// Frames per second as `(numerator, denominator)`.
    pub fn frame_rate(&self) -> (u32, u32) {
        (self.fps_num, self.fps_den)
    }

    fn read_frame(&mut self) -> Result<Option<Frame>, Y4mError> {
        let frame = self.frames;
        let Some(line) = read_line(&mut self.input)? else { return Ok(None) };
        if line != "FRAME" && !line.starts_with("FRAME ") {
            return Err(Y4mError::BadFrameLine { frame });
        }
        let luma = self.width as usize * self.height as usize;
        let want = luma * 3 / 2;
        let mut data = vec![0u8; want];
        let mut got = 0;
        while got < want {
            match self.input.read(&mut data[got..]) {
                Ok(0) => return Err(Y4mError::Truncated { frame, got, want }),
                Ok(n) => got += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e.into()),
            }
        }
        let v = data.split_off(luma + luma / 4);
        let u = data.split_off(luma);
        let ticks = frame * u64::from(CLOCK_HZ) * u64::from(self.fps_den) / u64::from(self.fps_num);
        self.frames += 1;
        Ok(Some(Frame::from_checked(self.width, self.height, data, u, v, ticks as u32)))
    }
}

impl<R: BufRead> VideoSource for Y4mReader<R> {
    fn next_frame(&mut self) -> Result<Option<Frame>, VideoError> {
        Ok(self.read_frame()?)
    }
}

/// Writes frames as a 4:2:0 Y4M stream; the header is written with the first frame,
/// whose size every later frame must have.
#[derive(Debug)]
pub struct Y4mWriter<W> {
    output: W,
    fps_num: u32,
    fps_den: u32,
    size: Option<(u32, u32)>,
}

impl<W: Write> Y4mWriter<W> {
    pub fn new(output: W, fps_num: u32, fps_den: u32) -> Self {
        Y4mWriter { output, fps_num: fps_num.max(1), fps_den: fps_den.max(1), size: None }
    }

    pub fn write(&mut self, frame: &Frame) -> Result<(), Y4mError> {
        let (w, h) = (frame.width(), frame.height());
        match self.size {
            None => {
                writeln!(
                    self.output,
                    "{MAGIC} W{w} H{h} F{}:{} Ip A1:1 C420jpeg",
                    self.fps_num, self.fps_den
                )?;
                self.size = Some((w, h));
            }
            Some((want_w, want_h)) if (want_w, want_h) != (w, h) => {
                return Err(Y4mError::SizeChanged { got_w: w, got_h: h, want_w, want_h });
            }
            Some(_) => {}
        }
        self.output.write_all(b"FRAME\n")?;
        self.output.write_all(frame.y())?;
        self.output.write_all(frame.u())?;
        self.output.write_all(frame.v())?;
        Ok(())
    }

    /// Flushes and hands back the output.
    pub fn finish(mut self) -> Result<W, Y4mError> {
        self.output.flush()?;
        Ok(self.output)
    }
}

impl<W: Write> VideoSink for Y4mWriter<W> {
    fn write_frame(&mut self, frame: &Frame) -> Result<(), VideoError> {
        Ok(self.write(frame)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::video::TestPattern;

    fn check_error(input: &[u8], expect: impl Fn(&Y4mError) -> bool) {
        let err = Y4mReader::new(input).and_then(|mut r| {
            while r.read_frame()?.is_some() {}
            Ok(())
        });
        match err {
            Err(e) => assert!(expect(&e), "unexpected error {e:?}"),
            Ok(()) => panic!("{:?} was accepted", String::from_utf8_lossy(&input[..input.len().min(60)])),
        }
    }

    #[test]
    fn frames_round_trip_with_their_rate_and_timestamps() {
        let pattern = TestPattern::new(32, 16, 25, 1).unwrap();
        let frames: Vec<Frame> = (0..3).map(|n| pattern.frame(n)).collect();
        let mut writer = Y4mWriter::new(Vec::new(), 25, 1);
        for frame in &frames {
            writer.write(frame).unwrap();
        }
        let bytes = writer.finish().unwrap();
        assert!(bytes.starts_with(b"YUV4MPEG2 W32 H16 F25:1 "));

        let mut reader = Y4mReader::new(&bytes[..]).unwrap();
        assert_eq!((reader.width(), reader.height(), reader.frame_rate()), (32, 16, (25, 1)));
        let mut back = Vec::new();
        while let Some(frame) = reader.next_frame().unwrap() {
            back.push(frame);
        }
        assert_eq!(back, frames);
        assert_eq!(back[2].timestamp, 2 * 90_000 / 25);
    }

    #[test]
    fn bad_files_are_refused_with_a_reason() {
        check_error(b"", |e| matches!(e, Y4mError::NotY4m));
        check_error(b"RIFF1234\n", |e| matches!(e, Y4mError::NotY4m));
        check_error(b"YUV4MPEG2 H16 F30:1\n", |e| matches!(e, Y4mError::BadHeader(_)));
        check_error(b"YUV4MPEG2 W32 H16 F30:0\n", |e| matches!(e, Y4mError::BadHeader(_)));
        check_error(b"YUV4MPEG2 W33 H16\n", |e| matches!(e, Y4mError::BadHeader(_)));
        check_error(b"YUV4MPEG2 W99999 H99999\n", |e| matches!(e, Y4mError::BadHeader(_)));
        check_error(
            b"YUV4MPEG2 W32 H16 C444\n",
            |e| matches!(e, Y4mError::UnsupportedColourSpace(c) if c == "444"),
        );
        check_error(b"YUV4MPEG2 W32 H16\nFRAMX\n", |e| matches!(e, Y4mError::BadFrameLine { frame: 0 }));
        let mut cut = b"YUV4MPEG2 W32 H16\nFRAME\n".to_vec();
        cut.extend_from_slice(&[0; 700]);
        check_error(&cut, |e| matches!(e, Y4mError::Truncated { frame: 0, got: 700, want: 768 }));
        let long = [b"YUV4MPEG2 ".as_slice(), &[b'X'; 2000]].concat();
        check_error(&long, |e| matches!(e, Y4mError::BadHeader(_)));
    }

    #[test]
    fn a_writer_refuses_a_size_change() {
        let mut writer = Y4mWriter::new(Vec::new(), 30, 1);
        writer.write(&Frame::black(32, 16, 0).unwrap()).unwrap();
        let err = writer.write(&Frame::black(16, 16, 0).unwrap()).unwrap_err();
        assert!(matches!(err, Y4mError::SizeChanged { got_w: 16, .. }));
    }
}
