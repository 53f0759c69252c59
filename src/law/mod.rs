//! Scaling laws. Each form is a small value (its parameters) in its own file; this module holds what
//! they share: the [`Form`] names, the log-sum-exp parameterisation used for fitting, and the [`Law`]
//! enum that the rest of ceq passes around.
//!
//! Every law here is `L = E + Σ_j exp(c_j − k_j·x_j)` with `x_j` the log of a scale (N, D or C). Fitting
//! works on `θ = [e, c_1, k_1, (c_2, k_2)]` with `E = exp(e)`, so one Huber objective serves all forms.

mod chinchilla;
mod compute;
mod named;
mod run;

pub use chinchilla::Chinchilla;
pub use compute::ComputeLaw;
pub use named::Named;
pub use run::{RunLaw, SCHEDULE_CAVEAT};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::serde_nan::Num;

use crate::table::Checkpoint;

/// The law forms ceq fits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Form {
    /// L(N,D) = E + A/N^alpha + B/D^beta, with its compute-optimal frontier (C = 6ND).
    Chinchilla,
    /// L(C) = E + A·C^-alpha, for a family already on its frontier (one point per model size).
    Compute,
    /// L(D) = E + B·D^-beta, for one model's training run (its checkpoints).
    Run,
}

/// Which quantity a law's curve is drawn against, and so what its inverse returns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Axis {
    /// Training compute C in FLOPs.
    Compute,
    /// Training tokens D.
    Tokens,
}

impl Form {
    pub const ALL: [Form; 3] = [Form::Chinchilla, Form::Compute, Form::Run];

    pub fn name(self) -> &'static str {
        match self {
            Form::Chinchilla => "chinchilla",
            Form::Compute => "compute",
            Form::Run => "run",
        }
    }

    pub fn formula(self) -> &'static str {
        match self {
            Form::Chinchilla => "L(N,D) = E + A/N^alpha + B/D^beta",
            Form::Compute => "L(C) = E + A*C^(-alpha)",
            Form::Run => "L(D) = E + B*D^(-beta)",
        }
    }

    /// One line for a list of choices.
    pub fn describe(self) -> &'static str {
        match self {
            Form::Chinchilla => {
                "L(N,D) = E + A/N^alpha + B/D^beta, read on its compute-optimal frontier"
            }
            Form::Compute => "L(C) = E + A*C^-alpha, for a family already on its frontier",
            Form::Run => "L(D) = E + B*D^-beta, for one model's training run",
        }
    }

    /// Names of the natural-unit parameters, in [`Law::params`] order.
    pub fn param_names(self) -> &'static [&'static str] {
        match self {
            Form::Chinchilla => &["E", "A", "B", "alpha", "beta"],
            Form::Compute => &["E", "A", "alpha"],
            Form::Run => &["E", "B", "beta"],
        }
    }

    /// Number of power-law terms besides E.
    pub fn n_terms(self) -> usize {
        match self {
            Form::Chinchilla => 2,
            Form::Compute | Form::Run => 1,
        }
    }

    pub fn n_params(self) -> usize {
        1 + 2 * self.n_terms()
    }

    /// Names of the fitted (log-space) parameters, in θ order.
    pub fn theta_names(self) -> &'static [&'static str] {
        match self {
            Form::Chinchilla => &["e", "a", "alpha", "b", "beta"],
            Form::Compute => &["e", "a", "alpha"],
            Form::Run => &["e", "b", "beta"],
        }
    }

    pub fn axis(self) -> Axis {
        match self {
            Form::Chinchilla | Form::Compute => Axis::Compute,
            Form::Run => Axis::Tokens,
        }
    }

    /// The log scales `x_j` of one checkpoint, in term order.
    pub fn features(self, c: &Checkpoint) -> [f64; 2] {
        match self {
            Form::Chinchilla => [c.params.ln(), c.tokens.ln()],
            Form::Compute => [c.compute.ln(), 0.0],
            Form::Run => [c.tokens.ln(), 0.0],
        }
    }

    /// Hoffmann et al. (2022, App. D.2)'s grid of starts: e ∈ {−1, −.5, …, 1}, every scale
    /// c ∈ {0, 5, …, 25}, every exponent k ∈ {0, .5, …, 2}; 4500 starts for chinchilla, 150 otherwise.
    /// Their e = ln E stops at 1 (E ≈ 2.7 nats, above any large model's floor); when every loss of
    /// the family is well above that (small models, synthetic languages), e also starts just below
    /// the lowest loss, which bounds E.
    pub fn grid(self, min_loss: f64) -> Vec<Vec<f64>> {
        let mut es = vec![-1.0, -0.5, 0.0, 0.5, 1.0];
        let top = min_loss.ln() - 0.1;
        if top > 1.25 {
            es.push(top);
        }
        let cs = [0.0, 5.0, 10.0, 15.0, 20.0, 25.0];
        let ks = [0.0, 0.5, 1.0, 1.5, 2.0];
        let mut out = vec![];
        for &e in &es {
            for &c1 in &cs {
                for &k1 in &ks {
                    if self.n_terms() == 1 {
                        out.push(vec![e, c1, k1]);
                        continue;
                    }
                    for &c2 in &cs {
                        for &k2 in &ks {
                            out.push(vec![e, c1, k1, c2, k2]);
                        }
                    }
                }
            }
        }
        out
    }

    /// The grid's range for each θ entry, to warn when a fit lands on or beyond it; e may reach
    /// the lowest loss (beyond it, another warning says the floor is above a checkpoint).
    pub fn grid_bounds(self, min_loss: f64) -> Vec<(f64, f64)> {
        let mut b = vec![(-1.0, min_loss.ln().max(1.0))];
        for _ in 0..self.n_terms() {
            b.push((0.0, 25.0));
            b.push((0.0, 2.0));
        }
        b
    }
}

/// Metadata a `run` law needs to turn tokens into compute and steps.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RunInfo {
    /// Name of the run in the checkpoints file, when it has a `run` column.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub run: Option<String>,
    /// Parameter count of the run's model.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub params: Option<f64>,
    /// Tokens per optimiser step, when the checkpoints have a `step` column.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tokens_per_step: Option<f64>,
}

/// A fitted law of one of the three forms.
#[derive(Clone, Debug, PartialEq)]
pub enum Law {
    Chinchilla(Chinchilla),
    Compute(ComputeLaw),
    Run(RunLaw),
}

impl Law {
    /// The law at a log-space optimum, in [`Form::theta_names`] order; `theta` holds exactly
    /// [`Form::n_params`] values (the crate's fits do; a law file's are checked on reading).
    pub(crate) fn from_theta(form: Form, theta: &[f64], run: &RunInfo) -> Law {
        match form {
            Form::Chinchilla => Law::Chinchilla(Chinchilla::from_theta(theta)),
            Form::Compute => Law::Compute(ComputeLaw::from_theta(theta)),
            Form::Run => Law::Run(RunLaw::from_theta(theta, run.clone())),
        }
    }

    pub fn form(&self) -> Form {
        match self {
            Law::Chinchilla(_) => Form::Chinchilla,
            Law::Compute(_) => Form::Compute,
            Law::Run(_) => Form::Run,
        }
    }

    /// The irreducible loss E (nats/token): no finite compute gets below it.
    pub fn floor(&self) -> f64 {
        match self {
            Law::Chinchilla(l) => l.e,
            Law::Compute(l) => l.e,
            Law::Run(l) => l.e,
        }
    }

    /// Whether loss falls with scale (every exponent > 0); if not, no loss has a compute-equivalent.
    pub fn decreasing(&self) -> bool {
        self.params()
            .iter()
            .filter(|(k, _)| *k == "alpha" || *k == "beta")
            .all(|(_, v)| *v > 0.0)
    }

    /// Builds a law from its named natural-unit parameters; the set of names says the form. Scales
    /// (E, A, B) must be positive and every value finite.
    pub fn from_named(p: &Named<f64>) -> std::result::Result<Law, ParamError> {
        let given: Vec<&str> = p.names().collect();
        // The form whose names the given ones match best (ties: the first in `Form::ALL`).
        let form = Form::ALL
            .into_iter()
            .max_by_key(|f| {
                let hits = f.param_names().iter().filter(|n| given.contains(n)).count();
                (hits, std::cmp::Reverse(f.n_params()))
            })
            .unwrap_or(Form::Chinchilla);
        let names = form.param_names();
        let err = |key: &str, message: String| ParamError {
            key: key.to_owned(),
            message,
        };
        if let Some(k) = names.iter().find(|n| !given.contains(n)) {
            return Err(err(
                k,
                format!("is missing; a {} law has {}", form.name(), names.join(", ")),
            ));
        }
        if let Some(k) = given.iter().find(|g| !names.contains(g)) {
            return Err(err(
                k,
                format!(
                    "is not a parameter of a {} law ({})",
                    form.name(),
                    names.join(", ")
                ),
            ));
        }
        let get = |k: &str| -> std::result::Result<f64, ParamError> {
            let v = p.get(k).copied().unwrap_or(f64::NAN);
            if !v.is_finite() {
                return Err(err(k, "is not a finite number".into()));
            }
            // Scales are positive; E may be 0 (no irreducible loss), which a fit reaches when
            // exp(e) underflows.
            let floor_ok = k == "E" && v == 0.0;
            if k.starts_with(|c: char| c.is_ascii_uppercase()) && v <= 0.0 && !floor_ok {
                return Err(err(k, format!("is {v}; it must be > 0")));
            }
            Ok(v)
        };
        Ok(match form {
            Form::Chinchilla => Law::Chinchilla(Chinchilla {
                e: get("E")?,
                a: get("A")?,
                alpha: get("alpha")?,
                b: get("B")?,
                beta: get("beta")?,
            }),
            Form::Compute => Law::Compute(ComputeLaw {
                e: get("E")?,
                a: get("A")?,
                alpha: get("alpha")?,
            }),
            Form::Run => Law::Run(RunLaw {
                e: get("E")?,
                b: get("B")?,
                beta: get("beta")?,
                info: RunInfo::default(),
            }),
        })
    }

    /// Reads a law from JSON, naming a bad parameter as `{at}{name}` in the error.
    pub fn deserialize_at<'de, D: Deserializer<'de>>(
        d: D,
        at: &str,
    ) -> std::result::Result<Law, D::Error> {
        let named = Named::<Num>::deserialize(d)?;
        let p: Named<f64> = named.0.into_iter().map(|(k, v)| (k, v.0)).collect();
        Law::from_named(&p)
            .map_err(|e| serde::de::Error::custom(format!("key '{at}{}' {}", e.key, e.message)))
    }

    /// A `run` law's metadata (tokens per step, parameter count), which its file keeps beside the
    /// parameters; no effect on other forms.
    pub fn with_run_info(mut self, info: Option<&RunInfo>) -> Law {
        if let (Law::Run(r), Some(i)) = (&mut self, info) {
            r.info = i.clone();
        }
        self
    }

    /// Named parameters in natural units, in a fixed order.
    pub fn params(&self) -> Vec<(&'static str, f64)> {
        match self {
            Law::Chinchilla(l) => vec![
                ("E", l.e),
                ("A", l.a),
                ("B", l.b),
                ("alpha", l.alpha),
                ("beta", l.beta),
            ],
            Law::Compute(l) => vec![("E", l.e), ("A", l.a), ("alpha", l.alpha)],
            Law::Run(l) => vec![("E", l.e), ("B", l.b), ("beta", l.beta)],
        }
    }

    /// Whether every parameter and derived constant is a finite f64. A fit's optimum can lie where
    /// one is not (B = e^b with b > 709 when β runs off to ~70): such a law predicts nothing and
    /// cannot be saved.
    pub fn is_finite(&self) -> bool {
        self.params()
            .into_iter()
            .chain(self.derived())
            .all(|(_, v)| v.is_finite())
    }

    /// Numbers derived from the parameters (the frontier's constants).
    pub fn derived(&self) -> Vec<(&'static str, f64)> {
        match self {
            Law::Chinchilla(l) => l.derived(),
            Law::Compute(_) | Law::Run(_) => vec![],
        }
    }

    /// Predicted loss (nats/token) of one checkpoint.
    pub fn predict(&self, c: &Checkpoint) -> f64 {
        match self {
            Law::Chinchilla(l) => l.loss(c.params, c.tokens),
            Law::Compute(l) => l.loss(c.compute),
            Law::Run(l) => l.loss(c.tokens),
        }
    }

    /// Loss on the law's curve at scale `x` (compute in FLOPs, or tokens for `run`); for `chinchilla`
    /// this is the compute-optimal frontier L*(C).
    pub fn curve(&self, x: f64) -> f64 {
        match self {
            Law::Chinchilla(l) => l.frontier_loss(x),
            Law::Compute(l) => l.loss(x),
            Law::Run(l) => l.loss(x),
        }
    }

    /// The exponent p of the curve L = E + K·x^(−p) that [`Law::inverse`] inverts: γ for the
    /// `chinchilla` frontier, α for `compute`, β for `run`.
    pub fn curve_exponent(&self) -> f64 {
        match self {
            Law::Chinchilla(l) => l.gamma(),
            Law::Compute(l) => l.alpha,
            Law::Run(l) => l.beta,
        }
    }

    /// d ln x/dL of x = [`Law::inverse`]`(L)`, analytically: every curve is E + K·x^(−p), so
    /// ln x = −ln((L − E)/K)/p and the derivative is −1/(p·(L − E)). `None` where the inverse is.
    pub fn dlog_inverse(&self, loss: f64) -> Option<f64> {
        self.inverse(loss)?;
        Some(-1.0 / (self.curve_exponent() * (loss - self.floor())))
    }

    /// ln(x_a/x_b) for x = [`Law::inverse`] at losses `a` and `b`, = −ln((a − E)/(b − E))/p, taken
    /// in logs so that it stands where x itself passes f64's range (a shallow law near its floor).
    /// `None` where either inverse is.
    pub fn log_inverse_ratio(&self, a: f64, b: f64) -> Option<f64> {
        self.inverse(a)?;
        self.inverse(b)?;
        let e = self.floor();
        Some(-((a - e).ln() - (b - e).ln()) / self.curve_exponent())
    }

    /// The inverse of [`Law::curve`]: the scale at which the curve reaches `loss`; `None` when
    /// `loss ≤ E`, which no finite scale reaches, or when the law does not decrease.
    pub fn inverse(&self, loss: f64) -> Option<f64> {
        match self {
            Law::Chinchilla(l) => l.frontier_compute(loss),
            Law::Compute(l) => l.compute_for(loss),
            Law::Run(l) => l.tokens_for(loss),
        }
    }
}

/// A law is written as its named parameters (`{"E": 1.8, "A": 480, ...}`) and read back from them.
impl Serialize for Law {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let named: Named<Num> = self
            .params()
            .into_iter()
            .map(|(k, v)| (k.to_owned(), Num(v)))
            .collect();
        named.serialize(s)
    }
}

impl<'de> Deserialize<'de> for Law {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Law, D::Error> {
        Law::deserialize_at(d, "")
    }
}

/// A named parameter that does not make a law.
#[derive(Clone, Debug, PartialEq)]
pub struct ParamError {
    pub key: String,
    pub message: String,
}
