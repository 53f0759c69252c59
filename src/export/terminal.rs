//! Aligned columns for a terminal: numbers right-aligned, units on a second header line.

use std::io::{self, Write};

use super::{Exporter, Table, human_cell};

pub struct Terminal;

impl Exporter for Terminal {
    fn export(&self, t: &Table, w: &mut dyn Write) -> io::Result<()> {
        let cells: Vec<Vec<String>> = t
            .rows
            .iter()
            .map(|r| r.iter().map(human_cell).collect())
            .collect();
        let units: Vec<String> = t
            .columns
            .iter()
            .map(|c| c.unit_as(|u| format!("[{u}]")))
            .collect();
        let width: Vec<usize> = (0..t.columns.len())
            .map(|j| {
                cells
                    .iter()
                    .map(|r| r[j].chars().count())
                    .chain([t.columns[j].name.chars().count(), units[j].chars().count()])
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let left: Vec<bool> = (0..t.columns.len()).map(|j| t.is_text_column(j)).collect();
        let line = |w: &mut dyn Write, vals: &[String]| -> io::Result<()> {
            let parts: Vec<String> = vals
                .iter()
                .enumerate()
                .map(|(j, v)| {
                    if left[j] {
                        format!("{v:<0$}", width[j])
                    } else {
                        format!("{v:>0$}", width[j])
                    }
                })
                .collect();
            writeln!(w, "{}", parts.join("  ").trim_end())
        };
        if !t.title.is_empty() {
            writeln!(w, "{}", t.title)?;
        }
        let names: Vec<String> = t.columns.iter().map(|c| c.name.clone()).collect();
        line(w, &names)?;
        if units.iter().any(|u| !u.is_empty()) {
            line(w, &units)?;
        }
        for r in &cells {
            line(w, r)?;
        }
        for n in &t.notes {
            writeln!(w, "  {n}")?;
        }
        Ok(())
    }
}
