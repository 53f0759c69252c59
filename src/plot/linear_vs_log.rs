//! Figure 3, linear vs log — the reason ceq exists: "loss recovered" (%) against the compute fraction
//! (log scale) for every splice, so 90–99 % recovered reads as the 1–50 % of compute it is.

use plotters::prelude::*;

use super::style::{DASH, GREY, LIGHT, Style, lin_range, log_range, percent, ticks_125};
use super::{
    Area, Data, PlotResult, builder, err, group_colour, group_entry, group_legend, interval_note,
    legend, more_groups,
};

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
    let mut chart = builder(root, "Loss recovered vs compute kept", s, 52.0)
        .build_cartesian_2d(
            (x0..x1).log_scale().with_key_points(ticks_125(x0, x1)),
            y0..y1,
        )
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_desc("Compute fraction C_eq(spliced)/C_eq(clean)")
        .y_desc("Loss recovered vs zero ablation (%)")
        .axis_desc_style(s.axis())
        .label_style(s.tick())
        .x_labels(8)
        .y_labels(6)
        .x_label_formatter(&|v| percent(*v))
        .y_label_formatter(&|v| super::style::lin_tick(*v, (y0, y1)))
        .light_line_style(WHITE)
        .bold_line_style(LIGHT.mix(0.6))
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
    let texts = group_legend(&group_name, &labels);
    for g in 0..labels.len() {
        let c = group_colour(g);
        let mine: Vec<_> = pts.iter().filter(|p| group[p.i] == g).collect();
        for p in &mine {
            if let Some((lo, hi)) = p.ci {
                chart
                    .draw_series(std::iter::once(PathElement::new(
                        vec![(lo, p.recovered), (hi, p.recovered)],
                        s.line(c, 1.2),
                    )))
                    .map_err(err)?;
            }
        }
        let series = chart
            .draw_series(
                mine.iter()
                    .map(|p| Circle::new((p.fraction, p.recovered), r, c.filled())),
            )
            .map_err(err)?;
        group_entry(series, g, &texts, s.swatch_dot(c));
    }
    more_groups(&mut chart, &texts, s)?;
    interval_note(root, &chart, s, d)?;
    legend(&mut chart, s, SeriesLabelPosition::LowerRight)
}
