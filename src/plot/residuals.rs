//! Figure 5, residuals: ln(predicted) − ln(observed) per checkpoint against compute, with the Huber
//! threshold ±δ beyond which the fit treats a point linearly.

use plotters::prelude::*;

use super::style::{DASH, GREY, Style, colour, lin_range, log_range};
use super::{Area, Data, PlotResult, err, legend, log_x_chart};

pub fn draw<DB: DrawingBackend>(root: &Area<DB>, d: &Data, s: &Style) -> PlotResult {
    let res = &d.law_file.fit.residuals;
    let delta = d.law_file.fit.delta;
    let (x0, x1) = log_range(res.iter().map(|r| d.residual_x(r)), 1.6);
    let m = res
        .iter()
        .map(|r| r.residual.abs())
        .fold(2.0 * delta, f64::max);
    let (y0, y1) = lin_range([-m, m], 0.08);
    let mut chart = log_x_chart(
        root,
        "Residuals of the fit",
        s,
        d,
        (x0, x1),
        (y0, y1),
        "ln(predicted) − ln(observed loss)",
        60.0,
    )?;
    for (i, y) in [delta, -delta].into_iter().enumerate() {
        let series = chart
            .draw_series(DashedLineSeries::new(
                vec![(x0, y), (x1, y)],
                s.px(DASH.0) as u32,
                s.px(DASH.1) as u32,
                s.line(GREY, 1.2),
            ))
            .map_err(err)?;
        if i == 0 {
            series
                .label(format!("Huber threshold ±δ = {delta}"))
                .legend(s.swatch_dashed(GREY, 1.2));
        }
    }
    chart
        .draw_series(LineSeries::new(
            vec![(x0, 0.0), (x1, 0.0)],
            s.line(BLACK, 0.8),
        ))
        .map_err(err)?;
    let r = s.upx(2.8);
    // The counts are the whole fit's, also when the law file keeps only a sample of the points.
    let f = &d.law_file.fit;
    let beyond = f.beyond_delta;
    let within = f.residuals_of.unwrap_or(res.len()).saturating_sub(beyond);
    for (inside, name, c) in [
        (true, "|r| ≤ δ (quadratic)", colour(0)),
        (false, "|r| > δ (linear)", colour(5)),
    ] {
        let pts: Vec<_> = res
            .iter()
            .filter(|p| (p.residual.abs() <= delta) == inside)
            .collect();
        chart
            .draw_series(
                pts.iter()
                    .map(|p| Circle::new((d.residual_x(p), p.residual), r, c.filled())),
            )
            .map_err(err)?
            .label(format!("{name}: {}", if inside { within } else { beyond }))
            .legend(s.swatch_dot(c));
    }
    legend(&mut chart, s, SeriesLabelPosition::UpperRight)
}
