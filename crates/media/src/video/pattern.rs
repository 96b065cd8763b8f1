//! A synthetic camera: colour bars, a moving box, and the frame counter drawn as large
//! black and white blocks, which survive lossy compression and can be read back
//! ([`read_counter`]) from a decoded frame to check that pictures advance.

use super::frame::check_size;
use super::{CLOCK_HZ, Frame, FrameError, VideoError, VideoSource};

const WHITE: u8 = 235;
const BLACK: u8 = 16;
/// Bits of the counter: it wraps after 65,536 frames (36 minutes at 30 frames/s).
const BITS: usize = 16;

/// 75 % colour bars (Y, U, V), left to right.
const BARS: [(u8, u8, u8); 8] = [
    (180, 128, 128),
    (162, 44, 142),
    (131, 156, 44),
    (112, 72, 58),
    (84, 184, 198),
    (65, 100, 212),
    (35, 212, 114),
    (16, 128, 128),
];

/// Where the counter's blocks are: row 0 holds the bits (most significant first), row 1
/// their complement, so a misread picture is noticed instead of giving a wrong number.
#[derive(Debug, Clone, Copy)]
struct Blocks {
    width: usize,
    height: usize,
}

fn blocks(width: usize, height: usize) -> Blocks {
    let even = |x: usize| (x / 2 * 2).max(2);
    let w = even(width / BITS);
    Blocks { width: w, height: even(w.min(height / 6)) }
}

/// A moving test picture of a fixed size at a fixed frame rate, endless unless limited.
#[derive(Debug, Clone)]
pub struct TestPattern {
    width: u32,
    height: u32,
    fps_num: u32,
    fps_den: u32,
    next: u64,
    limit: Option<u64>,
}

impl TestPattern {
    /// `fps_num / fps_den` frames a second (30/1, 30000/1001, …).
    pub fn new(width: u32, height: u32, fps_num: u32, fps_den: u32) -> Result<Self, FrameError> {
        check_size(width, height)?;
        if fps_num == 0 || fps_den == 0 {
            return Err(FrameError::BadFrameRate { num: fps_num, den: fps_den });
        }
        Ok(TestPattern { width, height, fps_num, fps_den, next: 0, limit: None })
    }

    /// Ends the source after `frames` frames.
    pub fn limit(mut self, frames: u64) -> Self {
        self.limit = Some(frames);
        self
    }

    /// Frame number `n` (its counter is `n` modulo 65,536).
    pub fn frame(&self, n: u64) -> Frame {
        let (w, h) = (self.width as usize, self.height as usize);
        let ticks = n * u64::from(CLOCK_HZ) * u64::from(self.fps_den) / u64::from(self.fps_num);
        let mut y = vec![0u8; w * h];
        let mut u = vec![128u8; w * h / 4];
        let mut v = vec![128u8; w * h / 4];
        let b = blocks(w, h);
        let top = 2 * b.height;

        let fill = |y: &mut [u8],
                    u: &mut [u8],
                    v: &mut [u8],
                    x0: usize,
                    y0: usize,
                    x1: usize,
                    y1: usize,
                    c: (u8, u8, u8)| {
            for row in y0..y1.min(h) {
                y[row * w + x0..row * w + x1.min(w)].fill(c.0);
            }
            for row in y0 / 2..y1.min(h) / 2 {
                let (a, z) = (row * (w / 2) + x0 / 2, row * (w / 2) + x1.min(w) / 2);
                u[a..z].fill(c.1);
                v[a..z].fill(c.2);
            }
        };

        // The counter, then its complement, on a grey band.
        fill(&mut y, &mut u, &mut v, 0, 0, w, top, (128, 128, 128));
        let counter = (n % (1 << BITS)) as u16;
        for bit in 0..BITS {
            let set = counter >> (BITS - 1 - bit) & 1 == 1;
            let x0 = bit * b.width;
            let (on, off) = if set { (WHITE, BLACK) } else { (BLACK, WHITE) };
            fill(&mut y, &mut u, &mut v, x0, 0, x0 + b.width, b.height, (on, 128, 128));
            fill(&mut y, &mut u, &mut v, x0, b.height, x0 + b.width, top, (off, 128, 128));
        }

        // Colour bars under it.
        for (i, bar) in BARS.iter().enumerate() {
            let x0 = (i * w / BARS.len()) / 2 * 2;
            let x1 = ((i + 1) * w / BARS.len()) / 2 * 2;
            fill(&mut y, &mut u, &mut v, x0, top, x1, h, *bar);
        }

        // A box sliding left to right, so consecutive frames differ like a real scene.
        let size = ((h - top) / 3 / 2 * 2).max(2);
        let step = (w / 80 / 2 * 2).max(2) as u64;
        let span = (w - size) as u64;
        let x0 = if span == 0 { 0 } else { (n * step % span) as usize / 2 * 2 };
        let y0 = (top + (h - top - size) / 2) / 2 * 2;
        fill(&mut y, &mut u, &mut v, x0, y0, x0 + size, y0 + size, (210, 16, 146));

        Frame::from_checked(self.width, self.height, y, u, v, ticks as u32)
    }
}

impl VideoSource for TestPattern {
    fn next_frame(&mut self) -> Result<Option<Frame>, VideoError> {
        if self.limit.is_some_and(|limit| self.next >= limit) {
            return Ok(None);
        }
        let frame = self.frame(self.next);
        self.next += 1;
        Ok(Some(frame))
    }
}

/// The counter drawn into a [`TestPattern`] frame (modulo 65,536), read back from a
/// possibly compressed picture; `None` if the blocks do not read as a counter and its
/// complement (not a test pattern, or too damaged).
pub fn read_counter(frame: &Frame) -> Option<u16> {
    let (w, h) = (frame.width() as usize, frame.height() as usize);
    let b = blocks(w, h);
    let mean = |x0: usize, y0: usize| -> u32 {
        // The middle half of the block: edges blur under compression.
        let (xs, ys) = (x0 + b.width / 4, y0 + b.height / 4);
        let (xe, ye) = (x0 + b.width * 3 / 4, y0 + b.height * 3 / 4);
        let mut sum = 0u32;
        let mut count = 0u32;
        for row in ys..ye.max(ys + 1) {
            for col in xs..xe.max(xs + 1) {
                sum += u32::from(frame.y()[row * w + col]);
                count += 1;
            }
        }
        sum / count
    };
    let threshold = (u32::from(WHITE) + u32::from(BLACK)) / 2;
    let margin = (u32::from(WHITE) - u32::from(BLACK)) / 4;
    let mut value = 0u16;
    for bit in 0..BITS {
        let x0 = bit * b.width;
        let (on, off) = (mean(x0, 0), mean(x0, b.height));
        let decisive = |m: u32| m.abs_diff(threshold) > margin;
        if !decisive(on) || !decisive(off) || (on > threshold) == (off > threshold) {
            return None;
        }
        value = value << 1 | u16::from(on > threshold);
    }
    Some(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_counter_reads_back_from_the_raw_pattern() {
        let pattern = TestPattern::new(320, 240, 30, 1).unwrap();
        for n in [0u64, 1, 2, 255, 256, 4097, 65_535, 65_536, 70_000] {
            assert_eq!(read_counter(&pattern.frame(n)), Some((n % 65_536) as u16), "frame {n}");
        }
    }

    #[test]
    fn a_picture_that_is_not_a_pattern_reads_as_none() {
        assert_eq!(read_counter(&Frame::black(320, 240, 0).unwrap()), None);
    }

    #[test]
    fn frames_move_and_carry_their_capture_time() {
        let mut pattern = TestPattern::new(160, 120, 30, 1).unwrap().limit(3);
        let a = pattern.next_frame().unwrap().unwrap();
        let b = pattern.next_frame().unwrap().unwrap();
        assert_ne!(a.y(), b.y(), "the box must move");
        assert_eq!((a.timestamp, b.timestamp), (0, 3000));
        assert!(pattern.next_frame().unwrap().is_some());
        assert!(pattern.next_frame().unwrap().is_none(), "limited to 3 frames");
    }

    #[test]
    fn a_zero_frame_rate_is_refused() {
        assert!(TestPattern::new(160, 120, 0, 1).is_err());
    }
}
