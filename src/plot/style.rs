//! One style for every figure: sizes readable at a page's text width and on a slide, the Okabe–Ito
//! colour-blind-safe palette, an embedded font (DejaVu Sans), and tick labels with units.

use std::sync::Once;

use plotters::chart::MeshStyle;
use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint, ValueFormatter};
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use plotters::style::{FontStyle, RGBColor, TextStyle};

/// Logical size of every figure (SVG pixels). Plotters draws a font of size s at s/1.24 pixels, so
/// at 5.6 in wide tick labels are 7.3 pt and axis titles 8.1 pt; at one column (3.3 in), about 4 pt.
pub const SIZE: (u32, u32) = (560, 380);

/// PNG pixels per logical pixel: 1680×1140, 300 dpi at 5.6 in.
pub const PNG_SCALE: f64 = 3.0;

/// Okabe & Ito (2008): distinguishable with every common colour-vision deficiency.
pub const PALETTE: [RGBColor; 7] = [
    RGBColor(0, 114, 178),   // blue
    RGBColor(230, 159, 0),   // orange
    RGBColor(0, 158, 115),   // bluish green
    RGBColor(204, 121, 167), // reddish purple
    RGBColor(86, 180, 233),  // sky blue
    RGBColor(213, 94, 0),    // vermillion
    RGBColor(0, 0, 0),       // black
];

pub const GREY: RGBColor = RGBColor(150, 150, 150);
pub const LIGHT: RGBColor = RGBColor(215, 215, 215);

pub fn colour(i: usize) -> RGBColor {
    PALETTE[i % PALETTE.len()]
}

static FONTS: Once = Once::new();

/// Registers DejaVu Sans (bundled by the `dejavu` crate) as "sans-serif", so PNG text needs no system
/// fonts. SVG text is written as text and drawn by the viewer's sans-serif font.
pub fn register_fonts() {
    FONTS.call_once(|| {
        plotters::style::register_font("sans-serif", FontStyle::Normal, dejavu::sans::regular())
            .unwrap_or_else(|_| panic!("the bundled DejaVu Sans font is valid"));
        plotters::style::register_font("sans-serif", FontStyle::Bold, dejavu::sans::bold())
            .unwrap_or_else(|_| panic!("the bundled DejaVu Sans Bold font is valid"));
    });
}

/// Sizes for one rendering (SVG at scale 1, PNG at [`PNG_SCALE`]).
#[derive(Clone, Copy, Debug)]
pub struct Style {
    pub scale: f64,
}

impl Style {
    pub fn px(&self, v: f64) -> i32 {
        (v * self.scale).round() as i32
    }

    pub fn upx(&self, v: f64) -> u32 {
        self.px(v).max(0) as u32
    }

    pub fn text(&self, size: f64) -> TextStyle<'static> {
        ("sans-serif", size * self.scale).into_font().color(&BLACK)
    }

    pub fn title(&self) -> TextStyle<'static> {
        ("sans-serif", 15.0 * self.scale)
            .into_font()
            .style(FontStyle::Bold)
            .color(&BLACK)
    }

    pub fn axis(&self) -> TextStyle<'static> {
        self.text(14.0)
    }

    pub fn tick(&self) -> TextStyle<'static> {
        self.text(12.5)
    }

    pub fn note(&self) -> TextStyle<'static> {
        self.text(11.5)
    }

    /// The axes every figure shares: label sizes and a light grid. Each figure adds its axis
    /// descriptions, tick counts and tick formats.
    pub fn mesh<'a, 'b, X, Y, XT, YT, DB>(
        &self,
        chart: &'b mut ChartContext<'a, DB, Cartesian2d<X, Y>>,
    ) -> MeshStyle<'a, 'b, X, Y, DB>
    where
        X: Ranged<ValueType = XT> + ValueFormatter<XT>,
        Y: Ranged<ValueType = YT> + ValueFormatter<YT>,
        DB: DrawingBackend,
    {
        let mut mesh = chart.configure_mesh();
        mesh.axis_desc_style(self.axis())
            .label_style(self.tick())
            .light_line_style(WHITE)
            .bold_line_style(LIGHT.mix(0.6));
        mesh
    }

    pub fn line<C: Color>(&self, c: C, width: f64) -> ShapeStyle {
        c.stroke_width(self.upx(width).max(1))
    }

    /// Legend swatches: a line, a dot and a box, sized with the text.
    pub fn swatch_line<C: Color + 'static>(
        &self,
        c: C,
        width: f64,
    ) -> impl Fn((i32, i32)) -> PathElement<(i32, i32)> {
        let (len, style) = (self.px(18.0), self.line(c, width));
        move |(x, y)| PathElement::new(vec![(x, y), (x + len, y)], style)
    }

    /// A dashed line's swatch: two dashes of the lines [`DASH`] draws.
    pub fn swatch_dashed<DB: DrawingBackend, C: Color + 'static>(
        &self,
        c: C,
        width: f64,
    ) -> impl Fn((i32, i32)) -> Dashes<DB> + use<DB, C> {
        let (dash, gap, style) = (self.px(DASH.0), self.px(DASH.1), self.line(c, width));
        move |(x, y)| {
            EmptyElement::at((x, y))
                + PathElement::new(vec![(0, 0), (dash, 0)], style)
                + PathElement::new(vec![(dash + gap, 0), (2 * dash + gap, 0)], style)
        }
    }

    pub fn swatch_dot<C: Color + 'static>(
        &self,
        c: C,
    ) -> impl Fn((i32, i32)) -> Circle<(i32, i32), i32> + use<C> {
        let (r, style) = (self.px(4.0), c.filled());
        move |(x, y)| Circle::new((x + 2 * r, y), r, style)
    }

    pub fn swatch_box<C: Color + 'static>(
        &self,
        c: C,
    ) -> impl Fn((i32, i32)) -> Rectangle<(i32, i32)> {
        let (w, h, style) = (self.px(18.0), self.px(5.0), c.filled());
        move |(x, y)| Rectangle::new([(x, y - h), (x + w, y + h)], style)
    }
}

/// Two dashes, as a legend draws them.
pub type Dashes<DB> = plotters::element::ComposedElement<
    (i32, i32),
    DB,
    PathElement<(i32, i32)>,
    PathElement<(i32, i32)>,
>;

/// Dash and gap of the figures' dashed lines, in SVG pixels.
pub const DASH: (f64, f64) = (5.0, 4.0);

const SUPER: [char; 10] = ['⁰', '¹', '²', '³', '⁴', '⁵', '⁶', '⁷', '⁸', '⁹'];

/// 10^k with a superscript exponent: 1e18 → "10¹⁸", 3e-2 → "3·10⁻²".
pub fn pow10(v: f64) -> String {
    if v <= 0.0 || !v.is_finite() {
        return format!("{v}");
    }
    let k = v.log10().floor() as i32;
    let m = v / 10f64.powi(k);
    let exp: String = k
        .to_string()
        .chars()
        .map(|c| {
            if c == '-' {
                '⁻'
            } else {
                SUPER[c.to_digit(10).unwrap() as usize]
            }
        })
        .collect();
    if (m - 1.0).abs() < 1e-9 {
        format!("10{exp}")
    } else {
        format!("{}·10{exp}", crate::export::human(m))
    }
}

/// The ticks of a log axis: 1, 2, 5 × 10^k where it spans under two decades (powers of ten alone
/// would leave one label, or none), else the powers of ten, every other one past eight. An axis
/// too short for three of those (one point and its interval) gets evenly spaced round numbers.
pub fn log_ticks(lo: f64, hi: f64) -> Vec<f64> {
    // A range with an end at 0, a subnormal or infinity has no decades to count (and would loop).
    if !(lo.is_normal() && lo > 0.0 && hi.is_finite() && hi > lo) {
        return vec![];
    }
    if hi < 100.0 * lo {
        let t = ticks_125(lo, hi);
        return match t.len() >= 3 {
            true => t,
            false => lin_ticks(lo, hi, 6),
        };
    }
    let (k0, k1) = (lo.log10().ceil() as i32, hi.log10().floor() as i32);
    let step = ((k1 - k0) / 8 + 1) as usize;
    (k0..=k1).step_by(step).map(|k| 10f64.powi(k)).collect()
}

/// Tick positions 1, 2, 5 × 10^k inside [lo, hi], for log axes that span few decades.
pub fn ticks_125(lo: f64, hi: f64) -> Vec<f64> {
    let mut out = vec![];
    let mut k = lo.log10().floor() as i32 - 1;
    while 10f64.powi(k) <= hi {
        for m in [1.0, 2.0, 5.0] {
            let v = m * 10f64.powi(k);
            if v >= lo && v <= hi {
                out.push(v);
            }
        }
        k += 1;
    }
    out
}

/// The ticks of a linear axis: multiples of the smallest step of 1, 2 or 5 × 10^k that puts at
/// most `most` of them in [lo, hi]. Plotters' own choice dropped a tick inside the axis (2.6, 2.8
/// and 3.0 labelled on an axis to 3.32).
pub fn lin_ticks(lo: f64, hi: f64, most: usize) -> Vec<f64> {
    // A span too small to step through in f64 (or infinite) has no ticks to give.
    let span = hi - lo;
    let tiny = !(span.is_finite() && span > 1e-12 * lo.abs().max(hi.abs()));
    if tiny || most == 0 || span / (most as f64) < 1e-300 {
        return vec![];
    }
    let mut k = ((hi - lo) / most as f64).log10().floor() as i32;
    loop {
        for m in [1, 2, 5] {
            let step = m as f64 * 10f64.powi(k);
            let (a, b) = ((lo / step).ceil(), (hi / step).floor());
            // A step too fine to count in whole numbers (a span of 1e-9 at 1e15) is no tick.
            if a.abs().max(b.abs()) > 1e15 {
                continue;
            }
            let (a, b) = (a as i64, b as i64);
            if b - a < most as i64 {
                // i·m divided by a power of ten, rounded once: 2.8, not 14 × 0.2 = 2.8000000000000003.
                let at = |i: i64| match k < 0 {
                    true => (i * m) as f64 / 10f64.powi(-k),
                    false => (i * m) as f64 * 10f64.powi(k),
                };
                return (a..=b).map(at).collect();
            }
        }
        k += 1;
    }
}

/// A linear axis labelled at [`lin_ticks`]' ticks; its light grid lines are plotters' own.
#[derive(Clone)]
pub struct LinAxis {
    inner: RangedCoordf64,
    ticks: Vec<f64>,
}

impl LinAxis {
    pub fn new((lo, hi): (f64, f64), most: usize) -> LinAxis {
        LinAxis {
            inner: (lo..hi).into(),
            ticks: lin_ticks(lo, hi, most),
        }
    }
}

impl Ranged for LinAxis {
    type ValueType = f64;
    // Labels are always given a formatter; this only satisfies the mesh's bound.
    type FormatOption = DefaultFormatting;

    fn range(&self) -> std::ops::Range<f64> {
        self.inner.range()
    }

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        self.inner.map(value, limit)
    }

    fn key_points<Hint: KeyPointHint>(&self, hint: Hint) -> Vec<f64> {
        match hint.weight().allow_light_points() {
            true => self.inner.key_points(hint),
            false => self.ticks.clone(),
        }
    }

    fn axis_pixel_range(&self, limit: (i32, i32)) -> std::ops::Range<i32> {
        self.inner.axis_pixel_range(limit)
    }
}

/// Two significant digits, for labels on a figure: 0.02103 → "0.021", 0.3034 → "0.30"; from 10⁵
/// and under 10⁻³ as 1.6e12 (a fraction of 1.6e12 was written out in 13 digits).
pub fn sig2(v: f64) -> String {
    if v == 0.0 || !v.is_finite() {
        return format!("{v}");
    }
    // The magnitude after rounding: 0.00099996 has the digits of 0.0010, not of 0.00099.
    let rounded = format!("{v:.1e}").parse::<f64>().unwrap_or(v).abs();
    if !(1e-3..1e5).contains(&rounded) {
        return format!("{v:.1e}");
    }
    let digits = (1 - rounded.log10().floor() as i32).max(0) as usize;
    format!("{v:.digits$}")
}

/// A tick label on a linear axis from `lo` to `hi`: a value within 1e-9 of the span from zero is
/// 0 (plotters computes ticks as lo + k·step, so the zero tick can land at -1.4e-17).
pub fn lin_tick(v: f64, (lo, hi): (f64, f64)) -> String {
    let span = (hi - lo).abs();
    if v.abs() <= 1e-9 * span {
        return "0".into();
    }
    // Four significant digits, or as many as tell ticks a twentieth of the span apart: on an axis
    // of 1.6316 ± 0.001 four gave every label "1.632".
    let decimals = -((span / 20.0).log10().floor() as i32);
    let four = 3 - v.abs().log10().floor() as i32;
    if decimals <= four || !v.is_finite() {
        return crate::export::human(v);
    }
    let decimals = decimals.min(12) as usize;
    let text = format!("{v:.decimals$}");
    match text.contains('.') {
        true => text.trim_end_matches('0').trim_end_matches('.').to_owned(),
        false => text,
    }
}

/// A fraction on a log axis: 0.01 → "1%", 0.3 → "30%", 2 → "200%".
pub fn percent(v: f64) -> String {
    format!("{}%", crate::export::human(100.0 * v))
}

/// Log-spaced points from lo to hi.
pub fn logspace(lo: f64, hi: f64, n: usize) -> Vec<f64> {
    (0..n)
        .map(|i| lo * (hi / lo).powf(i as f64 / (n - 1) as f64))
        .collect()
}

/// Axis range of positive values, padded by a factor on each side.
pub fn log_range(values: impl IntoIterator<Item = f64>, pad: f64) -> (f64, f64) {
    let (lo, hi) = values
        .into_iter()
        .filter(|v| v.is_finite() && *v > 0.0)
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), v| {
            (l.min(v), h.max(v))
        });
    if !lo.is_finite() {
        return (0.1, 10.0);
    }
    (lo / pad, hi * pad)
}

/// Axis range of values, padded by a fraction of the span.
pub fn lin_range(values: impl IntoIterator<Item = f64>, pad: f64) -> (f64, f64) {
    let (lo, hi) = values
        .into_iter()
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), v| {
            (l.min(v), h.max(v))
        });
    if !lo.is_finite() {
        return (0.0, 1.0);
    }
    // One value (a splice whose spliced CE is its clean one) still gets an axis its labels can
    // tell apart: at least a thousandth of its magnitude.
    let span = (hi - lo).max(1e-9).max(1e-3 * lo.abs().max(hi.abs()));
    (lo - pad * span, hi + pad * span)
}

#[cfg(test)]
mod tests {
    use super::{lin_tick, lin_ticks, log_ticks, sig2};

    /// A tick at rounding distance from zero is labelled 0; small ticks of a small span keep
    /// their value.
    #[test]
    fn a_tick_at_rounding_distance_from_zero_is_zero() {
        assert_eq!(lin_tick(-1.3877787807814457e-17, (-0.06, 0.06)), "0");
        assert_eq!(lin_tick(0.0, (1.5, 3.0)), "0");
        assert_eq!(lin_tick(0.02, (-0.06, 0.06)), "0.02");
        assert_eq!(lin_tick(-2e-12, (-1e-11, 1e-11)), "-2e-12");
        // Ticks of a narrow axis keep the digits that tell them apart; a wide one's four.
        assert_eq!(lin_tick(2.6, (2.51, 3.32)), "2.6");
        assert_eq!(lin_tick(1.6315, (1.6305, 1.6325)), "1.6315");
        assert_eq!(lin_tick(1.632, (1.6305, 1.6325)), "1.632");
        assert_eq!(lin_tick(95.25, (90.0, 100.0)), "95.25");
        assert_eq!(lin_tick(1.63155, (1.6314, 1.6318)), "1.63155");
    }

    /// Under two decades an axis gets 1-2-5 ticks (powers of ten alone would give it one label);
    /// over many decades, at most nine powers of ten.
    #[test]
    fn a_log_axis_always_gets_several_ticks() {
        let close = |a: &[f64], b: &[f64]| {
            a.len() == b.len() && a.iter().zip(b).all(|(x, y)| (x / y - 1.0).abs() < 1e-12)
        };
        let t = log_ticks(3e10, 6e11);
        assert!(close(&t, &[5e10, 1e11, 2e11, 5e11]), "{t:?}");
        let t = log_ticks(2e9, 3e12);
        assert!(close(&t, &[1e10, 1e11, 1e12]), "{t:?}");
        let t = log_ticks(1e3, 1e22);
        assert!(t.len() <= 9 && t.len() >= 5, "{t:?}");
        assert!(t.iter().all(|&v| (1e3..=1e22).contains(&v)));
        // One point and its interval, 0.294 to 0.303, padded: round numbers, not one label.
        assert_eq!(log_ticks(0.24, 0.36), [0.25, 0.3, 0.35]);
        // Ends at 0, a subnormal or infinity get no ticks rather than a loop (helper-92).
        for (lo, hi) in [(0.0, 1.0), (1e-320, 1.0), (1.0, f64::INFINITY), (2.0, 1.0)] {
            assert!(log_ticks(lo, hi).is_empty(), "{lo}..{hi}");
        }
    }

    /// Labels keep two significant digits however large or small the number.
    #[test]
    fn a_label_has_two_significant_digits() {
        let cases = [
            (0.02103, "0.021"),
            (0.3034, "0.30"),
            (1.804, "1.8"),
            (99999.0, "1.0e5"),
            (1624048753848.0, "1.6e12"),
            (0.000123, "1.2e-4"),
            (0.00099996, "0.0010"),
            (0.099996, "0.10"),
        ];
        for (v, want) in cases {
            assert_eq!(sig2(v), want, "{v}");
        }
    }

    /// Every multiple of the step inside the axis is a tick (plotters' own left out 3.2 on an axis
    /// from 2.51 to 3.32), and there are at most as many as asked.
    #[test]
    fn a_linear_axis_gets_every_tick_inside_it() {
        assert_eq!(lin_ticks(2.51, 3.32, 7), [2.6, 2.8, 3.0, 3.2]);
        assert_eq!(lin_ticks(0.0, 1.0, 6), [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]);
        assert_eq!(
            lin_ticks(-0.06, 0.06, 7),
            [-0.06, -0.04, -0.02, 0.0, 0.02, 0.04, 0.06]
        );
        for (lo, hi, most) in [
            (1.3, 1.31, 5),
            (85.0, 101.0, 6),
            (1e-12, 3e-12, 4),
            (-7.5, -2.25, 6),
            (1e15, 1e15 + 1.0, 7),
            (1e20, 1e20 * (1.0 + 1e-15), 7),
        ] {
            let t = lin_ticks(lo, hi, most);
            assert!(t.len() <= most, "{lo}..{hi}: {t:?}");
            assert!(t.iter().all(|v| (lo..=hi).contains(v)), "{lo}..{hi}: {t:?}");
            // Axes a figure draws (spans of at least 1e-9 of their values) get two or more.
            assert!(
                hi - lo < 1e-9 * lo.abs() || t.len() >= 2,
                "{lo}..{hi}: {t:?}"
            );
        }
        assert!(lin_ticks(f64::NAN, 1.0, 5).is_empty() && lin_ticks(1.0, 1.0, 5).is_empty());
        assert!(lin_ticks(0.0, f64::INFINITY, 5).is_empty());
        for (lo, hi) in [
            (-5e-324, 5e-324),
            (0.0, 5e-324),
            (-1e308, 1e308),
            (1.0, 1.0 + 2.2e-16),
        ] {
            assert!(lin_ticks(lo, hi, 6).is_empty(), "{lo}..{hi}");
        }
    }
}
