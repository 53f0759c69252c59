//! Markdown (GitHub tables): the title in bold, units in the header, notes as a list below.

use std::io::{self, Write};

use super::{Exporter, Table, human_cell};

pub struct Markdown;

fn escape(s: &str) -> String {
    s.replace('|', "\\|")
}

impl Exporter for Markdown {
    fn export(&self, t: &Table, w: &mut dyn Write) -> io::Result<()> {
        if !t.title.is_empty() {
            writeln!(w, "**{}**\n", escape(&t.title))?;
        }
        let head: Vec<String> = t
            .columns
            .iter()
            .map(|c| {
                if c.unit.is_empty() {
                    escape(&c.name)
                } else {
                    format!("{} ({})", escape(&c.name), escape(&c.unit))
                }
            })
            .collect();
        writeln!(w, "| {} |", head.join(" | "))?;
        let align: Vec<&str> = (0..t.columns.len())
            .map(|j| if t.is_text_column(j) { ":---" } else { "---:" })
            .collect();
        writeln!(w, "| {} |", align.join(" | "))?;
        for r in &t.rows {
            let v: Vec<String> = r.iter().map(|c| escape(&human_cell(c))).collect();
            writeln!(w, "| {} |", v.join(" | "))?;
        }
        if !t.notes.is_empty() {
            writeln!(w)?;
            for n in &t.notes {
                writeln!(w, "- {}", escape(n))?;
            }
        }
        Ok(())
    }
}
