//! The fitting objective of Hoffmann et al. (2022, App. D.2): Σ_i w_i·Huber_δ(LSE(e, c_j − k_j·x_ij) −
//! ln L_i), with its analytic gradient. Weights are bootstrap multiplicities (1 for a plain fit).

use super::kernel::{self, Points};
use crate::law::Form;
use crate::table::Checkpoint;

/// Huber loss: quadratic within δ, linear outside.
#[inline]
pub fn huber(r: f64, delta: f64) -> f64 {
    let a = r.abs();
    if a <= delta {
        0.5 * r * r
    } else {
        delta * (a - 0.5 * delta)
    }
}

/// The objective over one set of points, ready to evaluate many times.
#[derive(Clone, Debug)]
pub struct Objective {
    form: Form,
    x: Vec<[f64; 2]>,
    y: Vec<f64>,
    /// The same points, laid out for the vectorised kernel.
    points: Points,
    pub delta: f64,
}

impl Objective {
    pub fn new(form: Form, checkpoints: &[Checkpoint], delta: f64) -> Self {
        Self::weighted(form, checkpoints, &vec![1.0; checkpoints.len()], delta)
    }

    /// Points with weight 0 are left out, so a bootstrap resample costs what its distinct points cost.
    pub fn weighted(form: Form, checkpoints: &[Checkpoint], weights: &[f64], delta: f64) -> Self {
        let mut o = Objective {
            form,
            x: vec![],
            y: vec![],
            points: Points::default(),
            delta,
        };
        for (c, &w) in checkpoints.iter().zip(weights) {
            if w > 0.0 {
                let x = form.features(c);
                let y = c.loss.ln();
                o.x.push(x);
                o.y.push(y);
                o.points.push(x, y, w);
            }
        }
        o.points.pad();
        o
    }

    pub fn form(&self) -> Form {
        self.form
    }

    pub fn len(&self) -> usize {
        self.y.len()
    }

    pub fn is_empty(&self) -> bool {
        self.y.is_empty()
    }

    /// Objective value; writes the gradient into `grad` (length = θ's).
    pub fn eval(&self, theta: &[f64], grad: &mut [f64]) -> f64 {
        match self.form.n_terms() {
            1 => kernel::eval::<1, false>(&self.points, theta, self.delta, grad),
            _ => kernel::eval::<2, false>(&self.points, theta, self.delta, grad),
        }
    }

    /// [`Objective::eval`] to about 1e-10 in each residual, for screening grid starts.
    pub fn eval_screen(&self, theta: &[f64], grad: &mut [f64]) -> f64 {
        match self.form.n_terms() {
            1 => kernel::eval::<1, true>(&self.points, theta, self.delta, grad),
            _ => kernel::eval::<2, true>(&self.points, theta, self.delta, grad),
        }
    }

    /// Residuals ln L̂ − ln L, one per point (with libm's exp and ln: this is for reporting).
    pub fn residuals(&self, theta: &[f64]) -> Vec<f64> {
        let k = self.form.n_terms();
        self.x
            .iter()
            .zip(&self.y)
            .map(|(x, y)| {
                let mut u = vec![theta[0]];
                for j in 0..k {
                    u.push(theta[1 + 2 * j] - theta[2 + 2 * j] * x[j]);
                }
                let m = u.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                m + u.iter().map(|v| (v - m).exp()).sum::<f64>().ln() - y
            })
            .collect()
    }
}
