//! The app: [`MessengerApp`] holds the model and the backend handle; `logic` applies
//! what the backend said, `ui` lays out the sign-in window or the contact list and the
//! other windows (see [`crate::windows`]). Neither ever blocks: every action becomes an
//! [`Intent`] for the backend.

use std::time::{Duration, Instant};

use eframe::egui::{self, Color32, RichText};
use mocha_client::api::{PresenceStatus, UserId};
use mocha_client::monitor::ProtocolMonitor;
use mocha_client::proto::Status;

use crate::announce::Announcer;
use crate::backend::{Backend, BackendConfig};
use crate::call::CallKind;
use crate::devices::DeviceLists;
use crate::intent::{Connection, Intent};
use crate::model::{
    AppModel, Cue, Screen, SecretStoreState, UpdateStage, contact_name, presence_label, status_label,
};
use crate::pictures;
use crate::platform::SecretStore;
use crate::settings::{ClientOptions, GroupBy, InitialStatus, OptionsFile, SortBy};
use crate::theme;
use crate::windows::{self, Dialogs};

/// Where the app keeps things; tests point these at temporary folders.
pub struct AppEnv {
    pub options_file: OptionsFile,
    /// `None`: the operating system's secret store.
    pub secret_store: Option<SecretStore>,
    /// `None`: the machine's own audio and video devices.
    pub devices: Option<DeviceLists>,
    /// `None`: the machine's sound output and desktop notifications.
    pub announcer: Option<Announcer>,
    /// `None`: use the system's file dialog where it can be shown; `Some(Err(why))`
    /// always uses the app's own picker (tests).
    pub file_dialog: Option<Result<(), String>>,
    /// `None`: the machine's home, Documents… folders for the app's own picker.
    pub places: Option<Vec<(String, std::path::PathBuf)>>,
    /// `None`: an update replaces this program and restarts it.
    pub updates: Option<crate::updater::UpdateTarget>,
    /// `None`: calls use the machine's microphones, speakers and camera.
    pub call_media: Option<std::sync::Arc<dyn crate::call_media::CallMedia>>,
}

impl AppEnv {
    /// The platform config folder (or `MOCHA_MESSENGER_CONFIG_DIR`) and the OS secret store.
    pub fn from_platform() -> Self {
        Self {
            options_file: OptionsFile::in_config_dir(),
            secret_store: None,
            devices: None,
            announcer: None,
            file_dialog: None,
            places: None,
            updates: None,
            call_media: None,
        }
    }
}

pub struct MessengerApp {
    pub model: AppModel,
    backend: Backend,
    pub(crate) monitor: ProtocolMonitor,
    pub(crate) options_path: std::path::PathBuf,
    pub(crate) dialogs: Dialogs,
    pub(crate) announcer: Announcer,
    last_activity: Instant,
    auto_away_active: bool,
    auto_sign_in_tried: bool,
    looked_up: Option<String>,
    /// The address field takes the keyboard when the window opens.
    focus_address: bool,
}

impl MessengerApp {
    pub fn new(ctx: &egui::Context, env: AppEnv) -> Self {
        theme::apply(ctx);
        let loaded = env.options_file.load();
        let mut model = AppModel::new(loaded.options);
        if let Some(notice) = loaded.notice {
            model.notice(notice.clone(), false);
            model.form.error = Some(notice);
        }
        let monitor = ProtocolMonitor::new(2000);
        let options_path = env.options_file.path();
        let backend = Backend::start(
            BackendConfig {
                options_file: env.options_file,
                secret_store: env.secret_store,
                monitor: monitor.clone(),
                devices: env.devices,
                file_dialog: env.file_dialog,
                places: env.places,
                updates: env.updates,
                call_media: env.call_media,
            },
            ctx.clone(),
        );
        Self {
            model,
            backend,
            monitor,
            options_path,
            dialogs: Dialogs::default(),
            announcer: env.announcer.unwrap_or_else(Announcer::system),
            last_activity: Instant::now(),
            auto_away_active: false,
            auto_sign_in_tried: false,
            looked_up: None,
            focus_address: true,
        }
    }

    pub(crate) fn send(&self, intent: Intent) {
        self.backend.send(intent);
    }

    pub(crate) fn connection(&self) -> Connection {
        let sign_in = &self.model.options.sign_in;
        Connection {
            server: sign_in.server.clone(),
            ca_certificate: sign_in.ca_certificate.clone(),
            proxy: self.model.options.proxy.clone(),
        }
    }

    /// Applies the backend's events and keeps the settings file up to date.
    pub fn logic(&mut self, ctx: &egui::Context) {
        while let Ok(event) = self.backend.events.try_recv() {
            self.model.apply(event);
        }
        self.model.ring_again(Instant::now());
        if self.model.call.as_ref().is_some_and(|c| c.is_ringing_here()) {
            ctx.request_repaint_after(Duration::from_millis(500));
        }
        for intent in std::mem::take(&mut self.model.outbox) {
            self.send(intent);
        }
        self.announce();
        if self.model.options_dirty {
            self.model.options_dirty = false;
            self.send(Intent::SaveOptions(Box::new(self.model.options.clone())));
        }
        self.auto_sign_in();
        self.look_up_remembered();
        self.auto_away(ctx);
        let signed_in = self.model.screen == Screen::Main;
        if signed_in
            && self.model.options.general.run_in_background
            && ctx.input(|i| i.viewport().close_requested())
        {
            ctx.send_viewport_cmd(egui::ViewportCommand::CancelClose);
            ctx.send_viewport_cmd(egui::ViewportCommand::Minimized(true));
        }
    }

    /// Sounds and pop-ups for what just happened; none for the conversation being read.
    fn announce(&mut self) {
        for cue in std::mem::take(&mut self.model.cues) {
            if let Cue::Toast { conversation: Some(id), .. } = &cue
                && self.dialogs.focused_conversation == Some(*id)
            {
                continue;
            }
            self.announcer.announce(cue, &self.model.options.audio_video.speakers);
        }
    }

    fn auto_sign_in(&mut self) {
        if self.auto_sign_in_tried || self.model.secret_store == SecretStoreState::Probing {
            return;
        }
        self.auto_sign_in_tried = true;
        let sign_in = &self.model.options.sign_in;
        if sign_in.auto_sign_in
            && sign_in.remember_password
            && self.model.secret_store == SecretStoreState::Available
            && !self.model.form.address.is_empty()
        {
            // The backend finds the remembered sign-in (or says to type the password).
            self.model.form.remembered = true;
            self.sign_in();
        }
    }

    fn look_up_remembered(&mut self) {
        if self.model.screen != Screen::SignIn || self.model.secret_store != SecretStoreState::Available {
            return;
        }
        let address = self.model.form.address.trim().to_string();
        if self.looked_up.as_deref() != Some(address.as_str()) {
            self.model.form.remembered = false;
            self.looked_up = Some(address.clone());
            if !address.is_empty() {
                self.send(Intent::LookUpRemembered { connection: self.connection(), address });
            }
        }
    }

    /// Keeps the person from going Away while they use any of the app's windows; the
    /// conversation windows call this with their own input.
    pub(crate) fn note_activity(&mut self, ctx: &egui::Context) {
        if ctx.input(|i| !i.events.is_empty() || i.pointer.delta() != egui::Vec2::ZERO) {
            self.last_activity = Instant::now();
        }
    }

    fn auto_away(&mut self, ctx: &egui::Context) {
        self.note_activity(ctx);
        // Someone on a call is there, whether or not they touch the keyboard.
        if self.model.in_call() {
            self.last_activity = Instant::now();
        }
        let Some(state) = &self.model.state else { return };
        let general = &self.model.options.general;
        let limit = Duration::from_secs(u64::from(general.away_after_minutes.max(1)) * 60);
        let idle = self.last_activity.elapsed() >= limit;
        if self.auto_away_active && !idle {
            self.auto_away_active = false;
            self.send(Intent::SetStatus(Status::Online));
        } else if !self.auto_away_active && general.auto_away && state.status == Status::Online {
            if idle {
                self.auto_away_active = true;
                self.send(Intent::SetStatus(Status::Away));
            } else {
                ctx.request_repaint_after(Duration::from_secs(30));
            }
        }
    }

    pub fn sign_in(&mut self) {
        let form = &mut self.model.form;
        form.error = None;
        let address = form.address.trim().to_string();
        if address.is_empty() {
            form.error = Some("Type your sign-in address.".into());
            return;
        }
        if form.password.is_empty() && !form.remembered {
            form.error = Some("Type your password.".into());
            return;
        }
        let options = &self.model.options;
        let intent = Intent::SignIn {
            connection: self.connection(),
            address,
            password: std::mem::take(&mut self.model.form.password),
            status: self.model.form.status.status(),
            personal_message: options.profile.personal_message.clone(),
            display_name: options.profile.display_name.clone(),
            remember: options.sign_in.remember_password,
            check_updates_on: options.updates.check_at_sign_in.then(|| crate::intent::UpdateRequest {
                channel: options.updates.channel.clone(),
                pinned_key: options
                    .updates
                    .release_keys
                    .get(options.sign_in.server.trim_end_matches('/'))
                    .cloned(),
            }),
        };
        self.model.screen = Screen::SigningIn;
        self.send(intent);
    }

    /// Lays out everything.
    pub fn ui(&mut self, ui: &mut egui::Ui) {
        let ctx = ui.ctx().clone();
        egui::Panel::top("menu").show(ui, |ui| self.menu_bar(ui));
        egui::CentralPanel::default().show(ui, |ui| match self.model.screen {
            Screen::SignIn | Screen::SigningIn => {
                egui::ScrollArea::vertical().show(ui, |ui| self.sign_in_window(ui));
            }
            Screen::Main => self.main_window(ui),
        });
        windows::show(self, &ctx);
    }

    fn menu_bar(&mut self, ui: &mut egui::Ui) {
        egui::MenuBar::new().ui(ui, |ui| {
            ui.menu_button("File", |ui| {
                if self.model.screen == Screen::Main && ui.button("Sign out").clicked() {
                    self.send(Intent::SignOut);
                }
                if ui.button("Open received files").clicked() {
                    self.send(Intent::OpenFolder(self.model.options.files.receive_folder.clone()));
                }
            });
            if self.model.screen == Screen::Main {
                ui.menu_button("Contacts", |ui| {
                    if ui.button("Add a contact…").clicked() {
                        self.dialogs.add_contact = Some(Default::default());
                    }
                });
            }
            ui.menu_button("Tools", |ui| {
                if ui.button("Options…").clicked() {
                    self.dialogs.open_options(&self.model.options);
                    self.send(Intent::ListDevices);
                }
                if ui.button("Alert history").clicked() {
                    self.dialogs.alerts = true;
                }
            });
            ui.menu_button("Help", |ui| {
                if ui.button("Service status").clicked() {
                    self.model.service_status = None;
                    self.dialogs.service_status = true;
                    self.send(Intent::CheckServiceStatus(self.connection()));
                }
                if ui.button("Protocol monitor").clicked() {
                    self.dialogs.monitor = true;
                }
            });
        });
    }

    fn sign_in_window(&mut self, ui: &mut egui::Ui) {
        theme::band(ui, |ui| {
            ui.horizontal(|ui| {
                pictures::logo(ui, 46.0);
                ui.vertical(|ui| {
                    wordmark(ui);
                    ui.label(theme::on_band_muted("Sign in to see who's online"));
                });
            });
        });
        ui.add_space(14.0);
        // The picture the classic client showed above the form: yours once it knows
        // you, the Mocha cup until then.
        ui.vertical_centered(|ui| pictures::logo_picture(ui, 104.0));
        ui.add_space(10.0);
        ui.vertical_centered(|ui| {
            ui.set_max_width(360.0);
            theme::pane().show(ui, |ui| {
                ui.with_layout(egui::Layout::top_down(egui::Align::Min), |ui| self.sign_in_form(ui));
            });
        });
    }

    fn sign_in_form(&mut self, ui: &mut egui::Ui) {
        let busy = self.model.screen == Screen::SigningIn;
        ui.add_enabled_ui(!busy, |ui| {
            let label = ui.label("Sign-in address:");
            ui.horizontal(|ui| {
                let edit = ui
                    .add(
                        egui::TextEdit::singleline(&mut self.model.form.address)
                            .hint_text("you@example.com")
                            .desired_width(220.0),
                    )
                    .labelled_by(label.id);
                if std::mem::take(&mut self.focus_address) {
                    edit.request_focus();
                }
                let recent = self.model.options.sign_in.recent_addresses.clone();
                if !recent.is_empty() {
                    egui::ComboBox::from_label("Recent").selected_text("").width(24.0).show_ui(ui, |ui| {
                        for address in recent {
                            if ui.selectable_label(false, &address).clicked() {
                                self.model.form.address = address;
                            }
                        }
                    });
                }
            });
            let label = ui.label("Password:");
            let password = ui
                .add(
                    egui::TextEdit::singleline(&mut self.model.form.password)
                        .password(true)
                        .desired_width(220.0),
                )
                .labelled_by(label.id);
            if self.model.form.remembered {
                ui.horizontal_wrapped(|ui| {
                    ui.label(
                        RichText::new("Your sign-in is remembered: leave the password empty to use it.")
                            .small(),
                    );
                    if ui.small_button("Forget me").clicked() {
                        self.send(Intent::Forget {
                            connection: self.connection(),
                            address: self.model.form.address.trim().to_string(),
                        });
                    }
                });
            }
            ui.horizontal(|ui| {
                let label = ui.label("Sign in as:");
                egui::ComboBox::from_id_salt("initial-status")
                    .selected_text(self.model.form.status.label())
                    .show_ui(ui, |ui| {
                        for status in InitialStatus::ALL {
                            ui.selectable_value(&mut self.model.form.status, status, status.label());
                        }
                    })
                    .response
                    .labelled_by(label.id);
            });
            self.remember_choices(ui);
            ui.collapsing("Server", |ui| {
                let sign_in = &mut self.model.options.sign_in;
                let label = ui.label("Server address:");
                let server = ui.text_edit_singleline(&mut sign_in.server).labelled_by(label.id);
                let label = ui.label("Trusted CA certificate (PEM, optional):");
                let mut ca =
                    sign_in.ca_certificate.as_ref().map(|p| p.display().to_string()).unwrap_or_default();
                let ca_edit = ui.text_edit_singleline(&mut ca).labelled_by(label.id);
                if ca_edit.changed() {
                    sign_in.ca_certificate = Some(ca.trim()).filter(|c| !c.is_empty()).map(Into::into);
                }
                if server.changed() || ca_edit.changed() {
                    self.model.options_dirty = true;
                }
            });
            ui.add_space(4.0);
            let enter = password.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
            let button = theme::primary_button("Sign in").min_size(egui::vec2(110.0, 28.0));
            if ui.add(button).clicked() || enter {
                self.sign_in();
            }
        });
        if busy {
            ui.horizontal(|ui| {
                ui.spinner();
                ui.label("Signing in…");
            });
        }
        if let Some(error) = &self.model.form.error {
            ui.colored_label(theme::DANGER, error);
        }
    }

    fn remember_choices(&mut self, ui: &mut egui::Ui) {
        let sign_in = &mut self.model.options.sign_in;
        let before = (sign_in.remember_me, sign_in.remember_password, sign_in.auto_sign_in);
        ui.checkbox(&mut sign_in.remember_me, "Remember me");
        match &self.model.secret_store {
            SecretStoreState::Unavailable(reason) => {
                ui.add_enabled(false, egui::Checkbox::new(&mut false, "Remember my password"));
                ui.add_enabled(false, egui::Checkbox::new(&mut false, "Sign me in automatically"));
                ui.label(
                    RichText::new(format!("Remembered sign-in is unavailable: {reason}")).small().weak(),
                );
            }
            state => {
                ui.add_enabled_ui(*state == SecretStoreState::Available, |ui| {
                    ui.checkbox(&mut sign_in.remember_password, "Remember my password");
                    ui.add_enabled_ui(sign_in.remember_password, |ui| {
                        ui.checkbox(&mut sign_in.auto_sign_in, "Sign me in automatically");
                    });
                });
            }
        }
        if !sign_in.remember_password {
            sign_in.auto_sign_in = false;
        }
        if before != (sign_in.remember_me, sign_in.remember_password, sign_in.auto_sign_in) {
            self.model.options_dirty = true;
        }
    }

    fn main_window(&mut self, ui: &mut egui::Ui) {
        let Some(state) = self.model.state.clone() else { return };
        theme::band(ui, |ui| self.me(ui, &state));
        if let mocha_client::ConnectionState::Reconnecting { attempt } = state.connection {
            ui.colored_label(theme::CARAMEL_DARK, format!("Reconnecting… (attempt {attempt})"));
        }
        self.update_banner(ui);
        self.requests(ui, &state);
        self.list_controls(ui);
        let notices_height = if self.model.notices.is_empty() { 0.0 } else { 90.0 };
        theme::pane().show(ui, |ui| {
            egui::ScrollArea::vertical()
                .max_height((ui.available_height() - notices_height).max(120.0))
                .auto_shrink([false, true])
                .show(ui, |ui| self.contact_list(ui, &state));
        });
        self.notices(ui);
    }

    /// The top band: picture, name, status and personal message, the logo at the right.
    fn me(&mut self, ui: &mut egui::Ui, state: &mocha_client::ClientState) {
        ui.horizontal(|ui| {
            pictures::buddy_picture(
                ui,
                &state.account.display_name,
                PresenceStatus::from_code(state.status.code()),
                60.0,
            );
            ui.vertical(|ui| {
                ui.horizontal(|ui| {
                    ui.label(theme::on_band(&state.account.display_name).size(17.0).strong());
                    ui.with_layout(egui::Layout::right_to_left(egui::Align::Min), |ui| {
                        pictures::logo(ui, 30.0)
                    });
                });
                ui.label(theme::on_band_muted(&state.account.username).small());
                ui.horizontal(|ui| {
                    let label = ui.label(theme::on_band("Status:"));
                    let mut status = state.status;
                    egui::ComboBox::from_id_salt("status")
                        .selected_text(status_label(status))
                        .show_ui(ui, |ui| {
                            for choice in Status::ALL.into_iter().filter(|s| s.is_settable()) {
                                ui.selectable_value(&mut status, choice, status_label(choice));
                            }
                        })
                        .response
                        .labelled_by(label.id);
                    if status != state.status {
                        self.send(Intent::SetStatus(status));
                    }
                });
            });
        });
        ui.horizontal(|ui| {
            let label = ui.label(theme::on_band("Personal message:"));
            let edit = ui
                .add(
                    egui::TextEdit::singleline(&mut self.model.personal_message_draft)
                        .hint_text("<Type a personal message>")
                        .desired_width(ui.available_width() - 48.0),
                )
                .labelled_by(label.id);
            let submit = edit.lost_focus() || ui.button("Set").clicked();
            if submit && self.model.personal_message_draft != state.personal_message {
                let message = self.model.personal_message_draft.trim().to_string();
                self.model.options.profile.personal_message = message.clone();
                self.model.options_dirty = true;
                self.send(Intent::SetPersonalMessage(message));
            }
        });
    }

    fn contact_list(&mut self, ui: &mut egui::Ui, state: &mocha_client::ClientState) {
        let filter = self.dialogs.contact_filter.trim().to_lowercase();
        for (group, contacts) in self.model.contact_groups() {
            let contacts: Vec<_> = contacts
                .into_iter()
                .filter(|c| {
                    filter.is_empty()
                        || contact_name(c).to_lowercase().contains(&filter)
                        || c.user.username.to_lowercase().contains(&filter)
                })
                .collect();
            let online = contacts.iter().filter(|c| c.presence.is_some()).count();
            egui::CollapsingHeader::new(theme::group_heading(&format!(
                "{group} ({online}/{})",
                contacts.len()
            )))
            .id_salt(("group", &group))
            .default_open(true)
            .show(ui, |ui| {
                for contact in contacts {
                    self.contact_row(ui, &contact);
                }
            });
        }
        if state.contacts.is_empty() {
            ui.label(
                RichText::new("No contacts yet. Use Contacts › Add a contact… to add one.")
                    .color(theme::MUTED),
            );
        }
        if !state.blocks.is_empty() {
            egui::CollapsingHeader::new(theme::group_heading(&format!("Blocked ({})", state.blocks.len())))
                .show(ui, |ui| {
                    for blocked in &state.blocks {
                        ui.horizontal(|ui| {
                            ui.label(format!("{} ({})", blocked.user.display_name, blocked.user.username));
                            if ui.small_button(format!("Unblock {}", blocked.user.username)).clicked() {
                                self.send(Intent::Unblock(blocked.user.id));
                            }
                        });
                    }
                });
        }
    }

    fn update_banner(&mut self, ui: &mut egui::Ui) {
        let Some(offer) = self.model.update.clone() else { return };
        let version = offer.build.version.clone();
        theme::card().fill(Color32::from_rgb(0xFD, 0xE7, 0xC6)).show(ui, |ui| match &offer.stage {
            UpdateStage::Offered | UpdateStage::Failed(_) => {
                ui.label(RichText::new(format!("Mocha Messenger {version} is available.")).strong());
                if !offer.build.notes.is_empty() {
                    ui.label(RichText::new(&offer.build.notes).small());
                }
                if let UpdateStage::Failed(why) = &offer.stage {
                    ui.colored_label(theme::DANGER, why);
                }
                ui.horizontal(|ui| {
                    let again = matches!(offer.stage, UpdateStage::Failed(_));
                    match &offer.download {
                        Some(download) => {
                            let label = if again { "Try again" } else { "Download" };
                            if ui.add(theme::primary_button(label)).clicked() {
                                self.model.update_stage_downloading(download.file.size);
                                self.send(Intent::DownloadUpdate(download.clone()));
                            }
                        }
                        None => {
                            if ui.add(theme::primary_button("Open the download page")).clicked() {
                                let url = self.download_page_url(&offer.build.download_url);
                                ui.ctx().open_url(egui::OpenUrl::new_tab(url));
                                self.model.update = None;
                            }
                        }
                    }
                    if ui.button("Remind me later").clicked() {
                        self.model.defer_update(time::OffsetDateTime::now_utc());
                    }
                });
            }
            UpdateStage::Downloading { done, total } => {
                ui.label(format!("Downloading Mocha Messenger {version}…"));
                let fraction = if *total == 0 { 0.0 } else { *done as f32 / *total as f32 };
                ui.add(egui::ProgressBar::new(fraction).show_percentage());
            }
            UpdateStage::Ready(path) => {
                ui.label(
                    RichText::new(format!("Mocha Messenger {version} is downloaded and checked.")).strong(),
                );
                if ui.add(theme::primary_button("Restart to update")).clicked() {
                    self.send(Intent::InstallUpdate(path.clone()));
                }
            }
            UpdateStage::Installed { restarting: true } => {
                ui.label(format!("Mocha Messenger {version} is installed. Restarting…"));
                ui.ctx().send_viewport_cmd(egui::ViewportCommand::Close);
            }
            UpdateStage::Installed { restarting: false } => {
                ui.label(format!(
                    "Mocha Messenger {version} is installed; it starts the next time you open Mocha."
                ));
            }
        });
    }

    /// The download page as a full address (the server gives a path on itself).
    fn download_page_url(&self, link: &str) -> String {
        if link.starts_with('/') {
            format!("{}{link}", self.model.options.sign_in.server.trim_end_matches('/'))
        } else {
            link.to_string()
        }
    }

    fn requests(&mut self, ui: &mut egui::Ui, state: &mocha_client::ClientState) {
        for request in &state.requests.incoming {
            theme::card().show(ui, |ui| {
                ui.label(format!(
                    "{} ({}) wants to add you as a contact.",
                    request.from.display_name, request.from.username
                ));
                if let Some(message) = &request.message {
                    ui.label(RichText::new(format!("“{message}”")).italics());
                }
                ui.horizontal(|ui| {
                    if ui.add(theme::primary_button("Accept")).clicked() {
                        self.send(Intent::AcceptRequest(request.id));
                    }
                    if ui.button("Decline").clicked() {
                        self.send(Intent::DeclineRequest(request.id));
                    }
                    if ui.button("Block").clicked() {
                        self.send(Intent::BlockRequester { request_id: request.id, user: request.from.id });
                    }
                });
            });
        }
        for request in &state.requests.outgoing {
            ui.label(
                RichText::new(format!("Waiting for {} to accept your request.", request.to.username)).weak(),
            );
        }
    }

    fn list_controls(&mut self, ui: &mut egui::Ui) {
        ui.horizontal(|ui| {
            let label = ui.label("Find:");
            ui.add(
                egui::TextEdit::singleline(&mut self.dialogs.contact_filter)
                    .hint_text("a contact's name or address")
                    .desired_width(150.0),
            )
            .labelled_by(label.id);
            let contacts = &mut self.model.options.contacts;
            let before = (contacts.sort_by, contacts.group_by);
            ui.menu_button("View", |ui| {
                ui.label(RichText::new("Sort contacts").strong());
                ui.radio_value(&mut contacts.sort_by, SortBy::Name, "By name");
                ui.radio_value(&mut contacts.sort_by, SortBy::Status, "By status");
                ui.label(RichText::new("Group contacts").strong());
                ui.radio_value(&mut contacts.group_by, GroupBy::Status, "Online/offline");
                ui.radio_value(&mut contacts.group_by, GroupBy::Groups, "My groups");
            });
            if before != (contacts.sort_by, contacts.group_by) {
                self.model.options_dirty = true;
            }
        });
    }

    fn contact_row(&mut self, ui: &mut egui::Ui, contact: &mocha_client::api::SyncContact) {
        let name = contact_name(contact);
        let status = contact.presence.as_ref().map(|p| p.status);
        let mut job = egui::text::LayoutJob::default();
        let body = egui::TextFormat {
            color: if status.is_some() { theme::INK } else { theme::MUTED },
            ..Default::default()
        };
        job.append(&format!("{name} ({})", presence_label(status)), 0.0, body.clone());
        if contact.blocked {
            job.append(" [blocked]", 0.0, egui::TextFormat { color: theme::DANGER, ..body });
        }
        let graphics = self.model.options.messages.emoticons_as_graphics;
        let row = ui
            .horizontal(|ui| {
                pictures::buddy_icon(ui, status);
                let row = ui.add(egui::Button::selectable(false, job).frame_when_inactive(false));
                // The personal message, with its emoticons as pictures.
                if let Some(message) =
                    contact.presence.as_ref().map(|p| p.personal_message.as_str()).filter(|m| !m.is_empty())
                {
                    ui.spacing_mut().item_spacing.x = 0.0;
                    ui.label(RichText::new(" - ").color(theme::MUTED));
                    personal_message(ui, message, graphics);
                }
                row
            })
            .inner;
        let row = row.on_hover_text(&contact.user.username);
        if row.double_clicked() {
            self.open_conversation(contact.user.id, &name);
        }
        row.context_menu(|ui| {
            if ui.button("Send an instant message").clicked() {
                self.open_conversation(contact.user.id, &name);
                ui.close();
            }
            if contact.presence.is_some() {
                for (label, kind) in [("Call", CallKind::Voice), ("Video call", CallKind::Video)] {
                    if ui.button(label).clicked() {
                        self.call_contact(contact.user.id, &name, kind);
                        ui.close();
                    }
                }
            }
            if ui.button("Rename…").clicked() {
                self.dialogs.rename = Some((contact.user.id, contact.alias.clone().unwrap_or_default()));
                ui.close();
            }
            if ui.button("Move to group…").clicked() {
                let id = contact.user.id.to_string();
                let current = self.model.options.contacts.group_of(&id).unwrap_or("").to_string();
                self.dialogs.group = Some((contact.user.id, current));
                ui.close();
            }
            let block = if contact.blocked { "Unblock" } else { "Block" };
            if ui.button(block).clicked() {
                self.send(if contact.blocked {
                    Intent::Unblock(contact.user.id)
                } else {
                    Intent::Block(contact.user.id)
                });
                ui.close();
            }
            if ui.button("Remove contact").clicked() {
                self.send(Intent::RemoveContact(contact.user.id));
                ui.close();
            }
        });
    }

    pub(crate) fn open_conversation(&mut self, user: UserId, name: &str) {
        // An open conversation with just this contact is reused.
        let existing = self.model.conversations.values_mut().find(|c| {
            let with_them = match c.participants.as_slice() {
                [only] => only.user_id == user,
                [] => c.invited.as_deref() == Some(name),
                _ => false,
            };
            !c.ended && with_them
        });
        match existing {
            Some(conversation) => conversation.open = true,
            None => self.send(Intent::StartConversation { with: user.to_string(), name: name.to_string() }),
        }
    }

    /// "Call" on a contact's menu: in the conversation with them, opened first if need be.
    pub fn call_contact(&mut self, user: UserId, name: &str, kind: CallKind) {
        if !self.model.call_contact(user, kind) {
            self.open_conversation(user, name);
        }
    }

    fn notices(&mut self, ui: &mut egui::Ui) {
        if self.model.notices.is_empty() {
            return;
        }
        ui.separator();
        for notice in self.model.notices.iter().rev().take(8) {
            let text =
                if notice.service { format!("Service notice: {}", notice.text) } else { notice.text.clone() };
            ui.label(RichText::new(text).small());
        }
    }

    pub(crate) fn apply_options(&mut self, options: ClientOptions) {
        let old = std::mem::replace(&mut self.model.options, options);
        self.model.options_dirty = true;
        let new = &self.model.options;
        if self.model.call.is_some() && new.audio_video != old.audio_video {
            self.send(Intent::SwitchCallDevices(new.audio_video.clone()));
        }
        if let Some(state) = &self.model.state {
            let name = new.profile.display_name.trim();
            if name != old.profile.display_name.trim()
                && !name.is_empty()
                && name != state.account.display_name
            {
                self.send(Intent::SetDisplayName(name.to_string()));
            }
            if new.profile.personal_message != old.profile.personal_message {
                self.model.personal_message_draft = new.profile.personal_message.clone();
                self.send(Intent::SetPersonalMessage(new.profile.personal_message.clone()));
            }
        }
    }
}

/// "Mocha" with "MESSENGER" under it, as the site's wordmark.
fn wordmark(ui: &mut egui::Ui) {
    let (rect, _) = ui.allocate_exact_size(egui::vec2(150.0, 40.0), egui::Sense::hover());
    let painter = ui.painter();
    let font = egui::FontId::proportional(27.0);
    let at = rect.left_top() + egui::vec2(0.0, -2.0);
    painter.text(
        at + egui::vec2(1.0, 1.5),
        egui::Align2::LEFT_TOP,
        "Mocha",
        font.clone(),
        Color32::from_black_alpha(90),
    );
    // egui's bundled font has no bold face: the word is drawn twice, a hair apart.
    for dx in [0.0, 0.7] {
        painter.text(at + egui::vec2(dx, 0.0), egui::Align2::LEFT_TOP, "Mocha", font.clone(), theme::CREAM);
    }
    let small = egui::FontId::proportional(10.0);
    let mut x = rect.left() + 1.0;
    for letter in "MESSENGER".chars() {
        let drawn = painter.text(
            egui::pos2(x, rect.top() + 27.0),
            egui::Align2::LEFT_TOP,
            letter,
            small.clone(),
            theme::CARAMEL,
        );
        x = drawn.right() + 2.6;
    }
}

/// A personal message with its emoticons as pictures.
fn personal_message(ui: &mut egui::Ui, message: &str, graphics: bool) {
    let style = |text: &str| RichText::new(text).italics().color(theme::MUTED);
    if !graphics {
        ui.label(style(message));
        return;
    }
    for token in crate::emoticons::tokenize(message) {
        match token {
            crate::emoticons::Token::Text(text) => {
                ui.label(style(text));
            }
            crate::emoticons::Token::Emoticon { emoticon, code } => {
                pictures::emoticon(ui, emoticon, code, 16.0);
            }
        }
    }
}

impl eframe::App for MessengerApp {
    fn logic(&mut self, ctx: &egui::Context, _frame: &mut eframe::Frame) {
        MessengerApp::logic(self, ctx);
    }

    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        MessengerApp::ui(self, ui);
    }
}
