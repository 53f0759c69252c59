//! The saved law (`ceq fit --out law.json`): the fitted parameters, the units and data they refer to,
//! the fit's diagnostics and, when bootstrapped, every refit. `ceq map --law` reads it back.

mod summary;

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{DataKind, Error, Result};
use crate::fit::{Bootstrap, Fit, Ranges, Residual, percentile_interval};
use crate::law::{Form, Law, Named, RunInfo};
use crate::serde_nan::Num;
use crate::table::{ColumnMap, ComputeScale, Family};

/// The layout version this ceq writes. Files from before versioning (no `"version"`) have the same
/// layout and read as version 1. Version 3 renamed `fit.outliers` and each residual's `outlier`
/// (|r| > δ, not a verdict) to `beyond_delta`; older files read under either name.
pub const VERSION: u32 = 3;

/// Which parameter count the `params` column holds; it changes every fitted number, so it is recorded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ParamCount {
    /// All parameters, embeddings included (Hoffmann et al.).
    Total,
    /// Parameters excluding embeddings (Kaplan et al.).
    NonEmbedding,
}

impl ParamCount {
    pub const ALL: [ParamCount; 2] = [ParamCount::Total, ParamCount::NonEmbedding];

    /// The name files and options use.
    pub fn name(self) -> &'static str {
        match self {
            ParamCount::Total => "total",
            ParamCount::NonEmbedding => "non-embedding",
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            ParamCount::Total => "total parameters (embeddings included)",
            ParamCount::NonEmbedding => "non-embedding parameters",
        }
    }

    /// This count of a model counted both ways.
    pub fn of<T>(self, total: T, non_embedding: T) -> T {
        match self {
            ParamCount::Total => total,
            ParamCount::NonEmbedding => non_embedding,
        }
    }
}

/// Units and definitions every number refers to.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Units {
    pub loss: String,
    pub compute: String,
    pub params: String,
    pub tokens: String,
    /// The token set the losses were measured on, as the user named it.
    pub eval_set: String,
}

impl Units {
    pub fn new(param_count: ParamCount, eval_set: &str) -> Self {
        Units {
            loss: "nats/token (natural-log cross-entropy)".into(),
            compute: "FLOPs (C = 6*N*D unless given)".into(),
            params: param_count.describe().into(),
            tokens: "training tokens".into(),
            eval_set: eval_set.into(),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DataInfo {
    pub file: String,
    pub columns: ColumnMap,
    pub param_count: ParamCount,
    pub compute_source: String,
    pub tokens_source: String,
    pub dropped_highest: usize,
    /// Which checkpoints `--drop-highest` left out (absent in law files of older ceq).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dropped: Vec<crate::table::Dropped>,
    /// The one run of the file fitted, when one was chosen (its other rows play no part).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run: Option<String>,
    pub n_points: usize,
    /// For a law fitted to the file's compute column: that column over 6·params·tokens (params as
    /// the law counts them), so that a host's actual compute can be put on the law's scale;
    /// absent where the file cannot tell, or the law's compute is 6ND anyway.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compute_per_6nd: Option<ComputeScale>,
    /// The checkpoints file's `eval_tokens` (one token set for every loss), to compare with the
    /// splices'.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub eval_tokens: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FitSummary {
    /// Σ Huber_δ(log residuals) at the optimum (a sum, not a mean).
    pub objective: f64,
    pub delta: f64,
    pub starts: usize,
    pub failed_starts: usize,
    pub evaluations: usize,
    /// Points with |residual| > δ (written as `outliers` before layout version 3).
    #[serde(alias = "outliers")]
    pub beyond_delta: usize,
    pub warnings: Vec<String>,
    pub ranges: Ranges,
    /// Log-space optimum, in `theta_names` order.
    pub theta_names: Vec<String>,
    pub theta: Vec<f64>,
    /// Every point's residual, or, when `residuals_of` is set, a bounded sample of them (see
    /// [`sample_residuals`]), so that the file's size does not grow with the data.
    pub residuals: Vec<Residual>,
    /// How many points the fit had, when `residuals` holds only a sample of them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub residuals_of: Option<usize>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BootstrapSummary {
    pub resamples: usize,
    pub seed: u64,
    pub unit: crate::fit::Resample,
    pub failed: usize,
    /// Central percentile interval level of `intervals`.
    pub level: f64,
    /// Percentile intervals of every parameter and derived number, as [low, high].
    pub intervals: Named<Interval>,
    /// Every refit's parameters (natural units), so intervals of derived numbers can be recomputed.
    #[serde(deserialize_with = "samples_at")]
    pub samples: Vec<Law>,
    /// Set when the refits are a joint token bootstrap's (each refitted to losses recomputed from
    /// resampled eval sequences): what was resampled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tokens: Option<String>,
}

/// Percentile intervals at `level` of every parameter and derived number of `law` over its refits.
fn intervals_of(law: &Law, refits: &[Law], level: f64) -> Named<Interval> {
    let all = |l: &Law| l.params().into_iter().chain(l.derived());
    all(law)
        .enumerate()
        .filter_map(|(i, (name, _))| {
            let vals: Vec<f64> = refits
                .iter()
                .filter_map(|l| all(l).nth(i))
                .map(|p| p.1)
                .collect();
            percentile_interval(&vals, level).map(|iv| (name.to_owned(), Interval(iv)))
        })
        .collect()
}

/// A percentile interval, written as `[low, high]`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Interval(#[serde(with = "crate::serde_nan::pair")] pub (f64, f64));

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LawFile {
    /// Layout version ([`VERSION`]).
    #[serde(default = "version_1")]
    pub version: u32,
    pub ceq_version: String,
    pub form: Form,
    pub formula: String,
    /// The fitted law, written as its named natural-unit parameters.
    #[serde(deserialize_with = "params_at")]
    pub params: Law,
    /// Numbers derived from the parameters (the frontier's constants), for readers of the file.
    pub derived: Named<Num>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run: Option<RunInfo>,
    pub units: Units,
    pub data: DataInfo,
    pub fit: FitSummary,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bootstrap: Option<BootstrapSummary>,
    /// Without refits, the level the fit was asked for (`--ci`): that of the delta-method
    /// intervals a map through this law gives where splices have SEs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval_level: Option<f64>,
}

fn params_at<'de, D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Law, D::Error> {
    Law::deserialize_at(d, "params.")
}

fn samples_at<'de, D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Vec<Law>, D::Error> {
    let raw = Vec::<serde_json::Value>::deserialize(d)?;
    raw.into_iter()
        .enumerate()
        .map(|(i, v)| {
            Law::deserialize_at(v, &format!("bootstrap.samples[{i}]."))
                .map_err(serde::de::Error::custom)
        })
        .collect()
}

/// The most residuals a law file keeps. Up to this many points (far more than a figure can show apart)
/// the file holds every residual; beyond it, a sample.
pub const RESIDUALS_KEPT: usize = 5000;

/// Every residual, or for more than [`RESIDUALS_KEPT`] points a sample of that many: the fifth with
/// the largest |residual| (the outliers a reader looks for) and an even spread of the rest, in file
/// order. Deterministic, so a refit writes the same file.
pub fn sample_residuals(all: &[Residual]) -> Vec<Residual> {
    if all.len() <= RESIDUALS_KEPT {
        return all.to_vec();
    }
    let mut by_size: Vec<usize> = (0..all.len()).collect();
    by_size.sort_by(|&a, &b| {
        all[b]
            .residual
            .abs()
            .total_cmp(&all[a].residual.abs())
            .then(a.cmp(&b))
    });
    let mut keep = vec![false; all.len()];
    by_size[..RESIDUALS_KEPT / 5]
        .iter()
        .for_each(|&i| keep[i] = true);
    let rest: Vec<usize> = (0..all.len()).filter(|&i| !keep[i]).collect();
    let spread = RESIDUALS_KEPT - RESIDUALS_KEPT / 5;
    (0..spread).for_each(|k| keep[rest[k * rest.len() / spread]] = true);
    all.iter()
        .zip(keep)
        .filter(|(_, k)| *k)
        .map(|(r, _)| r.clone())
        .collect()
}

/// What makes a bootstrap's intervals untrustworthy, with the numbers: too few refits for the tails
/// of the level asked for, or an interval that does not contain the fit's own estimate.
fn bootstrap_warnings(law: &Law, b: &BootstrapSummary) -> Vec<String> {
    let mut out = vec![];
    let refits = b.samples.len();
    // A central interval at level L reads each tail at (1 − L)/2; with fewer than about 2/(1 − L)
    // refits there is not one refit per tail, so the ends are just the extreme refits.
    let needed = (2.0 / (1.0 - b.level) - 1e-9).ceil();
    if (refits as f64) < needed {
        out.push(format!(
            "the {} bootstrap intervals rest on {refits} refits, but a percentile interval at level {} needs at \
             least {needed} for its tails to mean anything: they are little more than the extreme refits; \
             use more resamples or a lower level",
            percent_level(b.level),
            b.level
        ));
    }
    // Failed refits are left out, and the degenerate ones are the resamples the data pin least:
    // what is left is narrower than the bootstrap's spread.
    if b.failed > 0 {
        out.push(format!(
            "{} of {} bootstrap refits failed (no start converged, or a parameter overflowed) and \
             are left out: the intervals, from the other {refits}, may be too narrow",
            b.failed, b.resamples
        ));
    }
    let tol = |v: f64| 1e-9 * v.abs().max(1e-300);
    let outside: Vec<String> = law
        .params()
        .into_iter()
        .chain(law.derived())
        .filter_map(|(k, v)| {
            let (lo, hi) = b.intervals.get(k)?.0;
            (v.is_finite() && (v < lo - tol(lo) || v > hi + tol(hi)))
                .then(|| format!("{k} = {v:.6} outside [{lo:.6}, {hi:.6}]"))
        })
        .collect();
    if !outside.is_empty() {
        out.push(format!(
            "the {} bootstrap intervals of {} do not contain the fitted value ({}): the refits settle \
             elsewhere than the fit, so the intervals do not describe its uncertainty",
            percent_level(b.level),
            if outside.len() == 1 { "one number" } else { "some numbers" },
            outside.join("; ")
        ));
    }
    out
}

/// A level as a percentage with as many digits as it has (90%, 99.9999%).
pub(crate) fn percent_level(level: f64) -> String {
    format!("{}%", (100.0 * level * 1e6).round() / 1e6)
}

fn version_1() -> u32 {
    1
}

fn named(pairs: Vec<(&'static str, f64)>) -> Named<Num> {
    pairs
        .into_iter()
        .map(|(k, v)| (k.to_owned(), Num(v)))
        .collect()
}

/// Refuses a params column that holds the other count than the fit is told (the file's
/// params_total and params_non_embedding columns, as eval-family writes them, say which): every
/// output would name one count and compute with the other.
pub fn check_param_count(family: &Family, told: ParamCount) -> Result<()> {
    let Some([total, non_embedding]) = family.params_matches else {
        return Ok(());
    };
    let (told, holds, count) = match told {
        ParamCount::Total if non_embedding && !total => {
            ("total", "params_non_embedding", "non-embedding")
        }
        ParamCount::NonEmbedding if total && !non_embedding => {
            ("non-embedding", "params_total", "total")
        }
        _ => return Ok(()),
    };
    let col = &family.columns.params;
    // A column is the same as itself: then its name, not a comparison, says its count.
    let why = if col == holds {
        String::new()
    } else {
        format!(" (the same counts as '{holds}')")
    };
    Err(Error::Data {
        kind: DataKind::ParamCount,
        path: family.path.clone(),
        message: format!(
            "the '{col}' column holds {count} parameter counts{why}, but the fit is told it \
             holds {told} parameters"
        ),
    })
}

impl LawFile {
    /// The law file of `fit` to `family`, whose losses were measured on `eval_set` and whose
    /// params column holds `param_count`; with a bootstrap, its refits' intervals at `level`.
    /// Refuses a level outside (0, 1), and a parameter count the family's own columns contradict.
    pub fn new(
        fit: &Fit,
        family: &Family,
        eval_set: &str,
        param_count: ParamCount,
        (boot, level): (Option<&Bootstrap>, f64),
    ) -> Result<Self> {
        crate::map::check_level(level)?;
        check_param_count(family, param_count)?;
        let units = Units::new(param_count, eval_set);
        let bootstrap = boot.map(|b| {
            let laws = b.laws(&fit.law);
            let intervals = intervals_of(&fit.law, &laws, level);
            BootstrapSummary {
                resamples: b.resamples,
                seed: b.seed,
                unit: b.unit,
                failed: b.failed,
                level,
                intervals,
                samples: laws,
                tokens: None,
            }
        });
        let interval_level = bootstrap.is_none().then_some(level);
        // The fitted rows' token set, whether or not the caller settled it (two are refused).
        let (eval_tokens, unnamed) = family.token_set(&fit.checkpoints)?;
        let mut warnings = family.warnings.clone();
        if let Some(w) = unnamed
            && !warnings.contains(&w)
        {
            warnings.push(w);
        }
        warnings.extend(fit.warnings.iter().cloned());
        if let Some(b) = &bootstrap {
            warnings.extend(bootstrap_warnings(&fit.law, b));
        }
        Ok(LawFile {
            version: VERSION,
            ceq_version: env!("CARGO_PKG_VERSION").into(),
            form: fit.law.form(),
            formula: fit.law.form().formula().into(),
            params: fit.law.clone(),
            derived: named(fit.law.derived()),
            run: match &fit.law {
                Law::Run(r) => Some(r.info.clone()),
                _ => None,
            },
            units,
            data: DataInfo {
                file: family.path.display().to_string(),
                columns: family.columns.clone(),
                param_count,
                compute_source: family.compute_source.into(),
                tokens_source: family.tokens_source.into(),
                dropped_highest: family.dropped,
                dropped: family.dropped_rows.clone(),
                run: fit.run.clone(),
                n_points: fit.checkpoints.len(),
                compute_per_6nd: family.compute_per_6nd.filter(|_| {
                    fit.law.form() == Form::Compute && family.compute_source == "column"
                }),
                eval_tokens,
            },
            fit: FitSummary {
                objective: fit.objective,
                delta: fit.delta,
                starts: fit.n_starts,
                failed_starts: fit.n_failed_starts,
                evaluations: fit.evaluations,
                beyond_delta: fit.n_beyond_delta,
                warnings,
                ranges: fit.ranges,
                theta_names: fit
                    .law
                    .form()
                    .theta_names()
                    .iter()
                    .map(|s| s.to_string())
                    .collect(),
                theta: fit.theta.clone(),
                residuals: sample_residuals(&fit.residuals),
                residuals_of: (fit.residuals.len() > RESIDUALS_KEPT).then_some(fit.residuals.len()),
            },
            bootstrap,
            interval_level,
        })
    }

    /// The law file itself as JSON, or its summary in another format.
    pub fn render(&self, format: crate::export::Format) -> String {
        match format {
            crate::export::Format::Json => self.to_json(),
            format => format.render(&self.summary_table_for(format)),
        }
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a law file always serialises") + "\n"
    }

    /// Reads and validates a law file; errors name the file and the key, and say how to refit.
    pub fn read(path: &Path) -> Result<LawFile> {
        let text = crate::eval::read_json_text(path)?;
        let bad = |message: String| Error::BadLaw {
            path: path.to_owned(),
            message,
        };
        // The version first, so a newer or foreign file is named as such rather than by the first
        // key this ceq does not know.
        #[derive(Deserialize)]
        struct Head {
            version: Option<u32>,
            ceq_version: Option<String>,
        }
        // serde would read an array's first item as the version, and say so.
        if text
            .trim_start_matches('\u{feff}')
            .trim_start()
            .starts_with('[')
        {
            return Err(bad(
                "a JSON array, not the JSON object `ceq fit` writes: pass the law file itself"
                    .into(),
            ));
        }
        let head: Head = serde_json::from_str(&text).map_err(|e| {
            let non_finite = match at_non_finite(&text, &e) {
                true => " (a bare NaN or Infinity, which JSON has not: ceq writes null)",
                false => "",
            };
            bad(format!(
                "{e}{non_finite}; a law file is the JSON object `ceq fit` writes"
            ))
        })?;
        match (head.version, &head.ceq_version) {
            (_, None) => {
                return Err(bad(
                    "no 'ceq_version' key: this JSON was not written by ceq; fit a law with `ceq fit`".into(),
                ));
            }
            (Some(0), Some(by)) => {
                return Err(bad(format!(
                    "layout version 0 (written by ceq {by}): ceq numbers its layouts from 1; \
                     refit with `ceq fit`"
                )));
            }
            (Some(v), Some(by)) if v > VERSION => {
                return Err(bad(format!(
                    "layout version {v} (written by ceq {by}) is newer than this ceq reads ({VERSION}); \
                     upgrade ceq, or refit with this one (`ceq fit`)"
                )));
            }
            _ => {}
        }
        let mut lf: LawFile = serde_json::from_str(&text).map_err(|e| {
            // A law's entries are checked once their object is read, so serde places the error
            // at the object's end; the key path names the entry, and that line would mislead.
            let e = e.to_string();
            let e = match e.rfind(" at line ") {
                Some(i) if e.contains("key '") => &e[..i],
                _ => &e[..],
            };
            bad(format!("{e}; refit with `ceq fit` to get a valid file"))
        })?;
        lf.validate().map_err(bad)?;
        // Derived numbers are the parameters' functions: recomputed, so an edit cannot mislead.
        lf.derived = named(lf.params.derived());
        // A run law's metadata lives beside its parameters.
        let run = lf.run.clone();
        lf.params = lf.params.with_run_info(run.as_ref());
        if let Some(b) = &mut lf.bootstrap {
            for s in &mut b.samples {
                *s = s.clone().with_run_info(run.as_ref());
            }
        }
        Ok(lf)
    }

    /// Checks what serde cannot: that the parts agree with each other. The message names the key.
    fn validate(&self) -> std::result::Result<(), String> {
        let form = self.form;
        if self.params.form() != form {
            return Err(format!(
                "key 'params' holds a {} law's parameters, but 'form' is '{}'",
                self.params.form().name(),
                form.name()
            ));
        }
        // The parameters must be the fitted optimum's, so an edited number cannot pass for a fit.
        let close = |a: f64, b: f64| (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1e-300);
        let same = |a: f64, b: f64| a == b || (a.is_nan() && b.is_nan()) || close(a, b);
        if self.fit.theta.len() == form.n_params() {
            let from_theta = Law::from_theta(form, &self.fit.theta, &RunInfo::default());
            for ((k, v), (_, t)) in self.params.params().into_iter().zip(from_theta.params()) {
                if !close(v, t) {
                    return Err(format!(
                        "key 'params.{k}' is {v}, but the fitted optimum 'fit.theta' gives {t}; \
                         the file was edited: refit with `ceq fit`"
                    ));
                }
            }
        } else {
            return Err(format!(
                "key 'fit.theta' has {} values; a {} law has {}",
                self.fit.theta.len(),
                form.name(),
                form.n_params()
            ));
        }
        if let Some(n) = self.fit.residuals_of
            && n < self.fit.residuals.len()
        {
            return Err(format!(
                "key 'fit.residuals_of' is {n}, fewer than the {} residuals the file holds",
                self.fit.residuals.len()
            ));
        }
        if let Err(e) = crate::fit::check_delta(self.fit.delta) {
            return Err(format!("key 'fit.delta': {e}"));
        }
        // A Huber sum: never negative (NaN would be no fit at all).
        if self.fit.objective.is_nan() || self.fit.objective < 0.0 {
            return Err(format!(
                "key 'fit.objective' is {}; a fit's Huber sum is a number ≥ 0",
                self.fit.objective
            ));
        }
        let r = &self.fit.ranges;
        for (k, (lo, hi)) in [
            ("loss", r.loss),
            ("compute", r.compute),
            ("params", r.params),
            ("tokens", r.tokens),
        ] {
            if lo > hi {
                return Err(format!(
                    "key 'fit.ranges.{k}' is [{lo}, {hi}]: its low end is above its high end"
                ));
            }
        }
        self.validate_residuals(same)?;
        self.validate_run(same)?;
        let ours = Units::new(self.data.param_count, &self.units.eval_set);
        for (k, given, want) in [
            ("loss", &self.units.loss, &ours.loss),
            ("compute", &self.units.compute, &ours.compute),
            ("tokens", &self.units.tokens, &ours.tokens),
        ] {
            if given != want {
                return Err(format!(
                    "key 'units.{k}' says '{given}', but ceq fits laws in '{want}'; the file was \
                     edited: refit with `ceq fit`"
                ));
            }
        }
        if self.units.params != self.data.param_count.describe() {
            return Err(format!(
                "key 'units.params' says '{}', but 'data.param_count' is '{}'; the file was \
                 edited: refit with `ceq fit`",
                self.units.params,
                self.data.param_count.name()
            ));
        }
        use crate::map::{LEVELS, usable_level};
        if let Some(l) = self.interval_level
            && !usable_level(l)
        {
            return Err(format!("key 'interval_level' is {l}; it must be {LEVELS}"));
        }
        if let Some(b) = &self.bootstrap {
            if !usable_level(b.level) {
                return Err(format!(
                    "key 'bootstrap.level' is {}; it must be {LEVELS}",
                    b.level
                ));
            }
            if let Some(i) = b.samples.iter().position(|s| s.form() != form) {
                return Err(format!(
                    "key 'bootstrap.samples[{i}]' holds a {} law's parameters, but 'form' is '{}'",
                    b.samples[i].form().name(),
                    form.name()
                ));
            }
            if b.samples.len().checked_add(b.failed) != Some(b.resamples) {
                return Err(format!(
                    "key 'bootstrap.resamples' is {}, but the file holds {} samples and {} failed \
                     refits; the file was edited: refit with `ceq fit`",
                    b.resamples,
                    b.samples.len(),
                    b.failed
                ));
            }
            // The intervals are the samples' percentiles, so an edited sample cannot pass for one.
            let again = intervals_of(&self.params, &b.samples, b.level);
            for (name, Interval((lo, hi))) in &b.intervals.0 {
                let same = again
                    .get(name)
                    .is_some_and(|Interval((l, h))| same(*l, *lo) && same(*h, *hi));
                if !same {
                    return Err(format!(
                        "key 'bootstrap.intervals.{name}' is not the percentile interval of \
                         'bootstrap.samples'; the file was edited: refit with `ceq fit`"
                    ));
                }
            }
        }
        Ok(())
    }

    /// A run law's `run` block (its model's size, its run, its tokens per step) is what the fit
    /// found: its size is every fitted point's, its run the one `data.run` chose. Other forms have
    /// none.
    fn validate_run(&self, same: impl Fn(f64, f64) -> bool) -> std::result::Result<(), String> {
        let info = match (&self.run, self.form) {
            (None, Form::Run) => {
                return Err(
                    "a run law's file holds its run in key 'run' (its model's params, tokens per \
                     step), and this one has none; the file was edited: refit with `ceq fit`"
                        .into(),
                );
            }
            (Some(_), form) if form != Form::Run => {
                return Err(format!(
                    "key 'run' belongs to a run law, but 'form' is '{}'; the file was edited: \
                     refit with `ceq fit`",
                    form.name()
                ));
            }
            (None, _) => return Ok(()),
            (Some(info), _) => info,
        };
        if let (Some(chosen), Some(r)) = (&self.data.run, &info.run)
            && chosen != r
        {
            return Err(format!(
                "key 'run.run' is '{r}', but 'data.run' says the fit chose run '{chosen}'; the \
                 file was edited: refit with `ceq fit`"
            ));
        }
        let (lo, hi) = self.fit.ranges.params;
        let size_holds = match info.params {
            Some(p) => p.is_finite() && p > 0.0 && same(p, lo) && same(p, hi),
            None => lo.is_nan() && hi.is_nan(),
        };
        if !size_holds {
            let p = info.params.map_or("absent".into(), |p| p.to_string());
            return Err(format!(
                "key 'run.params' is {p}, but the fitted points in 'fit.ranges.params' have \
                 [{lo}, {hi}]; the file was edited: refit with `ceq fit`"
            ));
        }
        if let Some(t) = info.tokens_per_step
            && !(t.is_finite() && t > 0.0)
        {
            return Err(format!(
                "key 'run.tokens_per_step' is {t}; tokens per step are a number > 0 (or the key \
                 is absent where the checkpoints give no steps): the file was edited: refit with \
                 `ceq fit`"
            ));
        }
        Ok(())
    }

    /// The residuals are the law's at the fitted points, and the ranges span those points: other
    /// parameters with their optimum edited alike, or a range widened so that rows beyond the data
    /// read as inside it, are refused.
    fn validate_residuals(
        &self,
        same: impl Fn(f64, f64) -> bool,
    ) -> std::result::Result<(), String> {
        let residuals = &self.fit.residuals;
        if residuals.is_empty() {
            return Err(
                "key 'fit.residuals' is empty; a fit has points: refit with `ceq fit`".into(),
            );
        }
        let n = self.fit.residuals_of.unwrap_or(residuals.len());
        if n != self.data.n_points {
            return Err(format!(
                "key 'data.n_points' is {}, but 'fit.residuals' holds {n} points; the file was \
                 edited: refit with `ceq fit`",
                self.data.n_points
            ));
        }
        for (i, r) in residuals.iter().enumerate() {
            let at = crate::table::Checkpoint {
                name: None,
                params: r.params,
                tokens: r.tokens,
                compute: r.compute,
                loss: r.loss,
                run: None,
                step: None,
                line: r.line,
            };
            let p = self.params.predict(&at);
            if !same(p, r.predicted) {
                return Err(format!(
                    "key 'fit.residuals[{i}].predicted' is {}, but the law's parameters give {p} \
                     at that point; the file was edited: refit with `ceq fit`",
                    r.predicted
                ));
            }
        }
        let r = &self.fit.ranges;
        type Of = fn(&crate::fit::Residual) -> f64;
        let quantities: [(&str, (f64, f64), Of); 4] = [
            ("loss", r.loss, |r| r.loss),
            ("compute", r.compute, |r| r.compute),
            ("params", r.params, |r| r.params),
            ("tokens", r.tokens, |r| r.tokens),
        ];
        for (k, (lo, hi), of) in quantities {
            let values = residuals.iter().map(of).filter(|v| v.is_finite());
            let (min, max) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), v| {
                (l.min(v), h.max(v))
            });
            // Every point when the file holds them all; a sample lies within the range.
            let holds = match self.fit.residuals_of {
                None if min <= max => same(lo, min) && same(hi, max),
                None => lo.is_nan() && hi.is_nan(),
                Some(_) => min > max || (lo <= min && max <= hi),
            };
            if !holds {
                return Err(format!(
                    "key 'fit.ranges.{k}' is [{lo}, {hi}], but the fitted points in \
                     'fit.residuals' span [{min}, {max}]; the file was edited: refit with `ceq fit`"
                ));
            }
        }
        Ok(())
    }

    /// The fitted law.
    pub fn law(&self) -> &Law {
        &self.params
    }

    /// The fit's choices that are not the defaults, for every output's note: checkpoints dropped
    /// (`--drop-highest`), a Huber δ other than Hoffmann et al.'s 1e-3.
    pub fn fit_choices(&self) -> Option<String> {
        let mut said = vec![];
        if let Some(r) = &self.data.run {
            said.push(format!("only run '{r}'"));
        }
        let k = self.data.dropped_highest;
        if k > 0 {
            let of = self.data.n_points + k;
            said.push(format!("the {k} highest-loss of {of} checkpoints dropped"));
        }
        if self.fit.delta != crate::fit::FitOptions::default().delta {
            said.push(format!("Huber delta = {}", self.fit.delta));
        }
        (!said.is_empty()).then(|| said.join(", "))
    }

    /// Whether the law's compute is the checkpoints file's own column (a compute law fitted to
    /// one), not 6·N·D (a Chinchilla or run law, or a compute law of params and tokens).
    pub fn compute_is_the_files(&self) -> bool {
        self.form == crate::law::Form::Compute && self.data.compute_source == "column"
    }

    /// The level of the intervals a map through this law gives: its refits', else the one the fit
    /// was asked for, else 90 %.
    pub fn level(&self) -> f64 {
        match &self.bootstrap {
            Some(b) => b.level,
            None => self.interval_level.unwrap_or(crate::map::DEFAULT_LEVEL),
        }
    }

    /// The bootstrap refits, if any, and their interval level.
    pub fn bootstrap_laws(&self) -> Option<(&[Law], f64)> {
        let b = self.bootstrap.as_ref()?;
        Some((&b.samples, b.level))
    }

    /// The interval of a parameter or derived number, when bootstrapped.
    pub fn interval(&self, name: &str) -> Option<(f64, f64)> {
        self.bootstrap.as_ref()?.intervals.get(name).map(|i| i.0)
    }
}

/// Whether JSON error `e` in `text` sits on a bare NaN or Infinity (Python's json writes them;
/// edited by hand, a law file gets one), which serde_json reports as a value expected.
fn at_non_finite(text: &str, e: &serde_json::Error) -> bool {
    let line = text.lines().nth(e.line().saturating_sub(1)).unwrap_or("");
    let at = line.get(e.column().saturating_sub(1)..).unwrap_or("");
    let at = at.trim_start_matches(['-', '+']);
    // `nan` is not here: serde_json reads its n as the start of null and stops after it.
    ["NaN", "Infinity", "inf"].iter().any(|w| at.starts_with(w))
}
