//! JSON: an array of row objects keyed by column name. Infinite or undefined numbers are null.

use std::io::{self, Write};

use serde_json::{Map, Value};

use super::{Cell, Exporter, Table};

pub struct Json;

pub(crate) fn value(c: &Cell) -> Value {
    match c {
        Cell::Empty => Value::Null,
        Cell::Text(s) => Value::String(s.clone()),
        Cell::Raw(s) => match (s.parse::<i64>(), s.parse::<f64>()) {
            (Ok(i), _) => Value::from(i),
            (_, Ok(v)) if v.is_finite() => crate::serde_nan::value(v),
            _ if s.is_empty() => Value::Null,
            _ => Value::String(s.clone()),
        },
        Cell::Num(v) | Cell::Interval(v, _) => crate::serde_nan::value(*v),
        Cell::Count(n) => Value::from(*n),
    }
}

impl Exporter for Json {
    fn export(&self, t: &Table, w: &mut dyn Write) -> io::Result<()> {
        let rows: Vec<Value> = t
            .rows
            .iter()
            .map(|r| {
                let m: Map<String, Value> = t
                    .columns
                    .iter()
                    .zip(r)
                    .map(|(c, v)| (c.name.clone(), value(v)))
                    .collect();
                Value::Object(m)
            })
            .collect();
        serde_json::to_writer_pretty(&mut *w, &rows)?;
        writeln!(w)
    }
}
