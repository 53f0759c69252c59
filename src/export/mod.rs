//! Tables out: one exporter per format behind one trait. Every result that ceq prints is first built as
//! a [`Table`], so the terminal, CSV, JSON, Markdown and LaTeX views of it cannot disagree.

mod csv;
mod destination;
pub(crate) use csv::{csv_text, exact};
pub use destination::Destination;
pub mod html;
mod json;
mod latex;
mod markdown;
pub mod said_once;
mod terminal;

use std::io::{self, Write};

/// One cell of a table.
#[derive(Clone, Debug, PartialEq)]
pub enum Cell {
    Empty,
    /// Text, always written as a string.
    Text(String),
    /// A computed number.
    Num(f64),
    /// A whole count (tokens, sequences, parameters, latents): a JSON integer, not `128.0`.
    Count(u64),
    /// A value copied from an input file: written exactly as it was; a number in JSON if it parses.
    Raw(String),
    /// A number with an optional percentile interval (for tables read by people).
    Interval(f64, Option<(f64, f64)>),
}

impl Cell {
    /// Text or nothing: what makes a column left-aligned.
    pub(crate) fn is_text(&self) -> bool {
        matches!(self, Cell::Text(_) | Cell::Empty)
    }
}

/// 2^53: below it f64 holds every whole number exactly (2^53 + 1 reads as 2^53).
pub const EXACT_COUNT: f64 = 9_007_199_254_740_992.0;

impl Cell {
    /// A count held as an f64 (a host's training tokens): [`Cell::Count`] when whole and exactly
    /// representable, else the number as it is.
    pub fn count(v: f64) -> Cell {
        if v.fract() == 0.0 && (0.0..=EXACT_COUNT).contains(&v) {
            Cell::Count(v as u64)
        } else {
            Cell::Num(v)
        }
    }
}

impl From<Option<f64>> for Cell {
    fn from(v: Option<f64>) -> Cell {
        v.map_or(Cell::Empty, Cell::Num)
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Column {
    pub name: String,
    /// Unit or meaning, e.g. "FLOPs", "nats/token"; empty for none.
    pub unit: String,
}

impl Column {
    pub fn new(name: &str, unit: &str) -> Column {
        Column {
            name: name.into(),
            unit: unit.into(),
        }
    }

    /// The unit as `decorate` writes it for one format; empty where the column has none.
    pub(crate) fn unit_as(&self, decorate: impl Fn(&str) -> String) -> String {
        if self.unit.is_empty() {
            String::new()
        } else {
            decorate(&self.unit)
        }
    }
}

/// A titled table with notes (units, provenance, warnings) that travel with it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Table {
    pub title: String,
    pub columns: Vec<Column>,
    pub rows: Vec<Vec<Cell>>,
    pub notes: Vec<String>,
    /// How many of the first notes are the table's key (units, definitions, what the intervals
    /// are): LaTeX keeps them in the float, so a table that floats away keeps its meaning; the
    /// rest (warnings, rows' notes) follow it.
    pub key: usize,
}

impl Table {
    /// Whether column `j` holds only text (or nothing), so reads left-aligned.
    pub(crate) fn is_text_column(&self, j: usize) -> bool {
        self.rows.iter().all(|r| r[j].is_text())
    }

    /// The table with every row as wide as its columns, for the exporters, which index by column:
    /// a short row (a table built by hand) gets empty cells, and cells past the last column get
    /// columns named by position ("column 7") rather than being lost.
    fn rectangular(&self) -> std::borrow::Cow<'_, Table> {
        let width = self
            .rows
            .iter()
            .map(Vec::len)
            .fold(self.columns.len(), usize::max);
        if self.columns.len() == width && self.rows.iter().all(|r| r.len() == width) {
            return std::borrow::Cow::Borrowed(self);
        }
        let mut t = self.clone();
        let named = |j: usize| Column::new(&format!("column {}", j + 1), "");
        t.columns.extend((self.columns.len()..width).map(named));
        for r in &mut t.rows {
            r.resize(width, Cell::Empty);
        }
        std::borrow::Cow::Owned(t)
    }
}

/// Output formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Aligned columns for a terminal.
    Table,
    Csv,
    Json,
    Markdown,
    Latex,
    /// An HTML table (what the report page embeds).
    Html,
}

pub trait Exporter {
    fn export(&self, table: &Table, w: &mut dyn Write) -> io::Result<()>;
}

impl Format {
    pub const ALL: [Format; 6] = [
        Format::Table,
        Format::Csv,
        Format::Json,
        Format::Markdown,
        Format::Latex,
        Format::Html,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Format::Table => "table",
            Format::Csv => "csv",
            Format::Json => "json",
            Format::Markdown => "markdown",
            Format::Latex => "latex",
            Format::Html => "html",
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            Format::Table => "aligned columns for a terminal",
            Format::Csv => "every column, full precision",
            Format::Json => "an array of row objects",
            Format::Markdown => "a Markdown table",
            Format::Latex => "a booktabs table",
            Format::Html => "an HTML table (what the report page embeds)",
        }
    }

    /// The format a file's extension names, in any case: `.csv`, `.json`, `.md`, `.tex`, `.html`,
    /// and `.txt` for the aligned table. Any other extension, or none, is an error: a table
    /// written to a file is read by something, and a guess (the terminal table) suits none of them.
    pub fn from_path(path: &std::path::Path) -> crate::error::Result<Format> {
        const KNOWN: &str = ".csv, .json, .md, .tex, .html, or .txt for the aligned table";
        let ext = path.extension().map(|e| e.to_string_lossy().to_lowercase());
        let message = match ext.as_deref() {
            Some("csv") => return Ok(Format::Csv),
            Some("json") => return Ok(Format::Json),
            Some("md") => return Ok(Format::Markdown),
            Some("tex") => return Ok(Format::Latex),
            Some("html") => return Ok(Format::Html),
            Some("txt") => return Ok(Format::Table),
            Some(_) => format!(
                "ceq has no format for the extension '.{}' of {}; the extensions it knows: {KNOWN}",
                path.extension().unwrap_or_default().to_string_lossy(),
                path.display()
            ),
            None => format!(
                "{} has no extension to tell the format by; the extensions ceq knows: {KNOWN}",
                path.display()
            ),
        };
        Err(crate::error::Error::Invalid {
            fix: Some(crate::error::Fix::OutputFormat),
            option: "output format",
            message,
        })
    }

    fn exporter(self) -> &'static dyn Exporter {
        match self {
            Format::Table => &terminal::Terminal,
            Format::Csv => &csv::Csv,
            Format::Json => &json::Json,
            Format::Markdown => &markdown::Markdown,
            Format::Latex => &latex::Latex,
            Format::Html => &html::Html,
        }
    }

    /// Writes a table in this format.
    pub fn export(self, table: &Table, w: &mut dyn Write) -> io::Result<()> {
        self.exporter().export(&table.rectangular(), w)
    }

    /// Renders a table to a string in this format.
    pub fn render(self, table: &Table) -> String {
        let mut buf = vec![];
        self.export(table, &mut buf)
            .expect("writing to memory cannot fail");
        String::from_utf8(buf).expect("exporters write UTF-8")
    }
}

/// A number for people: 4 significant digits, scientific outside [1e-3, 1e5), trailing zeros
/// trimmed (axis labels, ranges in prose: 2.6, 1.23e21).
pub fn human(v: f64) -> String {
    significant(v, true)
}

/// A computed number in a table cell: 4 significant digits with their trailing zeros (1.090, not
/// 1.09), so that every row of a column shows the same precision.
pub fn sig4(v: f64) -> String {
    significant(v, false)
}

fn significant(v: f64, trim: bool) -> String {
    if v.is_nan() {
        return "nan".into();
    }
    if v.is_infinite() {
        return if v > 0.0 { "inf".into() } else { "-inf".into() };
    }
    let trimmed = |m: &str| -> String {
        match trim && m.contains('.') {
            true => m.trim_end_matches('0').trim_end_matches('.').to_owned(),
            false => m.to_owned(),
        }
    };
    // The magnitude after rounding to 4 digits: 0.99996 prints as 1.000, not 1.0000.
    let a = format!("{v:.3e}").parse::<f64>().unwrap_or(v).abs();
    if a != 0.0 && !(1e-3..1e5).contains(&a) {
        let s = format!("{v:.3e}");
        // 1.230e21 → 1.23e21 where trimmed
        let (m, e) = s.split_once('e').unwrap();
        return format!("{}e{e}", trimmed(m));
    }
    let digits = if a == 0.0 {
        0
    } else {
        (3 - a.log10().floor() as i32).max(0) as usize
    };
    trimmed(&format!("{v:.digits$}"))
}

/// Characters that would move the cursor, recolour or reorder a terminal's text (C0/C1 controls, DEL,
/// and the bidirectional overrides of "Trojan Source"), written visibly instead: `\n`, `\x1b`,
/// `\u{202e}`. Names come from users' files; printed raw they could rewrite what a table shows.
pub(crate) fn visible(s: &str) -> std::borrow::Cow<'_, str> {
    let hidden = |c: char| c.is_control() || is_bidi(c);
    if !s.chars().any(hidden) {
        return s.into();
    }
    let mut o = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\n' => o.push_str("\\n"),
            '\r' => o.push_str("\\r"),
            '\t' => o.push_str("\\t"),
            c if (c as u32) < 0x80 && hidden(c) => o.push_str(&format!("\\x{:02x}", c as u32)),
            c if let Some(v) = bidi_visible(c) => o.push_str(&v),
            c if hidden(c) => o.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => o.push(c),
        }
    }
    o.into()
}

/// The bidirectional embeddings, overrides and isolates, which reorder the text after them in a
/// terminal, a browser or a PDF alike.
pub(crate) fn is_bidi(c: char) -> bool {
    matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// `c` written as `\u{202e}` where it is one of those ([`is_bidi`]).
pub(crate) fn bidi_visible(c: char) -> Option<String> {
    is_bidi(c).then(|| format!("\\u{{{:x}}}", c as u32))
}

/// A cell as text for people (terminal, Markdown); LaTeX has its own.
pub(crate) fn human_cell(c: &Cell) -> String {
    match c {
        Cell::Empty => String::new(),
        Cell::Text(s) | Cell::Raw(s) => s.clone(),
        Cell::Num(v) | Cell::Interval(v, None) => sig4(*v),
        Cell::Count(n) => human(*n as f64),
        Cell::Interval(v, Some((lo, hi))) => format!("{} [{}, {}]", sig4(*v), sig4(*lo), sig4(*hi)),
    }
}
