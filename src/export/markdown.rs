//! Markdown (GitHub tables): the title in bold, units in the header, notes as a list below. Text from
//! users' files is escaped so that it stays in its cell as plain text: no row broken by `|` or a
//! newline, no emphasis, code, link, HTML or heading made from a name.

use std::io::{self, Write};

use super::{Exporter, Table, human_cell, visible};

pub struct Markdown;

/// Text as it must be written to read back as itself, inside a table cell or a list item.
fn escape(s: &str) -> String {
    let cs: Vec<char> = s.chars().collect();
    let mut o = String::with_capacity(s.len());
    for (i, &c) in cs.iter().enumerate() {
        let word = |j: Option<usize>| {
            j.and_then(|j| cs.get(j))
                .is_some_and(|c| c.is_alphanumeric())
        };
        match c {
            // A line break inside a cell would end the row.
            '\n' => o.push_str("<br>"),
            '\r' if cs.get(i + 1) == Some(&'\n') => {}
            '\r' => o.push_str("<br>"),
            '\\' | '`' | '*' | '|' | '<' | '>' | '$' => {
                o.push('\\');
                o.push(c);
            }
            // `_` inside a word (`ce_clean`) is literal in GitHub Markdown; only at a word's edge can it
            // start or end emphasis.
            '_' if !(word(i.checked_sub(1)) && word(Some(i + 1))) => o.push_str("\\_"),
            // `[text](url)` is a link and `![text](src)` an image; a bracket alone is text (an interval).
            ']' if matches!(cs.get(i + 1), Some('(' | '[')) => o.push_str("\\]"),
            // `~x~` is strikethrough; `~ ` is not.
            '~' if cs.get(i + 1).is_some_and(|n| !n.is_whitespace()) => o.push_str("\\~"),
            // `&lt;` would show as `<`: only an `&` that could start an entity is escaped.
            '&' if cs
                .get(i + 1)
                .is_some_and(|n| n.is_alphanumeric() || *n == '#') =>
            {
                o.push_str("\\&")
            }
            c => o.push(c),
        }
    }
    visible(&o).into_owned()
}

/// A note, which starts a list item's line: a heading, list or rule marker at its start is escaped too.
fn escape_line(s: &str) -> String {
    let e = escape(s);
    let digits = e.chars().take_while(char::is_ascii_digit).count();
    match e[digits..].chars().next() {
        Some('#' | '-' | '+' | '=') if digits == 0 => format!("\\{e}"),
        Some('.' | ')') if digits > 0 => format!("{}\\{}", &e[..digits], &e[digits..]),
        _ => e,
    }
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
                writeln!(w, "- {}", escape_line(n))?;
            }
        }
        Ok(())
    }
}
