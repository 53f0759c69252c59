//! The fitting objective of Hoffmann et al. (2022, App. D.2): Σ_i w_i·Huber_δ(LSE(e, c_j − k_j·x_ij) −
//! ln L_i), with its analytic gradient. Weights are bootstrap multiplicities (1 for a plain fit).

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

#[inline]
fn huber_grad(r: f64, delta: f64) -> f64 {
    r.clamp(-delta, delta)
}

/// The objective over one set of points, ready to evaluate many times.
#[derive(Clone, Debug)]
pub struct Objective {
    form: Form,
    x: Vec<[f64; 2]>,
    y: Vec<f64>,
    w: Vec<f64>,
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
            w: vec![],
            delta,
        };
        for (c, &w) in checkpoints.iter().zip(weights) {
            if w > 0.0 {
                o.x.push(form.features(c));
                o.y.push(c.loss.ln());
                o.w.push(w);
            }
        }
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
            1 => self.eval_terms::<1>(theta, grad),
            _ => self.eval_terms::<2>(theta, grad),
        }
    }

    /// Residuals ln L̂ − ln L, one per point.
    pub fn residuals(&self, theta: &[f64]) -> Vec<f64> {
        (0..self.len())
            .map(|i| self.lse::<2>(theta, i).0 - self.y[i])
            .collect()
    }

    /// ln L̂ at point i and the softmax weights of [e, term 1, term 2].
    #[inline(always)]
    fn lse<const K: usize>(&self, t: &[f64], i: usize) -> (f64, [f64; 3]) {
        let x = self.x[i];
        let k = self.form.n_terms().min(K);
        let mut u = [t[0], f64::NEG_INFINITY, f64::NEG_INFINITY];
        for j in 0..k {
            u[j + 1] = t[1 + 2 * j] - t[2 + 2 * j] * x[j];
        }
        let m = u[0].max(u[1]).max(u[2]);
        let mut p = [0.0; 3];
        let mut s = 0.0;
        for j in 0..=k {
            p[j] = (u[j] - m).exp();
            s += p[j];
        }
        let inv = 1.0 / s;
        for v in p.iter_mut().take(k + 1) {
            *v *= inv;
        }
        (m + s.ln(), p)
    }

    fn eval_terms<const K: usize>(&self, t: &[f64], g: &mut [f64]) -> f64 {
        g.iter_mut().for_each(|v| *v = 0.0);
        let mut f = 0.0;
        for i in 0..self.y.len() {
            let (pred, p) = self.lse::<K>(t, i);
            let r = pred - self.y[i];
            let w = self.w[i];
            f += w * huber(r, self.delta);
            let h = w * huber_grad(r, self.delta);
            g[0] += h * p[0];
            for j in 0..K {
                g[1 + 2 * j] += h * p[j + 1];
                g[2 + 2 * j] -= h * p[j + 1] * self.x[i][j];
            }
        }
        f
    }
}
