//! The engine's error type: what can stop a call's media from starting.

use crate::audio::{AudioError, CodecError};

#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    #[error(transparent)]
    Codec(#[from] CodecError),
    #[error(transparent)]
    Audio(#[from] AudioError),
    #[error("a call without audio is not supported")]
    NoAudio,
}
