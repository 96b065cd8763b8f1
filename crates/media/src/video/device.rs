//! Where frames come from and go to: cameras, files, synthetic patterns, recorders.

use super::{Frame, VideoError};

/// Something that makes pictures: a camera, a Y4M file, a [`TestPattern`](super::TestPattern).
///
/// Frames carry the source's own timestamps (90 kHz, from its frame rate or its clock);
/// a caller that sends them re-stamps them with the call's capture clock.
pub trait VideoSource {
    /// The next picture; `Ok(None)` when the source has ended (a file's last frame).
    /// A camera blocks until its next frame.
    fn next_frame(&mut self) -> Result<Option<Frame>, VideoError>;
}

/// Something that takes decoded pictures: a window, a Y4M file, a [`MemorySink`].
pub trait VideoSink {
    fn write_frame(&mut self, frame: &Frame) -> Result<(), VideoError>;
}

/// Keeps every frame it is given, up to a capacity (tests and the UI's previews).
/// A full sink refuses the frame with [`VideoError::SinkFull`] rather than drop it.
#[derive(Debug)]
pub struct MemorySink {
    frames: Vec<Frame>,
    capacity: usize,
}

impl MemorySink {
    pub fn new(capacity: usize) -> Self {
        MemorySink { frames: Vec::new(), capacity }
    }

    pub fn frames(&self) -> &[Frame] {
        &self.frames
    }

    pub fn into_frames(self) -> Vec<Frame> {
        self.frames
    }
}

impl VideoSink for MemorySink {
    fn write_frame(&mut self, frame: &Frame) -> Result<(), VideoError> {
        if self.frames.len() >= self.capacity {
            return Err(VideoError::SinkFull { capacity: self.capacity });
        }
        self.frames.push(frame.clone());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_memory_sink_refuses_instead_of_dropping() {
        let mut sink = MemorySink::new(2);
        let frame = Frame::black(16, 16, 0).unwrap();
        sink.write_frame(&frame).unwrap();
        sink.write_frame(&frame).unwrap();
        assert!(matches!(sink.write_frame(&frame), Err(VideoError::SinkFull { capacity: 2 })));
        assert_eq!(sink.frames().len(), 2);
    }
}
