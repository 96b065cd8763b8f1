//! Mocha Messenger, the desktop client: sign in, the contact list with presence,
//! conversations with files and nudges, and every local setting the privacy policy
//! lists. The protocol lives in `mocha-client`; this crate renders state and turns
//! clicks into [`Intent`]s that a backend thread carries out.
//!
//! - [`settings`]: `client-options.json` (unknown fields kept, corrupt files moved aside).
//! - [`platform`]: folders, opening a folder, and the OS secret store.
//! - [`model`]: the app's state and how backend events change it — no window needed.
//! - [`backend`]: the network side on its own tokio runtime thread.
//! - [`app`], [`conversation`], [`call_window`] and [`windows`]: the egui layout; every
//!   conversation, the call, the options, the protocol monitor and the alert history get
//!   an OS window of their own.
//! - [`call`] and [`call_media`]: the call as the window shows it (pure), and the
//!   devices, pictures and volume a call runs through.
//! - [`theme`] and [`pictures`]: the look shared with the websites (palette, bands,
//!   buttons) and what is painted (logo, buddy pictures, presence icons, emoticons).
//! - [`emoticons`] and [`file_picker`]: pure helpers — where the emoticon codes stand
//!   in a message; the app's own file picker where the system has no dialog.
//! - [`devices`], [`sounds`], [`toasts`] and [`announce`]: the machine's microphones,
//!   speakers and cameras; the sounds and desktop notifications the options ask for.
//! - [`updater`]: the update banner's work — download with progress, verify against
//!   the pinned release key, install and restart.

pub mod announce;
pub mod app;
pub mod backend;
pub mod call;
pub mod call_media;
pub mod call_window;
pub mod conversation;
pub mod devices;
pub mod emoticons;
pub mod errors;
pub mod file_picker;
pub mod intent;
pub mod model;
pub mod pictures;
pub mod platform;
pub mod proxy_options;
pub mod settings;
pub mod sounds;
pub mod theme;
pub mod toasts;
pub mod updater;
pub mod windows;
pub mod worker;

pub use app::{AppEnv, MessengerApp};
pub use intent::Intent;
pub use model::AppModel;

/// Opens the main window and runs until it closes.
pub fn run(env: AppEnv) -> eframe::Result {
    let options = eframe::NativeOptions {
        viewport: eframe::egui::ViewportBuilder::default()
            .with_title("Mocha Messenger")
            .with_inner_size([380.0, 680.0])
            .with_min_inner_size([320.0, 420.0]),
        ..Default::default()
    };
    eframe::run_native(
        "Mocha Messenger",
        options,
        Box::new(|cc| Ok(Box::new(MessengerApp::new(&cc.egui_ctx, env)))),
    )
}
