//! The saved law (`ceq fit --out law.json`): the fitted parameters, the units and data they refer to,
//! the fit's diagnostics and, when bootstrapped, every refit. `ceq map --law` reads it back.

use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::{Error, Result};
use crate::fit::{Bootstrap, Fit, Ranges, Residual, percentile_interval};
use crate::law::{Chinchilla, ComputeLaw, Form, Law, RunInfo, RunLaw};
use crate::table::{ColumnMap, Family};

/// Which parameter count the `params` column holds; it changes every fitted number, so it is recorded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum ParamCount {
    /// All parameters, embeddings included (Hoffmann et al.).
    Total,
    /// Parameters excluding embeddings (Kaplan et al.).
    NonEmbedding,
}

impl ParamCount {
    pub fn describe(self) -> &'static str {
        match self {
            ParamCount::Total => "total parameters (embeddings included)",
            ParamCount::NonEmbedding => "non-embedding parameters",
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
    pub n_points: usize,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FitSummary {
    /// Σ Huber_δ(log residuals) at the optimum (a sum, not a mean).
    pub objective: f64,
    pub delta: f64,
    pub starts: usize,
    pub failed_starts: usize,
    pub evaluations: usize,
    pub outliers: usize,
    pub warnings: Vec<String>,
    pub ranges: Ranges,
    /// Log-space optimum, in `theta_names` order.
    pub theta_names: Vec<String>,
    pub theta: Vec<f64>,
    pub residuals: Vec<Residual>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BootstrapSummary {
    pub resamples: usize,
    pub seed: u64,
    pub unit: crate::fit::Resample,
    pub failed: usize,
    /// Central percentile interval level of `intervals`.
    pub level: f64,
    pub intervals: Map<String, Value>,
    /// Every refit's parameters (natural units), so intervals of derived numbers can be recomputed.
    pub samples: Vec<Map<String, Value>>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LawFile {
    pub ceq_version: String,
    pub form: Form,
    pub formula: String,
    pub params: Map<String, Value>,
    pub derived: Map<String, Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run: Option<RunInfo>,
    pub units: Units,
    pub data: DataInfo,
    pub fit: FitSummary,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bootstrap: Option<BootstrapSummary>,
}

fn named(pairs: Vec<(&'static str, f64)>) -> Map<String, Value> {
    pairs
        .into_iter()
        .map(|(k, v)| (k.to_owned(), num(v)))
        .collect()
}

/// JSON has no inf/NaN: write null for them.
fn num(v: f64) -> Value {
    serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number)
}

impl LawFile {
    pub fn new(
        fit: &Fit,
        family: &Family,
        units: Units,
        param_count: ParamCount,
        boot: Option<(&Bootstrap, f64)>,
    ) -> Self {
        let bootstrap = boot.map(|(b, level)| {
            let laws = b.laws(&fit.law);
            let samples: Vec<Map<String, Value>> = laws.iter().map(|l| named(l.params())).collect();
            let mut intervals = Map::new();
            let names = fit
                .law
                .params()
                .into_iter()
                .chain(fit.law.derived())
                .map(|p| p.0);
            for (i, name) in names.enumerate() {
                let vals: Vec<f64> = laws
                    .iter()
                    .map(|l| l.params().into_iter().chain(l.derived()).nth(i).unwrap().1)
                    .collect();
                if let Some((lo, hi)) = percentile_interval(&vals, level) {
                    intervals.insert(name.into(), Value::Array(vec![num(lo), num(hi)]));
                }
            }
            BootstrapSummary {
                resamples: b.resamples,
                seed: b.seed,
                unit: b.unit,
                failed: b.failed,
                level,
                intervals,
                samples,
            }
        });
        LawFile {
            ceq_version: env!("CARGO_PKG_VERSION").into(),
            form: fit.law.form(),
            formula: fit.law.form().formula().into(),
            params: named(fit.law.params()),
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
                n_points: fit.checkpoints.len(),
            },
            fit: FitSummary {
                objective: fit.objective,
                delta: fit.delta,
                starts: fit.n_starts,
                failed_starts: fit.n_failed_starts,
                evaluations: fit.evaluations,
                outliers: fit.n_outliers,
                warnings: fit.warnings.clone(),
                ranges: fit.ranges,
                theta_names: fit
                    .law
                    .form()
                    .theta_names()
                    .iter()
                    .map(|s| s.to_string())
                    .collect(),
                theta: fit.theta.clone(),
                residuals: fit.residuals.clone(),
            },
            bootstrap,
        }
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a law file always serialises") + "\n"
    }

    /// Reads and validates a law file; errors name the file and the key.
    pub fn read(path: &Path) -> Result<LawFile> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
            path: path.to_owned(),
            source,
        })?;
        let bad = |message: String| Error::BadLaw {
            path: path.to_owned(),
            message,
        };
        let lf: LawFile = serde_json::from_str(&text)
            .map_err(|e| bad(format!("{e}; regenerate it with `ceq fit --out`")))?;
        lf.law().map_err(|key| {
            bad(format!(
                "key 'params.{key}' is missing, not a number, or out of range"
            ))
        })?;
        if !(lf.fit.delta > 0.0 && lf.fit.delta.is_finite()) {
            return Err(bad("key 'fit.delta' must be a positive number".into()));
        }
        if let Some(b) = &lf.bootstrap {
            if !(b.level > 0.0 && b.level < 1.0) {
                return Err(bad(format!(
                    "key 'bootstrap.level' is {}; it must be between 0 and 1 (e.g. 0.9)",
                    b.level
                )));
            }
            for (i, s) in b.samples.iter().enumerate() {
                law_from_params(lf.form, s, lf.run.as_ref()).map_err(|key| {
                    bad(format!(
                        "key 'bootstrap.samples[{i}].{key}' is missing or not a number"
                    ))
                })?;
            }
        }
        Ok(lf)
    }

    /// The fitted law; `Err(key)` names a missing or invalid parameter.
    pub fn law(&self) -> std::result::Result<Law, String> {
        law_from_params(self.form, &self.params, self.run.as_ref())
    }

    /// The bootstrap refits, if any, and their interval level.
    pub fn bootstrap_laws(&self) -> Option<(Vec<Law>, f64)> {
        let b = self.bootstrap.as_ref()?;
        let laws = b
            .samples
            .iter()
            .filter_map(|s| law_from_params(self.form, s, self.run.as_ref()).ok())
            .collect();
        Some((laws, b.level))
    }
}

/// Builds a law from named natural-unit parameters (E, A, alpha, …).
fn law_from_params(
    form: Form,
    p: &Map<String, Value>,
    run: Option<&RunInfo>,
) -> std::result::Result<Law, String> {
    let get = |k: &str, positive: bool| -> std::result::Result<f64, String> {
        let v = p
            .get(k)
            .and_then(Value::as_f64)
            .ok_or_else(|| k.to_owned())?;
        if !v.is_finite() || (positive && v <= 0.0) {
            return Err(k.to_owned());
        }
        Ok(v)
    };
    Ok(match form {
        Form::Chinchilla => Law::Chinchilla(Chinchilla {
            e: get("E", true)?,
            a: get("A", true)?,
            alpha: get("alpha", false)?,
            b: get("B", true)?,
            beta: get("beta", false)?,
        }),
        Form::Compute => Law::Compute(ComputeLaw {
            e: get("E", true)?,
            a: get("A", true)?,
            alpha: get("alpha", false)?,
        }),
        Form::Run => Law::Run(RunLaw {
            e: get("E", true)?,
            b: get("B", true)?,
            beta: get("beta", false)?,
            info: run.cloned().unwrap_or_default(),
        }),
    })
}
