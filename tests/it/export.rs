//! Exporters: number formatting, escaping, and the shape of each format.

use ceq::export::{Cell, Column, Format, Table, human};

fn table() -> Table {
    Table {
        title: "T_1 & co".into(),
        columns: vec![
            Column::new("name", ""),
            Column::new("compute", "FLOPs"),
            Column::new("frac", "ratio"),
        ],
        rows: vec![
            vec![
                Cell::Text("a_b".into()),
                Cell::Num(1.234e21),
                Cell::Interval(0.1234, Some((0.1, 0.15))),
            ],
            vec![
                Cell::Text("c".into()),
                Cell::Empty,
                Cell::Num(f64::INFINITY),
            ],
        ],
        notes: vec!["50% of it".into()],
        key: 0,
    }
}

#[test]
fn human_numbers() {
    assert_eq!(human(1.234e21), "1.234e21");
    assert_eq!(human(1.2e21), "1.2e21");
    assert_eq!(human(0.12345), "0.1235");
    assert_eq!(human(2143.41), "2143");
    assert_eq!(human(3.0), "3");
    assert_eq!(human(0.0001234), "1.234e-4");
    assert_eq!(human(f64::INFINITY), "inf");
}

#[test]
fn csv_is_exact_and_plain() {
    let s = Format::Csv.render(&table());
    let mut lines = s.lines();
    assert_eq!(lines.next(), Some("name,compute,frac"));
    assert_eq!(lines.next(), Some("a_b,1234000000000000000000,0.1234"));
    assert_eq!(lines.next(), Some("c,,inf"));
}

#[test]
fn json_is_an_array_of_rows_with_null_for_missing() {
    let v: serde_json::Value = serde_json::from_str(&Format::Json.render(&table())).unwrap();
    let rows = v.as_array().unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0]["compute"].as_f64(), Some(1.234e21));
    assert_eq!(rows[0]["name"], "a_b");
    assert!(rows[1]["compute"].is_null() && rows[1]["frac"].is_null());
}

#[test]
fn markdown_has_units_intervals_and_notes() {
    let s = Format::Markdown.render(&table());
    assert!(
        s.contains("| name | compute (FLOPs) | frac (ratio) |"),
        "{s}"
    );
    // Four significant figures with their trailing zeros: one precision down a column.
    assert!(
        s.contains("| a_b | 1.234e21 | 0.1234 [0.1000, 0.1500] |"),
        "{s}"
    );
    assert!(s.contains("- 50% of it"));
    let (sig, human) = (ceq::export::sig4, ceq::export::human);
    assert_eq!(
        (sig(1.09), sig(2e6), sig(0.0794), sig(1.0)),
        (
            "1.090".into(),
            "2.000e6".into(),
            "0.07940".into(),
            "1.000".into()
        )
    );
    // Rounding up to a power of ten keeps 4 digits, not 5 (as C's "%#.4g" prints them; review of
    // stop 40: 1.0000, 10.000, 0.10000), and 99999.6 rounds into scientific form.
    assert_eq!(
        [0.99996, 9.99996, 0.099996, 99999.6, 0.00099996, -0.99996].map(sig),
        ["1.000", "10.00", "0.1000", "1.000e5", "0.001000", "-1.000"].map(String::from)
    );
    // Axis labels and prose keep the short form.
    assert_eq!(
        (human(1.09), human(2e6), human(0.0794)),
        ("1.09".into(), "2e6".into(), "0.0794".into())
    );
}

#[test]
fn latex_is_booktabs_and_escaped() {
    let s = Format::Latex.render(&table());
    for want in [
        "\\caption{T\\_1 \\& co}",
        "\\toprule",
        "\\midrule",
        "\\bottomrule",
        "a\\_b & $1.234\\times10^{21}$ & $0.1234$ {\\scriptsize $[0.1000, 0.1500]$} \\\\",
        "c & -- & $\\infty$ \\\\",
        "50\\% of it",
    ] {
        assert!(s.contains(want), "missing {want} in\n{s}");
    }
    // Characters OT1 (LaTeX's default encoding) prints as other glyphs are spelled as commands.
    let mut t = table();
    t.rows[1][0] = Cell::Text("k<8 | l0>16 \"x\"".into());
    let s = Format::Latex.render(&t);
    let want = "k\\textless{}8 \\textbar{} l0\\textgreater{}16 {\\ttfamily\\char34}x{\\ttfamily\\char34} &";
    assert!(s.contains(want), "missing {want} in\n{s}");
}

/// The notes that say what a table's numbers are (units, definitions, intervals) stay in the
/// LaTeX float, which LaTeX may move pages away (review 96: they sat after it); warnings and the
/// rows' notes follow it, so a long list of them does not push the float off its page.
#[test]
fn latex_keeps_the_tables_key_in_its_float() {
    let mut t = table();
    t.notes = vec![
        "losses in nats/token".into(),
        "[lo, hi]: 90% bootstrap".into(),
        "warning: w".into(),
    ];
    t.key = 2;
    let s = Format::Latex.render(&t);
    let (float, after) = s.split_once("\\end{table}").unwrap();
    assert!(
        float.contains("losses in nats/token\\par\n[lo, hi]: 90\\% bootstrap\\par"),
        "{s}"
    );
    assert!(!float.contains("warning: w"), "{s}");
    assert!(
        after.contains("\\begin{flushleft}\\footnotesize\nwarning: w\\par"),
        "{s}"
    );
    // A table whose every note is its key has nothing after the float.
    t.key = 3;
    let s = Format::Latex.render(&t);
    assert!(
        s.contains("warning: w\\par\n}\n\\end{table}\n") && !s.contains("flushleft"),
        "{s}"
    );
}

/// What review 11f found stopping pdfLaTeX or a page: a name starting with "[" (read as the
/// optional argument of the `\\` before it), Greek letters and ≈ (unknown to pdfLaTeX's utf8),
/// a table wider than the text (scaled down to it, only when wider), a float of notes taller than
/// a page (all but the key follow the float); in HTML, numbers broken at an exponent's hyphen and a wide
/// table cut off (each number cell unbreakable, the table in its own scrolling box).
#[test]
fn latex_and_html_survive_names_and_widths() {
    let mut t = table();
    t.rows[1][0] = Cell::Text("[x] λ≈0.3 … µ".into());
    let s = Format::Latex.render(&t);
    for want in [
        "{}c",
        "{}a\\_b &",
        "{}[x] $\\lambda$$\\approx$0.3 \\ldots{} $\\mu$ &",
        "\\resizebox{\\ifdim\\width>\\linewidth\\linewidth\\else\\width\\fi}{!}{%",
        "\\end{tabular}}\n\\end{table}\n% The table's other notes",
        "\\begin{flushleft}\\footnotesize\n50\\% of it\\par\n\\end{flushleft}",
    ] {
        let want = want.replace("{}c", "{}[x]");
        assert!(s.contains(&want), "missing {want} in\n{s}");
    }
    let h = Format::Html.render(&table());
    assert!(
        h.starts_with("<div class=\"ceq-table\" style=\"overflow-x:auto\">\n<table>"),
        "{h}"
    );
    assert!(
        h.contains("<td class=\"num\" style=\"white-space:nowrap\">1.234e21</td>"),
        "{h}"
    );
    assert!(
        h.contains("<td>a_b</td>") && h.trim_end().ends_with("</ul>"),
        "{h}"
    );
}

/// The README's column tables are the schema's (`src/schema/columns.csv`), so neither can drift.
#[test]
fn readme_column_tables_are_the_schema() {
    use ceq::schema::{CHECKPOINTS, EVAL, FAMILY, MAPPED, SAEBENCH, SPLICES};
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    for s in [
        &*CHECKPOINTS,
        &*SPLICES,
        &*EVAL,
        &*SAEBENCH,
        &*MAPPED,
        &*FAMILY,
    ] {
        let want = s.markdown();
        assert!(
            readme.contains(&want),
            "README.md lacks the {} table as src/schema/columns.csv has it; paste this:\n{want}",
            s.table
        );
    }
}

/// A count is a JSON integer and reads as the same number as a whole f64 in every other format.
#[test]
fn a_count_is_a_json_integer_and_otherwise_a_number() {
    let mut t = table();
    t.rows[1][1] = Cell::Count(1_234_567_890);
    let mut as_num = t.clone();
    as_num.rows[1][1] = Cell::Num(1_234_567_890.0);
    for f in Format::ALL {
        if f != Format::Json {
            assert_eq!(f.render(&t), f.render(&as_num), "{}", f.name());
        }
    }
    let json = Format::Json.render(&t);
    assert!(json.contains("\"compute\": 1234567890,"), "{json}");
    assert!(
        Format::Json
            .render(&as_num)
            .contains("\"compute\": 1234567890.0,")
    );
    // A count held as an f64 (a host's training tokens) is one only when whole.
    assert_eq!(Cell::count(3e9), Cell::Count(3_000_000_000));
    assert_eq!(Cell::count(2.5), Cell::Num(2.5));
    assert_eq!(Cell::count(-1.0), Cell::Num(-1.0));
}

/// A column passed through from the user's table has one JSON type: numbers only when every
/// cell reads as one without losing what was written (review 50: an id "0123456" became 123456,
/// a 20-digit id lost its last digits, and a column mixed numbers and strings row to row).
#[test]
fn a_passed_through_column_keeps_one_json_type() {
    let raw = |cells: &[&str]| -> Vec<serde_json::Value> {
        let t = Table {
            title: "t".into(),
            columns: vec![Column::new("x", "")],
            rows: cells
                .iter()
                .map(|c| vec![Cell::Raw(c.to_string())])
                .collect(),
            ..Table::default()
        };
        let v: serde_json::Value = serde_json::from_str(&Format::Json.render(&t)).unwrap();
        v.as_array()
            .unwrap()
            .iter()
            .map(|r| r["x"].clone())
            .collect()
    };
    use serde_json::json;
    assert_eq!(
        raw(&["3", "-2.5", "", "1e3", "nan"]),
        [
            json!(3),
            json!(-2.5),
            json!(null),
            json!(1000.0),
            json!(null)
        ]
    );
    assert_eq!(raw(&["0123456", "7"]), [json!("0123456"), json!("7")]);
    assert_eq!(
        raw(&["12345678901234567890"]),
        [json!("12345678901234567890")]
    );
    assert_eq!(raw(&["4", "layer 4"]), [json!("4"), json!("layer 4")]);
    assert_eq!(
        raw(&["0", "0.5", "-0.25"]),
        [json!(0), json!(0.5), json!(-0.25)]
    );
}

/// No text file of the repository holds a merge's conflict markers (review 11c found one in
/// docs/ARCHITECTURE.md, which no test read).
#[test]
fn no_file_holds_conflict_markers() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut stack = vec![root.to_owned()];
    let mut read = 0;
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap() {
            let p = e.unwrap().path();
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            if name.starts_with('.') && name != ".ci" || name == "target" {
                continue;
            }
            if p.is_dir() {
                stack.push(p);
            } else if let Ok(text) = std::fs::read_to_string(&p) {
                read += 1;
                for (i, l) in text.lines().enumerate() {
                    let marker =
                        ["<<<<<<< ", ">>>>>>> "].iter().any(|m| l.starts_with(m)) || l == "=======";
                    assert!(!marker, "{}:{}: a conflict marker: {l}", p.display(), i + 1);
                }
            }
        }
    }
    assert!(read > 100, "{read} files read");
}

/// A table built by hand with rows of other widths than its columns renders in every format
/// (review: it panicked): short rows get empty cells, extra cells a column named by position.
#[test]
fn a_ragged_table_renders_without_losing_cells() {
    let t = Table {
        title: "ragged".into(),
        columns: vec![Column::new("a", ""), Column::new("b", "nats")],
        rows: vec![
            vec![Cell::Num(1.5)],
            vec![Cell::Num(2.5), Cell::Num(3.5), Cell::Text("extra".into())],
        ],
        ..Table::default()
    };
    for f in Format::ALL {
        let out = f.render(&t);
        assert!(
            out.contains("extra") && out.contains("column 3"),
            "{f:?}: {out}"
        );
    }
    let csv = Format::Csv.render(&t);
    assert!(
        csv.contains("1.5,,\n") && csv.contains("2.5,3.5,extra\n"),
        "{csv}"
    );
}
