//! The app's other windows: options, the protocol monitor, the alert history and the
//! small dialogs (add a contact, rename, move to a group), and how any of them gets an
//! OS window of its own. Conversations are in [`crate::conversation`].

use std::collections::HashMap;

use eframe::egui::{self, Color32, RichText};
use mocha_client::ConversationId;
use mocha_client::api::{PresenceStatus, ServiceState, UserId};
use mocha_client::monitor::Direction;

use crate::app::MessengerApp;
use crate::conversation;
use crate::devices::DeviceLists;
use crate::intent::Intent;
use crate::model::SecretStoreState;
use crate::pictures;
use crate::settings::{ClientOptions, InitialStatus, ProxyKind};
use crate::theme;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum OptionsTab {
    #[default]
    Personal,
    General,
    Messages,
    Notifications,
    AudioVideo,
    Privacy,
    FileTransfer,
    Connection,
    Alerts,
}

impl OptionsTab {
    const ALL: [(OptionsTab, &'static str); 9] = [
        (OptionsTab::Personal, "Personal"),
        (OptionsTab::General, "General"),
        (OptionsTab::Messages, "Messages"),
        (OptionsTab::Notifications, "Alerts & sounds"),
        (OptionsTab::AudioVideo, "Audio & video"),
        (OptionsTab::Privacy, "Privacy"),
        (OptionsTab::FileTransfer, "File transfer"),
        (OptionsTab::Connection, "Connection"),
        (OptionsTab::Alerts, "History & updates"),
    ];
}

#[derive(Default)]
pub struct Dialogs {
    /// The options being edited (applied with OK).
    pub options: Option<ClientOptions>,
    pub options_tab: OptionsTab,
    pub monitor: bool,
    pub alerts: bool,
    pub service_status: bool,
    /// Address and message.
    pub add_contact: Option<(String, String)>,
    pub rename: Option<(UserId, String)>,
    pub group: Option<(UserId, String)>,
    /// Where each conversation's OS window stood before a nudge shook it.
    pub positions: HashMap<ConversationId, egui::Pos2>,
    /// The conversation whose window had the keyboard last (no pop-up for its messages).
    pub focused_conversation: Option<ConversationId>,
    /// What the contact list is filtered by.
    pub contact_filter: String,
    /// The call window's videos.
    pub call_textures: crate::call_window::CallTextures,
}

impl Dialogs {
    pub fn open_options(&mut self, options: &ClientOptions) {
        self.options = Some(options.clone());
    }
}

pub fn show(app: &mut MessengerApp, ctx: &egui::Context) {
    conversation::show_all(app, ctx);
    crate::call_window::show(app, ctx);
    options(app, ctx);
    monitor(app, ctx);
    alerts(app, ctx);
    service_status(app, ctx);
    small_dialogs(app, ctx);
}

pub(crate) fn labelled_edit(ui: &mut egui::Ui, label: &str, text: &mut String) -> egui::Response {
    ui.horizontal(|ui| {
        let label = ui.label(label);
        ui.text_edit_singleline(text).labelled_by(label.id)
    })
    .inner
}

/// Where a window of its own opens and how big it is.
pub(crate) struct WindowSpec {
    pub(crate) viewport: egui::ViewportId,
    pub(crate) title: String,
    pub(crate) size: [f32; 2],
    /// Where it sits when drawn inside the main window (tests, single-window platforms).
    pub(crate) embedded_pos: egui::Pos2,
}

impl WindowSpec {
    pub(crate) fn new(key: &str, title: &str, size: [f32; 2], embedded_pos: [f32; 2]) -> Self {
        Self {
            viewport: egui::ViewportId::from_hash_of(key),
            title: title.into(),
            size,
            embedded_pos: embedded_pos.into(),
        }
    }
}

/// Shows `add` in a window of its own: an operating-system window where the platform
/// has several (eframe on Windows, X11, Wayland), else an egui window inside the main
/// one (the UI-test harness). `add` learns which (`true`: its own OS window). Returns
/// `false` once the person closed it.
pub(crate) fn own_window(
    ctx: &egui::Context,
    spec: WindowSpec,
    embedded_offset: Option<egui::Vec2>,
    add: impl FnOnce(&mut egui::Ui, bool),
) -> bool {
    let mut open = true;
    if ctx.embed_viewports() {
        let mut window = egui::Window::new(&spec.title)
            .id(egui::Id::unique(spec.viewport))
            .default_pos(spec.embedded_pos)
            .default_size(spec.size)
            .open(&mut open);
        if let Some(offset) = embedded_offset {
            window = window.current_pos(spec.embedded_pos + offset);
        }
        window.show(ctx, |ui| add(ui, false));
        return open;
    }
    let builder = egui::ViewportBuilder::default()
        .with_title(&spec.title)
        .with_inner_size(spec.size)
        .with_min_inner_size([300.0, 240.0]);
    let mut add = Some(add);
    ctx.show_viewport_immediate(spec.viewport, builder, |ui, class| {
        if ui.ctx().input(|i| i.viewport().close_requested()) {
            open = false;
        }
        let native = class != egui::ViewportClass::EmbeddedWindow;
        if let Some(add) = add.take() {
            egui::CentralPanel::default().show(ui, |ui| add(ui, native));
        }
    });
    open
}

fn options(app: &mut MessengerApp, ctx: &egui::Context) {
    let Some(mut draft) = app.dialogs.options.take() else { return };
    let mut outcome = None;
    let secret_store = app.model.secret_store.clone();
    let path = app.options_path.clone();
    let devices = app.model.devices.clone();
    let announce_problems = app.announcer.problems();
    let spec = WindowSpec::new("options", "Options", [560.0, 500.0], [200.0, 60.0]);
    let open = own_window(ctx, spec, None, |ui, _| {
        ui.horizontal_wrapped(|ui| {
            for (tab, label) in OptionsTab::ALL {
                ui.selectable_value(&mut app.dialogs.options_tab, tab, label);
            }
        });
        ui.separator();
        match app.dialogs.options_tab {
            OptionsTab::Personal => {
                labelled_edit(ui, "Display name:", &mut draft.profile.display_name);
                labelled_edit(ui, "Personal message:", &mut draft.profile.personal_message);
                labelled_edit(ui, "Country/region:", &mut draft.personal.country_region);
                labelled_edit(ui, "Phone number:", &mut draft.personal.phone_number);
            }
            OptionsTab::General => {
                ui.checkbox(
                    &mut draft.general.run_in_background,
                    "Keep running in the background when the window is closed",
                );
                ui.checkbox(&mut draft.general.auto_away, "Show me as Away when I'm inactive");
                ui.checkbox(&mut draft.general.on_the_phone_in_calls, "Show me as On the phone during calls");
                ui.horizontal(|ui| {
                    let label = ui.label("Minutes before Away:");
                    ui.add(egui::DragValue::new(&mut draft.general.away_after_minutes).range(1..=240))
                        .labelled_by(label.id);
                });
                ui.horizontal(|ui| {
                    let label = ui.label("Sign in as:");
                    egui::ComboBox::from_id_salt("options-status")
                        .selected_text(draft.sign_in.initial_status.label())
                        .show_ui(ui, |ui| {
                            for status in InitialStatus::ALL {
                                ui.selectable_value(
                                    &mut draft.sign_in.initial_status,
                                    status,
                                    status.label(),
                                );
                            }
                        })
                        .response
                        .labelled_by(label.id);
                });
                ui.checkbox(&mut draft.sign_in.remember_me, "Remember my sign-in address");
                ui.add_enabled_ui(secret_store == SecretStoreState::Available, |ui| {
                    ui.checkbox(&mut draft.sign_in.remember_password, "Remember my password");
                    ui.checkbox(&mut draft.sign_in.auto_sign_in, "Sign me in automatically");
                });
                if let SecretStoreState::Unavailable(reason) = &secret_store {
                    ui.label(
                        RichText::new(format!("Remembered sign-in is unavailable: {reason}")).small().weak(),
                    );
                }
                ui.label("Recent sign-in addresses:");
                let mut forget = None;
                for address in &draft.sign_in.recent_addresses {
                    ui.horizontal(|ui| {
                        ui.label(address);
                        if ui.small_button(format!("Forget {address}")).clicked() {
                            forget = Some(address.clone());
                        }
                    });
                }
                if let Some(address) = forget {
                    draft.sign_in.forget_address(&address);
                    app.send(Intent::Forget { connection: app.connection(), address });
                }
            }
            OptionsTab::Messages => {
                labelled_edit(ui, "Font:", &mut draft.messages.font_family);
                ui.horizontal(|ui| {
                    let label = ui.label("Font size:");
                    ui.add(egui::DragValue::new(&mut draft.messages.font_size).range(8.0..=32.0))
                        .labelled_by(label.id);
                });
                labelled_edit(ui, "Font colour (#rrggbb):", &mut draft.messages.font_color);
                ui.checkbox(&mut draft.messages.bold, "Bold");
                ui.checkbox(&mut draft.messages.italic, "Italic");
                ui.checkbox(&mut draft.messages.emoticons_as_graphics, "Show emoticons as pictures");
                ui.checkbox(&mut draft.messages.show_timestamps, "Show when messages were sent");
                ui.checkbox(&mut draft.messages.send_typing, "Tell others when I'm typing");
            }
            OptionsTab::Notifications => {
                let n = &mut draft.notifications;
                ui.checkbox(&mut n.contact_signs_in, "Tell me when contacts sign in");
                ui.checkbox(&mut n.message_received, "Tell me when a message arrives");
                ui.checkbox(&mut n.show_service_notices, "Show service notices");
                ui.checkbox(&mut n.play_sounds, "Play sounds");
                ui.add_enabled_ui(n.play_sounds, |ui| {
                    ui.checkbox(&mut n.sound_on_message, "Sound for messages");
                    ui.checkbox(&mut n.sound_on_contact_signs_in, "Sound when contacts sign in");
                    ui.checkbox(&mut n.sound_on_nudge, "Sound for nudges");
                });
                for problem in &announce_problems {
                    ui.label(RichText::new(problem).small().color(theme::MUTED));
                }
            }
            OptionsTab::AudioVideo => audio_video(ui, &mut draft, devices.as_ref()),
            OptionsTab::Privacy => {
                ui.label("Blocked contacts (kept in step with Passport):");
                if draft.blocked_contact_ids.is_empty() {
                    ui.label(RichText::new("nobody").weak());
                }
                for id in &draft.blocked_contact_ids {
                    ui.label(id);
                }
                ui.label("Local contact groups:");
                for group in &draft.contacts.groups {
                    ui.label(format!("{} ({} contacts)", group.name, group.members.len()));
                }
            }
            OptionsTab::FileTransfer => {
                let mut folder = draft.files.receive_folder.display().to_string();
                if labelled_edit(ui, "Save received files in:", &mut folder).changed() {
                    draft.files.receive_folder = folder.into();
                }
                if ui.button("Open folder").clicked() {
                    app.send(Intent::OpenFolder(draft.files.receive_folder.clone()));
                }
            }
            OptionsTab::Connection => {
                labelled_edit(ui, "Server:", &mut draft.sign_in.server);
                ui.horizontal(|ui| {
                    ui.label("Proxy:");
                    ui.selectable_value(&mut draft.proxy.kind, ProxyKind::None, "None");
                    ui.selectable_value(&mut draft.proxy.kind, ProxyKind::Socks5, "SOCKS5");
                    ui.selectable_value(&mut draft.proxy.kind, ProxyKind::Http, "HTTP");
                });
                labelled_edit(ui, "Proxy host:", &mut draft.proxy.host);
                ui.horizontal(|ui| {
                    let label = ui.label("Proxy port:");
                    ui.add(egui::DragValue::new(&mut draft.proxy.port)).labelled_by(label.id);
                });
                labelled_edit(ui, "Proxy user:", &mut draft.proxy.user);
                ui.horizontal(|ui| {
                    let label = ui.label("Proxy password:");
                    ui.add(egui::TextEdit::singleline(&mut draft.proxy.password).password(true))
                        .labelled_by(label.id);
                });
                ui.label(RichText::new("Applies at the next sign-in.").small().weak());
            }
            OptionsTab::Alerts => {
                ui.checkbox(&mut draft.alerts.keep_history, "Keep a history of alerts on this computer");
                if ui.button("Clear alert history").clicked() {
                    draft.alerts.history.clear();
                }
                ui.checkbox(&mut draft.updates.check_at_sign_in, "Check for updates when I sign in");
                labelled_edit(ui, "Update channel:", &mut draft.updates.channel);
                if draft.updates.deferred_version.is_some()
                    && ui.button("Forget \"remind me later\"").clicked()
                {
                    draft.updates.deferred_version = None;
                    draft.updates.remind_after = None;
                }
            }
        }
        ui.separator();
        ui.label(RichText::new(format!("Saved in {}", path.display())).small().weak());
        ui.horizontal(|ui| {
            if ui.button("OK").clicked() {
                outcome = Some(true);
            }
            if ui.button("Cancel").clicked() {
                outcome = Some(false);
            }
        });
    });
    match outcome {
        Some(true) => app.apply_options(draft),
        Some(false) => {}
        None if open => app.dialogs.options = Some(draft),
        None => {}
    }
}

fn monitor(app: &mut MessengerApp, ctx: &egui::Context) {
    if !app.dialogs.monitor {
        return;
    }
    let spec = WindowSpec::new("protocol-monitor", "Protocol monitor", [640.0, 360.0], [120.0, 120.0]);
    app.dialogs.monitor = own_window(ctx, spec, None, |ui, _| {
        ui.horizontal(|ui| {
            ui.label("Kept in memory only; passwords, tokens and tickets are hidden.");
            if ui.button("Clear").clicked() {
                app.monitor.clear();
            }
        });
        theme::pane().show(ui, |ui| {
            egui::ScrollArea::vertical().auto_shrink([false, false]).stick_to_bottom(true).show(ui, |ui| {
                for entry in app.monitor.entries() {
                    let arrow = if entry.direction == Direction::Sent { "→" } else { "←" };
                    ui.monospace(format!("{arrow} {:?} {}", entry.channel, entry.line));
                }
            });
        });
        ui.ctx().request_repaint_after(std::time::Duration::from_millis(500));
    });
}

fn alerts(app: &mut MessengerApp, ctx: &egui::Context) {
    if !app.dialogs.alerts {
        return;
    }
    let spec = WindowSpec::new("alert-history", "Alert history", [460.0, 320.0], [160.0, 100.0]);
    app.dialogs.alerts = own_window(ctx, spec, None, |ui, _| {
        if app.model.options.alerts.history.is_empty() {
            ui.label("No alerts.");
        }
        for alert in app.model.options.alerts.history.iter().rev() {
            ui.label(format!("{} — {}: {}", alert.received_at, alert.sender_name, alert.text));
        }
        if ui.button("Clear alert history").clicked() {
            app.model.options.alerts.history.clear();
            app.model.options_dirty = true;
        }
    });
}

fn service_status(app: &mut MessengerApp, ctx: &egui::Context) {
    if !app.dialogs.service_status {
        return;
    }
    let spec = WindowSpec::new("service-status", "Service status", [420.0, 300.0], [180.0, 140.0]);
    let server = app.model.options.sign_in.server.clone();
    app.dialogs.service_status = own_window(ctx, spec, None, |ui, _| {
        ui.label(RichText::new(&server).strong());
        match &app.model.service_status {
            None => {
                ui.horizontal(|ui| {
                    ui.spinner();
                    ui.label("Asking the server…");
                });
            }
            Some(Err(reason)) => {
                ui.colored_label(Color32::from_rgb(200, 40, 40), reason);
            }
            Some(Ok(report)) => {
                for service in &report.services {
                    ui.horizontal(|ui| {
                        let up = service.state == ServiceState::Up;
                        pictures::buddy_icon(ui, up.then_some(PresenceStatus::Online));
                        let mut line =
                            format!("{}: {}", service_name(&service.name), if up { "up" } else { "down" });
                        if let Some(users) = service.online_users {
                            line.push_str(&format!(", {users} online"));
                        }
                        ui.label(line);
                    });
                }
                for notice in &report.notices {
                    ui.label(RichText::new(format!("Notice: {}", notice.text)).italics());
                }
            }
        }
        if ui.button("Check again").clicked() {
            app.model.service_status = None;
            app.send(Intent::CheckServiceStatus(app.connection()));
        }
    });
}

/// "notification" → "Notification Server", as the privacy policy names the parts.
fn service_name(name: &str) -> String {
    match name {
        "passport" => "Mocha Passport".into(),
        "notification" => "Notification Server".into(),
        "switchboard" => "Switchboard".into(),
        other => other.to_string(),
    }
}

/// The device pickers: what this machine has, plus a saved choice that is not plugged in.
fn audio_video(ui: &mut egui::Ui, draft: &mut ClientOptions, devices: Option<&DeviceLists>) {
    ui.label("Calls use these; a change during a call switches at once.");
    let Some(devices) = devices else {
        ui.horizontal(|ui| {
            ui.spinner();
            ui.label("Looking for devices…");
        });
        return;
    };
    let av = &mut draft.audio_video;
    device_picker(ui, "Microphone:", &mut av.microphone, &devices.microphones);
    device_picker(ui, "Speakers:", &mut av.speakers, &devices.speakers);
    device_picker(ui, "Camera:", &mut av.camera, &devices.cameras);
    ui.checkbox(&mut av.acoustic_echo_cancellation, "Acoustic echo cancellation");
    ui.checkbox(&mut av.noise_suppression, "Noise suppression");
    for problem in &devices.problems {
        ui.label(RichText::new(problem).small().color(theme::MUTED));
    }
}

fn device_picker(ui: &mut egui::Ui, label: &str, chosen: &mut String, present: &[String]) {
    const DEFAULT: &str = "System default";
    ui.horizontal(|ui| {
        let label = ui.label(label);
        let shown = if chosen.is_empty() {
            DEFAULT.to_string()
        } else if present.contains(chosen) {
            chosen.clone()
        } else {
            format!("{chosen} (not connected)")
        };
        egui::ComboBox::from_id_salt(label.id)
            .selected_text(shown)
            .width(260.0)
            .show_ui(ui, |ui| {
                ui.selectable_value(chosen, String::new(), DEFAULT);
                for device in present {
                    ui.selectable_value(chosen, device.clone(), device);
                }
            })
            .response
            .labelled_by(label.id);
    });
}

fn small_dialogs(app: &mut MessengerApp, ctx: &egui::Context) {
    if let Some((mut address, mut message)) = app.dialogs.add_contact.take() {
        let mut keep = true;
        egui::Window::new("Add a contact").collapsible(false).show(ctx, |ui| {
            labelled_edit(ui, "Their sign-in address:", &mut address);
            labelled_edit(ui, "Message (optional):", &mut message);
            ui.horizontal(|ui| {
                if ui.button("Send request").clicked() && !address.trim().is_empty() {
                    app.send(Intent::AddContact { address: address.clone(), message: message.clone() });
                    keep = false;
                }
                if ui.button("Cancel").clicked() {
                    keep = false;
                }
            });
        });
        if keep {
            app.dialogs.add_contact = Some((address, message));
        }
    }
    if let Some((user, mut alias)) = app.dialogs.rename.take() {
        let mut keep = true;
        egui::Window::new("Rename contact").collapsible(false).show(ctx, |ui| {
            labelled_edit(ui, "Name to show:", &mut alias);
            ui.horizontal(|ui| {
                if ui.button("Save").clicked() {
                    app.send(Intent::SetAlias { user, alias: alias.clone() });
                    keep = false;
                }
                if ui.button("Cancel").clicked() {
                    keep = false;
                }
            });
        });
        if keep {
            app.dialogs.rename = Some((user, alias));
        }
    }
    if let Some((user, mut group)) = app.dialogs.group.take() {
        let mut keep = true;
        egui::Window::new("Move to group").collapsible(false).show(ctx, |ui| {
            labelled_edit(ui, "Group name:", &mut group);
            ui.horizontal(|ui| {
                if ui.button("Move").clicked() {
                    app.model.options.contacts.assign(&user.to_string(), Some(&group));
                    app.model.options_dirty = true;
                    keep = false;
                }
                if ui.button("No group").clicked() {
                    app.model.options.contacts.assign(&user.to_string(), None);
                    app.model.options_dirty = true;
                    keep = false;
                }
                if ui.button("Cancel").clicked() {
                    keep = false;
                }
            });
        });
        if keep {
            app.dialogs.group = Some((user, group));
        }
    }
}
