//! `ceq report`: one directory holding the figures, the law, the mapped table in every format and a
//! self-contained `index.html`. The files are written into a new folder that then replaces the old one
//! whole, so a failed or killed run leaves the old report as it was.

use std::path::{Path, PathBuf};

use base64::Engine;

use crate::analysis::Analysis;
use crate::error::{DataKind, Error, Result};
use crate::export::html::escape;
use crate::export::{Format, Table};
use crate::io::{self, NewDir, write_atomic};
use crate::law_file::LawFile;
use crate::map::MapResult;
use crate::plot::{self, Data, Figure, Reference};
use crate::progress::{Listener, Progress};
use crate::table::Source;

/// What a report is made of.
pub struct Report<'a> {
    pub law_file: &'a LawFile,
    pub map: &'a MapResult,
    pub group_by: Option<String>,
    /// The command line that made the report, for the record.
    pub command: String,
    /// A floor known independently of the fit (`ceq study`), shown beside the fitted E.
    pub reference: Option<Reference>,
}

/// `ceq report`: splices mapped through a law, into a folder of its own.
pub struct ReportJob {
    pub analysis: Analysis,
    pub out: PathBuf,
    /// Replace a folder holding a report (only report files), whole.
    pub force: bool,
}

impl ReportJob {
    /// Checks the folder, maps, then writes the report, each file told once it is in place;
    /// returns the path of index.html and how many splices it holds.
    pub fn run(&self, on: Listener) -> Result<(PathBuf, usize)> {
        let inputs = self.analysis.inputs();
        let inputs: Vec<&Path> = inputs.iter().map(PathBuf::as_path).collect();
        check_dir(&self.out, self.force, &inputs)?;
        check_is_a_report(&self.out)?;
        for left in io::left_beside(&self.out) {
            // index.html is written last: without it the copy is a report cut short.
            let holds = match left.join("index.html").exists() {
                false => "an unfinished report (no index.html), written when the run stopped",
                true => {
                    "a whole report, that run's new one or the old one it replaced (its \
                         index.html says what made it)"
                }
            };
            on(Progress::Warning(format!(
                "{} was left by a ceq run killed while it replaced {}: it holds {holds}; look, \
                 then remove it",
                left.display(),
                self.out.display()
            )));
        }
        let map = self.analysis.map(on)?;
        // Only now, with the fit done, is the folder made: a failed fit leaves nothing behind.
        let report = Report {
            law_file: &map.law_file,
            map: &map,
            group_by: self.analysis.group_by.clone(),
            command: command_line(),
            reference: None,
        };
        let index = report.write(&self.out, &mut |p| on(p))?;
        Ok((index, map.rows.len()))
    }
}

/// Every file a report may write.
pub const FILES: [&str; 24] = [
    "law.json",
    "mapped.csv",
    "mapped.json",
    "mapped.md",
    "mapped.tex",
    "fit.svg",
    "fit.png",
    "fit.pdf",
    "n_and_d.svg",
    "n_and_d.png",
    "n_and_d.pdf",
    "splices.svg",
    "splices.png",
    "splices.pdf",
    "linear_vs_log.svg",
    "linear_vs_log.png",
    "linear_vs_log.pdf",
    "across_sizes.svg",
    "across_sizes.png",
    "across_sizes.pdf",
    "residuals.svg",
    "residuals.png",
    "residuals.pdf",
    "index.html",
];

/// The command line as typed, for the record: pasted into a shell, it runs the same command.
pub fn command_line() -> String {
    shell_line(std::env::args())
}

/// Words joined for a POSIX shell: a word of other characters than letters, digits and
/// `@%+=:,./-_` is single-quoted (as Python's `shlex.quote`), so `&`, `|`, `>`, `;`, `*` or `~`
/// in a path are not run as the shell's.
fn shell_line(words: impl Iterator<Item = String>) -> String {
    let safe = |c: char| c.is_alphanumeric() || "@%+=:,./-_".contains(c);
    (words.map(|a| match !a.is_empty() && a.chars().all(safe) {
        true => a,
        false => format!("'{}'", a.replace('\'', "'\\''")),
    }))
    .collect::<Vec<_>>()
    .join(" ")
}

/// Checks the output folder may be written: absent, empty, or (when `force`) holding only report
/// files; and that no input is inside it, since the report replaces the folder whole.
pub fn check_dir(dir: &Path, force: bool, inputs: &[&Path]) -> Result<()> {
    let d = io::resolved(dir);
    if let Some(&input) = inputs.iter().find(|i| io::resolved(i).starts_with(&d)) {
        return Err(Error::OutputIsInput {
            out: dir.to_owned(),
            input: input.to_owned(),
            why: if io::resolved(input) == d {
                "is the input"
            } else {
                "is a folder a report replaces whole, and holds the input"
            },
        });
    }
    io::check_out_dir(dir, &[], force)?;
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(());
    };
    let names: Vec<String> = entries
        .map(|e| e.map(|e| e.file_name().to_string_lossy().into_owned()))
        .collect::<std::io::Result<_>>()
        .map_err(Error::io(dir))?;
    if names.is_empty() {
        return Ok(());
    }
    if force {
        // A forced report replaces the folder whole, from a new folder made beside it.
        io::check_writable(names.iter().map(|n| dir.join(n)))?;
        if let Some(parent) = io::resolved(dir).parent() {
            io::check_can_write_in(dir, parent)?;
        }
    }
    if !force {
        return Err(Error::Data { kind: DataKind::OutputDir,
            path: dir.to_owned(),
            message: "the folder is not empty; a report goes into a new or empty folder, or replaces a report folder whole when forced".into(),
        });
    }
    let foreign: Vec<String> = names
        .iter()
        .filter_map(|n| not_a_report_file(&dir.join(n), n))
        .collect();
    if foreign.is_empty() {
        return Ok(());
    }
    Err(io::not_writable(
        dir,
        format!(
            "it holds {}, which a report does not write; a forced report replaces the folder whole, so move them or choose another folder",
            foreign.join(", ")
        ),
    ))
}

/// Refuses a folder of report files' names with no report's index.html: names alone do not make
/// a report, and a user's own law.json or mapped.md would go with the folder. (A study knows its
/// report folder's files by what it recorded writing, and does not ask this.)
fn check_is_a_report(dir: &Path) -> Result<()> {
    let names: Vec<String> = std::fs::read_dir(dir).map_or(vec![], |e| {
        e.flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect()
    });
    if names.is_empty() || is_report_index(&dir.join("index.html")) {
        return Ok(());
    }
    Err(io::not_writable(
        dir,
        format!(
            "it holds {}, but no index.html of a ceq report, so it is not a report folder, which \
             is all a forced report replaces; move them or choose another folder (or, if a \
             report stopped while filling this folder, remove them)",
            names.join(", ")
        ),
    ))
}

/// How an entry of a folder a forced report would replace is not a report's own file, if it is
/// not: another name, a folder under a report file's name (it would go with its contents), or an
/// index.html no ceq report wrote.
fn not_a_report_file(path: &Path, name: &str) -> Option<String> {
    if !FILES.contains(&name) {
        return Some(name.to_owned());
    }
    if std::fs::symlink_metadata(path).is_ok_and(|m| m.is_dir()) {
        return Some(format!("a folder named {name}"));
    }
    if name == "index.html" && !is_report_index(path) {
        return Some("an index.html no ceq report wrote".into());
    }
    None
}

/// Whether `path` starts as a report's index.html does (its title, within the first lines).
fn is_report_index(path: &Path) -> bool {
    use std::io::Read;
    let mut head = [0u8; 256];
    let n = std::fs::File::open(path).and_then(|mut f| f.read(&mut head));
    n.is_ok_and(|n| String::from_utf8_lossy(&head[..n]).contains(INDEX_TITLE))
}

/// The title every report's index.html carries, near its start.
const INDEX_TITLE: &str = "<title>ceq report</title>";

impl Report<'_> {
    /// Writes every file into a new folder beside `dir` (checked with [`check_dir`]) and then swaps
    /// it in for `dir` whole, so `dir` is the old report or the new one, never a mix; an existing
    /// empty folder is filled in place instead, so it stays itself (a mount point, a shell's working
    /// folder). Tells `on` each file once it is in place ([`Progress::Wrote`]), and what the PNGs
    /// cannot draw; returns the path of `index.html`.
    pub fn write(&self, dir: &Path, on: &mut dyn FnMut(Progress)) -> Result<PathBuf> {
        let empty = std::fs::read_dir(dir).is_ok_and(|mut e| e.next().is_none());
        let new = if empty {
            None
        } else {
            Some(NewDir::beside(dir)?)
        };
        let into = new.as_ref().map_or(dir, NewDir::path);
        let mut names: Vec<PathBuf> = vec![];
        let mut put = |name: &str, bytes: &[u8]| -> Result<()> {
            write_atomic(&into.join(name), bytes)?;
            names.push(name.into());
            Ok(())
        };
        put("law.json", self.law_file.to_json().as_bytes())?;
        let full = self.map.full_table();
        let summary = self.map.summary_table();
        for (name, format, table) in [
            ("mapped.csv", Format::Csv, &full),
            ("mapped.json", Format::Json, &full),
            ("mapped.md", Format::Markdown, &summary),
            ("mapped.tex", Format::Latex, &summary),
        ] {
            put(name, format.render(table).as_bytes())?;
        }
        let mut data = Data::new(self.law_file, Some(self.map), self.group_by.clone());
        data.reference = self.reference.clone();
        let mut figures = vec![];
        let svgs = plot::write_figures(&data, &[], into, false, &mut |p| {
            figures.extend(p.file_name().map(PathBuf::from))
        })?;
        names.extend(figures);
        if let Some(w) = plot::glyph_warning(&svgs) {
            on(Progress::Warning(w));
        }
        let skipped = plot::not_drawn_lines(&plot::not_drawn(&data, &svgs));
        for line in &skipped {
            on(Progress::Note(line.clone()));
        }
        write_atomic(
            &into.join("index.html"),
            self.html(&data, &svgs, &skipped, &summary).as_bytes(),
        )?;
        names.push("index.html".into());
        new.map(NewDir::swap_in).transpose()?;
        names.iter().for_each(|n| on(Progress::Wrote(dir.join(n))));
        Ok(dir.join("index.html"))
    }

    /// The fitted E next to a known floor, in one line.
    pub fn floor_line(&self, r: &Reference) -> String {
        let lf = self.law_file;
        let e = lf.law().floor();
        let bootstrap =
            (lf.bootstrap.as_ref()).and_then(|b| Some((b.level, b.intervals.get("E")?.0)));
        let interval = bootstrap.map_or(String::new(), |(level, (lo, hi))| {
            let pct = crate::law_file::percent_level(level);
            format!(" ({pct} bootstrap interval {lo:.4} to {hi:.4})")
        });
        format!(
            "Fitted floor E = {e:.4} nats/token{interval}; {}: {:.4} nats/token (E − floor = {:+.4}). {}.",
            r.label,
            r.loss,
            e - r.loss,
            capitalised(&r.verdict(bootstrap.map(|b| b.1)))
        )
    }

    fn html(
        &self,
        data: &Data,
        svgs: &[(Figure, String)],
        skipped: &[String],
        summary: &Table,
    ) -> String {
        let lf = self.law_file;
        let mut h = String::new();
        h += "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
        h += &format!("{INDEX_TITLE}\n<style>\n");
        // The figures' font, embedded, so the page renders the same on a machine with no fonts.
        h += &format!(
            "@font-face{{font-family:'DejaVu Sans';src:url(data:font/ttf;base64,{}) format('truetype')}}\n",
            base64::engine::general_purpose::STANDARD.encode(dejavu::sans::regular())
        );
        h += "body{font-family:'DejaVu Sans',sans-serif;max-width:1220px;margin:2em auto;padding:0 1em;color:#222}\n";
        h += "table{border-collapse:collapse;margin:1em 0;font-size:14px}\n";
        h += "th,td{padding:3px 8px;border-bottom:1px solid #ddd;text-align:left;vertical-align:top}\n";
        h += "td.num{text-align:right;font-variant-numeric:tabular-nums}\ncaption{font-weight:bold;text-align:left}\n";
        h += ".notes{font-size:13px;color:#444}.warn{background:#fff3cd;padding:.5em 1em;border-left:4px solid #e69f00}\n";
        h += "figure{display:inline-block;margin:0 1em 1em 0}figure svg{max-width:100%;height:auto}\n";
        h += "code{background:#f4f4f4;padding:1px 4px}\n</style>\n</head>\n<body>\n";
        h += "<h1>ceq report</h1>\n";
        h += &format!(
            "<p>Made by <code>{}</code> with ceq {}.</p>\n",
            escape(&self.command),
            escape(env!("CARGO_PKG_VERSION"))
        );
        h += "<h2>Spliced losses in compute</h2>\n";
        for w in self.map.warnings() {
            h += &format!("<p class=\"warn\">Warning: {}</p>\n", escape(&w));
        }
        h += &Format::Html.render(summary);
        // A SAEBench folder's files that are not core results: a reader of the page alone should
        // know which results the table leaves out, not only the terminal that ran it.
        if let Source::SaeBench { skipped, .. } = &self.map.splices.source {
            for (file, why) in skipped {
                let file = file.display().to_string();
                h += &format!(
                    "<p class=\"notes\">Not read: {}: {}.</p>\n",
                    escape(&file),
                    escape(why)
                );
            }
        }
        h += "<p>Files: <a href=\"mapped.csv\">mapped.csv</a> (every column), <a href=\"mapped.json\">mapped.json</a>, \
              <a href=\"mapped.md\">mapped.md</a>, <a href=\"mapped.tex\">mapped.tex</a> (booktabs), \
              <a href=\"law.json\">law.json</a>.</p>\n";
        h += "<h2>Figures</h2>\n";
        // What every figure's numbers are: the units, which parameter count and token set, and
        // what the intervals hold.
        let mut about = self.map.units_line();
        if let Some(iv) = self.map.interval_caption() {
            about += &format!("; {iv}");
        }
        h += &format!("<p class=\"notes\">{}.</p>\n", escape(&about));
        for (fig, svg) in svgs {
            let body = svg.find("<svg").map_or(svg.as_str(), |i| &svg[i..]);
            let mut caption = capitalised(&fig.shows(data));
            if *fig == Figure::Splices {
                caption += " (×: the compute fraction; a label is left out where it would not sit \
                            clearly by its own arrow, and mapped.csv has every one)";
            }
            if let Some(about) = fig.about(data) {
                caption += &format!(" ({about})");
            }
            let stem = fig.stem();
            let links: Vec<String> = (plot::FORMATS.iter())
                .map(|ext| format!("<a href=\"{stem}.{ext}\">{stem}.{ext}</a>"))
                .collect();
            let links = links.join(" · ");
            h += &format!(
                "<figure id=\"{stem}\">{body}<figcaption>{}. {links}</figcaption></figure>\n",
                escape(&caption),
            );
        }
        for line in skipped {
            h += &format!("<p class=\"notes\">{}.</p>\n", escape(line));
        }
        h += "<h2>The fit</h2>\n";
        if let Some(r) = &self.reference {
            h += &format!("<p>{}</p>\n", escape(&self.floor_line(r)));
        }
        for w in &lf.fit.warnings {
            h += &format!("<p class=\"warn\">Warning: {}</p>\n", escape(w));
        }
        h += &Format::Html.render(&lf.summary_table());
        h += "</body>\n</html>\n";
        h
    }
}

/// A sentence's first letter in capitals.
fn capitalised(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map_or_else(String::new, |f| f.to_uppercase().chain(c).collect())
}

#[cfg(test)]
mod tests {
    /// The recorded line, split again by a real shell, gives back every word as typed (an `&`,
    /// `|` or `>` in a path was left bare: pasted, it backgrounded the run and emptied a file).
    #[test]
    fn a_command_line_reads_back_word_for_word() {
        let words: Vec<String> = [
            "ceq",
            "report",
            "--out",
            "r&d|x>y;z*",
            "",
            "it's \"my\" $sae",
            "a b",
            "~/x",
            "#c",
            "ünï",
            "(x)",
            "{a,b}",
            "!h",
            "plain-path/x.csv",
        ]
        .map(String::from)
        .to_vec();
        let line = super::shell_line(words.clone().into_iter());
        let out = std::process::Command::new("sh")
            .args(["-c", &format!("printf '%s\\0' {line}")])
            .current_dir(std::env::temp_dir())
            .output()
            .unwrap();
        let back: Vec<String> = (String::from_utf8(out.stdout).unwrap().split('\0'))
            .map(String::from)
            .collect();
        assert_eq!(back[..back.len() - 1], words[..], "{line}");
        assert!(line.contains(" plain-path/x.csv"), "{line}");
    }
}
