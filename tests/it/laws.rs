//! The laws' closed forms against independent numerics: inverse ∘ forward = identity, and the
//! frontier formula against a numerical minimisation of L(N, C/6N).

use ceq::law::{Chinchilla, ComputeLaw, RunInfo, RunLaw};
use proptest::prelude::*;

use crate::common::close;

/// Golden-section search for the minimum of f on [lo, hi] (independent of ceq's closed form).
fn golden_min(f: impl Fn(f64) -> f64, mut lo: f64, mut hi: f64) -> f64 {
    let g = (5f64.sqrt() - 1.0) / 2.0;
    for _ in 0..200 {
        let a = hi - g * (hi - lo);
        let b = lo + g * (hi - lo);
        if f(a) < f(b) { hi = b } else { lo = a }
    }
    (lo + hi) / 2.0
}

fn chinchilla() -> impl Strategy<Value = Chinchilla> {
    (
        1.0..3.0f64,
        1.0..8.0f64,
        0.1..0.7f64,
        1.0..9.0f64,
        0.1..0.7f64,
    )
        .prop_map(|(e, la, alpha, lb, beta)| Chinchilla {
            e,
            a: 10f64.powf(la),
            alpha,
            b: 10f64.powf(lb),
            beta,
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn chinchilla_frontier_inverse_is_identity(law in chinchilla(), lc in 15.0..28.0f64) {
        let c = 10f64.powf(lc);
        let l = law.frontier_loss(c);
        // Near the floor, L − E underflows relative to E; the inverse cannot be exact there.
        prop_assume!((l - law.e) / law.e > 1e-6);
        let back = law.frontier_compute(l).unwrap();
        prop_assert!(close(back, c, 1e-6), "C {c:e} → L {l} → C {back:e}");
    }

    #[test]
    fn frontier_equals_numerical_minimum(law in chinchilla(), lc in 15.0..28.0f64) {
        let c = 10f64.powf(lc);
        let f = |ln_n: f64| { let n = ln_n.exp(); law.loss(n, c / (6.0 * n)) };
        // A bracket of e^±15 around the closed form's N_opt; the search inside it is independent.
        let centre = law.n_opt(c).ln();
        let ln_n = golden_min(f, centre - 15.0, centre + 15.0);
        let numeric = f(ln_n);
        prop_assert!(close(law.frontier_loss(c), numeric, 1e-10), "L*: closed {} numeric {}", law.frontier_loss(c), numeric);
        // The minimum is flat, so N_opt is known only to ~sqrt(machine eps).
        prop_assert!(close(law.n_opt(c), ln_n.exp(), 1e-4), "N_opt: closed {:e} numeric {:e}", law.n_opt(c), ln_n.exp());
        prop_assert!(close(law.n_opt(c) * law.d_opt(c) * 6.0, c, 1e-12));
    }

    #[test]
    fn compute_and_run_inverse_are_identity(e in 1.0..3.0f64, la in 0.0..6.0f64, k in 0.02..0.8f64, lx in 6.0..28.0f64) {
        let x = 10f64.powf(lx);
        let c = ComputeLaw { e, a: 10f64.powf(la), alpha: k };
        let l = c.loss(x);
        prop_assume!((l - e) / e > 1e-6);
        prop_assert!(close(c.compute_for(l).unwrap(), x, 1e-6));
        let r = RunLaw { e, b: 10f64.powf(la), beta: k, info: RunInfo::default() };
        prop_assert!(close(r.tokens_for(r.loss(x)).unwrap(), x, 1e-6));
    }

    #[test]
    fn below_the_floor_has_no_compute(law in chinchilla(), d in 0.0..1.0f64) {
        prop_assert!(law.frontier_compute(law.e - d).is_none());
    }
}

#[test]
fn frontier_matches_published_check_values() {
    // Epoch's Huber-sum minimum (REFERENCE_FITS.md, "Check values"): a = 0.5139, G = 0.11321,
    // N_opt(5.76e23) = 7.32e10, D/N = 17.9, L*(1e21) = 2.3045.
    let l = Chinchilla {
        e: 1.81724,
        a: 477.84,
        alpha: 0.347313,
        b: 2143.86,
        beta: 0.367183,
    };
    assert!(close(l.beta / (l.alpha + l.beta), 0.5139, 1e-3));
    assert!(close(l.g(), 0.11321, 1e-3));
    assert!(close(l.n_opt(5.76e23), 7.32e10, 2e-3));
    assert!(close(l.d_opt(5.76e23) / l.n_opt(5.76e23), 17.9, 3e-3));
    assert!(close(l.frontier_loss(1e21), 2.3045, 1e-4));
}

/// A Chinchilla mapping is `extrapolated` exactly when the compute-equivalent of ce_clean or
/// ce_spliced, or the compute-optimal N and D there (found here by numerical minimisation of
/// L(N, C/6N), not ceq's closed form), lies outside the fitted checkpoints' range.
#[test]
fn chinchilla_status_checks_compute_and_the_frontiers_n_and_d() {
    use crate::common::{ceq, data, stdout_json};
    let law = stdout_json(
        ceq()
            .args(["fit", "--format", "json", "--checkpoints"])
            .arg(data("checkpoints.csv")),
    );
    let p = |k: &str| law["params"][k].as_f64().unwrap();
    let (e, a, b, alpha, beta) = (p("E"), p("A"), p("B"), p("alpha"), p("beta"));
    let range = |k: &str| {
        let r = &law["fit"]["ranges"][k];
        (r[0].as_f64().unwrap(), r[1].as_f64().unwrap())
    };
    let loss = |n: f64, d: f64| e + a / n.powf(alpha) + b / d.powf(beta);
    // Compute where the frontier reaches `l`: bisection on log C of min_N L(N, C/6N).
    let frontier_n =
        |c: f64| golden_min(|ln| loss(ln.exp(), c / (6.0 * ln.exp())), 0.0, 60.0).exp();
    let frontier_loss = |c: f64| {
        let n = frontier_n(c);
        loss(n, c / (6.0 * n))
    };
    let compute_at = |l: f64| {
        let (mut lo, mut hi) = (1e3f64.ln(), 1e40f64.ln());
        for _ in 0..200 {
            let mid = (lo + hi) / 2.0;
            if frontier_loss(mid.exp()) > l {
                lo = mid
            } else {
                hi = mid
            }
        }
        ((lo + hi) / 2.0).exp()
    };
    let inside = |x: f64, (lo, hi): (f64, f64)| x >= lo * (1.0 - 1e-6) && x <= hi * (1.0 + 1e-6);
    let rows = stdout_json(
        ceq()
            .args(["map", "--format", "json", "--checkpoints"])
            .arg(data("checkpoints.csv"))
            .arg("--splices")
            .arg(data("splices.csv")),
    );
    let mut seen = std::collections::BTreeSet::new();
    for r in rows.as_array().unwrap() {
        let ok = ["ce_clean", "ce_spliced"].iter().all(|k| {
            let c = compute_at(r[*k].as_f64().unwrap());
            let n = frontier_n(c);
            inside(c, range("compute"))
                && inside(n, range("params"))
                && inside(c / (6.0 * n), range("tokens"))
        });
        let want = if ok { "ok" } else { "extrapolated" };
        assert_eq!(r["status"], want, "{}: {}", r["name"], r["status_detail"]);
        seen.insert(want);
    }
    assert_eq!(
        seen.len(),
        2,
        "the fixture has rows inside and outside the range"
    );
}
