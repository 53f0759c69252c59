//! Fitting a law to a family: the multi-start Huber fit, its diagnostics, and the bootstrap.

pub mod bootstrap;
pub mod huber;
mod kernel;
pub mod multistart;

pub use bootstrap::{
    Bootstrap, BootstrapOptions, Resample, percentile_interval, ratio_percentile_interval,
};
pub use huber::Objective;
pub use multistart::{MultiStart, Solver};

use serde::{Deserialize, Serialize};

use crate::error::{DataKind, Error, Result};
use crate::law::{Form, Law, RunInfo};
use crate::table::{Checkpoint, Family};

/// What to fit and how.
#[derive(Clone, Debug)]
pub struct FitOptions {
    pub form: Form,
    /// Huber threshold on log-loss residuals (Hoffmann et al.: 1e-3).
    pub delta: f64,
    /// For the `run` law, which run of a multi-run file.
    pub run: Option<String>,
    pub solver: Solver,
}

impl Default for FitOptions {
    fn default() -> Self {
        FitOptions {
            form: Form::Chinchilla,
            delta: 1e-3,
            run: None,
            solver: Solver::default(),
        }
    }
}

/// Where a long fit is, for a progress bar: `done` of the `total` steps of a stage (the grid's starts,
/// the polishing, the bootstrap's refits). Told as each stage begins and after each step, from any
/// thread, so `done` may arrive out of order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Progress {
    pub stage: &'static str,
    pub done: usize,
    pub total: usize,
}

/// Counts one stage's steps for a [`Progress`] listener.
pub(crate) struct Stage<'a> {
    on: &'a (dyn Fn(Progress) + Sync),
    stage: &'static str,
    total: usize,
    done: std::sync::atomic::AtomicUsize,
}

impl<'a> Stage<'a> {
    /// Begins a stage (telling `on` that none of it is done yet).
    pub(crate) fn begin(
        on: &'a (dyn Fn(Progress) + Sync),
        stage: &'static str,
        total: usize,
    ) -> Self {
        on(Progress {
            stage,
            done: 0,
            total,
        });
        Stage {
            on,
            stage,
            total,
            done: 0.into(),
        }
    }

    /// One more step done.
    pub(crate) fn step(&self) {
        let done = 1 + self.done.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        (self.on)(Progress {
            stage: self.stage,
            done,
            total: self.total,
        });
    }
}

/// One point's fit: observed and predicted loss (nats/token) and the log residual.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Residual {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub line: u64,
    /// NaN (null in JSON) where the file does not determine it.
    #[serde(with = "crate::serde_nan")]
    pub params: f64,
    #[serde(with = "crate::serde_nan")]
    pub tokens: f64,
    #[serde(with = "crate::serde_nan")]
    pub compute: f64,
    pub loss: f64,
    pub predicted: f64,
    /// ln(predicted) − ln(observed).
    pub residual: f64,
    /// |residual| > δ: the Huber loss treats this point linearly. Not a verdict that it is an
    /// outlier: with a small δ most points are beyond it (the fit's warnings name gross outliers).
    /// Written as `outlier` before layout version 3.
    #[serde(alias = "outlier")]
    pub beyond_delta: bool,
}

/// Ranges of the data a law was fitted on, to tell extrapolation from interpolation.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Ranges {
    #[serde(with = "crate::serde_nan::pair")]
    pub loss: (f64, f64),
    /// (NaN, NaN), null in JSON, where the data do not determine the quantity.
    #[serde(with = "crate::serde_nan::pair")]
    pub compute: (f64, f64),
    #[serde(with = "crate::serde_nan::pair")]
    pub params: (f64, f64),
    #[serde(with = "crate::serde_nan::pair")]
    pub tokens: (f64, f64),
}

/// A fitted law with its diagnostics.
#[derive(Clone, Debug)]
pub struct Fit {
    pub law: Law,
    pub theta: Vec<f64>,
    pub objective: f64,
    pub delta: f64,
    pub n_starts: usize,
    pub n_failed_starts: usize,
    /// Objective evaluations over all starts.
    pub evaluations: usize,
    pub residuals: Vec<Residual>,
    /// Points with |residual| > δ.
    pub n_beyond_delta: usize,
    pub warnings: Vec<String>,
    pub ranges: Ranges,
    /// The checkpoints used (after `--run` selection and `--drop-highest`).
    pub checkpoints: Vec<Checkpoint>,
    /// The one run the fit was restricted to, when one was chosen.
    pub run: Option<String>,
    /// Distinct local optima of the grid, best first: the bootstrap starts from these.
    pub optima: Vec<Vec<f64>>,
}

/// Selects the checkpoints a law is fitted on: all of them, or one run for the `run` law.
pub fn select(family: &Family, opts: &FitOptions) -> Result<(Vec<Checkpoint>, RunInfo)> {
    let runs = family.runs();
    let mut cks = family.checkpoints.clone();
    let mut info = RunInfo::default();
    if let Some(r) = &opts.run {
        if !runs.contains(r) {
            return Err(Error::Data {
                kind: DataKind::Runs,
                path: family.path.clone(),
                message: format!(
                    "no run is named '{r}' (runs: {})",
                    if runs.is_empty() {
                        "none: no run column".into()
                    } else {
                        runs.join(", ")
                    }
                ),
            });
        }
        cks.retain(|c| c.run.as_deref() == Some(r.as_str()));
        info.run = Some(r.clone());
    }
    if opts.form == Form::Run {
        if opts.run.is_none() && runs.len() > 1 {
            return Err(Error::Data {
                kind: DataKind::Runs,
                path: family.path.clone(),
                message: format!(
                    "the 'run' law fits one training run, and the file holds {}: choose one ({})",
                    runs.len(),
                    runs.join(", ")
                ),
            });
        }
        if info.run.is_none() {
            info.run = runs.first().cloned();
        }
        let (lo, hi) = cks
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), c| {
                (l.min(c.params), h.max(c.params))
            });
        if lo.is_finite() && hi.is_finite() {
            if hi > lo * (1.0 + 1e-9) {
                return Err(Error::Data {
                    kind: DataKind::Runs,
                    path: family.path.clone(),
                    message: format!(
                        "the 'run' law fits one model, but the rows have params from {lo} to {hi}; \
                         add a run column and choose one run"
                    ),
                });
            }
            info.params = Some(lo);
        }
        info.tokens_per_step = tokens_per_step(&cks).and_then(|t| t.ok());
    }
    Ok((cks, info))
}

/// The run's tokens per optimiser step, where its checkpoints give steps: their median, where
/// every row is within 0.1 % of it (a file's rounding); else `Err` with the least and most (a
/// batch-size ramp), where no one number turns tokens into steps.
fn tokens_per_step(cks: &[Checkpoint]) -> Option<std::result::Result<f64, (f64, f64)>> {
    let mut per_step: Vec<f64> = cks
        .iter()
        .filter_map(|c| c.step.filter(|&s| s > 0.0).map(|s| c.tokens / s))
        .filter(|v| v.is_finite())
        .collect();
    per_step.sort_by(f64::total_cmp);
    let (lo, hi) = (*per_step.first()?, *per_step.last()?);
    let m = per_step.len() / 2;
    let median = if per_step.len().is_multiple_of(2) {
        (per_step[m - 1] + per_step[m]) / 2.0
    } else {
        per_step[m]
    };
    Some(if hi <= median * 1.001 && lo >= median * 0.999 {
        Ok(median)
    } else {
        Err((lo, hi))
    })
}

/// How many of the grid's best distinct end points are polished with tight tolerances.
const POLISH: usize = 8;

/// Fits `opts.form` to the family with Hoffmann et al.'s multi-start Huber fit.
pub fn fit(family: &Family, opts: &FitOptions) -> Result<Fit> {
    fit_with_progress(family, opts, &|_| {})
}

/// The smallest Huber threshold fitted: below it f64 no longer finds the optimum (δ = 1e-20 moved
/// E by 2 %, 1e-300 returned a grid start), and from about 1e-6 down the fit is already the
/// absolute-error fit it tends to.
pub const MIN_DELTA: f64 = 1e-12;

/// Refuses a Huber threshold that is not a finite number ≥ [`MIN_DELTA`].
pub fn check_delta(delta: f64) -> Result<()> {
    if delta >= MIN_DELTA && delta.is_finite() {
        return Ok(());
    }
    Err(Error::Invalid {
        fix: None,
        option: "Huber delta",
        message: format!(
            "must be a number ≥ {MIN_DELTA:e} (smaller ones fit no differently, where f64 can fit \
             them at all), got {delta:e}"
        ),
    })
}

/// [`fit`], telling `on` how far it is (a fit of a million points takes minutes).
pub fn fit_with_progress(
    family: &Family,
    opts: &FitOptions,
    on: &(dyn Fn(Progress) + Sync),
) -> Result<Fit> {
    check_delta(opts.delta)?;
    let (cks, info) = select(family, opts)?;
    let k = opts.form.n_params();
    if cks.len() <= k {
        return Err(Error::TooFewPoints {
            path: family.path.clone(),
            n: cks.len(),
            k,
            form: opts.form.name().into(),
            dropped: family.dropped,
        });
    }
    // The readers refuse such values; a family built by hand is checked here, by its point.
    let usable = |v: f64| v.is_finite() && v > 0.0;
    for c in &cks {
        let used = match opts.form {
            Form::Chinchilla => [("loss", c.loss), ("params", c.params), ("tokens", c.tokens)],
            Form::Compute => [
                ("loss", c.loss),
                ("compute", c.compute),
                ("compute", c.compute),
            ],
            Form::Run => [("loss", c.loss), ("tokens", c.tokens), ("tokens", c.tokens)],
        };
        if let Some((what, v)) = used.into_iter().find(|(_, v)| !usable(*v)) {
            let name = c
                .name
                .as_deref()
                .map(|n| format!(" ({n})"))
                .unwrap_or_default();
            return Err(Error::Data {
                kind: DataKind::Family,
                path: family.path.clone(),
                message: format!(
                    "line {}{name}: {what} {v} is not a finite number > 0, as a '{}' fit \
                     needs",
                    c.line,
                    opts.form.name()
                ),
            });
        }
    }
    // Each scale the law has an exponent for must vary, or that exponent is not identified.
    for j in 0..opts.form.n_terms() {
        let mut v: Vec<f64> = cks.iter().map(|c| opts.form.features(c)[j]).collect();
        v.sort_by(f64::total_cmp);
        v.dedup_by(|a, b| (*a - *b).abs() < 1e-9);
        if v.len() < 2 {
            let what = match (opts.form, j) {
                (Form::Chinchilla, 0) => "params (N)",
                (Form::Compute, _) => "compute (C)",
                _ => "tokens (D)",
            };
            return Err(Error::Data {
                kind: DataKind::Family,
                path: family.path.clone(),
                message: format!(
                    "every checkpoint has the same {what}, so the '{}' law cannot be fitted; it needs at least two distinct values",
                    opts.form.name()
                ),
            });
        }
    }
    // A loss that never varies fits any exponents with E = that loss: no law, only a constant.
    let (lo, hi) = cks
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), c| {
            (lo.min(c.loss), hi.max(c.loss))
        });
    if hi - lo < 1e-9 {
        return Err(Error::Data {
            kind: DataKind::Family,
            path: family.path.clone(),
            message: format!(
                "every checkpoint has the same loss ({lo} nats/token), so no '{}' law can be \
                 fitted: a loss that never changes with scale says nothing about how it falls; \
                 check the loss column",
                opts.form.name()
            ),
        });
    }
    let obj = Objective::new(opts.form, &cks, opts.delta);
    let grid = opts.form.grid(lo);
    let ms = multistart::multistart(
        &obj,
        &grid,
        &Solver::screen(obj.len()).at_delta(opts.delta),
        &opts.solver.at_delta(opts.delta),
        POLISH,
        on,
    );
    let best = ms.best().ok_or_else(|| Error::FitFailed {
        starts: grid.len(),
        last: ms
            .results
            .iter()
            .find_map(|r| r.error.clone())
            .unwrap_or_default(),
    })?;
    let theta = best.theta.clone();
    let law = Law::from_theta(opts.form, &theta, &info);
    if !law.is_finite() {
        let p = law
            .params()
            .iter()
            .map(|(k, v)| format!("{k} = {v:.4}"))
            .collect::<Vec<_>>();
        return Err(Error::DegenerateFit {
            params: p.join(", "),
        });
    }
    Ok(diagnose(
        law,
        theta,
        best.objective,
        &obj,
        &ms,
        cks,
        opts,
        grid.len(),
    ))
}

/// Points this far from the residuals' median, in robust standard deviations (1.4826·MAD, widened by
/// √(n/(n−p)) for the p fitted parameters that shrink residuals), are called gross: far beyond
/// what a smooth law's misfit spreads to.
pub const GROSS_SPREADS: f64 = 6.0;
/// ... and at least this far in log-loss (1 %), so that a near-perfect fit (synthetic data, a
/// spread of 1e-6) does not flag points a reader would call exact.
const GROSS_FLOOR: f64 = 0.01;

/// A family whose every checkpoint saw under 0.01 tokens per parameter, or over a million: no
/// language model family is trained so (an early checkpoint may see few tokens, but not its whole
/// family; the smallest models of long runs see some 10⁴), so the counts are likely in other units
/// (tokens in billions, parameters in millions), and every FLOPs figure the law gives is off by
/// that factor. Said, not refused: the shape of the law does not depend on the units.
fn tokens_per_param_unlikely(cks: &[Checkpoint]) -> Option<String> {
    let ratios: Vec<f64> = (cks.iter())
        .map(|c| c.tokens / c.params)
        .filter(|r| r.is_finite() && *r > 0.0)
        .collect();
    let lo = ratios.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = ratios.iter().copied().fold(0.0, f64::max);
    let (range, hint) = match () {
        _ if ratios.is_empty() => return None,
        _ if hi < 0.01 => ("fewer than 0.01", "tokens in millions or billions"),
        _ if lo > 1e6 => ("more than a million", "parameters in millions or billions"),
        _ => return None,
    };
    let (lo, hi) = (crate::export::human(lo), crate::export::human(hi));
    Some(format!(
        "every checkpoint saw {range} training tokens per parameter ({lo} to {hi}), as no language \
         model family is trained: {hint}? Give both as counts; every compute counted as 6·N·D \
         (FLOPs) is off by the same factor"
    ))
}

/// The residuals' median and robust standard deviation (log-loss), where there are enough of them
/// (8, and 3 beyond the `fitted` parameters) for one outlier not to set the spread.
pub fn robust_spread(residuals: &[Residual], fitted: usize) -> Option<(f64, f64)> {
    let n = residuals.len();
    if n < 8 || n <= fitted + 2 {
        return None;
    }
    let median = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        let n = v.len();
        (v[(n - 1) / 2] + v[n / 2]) / 2.0
    };
    let mid = median(residuals.iter().map(|r| r.residual).collect());
    let mad = median(residuals.iter().map(|r| (r.residual - mid).abs()).collect());
    Some((mid, 1.4826 * mad * (n as f64 / (n - fitted) as f64).sqrt()))
}

/// Names the checkpoints whose losses lie grossly off the law the others follow (a typo, a diverged
/// run, another token set), in one warning: Huber's δ bounds their pull but does not remove it, and
/// a bootstrap that draws them moves every interval.
fn gross_outliers(residuals: &[Residual], fitted: usize) -> Option<String> {
    const LISTED: usize = 5;
    let (mid, spread) = robust_spread(residuals, fitted)?;
    let bound = (GROSS_SPREADS * spread).max(GROSS_FLOOR);
    let mut gross: Vec<&Residual> = (residuals.iter())
        .filter(|r| (r.residual - mid).abs() > bound)
        .collect();
    if gross.is_empty() {
        return None;
    }
    gross.sort_by(|a, b| b.residual.abs().total_cmp(&a.residual.abs()));
    let mut listed: Vec<String> = (gross.iter().take(LISTED))
        .map(|r| {
            let name = r.name.as_ref().map_or(String::new(), |n| format!(" '{n}'"));
            format!(
                "line {}{name}, {:.4} nats against the law's {:.4} ({:+.1}%)",
                r.line,
                r.loss,
                r.predicted,
                100.0 * (r.loss / r.predicted - 1.0)
            )
        })
        .collect();
    if gross.len() > LISTED {
        listed.push(format!("{} more", gross.len() - LISTED));
    }
    let n = gross.len();
    let (them, s, es) = if n == 1 {
        ("it", "", "s")
    } else {
        ("them", "s", "")
    };
    // The band in the terms each point is listed in, loss / law − 1 (residuals are ln law − ln loss).
    let (lo, hi) = ((-(mid + bound)).exp() - 1.0, (-(mid - bound)).exp() - 1.0);
    Some(format!(
        "{n} checkpoint{s} lie{es} outside {:+.2}% to {:+.2}% of the law (the residuals' median \
         ± {GROSS_SPREADS} robust spreads of {:.2}%, and at least ± {:.0}%): {}; check {them} (a \
         typo, a diverged or undertrained run, another token set, a scale where the law's form \
         bends away), or leave {them} out of the file",
        100.0 * lo,
        100.0 * hi,
        100.0 * spread,
        100.0 * GROSS_FLOOR,
        listed.join("; "),
    ))
}

#[allow(clippy::too_many_arguments)]
fn diagnose(
    law: Law,
    theta: Vec<f64>,
    objective: f64,
    obj: &Objective,
    ms: &MultiStart,
    cks: Vec<Checkpoint>,
    opts: &FitOptions,
    n_starts: usize,
) -> Fit {
    let res = obj.residuals(&theta);
    let residuals: Vec<Residual> = cks
        .iter()
        .zip(&res)
        .map(|(c, &r)| Residual {
            name: c.name.clone(),
            line: c.line,
            params: c.params,
            tokens: c.tokens,
            compute: c.compute,
            loss: c.loss,
            predicted: law.predict(c),
            residual: r,
            beyond_delta: r.abs() > opts.delta,
        })
        .collect();
    let range = |f: &dyn Fn(&Checkpoint) -> f64| {
        let (lo, hi) = cks
            .iter()
            .map(f)
            .filter(|v| v.is_finite())
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), v| {
                (l.min(v), h.max(v))
            });
        if lo <= hi {
            (lo, hi)
        } else {
            (f64::NAN, f64::NAN)
        }
    };
    let ranges = Ranges {
        loss: range(&|c| c.loss),
        compute: range(&|c| c.compute),
        params: range(&|c| c.params),
        tokens: range(&|c| c.tokens),
    };

    let mut warnings = vec![];
    let floor = law.floor();
    let min_loss = cks.iter().map(|c| c.loss).fold(f64::INFINITY, f64::min);
    if let Some(c) = cks.iter().min_by(|a, b| a.loss.total_cmp(&b.loss))
        && floor > c.loss
    {
        warnings.push(format!(
            "the fitted E = {floor:.4} nats is above the lowest observed loss {:.4} (line {}): \
             the law calls that checkpoint unreachable; look for outliers or mixed token sets",
            c.loss, c.line
        ));
    }
    for ((name, &v), &(lo, hi)) in opts
        .form
        .theta_names()
        .iter()
        .zip(&theta)
        .zip(&opts.form.grid_bounds(min_loss))
    {
        if v <= lo || v >= hi {
            // θ holds ln E, ln A, ln B and the exponents as they are.
            let (shown, of) = match *name {
                "e" => ("ln E", format!(" (E = {:.4e})", v.exp())),
                "a" => ("ln A", String::new()),
                "b" => ("ln B", String::new()),
                other => (other, String::new()),
            };
            let units = if matches!(*name, "a" | "b") {
                "; if params, tokens or compute are in millions or billions, give them as counts"
            } else {
                ""
            };
            warnings.push(format!(
                "the fitted {shown} = {v:.4}{of} is at or beyond the edge of its start grid \
                 [{lo}, {hi}]: the data may not pin it down{units}"
            ));
        }
    }
    warnings.extend(gross_outliers(&residuals, theta.len()));
    warnings.extend(tokens_per_param_unlikely(&cks));
    if opts.form == Form::Run
        && let Some(Err((lo, hi))) = tokens_per_step(&cks)
    {
        let (lo, hi) = (crate::export::human(lo), crate::export::human(hi));
        warnings.push(format!(
            "the run's tokens per step (tokens / step) vary from {lo} to {hi} (a batch-size \
             ramp?): no one number turns tokens into steps, so step_equivalent is not given"
        ));
    }
    for (name, v) in law.params() {
        if (name == "alpha" || name == "beta") && v <= 0.0 {
            warnings.push(format!(
                "the fitted exponent {name} = {v:.4} is not positive: loss does not fall with scale"
            ));
        }
    }
    Fit {
        run: opts.run.clone(),
        n_beyond_delta: residuals.iter().filter(|r| r.beyond_delta).count(),
        law,
        theta,
        objective,
        delta: opts.delta,
        n_starts,
        n_failed_starts: ms.n_failed(),
        evaluations: ms.results.iter().map(|r| r.evals).sum(),
        residuals,
        warnings,
        ranges,
        checkpoints: cks,
        optima: ms
            .distinct(4, 1e-3)
            .into_iter()
            .map(|r| r.theta.clone())
            .collect(),
    }
}
