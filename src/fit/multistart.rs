//! L-BFGS (argmin, More–Thuente line search) from every start of a grid, in parallel; the best fit is
//! kept. The objective tracks the best point it has evaluated, so a start whose line search fails
//! (argmin then returns an error without its state) still reports where it got to.

use std::cell::{Cell, RefCell};

use argmin::core::{
    CostFunction, Error as ArgminError, Executor, Gradient, IterState, State, TerminationReason,
};
use argmin::solver::linesearch::MoreThuenteLineSearch;
use argmin::solver::quasinewton::LBFGS;
use rayon::prelude::*;

use super::huber::Objective;
use super::{Progress, Stage};

/// Optimiser settings. The defaults converge to machine precision in the objective;
/// [`Solver::screen`] stops earlier, for the grid, whose best few starts are then polished.
#[derive(Clone, Copy, Debug)]
pub struct Solver {
    pub max_iters: u64,
    /// L-BFGS memory.
    pub memory: usize,
    pub tol_grad: f64,
    /// Absolute change in the objective below which a start stops.
    pub tol_cost: f64,
}

impl Default for Solver {
    fn default() -> Self {
        Solver {
            max_iters: 1000,
            memory: 10,
            tol_grad: 1e-10,
            // Stop on the gradient, or when the line search can make no more progress; not on a small
            // change in the objective, whose scale depends on the data.
            tol_cost: 0.0,
        }
    }
}

impl Solver {
    /// These tolerances for Huber threshold `delta`. They are absolute, set for δ = 1e-3; a residual
    /// beyond δ weighs δ·|r|, so below that the objective and its gradient shrink with δ, and so
    /// must they (else a start stops where it began: δ = 1e-12 returned a grid start as the fit).
    pub fn at_delta(self, delta: f64) -> Solver {
        let s = (delta / 1e-3).min(1.0);
        Solver {
            tol_grad: self.tol_grad * s,
            tol_cost: self.tol_cost * s,
            ..self
        }
    }

    /// Loose tolerances for the thousands of grid starts over `n` points: most starts end on ridges far
    /// from the optimum, and the best few are polished with [`Solver::default`] after. The objective is
    /// a sum over points, so the cost tolerance scales with n (1e-7 for Chinchilla's 240 points).
    pub fn screen(n: usize) -> Self {
        Solver {
            tol_grad: 1e-5,
            tol_cost: 4e-10 * n as f64,
            ..Solver::default()
        }
    }
}

/// Where one start ended.
#[derive(Clone, Debug)]
pub struct StartResult {
    pub start: usize,
    pub theta: Vec<f64>,
    pub objective: f64,
    pub evals: usize,
    /// Why the start stopped early: its line search or the objective failed (the best point is kept).
    pub error: Option<String>,
}

/// All starts, best first.
#[derive(Clone, Debug)]
pub struct MultiStart {
    pub results: Vec<StartResult>,
}

impl MultiStart {
    pub fn best(&self) -> Option<&StartResult> {
        self.results.first().filter(|r| r.objective.is_finite())
    }

    pub fn n_failed(&self) -> usize {
        self.results.iter().filter(|r| r.error.is_some()).count()
    }

    /// Up to `k` distinct end points (θ differing by more than `tol` in some entry), best first.
    pub fn distinct(&self, k: usize, tol: f64) -> Vec<&StartResult> {
        let mut out: Vec<&StartResult> = vec![];
        for r in self.results.iter().filter(|r| r.objective.is_finite()) {
            if out.len() == k {
                break;
            }
            let far = |o: &&StartResult| {
                o.theta
                    .iter()
                    .zip(&r.theta)
                    .any(|(a, b)| (a - b).abs() > tol)
            };
            if out.iter().all(far) {
                out.push(r);
            }
        }
        out
    }
}

/// Anything that gives a value and its gradient at θ; [`Objective`] is the one ceq fits with.
pub trait Evaluate {
    /// The value at `theta`, with the gradient written into `grad`.
    fn eval(&self, theta: &[f64], grad: &mut [f64]) -> f64;
}

impl Evaluate for Objective {
    fn eval(&self, theta: &[f64], grad: &mut [f64]) -> f64 {
        Objective::eval(self, theta, grad)
    }
}

/// The objective at screening precision ([`Objective::eval_screen`]).
struct Screening<'a>(&'a Objective);

impl Evaluate for Screening<'_> {
    fn eval(&self, theta: &[f64], grad: &mut [f64]) -> f64 {
        self.0.eval_screen(theta, grad)
    }
}

/// The objective as argmin sees it, caching the last (θ, f, ∇f) since argmin asks for the cost and the
/// gradient at the same point separately, and remembering the best point seen.
struct Tracker<'a, E: ?Sized> {
    obj: &'a E,
    last: RefCell<(Vec<f64>, f64, Vec<f64>)>,
    best: RefCell<(f64, Vec<f64>)>,
    evals: Cell<usize>,
}

impl<E: Evaluate + ?Sized> Tracker<'_, E> {
    /// Evaluates at `p` unless it is the cached point, then hands the cached (f, ∇f) to `read`. The
    /// cache is updated in place: argmin calls this twice per point, thousands of times per start.
    fn eval<T>(&self, p: &[f64], read: impl FnOnce(f64, &[f64]) -> T) -> Result<T, ArgminError> {
        let mut last = self.last.borrow_mut();
        if last.0 != p {
            let (lp, lf, lg) = &mut *last;
            lp.clear();
            lp.extend_from_slice(p);
            lg.resize(p.len(), 0.0);
            *lf = self.obj.eval(p, lg);
            self.evals.set(self.evals.get() + 1);
            if !lf.is_finite() || lg.iter().any(|v| !v.is_finite()) {
                // Forget the point so a retry does not read a non-finite cache.
                lp.clear();
                return Err(argmin::core::ArgminError::InvalidParameter {
                    text: format!("objective is not finite at {p:?}"),
                }
                .into());
            }
            let mut best = self.best.borrow_mut();
            if *lf < best.0 {
                best.0 = *lf;
                best.1.clear();
                best.1.extend_from_slice(p);
            }
        }
        Ok(read(last.1, &last.2))
    }
}

struct Probe<'a, E: ?Sized, P>(&'a Tracker<'a, E>, std::marker::PhantomData<P>);

/// A parameter vector argmin's L-BFGS can step: `Vec<f64>` for any length, and fixed-size vectors for
/// the laws' 3 and 5 parameters. Those live on the stack, which spares thousands of small heap
/// allocations per start (argmin clones θ and ∇f several times per iteration).
pub trait Point: Clone {
    fn from_slice(x: &[f64]) -> Self;
    fn as_slice(&self) -> &[f64];
}

impl Point for Vec<f64> {
    fn from_slice(x: &[f64]) -> Self {
        x.to_vec()
    }
    fn as_slice(&self) -> &[f64] {
        self
    }
}

impl<const D: usize> Point for nalgebra::SVector<f64, D> {
    fn from_slice(x: &[f64]) -> Self {
        Self::from_column_slice(x)
    }
    fn as_slice(&self) -> &[f64] {
        nalgebra::Matrix::as_slice(self)
    }
}

impl<E: Evaluate + ?Sized, P: Point> CostFunction for Probe<'_, E, P> {
    type Param = P;
    type Output = f64;
    fn cost(&self, p: &P) -> Result<f64, ArgminError> {
        self.0.eval(p.as_slice(), |f, _| f)
    }
}

impl<E: Evaluate + ?Sized, P: Point> Gradient for Probe<'_, E, P> {
    type Param = P;
    type Gradient = P;
    fn gradient(&self, p: &P) -> Result<P, ArgminError> {
        self.0.eval(p.as_slice(), |_, g| P::from_slice(g))
    }
}

/// Runs L-BFGS from one start.
pub fn run_start<E: Evaluate + ?Sized>(
    obj: &E,
    start: &[f64],
    idx: usize,
    s: &Solver,
) -> StartResult {
    match start.len() {
        3 => run_start_in::<E, nalgebra::SVector<f64, 3>>(obj, start, idx, s),
        5 => run_start_in::<E, nalgebra::SVector<f64, 5>>(obj, start, idx, s),
        _ => run_start_in::<E, Vec<f64>>(obj, start, idx, s),
    }
}

fn run_start_in<E, P>(obj: &E, start: &[f64], idx: usize, s: &Solver) -> StartResult
where
    E: Evaluate + ?Sized,
    P: Point,
    for<'a> LBFGS<MoreThuenteLineSearch<P, P, f64>, P, P, f64>:
        argmin::core::Solver<Probe<'a, E, P>, IterState<P, P, (), (), (), f64>>,
{
    let tracker = Tracker {
        obj,
        last: RefCell::new((vec![], f64::NAN, vec![])),
        best: RefCell::new((f64::INFINITY, start.to_vec())),
        evals: Cell::new(0),
    };
    // argmin 0.11 ends a run whose line search fails with `SolverExit` rather than an error; an error
    // from the objective itself (a non-finite value) comes back as Err. Either way the tracker holds
    // the best point evaluated.
    let error = (|| -> Result<Option<String>, ArgminError> {
        let ls = MoreThuenteLineSearch::new();
        let solver = LBFGS::new(ls, s.memory)
            .with_tolerance_grad(s.tol_grad)?
            .with_tolerance_cost(s.tol_cost)?;
        let res = Executor::new(Probe(&tracker, std::marker::PhantomData), solver)
            .timer(false)
            .configure(|st| st.param(P::from_slice(start)).max_iters(s.max_iters))
            .run()?;
        Ok(match res.state().get_termination_reason() {
            Some(TerminationReason::SolverExit(msg)) => Some(msg.clone()),
            _ => None,
        })
    })()
    .unwrap_or_else(|e| Some(e.to_string()));
    let (objective, theta) = tracker.best.into_inner();
    StartResult {
        start: idx,
        theta,
        objective,
        evals: tracker.evals.get(),
        error,
    }
}

fn sort(results: &mut [StartResult]) {
    results.sort_by(|a, b| {
        a.objective
            .total_cmp(&b.objective)
            .then(a.start.cmp(&b.start))
    });
}

/// Runs every start in parallel with `screen` tolerances and the objective at screening precision,
/// then restarts the `polish` best distinct end points with `tight` ones at full precision. Results
/// are sorted best first (ties by start index, so the result does not depend on the number of
/// threads); the objective of a start that was not polished is its screening value. `on` hears of each
/// stage and each start done.
pub fn multistart(
    obj: &Objective,
    starts: &[Vec<f64>],
    screen: &Solver,
    tight: &Solver,
    polish: usize,
    on: &(dyn Fn(Progress) + Sync),
) -> MultiStart {
    let stage = Stage::begin(on, "fit: grid starts", starts.len());
    let mut results: Vec<StartResult> = starts
        .par_iter()
        .enumerate()
        .map(|(i, st)| {
            let r = run_start(&Screening(obj), st, i, screen);
            stage.step();
            r
        })
        .collect();
    sort(&mut results);
    let mut ms = MultiStart { results };
    let best = ms.distinct(polish, 1e-6);
    let stage = Stage::begin(on, "fit: polishing", best.len());
    let polished: Vec<StartResult> = best
        .par_iter()
        .map(|r| {
            let mut p = run_start(obj, &r.theta, r.start, tight);
            stage.step();
            p.evals += r.evals;
            // Polishing ends when the line search can go no further: that is convergence, not a failure.
            p.error = r.error.clone();
            p
        })
        .collect();
    // A polished start is never worse than where it began (its first evaluation is that point), and its
    // objective is at full precision: it replaces the screened result.
    for p in polished {
        let r = ms
            .results
            .iter_mut()
            .find(|r| r.start == p.start)
            .expect("polished a start");
        *r = p;
    }
    sort(&mut ms.results);
    ms
}
