//! Figure 3, linear vs log — the reason ceq exists: "loss recovered" (%) against the compute fraction
//! (log scale) for every splice, so 90–99 % recovered reads as the 1–50 % of compute it is.

use plotters::prelude::*;

use super::style::{DASH, GREY, LinAxis, Style, lin_range, log_range, log_ticks, percent};
use super::{
    Area, Data, LeftOut, OPEN_NOTE, PlotResult, arrowhead, builder, corner_notes, err,
    group_colour, group_entry, group_legend, legend, legend_box, legend_corner_covering,
    more_groups,
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
    // Only the groups with points, in their order, each its colour and legend line.
    let shown: Vec<usize> = (0..labels.len())
        .filter(|&g| pts.iter().any(|p| group[p.i] == g))
        .collect();
    let names: Vec<String> = shown.iter().map(|&g| labels[g].clone()).collect();
    let texts = group_legend(&group_name, &names);
    let made = d.layout.linear_vs_log.borrow().clone();
    let Choices { at, y: (y0, y1) } = match made {
        Some(c) => c,
        None => {
            let c = choose(root, s, &texts, &pts, (x0, x1), (y0, y1), band)?;
            *d.layout.linear_vs_log.borrow_mut() = Some(c.clone());
            c
        }
    };
    let mut chart = builder(root, TITLE, s, 52.0)
        .build_cartesian_2d(
            (x0..x1).log_scale().with_key_points(log_ticks(x0, x1)),
            LinAxis::new((y0, y1), 6),
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
    legend(&mut chart, s, at)
}

const TITLE: &str = "Loss recovered vs compute kept";

/// A corner note's line, and about the plot's height (SVG pixels).
const NOTE_LINE: f64 = 15.0;
const PLOT_HEIGHT: f64 = 290.0;

/// The corners the legend may take, in order of preference: the upper left holds the notes, and the
/// lower right (much compute kept, little loss recovered) is where splices seldom fall.
const LEGEND_CORNERS: [SeriesLabelPosition; 3] = [
    SeriesLabelPosition::LowerRight,
    SeriesLabelPosition::LowerLeft,
    SeriesLabelPosition::UpperRight,
];

/// The legend's corner and the y axis's range, chosen once at the SVG's scale and followed by the
/// PNG.
#[derive(Clone, Debug)]
pub(crate) struct Choices {
    at: SeriesLabelPosition,
    y: (f64, f64),
}

/// A corner where the legend covers no point or interval bar; where every corner would (many groups
/// of points that fill the plot), the lower right, with the y axis run down far enough that the
/// legend sits below every point: a legend over the data hid splices (review 2026-12-07). `band` is
/// the share of the plot's height kept free above the points for the corner notes.
fn choose<DB: DrawingBackend>(
    root: &Area<DB>,
    s: &Style,
    texts: &[String],
    pts: &[Point],
    (x0, x1): (f64, f64),
    (y0, y1): (f64, f64),
    band: f64,
) -> PlotResult<Choices> {
    // The axis range with `low` of the plot's height kept free below the points and `band` above.
    let range = |low: f64| {
        let span = (y1 - y0) / (1.0 - band - low);
        (y0 - low * span, y1 + band * span)
    };
    let plain = Choices {
        at: LEGEND_CORNERS[0].clone(),
        y: range(0.0),
    };
    if texts.is_empty() {
        return Ok(plain);
    }
    // The plot as it would be drawn, on a canvas of the same size that is thrown away.
    let mut scratch = String::new();
    let dry = SVGBackend::with_string(&mut scratch, root.dim_in_pixel()).into_drawing_area();
    let (ya, yb) = plain.y;
    let chart = builder(&dry, TITLE, s, 52.0)
        .build_cartesian_2d((x0..x1).log_scale(), ya..yb)
        .map_err(err)?;
    let mut cover = vec![];
    for p in pts {
        let at = |x: f64| chart.backend_coord(&(x.clamp(x0, x1), p.recovered));
        let (lo, hi) = p.ci.map_or((p.fraction, p.fraction), |(lo, hi)| {
            (
                if lo > 0.0 { lo } else { x0 },
                if hi.is_finite() { hi } else { x1 },
            )
        });
        let ((a, y), (b, _)) = (at(lo), at(hi));
        cover.extend((a..=b).step_by(s.upx(3.0).max(1) as usize).map(|x| (x, y)));
        cover.push(at(p.fraction));
    }
    let (at, covered) = legend_corner_covering(&dry, &chart, s, (texts, &LEGEND_CORNERS), &cover)?;
    if covered == 0 {
        return Ok(Choices { at, y: plain.y });
    }
    let (_, top, _, bottom) = legend_box(&dry, &chart, s, texts, false)?;
    let area_height = chart.plotting_area().dim_in_pixel().1 as f64;
    // The legend's box, its inset from the frame and a marker's radius clear of it.
    let low = f64::from(bottom - top + 5 + s.px(3.4) + s.px(4.0)) / area_height;
    Ok(Choices {
        at: LEGEND_CORNERS[0].clone(),
        y: range(low.min(0.6)),
    })
}

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
