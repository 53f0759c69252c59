//! JSON: an array of row objects keyed by column name. Infinite or undefined numbers are null.
//! Cells passed through from the user's table keep one type per column: a column is numbers
//! only when every cell in it reads as one without losing what was written (an id like
//! "0123456" or a 20-digit count stays text), so a column's type never changes row to row.

use std::io::{self, Write};

use serde_json::{Map, Value};

use super::{Cell, Exporter, Table};

pub struct Json;

/// The number a passed-through cell holds, if writing it as a JSON number loses nothing
/// a reader would want back.
fn number(s: &str) -> Option<Value> {
    let digits = s.strip_prefix(['-', '+']).unwrap_or(s);
    if digits.len() > 1 && digits.starts_with('0') && !digits.starts_with("0.") {
        return None;
    }
    if let Ok(i) = s.parse::<i64>() {
        return Some(Value::from(i));
    }
    if digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    // NaN and infinities read as numbers and are written null, as ceq's own are.
    s.parse::<f64>().ok().map(crate::serde_nan::value)
}

fn value(c: &Cell, numeric: bool) -> Value {
    match c {
        Cell::Empty => Value::Null,
        Cell::Text(s) => Value::String(s.clone()),
        Cell::Raw(s) if s.is_empty() => Value::Null,
        Cell::Raw(s) => match number(s).filter(|_| numeric) {
            Some(v) => v,
            None => Value::String(s.clone()),
        },
        Cell::Num(v) | Cell::Interval(v, _) => crate::serde_nan::value(*v),
        Cell::Count(n) => Value::from(*n),
    }
}

impl Exporter for Json {
    fn export(&self, t: &Table, w: &mut dyn Write) -> io::Result<()> {
        let numeric: Vec<bool> = (0..t.columns.len())
            .map(|i| {
                t.rows.iter().all(|r| match &r[i] {
                    Cell::Raw(s) => s.is_empty() || number(s).is_some(),
                    _ => true,
                })
            })
            .collect();
        let rows: Vec<Value> = t
            .rows
            .iter()
            .map(|r| {
                let m: Map<String, Value> = t
                    .columns
                    .iter()
                    .zip(r)
                    .zip(&numeric)
                    .map(|((c, v), &n)| (c.name.clone(), value(v, n)))
                    .collect();
                Value::Object(m)
            })
            .collect();
        serde_json::to_writer_pretty(&mut *w, &rows)?;
        writeln!(w)
    }
}
