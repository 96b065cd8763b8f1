//! The conversation window, laid out like the classic one: the band with who you are
//! talking to, a toolbar (Invite, Send a file, Nudge), the history with emoticons as
//! pictures, transfers, the compose box with its emoticon menu, and both display
//! pictures down the right. Also the app's own "Send a file" picker window, where the
//! system has no file dialog. Layout only: the state is in [`crate::model`].

use eframe::egui::{self, Color32, RichText};
use mocha_client::ConversationId;
use mocha_client::api::PresenceStatus;
use mocha_client::proto::im::TextFormat;
use time::OffsetDateTime;

use crate::app::MessengerApp;
use crate::call::CallKind;
use crate::emoticons::{Emoticon, Token, tokenize};
use crate::file_picker::{FilePicker, PickerStep};
use crate::intent::Intent;
use crate::model::{ChatLine, ConversationView, TransferState, human_size, outgoing_format, parse_colour};
use crate::pictures;
use crate::theme;
use crate::windows::{WindowSpec, own_window};

/// The width of the display pictures' column.
const PICTURES_WIDTH: f32 = 100.0;
/// How big the display pictures are.
const PICTURE: f32 = 92.0;
/// Emoticon pictures in message text.
const EMOTICON: f32 = 19.0;

/// Every open conversation in its window, and its file picker if one is open.
pub fn show_all(app: &mut MessengerApp, ctx: &egui::Context) {
    let now = OffsetDateTime::now_utc();
    let ids: Vec<ConversationId> = app.model.conversations.keys().copied().collect();
    for (index, id) in ids.into_iter().enumerate() {
        let Some(mut view) = app.model.conversations.remove(&id) else { continue };
        let mut call = None;
        if view.open {
            let shake = view.shake_offset(now);
            let spec = WindowSpec {
                viewport: egui::ViewportId::from_hash_of(("conversation", id.0)),
                title: view.title(),
                size: [600.0, 520.0],
                embedded_pos: egui::pos2(440.0 + 24.0 * index as f32, 40.0 + 24.0 * index as f32),
            };
            let embedded_shake = (shake != 0.0).then(|| egui::vec2(shake, 0.0));
            let open = own_window(ctx, spec, embedded_shake, |ui, native| {
                if native {
                    shake_os_window(app, ui.ctx(), id, shake);
                    track_focus(app, ui.ctx(), id);
                    app.note_activity(ui.ctx());
                    if view.attention {
                        // A call rings: the taskbar entry flashes until the window is looked at.
                        ui.ctx().send_viewport_cmd(egui::ViewportCommand::RequestUserAttention(
                            egui::UserAttentionType::Critical,
                        ));
                    }
                }
                view.attention = false;
                conversation(app, ui, &mut view, now, &mut call);
            });
            if shake != 0.0 {
                ctx.request_repaint();
            }
            if view.typing_line(now).is_some() {
                ctx.request_repaint_after(std::time::Duration::from_secs(1));
            }
            if !open {
                view.open = false;
                app.send(Intent::Leave(id));
                continue; // closing a conversation forgets its text
            }
            picker_window(app, ctx, &mut view, index);
        }
        app.model.conversations.insert(id, view);
        // The model decides whether the call can be made here (a group cannot).
        if let Some(kind) = call {
            app.model.start_call(id, kind);
        }
    }
}

/// Remembers which conversation's OS window has the keyboard.
fn track_focus(app: &mut MessengerApp, ctx: &egui::Context, id: ConversationId) {
    let focused = &mut app.dialogs.focused_conversation;
    match ctx.input(|i| i.viewport().focused) {
        Some(true) => *focused = Some(id),
        Some(false) if *focused == Some(id) => *focused = None,
        _ => {}
    }
}

/// The nudge: moves the conversation's OS window from side to side, then puts it back.
fn shake_os_window(app: &mut MessengerApp, ctx: &egui::Context, id: ConversationId, shake: f32) {
    if shake != 0.0 {
        let outer = ctx.input(|i| i.viewport().outer_rect);
        let base = match (app.dialogs.positions.get(&id), outer) {
            (Some(base), _) => *base,
            (None, Some(rect)) => *app.dialogs.positions.entry(id).or_insert(rect.min),
            (None, None) => return,
        };
        ctx.send_viewport_cmd(egui::ViewportCommand::OuterPosition(base + egui::vec2(shake, 0.0)));
    } else if let Some(base) = app.dialogs.positions.remove(&id) {
        ctx.send_viewport_cmd(egui::ViewportCommand::OuterPosition(base));
    }
}

/// `call`: set when "Call" or "Video call" is pressed.
fn conversation(
    app: &mut MessengerApp,
    ui: &mut egui::Ui,
    view: &mut ConversationView,
    now: OffsetDateTime,
    call: &mut Option<CallKind>,
) {
    theme::band(ui, |ui| header(app, ui, view));
    if !view.ended {
        toolbar(app, ui, view, now, call);
    }
    let side = PICTURES_WIDTH + ui.spacing().item_spacing.x;
    ui.horizontal_top(|ui| {
        let left_width = (ui.available_width() - side).max(220.0);
        let left = ui
            .vertical(|ui| {
                ui.set_width(left_width);
                talk(app, ui, view, now);
            })
            .response
            .rect;
        ui.vertical(|ui| {
            ui.set_width(PICTURES_WIDTH);
            display_pictures(app, ui, view, left.height());
        });
    });
}

/// "To: Bob <bob@example.com>", their personal message, the logo on the right.
fn header(app: &MessengerApp, ui: &mut egui::Ui, view: &ConversationView) {
    let state = app.model.state.as_ref();
    ui.horizontal(|ui| {
        ui.vertical(|ui| {
            if view.participants.is_empty() {
                let who = view.invited.as_deref().unwrap_or("someone");
                ui.label(theme::on_band(format!("Waiting for {who} to join…")).strong());
                return;
            }
            let contact = match view.participants.as_slice() {
                [only] => state.and_then(|s| s.contact(only.user_id)),
                _ => None,
            };
            let names: Vec<&str> = view.participants.iter().map(|p| p.display_name.as_str()).collect();
            let to = match contact {
                Some(c) => format!("To: {} <{}>", names.join(", "), c.user.username),
                None => format!("To: {}", names.join(", ")),
            };
            ui.label(theme::on_band(to).size(15.0).strong());
            let message = contact.and_then(|c| c.presence.as_ref()).map(|p| p.personal_message.as_str());
            if let Some(message) = message.filter(|m| !m.is_empty()) {
                ui.horizontal_wrapped(|ui| {
                    let graphics = app.model.options.messages.emoticons_as_graphics;
                    rich_text(ui, message, graphics, |text| theme::on_band_muted(text).italics());
                });
            }
        });
        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| pictures::logo(ui, 34.0));
    });
}

/// Invite someone, send a file, nudge.
fn toolbar(
    app: &mut MessengerApp,
    ui: &mut egui::Ui,
    view: &mut ConversationView,
    now: OffsetDateTime,
    call: &mut Option<CallKind>,
) {
    let id = view.id;
    ui.add_space(2.0);
    ui.horizontal(|ui| {
        ui.menu_button("Invite…", |ui| {
            let label = ui.label("Invite someone to this conversation:");
            ui.add(egui::TextEdit::singleline(&mut view.invite_draft).hint_text("their sign-in address"))
                .labelled_by(label.id);
            if ui.button("Invite").clicked() && !view.invite_draft.trim().is_empty() {
                app.send(Intent::Invite { conversation: id, who: std::mem::take(&mut view.invite_draft) });
                ui.close();
            }
        });
        if ui.button("Send a file…").on_hover_text("Choose a file to send to them").clicked() {
            match &app.model.file_dialog {
                Some(Ok(())) => app.send(Intent::PickAndSendFile(id)),
                // No system dialog here (or not known yet): the app's own picker.
                _ => {
                    let folder = view.open_picker(app.model.picker_start());
                    app.send(Intent::ListFolder(folder));
                }
            }
        }
        if ui.button("Nudge").on_hover_text("Shake their conversation window").clicked() {
            view.lines.push(ChatLine::Note { text: "You have just sent a nudge.".into(), at: now });
            view.nudged_at = Some(now);
            app.send(Intent::SendNudge(id));
        }
        ui.separator();
        let in_call = app.model.call.is_some();
        for (label, kind, hint) in [
            ("Call", CallKind::Voice, "Talk to them"),
            ("Video call", CallKind::Video, "Talk to them and see each other"),
        ] {
            let button = ui.add_enabled(!in_call, egui::Button::new(label)).on_hover_text(hint);
            if button.clicked() {
                *call = Some(kind);
            }
        }
    });
    ui.add_space(2.0);
}

/// The left column: history, typing line, transfers, compose.
fn talk(app: &mut MessengerApp, ui: &mut egui::Ui, view: &mut ConversationView, now: OffsetDateTime) {
    let graphics = app.model.options.messages.emoticons_as_graphics;
    let timestamps = app.model.options.messages.show_timestamps;
    let below = (if view.ended { 40.0 } else { 150.0 }) + 34.0 * view.transfers.len() as f32;
    let history_height = (ui.available_height() - below).max(140.0);
    theme::pane().show(ui, |ui| {
        egui::ScrollArea::vertical()
            .max_height(history_height)
            .min_scrolled_height(history_height)
            .auto_shrink([false, false])
            .stick_to_bottom(true)
            .id_salt(("lines", view.id.0))
            .show(ui, |ui| {
                for line in &view.lines {
                    history_line(ui, line, graphics, timestamps);
                }
            });
    });
    ui.label(RichText::new(view.typing_line(now).unwrap_or_default()).small().color(theme::MUTED));
    transfers(app, ui, view);
    if view.ended {
        ui.label(RichText::new("This conversation has ended.").color(theme::MUTED));
        return;
    }
    compose(app, ui, view, now);
}

fn history_line(ui: &mut egui::Ui, line: &ChatLine, graphics: bool, timestamps: bool) {
    match line {
        ChatLine::Text { from, text, format, at, .. } => {
            let stamp =
                if timestamps { format!(" ({:02}:{:02})", at.hour(), at.minute()) } else { String::new() };
            ui.label(RichText::new(format!("{from} says{stamp}:")).color(theme::MUTED));
            ui.horizontal_wrapped(|ui| {
                ui.add_space(12.0);
                rich_text(ui, text, graphics, |piece| formatted(piece, format));
            });
        }
        ChatLine::Note { text, .. } => {
            ui.label(RichText::new(format!("• {text}")).italics().color(theme::MUTED));
        }
    }
}

/// Text with its emoticon codes drawn as pictures (when `graphics`), in a wrapping row.
fn rich_text(ui: &mut egui::Ui, text: &str, graphics: bool, style: impl Fn(&str) -> RichText) {
    ui.spacing_mut().item_spacing.x = 0.0;
    if !graphics {
        ui.label(style(text));
        return;
    }
    for token in tokenize(text) {
        match token {
            Token::Text(piece) => {
                ui.label(style(piece));
            }
            Token::Emoticon { emoticon, code } => {
                pictures::emoticon(ui, emoticon, code, EMOTICON);
            }
        }
    }
}

/// A message in its sender's font: colour, bold, italic; monospace fonts stay monospace.
fn formatted(text: &str, format: &TextFormat) -> RichText {
    let mut rich = RichText::new(text).size(14.0);
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

/// The emoticon menu, the message box and Send.
fn compose(app: &mut MessengerApp, ui: &mut egui::Ui, view: &mut ConversationView, now: OffsetDateTime) {
    let id = view.id;
    let label = ui
        .horizontal(|ui| {
            let label = ui.label(RichText::new("Message:").color(theme::MUTED));
            ui.add_space(8.0);
            emoticon_menu(ui, &mut view.draft);
            label
        })
        .inner;
    let mut send = false;
    ui.horizontal(|ui| {
        let edit = ui
            .add(
                egui::TextEdit::multiline(&mut view.draft)
                    .desired_rows(3)
                    .desired_width(ui.available_width() - 76.0),
            )
            .labelled_by(label.id);
        if edit.changed() && app.model.options.messages.send_typing && !view.draft.is_empty() {
            let due = view.typing_sent_at.is_none_or(|at| now - at > time::Duration::seconds(3));
            if due {
                view.typing_sent_at = Some(now);
                app.send(Intent::SendTyping(id));
            }
        }
        let enter = edit.has_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter) && !i.modifiers.shift);
        let button = theme::primary_button("Send").min_size(egui::vec2(64.0, 52.0));
        send = ui.add(button).clicked() || enter;
    });
    if send {
        let text = view.draft.trim().to_string();
        view.draft.clear();
        view.typing_sent_at = None;
        if !text.is_empty() {
            let format = outgoing_format(&app.model.options);
            app.model.record_sent_in(view, &text, format.clone());
            app.send(Intent::SendText { conversation: id, text, format });
        }
    }
}

/// A smiley button with every emoticon; a click types its code into the message.
fn emoticon_menu(ui: &mut egui::Ui, draft: &mut String) {
    ui.menu_button("Emoticons", |ui| {
        egui::Grid::new("emoticons").spacing([2.0, 2.0]).show(ui, |ui| {
            for (i, emoticon) in Emoticon::ALL.into_iter().enumerate() {
                if emoticon_button(ui, emoticon).clicked() {
                    if !draft.is_empty() && !draft.ends_with(' ') {
                        draft.push(' ');
                    }
                    draft.push_str(emoticon.code());
                    draft.push(' ');
                    ui.close();
                }
                if i % 5 == 4 {
                    ui.end_row();
                }
            }
        });
    });
}

fn emoticon_button(ui: &mut egui::Ui, emoticon: Emoticon) -> egui::Response {
    let (rect, response) = ui.allocate_exact_size(egui::vec2(28.0, 28.0), egui::Sense::click());
    let label = format!("Insert {}", emoticon.name());
    response.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Button, true, &label));
    if response.hovered() {
        ui.painter().rect_filled(rect, 5.0, Color32::from_rgb(0xFD, 0xE7, 0xC6));
    }
    ui.painter().extend(pictures::emoticon_shapes(rect.shrink(4.0), emoticon));
    response.on_hover_text(format!("{} {}", emoticon.name(), emoticon.code()))
}

/// Their picture at the top, yours level with the message box.
fn display_pictures(app: &MessengerApp, ui: &mut egui::Ui, view: &ConversationView, height: f32) {
    let state = app.model.state.as_ref();
    let mut used = 0.0;
    match view.participants.as_slice() {
        [] => {
            let who = view.invited.as_deref().unwrap_or("someone");
            pictures::buddy_picture(ui, who, None, PICTURE);
            used += PICTURE;
        }
        [only] => {
            let status = state
                .and_then(|s| s.contact(only.user_id))
                .and_then(|c| c.presence.as_ref())
                .map(|p| p.status);
            pictures::buddy_picture(ui, &only.display_name, status, PICTURE);
            used += PICTURE;
        }
        many => {
            for participant in many.iter().take(4) {
                let status = state
                    .and_then(|s| s.contact(participant.user_id))
                    .and_then(|c| c.presence.as_ref())
                    .map(|p| p.status);
                pictures::buddy_picture(ui, &participant.display_name, status, 44.0);
                used += 44.0 + ui.spacing().item_spacing.y;
            }
        }
    }
    let Some(state) = state else { return };
    ui.add_space((height - used - PICTURE - 6.0).max(8.0));
    let mine = PresenceStatus::from_code(state.status.code());
    pictures::buddy_picture(ui, &state.account.display_name, mine, PICTURE);
}

fn transfers(app: &mut MessengerApp, ui: &mut egui::Ui, view: &mut ConversationView) {
    let folder = app.model.options.files.receive_folder.clone();
    for transfer in &view.transfers {
        theme::card().show(ui, |ui| {
            ui.horizontal(|ui| {
                pictures::file_icon(ui);
                ui.label(RichText::new(&transfer.name).strong());
                ui.label(RichText::new(human_size(transfer.size)).color(theme::MUTED));
                match &transfer.state {
                    TransferState::Offered => {
                        if ui.add(theme::primary_button(&format!("Accept {}", transfer.name))).clicked() {
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
                            egui::ProgressBar::new(transfer.fraction())
                                .show_percentage()
                                .fill(theme::CARAMEL)
                                .desired_width(140.0),
                        );
                        if ui.button("Cancel").clicked() {
                            app.send(Intent::CancelTransfer {
                                conversation: view.id,
                                transfer_id: transfer.id.clone(),
                            });
                        }
                    }
                    TransferState::Done { path } => {
                        ui.label(RichText::new("done").color(theme::COFFEE));
                        if let Some(path) = path {
                            let folder =
                                path.parent().map(|p| p.to_path_buf()).unwrap_or_else(|| folder.clone());
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
                        ui.colored_label(theme::DANGER, format!("failed: {reason}"));
                    }
                }
            });
        });
    }
}

/// The app's own picker: a folder's files and folders, places, a name box, Send.
fn picker_window(app: &mut MessengerApp, ctx: &egui::Context, view: &mut ConversationView, index: usize) {
    let Some(mut picker) = view.picker.take() else { return };
    let who = view.participants.first().map(|p| p.display_name.clone()).or_else(|| view.invited.clone());
    let title = match who {
        Some(who) => format!("Send a file to {who}"),
        None => "Send a file".to_string(),
    };
    let spec = WindowSpec {
        viewport: egui::ViewportId::from_hash_of(("file-picker", view.id.0)),
        title,
        size: [460.0, 420.0],
        embedded_pos: egui::pos2(480.0 + 24.0 * index as f32, 90.0 + 24.0 * index as f32),
    };
    let mut step = PickerStep::Stay;
    let mut done = false;
    let places = app.model.places.clone();
    let open = own_window(ctx, spec, None, |ui, _| {
        (step, done) = picker_contents(ui, &mut picker, &places);
    });
    match step {
        PickerStep::List(folder) => app.send(Intent::ListFolder(folder)),
        PickerStep::Send(path) => {
            app.model.last_pick_folder = Some(picker.folder.clone());
            app.send(Intent::SendFile { conversation: view.id, path });
            done = true;
        }
        PickerStep::Stay => {}
    }
    if open && !done {
        view.picker = Some(picker);
    }
}

/// The picker's contents; returns what to do and whether it closes.
fn picker_contents(
    ui: &mut egui::Ui,
    picker: &mut FilePicker,
    places: &[(String, std::path::PathBuf)],
) -> (PickerStep, bool) {
    let mut step = PickerStep::Stay;
    ui.horizontal(|ui| {
        let label = ui.label("Look in:");
        let field = ui
            .add(
                egui::TextEdit::singleline(&mut picker.folder_draft)
                    .desired_width(ui.available_width() - 90.0),
            )
            .labelled_by(label.id);
        let entered = field.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
        if ui.button("Go").clicked() || entered {
            step = picker.go_to(picker.folder_draft.trim().into());
        }
        if ui.button("Up").on_hover_text("The folder above").clicked() {
            step = picker.up();
        }
    });
    if !places.is_empty() {
        ui.horizontal_wrapped(|ui| {
            for (name, path) in places {
                if ui.small_button(name).clicked() {
                    step = picker.go_to(path.clone());
                }
            }
        });
    }
    let list_height = (ui.available_height() - 92.0).max(120.0);
    let mut clicked = None;
    theme::pane().show(ui, |ui| {
        egui::ScrollArea::vertical()
            .max_height(list_height)
            .min_scrolled_height(list_height)
            .auto_shrink([false, false])
            .show(ui, |ui| match &picker.listing {
                None => {
                    ui.horizontal(|ui| {
                        ui.spinner();
                        ui.label("Looking in the folder…");
                    });
                }
                Some(Err(reason)) => {
                    ui.colored_label(theme::DANGER, reason);
                }
                Some(Ok(listing)) => {
                    if listing.entries.is_empty() {
                        ui.label(RichText::new("This folder is empty.").color(theme::MUTED));
                    }
                    for entry in &listing.entries {
                        let row = ui.horizontal(|ui| {
                            if entry.folder {
                                pictures::folder_icon(ui);
                            } else {
                                pictures::file_icon(ui);
                            }
                            let chosen = !entry.folder && picker.file_name == entry.name;
                            let name = ui.selectable_label(chosen, &entry.name);
                            if !entry.folder {
                                ui.label(RichText::new(human_size(entry.size)).small().color(theme::MUTED));
                            }
                            name
                        });
                        let name = row.inner;
                        if name.clicked() {
                            clicked = Some((entry.clone(), false));
                        }
                        if name.double_clicked() {
                            clicked = Some((entry.clone(), true));
                        }
                    }
                    if listing.left_out > 0 {
                        ui.label(
                            RichText::new(format!("…and {} more not shown.", listing.left_out))
                                .color(theme::MUTED),
                        );
                    }
                }
            });
    });
    let mut confirm = false;
    if let Some((entry, twice)) = clicked {
        step = picker.pick(&entry);
        confirm = twice && !entry.folder;
    }
    ui.horizontal(|ui| {
        let label = ui.label("File name:");
        ui.add(egui::TextEdit::singleline(&mut picker.file_name).desired_width(ui.available_width() - 8.0))
            .labelled_by(label.id);
    });
    let mut close = false;
    ui.horizontal(|ui| {
        confirm |= ui.add(theme::primary_button("Send file")).clicked();
        close = ui.button("Cancel").clicked();
        if let Some(chosen) = picker.chosen() {
            ui.label(
                RichText::new(format!("{} ({})", chosen.name, human_size(chosen.size))).color(theme::MUTED),
            );
        }
    });
    if confirm {
        match picker.confirm() {
            Ok(next) => step = next,
            Err(problem) => picker.problem = Some(problem),
        }
    }
    if let Some(problem) = &picker.problem {
        ui.colored_label(theme::DANGER, problem);
    }
    (step, close)
}
