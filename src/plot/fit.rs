//! Figure 1, the fit: checkpoint losses against compute, the fitted curve (for `chinchilla` the
//! compute-optimal frontier, with the fixed-N curves it envelops) and its bootstrap band.

use plotters::prelude::*;

use super::style::{GREY, Style, colour, lin_range, log_range, logspace};
use super::{Area, CORNERS, Data, PlotResult, draw_band, err, legend, legend_corner, loss_chart};
use crate::law::Law;

pub fn draw<DB: DrawingBackend>(root: &Area<DB>, d: &Data, s: &Style) -> PlotResult {
    let res = &d.law_file.fit.residuals;
    let (x0, x1) = log_range(res.iter().map(|r| d.residual_x(r)), 1.6);
    let (y0, y1) = lin_range(res.iter().map(|r| r.loss), 0.06);
    let title = match &d.law {
        Law::Chinchilla(_) => "Fitted law and its compute-optimal frontier",
        Law::Compute(_) => "Fitted compute law",
        Law::Run(_) => "Fitted training-run law",
    };
    let mut chart = loss_chart(root, title, s, d, ((x0, x1), (y0, y1)), &d.loss_label())?;

    let xs = logspace(x0, x1, 120);
    let blue = colour(0);
    // The legend's entries and what it must not cover (each checkpoint, the fitted curve).
    let mut entries: Vec<String> = vec![];
    if let Some(band) = draw_band(&mut chart, d, &xs, (y0, y1), blue.mix(0.22))? {
        entries.push(d.band_label());
        band.label(entries[0].clone())
            .legend(s.swatch_box(blue.mix(0.22)));
    }
    if let Law::Chinchilla(c) = &d.law {
        // Fixed-N curves L(N, C/6N) over each model size's own compute range.
        let mut sizes: Vec<f64> = res
            .iter()
            .map(|r| r.params)
            .filter(|v| v.is_finite())
            .collect();
        sizes.sort_by(f64::total_cmp);
        sizes.dedup_by(|a, b| (*a / *b - 1.0).abs() < 1e-6);
        for (i, n) in sizes.iter().enumerate() {
            let (lo, hi) = log_range(
                res.iter()
                    .filter(|r| (r.params / n - 1.0).abs() < 1e-6)
                    .map(|r| r.compute),
                1.3,
            );
            let pts: Vec<(f64, f64)> = logspace(lo.max(x0), hi.min(x1), 40)
                .into_iter()
                .map(|x| (x, c.loss(*n, x / (6.0 * n))))
                .filter(|p| p.1 >= y0 && p.1 <= y1)
                .collect();
            let series = chart
                .draw_series(LineSeries::new(pts, s.line(GREY, 0.8)))
                .map_err(err)?;
            if i == 0 {
                entries.push("fixed-N curves".into());
                series
                    .label("fixed-N curves")
                    .legend(s.swatch_line(GREY, 0.8));
            }
        }
    }
    let curve: Vec<(f64, f64)> = xs
        .iter()
        .map(|&x| (x, d.law.curve(x)))
        .filter(|p| p.1 >= y0 && p.1 <= y1)
        .collect();
    let label = match d.law {
        Law::Chinchilla(_) => "frontier L*(C)",
        _ => "fitted law",
    };
    let mut cover: Vec<(i32, i32)> = curve.iter().map(|p| chart.backend_coord(p)).collect();
    chart
        .draw_series(LineSeries::new(curve, s.line(blue, 2.2)))
        .map_err(err)?
        .label(label)
        .legend(s.swatch_line(blue, 2.2));
    let r = s.upx(2.6);
    let points = res.iter().map(|p| (d.residual_x(p), p.loss));
    cover.extend(points.clone().map(|p| chart.backend_coord(&p)));
    let shown = match d.law_file.fit.residuals_of {
        None => format!("checkpoints (n = {})", res.len()),
        Some(n) => format!("checkpoints ({} of n = {n} shown)", res.len()),
    };
    entries.extend([label.to_owned(), shown.clone()]);
    chart
        .draw_series(points.map(|p| Circle::new(p, r, BLACK.mix(0.75).filled())))
        .map_err(err)?
        .label(shown)
        .legend(s.swatch_dot(BLACK.mix(0.75)));
    let at = legend_corner(root, &chart, s, (&entries, &CORNERS), &cover)?;
    legend(&mut chart, s, at)
}
