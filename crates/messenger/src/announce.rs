//! Gives out the model's [`Cue`]s: sounds through the speakers chosen in the options and
//! desktop notifications, or, in tests, a record of what would have been given out.

use std::sync::{Arc, Mutex, PoisonError};

use crate::model::Cue;
use crate::sounds::SoundPlayer;
use crate::toasts::Toaster;

pub enum Announcer {
    /// The machine's sound output and notification service.
    System { sounds: SoundPlayer, toasts: Toaster },
    /// Keeps every cue, for tests.
    Recorded(Arc<Mutex<Vec<Cue>>>),
}

impl Announcer {
    /// Starts the sound and notification threads (neither blocks the window).
    pub fn system() -> Self {
        Announcer::System { sounds: SoundPlayer::start(), toasts: Toaster::start() }
    }

    pub fn recorded() -> (Self, Arc<Mutex<Vec<Cue>>>) {
        let record = Arc::default();
        (Announcer::Recorded(Arc::clone(&record)), record)
    }

    /// `speakers`: the output device from the options (empty: the system default).
    pub fn announce(&self, cue: Cue, speakers: &str) {
        match self {
            Announcer::System { sounds, toasts } => match cue {
                Cue::Sound(sound) => sounds.play(sound, speakers),
                Cue::Toast { title, body, .. } => toasts.show(&title, &body),
            },
            Announcer::Recorded(record) => record.lock().unwrap_or_else(PoisonError::into_inner).push(cue),
        }
    }

    /// Why sounds or notifications do not work here, for the options window.
    pub fn problems(&self) -> Vec<String> {
        match self {
            Announcer::System { sounds, toasts } => {
                [sounds.last_problem(), toasts.last_problem()].into_iter().flatten().collect()
            }
            Announcer::Recorded(_) => Vec::new(),
        }
    }
}
