//! The sampling error of a splice's measured CEs: ce_clean and ce_spliced are means over a finite
//! token set, so each is its true value plus noise. From the standard errors a splices file gives
//! (`ceq eval` writes them) this makes the joint normal distribution of that noise, draws from it
//! (the bootstrap adds one draw to each refit), propagates it by the delta method (when there are no
//! refits), and says how many eval tokens would shrink an interval to a target width.

use rand::Rng;
use rand_distr::StandardNormal;
use statrs::distribution::{ContinuousCDF, Normal};

use crate::table::CeErrors;

/// The joint normal distribution of the errors of (ce_clean, ce_spliced), in nats/token.
#[derive(Clone, Debug, PartialEq)]
pub struct CeNoise {
    pub var_clean: f64,
    pub var_spliced: f64,
    /// Cov(ce_clean, ce_spliced): both are measured on the same tokens.
    pub cov: f64,
    /// The columns it comes from, and anything assumed for want of one, for every output.
    pub sources: String,
}

impl CeNoise {
    /// The noise a row's SEs describe; `None` when it gives none. The difference's own SE (`se_delta`)
    /// is what pins the covariance: with all three SEs, Cov(clean, spliced) = (se_c² + se_s² − se_Δ²)/2
    /// exactly (the same per-sequence means); with se_ce_clean and se_delta alone, ce_clean and the
    /// difference are taken as uncorrelated.
    pub fn of(e: &CeErrors) -> Option<CeNoise> {
        let sq = |v: f64| v * v;
        let (vc, vs, cov, sources) = match (e.se_ce_clean, e.se_ce_spliced, e.se_delta) {
            (Some(c), Some(s), Some(d)) => {
                let cov = (sq(c) + sq(s) - sq(d)) / 2.0;
                // SEs from different token counts (or rounding) can imply |correlation| > 1. `abs`
                // and max/min, not clamp: a NaN or negative SE set by hand must not panic, and a
                // NaN stays NaN (NaN.max(−m) is −m, a perfect anti-correlation).
                let max = (c * s).abs();
                let bounded = |cov: f64| match cov.is_nan() {
                    true => f64::NAN,
                    false => cov.max(-max).min(max),
                };
                if cov.abs() > max * (1.0 + 1e-9) {
                    (
                        sq(c),
                        sq(s),
                        bounded(cov),
                        "se_ce_clean, se_ce_spliced, se_delta (they disagree: an implied correlation beyond ±1, clamped)"
                            .to_owned(),
                    )
                } else {
                    (
                        sq(c),
                        sq(s),
                        bounded(cov),
                        "se_ce_clean, se_delta, with se_ce_spliced for their covariance".to_owned(),
                    )
                }
            }
            (Some(c), None, Some(d)) => (
                sq(c),
                sq(c) + sq(d),
                sq(c),
                "se_ce_clean, se_delta (ce_clean and the difference taken as uncorrelated)".to_owned(),
            ),
            (Some(c), Some(s), None) => (
                sq(c),
                sq(s),
                0.0,
                "se_ce_clean, se_ce_spliced (no se_delta: drawn as independent, which overstates the noise of a difference measured on the same tokens)"
                    .to_owned(),
            ),
            (None, _, Some(d)) => (
                0.0,
                sq(d),
                0.0,
                "se_delta (no se_ce_clean: ce_clean taken as exact)".to_owned(),
            ),
            (None, Some(s), None) => (
                0.0,
                sq(s),
                0.0,
                "se_ce_spliced (no se_ce_clean: ce_clean taken as exact)".to_owned(),
            ),
            (Some(c), None, None) => (
                sq(c),
                sq(c),
                sq(c),
                "se_ce_clean (no se_delta: the difference taken as exact)".to_owned(),
            ),
            (None, None, None) => return None,
        };
        Some(CeNoise {
            var_clean: vc,
            var_spliced: vs,
            cov,
            sources,
        })
    }

    /// Var(ce_spliced − ce_clean).
    pub fn var_delta(&self) -> f64 {
        non_negative(self.var_clean + self.var_spliced - 2.0 * self.cov)
    }

    /// The noise of a token set `k` times as large as the one measured: every variance over k.
    pub fn scaled(&self, k: f64) -> CeNoise {
        CeNoise {
            var_clean: self.var_clean / k,
            var_spliced: self.var_spliced / k,
            cov: self.cov / k,
            sources: self.sources.clone(),
        }
    }

    /// One draw of the errors (clean, spliced), through the Cholesky factor of the covariance.
    pub fn draw(&self, rng: &mut impl Rng) -> (f64, f64) {
        let z1: f64 = rng.sample(StandardNormal);
        let z2: f64 = rng.sample(StandardNormal);
        // An SE that is not a number leaves the draw unknown, not exact.
        if [self.var_clean, self.var_spliced, self.cov]
            .iter()
            .any(|v| v.is_nan())
        {
            (f64::NAN, f64::NAN)
        } else if self.var_clean > 0.0 {
            let sc = self.var_clean.sqrt();
            let rest = non_negative(self.var_spliced - self.cov * self.cov / self.var_clean);
            (sc * z1, self.cov / sc * z1 + rest.sqrt() * z2)
        } else {
            (0.0, self.var_spliced.sqrt() * z2)
        }
    }

    /// The delta method's variance of a number whose derivatives with respect to ce_clean and
    /// ce_spliced are `d_clean` and `d_spliced`.
    pub fn variance_of(&self, d_clean: f64, d_spliced: f64) -> f64 {
        non_negative(
            d_clean * d_clean * self.var_clean
                + d_spliced * d_spliced * self.var_spliced
                + 2.0 * d_clean * d_spliced * self.cov,
        )
    }
}

/// A variance's rounding below zero lifted to zero; NaN stays NaN (`f64::max` would make it 0, an
/// interval of no width from an SE that is not a number).
fn non_negative(v: f64) -> f64 {
    if v < 0.0 { 0.0 } else { v }
}

/// The standard normal quantile that bounds a central interval at `level` (1.645 for 0.9).
pub fn normal_quantile(level: f64) -> f64 {
    Normal::standard().inverse_cdf(0.5 + level / 2.0)
}

/// The relative half-width a planning number aims at: ±10 %.
pub const TARGET_HALF_WIDTH: f64 = 0.1;

/// About how many eval positions would give a log-symmetric interval of relative half-width
/// `target` ((hi − lo)/(2·estimate), i.e. sinh of the log half-width), when the CE noise makes a
/// log-scale SD of `sd_noise` on `n_now` positions (SEs scale as √(n_now/n)) and the law's own spread
/// is a log-scale SD of `sd_law`, which no number of eval tokens changes; the two add in quadrature.
/// `None` where the law's spread alone is too wide, or the noise is nil.
pub fn tokens_for(n_now: f64, sd_noise: f64, sd_law: f64, level: f64, target: f64) -> Option<f64> {
    let z = normal_quantile(level);
    let room = (target.asinh() / z).powi(2) - sd_law * sd_law;
    (room > 0.0 && sd_noise > 0.0).then(|| (n_now * sd_noise * sd_noise / room).ceil())
}
