//! What the tables for people say beside their columns (review 10c, items 11): `ceq eval`'s notes
//! speak of the columns shown, loss_recovered reads alike in `eval`'s and `map`'s tables, warnings
//! are said once where stderr and the table share a terminal, and the mapping's notes define the
//! statuses and say ratios and misread numbers plainly.

use ceq::export::said_once::{Stream, drop_said, notes_repeat_warnings};
use ceq::export::{Column, Table};

use super::common::{ceq, data, eval_in_gpt2, fit_law, succeeds, write};

/// `ceq eval` of one fixture SAE in gpt2, with `extra` options; its stdout.
fn eval_gpt2(extra: &[&str]) -> String {
    let mut c = eval_in_gpt2("gpt2-l1-resid_pre-standard-v6");
    String::from_utf8(succeeds(c.args(extra)).0).unwrap()
}

/// A Markdown table's header cells and rows.
fn markdown(text: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let cells = |l: &str| -> Vec<String> {
        let l = l.trim().trim_start_matches('|').trim_end_matches('|');
        l.split('|').map(|c| c.trim().to_owned()).collect()
    };
    let mut lines = text.lines().filter(|l| l.starts_with('|'));
    let header = cells(lines.next().unwrap());
    lines.next(); // the |---| line
    (header, lines.map(cells).collect())
}

/// The notes under an aligned table: its indented lines after the rows.
fn notes(table: &str) -> Vec<&str> {
    table
        .lines()
        .filter_map(|l| l.strip_prefix("  "))
        .filter(|l| !l.starts_with(' '))
        .collect()
}

#[test]
fn eval_notes_speak_of_the_columns_shown_and_say_where_the_rest_is() {
    let out = eval_gpt2(&[]);
    let header = out.lines().nth(1).unwrap();
    for hidden in ["se_ce_clean", "params", "engine", "eval_tokens"] {
        assert!(!header.split_whitespace().any(|c| c == hidden), "{header}");
    }
    let notes = notes(&out);
    assert!(!notes.is_empty(), "{out}");
    // Every note but the last, which says where the rest is, speaks of shown columns only.
    let (last, shown) = notes.split_last().unwrap();
    for n in shown {
        for word in ["SE", "params", "engine"] {
            assert!(!n.contains(word), "a note on a column not shown: {n}");
        }
    }
    assert!(
        shown
            .iter()
            .any(|n| n.starts_with("n_tokens: the positions scored, of tokens.npy fnv1a64:")),
        "{out}"
    );
    assert!(
        last.starts_with("10 of the ") && last.contains("the CSV and JSON hold every one"),
        "{last}"
    );
    // The count the CSV holds (checked against PyTorch's in eval_hosts), said with its kind.
    let csv = eval_gpt2(&["--format", "csv"]);
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let at = header.iter().position(|c| *c == "params").unwrap();
    let params = lines.next().unwrap().split(',').nth(at).unwrap().to_owned();
    for said in [
        "SE (se_*",
        &format!("params (gpt2: {params} total parameters"),
        "engine (the burn backend",
    ] {
        assert!(last.contains(said), "{said:?} not in {last}");
    }
}

#[test]
fn loss_recovered_is_a_fraction_in_eval_s_table_and_map_s() {
    let lr = |header: &[String], row: &[String]| -> f64 {
        let i = header
            .iter()
            .position(|h| h.starts_with("loss_recovered"))
            .unwrap();
        assert_eq!(header[i], "loss_recovered (fraction)", "{header:?}");
        row[i].parse().unwrap()
    };
    // eval: against the CSV's own CEs.
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("s.csv");
    eval_gpt2(&["--out", csv.to_str().unwrap()]);
    let mut r = csv::Reader::from_path(&csv).unwrap();
    let h = r.headers().unwrap().clone();
    let row = r.records().next().unwrap().unwrap();
    let get = |c: &str| {
        row[h.iter().position(|x| x == c).unwrap()]
            .parse::<f64>()
            .unwrap()
    };
    let want =
        1.0 - (get("ce_spliced") - get("ce_clean")) / (get("ce_zero_ablation") - get("ce_clean"));
    let (header, rows) = markdown(&eval_gpt2(&["--format", "markdown"]));
    let shown = lr(&header, &rows[0]);
    assert!(
        (shown - want).abs() < 1e-3 && want < 1.0,
        "{shown} vs {want}"
    );

    // map: the synthetic splices' first row, from its CEs.
    let law = fit_law(dir.path(), &[]);
    let mut c = ceq();
    c.args(["map", "--format", "markdown", "--law"])
        .arg(&law)
        .arg("--splices")
        .arg(data("splices.csv"));
    let (header, rows) = markdown(&String::from_utf8(succeeds(&mut c).0).unwrap());
    let mut r = csv::Reader::from_path(data("splices.csv")).unwrap();
    let h = r.headers().unwrap().clone();
    let first = r.records().next().unwrap().unwrap();
    let get = |c: &str| {
        first[h.iter().position(|x| x == c).unwrap()]
            .parse::<f64>()
            .unwrap()
    };
    let want =
        1.0 - (get("ce_spliced") - get("ce_clean")) / (get("ce_zero_ablation") - get("ce_clean"));
    let shown = lr(&header, &rows[0]);
    assert!(
        (shown - want).abs() < 1e-3 && want < 1.0,
        "{shown} vs {want}"
    );
}

#[test]
fn warnings_repeat_in_the_notes_unless_stderr_shows_the_same_terminal() {
    let (tty, other_tty) = (Stream::Terminal(34816), Stream::Terminal(34817));
    // (table to stdout, stdout, stderr) → the notes repeat the warnings.
    for (to_stdout, out, err, repeat) in [
        (true, tty, tty, false),
        (true, tty, other_tty, true),
        (true, Stream::Other, tty, true),
        (true, tty, Stream::Other, true),
        (true, Stream::Other, Stream::Other, true),
        // A file named on the command line keeps them, whatever the streams are.
        (false, tty, tty, true),
    ] {
        assert_eq!(
            notes_repeat_warnings(to_stdout, out, err),
            repeat,
            "{to_stdout} {out:?} {err:?}"
        );
    }
    let mut t = Table {
        title: String::new(),
        columns: vec![Column::new("a", "")],
        rows: vec![],
        notes: vec![
            "units".into(),
            "warning: said".into(),
            "warning: not said".into(),
            "a warning: said".into(),
        ],
        key: 2,
    };
    drop_said(&mut t, &["said".into()]);
    assert_eq!(t.notes, ["units", "warning: not said", "a warning: said"]);
    // The key (the first two notes) loses the warning it held: LaTeX's float keeps "units" only.
    assert_eq!(t.key, 1);

    // Without a terminal (a pipe here, a file with --out), the table keeps the warning that
    // stderr said.
    let dir = tempfile::tempdir().unwrap();
    let law = fit_law(dir.path(), &[]);
    let splices = write(
        dir.path(),
        "s.csv",
        "name,ce_clean,ce_spliced\nhot,3.0,30.0\n",
    );
    let txt = dir.path().join("m.txt");
    let mut piped = ceq();
    piped
        .args(["map", "--law"])
        .arg(&law)
        .arg("--splices")
        .arg(&splices);
    let (out, err) = succeeds(&mut piped);
    let mut to_file = ceq();
    to_file
        .args(["map", "--law"])
        .arg(&law)
        .arg("--splices")
        .arg(&splices)
        .arg("--out")
        .arg(&txt);
    succeeds(&mut to_file);
    let warning = err
        .lines()
        .find_map(|l| l.strip_prefix("ceq: warning: "))
        .unwrap_or_else(|| panic!("no warning said: {err}"));
    for table in [
        String::from_utf8(out).unwrap(),
        std::fs::read_to_string(&txt).unwrap(),
    ] {
        assert!(
            notes(&table).contains(&format!("warning: {warning}").as_str()),
            "{table}"
        );
    }
}

#[test]
fn mapping_notes_define_the_status_and_say_ratios_plainly() {
    let dir = tempfile::tempdir().unwrap();
    let law = fit_law(dir.path(), &[]);
    // One splice far beyond the fitted compute, one inside.
    let splices = write(
        dir.path(),
        "s.csv",
        "name,ce_clean,ce_spliced\nfar,2.0,2.05\n",
    );
    let mut c = ceq();
    c.args(["map", "--law"])
        .arg(&law)
        .arg("--splices")
        .arg(&splices);
    let out = String::from_utf8(succeeds(&mut c).0).unwrap();
    assert!(out.contains("extrapolated"), "{out}");
    let notes = notes(&out);
    let defined = notes
        .iter()
        .position(|n| n.starts_with("status extrapolated: "))
        .expect(&out);
    let row = notes
        .iter()
        .position(|n| n.starts_with("far: "))
        .expect(&out);
    assert!(
        defined < row,
        "the status is defined before the rows' lines: {out}"
    );
    assert!(
        notes[defined].contains("checkpoints that reach that far"),
        "{out}"
    );
    // Every ratio "N.NNx" to three significant figures (or in e-notation beyond 10⁴).
    let detail = notes[row];
    let ratios: Vec<&str> = detail
        .split(' ')
        .filter_map(|w| w.strip_suffix('x'))
        .filter(|w| w.parse::<f64>().is_ok())
        .collect();
    assert!(!ratios.is_empty(), "{detail}");
    for r in ratios {
        let v: f64 = r.parse().unwrap();
        let digits = r.chars().filter(char::is_ascii_digit).count();
        assert!(
            r.contains('e') || digits == 3 || (v >= 1000.0 && digits == 4),
            "{r}x in {detail}"
        );
    }

    // A size with a metric suffix gets the number it stands for.
    let ck = write(
        dir.path(),
        "ck.csv",
        "name,params,tokens,loss\na,111M,2e9,3\nb,2e8,3e9,2.9\nc,3e8,4e9,2.8\n",
    );
    let a = ceq()
        .args(["fit", "--checkpoints"])
        .arg(&ck)
        .assert()
        .failure();
    let err = String::from_utf8_lossy(&a.get_output().stderr).into_owned();
    assert!(
        err.contains("ck.csv:2: column 'params' (column 2): '111M' is not a number; if M means million, write 111000000"),
        "{err}"
    );
}
