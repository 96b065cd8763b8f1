//! One uncompressed picture: I420 (planar 4:2:0), tightly packed, with its capture time.

/// The largest picture accepted anywhere on the video path (the H.264 level 5.1 ceiling
/// OpenH264 supports; also caps what a file or a camera can make us allocate).
pub const MAX_WIDTH: u32 = 3840;
pub const MAX_HEIGHT: u32 = 2160;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    #[error("{width}x{height} is not a picture size we take (even sides, 16 to {MAX_WIDTH}x{MAX_HEIGHT})")]
    BadSize { width: u32, height: u32 },
    #[error("the {plane} plane has {got} bytes, a {width}x{height} I420 picture needs {want}")]
    BadPlane { plane: &'static str, got: usize, want: usize, width: u32, height: u32 },
    #[error("{num}/{den} is not a frame rate")]
    BadFrameRate { num: u32, den: u32 },
}

/// An I420 picture. Planes have no padding: the luma stride is `width`, each chroma
/// plane's is `width / 2`. `timestamp` is the capture time in 90 kHz ticks, on the same
/// clock as the audio's 48 kHz timestamps (see `docs/calls.md`).
#[derive(Clone, PartialEq, Eq)]
pub struct Frame {
    width: u32,
    height: u32,
    y: Vec<u8>,
    u: Vec<u8>,
    v: Vec<u8>,
    pub timestamp: u32,
}

impl std::fmt::Debug for Frame {
    // The planes are hundreds of kilobytes: never dump them.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Frame")
            .field("width", &self.width)
            .field("height", &self.height)
            .field("timestamp", &self.timestamp)
            .finish_non_exhaustive()
    }
}

pub(crate) fn check_size(width: u32, height: u32) -> Result<(), FrameError> {
    let ok = (16..=MAX_WIDTH).contains(&width)
        && (16..=MAX_HEIGHT).contains(&height)
        && width.is_multiple_of(2)
        && height.is_multiple_of(2);
    if ok { Ok(()) } else { Err(FrameError::BadSize { width, height }) }
}

impl Frame {
    /// A frame from its three planes; each must be exactly its plane's size.
    pub fn new(
        width: u32,
        height: u32,
        y: Vec<u8>,
        u: Vec<u8>,
        v: Vec<u8>,
        timestamp: u32,
    ) -> Result<Self, FrameError> {
        check_size(width, height)?;
        let luma = width as usize * height as usize;
        for (plane, got, want) in [("Y", y.len(), luma), ("U", u.len(), luma / 4), ("V", v.len(), luma / 4)] {
            if got != want {
                return Err(FrameError::BadPlane { plane, got, want, width, height });
            }
        }
        Ok(Frame { width, height, y, u, v, timestamp })
    }

    /// For planes built from a size [`check_size`] accepted (sizes checked in debug builds).
    pub(crate) fn from_checked(
        width: u32,
        height: u32,
        y: Vec<u8>,
        u: Vec<u8>,
        v: Vec<u8>,
        timestamp: u32,
    ) -> Self {
        debug_assert!(check_size(width, height).is_ok());
        debug_assert_eq!(y.len(), width as usize * height as usize);
        debug_assert_eq!((u.len(), v.len()), (y.len() / 4, y.len() / 4));
        Frame { width, height, y, u, v, timestamp }
    }

    /// From packed YUYV 4:2:2 (what most webcams send uncompressed): chroma of each
    /// pair of rows averaged. `data` must be `width * height * 2` bytes.
    pub fn from_yuyv(width: u32, height: u32, data: &[u8], timestamp: u32) -> Result<Self, FrameError> {
        check_size(width, height)?;
        let (w, h) = (width as usize, height as usize);
        if data.len() != w * h * 2 {
            return Err(FrameError::BadPlane {
                plane: "YUYV",
                got: data.len(),
                want: w * h * 2,
                width,
                height,
            });
        }
        let mut y = Vec::with_capacity(w * h);
        for pixel in data.chunks_exact(2) {
            y.push(pixel[0]);
        }
        let (mut u, mut v) = (Vec::with_capacity(w * h / 4), Vec::with_capacity(w * h / 4));
        for rows in data.chunks_exact(w * 4) {
            let (top, bottom) = rows.split_at(w * 2);
            for (a, b) in top.chunks_exact(4).zip(bottom.chunks_exact(4)) {
                u.push((u16::from(a[1]) + u16::from(b[1])).div_ceil(2) as u8);
                v.push((u16::from(a[3]) + u16::from(b[3])).div_ceil(2) as u8);
            }
        }
        Ok(Frame::from_checked(width, height, y, u, v, timestamp))
    }

    /// From NV12 (a luma plane, then interleaved U/V at quarter size). `data` must be
    /// `width * height * 3 / 2` bytes.
    pub fn from_nv12(width: u32, height: u32, data: &[u8], timestamp: u32) -> Result<Self, FrameError> {
        check_size(width, height)?;
        let luma = width as usize * height as usize;
        if data.len() != luma * 3 / 2 {
            return Err(FrameError::BadPlane {
                plane: "NV12",
                got: data.len(),
                want: luma * 3 / 2,
                width,
                height,
            });
        }
        let (y, uv) = data.split_at(luma);
        let u = uv.iter().step_by(2).copied().collect();
        let v = uv.iter().skip(1).step_by(2).copied().collect();
        Ok(Frame::from_checked(width, height, y.to_vec(), u, v, timestamp))
    }

    /// A black picture (what a receiver shows before the first frame).
    pub fn black(width: u32, height: u32, timestamp: u32) -> Result<Self, FrameError> {
        check_size(width, height)?;
        let luma = width as usize * height as usize;
        Ok(Frame {
            width,
            height,
            y: vec![16; luma],
            u: vec![128; luma / 4],
            v: vec![128; luma / 4],
            timestamp,
        })
    }

    pub fn width(&self) -> u32 {
        self.width
    }

    pub fn height(&self) -> u32 {
        self.height
    }

    pub fn y(&self) -> &[u8] {
        &self.y
    }

    pub fn u(&self) -> &[u8] {
        &self.u
    }

    pub fn v(&self) -> &[u8] {
        &self.v
    }

    /// The three planes for drawing into (sizes cannot change).
    pub fn planes_mut(&mut self) -> (&mut [u8], &mut [u8], &mut [u8]) {
        (&mut self.y, &mut self.u, &mut self.v)
    }

    /// The picture as RGBA8 (BT.601 limited range, what cameras and OpenH264 use), for a
    /// UI texture. `width * height * 4` bytes.
    pub fn to_rgba(&self) -> Vec<u8> {
        let (w, h) = (self.width as usize, self.height as usize);
        let mut out = Vec::with_capacity(w * h * 4);
        for row in 0..h {
            for col in 0..w {
                let c = (row / 2) * (w / 2) + col / 2;
                let y = (i32::from(self.y[row * w + col]) - 16) * 298;
                let u = i32::from(self.u[c]) - 128;
                let v = i32::from(self.v[c]) - 128;
                let clamp = |x: i32| ((x + 128) >> 8).clamp(0, 255) as u8;
                out.extend_from_slice(&[
                    clamp(y + 409 * v),
                    clamp(y - 100 * u - 208 * v),
                    clamp(y + 516 * u),
                    255,
                ]);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn planes_must_match_the_size() {
        let err = Frame::new(32, 16, vec![0; 512], vec![0; 128], vec![0; 127], 0).unwrap_err();
        assert_eq!(err, FrameError::BadPlane { plane: "V", got: 127, want: 128, width: 32, height: 16 });
        assert!(Frame::new(32, 16, vec![0; 512], vec![0; 128], vec![0; 128], 0).is_ok());
    }

    #[test]
    fn odd_tiny_and_huge_sizes_are_refused() {
        for (w, h) in [(33, 16), (32, 15), (8, 8), (MAX_WIDTH + 2, 480), (640, MAX_HEIGHT + 2)] {
            assert_eq!(Frame::black(w, h, 0).unwrap_err(), FrameError::BadSize { width: w, height: h });
        }
    }

    #[test]
    fn camera_layouts_convert_to_i420() {
        // 16x16: luma counts up, chroma differs between the two rows of each pair.
        let (w, h) = (16usize, 16usize);
        let mut yuyv = Vec::new();
        for row in 0..h {
            for pair in 0..w / 2 {
                let (u, v) = if row % 2 == 0 { (100, 200) } else { (102, 202) };
                yuyv.extend_from_slice(&[(row * w + pair * 2) as u8, u, (row * w + pair * 2 + 1) as u8, v]);
            }
        }
        let frame = Frame::from_yuyv(16, 16, &yuyv, 7).unwrap();
        assert_eq!(frame.y(), (0..=255).collect::<Vec<u8>>());
        assert!(frame.u().iter().all(|&u| u == 101) && frame.v().iter().all(|&v| v == 201));
        assert!(Frame::from_yuyv(16, 16, &yuyv[1..], 7).is_err());

        let mut nv12: Vec<u8> = (0..=255).collect();
        nv12.extend((0..64).flat_map(|_| [10, 20]));
        let frame = Frame::from_nv12(16, 16, &nv12, 7).unwrap();
        assert_eq!((frame.u()[5], frame.v()[5], frame.y()[17]), (10, 20, 17));
        assert!(Frame::from_nv12(16, 16, &nv12[..300], 7).is_err());
    }

    #[test]
    fn black_converts_to_black_rgba() {
        let rgba = Frame::black(16, 16, 0).unwrap().to_rgba();
        assert_eq!(rgba.len(), 16 * 16 * 4);
        assert!(rgba.chunks(4).all(|p| p == [0, 0, 0, 255]));
    }
}
