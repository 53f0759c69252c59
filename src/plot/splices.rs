//! Figure 2, where the splices land: the fitted curve, each host's clean loss on it, and each spliced
//! loss placed on it at its compute-equivalent, with an arrow from the host's compute leftwards to the
//! equivalent — the compute lost, annotated with the fraction.

use plotters::prelude::*;

use super::style::{GREY, Style, lin_range, log_range, logspace, sig2};
use super::{
    Area, Data, Placer, PlotResult, draw_band, err, group_colour, group_entry, group_legend,
    legend, legend_rect, loss_chart, more_groups,
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
    let xs = drawn.iter().flat_map(|&i| {
        let (c, s) = at[i].unwrap();
        [c, s]
    });
    let (x0, x1) = log_range(xs, 3.0);
    let ys = drawn
        .iter()
        .flat_map(|&i| [rows[i].0.ce_clean, rows[i].0.ce_spliced]);
    let (y0, y1) = lin_range(ys, 0.1);
    let title = "Spliced losses on the fitted curve";
    let mut chart = loss_chart(root, title, s, d, (x0, x1), (y0, y1))?;

    let xs = logspace(x0, x1, 120);
    draw_band(&mut chart, d, &xs, (y0, y1), GREY.mix(0.2))?;
    let curve: Vec<(f64, f64)> = xs
        .iter()
        .map(|&x| (x, d.law.curve(x)))
        .filter(|p| p.1 >= y0 && p.1 <= y1)
        .collect();
    chart
        .draw_series(LineSeries::new(curve, s.line(GREY, 1.8)))
        .map_err(err)?
        .label("fitted curve")
        .legend(s.swatch_line(GREY, 1.8));

    // The splices' labels stay inside the plot and out of the legend.
    let (px0, py0) = chart.plotting_area().get_base_pixel();
    let (pw, ph) = chart.plotting_area().dim_in_pixel();
    let mut placer = Placer::within((px0, py0, px0 + pw as i32, py0 + ph as i32));
    let texts = group_legend(&group_name, &labels);
    let mut entries = vec!["fitted curve".to_owned()];
    entries.extend(texts.iter().cloned());
    entries.push("□ clean  ● spliced".into());
    placer.reserve(legend_rect(root, &chart, s, &entries)?);
    let head = s.px(6.0);
    let mut labels_at = vec![];
    for &i in &drawn {
        let (sp, m) = rows[i];
        let c = group_colour(group[i]);
        let (xc, xs_) = at[i].unwrap();
        // Host: its clean loss on the curve, and a connector down to the spliced loss.
        chart
            .draw_series(std::iter::once(PathElement::new(
                vec![(xc, sp.ce_clean), (xc, sp.ce_spliced)],
                s.line(c.mix(0.5), 0.8),
            )))
            .map_err(err)?;
        // The arrow: shaft and a head, in pixels so it looks the same on every axis.
        let to = chart.backend_coord(&(xs_, sp.ce_spliced));
        let from = chart.backend_coord(&(xc, sp.ce_spliced));
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
        // The head and the shaft, so that no label is written over an arrow.
        let (x0, x1) = (from.0.min(to.0), from.0.max(to.0));
        placer.reserve((x0 - s.px(4.0), to.1 - s.px(4.0), x1, to.1 + s.px(1.0)));
        let text = format!("×{}", sig2(m.eq.fraction.unwrap_or(f64::NAN)));
        labels_at.push((text, c, from, to));
    }
    // Labels last, once every arrow is reserved: beside the connector, else above the arrow's
    // shaft (the legend may hold the corner); a label with no free place is left out.
    for (text, c, from, to) in labels_at {
        let style = s.note().color(&c);
        let (w, h) = root.estimate_text_size(&text, &style).map_err(err)?;
        let (w, h) = (w as i32, h as i32);
        let beside = (from.0 + s.px(4.0), to.1 - h / 2);
        let above = ((from.0 + to.0 - w) / 2, to.1 - h - s.px(2.0));
        if let Some(at) = placer
            .place(beside, (w, h))
            .or_else(|| placer.place(above, (w, h)))
        {
            root.draw(&Text::new(text, at, style)).map_err(err)?;
        }
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
    chart
        .draw_series(std::iter::empty::<Circle<(f64, f64), u32>>())
        .map_err(err)?
        .label("□ clean  ● spliced")
        .legend(|_| EmptyElement::at((0, 0)));
    legend(&mut chart, s, SeriesLabelPosition::UpperRight)
}
