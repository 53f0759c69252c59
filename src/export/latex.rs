//! LaTeX: a booktabs table with units in a second header row, numbers in math mode with ×10^k, and
//! intervals as [lo, hi]. Needs `\usepackage{booktabs}`.

use std::io::{self, Write};

use super::{Cell, Exporter, Table, human};

pub struct Latex;

pub(crate) fn escape(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '\\' => o.push_str("\\textbackslash{}"),
            '&' | '%' | '$' | '#' | '_' | '{' | '}' => {
                o.push('\\');
                o.push(ch);
            }
            '~' => o.push_str("\\textasciitilde{}"),
            '^' => o.push_str("\\textasciicircum{}"),
            // Under LaTeX's default OT1 encoding these print as other glyphs (¡ ¿ — ”); the
            // text-symbol commands fall back to a font that has them.
            '<' => o.push_str("\\textless{}"),
            '>' => o.push_str("\\textgreater{}"),
            '|' => o.push_str("\\textbar{}"),
            // OT1's roman font has no straight quote; its typewriter font has (at 34).
            '"' => o.push_str("{\\ttfamily\\char34}"),
            // Symbols ceq's notes use, which pdfLaTeX's utf8 input does not all know.
            '±' => o.push_str("$\\pm$"),
            '×' => o.push_str("$\\times$"),
            '−' => o.push_str("$-$"),
            '≤' => o.push_str("$\\le$"),
            '≥' => o.push_str("$\\ge$"),
            // A blank line ends a paragraph, which a table cell cannot hold; controls are not text.
            c if c.is_control() => o.push(' '),
            _ => o.push(ch),
        }
    }
    o
}

/// A number as math-mode source: 1.23e21 → 1.23\times10^{21}.
fn math(v: f64) -> String {
    let h = human(v);
    match h.split_once('e') {
        Some((m, e)) => format!("{m}\\times10^{{{}}}", e.trim_start_matches('+')),
        None if h == "inf" => "\\infty".into(),
        None if h == "-inf" => "-\\infty".into(),
        None => h,
    }
}

fn cell(c: &Cell) -> String {
    match c {
        Cell::Empty => "--".into(),
        Cell::Text(s) => escape(s),
        Cell::Raw(s) => match s.parse::<f64>() {
            Ok(v) if v.is_finite() => format!("${}$", math(v)),
            _ => escape(s),
        },
        Cell::Num(v) | Cell::Interval(v, None) => format!("${}$", math(*v)),
        Cell::Count(n) => format!("${}$", math(*n as f64)),
        Cell::Interval(v, Some((lo, hi))) => format!(
            "${}$ {{\\scriptsize $[{}, {}]$}}",
            math(*v),
            math(*lo),
            math(*hi)
        ),
    }
}

impl Exporter for Latex {
    fn export(&self, t: &Table, w: &mut dyn Write) -> io::Result<()> {
        let align: String = (0..t.columns.len())
            .map(|j| if t.is_text_column(j) { 'l' } else { 'r' })
            .collect();
        writeln!(w, "\\begin{{table}}[t]\n\\centering")?;
        if !t.title.is_empty() {
            writeln!(w, "\\caption{{{}}}", escape(&t.title))?;
        }
        writeln!(w, "\\begin{{tabular}}{{{align}}}\n\\toprule")?;
        let names: Vec<String> = t.columns.iter().map(|c| escape(&c.name)).collect();
        writeln!(w, "{} \\\\", names.join(" & "))?;
        if t.columns.iter().any(|c| !c.unit.is_empty()) {
            let units: Vec<String> = t
                .columns
                .iter()
                .map(|c| c.unit_as(|u| format!("{{\\footnotesize ({})}}", escape(u))))
                .collect();
            writeln!(w, "{} \\\\", units.join(" & "))?;
        }
        writeln!(w, "\\midrule")?;
        for r in &t.rows {
            let v: Vec<String> = r.iter().map(cell).collect();
            writeln!(w, "{} \\\\", v.join(" & "))?;
        }
        writeln!(w, "\\bottomrule\n\\end{{tabular}}")?;
        for n in &t.notes {
            writeln!(w, "\\par\\footnotesize {}", escape(n))?;
        }
        writeln!(w, "\\end{{table}}")
    }
}
