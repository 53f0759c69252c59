//! Outputs that must not mislead or break whatever the input: names that would inject markup or escape
//! sequences, bootstrap intervals that cannot be trusted, figures with many groups, and law files
//! whose size does not grow with the data.

use std::path::{Path, PathBuf};

use crate::common::{ceq, data, fit_to, stdout_json};

/// data/splices.csv with the first names replaced by hostile ones.
const HOSTILE: [&str; 6] = [
    "a|b",
    "line1\nline2",
    "\u{1b}[31mred\u{1b}[0m",
    "`code` *em* <b>x</b> [l](u) ~~s~~ &lt;",
    "1. ordered",
    "bidi\u{202e}desrever",
];

fn hostile_splices(dir: &Path) -> PathBuf {
    let mut rd = csv::Reader::from_path(data("splices.csv")).unwrap();
    let mut wr = csv::Writer::from_path(dir.join("splices.csv")).unwrap();
    wr.write_record(rd.headers().unwrap()).unwrap();
    let head = rd.headers().unwrap().clone();
    let col = |name: &str| head.iter().position(|h| h == name).unwrap();
    for (i, r) in rd.records().enumerate() {
        let mut r: Vec<String> = r.unwrap().iter().map(str::to_owned).collect();
        if let Some(n) = HOSTILE.get(i) {
            r[0] = (*n).to_owned();
        }
        if i == 4 {
            // A splice that lowers the loss gets a note, which starts with its name ("1. ordered").
            let clean: f64 = r[col("ce_clean")].parse().unwrap();
            r[col("ce_spliced")] = format!("{}", clean - 0.01);
        }
        wr.write_record(&r).unwrap();
    }
    wr.flush().unwrap();
    dir.join("splices.csv")
}

fn map_as(law: &Path, splices: &Path, format: &str) -> String {
    let out = ceq()
        .args(["map", "--format", format, "--law"])
        .arg(law)
        .arg("--splices")
        .arg(splices)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Pipes in a Markdown table row that are cell separators (not escaped by a backslash).
fn separators(line: &str) -> usize {
    let mut n = 0;
    let mut escaped = false;
    for c in line.chars() {
        if c == '|' && !escaped {
            n += 1;
        }
        escaped = c == '\\' && !escaped;
    }
    n
}

#[test]
fn markdown_keeps_hostile_names_in_their_cells_as_text() {
    let dir = tempfile::tempdir().unwrap();
    let law = fit_to(
        dir.path(),
        Path::new(&data("checkpoints.csv")),
        "law.json",
        &[],
    );
    let md = map_as(&law, &hostile_splices(dir.path()), "markdown");
    assert!(!md.contains('\u{1b}') && !md.contains('\u{202e}'), "{md}");
    let rows: Vec<&str> = md.lines().filter(|l| l.starts_with('|')).collect();
    // Header, alignment and one row per splice: no name broke a row.
    assert_eq!(rows.len(), 2 + 12, "{md}");
    let cells = separators(rows[0]);
    for r in &rows {
        assert_eq!(separators(r), cells, "a name split a row into cells: {r}");
    }
    for want in [
        "a\\|b",
        "line1<br>line2",
        "\\x1b[31mred\\x1b[0m",
        "\\`code\\` \\*em\\* \\<b\\>x\\</b\\> [l\\](u) \\~\\~s\\~~ \\&lt;",
        "1. ordered",
        "bidi\\u{202e}desrever",
    ] {
        assert!(md.contains(want), "no '{want}' in\n{md}");
    }
    // In a note (a list item) a leading "1." would start a numbered list.
    assert!(
        md.lines().any(|l| l.starts_with("- 1\\. ordered: ")),
        "{md}"
    );
}

#[test]
fn terminal_table_shows_control_characters_visibly_and_stays_aligned() {
    let dir = tempfile::tempdir().unwrap();
    let law = fit_to(
        dir.path(),
        Path::new(&data("checkpoints.csv")),
        "law.json",
        &[],
    );
    let t = map_as(&law, &hostile_splices(dir.path()), "table");
    assert!(!t.chars().any(|c| c.is_control() && c != '\n'), "{t:?}");
    assert!(!t.contains('\u{202e}'));
    for want in [
        "line1\\nline2",
        "\\x1b[31mred\\x1b[0m",
        "bidi\\u{202e}desrever",
    ] {
        assert!(t.contains(want), "no '{want}' in\n{t}");
    }
    assert!(
        !t.lines().any(|l| l.starts_with("line2")),
        "a name broke a row:\n{t}"
    );
    // The rows after the title, header and units line up: each ends with its status at one column.
    let lines: Vec<&str> = t.lines().skip(3).take(12).collect();
    let width = |l: &str| l.chars().count();
    assert!(lines.iter().all(|l| width(l) == width(lines[0])), "{t}");
}

#[test]
fn csv_and_json_keep_hostile_names_exact() {
    let dir = tempfile::tempdir().unwrap();
    let law = fit_to(
        dir.path(),
        Path::new(&data("checkpoints.csv")),
        "law.json",
        &[],
    );
    let splices = hostile_splices(dir.path());
    let csv_text = map_as(&law, &splices, "csv");
    let mut rd = csv::Reader::from_reader(csv_text.as_bytes());
    let names: Vec<String> = rd.records().map(|r| r.unwrap()[0].to_owned()).collect();
    assert_eq!(&names[..HOSTILE.len()], HOSTILE);
    let json = stdout_json(
        ceq()
            .args(["map", "--format", "json", "--law"])
            .arg(&law)
            .arg("--splices")
            .arg(&splices),
    );
    let names: Vec<&str> = json
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(&names[..HOSTILE.len()], HOSTILE);
}
