//! A real Mocha server for a UI test (temporary data folder, real SQLite, real TLS on
//! OS-picked ports, its own runtime), and helpers to drive the app in `egui_kittest`.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use eframe::egui;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use mocha_client::api::{Account, SessionTokens};
use mocha_client::media::audio::{AudioError, AudioSink, AudioSource, SpeechLike};
use mocha_client::media::video::{TestPattern, VideoSource};
use mocha_client::{Backoff, Client, ClientConfig, Credentials, Event, PassportClient, Trust};
use mocha_messenger::announce::Announcer;
use mocha_messenger::call_media::CallMedia;
use mocha_messenger::devices::DeviceLists;
use mocha_messenger::model::Cue;
use mocha_messenger::platform::SecretStore;
use mocha_messenger::settings::{ClientOptions, OptionsFile};
use mocha_messenger::{AppEnv, MessengerApp};
use mocha_server::{RunningServer, ServerConfig};
use tokio::sync::mpsc;

pub const WAIT: Duration = Duration::from_secs(20);

pub struct TestServer {
    pub runtime: tokio::runtime::Runtime,
    pub server: RunningServer,
    pub dir: tempfile::TempDir,
    pub trust: Trust,
    pub passport: PassportClient,
}

pub struct TestUser {
    pub account: Account,
    pub password: String,
    pub tokens: SessionTokens,
}

impl TestServer {
    pub fn start() -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("a runtime");
        let dir = tempfile::tempdir().expect("temporary data folder");
        let config = ServerConfig::for_tests();
        let server = runtime.block_on(mocha_server::start(dir.path(), config)).expect("server starts");
        let trust = Trust::system().with_pem_file(&server.ca_cert).expect("CA certificate readable");
        let passport = PassportClient::new(&Self::url_of(&server), &trust).expect("client builds");
        Self { runtime, server, dir, trust, passport }
    }

    fn url_of(server: &RunningServer) -> String {
        format!("https://localhost:{}", server.passport_addr.unwrap().port())
    }

    pub fn url(&self) -> String {
        Self::url_of(&self.server)
    }

    pub fn ca_cert(&self) -> PathBuf {
        self.server.ca_cert.clone()
    }

    /// Registers `name@example.com` (display name `Name`) and signs in.
    pub fn user(&self, name: &str) -> TestUser {
        let username = format!("{name}@example.com");
        let password = format!("Tr0ub4dor&3-{}", name.chars().rev().collect::<String>());
        let mut display = name.to_string();
        display[..1].make_ascii_uppercase();
        self.runtime.block_on(async {
            let account = self.passport.register(&username, &display, &password).await.expect("register");
            let tokens = self.passport.sign_in(&username, &password).await.expect("sign in");
            TestUser { account, password, tokens }
        })
    }

    pub fn befriend(&self, a: &TestUser, b: &TestUser) {
        self.runtime.block_on(async {
            let created = self
                .passport
                .request_contact(&a.tokens.session_token, &b.account.username, None)
                .await
                .expect("request");
            let request = created.request.expect("pending request");
            self.passport.accept_request(&b.tokens.session_token, request.id).await.expect("accept");
        })
    }

    /// `user` signed in with a plain `mocha_client::Client` (the other side of a chat).
    pub fn connect(&self, user: &TestUser) -> (Client, mpsc::Receiver<Event>) {
        let mut config = ClientConfig::new(&self.url(), self.trust.clone());
        config.backoff = Backoff { initial: Duration::from_millis(50), max: Duration::from_millis(400) };
        let credentials = Credentials::Password {
            username: user.account.username.clone(),
            password: user.password.clone(),
        };
        self.runtime.block_on(Client::connect(config, credentials)).expect("client connects")
    }

    /// Waits (on the server's runtime) for the first event `pick` accepts.
    pub fn expect<T>(
        &self,
        events: &mut mpsc::Receiver<Event>,
        mut pick: impl FnMut(&Event) -> Option<T>,
    ) -> T {
        self.runtime.block_on(async {
            tokio::time::timeout(WAIT, async {
                loop {
                    let event = events.recv().await.expect("events continue");
                    if let Some(found) = pick(&event) {
                        return found;
                    }
                }
            })
            .await
            .expect("the expected event came in time")
        })
    }
}

/// Settings that point the app at the test server, with files received into `received`.
pub fn options_for(t: &TestServer, received: &Path) -> ClientOptions {
    let mut options = ClientOptions::default();
    options.sign_in.server = t.url();
    options.sign_in.ca_certificate = Some(t.ca_cert());
    options.files.receive_folder = received.to_path_buf();
    options.updates.check_at_sign_in = false;
    options
}

pub type App = Harness<'static, MessengerApp>;
/// The sounds and desktop notifications the app gave out.
pub type Cues = Arc<Mutex<Vec<Cue>>>;

/// The audio and video devices the test app sees.
pub fn test_devices() -> DeviceLists {
    DeviceLists {
        microphones: vec!["USB Mic".into(), "Built-in Microphone".into()],
        speakers: vec!["Headphones".into()],
        cameras: vec!["Integrated Camera".into()],
        problems: Vec::new(),
    }
}

/// The app as a person sees it, with settings in `config_dir`.
pub fn app(config_dir: &Path, secret_store: SecretStore) -> App {
    app_with_cues(config_dir, secret_store).0
}

/// The app, and a record of the sounds and notifications it gives out.
pub fn app_with_cues(config_dir: &Path, secret_store: SecretStore) -> (App, Cues) {
    app_with_places(config_dir, secret_store, Vec::new())
}

/// The app whose own file picker offers `places` (the first is where it opens). It
/// never uses the system's file dialog: the tests have no desktop.
pub fn app_with_places(
    config_dir: &Path,
    secret_store: SecretStore,
    places: Vec<(String, PathBuf)>,
) -> (App, Cues) {
    app_with(config_dir, secret_store, |env| env.places = Some(places))
}

/// The app with its test environment changed by `adjust` (say, where updates install).
pub fn app_with(
    config_dir: &Path,
    secret_store: SecretStore,
    adjust: impl FnOnce(&mut AppEnv),
) -> (App, Cues) {
    app_sized(config_dir, secret_store, [1400.0, 1000.0], adjust)
}

/// The app on a screen of `size` points, its test environment changed by `adjust`.
fn app_sized(
    config_dir: &Path,
    secret_store: SecretStore,
    size: [f32; 2],
    adjust: impl FnOnce(&mut AppEnv),
) -> (App, Cues) {
    let (announcer, cues) = Announcer::recorded();
    let mut env = AppEnv {
        options_file: OptionsFile::new(config_dir),
        secret_store: Some(secret_store),
        devices: Some(test_devices()),
        announcer: Some(announcer),
        file_dialog: Some(Err("no desktop in the UI tests".into())),
        places: Some(Vec::new()),
        updates: None,
        call_media: None,
    };
    adjust(&mut env);
    // The backend only uses the context to ask for repaints; the harness steps anyway.
    let app = MessengerApp::new(&egui::Context::default(), env);
    let harness = Harness::builder().with_size(size).build_ui_state(
        |ui, app: &mut MessengerApp| {
            app.logic(ui.ctx());
            app.ui(ui);
        },
        app,
    );
    (harness, cues)
}

/// Whether a cue matching `wanted` was given out.
pub fn cued(cues: &Cues, wanted: impl Fn(&Cue) -> bool) -> bool {
    cues.lock().expect("the cue record").iter().any(wanted)
}

/// Steps the app until `done` says so (the backend works in real time).
pub fn wait_until(h: &mut App, what: &str, mut done: impl FnMut(&App) -> bool) {
    let start = Instant::now();
    loop {
        h.step();
        if done(h) {
            return;
        }
        assert!(start.elapsed() < WAIT, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Waits for a widget whose label contains `text`.
pub fn wait_for_label(h: &mut App, text: &str) {
    let text = text.to_string();
    wait_until(h, &format!("{text:?} on screen"), move |h| h.query_by_label_contains(&text).is_some());
}

pub fn click(h: &mut App, label: &str) {
    h.get_by_label(label).click();
    h.step();
    h.step();
}

/// Types into the text field labelled `label`.
pub fn fill(h: &mut App, label: &str, text: &str) {
    h.get_by_label(label).focus();
    h.step();
    h.get_by_label(label).type_text(text);
    h.step();
}

/// Reads `client-options.json` as JSON.
pub fn saved_options(config_dir: &Path) -> serde_json::Value {
    let bytes = std::fs::read(config_dir.join("client-options.json")).unwrap_or_default();
    serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null)
}

/// What a call's synthetic devices did: every speaker's recording by device name, and
/// which devices were opened, in order ("microphone:USB Mic").
#[derive(Clone, Default)]
pub struct MediaRecord {
    pub heard: Arc<Mutex<std::collections::HashMap<String, Vec<f32>>>>,
    pub opened: Arc<Mutex<Vec<String>>>,
    /// Set: the microphone fails from its next read on, as an unplugged one does.
    pub unplugged: Arc<std::sync::atomic::AtomicBool>,
}

impl MediaRecord {
    /// Everything the speakers called `name` played ("" is the system default).
    pub fn heard(&self, name: &str) -> Vec<f32> {
        self.heard.lock().expect("the record").get(name).cloned().unwrap_or_default()
    }

    pub fn opened(&self) -> Vec<String> {
        self.opened.lock().expect("the record").clone()
    }
}

/// The machine a test app calls from: a microphone that talks (speech-like, at this
/// pitch), speakers that record, a camera showing the test pattern — or, with
/// `no_devices`, nothing at all.
#[derive(Clone)]
pub struct TestMedia {
    pub pitch: f64,
    pub no_devices: bool,
    pub record: MediaRecord,
}

pub const RATE: u32 = 48_000;
/// How loud the synthetic voices talk.
pub const VOICE: f32 = 0.3;

impl TestMedia {
    pub fn talking_at(pitch: f64) -> Self {
        Self { pitch, no_devices: false, record: MediaRecord::default() }
    }

    pub fn none() -> Self {
        Self { pitch: 0.0, no_devices: true, record: MediaRecord::default() }
    }
}

struct Unpluggable {
    voice: SpeechLike,
    unplugged: Arc<std::sync::atomic::AtomicBool>,
}

impl AudioSource for Unpluggable {
    fn sample_rate(&self) -> u32 {
        RATE
    }

    fn read(&mut self, out: &mut [f32]) -> Result<usize, AudioError> {
        if self.unplugged.load(std::sync::atomic::Ordering::Relaxed) {
            return Err(AudioError::Device { kind: "microphone", reason: "the device was unplugged".into() });
        }
        self.voice.read(out)
    }
}

struct Recorder {
    name: String,
    heard: Arc<Mutex<std::collections::HashMap<String, Vec<f32>>>>,
}

impl AudioSink for Recorder {
    fn sample_rate(&self) -> u32 {
        RATE
    }

    fn write(&mut self, samples: &[f32]) -> Result<(), AudioError> {
        self.heard
            .lock()
            .expect("the record")
            .entry(self.name.clone())
            .or_default()
            .extend_from_slice(samples);
        Ok(())
    }
}

impl CallMedia for TestMedia {
    fn microphone(&self, name: &str) -> Result<Box<dyn AudioSource>, String> {
        self.record.opened.lock().expect("the record").push(format!("microphone:{name}"));
        if self.no_devices {
            return Err("no sound system".into());
        }
        let voice = SpeechLike::new(RATE, self.pitch, VOICE);
        Ok(Box::new(Unpluggable { voice, unplugged: self.record.unplugged.clone() }))
    }

    fn speakers(&self, name: &str) -> Result<Box<dyn AudioSink>, String> {
        self.record.opened.lock().expect("the record").push(format!("speakers:{name}"));
        if self.no_devices {
            return Err("no sound system".into());
        }
        Ok(Box::new(Recorder { name: name.to_string(), heard: self.record.heard.clone() }))
    }

    fn camera(&self, name: &str) -> Result<Box<dyn VideoSource + Send>, String> {
        self.record.opened.lock().expect("the record").push(format!("camera:{name}"));
        if self.no_devices {
            return Err("no camera found".into());
        }
        Ok(Box::new(TestPattern::new(320, 240, 15, 1).map_err(|e| e.to_string())?))
    }
}

/// The app for call tests: a wider screen (the call window sits right of the
/// conversation) and calls on `media`.
pub fn app_for_calls(config_dir: &Path, media: &TestMedia) -> (App, Cues) {
    let media = media.clone();
    app_sized(config_dir, SecretStore::memory(), [1640.0, 1000.0], move |env| {
        env.call_media = Some(Arc::new(media))
    })
}

/// Steps two apps until `done` says so.
pub fn wait_both(a: &mut App, b: &mut App, what: &str, mut done: impl FnMut(&App, &App) -> bool) {
    let start = Instant::now();
    loop {
        a.step();
        b.step();
        if done(a, b) {
            return;
        }
        assert!(start.elapsed() < WAIT, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Steps two apps for `duration` (the call runs in real time).
pub fn run_both(a: &mut App, b: &mut App, duration: Duration) {
    let start = Instant::now();
    while start.elapsed() < duration {
        a.step();
        b.step();
        std::thread::sleep(Duration::from_millis(20));
    }
}

pub fn shows(h: &App, text: &str) -> bool {
    h.query_all_by_label_contains(text).next().is_some()
}
