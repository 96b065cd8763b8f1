//! The call window, an OS window of its own like the conversations: the other side's
//! video large and your own preview small in its corner (or, with their camera off,
//! their picture, name and status), how long the call has lasted, the signal bars and
//! what they mean, the devices that failed, and Accept / Decline while it rings, then
//! Mute, Camera, Hang up and the volume. Closing the window hangs up. Layout only: the
//! call's state is in [`crate::call`] and the model.

use eframe::egui::{self, Color32, RichText};
use mocha_client::api::PresenceStatus;
use mocha_client::media::video::Frame;

use crate::app::MessengerApp;
use crate::call::{CallKind, CallPhase, CallSession, Signal};
use crate::call_media::Pictures;
use crate::intent::Intent;
use crate::model::presence_label;
use crate::pictures;
use crate::theme;
use crate::windows::{WindowSpec, own_window};

/// Pictures are shown at most this wide: more is not seen in the window and costs time.
const MAX_SHOWN_WIDTH: u32 = 640;
/// Your own preview's width.
const PREVIEW_WIDTH: f32 = 150.0;
/// A video with no new picture for this long is taken as stopped (their camera went
/// off, or the line dropped it): their picture and name are shown instead.
const STILL_AFTER: std::time::Duration = std::time::Duration::from_millis(1500);

/// One video's texture: the picture count it shows and when that last changed.
struct Shown {
    count: u64,
    texture: egui::TextureHandle,
    changed: std::time::Instant,
}

/// The textures the window's two videos are drawn from.
#[derive(Default)]
pub struct CallTextures {
    theirs: Option<Shown>,
    mine: Option<Shown>,
}

/// What a press in the window asks for; carried out once the window is drawn.
enum Action {
    Accept { video: bool },
    Decline,
    HangUp,
    Mute(bool),
    Camera(bool),
}

/// The call's window, while there is a call.
pub fn show(app: &mut MessengerApp, ctx: &egui::Context) {
    let Some(session) = app.model.call.clone() else {
        app.dialogs.call_textures = CallTextures::default();
        return;
    };
    let title = match session.view.kind {
        CallKind::Voice => format!("Call with {}", session.view.other),
        CallKind::Video => format!("Video call with {}", session.view.other),
    };
    let spec = WindowSpec::new("call", &title, [520.0, 560.0], [1070.0, 40.0]);
    let mut action = None;
    let open = own_window(ctx, spec, None, |ui, native| {
        if native {
            app.note_activity(ui.ctx());
        }
        action = window(app, ui, &session);
    });
    if !open {
        action = Some(if session.is_ringing_here() { Action::Decline } else { Action::HangUp });
    }
    // The clock and the statistics move on their own.
    ctx.request_repaint_after(std::time::Duration::from_millis(250));
    match action {
        Some(Action::Accept { video }) => app.model.accept_call(video),
        Some(Action::Decline) => app.model.decline_call(),
        Some(Action::HangUp) => app.model.hang_up(),
        Some(Action::Mute(muted)) => {
            if let Some(call) = &mut app.model.call {
                call.view.muted = muted;
            }
            app.send(Intent::MuteCall(muted));
        }
        Some(Action::Camera(on)) => {
            if let Some(call) = &mut app.model.call {
                call.view.camera_on = on;
            }
            app.send(Intent::CallCamera(on));
        }
        None => {}
    }
}

fn window(app: &mut MessengerApp, ui: &mut egui::Ui, session: &CallSession) -> Option<Action> {
    let view = &session.view;
    let presence = app
        .model
        .state
        .as_ref()
        .and_then(|s| s.contact(session.other_id))
        .map(|c| c.presence.as_ref().map(|p| p.status));
    let presence = presence.flatten();
    theme::band(ui, |ui| {
        ui.horizontal(|ui| {
            pictures::buddy_icon(ui, presence);
            ui.vertical(|ui| {
                ui.label(theme::on_band(&view.other).size(17.0).strong());
                ui.label(theme::on_band_muted(view.status_line()));
            });
            ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| pictures::logo(ui, 30.0));
        });
    });
    ui.add_space(6.0);
    videos(app, ui, session, presence);
    ui.add_space(4.0);
    if let Some(link) = &view.link {
        ui.horizontal(|ui| {
            signal_bars(ui, link.signal());
            ui.label(RichText::new(link.describe()).small().color(theme::MUTED));
        });
    }
    if session.peer_muted {
        ui.label(RichText::new(format!("{} muted their microphone.", view.other)).color(theme::MUTED));
    }
    for problem in &view.device_problems {
        ui.label(RichText::new(problem).color(theme::DANGER));
    }
    ui.add_space(6.0);
    let mut action = None;
    if session.is_ringing_here() {
        ui.horizontal(|ui| {
            if ui.add(theme::primary_button("Accept")).clicked() {
                action = Some(Action::Accept { video: false });
            }
            if ui.add(theme::primary_button("Accept with video")).clicked() {
                action = Some(Action::Accept { video: true });
            }
            if ui.button("Decline").clicked() {
                action = Some(Action::Decline);
            }
        });
        return action;
    }
    let ended = matches!(view.phase, CallPhase::Ended(_));
    ui.add_enabled_ui(!ended, |ui| {
        ui.horizontal(|ui| {
            let mute = if view.muted { "Unmute" } else { "Mute" };
            if ui.button(mute).clicked() {
                action = Some(Action::Mute(!view.muted));
            }
            let camera = if view.camera_on { "Turn camera off" } else { "Turn camera on" };
            if ui.button(camera).clicked() {
                action = Some(Action::Camera(!view.camera_on));
            }
            let hang_up =
                egui::Button::new(RichText::new("Hang up").color(Color32::WHITE)).fill(theme::DANGER);
            if ui.add(hang_up).clicked() {
                action = Some(Action::HangUp);
            }
        });
        ui.horizontal(|ui| {
            let label = ui.label("Volume:");
            let mut level = session.volume.get();
            let slider =
                ui.add(egui::Slider::new(&mut level, 0.0..=1.0).show_value(false)).labelled_by(label.id);
            if slider.changed() {
                session.volume.set(level);
            }
        });
    });
    action
}

/// Their video filling the width with your preview in its corner; their picture, name
/// and status when their camera is off.
fn videos(
    app: &mut MessengerApp,
    ui: &mut egui::Ui,
    session: &CallSession,
    presence: Option<PresenceStatus>,
) {
    let view = &session.view;
    let textures = &mut app.dialogs.call_textures;
    // Their video is shown while it moves (whatever their camera state message said).
    let theirs = texture(ui.ctx(), &mut textures.theirs, &session.pictures.theirs, "theirs");
    let mine =
        texture(ui.ctx(), &mut textures.mine, &session.pictures.mine, "mine").filter(|_| view.camera_on);
    let width = ui.available_width();
    let height = (width * 0.75).min((ui.available_height() - 110.0).max(160.0));
    let (area, _) = ui.allocate_exact_size(egui::vec2(width, height), egui::Sense::hover());
    ui.painter().rect_filled(area, 6.0, theme::ESPRESSO);
    match &theirs {
        Some(texture) => {
            let shown = fit(texture.size_vec2(), area);
            let label = format!("{}'s video", view.other);
            ui.put(shown, egui::Image::new(texture).fit_to_exact_size(shown.size()).alt_text(label));
        }
        None => {
            let side = (height * 0.5).min(150.0);
            let top = area.center() - egui::vec2(side / 2.0, side / 2.0 + 24.0);
            let picture = egui::Rect::from_min_size(top, egui::vec2(side, side));
            ui.scope_builder(egui::UiBuilder::new().max_rect(picture), |ui| {
                pictures::buddy_picture(ui, &view.other, presence, side);
            });
            let camera =
                if view.kind == CallKind::Video || session.peer_camera { "camera off" } else { "voice call" };
            let line = format!("{} ({}) · {camera}", view.other, presence_label(presence));
            let under = egui::Rect::from_center_size(
                egui::pos2(area.center().x, picture.bottom() + 18.0),
                egui::vec2(width, 20.0),
            );
            ui.put(under, egui::Label::new(RichText::new(line).color(theme::CREAM)));
        }
    }
    if let Some(texture) = &mine {
        let size = texture.size_vec2() * (PREVIEW_WIDTH / texture.size_vec2().x.max(1.0));
        let corner = egui::Rect::from_min_size(area.right_bottom() - size - egui::vec2(8.0, 8.0), size);
        ui.painter().rect_stroke(
            corner.expand(2.0),
            3.0,
            egui::Stroke::new(2.0, theme::CREAM),
            egui::StrokeKind::Outside,
        );
        ui.put(corner, egui::Image::new(texture).fit_to_exact_size(size).alt_text("Your video"));
    }
}

/// The newest picture of `pictures` as a texture (uploaded again only when it changed);
/// `None` while there is none or it stands still.
fn texture(
    ctx: &egui::Context,
    slot: &mut Option<Shown>,
    pictures: &Pictures,
    name: &str,
) -> Option<egui::TextureHandle> {
    let shown = slot.as_ref().map_or(0, |shown| shown.count);
    if pictures.count() != shown
        && let Some((count, frame)) = pictures.latest()
    {
        let image = color_image(&frame, MAX_SHOWN_WIDTH);
        let changed = std::time::Instant::now();
        match slot {
            Some(shown) => {
                shown.texture.set(image, egui::TextureOptions::LINEAR);
                (shown.count, shown.changed) = (count, changed);
            }
            None => {
                let texture = ctx.load_texture(format!("call-{name}"), image, egui::TextureOptions::LINEAR);
                *slot = Some(Shown { count, texture, changed });
            }
        }
    }
    slot.as_ref().filter(|shown| shown.changed.elapsed() < STILL_AFTER).map(|shown| shown.texture.clone())
}

/// The largest rectangle of `size`'s shape inside `area`, centred.
fn fit(size: egui::Vec2, area: egui::Rect) -> egui::Rect {
    let scale = (area.width() / size.x.max(1.0)).min(area.height() / size.y.max(1.0));
    egui::Rect::from_center_size(area.center(), size * scale)
}

/// Four bars, as many lit as the signal is good.
fn signal_bars(ui: &mut egui::Ui, signal: Signal) {
    let (rect, response) = ui.allocate_exact_size(egui::vec2(26.0, 16.0), egui::Sense::hover());
    let label = format!("Signal: {} of 4 bars", signal as u8);
    response.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Label, true, &label));
    let lit = match signal {
        Signal::Excellent | Signal::Good => theme::ONLINE,
        Signal::Fair => theme::CARAMEL,
        Signal::Poor => theme::DANGER,
    };
    for bar in 0..4u8 {
        let height = 4.0 + 3.0 * f32::from(bar);
        let x = rect.left() + 6.5 * f32::from(bar);
        let bar_rect = egui::Rect::from_min_max(
            egui::pos2(x, rect.bottom() - height),
            egui::pos2(x + 4.5, rect.bottom()),
        );
        let colour = if bar < signal as u8 { lit } else { theme::LATTE };
        ui.painter().rect_filled(bar_rect, 1.0, colour);
    }
}

/// An I420 picture as RGBA (BT.601, studio range, as cameras and H.264 give it), every
/// `step`-th pixel so it is at most `max_width` wide.
pub fn color_image(frame: &Frame, max_width: u32) -> egui::ColorImage {
    let (width, height) = (frame.width() as usize, frame.height() as usize);
    let step = (width as u32).div_ceil(max_width.max(1)).max(1) as usize;
    let (out_w, out_h) = (width.div_ceil(step), height.div_ceil(step));
    let (y, u, v) = (frame.y(), frame.u(), frame.v());
    let mut pixels = Vec::with_capacity(out_w * out_h);
    for row in (0..height).step_by(step) {
        for col in (0..width).step_by(step) {
            let luma = 1.164 * (f32::from(y[row * width + col]) - 16.0);
            let chroma = (row / 2) * (width / 2) + col / 2;
            let (cb, cr) = (f32::from(u[chroma]) - 128.0, f32::from(v[chroma]) - 128.0);
            let channel = |value: f32| value.round().clamp(0.0, 255.0) as u8;
            pixels.push(Color32::from_rgb(
                channel(luma + 1.596 * cr),
                channel(luma - 0.392 * cb - 0.813 * cr),
                channel(luma + 2.017 * cb),
            ));
        }
    }
    egui::ColorImage::new([out_w, out_h], pixels)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flat(width: u32, height: u32, y: u8, u: u8, v: u8) -> Frame {
        let luma = (width * height) as usize;
        Frame::new(width, height, vec![y; luma], vec![u; luma / 4], vec![v; luma / 4], 0).unwrap()
    }

    #[test]
    fn studio_range_black_white_and_red_come_out_as_themselves() {
        let black = color_image(&flat(16, 16, 16, 128, 128), 640);
        assert_eq!(black.size, [16, 16]);
        assert!(black.pixels.iter().all(|p| *p == Color32::BLACK));
        let white = color_image(&flat(16, 16, 235, 128, 128), 640);
        assert!(white.pixels.iter().all(|p| *p == Color32::WHITE));
        // BT.601 red: Y 81, Cb 90, Cr 240.
        let red = color_image(&flat(16, 16, 81, 90, 240), 640).pixels[0];
        assert!(red.r() > 250 && red.g() < 5 && red.b() < 5, "{red:?}");
    }

    #[test]
    fn big_pictures_are_thinned_to_the_width_shown() {
        let image = color_image(&flat(1920, 1080, 100, 128, 128), 640);
        assert_eq!(image.size, [640, 360]);
    }
}
