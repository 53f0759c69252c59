//! Paper figures. Each figure is one file with one `draw` function over any plotters backend, so the
//! SVG and the PNG of a figure are the same drawing; every number comes from the law file and the map
//! result that the tables are written from.

mod across_sizes;
mod fit;
mod glyphs;
mod group_names;
mod job;
mod linear_vs_log;
mod n_and_d;
mod pdf;
mod residuals;
mod splices;
pub mod style;

pub use glyphs::glyph_warning;
pub use job::PlotJob;

use plotters::chart::SeriesAnno;
use plotters::coord::Shift;
use plotters::coord::combinators::WithKeyPoints;
use plotters::prelude::*;

use crate::equivalence::Mapped;
use crate::error::{Error, Result};
use crate::fit::Residual;
use crate::law::{Axis, Law};
use crate::law_file::LawFile;
use crate::map::MapResult;
use crate::table::Splice;
use style::{PNG_SCALE, SIZE, Style};

/// The canvas a figure is drawn on (the whole SVG or PNG).
pub(crate) type Area<DB> = DrawingArea<DB, Shift>;

/// What drawing gives: plotters' errors are kept as their message.
pub(crate) type PlotResult<T = ()> = std::result::Result<T, String>;

/// A chart with a log x axis (compute or tokens) and a linear y axis.
pub(crate) type LogXChart<'a, DB> =
    ChartContext<'a, DB, Cartesian2d<WithKeyPoints<LogCoord<f64>>, style::LinAxis>>;

/// The figures ceq draws.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Figure {
    /// Checkpoint losses against compute, the fitted curve and its bootstrap band.
    Fit,
    /// Where the splices land on the curve, with the compute each one loses.
    Splices,
    /// Linear "loss recovered" against the compute fraction.
    LinearVsLog,
    /// Compute fraction per SAE, grouped by host model (or any column).
    AcrossSizes,
    /// Log-loss residuals of the fit, with the Huber threshold.
    Residuals,
    /// Loss against N at each D and against D at each N, with the fitted floor (chinchilla).
    NAndD,
}

impl Figure {
    pub const ALL: [Figure; 6] = [
        Figure::Fit,
        Figure::NAndD,
        Figure::Splices,
        Figure::LinearVsLog,
        Figure::AcrossSizes,
        Figure::Residuals,
    ];

    pub fn stem(self) -> &'static str {
        match self {
            Figure::Fit => "fit",
            Figure::Splices => "splices",
            Figure::LinearVsLog => "linear_vs_log",
            Figure::AcrossSizes => "across_sizes",
            Figure::Residuals => "residuals",
            Figure::NAndD => "n_and_d",
        }
    }

    /// The name users choose it by.
    pub fn name(self) -> &'static str {
        match self {
            Figure::Fit => "fit",
            Figure::Splices => "splices",
            Figure::LinearVsLog => "linear-vs-log",
            Figure::AcrossSizes => "across-sizes",
            Figure::Residuals => "residuals",
            Figure::NAndD => "n-and-d",
        }
    }

    /// What the figure shows, in a line.
    pub fn describe(self) -> &'static str {
        match self {
            Figure::Fit => "checkpoint losses, the fitted curve and its bootstrap band",
            Figure::Splices => {
                "where the splices land on the curve, with the compute each one loses"
            }
            Figure::LinearVsLog => "linear \"loss recovered\" against the compute fraction",
            Figure::AcrossSizes => {
                "compute fraction per SAE, grouped by host model (or any column); an SAE \
                 configuration that recurs across them is one series"
            }
            Figure::Residuals => "log-loss residuals of the fit, with the Huber threshold",
            Figure::NAndD => {
                "loss against N at each D and against D at each N, with the fitted floor (chinchilla)"
            }
        }
    }

    /// What this drawing of the figure shows, in a line: [`Figure::describe`], less what `d`
    /// gives nothing to draw (the fit's band, where the law has no bootstrap refits).
    pub fn shows(self, d: &Data) -> String {
        match self {
            Figure::Fit if d.boot.is_none() => {
                "checkpoint losses and the fitted curve (no band: the law has no bootstrap refits)"
                    .into()
            }
            _ => self.describe().into(),
        }
    }

    /// What this drawing of the figure shows beyond [`Figure::describe`], for its caption.
    pub fn about(self, d: &Data) -> Option<String> {
        match self {
            Figure::AcrossSizes => across_sizes::about(d),
            Figure::LinearVsLog => linear_vs_log::left_out(d).map(|l| l.caption(d)),
            Figure::Splices => {
                let said = [
                    d.token_sets_caption(),
                    splices::left_out(d).map(|l| l.caption(d)),
                ];
                let said: Vec<String> = said.into_iter().flatten().collect();
                (!said.is_empty()).then(|| said.join("; "))
            }
            _ => None,
        }
    }

    /// Whether the figure can be drawn from `d` (the splice figures need splices).
    pub fn available(self, d: &Data) -> bool {
        self.missing(d).is_none()
    }

    /// What `d` lacks for this figure, if anything.
    fn missing(self, d: &Data) -> Option<String> {
        let splices = || "needs a splices file".to_owned();
        match self {
            Figure::Fit | Figure::Residuals => None,
            Figure::NAndD => n_and_d::missing(d),
            Figure::Splices => d.map.is_none().then(splices),
            // A figure of no point would be a frame of default ticks and empty labels.
            Figure::AcrossSizes => match d.map {
                None => Some(splices()),
                Some(m) if m.rows.iter().all(|r| r.eq.fraction.is_none()) => Some(
                    "needs a splice with a compute fraction (none has one: see the mapped \
                     table's status)"
                        .into(),
                ),
                Some(_) => None,
            },
            Figure::LinearVsLog => match d.map {
                None => Some(splices()),
                Some(m) if m.rows.iter().all(|r| r.loss_recovered.is_none()) => Some(
                    "needs splices whose ce_zero_ablation is given and above ce_clean (for loss \
                     recovered)"
                        .into(),
                ),
                Some(m) if !m.rows.iter().any(linear_vs_log::drawn) => Some(
                    "needs a splice with both a loss recovered and a compute fraction (none has \
                     both: see the mapped table's status)"
                        .into(),
                ),
                Some(_) => None,
            },
        }
    }
}

/// Everything a figure may show.
pub struct Data<'a> {
    pub law_file: &'a LawFile,
    pub law: &'a Law,
    /// Bootstrap refits and their interval level.
    pub boot: Option<(&'a [Law], f64)>,
    pub map: Option<&'a MapResult>,
    /// Pass-through column to group splices by (default: `model`, else the host's clean loss).
    pub group_by: Option<String>,
    /// A loss known independently of the fit (the true floor of `ceq study`'s language), drawn
    /// beside the fitted E.
    pub reference: Option<Reference>,
    /// Layout choices made once, at the SVG's scale, and reused for the PNG.
    pub(crate) layout: Layout,
}

/// Where a figure put its legend and labels. Made when the SVG is drawn and followed by the PNG:
/// at the PNG's scale, pixel rounding could tip a close call the other way, and the two files
/// would show different labels.
#[derive(Debug, Default)]
pub(crate) struct Layout {
    pub splices: std::cell::RefCell<Option<splices::Choices>>,
    pub across_sizes: std::cell::RefCell<Option<across_sizes::Choices>>,
    pub linear_vs_log: std::cell::RefCell<Option<linear_vs_log::Choices>>,
}

/// A known loss to show beside the fit, with its label.
#[derive(Clone, Debug, PartialEq)]
pub struct Reference {
    /// Nats/token.
    pub loss: f64,
    pub label: String,
}

impl Reference {
    /// How this known floor stands to the fitted E's interval (nats/token), in words: a family
    /// whose losses lie far above its floor fits an E anywhere below them, and every
    /// compute-equivalent leans on that E, so a reader must be told when the fit does not pin it.
    pub fn verdict(&self, interval: Option<(f64, f64)>) -> String {
        let Some((lo, hi)) = interval else {
            return "E has no interval (the law was fitted without a bootstrap, which would show \
                    how firmly the checkpoints fix it)"
                .into();
        };
        let floor = self.loss;
        if floor < lo || floor > hi {
            return format!(
                "the true floor is outside E's interval ({lo:.4} to {hi:.4}): the law's form misses \
                 how this family's loss approaches its floor"
            );
        }
        let width = hi - lo;
        // An interval as wide as half the floor itself leaves the floor unfixed.
        match width >= 0.5 * floor {
            true => format!(
                "the true floor is inside E's interval, which spans {width:.2} nats/token: these \
                 checkpoints' losses do not pin E down, and every compute-equivalent leans on it"
            ),
            false => "the true floor is inside E's interval".into(),
        }
    }
}

impl<'a> Data<'a> {
    pub fn new(
        law_file: &'a LawFile,
        map: Option<&'a MapResult>,
        group_by: Option<String>,
    ) -> Self {
        Data {
            law_file,
            law: law_file.law(),
            boot: law_file.bootstrap_laws(),
            map,
            group_by,
            reference: None,
            layout: Layout::default(),
        }
    }

    /// The bootstrap band's legend entry: its level and what was resampled.
    pub fn band_label(&self) -> String {
        let level = self.boot.as_ref().map_or(0.0, |b| b.1);
        let tokens = self
            .law_file
            .bootstrap
            .as_ref()
            .and_then(|b| b.tokens.as_ref());
        // A band of the law's refits alone says so, as the token bootstrap's says it holds both
        // (review 96); what was resampled is the caption's, the legend has no room to spare.
        let what = match tokens {
            Some(_) => "token-bootstrap band (law + tokens)",
            None => "bootstrap band (law refits)",
        };
        format!("{} {what}", crate::law_file::percent_level(level))
    }

    /// Label of the law's x axis: compute says how it was counted (6·N·D with which N, or the
    /// checkpoints file's own column), since a figure may be shown without its caption.
    pub fn x_label(&self) -> String {
        match self.law.form().axis() {
            Axis::Compute if self.law_file.compute_is_the_files() => {
                "Training compute C (FLOPs, as the checkpoints file gives it)".into()
            }
            Axis::Compute => format!("Training compute C = 6ND (FLOPs, N {})", self.n_count()),
            Axis::Tokens => "Training tokens D".into(),
        }
    }

    /// Which parameter count N is: `total` or `non-embedding`.
    pub fn n_count(&self) -> &'static str {
        self.law_file.data.param_count.name()
    }

    /// Label of a loss axis: the token set the losses were measured on, where it is named.
    pub fn loss_label(&self) -> String {
        match self.law_file.units.eval_set.as_str() {
            crate::pipeline::UNNAMED_EVAL_SET => "Loss (nats/token)".into(),
            set => format!("Loss on {} (nats/token)", eval_set_label(set)),
        }
    }

    /// Label of the loss axis that holds both the checkpoints' losses and the splices' CEs: as
    /// [`Data::loss_label`] where the splices' are not known to be on another token set.
    pub fn splices_loss_label(&self) -> String {
        match self.map.is_some_and(|m| !m.token_sets_apart().is_empty()) {
            true => "Loss (nats/token; SAEs on other tokens)".into(),
            false => self.loss_label(),
        }
    }

    /// The token sets of the fit and of the splices, where they may differ, for a caption.
    pub fn token_sets_caption(&self) -> Option<String> {
        let apart = self.map?.token_sets_apart();
        (!apart.is_empty()).then(|| {
            format!(
                "the fitted losses are on {}, the SAEs' CEs on {}: not one loss scale",
                self.law_file.units.eval_set,
                apart.join("; ")
            )
        })
    }

    /// A fitted checkpoint's position on the law's x axis (compute, or tokens for `run`).
    pub fn residual_x(&self, r: &Residual) -> f64 {
        match self.law.form().axis() {
            Axis::Compute => r.compute,
            Axis::Tokens => r.tokens,
        }
    }

    /// The splices with their mapped numbers.
    pub fn rows(&self) -> Vec<(&'a Splice, &'a Mapped)> {
        self.map
            .map(|m| m.splice_rows().collect())
            .unwrap_or_default()
    }

    /// The column splices are grouped by (`--group-by`, else `model` where there is one) and its
    /// index among the splices' columns, where the file has it.
    pub(crate) fn group_column(&self) -> (Option<String>, Option<usize>) {
        let Some(m) = self.map else {
            return (None, None);
        };
        let col = self.group_by.clone().or_else(|| {
            m.splices
                .columns
                .iter()
                .any(|c| c == "model")
                .then(|| "model".into())
        });
        let idx = col
            .as_ref()
            .and_then(|c| m.splices.columns.iter().position(|h| h == c));
        (col, idx)
    }

    /// Group of each splice and the group labels, ordered by host size (smallest clean compute first)
    /// or numerically when the grouping column is numeric.
    pub fn groups(&self) -> (String, Vec<String>, Vec<usize>) {
        let Some(m) = self.map else {
            return (String::new(), vec![], vec![]);
        };
        let (col, idx) = self.group_column();
        let key = |s: &Splice| match idx {
            Some(i) => s.raw[i].clone(),
            None => format!("clean CE {:.4}", s.ce_clean),
        };
        // Order groups by a number: the column's value when numeric, else the host's clean compute.
        let keyed =
            (m.splice_rows().enumerate()).map(|(i, (s, r))| (i, key(s), r.eq.compute_clean));
        let mut groups = crate::groups::in_order(keyed, |(_, k, _)| k.clone());
        let least = |rows: &[(usize, String, Option<f64>)]| {
            let v = |(_, k, c): &(usize, String, Option<f64>)| k.parse().ok().or(*c);
            let each = rows.iter().map(|r| v(r).unwrap_or(f64::INFINITY));
            each.reduce(f64::min).unwrap_or(f64::INFINITY)
        };
        groups.sort_by(|a, b| least(&a.1).total_cmp(&least(&b.1)));
        let mut of = vec![0; m.rows.len()];
        for (g, (_, rows)) in groups.iter().enumerate() {
            rows.iter().for_each(|(i, _, _)| of[*i] = g);
        }
        let labels: Vec<String> = groups.into_iter().map(|(k, _)| k).collect();
        // A numeric column's values as a table prints them (14.756615423387096 → 14.76).
        // A blank cell is a group too: named, not ''.
        let short: Vec<String> = (labels.iter())
            .map(|l| match l.parse::<f64>() {
                Ok(v) if l.len() > 6 => crate::export::human(v),
                _ if l.trim().is_empty() => BLANK.to_owned(),
                _ => l.clone(),
            })
            .collect();
        // Two values that round to one text keep their own: groups are told apart by name.
        let shown = (labels.iter().zip(&short))
            .map(|(l, s)| match short.iter().filter(|t| *t == s).count() {
                1 => s.clone(),
                _ => l.clone(),
            })
            .collect();
        (col.unwrap_or_else(|| "host".into()), shown, of)
    }

    /// The order [`Data::groups`] puts the groups in, as a figure says it.
    pub(crate) fn group_order(&self) -> &'static str {
        let (_, idx) = self.group_column();
        let numeric = idx.is_some_and(|i| {
            self.rows()
                .iter()
                .all(|(s, _)| s.raw[i].parse::<f64>().is_ok())
        });
        if numeric {
            "in increasing order"
        } else {
            "by C_eq(clean), smallest first"
        }
    }

    /// The bootstrap band as a polygon (upper edge, then lower edge back), clipped to [y0, y1].
    pub fn band_polygon(&self, xs: &[f64], (y0, y1): (f64, f64)) -> Option<Vec<(f64, f64)>> {
        let band = self.band(xs)?;
        let mut poly: Vec<(f64, f64)> = band.iter().map(|&(x, _, hi)| (x, hi.min(y1))).collect();
        poly.extend(band.iter().rev().map(|&(x, lo, _)| (x, lo.max(y0))));
        Some(poly)
    }

    /// Percentile band of the law's curve over the bootstrap refits at each x.
    pub fn band(&self, xs: &[f64]) -> Option<Vec<(f64, f64, f64)>> {
        let (laws, level) = self.boot.as_ref()?;
        Some(
            xs.iter()
                .filter_map(|&x| {
                    let ys: Vec<f64> = laws.iter().map(|l| l.curve(x)).collect();
                    crate::fit::percentile_interval(&ys, *level).map(|(lo, hi)| (x, lo, hi))
                })
                .collect(),
        )
    }
}

/// The name of the group of splices whose grouping cell is blank.
pub(crate) const BLANK: &str = "(blank)";

/// The frame every figure shares: its title, margins, and room for the tick labels (`y_labels` wide).
pub(crate) fn builder<'a, 'b, DB: DrawingBackend>(
    root: &'a Area<DB>,
    title: impl AsRef<str>,
    s: &Style,
    y_labels: f64,
) -> ChartBuilder<'a, 'b, DB> {
    let mut b = ChartBuilder::on(root);
    b.caption(title, s.title())
        .margin(s.px(10.0))
        .x_label_area_size(s.px(44.0))
        .y_label_area_size(s.px(y_labels));
    b
}

/// A chart with compute (or tokens) on a log x axis and a linear y axis, its grid drawn: the frame
/// of the fit, splices and residuals figures.
#[allow(clippy::too_many_arguments)]
pub(crate) fn log_x_chart<'a, DB: DrawingBackend + 'a>(
    root: &'a Area<DB>,
    title: &str,
    s: &Style,
    d: &Data,
    (x0, x1): (f64, f64),
    (y0, y1): (f64, f64),
    y_desc: &str,
    y_label_width: f64,
) -> PlotResult<LogXChart<'a, DB>> {
    let mut chart = builder(root, title, s, y_label_width)
        .build_cartesian_2d(
            (x0..x1)
                .log_scale()
                .with_key_points(style::log_ticks(x0, x1)),
            style::LinAxis::new((y0, y1), 7),
        )
        .map_err(err)?;
    s.mesh(&mut chart)
        .x_desc(d.x_label())
        .y_desc(y_desc)
        .x_labels(10)
        .y_labels(7)
        .x_label_formatter(&|v| style::pow10(*v))
        .y_label_formatter(&|v| style::lin_tick(*v, (y0, y1)))
        .draw()
        .map_err(err)?;
    Ok(chart)
}

/// The frame of the figures that place losses on the law's curve (fit, splices), with its loss
/// axis labelled `y_desc`.
pub(crate) fn loss_chart<'a, DB: DrawingBackend + 'a>(
    root: &'a Area<DB>,
    title: &str,
    s: &Style,
    d: &Data,
    (x, y): ((f64, f64), (f64, f64)),
    y_desc: &str,
) -> PlotResult<LogXChart<'a, DB>> {
    log_x_chart(root, title, s, d, x, y, y_desc, 52.0)
}

/// Fills the bootstrap band of the law's curve over `xs` (clipped to `y`), if the law was
/// bootstrapped; the series comes back so that a figure can put it in its legend.
pub(crate) fn draw_band<'c, 'a, DB: DrawingBackend + 'a>(
    chart: &'c mut LogXChart<'a, DB>,
    d: &Data,
    xs: &[f64],
    y: (f64, f64),
    fill: RGBAColor,
) -> PlotResult<Option<&'c mut SeriesAnno<'a, DB>>> {
    let Some(poly) = d.band_polygon(xs, y) else {
        return Ok(None);
    };
    chart
        .draw_series(std::iter::once(Polygon::new(poly, fill.filled())))
        .map(Some)
        .map_err(err)
}

/// The legend every figure uses: small text, a light box, swatches sized with the text.
pub(crate) fn legend<'a, DB: DrawingBackend + 'a, CT: plotters::coord::CoordTranslate>(
    chart: &mut ChartContext<'a, DB, CT>,
    s: &Style,
    at: SeriesLabelPosition,
) -> PlotResult {
    chart
        .configure_series_labels()
        .position(at)
        .label_font(s.note())
        .legend_area_size(s.px(28.0))
        .background_style(WHITE.mix(0.9))
        .border_style(style::GREY)
        .margin(s.px(6.0))
        .draw()
        .map_err(err)
}

/// Most groups a legend names, one per colour of the palette; the others are drawn grey and counted in
/// one "+N more" entry, so that the legend fits the plot however many groups there are and no two
/// named groups share a colour.
pub(crate) const LEGEND_GROUPS: usize = style::PALETTE.len();

/// A group's colour in the figures with a legend: its own for the named groups, grey for the rest.
pub(crate) fn group_colour(g: usize) -> RGBColor {
    if g < LEGEND_GROUPS {
        style::colour(g)
    } else {
        style::GREY
    }
}

/// Longest label a figure shows in full (characters); a longer one is cut with "…", so a user's long
/// name cannot push a legend or axis off the canvas.
const LABEL_CHARS: usize = 24;

/// A name from a user's file as a figure shows it: control characters made visible (XML cannot hold
/// most of them, even escaped), and cut to [`LABEL_CHARS`] in the middle: SAE names share a host
/// prefix and differ at the end (layer, width, L0), so both ends are what tells them apart.
pub(crate) fn label_text(s: &str) -> String {
    cut_text(s, LABEL_CHARS)
}

/// A token set's name on an axis. The name ceq's evals give a token set ("FILE fnv1a64:HASH
/// (positions)") is too long for an axis: the file and the hash's first 8 digits are what tells
/// two sets apart (the positions rule is in the outputs' notes); any other name as [`label_text`].
fn eval_set_label(set: &str) -> String {
    let hashed = set.split_once(" fnv1a64:").and_then(|(file, rest)| {
        let hash = rest.get(..16)?;
        let hex = hash.bytes().all(|b| b.is_ascii_hexdigit());
        (hex && !file.is_empty()).then(|| format!("{} #{}", cut_text(file, 16), &hash[..8]))
    });
    hashed.unwrap_or_else(|| label_text(set))
}

/// `s` with control characters made visible, cut to `n` characters in the middle ("…").
pub(crate) fn cut_text(s: &str, n: usize) -> String {
    let v = crate::export::visible(s);
    let len = v.chars().count();
    if len <= n {
        return v.into_owned();
    }
    let head = (n - 1) / 2;
    let tail = n - 1 - head;
    let chars = v.chars();
    chars
        .clone()
        .take(head)
        .chain(['…'])
        .chain(chars.skip(len - tail))
        .collect()
}

/// Names as a legend shows them: cut as [`label_text`] cuts them; where that makes two different
/// names read the same, what tells them apart (less the start and end they all share: "…70m…" of
/// "EleutherAI/pythia-70m-deduped"), or else longer (SAE names that differ in their middle).
pub(crate) fn distinct_labels(names: &[String]) -> Vec<String> {
    let kinds = |v: &[String]| {
        let mut u: Vec<&String> = v.iter().collect();
        u.sort();
        u.dedup();
        u.len()
    };
    let want = kinds(names);
    let cut = |v: &[String], n| v.iter().map(|s| cut_text(s, n)).collect::<Vec<String>>();
    let cores = group_names::cores(names);
    let tries = [names, &cores[..], names, names, names];
    for (v, n) in tries
        .into_iter()
        .zip([LABEL_CHARS, LABEL_CHARS, 32, 40, 56])
    {
        let shown = cut(v, n);
        if kinds(&shown) == want {
            return shown;
        }
    }
    cut(names, 80)
}

/// The splices a figure leaves out: how many, why, and their groups, each named once, in order.
pub(crate) struct LeftOut {
    n: usize,
    why: String,
    /// The reason as the figure says it, where the caption's is too long for one line there.
    brief: Option<String>,
    groups: Vec<String>,
}

impl LeftOut {
    /// The rows `out` (indices into [`Data::rows`]) left out for `why`; `None` when there are none.
    pub(crate) fn of(d: &Data, out: &[usize], why: impl FnOnce() -> String) -> Option<Self> {
        if out.is_empty() {
            return None;
        }
        let (_, labels, group) = d.groups();
        let mut groups: Vec<String> = vec![];
        for &i in out {
            let l = label_text(&labels[group[i]]);
            if !groups.contains(&l) {
                groups.push(l);
            }
        }
        let (n, why) = (out.len(), why());
        Some(LeftOut {
            n,
            why,
            brief: None,
            groups,
        })
    }

    /// The figure's note gives `brief` as the reason; the caption keeps the whole one.
    pub(crate) fn brief(self, brief: String) -> Self {
        let brief = Some(brief);
        LeftOut { brief, ..self }
    }

    /// The note in the figure itself.
    pub(crate) fn short(&self) -> String {
        match &self.brief {
            Some(b) => format!("{} splice(s) not drawn: {b} (the caption says why)", self.n),
            None => format!("{} splice(s) not drawn: {}", self.n, self.why),
        }
    }

    /// The caption line, naming their groups.
    pub(crate) fn caption(&self, d: &Data) -> String {
        let (name, _, _) = d.groups();
        format!(
            "{} splice(s) not drawn, having {}: {} {}",
            self.n,
            self.why,
            label_text(&name),
            self.groups.join(", ")
        )
    }
}

/// The legend's text for the groups: the first [`LEGEND_GROUPS`] by name, then "+N more" if any.
pub(crate) fn group_legend(name: &str, labels: &[String]) -> Vec<String> {
    let name = label_text(name);
    let named = &labels[..labels.len().min(LEGEND_GROUPS)];
    let mut out: Vec<String> = (distinct_labels(named).iter())
        .map(|l| format!("{name} {l}"))
        .collect();
    if labels.len() > LEGEND_GROUPS {
        out.push(format!(
            "+{} more {name} groups",
            labels.len() - LEGEND_GROUPS
        ));
    }
    out
}

/// The legend entry of group `g`, if it gets one: the first [`LEGEND_GROUPS`] do.
pub(crate) fn group_entry<'a, DB: DrawingBackend + 'a>(
    series: &mut SeriesAnno<'a, DB>,
    g: usize,
    texts: &[String],
    swatch: impl Fn((i32, i32)) -> Circle<(i32, i32), i32> + 'a,
) {
    if g < LEGEND_GROUPS {
        series.label(&texts[g]).legend(swatch);
    }
}

/// The legend's "+N more" entry of [`group_legend`]'s `texts`, when there is one.
pub(crate) fn more_groups<
    'a,
    DB: DrawingBackend + 'a,
    X: Ranged<ValueType = f64>,
    Y: Ranged<ValueType = f64>,
>(
    chart: &mut ChartContext<'a, DB, Cartesian2d<X, Y>>,
    texts: &[String],
    s: &Style,
) -> PlotResult {
    if texts.len() > LEGEND_GROUPS {
        chart
            .draw_series(std::iter::empty::<Circle<(f64, f64), u32>>())
            .map_err(err)?
            .label(&texts[LEGEND_GROUPS])
            .legend(s.swatch_dot(group_colour(LEGEND_GROUPS)));
    }
    Ok(())
}

/// The legend's box in the upper right corner (`upper_right`) or the lower left one.
pub(crate) fn legend_box<DB: DrawingBackend, CT: plotters::coord::CoordTranslate>(
    root: &Area<DB>,
    chart: &ChartContext<'_, DB, CT>,
    s: &Style,
    entries: &[String],
    upper_right: bool,
) -> PlotResult<(i32, i32, i32, i32)> {
    corner_box(root, chart, s, entries, (upper_right, upper_right))
}

/// The legend's box in a corner: (right, top).
fn corner_box<DB: DrawingBackend, CT: plotters::coord::CoordTranslate>(
    root: &Area<DB>,
    chart: &ChartContext<'_, DB, CT>,
    s: &Style,
    entries: &[String],
    (right, top): (bool, bool),
) -> PlotResult<(i32, i32, i32, i32)> {
    let font = s.note();
    let mut w = 0;
    for e in entries {
        w = w.max(root.estimate_text_size(e, &font).map_err(err)?.0 as i32);
    }
    // As plotters lays it out: lines 1.25 font sizes apart, the swatch column and a margin around,
    // 5 pixels in from the corner.
    let h = (entries.len() as f64 * 1.25 * 11.5 * s.scale).ceil() as i32 + 2 * s.px(6.0);
    let w = w + s.px(28.0) + 2 * s.px(6.0);
    let area = chart.plotting_area();
    let (x0, y0) = area.get_base_pixel();
    let (aw, ah) = area.dim_in_pixel();
    let left = if right {
        x0 + aw as i32 - 5 - w
    } else {
        x0 + 5
    };
    let upper = if top { y0 + 5 } else { y0 + ah as i32 - 5 - h };
    Ok((left, upper, left + w, upper + h))
}

/// The four corners a legend may take, in order of preference.
pub(crate) const CORNERS: [SeriesLabelPosition; 4] = [
    SeriesLabelPosition::UpperRight,
    SeriesLabelPosition::LowerLeft,
    SeriesLabelPosition::UpperLeft,
    SeriesLabelPosition::LowerRight,
];

/// Which of `corners` a legend of `entries` covers fewest of `points` (pixels) in: the first of
/// them, unless a later one covers fewer.
pub(crate) fn legend_corner<DB: DrawingBackend, CT: plotters::coord::CoordTranslate>(
    root: &Area<DB>,
    chart: &ChartContext<'_, DB, CT>,
    s: &Style,
    entries: (&[String], &[SeriesLabelPosition]),
    points: &[(i32, i32)],
) -> PlotResult<SeriesLabelPosition> {
    Ok(legend_corner_covering(root, chart, s, entries, points)?.0)
}

/// [`legend_corner`], with how many of `points` its legend covers there.
pub(crate) fn legend_corner_covering<DB: DrawingBackend, CT: plotters::coord::CoordTranslate>(
    root: &Area<DB>,
    chart: &ChartContext<'_, DB, CT>,
    s: &Style,
    (entries, corners): (&[String], &[SeriesLabelPosition]),
    points: &[(i32, i32)],
) -> PlotResult<(SeriesLabelPosition, usize)> {
    let covered = |(x0, y0, x1, y1): (i32, i32, i32, i32)| {
        let inside = |&&(x, y): &&(i32, i32)| x >= x0 && x <= x1 && y >= y0 && y <= y1;
        points.iter().filter(inside).count()
    };
    let mut best = (usize::MAX, SeriesLabelPosition::UpperRight);
    for at in corners {
        let corner = match at {
            SeriesLabelPosition::LowerLeft => (false, false),
            SeriesLabelPosition::UpperLeft => (false, true),
            SeriesLabelPosition::LowerRight => (true, false),
            _ => (true, true),
        };
        let n = covered(corner_box(root, chart, s, entries, corner)?);
        if n < best.0 {
            best = (n, at.clone());
        }
    }
    Ok((best.1, best.0))
}

/// Grey lines of notes in the plot's upper left corner, one under the other: what its interval bars
/// are (where neither figure with bars puts points: the costliest SAEs keep the least loss and
/// compute), and what it leaves out.
pub(crate) fn corner_notes<DB: DrawingBackend, CT: plotters::coord::CoordTranslate>(
    root: &Area<DB>,
    chart: &ChartContext<'_, DB, CT>,
    s: &Style,
    lines: impl IntoIterator<Item = String>,
) -> PlotResult {
    let area = chart.plotting_area();
    let (px0, py0) = area.get_base_pixel();
    let grey = style::GREY.mix(1.0);
    for (i, text) in lines.into_iter().enumerate() {
        let at = (px0 + s.px(6.0), py0 + s.px(4.0 + 14.0 * i as f64));
        root.draw(&Text::new(text, at, s.note().color(&grey)))
            .map_err(err)?;
    }
    Ok(())
}

/// The note a figure with an open-ended interval bar adds to its corner notes.
pub(crate) const OPEN_NOTE: &str = "arrowhead: the interval runs on past the axis (unbounded)";

/// An arrowhead (pixels) with its tip at `tip`, pointing up, down, left or right: the end of an
/// interval bar that runs on past the plot's edge.
pub(crate) fn arrowhead(
    tip: (i32, i32),
    (dx, dy): (i32, i32),
    s: &Style,
    colour: RGBColor,
) -> Polygon<(i32, i32)> {
    let (l, w) = (s.px(7.0), s.px(3.5));
    let base = (tip.0 - dx * l, tip.1 - dy * l);
    let side = (dy * w, dx * w);
    Polygon::new(
        vec![
            tip,
            (base.0 + side.0, base.1 + side.1),
            (base.0 - side.0, base.1 - side.1),
        ],
        colour.filled(),
    )
}

/// Plotters errors as a message.
pub(crate) fn err<E: std::fmt::Display>(e: E) -> String {
    e.to_string()
}

fn draw<DB: DrawingBackend>(fig: Figure, root: &Area<DB>, d: &Data, s: &Style) -> PlotResult {
    root.fill(&WHITE).map_err(err)?;
    match fig {
        Figure::Fit => fit::draw(root, d, s),
        Figure::Splices => splices::draw(root, d, s),
        Figure::LinearVsLog => linear_vs_log::draw(root, d, s),
        Figure::AcrossSizes => across_sizes::draw(root, d, s),
        Figure::Residuals => residuals::draw(root, d, s),
        Figure::NAndD => n_and_d::draw(root, d, s),
    }?;
    root.present().map_err(err)
}

fn plot_error(fig: Figure, message: String) -> Error {
    Error::Plot {
        figure: fig.stem().into(),
        message,
    }
}

/// Every file the `figures` (none: any figure) may be written to in `dir`.
pub fn files<'a>(
    dir: &'a std::path::Path,
    figures: &'a [Figure],
) -> impl Iterator<Item = std::path::PathBuf> + 'a {
    let all = if figures.is_empty() {
        &Figure::ALL[..]
    } else {
        figures
    };
    all.iter().flat_map(move |f| f.files(dir))
}

impl Figure {
    /// The canvas in SVG pixels: two panels side by side get twice the width, and a legend beside
    /// the plot the width it needs.
    pub fn size(self, d: &Data) -> (u32, u32) {
        match self {
            Figure::NAndD => (2 * SIZE.0, SIZE.1),
            Figure::AcrossSizes => (SIZE.0 + across_sizes::legend_width(d), SIZE.1),
            _ => SIZE,
        }
    }

    /// The figure's files in `dir`, one per format.
    fn files(self, dir: &std::path::Path) -> [std::path::PathBuf; 3] {
        FORMATS.map(|ext| dir.join(format!("{}.{ext}", self.stem())))
    }
}

/// Every figure's file formats, as their extensions.
pub const FORMATS: [&str; 3] = ["svg", "png", "pdf"];

/// Draws `figures` into `dir` as NAME.svg, NAME.png and NAME.pdf (made if missing), calling
/// `on_file` after each file; returns the SVGs drawn. An empty list means every figure the data allow; a figure
/// asked for by name that the data do not allow is an error. Files already there are replaced only
/// when `force`; else nothing is drawn and the error names them.
pub fn write_figures(
    d: &Data,
    figures: &[Figure],
    dir: &std::path::Path,
    force: bool,
    on_file: &mut dyn FnMut(&std::path::Path),
) -> Result<Vec<(Figure, String)>> {
    if let Some((f, why)) = figures.iter().find_map(|f| Some((f, f.missing(d)?))) {
        return Err(plot_error(*f, why));
    }
    let all = Figure::ALL.into_iter().filter(|f| f.available(d)).collect();
    let figures = if figures.is_empty() {
        all
    } else {
        figures.to_vec()
    };
    let paths: Vec<_> = figures.iter().flat_map(|f| f.files(dir)).collect();
    crate::io::make_out_dir(dir, &paths, force)?;
    let mut drawn = vec![];
    for fig in figures {
        let svg = svg(fig, d)?;
        let pdf = pdf::pdf(&svg).map_err(|m| plot_error(fig, m))?;
        for (ext, bytes) in [
            ("svg", svg.as_bytes()),
            ("png", &png(fig, d)?),
            ("pdf", &pdf),
        ] {
            let p = dir.join(format!("{}.{ext}", fig.stem()));
            crate::io::write_atomic(&p, bytes)?;
            on_file(&p);
        }
        drawn.push((fig, svg));
    }
    Ok(drawn)
}

/// The figures not among `drawn`, each with what `d` lacks for it, in [`Figure::ALL`]'s order.
pub fn not_drawn(d: &Data, drawn: &[(Figure, String)]) -> Vec<(Figure, String)> {
    (Figure::ALL.into_iter())
        .filter(|f| !drawn.iter().any(|(g, _)| g == f))
        .map(|f| (f, f.missing(d).unwrap_or_default()))
        .collect()
}

/// "NAME not drawn: it WHY" for figures left out, one line for those left out for one reason ("A
/// and B not drawn: each WHY"), in their order.
pub fn not_drawn_lines(skipped: &[(Figure, String)]) -> Vec<String> {
    let mut whys: Vec<&str> = vec![];
    for (_, why) in skipped {
        if !whys.contains(&why.as_str()) {
            whys.push(why);
        }
    }
    (whys.into_iter())
        .map(|why| {
            let names: Vec<&str> = (skipped.iter())
                .filter(|(_, w)| w == why)
                .map(|(f, _)| f.stem())
                .collect();
            match names.split_last() {
                Some((last, rest)) if !rest.is_empty() => {
                    format!("{} and {last} not drawn: each {why}", rest.join(", "))
                }
                _ => format!("{} not drawn: it {why}", names.join("")),
            }
        })
        .collect()
}

/// The figure as an SVG document.
pub fn svg(fig: Figure, d: &Data) -> Result<String> {
    style::register_fonts();
    let mut buf = String::new();
    {
        let root = SVGBackend::with_string(&mut buf, fig.size(d)).into_drawing_area();
        draw(fig, &root, d, &Style { scale: 1.0 }).map_err(|m| plot_error(fig, m))?;
    }
    // Name the font the PNGs are drawn with first; the report page embeds it.
    Ok(buf.replace(
        "font-family=\"sans-serif\"",
        "font-family=\"DejaVu Sans, sans-serif\"",
    ))
}

/// The figure as a PNG file (300 dpi), drawn with the bundled font.
pub fn png(fig: Figure, d: &Data) -> Result<Vec<u8>> {
    style::register_fonts();
    let size = fig.size(d);
    let (w, h) = (
        (size.0 as f64 * PNG_SCALE) as u32,
        (size.1 as f64 * PNG_SCALE) as u32,
    );
    let mut rgb = vec![255u8; (w * h * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, (w, h)).into_drawing_area();
        draw(fig, &root, d, &Style { scale: PNG_SCALE }).map_err(|m| plot_error(fig, m))?;
    }
    let mut out = vec![];
    {
        let mut enc = png::Encoder::new(&mut out, w, h);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        let dpm = (300.0 / 0.0254f64).round() as u32;
        enc.set_pixel_dims(Some(png::PixelDimensions {
            xppu: dpm,
            yppu: dpm,
            unit: png::Unit::Meter,
        }));
        let mut wr = enc
            .write_header()
            .map_err(|e| plot_error(fig, e.to_string()))?;
        wr.write_image_data(&rgb)
            .map_err(|e| plot_error(fig, e.to_string()))?;
    }
    Ok(out)
}

/// Rectangles already used by labels, so a new label can move out of their way (or be left out), and
/// the rectangle labels must stay inside.
pub(crate) struct Placer {
    taken: Vec<(i32, i32, i32, i32)>,
    bounds: (i32, i32, i32, i32),
}

impl Placer {
    /// Labels inside `(x0, y0, x1, y1)`.
    pub fn within(bounds: (i32, i32, i32, i32)) -> Placer {
        Placer {
            taken: vec![],
            bounds,
        }
    }

    /// Whether a box of size `(w, h)` with its top-left at `(x, y)` lies inside and overlaps
    /// nothing reserved.
    pub fn is_free(&self, at: (i32, i32), size: (i32, i32)) -> bool {
        self.clashes(at, size) == 0
    }

    /// How many reserved boxes the box overlaps, plus one if it is not inside.
    pub fn clashes(&self, (x, y): (i32, i32), (w, h): (i32, i32)) -> usize {
        let (bx0, by0, bx1, by1) = self.bounds;
        let outside = !(x >= bx0 && y >= by0 && x + w <= bx1 && y + h <= by1);
        let hit = (self.taken.iter())
            .filter(|&&(x0, y0, x1, y1)| !(x + w <= x0 || x >= x1 || y + h <= y0 || y >= y1));
        usize::from(outside) + hit.count()
    }

    pub fn reserve(&mut self, r: (i32, i32, i32, i32)) {
        self.taken.push(r);
    }
}
