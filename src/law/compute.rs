//! L(C) = E + A·C^(−α): loss against training compute for a family already on its frontier.

/// Parameters in natural units: loss in nats/token, C in FLOPs.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ComputeLaw {
    pub e: f64,
    pub a: f64,
    pub alpha: f64,
}

impl ComputeLaw {
    /// θ = [ln E, ln A, α].
    pub(crate) fn from_theta(t: &[f64]) -> Self {
        ComputeLaw {
            e: t[0].exp(),
            a: t[1].exp(),
            alpha: t[2],
        }
    }

    pub fn loss(&self, c: f64) -> f64 {
        self.e + self.a * c.powf(-self.alpha)
    }

    /// C(L) = ((L − E)/A)^(−1/α); `None` for L ≤ E or α ≤ 0.
    pub fn compute_for(&self, loss: f64) -> Option<f64> {
        let r = loss - self.e;
        (r > 0.0 && self.alpha > 0.0).then(|| (r / self.a).powf(-1.0 / self.alpha))
    }
}
