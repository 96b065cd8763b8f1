//! The classic-messenger look: a light blue window with white panes, a blue gradient
//! band at the top of each window, "buddy" presence icons and initials avatars. Only
//! drawing lives here; the layout is in [`crate::app`] and [`crate::windows`].

use eframe::egui::{
    self, Color32, CornerRadius, FontId, Rect, Shape, Stroke, Vec2, epaint::Mesh, pos2, vec2,
};
use mocha_client::api::PresenceStatus;

/// The window background behind the white panes.
pub const WINDOW_BLUE: Color32 = Color32::from_rgb(0xE4, 0xEE, 0xFA);
/// The gradient band's two ends.
pub const BAND_DARK: Color32 = Color32::from_rgb(0x1F, 0x5C, 0xA8);
pub const BAND_LIGHT: Color32 = Color32::from_rgb(0x7F, 0xB4, 0xE8);
/// Group headings, the sender line of messages.
pub const HEADING_BLUE: Color32 = Color32::from_rgb(0x1F, 0x4E, 0x8C);
pub const PANE_BORDER: Color32 = Color32::from_rgb(0xA9, 0xC3, 0xE3);
pub const MUTED: Color32 = Color32::from_rgb(0x6B, 0x76, 0x85);

/// Sets the visuals and spacing for the whole app.
pub fn apply(ctx: &egui::Context) {
    let mut visuals = egui::Visuals::light();
    visuals.panel_fill = WINDOW_BLUE;
    visuals.window_fill = Color32::WHITE;
    visuals.window_stroke = Stroke::new(1.0, PANE_BORDER);
    visuals.window_corner_radius = CornerRadius::same(8);
    visuals.extreme_bg_color = Color32::WHITE;
    visuals.faint_bg_color = Color32::from_rgb(0xF2, 0xF7, 0xFD);
    visuals.hyperlink_color = HEADING_BLUE;
    visuals.selection.bg_fill = Color32::from_rgb(0xC5, 0xDD, 0xF7);
    visuals.selection.stroke = Stroke::new(1.0, HEADING_BLUE);
    let widgets = &mut visuals.widgets;
    for (state, fill) in [
        (&mut widgets.inactive, Color32::from_rgb(0xF4, 0xF8, 0xFD)),
        (&mut widgets.hovered, Color32::from_rgb(0xDD, 0xEB, 0xFA)),
        (&mut widgets.active, Color32::from_rgb(0xC5, 0xDD, 0xF7)),
        (&mut widgets.open, Color32::from_rgb(0xDD, 0xEB, 0xFA)),
    ] {
        state.corner_radius = CornerRadius::same(4);
        state.weak_bg_fill = fill;
        state.bg_fill = fill;
    }
    widgets.inactive.bg_stroke = Stroke::new(1.0, PANE_BORDER);
    widgets.hovered.bg_stroke = Stroke::new(1.0, Color32::from_rgb(0x5B, 0x9B, 0xE0));
    ctx.set_visuals(visuals);
    ctx.global_style_mut(|style| {
        style.spacing.item_spacing = vec2(6.0, 5.0);
        style.spacing.button_padding = vec2(8.0, 3.0);
    });
}

/// A white pane with a thin blue border, like the classic list and history boxes.
pub fn pane() -> egui::Frame {
    egui::Frame::new()
        .fill(Color32::WHITE)
        .stroke(Stroke::new(1.0, PANE_BORDER))
        .corner_radius(CornerRadius::same(6))
        .inner_margin(egui::Margin::same(8))
}

/// The blue band across the top of a window, with room for what `add` puts on it.
pub fn band<R>(ui: &mut egui::Ui, add: impl FnOnce(&mut egui::Ui) -> R) -> R {
    // The gradient is drawn behind what `add` puts on it, in a slot reserved first.
    let background = ui.painter().add(Shape::Noop);
    let frame = egui::Frame::new().inner_margin(egui::Margin::symmetric(10, 8));
    let mut prepared = frame.begin(ui);
    let inner = add(&mut prepared.content_ui);
    let rect = prepared.content_ui.min_rect().expand2(vec2(10.0, 8.0));
    let rect = Rect::from_min_max(rect.min, pos2(ui.max_rect().right(), rect.max.y));
    ui.painter().set(background, horizontal_gradient(rect, BAND_DARK, BAND_LIGHT));
    prepared.end(ui);
    inner
}

fn horizontal_gradient(rect: Rect, left: Color32, right: Color32) -> Shape {
    let mut mesh = Mesh::default();
    for (pos, colour) in [
        (rect.left_top(), left),
        (rect.right_top(), right),
        (rect.right_bottom(), right),
        (rect.left_bottom(), left),
    ] {
        mesh.colored_vertex(pos, colour);
    }
    mesh.add_triangle(0, 1, 2);
    mesh.add_triangle(0, 2, 3);
    Shape::mesh(mesh)
}

/// The colour a presence shows in: green online, red busy, amber away, grey offline.
pub fn presence_colour(status: Option<PresenceStatus>) -> Color32 {
    match status {
        Some(PresenceStatus::Online) => Color32::from_rgb(0x2E, 0xA0, 0x3C),
        Some(PresenceStatus::Busy | PresenceStatus::OnThePhone) => Color32::from_rgb(0xD0, 0x33, 0x2B),
        Some(_) => Color32::from_rgb(0xE8, 0x9A, 0x0C),
        None => Color32::from_rgb(0x9A, 0xA3, 0xAE),
    }
}

/// The little "buddy" figure in front of a contact: head and shoulders in the presence
/// colour, with a badge for busy (a bar) and away (a clock hand).
pub fn buddy_icon(ui: &mut egui::Ui, status: Option<PresenceStatus>) -> egui::Response {
    let (rect, response) = ui.allocate_exact_size(vec2(18.0, 18.0), egui::Sense::hover());
    let painter = ui.painter();
    let colour = presence_colour(status);
    let outline = Stroke::new(1.0, colour.gamma_multiply(0.6));
    let head = rect.center_top() + vec2(0.0, 5.5);
    let body = Rect::from_center_size(rect.center_bottom() - vec2(0.0, 4.0), vec2(13.0, 8.0));
    let fill = if status.is_some() { colour } else { Color32::from_rgb(0xE3, 0xE7, 0xEC) };
    painter.rect(body, CornerRadius { nw: 6, ne: 6, sw: 2, se: 2 }, fill, outline, egui::StrokeKind::Inside);
    painter.circle(head, 4.2, fill, outline);
    let badge = rect.right_bottom() - vec2(3.5, 3.5);
    match status {
        Some(PresenceStatus::Busy | PresenceStatus::OnThePhone) => {
            painter.circle(badge, 3.5, Color32::WHITE, Stroke::new(1.0, colour));
            painter.line_segment([badge - vec2(2.0, 0.0), badge + vec2(2.0, 0.0)], Stroke::new(1.5, colour));
        }
        Some(PresenceStatus::Online) | None => {}
        Some(_) => {
            painter.circle(badge, 3.5, Color32::WHITE, Stroke::new(1.0, colour));
            painter.line_segment([badge, badge - vec2(0.0, 2.2)], Stroke::new(1.2, colour));
            painter.line_segment([badge, badge + vec2(1.8, 0.0)], Stroke::new(1.2, colour));
        }
    }
    response
}

/// A rounded square with the name's initials: the stand-in for a display picture,
/// framed in the presence colour as the classic client did.
pub fn avatar(ui: &mut egui::Ui, name: &str, status: Option<PresenceStatus>, size: f32) -> egui::Response {
    let (rect, response) = ui.allocate_exact_size(Vec2::splat(size), egui::Sense::hover());
    let painter = ui.painter();
    let frame = presence_colour(status);
    painter.rect_filled(rect, CornerRadius::same(6), frame);
    let inner = rect.shrink(3.0);
    painter.rect_filled(inner, CornerRadius::same(4), avatar_colour(name));
    painter.text(
        inner.center(),
        egui::Align2::CENTER_CENTER,
        initials(name),
        FontId::proportional(size * 0.38),
        Color32::WHITE,
    );
    response
}

/// Up to two letters: the first of the first two words.
pub fn initials(name: &str) -> String {
    let letters: String =
        name.split_whitespace().filter_map(|word| word.chars().next()).take(2).collect::<String>();
    if letters.is_empty() { "?".into() } else { letters.to_uppercase() }
}

/// A steady colour per name, from a small palette that keeps white text readable.
fn avatar_colour(name: &str) -> Color32 {
    const PALETTE: [Color32; 6] = [
        Color32::from_rgb(0x3B, 0x7D, 0xD8),
        Color32::from_rgb(0x8E, 0x5C, 0xC8),
        Color32::from_rgb(0x2C, 0x9C, 0x8F),
        Color32::from_rgb(0xD0, 0x6A, 0x2E),
        Color32::from_rgb(0xC2, 0x45, 0x7A),
        Color32::from_rgb(0x5A, 0x8F, 0x29),
    ];
    let sum = name.bytes().fold(0usize, |acc, b| acc.wrapping_mul(31).wrapping_add(usize::from(b)));
    PALETTE[sum % PALETTE.len()]
}

/// A group heading in the contact list ("Online (2)").
pub fn group_heading(text: &str) -> egui::RichText {
    egui::RichText::new(text).strong().color(HEADING_BLUE)
}

/// Draws a thin separator line in the pane colour.
pub fn rule(ui: &mut egui::Ui) {
    let y = ui.cursor().top() + 2.0;
    let x = ui.max_rect().x_range();
    ui.painter().hline(x, y, Stroke::new(1.0, PANE_BORDER));
    ui.add_space(5.0);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn initials_take_the_first_letters_of_two_words() {
        assert_eq!(initials("Alice Smith"), "AS");
        assert_eq!(initials("bob"), "B");
        assert_eq!(initials("  "), "?");
        assert_eq!(initials("Élodie de la Tour"), "ÉD");
    }

    #[test]
    fn presence_colours_tell_states_apart() {
        let colours = [
            presence_colour(Some(PresenceStatus::Online)),
            presence_colour(Some(PresenceStatus::Busy)),
            presence_colour(Some(PresenceStatus::Away)),
            presence_colour(None),
        ];
        for (i, a) in colours.iter().enumerate() {
            for b in &colours[i + 1..] {
                assert_ne!(a, b);
            }
        }
        assert_eq!(presence_colour(Some(PresenceStatus::OnThePhone)), colours[1]);
    }
}
