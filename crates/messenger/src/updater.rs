//! The messenger's side of updates (the checks themselves are `mocha_client::updates`):
//! after sign-in, ask the chosen channel for this platform's build; on "Download", fetch
//! it in the background with progress and verify it against the pinned release key; on
//! "Restart to update", put it in place of this program and start it again.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use mocha_client::updates::{self, Offer};
use mocha_client::{Client, PassportClient};

use crate::backend::Sink;
use crate::intent::UpdateRequest;
use crate::model::BackendEvent;

/// How often the progress bar hears of a running download.
const PROGRESS_EVERY: Duration = Duration::from_millis(100);

/// Where downloads are staged and which program an update replaces.
#[derive(Clone, Debug)]
pub struct UpdateTarget {
    pub staging: PathBuf,
    pub program: PathBuf,
    /// Start the new build after installing it (tests install into a scratch file).
    pub restart: bool,
}

impl UpdateTarget {
    /// The running program, staged in the user's cache folder.
    pub fn this_program() -> Self {
        let cache = dirs::cache_dir().unwrap_or_else(std::env::temp_dir);
        Self {
            staging: cache.join("mocha-messenger").join("updates"),
            program: std::env::current_exe().unwrap_or_else(|_| PathBuf::from("mocha-messenger")),
            restart: true,
        }
    }
}

/// The check after sign-in: the offer for the banner and, when this platform has a
/// build, what it takes to download it here. A changed release key is shown as an error.
pub async fn check(client: &Client, sink: &Sink, request: UpdateRequest) {
    let passport = client.passport();
    let version = env!("CARGO_PKG_VERSION");
    match updates::check(passport, &request.channel, version, request.pinned_key.as_deref()).await {
        Ok((check, offer)) => {
            if let (true, Some(build)) = (check.update_available, check.latest) {
                sink.send(BackendEvent::UpdateAvailable(build));
            }
            if let Some(offer) = offer {
                let server = passport.base_url().to_string();
                sink.send(BackendEvent::UpdateDownloadable { server, offer });
            }
        }
        Err(error @ updates::UpdateError::KeyChanged { .. }) => {
            sink.send(BackendEvent::Failed(format!("Update refused: {error}")))
        }
        Err(error) => tracing::info!(%error, "no update check"),
    }
}

/// Downloads and verifies in the background, reporting progress to the banner.
pub fn download(passport: PassportClient, offer: Offer, target: &UpdateTarget, sink: Sink) {
    let staging = target.staging.clone();
    tokio::spawn(async move {
        let mut last = Instant::now() - PROGRESS_EVERY;
        let progress_sink = sink.clone();
        let downloaded = updates::download(&passport, &offer, &staging, |done, total| {
            if done == total || last.elapsed() >= PROGRESS_EVERY {
                last = Instant::now();
                progress_sink.send(BackendEvent::UpdateProgress { done, total });
            }
        })
        .await;
        sink.send(match downloaded {
            Ok(path) => BackendEvent::UpdateReady(path),
            Err(error) => BackendEvent::UpdateFailed(error.to_string()),
        });
    });
}

/// Installs the verified build over the program and, if asked, starts it.
pub fn install(staged: PathBuf, target: &UpdateTarget, sink: Sink) {
    let target = target.clone();
    tokio::task::spawn_blocking(move || {
        if let Err(error) = updates::install(&staged, &target.program) {
            sink.send(BackendEvent::UpdateFailed(format!("The update could not be installed: {error}")));
            return;
        }
        let restarting = target.restart && std::process::Command::new(&target.program).spawn().is_ok();
        sink.send(BackendEvent::UpdateInstalled { restarting });
    });
}
