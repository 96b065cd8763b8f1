//! A real camera through nokhwa (Video4Linux), chosen by the name saved in the settings.
//!
//! Only uncompressed YUYV and NV12 are asked for: MJPEG would need a JPEG decoder we do
//! not build. A missing or busy camera is an error value, never a panic.

use nokhwa::Camera;
use nokhwa::utils::{
    ApiBackend, CameraFormat, CameraIndex, FrameFormat, RequestedFormat, RequestedFormatType, Resolution,
};

use super::{CLOCK_HZ, Frame, VideoError, VideoSource};

const FORMATS: &[FrameFormat] = &[FrameFormat::YUYV, FrameFormat::NV12];

pub struct CameraSource {
    camera: Camera,
    started: std::time::Instant,
}

impl std::fmt::Debug for CameraSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CameraSource").field("name", &self.camera.info().human_name()).finish_non_exhaustive()
    }
}

fn camera_error(what: &str) -> impl Fn(nokhwa::NokhwaError) -> VideoError + '_ {
    move |e| VideoError::Camera(format!("{what}: {e}"))
}

impl CameraSource {
    /// The names of the cameras there are, as the settings store them.
    pub fn list() -> Result<Vec<String>, VideoError> {
        let cameras = nokhwa::query(ApiBackend::Video4Linux).map_err(camera_error("listing cameras"))?;
        Ok(cameras.iter().map(|c| c.human_name()).collect())
    }

    /// Opens the camera called `name` (the first one if `name` is empty), asking for the
    /// format closest to `width`x`height` at `fps`.
    pub fn open(name: &str, width: u32, height: u32, fps: u32) -> Result<Self, VideoError> {
        let cameras = nokhwa::query(ApiBackend::Video4Linux).map_err(camera_error("listing cameras"))?;
        let info = cameras.iter().find(|c| name.is_empty() || c.human_name() == name).ok_or_else(|| {
            VideoError::Camera(if name.is_empty() {
                "no camera found".into()
            } else {
                format!("no camera called {name:?}")
            })
        })?;
        let index: CameraIndex = info.index().clone();
        let wanted = CameraFormat::new(Resolution::new(width, height), FrameFormat::YUYV, fps);
        let request = RequestedFormat::with_formats(RequestedFormatType::Closest(wanted), FORMATS);
        let mut camera = Camera::with_backend(index, request, ApiBackend::Video4Linux)
            .map_err(camera_error("opening the camera (it needs YUYV or NV12)"))?;
        camera.open_stream().map_err(camera_error("starting the camera"))?;
        Ok(CameraSource { camera, started: std::time::Instant::now() })
    }
}

impl VideoSource for CameraSource {
    fn next_frame(&mut self) -> Result<Option<Frame>, VideoError> {
        let buffer = self.camera.frame().map_err(camera_error("reading a frame"))?;
        let Resolution { width_x: width, height_y: height } = buffer.resolution();
        let ticks = (self.started.elapsed().as_micros() * u128::from(CLOCK_HZ) / 1_000_000) as u32;
        let frame = match buffer.source_frame_format() {
            FrameFormat::YUYV => Frame::from_yuyv(width, height, buffer.buffer(), ticks)?,
            FrameFormat::NV12 => Frame::from_nv12(width, height, buffer.buffer(), ticks)?,
            other => return Err(VideoError::Camera(format!("the camera sent {other}, not YUYV or NV12"))),
        };
        Ok(Some(frame))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_camera_that_is_not_there_is_an_error_not_a_panic() {
        // Whatever this machine has, it has no camera by this name.
        let err = CameraSource::open("Mocha Test Camera That Does Not Exist", 640, 480, 30).unwrap_err();
        assert!(matches!(err, VideoError::Camera(_)), "{err}");
        // Listing works (possibly empty) or says why.
        match CameraSource::list() {
            Ok(names) => assert!(!names.contains(&"Mocha Test Camera That Does Not Exist".to_string())),
            Err(e) => assert!(e.to_string().starts_with("camera: listing cameras")),
        }
    }
}
