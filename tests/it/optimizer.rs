//! The multi-start optimiser: it finds known minima, and a start that fails keeps its best point.

use std::cell::Cell;

use ceq::fit::Solver;
use ceq::fit::multistart::{Evaluate, run_start};

/// A quadratic bowl centred at (1, −2, 3).
struct Bowl;
impl Evaluate for Bowl {
    fn eval(&self, t: &[f64], g: &mut [f64]) -> f64 {
        let c = [1.0, -2.0, 3.0];
        let mut f = 0.0;
        for i in 0..3 {
            f += (t[i] - c[i]).powi(2);
            g[i] = 2.0 * (t[i] - c[i]);
        }
        f
    }
}

/// Rosenbrock's valley (minimum 0 at (1, 1)): many iterations from (−1.5, 2).
struct Rosenbrock;
impl Evaluate for Rosenbrock {
    fn eval(&self, t: &[f64], g: &mut [f64]) -> f64 {
        let (x, y) = (t[0], t[1]);
        g[0] = -2.0 * (1.0 - x) - 400.0 * x * (y - x * x);
        g[1] = 200.0 * (y - x * x);
        (1.0 - x).powi(2) + 100.0 * (y - x * x).powi(2)
    }
}

/// Rosenbrock, but it returns NaN from the `fail_after`-th evaluation on, as a broken line search
/// would see it.
struct Breaks {
    calls: Cell<usize>,
    fail_after: usize,
}
impl Evaluate for Breaks {
    fn eval(&self, t: &[f64], g: &mut [f64]) -> f64 {
        self.calls.set(self.calls.get() + 1);
        let f = Rosenbrock.eval(t, g);
        if self.calls.get() > self.fail_after {
            f64::NAN
        } else {
            f
        }
    }
}

#[test]
fn converges_on_a_bowl() {
    let r = run_start(&Bowl, &[10.0, 10.0, 10.0], 0, &Solver::default());
    assert!(r.error.is_none(), "{:?}", r.error);
    assert!(r.objective < 1e-18, "objective {}", r.objective);
    for (a, b) in r.theta.iter().zip([1.0, -2.0, 3.0]) {
        assert!((a - b).abs() < 1e-9);
    }
}

#[test]
fn a_failed_start_keeps_its_best_point() {
    let start = [-1.5, 2.0];
    let mut g = [0.0; 2];
    let f0 = Rosenbrock.eval(&start, &mut g);
    let full = run_start(&Rosenbrock, &start, 0, &Solver::default());
    assert!(
        full.error.is_none() && full.evals > 20 && full.objective < 1e-12,
        "{full:?}"
    );
    let obj = Breaks {
        calls: Cell::new(0),
        fail_after: 12,
    };
    let r = run_start(&obj, &start, 0, &Solver::default());
    assert!(r.error.is_some(), "the start should have failed: {r:?}");
    assert!(r.objective.is_finite());
    assert!(
        r.objective < f0,
        "best {} is no better than the start {f0}",
        r.objective
    );
    let mut g = [0.0; 2];
    assert_eq!(
        Rosenbrock.eval(&r.theta, &mut g),
        r.objective,
        "reported θ and objective disagree"
    );
}
