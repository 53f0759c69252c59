//! Figure 3, linear vs log — the reason ceq exists: "loss recovered" (%) against the compute fraction
//! (log scale) for every splice, so 90–99 % recovered reads as the 1–50 % of compute it is.

use plotters::prelude::*;

use super::style::{DASH, GREY, Style, lin_range, log_range, log_ticks, percent};
use super::{
    Area, Data, LeftOut, OPEN_NOTE, PlotResult, arrowhead, builder, corner_notes, err,
    group_colour, group_entry, group_legend, legend, more_groups,
};
use crate::equivalence::Mapped;

/// One splice: its index, compute fraction, loss recovered (%), and the fraction's interval.
struct Point {
    i: usize,
    fraction: f64,
    recovered: f64,
    ci: Option<(f64, f64)>,
}

pub fn draw<DB: DrawingBackend>(root: &Area<DB>, d: &Data, s: &Style) -> PlotResult {
    let rows = d.rows();
    let (group_name, labels, group) = d.groups();
    let pts: Vec<Point> = rows
        .iter()
        .enumerate()
        .filter_map(|(i, (_, m))| {
            Some(Point {
                i,
                fraction: m.eq.fraction?,
                recovered: 100.0 * m.loss_recovered?,
                ci: m.ci.and_then(|c| c.fraction),
            })
        })
        .collect();
    let xs = pts
        .iter()
        .flat_map(|p| [Some(p.fraction), p.ci.map(|c| c.0), p.ci.map(|c| c.1)])
        .flatten();
    let (x0, x1) = log_range(xs.chain([1.0]), 1.5);
    let (y0, y1) = lin_range(pts.iter().map(|p| p.recovered).chain([100.0]), 0.08);
    // Room above the points for the corner notes: the SAEs that recover the most loss stand
    // at the top, and at the left where their compute fraction is small.
    let bars = d.map.and_then(|m| m.interval_caption_of(drawn));
    let short = left_out(d).map(|l| l.short());
    let unbounded = pts
        .iter()
        .any(|p| p.ci.is_some_and(|(lo, hi)| !(lo > 0.0 && hi.is_finite())));
    let notes = [bars.is_some(), short.is_some(), unbounded];
    let band = NOTE_LINE * notes.iter().filter(|&&n| n).count() as f64 / PLOT_HEIGHT;
    let y1 = y1 + band / (1.0 - band) * (y1 - y0);
    let mut chart = builder(root, "Loss recovered vs compute kept", s, 52.0)
        .build_cartesian_2d(
            (x0..x1).log_scale().with_key_points(log_ticks(x0, x1)),
            y0..y1,
        )
        .map_err(err)?;
    s.mesh(&mut chart)
        .x_desc("Compute fraction C_eq(spliced)/C_eq(clean)")
        .y_desc("Loss recovered vs zero ablation (%)")
        .x_labels(8)
        .y_labels(6)
        .x_label_formatter(&|v| percent(*v))
        .y_label_formatter(&|v| super::style::lin_tick(*v, (y0, y1)))
        .draw()
        .map_err(err)?;
    // Where the two scales would agree: 100 % recovered = 100 % of the compute.
    chart
        .draw_series(DashedLineSeries::new(
            vec![(1.0, y0), (1.0, y1)],
            s.px(DASH.0) as u32,
            s.px(DASH.1) as u32,
            s.line(GREY, 1.0),
        ))
        .map_err(err)?;
    let r = s.upx(3.4);
    // Only the groups with points, in their order, each its colour and legend line.
    let shown: Vec<usize> = (0..labels.len())
        .filter(|&g| pts.iter().any(|p| group[p.i] == g))
        .collect();
    let names: Vec<String> = shown.iter().map(|&g| labels[g].clone()).collect();
    let texts = group_legend(&group_name, &names);
    let mut open = false;
    for (j, &g) in shown.iter().enumerate() {
        let c = group_colour(j);
        let mine: Vec<_> = pts.iter().filter(|p| group[p.i] == g).collect();
        for p in &mine {
            if let Some((lo, hi)) = p.ci {
                // An end off the axis runs to the edge and ends in an arrowhead there.
                let lo_open = !(lo.is_finite() && lo >= x0);
                let hi_open = !(hi.is_finite() && hi <= x1);
                let (lo, hi) = (if lo_open { x0 } else { lo }, if hi_open { x1 } else { hi });
                chart
                    .draw_series(std::iter::once(PathElement::new(
                        vec![(lo, p.recovered), (hi, p.recovered)],
                        s.line(c, 1.2),
                    )))
                    .map_err(err)?;
                for (end, dir, is) in [(lo, (-1, 0), lo_open), (hi, (1, 0), hi_open)] {
                    if is {
                        open = true;
                        let tip = chart.backend_coord(&(end, p.recovered));
                        root.draw(&arrowhead(tip, dir, s, c)).map_err(err)?;
                    }
                }
            }
        }
        let series = chart
            .draw_series(
                mine.iter()
                    .map(|p| Circle::new((p.fraction, p.recovered), r, c.filled())),
            )
            .map_err(err)?;
        group_entry(series, j, &texts, s.swatch_dot(c));
    }
    more_groups(&mut chart, &texts, s)?;
    // What the bars are, of the drawn rows only; and what is not drawn.
    let open = open.then(|| OPEN_NOTE.to_owned());
    corner_notes(root, &chart, s, bars.into_iter().chain(open).chain(short))?;
    legend(&mut chart, s, SeriesLabelPosition::LowerRight)
}

/// A corner note's line, and about the plot's height (SVG pixels).
const NOTE_LINE: f64 = 15.0;
const PLOT_HEIGHT: f64 = 290.0;

/// Whether a row is drawn: it has a compute fraction and a loss recovered.
pub(crate) fn drawn(m: &Mapped) -> bool {
    m.eq.fraction.is_some() && m.loss_recovered.is_some()
}

/// The splices not drawn.
pub(crate) fn left_out(d: &Data) -> Option<LeftOut> {
    let rows = d.rows();
    let out: Vec<usize> = (0..rows.len()).filter(|&i| !drawn(rows[i].1)).collect();
    // Each reason once, in the rows' order: a loss recovered is missing for want of zero
    // ablation, or because it does not raise the loss (the fraction is undefined).
    let mut whys: Vec<&str> = vec![];
    for &i in &out {
        let (s, m) = rows[i];
        let lr = match s.ce_zero_ablation {
            _ if m.loss_recovered.is_some() => None,
            None => Some("no loss recovered (no ce_zero_ablation)"),
            Some(_) => Some("no loss recovered (ce_zero_ablation not above ce_clean)"),
        };
        let fraction =
            m.eq.fraction
                .is_none()
                .then_some("no compute fraction (see mapped status)");
        for why in lr.into_iter().chain(fraction) {
            if !whys.contains(&why) {
                whys.push(why);
            }
        }
    }
    let left = LeftOut::of(d, &out, || whys.join(" or "))?;
    if whys.len() < 2 {
        return Some(left);
    }
    // Several reasons run off the figure: there, each kind once, without its detail.
    let mut kinds: Vec<&str> = vec![];
    for kind in whys.iter().map(|w| w.split(" (").next().unwrap_or(w)) {
        if !kinds.contains(&kind) {
            kinds.push(kind);
        }
    }
    Some(left.brief(kinds.join(" or ")))
}
