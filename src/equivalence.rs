//! One splice + one law → what the spliced loss is worth in training compute, next to the linear
//! "loss recovered", with bootstrap intervals and a status that says when a number should not be
//! trusted.

use serde::Serialize;

use crate::fit::{Ranges, percentile_interval};
use crate::law::{Axis, Law};
use crate::table::Splice;

/// How far a row's numbers can be trusted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Ok,
    /// A loss maps outside the compute (or token) range the law was fitted on.
    Extrapolated,
    /// A linear number is undefined (e.g. zero-ablation loss ≤ clean loss).
    Undefined,
    /// A loss is at or below the fitted floor E: no finite compute reaches it.
    BelowFloor,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Extrapolated => "extrapolated",
            Status::Undefined => "undefined",
            Status::BelowFloor => "below_floor",
        }
    }
}

/// The compute-scale numbers of one splice under one law. `None` where undefined.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Equivalent {
    /// FLOPs at which the law's curve reaches ce_clean.
    pub compute_clean: Option<f64>,
    /// FLOPs at which the law's curve reaches ce_spliced.
    pub compute: Option<f64>,
    /// C_eq(spliced) / C_eq(clean).
    pub fraction: Option<f64>,
    /// −log10(fraction): orders of magnitude of compute lost.
    pub log10_ratio: Option<f64>,
    /// C_eq(spliced) / the host's actual training compute.
    pub fraction_of_actual: Option<f64>,
    /// Chinchilla: N_opt of the frontier model at C_eq. None otherwise.
    pub params: Option<f64>,
    /// Chinchilla: D_opt at C_eq; run: tokens at which the run reaches ce_spliced.
    pub tokens: Option<f64>,
    /// Run: the step at which the run reaches ce_spliced.
    pub step: Option<f64>,
}

/// The law's scale (compute or tokens) at which it reaches `loss`; +∞ at or below the floor.
fn scale(law: &Law, loss: f64) -> f64 {
    law.inverse(loss).unwrap_or(f64::INFINITY)
}

fn finite(v: f64) -> Option<f64> {
    v.is_finite().then_some(v)
}

impl Equivalent {
    /// The numbers for one splice; with `keep_infinite`, a loss below the floor gives +∞ compute (and
    /// fractions of 0 or +∞) instead of None, which is what bootstrap percentiles need.
    pub fn of(law: &Law, s: &Splice, keep_infinite: bool) -> Equivalent {
        let x_clean = scale(law, s.ce_clean);
        let x = scale(law, s.ce_spliced);
        let keep = |v: f64| {
            if keep_infinite && !v.is_nan() {
                Some(v)
            } else {
                finite(v)
            }
        };
        let to_compute = |x: f64| match law {
            Law::Chinchilla(_) | Law::Compute(_) => Some(x),
            Law::Run(r) => r.info.params.map(|n| 6.0 * n * x),
        };
        // Outside the bootstrap, a fraction against an unreachable loss is no number at all.
        let fraction = if keep_infinite || (x.is_finite() && x_clean.is_finite()) {
            x / x_clean
        } else {
            f64::NAN
        };
        let compute = to_compute(x);
        let (params, tokens, step) = match law {
            Law::Chinchilla(c) => (finite(c.n_opt(x)), finite(c.d_opt(x)), None),
            Law::Compute(_) => (None, None, None),
            Law::Run(r) => (
                None,
                finite(x),
                r.info.tokens_per_step.and_then(|t| finite(x / t)),
            ),
        };
        Equivalent {
            compute_clean: to_compute(x_clean).and_then(keep),
            compute: compute.and_then(keep),
            fraction: keep(fraction),
            log10_ratio: keep(-fraction.log10()),
            fraction_of_actual: compute.zip(s.compute).and_then(|(c, a)| keep(c / a)),
            params,
            tokens,
            step,
        }
    }
}

/// Percentile intervals of the bootstrap's equivalents.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Intervals {
    pub compute_clean: Option<(f64, f64)>,
    pub compute: Option<(f64, f64)>,
    pub fraction: Option<(f64, f64)>,
    pub log10_ratio: Option<(f64, f64)>,
    pub fraction_of_actual: Option<(f64, f64)>,
    pub params: Option<(f64, f64)>,
    pub tokens: Option<(f64, f64)>,
    pub step: Option<(f64, f64)>,
    /// Refits that gave a number for the fraction (out of all refits).
    pub used: usize,
}

/// One mapped splice.
#[derive(Clone, Debug, PartialEq)]
pub struct Mapped {
    pub delta_loss: f64,
    pub loss_recovered: Option<f64>,
    pub loss_recovered_mean: Option<f64>,
    pub eq: Equivalent,
    pub ci: Option<Intervals>,
    pub status: Status,
    pub detail: String,
}

/// A point estimate and its interval, each where defined.
pub type PointAndInterval = (Option<f64>, Option<(f64, f64)>);

impl Mapped {
    /// The point estimate and interval of a compute-scale column of the mapped table
    /// ([`crate::schema::MAPPED`]'s interval columns); `None` for any other name.
    pub fn scale_column(&self, name: &str) -> Option<PointAndInterval> {
        let (e, ci) = (&self.eq, self.ci.unwrap_or_default());
        Some(match name {
            "compute_equivalent_clean" => (e.compute_clean, ci.compute_clean),
            "compute_equivalent" => (e.compute, ci.compute),
            "compute_fraction" => (e.fraction, ci.fraction),
            "log10_compute_ratio" => (e.log10_ratio, ci.log10_ratio),
            "compute_fraction_of_actual" => (e.fraction_of_actual, ci.fraction_of_actual),
            "params_equivalent" => (e.params, ci.params),
            "tokens_equivalent" => (e.tokens, ci.tokens),
            "step_equivalent" => (e.step, ci.step),
            _ => return None,
        })
    }
}

/// `1 − (spliced − clean)/(ablated − clean)`; undefined when ablation does not raise the loss.
fn recovered(s: &Splice, ablated: Option<f64>) -> Option<Option<f64>> {
    ablated.map(|z| (z > s.ce_clean).then(|| 1.0 - (s.ce_spliced - s.ce_clean) / (z - s.ce_clean)))
}

/// Maps one splice under the fitted law, its fitted ranges, and optional bootstrap refits.
pub fn map_splice(law: &Law, ranges: &Ranges, boot: Option<(&[Law], f64)>, s: &Splice) -> Mapped {
    let eq = Equivalent::of(law, s, false);
    let lr = recovered(s, s.ce_zero_ablation);
    let lrm = recovered(s, s.ce_mean_ablation);

    let mut status = Status::Ok;
    let mut notes: Vec<String> = vec![];
    let e = law.floor();
    if !law.decreasing() {
        status = Status::Undefined;
        notes.push("the law's exponents are not all positive: loss does not fall with scale, so no loss has a compute-equivalent".into());
    }
    if s.ce_spliced < s.ce_clean {
        notes.push(
            "ce_spliced < ce_clean: the splice lowers the loss (compute_fraction > 1)".into(),
        );
    }
    for (what, loss) in [("ce_clean", s.ce_clean), ("ce_spliced", s.ce_spliced)] {
        if loss <= e {
            status = status.max(Status::BelowFloor);
            notes.push(format!(
                "{what} = {loss:.4} is at or below the fitted floor E = {e:.4}: no finite compute reaches it"
            ));
        }
    }
    for (what, col, v) in [
        ("loss_recovered", "ce_zero_ablation", lr),
        ("loss_recovered_mean", "ce_mean_ablation", lrm),
    ] {
        if v == Some(None) {
            status = status.max(Status::Undefined);
            notes.push(format!("{what} is undefined: {col} <= ce_clean"));
        }
    }
    let (lo, hi, unit) = match law.form().axis() {
        Axis::Compute => (ranges.compute.0, ranges.compute.1, "FLOPs of compute"),
        Axis::Tokens => (ranges.tokens.0, ranges.tokens.1, "tokens"),
    };
    for (what, loss) in [("ce_clean", s.ce_clean), ("ce_spliced", s.ce_spliced)] {
        let Some(x) = law.inverse(loss) else { continue };
        if x < lo {
            status = status.max(Status::Extrapolated);
            notes.push(format!(
                "{what} maps to {x:.3e} {unit}, {:.3}x below the smallest fitted ({lo:.3e})",
                lo / x
            ));
        } else if x > hi {
            status = status.max(Status::Extrapolated);
            notes.push(format!(
                "{what} maps to {x:.3e} {unit}, {:.3}x above the largest fitted ({hi:.3e})",
                x / hi
            ));
        }
    }

    let ci = boot.map(|(laws, level)| {
        let eqs: Vec<Equivalent> = laws.iter().map(|l| Equivalent::of(l, s, true)).collect();
        // An interval only where there is a point estimate to go with it.
        let iv = |f: fn(&Equivalent) -> Option<f64>| {
            f(&eq)?;
            let v: Vec<f64> = eqs.iter().filter_map(f).collect();
            percentile_interval(&v, level)
        };
        Intervals {
            compute_clean: iv(|e| e.compute_clean),
            compute: iv(|e| e.compute),
            fraction: iv(|e| e.fraction),
            log10_ratio: iv(|e| e.log10_ratio),
            fraction_of_actual: iv(|e| e.fraction_of_actual),
            params: iv(|e| e.params),
            tokens: iv(|e| e.tokens),
            step: iv(|e| e.step),
            used: eqs.iter().filter(|e| e.fraction.is_some()).count(),
        }
    });
    if let Some(ci) = &ci
        && let Some((laws, _)) = boot
        && ci.used < laws.len()
    {
        notes.push(format!(
            "intervals from {} of {} refits (the rest put both losses below their floor)",
            ci.used,
            laws.len()
        ));
    }

    // Percentiles of the refits need not contain the fit's own number (when the refits settle
    // elsewhere); such an interval is shown, but not without saying so.
    if let Some(ci) = &ci {
        for (what, v, iv) in [
            ("compute_equivalent", eq.compute, ci.compute),
            ("compute_fraction", eq.fraction, ci.fraction),
        ] {
            if let (Some(v), Some((lo, hi))) = (v, iv)
                && (v < lo * (1.0 - 1e-9) || v > hi * (1.0 + 1e-9))
            {
                notes.push(format!(
                    "the interval of {what} [{lo:.4e}, {hi:.4e}] does not contain its estimate {v:.4e}: \
                     the refits disagree with the fit"
                ));
            }
        }
    }

    Mapped {
        delta_loss: s.ce_spliced - s.ce_clean,
        loss_recovered: lr.flatten(),
        loss_recovered_mean: lrm.flatten(),
        eq,
        ci,
        status,
        detail: notes.join("; "),
    }
}
