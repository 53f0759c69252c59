//! Nonparametric bootstrap of a fit: resample checkpoints (or whole runs, when the family has several),
//! refit, and read percentile intervals off the refits. Seeded per resample, so the result does not
//! depend on thread count or order.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::Fit;
use super::huber::Objective;
use super::multistart::{Solver, run_start};
use crate::law::{Law, RunInfo};
use crate::table::Checkpoint;

/// What one bootstrap draw resamples.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Resample {
    /// Checkpoints, independently.
    Checkpoint,
    /// Whole training runs (all checkpoints of a run together), since checkpoints of one run are not
    /// independent.
    Run,
}

#[derive(Clone, Copy, Debug)]
pub struct BootstrapOptions {
    pub n: usize,
    pub seed: u64,
}

/// The refits of a bootstrap, as θ vectors of the fitted form.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Bootstrap {
    pub resamples: usize,
    pub seed: u64,
    pub unit: Resample,
    /// Resamples whose refit failed: every start failed, or the best optimum's parameters overflow
    /// (left out of the intervals).
    pub failed: usize,
    pub thetas: Vec<Vec<f64>>,
}

impl Bootstrap {
    /// The refitted laws.
    pub fn laws(&self, fit_law: &Law) -> Vec<Law> {
        let info = match fit_law {
            Law::Run(r) => r.info.clone(),
            _ => Default::default(),
        };
        self.thetas
            .iter()
            .map(|t| Law::from_theta(fit_law.form(), t, &info))
            .collect()
    }
}

/// What a bootstrap of `fit` resamples, the unit of each checkpoint, and the units' names
/// (runs, or checkpoints' positions), in order of first appearance.
pub fn units(fit: &Fit) -> (Resample, Vec<usize>, Vec<String>) {
    let cks = &fit.checkpoints;
    let mut runs: Vec<&str> = vec![];
    for c in cks {
        if let Some(r) = c.run.as_deref()
            && !runs.contains(&r)
        {
            runs.push(r);
        }
    }
    if runs.len() > 1 && fit.law.form() != crate::law::Form::Run {
        let unit_of = cks
            .iter()
            .map(|c| {
                runs.iter()
                    .position(|r| Some(*r) == c.run.as_deref())
                    .unwrap_or(0)
            })
            .collect();
        (
            Resample::Run,
            unit_of,
            runs.iter().map(|r| r.to_string()).collect(),
        )
    } else {
        let names = cks
            .iter()
            .enumerate()
            .map(|(i, c)| c.name.clone().unwrap_or_else(|| i.to_string()))
            .collect();
        (Resample::Checkpoint, (0..cks.len()).collect(), names)
    }
}

/// A bootstrap over fewer runs than this is warned of.
pub const FEW_RUNS: usize = 5;

/// A warning when a bootstrap resamples whole runs and there are few of them. k runs make only
/// C(2k−1, k) distinct resamples (10 for 3), many with a single model size, so the refits cannot
/// show how the law varies between runs: the intervals come out too narrow
/// (`scripts/coverage/few_runs.py` measures it).
pub fn few_runs(fit: &Fit) -> Option<String> {
    let (unit, _, names) = units(fit);
    let k = names.len();
    (unit == Resample::Run && k < FEW_RUNS).then(|| {
        let distinct: usize = (1..=k)
            .map(|i| (k - 1 + i) as f64 / i as f64)
            .product::<f64>()
            .round() as usize;
        format!(
            "the bootstrap resamples whole runs and this family has only {k} ({distinct} distinct \
             resamples): its intervals are too narrow (in simulation, 90% intervals over 3 runs \
             held the true compute fraction 70% of the time, the true E 57%); read them as a \
             lower bound on the law's uncertainty, or add runs"
        )
    })
}

/// Draws that estimate the share of a family's resamples that are thin (its SE about 0.1 % near
/// 1 %), from a seed of their own: whether a family is warned of does not depend on `--seed`.
const SHARE_DRAWS: usize = 20_000;
const SHARE_SEED: u64 = 0x7468_696e;

/// A warning when more than 1 % of a family's bootstrap resamples hold no more distinct
/// checkpoints than the law has parameters: a continuum of laws fits each of them, so its refit
/// lands near where it starts (the full fit's optima) and the intervals lean on the full fit.
/// `ceq fit` refuses so few points; within 1 % they move no tail of a 90 % interval by more than
/// a fifth of its mass. Says how many of the `n` resamples drawn from `seed` are such.
pub fn thin_resamples(fit: &Fit, n: usize, seed: u64) -> Option<String> {
    let (_, unit_of, names) = units(fit);
    let p = fit.law.form().n_params();
    let thin = |seed: u64, draws: usize| {
        (0..draws)
            .into_par_iter()
            .filter(|&i| {
                let count = unit_counts(seed, i, names.len());
                unit_of.iter().filter(|&&u| count[u] > 0.0).count() <= p
            })
            .count()
    };
    let share = thin(SHARE_SEED, SHARE_DRAWS) as f64 / SHARE_DRAWS as f64;
    (share > 0.01).then(|| {
        let drawn = match thin(seed, n) {
            0 => format!("none of the {n} drawn here"),
            m => format!("{m} of the {n} drawn here"),
        };
        format!(
            "an estimated {:.1}% of this family's bootstrap resamples (from {SHARE_DRAWS} draws of \
             their own) hold {p} or fewer distinct checkpoints ({drawn}), no more than the law has \
             parameters: many laws fit each of them, so their refits stay near the full fit, which \
             narrows the intervals (the more, the larger this share); fit more checkpoints or runs",
            100.0 * share,
        )
    })
}

/// Resample `i`'s draw: how many times each of `n_units` units is drawn (n draws with
/// replacement), from its own stream of `seed`.
pub fn unit_counts(seed: u64, i: usize, n_units: usize) -> Vec<f64> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(i as u64);
    let mut count = vec![0.0; n_units];
    for _ in 0..n_units {
        count[rng.random_range(0..n_units)] += 1.0;
    }
    count
}

/// The refit of `fit`'s law to `checkpoints` (its own, or the same ones with other losses), each
/// weighted by `w`, from the full fit's distinct local optima; `None` when every start fails or the
/// best optimum is a degenerate law whose parameters overflow ([`Law::is_finite`]): it predicts
/// nothing, so it counts as failed rather than drop out of the intervals unsaid.
pub fn refit(
    fit: &Fit,
    checkpoints: &[Checkpoint],
    w: &[f64],
    solver: &Solver,
) -> Option<Vec<f64>> {
    let form = fit.law.form();
    let obj = Objective::weighted(form, checkpoints, w, fit.delta);
    // An optimum whose ln E lies beyond the start grid (E ≈ 0, exp(e) underflowing) is a flat
    // place a resample cannot leave by gradient: it also starts from ln E at the grid's edge, so a
    // resample whose optimum has E > 0 finds it (scipy from the whole grid does).
    let min_loss = checkpoints
        .iter()
        .map(|c| c.loss)
        .fold(f64::INFINITY, f64::min);
    let (lo, hi) = form.grid_bounds(min_loss)[0];
    let mut starts = fit.optima.clone();
    for o in &fit.optima {
        if o[0] < lo || o[0] > hi {
            let mut s = o.clone();
            s[0] = o[0].clamp(lo, hi);
            starts.push(s);
        }
    }
    starts
        .iter()
        .enumerate()
        .map(|(j, s)| run_start(&obj, s, j, &solver.at_delta(fit.delta)))
        .filter(|r| r.objective.is_finite())
        .min_by(|a, b| a.objective.total_cmp(&b.objective))
        .map(|b| b.theta)
        .filter(|t| Law::from_theta(form, t, &RunInfo::default()).is_finite())
}

/// Resamples and refits `opts.n` times. Each refit starts from the full fit's distinct local optima,
/// not the whole grid: a resample's optimum lies near one of them, and this keeps 1000 resamples cheap.
pub fn bootstrap(
    fit: &Fit,
    opts: &BootstrapOptions,
    solver: &Solver,
    tick: &(dyn Fn() + Sync),
) -> Bootstrap {
    let (unit, unit_of, names) = units(fit);
    let results: Vec<Option<Vec<f64>>> = (0..opts.n)
        .into_par_iter()
        .map(|i| {
            let count = unit_counts(opts.seed, i, names.len());
            let w: Vec<f64> = unit_of.iter().map(|&u| count[u]).collect();
            let best = refit(fit, &fit.checkpoints, &w, solver);
            tick();
            best
        })
        .collect();
    let failed = results.iter().filter(|r| r.is_none()).count();
    Bootstrap {
        resamples: opts.n,
        seed: opts.seed,
        unit,
        failed,
        thetas: results.into_iter().flatten().collect(),
    }
}

/// The central `level` percentile interval of `values` (numpy's default linear interpolation);
/// NaNs are left out. `None` when nothing is left. An infinite neighbour is the answer (+∞ above
/// first), as in [`ratio_percentile_interval`], so that a ratio's −log10 keeps its interval where
/// `a + w·(b − a)` would be −∞ + ∞.
pub fn percentile_interval(values: &[f64], level: f64) -> Option<(f64, f64)> {
    percentiles_by(values, level, |a, b, w| {
        if b == f64::INFINITY || a == f64::NEG_INFINITY {
            if b == f64::INFINITY { b } else { a }
        } else {
            a + w * (b - a)
        }
    })
}

/// The same for values on a ratio scale (compute, fractions, counts: ≥ 0, +∞ allowed),
/// interpolated geometrically, as numpy's linear interpolation of their logarithms: so the
/// interval of a fraction and of its −log10 are one interval, also where a 0 or an ∞ is a
/// neighbour (0 below or ∞ above stays itself, as its logarithm does). Negative values and NaNs are
/// left out.
pub fn ratio_percentile_interval(values: &[f64], level: f64) -> Option<(f64, f64)> {
    let v: Vec<f64> = values.iter().copied().filter(|x| *x >= 0.0).collect();
    percentiles_by(&v, level, |a, b, w| {
        if a == 0.0 || b.is_infinite() {
            // ln a = −∞ or ln b = +∞: the weighted sum of the logs is that infinity (0 < w < 1).
            if a == 0.0 { 0.0 } else { b }
        } else {
            (a.ln() + w * (b.ln() - a.ln())).exp()
        }
    })
}

/// Percentiles of `values` with `between(a, b, w)` giving the value a fraction `w` of the way
/// from one sorted neighbour `a` to the next `b` (0 < w < 1, a < b).
fn percentiles_by(
    values: &[f64],
    level: f64,
    between: impl Fn(f64, f64, f64) -> f64,
) -> Option<(f64, f64)> {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| !x.is_nan()).collect();
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let q = |p: f64| {
        let h = p * (v.len() - 1) as f64;
        // (1 − 0.9)/2 is 0.04999…: a position meant to be whole stays whole, or an interval of
        // 101 refits takes a share of its 5th value's 0 neighbour.
        let h = match (h - h.round()).abs() <= 1e-9 * h.max(1.0) {
            true => h.round(),
            false => h,
        };
        let lo = h.floor() as usize;
        let hi = h.ceil() as usize;
        if lo == hi || v[lo] == v[hi] {
            v[lo]
        } else {
            between(v[lo], v[hi], h - lo as f64)
        }
    };
    let tail = ((1.0 - level) / 2.0).clamp(0.0, 0.5);
    Some((q(tail), q(1.0 - tail)))
}
