//! Figure 4, across model sizes: the compute fraction (log) of each SAE, grouped by host model (or by
//! any pass-through column, `--group-by`), with interval bars (the law's refits, the CEs' noise, or both).

use plotters::prelude::*;

use super::style::{LIGHT, Style, colour, log_range, percent, ticks_125};
use super::{Area, Data, PlotResult, builder, err, interval_note, label_text};

pub fn draw<DB: DrawingBackend>(root: &Area<DB>, d: &Data, s: &Style) -> PlotResult {
    let rows = d.rows();
    let (group_name, labels, group) = d.groups();
    let n = labels.len().max(1);
    let ys = rows
        .iter()
        .flat_map(|(_, m)| {
            [
                m.eq.fraction,
                m.ci.and_then(|c| c.fraction).map(|c| c.0),
                m.ci.and_then(|c| c.fraction).map(|c| c.1),
            ]
        })
        .flatten();
    let (y0, y1) = log_range(ys, 1.6);
    let group_name = label_text(&group_name);
    let mut chart = builder(root, format!("Compute fraction by {group_name}"), s, 56.0)
        .build_cartesian_2d(
            -0.5..(n as f64 - 0.5),
            (y0..y1).log_scale().with_key_points(ticks_125(y0, y1)),
        )
        .map_err(err)?;
    // Every `every`-th group is named on the axis, so that the names do not run into each other, and
    // only where its name (centred on the group) fits on the canvas.
    let names: Vec<String> = labels.iter().map(|l| label_text(l)).collect();
    let mut widths = vec![];
    for l in &names {
        widths.push(root.estimate_text_size(l, &s.tick()).map_err(err)?.0 as f64);
    }
    let widest = widths.iter().copied().fold(0.0, f64::max);
    let x0 = chart.plotting_area().get_base_pixel().0 as f64;
    let slot = chart.plotting_area().dim_in_pixel().0 as f64 / n as f64;
    let every = ((widest + s.px(8.0) as f64) / slot).ceil().max(1.0) as usize;
    let canvas = root.dim_in_pixel().0 as f64;
    let shown: Vec<bool> = (0..names.len())
        .map(|i| {
            let mid = x0 + (i as f64 + 0.5) * slot;
            i % every == 0 && mid - widths[i] / 2.0 >= 0.0 && mid + widths[i] / 2.0 <= canvas
        })
        .collect();
    let label_of = |v: &f64| {
        let i = v.round();
        if (v - i).abs() < 1e-6 && i >= 0.0 && shown.get(i as usize) == Some(&true) {
            names[i as usize].clone()
        } else {
            String::new()
        }
    };
    chart
        .configure_mesh()
        .x_desc(group_name.clone())
        .y_desc("Compute fraction (log scale)")
        .axis_desc_style(s.axis())
        .label_style(s.tick())
        .x_labels(n + 1)
        .y_labels(8)
        .x_label_formatter(&label_of)
        .y_label_formatter(&|v| percent(*v))
        .disable_x_mesh()
        .light_line_style(WHITE)
        .bold_line_style(LIGHT.mix(0.6))
        .draw()
        .map_err(err)?;
    let r = s.upx(3.4);
    for g in 0..labels.len() {
        let c = colour(g);
        let mine: Vec<usize> = (0..rows.len())
            .filter(|&i| group[i] == g && rows[i].1.eq.fraction.is_some())
            .collect();
        let k = mine.len().max(1) as f64;
        for (j, &i) in mine.iter().enumerate() {
            // Spread a group's SAEs across ±0.3 so their bars do not overlap.
            let x = g as f64
                + if k > 1.0 {
                    -0.3 + 0.6 * j as f64 / (k - 1.0)
                } else {
                    0.0
                };
            let m = rows[i].1;
            if let Some((lo, hi)) = m.ci.and_then(|c| c.fraction) {
                let cap = 0.04;
                for seg in [
                    vec![(x, lo), (x, hi)],
                    vec![(x - cap, lo), (x + cap, lo)],
                    vec![(x - cap, hi), (x + cap, hi)],
                ] {
                    chart
                        .draw_series(std::iter::once(PathElement::new(seg, s.line(c, 1.2))))
                        .map_err(err)?;
                }
            }
            chart
                .draw_series(std::iter::once(Circle::new(
                    (x, m.eq.fraction.unwrap()),
                    r,
                    c.filled(),
                )))
                .map_err(err)?;
        }
    }
    interval_note(root, &chart, s, d)
}
