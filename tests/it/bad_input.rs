//! Bad input: one clear error naming the file (and line, column or key), exit ≠ 0, no panic, inputs
//! untouched.

use std::path::Path;

use crate::common::{ceq, fit_to, stdout_json, write};

const GOOD: &str = "params,tokens,loss\n1e8,2e9,3.1\n2e8,4e9,2.9\n4e8,8e9,2.7\n8e8,1.6e10,2.55\n1.6e9,3.2e10,2.45\n3.2e9,6.4e10,2.38\n1e8,8e9,2.95\n";

/// Runs ceq, expects failure, and returns stderr.
fn fails(args: &[&str]) -> String {
    let out = ceq().args(args).output().unwrap();
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(!out.status.success(), "ceq {args:?} succeeded");
    assert!(!err.contains("panicked"), "ceq {args:?} panicked: {err}");
    assert!(!err.trim().is_empty());
    err
}

/// Fits GOOD with `extra` options into `dir/name` and returns that law file's path.
fn fit_good(dir: &Path, name: &str, extra: &[&str]) -> std::path::PathBuf {
    fit_to(dir, &write(dir, "ck.csv", GOOD), name, extra)
}

fn fit_err(dir: &Path, csv: &str) -> (String, String) {
    let p = write(dir, "ck.csv", csv);
    let p = p.display().to_string();
    (fails(&["fit", "--checkpoints", &p]), p)
}

#[test]
fn checkpoint_files() {
    let d = tempfile::tempdir().unwrap();
    let cases: &[(&str, &[&str])] = &[
        ("", &["is empty"]),
        (
            "params,tokens,loss\n",
            &["the file has a header (params,tokens,loss) but no data rows"],
        ),
        // One data row and no header: the row is shown as what was read as the header.
        (
            "1e8,2e9,3.1\n",
            &["the file has a header (1e8,2e9,3.1) but no data rows"],
        ),
        (
            "params,tokens\n1,2\n",
            &["missing required column 'loss'", "--loss-col"],
        ),
        (
            "params,loss\n1e8,3\n",
            &["missing required column 'tokens'"],
        ),
        (
            "params,tokens,loss\n1e8,2e9,abc\n",
            &[":2:", "'loss' (column 3)", "'abc' is not a number"],
        ),
        (
            "params,tokens,loss\n1e8,2e9,3\n1e8,NaN,3\n",
            &[":3:", "'tokens'", "not a finite number"],
        ),
        (
            "params,tokens,loss\n1e8,inf,3\n",
            &[":2:", "not a finite number"],
        ),
        ("params,tokens,loss\n1e8,2e9,0\n", &[":2:", "not > 0"]),
        (
            "params,tokens,loss\n-1e8,2e9,3\n",
            &[":2:", "'params'", "not > 0"],
        ),
        (
            "params,tokens,step,loss\n1e8,2e9,1000,3\n1e8,4e9,-100,2.9\n",
            &[":3:", "'step' (column 3)", "step -100 is negative"],
        ),
        (
            "params,tokens,loss\n1e8,2e9,3\n1e8,,3\n",
            &[
                ":3:",
                "'tokens'",
                "empty",
                "needs training tokens D (or compute C)",
            ],
        ),
        (
            "params,tokens,compute,loss\n1e8,2e9,1.2e18,3\n,2e9,1.2e18,3\n",
            &[":3:", "'params'", "empty", "needs the parameter count N"],
        ),
        (
            "params,tokens,loss\n1e8,2e9,3\n2e8,4e9,2.9\n",
            &["2 usable points", "5 parameters"],
        ),
        ("params,tokens,loss\n1e8,2e9\n", &["malformed CSV"]),
        (
            "params,tokens,loss\n1e300,1e10,3\n",
            &[":2:", "'params'", "overflows"],
        ),
        // A checkpoint listed twice would weigh twice in the fit: by name (within a run), or, for
        // unnamed rows, by the same numbers.
        (
            "name,params,tokens,loss\na,1e8,2e9,3\nb,2e8,2e9,2.9\na,1e8,2e9,3.1\n",
            &[
                ":4:",
                "'name'",
                "'a' is named twice (lines 2 and 4)",
                "remove one",
            ],
        ),
        (
            "params,tokens,loss\n1e8,2e9,3\n2e8,2e9,2.9\n1e8,2e9,3\n",
            &[":4:", "line 4 repeats line 2", "counts twice"],
        ),
    ];
    for (csv, wants) in cases {
        let (err, path) = fit_err(d.path(), csv);
        assert!(err.contains(&path), "error does not name the file: {err}");
        for w in *wants {
            assert!(err.contains(w), "for {csv:?}, missing '{w}' in: {err}");
        }
    }
    // An empty cell the others fill is no error: compute is 6ND, tokens C/6N; the fit is the
    // one with the cells filled.
    let mut holes = String::from("params,tokens,compute,loss\n");
    for (i, l) in GOOD.lines().skip(1).enumerate() {
        let v: Vec<f64> = l.split(',').map(|x| x.parse().unwrap()).collect();
        let c = 6.0 * v[0] * v[1];
        holes += &match i {
            0 => format!("{},{},,{}\n", v[0], v[1], v[2]),
            1 => format!("{},,{c},{}\n", v[0], v[2]),
            _ => format!("{},{},{c},{}\n", v[0], v[1], v[2]),
        };
    }
    let filled = fit_good(d.path(), "filled.json", &[]);
    let holed = fit_to(
        d.path(),
        &write(d.path(), "holes.csv", &holes),
        "holes.json",
        &[],
    );
    let params = |p: &Path| {
        let v: serde_json::Value = serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap();
        v["params"].clone()
    };
    assert!(params(&filled)["E"].is_number());
    assert_eq!(params(&holed), params(&filled));
    // One checkpoint name in two runs (Pythia's step names in each size's run) is two checkpoints.
    let mut two_runs = String::from("name,run,params,tokens,loss\n");
    for (i, l) in GOOD.lines().skip(1).enumerate() {
        two_runs += &format!("s{},r{},{l}\n", i / 2, i % 2);
    }
    let p = write(d.path(), "runs.csv", &two_runs);
    ceq()
        .arg("fit")
        .arg("--checkpoints")
        .arg(p)
        .assert()
        .success();
}

#[test]
fn options_and_files() {
    let d = tempfile::tempdir().unwrap();
    let ck = write(d.path(), "ck.csv", GOOD).display().to_string();
    let missing = d.path().join("nope.csv").display().to_string();
    let err = fails(&["fit", "--checkpoints", &missing]);
    assert!(
        err.contains("nope.csv") && err.contains("No such file"),
        "{err}"
    );
    let err = fails(&["fit", "--checkpoints", &ck, "--form", "kaplan"]);
    assert!(
        err.contains("kaplan") && err.contains("chinchilla"),
        "{err}"
    );
    let err = fails(&[
        "map",
        "--checkpoints",
        &ck,
        "--splices",
        &ck,
        "--format",
        "xlsx",
    ]);
    assert!(err.contains("xlsx"), "{err}");
    let err = fails(&["fit", "--checkpoints", &ck, "--ci", "90"]);
    assert!(
        err.contains("interval level") && err.contains("got 90"),
        "{err}"
    );
    let err = fails(&["fit", "--checkpoints", &ck, "--form", "run"]);
    assert!(err.contains("tokens") || err.contains("run"), "{err}");
}

#[test]
fn corrupt_law_files() {
    let d = tempfile::tempdir().unwrap();
    let sp = write(d.path(), "sp.csv", "name,ce_clean,ce_spliced\na,3,3.2\n")
        .display()
        .to_string();
    for (text, want) in [
        ("{not json", "line 1"),
        ("{\"form\": \"chinchilla\"}", "'ceq_version'"),
    ] {
        let law = write(d.path(), "law.json", text).display().to_string();
        let err = fails(&["map", "--law", &law, "--splices", &sp]);
        assert!(err.contains("law.json") && err.contains(want), "{err}");
    }
    // A valid file with one parameter broken names the key.
    let good = fit_good(d.path(), "good.json", &[]);
    let text = std::fs::read_to_string(&good)
        .unwrap()
        .replacen("\"alpha\":", "\"alpha_\":", 1);
    let law = write(d.path(), "broken.json", &text).display().to_string();
    let err = fails(&["map", "--law", &law, "--splices", &sp]);
    assert!(err.contains("params.alpha"), "{err}");
    // A bare NaN or Infinity (Python's json writes them) is named as such, with its place.
    let full = std::fs::read_to_string(&good).unwrap();
    let line = 1 + full.lines().position(|l| l.contains("\"alpha\":")).unwrap();
    for bare in ["NaN", "-Infinity"] {
        let at = full.find("\"alpha\": ").unwrap() + "\"alpha\": ".len();
        let end = at + full[at..].find([',', '\n']).unwrap();
        let text = format!("{}{bare}{}", &full[..at], &full[end..]);
        let law = write(d.path(), "nan.json", &text).display().to_string();
        let err = fails(&["map", "--law", &law, "--splices", &sp]);
        assert!(
            err.contains(&format!("line {line}"))
                && err.contains("a bare NaN or Infinity, which JSON has not: ceq writes null"),
            "{err}"
        );
    }
}

#[test]
fn splice_files() {
    let d = tempfile::tempdir().unwrap();
    let ck = write(d.path(), "ck.csv", GOOD).display().to_string();
    for (csv, want) in [
        (
            "name,ce_clean\na,3\n",
            "missing required column 'ce_spliced'",
        ),
        ("name,ce_clean,ce_spliced\na,3,x\n", "'x' is not a number"),
        (
            "name,ce_clean,ce_spliced\n,3,3.1\n",
            "every row needs a name",
        ),
        // Rows, notes and per-sequence files are keyed by name.
        (
            "name,ce_clean,ce_spliced\na,3,3.1\na,3,3.2\n",
            "'a' is named twice (lines 2 and 3)",
        ),
        (
            "name,ce_clean,ce_spliced,params,tokens\na,3,3.1,1e300,1e300\n",
            "6·params·tokens overflows",
        ),
        // An SE of a difference beyond what the two SEs allow (a typo or a wrong column), both ways.
        (
            "name,ce_clean,ce_spliced,se_ce_clean,se_ce_spliced,se_delta\na,3,3.1,0.0114,0.0127,0.3\n",
            "sp.csv:2: column 'se_delta'",
        ),
        (
            "name,ce_clean,ce_spliced,se_ce_clean,se_ce_spliced,se_delta\na,3,3.1,0.01,0.05,0.001\n",
            "is impossible with se_ce_clean 0.01 and se_ce_spliced 0.05",
        ),
        // Windows line endings: the line is still the file's.
        (
            "name,ce_clean,ce_spliced\r\na,3,3.1\r\nb,3,3.2\r\nc,3,x\r\n",
            "sp.csv:4: column 'ce_spliced'",
        ),
        // An interval column of the mapped table is as reserved as the column itself.
        (
            "name,ce_clean,ce_spliced,compute_fraction_hi\na,3,3.1,1\n",
            "column 'compute_fraction_hi' has the name of a column ceq computes",
        ),
        // loss_recovered (as ceq eval writes it) must be what the CEs give.
        (
            "name,ce_clean,ce_spliced,ce_zero_ablation,loss_recovered\na,3,3.1,13,0.5\n",
            "column 'loss_recovered' (column 5): 0.5 disagrees",
        ),
    ] {
        let sp = write(d.path(), "sp.csv", csv).display().to_string();
        let err = fails(&["map", "--checkpoints", &ck, "--splices", &sp]);
        assert!(err.contains("sp.csv") && err.contains(want), "{err}");
    }
}

#[test]
fn loss_recovered_as_eval_writes_it_is_checked_and_recomputed() {
    let d = tempfile::tempdir().unwrap();
    let ck = write(d.path(), "ck.csv", GOOD).display().to_string();
    // 1 - 0.1/10 = 0.99; with zero ablation below clean ceq's is undefined, but the formula's 1.1
    // (as other tools write it) is still the check: a stale value is refused (review 14).
    let rows = |b: &str| {
        let text = format!(
            "name,ce_clean,ce_spliced,ce_zero_ablation,loss_recovered,hook\n\
             a,3,3.1,13,0.99,h1\nb,3,3.1,2,{b},h2\n"
        );
        write(d.path(), "sp.csv", &text)
    };
    let sp = rows("5");
    let err = fails(&[
        "map",
        "--checkpoints",
        &ck,
        "--splices",
        &sp.display().to_string(),
    ]);
    assert!(
        err.contains("sp.csv:3: column 'loss_recovered'") && err.contains("5 disagrees"),
        "{err}"
    );
    let sp = rows("1.1");
    let v = stdout_json(
        ceq()
            .args(["map", "--format", "json", "--checkpoints", &ck])
            .arg("--splices")
            .arg(&sp),
    );
    let rows = v.as_array().unwrap();
    assert_eq!(rows[0]["loss_recovered"], 0.99);
    assert!(rows[1]["loss_recovered"].is_null());
    // One loss_recovered column, ceq's, after the input columns (which keep their order).
    let keys: Vec<&str> = rows[0]
        .as_object()
        .unwrap()
        .keys()
        .map(|k| k.as_str())
        .collect();
    assert_eq!(keys.iter().filter(|k| **k == "loss_recovered").count(), 1);
    assert_eq!(
        &keys[..5],
        ["name", "ce_clean", "ce_spliced", "ce_zero_ablation", "hook"]
    );
}

#[test]
fn a_row_whose_name_starts_with_a_hash_is_data_not_a_comment() {
    // `#` lines are comments only before the header; a row named "#7" once vanished with exit 0.
    let d = tempfile::tempdir().unwrap();
    let ck = write(d.path(), "ck.csv", &format!("# a comment\n{GOOD}"));
    let sp = write(
        d.path(),
        "sp.csv",
        "# units: nats\nname,ce_clean,ce_spliced\n#7,3,3.2\nb,3,3.1\n",
    );
    let v = stdout_json(
        ceq()
            .args(["map", "--format", "json", "--checkpoints"])
            .arg(&ck)
            .arg("--splices")
            .arg(&sp),
    );
    let names: Vec<&str> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["#7", "b"]);
    // A byte-order mark before the comments (a Windows editor's) leaves them comments: the
    // comment line was read as the header (review).
    let bom = |p: &Path| {
        let text = std::fs::read_to_string(p).unwrap();
        let name = format!("bom_{}", p.file_name().unwrap().to_string_lossy());
        write(d.path(), &name, &format!("\u{feff}{text}"))
    };
    let w = stdout_json(
        ceq()
            .args(["map", "--format", "json", "--checkpoints"])
            .arg(bom(&ck))
            .arg("--splices")
            .arg(bom(&sp)),
    );
    assert_eq!(w.as_array().unwrap().len(), 2);
    for (a, b) in w.as_array().unwrap().iter().zip(v.as_array().unwrap()) {
        for (k, x) in b.as_object().unwrap() {
            // The units name the file the law was fitted to.
            if k != "units" {
                assert_eq!(&a[k], x, "{k}");
            }
        }
    }
}

#[test]
fn out_never_overwrites_an_input() {
    let d = tempfile::tempdir().unwrap();
    let ck = write(d.path(), "ck.csv", GOOD);
    let sp = write(d.path(), "sp.csv", "name,ce_clean,ce_spliced\na,3,3.2\n");
    let err = fails(&[
        "fit",
        "--checkpoints",
        &ck.display().to_string(),
        "--out",
        &ck.display().to_string(),
    ]);
    assert!(err.contains("refusing to write"), "{err}");
    // The same file by another spelling.
    let other = d.path().join(".").join("sp.csv").display().to_string();
    let err = fails(&[
        "map",
        "--checkpoints",
        &ck.display().to_string(),
        "--splices",
        &sp.display().to_string(),
        "--out",
        &other,
    ]);
    assert!(err.contains("refusing to write"), "{err}");
    assert_eq!(std::fs::read_to_string(&ck).unwrap(), GOOD);
    assert_eq!(
        std::fs::read_to_string(&sp).unwrap(),
        "name,ce_clean,ce_spliced\na,3,3.2\n"
    );
}

#[test]
fn ambiguous_or_unidentifiable_inputs() {
    let d = tempfile::tempdir().unwrap();
    let ck = write(d.path(), "ck.csv", GOOD).display().to_string();
    for (csv, want) in [
        (
            "name,ce_clean,ce_spliced,status\na,3,3.1,x\n",
            "column 'status' has the name of a column ceq computes",
        ),
        (
            "name,ce_clean,ce_spliced,layer,layer\na,3,3.1,1,2\n",
            "column name 'layer' appears twice (columns 4 and 5)",
        ),
    ] {
        let sp = write(d.path(), "sp.csv", csv).display().to_string();
        let err = fails(&["map", "--checkpoints", &ck, "--splices", &sp]);
        assert!(err.contains("sp.csv") && err.contains(want), "{err}");
    }
    let same_n = "params,tokens,loss\n1e8,1e9,3.3\n1e8,2e9,3.1\n1e8,4e9,3.0\n1e8,8e9,2.9\n1e8,1.6e10,2.85\n1e8,3.2e10,2.8\n";
    let p = write(d.path(), "same.csv", same_n).display().to_string();
    let err = fails(&["fit", "--checkpoints", &p]);
    assert!(
        err.contains("same.csv") && err.contains("every checkpoint has the same params (N)"),
        "{err}"
    );
    // A loss that never varies: any exponents fit it with E = the loss, so no law (it was fitted,
    // alpha at 10, and splices mapped, exit 0).
    let flat: String = GOOD
        .lines()
        .map(|l| match l.rsplit_once(',') {
            Some((nd, _)) if nd != "params,tokens" => format!("{nd},2.5\n"),
            _ => format!("{l}\n"),
        })
        .collect();
    let p = write(d.path(), "flat.csv", &flat).display().to_string();
    let sp = write(d.path(), "sp.csv", "name,ce_clean,ce_spliced\na,2.5,2.6\n")
        .display()
        .to_string();
    for cmd in ["fit", "map"] {
        let mut args = vec![cmd, "--checkpoints", &p];
        if cmd == "map" {
            args.extend(["--splices", &sp]);
        }
        let err = fails(&args);
        assert!(
            err.contains("flat.csv")
                && err.contains(
                    "every checkpoint has the same loss (2.5 nats/token), so no 'chinchilla' law \
                     can be fitted: a loss"
                ),
            "{err}"
        );
    }
    // Dropping the highest losses can leave too few points: the count says so, and the option.
    let err = fails(&["fit", "--checkpoints", &ck, "--drop-highest", "3"]);
    assert!(
        err.contains("4 usable points left after dropping the 3 highest-loss checkpoint(s)")
            && err.contains("drop fewer with --drop-highest"),
        "{err}"
    );
}

#[test]
fn law_file_values_out_of_range() {
    let d = tempfile::tempdir().unwrap();
    let law = fit_good(d.path(), "law.json", &["--bootstrap", "5"]);
    let sp = write(d.path(), "sp.csv", "name,ce_clean,ce_spliced\na,3,3.2\n")
        .display()
        .to_string();
    let text = std::fs::read_to_string(&law)
        .unwrap()
        .replace("\"level\": 0.9", "\"level\": 2.0");
    let bad = write(d.path(), "bad.json", &text).display().to_string();
    let err = fails(&["map", "--law", &bad, "--splices", &sp]);
    assert!(
        err.contains("bad.json") && err.contains("bootstrap.level"),
        "{err}"
    );
    // A law that does not decrease maps nothing, and says so. (Its parameters and its fitted θ are
    // edited together: a file whose parameters disagree with its θ is refused, see below.)
    let mut v: serde_json::Value = read_json(&law);
    v["params"]["alpha"] = (-0.3).into();
    v["fit"]["theta"][2] = (-0.3).into();
    // …and its residuals' predictions, which must be the law's.
    let p = |k: &str| v["params"][k].as_f64().unwrap();
    let (e, a, b, beta) = (p("E"), p("A"), p("B"), p("beta"));
    for r in v["fit"]["residuals"].as_array_mut().unwrap() {
        let (n, t) = (r["params"].as_f64().unwrap(), r["tokens"].as_f64().unwrap());
        r["predicted"] = (e + a * n.powf(0.3) + b / t.powf(beta)).into();
    }
    let bad = write(d.path(), "neg.json", &v.to_string())
        .display()
        .to_string();
    let out = ceq()
        .args(["map", "--format", "json", "--law", &bad, "--splices", &sp])
        .output()
        .unwrap();
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v[0]["status"], "undefined");
    assert!(v[0]["compute_fraction"].is_null());
    assert!(
        v[0]["status_detail"]
            .as_str()
            .unwrap()
            .contains("not all positive")
    );
}

fn read_json(p: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

/// A law file's name, an edit of it, and what `map` says refusing the edited file.
type Edit<'a> = (&'a str, &'a dyn Fn(&mut serde_json::Value), &'a str);

/// Each edit of the law file `good`, saved under its name in `dir`, is refused by `map` of
/// `splices`, naming the file and saying what its edit expects.
fn edits_refused(dir: &Path, good: &serde_json::Value, splices: &str, edits: &[Edit]) {
    for (name, edit, want) in edits {
        let mut v = good.clone();
        edit(&mut v);
        let p = write(dir, name, &serde_json::to_string_pretty(&v).unwrap());
        let err = fails(&[
            "map",
            "--law",
            &p.display().to_string(),
            "--splices",
            splices,
        ]);
        assert!(err.contains(name) && err.contains(want), "{err}");
    }
}

/// The parts of a law file that must agree with each other: the units' parameter count with the
/// data's, the bootstrap's count with its samples, and its intervals with its samples' percentiles
/// (so an edited refit cannot pass for one).
#[test]
fn a_law_files_parts_must_agree() {
    let d = tempfile::tempdir().unwrap();
    let law = fit_good(d.path(), "law.json", &["--bootstrap", "20"]);
    let sp = write(d.path(), "sp.csv", "name,ce_clean,ce_spliced\na,3,3.2\n")
        .display()
        .to_string();
    let good: serde_json::Value = read_json(&law);
    let edits: [Edit; 6] = [
        (
            "pc.json",
            &|v| v["data"]["param_count"] = "non-embedding".into(),
            "'units.params' says",
        ),
        (
            "n.json",
            &|v| v["bootstrap"]["resamples"] = 25.into(),
            "'bootstrap.resamples' is 25",
        ),
        (
            "sample.json",
            &|v| v["bootstrap"]["samples"][3]["alpha"] = (-5.0).into(),
            "is not the percentile interval of 'bootstrap.samples'",
        ),
        // Another law with its optimum edited alike, a range widened (rows beyond the data would
        // read as inside it) and a loss in bits were taken with exit 0 (review 2026-12-02 (3)).
        (
            "e_and_theta.json",
            &|v| {
                v["params"]["E"] = 1.2.into();
                v["fit"]["theta"][0] = 1.2f64.ln().into();
            },
            "'fit.residuals[0].predicted' is",
        ),
        (
            "wide.json",
            &|v| v["fit"]["ranges"]["tokens"] = serde_json::json!([1e3, 1e12]),
            "'fit.ranges.tokens' is [1000, 1000000000000], but the fitted points",
        ),
        (
            "bits.json",
            &|v| v["units"]["loss"] = "bits/token".into(),
            "'units.loss' says 'bits/token'",
        ),
    ];
    edits_refused(d.path(), &good, &sp, &edits);
}

/// `fit --ci` without a bootstrap fixes the level of the delta-method intervals a map through the
/// saved law gives: the same intervals as `map` fitting the law itself at that level.
#[test]
fn a_law_file_keeps_its_interval_level_without_refits() {
    let d = tempfile::tempdir().unwrap();
    let law = fit_good(d.path(), "law.json", &["--ci", "0.95"]);
    let v: serde_json::Value = read_json(&law);
    assert_eq!(v["interval_level"], 0.95);
    let sp = write(
        d.path(),
        "sp.csv",
        "name,ce_clean,ce_spliced,se_ce_clean,se_delta\na,2.6,2.7,0.01,0.005\n",
    );
    let ck = d.path().join("ck.csv");
    let map = |args: &[&str]| {
        stdout_json(
            ceq()
                .args(["map", "--format", "json", "--splices"])
                .arg(&sp)
                .args(args),
        )
    };
    let saved = map(&["--law", &law.display().to_string()]);
    let fitted = map(&["--checkpoints", &ck.display().to_string(), "--ci", "0.95"]);
    let at90 = map(&["--checkpoints", &ck.display().to_string()]);
    for k in ["compute_fraction_lo", "compute_fraction_hi"] {
        assert_eq!(saved[0][k], fitted[0][k], "{k}");
        assert_ne!(saved[0][k], at90[0][k], "{k}");
    }
}

#[test]
fn law_files_edited_by_hand_or_from_another_version() {
    let d = tempfile::tempdir().unwrap();
    let law = fit_good(d.path(), "law.json", &[]);
    let sp = write(d.path(), "sp.csv", "name,ce_clean,ce_spliced\na,3,3.2\n")
        .display()
        .to_string();
    let good: serde_json::Value = read_json(&law);
    assert_eq!(good["version"], 3);
    let try_edit = |name: &str, edit: &dyn Fn(&mut serde_json::Value)| {
        let mut v = good.clone();
        edit(&mut v);
        let p = write(d.path(), name, &serde_json::to_string_pretty(&v).unwrap());
        let out = ceq()
            .args(["map", "--format", "csv", "--law"])
            .arg(&p)
            .args(["--splices", &sp])
            .output()
            .unwrap();
        let err = String::from_utf8(out.stderr).unwrap();
        assert!(!err.contains("panicked"), "{err}");
        (out.status.success(), out.stdout, err)
    };
    // A parameter edited away from the fitted optimum is refused, naming the key.
    let (ok, _, err) = try_edit("e.json", &|v| v["params"]["E"] = 1.0.into());
    assert!(
        !ok && err.contains("e.json") && err.contains("params.E") && err.contains("fit.theta"),
        "{err}"
    );
    // A bad entry is named by its key path, without the line of its object's end.
    let (ok, _, err) = try_edit("null.json", &|v| v["params"]["B"] = serde_json::Value::Null);
    assert!(
        !ok && err.contains("key 'params.B' is not a finite number") && !err.contains(" at line "),
        "{err}"
    );
    // No fitted points, or a count of them that disagrees (helper-89: "span [inf, -inf]").
    let (ok, _, err) = try_edit("none.json", &|v| {
        v["fit"]["residuals"] = serde_json::json!([])
    });
    assert!(!ok && err.contains("key 'fit.residuals' is empty"), "{err}");
    let (ok, _, err) = try_edit("count.json", &|v| v["data"]["n_points"] = 5.into());
    assert!(
        !ok && err.contains("key 'data.n_points' is 5, but 'fit.residuals' holds 7 points"),
        "{err}"
    );
    // The law wrapped in an array is said as such, not as a version of the wrong type.
    let (ok, _, err) = try_edit("array.json", &|v| *v = serde_json::json!([v.clone()]));
    assert!(
        !ok && err.contains("a JSON array, not the JSON object"),
        "{err}"
    );
    // Parameters of another form than the file says.
    let (ok, _, err) = try_edit("form.json", &|v| v["form"] = "compute".into());
    assert!(!ok && err.contains("'form' is 'compute'"), "{err}");
    // An inverted fitted range.
    let (ok, _, err) = try_edit("range.json", &|v| {
        v["fit"]["ranges"]["loss"] = serde_json::json!([3.0, 2.0]);
    });
    assert!(!ok && err.contains("fit.ranges.loss"), "{err}");
    // Edited fit settings: a Huber threshold below what f64 fits, a negative Huber sum, a layout
    // version ceq never wrote (review of stop 40: each read as a fit).
    let (ok, _, err) = try_edit("delta.json", &|v| v["fit"]["delta"] = 1e-300.into());
    assert!(
        !ok && err.contains("key 'fit.delta'") && err.contains("≥ 1e-12"),
        "{err}"
    );
    let (ok, _, err) = try_edit("obj.json", &|v| v["fit"]["objective"] = (-1.0).into());
    assert!(!ok && err.contains("key 'fit.objective' is -1"), "{err}");
    let (ok, _, err) = try_edit("v0.json", &|v| v["version"] = 0.into());
    assert!(!ok && err.contains("layout version 0"), "{err}");
    // A file from a newer ceq says so and how to go on.
    let (ok, _, err) = try_edit("new.json", &|v| v["version"] = 99.into());
    assert!(
        !ok && err.contains("version 99") && err.contains("ceq fit"),
        "{err}"
    );
    // Files from before versioning and of version 2 name |r| > δ `outliers` and `outlier`, and
    // read the same.
    let older = |v: &mut serde_json::Value| {
        let fit = v["fit"].as_object_mut().unwrap();
        let n = fit.remove("beyond_delta").unwrap();
        fit.insert("outliers".into(), n);
        for r in fit["residuals"].as_array_mut().unwrap() {
            let r = r.as_object_mut().unwrap();
            let b = r.remove("beyond_delta").unwrap();
            r.insert("outlier".into(), b);
        }
    };
    let (_, now, _) = try_edit("now.json", &|_| {});
    for version in [None, Some(2)] {
        let (ok, old, err) = try_edit("old.json", &|v| {
            older(v);
            match version {
                None => drop(v.as_object_mut().unwrap().remove("version")),
                Some(n) => v["version"] = n.into(),
            }
        });
        assert!(ok, "{err}");
        assert_eq!(old, now);
    }
}

/// A run law's `run` block (its model's size, its run, its tokens per step) turns its tokens into
/// compute and steps: an edited one is refused like an edited parameter (helper-89: params doubled
/// doubled compute_fraction_of_actual with exit 0).
#[test]
fn a_run_laws_edited_run_block_is_refused() {
    let d = tempfile::tempdir().unwrap();
    let mut ck = String::from("run,step,params,tokens,loss\n");
    for s in [250, 500, 1000, 2000, 4000, 8000, 16000] {
        let t = s as f64 * 2.0e6;
        ck += &format!("r1,{s},1e8,{t},{}\n", 2.0 + 1000.0 * t.powf(-0.3));
    }
    ck += "r2,1000,2e8,2e9,2.9\n";
    let ck = write(d.path(), "ck.csv", &ck).display().to_string();
    let ck = Path::new(&ck);
    let law = fit_to(d.path(), ck, "law.json", &["--form", "run", "--run", "r1"]);
    let good = read_json(&law);
    assert_eq!(good["run"]["params"], 1e8);
    assert_eq!(good["run"]["tokens_per_step"], 2e6);
    let sp = write(
        d.path(),
        "sp.csv",
        "name,params,tokens,ce_clean,ce_spliced\na,1e8,1.6e10,2.6,2.7\n",
    )
    .display()
    .to_string();
    // The file as written maps.
    let p = write(
        d.path(),
        "as_is.json",
        &serde_json::to_string_pretty(&good).unwrap(),
    );
    crate::common::succeeds(ceq().args([
        "map",
        "--law",
        &p.display().to_string(),
        "--splices",
        &sp,
    ]));
    let edits: [Edit; 5] = [
        (
            "size.json",
            &|v| v["run"]["params"] = 2e8.into(),
            "key 'run.params' is 200000000",
        ),
        (
            "neg.json",
            &|v| v["run"]["params"] = (-1e8).into(),
            "key 'run.params' is -100000000",
        ),
        (
            "gone.json",
            &|v| drop(v.as_object_mut().unwrap().remove("run")),
            "holds its run in key 'run'",
        ),
        (
            "other.json",
            &|v| v["run"]["run"] = "r2".into(),
            "key 'run.run' is 'r2'",
        ),
        (
            "step.json",
            &|v| v["run"]["tokens_per_step"] = (-2e6).into(),
            "key 'run.tokens_per_step' is -2000000",
        ),
    ];
    edits_refused(d.path(), &good, &sp, &edits);
    // A run block in another form's file.
    let chinchilla = fit_good(d.path(), "c.json", &[]);
    let v = read_json(&chinchilla);
    let run = good["run"].clone();
    let stray: [Edit; 1] = [(
        "stray.json",
        &|v| v["run"] = run.clone(),
        "key 'run' belongs to a run law, but 'form' is 'chinchilla'",
    )];
    edits_refused(d.path(), &v, &sp, &stray);
}

/// A failed-refit count that wraps the count check's sum to the resamples' is refused (helper-92:
/// accepted, its count printed).
#[test]
fn a_bootstrap_count_that_wraps_is_refused() {
    let d = tempfile::tempdir().unwrap();
    let law = fit_good(d.path(), "law.json", &["--bootstrap", "20"]);
    let good: serde_json::Value = read_json(&law);
    let n = good["bootstrap"]["samples"].as_array().unwrap().len() as u64;
    let sp = write(d.path(), "sp.csv", "name,ce_clean,ce_spliced\na,3,3.2\n");
    let wrap: [Edit; 1] = [(
        "wrap.json",
        &|v| {
            v["bootstrap"]["failed"] = u64::MAX.into();
            v["bootstrap"]["resamples"] = (n - 1).into();
        },
        "key 'bootstrap.resamples'",
    )];
    edits_refused(d.path(), &good, &sp.display().to_string(), &wrap);
}

#[test]
fn fitting_options_with_a_law_file_are_refused_not_ignored() {
    // `--law` fixes the law; `--ci 0.95` or `--form compute` next to it would otherwise be silently
    // dropped and the output would not be what the command line says.
    let d = tempfile::tempdir().unwrap();
    let law = fit_good(d.path(), "law.json", &[]).display().to_string();
    let sp = write(d.path(), "sp.csv", "name,ce_clean,ce_spliced\na,3,3.2\n")
        .display()
        .to_string();
    let err = fails(&["map", "--law", &law, "--splices", &sp, "--ci", "0.95"]);
    assert!(
        err.contains("'--law <FILE>' cannot be used with") && err.contains("--ci"),
        "{err}"
    );
    let err = fails(&["map", "--law", &law, "--splices", &sp, "--bootstrap", "9"]);
    assert!(err.contains("--bootstrap"), "{err}");
    let err = fails(&[
        "report",
        "--law",
        &law,
        "--splices",
        &sp,
        "--form",
        "compute",
        "--delta",
        "0.01",
        "--out",
        &d.path().join("r").display().to_string(),
    ]);
    assert!(
        err.contains("--form") && err.contains("--delta") && !err.contains("--ci"),
        "{err}"
    );
    // Options not typed keep their defaults and are no obstacle.
    ceq()
        .args(["map", "--law", &law, "--splices", &sp])
        .assert()
        .success();
}

#[test]
fn one_column_for_two_quantities_is_refused() {
    // `--params-col tokens` would fit N = D and report a law with exit 0.
    let err = fails(&[
        "fit",
        "--checkpoints",
        &crate::common::data("checkpoints.csv"),
        "--params-col",
        "tokens",
    ]);
    assert!(
        err.contains("params and tokens both name column 'tokens'")
            && err.contains("--QUANTITY-col"),
        "{err}"
    );
}

/// `map` given its own output: the CSV was refused one computed column at a time (29 rounds of
/// renaming), the JSON with serde's "trailing characters" (review 2026-12-02 (3)).
#[test]
fn a_mapped_table_given_as_splices_is_named_as_one() {
    let d = tempfile::tempdir().unwrap();
    let law = fit_good(d.path(), "law.json", &[]).display().to_string();
    let sp = write(d.path(), "sp.csv", "name,ce_clean,ce_spliced\na,3,3.2\n")
        .display()
        .to_string();
    for ext in ["csv", "json"] {
        let out = d.path().join(format!("m.{ext}")).display().to_string();
        ceq()
            .args(["map", "--law", &law, "--splices", &sp, "--out", &out])
            .assert()
            .success();
        let err = fails(&["map", "--law", &law, "--splices", &out]);
        let want = match ext {
            "csv" => "are ones ceq computes for the mapped table: this is a table ceq wrote",
            _ => "a JSON array, not a SAEBench result",
        };
        assert!(err.contains(&out) && err.contains(want), "{err}");
    }
    // Two such columns are named together, with the advice to rename them.
    let two = write(
        d.path(),
        "two.csv",
        "name,ce_clean,ce_spliced,status,law\na,3,3.2,x,y\n",
    )
    .display()
    .to_string();
    let err = fails(&["map", "--law", &law, "--splices", &two]);
    assert!(
        err.contains("columns 'status', 'law' have the names") && err.contains("rename them"),
        "{err}"
    );
}

/// A family whose counts are in other units (tokens in billions, parameters in millions) fits the
/// same shape but every FLOPs figure is off by that factor: `fit` says so, in its warnings and the
/// law file's; the counts as given say nothing (review 2026-12-07: tokens in billions mapped to
/// 1.1e11 FLOPs for 1.1e20, status ok, with no warning).
#[test]
fn counts_in_other_units_are_said() {
    let d = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(crate::common::data("checkpoints.csv")).unwrap();
    let scaled = |col: usize, by: f64| -> String {
        let mut out = String::new();
        for (i, line) in text.lines().enumerate() {
            let mut cells: Vec<String> = line.split(',').map(String::from).collect();
            if i > 0 {
                cells[col] = (cells[col].parse::<f64>().unwrap() * by).to_string();
            }
            out += &(cells.join(",") + "\n");
        }
        out
    };
    assert!(text.starts_with("name,params,tokens,loss\n"));
    for (name, file, said) in [
        ("as-given", text.clone(), None),
        (
            "tokens-m",
            scaled(2, 1e-6),
            Some("fewer than 0.01 training tokens per parameter"),
        ),
        (
            "tokens-x",
            scaled(2, 1e6),
            Some("more than a million training tokens per parameter"),
        ),
    ] {
        let ck = write(d.path(), &format!("{name}.csv"), &file);
        let out = ceq()
            .args(["fit", "--checkpoints"])
            .arg(&ck)
            .output()
            .unwrap();
        assert!(out.status.success());
        let err = String::from_utf8_lossy(&out.stderr);
        match said {
            None => assert!(!err.contains("per parameter"), "{name}: {err}"),
            Some(s) => {
                assert!(
                    err.contains(s) && err.contains("Give both as counts"),
                    "{name}: {err}"
                );
                let law = fit_to(d.path(), &ck, &format!("{name}.json"), &[]);
                let json = std::fs::read_to_string(law).unwrap();
                assert!(json.contains(s), "{name}: the law file keeps the warning");
            }
        }
    }
    // Below one parameter or token is no count at all: refused, naming the cell (helper-89: params
    // of 2e-293 fitted E = 1.2e-5 with exit 0), in checkpoints and splices alike.
    for (col, name) in [(1, "params"), (2, "tokens")] {
        let ck = write(d.path(), &format!("{name}-b.csv"), &scaled(col, 1e-9));
        let err = fails(&["fit", "--checkpoints", &ck.display().to_string()]);
        assert!(
            err.contains(&format!("{name}-b.csv:2: column '{name}'"))
                && err.contains("is below 1, and a count of parameters or tokens is at least 1"),
            "{err}"
        );
    }
    let law = fit_to(
        d.path(),
        Path::new(&crate::common::data("checkpoints.csv")),
        "law.json",
        &[],
    );
    let sp = write(
        d.path(),
        "sp.csv",
        "name,params,tokens,ce_clean,ce_spliced\na,0.008,4096000,2.3,2.4\n",
    );
    let err = fails(&[
        "map",
        "--law",
        &law.display().to_string(),
        "--splices",
        &sp.display().to_string(),
    ]);
    assert!(
        err.contains("column 'params'") && err.contains("is below 1"),
        "{err}"
    );
}
