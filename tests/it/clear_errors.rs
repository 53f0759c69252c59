//! Errors said early and plainly (review 8): an output in a folder that does not exist is refused
//! before any work, an output named for another format than ceq writes there is refused, a shard
//! given twice, a short row, a token bootstrap on SAEBench results and a missing shard are each
//! said in one clear sentence, n_tokens must count positions, and a figure's zero tick reads 0.

use std::path::{Path, PathBuf};

use super::common::{ceq, data, fit_law, fit_to, write};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// Runs ceq with `args`, which must fail without a panic; returns stderr.
fn fails(args: &[&str]) -> String {
    let out = ceq().args(args).output().unwrap();
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(!out.status.success(), "ceq {args:?} succeeded: {err}");
    assert!(!err.contains("panicked"), "ceq {args:?} panicked: {err}");
    err
}

fn s(p: &Path) -> String {
    p.display().to_string()
}

/// Every command writing a file checks its folder before it reads or computes anything: the only
/// line on stderr is the error, naming the output (not a temporary file) and the missing folder.
#[test]
fn an_output_in_a_missing_folder_is_refused_before_any_work() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let out = |name: &str| s(&d.join("missing").join(name));
    let law = fit_law(d, &[]);
    let (ev, fam, tb) = (
        fixtures().join("eval"),
        fixtures().join("family"),
        fixtures().join("tokboot"),
    );
    let sweep_manifest = write(
        d,
        "saes.csv",
        &format!(
            "name,model,sae\na,{},{}\n",
            s(&ev.join("gpt2")),
            s(&ev.join("saes/gpt2-l0-resid_mid-topk-v6"))
        ),
    );
    let cases: Vec<(Vec<String>, String)> = vec![
        (
            vec![
                "eval".into(),
                "--model".into(),
                s(&ev.join("gpt2")),
                "--sae".into(),
                s(&ev.join("saes/gpt2-l0-resid_mid-topk-v6")),
                "--tokens".into(),
                s(&ev.join("tokens.npy")),
                "--out".into(),
            ],
            out("splices.csv"),
        ),
        (
            vec![
                "eval".into(),
                "--manifest".into(),
                s(&sweep_manifest),
                "--tokens".into(),
                s(&ev.join("tokens.npy")),
                "--out".into(),
            ],
            out("sweep.csv"),
        ),
        (
            vec![
                "map".into(),
                "--law".into(),
                s(&law),
                "--splices".into(),
                data("splices.csv"),
                "--out".into(),
            ],
            out("mapped.csv"),
        ),
        (
            vec![
                "fit".into(),
                "--checkpoints".into(),
                data("checkpoints.csv"),
                "--bootstrap".into(),
                "50".into(),
                "--out".into(),
            ],
            out("law.json"),
        ),
        (
            vec![
                "eval-family".into(),
                "--manifest".into(),
                s(&fam.join("family.csv")),
                "--tokens".into(),
                s(&fam.join("tokens.npy")),
                "--out".into(),
            ],
            out("ck.csv"),
        ),
        (
            vec!["merge".into(), s(&tb.join("splices.csv")), "--out".into()],
            out("merged.csv"),
        ),
    ];
    for (args, o) in cases {
        let mut args: Vec<&str> = args.iter().map(String::as_str).collect();
        args.push(&o);
        let err = fails(&args);
        assert!(
            err.contains(&o) && err.contains("does not exist") && !err.contains(".ceq-"),
            "{args:?}: {err}"
        );
        assert_eq!(
            err.trim().lines().count(),
            1,
            "{args:?}: work done first: {err}"
        );
    }
}

/// A write that fails names the output, never the temporary file it goes through.
#[test]
fn a_failed_write_names_the_output_not_its_temporary() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("missing/x.csv");
    let e = ceq::io::write_atomic(&out, b"a\n").unwrap_err();
    let chain = format!("{:#}", anyhow::Error::new(e));
    assert!(
        chain.contains(&s(&out)) && !chain.contains(".ceq-"),
        "{chain}"
    );
}

/// merge and eval-family write CSV, fit writes JSON: an --out named for another format is refused
/// (any case of the right one is taken), and `fit --out /dev/stdout` still prints the law file.
#[test]
fn an_output_named_for_another_format_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (fam, tb) = (fixtures().join("family"), fixtures().join("tokboot"));
    for name in ["merged.json", "merged.per_seq.npy", "merged"] {
        let o = s(&d.join(name));
        let err = fails(&["merge", &s(&tb.join("splices.csv")), "--out", &o]);
        assert!(err.contains(&o) && err.contains(".csv"), "{name}: {err}");
        assert!(!d.join(name).exists(), "{name} written");
    }
    // The right extension in capitals passes this check (and fails later: the file records no
    // shard).
    let err = fails(&[
        "merge",
        &s(&tb.join("splices.csv")),
        "--out",
        &s(&d.join("M.CSV")),
    ]);
    assert!(err.contains("records no shard"), "{err}");
    for name in ["ck.json", "ck.per_seq.npy"] {
        let o = s(&d.join(name));
        let err = fails(&[
            "eval-family",
            "--manifest",
            &s(&fam.join("family.csv")),
            "--tokens",
            &s(&fam.join("tokens.npy")),
            "--out",
            &o,
        ]);
        assert!(
            err.contains(&o) && err.contains(".csv") && err.trim().lines().count() == 1,
            "{name}: {err}"
        );
        assert!(!d.join(name).exists(), "{name} written");
    }
    let ck = data("checkpoints.csv");
    for name in ["law.csv", "law"] {
        let o = s(&d.join(name));
        let err = fails(&["fit", "--checkpoints", &ck, "--out", &o]);
        assert!(err.contains(&o) && err.contains(".json"), "{name}: {err}");
        assert!(!d.join(name).exists(), "{name} written");
    }
    fit_to(d, Path::new(&ck), "LAW.JSON", &[]);
    let out = ceq()
        .args(["fit", "--checkpoints", &ck, "--out", "/dev/stdout"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["form"], "chinchilla");
    // Also where the shell sends stdout to a file (review 10b: refused for its name).
    let file = d.join("sent.json");
    let status = std::process::Command::new(env!("CARGO_BIN_EXE_ceq"))
        .args(["fit", "--checkpoints", &ck, "--out", "/dev/stdout"])
        .stdout(std::fs::File::create(&file).unwrap())
        .status()
        .unwrap();
    assert!(status.success());
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert_eq!(v["form"], "chinchilla");
}

/// The same shard twice is said to be given twice (not as its rows being in two files).
#[test]
fn a_shard_given_twice_is_said_so() {
    let dir = tempfile::tempdir().unwrap();
    let sp = s(&fixtures().join("tokboot/splices.csv"));
    let link = dir.path().join("link.csv");
    std::os::unix::fs::symlink(&sp, &link).unwrap();
    let out = s(&dir.path().join("m.csv"));
    let err = fails(&["merge", &sp, &sp, "--out", &out]);
    assert!(
        err.contains("given twice") && err.contains("files 1 and 2") && !err.contains("also in"),
        "{err}"
    );
    // By another path too, which the message names.
    let err = fails(&["merge", &sp, &s(&link), "--out", &out]);
    assert!(
        err.contains("given twice") && err.contains(&format!("the first time as {sp}")),
        "{err}"
    );
}

/// A row with too few fields: one line number (the row's), and what is wrong in words.
#[test]
fn a_short_row_gives_one_line_number() {
    let dir = tempfile::tempdir().unwrap();
    let text = "# a comment\nname,ce_clean,ce_spliced\na,3.0,3.2\nb,3.0\n";
    let p = write(dir.path(), "short.csv", text);
    let law = fit_law(dir.path(), &[]);
    let err = fails(&["map", "--law", &s(&law), "--splices", &s(&p)]);
    assert!(err.contains("short.csv:4:"), "{err}");
    assert!(
        !err.contains("line:") && !err.contains("record") && err.contains("has 2 fields"),
        "{err}"
    );
    assert!(err.contains("header has 3 columns"), "{err}");
    // Semicolons with decimal commas (a locale's CSV): a header of one column, rows split at the
    // commas; said as such (review 2026-12-07: "the header has 1 columns").
    let semi = write(
        dir.path(),
        "semi.csv",
        "name;params;tokens;loss\na;10569312;52846560;5,97\n",
    );
    let err = fails(&["fit", "--checkpoints", &s(&semi)]);
    assert!(
        err.contains("semi.csv:2:")
            && err.contains("the header is one column")
            && err.contains("one separated by semicolons or tabs has its rows split at decimal"),
        "{err}"
    );
    // The same in a sweep's file read by merge.
    let sp = std::fs::read_to_string(fixtures().join("tokboot/splices.csv")).unwrap();
    let cut: Vec<&str> = sp.lines().collect();
    let short = format!("{}\n{}\nx,y\n", cut[0], cut[1]);
    let p = write(dir.path(), "shard.csv", &short);
    let err = fails(&["merge", &s(&p), "--out", &s(&dir.path().join("m.csv"))]);
    assert!(
        err.contains("shard.csv:3:") && !err.contains("line:") && err.contains("has 2 fields"),
        "{err}"
    );
}

/// A token bootstrap given SAEBench results (a folder or one .json) says it needs a sweep's
/// splices CSV with its per-sequence files, not "Is a directory" or a header a JSON lacks.
#[test]
fn a_token_bootstrap_on_saebench_results_says_what_it_needs() {
    let ck = s(&fixtures().join("tokboot/checkpoints.csv"));
    let results = fixtures().join("saebench/results");
    let json =
        results.join("gemma-scope-2b-pt-res_layer_5_width_16k_average_l0_68_eval_results.json");
    for (splices, is) in [(&results, "a folder"), (&json, "a JSON file")] {
        let err = fails(&[
            "map",
            "--checkpoints",
            &ck,
            "--splices",
            &s(splices),
            "--bootstrap",
            "5",
            "--token-bootstrap",
        ]);
        assert!(
            err.contains(is)
                && err.contains("what eval writes from a manifest")
                && err.contains("per-sequence")
                && !err.contains("os error")
                && !err.contains("header"),
            "{err}"
        );
    }
}

/// A hinted error reads error first, then what to do.
#[test]
fn a_hint_follows_the_error() {
    let dir = tempfile::tempdir().unwrap();
    let err = fails(&[
        "merge",
        &s(&fixtures().join("tokboot/splices.csv")),
        "--out",
        &s(&dir.path().join("m.csv")),
    ]);
    let (e, h) = (
        err.find("records no shard").expect(&err),
        err.find("a shard is evaluated with --shard").expect(&err),
    );
    assert!(e < h, "{err}");
    assert!(err.starts_with("ceq: error: "), "{err}");
    // A missing column's hint too.
    let ck = write(
        dir.path(),
        "ck.csv",
        "name,params,tokens,lossx\na,1e7,1e9,3\n",
    );
    let err = fails(&["fit", "--checkpoints", &s(&ck)]);
    let (e, h) = (
        err.find("missing required column 'loss'").expect(&err),
        err.find("--loss-col").expect(&err),
    );
    assert!(e < h, "{err}");
    // A figures' grouping column the splices lack: named, with the option that chooses it, and no
    // figure written.
    let figs = dir.path().join("figs");
    let err = fails(&[
        "plot",
        "--checkpoints",
        &data("checkpoints.csv"),
        "--splices",
        &data("splices.csv"),
        "--group-by",
        "hookk",
        "--out-dir",
        &s(&figs),
    ]);
    // Asked for, not required by a splices file: said so, with the near name (review).
    let (e, h) = (
        err.find("splices.csv: no column 'hookk'").expect(&err),
        err.find("name one of its columns with --group-by")
            .expect(&err),
    );
    assert!(e < h && err.contains("is 'hook' it, misspelled?"), "{err}");
    assert!(!figs.exists() || figs.read_dir().unwrap().next().is_none());
}

/// n_tokens counts positions: 3.5, 0 and -1 are refused with the file, line and column.
#[test]
fn n_tokens_must_be_a_positive_whole_number() {
    let dir = tempfile::tempdir().unwrap();
    let law = fit_law(dir.path(), &[]);
    for bad in ["3.5", "0", "-1"] {
        let text = format!("name,ce_clean,ce_spliced,n_tokens\na,3.0,3.2,1000\nb,3.0,3.3,{bad}\n");
        let p = write(dir.path(), "sp.csv", &text);
        let err = fails(&["map", "--law", &s(&law), "--splices", &s(&p)]);
        assert!(
            err.contains("sp.csv:3: column 'n_tokens' (column 4)") && err.contains("whole number"),
            "{bad}: {err}"
        );
    }
    // A whole number written as a float is a count.
    let p = write(
        dir.path(),
        "sp.csv",
        "name,ce_clean,ce_spliced,n_tokens\na,3.0,3.2,1000\nb,3.0,3.3,2e3\n",
    );
    ceq()
        .args(["map", "--law", &s(&law), "--splices", &s(&p)])
        .assert()
        .success();
}

/// The residuals of a compute law on the study's family: plotters puts the zero tick at
/// -1.388e-17; it is labelled 0, and no tick label is a rounding residue.
#[test]
fn a_zero_tick_reads_zero() {
    let dir = tempfile::tempdir().unwrap();
    let ck = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/checkpoints.csv");
    let law = fit_to(dir.path(), &ck, "law.json", &["--form", "compute"]);
    let figs = dir.path().join("figs");
    ceq()
        .args(["plot", "--law", &s(&law), "--out-dir", &s(&figs)])
        .assert()
        .success();
    let svg = std::fs::read_to_string(figs.join("residuals.svg")).unwrap();
    let doc = roxmltree::Document::parse(&svg).unwrap();
    let ticks: Vec<f64> = doc
        .descendants()
        .filter(|n| n.has_tag_name("text"))
        .filter_map(|n| n.text()?.trim().parse::<f64>().ok())
        .collect();
    assert!(ticks.contains(&0.0), "{ticks:?}");
    assert!(
        ticks.iter().all(|t| *t == 0.0 || t.abs() > 1e-6),
        "{ticks:?}"
    );
}

/// A loss above 20 nats/token fits and maps, but is warned of as a likely perplexity or sum
/// (review 10c: perplexities up to 148 were fitted as nats without a word).
#[test]
fn a_loss_no_model_has_is_warned_of() {
    let d = tempfile::tempdir().unwrap();
    let mut ck = String::from("compute,loss\n");
    for (i, c) in [1e17, 1e18, 1e19, 1e20, 1e21, 1e22].iter().enumerate() {
        // Perplexities, falling with compute.
        ck += &format!("{c},{}\n", 148.0 - 20.0 * i as f64);
    }
    let ck = write(d.path(), "ppl.csv", &ck);
    let fit = ["fit", "--form", "compute", "--checkpoints", &s(&ck)];
    let (_, err) = crate::common::succeeds(ceq().args(fit));
    let line = format!(
        "{} line 2 holds a loss of 148.0000 nats/token, above 20 (so do 5 more row(s))",
        s(&ck)
    );
    assert!(err.contains(&line) && err.contains("perplexity"), "{err}");
    // How many more rows lie above, not the highest alone (review).
    let sp = "name,ce_clean,ce_spliced\nb,30,31\na,40,45\nc,2,3\n";
    let sp = write(d.path(), "sp.csv", sp);
    let (_, err) = crate::common::succeeds(ceq().args([
        "map",
        "--form",
        "compute",
        "--checkpoints",
        &s(&ck),
        "--splices",
        &s(&sp),
    ]));
    assert!(
        err.contains(
            "the splice 'a' holds a loss of 45.0000 nats/token, above 20 (so do 1 more row(s))"
        ),
        "{err}"
    );
}

/// Tokens in billions push ln B off its start grid; the warning names ln B (not θ's letter b) and
/// asks about units (review 10c: "the fitted b = -0.0467 (log-space)" was the only hint).
#[test]
fn a_start_grid_edge_names_the_parameter_and_asks_about_units() {
    let ck = fixtures().join("units/tokens_in_billions.csv");
    let (_, err) = crate::common::succeeds(ceq().args(["fit", "--checkpoints", &s(&ck)]));
    assert!(
        err.contains("the fitted ln B = ") && err.contains("give them as counts"),
        "{err}"
    );
}

/// A header that holds the column in another case or behind another separator, and a row cut
/// short by an open quote, say the likely cause (review 12b).
#[test]
fn a_near_miss_header_or_an_open_quote_says_the_likely_cause() {
    let d = tempfile::tempdir().unwrap();
    for (name, text, says) in [
        (
            "case.csv",
            "Name,Params,Tokens,Loss\na,1e6,1e9,3\n",
            "'Loss' differs only in case, and column names are case-sensitive",
        ),
        (
            "semi.csv",
            "name;params;tokens;loss\na;1e6;1e9;3\n",
            "the header is one column holding semicolons, but ceq reads comma-separated files",
        ),
        (
            "tab.csv",
            "name\tparams\ttokens\tloss\na\t1e6\t1e9\t3\n",
            "the header is one column holding tabs",
        ),
        (
            "quote.csv",
            "name,params,tokens,loss\n\"a,1e6,1e9,3\nb,1e6,2e9,2.9\n",
            "quote.csv:2: malformed CSV: the row has 1 fields, but the header has 4 columns; every \
             row needs one field per column (empty ones included): is a comma missing, or a quote \
             (\") opened and not closed",
        ),
    ] {
        let p = write(d.path(), name, text);
        let err = fails(&["fit", "--checkpoints", &s(&p)]);
        assert!(err.contains(says), "{name}: {err}");
    }
}

/// Each error the library says a setting fixes ends with the option that sets it (the hints other
/// tests do not already check).
#[test]
fn each_fixable_error_ends_with_its_option() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (ck, sp) = (data("checkpoints.csv"), data("splices.csv"));
    let law = s(&fit_to(d, Path::new(&ck), "law.json", &[]));
    let in_d = |name: &str| s(&d.join(name));
    let (json, xyz, plots, out) = (in_d("x.json"), in_d("x.xyz"), in_d("p"), in_d("o.csv"));
    std::fs::create_dir(d.join("full")).unwrap();
    let full = s(write(&d.join("full"), "a", "x").parent().unwrap());
    let manifest = s(&write(d, "m.csv", "name,path\na,/nonexistent\n"));
    let tokens = s(&fixtures().join("family/tokens.npy"));
    let map =
        |more: &[&'static str]| [&["map", "--law", &law, "--splices", &sp][..], more].concat();
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec!["fit", "--checkpoints", &ck, "--loss-col", "nope"],
            "; the loss column is named with --loss-col",
        ),
        (
            vec!["fit", "--checkpoints", &ck, "--form", "run"],
            "; a run is chosen with --run",
        ),
        (
            [map(&["--format", "csv", "--out"]), vec![&json]].concat(),
            "; drop --format, or end --out with its extension",
        ),
        (
            [map(&["--out"]), vec![&xyz]].concat(),
            "; give the format with --format, or an --out name with a known extension",
        ),
        (
            vec!["fit", "--checkpoints", &ck, "--out", "-", "--format", "csv"],
            "; drop --format or --out",
        ),
        (
            vec![
                "plot",
                "--checkpoints",
                &ck,
                "--bootstrap",
                "2",
                "--token-bootstrap",
                "--out-dir",
                &plots,
            ],
            "; give the splices with --splices",
        ),
        (
            vec!["report", "--law", &law, "--splices", &sp, "--out", &full],
            "; choose a new folder or --force",
        ),
        (
            vec![
                "eval-family",
                "--manifest",
                &manifest,
                "--tokens",
                &tokens,
                "--tokens-per-step",
                "5",
                "--out",
                &out,
            ],
            "; the tokens per step are given with --tokens-per-step N",
        ),
    ];
    for (args, hint) in cases {
        let err = fails(&args);
        assert!(err.trim_end().ends_with(hint), "{args:?}: {err}");
    }
}
