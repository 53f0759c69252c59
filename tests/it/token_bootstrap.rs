//! `ceq map --token-bootstrap`: the joint bootstrap over eval sequences of a family (eval-family)
//! and splices (a sweep) measured on one token set. Fixtures: tests/fixtures/tokboot (the fixture
//! family and two eval hosts, three SAEs, written by ceq; make_reference.py recomputes the
//! bootstrap with numpy + scipy from a committed draw).

use std::path::{Path, PathBuf};

use ceq::eval::{family, sweep};
use ceq::fit::Solver;
use ceq::law::Form;
use ceq::pipeline::FitSpec;
use ceq::token_bootstrap::{Draw, Paired, joint};

use super::common::ceq;

fn fx() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tokboot")
}

fn spec(checkpoints: &Path, bootstrap: usize) -> FitSpec {
    FitSpec {
        form: Form::Compute,
        bootstrap,
        ..FitSpec::new(checkpoints.to_owned(), "fixture tokens")
    }
}

/// The family's and the splices' per-sequence files into `dir`, and `more` of the fixture's.
fn copy_fixture(dir: &Path, more: &[&str]) {
    let family = [
        "checkpoints.csv",
        "checkpoints.per_seq.npy",
        "checkpoints.per_seq_n.npy",
        "splices.per_seq.npy",
        "splices.per_seq_n.npy",
    ];
    for f in family.iter().chain(more) {
        std::fs::copy(fx().join(f), dir.join(f)).unwrap();
    }
}

/// `ceq map --form compute --token-bootstrap --bootstrap 5` of the copy in `dir`.
fn map_copy(dir: &Path) -> std::process::Output {
    ceq()
        .args([
            "map",
            "--form",
            "compute",
            "--token-bootstrap",
            "--bootstrap",
            "5",
        ])
        .arg("--checkpoints")
        .arg(dir.join("checkpoints.csv"))
        .arg("--splices")
        .arg(dir.join("splices.csv"))
        .output()
        .unwrap()
}

fn json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn nums(v: &serde_json::Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

/// With make_reference.py's draw, every resampled loss and CE, every refit and the compute
/// fraction's interval agree with numpy + scipy's.
#[test]
fn joint_bootstrap_matches_an_independent_numpy_scipy_computation() {
    let dir = fx();
    let job = spec(&dir.join("checkpoints.csv"), 0).validate().unwrap();
    let (fam, fit) = job.fit(&|_| {}).unwrap();
    let splices = ceq::table::read_splices(&dir.join("splices.csv")).unwrap();
    let paired = Paired::new(
        &fit,
        &family::LEDGER
            .sequences(&dir.join("checkpoints.csv"))
            .unwrap(),
        &splices,
        &sweep::LEDGER.sequences(&dir.join("splices.csv")).unwrap(),
    )
    .unwrap();
    let d = json(&dir.join("draws.json"));
    let r = json(&dir.join("reference.json"));
    // The reference's runs are ceq's units, in the same order.
    let (_, _, units) = ceq::fit::bootstrap::units(&fit);
    let runs: Vec<&str> = d["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(units, runs);
    let draws: Vec<Draw> = d["draws"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| Draw {
            units: nums(&x["units"]),
            seqs: nums(&x["seqs"]),
        })
        .collect();
    let j = joint(&fit, &paired, &draws, 12, &Solver::default(), &|| {});
    assert_eq!(j.bootstrap.failed, 0);
    let reps = r["replicate"].as_array().unwrap();
    for (i, rep) in reps.iter().enumerate() {
        for (k, (got, want)) in j.ces.iter().zip(rep["ces"].as_array().unwrap()).enumerate() {
            let want = nums(want);
            assert!(
                (got[i].0 - want[0]).abs() < 1e-12,
                "replicate {i} splice {k} clean"
            );
            assert!(
                (got[i].1 - want[1]).abs() < 1e-12,
                "replicate {i} splice {k} spliced"
            );
        }
    }
    let law_file = job.law_file(&fam, &fit, Some(&j.bootstrap)).unwrap();
    let mapped = ceq::map::map_joint(&law_file, splices, &j.ces, "a committed draw");
    for (s, m) in mapped.splice_rows() {
        let want = nums(&r["compute_fraction"][&s.name]);
        let (lo, hi) = m.ci.unwrap().fraction.unwrap();
        let f = m.eq.fraction.unwrap();
        eprintln!("{}: ceq [{lo}, {hi}], scipy {want:?}, estimate {f}", s.name);
        for (g, w) in [(lo, want[0]), (hi, want[1])] {
            assert!((g / w - 1.0).abs() < 1e-6, "{}: ceq {g}, scipy {w}", s.name);
        }
    }
}

/// Sequences whose losses are all equal carry no token error: the joint bootstrap's refits are then
/// the law bootstrap's (the same seed draws the same runs), and every resampled CE is the CE.
#[test]
fn equal_per_sequence_losses_give_the_law_bootstraps_refits() {
    let dir = fx();
    let job = spec(&dir.join("checkpoints.csv"), 40).validate().unwrap();
    let (_, fit) = job.fit(&|_| {}).unwrap();
    let splices = ceq::table::read_splices(&dir.join("splices.csv")).unwrap();
    let mut fs = family::LEDGER
        .sequences(&dir.join("checkpoints.csv"))
        .unwrap();
    for c in &fit.checkpoints {
        let v = fs.values.get_mut(c.name.as_deref().unwrap()).unwrap();
        v.iter_mut().for_each(|x| *x = c.loss);
    }
    let mut ss = sweep::LEDGER.sequences(&dir.join("splices.csv")).unwrap();
    for s in &splices.rows {
        let v = ss.values.get_mut(&s.name).unwrap();
        let n = v.len() / 2;
        v[..n].iter_mut().for_each(|x| *x = s.ce_clean);
        v[n..].iter_mut().for_each(|x| *x = s.ce_spliced);
    }
    let paired = Paired::new(&fit, &fs, &splices, &ss).unwrap();
    let (_, _, units) = ceq::fit::bootstrap::units(&fit);
    let draws = ceq::token_bootstrap::draws(0, 40, units.len(), paired.n_seq);
    let j = joint(&fit, &paired, &draws, 0, &Solver::default(), &|| {});
    let law = ceq::fit::bootstrap::bootstrap(
        &fit,
        &ceq::fit::BootstrapOptions { n: 40, seed: 0 },
        &Solver::default(),
        &|| {},
    );
    assert_eq!(j.bootstrap.thetas.len(), law.thetas.len());
    // Compared where it matters, the compute each refit gives the splices' CEs: this family puts
    // E near 0 (ln E ≈ −34), where the objective is flat in ln E.
    let (a, b) = (j.bootstrap.laws(&fit.law), law.laws(&fit.law));
    for (x, y) in a.iter().zip(&b) {
        for s in &splices.rows {
            for ce in [s.ce_clean, s.ce_spliced] {
                let (cx, cy) = (x.inverse(ce), y.inverse(ce));
                assert_eq!(cx.is_some(), cy.is_some(), "{x:?} vs {y:?}");
                if let (Some(cx), Some(cy)) = (cx, cy) {
                    assert!((cx / cy - 1.0).abs() < 1e-6, "{x:?} vs {y:?} at {ce}");
                }
            }
        }
    }
    for (ces, s) in j.ces.iter().zip(&splices.rows) {
        for &(c, sp) in ces {
            assert!((c - s.ce_clean).abs() < 1e-12 && (sp - s.ce_spliced).abs() < 1e-12);
        }
    }
}

/// `ceq eval-family` then `ceq eval --manifest` on one token set, then `ceq map --token-bootstrap`:
/// the evaluations give the committed fixtures' numbers, the intervals exist, hold the estimate,
/// say where they come from, and the same seed gives the same bytes.
#[test]
fn eval_family_sweep_then_map_token_bootstrap() {
    let dir = tempfile::tempdir().unwrap();
    let tokens = fx().join("../family/tokens.npy");
    let (ck, sp) = (dir.path().join("ck.csv"), dir.path().join("sp.csv"));
    ceq()
        .arg("eval-family")
        .arg("--manifest")
        .arg(fx().join("family.csv"))
        .arg("--tokens")
        .arg(&tokens)
        .arg("--out")
        .arg(&ck)
        .assert()
        .success();
    ceq()
        .arg("eval")
        .arg("--manifest")
        .arg(fx().join("saes.csv"))
        .arg("--family")
        .arg(fx().join("family.csv"))
        .arg("--tokens")
        .arg(&tokens)
        .arg("--out")
        .arg(&sp)
        .assert()
        .success();
    // The same per-sequence values as the fixtures the reference was computed from, to f32
    // rounding: a change of kernel (its summation order) moves a per-sequence CE by up to ~2e-7.
    for (mine, theirs, ledger) in [
        (&ck, "checkpoints.csv", &family::LEDGER),
        (&sp, "splices.csv", &sweep::LEDGER),
    ] {
        let (a, b) = (
            ledger.sequences(mine).unwrap(),
            ledger.sequences(&fx().join(theirs)).unwrap(),
        );
        assert_eq!(a.counts, b.counts);
        for (name, v) in &a.values {
            for (x, y) in v.iter().zip(&b.values[name]) {
                assert!((x - y).abs() < 1e-6, "{name}: {x} vs {y}");
            }
        }
    }
    let map = |seed: &str| {
        let o = ceq()
            .args([
                "map",
                "--format",
                "csv",
                "--form",
                "compute",
                "--token-bootstrap",
            ])
            .args(["--bootstrap", "60", "--seed", seed, "--checkpoints"])
            .arg(&ck)
            .arg("--splices")
            .arg(&sp)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        o.stdout
    };
    let first = map("3");
    assert_eq!(first, map("3"), "the same seed gives the same bytes");
    assert_ne!(first, map("4"));
    let mut rd = csv::Reader::from_reader(&first[..]);
    let h = rd.headers().unwrap().clone();
    // The planning number holds the law's refit spread fixed and adds the splices' SEs: a token
    // bootstrap's refits already carry token noise, so it has none (the plain bootstrap has it).
    assert!(!h.iter().any(|c| c == "n_tokens_for_10pct"), "{h:?}");
    let plain = ceq()
        .args(["map", "--format", "csv", "--form", "compute"])
        .args(["--bootstrap", "60", "--checkpoints"])
        .arg(&ck)
        .arg("--splices")
        .arg(&sp)
        .output()
        .unwrap();
    assert!(plain.stdout.starts_with(b"name,") && plain.status.success());
    let head = plain.stdout.split(|&b| b == b'\n').next().unwrap().to_vec();
    assert!(
        String::from_utf8(head)
            .unwrap()
            .contains("n_tokens_for_10pct")
    );
    // The per-sequence arrays it reads are inputs: no output goes over them.
    for arr in [
        sp.with_extension("per_seq.npy"),
        ck.with_extension("per_seq_n.npy"),
    ] {
        let before = std::fs::read(&arr).unwrap();
        let o = ceq()
            .args([
                "map",
                "--format",
                "csv",
                "--form",
                "compute",
                "--token-bootstrap",
            ])
            .args(["--bootstrap", "5", "--checkpoints"])
            .arg(&ck)
            .arg("--splices")
            .arg(&sp)
            .arg("--out")
            .arg(&arr)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            !o.status.success() && err.contains("refusing to write"),
            "{err}"
        );
        assert_eq!(std::fs::read(&arr).unwrap(), before);
    }
    let at = |n: &str| h.iter().position(|x| x == n).unwrap();
    let rows: Vec<csv::StringRecord> = rd.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 3);
    for r in &rows {
        let num = |n: &str| r[at(n)].parse::<f64>().unwrap();
        let (f, lo, hi) = (
            num("compute_fraction"),
            num("compute_fraction_lo"),
            num("compute_fraction_hi"),
        );
        assert!(lo < hi && lo <= f && f <= hi, "{lo} {f} {hi}");
        assert!(
            r[at("units")].contains(
                "token bootstrap: 60 replicates over 8 sequences, family + splices jointly"
            ),
            "{}",
            &r[at("units")]
        );
    }
}

/// Files measured on different token sets, and files from before ceq kept position counts, are
/// refused with what to do.
#[test]
fn mismatched_tokens_and_old_files_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    copy_fixture(dir.path(), &[]);
    let text = std::fs::read_to_string(fx().join("splices.csv")).unwrap();
    let sp = dir.path().join("splices.csv");
    std::fs::write(&sp, text.replace("fnv1a64:e38052f0", "fnv1a64:00000000")).unwrap();
    let run = || map_copy(dir.path());
    let o = run();
    let err = String::from_utf8_lossy(&o.stderr).to_string();
    assert!(!o.status.success());
    assert!(!err.contains("panicked"), "{err}");
    for w in [
        "splices.csv",
        "checkpoints.csv",
        "one token set",
        "same tokens",
    ] {
        assert!(err.contains(w), "{w:?} not in {err}");
    }
    std::fs::write(&sp, &text).unwrap();
    assert!(run().status.success());
    // Rows sorted apart from the arrays beside them are said as such (ceq matches by position),
    // not as an edit; a loss changed by hand is an edit (review 14).
    let ck = dir.path().join("checkpoints.csv");
    let original = std::fs::read_to_string(&ck).unwrap();
    let lines: Vec<&str> = original.lines().collect();
    let mut sorted = vec![lines[0]];
    sorted.extend(lines[1..].iter().rev());
    let loss = lines[1].split(',').nth(8).unwrap();
    let higher = format!(",{},", loss.parse::<f64>().unwrap() + 0.1);
    let edited = original.replacen(&format!(",{loss},"), &higher, 1);
    for (file, want) in [
        (
            sorted.join("\n") + "\n",
            "in another order than the per-sequence arrays",
        ),
        (edited, "edited after ceq wrote it"),
    ] {
        std::fs::write(&ck, file).unwrap();
        let o = run();
        let err = String::from_utf8_lossy(&o.stderr).to_string();
        assert!(
            !o.status.success() && err.contains(want),
            "{want:?} not in {err}"
        );
    }
    std::fs::write(&ck, &original).unwrap();
    // A splices file that lost a row beside arrays that did not: the counts are said (review).
    let rows = text.lines().count() - 1;
    let (last, _) = text.trim_end().rsplit_once('\n').unwrap();
    std::fs::write(&sp, format!("{last}\n")).unwrap();
    let err = String::from_utf8_lossy(&run().stderr).to_string();
    let want = format!(
        "splices.per_seq.npy) hold {rows} rows, the CSV {}",
        rows - 1
    );
    assert!(err.contains(&want), "{want:?} not in {err}");
    std::fs::write(&sp, &text).unwrap();
    std::fs::remove_file(dir.path().join("splices.per_seq_n.npy")).unwrap();
    let o = run();
    let err = String::from_utf8_lossy(&o.stderr).to_string();
    assert!(!o.status.success());
    for w in ["splices.per_seq_n.npy", "older ceq", "same output file"] {
        assert!(err.contains(w), "{w:?} not in {err}");
    }
    // Without --bootstrap, or with --law, it says what it needs.
    let o = ceq()
        .args(["map", "--token-bootstrap", "--checkpoints"])
        .arg(dir.path().join("checkpoints.csv"))
        .arg("--splices")
        .arg(&sp)
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&o.stderr).contains("--bootstrap <N>"));
    // A plot without splices has no sequences to resample: refused before any figure is drawn.
    let figs = dir.path().join("figs");
    let o = ceq()
        .args([
            "plot",
            "--token-bootstrap",
            "--bootstrap",
            "3",
            "--checkpoints",
        ])
        .arg(dir.path().join("checkpoints.csv"))
        .arg("--out-dir")
        .arg(&figs)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success() && err.contains("--splices"), "{err}");
    assert!(!figs.exists());
}

/// A family file from before ceq kept position counts gets them from a rerun of the same job,
/// without measuring anything again; the counts are each sequence's scored positions.
#[test]
fn a_rerun_adds_the_position_counts_to_an_older_file() {
    let dir = tempfile::tempdir().unwrap();
    let ck = dir.path().join("ck.csv");
    let run = || {
        let o = ceq()
            .arg("eval-family")
            .arg("--manifest")
            .arg(fx().join("../family/family.csv"))
            .arg("--tokens")
            .arg(fx().join("../family/tokens.npy"))
            .arg("--out")
            .arg(&ck)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        String::from_utf8_lossy(&o.stderr).to_string()
    };
    run();
    let counts = dir.path().join("ck.per_seq_n.npy");
    let before = (std::fs::read(&ck).unwrap(), std::fs::read(&counts).unwrap());
    std::fs::remove_file(&counts).unwrap();
    assert!(run().contains("0 checkpoint(s) evaluated"));
    assert_eq!(
        (std::fs::read(&ck).unwrap(), std::fs::read(&counts).unwrap()),
        before
    );
    // A damaged counts file is said as such, and rewritten by the same rerun.
    std::fs::write(&counts, &before.1[..100]).unwrap();
    let err = family::LEDGER.sequences(&ck).unwrap_err().to_string();
    assert!(err.contains("damaged or another run's"), "{err}");
    assert!(run().contains("0 checkpoint(s) evaluated"));
    assert_eq!(std::fs::read(&counts).unwrap(), before.1);
    // 31 next-token positions per sequence of 32, less the BOS/EOS/pad positions (ids 0, 1, 2).
    let ids = std::fs::read(fx().join("../family/tokens.npy")).unwrap();
    let ids: Vec<i64> = ids[10 + u16::from_le_bytes([ids[8], ids[9]]) as usize..]
        .chunks_exact(8)
        .map(|c| i64::from_le_bytes(c.try_into().unwrap()))
        .collect();
    let want: Vec<f64> = ids
        .chunks(32)
        .map(|s| s[..31].iter().filter(|&&t| t > 2).count() as f64)
        .collect();
    let seqs = family::LEDGER.sequences(&ck).unwrap();
    for c in seqs.counts.values() {
        assert_eq!(c, &want);
    }
    assert!(
        want.iter().any(|&n| n != want[0]),
        "sequences of unequal counts"
    );
}

/// A per-sequence array holding what ceq never writes (a NaN loss where positions were scored, a
/// negative count) is said to be damaged, naming the row and sequence (review: it was said to be
/// rows in another order, with a fix that could not work).
#[test]
fn damaged_per_sequence_values_are_said_as_damage() {
    for (file, value) in [
        ("splices.per_seq.npy", f64::NAN),
        ("splices.per_seq_n.npy", -3.0),
    ] {
        let dir = tempfile::tempdir().unwrap();
        copy_fixture(dir.path(), &["splices.csv"]);
        // The first value after the .npy header (version 1: its length at bytes 8..10).
        let path = dir.path().join(file);
        let mut b = std::fs::read(&path).unwrap();
        let start = 10 + u16::from_le_bytes([b[8], b[9]]) as usize;
        b[start..start + 8].copy_from_slice(&value.to_le_bytes());
        std::fs::write(&path, b).unwrap();
        let o = map_copy(dir.path());
        let err = String::from_utf8_lossy(&o.stderr).to_string();
        assert!(!o.status.success(), "{file}: {err}");
        assert!(
            err.contains("sequence 0's per-sequence")
                && err.contains("which ceq never writes")
                && !err.contains("another order"),
            "{file}: {err}"
        );
    }
}

/// A per-sequence array saved by hand as float32, or in Fortran order, is said as such (helper-89:
/// "shorter than their header says", "the file was edited").
#[test]
fn per_sequence_arrays_in_another_dtype_or_order_are_said_so() {
    use npyz::WriterBuilder;
    let file = "checkpoints.per_seq.npy";
    let bytes = std::fs::read(fx().join(file)).unwrap();
    let npy = npyz::NpyFile::new(&bytes[..]).unwrap();
    let shape = npy.shape().to_vec();
    let values: Vec<f64> = npy.into_vec().unwrap();
    let f32s = {
        let mut buf = vec![];
        let mut w = npyz::WriteOptions::<f32>::new()
            .default_dtype()
            .shape(&shape)
            .writer(&mut buf)
            .begin_nd()
            .unwrap();
        w.extend(values.iter().map(|&v| v as f32)).unwrap();
        w.finish().unwrap();
        buf
    };
    let fortran = {
        let (rows, n) = (shape[0] as usize, shape[1] as usize);
        let mut buf = vec![];
        let mut w = npyz::WriteOptions::<f64>::new()
            .default_dtype()
            .shape(&shape)
            .order(npyz::Order::Fortran)
            .writer(&mut buf)
            .begin_nd()
            .unwrap();
        w.extend(
            (0..n)
                .flat_map(|j| (0..rows).map(move |i| (i, j)))
                .map(|(i, j)| values[i * n + j]),
        )
        .unwrap();
        w.finish().unwrap();
        buf
    };
    for (array, said) in [
        (
            f32s,
            "hold '<f4' values, not the float64 ('<f8') ceq writes",
        ),
        (
            fortran,
            "are saved in Fortran order, not the C order ceq writes",
        ),
    ] {
        let dir = tempfile::tempdir().unwrap();
        copy_fixture(dir.path(), &["splices.csv"]);
        std::fs::write(dir.path().join(file), array).unwrap();
        let o = map_copy(dir.path());
        let err = String::from_utf8_lossy(&o.stderr).to_string();
        assert!(!o.status.success(), "{err}");
        assert!(err.contains(file) && err.contains(said), "{err}");
    }
}

/// Per-sequence values of fewer sequences than the position counts beside them are damage, said
/// as such (helper-92: a panic, "mid > len").
#[test]
fn per_sequence_arrays_of_other_lengths_are_damage() {
    use npyz::WriterBuilder;
    let file = "splices.per_seq.npy";
    let bytes = std::fs::read(fx().join(file)).unwrap();
    let npy = npyz::NpyFile::new(&bytes[..]).unwrap();
    let shape = npy.shape().to_vec();
    let values: Vec<f64> = npy.into_vec().unwrap();
    assert_eq!(shape.len(), 3);
    // The first sequence of each plane alone: shape [rows, 2, 1].
    let n = shape[2] as usize;
    let first: Vec<f64> = values.chunks(n).map(|plane| plane[0]).collect();
    let mut buf = vec![];
    let mut w = npyz::WriteOptions::<f64>::new()
        .default_dtype()
        .shape(&[shape[0], shape[1], 1])
        .writer(&mut buf)
        .begin_nd()
        .unwrap();
    w.extend(first).unwrap();
    w.finish().unwrap();
    let dir = tempfile::tempdir().unwrap();
    copy_fixture(dir.path(), &["splices.csv"]);
    std::fs::write(dir.path().join(file), buf).unwrap();
    let o = map_copy(dir.path());
    let err = String::from_utf8_lossy(&o.stderr).to_string();
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains(&format!(
            "has 2 per-sequence values beside {n} position counts"
        )) && err.contains("which ceq never writes"),
        "{err}"
    );
}

/// A row `--drop-highest` leaves out may be on another token set: the splices are checked against
/// the fitted rows' set, every run (review: against a random row's, by a hash map's order, so good
/// splices were refused now and then, and splices on the dropped row's set were mapped, exit 0).
#[test]
fn the_token_set_checked_is_the_fitted_rows() {
    let dir = tempfile::tempdir().unwrap();
    copy_fixture(dir.path(), &[]);
    let ck = dir.path().join("checkpoints.csv");
    let text = std::fs::read_to_string(&ck).unwrap();
    let (head, rest) = text.split_once('\n').unwrap();
    let (first, others) = rest.split_once('\n').unwrap();
    assert!(first.starts_with("gpt2_d16_s40,"));
    let other_set = first.replace("fnv1a64:e38052f0deeef952", "fnv1a64:1111111111111111");
    assert_ne!(other_set, first);
    std::fs::write(&ck, format!("{head}\n{other_set}\n{others}")).unwrap();
    let splices = std::fs::read_to_string(fx().join("splices.csv")).unwrap();
    let run = |splices: &str| {
        std::fs::write(dir.path().join("splices.csv"), splices).unwrap();
        ceq()
            .args(["map", "--form", "compute", "--token-bootstrap"])
            .args(["--bootstrap", "2", "--drop-highest", "1", "--checkpoints"])
            .arg(&ck)
            .arg("--splices")
            .arg(dir.path().join("splices.csv"))
            .output()
            .unwrap()
    };
    // The first row is the family's highest loss, so the one dropped.
    let on_dropped = splices.replace("fnv1a64:e38052f0deeef952", "fnv1a64:1111111111111111");
    for _ in 0..6 {
        let o = run(&splices);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let o = run(&on_dropped);
        let err = String::from_utf8_lossy(&o.stderr).to_string();
        assert!(
            !o.status.success(),
            "mapped splices on the dropped row's set"
        );
        assert!(err.contains("fnv1a64:1111111111111111"), "{err}");
    }
}

/// The law file a `--token-bootstrap` report saves holds the checkpoints' token noise in its refits,
/// so a splices file's standard errors are not drawn through `--law`: a file that gives them hears
/// so (review: they were left out without a word); one without them hears nothing.
#[test]
fn a_token_bootstrap_law_file_says_it_leaves_the_splices_errors_out() {
    let d = tempfile::tempdir().unwrap();
    copy_fixture(d.path(), &["splices.csv"]);
    let mut report = ceq();
    report.args([
        "report",
        "--form",
        "compute",
        "--token-bootstrap",
        "--bootstrap",
        "5",
    ]);
    report
        .arg("--checkpoints")
        .arg(d.path().join("checkpoints.csv"));
    report.arg("--splices").arg(d.path().join("splices.csv"));
    super::common::succeeds(report.arg("--out").arg(d.path().join("r")));
    let law = d.path().join("r/law.json");
    let said =
        "the standard errors of 3 splice(s) (se_ce_clean, se_ce_spliced, se_delta) are not used";
    let (_, err) = super::common::map_json(&law, &d.path().join("splices.csv"));
    assert!(err.contains(said), "{err}");
    let bare = "name,ce_clean,ce_spliced\na,1.459,2.199\n";
    let bare = super::common::write(d.path(), "bare.csv", bare);
    let (v, err) = super::common::map_json(&law, &bare);
    assert!(!err.contains("standard errors"), "{err}");
    assert!(v[0].to_string().contains("CEs taken as exact"), "{}", v[0]);
}
