//! A seeded synthetic language whose irreducible loss is known: the ground truth `ceq study` will
//! train a model family on (issue 13). See docs/LANGUAGE.md for the generator and the floor.
//!
//! Every token is emitted by one of K "quanta" (Michaud et al. 2023): quantum k is a first-order
//! Markov chain T_k over the vocabulary, each token leading to a few successors. A row starts with
//! BOS and a quantum drawn from a Zipf prior p_k ∝ k^−a; before each later token the quantum is
//! redrawn from the prior with probability ρ. A model must learn each quantum's transitions (the
//! frequent ones first: loss falls as more are learned) and infer from the context which quantum is
//! speaking. The Bayes-optimal next-token distribution follows from the forward algorithm over the
//! quantum: π₁ = p; after token x_t, φ ∝ π_t · T_k(x_t | x_{t−1}); π_{t+1} = (1 − ρ)·φ + ρ·p; and
//! P(x_t | x_<t) = Σ_k π_t(k) T_k(x_t | x_{t−1}). Its cross-entropy on a token set is the floor no
//! model can beat on that set, exactly; its expectation is estimated with a standard error.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::error::{Error, Result};

/// Token 0 starts every row; it is never emitted after.
pub const BOS: u32 = 0;

/// The language's settings.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Language {
    /// Tokens, BOS included.
    pub vocab: usize,
    /// Quanta (K).
    pub quanta: usize,
    /// Zipf exponent a of the quanta's prior.
    pub zipf: f64,
    /// Probability ρ of redrawing the quantum before each token after the first.
    pub switch: f64,
    /// Successors of each token in each quantum; their probabilities fall by half each.
    pub branching: usize,
    pub seed: u64,
}

/// A built language: its prior and transition tables.
#[derive(Clone, Debug)]
pub struct Corpus {
    pub settings: Language,
    /// p_k, summing to 1.
    prior: Vec<f64>,
    /// For quantum k and previous token x, `branching` distinct successors (never BOS), at
    /// `(k · vocab + x) · branching`.
    successors: Vec<u32>,
    /// The successors' probabilities, in their order: ∝ 2^−i, summing to 1.
    weights: Vec<f64>,
}

/// An expected cross-entropy of the Bayes-optimal predictor.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Floor {
    /// Nats per scored position.
    pub mean: f64,
    /// Standard error of `mean` over sequences (Monte Carlo precision).
    pub se: f64,
    pub positions: usize,
}

impl Language {
    /// Checks the settings and draws the transition tables from `seed`.
    pub fn build(&self) -> Result<Corpus> {
        let bad = |message: String| Error::Invalid {
            fix: None,
            option: "language",
            message,
        };
        if self.vocab < 3 || self.vocab > u32::MAX as usize {
            return Err(bad(format!(
                "vocab {} must be at least 3 (BOS and two tokens)",
                self.vocab
            )));
        }
        if self.branching == 0 || self.branching >= self.vocab {
            return Err(bad(format!(
                "branching {} must be from 1 to vocab − 1 = {} (BOS is never a successor)",
                self.branching,
                self.vocab - 1
            )));
        }
        if self.quanta == 0 || !(self.zipf.is_finite() && self.zipf >= 0.0) {
            return Err(bad("quanta must be ≥ 1 and zipf a finite number ≥ 0".into()));
        }
        if !(0.0..=1.0).contains(&self.switch) {
            return Err(bad(format!("switch {} must be a probability", self.switch)));
        }
        let raw: Vec<f64> = (1..=self.quanta)
            .map(|k| (k as f64).powf(-self.zipf))
            .collect();
        let total: f64 = raw.iter().sum();
        let w: Vec<f64> = (0..self.branching).map(|i| 0.5f64.powi(i as i32)).collect();
        let wsum: f64 = w.iter().sum();
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
        let mut successors = Vec::with_capacity(self.quanta * self.vocab * self.branching);
        for _ in 0..self.quanta * self.vocab {
            // `branching` distinct tokens from 1..vocab, by rejection (branching < vocab).
            let start = successors.len();
            while successors.len() < start + self.branching {
                let t = rng.random_range(1..self.vocab as u32);
                if !successors[start..].contains(&t) {
                    successors.push(t);
                }
            }
        }
        Ok(Corpus {
            settings: self.clone(),
            prior: raw.iter().map(|r| r / total).collect(),
            successors,
            weights: w.iter().map(|v| v / wsum).collect(),
        })
    }
}

impl Corpus {
    fn row(&self, k: usize, prev: u32) -> &[u32] {
        let b = self.settings.branching;
        let at = (k * self.settings.vocab + prev as usize) * b;
        &self.successors[at..at + b]
    }

    /// The quanta's prior p_k.
    pub fn prior(&self) -> &[f64] {
        &self.prior
    }

    /// T_k(next | prev).
    pub fn transition(&self, k: usize, prev: u32, next: u32) -> f64 {
        self.row(k, prev)
            .iter()
            .position(|&t| t == next)
            .map_or(0.0, |i| self.weights[i])
    }

    fn draw(&self, rng: &mut ChaCha8Rng, probs: &[f64]) -> usize {
        let u: f64 = rng.random();
        let mut acc = 0.0;
        for (i, p) in probs.iter().enumerate() {
            acc += p;
            if u < acc {
                return i;
            }
        }
        probs.len() - 1
    }

    /// `n_seq` rows of `ctx` tokens, row-major, each starting with BOS; the same seed gives the
    /// same tokens.
    pub fn sample(&self, n_seq: usize, ctx: usize, seed: u64) -> Vec<u32> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut out = Vec::with_capacity(n_seq * ctx);
        for _ in 0..n_seq {
            let mut k = self.draw(&mut rng, &self.prior);
            let mut row = vec![BOS];
            for t in 1..ctx {
                if t > 1 && rng.random::<f64>() < self.settings.switch {
                    k = self.draw(&mut rng, &self.prior);
                }
                let next = self.row(k, row[t - 1])[self.draw(&mut rng, &self.weights)];
                row.push(next);
            }
            out.extend(row);
        }
        out
    }

    /// The Bayes-optimal NLL of each next token of one row (BOS first): entry t is
    /// −ln P(row[t + 1] | row[..= t]), for t in 0..len − 1. Infinite where the row could not have
    /// been generated.
    pub fn nll(&self, row: &[u32]) -> Vec<f64> {
        let (p, rho) = (&self.prior, self.settings.switch);
        let mut pi = p.clone();
        let mut out = Vec::with_capacity(row.len().saturating_sub(1));
        for t in 1..row.len() {
            if t > 1 {
                // The quantum may be redrawn before this token (not before the first).
                pi.iter_mut()
                    .zip(p)
                    .for_each(|(q, pk)| *q = (1.0 - rho) * *q + rho * pk);
            }
            let like: Vec<f64> = (0..pi.len())
                .map(|k| self.transition(k, row[t - 1], row[t]))
                .collect();
            let prob: f64 = pi.iter().zip(&like).map(|(a, b)| a * b).sum();
            out.push(-prob.ln());
            if prob > 0.0 {
                pi.iter_mut()
                    .zip(&like)
                    .for_each(|(q, l)| *q = *q * l / prob);
            }
        }
        out
    }

    /// The floor on the positions ceq scores in rows of `ctx` tokens (every position but the
    /// last; without `keep_special`, not the BOS position either), estimated from `n_seq` sampled
    /// rows: the mean Bayes-optimal NLL and its standard error over rows.
    pub fn floor(&self, n_seq: usize, ctx: usize, seed: u64, keep_special: bool) -> Floor {
        let tokens = self.sample(n_seq, ctx, seed);
        self.floor_on(&tokens, ctx, keep_special)
    }

    /// The Bayes-optimal cross-entropy on a given token set (rows of `ctx`, each starting with
    /// BOS), on the positions ceq scores: exact for these tokens; `se` over rows.
    pub fn floor_on(&self, tokens: &[u32], ctx: usize, keep_special: bool) -> Floor {
        let skip = usize::from(!keep_special);
        let per_row: Vec<(f64, usize)> = tokens
            .chunks_exact(ctx)
            .map(|row| {
                let nll = self.nll(row);
                (nll[skip..].iter().sum(), nll.len() - skip)
            })
            .collect();
        let positions: usize = per_row.iter().map(|r| r.1).sum();
        let mean = per_row.iter().map(|r| r.0).sum::<f64>() / positions as f64;
        let means: Vec<f64> = per_row.iter().map(|(s, n)| s / *n as f64).collect();
        let n = means.len() as f64;
        let m = means.iter().sum::<f64>() / n;
        let var = means.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1.0);
        Floor {
            mean,
            se: (var / n).sqrt(),
            positions,
        }
    }
}
