//! Screenshots of the call window for the docs: a server started in-process, Bob as a
//! plain `mocha-client` that answers every call (a speech-like voice, the test pattern
//! as his camera), and Alice's real Mocha Messenger in a real OS window (eframe, glow)
//! (its windows drawn inside the main one, which is screenshotted and cut), scripted
//! through its model: sign in, call Bob from his contact menu, wait, take the call
//! window's picture (`call-voice.png`), hang up, place a video call, take
//! `call-video.png`, quit. Alice's devices are synthetic too (the same voice and
//! pattern), so it runs on a machine without sound or camera.
//!
//! Usage, on a display or under Xvfb:
//! `xvfb-run -s "-screen 0 1600x900x24" cargo run -p mocha-messenger --example call_screenshots -- docs/screenshots`

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use eframe::egui;
use mocha_client::api::UserId;
use mocha_client::media::audio::{AudioSink, AudioSource, SpeechLike};
use mocha_client::media::video::{TestPattern, VideoSource};
use mocha_client::proto::im::{CallCommand, CallMedia as Media};
use mocha_client::{
    CallDevices, CallOptions, Client, ClientConfig, ConversationEvent, Credentials, Event, PassportClient,
    Trust,
};
use mocha_messenger::announce::Announcer;
use mocha_messenger::call::{CallKind, CallPhase};
use mocha_messenger::call_media::{CallMedia, Nowhere};
use mocha_messenger::devices::DeviceLists;
use mocha_messenger::platform::SecretStore;
use mocha_messenger::settings::{ClientOptions, OptionsFile};
use mocha_messenger::{AppEnv, MessengerApp};

const PASSWORD: &str = "Correct-Horse-9";
const RATE: u32 = 48_000;

/// Alice's devices: a voice, nowhere to play, the test pattern.
struct Synthetic;

impl CallMedia for Synthetic {
    fn microphone(&self, _: &str) -> Result<Box<dyn AudioSource>, String> {
        Ok(Box::new(SpeechLike::new(RATE, 120.0, 0.3)))
    }

    fn speakers(&self, _: &str) -> Result<Box<dyn AudioSink>, String> {
        Ok(Box::new(Nowhere))
    }

    fn camera(&self, _: &str) -> Result<Box<dyn VideoSource + Send>, String> {
        Ok(Box::new(TestPattern::new(320, 240, 30, 1).map_err(|e| e.to_string())?))
    }
}

/// Bob: answers every call, with video when asked.
async fn bob(server: String, trust: Trust) -> anyhow::Result<()> {
    let credentials = Credentials::Password { username: "bob@example.com".into(), password: PASSWORD.into() };
    let (client, mut events) = Client::connect(ClientConfig::new(&server, trust), credentials).await?;
    client.set_personal_message("brewing a fresh pot (coffee)").await?;
    let mut conversations = Vec::new();
    let mut calls = Vec::new();
    while let Some(event) = events.recv().await {
        match event {
            Event::Ring(ring) => conversations.push(client.answer(&ring).await?),
            Event::Conversation { id, event: ConversationEvent::Call { from, control } }
                if control.command == CallCommand::Invite =>
            {
                let Some(chat) = conversations.iter().find(|c| c.id() == id) else { continue };
                let video = control.media == Some(Media::Video);
                let devices = CallDevices::audio(SpeechLike::new(RATE, 210.0, 0.3), Nowhere);
                let devices = if video {
                    devices.with_video(Some(Box::new(TestPattern::new(640, 480, 30, 1)?)), None)
                } else {
                    devices
                };
                // Bob picks up after a moment, as a person would.
                tokio::time::sleep(Duration::from_millis(800)).await;
                calls.push(
                    chat.accept_call(
                        from.user_id,
                        &control.call_id,
                        CallOptions::default().video(video),
                        devices,
                    )
                    .await?,
                );
            }
            _ => {}
        }
    }
    Ok(())
}

enum Step {
    SignIn,
    WaitForBob,
    Talking { kind: CallKind, since: Option<Instant> },
    Shooting { kind: CallKind, asked: Instant },
    HangingUp { kind: CallKind },
    Done,
}

struct Script {
    app: MessengerApp,
    bob: UserId,
    out: PathBuf,
    step: Step,
    shots: Arc<std::sync::Mutex<Vec<PathBuf>>>,
}

fn save_png(path: &Path, image: &egui::ColorImage) -> anyhow::Result<()> {
    let file = std::io::BufWriter::new(std::fs::File::create(path)?);
    let mut encoder = png::Encoder::new(file, image.size[0] as u32, image.size[1] as u32);
    encoder.set_color(png::ColorType::Rgba);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header()?;
    let bytes: Vec<u8> = image.pixels.iter().flat_map(|p| p.to_srgba_unmultiplied()).collect();
    writer.write_image_data(&bytes)?;
    Ok(())
}

/// The part of a screenshot under `area` (in points).
fn crop(image: &egui::ColorImage, area: egui::Rect, scale: f32) -> egui::ColorImage {
    let [width, height] = image.size;
    let x0 = ((area.left() * scale).max(0.0) as usize).min(width);
    let y0 = ((area.top() * scale).max(0.0) as usize).min(height);
    let x1 = ((area.right() * scale) as usize).clamp(x0, width);
    let y1 = ((area.bottom() * scale) as usize).clamp(y0, height);
    let mut pixels = Vec::with_capacity((x1 - x0) * (y1 - y0));
    for row in y0..y1 {
        pixels.extend_from_slice(&image.pixels[row * width + x0..row * width + x1]);
    }
    egui::ColorImage::new([x1 - x0, y1 - y0], pixels)
}

impl Script {
    fn advance(&mut self, ctx: &egui::Context) {
        let model = &self.app.model;
        let connected =
            model.call.as_ref().is_some_and(|c| matches!(c.view.phase, CallPhase::Connected { .. }));
        match &mut self.step {
            Step::SignIn => {
                self.app.model.form.address = "alice@example.com".into();
                self.app.model.form.password = PASSWORD.into();
                self.app.sign_in();
                self.step = Step::WaitForBob;
            }
            Step::WaitForBob => {
                let online = model
                    .state
                    .as_ref()
                    .and_then(|s| s.contact(self.bob))
                    .is_some_and(|c| c.presence.is_some());
                if online {
                    self.app.call_contact(self.bob, "Bob", CallKind::Voice);
                    self.step = Step::Talking { kind: CallKind::Voice, since: None };
                }
            }
            Step::Talking { kind, since } => {
                if connected {
                    let since = *since.get_or_insert_with(Instant::now);
                    // Long enough for a clock reading, the signal line and moving pictures.
                    if since.elapsed() > Duration::from_secs(6) {
                        let name = match kind {
                            CallKind::Voice => "call-voice.png",
                            CallKind::Video => "call-video.png",
                        };
                        let (path, shots) = (self.out.join(name), self.shots.clone());
                        // The windows are drawn inside the main one here (see `main`): the
                        // call window is cut out of its picture.
                        let window = egui::Id::unique(egui::ViewportId::from_hash_of("call"));
                        let area = ctx.memory(|m| m.area_rect(window)).unwrap_or(egui::Rect::EVERYTHING);
                        let scale = ctx.pixels_per_point();
                        ctx.send_viewport_cmd(egui::ViewportCommand::Screenshot(
                            egui::ScreenshotCallback::new(move |image| {
                                let saved = save_png(&path, &crop(&image, area, scale));
                                match saved {
                                    Ok(()) => println!("saved {}", path.display()),
                                    Err(e) => eprintln!("could not save {}: {e:#}", path.display()),
                                }
                                shots.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push(path);
                            }),
                        ));
                        self.step = Step::Shooting { kind: *kind, asked: Instant::now() };
                    }
                }
            }
            Step::Shooting { kind, asked } => {
                if self.shots.lock().unwrap_or_else(std::sync::PoisonError::into_inner).len()
                    == match kind {
                        CallKind::Voice => 1,
                        CallKind::Video => 2,
                    }
                    || asked.elapsed() > Duration::from_secs(10)
                {
                    self.app.model.hang_up();
                    self.step = Step::HangingUp { kind: *kind };
                }
            }
            Step::HangingUp { kind } => {
                if model.call.is_none() {
                    if *kind == CallKind::Voice {
                        let conversation = model.conversations.keys().next().copied();
                        if let Some(id) = conversation {
                            self.app.model.start_call(id, CallKind::Video);
                        }
                        self.step = Step::Talking { kind: CallKind::Video, since: None };
                    } else {
                        self.step = Step::Done;
                        ctx.send_viewport_cmd(egui::ViewportCommand::Close);
                    }
                }
            }
            Step::Done => {}
        }
    }
}

impl eframe::App for Script {
    fn logic(&mut self, ctx: &egui::Context, _frame: &mut eframe::Frame) {
        self.app.logic(ctx);
        self.advance(ctx);
        ctx.request_repaint_after(Duration::from_millis(50));
    }

    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        self.app.ui(ui);
    }
}

fn main() -> anyhow::Result<()> {
    let out = PathBuf::from(std::env::args().nth(1).unwrap_or_else(|| "docs/screenshots".into()));
    std::fs::create_dir_all(&out)?;
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    let data = tempfile::tempdir()?;
    let server =
        runtime.block_on(mocha_server::start(data.path(), mocha_server::ServerConfig::for_tests()))?;
    let url = format!("https://localhost:{}", server.passport_addr.expect("every role runs").port());
    let trust = Trust::system().with_pem_file(&server.ca_cert).context("the server's CA")?;
    let bob_id = runtime.block_on(async {
        let passport = PassportClient::new(&url, &trust)?;
        let alice = passport.register("alice@example.com", "Alice", PASSWORD).await?;
        let bob = passport.register("bob@example.com", "Bob", PASSWORD).await?;
        let alice_tokens = passport.sign_in("alice@example.com", PASSWORD).await?;
        let bob_tokens = passport.sign_in("bob@example.com", PASSWORD).await?;
        let created = passport.request_contact(&alice_tokens.session_token, "bob@example.com", None).await?;
        let request = created.request.context("a pending request")?;
        passport.accept_request(&bob_tokens.session_token, request.id).await?;
        let _ = alice;
        anyhow::Ok(bob.id)
    })?;
    runtime.spawn({
        let (url, trust) = (url.clone(), trust.clone());
        async move {
            if let Err(e) = bob(url, trust).await {
                eprintln!("Bob stopped: {e:#}");
            }
        }
    });

    let config = tempfile::tempdir()?;
    let mut options = ClientOptions::default();
    options.sign_in.server = url;
    options.sign_in.ca_certificate = Some(server.ca_cert.clone());
    options.updates.check_at_sign_in = false;
    options.audio_video.camera = mocha_messenger::call_media::TEST_PATTERN_CAMERA.into();
    OptionsFile::new(config.path()).save(&options)?;
    let (announcer, _cues) = Announcer::recorded();
    let env = AppEnv {
        options_file: OptionsFile::new(config.path()),
        secret_store: Some(SecretStore::memory()),
        devices: Some(DeviceLists::default()),
        announcer: Some(announcer),
        file_dialog: Some(Err("screenshots".into())),
        places: Some(Vec::new()),
        call_media: Some(Arc::new(Synthetic)),
        updates: None,
    };
    let native = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_title("Mocha Messenger")
            .with_inner_size([380.0, 680.0]),
        ..Default::default()
    };
    eframe::run_native(
        "Mocha Messenger",
        native,
        Box::new(move |cc| {
            // One surface: eframe's glow backend takes screenshots of it reliably.
            cc.egui_ctx.set_embed_viewports(true);
            let app = MessengerApp::new(&cc.egui_ctx, env);
            Ok(Box::new(Script { app, bob: bob_id, out, step: Step::SignIn, shots: Default::default() }))
        }),
    )
    .map_err(|e| anyhow::anyhow!("the window could not be opened: {e}"))?;
    drop(server);
    Ok(())
}
