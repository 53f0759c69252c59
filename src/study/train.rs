//! Training the study's models: AdamW (PyTorch's `torch.optim.AdamW` update, decoupled weight
//! decay on the weight matrices only), linear warm-up then cosine decay to a fraction of the peak
//! rate, batches drawn fresh from the language each step. Gradients come from burn's autodiff on
//! the flex (pure-Rust CPU) backend; the optimizer runs on the host's f32 master weights, which
//! keeps every step's arithmetic in one fixed order: the same seed gives the same weights, bit for
//! bit, on one machine.

use burn::tensor::Device;
use rayon::prelude::*;

use super::gpt::{Gpt, ModelSize, loss, token_tensor};
use super::language::Corpus;
use crate::error::{Error, Result};

/// How a model is trained.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Schedule {
    /// Optimizer steps.
    pub steps: usize,
    /// Rows of `ctx` tokens per step.
    pub batch: usize,
    /// Peak learning rate.
    pub lr: f64,
    /// Steps of linear warm-up from lr/warmup to lr.
    pub warmup: usize,
    /// The rate at the last step, as a fraction of the peak (cosine decay between).
    pub final_lr_frac: f64,
    /// AdamW's decoupled weight decay, on the 2-D weights only (not biases or layer norms).
    pub weight_decay: f64,
    pub beta1: f64,
    pub beta2: f64,
    pub eps: f64,
    /// Rescale the gradient when its global L2 norm exceeds this.
    pub clip: Option<f64>,
}

impl Default for Schedule {
    fn default() -> Schedule {
        Schedule {
            steps: 1000,
            batch: 32,
            lr: 3e-3,
            warmup: 50,
            final_lr_frac: 0.1,
            weight_decay: 0.1,
            beta1: 0.9,
            beta2: 0.95,
            eps: 1e-8,
            clip: Some(1.0),
        }
    }
}

impl Schedule {
    /// The learning rate of step `s` (0-based): linear warm-up over `warmup` steps, then a cosine
    /// from the peak down to `final_lr_frac` of it at the last step.
    pub fn lr_at(&self, s: usize) -> f64 {
        if s < self.warmup {
            return self.lr * (s + 1) as f64 / self.warmup as f64;
        }
        let span = self.steps.saturating_sub(self.warmup + 1).max(1) as f64;
        let progress = ((s - self.warmup) as f64 / span).min(1.0);
        let cosine = 0.5 * (1.0 + (std::f64::consts::PI * progress).cos());
        self.lr * (self.final_lr_frac + (1.0 - self.final_lr_frac) * cosine)
    }

    fn check(&self) -> Result<()> {
        let bad = |message: String| Error::Invalid {
            fix: None,
            option: "schedule",
            message,
        };
        if self.steps == 0 || self.batch == 0 {
            return Err(bad("steps and batch must be positive".into()));
        }
        let finite = [
            self.lr,
            self.final_lr_frac,
            self.weight_decay,
            self.beta1,
            self.beta2,
            self.eps,
        ]
        .iter()
        .all(|v| v.is_finite() && *v >= 0.0);
        if !finite || self.lr == 0.0 || self.beta1 >= 1.0 || self.beta2 >= 1.0 {
            return Err(bad(format!(
                "lr {} must be positive, betas {} and {} in [0, 1), and final_lr_frac, weight decay \
                 and eps finite numbers ≥ 0",
                self.lr, self.beta1, self.beta2
            )));
        }
        if self.clip.is_some_and(|c| !(c.is_finite() && c > 0.0)) {
            return Err(bad("clip must be a positive number".into()));
        }
        Ok(())
    }
}

/// One finished step, for a progress bar.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Progress {
    /// Steps done (1 to `steps`).
    pub step: usize,
    pub steps: usize,
    /// Tokens trained on so far.
    pub tokens: u64,
    /// This step's training loss (nats/token).
    pub loss: f64,
}

/// A trained model and what it cost.
#[derive(Clone, Debug, PartialEq)]
pub struct Trained {
    pub model: Gpt,
    pub steps: usize,
    /// Tokens trained on: steps × batch × ctx (every token of every row read; each row's last
    /// token is only a target, its first only an input).
    pub tokens: u64,
    /// Each step's training loss (nats/token).
    pub losses: Vec<f64>,
}

const TOP: u64 = 1 << 63;

/// SplitMix64's finaliser: spreads a counter over all 64 bits.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE5_E4B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The seed of training batch `step` of a run seeded `seed`. Its top bit is set and
/// [`heldout_seed`]'s is clear, so no training batch is ever the language drawn from a held-out
/// seed.
pub fn batch_seed(seed: u64, step: usize) -> u64 {
    mix(mix(seed) ^ mix(step as u64 ^ 0x7472_6169_6e00_0000)) | TOP
}

/// The seed for held-out tokens (`Corpus::sample`) of a study seeded `seed`: disjoint from every
/// [`batch_seed`].
pub fn heldout_seed(seed: u64, i: u64) -> u64 {
    mix(mix(seed ^ 0x6865_6c64_0000_0000) ^ mix(i)) & !TOP
}

/// The seed of the initial weights.
fn init_seed(seed: u64) -> u64 {
    mix(seed ^ 0x696e_6974_0000_0000)
}

fn autodiff_device() -> Device {
    Device::flex().autodiff()
}

/// Rows per micro-batch: a step's rows are split into parts of at most this many, whose
/// gradients are taken on the thread pool at once and summed. One autodiff pass over a study
/// model's small matrices keeps barely more than one core busy, so the parts are what use the
/// others. The split depends on the batch only, never on the thread count: the same seed gives the
/// same weights on any machine with the same SIMD.
pub const MICRO_ROWS: usize = 16;

/// A loss and its gradient for every weight.
pub type LossAndGradients = (f64, Vec<Vec<f32>>);

/// The mean next-token CE of `model` on `rows` rows of ctx tokens (every position but each row's
/// last, as the trainer optimizes it) and its gradient with respect to every weight, in
/// [`ModelSize::layout`]'s order. The tied embedding's gradient sums its two uses.
pub fn gradients(model: &Gpt, tokens: &[u32], rows: usize) -> LossAndGradients {
    let ctx = model.size.ctx;
    let parts: Vec<(f64, LossAndGradients)> = tokens[..rows * ctx]
        .par_chunks(MICRO_ROWS * ctx)
        .map(|part| {
            let n = part.len() / ctx;
            (n as f64 / rows as f64, part_gradients(model, part, n))
        })
        .collect();
    // Each part's mean weighted by its share of the rows, summed in the parts' order.
    let mut value = 0.0;
    let mut g: Vec<Vec<f32>> = parts[0].1.1.iter().map(|w| vec![0.0; w.len()]).collect();
    for (share, (l, part)) in &parts {
        value += share * l;
        let k = *share as f32;
        for (a, b) in g.iter_mut().zip(part) {
            a.iter_mut().zip(b).for_each(|(a, &b)| *a += k * b);
        }
    }
    (value, g)
}

/// [`gradients`] of one part, in one autodiff pass.
fn part_gradients(model: &Gpt, tokens: &[u32], rows: usize) -> LossAndGradients {
    let device = autodiff_device();
    let w: Vec<_> = model
        .tensors(&device)
        .into_iter()
        .map(|t| t.require_grad())
        .collect();
    let l = loss(
        &model.size,
        &w,
        token_tensor(tokens, rows, model.size.ctx, &device),
    );
    let mut grads = l.backward();
    let value = l.inner().into_scalar::<f32>() as f64;
    let g = w
        .iter()
        .map(|t| {
            t.grad_remove(&mut grads)
                .expect("every weight takes part in the loss")
                .into_data()
                .try_into_vec::<f32>()
                .expect("f32 gradients")
        })
        .collect();
    (value, g)
}

/// Trains a model of `size` on `corpus`: initial weights and every batch drawn from `seed`
/// ([`batch_seed`]). `progress` is called after every step.
pub fn train(
    corpus: &Corpus,
    size: &ModelSize,
    schedule: &Schedule,
    seed: u64,
    progress: &mut dyn FnMut(Progress),
) -> Result<Trained> {
    schedule.check()?;
    size.check()?;
    if size.vocab != corpus.settings.vocab {
        return Err(Error::Invalid {
            fix: None,
            option: "model size",
            message: format!(
                "vocab {} differs from the language's {}",
                size.vocab, corpus.settings.vocab
            ),
        });
    }
    // Every step allocates and frees the same activation and gradient buffers.
    crate::heap::keep_freed_memory();
    let mut model = Gpt::init(*size, init_seed(seed))?;
    let decay: Vec<bool> = size.layout().iter().map(|(_, s)| s.len() == 2).collect();
    let mut m: Vec<Vec<f32>> = model.weights.iter().map(|w| vec![0.0; w.len()]).collect();
    let mut v = m.clone();
    let row_tokens = (schedule.batch * size.ctx) as u64;
    let mut losses = Vec::with_capacity(schedule.steps);
    for s in 0..schedule.steps {
        let tokens = corpus.sample(schedule.batch, size.ctx, batch_seed(seed, s));
        let (l, mut g) = gradients(&model, &tokens, schedule.batch);
        if !l.is_finite() {
            return Err(Error::Invalid {
                fix: None,
                option: "schedule",
                message: format!(
                    "the training loss became {l} at step {}; lower the learning rate",
                    s + 1
                ),
            });
        }
        if let Some(c) = schedule.clip {
            let norm = g
                .iter()
                .flatten()
                .map(|&x| (x as f64) * (x as f64))
                .sum::<f64>()
                .sqrt();
            if norm > c {
                let k = (c / norm) as f32;
                g.iter_mut().flatten().for_each(|x| *x *= k);
            }
        }
        adamw(&mut model.weights, &g, &mut m, &mut v, &decay, schedule, s);
        losses.push(l);
        progress(Progress {
            step: s + 1,
            steps: schedule.steps,
            tokens: row_tokens * (s + 1) as u64,
            loss: l,
        });
    }
    Ok(Trained {
        model,
        steps: schedule.steps,
        tokens: row_tokens * schedule.steps as u64,
        losses,
    })
}

/// One AdamW update (step `s`, 0-based) as torch.optim.AdamW makes it: p ← p·(1 − lr·wd), then
/// p ← p − lr/(1 − β₁ᵗ) · m / (√v / √(1 − β₂ᵗ) + ε).
fn adamw(
    weights: &mut [Vec<f32>],
    grads: &[Vec<f32>],
    m: &mut [Vec<f32>],
    v: &mut [Vec<f32>],
    decay: &[bool],
    sc: &Schedule,
    s: usize,
) {
    let lr = sc.lr_at(s) as f32;
    let t = (s + 1) as i32;
    let (b1, b2, eps) = (sc.beta1 as f32, sc.beta2 as f32, sc.eps as f32);
    let step_size = lr / (1.0 - b1.powi(t));
    let bc2_sqrt = (1.0 - b2.powi(t)).sqrt();
    for i in 0..weights.len() {
        let shrink = if decay[i] {
            1.0 - lr * sc.weight_decay as f32
        } else {
            1.0
        };
        let (p, g, m, v) = (&mut weights[i], &grads[i], &mut m[i], &mut v[i]);
        for j in 0..p.len() {
            m[j] = b1 * m[j] + (1.0 - b1) * g[j];
            v[j] = b2 * v[j] + (1.0 - b2) * g[j] * g[j];
            p[j] = p[j] * shrink - step_size * m[j] / (v[j].sqrt() / bc2_sqrt + eps);
        }
    }
}
