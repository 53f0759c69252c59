//! L(D) = E + B·D^(−β): one model's training run, so a loss reads as "this run after X tokens".

use super::RunInfo;

/// What a `run` law's numbers mean, said in every table that shows them.
pub const SCHEDULE_CAVEAT: &str = "a run law reads losses on this one training run: if it used a \
    decaying learning-rate schedule, its intermediate checkpoints are not what shorter runs with \
    their own schedules would reach (Hägele et al. 2024), so its tokens and steps are this run's, \
    not a compute-optimal budget";

/// Parameters in natural units: loss in nats/token, D in tokens.
#[derive(Clone, Debug, PartialEq)]
pub struct RunLaw {
    pub e: f64,
    pub b: f64,
    pub beta: f64,
    pub info: RunInfo,
}

impl RunLaw {
    /// θ = [ln E, ln B, β].
    pub(crate) fn from_theta(t: &[f64], info: RunInfo) -> Self {
        RunLaw {
            e: t[0].exp(),
            b: t[1].exp(),
            beta: t[2],
            info,
        }
    }

    pub fn loss(&self, d: f64) -> f64 {
        self.e + self.b * d.powf(-self.beta)
    }

    /// D(L) = ((L − E)/B)^(−1/β); `None` for L ≤ E or β ≤ 0.
    pub fn tokens_for(&self, loss: f64) -> Option<f64> {
        let r = loss - self.e;
        (r > 0.0 && self.beta > 0.0).then(|| (r / self.b).powf(-1.0 / self.beta))
    }
}
