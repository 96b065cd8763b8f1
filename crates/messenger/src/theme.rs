//! The look, shared with the websites (`crates/web/assets/mocha.css`): the warm coffee
//! palette, cream panes with latte borders, an espresso-to-coffee band with a caramel
//! rule atop each window, caramel buttons for the main action. Only styling lives here;
//! the pictures are in [`crate::pictures`], the layout in [`crate::app`] and
//! [`crate::windows`].

use eframe::egui::{self, Color32, CornerRadius, Rect, RichText, Shape, Stroke, epaint::Mesh, pos2, vec2};

/// The websites' palette (the CSS custom properties of the same names).
pub const ESPRESSO: Color32 = Color32::from_rgb(0x5B, 0x2D, 0x15);
pub const COFFEE: Color32 = Color32::from_rgb(0xA0, 0x56, 0x2F);
/// The masthead's lighter top (`#8a4523` in the site's gradient).
pub const ROAST: Color32 = Color32::from_rgb(0x8A, 0x45, 0x23);
pub const CARAMEL: Color32 = Color32::from_rgb(0xF5, 0xA0, 0x3A);
pub const CARAMEL_DARK: Color32 = Color32::from_rgb(0xD9, 0x7F, 0x18);
pub const CREAM: Color32 = Color32::from_rgb(0xFF, 0xF8, 0xEE);
pub const FOAM: Color32 = Color32::from_rgb(0xF7, 0xEA, 0xD8);
pub const LATTE: Color32 = Color32::from_rgb(0xE9, 0xC9, 0xA4);
pub const ONLINE: Color32 = Color32::from_rgb(0x7D, 0xBB, 0x4C);
pub const DANGER: Color32 = Color32::from_rgb(0xC0, 0x39, 0x2B);
/// Body text.
pub const INK: Color32 = Color32::from_rgb(0x3A, 0x24, 0x17);
pub const MUTED: Color32 = Color32::from_rgb(0x8A, 0x6A, 0x55);
/// Group headings and the sender line of messages.
pub const HEADING: Color32 = COFFEE;
/// Text fields (the site's inputs).
const FIELD: Color32 = Color32::from_rgb(0xFF, 0xFD, 0xF9);
const FIELD_BORDER: Color32 = Color32::from_rgb(0xD7, 0xB9, 0x99);
const BUTTON_BORDER: Color32 = Color32::from_rgb(0xB8, 0x65, 0x0F);
/// The caramel rule under the band, in points.
const RULE: f32 = 3.0;

/// Sets the visuals and spacing for the whole app.
pub fn apply(ctx: &egui::Context) {
    let mut visuals = egui::Visuals::light();
    visuals.panel_fill = FOAM;
    visuals.window_fill = CREAM;
    visuals.window_stroke = Stroke::new(1.0, LATTE);
    visuals.window_corner_radius = CornerRadius::same(10);
    visuals.extreme_bg_color = FIELD;
    visuals.text_edit_bg_color = Some(FIELD);
    visuals.faint_bg_color = Color32::from_rgb(0xFD, 0xF3, 0xE6);
    visuals.code_bg_color = FOAM;
    visuals.hyperlink_color = COFFEE;
    visuals.warn_fg_color = CARAMEL_DARK;
    visuals.error_fg_color = DANGER;
    visuals.selection.bg_fill = Color32::from_rgb(0xFB, 0xD9, 0xA8);
    visuals.selection.stroke = Stroke::new(1.0, ESPRESSO);
    visuals.text_cursor.stroke = Stroke::new(2.0, ESPRESSO);
    let widgets = &mut visuals.widgets;
    widgets.noninteractive.bg_stroke = Stroke::new(1.0, LATTE);
    widgets.noninteractive.fg_stroke = Stroke::new(1.0, INK);
    for (state, fill, border, text) in [
        (&mut widgets.inactive, Color32::from_rgb(0xFF, 0xFA, 0xF2), FIELD_BORDER, INK),
        (&mut widgets.hovered, Color32::from_rgb(0xFD, 0xE7, 0xC6), CARAMEL_DARK, ESPRESSO),
        (&mut widgets.active, CARAMEL, BUTTON_BORDER, ESPRESSO),
        (&mut widgets.open, Color32::from_rgb(0xFD, 0xE7, 0xC6), CARAMEL_DARK, ESPRESSO),
    ] {
        state.corner_radius = CornerRadius::same(6);
        state.weak_bg_fill = fill;
        state.bg_fill = fill;
        state.bg_stroke = Stroke::new(1.0, border);
        state.fg_stroke = Stroke::new(1.0, text);
    }
    ctx.set_visuals(visuals);
    ctx.global_style_mut(|style| {
        style.spacing.item_spacing = vec2(6.0, 5.0);
        style.spacing.button_padding = vec2(9.0, 3.0);
    });
}

/// A cream pane with a latte border, like the site's "messenger windows".
pub fn pane() -> egui::Frame {
    egui::Frame::new()
        .fill(Color32::WHITE)
        .stroke(Stroke::new(1.0, LATTE))
        .corner_radius(CornerRadius::same(8))
        .inner_margin(egui::Margin::same(8))
}

/// A quieter box on the window background (requests, banners, a transfer).
pub fn card() -> egui::Frame {
    egui::Frame::new()
        .fill(CREAM)
        .stroke(Stroke::new(1.0, LATTE))
        .corner_radius(CornerRadius::same(8))
        .inner_margin(egui::Margin::symmetric(8, 5))
}

/// The main action of a window ("Sign in", "Send"): a caramel pill, as on the site.
pub fn primary_button(text: &str) -> egui::Button<'static> {
    egui::Button::new(RichText::new(text).strong().color(ESPRESSO))
        .fill(CARAMEL)
        .stroke(Stroke::new(1.0, BUTTON_BORDER))
        .corner_radius(CornerRadius::same(14))
}

/// Text on the band.
pub fn on_band(text: impl Into<String>) -> RichText {
    RichText::new(text).color(CREAM)
}

/// Quieter text on the band.
pub fn on_band_muted(text: impl Into<String>) -> RichText {
    RichText::new(text).color(LATTE)
}

/// The espresso band across the top of a window with its caramel rule, and room for
/// what `add` puts on it.
pub fn band<R>(ui: &mut egui::Ui, add: impl FnOnce(&mut egui::Ui) -> R) -> R {
    // The gradient is drawn behind what `add` puts on it, in a slot reserved first.
    let background = ui.painter().add(Shape::Noop);
    let frame = egui::Frame::new().inner_margin(egui::Margin { left: 10, right: 10, top: 8, bottom: 11 });
    let mut prepared = frame.begin(ui);
    let inner = add(&mut prepared.content_ui);
    let rect = prepared.content_ui.min_rect().expand2(vec2(10.0, 8.0));
    let rect = Rect::from_min_max(rect.min, pos2(ui.max_rect().right(), rect.max.y));
    let rule = Rect::from_min_max(pos2(rect.left(), rect.bottom()), pos2(rect.right(), rect.bottom() + RULE));
    let shapes = vec![gradient(rect), Shape::rect_filled(rule, CornerRadius::ZERO, CARAMEL)];
    ui.painter().set(background, Shape::Vec(shapes));
    prepared.end(ui);
    inner
}

/// The site's masthead: roast at the top left, espresso below, coffee towards the right.
fn gradient(rect: Rect) -> Shape {
    let mut mesh = Mesh::default();
    let bottom_right = ESPRESSO.lerp_to_gamma(COFFEE, 0.45);
    for (pos, colour) in [
        (rect.left_top(), ROAST),
        (rect.right_top(), COFFEE),
        (rect.right_bottom(), bottom_right),
        (rect.left_bottom(), ESPRESSO),
    ] {
        mesh.colored_vertex(pos, colour);
    }
    mesh.add_triangle(0, 1, 2);
    mesh.add_triangle(0, 2, 3);
    Shape::mesh(mesh)
}

/// A group heading in the contact list ("Online (2)").
pub fn group_heading(text: &str) -> RichText {
    RichText::new(text).strong().color(HEADING)
}

/// Draws a thin separator line in the pane colour.
pub fn rule(ui: &mut egui::Ui) {
    let y = ui.cursor().top() + 2.0;
    let x = ui.max_rect().x_range();
    ui.painter().hline(x, y, Stroke::new(1.0, LATTE));
    ui.add_space(5.0);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The palette is the website's: the same hex values as `mocha.css`.
    #[test]
    fn the_palette_is_the_websites() {
        let css = include_str!("../../web/assets/mocha.css");
        for (name, colour) in [
            ("espresso", ESPRESSO),
            ("coffee", COFFEE),
            ("caramel", CARAMEL),
            ("caramel-dark", CARAMEL_DARK),
            ("cream", CREAM),
            ("foam", FOAM),
            ("latte", LATTE),
            ("online", ONLINE),
            ("danger", DANGER),
            ("ink", INK),
            ("muted", MUTED),
        ] {
            let hex = format!("--{name}: #{:02x}{:02x}{:02x};", colour.r(), colour.g(), colour.b());
            assert!(css.contains(&hex), "mocha.css has no {hex}");
        }
    }
}
