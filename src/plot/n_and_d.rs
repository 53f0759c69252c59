//! Figure 6, N and D (the `chinchilla` law only): loss against model size at each training-token
//! budget, and against training tokens at each model size, with the fitted surface's curves through
//! them, the fitted floor E, and — when the true floor is known, as in `ceq study` — that floor.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::style::{
    DASH, GREY, LinAxis, Style, colour, lin_range, log_range, log_ticks, logspace, pow10,
};
use super::{Area, CORNERS, Data, PlotResult, builder, err, legend, legend_corner};
use crate::law::Law;

/// The distinct values of `v` (within 1e-6, relative), ascending.
fn levels(v: impl Iterator<Item = f64>) -> Vec<f64> {
    let mut out: Vec<f64> = v.filter(|x| x.is_finite() && *x > 0.0).collect();
    out.sort_by(f64::total_cmp);
    out.dedup_by(|a, b| (*a / *b - 1.0).abs() < 1e-6);
    out
}

/// At most this many curves a panel: a family that is not a grid (every checkpoint its own D)
/// gets this many of its levels, and each point, in black, is drawn against the law at its own N
/// and D (a tick joined to it), not against a curve at another level, where it would show a misfit
/// the residuals do not have.
const CURVES: usize = 5;

/// The levels a panel draws curves at: all of them, or [`CURVES`] spread evenly through them.
fn curves(levels: &[f64]) -> (Vec<f64>, bool) {
    if levels.len() <= CURVES + 1 {
        return (levels.to_vec(), false);
    }
    let n = levels.len() - 1;
    let picked = (0..CURVES).map(|i| levels[(i * n + (CURVES - 1) / 2) / (CURVES - 1)]);
    (picked.collect(), true)
}

/// The curve whose level is `v`'s (within 1e-6, relative), if one is.
fn level_of(curves: &[f64], v: f64) -> Option<usize> {
    (0..curves.len()).find(|&g| (curves[g] / v - 1.0).abs() < 1e-6)
}

/// What `d` lacks for this figure: the Chinchilla law (loss as a function of N and D) and
/// checkpoints with both N and D to place on it.
pub fn missing(d: &Data) -> Option<String> {
    if !matches!(d.law, Law::Chinchilla(_)) {
        return Some(format!(
            "needs a chinchilla law (loss as a function of N and D); this law is the '{}' law",
            d.law.form().name()
        ));
    }
    let residuals = &d.law_file.fit.residuals;
    (!residuals
        .iter()
        .any(|r| r.params.is_finite() && r.tokens.is_finite()))
    .then(|| "needs checkpoints with both params and tokens in the law file".into())
}

pub fn draw<DB: DrawingBackend>(root: &Area<DB>, d: &Data, s: &Style) -> PlotResult {
    let Law::Chinchilla(c) = d.law else {
        return Err("needs the chinchilla law (loss as a function of N and D)".into());
    };
    let res: Vec<_> = d
        .law_file
        .fit
        .residuals
        .iter()
        .filter(|r| r.params.is_finite() && r.tokens.is_finite())
        .collect();
    let floor = d.law.floor();
    let mut ys: Vec<f64> = res.iter().map(|r| r.loss).collect();
    ys.push(floor);
    ys.extend(d.reference.as_ref().map(|r| r.loss));
    let y = lin_range(ys, 0.06);
    let (left, right) = root.split_horizontally(root.dim_in_pixel().0 / 2);
    let ns = levels(res.iter().map(|r| r.params));
    let ds = levels(res.iter().map(|r| r.tokens));
    let pts: Vec<Point> = (res.iter())
        .map(|r| Point {
            n: r.params,
            d: r.tokens,
            loss: r.loss,
            law: c.loss(r.params, r.tokens),
        })
        .collect();
    panel(&left, d, s, Panel::Size, &ns, &ds, &pts, y, &|n, t| {
        c.loss(n, t)
    })?;
    panel(&right, d, s, Panel::Tokens, &ds, &ns, &pts, y, &|t, n| {
        c.loss(n, t)
    })
}

/// A checkpoint: its N, D, loss, and the law's loss at its own N and D.
struct Point {
    n: f64,
    d: f64,
    loss: f64,
    law: f64,
}

#[derive(Clone, Copy, PartialEq)]
enum Panel {
    /// x = N, one curve per D.
    Size,
    /// x = D, one curve per N.
    Tokens,
}

/// One panel: x is N (or D), a curve and a colour per level of the other variable.
#[allow(clippy::too_many_arguments)]
fn panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    d: &Data,
    s: &Style,
    which: Panel,
    xs: &[f64],
    others: &[f64],
    pts: &[Point],
    (y0, y1): (f64, f64),
    loss: &dyn Fn(f64, f64) -> f64,
) -> PlotResult {
    let (x0, x1) = log_range(xs.iter().copied(), 1.5);
    let size = format!("Parameters N ({})", d.n_count());
    let (title, x_desc, other) = match which {
        Panel::Size => ("Loss against model size", size.as_str(), "D"),
        Panel::Tokens => ("Loss against training tokens", "Training tokens D", "N"),
    };
    let mut chart = builder(area, title, s, 44.0)
        .build_cartesian_2d(
            (x0..x1).log_scale().with_key_points(log_ticks(x0, x1)),
            LinAxis::new((y0, y1), 6),
        )
        .map_err(err)?;
    s.mesh(&mut chart)
        .x_desc(x_desc)
        .y_desc(d.loss_label())
        .x_labels(10)
        .y_labels(6)
        .x_label_formatter(&|v| pow10(*v))
        .y_label_formatter(&|v| super::style::lin_tick(*v, (y0, y1)))
        .draw()
        .map_err(err)?;
    let grid = logspace(x0, x1, 60);
    let (others, binned) = curves(others);
    // Each point's level of the other variable, and its x.
    let of = |p: &Point| match which {
        Panel::Size => p.d,
        Panel::Tokens => p.n,
    };
    let x_of = |p: &Point| match which {
        Panel::Size => p.n,
        Panel::Tokens => p.d,
    };
    // The legend's entries and what it must not cover (the points and curves).
    let (mut entries, mut cover) = (vec![], vec![]);
    let r = s.upx(2.6);
    for (g, &o) in others.iter().enumerate() {
        let colour = colour(g);
        let curve: Vec<(f64, f64)> = grid
            .iter()
            .map(|&x| (x, loss(x, o)))
            .filter(|p| p.1 <= y1 && p.1 >= y0)
            .collect();
        cover.extend(curve.iter().map(|p| chart.backend_coord(p)));
        entries.push(format!("{other} = {}", pow10(o)));
        chart
            .draw_series(LineSeries::new(curve, s.line(colour, 1.4)))
            .map_err(err)?
            .label(entries[g].clone())
            .legend(s.swatch_line(colour, 1.4));
        if binned {
            continue;
        }
        let mine: Vec<_> = pts
            .iter()
            .filter(|p| level_of(&others, of(p)) == Some(g))
            .map(|p| (x_of(p), p.loss))
            .collect();
        cover.extend(mine.iter().map(|p| chart.backend_coord(p)));
        chart
            .draw_series(mine.iter().map(|&p| Circle::new(p, r, colour.filled())))
            .map_err(err)?;
    }
    if binned {
        // Not a grid: each checkpoint against the law at its own N and D, a tick at the law's
        // loss joined to the point, so the gap is its residual.
        let dark = BLACK.mix(0.75);
        let tick = s.px(4.0);
        for p in pts {
            let (x, law) = (x_of(p), p.law.clamp(y0, y1));
            chart
                .draw_series([PathElement::new(
                    vec![(x, p.loss), (x, law)],
                    s.line(dark, 0.8),
                )])
                .map_err(err)?;
            chart
                .draw_series([EmptyElement::at((x, law))
                    + PathElement::new(vec![(-tick, 0), (tick, 0)], s.line(dark, 1.4))])
                .map_err(err)?;
            cover.extend([
                chart.backend_coord(&(x, p.loss)),
                chart.backend_coord(&(x, law)),
            ]);
        }
        let label = format!("checkpoints (n = {}, all {other})", pts.len());
        entries.push(label.clone());
        chart
            .draw_series(
                pts.iter()
                    .map(|p| Circle::new((x_of(p), p.loss), r, dark.filled())),
            )
            .map_err(err)?
            .label(label)
            .legend(s.swatch_dot(dark));
        let law = "the law at each one's own N and D".to_owned();
        entries.push(law.clone());
        chart
            .draw_series(std::iter::empty::<Circle<(f64, f64), u32>>())
            .map_err(err)?
            .label(law)
            .legend(s.swatch_line(dark, 1.4));
    }
    let mut hline = |yv: f64, c: RGBColor, label: String| -> PlotResult {
        entries.push(label.clone());
        chart
            .draw_series(DashedLineSeries::new(
                vec![(x0, yv), (x1, yv)],
                s.px(DASH.0) as u32,
                s.px(DASH.1) as u32,
                s.line(c, 1.3),
            ))
            .map_err(err)?
            .label(label)
            .legend(s.swatch_dashed(c, 1.3));
        Ok(())
    };
    hline(
        d.law.floor(),
        GREY,
        format!("fitted E = {:.3}", d.law.floor()),
    )?;
    if let Some(r) = &d.reference {
        hline(r.loss, BLACK, format!("{} = {:.3}", r.label, r.loss))?;
    }
    let at = legend_corner(area, &chart, s, (&entries, &CORNERS), &cover)?;
    legend(&mut chart, s, at)
}
