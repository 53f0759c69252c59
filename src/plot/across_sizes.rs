//! Figure 4, across model sizes: the compute fraction (log) of each SAE, grouped by host model (or by
//! any pass-through column, `--group-by`), with interval bars (the law's refits, the CEs' noise, or both).
//!
//! Where one SAE configuration (the splice's name less its group's value: same layer, architecture,
//! sparsity) recurs in several groups, each configuration is a series — its own colour and marker,
//! the same place in every group, its points joined across the groups — named in a legend beside the
//! plot, so a reader can follow it from the small host to the large one. Grouped by host with every
//! host's parameter count known, the groups then sit at their hosts' sizes (log).

use std::collections::{HashMap, HashSet};

use plotters::coord::combinators::WithKeyPoints;
use plotters::coord::ranged1d::ValueFormatter;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::group_names::{self, Names};
use super::style::{GREY, PALETTE, SIZE, Style, colour, log_range, log_ticks, percent, pow10};
use super::{
    Area, Data, LeftOut, OPEN_NOTE, PlotResult, arrowhead, builder, corner_notes, distinct_labels,
    err, label_text,
};
use crate::law_file::ParamCount;

pub fn draw<DB: DrawingBackend>(root: &Area<DB>, d: &Data, s: &Style) -> PlotResult {
    draw_series(root, d, s, &Series::of(d))
}

/// The compute fractions' axis range: every fraction and interval end, padded.
fn y_range(d: &Data) -> (f64, f64) {
    let ys = d
        .rows()
        .into_iter()
        .flat_map(|(_, m)| {
            [
                m.eq.fraction,
                m.ci.and_then(|c| c.fraction).map(|c| c.0),
                m.ci.and_then(|c| c.fraction).map(|c| c.1),
            ]
        })
        .flatten();
    log_range(ys, 1.6)
}

/// Characters that separate the parts of an SAE's name ("d48-L2-t4096000-L0-topk-k8",
/// "release/layer_5/width_16k", "L6-topk-k32@70m").
pub(crate) const SEPARATORS: &[char] = &['-', '_', '.', '/', ':', ' ', '|', ',', '@'];

/// An SAE's configuration: its name with its host's name (its group's value) taken out where it
/// stands as a part of the name — between separators or at an end, so "2" is not taken out of
/// "L2" — and the separators it leaves at the ends trimmed. Where the name does not hold the
/// host's name whole, the part of it that tells it from the other `hosts` ("70m" of
/// "pythia-70m-deduped" beside "pythia-410m-deduped") is taken out instead, with the host's
/// other parts next to it, run together or not ("pythia70m" in SAEBench's release
/// "sae_bench_pythia70m_sweep_topk_ctx128_0730"). A name with none of these, or with nothing else,
/// is whole.
pub(crate) fn configuration(name: &str, host: &str, hosts: &HostForms) -> String {
    let made;
    let forms = match hosts.forms.get(host) {
        Some(forms) => forms,
        None => {
            made = host_forms(host, &hosts.shared);
            &made
        }
    };
    forms
        .iter()
        .find_map(|host| without(name, host))
        .unwrap_or_else(|| name.to_owned())
}

/// Each host's forms ([`host_forms`]), made once for every splice of a figure: a figure of
/// thousands of hosts compares each host's parts with every other's once, not once per splice.
pub(crate) struct HostForms<'a> {
    forms: HashMap<&'a str, Vec<String>>,
    /// The parts every host's name has.
    shared: HashSet<&'a str>,
}

impl<'a> HostForms<'a> {
    pub(crate) fn new(hosts: &[&'a str]) -> HostForms<'a> {
        let mut each = hosts
            .iter()
            .map(|h| parts(h).into_iter().collect::<HashSet<_>>());
        let first = each.next().unwrap_or_default();
        let shared = each.fold(first, |all, p| &all & &p);
        let forms = (hosts.iter())
            .map(|&h| (h, host_forms(h, &shared)))
            .collect();
        HostForms { forms, shared }
    }
}

/// The parts of a name between its separators, non-empty.
fn parts(name: &str) -> Vec<&str> {
    name.split(SEPARATORS).filter(|p| !p.is_empty()).collect()
}

/// `name` less every whole part that is `host`, its other parts joined by "-" (`name` itself where
/// nothing else is left); `None` where no part is `host`.
fn without(name: &str, host: &str) -> Option<String> {
    let sep = |c: Option<char>| c.is_none_or(|c| SEPARATORS.contains(&c));
    let mut parts: Vec<&str> = vec![];
    let mut rest = 0;
    if host.is_empty() {
        return None;
    }
    for (at, _) in name.match_indices(host) {
        let end = at + host.len();
        if at >= rest && sep(name[..at].chars().next_back()) && sep(name[end..].chars().next()) {
            parts.push(&name[rest..at]);
            rest = end;
        }
    }
    if parts.is_empty() {
        return None;
    }
    parts.push(&name[rest..]);
    let mut out = String::new();
    for p in parts {
        let p = p.trim_matches(SEPARATORS);
        if p.is_empty() {
            continue;
        }
        if !out.is_empty() {
            out.push('-');
        }
        out.push_str(p);
    }
    // A name that is its host's alone names no configuration to follow: it stays whole.
    Some(if out.is_empty() { name.to_owned() } else { out })
}

/// The forms a host's name may take in an SAE's: whole, then the span of its parts that are not all
/// `shared` by every host (its core: "1.4b" of "pythia-1.4b-deduped", where it has letters and
/// digits), with or without the host's
/// neighbouring shared parts, these written with their separators or run together
/// ("pythia1.4b"), longest first.
fn host_forms(host: &str, shared: &HashSet<&str>) -> Vec<String> {
    let mut mine = vec![];
    let mut start = None;
    for (i, c) in host.char_indices().chain([(host.len(), '-')]) {
        match (SEPARATORS.contains(&c), start) {
            (true, Some(s)) => {
                mine.push((s, i));
                start = None;
            }
            (false, None) => start = Some(i),
            _ => {}
        }
    }
    let shared = |&(a, b): &(usize, usize)| shared.contains(&host[a..b]);
    let mut forms = vec![host.to_owned()];
    let own: Vec<usize> = (0..mine.len()).filter(|&i| !shared(&mine[i])).collect();
    // Only a core like a size or a name ("70m", "1.4b", "d48"), letters and digits: a bare number
    // ("1" of "blocks.1.hook_resid_post") stands in too many names for other reasons.
    let tag = |t: &str| t.chars().any(char::is_alphabetic) && t.chars().any(|c| c.is_ascii_digit());
    if let (Some(&first), Some(&last)) = (own.first(), own.last())
        && tag(&host[mine[first].0..mine[last].1])
    {
        let core = &host[mine[first].0..mine[last].1];
        // The shared parts next to the core, nearest first.
        let before: Vec<&str> = (0..first)
            .rev()
            .map(|i| &host[mine[i].0..mine[i].1])
            .collect();
        let after: Vec<&str> = (last + 1..mine.len())
            .map(|i| &host[mine[i].0..mine[i].1])
            .collect();
        for p in 0..=before.len() {
            for q in 0..=after.len() {
                let (pre_at, suf_end) = (
                    if p == 0 {
                        mine[first].0
                    } else {
                        mine[first - p].0
                    },
                    if q == 0 {
                        mine[last].1
                    } else {
                        mine[last + q].1
                    },
                );
                let pre: String = before[..p].iter().rev().copied().collect();
                let suf: String = after[..q].concat();
                forms.push(host[pre_at..suf_end].to_owned());
                forms.push(format!("{pre}{core}{suf}"));
            }
        }
    }
    forms.sort_by_key(|f| std::cmp::Reverse(f.len()));
    forms.dedup();
    forms.retain(|f| !f.is_empty());
    forms
}

/// The configurations of the drawn splices: series where one recurs in two groups; else each
/// splice's own, so that the legend still names every point.
pub(crate) struct Series {
    /// Each configuration's name, in the order of its first splice.
    names: Vec<String>,
    /// Each splice's configuration (`None`: not drawn, it has no compute fraction).
    of: Vec<Option<usize>>,
    /// Whether a configuration recurs in another group.
    recurs: bool,
}

impl Series {
    pub(crate) fn of(d: &Data) -> Series {
        let (_, idx) = d.group_column();
        let (_, _, group) = d.groups();
        let rows = d.rows();
        let mut seen = HashSet::new();
        let hosts: Vec<&str> = (rows.iter())
            .filter_map(|(sp, _)| Some(sp.raw[idx?].as_str()))
            .filter(|h| seen.insert(*h))
            .collect();
        let hosts = HostForms::new(&hosts);
        let mut config: Vec<Option<String>> = (rows.iter())
            .map(|(sp, m)| {
                m.eq.fraction?;
                Some(match idx {
                    Some(i) => configuration(&sp.name, &sp.raw[i], &hosts),
                    None => sp.name.clone(),
                })
            })
            .collect();
        // Two SAEs of one group with one configuration are not one SAE on two hosts: the rule
        // took out more than the host there, so those keep their whole names.
        let mut in_group: HashMap<(usize, &str), usize> = HashMap::new();
        for (i, c) in config.iter().enumerate() {
            if let Some(c) = c {
                *in_group.entry((group[i], c)).or_default() += 1;
            }
        }
        let twice: Vec<bool> = (config.iter().enumerate())
            .map(|(i, c)| c.as_deref().is_some_and(|c| in_group[&(group[i], c)] > 1))
            .collect();
        drop(in_group);
        for (i, twice) in twice.into_iter().enumerate() {
            if twice {
                config[i] = Some(rows[i].0.name.clone());
            }
        }
        let mut names: Vec<String> = vec![];
        let mut at: HashMap<String, usize> = HashMap::new();
        let mut groups: Vec<Vec<usize>> = vec![];
        let mut of = vec![];
        for (i, c) in config.into_iter().enumerate() {
            let Some(c) = c else {
                of.push(None);
                continue;
            };
            let k = *at.entry(c.clone()).or_insert_with(|| {
                names.push(c);
                groups.push(vec![]);
                names.len() - 1
            });
            if !groups[k].contains(&group[i]) {
                groups[k].push(group[i]);
            }
            of.push(Some(k));
        }
        let recurs = groups.iter().any(|g| g.len() > 1);
        // No configuration to follow across groups: each marker is one SAE, named whole (a
        // group's value taken out of it, "topk" grouped by architecture, would misname it).
        if !recurs {
            for (i, k) in of.iter().enumerate() {
                if let Some(k) = *k {
                    names[k] = rows[i].0.name.clone();
                }
            }
        }
        Series { names, of, recurs }
    }

    /// How many configurations the legend names: all, up to one look each.
    fn named(&self) -> usize {
        self.names.len().min(NAMED)
    }

    /// The legend's entries: the first `named` configurations, then "+N more" for the rest.
    fn entries(&self, named: usize) -> Vec<String> {
        let mut out = distinct_labels(&self.names[..named]);
        if self.names.len() > named {
            let what = if self.recurs {
                "configurations"
            } else {
                "SAEs"
            };
            out.push(format!("+{} more {what}", self.names.len() - named));
        }
        out
    }
}

/// Marker shapes (dot, square, triangle, diamond, triangle down), cycled with the palette's
/// colours so that the first five configurations differ in shape too, as a greyscale print needs.
const SHAPES: usize = 5;

/// Most lines a column of the legend beside the plot holds: 18 lines and its margins fill 271 of
/// the plot's 293 pixels.
const LEGEND_LINES: usize = 18;

/// Most configurations the legend names, each with a look of its own (colour × shape); the rest
/// are grey dots, counted in one line. With that line they fill two columns.
const NAMED: usize = PALETTE.len() * SHAPES;
const _: () = assert!(NAMED < 2 * LEGEND_LINES);

/// A configuration's colour and marker shape: its own for the named ones (7 colours and 5 shapes,
/// coprime, so each of the first 35 has another pair), a grey dot for the rest.
fn look(k: usize, named: usize) -> (RGBColor, usize) {
    if k < named {
        (colour(k), k % SHAPES)
    } else {
        (GREY, 0)
    }
}

/// The outline of a marker of `shape` past the dot (square, triangle) about `r` pixels in radius,
/// around (0, 0), in sizes that look as large as the dot.
fn outline(shape: usize, r: i32) -> Vec<(i32, i32)> {
    let (q, t) = ((r * 9) / 10, (r * 6) / 5);
    match shape % SHAPES {
        1 => vec![(-q, -q), (q, -q), (q, q), (-q, q)],
        2 => vec![(0, -t), (t, (3 * t) / 5), (-t, (3 * t) / 5)],
        3 => vec![(0, -t), (t, 0), (0, t), (-t, 0)],
        _ => vec![(0, t), (t, -(3 * t) / 5), (-t, -(3 * t) / 5)],
    }
}

/// Margin and swatch column of the legend beside the plot (as `plot::legend` draws one), and its
/// gap from the plot, in SVG pixels.
const LEGEND_MARGIN: f64 = 6.0;
const LEGEND_SWATCH: f64 = 28.0;
const LEGEND_GAP: f64 = 10.0;

/// The width the figure needs beside [`SIZE`] for its legend (SVG pixels): none when it draws no
/// point.
pub(crate) fn legend_width(d: &Data) -> u32 {
    let series = Series::of(d);
    if series.names.is_empty() {
        return 0;
    }
    let font = Style { scale: 1.0 }.note();
    let texts = series.entries(series.named());
    let widest = (texts.iter())
        .map(|e| font.font.box_size(e).map_or(0, |b| b.0))
        .max()
        .unwrap_or(0);
    let columns = texts.len().div_ceil(LEGEND_LINES) as u32;
    // A few pixels spare: the PNG's text, measured at its own size, may round wider.
    columns * (widest + LEGEND_SWATCH as u32)
        + (2.0 * LEGEND_MARGIN + LEGEND_GAP + 4.0) as u32
        + (columns - 1) * LEGEND_MARGIN as u32
}

/// What the figure decided when its SVG was drawn, for its PNG: the groups' names beneath the axis.
#[derive(Clone, Debug)]
pub(crate) struct Choices {
    names: Names,
}

/// The x axis of the series figure: where group `g` sits, in the axis's units (the group's index,
/// or log10 of its host's size), and how wide one group's slot is in those units.
struct XAxis {
    /// NaN for a group with no point drawn: it takes no place on the axis.
    at: Vec<f64>,
    slot: f64,
    /// How many groups have a place: the categorical axis's width.
    places: usize,
    /// The law's parameter count, when the axis is host size.
    sizes: Option<ParamCount>,
    /// Why the groups are not at their hosts' sizes, where they are hosts.
    not_sizes: Option<String>,
}

impl XAxis {
    /// Host size where the groups are hosts, every splice gives its host's parameter count as the
    /// law counts N (a host given only in another count is not placed on the law's axis), each
    /// host one and no two hosts the same; else the groups' order, and why.
    fn of(d: &Data, n: usize, group: &[usize]) -> XAxis {
        let rows = d.rows();
        // Only groups with a point drawn (a compute fraction) are placed, and decide the axis.
        let drawn = |i: usize| rows[i].1.eq.fraction.is_some();
        let shown: Vec<bool> = (0..n)
            .map(|g| (0..rows.len()).any(|i| group[i] == g && drawn(i)))
            .collect();
        let places = shown.iter().filter(|on| **on).count();
        let categorical = |why: Option<String>| {
            let mut next = 0.0;
            let at = (shown.iter())
                .map(|&on| match on {
                    true => {
                        next += 1.0;
                        next - 1.0
                    }
                    false => f64::NAN,
                })
                .collect();
            XAxis {
                at,
                slot: 1.0,
                places,
                sizes: None,
                not_sizes: why,
            }
        };
        let (col, _) = d.group_column();
        if col.as_deref().is_some_and(|c| c != "model") {
            return categorical(None);
        }
        let (_, labels, _) = d.groups();
        let count = d.law_file.data.param_count;
        let mut size: Vec<Option<f64>> = vec![None; n];
        let mut lacking: Vec<usize> = vec![];
        let mut needs = "";
        for (i, (sp, _)) in rows.iter().enumerate().filter(|(i, _)| drawn(*i)) {
            // `params` holds the law's count only under a total law (ceq eval writes the total
            // there); under a non-embedding law only params_non_embedding does.
            let own;
            (own, needs) = match count {
                ParamCount::Total => (sp.counts.total.or(sp.params), "params_total or params"),
                ParamCount::NonEmbedding => (sp.counts.non_embedding, "params_non_embedding"),
            };
            let g = group[i];
            let Some(v) = own.filter(|v| v.is_finite() && *v > 0.0) else {
                if !lacking.contains(&g) {
                    lacking.push(g);
                }
                continue;
            };
            match size[g] {
                Some(w) if (w / v - 1.0).abs() > 1e-9 => {
                    return categorical(Some(format!(
                        "{}'s rows give two parameter counts",
                        label_text(&labels[g])
                    )));
                }
                _ => size[g] = Some(v),
            }
        }
        if !lacking.is_empty() {
            let why = if lacking.len() == places {
                format!("no host has {needs}")
            } else {
                let first = label_text(&labels[lacking[0]]);
                match lacking.len() {
                    1 => format!("{first} has no {needs}"),
                    k => format!("{first} and {} more have no {needs}", k - 1),
                }
            };
            return categorical(Some(why));
        }
        if places < 2 {
            let one = match n {
                1 => "one host",
                _ => "one host has a point drawn",
            };
            return categorical(Some(one.into()));
        }
        let at: Vec<f64> = size
            .iter()
            .map(|v| v.map_or(f64::NAN, f64::log10))
            .collect();
        let mut gap = f64::INFINITY;
        for a in (0..n).filter(|&g| shown[g]) {
            for b in (a + 1..n).filter(|&g| shown[g]) {
                if (at[a] - at[b]).abs() <= 1e-9 {
                    return categorical(Some(format!(
                        "{} and {} are one size",
                        label_text(&labels[a]),
                        label_text(&labels[b])
                    )));
                }
                gap = gap.min((at[a] - at[b]).abs());
            }
        }
        XAxis {
            at,
            slot: gap,
            places,
            sizes: Some(count),
            not_sizes: None,
        }
    }
}

/// The figure: the frame on either x axis, the series, the groups' names beneath the axis.
fn draw_series<DB: DrawingBackend>(
    root: &Area<DB>,
    d: &Data,
    s: &Style,
    series: &Series,
) -> PlotResult {
    let (group_name, labels, group) = d.groups();
    let axis = XAxis::of(d, labels.len(), &group);
    let (y0, y1) = y_range(d);
    let group_name = label_text(&group_name);
    // The plot keeps the other figures' size; the legend stands to its right.
    let (plot, _) = root.split_horizontally(s.px(SIZE.0 as f64));
    // A group with no point drawn is not named under the axis (the note counts its splices) and,
    // on a host-size axis, does not stretch it.
    let drawn: Vec<bool> = (0..labels.len())
        .map(|g| (0..group.len()).any(|i| group[i] == g && series.of[i].is_some()))
        .collect();
    let labels: Vec<String> = (labels.iter().zip(&drawn))
        .map(|(l, &on)| if on { l.clone() } else { String::new() })
        .collect();
    let sheet = Sheet {
        root,
        plot: &plot,
        d,
        s,
        series,
        axis: &axis,
        labels: &labels,
        y_range: (y0, y1),
    };
    match axis.sizes {
        Some(count) => {
            let (lo, hi) = (axis.at.iter().zip(&drawn))
                .filter(|(_, on)| **on)
                .map(|(u, _)| *u)
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), v| {
                    (l.min(v), h.max(v))
                });
            // Half a slot each side, and no less than a marker's room: with two hosts close
            // together the slot is narrow, and the end hosts' markers would sit on the frame.
            let pad = (axis.slot / 2.0).max(0.05 * (hi - lo)).max(0.05);
            let (x0, x1) = (10f64.powf(lo - pad), 10f64.powf(hi + pad));
            // Counts as the other figures write them; the hosts' own sizes where the range
            // holds fewer than two round ones.
            let mut ticks = log_ticks(x0, x1);
            if ticks.len() < 2 {
                ticks = (axis.at.iter().filter(|u| u.is_finite()))
                    .map(|u| 10f64.powf(*u))
                    .collect();
            }
            let frame = Frame {
                title: "Compute fraction across host sizes",
                desc: format!(
                    "Host parameters N ({}; a host's SAEs stand around its ▲)",
                    count.name()
                ),
                note: None,
                ticks: Some(&|v: &f64| pow10(*v)),
            };
            let x = || (x0..x1).log_scale().with_key_points(ticks.clone());
            draw_on(&sheet, &frame, x, |u| 10f64.powf(u))
        }
        None => {
            let n = axis.places.max(1) as f64;
            let frame = Frame {
                title: &format!("Compute fraction by {group_name}"),
                desc: format!("{group_name}, {}", d.group_order()),
                note: (axis.not_sizes.as_ref()).map(|w| format!("not at host size: {w}")),
                ticks: None,
            };
            let x = || RangedCoordf64::from(-0.5..(n - 0.5));
            draw_on(&sheet, &frame, x, |u| u)
        }
    }
}

/// What the frame of one x axis says: the title, the x axis's description and a note under it,
/// and the tick labels (none on a categorical axis: the groups' names stand there).
struct Frame<'f> {
    title: &'f str,
    desc: String,
    note: Option<String>,
    ticks: Option<&'f dyn Fn(&f64) -> String>,
}

/// The figure on `plot` with the x axis `xy.0` makes, where `to_x` turns a group's place
/// (`axis.at`) into x: the frame, with room beneath the axis for the groups' names, the series,
/// then the names, each under its group.
#[allow(clippy::too_many_arguments)]
fn draw_on<DB, X>(
    sheet: &Sheet<DB>,
    frame: &Frame,
    x: impl Fn() -> X,
    to_x: impl Fn(f64) -> f64,
) -> PlotResult
where
    DB: DrawingBackend,
    X: Ranged<ValueType = f64> + ValueFormatter<f64>,
{
    let Sheet {
        root,
        plot,
        d,
        s,
        series,
        axis,
        labels,
        y_range: (y0, y1),
    } = *sheet;
    // Where each group's names go: the plot's x pixels do not depend on the height beneath it,
    // so a frame without a title, drawn nowhere, places them.
    let centres: Vec<i32> = {
        let probe = ChartBuilder::on(plot)
            .margin(s.px(10.0))
            .x_label_area_size(s.px(44.0))
            .y_label_area_size(s.px(56.0))
            .build_cartesian_2d(x(), fraction_axis(y0, y1))
            .map_err(err)?;
        let y0 = probe.y_range().start;
        (axis.at.iter())
            .map(|&u| probe.backend_coord(&(to_x(u), y0)).0)
            .collect()
    };
    let bounds = (0, plot.dim_in_pixel().0 as i32);
    let made = d.layout.across_sizes.borrow().clone();
    let names = match made {
        Some(c) => c.names,
        None => Names::arrange(root, s, labels, &centres, bounds)?,
    };
    // Beneath a host-size axis the names stand under its counts.
    let above = if frame.ticks.is_some() { 20.0 } else { 6.0 };
    let height = group_names::area_height(s, above, names.lines(), frame.note.is_some());
    // Room above the highest point for the notes in the plot's upper left corner: the top of
    // the axis is raised until the points sit below them.
    let y1 = {
        // The same frame on a scratch canvas of the plot's size (a frame built on the plot
        // would draw its title there twice).
        let mut scratch = String::new();
        let ph = {
            let area =
                SVGBackend::with_string(&mut scratch, plot.dim_in_pixel()).into_drawing_area();
            let probe = builder(&area, frame.title, s, 56.0)
                .x_label_area_size(height)
                .build_cartesian_2d(x(), fraction_axis(y0, y1))
                .map_err(err)?;
            probe.plotting_area().dim_in_pixel().1 as f64
        };
        let lines = notes(d).len() as f64;
        let top = (d.rows().iter())
            .flat_map(|(_, m)| {
                let hi = m.ci.and_then(|c| c.fraction).map(|c| c.1);
                [m.eq.fraction, hi.filter(|v| v.is_finite())]
            })
            .flatten()
            .fold(f64::NEG_INFINITY, f64::max);
        // The notes' band, and a marker's radius and a little more below it.
        let f = ((4.0 + 14.0 * lines + 8.0) * s.scale / ph).min(0.5);
        if lines > 0.0 && top.is_finite() && top > 0.0 {
            let want = (top.ln() - f * y0.ln()) / (1.0 - f);
            y1.max(want.exp())
        } else {
            y1
        }
    };
    let mut chart = builder(plot, frame.title, s, 56.0)
        .x_label_area_size(height)
        .build_cartesian_2d(x(), fraction_axis(y0, y1))
        .map_err(err)?;
    let none = |_: &f64| String::new();
    let (ticks, count): (&dyn Fn(&f64) -> String, usize) = match frame.ticks {
        Some(f) => (f, 10),
        None => (&none, 0),
    };
    let mut mesh = s.mesh(&mut chart);
    mesh.y_desc(Y_DESC)
        .x_labels(count)
        .y_labels(8)
        .x_label_formatter(ticks)
        .y_label_formatter(&|v| percent(*v));
    if frame.ticks.is_none() {
        mesh.disable_x_mesh();
    }
    mesh.draw().map_err(err)?;
    body(root, d, s, series, axis, &mut chart, &to_x)?;
    let (px0, py0) = chart.plotting_area().get_base_pixel();
    let (pw, ph) = chart.plotting_area().dim_in_pixel();
    // On a host-size axis a host's SAEs stand side by side around its N: a mark on the axis says
    // where N itself is (the description names it).
    if frame.ticks.is_some() {
        let bottom = py0 + ph as i32;
        let font = s.text(9.0).pos(Pos::new(HPos::Center, VPos::Bottom));
        for (&cx, label) in centres.iter().zip(labels) {
            if !label.is_empty() {
                root.draw(&Text::new("▲", (cx, bottom), font.clone()))
                    .map_err(err)?;
            }
        }
    }
    let mid = px0 + pw as i32 / 2;
    let top = py0 + ph as i32 + s.px(above);
    let under = (mid, frame.desc.as_str(), frame.note.as_deref());
    names.draw(root, s, &centres, bounds, top, under)?;
    *d.layout.across_sizes.borrow_mut() = Some(Choices { names });
    Ok(())
}

/// The y axis's description: which fraction (not compute_fraction_of_actual, the share of the
/// host's own training compute, which differs from host to host).
const Y_DESC: &str = "C_eq(spliced) / C_eq(clean) (log scale)";

/// The series figure's y axis: the compute fraction, log.
type FractionAxis = WithKeyPoints<LogCoord<f64>>;

fn fraction_axis(y0: f64, y1: f64) -> FractionAxis {
    (y0..y1).log_scale().with_key_points(log_ticks(y0, y1))
}

/// What both x axes draw on: the canvas, the plot beside the legend, the rows, the groups'
/// labels and the fraction's range.
struct Sheet<'a, DB: DrawingBackend> {
    root: &'a Area<DB>,
    plot: &'a Area<DB>,
    d: &'a Data<'a>,
    s: &'a Style,
    series: &'a Series,
    axis: &'a XAxis,
    labels: &'a [String],
    y_range: (f64, f64),
}

/// The series on either x axis, whose positions (`axis.at`, in the axis's units) `to_x` turns into
/// the chart's x: the lines, the bars, the markers and the legend beside the plot.
fn body<'a, DB: DrawingBackend + 'a, X: Ranged<ValueType = f64>>(
    root: &Area<DB>,
    d: &Data,
    s: &Style,
    series: &Series,
    axis: &XAxis,
    chart: &mut ChartContext<'a, DB, Cartesian2d<X, FractionAxis>>,
    to_x: impl Fn(f64) -> f64,
) -> PlotResult {
    let rows = d.rows();
    let (_, labels, group) = d.groups();
    let (px0, py0) = chart.plotting_area().get_base_pixel();
    let pw = chart.plotting_area().dim_in_pixel().0;
    let (k, named) = (series.names.len(), series.named());
    // Each splice's place in its group, across ±0.3 of the slot so that the bars do not overlap:
    // a configuration's the same in every group; without series, the group's splices in file
    // order.
    let spread = |j: usize, n: usize| {
        axis.slot
            * if n > 1 {
                -0.3 + 0.6 * j as f64 / (n - 1) as f64
            } else {
                0.0
            }
    };
    // Each configuration's splices and each group's drawn ones, in file order.
    let (mut of_config, mut in_group) = (vec![vec![]; k], vec![vec![]; labels.len()]);
    for (i, c) in series.of.iter().enumerate() {
        if let Some(c) = *c {
            of_config[c].push(i);
            in_group[group[i]].push(i);
        }
    }
    let mut offsets = vec![0.0; rows.len()];
    for (c, splices) in of_config.iter().enumerate().filter(|_| series.recurs) {
        splices.iter().for_each(|&i| offsets[i] = spread(c, k));
    }
    for splices in in_group.iter().filter(|_| !series.recurs) {
        for (j, &i) in splices.iter().enumerate() {
            offsets[i] = spread(j, splices.len());
        }
    }
    // Each drawn splice: its configuration, its place on the axis, its fraction.
    let point = |i: usize| -> Option<(usize, f64, f64)> {
        let c = series.of[i]?;
        Some((c, axis.at[group[i]] + offsets[i], rows[i].1.eq.fraction?))
    };
    let r = s.px(3.4);
    let cap = 0.04 * axis.slot;
    // The lines first, beneath every bar and marker: each configuration's points in the order of
    // its hosts' sizes (the groups' order on a categorical axis), then file order.
    for (c, splices) in of_config.iter().enumerate() {
        let mut pts: Vec<(f64, f64, f64)> = (splices.iter())
            .filter_map(|&i| point(i).map(|p| (axis.at[group[i]], p.1, p.2)))
            .collect();
        pts.sort_by(|a, b| a.0.total_cmp(&b.0));
        if series.recurs && pts.len() > 1 {
            let (col, _) = look(c, named);
            chart
                .draw_series(std::iter::once(PathElement::new(
                    pts.iter().map(|p| (to_x(p.1), p.2)).collect::<Vec<_>>(),
                    s.line(col.mix(0.7), 0.8),
                )))
                .map_err(err)?;
        }
    }
    // An interval end off the axis (unbounded, or not above zero on the log axis) runs to the
    // plot's edge and ends in an arrowhead there, not a cap: a cap would read as a finite end.
    let (ay0, ay1) = {
        let r = chart.y_range();
        (r.start, r.end)
    };
    for (i, (_, m)) in rows.iter().enumerate() {
        let Some((c, u, _)) = point(i) else { continue };
        let (col, _) = look(c, named);
        if let Some((lo, hi)) = m.ci.and_then(|c| c.fraction) {
            let (a, x, b) = (to_x(u - cap), to_x(u), to_x(u + cap));
            let lo_open = !(lo.is_finite() && lo >= ay0);
            let hi_open = !(hi.is_finite() && hi <= ay1);
            let (lo, hi) = (
                if lo_open { ay0 } else { lo },
                if hi_open { ay1 } else { hi },
            );
            let mut segs = vec![vec![(x, lo), (x, hi)]];
            if !lo_open {
                segs.push(vec![(a, lo), (b, lo)]);
            }
            if !hi_open {
                segs.push(vec![(a, hi), (b, hi)]);
            }
            for seg in segs {
                chart
                    .draw_series(std::iter::once(PathElement::new(seg, s.line(col, 1.2))))
                    .map_err(err)?;
            }
            for (end, up) in [(lo, false), (hi, true)] {
                if (up && hi_open) || (!up && lo_open) {
                    let tip = chart.backend_coord(&(x, end));
                    let dir = if up { (0, -1) } else { (0, 1) };
                    root.draw(&arrowhead(tip, dir, s, col)).map_err(err)?;
                }
            }
        }
    }
    for (c, splices) in of_config.iter().enumerate() {
        let (col, shape) = look(c, named);
        let mine = (splices.iter()).filter_map(|&i| point(i).map(|p| (to_x(p.1), p.2)));
        if shape % SHAPES == 0 {
            chart
                .draw_series(mine.map(|p| Circle::new(p, r, col.filled())))
                .map_err(err)?;
        } else {
            let shape = outline(shape, r);
            chart
                .draw_series(
                    mine.map(|p| EmptyElement::at(p) + Polygon::new(shape.clone(), col.filled())),
                )
                .map_err(err)?;
        }
    }
    corner_notes(root, chart, s, notes(d))?;
    // Beside the plot, level with its top.
    let at = (px0 + pw as i32 + s.px(LEGEND_GAP), py0);
    side_legend(root, s, at, &series.entries(named), named, r)
}

/// The legend beside the plot, its top left at `at`, drawn as `plot::legend` draws one inside a plot
/// (plotters' own would be cut at the plot's edge): each named configuration's line with its
/// marker, then "+N more" with a grey dot, in columns of [`LEGEND_LINES`].
fn side_legend<DB: DrawingBackend>(
    root: &Area<DB>,
    s: &Style,
    (x, y): (i32, i32),
    entries: &[String],
    named: usize,
    r: i32,
) -> PlotResult {
    if entries.is_empty() {
        return Ok(());
    }
    let font = s.note().pos(Pos::new(HPos::Left, VPos::Center));
    let mut w = 0;
    for e in entries {
        w = w.max(root.estimate_text_size(e, &font).map_err(err)?.0 as i32);
    }
    let (margin, swatch) = (s.px(LEGEND_MARGIN), s.px(LEGEND_SWATCH));
    let line = 1.25 * 11.5 * s.scale;
    let lines = entries.len().min(LEGEND_LINES);
    let columns = entries.len().div_ceil(LEGEND_LINES) as i32;
    let column = w + swatch + margin;
    let h = (lines as f64 * line).ceil() as i32 + 2 * margin;
    let corners = [(x, y), (x + columns * column + margin, y + h)];
    root.draw(&Rectangle::new(corners, WHITE.mix(0.9).filled()))
        .map_err(err)?;
    root.draw(&Rectangle::new(corners, GREY)).map_err(err)?;
    let len = s.px(22.0);
    for (c, text) in entries.iter().enumerate() {
        let (col_x, row) = (x + (c / LEGEND_LINES) as i32 * column, c % LEGEND_LINES);
        let mid = y + margin + ((row as f64 + 0.5) * line).round() as i32;
        let (x0, xm) = (col_x + margin, col_x + margin + len / 2);
        if c < named {
            let (col, shape) = look(c, named);
            root.draw(&PathElement::new(
                vec![(x0, mid), (x0 + len, mid)],
                s.line(col.mix(0.7), 0.8),
            ))
            .map_err(err)?;
            if shape % SHAPES == 0 {
                root.draw(&Circle::new((xm, mid), r, col.filled()))
                    .map_err(err)?;
            } else {
                let pts = outline(shape, r)
                    .into_iter()
                    .map(|(dx, dy)| (xm + dx, mid + dy));
                root.draw(&Polygon::new(pts.collect::<Vec<_>>(), col.filled()))
                    .map_err(err)?;
            }
        } else {
            root.draw(&s.swatch_dot(GREY)((x0, mid))).map_err(err)?;
        }
        root.draw(&Text::new(text.clone(), (x0 + swatch, mid), font.clone()))
            .map_err(err)?;
    }
    Ok(())
}

/// What the figure drawn from `d` shows beyond its one-line description: how its x axis is made
/// (and, where the hosts are not at their sizes, why), and where it draws series, how they are
/// made.
pub(crate) fn about(d: &Data) -> Option<String> {
    let (name, labels, group) = d.groups();
    if labels.is_empty() {
        return None;
    }
    let name = label_text(&name);
    let series = Series::of(d);
    let axis = XAxis::of(d, labels.len(), &group);
    let order = d.group_order();
    let x = match (axis.sizes, &axis.not_sizes) {
        (Some(c), _) => format!("x: host size, N = {}, log scale", c.describe()),
        (_, Some(why)) => format!("x: the {name} groups {order}, not at host size: {why}"),
        _ => format!("x: the {name} groups {order}"),
    };
    let mut out = format!("y: the compute fraction C_eq(spliced)/C_eq(clean), log scale; {x}");
    let joined = match axis.sizes {
        Some(_) => "host size",
        None => "the groups",
    };
    let k = series.names.len();
    out += &if series.recurs {
        format!(
            "; {k} configurations, each a splice's name with its {name} taken out, named in the \
             legend; each at one place in every group, its points joined in order of {joined}"
        )
    } else {
        format!(
            "; no SAE configuration recurs in another {name} group (a splice's name with its \
             {name} taken out): each of the {k} SAEs has its own marker, named in the legend"
        )
    };
    if k > series.named() {
        out += &format!(
            "; past {} the rest are grey dots (the mapped table names every one)",
            series.named()
        );
    }
    if let Some(l) = left_out(d) {
        out += &format!("; {}", l.caption(d));
    }
    Some(out)
}

/// The notes in the plot's upper left corner: what the bars are (of the drawn rows, those with a
/// compute fraction, only), that an arrowhead is an unbounded end, and the splices not drawn.
fn notes(d: &Data) -> Vec<String> {
    let rows = d.rows();
    let bars = d
        .map
        .and_then(|m| m.interval_caption_of(|m| m.eq.fraction.is_some()));
    // The axis holds every finite, positive end: the others run off it.
    let open = (rows.iter())
        .filter(|(_, m)| m.eq.fraction.is_some())
        .filter_map(|(_, m)| m.ci.and_then(|c| c.fraction))
        .any(|(lo, hi)| !(lo.is_finite() && lo > 0.0 && hi.is_finite()));
    let mut v: Vec<String> = bars.into_iter().collect();
    if open {
        v.push(OPEN_NOTE.to_owned());
    }
    v.extend(left_out(d).map(|l| l.short()));
    v
}

/// The splices not drawn: those without a compute fraction.
fn left_out(d: &Data) -> Option<LeftOut> {
    let rows = d.rows();
    let out: Vec<usize> = (0..rows.len())
        .filter(|&i| rows[i].1.eq.fraction.is_none())
        .collect();
    LeftOut::of(d, &out, || "no compute fraction (see mapped status)".into())
}

#[cfg(test)]
mod tests {
    use super::HostForms;

    fn configuration(name: &str, host: &str, hosts: &[&str]) -> String {
        super::configuration(name, host, &HostForms::new(hosts))
    }

    /// The host's name comes out where it is a part of the name, wherever it stands; elsewhere,
    /// and with no name to take out, the name is whole.
    #[test]
    fn a_configuration_is_the_name_less_its_host() {
        let host = "d48-L2-t4096000";
        let hosts = [host, "d64-L2-t4096000"];
        let c = |name: &str, host: &str| configuration(name, host, &hosts);
        assert_eq!(
            c("d48-L2-t4096000-L0-standard-l1-0.3", host),
            "L0-standard-l1-0.3"
        );
        assert_eq!(c("sae_d48-L2-t4096000_L0", host), "sae-L0");
        assert_eq!(c("L0/topk-k8/d48-L2-t4096000", host), "L0/topk-k8");
        // "2" stands inside "L2" and "l032", not as a part.
        assert_eq!(
            configuration("host-70m-L2-8x-l032", "2", &["2"]),
            "host-70m-L2-8x-l032"
        );
        assert_eq!(
            configuration("host-70m-L2-2-x", "2", &["2"]),
            "host-70m-L2-x"
        );
        assert_eq!(configuration("-sae-", "", &[""]), "-sae-");
        assert_eq!(c("d48-L2-t4096000", host), "d48-L2-t4096000");
        // Without the whole host: its own part ("d48"), not the parts every host shares.
        assert_eq!(c("d48_L0_topk", host), "L0_topk");
        // A core of digits alone is not looked for.
        let hooks = ["blocks.0.hook_resid_post", "blocks.1.hook_resid_post"];
        assert_eq!(
            configuration("d48-L1-standard-l1-1", hooks[1], &hooks),
            "d48-L1-standard-l1-1"
        );
        assert_eq!(c("L2-t4096000-L0", host), "L2-t4096000-L0");
    }

    /// SAEBench's names (release/sae_id) hold the host run together and without its suffix:
    /// "pythia70m" of model "pythia-70m-deduped"; names of another scheme hold its size alone.
    #[test]
    fn a_configuration_of_saebench_and_of_names_with_the_size_alone() {
        let hosts = [
            "pythia-70m-deduped",
            "pythia-410m-deduped",
            "pythia-1.4b-deduped",
        ];
        for (host, tag) in hosts.iter().zip(["70m", "410m", "1.4b"]) {
            let name = format!(
                "sae_bench_pythia{tag}_sweep_topk_ctx128_0730/blocks.3.hook_resid_post__trainer_2"
            );
            assert_eq!(
                configuration(&name, host, &hosts),
                "sae_bench-sweep_topk_ctx128_0730/blocks.3.hook_resid_post__trainer_2"
            );
            assert_eq!(
                configuration(&format!("L6-topk-k32@{tag}"), host, &hosts),
                "L6-topk-k32"
            );
        }
        // "1.4b" is not taken out of another host's name.
        assert_eq!(
            configuration("sae_bench_pythia410m_x", "pythia-1.4b-deduped", &hosts),
            "sae_bench_pythia410m_x"
        );
    }
}
