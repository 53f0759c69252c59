//! The groups' names beneath a figure's x axis, every one centred under its group: names that would
//! run into each other go on another row (up to [`MAX_ROWS`]), and only past that are they cut
//! shorter, so no group with points is left unnamed. Then the axis's description and, where there
//! is one, a note on it (why the groups are not at their hosts' sizes).

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::style::{GREY, Style};
use super::{Area, PlotResult, cut_text, err};

/// Most rows of names before they are cut shorter.
const MAX_ROWS: usize = 3;

/// Lengths a name is cut to (characters), longest first, until the names fit in [`MAX_ROWS`].
const CUTS: [usize; 6] = [24, 18, 14, 10, 7, 4];

/// Gap between two names on one row (SVG pixels).
const GAP: f64 = 8.0;

/// The names as shown, and the row each is on; decided when the SVG is drawn and kept for the PNG,
/// so the two show the same names.
#[derive(Clone, Debug)]
pub(crate) struct Names {
    texts: Vec<String>,
    rows: Vec<usize>,
}

impl Names {
    /// The names at `centres` (pixels, in the groups' order) within `bounds` (pixels): the
    /// longest cut whose names fit in [`MAX_ROWS`] rows, each name on the first row where it
    /// clears the names left of it.
    pub(crate) fn arrange<DB: DrawingBackend>(
        root: &Area<DB>,
        s: &Style,
        names: &[String],
        centres: &[i32],
        bounds: (i32, i32),
    ) -> PlotResult<Names> {
        let mut best = None;
        let cores = cores(names);
        for n in CUTS {
            // Cut in the middle; where that makes two names read the same (hosts that differ in
            // their middle, "host-07-base" beside "host-08-base"), what tells them apart.
            let mut texts: Vec<String> = names.iter().map(|t| cut_text(t, n)).collect();
            if kinds(&texts) < kinds(names) {
                texts = cores.iter().map(|t| cut_text(t, n)).collect();
            }
            let rows = rows(root, s, &texts, centres, bounds)?;
            let used = rows.iter().map(|r| r + 1).max().unwrap_or(0);
            best = Some(Names { texts, rows });
            if used <= MAX_ROWS {
                break;
            }
        }
        Ok(best.unwrap_or(Names {
            texts: vec![],
            rows: vec![],
        }))
    }

    /// Rows of names.
    pub(crate) fn lines(&self) -> usize {
        self.rows.iter().map(|r| r + 1).max().unwrap_or(0)
    }

    /// Draws the names beneath the axis, their first row's top at `top`, then `desc` centred under
    /// them and `note` (grey) under it; `mid` is the plot's centre (pixels).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn draw<DB: DrawingBackend>(
        &self,
        root: &Area<DB>,
        s: &Style,
        centres: &[i32],
        bounds: (i32, i32),
        top: i32,
        (mid, desc, note): (i32, &str, Option<&str>),
    ) -> PlotResult {
        let font = s.tick().pos(Pos::new(HPos::Left, VPos::Top));
        let line = line(s);
        for (g, t) in self.texts.iter().enumerate() {
            let w = root.estimate_text_size(t, &font).map_err(err)?.0 as i32;
            let x = left_edge(centres[g], w, bounds);
            let y = top + self.rows[g] as i32 * line;
            root.draw(&Text::new(t.clone(), (x, y), font.clone()))
                .map_err(err)?;
        }
        let y = top + self.lines() as i32 * line + s.px(3.0);
        let centre = Pos::new(HPos::Center, VPos::Top);
        root.draw(&Text::new(desc.to_owned(), (mid, y), s.axis().pos(centre)))
            .map_err(err)?;
        if let Some(note) = note {
            let grey = GREY.mix(1.0);
            let style = s.note().color(&grey).pos(centre);
            let at = (mid, y + s.px(16.0));
            let width = (bounds.1 - bounds.0).max(1);
            // Cut to the plot's width (the caption, or `ceq plot`'s note, has it whole).
            let mut text = note.to_owned();
            for n in [120, 90, 70, 56, 44] {
                text = cut_text(note, n);
                if root.estimate_text_size(&text, &style).map_err(err)?.0 as i32 <= width {
                    break;
                }
            }
            root.draw(&Text::new(text, at, style)).map_err(err)?;
        }
        Ok(())
    }
}

/// How many different texts.
fn kinds(texts: &[String]) -> usize {
    let mut v: Vec<&String> = texts.iter().collect();
    v.sort();
    v.dedup();
    v.len()
}

/// Each name less the start and the end all share (from and up to a separator), "…" in their
/// place: "…07…" of "host-07-base" beside "host-08-base".
pub(crate) fn cores(names: &[String]) -> Vec<String> {
    let chars: Vec<Vec<char>> = names.iter().map(|n| n.chars().collect()).collect();
    let shortest = chars.iter().map(Vec::len).min().unwrap_or(0);
    let common = |at: &dyn Fn(&Vec<char>, usize) -> char| {
        (0..shortest)
            .take_while(|&i| chars.iter().all(|c| at(c, i) == at(&chars[0], i)))
            .count()
    };
    let sep = |c: char| super::across_sizes::SEPARATORS.contains(&c);
    // Back to just past the last separator within the shared start, and within the shared end.
    let pre = common(&|c, i| c[i]);
    let pre = (0..pre)
        .rev()
        .find(|&i| sep(chars[0][i]))
        .map_or(0, |i| i + 1);
    let suf = common(&|c, i| c[c.len() - 1 - i]);
    let suf = (0..suf)
        .rev()
        .find(|&i| sep(chars[0][chars[0].len() - 1 - i]))
        .map_or(0, |i| i + 1);
    (chars.iter().zip(names))
        .map(|(c, name)| {
            if names.len() < 2 || pre + suf >= c.len() {
                return name.clone();
            }
            let core: String = c[pre..c.len() - suf].iter().collect();
            let (a, b) = (
                if pre > 0 { "…" } else { "" },
                if suf > 0 { "…" } else { "" },
            );
            format!("{a}{core}{b}")
        })
        .collect()
}

/// One row's height (pixels).
fn line(s: &Style) -> i32 {
    s.px(14.0)
}

/// The height beneath the axis for `rows` rows of names after `above` pixels (tick labels), the
/// description and, with `note`, its line.
pub(crate) fn area_height(s: &Style, above: f64, rows: usize, note: bool) -> i32 {
    s.px(above) + rows as i32 * line(s) + s.px(22.0) + if note { s.px(15.0) } else { 0 }
}

/// A name's left edge: centred on `centre`, moved inside `bounds` where it would stick out.
fn left_edge(centre: i32, w: i32, (lo, hi): (i32, i32)) -> i32 {
    (centre - w / 2).min(hi - w).max(lo)
}

/// Each name's row: taking the groups left to right, the first row whose last name ends [`GAP`]
/// before this one begins.
fn rows<DB: DrawingBackend>(
    root: &Area<DB>,
    s: &Style,
    texts: &[String],
    centres: &[i32],
    bounds: (i32, i32),
) -> PlotResult<Vec<usize>> {
    let font = s.tick();
    let mut order: Vec<usize> = (0..texts.len()).collect();
    order.sort_by_key(|&g| centres[g]);
    let mut ends: Vec<i32> = vec![];
    let mut rows = vec![0; texts.len()];
    for g in order {
        let w = root.estimate_text_size(&texts[g], &font).map_err(err)?.0 as i32;
        let x = left_edge(centres[g], w, bounds);
        let r = match ends.iter().position(|&e| e + s.px(GAP) <= x) {
            Some(r) => r,
            None => {
                ends.push(i32::MIN);
                ends.len() - 1
            }
        };
        ends[r] = x + w;
        rows[g] = r;
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::cores;

    /// What tells names apart: less the start and end all share, from a separator on.
    #[test]
    fn cores_keep_what_tells_names_apart() {
        let v = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            cores(&v(&[
                "host-07-with-a-long-name",
                "host-08-with-a-long-name"
            ])),
            v(&["…07…", "…08…"])
        );
        // "pythia-1" is shared by "pythia-1.4b" and "pythia-160m", but not up to a separator.
        assert_eq!(
            cores(&v(&["pythia-1.4b", "pythia-160m", "pythia-70m"])),
            v(&["…1.4b", "…160m", "…70m"])
        );
        assert_eq!(cores(&v(&["a-x", "b-x"])), v(&["a…", "b…"]));
        assert_eq!(cores(&v(&["same", "same"])), v(&["same", "same"]));
        assert_eq!(cores(&v(&["only"])), v(&["only"]));
    }
}
