//! LaTeX: a booktabs table with units in a second header row, numbers in math mode with ×10^k, and
//! intervals as [lo, hi], scaled down to the text width where it is wider, its key (units,
//! definitions, intervals) in the float and its other notes after it (a table's worth of row
//! notes would run off a float's page). Needs `\usepackage{booktabs}`
//! and `\usepackage{graphicx}`; pdfLaTeX takes the symbols `escape` maps, other non-ASCII text
//! wants XeLaTeX or LuaLaTeX.

use std::io::{self, Write};

use super::{Cell, Exporter, Table, human, sig4};

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
            // And those a name or a note may hold that pdfLaTeX's utf8 input does not know.
            c if math_symbol(c).is_some() => {
                o.push_str(&format!("$\\{}$", math_symbol(c).unwrap_or_default()))
            }
            '…' => o.push_str("\\ldots{}"),
            // A blank line ends a paragraph, which a table cell cannot hold; controls are not text.
            c if c.is_control() => o.push(' '),
            c if let Some(v) = super::bidi_visible(c) => o.push_str(&escape(&v)),
            _ => o.push(ch),
        }
    }
    o
}

/// The math-mode command of a Greek letter or a math symbol, by its character.
fn math_symbol(c: char) -> Option<&'static str> {
    const GREEK: &str = "αβγδεζηθικλμνξπρστυφχψω";
    const NAMES: [&str; 23] = [
        "alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa",
        "lambda", "mu", "nu", "xi", "pi", "rho", "sigma", "tau", "upsilon", "phi", "chi", "psi",
        "omega",
    ];
    if let Some(i) = GREEK.chars().position(|g| g == c) {
        return Some(NAMES[i]);
    }
    Some(match c {
        'Γ' => "Gamma",
        'Δ' => "Delta",
        'Θ' => "Theta",
        'Λ' => "Lambda",
        'Π' => "Pi",
        'Σ' => "Sigma",
        'Φ' => "Phi",
        'Ψ' => "Psi",
        'Ω' => "Omega",
        'µ' => "mu",
        '≈' => "approx",
        '≠' => "neq",
        '∞' => "infty",
        '→' => "to",
        '←' => "leftarrow",
        '·' => "cdot",
        '√' => "surd",
        '∑' => "sum",
        '∈' => "in",
        _ => return None,
    })
}

/// A number as math-mode source: 1.23e21 → 1.23\times10^{21}.
fn math(h: String) -> String {
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
            Ok(v) if v.is_finite() => format!("${}$", math(human(v))),
            _ => escape(s),
        },
        Cell::Num(v) | Cell::Interval(v, None) => format!("${}$", math(sig4(*v))),
        Cell::Count(n) => format!("${}$", math(human(*n as f64))),
        Cell::Interval(v, Some((lo, hi))) => format!(
            "${}$ {{\\scriptsize $[{}, {}]$}}",
            math(sig4(*v)),
            math(sig4(*lo)),
            math(sig4(*hi))
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
        // Scaled down only where wider than the text (graphicx: \width is the natural width).
        writeln!(
            w,
            "\\resizebox{{\\ifdim\\width>\\linewidth\\linewidth\\else\\width\\fi}}{{!}}{{%"
        )?;
        writeln!(w, "\\begin{{tabular}}{{{align}}}\n\\toprule")?;
        let names: Vec<String> = t.columns.iter().map(|c| escape(&c.name)).collect();
        // Every row starts with {}: a cell starting with "[" would be read as the optional
        // argument of the \\ or \midrule before it.
        writeln!(w, "{{}}{} \\\\", names.join(" & "))?;
        if t.columns.iter().any(|c| !c.unit.is_empty()) {
            let units: Vec<String> = t
                .columns
                .iter()
                .map(|c| c.unit_as(|u| format!("{{\\footnotesize ({})}}", escape(u))))
                .collect();
            writeln!(w, "{{}}{} \\\\", units.join(" & "))?;
        }
        writeln!(w, "\\midrule")?;
        for r in &t.rows {
            let v: Vec<String> = r.iter().map(cell).collect();
            writeln!(w, "{{}}{} \\\\", v.join(" & "))?;
        }
        writeln!(w, "\\bottomrule\n\\end{{tabular}}}}")?;
        let (key, rest) = t.notes.split_at(t.key.min(t.notes.len()));
        if !key.is_empty() {
            writeln!(
                w,
                "% The table's key: units, definitions, what the intervals are."
            )?;
            writeln!(w, "\\par\\smallskip{{\\raggedright\\footnotesize")?;
            for n in key {
                writeln!(w, "{}\\par", escape(n))?;
            }
            writeln!(w, "}}")?;
        }
        writeln!(w, "\\end{{table}}")?;
        if !rest.is_empty() {
            writeln!(w, "% The table's other notes: warnings, rows.")?;
            writeln!(w, "\\begin{{flushleft}}\\footnotesize")?;
            for n in rest {
                writeln!(w, "{}\\par", escape(n))?;
            }
            writeln!(w, "\\end{{flushleft}}")?;
        }
        Ok(())
    }
}
