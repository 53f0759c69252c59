//! Aligned columns for a terminal: numbers right-aligned, units on a second header line. Text from
//! users' files is shown with its control characters made visible ([`visible`]), so it can neither
//! break a row nor send escape sequences, and the columns stay aligned.

use std::io::{self, Write};

use super::{Exporter, Table, human_cell, visible};

pub struct Terminal;

impl Exporter for Terminal {
    fn export(&self, t: &Table, w: &mut dyn Write) -> io::Result<()> {
        let cells: Vec<Vec<String>> = t
            .rows
            .iter()
            .map(|r| {
                r.iter()
                    .map(|c| visible(&human_cell(c)).into_owned())
                    .collect()
            })
            .collect();
        let units: Vec<String> = t
            .columns
            .iter()
            .map(|c| c.unit_as(|u| format!("[{}]", visible(u))))
            .collect();
        let names: Vec<String> = t
            .columns
            .iter()
            .map(|c| visible(&c.name).into_owned())
            .collect();
        let width: Vec<usize> = (0..t.columns.len())
            .map(|j| {
                cells
                    .iter()
                    .map(|r| r[j].chars().count())
                    .chain([names[j].chars().count(), units[j].chars().count()])
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
            writeln!(w, "{}", visible(&t.title))?;
        }
        line(w, &names)?;
        if units.iter().any(|u| !u.is_empty()) {
            line(w, &units)?;
        }
        for r in &cells {
            line(w, r)?;
        }
        for n in &t.notes {
            writeln!(w, "  {}", visible(n))?;
        }
        Ok(())
    }
}
