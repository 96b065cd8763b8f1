//! Everything the app paints rather than writes: the Mocha logo (the websites' cup and
//! speech bubble), buddy pictures in their presence frames, the little presence
//! figures, and the emoticon pictures. All of it is egui painter shapes, so there are no
//! image files to ship or decode, and it stays sharp at any size.

use std::f32::consts::{FRAC_PI_2, PI};

use eframe::egui::{
    self, Color32, CornerRadius, FontId, Painter, Pos2, Rect, Role, Shape, Stroke, Vec2, WidgetInfo,
    epaint::{CubicBezierShape, QuadraticBezierShape, RectShape},
    pos2, vec2,
};
use mocha_client::api::PresenceStatus;

use crate::emoticons::Emoticon;
use crate::theme::{CARAMEL, COFFEE, CREAM, ESPRESSO, LATTE};

/// Maps a picture's own coordinates (an SVG-like view box) onto a rectangle.
struct Canvas {
    shapes: Vec<Shape>,
    origin: Pos2,
    scale: f32,
    /// Picture coordinates of the view box's top left.
    offset: Vec2,
    /// Upside down (thumbs down is thumbs up turned over).
    flipped: Option<f32>,
}

impl Canvas {
    fn new(rect: Rect, view_box: Rect) -> Self {
        let scale = (rect.width() / view_box.width()).min(rect.height() / view_box.height());
        let used = view_box.size() * scale;
        let origin = rect.center() - used / 2.0;
        Self { shapes: Vec::new(), origin, scale, offset: view_box.min.to_vec2(), flipped: None }
    }

    fn p(&self, x: f32, y: f32) -> Pos2 {
        let y = match self.flipped {
            Some(height) => height - y,
            None => y,
        };
        self.origin + (vec2(x, y) - self.offset) * self.scale
    }

    fn len(&self, v: f32) -> f32 {
        v * self.scale
    }

    fn rect(&self, x0: f32, y0: f32, x1: f32, y1: f32) -> Rect {
        Rect::from_two_pos(self.p(x0, y0), self.p(x1, y1))
    }

    fn circle(&mut self, x: f32, y: f32, r: f32, fill: Color32) {
        self.shapes.push(Shape::circle_filled(self.p(x, y), self.len(r), fill));
    }

    fn ring(&mut self, x: f32, y: f32, r: f32, width: f32, colour: Color32) {
        let stroke = Stroke::new(self.len(width), colour);
        self.shapes.push(Shape::circle_stroke(self.p(x, y), self.len(r), stroke));
    }

    fn ellipse(&mut self, x: f32, y: f32, rx: f32, ry: f32, fill: Color32) {
        self.shapes.push(Shape::ellipse_filled(self.p(x, y), vec2(self.len(rx), self.len(ry)), fill));
    }

    fn rounded(&mut self, (x0, y0, x1, y1): (f32, f32, f32, f32), r: f32, fill: Color32, outline: Stroke) {
        let rect = self.rect(x0, y0, x1, y1);
        let shape = RectShape::new(rect, corner(self.len(r)), fill, outline, egui::StrokeKind::Inside);
        self.shapes.push(Shape::Rect(shape));
    }

    fn polygon(&mut self, points: &[(f32, f32)], fill: Color32) {
        let points = points.iter().map(|&(x, y)| self.p(x, y)).collect();
        self.shapes.push(Shape::convex_polygon(points, fill, Stroke::NONE));
    }

    /// A line with round ends (egui strokes end square).
    fn line(&mut self, points: &[(f32, f32)], width: f32, colour: Color32) {
        let points: Vec<Pos2> = points.iter().map(|&(x, y)| self.p(x, y)).collect();
        let stroke = Stroke::new(self.len(width), colour);
        for end in [points.first(), points.last()].into_iter().flatten() {
            self.shapes.push(Shape::circle_filled(*end, self.len(width) / 2.0, colour));
        }
        self.shapes.push(Shape::line(points, stroke));
    }

    fn cubic(&mut self, points: [(f32, f32); 4], width: f32, colour: Color32) {
        let [a, b, c, d] = points.map(|(x, y)| self.p(x, y));
        let stroke = Stroke::new(self.len(width), colour);
        let curve = CubicBezierShape::from_points_stroke([a, b, c, d], false, Color32::TRANSPARENT, stroke);
        self.shapes.push(curve.into());
        self.shapes.push(Shape::circle_filled(a, self.len(width) / 2.0, colour));
        self.shapes.push(Shape::circle_filled(d, self.len(width) / 2.0, colour));
    }

    fn quadratic(&mut self, points: [(f32, f32); 3], width: f32, colour: Color32) {
        let [a, b, c] = points.map(|(x, y)| self.p(x, y));
        let stroke = Stroke::new(self.len(width), colour);
        let curve = QuadraticBezierShape::from_points_stroke([a, b, c], false, Color32::TRANSPARENT, stroke);
        self.shapes.push(curve.into());
        self.shapes.push(Shape::circle_filled(a, self.len(width) / 2.0, colour));
        self.shapes.push(Shape::circle_filled(c, self.len(width) / 2.0, colour));
    }
}

/// Points on a circle's arc, angles in radians from +x, turning clockwise on screen.
fn arc(cx: f32, cy: f32, r: f32, from: f32, to: f32) -> Vec<(f32, f32)> {
    const STEPS: usize = 10;
    (0..=STEPS)
        .map(|i| {
            let a = from + (to - from) * i as f32 / STEPS as f32;
            (cx + r * a.cos(), cy + r * a.sin())
        })
        .collect()
}

// ----------------------------------------------------------------------------- logo

/// The websites' logo (a coffee cup, a speech bubble with three dots), painted from the
/// same 64×64 drawing as `crates/web/templates/logo.html`.
pub fn logo(ui: &mut egui::Ui, size: f32) -> egui::Response {
    let (rect, response) = ui.allocate_exact_size(Vec2::splat(size), egui::Sense::hover());
    response.widget_info(|| WidgetInfo::labeled(Role::Image, true, "Mocha logo"));
    ui.painter().extend(logo_shapes(rect));
    response
}

pub fn logo_shapes(rect: Rect) -> Vec<Shape> {
    let mut c = Canvas::new(rect, Rect::from_min_max(pos2(0.0, 0.0), pos2(64.0, 64.0)));
    // The speech bubble and its tail.
    c.rounded((24.0, 3.0, 62.0, 27.0), 6.0, CARAMEL, Stroke::NONE);
    c.polygon(&[(37.0, 26.0), (46.0, 26.0), (37.0, 34.0)], CARAMEL);
    for x in [35.0, 43.0, 51.0] {
        c.circle(x, 15.0, 2.6, CREAM);
    }
    paint_cup(&mut c);
    c.shapes
}

/// The cup on its saucer, with steam (the logo's left half; also the coffee emoticon).
fn paint_cup(c: &mut Canvas) {
    for x in [13.0, 21.0] {
        c.cubic([(x, 26.0), (x - 3.0, 22.0), (x + 3.0, 20.0), (x, 16.0)], 2.5, LATTE);
    }
    let mut handle = vec![(40.0, 35.0)];
    handle.extend(arc(43.0, 42.0, 7.0, -FRAC_PI_2, FRAC_PI_2));
    handle.push((38.0, 49.0));
    c.line(&handle, 4.0, COFFEE);
    let mut body = vec![(4.0, 31.0), (40.0, 31.0)];
    body.extend(arc(25.0, 42.0, 15.0, 0.0, FRAC_PI_2));
    body.extend(arc(19.0, 42.0, 15.0, FRAC_PI_2, PI));
    c.polygon(&body, COFFEE);
    c.ellipse(22.0, 31.5, 18.0, 3.6, ESPRESSO);
    c.quadratic([(11.0, 40.0), (11.5, 46.5), (16.0, 49.0)], 2.5, Color32::from_rgb(0xC8, 0x79, 0x4A));
    c.line(&[(2.0, 60.0), (46.0, 60.0)], 4.0, LATTE);
}

// --------------------------------------------------------------------------- presence

/// The colour a presence shows in: green online, red busy, caramel away, grey offline.
pub fn presence_colour(status: Option<PresenceStatus>) -> Color32 {
    match status {
        Some(PresenceStatus::Online) => Color32::from_rgb(0x7D, 0xBB, 0x4C),
        Some(PresenceStatus::Busy | PresenceStatus::OnThePhone) => Color32::from_rgb(0xD9, 0x45, 0x3A),
        Some(_) => CARAMEL,
        None => Color32::from_rgb(0xB3, 0xA4, 0x97),
    }
}

fn darker(colour: Color32) -> Color32 {
    colour.lerp_to_gamma(Color32::BLACK, 0.35)
}

fn lighter(colour: Color32, by: f32) -> Color32 {
    colour.lerp_to_gamma(Color32::WHITE, by)
}

/// The little "buddy" figure in front of a contact: a person in the presence colour,
/// with a badge for busy (a bar), on the phone (a handset) and away (a clock).
pub fn buddy_icon(ui: &mut egui::Ui, status: Option<PresenceStatus>) -> egui::Response {
    let (rect, response) = ui.allocate_exact_size(vec2(18.0, 18.0), egui::Sense::hover());
    let colour = presence_colour(status);
    let (fill, edge) = match status {
        Some(_) => (colour, darker(colour)),
        None => (Color32::from_rgb(0xEE, 0xE6, 0xDC), colour),
    };
    let mut c = Canvas::new(rect, Rect::from_min_max(pos2(0.0, 0.0), pos2(18.0, 18.0)));
    c.rounded((2.5, 10.0, 14.5, 17.5), 5.0, fill, Stroke::new(1.0, edge));
    c.circle(8.5, 5.8, 4.4, edge);
    c.circle(8.5, 5.8, 3.5, fill);
    if status.is_some() {
        c.circle(7.3, 4.6, 1.4, lighter(fill, 0.55));
        c.rounded((4.5, 11.2, 9.0, 13.0), 1.0, lighter(fill, 0.35), Stroke::NONE);
    }
    let badge = (14.2, 13.8);
    let white_disc = |c: &mut Canvas| {
        c.circle(badge.0, badge.1, 3.8, Color32::WHITE);
        c.ring(badge.0, badge.1, 3.8, 0.9, colour);
    };
    match status {
        Some(PresenceStatus::Busy) => {
            c.circle(badge.0, badge.1, 3.8, colour);
            c.ring(badge.0, badge.1, 3.8, 0.8, Color32::WHITE);
            c.line(&[(badge.0 - 1.8, badge.1), (badge.0 + 1.8, badge.1)], 1.3, Color32::WHITE);
        }
        Some(PresenceStatus::OnThePhone) => {
            white_disc(&mut c);
            let (x, y) = badge;
            c.line(&[(x - 1.8, y - 1.2), (x - 0.9, y + 1.4), (x + 1.0, y + 1.9)], 1.4, colour);
        }
        Some(PresenceStatus::Online) | None => {}
        Some(_) => {
            white_disc(&mut c);
            c.line(&[(badge.0, badge.1 - 2.3), badge, (badge.0 + 1.7, badge.1)], 1.0, darker(colour));
        }
    }
    ui.painter().extend(c.shapes);
    response
}

// ---------------------------------------------------------------------- buddy pictures

/// A display picture as the classic client framed it: a glossy rounded frame in the
/// presence colour (grey offline) around the picture — the name's initials on a warm
/// tile, standing in for a picture of their own.
pub fn buddy_picture(
    ui: &mut egui::Ui,
    name: &str,
    status: Option<PresenceStatus>,
    size: f32,
) -> egui::Response {
    let (rect, response) = ui.allocate_exact_size(Vec2::splat(size), egui::Sense::hover());
    let label = format!("{name}'s picture");
    response.widget_info(|| WidgetInfo::labeled(Role::Image, true, &label));
    let inner = paint_frame(ui.painter(), rect, presence_colour(status));
    let painter = ui.painter();
    let tile = picture_colour(name);
    let radius = corner(inner.width() * 0.12);
    painter.rect_filled(inner, radius, tile);
    let gloss = Rect::from_min_max(inner.min, pos2(inner.max.x, inner.center().y));
    painter.rect_filled(
        gloss,
        CornerRadius { nw: radius.nw, ne: radius.ne, sw: 0, se: 0 },
        lighter(tile, 0.18),
    );
    let font = FontId::proportional(inner.height() * 0.42);
    let text = initials(name);
    let shadow = Color32::from_black_alpha(70);
    painter.text(inner.center() + vec2(1.0, 1.0), egui::Align2::CENTER_CENTER, &text, font.clone(), shadow);
    painter.text(inner.center(), egui::Align2::CENTER_CENTER, &text, font, CREAM);
    response
}

/// The Mocha picture (the logo on cream) in a frame, for the sign-in window.
pub fn logo_picture(ui: &mut egui::Ui, size: f32) -> egui::Response {
    let (rect, response) = ui.allocate_exact_size(Vec2::splat(size), egui::Sense::hover());
    response.widget_info(|| WidgetInfo::labeled(Role::Image, true, "Mocha logo"));
    let inner = paint_frame(ui.painter(), rect, presence_colour(Some(PresenceStatus::Online)));
    ui.painter().rect_filled(inner, corner(inner.width() * 0.12), CREAM);
    ui.painter().extend(logo_shapes(inner.shrink(inner.width() * 0.12)));
    response
}

fn corner(radius: f32) -> CornerRadius {
    CornerRadius::same(radius.round().clamp(0.0, 255.0) as u8)
}

/// The frame: a soft shadow, the colour with a lighter upper half, a cream inner edge.
/// Returns where the picture goes.
fn paint_frame(painter: &Painter, rect: Rect, colour: Color32) -> Rect {
    let radius = corner(rect.width() * 0.16);
    let shadow = rect.translate(vec2(0.0, 1.5)).expand(0.5);
    painter.rect_filled(shadow, radius, Color32::from_rgba_unmultiplied(0x5B, 0x2D, 0x15, 60));
    painter.rect(rect, radius, colour, Stroke::new(1.0, darker(colour)), egui::StrokeKind::Inside);
    let upper = Rect::from_min_max(rect.min + vec2(1.0, 1.0), pos2(rect.max.x - 1.0, rect.center().y));
    let top = CornerRadius { nw: radius.nw, ne: radius.ne, sw: 0, se: 0 };
    painter.rect_filled(upper, top, lighter(colour, 0.3));
    let border = (rect.width() * 0.085).max(3.0);
    let inner = rect.shrink(border);
    painter.rect_filled(inner.expand(1.0), corner(inner.width() * 0.12 + 1.0), CREAM);
    inner
}

/// Up to two letters: the first of the first two words.
pub fn initials(name: &str) -> String {
    let letters: String = name.split_whitespace().filter_map(|word| word.chars().next()).take(2).collect();
    if letters.is_empty() { "?".into() } else { letters.to_uppercase() }
}

/// A steady colour per name, from warm tones that keep cream letters readable.
fn picture_colour(name: &str) -> Color32 {
    const PALETTE: [Color32; 6] = [
        Color32::from_rgb(0xC8, 0x6F, 0x22),
        Color32::from_rgb(0xA0, 0x56, 0x2F),
        Color32::from_rgb(0x5E, 0x8C, 0x31),
        Color32::from_rgb(0x3E, 0x82, 0x7A),
        Color32::from_rgb(0x8A, 0x4A, 0x6B),
        Color32::from_rgb(0x4F, 0x6A, 0x96),
    ];
    let sum = name.bytes().fold(0usize, |acc, b| acc.wrapping_mul(31).wrapping_add(usize::from(b)));
    PALETTE[sum % PALETTE.len()]
}

// ----------------------------------------------------------------------------- files

/// A folder in the file picker: a caramel folder with its tab.
pub fn folder_icon(ui: &mut egui::Ui) -> egui::Response {
    let (rect, response) = ui.allocate_exact_size(vec2(18.0, 16.0), egui::Sense::hover());
    let mut c = Canvas::new(rect, Rect::from_min_max(pos2(0.0, 0.0), pos2(18.0, 16.0)));
    let edge = Stroke::new(1.0, darker(CARAMEL));
    c.rounded((1.0, 2.0, 8.0, 6.0), 1.5, darker(CARAMEL), Stroke::NONE);
    c.rounded((1.0, 4.0, 17.0, 15.0), 2.0, CARAMEL, edge);
    c.rounded((2.0, 5.0, 16.0, 8.0), 1.0, lighter(CARAMEL, 0.4), Stroke::NONE);
    ui.painter().extend(c.shapes);
    response
}

/// A file: a cream page with its corner folded.
pub fn file_icon(ui: &mut egui::Ui) -> egui::Response {
    let (rect, response) = ui.allocate_exact_size(vec2(16.0, 18.0), egui::Sense::hover());
    let mut c = Canvas::new(rect, Rect::from_min_max(pos2(0.0, 0.0), pos2(16.0, 18.0)));
    c.polygon(&[(2.0, 1.0), (10.5, 1.0), (14.0, 4.5), (14.0, 17.0), (2.0, 17.0)], darker(LATTE));
    c.polygon(&[(3.0, 2.0), (10.0, 2.0), (13.0, 5.0), (13.0, 16.0), (3.0, 16.0)], CREAM);
    c.polygon(&[(10.0, 1.5), (13.5, 5.0), (10.0, 5.0)], LATTE);
    for y in [8.0, 10.5, 13.0] {
        c.line(&[(5.0, y), (11.0, y)], 0.9, LATTE);
    }
    ui.painter().extend(c.shapes);
    response
}

// ------------------------------------------------------------------------- emoticons

/// An emoticon picture inline in text; a screen reader hears its name, a hover shows
/// the code that was typed.
pub fn emoticon(ui: &mut egui::Ui, emoticon: Emoticon, code: &str, size: f32) -> egui::Response {
    let (rect, response) = ui.allocate_exact_size(Vec2::splat(size), egui::Sense::hover());
    let label = format!("{} emoticon", emoticon.name());
    response.widget_info(|| WidgetInfo::labeled(Role::Image, true, &label));
    ui.painter().extend(emoticon_shapes(rect, emoticon));
    response.on_hover_text(code.to_string())
}

const FACE: Color32 = Color32::from_rgb(0xFF, 0xC9, 0x3C);
const FACE_EDGE: Color32 = Color32::from_rgb(0xC9, 0x84, 0x1B);
const FEATURES: Color32 = ESPRESSO;

/// The shapes of an emoticon's picture filling the square `rect`.
pub fn emoticon_shapes(rect: Rect, emoticon: Emoticon) -> Vec<Shape> {
    let mut c = Canvas::new(rect, Rect::from_min_max(pos2(0.0, 0.0), pos2(20.0, 20.0)));
    match emoticon {
        Emoticon::ThumbsUp => thumb(&mut c),
        Emoticon::ThumbsDown => {
            c.flipped = Some(20.0);
            thumb(&mut c);
        }
        Emoticon::Heart => heart(&mut c, false),
        Emoticon::BrokenHeart => heart(&mut c, true),
        Emoticon::Coffee => {
            c = Canvas::new(rect, Rect::from_min_max(pos2(0.0, 12.0), pos2(52.0, 64.0)));
            paint_cup(&mut c);
        }
        face => paint_face(&mut c, face),
    }
    c.shapes
}

fn paint_face(c: &mut Canvas, face: Emoticon) {
    let skin = if face == Emoticon::Angry { Color32::from_rgb(0xF0, 0x6A, 0x3A) } else { FACE };
    c.circle(10.0, 10.0, 9.3, FACE_EDGE);
    c.circle(10.0, 10.0, 8.4, skin);
    c.ellipse(8.0, 5.6, 4.0, 2.4, lighter(skin, 0.45));
    let eyes = |c: &mut Canvas| {
        c.ellipse(7.0, 8.0, 1.1, 1.6, FEATURES);
        c.ellipse(13.0, 8.0, 1.1, 1.6, FEATURES);
    };
    let smile =
        |c: &mut Canvas| c.cubic([(5.8, 11.8), (7.5, 15.2), (12.5, 15.2), (14.2, 11.8)], 1.3, FEATURES);
    let frown =
        |c: &mut Canvas| c.cubic([(6.3, 15.0), (8.0, 12.0), (12.0, 12.0), (13.7, 15.0)], 1.3, FEATURES);
    match face {
        Emoticon::Smile => {
            eyes(&mut *c);
            smile(&mut *c);
        }
        Emoticon::Grin => {
            eyes(&mut *c);
            let mut mouth = vec![(5.2, 11.2), (14.8, 11.2)];
            mouth.extend(arc(10.0, 11.2, 4.8, 0.0, PI));
            c.polygon(&mouth, FEATURES);
            c.polygon(&[(6.2, 11.6), (13.8, 11.6), (13.4, 12.8), (6.6, 12.8)], Color32::WHITE);
        }
        Emoticon::Wink => {
            c.ellipse(7.0, 8.0, 1.1, 1.6, FEATURES);
            c.quadratic([(11.3, 8.6), (13.0, 6.6), (14.7, 8.6)], 1.2, FEATURES);
            smile(&mut *c);
        }
        Emoticon::Sad => {
            eyes(&mut *c);
            frown(&mut *c);
        }
        Emoticon::Tongue => {
            eyes(&mut *c);
            c.ellipse(11.3, 14.4, 2.1, 2.4, Color32::from_rgb(0xE8, 0x4B, 0x6A));
            c.line(&[(6.0, 12.8), (14.0, 12.8)], 1.3, FEATURES);
        }
        Emoticon::Surprised => {
            c.ellipse(7.0, 7.6, 1.3, 1.9, FEATURES);
            c.ellipse(13.0, 7.6, 1.3, 1.9, FEATURES);
            c.ellipse(10.0, 13.6, 2.2, 2.7, FEATURES);
        }
        Emoticon::Confused => {
            eyes(&mut *c);
            c.cubic([(5.8, 13.6), (8.0, 11.4), (10.5, 15.6), (14.2, 12.6)], 1.3, FEATURES);
        }
        Emoticon::Crying => {
            eyes(&mut *c);
            frown(&mut *c);
            c.polygon(&[(13.6, 9.4), (14.8, 12.2), (12.4, 12.2)], Color32::from_rgb(0x4A, 0xA3, 0xE8));
            c.circle(13.6, 12.4, 1.2, Color32::from_rgb(0x4A, 0xA3, 0xE8));
        }
        Emoticon::Angry => {
            eyes(&mut *c);
            c.line(&[(4.8, 5.0), (8.6, 6.6)], 1.3, FEATURES);
            c.line(&[(15.2, 5.0), (11.4, 6.6)], 1.3, FEATURES);
            frown(&mut *c);
        }
        Emoticon::Cool => {
            let glass = Color32::from_rgb(0x2B, 0x1A, 0x10);
            c.rounded((3.6, 6.2, 9.4, 10.2), 1.6, glass, Stroke::NONE);
            c.rounded((10.6, 6.2, 16.4, 10.2), 1.6, glass, Stroke::NONE);
            c.line(&[(9.0, 7.0), (11.0, 7.0)], 1.0, glass);
            c.line(&[(4.6, 7.0), (6.2, 7.0)], 0.7, Color32::from_white_alpha(140));
            smile(&mut *c);
        }
        _ => {}
    }
}

fn thumb(c: &mut Canvas) {
    let edge = Stroke::new(c.len(0.9), FACE_EDGE);
    c.rounded((2.0, 9.0, 5.5, 18.5), 1.0, Color32::from_rgb(0x4F, 0x6A, 0x96), Stroke::NONE);
    c.rounded((5.0, 8.5, 17.0, 18.5), 2.5, FACE, edge);
    c.rounded((7.0, 1.5, 11.5, 11.0), 2.2, FACE, edge);
    for y in [11.5, 14.2] {
        c.line(&[(11.0, y), (16.0, y)], 0.8, FACE_EDGE);
    }
}

fn heart(c: &mut Canvas, broken: bool) {
    let red = Color32::from_rgb(0xE0, 0x24, 0x5E);
    c.circle(6.4, 7.4, 4.6, red);
    c.circle(13.6, 7.4, 4.6, red);
    c.polygon(&[(2.0, 8.8), (18.0, 8.8), (10.0, 18.0)], red);
    c.ellipse(5.6, 5.8, 1.8, 1.2, lighter(red, 0.55));
    if broken {
        c.line(&[(10.0, 4.0), (8.4, 8.6), (11.4, 11.4), (9.6, 16.4)], 1.4, CREAM);
    }
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

    #[test]
    fn every_emoticon_is_a_picture_of_its_own_inside_its_square() {
        let rect = Rect::from_min_size(pos2(10.0, 10.0), Vec2::splat(20.0));
        let mut seen: Vec<String> = Vec::new();
        for emoticon in Emoticon::ALL {
            let shapes = emoticon_shapes(rect, emoticon);
            assert!(shapes.len() >= 3, "{emoticon:?} has a picture");
            for shape in &shapes {
                let bounds = shape.visual_bounding_rect();
                assert!(rect.expand(1.0).contains_rect(bounds), "{emoticon:?} spills out: {bounds:?}");
            }
            let picture = format!("{shapes:?}");
            assert!(!seen.contains(&picture), "{emoticon:?} looks like another emoticon");
            seen.push(picture);
        }
    }

    #[test]
    fn the_logo_fills_its_square_without_spilling() {
        let rect = Rect::from_min_size(pos2(0.0, 0.0), Vec2::splat(64.0));
        let shapes = logo_shapes(rect);
        let bounds = shapes.iter().fold(Rect::NOTHING, |acc, s| acc.union(s.visual_bounding_rect()));
        assert!(rect.expand(1.0).contains_rect(bounds), "{bounds:?}");
        assert!(bounds.width() > 58.0 && bounds.height() > 55.0, "{bounds:?}");
    }
}
