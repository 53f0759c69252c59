//! HTML: a `<table>` with units under the column names and the notes as a list, for the report page
//! (or any page): a wide table scrolls in its own box, and a number never breaks across lines
//! ("1.41e-5" at its hyphen), wherever the page's style sheet does not say otherwise.

use std::io::{self, Write};

use super::{Exporter, Table, human_cell};

pub struct Html;

pub fn escape(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            c if let Some(v) = super::bidi_visible(c) => o.push_str(&v),
            c => o.push(c),
        }
    }
    o
}

impl Exporter for Html {
    fn export(&self, t: &Table, w: &mut dyn Write) -> io::Result<()> {
        writeln!(
            w,
            "<div class=\"ceq-table\" style=\"overflow-x:auto\">\n<table>"
        )?;
        if !t.title.is_empty() {
            writeln!(w, "<caption>{}</caption>", escape(&t.title))?;
        }
        write!(w, "<thead><tr>")?;
        for c in &t.columns {
            let unit = c.unit_as(|u| format!("<br><small>{}</small>", escape(u)));
            write!(w, "<th>{}{unit}</th>", escape(&c.name))?;
        }
        writeln!(w, "</tr></thead>\n<tbody>")?;
        for r in &t.rows {
            write!(w, "<tr>")?;
            for c in r {
                let class = if c.is_text() {
                    ""
                } else {
                    " class=\"num\" style=\"white-space:nowrap\""
                };
                write!(w, "<td{class}>{}</td>", escape(&human_cell(c)))?;
            }
            writeln!(w, "</tr>")?;
        }
        writeln!(w, "</tbody>\n</table>\n</div>")?;
        if !t.notes.is_empty() {
            writeln!(w, "<ul class=\"notes\">")?;
            for n in &t.notes {
                writeln!(w, "<li>{}</li>", escape(n))?;
            }
            writeln!(w, "</ul>")?;
        }
        Ok(())
    }
}
