//! CSV: one header line of column names, full-precision numbers, input values copied as they were.
//! Units are documented per column in the README (a comment line would break CSV readers).

use std::io::{self, Write};

use super::{Cell, Exporter, Table};

pub struct Csv;

/// Shortest text that reads back to the same f64; empty for NaN.
pub(crate) fn exact(v: f64) -> String {
    if v.is_nan() {
        String::new()
    } else {
        format!("{v}")
    }
}

/// A cell as the CSV holds it.
pub(crate) fn csv_text(c: &Cell) -> String {
    match c {
        Cell::Empty => String::new(),
        Cell::Text(s) | Cell::Raw(s) => s.clone(),
        Cell::Num(v) | Cell::Interval(v, _) => exact(*v),
        Cell::Count(n) => n.to_string(),
    }
}

impl Exporter for Csv {
    fn export(&self, t: &Table, w: &mut dyn Write) -> io::Result<()> {
        let mut wr = csv::Writer::from_writer(w);
        let io = |e: csv::Error| io::Error::other(e);
        wr.write_record(t.columns.iter().map(|c| c.name.as_str()))
            .map_err(io)?;
        for r in &t.rows {
            wr.write_record(r.iter().map(csv_text)).map_err(io)?;
        }
        wr.flush()
    }
}
