//! Voice: capture, echo cancellation, noise suppression, Opus, jitter buffer, playback.
