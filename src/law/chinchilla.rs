//! Hoffmann et al. (2022): L(N,D) = E + A/N^α + B/D^β, and its compute-optimal frontier under C = 6ND.

/// Parameters in natural units: loss in nats/token, N in parameters, D in tokens.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Chinchilla {
    pub e: f64,
    pub a: f64,
    pub alpha: f64,
    pub b: f64,
    pub beta: f64,
}

impl Chinchilla {
    /// θ = [ln E, ln A, α, ln B, β].
    pub(crate) fn from_theta(t: &[f64]) -> Self {
        Chinchilla {
            e: t[0].exp(),
            a: t[1].exp(),
            alpha: t[2],
            b: t[3].exp(),
            beta: t[4],
        }
    }

    pub fn loss(&self, n: f64, d: f64) -> f64 {
        self.e + self.a * n.powf(-self.alpha) + self.b * d.powf(-self.beta)
    }

    /// G = (αA / (βB))^(1/(α+β)); N_opt = G·(C/6)^(β/(α+β)).
    pub fn g(&self) -> f64 {
        (self.alpha * self.a / (self.beta * self.b)).powf(1.0 / (self.alpha + self.beta))
    }

    /// γ = αβ/(α+β), the frontier's exponent: L*(C) = E + K·C^(−γ).
    pub fn gamma(&self) -> f64 {
        self.alpha * self.beta / (self.alpha + self.beta)
    }

    /// Coefficient of (C/6)^(−γ) on the frontier: A·G^(−α) + B·G^β.
    fn k6(&self) -> f64 {
        let g = self.g();
        self.a * g.powf(-self.alpha) + self.b * g.powf(self.beta)
    }

    /// K in L*(C) = E + K·C^(−γ).
    pub fn k(&self) -> f64 {
        self.k6() * 6f64.powf(self.gamma())
    }

    /// Compute-optimal parameter count at compute C.
    pub fn n_opt(&self, c: f64) -> f64 {
        self.g() * (c / 6.0).powf(self.beta / (self.alpha + self.beta))
    }

    /// Compute-optimal token count at compute C.
    pub fn d_opt(&self, c: f64) -> f64 {
        (c / 6.0).powf(self.alpha / (self.alpha + self.beta)) / self.g()
    }

    /// L*(C) = min over N of L(N, C/(6N)).
    pub fn frontier_loss(&self, c: f64) -> f64 {
        self.e + self.k6() * (c / 6.0).powf(-self.gamma())
    }

    /// C(L) = 6·((L − E)/(A·G^(−α) + B·G^β))^(−1/γ); `None` for L ≤ E, or when an exponent is not
    /// positive (loss then does not fall with compute).
    pub fn frontier_compute(&self, loss: f64) -> Option<f64> {
        let r = loss - self.e;
        (r > 0.0 && self.alpha > 0.0 && self.beta > 0.0)
            .then(|| 6.0 * (r / self.k6()).powf(-1.0 / self.gamma()))
    }

    pub fn derived(&self) -> Vec<(&'static str, f64)> {
        let s = self.alpha + self.beta;
        vec![
            ("G", self.g()),
            ("gamma", self.gamma()),
            ("K", self.k()),
            ("n_opt_exponent", self.beta / s),
            ("d_opt_exponent", self.alpha / s),
        ]
    }
}
