//! Fits recover the law the data were drawn from (drawn in the test code, not by ceq).

use std::path::Path;

use ceq::fit::bootstrap::bootstrap;
use ceq::fit::{BootstrapOptions, FitOptions, Solver, fit};
use ceq::law::{Form, Law};
use ceq::table::{ColumnMap, read_family};

use crate::common::{TRUE_LAW, close, family_csv, write};

fn fit_csv(csv: &str, form: Form) -> ceq::fit::Fit {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "f.csv", csv);
    let fam = read_family(&p, &ColumnMap::default(), form, 0).unwrap();
    fit(
        &fam,
        &FitOptions {
            form,
            ..Default::default()
        },
    )
    .unwrap()
}

#[test]
fn noiseless_chinchilla_is_recovered_exactly() {
    let f = fit_csv(&family_csv(&TRUE_LAW, 0.0, 1), Form::Chinchilla);
    let Law::Chinchilla(l) = f.law else { panic!() };
    assert!(f.objective < 1e-12, "objective {}", f.objective);
    for (got, want) in [
        (l.e, TRUE_LAW.e),
        (l.a, TRUE_LAW.a),
        (l.b, TRUE_LAW.b),
        (l.alpha, TRUE_LAW.alpha),
        (l.beta, TRUE_LAW.beta),
    ] {
        assert!(close(got, want, 1e-4), "{got} vs {want}");
    }
    assert!(f.warnings.is_empty(), "{:?}", f.warnings);
}

#[test]
fn noisy_chinchilla_bootstrap_covers_the_truth() {
    let f = fit_csv(&family_csv(&TRUE_LAW, 0.01, 7), Form::Chinchilla);
    let b = bootstrap(
        &f,
        &BootstrapOptions { n: 200, seed: 3 },
        &Solver::default(),
        &|| {},
    );
    assert_eq!(b.failed, 0);
    assert_eq!(b.thetas.len(), 200);
    let laws = b.laws(&f.law);
    // The frontier's exponent and the compute at a typical loss are what ceq reports; their 95%
    // intervals must hold the truth.
    let gamma: Vec<f64> = laws
        .iter()
        .map(|l| match l {
            Law::Chinchilla(c) => c.gamma(),
            _ => unreachable!(),
        })
        .collect();
    let (lo, hi) = ceq::fit::percentile_interval(&gamma, 0.95).unwrap();
    assert!(
        lo <= TRUE_LAW.gamma() && TRUE_LAW.gamma() <= hi,
        "gamma {} not in [{lo}, {hi}]",
        TRUE_LAW.gamma()
    );
    let c_true = TRUE_LAW.frontier_compute(3.0).unwrap();
    let cs: Vec<f64> = laws.iter().map(|l| l.inverse(3.0).unwrap()).collect();
    let (lo, hi) = ceq::fit::percentile_interval(&cs, 0.95).unwrap();
    assert!(
        lo <= c_true && c_true <= hi,
        "C(3.0) {c_true:e} not in [{lo:e}, {hi:e}]"
    );
    // Same seed, same refits.
    let again = bootstrap(
        &f,
        &BootstrapOptions { n: 200, seed: 3 },
        &Solver::default(),
        &|| {},
    );
    assert_eq!(b, again);
}

#[test]
fn compute_law_is_recovered() {
    let (e, a, alpha) = (1.9, 30.0, 0.06);
    let mut csv = String::from("params,compute,loss\n");
    for i in 0..10 {
        let c = 1e17 * 10f64.powf(i as f64 * 0.5);
        csv += &format!("{},{c},{}\n", (c / 120.0).sqrt(), e + a * c.powf(-alpha));
    }
    let f = fit_csv(&csv, Form::Compute);
    let Law::Compute(l) = f.law else { panic!() };
    assert!(
        close(l.e, e, 1e-4) && close(l.a, a, 1e-3) && close(l.alpha, alpha, 1e-4),
        "{l:?}"
    );
}

#[test]
fn run_law_is_recovered_with_steps() {
    let (e, b, beta) = (2.1, 900.0, 0.3);
    let mut csv = String::from("run,step,params,tokens,loss\n");
    for s in [500, 1000, 2000, 4000, 8000, 16000, 32000, 64000] {
        let d = s as f64 * 1_048_576.0;
        csv += &format!("r1,{s},1.6e8,{d},{}\n", e + b * d.powf(-beta));
    }
    let f = fit_csv(&csv, Form::Run);
    let Law::Run(l) = &f.law else { panic!() };
    assert!(
        close(l.e, e, 1e-4) && close(l.b, b, 1e-3) && close(l.beta, beta, 1e-4),
        "{l:?}"
    );
    assert_eq!(l.info.params, Some(1.6e8));
    assert_eq!(l.info.tokens_per_step, Some(1_048_576.0));
    assert_eq!(l.info.run.as_deref(), Some("r1"));
}

#[test]
fn bootstrap_resamples_whole_runs_when_there_are_several() {
    // Three runs (model sizes), six checkpoints each: the runs are the independent units.
    let mut csv = String::from("run,params,tokens,loss\n");
    for (i, n) in [1e8, 3e8, 1e9].iter().enumerate() {
        for r in [5.0, 10.0, 20.0, 40.0, 80.0, 160.0] {
            let l = TRUE_LAW.loss(*n, n * r) * (1.0 + 0.003 * ((i + r as usize) % 3) as f64);
            csv += &format!("r{i},{n},{},{l}\n", n * r);
        }
    }
    let f = fit_csv(&csv, Form::Chinchilla);
    let b = bootstrap(
        &f,
        &BootstrapOptions { n: 20, seed: 1 },
        &Solver::default(),
        &|| {},
    );
    assert_eq!(b.unit, ceq::fit::Resample::Run);
    let f = fit_csv(&family_csv(&TRUE_LAW, 0.01, 2), Form::Chinchilla);
    let b = bootstrap(
        &f,
        &BootstrapOptions { n: 5, seed: 1 },
        &Solver::default(),
        &|| {},
    );
    assert_eq!(b.unit, ceq::fit::Resample::Checkpoint);
}

#[test]
fn a_floor_above_an_observed_loss_is_warned_about() {
    // One checkpoint far below everything the law can reach: the Huber loss treats it as an outlier, so
    // E stays above it, and the user is told.
    let mut csv = family_csv(&TRUE_LAW, 0.0, 1);
    csv += "outlier,3.6e9,4.6e11,1.2\n";
    let f = fit_csv(&csv, Form::Chinchilla);
    assert!(f.law.floor() > 1.2);
    assert!(f.n_beyond_delta >= 1);
    assert!(
        f.warnings
            .iter()
            .any(|w| w.contains("above the lowest observed loss 1.2000")),
        "{:?}",
        f.warnings
    );
}

#[test]
fn a_gross_outlier_is_named_and_ordinary_noise_is_not() {
    let gross = |f: &ceq::fit::Fit| -> Vec<String> {
        (f.warnings.iter())
            .filter(|w| w.contains("robust spread"))
            .cloned()
            .collect()
    };
    // Gaussian noise of 1 % and 2 % in log-loss: a spread the law's misfit has, never flagged.
    for (noise, seed) in [(0.01, 1), (0.01, 2), (0.02, 3), (0.0, 1)] {
        let f = fit_csv(&family_csv(&TRUE_LAW, noise, seed), Form::Chinchilla);
        assert_eq!(
            gross(&f),
            Vec::<String>::new(),
            "noise {noise}, seed {seed}"
        );
    }
    // One loss typed 30 % too high (the 21st checkpoint: line 22, the header being line 1).
    let mut lines: Vec<String> = family_csv(&TRUE_LAW, 0.01, 1)
        .lines()
        .map(String::from)
        .collect();
    let cells: Vec<&str> = lines[21].split(',').collect();
    let (name, loss) = (cells[0].to_string(), cells[3].parse::<f64>().unwrap());
    lines[21] = format!("{},{},{},{}", cells[0], cells[1], cells[2], loss * 1.3);
    let f = fit_csv(&(lines.join("\n") + "\n"), Form::Chinchilla);
    let w = gross(&f);
    assert_eq!(w.len(), 1, "{w:?}");
    assert!(w[0].starts_with("1 checkpoint lies outside -"), "{w:?}");
    let named = format!("line 22 '{name}', {:.4} nats against the law's", loss * 1.3);
    assert!(w[0].contains(&named), "{w:?}");
    let pct = w[0].split("(+").nth(1).and_then(|t| t.split('%').next());
    let pct: f64 = pct.and_then(|p| p.parse().ok()).expect("a percentage");
    assert!(
        (25.0..35.0).contains(&pct),
        "about 30 % above the law: {w:?}"
    );
}

/// A loss typed 0.2 nats too high on one checkpoint of a grid pulls the fit enough to hide from the
/// outlier bound (review 13), but it lies above its size's run on fewer tokens, which is said; with
/// two such rows, each is named (review: "3 checkpoint(s)" beside one pair read as the only one).
#[test]
fn more_tokens_with_a_higher_loss_is_said() {
    let text = data_checkpoints();
    assert!(!fit_stderr(&text).contains("fewer tokens"));
    let line_of = |name: &str| text.lines().position(|l| l.starts_with(name)).unwrap();
    let with_typos = |typos: &[(usize, &str, &str)]| {
        let edited: Vec<String> = (text.lines().enumerate())
            .map(|(i, l)| match typos.iter().find(|t| t.0 == i) {
                Some((_, from, to)) => l.replace(from, to),
                None => l.to_owned(),
            })
            .collect();
        let edited = edited.join("\n") + "\n";
        assert_ne!(edited, text, "the rows to change were found");
        edited
    };
    let (d32, d16) = (line_of("d32-L2-t4096000,"), line_of("d16-L2-t2048000,"));
    let err = fit_stderr(&with_typos(&[(d32, ",1.76795904", ",1.96795904")]));
    let want = format!(
        "1 checkpoint(s) have a loss more than 1% above a checkpoint of the same size trained on fewer tokens (line {}: 1.9680 nats",
        d32 + 1
    );
    assert!(err.contains(&want), "{err}");
    let err = fit_stderr(&with_typos(&[
        (d32, ",1.76795904", ",1.96795904"),
        (d16, ",2.50538134", ",2.72538134"),
    ]));
    let want = format!(
        "2 checkpoint(s) have a loss more than 1% above a checkpoint of the same size trained on fewer tokens (line {}: 2.7254 nats after 2.0480e6 tokens, above line {}: 2.6830",
        d16 + 1,
        d16
    );
    assert!(err.contains(&want), "{err}");
    let second = format!("; line {}: 1.9680 nats", d32 + 1);
    assert!(err.contains(&second), "{err}");
}

/// A row copied under another name agrees with its original to every digit, which two measured
/// models never do: said, naming both lines (review 14).
#[test]
fn a_row_copied_under_another_name_is_said() {
    let text = data_checkpoints();
    assert!(!fit_stderr(&text).contains("repeats line"));
    let third = text.lines().nth(3).unwrap();
    let (_, rest) = third.split_once(',').unwrap();
    let (_, rest) = rest.split_once(',').unwrap();
    let copied = format!("{text}copy,copy-run,{rest}\n");
    let lines = text.lines().count() + 1;
    let err = fit_stderr(&copied);
    assert!(
        err.contains(&format!(
            "line {lines} repeats line 4 in params, tokens and loss"
        )),
        "{err}"
    );
}

/// data/checkpoints.csv, the measured family edited by the tests above.
fn data_checkpoints() -> String {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/checkpoints.csv");
    std::fs::read_to_string(&src).unwrap()
}

/// `ceq fit` of a checkpoints file holding `text`, which must succeed: what it said on stderr.
fn fit_stderr(text: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let ck = dir.path().join("ck.csv");
    std::fs::write(&ck, text).unwrap();
    let mut c = crate::common::ceq();
    c.args(["fit", "--checkpoints", ck.to_str().unwrap()]);
    crate::common::succeeds(&mut c).1
}
