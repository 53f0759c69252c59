//! One splice + one law → what the spliced loss is worth in training compute, next to the linear
//! "loss recovered", with intervals (the law's bootstrap refits, the CEs' measurement noise, or both)
//! and a status that says when a number should not be trusted.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

use crate::fit::{Ranges, percentile_interval, ratio_percentile_interval};
use crate::law::{Axis, Law};
use crate::measurement::{CeNoise, TARGET_HALF_WIDTH, normal_quantile, tokens_for};
use crate::table::Splice;

/// How far a row's numbers can be trusted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Ok,
    /// The host's clean CE lies far from the law at its own size and tokens: the row's numbers
    /// read it against a curve it is not on. Below the others: a host outside the fitted range
    /// is first of all extrapolated, and the law's value there is an extrapolation too.
    OffLaw,
    /// A loss maps outside the compute (or token) range the law was fitted on.
    Extrapolated,
    /// The law does not fall with scale: no loss has a compute-equivalent.
    Undefined,
    /// A loss is at or below the fitted floor E: no finite compute reaches it.
    BelowFloor,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Extrapolated => "extrapolated",
            Status::OffLaw => "off_law",
            Status::Undefined => "undefined",
            Status::BelowFloor => "below_floor",
        }
    }

    /// What the status means for the number and what would change it, for a table's notes;
    /// `None` for `ok`.
    pub fn meaning(self) -> Option<&'static str> {
        match self {
            Status::Ok => None,
            Status::Extrapolated => Some(
                "extrapolated: what the row maps to, or the host itself, lies outside the fitted \
                 checkpoints' range (the row's line below says what, and how far), so the number \
                 leans on the law beyond its data; checkpoints that reach that far would bring it \
                 inside",
            ),
            Status::OffLaw => Some(
                "off_law: the host's clean CE lies far from the law at its own size and tokens \
                 (the row's line below says how far), so its compute-equivalents read it against \
                 a curve it is not on: CEs in bits, another token set, or a host from another \
                 family; measure the host and its family on the same tokens, in nats",
            ),
            Status::BelowFloor => Some(
                "below_floor: a loss at or below the fitted floor E, which no finite compute \
                 reaches, so the columns that need its compute-equivalent are empty (all of them \
                 where ce_spliced is below E; where only ce_clean is, compute_fraction and its \
                 log, while C_eq(spliced) and its fraction of actual compute stand); a fit that \
                 puts E lower, or losses measured on the family's tokens, would change it",
            ),
            Status::Undefined => Some(
                "undefined: the fitted law does not fall with scale, so no loss has a \
                 compute-equivalent; fit checkpoints whose losses fall with size and data",
            ),
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
        Equivalent::at(law, s.ce_clean, s.ce_spliced, s.compute, keep_infinite)
    }

    /// The numbers for CEs `ce_clean` and `ce_spliced` of a host trained with `actual` FLOPs.
    pub fn at(
        law: &Law,
        ce_clean: f64,
        ce_spliced: f64,
        actual: Option<f64>,
        keep_infinite: bool,
    ) -> Equivalent {
        let x_clean = scale(law, ce_clean);
        let x = scale(law, ce_spliced);
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
        let ratio = x / x_clean;
        let (fraction, log10_ratio) = match law.log_inverse_ratio(ce_spliced, ce_clean) {
            Some(_) if x.is_finite() && x_clean.is_finite() && ratio.is_normal() => {
                (ratio, orders(ratio))
            }
            // Past f64's range (C_eq beyond 1.8e308 FLOPs), the ratio still is one: from the logs.
            Some(ln) => (ln.exp(), positive_zero(-ln / std::f64::consts::LN_10)),
            None if keep_infinite => (ratio, orders(ratio)),
            // Outside the bootstrap, a fraction against an unreachable loss is no number at all.
            None => (f64::NAN, f64::NAN),
        };
        let compute = to_compute(x);
        // Kept infinite like compute: a refit that puts the loss below its floor must widen these
        // intervals as it widens compute's, not drop out of them.
        let (params, tokens, step) = match law {
            Law::Chinchilla(c) => (keep(c.n_opt(x)), keep(c.d_opt(x)), None),
            Law::Compute(_) => (None, None, None),
            Law::Run(r) => (
                None,
                keep(x),
                r.info.tokens_per_step.and_then(|t| keep(x / t)),
            ),
        };
        Equivalent {
            compute_clean: to_compute(x_clean).and_then(keep),
            compute: compute.and_then(keep),
            fraction: keep(fraction),
            log10_ratio: keep(log10_ratio),
            fraction_of_actual: compute.zip(actual).and_then(|(c, a)| keep(c / a)),
            params,
            tokens,
            step,
        }
    }
}

/// −log10 of a compute fraction: orders of magnitude of compute lost. A fraction of exactly 1 gives
/// 0, not the −0 that negating log10(1) would print.
fn orders(fraction: f64) -> f64 {
    positive_zero(-fraction.log10())
}

fn positive_zero(v: f64) -> f64 {
    if v == 0.0 { 0.0 } else { v }
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

/// Where a splice's intervals come from.
#[derive(Clone, Debug, PartialEq)]
pub enum Method {
    /// Percentiles over the law's bootstrap refits; the CEs taken as exact.
    Refits,
    /// Percentiles over the refits, each paired with one draw of the CEs from their measurement
    /// noise (the SE columns it comes from, and what was assumed).
    RefitsAndNoise(String),
    /// Normal intervals by the delta method on the CEs' measurement noise; the law taken as exact.
    DeltaMethod(String),
    /// Percentiles over a joint bootstrap of the eval sequences (and the law's checkpoints or
    /// runs): each replicate's refit maps the CEs recomputed from the same resampled sequences
    /// (what was resampled, how many times, over how many sequences).
    TokenBootstrap(String),
}

/// How to make a splice's intervals.
#[derive(Clone, Copy, Debug)]
pub struct IntervalSpec<'a> {
    /// The law's bootstrap refits, if any.
    pub refits: Option<&'a [Law]>,
    /// Central interval level (0.9 for 90 %).
    pub level: f64,
    /// Seed of the CEs' draws (the law's bootstrap seed, so one law file gives one set of bytes).
    pub seed: u64,
    /// Whether to include the CEs' measurement noise where the row gives its standard errors.
    pub ce_noise: bool,
    /// A joint token bootstrap: per row, each refit's (ce_clean, ce_spliced) recomputed from the
    /// refit's resampled sequences (aligned with `refits`), and what it was, for outputs. It
    /// replaces the CE draws of `ce_noise`.
    pub joint: Option<JointCes<'a>>,
}

/// Per row, each refit's resampled (ce_clean, ce_spliced), and what the resampling was.
pub type JointCes<'a> = (&'a [Vec<(f64, f64)>], &'a str);

/// Mixed into the seed of the CEs' draws, so that they are not the bootstrap's resampling stream.
const NOISE_SEED: u64 = 0x6365_6e6f_6973_6521;

/// One mapped splice.
#[derive(Clone, Debug, PartialEq)]
pub struct Mapped {
    pub delta_loss: f64,
    pub loss_recovered: Option<f64>,
    pub loss_recovered_mean: Option<f64>,
    pub eq: Equivalent,
    pub ci: Option<Intervals>,
    /// Where `ci` comes from (`None` with no intervals).
    pub method: Option<Method>,
    /// About how many eval positions would make compute_fraction's interval ±10 % (see
    /// [`crate::measurement::tokens_for`]).
    pub tokens_for_target: Option<f64>,
    pub status: Status,
    pub detail: String,
}

/// The mapped table's compute-scale columns, each with an interval where there are any.
pub const SCALE_COLUMNS: [&str; 8] = [
    "compute_equivalent_clean",
    "compute_equivalent",
    "compute_fraction",
    "log10_compute_ratio",
    "compute_fraction_of_actual",
    "params_equivalent",
    "tokens_equivalent",
    "step_equivalent",
];

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

/// Percentile intervals of replicate equivalents, each only where `eq` has a point estimate: on
/// the ratio scale for the positive columns, so that compute_fraction's interval is exactly
/// 10^−(log10_compute_ratio's), also where refits give 0 or ∞ (review: linear interpolation put
/// a fraction of 0.029 beside a ratio of ∞).
fn percentiles(eq: &Equivalent, eqs: &[Equivalent], level: f64) -> Intervals {
    let iv = |f: fn(&Equivalent) -> Option<f64>| {
        f(eq)?;
        let v: Vec<f64> = eqs.iter().filter_map(f).collect();
        ratio_percentile_interval(&v, level)
    };
    let log10_ratio = eq.log10_ratio.and_then(|_| {
        let v: Vec<f64> = eqs.iter().filter_map(|e| e.log10_ratio).collect();
        percentile_interval(&v, level)
    });
    Intervals {
        compute_clean: iv(|e| e.compute_clean),
        compute: iv(|e| e.compute),
        fraction: iv(|e| e.fraction),
        log10_ratio,
        fraction_of_actual: iv(|e| e.fraction_of_actual),
        params: iv(|e| e.params),
        tokens: iv(|e| e.tokens),
        step: iv(|e| e.step),
        used: eqs.iter().filter(|e| e.fraction.is_some()).count(),
    }
}

/// The log-scale SD that the CE noise gives ln(compute_fraction) by the delta method.
fn fraction_log_sd(law: &Law, s: &Splice, noise: &CeNoise) -> Option<f64> {
    let gc = law.dlog_inverse(s.ce_clean)?;
    let gs = law.dlog_inverse(s.ce_spliced)?;
    Some(noise.variance_of(-gc, gs).sqrt())
}

/// Normal intervals by the delta method: every compute-scale column's logarithm is
/// a·ln x(ce_spliced) + b·ln x(ce_clean), x the law's inverse, whose derivative is analytic
/// ([`Law::dlog_inverse`]); the interval is symmetric on that log scale.
fn delta_method(law: &Law, s: &Splice, eq: &Equivalent, noise: &CeNoise, level: f64) -> Intervals {
    let z = normal_quantile(level);
    let gc = law.dlog_inverse(s.ce_clean);
    let gs = law.dlog_inverse(s.ce_spliced);
    let iv = |v: Option<f64>, a: f64, b: f64| -> Option<(f64, f64)> {
        let v = v?;
        let ds = if a == 0.0 { 0.0 } else { a * gs? };
        let dc = if b == 0.0 { 0.0 } else { b * gc? };
        let sd = noise.variance_of(dc, ds).sqrt();
        Some((v * (-z * sd).exp(), v * (z * sd).exp()))
    };
    // N_opt ∝ C^(β/(α+β)) and D_opt ∝ C^(α/(α+β)) on the frontier; a run's tokens and steps ∝ x.
    let (params_exp, tokens_exp) = match law {
        Law::Chinchilla(c) => (c.beta / (c.alpha + c.beta), c.alpha / (c.alpha + c.beta)),
        _ => (0.0, 1.0),
    };
    // A CE within z SEs of the floor could be at it: there the log-compute is not near linear in
    // the CE, and the compute the noise allows has no upper end.
    let (near_c, near_s) = near_floor(law, s, noise, level);
    let open = |v: Option<(f64, f64)>, near: bool| {
        v.map(|(lo, hi)| (lo, if near { f64::INFINITY } else { hi }))
    };
    let fraction = iv(eq.fraction, 1.0, -1.0).map(|(lo, hi)| {
        (
            if near_c { 0.0 } else { lo },
            if near_s { f64::INFINITY } else { hi },
        )
    });
    Intervals {
        compute_clean: open(iv(eq.compute_clean, 0.0, 1.0), near_c),
        compute: open(iv(eq.compute, 1.0, 0.0), near_s),
        fraction,
        log10_ratio: eq
            .log10_ratio
            .and(fraction)
            .map(|(lo, hi)| (orders(hi), orders(lo))),
        fraction_of_actual: open(iv(eq.fraction_of_actual, 1.0, 0.0), near_s),
        params: open(iv(eq.params, params_exp, 0.0), near_s),
        tokens: open(iv(eq.tokens, tokens_exp, 0.0), near_s),
        step: open(iv(eq.step, 1.0, 0.0), near_s),
        used: 0,
    }
}

/// A ratio as "1.190", or "2.609e9" beyond four digits.
fn times(r: f64) -> String {
    // A value can underflow to 0 (a mapped size far above the fitted losses, a host's 1e-300
    // parameters): "infx" would say nothing.
    if r.is_infinite() {
        return "over 1e308".into();
    }
    // Three significant figures ("1.15", "55.7", "519"): a ratio's fourth means nothing here.
    if r < 1e4 {
        // Rounded first, so 9.9996 reads "10.0", not "10.00"; a ratio just past 1 gets the digits
        // that tell it from 1 ("1.001", not "1.00").
        let p = 10f64.powi(2 - r.log10().floor() as i32);
        let v = (r * p).round() / p;
        let mut decimals = (2 - v.log10().floor() as i32).max(0) as usize;
        if v == 1.0 && r != 1.0 {
            while decimals < 6 && format!("{r:.decimals$}").parse::<f64>() == Ok(1.0) {
                decimals += 1;
            }
            return format!("{r:.decimals$}");
        }
        format!("{v:.decimals$}")
    } else {
        format!("{r:.3e}")
    }
}

/// The host's own size, data and compute, which compute_fraction_of_actual divides by: outside the
/// fitted ones it is an extrapolation, and far outside, or at a tokens-per-parameter no model is
/// trained at, more likely a unit slipped (millions, billions). A host better than the law's
/// frontier (C_eq(clean) above its actual compute) is why compute_fraction_of_actual can pass 1.
fn host_checks(ranges: &Ranges, s: &Splice, eq: &Equivalent, notes: &mut Vec<String>) -> Status {
    let mut status = Status::Ok;
    let units = |r: f64| {
        if !(1e-2..=1e2).contains(&r) {
            " (are its units those of the checkpoints file?)"
        } else {
            ""
        }
    };
    for (what, v, (lo, hi)) in [
        ("parameter count", s.params, ranges.params),
        ("training tokens", s.tokens, ranges.tokens),
        ("training compute", s.compute, ranges.compute),
    ] {
        let Some(v) = v.filter(|_| lo.is_finite() && hi.is_finite()) else {
            continue;
        };
        let (side, r, edge) = if v < lo {
            ("below the smallest", lo / v, lo)
        } else if v > hi {
            ("above the largest", v / hi, hi)
        } else {
            continue;
        };
        status = Status::Extrapolated;
        notes.push(format!(
            "the host's {what} {v:.3e} is {}x {side} fitted ({edge:.3e}){}",
            times(r),
            units(v / edge)
        ));
    }
    if let (Some(n), Some(d)) = (s.params, s.tokens)
        && !(1e-5..=1e5).contains(&(d / n))
    {
        notes.push(format!(
            "the host's {:.3e} tokens per parameter is no trained model's (Chinchilla's is 20): \
             are params or tokens in other units?",
            d / n
        ));
    }
    if let (Some(c), Some(a)) = (eq.compute_clean, s.compute)
        && c > 1.01 * a
    {
        notes.push(format!(
            "ce_clean maps to {}x the host's actual compute: the host is better than the law's \
             frontier (trained otherwise than the family, or its params or tokens misstated), so \
             compute_fraction_of_actual can pass 1",
            times(c / a)
        ));
    }
    status
}

/// Whether ce_clean and ce_spliced lie within the interval's z standard errors of the floor.
fn near_floor(law: &Law, s: &Splice, noise: &CeNoise, level: f64) -> (bool, bool) {
    let z = normal_quantile(level);
    let near = |ce: f64, var: f64| ce - z * var.sqrt() <= law.floor();
    (
        near(s.ce_clean, noise.var_clean),
        near(s.ce_spliced, noise.var_spliced),
    )
}

/// Maps one splice (row `row` of its file, which picks its stream of CE draws) under the fitted
/// law, its fitted ranges, and the intervals `spec` asks for.
pub fn map_splice(
    law: &Law,
    ranges: &Ranges,
    spec: &IntervalSpec,
    s: &Splice,
    row: usize,
) -> Mapped {
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
        // At or below the floor the fraction is infinite and its cell empty: the floor note says why.
        let more = match eq.fraction {
            Some(f) if f.is_finite() => " (compute_fraction > 1)",
            _ => "",
        };
        notes.push(format!(
            "ce_spliced < ce_clean: the splice lowers the loss{more}"
        ));
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
        // The linear number alone: the compute-scale ones, which the status is about, stand.
        match v {
            Some(None) => notes.push(format!("{what} is undefined: {col} <= ce_clean")),
            Some(Some(r)) if r < 0.0 => notes.push(format!(
                "{what} < 0: ce_spliced is above {col}, so the splice loses more than that \
                 ablation does"
            )),
            _ => {}
        }
    }
    let (lo, hi, unit) = match law.form().axis() {
        Axis::Compute => (ranges.compute.0, ranges.compute.1, "FLOPs of compute"),
        Axis::Tokens => (ranges.tokens.0, ranges.tokens.1, "tokens"),
    };
    for (what, loss) in [("ce_clean", s.ce_clean), ("ce_spliced", s.ce_spliced)] {
        let Some(x) = law.inverse(loss) else { continue };
        let mut checks = vec![(x, lo, hi, unit)];
        // The compute-optimal model at that compute is the law's answer too: its N and D must lie
        // in the fitted ones, or the frontier is an extrapolation in N or D though C is inside.
        if let Law::Chinchilla(c) = law {
            checks.push((
                c.n_opt(x),
                ranges.params.0,
                ranges.params.1,
                "parameters (N_opt)",
            ));
            checks.push((
                c.d_opt(x),
                ranges.tokens.0,
                ranges.tokens.1,
                "tokens (D_opt)",
            ));
        }
        for (x, lo, hi, unit) in checks {
            if x < lo {
                status = status.max(Status::Extrapolated);
                notes.push(format!(
                    "{what} maps to {x:.3e} {unit}, {}x below the smallest fitted ({lo:.3e})",
                    times(lo / x)
                ));
            } else if x.is_infinite() {
                // Past f64's range (a shallow law near its floor): "inf FLOPs" would say nothing.
                status = status.max(Status::Extrapolated);
                notes.push(format!(
                    "{what} maps to over 1.8e308 {unit} (past what a 64-bit float holds), over \
                     1e308x above the largest fitted ({hi:.3e})"
                ));
            } else if x > hi {
                status = status.max(Status::Extrapolated);
                notes.push(format!(
                    "{what} maps to {x:.3e} {unit}, {}x above the largest fitted ({hi:.3e})",
                    times(x / hi)
                ));
            }
        }
    }

    status = status.max(host_checks(ranges, s, &eq, &mut notes));

    let noise = spec.ce_noise.then(|| CeNoise::of(&s.se)).flatten();
    let level = spec.level;
    let law_only = spec.refits.map(|laws| {
        percentiles(
            &eq,
            &laws
                .iter()
                .map(|l| Equivalent::of(l, s, true))
                .collect::<Vec<_>>(),
            level,
        )
    });
    let (ci, method) = match (spec.refits, &noise) {
        (Some(laws), _) if let Some((ces, what)) = spec.joint => {
            let eqs: Vec<Equivalent> = laws
                .iter()
                .zip(&ces[row])
                .map(|(l, &(c, sp))| Equivalent::at(l, c, sp, s.compute, true))
                .collect();
            (
                Some(percentiles(&eq, &eqs, level)),
                Some(Method::TokenBootstrap(what.to_owned())),
            )
        }
        (Some(_), None) => (law_only, Some(Method::Refits)),
        (Some(laws), Some(nz)) => {
            // One draw per refit, from this row's own stream: a row's interval does not depend on
            // the other rows, nor on the order the refits are mapped in.
            let mut rng = ChaCha8Rng::seed_from_u64(spec.seed ^ NOISE_SEED);
            rng.set_stream(row as u64);
            let eqs: Vec<Equivalent> = laws
                .iter()
                .map(|l| {
                    let (dc, ds) = nz.draw(&mut rng);
                    Equivalent::at(l, s.ce_clean + dc, s.ce_spliced + ds, s.compute, true)
                })
                .collect();
            (
                Some(percentiles(&eq, &eqs, level)),
                Some(Method::RefitsAndNoise(nz.sources.clone())),
            )
        }
        (None, Some(nz)) => {
            let (near_c, near_s) = near_floor(law, s, nz, level);
            for (what, near) in [("ce_clean", near_c), ("ce_spliced", near_s)] {
                if near && s.ce_spliced > e && s.ce_clean > e {
                    notes.push(format!(
                        "{what} lies within {:.3} standard errors of the floor E: its noise alone \
                         could put it at the floor, which no compute reaches, so the intervals it \
                         bounds are open-ended",
                        normal_quantile(level)
                    ));
                }
            }
            (
                Some(delta_method(law, s, &eq, nz, level)),
                Some(Method::DeltaMethod(nz.sources.clone())),
            )
        }
        (None, None) => (None, None),
    };
    if let Some(ci) = &ci
        && let Some(laws) = spec.refits
        && ci.used < laws.len()
        && ci.fraction.is_some()
    {
        notes.push(format!(
            "compute_fraction's and log10_compute_ratio's intervals from {} of {} refits (the \
             rest put both losses at or below their floor, the fraction ∞/∞; the other intervals \
             count them as +∞)",
            ci.used,
            laws.len()
        ));
    }
    // Compute's, or for a run law without a parameter count its tokens'.
    let unbounded = |iv: Option<(f64, f64)>| iv.is_some_and(|(_, hi)| hi.is_infinite());
    if let Some(c) = &ci
        && spec.refits.is_some()
        && (unbounded(c.compute) || unbounded(c.tokens))
    {
        notes.push(
            "the upper ends of the compute-scale intervals are unbounded (inf; null in JSON): \
             some refits put ce_spliced at or below their floor E, which no compute reaches"
                .into(),
        );
    }

    if let Some(c) = &ci
        && spec.refits.is_some()
        && c.fraction.is_some_and(|(lo, _)| lo == 0.0)
    {
        notes.push(
            "the lower end of compute_fraction is 0 (the upper end of log10_compute_ratio inf): \
             some refits put ce_clean at or below their floor E while ce_spliced stays above it, \
             so on those refits the host's own loss takes unbounded compute"
                .into(),
        );
    }

    // The planning number: the noise's share of the interval shrinks as √(n/n_now); the law's
    // (read off the refits alone, as a log-scale SD) does not. A token bootstrap's refits hold the
    // family's token noise too, correlated with the splice's (the same sequences): there is no
    // law-only part to read off, so no planning number.
    let mut tokens_for_target = None;
    if spec.joint.is_none()
        && let (Some(nz), Some(n_now), Some(f)) = (&noise, s.se.n_tokens, eq.fraction)
        && let Some(sd_noise) = fraction_log_sd(law, s, nz)
    {
        let z = normal_quantile(level);
        let sd_law = match law_only.and_then(|c| c.fraction) {
            Some((lo, hi)) if lo > 0.0 => (hi / lo).ln() / (2.0 * z),
            Some(_) => f64::INFINITY,
            None => 0.0,
        };
        tokens_for_target = tokens_for(n_now, sd_noise, sd_law, level, TARGET_HALF_WIDTH);
        if tokens_for_target.is_none() && sd_noise > 0.0 && f > 0.0 {
            let spread = 100.0 * (z * sd_law).sinh();
            let by = match spread.is_finite() {
                true => format!("by ±{spread:.1}%"),
                false => "without bound (their interval reaches 0 or ∞)".to_owned(),
            };
            notes.push(format!(
                "no eval size makes compute_fraction's interval ±{:.0}%: the law's refits alone \
                 spread it {by}",
                100.0 * TARGET_HALF_WIDTH,
            ));
        }
    }

    let mut m = Mapped {
        delta_loss: s.ce_spliced - s.ce_clean,
        loss_recovered: lr.flatten(),
        loss_recovered_mean: lrm.flatten(),
        eq,
        ci,
        method,
        tokens_for_target,
        status,
        detail: String::new(),
    };
    // Percentiles of the refits need not contain the fit's own number (when the refits settle
    // elsewhere, or rest on few of them); such an interval is shown, but not without saying so.
    if spec.refits.is_some() {
        for what in SCALE_COLUMNS {
            if let Some((Some(v), Some((lo, hi)))) = m.scale_column(what)
                && outside(v, lo, hi)
            {
                notes.push(format!(
                    "the interval of {what} [{lo:.4e}, {hi:.4e}] does not contain its estimate {v:.4e}: \
                     the refits disagree with the fit"
                ));
            }
        }
    }
    m.detail = notes.join("; ");
    m
}

/// Whether `v` lies outside [lo, hi] by more than rounding (1e-9 of the finite numbers' size).
fn outside(v: f64, lo: f64, hi: f64) -> bool {
    let size = [v, lo, hi]
        .into_iter()
        .filter(|x| x.is_finite())
        .fold(0.0, |a: f64, x| a.max(x.abs()));
    let tol = 1e-9 * size;
    v < lo - tol || v > hi + tol
}

#[cfg(test)]
mod tests {
    use super::times;

    /// Three significant figures after rounding, and the digits that tell a ratio from 1 (review
    /// 11d: 1.001 read "1.00", 9.9996 "10.00").
    #[test]
    fn ratios_read_to_three_figures_and_apart_from_one() {
        for (r, want) in [
            (1.15, "1.15"),
            (55.71, "55.7"),
            (519.484, "519"),
            (9.9996, "10.0"),
            (99.96, "100"),
            (1.001, "1.001"),
            (1.0004, "1.0004"),
            (1.0, "1.00"),
            (26090.0, "2.609e4"),
        ] {
            assert_eq!(times(r), want, "{r}");
        }
    }
}
