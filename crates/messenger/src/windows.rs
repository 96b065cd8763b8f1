//! The app's other windows: conversations, options, the protocol monitor, the alert
//! history and the small dialogs (add a contact, rename, move to a group).

use std::collections::HashMap;

use eframe::egui::{self, Color32, RichText};
use mocha_client::ConversationId;
use mocha_client::api::UserId;
use mocha_client::monitor::Direction;
use mocha_client::proto::im::TextFormat;
use time::OffsetDateTime;

use crate::app::MessengerApp;
use crate::intent::Intent;
use crate::model::SecretStoreState;
use crate::model::{
    ChatLine, ConversationView, TransferState, human_size, outgoing_format, parse_colour, render_emoticons,
};
use crate::settings::{ClientOptions, InitialStatus, ProxyKind};

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
    /// Address and message.
    pub add_contact: Option<(String, String)>,
    pub rename: Option<(UserId, String)>,
    pub group: Option<(UserId, String)>,
    /// A file path typed into each conversation.
    pub file_paths: HashMap<ConversationId, String>,
    /// Where each conversation window last was, for the nudge's shake.
    pub positions: HashMap<ConversationId, egui::Pos2>,
}

impl Dialogs {
    pub fn open_options(&mut self, options: &ClientOptions) {
        self.options = Some(options.clone());
    }
}

pub fn show(app: &mut MessengerApp, ctx: &egui::Context) {
    conversations(app, ctx);
    options(app, ctx);
    monitor(app, ctx);
    alerts(app, ctx);
    small_dialogs(app, ctx);
}

fn labelled_edit(ui: &mut egui::Ui, label: &str, text: &mut String) -> egui::Response {
    ui.horizontal(|ui| {
        let label = ui.label(label);
        ui.text_edit_singleline(text).labelled_by(label.id)
    })
    .inner
}

fn conversations(app: &mut MessengerApp, ctx: &egui::Context) {
    let now = OffsetDateTime::now_utc();
    let ids: Vec<ConversationId> = app.model.conversations.keys().copied().collect();
    for (index, id) in ids.into_iter().enumerate() {
        let Some(mut view) = app.model.conversations.remove(&id) else { continue };
        if view.open {
            let mut open = true;
            let shake = view.shake_offset(now);
            let mut window = egui::Window::new(view.title())
                .id(egui::Id::unique(("conversation", id.0)))
                .default_pos([440.0 + 24.0 * index as f32, 40.0 + 24.0 * index as f32])
                .default_size([460.0, 420.0])
                .open(&mut open);
            if shake != 0.0
                && let Some(base) = app.dialogs.positions.get(&id)
            {
                window = window.current_pos(*base + egui::vec2(shake, 0.0));
                ctx.request_repaint();
            }
            let response = window.show(ctx, |ui| conversation(app, ui, &mut view, now));
            if shake == 0.0
                && let Some(response) = response
            {
                app.dialogs.positions.insert(id, response.response.rect.min);
            }
            if view.typing_line(now).is_some() {
                ctx.request_repaint_after(std::time::Duration::from_secs(1));
            }
            if !open {
                view.open = false;
                app.send(Intent::Leave(id));
                continue; // closing a conversation forgets its text
            }
        }
        app.model.conversations.insert(id, view);
    }
}

fn conversation(app: &mut MessengerApp, ui: &mut egui::Ui, view: &mut ConversationView, now: OffsetDateTime) {
    let id = view.id;
    let names: Vec<String> = view.participants.iter().map(|p| p.display_name.clone()).collect();
    ui.label(if names.is_empty() {
        format!("Waiting for {} to join…", view.invited.as_deref().unwrap_or("someone"))
    } else {
        format!("To: {}", names.join(", "))
    });
    ui.horizontal(|ui| {
        let label = ui.label("Invite:");
        ui.add(egui::TextEdit::singleline(&mut view.invite_draft).hint_text("address").desired_width(180.0))
            .labelled_by(label.id);
        if ui.button("Invite").clicked() && !view.invite_draft.trim().is_empty() {
            app.send(Intent::Invite { conversation: id, who: std::mem::take(&mut view.invite_draft) });
        }
    });
    ui.separator();
    // Pictures only where the fonts can draw them (egui's default fonts have no emoji).
    let graphics = app.model.options.messages.emoticons_as_graphics
        && ui.ctx().fonts_mut(|f| f.has_glyphs(&egui::FontId::default(), "🙂😃😉🙁😛😢👍👎❤☕"));
    let timestamps = app.model.options.messages.show_timestamps;
    egui::ScrollArea::vertical().max_height(220.0).stick_to_bottom(true).id_salt(("lines", id.0)).show(
        ui,
        |ui| {
            for line in &view.lines {
                match line {
                    ChatLine::Text { from, text, format, at, .. } => {
                        let stamp = if timestamps {
                            format!(" ({:02}:{:02})", at.hour(), at.minute())
                        } else {
                            String::new()
                        };
                        ui.label(RichText::new(format!("{from} says{stamp}:")).weak());
                        ui.label(formatted(&render_emoticons(text, graphics), format));
                    }
                    ChatLine::Note { text, .. } => {
                        ui.label(RichText::new(text).italics().color(Color32::GRAY));
                    }
                }
            }
        },
    );
    ui.label(view.typing_line(now).unwrap_or_default());
    transfers(app, ui, view);
    ui.separator();
    if view.ended {
        ui.label("This conversation has ended.");
        return;
    }
    let label = ui.label("Message:");
    let edit = ui
        .add(egui::TextEdit::multiline(&mut view.draft).desired_rows(2).desired_width(f32::INFINITY))
        .labelled_by(label.id);
    if edit.changed() && app.model.options.messages.send_typing && !view.draft.is_empty() {
        let due = view.typing_sent_at.is_none_or(|at| now - at > time::Duration::seconds(3));
        if due {
            view.typing_sent_at = Some(now);
            app.send(Intent::SendTyping(id));
        }
    }
    let enter = edit.has_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter) && !i.modifiers.shift);
    ui.horizontal(|ui| {
        if ui.button("Send").clicked() || enter {
            let text = view.draft.trim().to_string();
            view.draft.clear();
            view.typing_sent_at = None;
            if !text.is_empty() {
                let format = outgoing_format(&app.model.options);
                app.model.record_sent_in(view, &text, format.clone());
                app.send(Intent::SendText { conversation: id, text, format });
            }
        }
        if ui.button("Nudge").clicked() {
            view.lines.push(ChatLine::Note { text: "You have just sent a nudge.".into(), at: now });
            view.nudged_at = Some(now);
            app.send(Intent::SendNudge(id));
        }
        if ui.button("Send a file…").clicked() {
            app.send(Intent::PickAndSendFile(id));
        }
    });
    let mut path = app.dialogs.file_paths.remove(&id).unwrap_or_default();
    ui.horizontal(|ui| {
        let label = ui.label("File to send:");
        ui.add(egui::TextEdit::singleline(&mut path).hint_text("path").desired_width(220.0))
            .labelled_by(label.id);
        if ui.button("Send file").clicked() && !path.trim().is_empty() {
            let chosen = std::mem::take(&mut path);
            app.send(Intent::SendFile { conversation: id, path: chosen.trim().into() });
        }
    });
    app.dialogs.file_paths.insert(id, path);
}

fn transfers(app: &mut MessengerApp, ui: &mut egui::Ui, view: &mut ConversationView) {
    let folder = app.model.options.files.receive_folder.clone();
    for transfer in &view.transfers {
        ui.horizontal(|ui| {
            ui.label(format!("{} ({})", transfer.name, human_size(transfer.size)));
            match &transfer.state {
                TransferState::Offered => {
                    if ui.button(format!("Accept {}", transfer.name)).clicked() {
                        app.send(Intent::AcceptFile {
                            conversation: view.id,
                            transfer_id: transfer.id.clone(),
                            folder: folder.clone(),
                        });
                    }
                    if ui.button(format!("Decline {}", transfer.name)).clicked() {
                        app.send(Intent::DeclineFile {
                            conversation: view.id,
                            transfer_id: transfer.id.clone(),
                        });
                    }
                }
                TransferState::Waiting => {
                    ui.label("waiting for them to accept");
                    if ui.button("Cancel").clicked() {
                        app.send(Intent::CancelTransfer {
                            conversation: view.id,
                            transfer_id: transfer.id.clone(),
                        });
                    }
                }
                TransferState::Moving { .. } => {
                    ui.add(
                        egui::ProgressBar::new(transfer.fraction()).show_percentage().desired_width(140.0),
                    );
                    if ui.button("Cancel").clicked() {
                        app.send(Intent::CancelTransfer {
                            conversation: view.id,
                            transfer_id: transfer.id.clone(),
                        });
                    }
                }
                TransferState::Done { path } => {
                    ui.label("done");
                    if let Some(path) = path {
                        let folder = path.parent().map(|p| p.to_path_buf()).unwrap_or_else(|| folder.clone());
                        if ui.button("Open folder").clicked() {
                            app.send(Intent::OpenFolder(folder));
                        }
                    }
                }
                TransferState::Declined => {
                    ui.label("declined");
                }
                TransferState::Cancelled => {
                    ui.label("cancelled");
                }
                TransferState::Failed(reason) => {
                    ui.label(format!("failed: {reason}"));
                }
            }
        });
    }
}

/// A message in its sender's font: colour, bold, italic; monospace fonts stay monospace.
fn formatted(text: &str, format: &TextFormat) -> RichText {
    let mut rich = RichText::new(text);
    if let Some([r, g, b]) = format.color.as_deref().and_then(parse_colour) {
        rich = rich.color(Color32::from_rgb(r, g, b));
    }
    if format.effects.contains('B') {
        rich = rich.strong();
    }
    if format.effects.contains('I') {
        rich = rich.italics();
    }
    if format.effects.contains('U') {
        rich = rich.underline();
    }
    if format.effects.contains('S') {
        rich = rich.strikethrough();
    }
    let font = format.font.as_deref().unwrap_or("").to_ascii_lowercase();
    if ["courier", "consolas", "mono", "lucida console"].iter().any(|m| font.contains(m)) {
        rich = rich.monospace();
    }
    rich
}

fn options(app: &mut MessengerApp, ctx: &egui::Context) {
    let Some(mut draft) = app.dialogs.options.take() else { return };
    let mut open = true;
    let mut outcome = None;
    let secret_store = app.model.secret_store.clone();
    let path = app.options_path.clone();
    egui::Window::new("Options")
        .default_size([520.0, 460.0])
        .default_pos([200.0, 60.0])
        .open(&mut open)
        .show(ctx, |ui| {
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
                            RichText::new(format!("Remembered sign-in is unavailable: {reason}"))
                                .small()
                                .weak(),
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
                }
                OptionsTab::AudioVideo => {
                    ui.label(
                        "Device names; leave empty for the system default. Calls come in a later version.",
                    );
                    labelled_edit(ui, "Microphone:", &mut draft.audio_video.microphone);
                    labelled_edit(ui, "Speakers:", &mut draft.audio_video.speakers);
                    labelled_edit(ui, "Camera:", &mut draft.audio_video.camera);
                    ui.checkbox(
                        &mut draft.audio_video.acoustic_echo_cancellation,
                        "Acoustic echo cancellation",
                    );
                }
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
    let mut open = app.dialogs.monitor;
    egui::Window::new("Protocol monitor").open(&mut open).default_size([560.0, 320.0]).show(ctx, |ui| {
        ui.horizontal(|ui| {
            ui.label("Kept in memory only; passwords, tokens and tickets are hidden.");
            if ui.button("Clear").clicked() {
                app.monitor.clear();
            }
        });
        egui::ScrollArea::vertical().stick_to_bottom(true).show(ui, |ui| {
            for entry in app.monitor.entries() {
                let arrow = if entry.direction == Direction::Sent { "→" } else { "←" };
                ui.monospace(format!("{arrow} {:?} {}", entry.channel, entry.line));
            }
        });
        ctx.request_repaint_after(std::time::Duration::from_millis(500));
    });
    app.dialogs.monitor = open;
}

fn alerts(app: &mut MessengerApp, ctx: &egui::Context) {
    let mut open = app.dialogs.alerts;
    egui::Window::new("Alert history").open(&mut open).show(ctx, |ui| {
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
    app.dialogs.alerts = open;
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
