//! Intervals that include the CEs' measurement noise (issue 12), against truth drawn in the test code:
//! families from a known Chinchilla law, splices whose true CEs sit at a known true compute fraction,
//! observed with noise of known SEs.

use std::path::Path;

use ceq::equivalence::{IntervalSpec, map_splice};
use ceq::fit::Ranges;
use ceq::law::{Chinchilla, ComputeLaw, Law, RunInfo, RunLaw};
use ceq::law_file::LawFile;
use ceq::pipeline::FitSpec;
use ceq::table::{CeErrors, Splice, read_splices_csv};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::common::{TRUE_LAW, ceq, family_csv, map_json, normal, stdout_json, write};

/// The true law's compute-optimal frontier, by its closed form written out here (not ceq's):
/// L*(C) = E + K6·(C/6)^(−γ), K6 = A·G^(−α) + B·G^β, G = (αA/(βB))^(1/(α+β)).
fn k6(l: &Chinchilla) -> f64 {
    let g = (l.alpha * l.a / (l.beta * l.b)).powf(1.0 / (l.alpha + l.beta));
    l.a * g.powf(-l.alpha) + l.b * g.powf(l.beta)
}
fn gamma(l: &Chinchilla) -> f64 {
    l.alpha * l.beta / (l.alpha + l.beta)
}
fn true_loss(c: f64) -> f64 {
    TRUE_LAW.e + k6(&TRUE_LAW) * (c / 6.0).powf(-gamma(&TRUE_LAW))
}
/// C*(L), +∞ at or below E.
fn true_compute(loss: f64) -> f64 {
    let r = loss - TRUE_LAW.e;
    if r <= 0.0 {
        return f64::INFINITY;
    }
    6.0 * (r / k6(&TRUE_LAW)).powf(-1.0 / gamma(&TRUE_LAW))
}

/// The measurement noise of the synthetic evals: SE of ce_clean and of the difference 0.01 nats
/// each, correlated (ρ = 0.3), with the matching se_ce_spliced.
const SE_CLEAN: f64 = 0.01;
const SE_DELTA: f64 = 0.01;
const RHO: f64 = 0.3;
fn se_spliced() -> f64 {
    (SE_CLEAN * SE_CLEAN + SE_DELTA * SE_DELTA + 2.0 * RHO * SE_CLEAN * SE_DELTA).sqrt()
}
/// One draw of the errors of (ce_clean, ce_spliced − ce_clean).
fn draw_noise(rng: &mut ChaCha8Rng) -> (f64, f64) {
    let (z1, z2) = (normal(rng), normal(rng));
    (
        SE_CLEAN * z1,
        SE_DELTA * (RHO * z1 + (1.0 - RHO * RHO).sqrt() * z2),
    )
}

/// A synthetic splice: its true compute fraction and its observed CEs.
struct Case {
    f_true: f64,
    ce_clean: f64,
    ce_spliced: f64,
}

/// A host on the true frontier at 3e18–3e20 FLOPs, a true fraction of 0.05–0.5 (both log-uniform),
/// and the observed CEs, drawn from the true noise.
fn draw_case(rng: &mut ChaCha8Rng) -> Case {
    let c_clean = 3e18 * 100f64.powf(rng.random::<f64>());
    let f_true = 0.05 * 10f64.powf(rng.random::<f64>());
    let (l_clean, l_spliced) = (true_loss(c_clean), true_loss(f_true * c_clean));
    let (e_c, e_d) = draw_noise(rng);
    Case {
        f_true,
        ce_clean: l_clean + e_c,
        ce_spliced: l_spliced + e_c + e_d,
    }
}

/// The oracle: the central 90 % of the fractions the true law gives the observed CEs moved by draws
/// of the true noise — what one would report knowing the law exactly and the noise's distribution
/// (and its shape, not only its SEs). Monte Carlo, 4000 draws.
fn oracle(c: &Case, rng: &mut ChaCha8Rng) -> (f64, f64) {
    let v: Vec<f64> = (0..4000)
        .map(|_| {
            let (e_c, e_d) = draw_noise(rng);
            let clean = c.ce_clean + e_c;
            true_compute(c.ce_spliced + e_c + e_d) / true_compute(clean)
        })
        .collect();
    ceq::fit::percentile_interval(&v, 0.9).unwrap()
}

fn splices_csv(cases: &[Case], with_se: bool) -> String {
    let mut s = String::from("name,ce_clean,ce_spliced");
    if with_se {
        s += ",se_ce_clean,se_ce_spliced,se_delta,n_tokens";
    }
    s += "\n";
    for (i, c) in cases.iter().enumerate() {
        s += &format!("s{i},{},{}", c.ce_clean, c.ce_spliced);
        if with_se {
            s += &format!(",{SE_CLEAN},{},{SE_DELTA},20000", se_spliced());
        }
        s += "\n";
    }
    s
}

/// The families' log-normal noise: 0.5 % of the loss (about 0.015 nats), where the CEs' 0.01 nats
/// matter (intervals of the law's refits alone cover about 75 %, as the issue found). At 1 %
/// (`CEQ_INTERVALS_FAMILY_NOISE=0.01`) the law's refits dominate: coverage 0.93–0.96 and 2.5–2.7×
/// the oracle's width, because the refits' intervals alone already over-cover there (0.95–1.0 with
/// exact CEs) — a property of the law's bootstrap, not of the CE noise.
fn fam_noise() -> f64 {
    env_or("CEQ_INTERVALS_FAMILY_NOISE", 0.005)
}

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

/// A chinchilla law fitted to `family_csv(TRUE_LAW, fam_noise(), seed)` with `refits` bootstrap refits.
fn fitted(dir: &Path, seed: u64, refits: usize) -> LawFile {
    let ck = write(
        dir,
        &format!("ck{seed}.csv"),
        &family_csv(&TRUE_LAW, fam_noise(), seed),
    );
    FitSpec {
        bootstrap: refits,
        seed,
        ..FitSpec::new(ck, "synthetic")
    }
    .validate()
    .unwrap()
    .run(&|_| {})
    .unwrap()
}

/// Coverage of the nominal 90 % intervals of `compute_fraction`, with and without the CEs' SEs,
/// over `families` fitted families × `per_family` splices each; and the mean and median of our
/// width over the oracle's. The family's noise is shared by its splices, so the families are
/// several (each fit is reused by its splices: the splices' noise is independent of the family's).
struct Coverage {
    with_noise: f64,
    law_only: f64,
    oracle: f64,
    mean_ratio: f64,
    median_ratio: f64,
    per_family: Vec<f64>,
}

fn coverage(seed: u64, families: u64, per_family: usize, refits: usize) -> Coverage {
    let dir = tempfile::tempdir().unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let (mut hit, mut hit_law, mut hit_oracle, mut n) = (0, 0, 0, 0);
    let mut ratios = vec![];
    let mut fam_cov = vec![];
    for fam in 0..families {
        let lf = fitted(dir.path(), seed * 1000 + fam, refits);
        let cases: Vec<Case> = (0..per_family).map(|_| draw_case(&mut rng)).collect();
        let read = |with_se: bool| {
            let p = write(dir.path(), "sp.csv", &splices_csv(&cases, with_se));
            ceq::map::map(&lf, read_splices_csv(&p).unwrap()).unwrap()
        };
        let (noisy, law_only) = (read(true), read(false));
        let mut fam_hit = 0;
        for ((c, m), m0) in cases.iter().zip(&noisy.rows).zip(&law_only.rows) {
            let (lo, hi) = m.ci.unwrap().fraction.unwrap();
            let (lo0, hi0) = m0.ci.unwrap().fraction.unwrap();
            let (olo, ohi) = oracle(c, &mut rng);
            let inside = lo <= c.f_true && c.f_true <= hi;
            hit += inside as usize;
            fam_hit += inside as usize;
            hit_law += (lo0 <= c.f_true && c.f_true <= hi0) as usize;
            hit_oracle += (olo <= c.f_true && c.f_true <= ohi) as usize;
            ratios.push((hi - lo) / (ohi - olo));
            n += 1;
        }
        fam_cov.push(fam_hit as f64 / cases.len() as f64);
    }
    ratios.sort_by(f64::total_cmp);
    Coverage {
        with_noise: hit as f64 / n as f64,
        law_only: hit_law as f64 / n as f64,
        oracle: hit_oracle as f64 / n as f64,
        mean_ratio: ratios.iter().sum::<f64>() / n as f64,
        median_ratio: ratios[n / 2],
        per_family: fam_cov,
    }
}

/// 16 fitted families (200 refits each) × 25 splices = 400 cases, each splice's CEs observed with
/// their own noise. `CEQ_INTERVALS_SEED=k` reruns it on other draws (seeds 1–6 gave coverage
/// 0.907–0.930, law refits only 0.72–0.79, width over the oracle's 1.5–1.6 on the mean); add
/// `-- --nocapture` to see the numbers.
#[test]
fn noisy_splices_nominal_90_percent_intervals_cover_85_to_95_percent() {
    let seed = env_or("CEQ_INTERVALS_SEED", 1);
    let c = coverage(seed, 16, 25, 200);
    eprintln!(
        "seed {seed}: coverage {:.3} (law refits only {:.3}, oracle {:.3}); width / oracle: mean {:.2}, \
         median {:.2}; per family {:?}",
        c.with_noise, c.law_only, c.oracle, c.mean_ratio, c.median_ratio, c.per_family
    );
    assert!(
        (0.85..=0.95).contains(&c.with_noise),
        "coverage {}",
        c.with_noise
    );
    assert!(c.mean_ratio <= 2.0, "mean width ratio {}", c.mean_ratio);
    assert!(
        c.median_ratio >= 1.0 - 0.05,
        "narrower than the oracle: {}",
        c.median_ratio
    );
    // The test has teeth: the same intervals without the CEs' noise would fail it.
    assert!(c.law_only < 0.85, "law-only coverage {}", c.law_only);
}

/// A compute law and ranges for the delta-method checks; the law is the truth, so the delta method
/// (the law taken as exact) is the whole uncertainty.
const LAW: ComputeLaw = ComputeLaw {
    e: 1.8,
    a: 60.0,
    alpha: 0.08,
};
const RANGES: Ranges = Ranges {
    loss: (2.0, 5.0),
    compute: (1e15, 1e25),
    params: (1e7, 1e11),
    tokens: (1e8, 1e13),
};

fn splice(clean: f64, spliced: f64, se: CeErrors) -> Splice {
    Splice {
        name: "s".into(),
        ce_clean: clean,
        ce_spliced: spliced,
        ce_zero_ablation: None,
        ce_mean_ablation: None,
        params: None,
        tokens: None,
        compute: None,
        compute_given: false,
        counts: Default::default(),
        raw: vec![],
        line: 2,
        se,
    }
}

fn errors(n_tokens: f64) -> CeErrors {
    CeErrors {
        se_ce_clean: Some(SE_CLEAN),
        se_ce_spliced: Some(se_spliced()),
        se_delta: Some(SE_DELTA),
        n_tokens: Some(n_tokens),
    }
}

fn delta_spec(level: f64) -> IntervalSpec<'static> {
    IntervalSpec {
        refits: None,
        level,
        seed: 0,
        ce_noise: true,
        joint: None,
    }
}

#[test]
fn delta_method_covers_under_the_true_law() {
    let law = Law::Compute(LAW);
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let c_true = |l: f64| ((l - LAW.e) / LAW.a).powf(-1.0 / LAW.alpha);
    let (mut hit, mut ratios) = (0, vec![]);
    for _ in 0..400 {
        let l_clean = 2.6 + 0.6 * rng.random::<f64>();
        let l_spliced = l_clean + 0.02 + 0.2 * rng.random::<f64>();
        let f_true = c_true(l_spliced) / c_true(l_clean);
        let (e_c, e_d) = draw_noise(&mut rng);
        let s = splice(l_clean + e_c, l_spliced + e_c + e_d, errors(2e4));
        let m = map_splice(&law, &RANGES, &delta_spec(0.9), &s, 0);
        assert!(matches!(
            m.method,
            Some(ceq::equivalence::Method::DeltaMethod(_))
        ));
        let (lo, hi) = m.ci.unwrap().fraction.unwrap();
        hit += (lo <= f_true && f_true <= hi) as usize;
        // The oracle, by Monte Carlo under the true law around the observed CEs.
        let v: Vec<f64> = (0..2000)
            .map(|_| {
                let (a, b) = draw_noise(&mut rng);
                c_true(s.ce_spliced + a + b) / c_true(s.ce_clean + a)
            })
            .collect();
        let (olo, ohi) = ceq::fit::percentile_interval(&v, 0.9).unwrap();
        ratios.push((hi - lo) / (ohi - olo));
    }
    let cov = hit as f64 / 400.0;
    let mean = ratios.iter().sum::<f64>() / 400.0;
    eprintln!("delta method: coverage {cov:.3}, width / oracle mean {mean:.3}");
    assert!((0.85..=0.95).contains(&cov), "coverage {cov}");
    // With the law exact, the delta method is the oracle to first order.
    assert!((0.9..=1.1).contains(&mean), "width ratio {mean}");
}

#[test]
fn dlog_inverse_matches_a_central_difference() {
    let laws = [
        Law::Compute(LAW),
        Law::Chinchilla(TRUE_LAW),
        Law::Run(RunLaw {
            e: 2.1,
            b: 900.0,
            beta: 0.3,
            info: RunInfo::default(),
        }),
    ];
    for law in &laws {
        for l in [law.floor() + 0.05, law.floor() + 0.7, law.floor() + 2.0] {
            let h = 1e-5 * (l - law.floor());
            let fd =
                (law.inverse(l + h).unwrap().ln() - law.inverse(l - h).unwrap().ln()) / (2.0 * h);
            let an = law.dlog_inverse(l).unwrap();
            assert!(
                (an - fd).abs() <= 1e-6 * an.abs(),
                "{law:?} at {l}: {an} vs {fd}"
            );
        }
        assert_eq!(law.dlog_inverse(law.floor()), None);
    }
}

/// The planning number, checked by mapping again with the SEs it implies: the delta-method interval
/// is then ±10 % (relative half-width (hi − lo)/(2·f)).
#[test]
fn planning_number_gives_a_ten_percent_interval() {
    let law = Law::Compute(LAW);
    let n_now = 2e4;
    let s = splice(3.0, 3.05, errors(n_now));
    let m = map_splice(&law, &RANGES, &delta_spec(0.9), &s, 0);
    let n = m.tokens_for_target.unwrap();
    let (lo, hi) = m.ci.unwrap().fraction.unwrap();
    let f = m.eq.fraction.unwrap();
    assert!((hi - lo) / (2.0 * f) > 0.1, "already narrower than ±10 %");
    assert!(n > n_now);
    let k = (n_now / n).sqrt();
    let scaled = CeErrors {
        se_ce_clean: Some(SE_CLEAN * k),
        se_ce_spliced: Some(se_spliced() * k),
        se_delta: Some(SE_DELTA * k),
        n_tokens: Some(n),
    };
    let m2 = map_splice(
        &law,
        &RANGES,
        &delta_spec(0.9),
        &splice(3.0, 3.05, scaled),
        0,
    );
    let (lo, hi) = m2.ci.unwrap().fraction.unwrap();
    let half = (hi - lo) / (2.0 * f);
    assert!((half - 0.1).abs() < 1e-4, "half-width {half} at n = {n}");
    // Already there: the number is at most what was measured.
    assert!(m2.tokens_for_target.unwrap() <= n);
}

/// With refits, the law's own spread is held fixed and the noise shrinks: mapping again with the SEs
/// the number implies lands near ±10 % (the two add in quadrature only approximately); and a law
/// whose refits alone spread wider than ±10 % gets no number, and says why.
#[test]
fn planning_number_with_refits() {
    let law = Law::Compute(LAW);
    let refits: Vec<Law> = (0..400)
        .map(|i| {
            let u = (i as f64 + 0.5) / 400.0;
            Law::Compute(ComputeLaw {
                alpha: LAW.alpha * (1.0 + 0.004 * (u - 0.5)),
                ..LAW
            })
        })
        .collect();
    let spec = IntervalSpec {
        refits: Some(&refits),
        level: 0.9,
        seed: 4,
        ce_noise: true,
        joint: None,
    };
    let s = splice(3.0, 3.05, errors(2e4));
    let m = map_splice(&law, &RANGES, &spec, &s, 0);
    let n = m.tokens_for_target.expect("a number");
    let k = (2e4 / n).sqrt();
    let scaled = CeErrors {
        se_ce_clean: Some(SE_CLEAN * k),
        se_ce_spliced: Some(se_spliced() * k),
        se_delta: Some(SE_DELTA * k),
        n_tokens: Some(n),
    };
    let m2 = map_splice(&law, &RANGES, &spec, &splice(3.0, 3.05, scaled), 0);
    let (lo, hi) = m2.ci.unwrap().fraction.unwrap();
    let half = (hi - lo) / (2.0 * m2.eq.fraction.unwrap());
    assert!((0.08..0.12).contains(&half), "half-width {half} at n = {n}");

    let wide: Vec<Law> = (0..400)
        .map(|i| {
            let u = (i as f64 + 0.5) / 400.0;
            Law::Compute(ComputeLaw {
                alpha: LAW.alpha * (1.0 + 0.6 * (u - 0.5)),
                ..LAW
            })
        })
        .collect();
    let m = map_splice(
        &law,
        &RANGES,
        &IntervalSpec {
            refits: Some(&wide),
            ..spec
        },
        &s,
        0,
    );
    assert_eq!(m.tokens_for_target, None);
    assert!(m.detail.contains("no eval size makes"), "{}", m.detail);
}

fn map_csv(args: &[&str]) -> String {
    let out = ceq()
        .arg("map")
        .args(args)
        .args(["--format", "csv"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// One column of a CSV, by name.
fn column(csv: &str, name: &str) -> Vec<String> {
    let mut r = csv::Reader::from_reader(csv.as_bytes());
    let i = r
        .headers()
        .unwrap()
        .iter()
        .position(|h| h == name)
        .unwrap_or_else(|| panic!("no {name} in {csv}"));
    r.records().map(|x| x.unwrap()[i].to_owned()).collect()
}

#[test]
fn outputs_say_which_sources_and_the_same_seed_gives_the_same_bytes() {
    let d = tempfile::tempdir().unwrap();
    let ck = write(d.path(), "ck.csv", &family_csv(&TRUE_LAW, 0.01, 3));
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let cases: Vec<Case> = (0..4).map(|_| draw_case(&mut rng)).collect();
    let sp = write(d.path(), "sp.csv", &splices_csv(&cases, true));
    let bare = write(d.path(), "bare.csv", &splices_csv(&cases, false));
    let (ck, sp, bare) = (
        ck.to_str().unwrap(),
        sp.to_str().unwrap(),
        bare.to_str().unwrap(),
    );
    let boot = |seed: &str, splices: &str| {
        map_csv(&[
            "--checkpoints",
            ck,
            "--bootstrap",
            "40",
            "--seed",
            seed,
            "--splices",
            splices,
        ])
    };
    let a = boot("7", sp);
    assert_eq!(a, boot("7", sp), "same seed, other bytes");
    assert_ne!(a, boot("8", sp), "the seed changes nothing");
    for u in column(&a, "units") {
        assert!(
            u.contains(
                "law refits + CE measurement noise (se_ce_clean, se_delta, with se_ce_spliced"
            ),
            "{u}"
        );
    }
    assert!(
        column(&a, "n_tokens_for_10pct")
            .iter()
            .all(|v| v.parse::<f64>().is_ok())
    );
    // A count of positions: a JSON integer, as the CSV writes it (it was written as 336.0).
    let out = ceq()
        .args([
            "map",
            "--checkpoints",
            ck,
            "--bootstrap",
            "40",
            "--seed",
            "7",
        ])
        .args(["--splices", sp])
        .args(["--format", "json"])
        .output()
        .unwrap();
    let rows: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    for (r, csv) in rows.iter().zip(column(&a, "n_tokens_for_10pct")) {
        let n = &r["n_tokens_for_10pct"];
        assert!(
            n.as_u64().is_some_and(|v| v.to_string() == csv),
            "{n} against {csv}"
        );
    }
    // Through a saved law file: its seed fixes the draws.
    let law = crate::common::fit_to(
        d.path(),
        Path::new(ck),
        "law.json",
        &["--bootstrap", "40", "--seed", "7"],
    );
    let law = law.to_str().unwrap();
    assert_eq!(map_csv(&["--law", law, "--splices", sp]), a);

    let b = boot("7", bare);
    for u in column(&b, "units") {
        assert!(u.contains("law refits only"), "{u}");
    }
    assert!(!b.contains("n_tokens_for_10pct"));
    // Without refits: the delta method, named as such, and the lo/hi columns still there.
    let c = map_csv(&["--checkpoints", ck, "--splices", sp]);
    for u in column(&c, "units") {
        assert!(
            u.contains("delta method on CE measurement noise only"),
            "{u}"
        );
        assert!(u.contains("the law taken as exact"), "{u}");
    }
    assert!(
        column(&c, "compute_fraction_lo")
            .iter()
            .all(|v| v.parse::<f64>().is_ok())
    );
    let c = map_csv(&["--checkpoints", ck, "--splices", bare]);
    assert!(!c.contains("compute_fraction_lo"));
    // The terminal table's notes say it too.
    let out = ceq()
        .args(["map", "--checkpoints", ck, "--splices", sp])
        .output()
        .unwrap();
    let t = String::from_utf8(out.stdout).unwrap();
    assert!(
        t.contains("[lo, hi]: 90% normal intervals by the delta method"),
        "{t}"
    );
}

#[test]
fn a_negative_standard_error_is_refused_where_it_is() {
    let d = tempfile::tempdir().unwrap();
    let ck = write(d.path(), "ck.csv", &family_csv(&TRUE_LAW, 0.0, 1));
    let sp = write(
        d.path(),
        "sp.csv",
        "name,ce_clean,ce_spliced,se_ce_clean,se_delta\na,3.0,3.1,0.01,0.01\nb,3.0,3.1,0.01,-0.01\n",
    );
    let out = ceq()
        .args([
            "map",
            "--checkpoints",
            ck.to_str().unwrap(),
            "--splices",
            sp.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8(out.stderr).unwrap();
    for want in ["sp.csv:3", "'se_delta'", "negative"] {
        assert!(err.contains(want), "{want} not in {err}");
    }
}

/// The draws have the covariance the SEs imply: Var(clean) = se_c², Var(spliced − clean) = se_Δ²,
/// Var(spliced) = se_s² (empirically, 200k draws, within 2 %); with se_ce_clean and se_delta alone,
/// the difference keeps its own SE.
#[test]
fn ce_draws_have_the_covariance_the_ses_give() {
    use ceq::measurement::CeNoise;
    let full = CeNoise::of(&errors(2e4)).unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(2);
    let n = 200_000;
    let (mut vc, mut vs, mut vd) = (0.0, 0.0, 0.0);
    for _ in 0..n {
        let (c, s) = full.draw(&mut rng);
        vc += c * c;
        vs += s * s;
        vd += (s - c) * (s - c);
    }
    let n = n as f64;
    for (got, want) in [
        (vc / n, SE_CLEAN * SE_CLEAN),
        (vs / n, se_spliced() * se_spliced()),
        (vd / n, SE_DELTA * SE_DELTA),
    ] {
        assert!((got / want - 1.0).abs() < 0.02, "{got} vs {want}");
    }
    let two = CeNoise::of(&CeErrors {
        se_ce_spliced: None,
        ..errors(2e4)
    })
    .unwrap();
    assert!((two.var_delta() - SE_DELTA * SE_DELTA).abs() < 1e-15);
    assert!(two.sources.contains("uncorrelated"), "{}", two.sources);
    assert_eq!(CeNoise::of(&CeErrors::default()), None);
}

/// SEs a library caller sets by hand (the readers refuse them) give NaN or a clamped covariance,
/// never a panic: a NaN SE leaves NaN variances, a negative one counts by its size.
#[test]
fn hand_made_ses_that_readers_refuse_do_not_panic() {
    use ceq::measurement::CeNoise;
    let nan = CeNoise::of(&CeErrors {
        se_ce_clean: Some(f64::NAN),
        ..errors(2e4)
    })
    .unwrap();
    assert!(nan.var_clean.is_nan() && nan.variance_of(1.0, -1.0).is_nan());
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let (dc, ds) = nan.draw(&mut rng);
    assert!(
        dc.is_nan() && ds.is_nan(),
        "a NaN SE draws NaN, not an exact ce_clean"
    );
    // A NaN se_delta: NaN noise, not the perfect anti-correlation NaN.max(−m) made of it (review).
    let nan_delta = CeNoise::of(&CeErrors {
        se_delta: Some(f64::NAN),
        ..errors(2e4)
    })
    .unwrap();
    assert!(nan_delta.cov.is_nan() && nan_delta.var_delta().is_nan());
    // The same beside an exact ce_clean: its draw is NaN too, not ce_spliced's noise alone.
    let exact_clean = CeNoise::of(&CeErrors {
        se_ce_clean: Some(0.0),
        se_delta: Some(f64::NAN),
        ..errors(2e4)
    })
    .unwrap();
    let (dc, ds) = exact_clean.draw(&mut rng);
    assert!(dc.is_nan() && ds.is_nan(), "{dc} {ds}");
    let negative = CeNoise::of(&CeErrors {
        se_ce_clean: Some(-SE_CLEAN),
        ..errors(2e4)
    })
    .unwrap();
    let positive = CeNoise::of(&errors(2e4)).unwrap();
    assert!(negative.cov.abs() <= SE_CLEAN * se_spliced() * (1.0 + 1e-12));
    assert_eq!(negative.var_clean, positive.var_clean);
}

/// Refits whose floor E lies above the spliced loss reach it with no finite compute. They widen
/// every compute-scale interval alike, to an unbounded upper end that a note explains, rather than
/// drop out of the tokens, parameters and steps intervals while compute's runs to infinity.
#[test]
fn refits_beyond_the_floor_leave_every_compute_scale_interval_unbounded() {
    let run = |e: f64| {
        Law::Run(RunLaw {
            e,
            b: 900.0,
            beta: 0.3,
            info: RunInfo {
                run: None,
                params: Some(1e8),
                tokens_per_step: Some(2e6),
            },
        })
    };
    let chin = |e: f64| Law::Chinchilla(Chinchilla { e, ..TRUE_LAW });
    let s = splice(2.4, 2.05, CeErrors::default());
    for make in [&run as &dyn Fn(f64) -> Law, &chin] {
        // Floors from 1.9 to 2.09: the last four at or above ce_spliced = 2.05.
        let refits: Vec<Law> = (0..20).map(|i| make(1.9 + 0.01 * i as f64)).collect();
        let spec = IntervalSpec {
            refits: Some(&refits),
            level: 0.9,
            seed: 0,
            ce_noise: false,
            joint: None,
        };
        let m = map_splice(&make(1.95), &RANGES, &spec, &s, 0);
        let ci = m.ci.unwrap();
        let hi = |iv: Option<(f64, f64)>| iv.unwrap().1;
        assert!(hi(ci.compute).is_infinite());
        match make(2.0) {
            Law::Run(_) => {
                assert!(
                    hi(ci.tokens).is_infinite() && hi(ci.step).is_infinite(),
                    "{ci:?}"
                );
            }
            _ => assert!(
                hi(ci.tokens).is_infinite() && hi(ci.params).is_infinite(),
                "{ci:?}"
            ),
        }
        assert!(m.detail.contains("upper ends"), "{}", m.detail);
    }
}

/// A host whose clean loss lies inside the bootstrap range of the floor E: on the refits with E
/// above it, its own loss takes unbounded compute and the fraction is 0. The interval's lower end
/// is 0 and the row says why.
#[test]
fn a_zero_lower_end_of_the_fraction_is_explained() {
    let dir = tempfile::tempdir().unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let splices = write(
        dir.path(),
        "s.csv",
        "name,ce_clean,ce_spliced\nnear,1.40,1.90\n",
    );
    let v = stdout_json(
        ceq()
            .args([
                "map",
                "--format",
                "json",
                "--bootstrap",
                "200",
                "--checkpoints",
            ])
            .arg(root.join("data/checkpoints.csv"))
            .arg("--splices")
            .arg(&splices),
    );
    let row = &v[0];
    assert_eq!(row["compute_fraction_lo"].as_f64(), Some(0.0), "{row}");
    assert!(row["compute_fraction"].as_f64().unwrap() > 0.0);
    let detail = row["status_detail"].as_str().unwrap();
    assert!(
        detail.contains("the lower end of compute_fraction is 0")
            && detail.contains("put ce_clean at or below their floor E"),
        "{detail}"
    );
}

/// A bootstrap over whole runs with fewer than five runs (k runs give only C(2k−1, k) distinct
/// resamples) is warned of in the summary and the law file; five runs are not.
#[test]
fn a_bootstrap_over_few_runs_is_warned_of() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(crate::common::data("checkpoints.csv")).unwrap();
    let sizes = |k: usize| {
        let mut sizes: Vec<f64> = (text.lines().skip(1))
            .map(|l| l.split(',').nth(1).unwrap().parse().unwrap())
            .collect();
        sizes.sort_by(f64::total_cmp);
        sizes.dedup();
        let keep: Vec<f64> = sizes.iter().step_by(2).take(k).copied().collect();
        let mut out = String::from("name,run,params,tokens,loss\n");
        for l in text.lines().skip(1) {
            let f: Vec<&str> = l.split(',').collect();
            if keep.contains(&f[1].parse().unwrap()) {
                out += &format!("{},N{},{},{},{}\n", f[0], f[1], f[1], f[2], f[3]);
            }
        }
        out
    };
    for (k, distinct) in [(3, Some(10)), (5, None)] {
        let ck = write(dir.path(), &format!("runs{k}.csv"), &sizes(k));
        let law = dir.path().join(format!("law{k}.json"));
        let (_, err) = crate::common::succeeds(
            ceq()
                .args(["fit", "--bootstrap", "20", "--checkpoints"])
                .arg(&ck)
                .arg("--out")
                .arg(&law),
        );
        let lf: serde_json::Value = serde_json::from_slice(&std::fs::read(&law).unwrap()).unwrap();
        assert_eq!(lf["bootstrap"]["unit"], "run");
        let saved = lf["fit"]["warnings"].to_string();
        match distinct {
            Some(d) => {
                let want = format!("has only {k} ({d} distinct resamples)");
                assert!(
                    err.contains(&want) && saved.contains(&want),
                    "{err}\n{saved}"
                );
            }
            None => assert!(!err.contains("distinct resamples"), "{err}"),
        }
    }
}

/// Resamples of n checkpoints hold n!/n^n of the time all n distinct; the rest hold fewer, and with
/// as many points as a law has parameters plus one, every such resample fits exactly. When over 1 %
/// of them do, the fit says how many; a family of 70 checkpoints says nothing.
#[test]
fn resamples_with_no_more_points_than_parameters_are_counted() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(crate::common::data("checkpoints.csv")).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let four: String = [0, 1, 20, 40, 60]
        .iter()
        .map(|&i| format!("{}\n", lines[i]))
        .collect();
    let ck = write(dir.path(), "four.csv", &four);
    let n = 400;
    let (_, err) = crate::common::succeeds(
        ceq()
            .args(["fit", "--form", "compute", "--bootstrap", &n.to_string()])
            .arg("--checkpoints")
            .arg(&ck),
    );
    // P(a resample of 4 holds 3 or fewer) = 1 − 4!/4⁴: the family's share, from 20000 draws, and
    // the count among these 400, each binomial.
    let p: f64 = 1.0 - 24.0 / 256.0;
    let number_before = |end: &str, start: char| -> f64 {
        let at = err.find(end).expect(&err);
        err[..at].rsplit(start).next().unwrap().parse().unwrap()
    };
    let share = number_before("% of this family's bootstrap resamples", ' ') / 100.0;
    let sd = (p * (1.0 - p) / 20000.0).sqrt();
    assert!(
        (share - p).abs() < 5.0 * sd + 0.0005,
        "{share} vs {p}: {err}"
    );
    let thin = number_before(&format!(" of the {n} drawn here)"), '(');
    let (mean, sd) = (n as f64 * p, (n as f64 * p * (1.0 - p)).sqrt());
    assert!(
        (thin - mean).abs() < 5.0 * sd,
        "{thin} vs {mean} ± {sd}: {err}"
    );
    assert!(
        err.contains("hold 3 or fewer distinct checkpoints"),
        "{err}"
    );
    // The share is the family's; the count is this run's, and may be none (helper-89: "0 of these
    // 20" read as contradicting the share).
    let (_, err) = crate::common::succeeds(
        ceq()
            .args(["fit", "--bootstrap", "20", "--checkpoints"])
            .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("data/checkpoints.csv")),
    );
    assert!(
        err.contains(
            "an estimated 1.6% of this family's bootstrap resamples (from 20000 draws of their own)"
        ) && err.contains("(none of the 20 drawn here)"),
        "{err}"
    );
    // 70 checkpoints: none, whatever the seed.
    for seed in ["0", "1", "2"] {
        let (_, err) = crate::common::succeeds(
            ceq()
                .args(["fit", "--bootstrap", "50", "--seed", seed, "--checkpoints"])
                .arg(crate::common::data("checkpoints.csv")),
        );
        assert!(!err.contains("distinct checkpoints"), "{err}");
    }
}

/// With 2 refits, percentile intervals often miss their estimate: every compute-scale column whose
/// interval does says so in its row's status_detail (review: only compute_equivalent and
/// compute_fraction were checked; the other columns' misses went unsaid).
#[test]
fn every_interval_that_misses_its_estimate_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let law = dir.path().join("law.json");
    crate::common::succeeds(
        ceq()
            .args(["fit", "--bootstrap", "2", "--checkpoints"])
            .arg(crate::common::root("data/checkpoints.csv"))
            .arg("--out")
            .arg(&law),
    );
    let (v, _) = map_json(&law, &crate::common::root("data/splices.csv"));
    let cols = ceq::equivalence::SCALE_COLUMNS;
    let mut named = vec![];
    for row in v.as_array().unwrap() {
        let detail = row["status_detail"].as_str().unwrap_or("");
        for c in cols {
            let get = |k: String| row.get(&k).and_then(|x| x.as_f64());
            let (Some(x), Some(lo), Some(hi)) = (
                get(c.to_string()),
                get(format!("{c}_lo")),
                get(format!("{c}_hi")),
            ) else {
                continue;
            };
            let tol = 1e-9 * x.abs().max(lo.abs()).max(hi.abs());
            let misses = x < lo - tol || x > hi + tol;
            let said = detail.contains(&format!("the interval of {c} ["));
            assert_eq!(misses, said, "{c}: {x} in [{lo}, {hi}]? {detail}");
            if said {
                named.push(c);
            }
        }
    }
    assert!(
        named
            .iter()
            .any(|c| !["compute_equivalent", "compute_fraction"].contains(c)),
        "{named:?}"
    );
}

/// A splice just above the floor, where some refits put E above it: the refits alone spread its
/// compute_fraction without bound, and the planning note says so in words (it printed "±inf%").
#[test]
fn an_unbounded_law_spread_is_said_in_words() {
    let dir = tempfile::tempdir().unwrap();
    let law = dir.path().join("law.json");
    crate::common::succeeds(
        ceq()
            .args(["fit", "--bootstrap", "200", "--checkpoints"])
            .arg(crate::common::root("data/checkpoints.csv"))
            .arg("--out")
            .arg(&law),
    );
    let lf: serde_json::Value = serde_json::from_slice(&std::fs::read(&law).unwrap()).unwrap();
    let e = lf["params"]["E"].as_f64().unwrap();
    let text = format!(
        "name,n_tokens,ce_clean,ce_spliced,se_ce_clean,se_ce_spliced,se_delta\n\
         near,31744,1.5885,{},0.0103,0.0105,0.003\n",
        e + 0.009
    );
    let (v, _) = map_json(&law, &write(dir.path(), "s.csv", &text));
    let detail = v[0]["status_detail"].as_str().unwrap();
    assert!(
        detail.contains("the law's refits alone spread it without bound")
            && !detail.contains("inf%"),
        "{detail}"
    );
}

/// Delta-method intervals (a law without refits, splices with SEs) leave out the law's error, and
/// the map says so where the user reads it; refits' intervals do not get the warning.
#[test]
fn delta_method_intervals_warn_that_the_law_is_left_out() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let map = |extra: &[&str]| {
        crate::common::succeeds(
            ceq()
                .args(["map", "--checkpoints"])
                .arg(root.join("data/checkpoints.csv"))
                .arg("--splices")
                .arg(root.join("data/splices.csv"))
                .args(extra),
        )
        .1
    };
    let delta = map(&[]);
    assert!(
        delta.contains(
            "warning: the intervals of 24 splice(s) hold the CEs' measurement noise only"
        ),
        "{delta}"
    );
    assert!(
        delta.contains("most of all for params_equivalent"),
        "{delta}"
    );
    // A compute law has no params_equivalent to name.
    let compute = map(&["--form", "compute"]);
    assert!(
        compute.contains("noise only") && !compute.contains("params_equivalent"),
        "{compute}"
    );
    let refits = map(&["--bootstrap", "20"]);
    assert!(!refits.contains("noise only"), "{refits}");
}

/// The delta method linearises log-compute in the CE, which fails near the floor: a spliced CE
/// within z SEs of E could be at the floor, so its compute interval has no upper end, and the row
/// says why; one far from the floor keeps a finite interval.
#[test]
fn a_delta_interval_near_the_floor_is_open_ended() {
    let dir = tempfile::tempdir().unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let law = dir.path().join("law.json");
    crate::common::succeeds(
        ceq()
            .args(["fit", "--checkpoints"])
            .arg(root.join("data/checkpoints.csv"))
            .arg("--out")
            .arg(&law),
    );
    let lf: serde_json::Value = serde_json::from_slice(&std::fs::read(&law).unwrap()).unwrap();
    let e = lf["params"]["E"].as_f64().unwrap();
    let text = format!(
        "name,ce_clean,ce_spliced,se_ce_clean,se_ce_spliced,se_delta\n\
         near,{c},{n},0.01,0.014,0.01\nfar,{c},{f},0.01,0.014,0.01\n",
        c = e + 0.3,
        n = e + 0.005,
        f = e + 0.2
    );
    let splices = write(dir.path(), "s.csv", &text);
    let v = map_json(&law, &splices).0;
    let (near, far) = (&v[0], &v[1]);
    // JSON writes an infinite end as null; the point value is finite.
    assert!(near["compute_equivalent"].as_f64().unwrap().is_finite());
    for k in ["compute_equivalent", "compute_fraction"] {
        // An interval whose lower end is a number and whose upper end is unbounded.
        assert!(near[format!("{k}_lo")].as_f64().is_some(), "{near}");
        assert!(near[format!("{k}_hi")].is_null(), "{near}");
    }
    let detail = near["status_detail"].as_str().unwrap();
    assert!(
        detail.contains("ce_spliced lies within 1.645 standard errors of the floor E"),
        "{detail}"
    );
    assert!(
        far["compute_equivalent_hi"].as_f64().unwrap().is_finite(),
        "{far}"
    );
    assert!(
        !far["status_detail"]
            .as_str()
            .unwrap()
            .contains("standard errors of the floor")
    );
}

/// `ceq fit --format csv` names the interval level in its column names (a CSV has no units line), and
/// the columns hold the law file's intervals at that level; map's CSV says its level in `units`.
#[test]
fn fit_csv_names_the_interval_level() {
    let d = tempfile::tempdir().unwrap();
    let ck = write(d.path(), "ck.csv", &family_csv(&TRUE_LAW, 0.01, 3));
    for (ci, pct) in [(None, "90"), (Some("0.95"), "95"), (Some("0.975"), "97.5")] {
        let law = d.path().join(format!("law{pct}.json"));
        let mut fit = ceq();
        fit.arg("fit").arg("--checkpoints").arg(&ck);
        fit.args(["--bootstrap", "40", "--out"]).arg(&law);
        if let Some(ci) = ci {
            fit.args(["--ci", ci]);
        }
        fit.args(["--format", "csv"]);
        let out = fit.output().unwrap();
        assert!(out.status.success());
        let csv = String::from_utf8(out.stdout).unwrap();
        let header = csv.lines().next().unwrap();
        assert_eq!(
            header,
            format!("parameter,value,ci_lo_{pct},ci_hi_{pct},meaning,units")
        );
        // A CSV keeps no notes: every row says what its numbers mean (review 12a).
        for u in column(&csv, "units") {
            for want in [
                "losses in nats/token on eval set 'unspecified'",
                "N = total parameters",
                &format!("intervals: {pct}% bootstrap percentile intervals (40 resamples"),
            ] {
                assert!(u.contains(want), "{want} not in {u}");
            }
        }
        // The tables with notes say the same in a note (review 96: they said "bootstrap: 40
        // resamples of checkpoints", neither level nor percentile).
        let mut md = ceq();
        md.arg("fit").arg("--checkpoints").arg(&ck);
        md.args(["--bootstrap", "40", "--format", "markdown"]);
        if let Some(ci) = ci {
            md.args(["--ci", ci]);
        }
        let out = md.output().unwrap();
        let md = String::from_utf8(out.stdout).unwrap();
        let want = format!("- intervals: {pct}% bootstrap percentile intervals (40 resamples of ");
        assert!(
            md.lines().any(|l| l.starts_with(&want)),
            "{want} not in\n{md}"
        );
        // The figures' band says the same level, every digit of it.
        let figs = d.path().join(format!("figs{pct}"));
        let mut plot = ceq();
        plot.args(["plot", "--figure", "fit", "--law"]).arg(&law);
        plot.arg("--out-dir").arg(&figs).assert().success();
        let svg = std::fs::read_to_string(figs.join("fit.svg")).unwrap();
        let lf: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&law).unwrap()).unwrap();
        let b = &lf["bootstrap"];
        // The band says what it holds: the law's refits.
        let band = format!("{pct}% bootstrap band (law refits)");
        assert!(svg.lines().any(|l| l.trim() == band), "{band}");
        let level = b["level"].as_f64().unwrap();
        assert!((100.0 * level - pct.parse::<f64>().unwrap()).abs() < 1e-9);
        let params = column(&csv, "parameter");
        let lo = column(&csv, &format!("ci_lo_{pct}"));
        let hi = column(&csv, &format!("ci_hi_{pct}"));
        for (i, k) in params.iter().enumerate() {
            let want = &b["intervals"][k];
            assert_eq!(
                lo[i].parse::<f64>().unwrap(),
                want[0].as_f64().unwrap(),
                "{k}"
            );
            assert_eq!(
                hi[i].parse::<f64>().unwrap(),
                want[1].as_f64().unwrap(),
                "{k}"
            );
        }
        // Map's CSV keeps the `_lo`/`_hi` names of its schema; each row's `units` says the level.
        let sp = write(
            d.path(),
            "sp.csv",
            "name,params,tokens,ce_clean,ce_spliced\ns,1e8,2e9,3.1,3.3\n",
        );
        let mapped = map_csv(&[
            "--law",
            law.to_str().unwrap(),
            "--splices",
            sp.to_str().unwrap(),
        ]);
        assert!(
            column(&mapped, "units")[0].contains(&format!("intervals: {pct}% bootstrap")),
            "{mapped}"
        );
        assert!(!column(&mapped, "compute_fraction_lo")[0].is_empty());
    }
}

/// Refits whose floor E lies above both CEs leave the compute-equivalents undefined; the interval
/// over the other refits is said in every output, with the count status_detail gives (review 10).
#[test]
fn intervals_over_part_of_the_refits_are_said() {
    let d = tempfile::tempdir().unwrap();
    // data/'s fitted E is 1.311, its refits' 90 % interval reaching 1.422: a host at 1.35 nats
    // is at or below the floor of some refits.
    let sp = write(
        d.path(),
        "sp.csv",
        "name,ce_clean,ce_spliced\nnear,1.35,1.36\nfar,1.6,1.7\nunder,1.0,1.05\n",
    );
    let out = ceq()
        .args([
            "map",
            "--bootstrap",
            "100",
            "--format",
            "json",
            "--checkpoints",
        ])
        .arg(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data/checkpoints.csv"))
        .arg("--splices")
        .arg(&sp)
        .output()
        .unwrap();
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(out.status.success(), "{err}");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let detail = v[0]["status_detail"].as_str().unwrap();
    let used = detail
        .split("intervals from ")
        .nth(1)
        .and_then(|r| r.split(' ').next())
        .expect(detail);
    assert!(used.parse::<usize>().unwrap() < 100, "{detail}");
    let far = v[1]["status_detail"].as_str().unwrap();
    assert!(!far.contains("intervals from"), "{far}");
    // Below the fit's floor there is no interval to speak of (review 10c).
    let under = v[2]["status_detail"].as_str().unwrap();
    assert!(v[2]["compute_fraction_lo"].is_null(), "{}", v[2]);
    assert!(!under.contains("intervals from"), "{under}");
    let said = format!(
        "the compute_fraction and log10_compute_ratio intervals of 1 splice(s) are over only the refits whose floor E lies below the higher of ce_clean and ce_spliced (fewest: {used} of 100 refits, 'near')"
    );
    assert!(err.contains(&said), "{err}");
}

/// The host's own numbers, which compute_fraction_of_actual divides by, are checked against the
/// fitted ones (review 10c: params in millions gave 1.19e-7 with status ok; below 1 they are now
/// refused, so thousands here), and a host better
/// than the law's frontier is said to be why the fraction can pass 1.
#[test]
fn hosts_outside_the_fit_or_above_its_frontier_are_said() {
    let d = tempfile::tempdir().unwrap();
    let sp = write(
        d.path(),
        "sp.csv",
        "name,params,tokens,ce_clean,ce_spliced\n\
         thousands,61.248,4096000,1.64,1.70\n\
         better,61248,1024000,1.60,1.62\n\
         plain,61248,4096000,1.64,1.70\n",
    );
    let ck = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data/checkpoints.csv");
    let law = crate::common::fit_to(d.path(), &ck, "law.json", &[]);
    let v = map_json(&law, &sp).0;
    let detail = |i: usize| v[i]["status_detail"].as_str().unwrap().to_owned();
    assert_eq!(v[0]["status"], "extrapolated", "{}", detail(0));
    assert!(
        detail(0).contains(
            "the host's parameter count 6.125e1 is 133x below the smallest fitted (8.128e3)"
        ) && detail(0).contains("are its units those of the checkpoints file?"),
        "{}",
        detail(0)
    );
    let fa = v[1]["compute_fraction_of_actual"].as_f64().unwrap();
    assert!(fa > 1.0, "{fa}");
    assert!(
        detail(1).contains("the host is better than the law's frontier"),
        "{}",
        detail(1)
    );
    assert!(!detail(2).contains("host"), "{}", detail(2));
}

/// A standard error of 0 is warned of (review 12b: zero-width intervals passed as measured).
#[test]
fn a_standard_error_of_zero_is_warned_of() {
    let d = tempfile::tempdir().unwrap();
    let law = crate::common::fit_to(
        d.path(),
        std::path::Path::new(&crate::common::data("checkpoints.csv")),
        "law.json",
        &[],
    );
    let sp = write(
        d.path(),
        "sp.csv",
        "name,ce_clean,ce_spliced,se_ce_clean,se_delta\na,3.0,3.1,0.01,0.01\nb,3.0,3.2,0,0.01\n",
    );
    let (_, err) = crate::common::map_json(&law, &sp);
    assert!(
        err.contains("1 splice(s) ('b') give a standard error of 0"),
        "{err}"
    );
    let sp = write(
        d.path(),
        "ok.csv",
        "name,ce_clean,ce_spliced,se_ce_clean,se_delta\na,3.0,3.1,0.01,0.01\n",
    );
    let (_, err) = crate::common::map_json(&law, &sp);
    assert!(!err.contains("standard error of 0"), "{err}");
}

/// A fraction's percentile interval and its −log10's are one interval, also where some refits give
/// a fraction of 0 (ratio ∞): linear interpolation put the fraction's lower end at 0.0294, a value
/// no refit gave, beside a ratio of ∞ (review); on the ratio scale it is 0.
#[test]
fn a_fraction_and_its_log_ratio_have_one_interval() {
    use ceq::fit::{percentile_interval, ratio_percentile_interval};
    let fractions: Vec<f64> = (0..94)
        .map(|i| if i < 5 { 0.0 } else { 0.3 + 0.005 * i as f64 })
        .collect();
    let ratios: Vec<f64> = fractions.iter().map(|f| -f.log10()).collect();
    let (lo, hi) = ratio_percentile_interval(&fractions, 0.9).unwrap();
    let (rlo, rhi) = percentile_interval(&ratios, 0.9).unwrap();
    assert_eq!((lo, rhi), (0.0, f64::INFINITY));
    assert!((hi - 10f64.powf(-rlo)).abs() < 1e-12 * hi, "{hi} vs {rlo}");
    // Without zeros, geometric interpolation: the same percentile of the logs.
    let positive = &fractions[5..];
    let logs: Vec<f64> = positive.iter().map(|f| f.ln()).collect();
    let (glo, ghi) = ratio_percentile_interval(positive, 0.9).unwrap();
    let (llo, lhi) = percentile_interval(&logs, 0.9).unwrap();
    assert!((glo - llo.exp()).abs() < 1e-12 && (ghi - lhi.exp()).abs() < 1e-12);
    // An ∞ above stays ∞; negative values are no ratios and are left out.
    let (_, top) = ratio_percentile_interval(&[1.0, 2.0, f64::INFINITY], 0.9).unwrap();
    assert_eq!(top, f64::INFINITY);
    assert_eq!(ratio_percentile_interval(&[-1.0], 0.9), None);
    // 101 refits, 5 of them 0: the 5th percentile is the 6th value, 0.03, exactly as numpy's
    // percentile(…, 5) takes it, not 0 from a position of 4.999… (review).
    let mut of_101: Vec<f64> = (0..96).map(|i| 0.03 + 0.01 * i as f64).collect();
    of_101.extend([0.0; 5]);
    let (lo, _) = ratio_percentile_interval(&of_101, 0.9).unwrap();
    assert_eq!(lo, 0.03);
    let ratios: Vec<f64> = of_101.iter().map(|f| -f.log10()).collect();
    let (_, rhi) = percentile_interval(&ratios, 0.9).unwrap();
    assert!((rhi + 0.03f64.log10()).abs() < 1e-12, "{rhi}");
    // Refits whose spliced CE falls to the law's floor: fractions of ∞, ratios of −∞, whose
    // interval is −∞ where the fraction's is ∞, not −∞ + ∞ = NaN (review).
    let mut with_inf: Vec<f64> = (0..90).map(|i| 0.3 + 0.005 * i as f64).collect();
    with_inf.extend([f64::INFINITY; 10]);
    let ratios: Vec<f64> = with_inf.iter().map(|f| -f.log10()).collect();
    let (_, hi) = ratio_percentile_interval(&with_inf, 0.9).unwrap();
    let (rlo, _) = percentile_interval(&ratios, 0.9).unwrap();
    assert_eq!((hi, rlo), (f64::INFINITY, f64::NEG_INFINITY));
}
