//! The engine's error type: what can stop a call's media from starting.

use crate::audio::{AudioError, CodecError};
use crate::video::VideoError;

#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    #[error(transparent)]
    Codec(#[from] CodecError),
    #[error(transparent)]
    Audio(#[from] AudioError),
    #[error(transparent)]
    Video(#[from] VideoError),
    #[error("a call without audio is not supported")]
    NoAudio,
}
