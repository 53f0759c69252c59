//! Figure 2, where the splices land: the fitted curve, each host's clean loss on it, and each spliced
//! loss placed on it at its compute-equivalent, with an arrow from the host's compute leftwards to the
//! equivalent — the compute lost, annotated with the fraction.

use plotters::prelude::*;

use super::style::{GREY, Style, lin_range, log_range, logspace, sig2};
use super::{
    Area, CORNERS, Data, LeftOut, Placer, PlotResult, draw_band, err, group_colour, group_entry,
    group_legend, legend, legend_box, legend_corner, loss_chart, more_groups,
};

pub fn draw<DB: DrawingBackend>(root: &Area<DB>, d: &Data, s: &Style) -> PlotResult {
    let rows = d.rows();
    let (group_name, labels, group) = d.groups();
    // Each loss on the law's own axis (compute, or tokens for `run`); only splices with both ends on
    // the curve can be drawn.
    let at: Vec<Option<(f64, f64)>> = rows
        .iter()
        .map(|(s, _)| d.law.inverse(s.ce_clean).zip(d.law.inverse(s.ce_spliced)))
        .collect();
    let drawn: Vec<usize> = (0..rows.len()).filter(|&i| at[i].is_some()).collect();
    // Only the groups with a drawn splice, in their order, each its colour and legend line: a
    // group with nothing drawn is not counted in the legend's "+N more".
    let shown: Vec<usize> = (0..labels.len())
        .filter(|&g| drawn.iter().any(|&i| group[i] == g))
        .collect();
    let group: Vec<usize> = (group.iter())
        .map(|g| shown.iter().position(|h| h == g).unwrap_or(usize::MAX))
        .collect();
    let labels: Vec<String> = shown.iter().map(|&g| labels[g].clone()).collect();
    let xs = drawn.iter().flat_map(|&i| {
        let (c, s) = at[i].unwrap();
        [c, s]
    });
    let (x0, x1) = log_range(xs, 3.0);
    let ys = drawn
        .iter()
        .flat_map(|&i| [rows[i].0.ce_clean, rows[i].0.ce_spliced]);
    let (y0, y1) = lin_range(ys, 0.1);
    // The title says what the "×" labels are, so the figure reads alone (review 96); the legend
    // has no room to spare.
    let title = match d.law.form().axis() {
        crate::law::Axis::Tokens => "Spliced losses on the fitted curve (×: D_eq spliced/clean)",
        crate::law::Axis::Compute => "Spliced losses on the fitted curve (×: C_eq spliced/clean)",
    };
    let mut chart = loss_chart(
        root,
        title,
        s,
        d,
        ((x0, x1), (y0, y1)),
        &d.splices_loss_label(),
    )?;

    let xs = logspace(x0, x1, 120);
    let mut entries = vec![];
    if let Some(band) = draw_band(&mut chart, d, &xs, (y0, y1), GREY.mix(0.2))? {
        entries.push(d.band_label());
        band.label(d.band_label())
            .legend(s.swatch_box(GREY.mix(0.2)));
    }
    let curve: Vec<(f64, f64)> = xs
        .iter()
        .map(|&x| (x, d.law.curve(x)))
        .filter(|p| p.1 >= y0 && p.1 <= y1)
        .collect();
    let curve_px: Vec<(i32, i32)> = curve.iter().map(|p| chart.backend_coord(p)).collect();
    chart
        .draw_series(LineSeries::new(curve, s.line(GREY, 1.8)))
        .map_err(err)?
        .label("fitted curve")
        .legend(s.swatch_line(GREY, 1.8));

    // Each drawn splice in pixels: its clean loss on the curve, the arrow's start at the spliced
    // loss above it, and the arrow's head at the compute-equivalent.
    let arrows: Vec<Arrow> = drawn
        .iter()
        .map(|&i| {
            let (sp, (xc, xs_)) = (rows[i].0, at[i].unwrap());
            Arrow {
                clean: chart.backend_coord(&(xc, sp.ce_clean)),
                from: chart.backend_coord(&(xc, sp.ce_spliced)),
                to: chart.backend_coord(&(xs_, sp.ce_spliced)),
            }
        })
        .collect();
    let texts = group_legend(&group_name, &labels);
    entries.push("fitted curve".to_owned());
    entries.extend(texts.iter().cloned());
    entries.push(marks(d).into());
    let made = d.layout.splices.borrow().clone();
    let lower_left = match &made {
        Some(c) => c.lower_left,
        None => {
            let step = s.px(3.0).max(1);
            let mut cover = curve_px.clone();
            for a in &arrows {
                cover.extend(along(a.clean, a.from, step));
                cover.extend(along(a.from, a.to, step));
            }
            legend_corner(root, &chart, s, (&entries, &CORNERS[..2]), &cover)?
                == SeriesLabelPosition::LowerLeft
        }
    };
    // The splices' labels stay inside the plot, off the legend, the arrows and the markers.
    let (px0, py0) = chart.plotting_area().get_base_pixel();
    let (pw, ph) = chart.plotting_area().dim_in_pixel();
    let mut placer = Placer::within((px0, py0, px0 + pw as i32, py0 + ph as i32));
    placer.reserve(legend_box(root, &chart, s, &entries, !lower_left)?);
    let (head, mark) = (s.px(6.0), s.px(4.2));
    for (a, &i) in arrows.iter().zip(&drawn) {
        let c = group_colour(group[i]);
        let (from, to) = (a.from, a.to);
        // The connector from the host's clean loss up to its spliced loss.
        root.draw(&PathElement::new(
            vec![a.clean, from],
            s.line(c.mix(0.5), 0.8),
        ))
        .map_err(err)?;
        // The arrow: shaft and a head, in pixels so it looks the same on every axis.
        let dir = if from.0 >= to.0 { 1 } else { -1 };
        root.draw(&PathElement::new(
            vec![from, (to.0 + dir * head, to.1)],
            s.line(c, 1.4),
        ))
        .map_err(err)?;
        root.draw(&Polygon::new(
            vec![
                to,
                (to.0 + dir * head, to.1 - head / 2),
                (to.0 + dir * head, to.1 + head / 2),
            ],
            c.filled(),
        ))
        .map_err(err)?;
        let (x0, x1) = (from.0.min(to.0), from.0.max(to.0));
        placer.reserve((x0 - mark, to.1 - head / 2 - 1, x1 + 1, to.1 + head / 2 + 1));
        placer.reserve((from.0 - 2, from.1, from.0 + 2, a.clean.1));
        placer.reserve((
            a.clean.0 - mark,
            a.clean.1 - mark,
            a.clean.0 + mark,
            a.clean.1 + mark,
        ));
    }
    // Each label at its own arrow: beside its start, above or below its shaft, or left of its
    // head; one with none of these free is left out rather than put where it would name another.
    let mut picks = vec![];
    for ((a, &i), k) in arrows.iter().zip(&drawn).zip(0..) {
        let colour = group_colour(group[i]);
        let style = s.note().color(&colour);
        let text = format!("×{}", sig2(rows[i].1.eq.fraction.unwrap_or(f64::NAN)));
        let (w, h) = root.estimate_text_size(&text, &style).map_err(err)?;
        let (w, h) = (w as i32, h as i32);
        let (from, to, gap) = (a.from, a.to, s.px(4.0));
        let mid = (from.0 + to.0 - w) / 2;
        // Each place with the room it needs free around it (above, below): more on the side away
        // from its arrow, so that the label is nearer its own arrow than to any other.
        let spots = [
            ((from.0 + gap, to.1 - h / 2), (h / 2, h / 2)),
            ((mid, to.1 - head / 2 - gap - h), (h, 0)),
            ((mid, to.1 + head / 2 + gap), (0, h)),
            (
                (to.0.min(from.0) - mark - gap - w, to.1 - h / 2),
                (h / 2, h / 2),
            ),
        ];
        let free = |&((x, y), (up, down)): &((i32, i32), (i32, i32))| {
            placer.is_free((x, y - up), (w, h + up + down))
        };
        let pick = match &made {
            Some(c) => c.labels[k],
            None => spots.iter().position(free),
        };
        if let Some(j) = pick {
            let p = spots[j].0;
            placer.reserve((p.0, p.1, p.0 + w, p.1 + h));
            root.draw(&Text::new(text, p, style)).map_err(err)?;
        }
        picks.push(pick);
    }
    if made.is_none() {
        *d.layout.splices.borrow_mut() = Some(Choices {
            lower_left,
            labels: picks,
        });
    }
    let r = s.upx(3.2);
    for g in 0..labels.len() {
        let c = group_colour(g);
        let mine: Vec<usize> = drawn.iter().copied().filter(|&i| group[i] == g).collect();
        let series = chart
            .draw_series(
                mine.iter()
                    .map(|&i| Circle::new((at[i].unwrap().1, rows[i].0.ce_spliced), r, c.filled())),
            )
            .map_err(err)?;
        group_entry(series, g, &texts, s.swatch_dot(c));
        chart
            .draw_series(mine.iter().map(|&i| {
                let p = (at[i].unwrap().0, rows[i].0.ce_clean);
                EmptyElement::at(p)
                    + Rectangle::new(
                        [
                            (-(r as i32) - 1, -(r as i32) - 1),
                            (r as i32 + 1, r as i32 + 1),
                        ],
                        c.stroke_width(s.upx(1.5)),
                    )
            }))
            .map_err(err)?;
    }
    more_groups(&mut chart, &texts, s)?;
    if let Some(l) = left_out(d) {
        note_left_out(root, &chart, s, &placer, &curve_px, &l.short())?;
    }
    chart
        .draw_series(std::iter::empty::<Circle<(f64, f64), u32>>())
        .map_err(err)?
        .label(marks(d))
        .legend(|_| EmptyElement::at((0, 0)));
    let corner = if lower_left {
        SeriesLabelPosition::LowerLeft
    } else {
        SeriesLabelPosition::UpperRight
    };
    legend(&mut chart, s, corner)
}

/// One splice's arrow, in pixels.
struct Arrow {
    clean: (i32, i32),
    from: (i32, i32),
    to: (i32, i32),
}

/// The markers' legend entry: both sit on the curve at their equivalents (compute, or tokens for
/// a run's law), not at the host's own training compute (the fit figure's points are there).
fn marks(d: &Data) -> &'static str {
    match d.law.form().axis() {
        crate::law::Axis::Tokens => "□ clean  ● spliced, at their D_eq",
        crate::law::Axis::Compute => "□ clean  ● spliced, at their C_eq",
    }
}

/// The splices figure's choices: the legend's corner, and for each drawn splice which of its
/// label's places it took (`None`: left out).
#[derive(Clone, Debug)]
pub(crate) struct Choices {
    lower_left: bool,
    labels: Vec<Option<usize>>,
}

/// Points every `step` pixels from `a` to `b`, both ends included.
fn along(a: (i32, i32), b: (i32, i32), step: i32) -> Vec<(i32, i32)> {
    let n = ((b.0 - a.0).abs().max((b.1 - a.1).abs()) / step).max(1);
    (0..=n)
        .map(|k| (a.0 + (b.0 - a.0) * k / n, a.1 + (b.1 - a.1) * k / n))
        .collect()
}

/// The splices not drawn: a loss with no compute-equivalent on the curve.
pub(crate) fn left_out(d: &Data) -> Option<LeftOut> {
    let rows = d.rows();
    let off = |l: f64| d.law.inverse(l).is_none();
    let out: Vec<usize> = (0..rows.len())
        .filter(|&i| off(rows[i].0.ce_clean) || off(rows[i].0.ce_spliced))
        .collect();
    let floor = d.law.floor();
    let below = |l: f64| l <= floor;
    LeftOut::of(d, &out, || {
        if (out.iter()).all(|&i| below(rows[i].0.ce_clean) || below(rows[i].0.ce_spliced)) {
            format!("a loss at or below the fitted floor E = {floor:.3} (no compute reaches it)")
        } else {
            "a loss with no compute-equivalent on the fitted curve (see mapped status)".to_owned()
        }
    })
}

/// The note on the splices left out, in grey, in the first of the plot's corners (upper left,
/// lower left, lower right, upper right) free of the legend, the arrows and their labels.
fn note_left_out<DB: DrawingBackend, CT: plotters::coord::CoordTranslate>(
    root: &Area<DB>,
    chart: &ChartContext<'_, DB, CT>,
    s: &Style,
    placer: &Placer,
    curve: &[(i32, i32)],
    text: &str,
) -> PlotResult {
    let grey = GREY.mix(1.0);
    let style = s.note().color(&grey);
    let (w, h) = root.estimate_text_size(text, &style).map_err(err)?;
    let (w, h) = (w as i32, h as i32);
    let (px0, py0) = chart.plotting_area().get_base_pixel();
    let (pw, ph) = chart.plotting_area().dim_in_pixel();
    let (pw, ph) = (pw as i32, ph as i32);
    let m = s.px(6.0);
    let spots = [
        (px0 + m, py0 + m),
        (px0 + m, py0 + ph - m - h),
        (px0 + pw - m - w, py0 + ph - m - h),
        (px0 + pw - m - w, py0 + m),
    ];
    // The first corner free of everything; with none, the one that covers the fewest labels, the
    // legend included (drawn after, it would hide the note), then the least of the curve.
    let covered = |&(x, y): &(i32, i32)| {
        let on_curve = (curve.iter())
            .filter(|&&(cx, cy)| cx >= x && cx <= x + w && cy >= y && cy <= y + h)
            .count();
        (placer.clashes((x, y), (w, h)), on_curve)
    };
    let at = spots
        .iter()
        .copied()
        .min_by_key(covered)
        .unwrap_or(spots[0]);
    if covered(&at) != (0, 0) {
        // Over the curve or a label, on a backing so it still reads.
        let pad = s.px(2.0);
        let backing = [(at.0 - pad, at.1 - pad), (at.0 + w + pad, at.1 + h + pad)];
        root.draw(&Rectangle::new(backing, WHITE.mix(0.85).filled()))
            .map_err(err)?;
    }
    root.draw(&Text::new(text.to_owned(), at, style))
        .map_err(err)
}
